"""Benchmark a catalog update after an edit: localize merge beside GNU msgmerge and Babel's update.

Usage: .venv/bin/python benchmarks/update.py --corpus ../shared/corpus/ocw [--repeat 3] [--keep DIR] [--write BENCHMARKS.md]

Setup (untimed): the corpus is extracted as one course, a fully translated Spanish catalog is made from the
template (old.po), 10 % of the paragraphs of 20 pages are edited (fixed seed) and the edited copy is extracted
again (new.pot). Timed: merging old.po with new.pot by localize, msgmerge and pybabel as whole processes, plus
the whole `localize update` (re-extraction included) for information. Timing and peak RSS reuse benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polib

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import (
    RSS_METHOD,
    BenchError,
    corpus_pages,
    find_tool,
    git_revision,
    median_seconds,
    peak_mib,
    render_intro,
    replace_section,
    run_quiet,
    run_timed,
    tool_version,
    warm_cache,
)

SECTION = "update"
COURSE = "ocw"
LOCALE = "es"
PREFIX = "ES "
SEED = 2026
PAGES_TO_EDIT = 20
MIN_PARAGRAPHS = 5
EDIT_SHARE = 0.10
EDIT_WORD = b"updated "
BABEL_TARGET = 10.0

TOOL_HINTS = {
    "localize": "run `make install` (pip install -e '.[dev]')",
    "pybabel": "run `make install` (Babel is a dependency of localize)",
    "msgmerge": "install GNU gettext (`make system-deps`, or apt-get install gettext)",
    "msgfmt": "install GNU gettext (`make system-deps`, or apt-get install gettext)",
}

P_OPEN = re.compile(rb"<p(?=[\s>/])[^>]*>", re.IGNORECASE)
P_END = re.compile(rb"</p\s*>|<p[\s>/]|</(?:div|td|li|section|article|body)\s*>", re.IGNORECASE)
SKIPPED = re.compile(rb"<!--.*?-->|<script\b.*?</script\s*>|<style\b.*?</style\s*>", re.IGNORECASE | re.DOTALL)
TAG = re.compile(rb"<[^>]*>|&[#\w]+;")
LETTER = re.compile(rb"[A-Za-z]")


@dataclass
class Setup:
    pages: int = 0
    eligible: int = 0
    edited_pages: int = 0
    edited_paragraphs: int = 0
    old_entries: int = 0
    new_entries: int = 0
    added: int = 0
    removed: int = 0


@dataclass
class Tool:
    """One timed command: how to prepare its input, what it runs, where it writes."""

    name: str
    cmd: list[str]
    shown: str
    output: Path
    prepare: Callable[[], None]
    warn: bool = False
    detail: str = ""
    runs: list[tuple[float, int]] = field(default_factory=list)


@dataclass
class Outcome:
    translated: int
    fuzzy: int
    previous: int
    untranslated: int
    obsolete: int
    msgfmt: str
    note: str = ""


# --- setup ----------------------------------------------------------------------------------------------------


def find_tools() -> dict[str, str]:
    tools = {}
    for name, hint in TOOL_HINTS.items():
        try:
            tools[name] = find_tool(name)
        except BenchError:
            raise BenchError(f"required tool not found: {name} ({hint})") from None
    return tools


def paragraph_starts(html: bytes) -> list[int]:
    """Offsets right after the opening tag of every <p> with letters in its text (outside comments/scripts)."""
    skipped = [m.span() for m in SKIPPED.finditer(html)]
    starts = []
    for m in P_OPEN.finditer(html):
        if any(a <= m.start() < b for a, b in skipped):
            continue
        end = P_END.search(html, m.end())
        text = TAG.sub(b" ", html[m.end() : end.start() if end else len(html)])
        if LETTER.search(text):
            starts.append(m.end())
    return starts


def edit_pages(folder: Path, rng: random.Random, setup: Setup) -> None:
    """Insert EDIT_WORD at the start of 10 % (at least 1) of the lettered paragraphs of PAGES_TO_EDIT pages."""
    pages = corpus_pages(folder)
    eligible = [rel for rel in pages if len(P_OPEN.findall((folder / rel).read_bytes())) >= MIN_PARAGRAPHS]
    eligible = [rel for rel in eligible if paragraph_starts((folder / rel).read_bytes())]
    if len(eligible) < PAGES_TO_EDIT:
        raise BenchError(f"only {len(eligible)} pages have at least {MIN_PARAGRAPHS} <p> elements")
    setup.pages, setup.eligible = len(pages), len(eligible)
    for rel in rng.sample(eligible, PAGES_TO_EDIT):
        html = (folder / rel).read_bytes()
        starts = paragraph_starts(html)
        chosen = rng.sample(starts, max(1, round(len(starts) * EDIT_SHARE)))
        for offset in sorted(chosen, reverse=True):
            html = html[:offset] + EDIT_WORD + html[offset:]
        (folder / rel).write_bytes(html)
        setup.edited_pages += 1
        setup.edited_paragraphs += len(chosen)


def copy_corpus(corpus: Path, dest: Path) -> None:
    """Copy the corpus to dest, writable (the shared corpus is read-only; edits and cleanup need write access)."""
    shutil.copytree(corpus, dest, copy_function=shutil.copyfile)
    for path in [dest, *dest.rglob("*")]:
        if path.is_dir():
            path.chmod(0o755)


def extract(tools: dict[str, str], source: Path, workspace: Path) -> Path:
    run_quiet([tools["localize"], "extract", str(source), "--course", COURSE, "--locales-dir", str(workspace), "-q"])
    return workspace / "templates" / f"{COURSE}.pot"


def translate_all(catalog: Path, out: Path) -> int:
    """Write catalog to out with every entry translated as PREFIX + msgid; return the number of entries."""
    po = polib.pofile(str(catalog), wrapwidth=0)
    for entry in po:
        if entry.msgid_plural:
            forms = entry.msgstr_plural or {0: "", 1: ""}
            entry.msgstr_plural = {i: PREFIX + (entry.msgid if i == 0 else entry.msgid_plural) for i in forms}
        else:
            entry.msgstr = PREFIX + entry.msgid
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
    po.save(str(out))
    return len(po)


def keys(path: Path) -> set[tuple[str | None, str]]:
    return {(e.msgctxt, e.msgid) for e in polib.pofile(str(path)) if not e.obsolete}


def prepare_inputs(corpus: Path, work: Path, tools: dict[str, str]) -> Setup:
    """Build old.po, the edited corpus, new.pot and the workspace for `localize update`, untimed."""
    setup = Setup()
    for name in ("orig", "edited", "loc", "loc-new", "loc-base", "pristine", "logs"):
        if (work / name).exists():
            shutil.rmtree(work / name)
    copy_corpus(corpus, work / "orig")
    copy_corpus(corpus, work / "edited")
    (work / "pristine").mkdir()
    (work / "logs").mkdir()
    print("setup: extract, init, translate, edit, extract again", file=sys.stderr)
    template = extract(tools, work / "orig", work / "loc")
    init = [tools["localize"], "init", "--course", COURSE, "--locale", LOCALE, "--locales-dir", str(work / "loc")]
    run_quiet(init)
    pristine = work / "pristine" / "old.po"
    setup.old_entries = translate_all(work / "loc" / LOCALE / "LC_MESSAGES" / f"{COURSE}.po", pristine)
    edit_pages(work / "edited", random.Random(SEED), setup)
    shutil.copyfile(extract(tools, work / "edited", work / "loc-new"), work / "new.pot")
    old, new = keys(pristine), keys(work / "new.pot")
    setup.new_entries, setup.added, setup.removed = len(new), len(new - old), len(old - new)
    base = work / "loc-base"
    (base / "templates").mkdir(parents=True)
    (base / LOCALE / "LC_MESSAGES").mkdir(parents=True)
    shutil.copyfile(template, base / "templates" / f"{COURSE}.pot")
    shutil.copyfile(pristine, base / LOCALE / "LC_MESSAGES" / f"{COURSE}.po")
    return setup


# --- timed runs -----------------------------------------------------------------------------------------------


def make_tools(work: Path, tools: dict[str, str]) -> list[Tool]:
    pristine, old, pot = work / "pristine" / "old.po", work / "old.po", work / "new.pot"

    def fresh(output: Path, *, seed: bool = False) -> Callable[[], None]:
        """Copy old.po fresh; remove the output, or for Babel (which updates in place) seed it with old.po."""

        def prepare() -> None:
            shutil.copyfile(pristine, old)
            output.unlink(missing_ok=True)
            if seed:
                shutil.copyfile(pristine, output)

        return prepare

    def fresh_workspace() -> None:
        if (work / "loc2").exists():
            shutil.rmtree(work / "loc2")
        shutil.copytree(work / "loc-base", work / "loc2")

    def out(name: str) -> Path:
        return work / f"out-{name}.po"

    babel = [tools["pybabel"], "update", "-i", str(pot), "-o", str(out("babel")), "-l", LOCALE, "--previous"]
    update = [tools["localize"], "update", str(work / "edited"), "--course", COURSE, "--locales-dir"]
    return [
        Tool(
            "localize merge",
            [tools["localize"], "merge", str(old), str(pot), "-o", str(out("localize"))],
            "localize merge TMP/old.po TMP/new.pot -o TMP/out-localize.catalogs.po",
            out("localize"),
            fresh(out("localize")),
        ),
        Tool(
            "GNU msgmerge",
            [tools["msgmerge"], "--quiet", "-o", str(out("msgmerge")), str(old), str(pot)],
            "msgmerge --quiet -o TMP/out-msgmerge.po TMP/old.po TMP/new.pot",
            out("msgmerge"),
            fresh(out("msgmerge")),
        ),
        Tool(
            "GNU msgmerge --previous",
            [tools["msgmerge"], "--quiet", "--previous", "-o", str(out("msgmerge-previous")), str(old), str(pot)],
            "msgmerge --quiet --previous -o TMP/out-msgmerge-previous.po TMP/old.po TMP/new.pot",
            out("msgmerge-previous"),
            fresh(out("msgmerge-previous")),
        ),
        Tool(
            "Babel update --previous",
            babel,
            f"cp TMP/old.po TMP/out-babel.po; pybabel update -i TMP/new.pot -o TMP/out-babel.po -l {LOCALE} --previous",
            out("babel"),
            fresh(out("babel"), seed=True),
        ),
        Tool(
            "localize update (re-extract + merge)",
            [*update, str(work / "loc2"), "-q"],
            f"localize update TMP/edited --course {COURSE} --locales-dir TMP/loc2 -q",
            work / "loc2" / LOCALE / "LC_MESSAGES" / f"{COURSE}.po",
            fresh_workspace,
            warn=True,
            detail=f" (TMP/loc2 = the original template + old.po as {LOCALE}/LC_MESSAGES/{COURSE}.po, copied fresh)",
        ),
    ]


def time_tools(work: Path, runs: list[Tool], repeat: int, warnings: list[str]) -> None:
    for i in range(repeat):
        for tool in runs:
            print(f"[{i + 1}/{repeat}] {tool.name}", file=sys.stderr)
            tool.prepare()
            log = work / "logs" / (re.sub(r"\W+", "-", tool.name).strip("-") + ".log")
            tool.runs.append(run_timed(tool.cmd, log=log, warnings=warnings if tool.warn else None))
            print(f"    {tool.runs[-1][0]:.2f} s, {tool.runs[-1][1] / 1024:.0f} MiB", file=sys.stderr)


# --- outcome --------------------------------------------------------------------------------------------------


def msgfmt_check(msgfmt: str, path: Path) -> str:
    proc = subprocess.run([msgfmt, "-c", "-o", "/dev/null", str(path)], capture_output=True, text=True)
    if proc.returncode == 0:
        return "PASS"
    first = (proc.stderr.strip().splitlines() or ["(no message)"])[0].replace(str(path.parent) + "/", "")
    return f"FAIL ({first.replace('|', '/')})"


def read_po(path: Path) -> tuple[polib.POFile, str]:
    """The catalog, and a note when polib could only read it with its `#|` (previous msgid) lines left out."""
    try:
        return polib.pofile(str(path)), ""
    except OSError:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = "".join(line for line in lines if not line.startswith(("#|", "#~|")))
        return polib.pofile(kept), "unreadable `#\\|` lines: counted without them"


def outcome(path: Path, msgfmt: str) -> Outcome:
    po, note = read_po(path)
    fuzzy = po.fuzzy_entries()
    return Outcome(
        translated=len(po.translated_entries()),
        fuzzy=len(fuzzy),
        previous=sum(1 for e in fuzzy if e.previous_msgid),
        untranslated=len(po.untranslated_entries()),
        obsolete=len(po.obsolete_entries()),
        msgfmt=msgfmt_check(msgfmt, path),
        note=note,
    )


# --- rendering ------------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def render_times(runs: Sequence[Tool]) -> str:
    base = median_seconds(runs[0].runs)
    lines = ["| tool | time (s) | ratio vs localize | peak RSS |", "|---|---:|---:|---:|"]
    for tool in runs:
        seconds = median_seconds(tool.runs)
        lines.append(f"| {tool.name} | {seconds:.2f} | {seconds / base:.1f}x | {peak_mib(tool.runs)} |")
    return "\n".join(lines)


def render_targets(runs: Sequence[Tool]) -> list[str]:
    by_name = {tool.name: median_seconds(tool.runs) for tool in runs}
    ours, gnu, babel = by_name["localize merge"], by_name["GNU msgmerge"], by_name["Babel update --previous"]
    return [
        f"- {verdict(ours <= gnu)}: localize <= msgmerge ({ours:.2f} s vs {gnu:.2f} s, {gnu / ours:.2f}x)",
        f"- {verdict(babel / ours >= BABEL_TARGET)}: localize >= {BABEL_TARGET:.0f}x faster than Babel "
        f"({ours:.2f} s vs {babel:.2f} s, {babel / ours:.1f}x)",
    ]


def render_outcomes(outcomes: dict[str, Outcome]) -> str:
    lines = [
        "| output | translated | fuzzy | of them with #\\| previous msgid | untranslated | obsolete | msgfmt -c | note |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]
    for name, o in outcomes.items():
        lines.append(
            f"| {name} | {o.translated} | {o.fuzzy} | {o.previous} | {o.untranslated} | {o.obsolete} | {o.msgfmt} | {o.note} |"
        )
    return "\n".join(lines)


def render_section(
    setup: Setup,
    runs: Sequence[Tool],
    outcomes: dict[str, Outcome],
    context: dict[str, str],
    warnings: Sequence[str],
) -> str:
    repeat = len(runs[0].runs)
    parts = [
        "## Catalog update after an edit: localize vs GNU msgmerge vs Babel",
        "",
        f"Corpus `{context['corpus']}`: {setup.pages} pages extracted as one course `{COURSE}`. Setup (untimed): "
        f"`old.po` is the `{LOCALE}` catalog of the original template with every one of its {setup.old_entries} "
        f'entries translated (msgstr = "{PREFIX}" + msgid). With `random.Random({SEED})`, {setup.edited_pages} of the '
        f"{setup.eligible} pages with at least {MIN_PARAGRAPHS} `<p>` elements were edited: "
        f'"{EDIT_WORD.decode()}" inserted after the opening tag of {EDIT_SHARE:.0%} (at least 1) of their '
        f"paragraphs with letters, {setup.edited_paragraphs} paragraphs in all, every other byte unchanged. "
        f"Re-extracting the edited copy gives `new.pot` with {setup.new_entries} entries: {setup.added} not in "
        f"old.po, {setup.removed} of old.po's gone.",
        "",
        f"Median wall time of {repeat} run{'s' if repeat > 1 else ''} per command (spawn to exit, `time.perf_counter`), each from a fresh copy "
        f"of old.po, writing its own output; peak RSS is the largest over those runs, measured with {RSS_METHOD}. "
        f"localize revision: {context['revision']}; {context['versions']}.",
        "",
        render_times(runs),
        "",
        "Targets (localize merge against the plain `msgmerge` and Babel rows):",
        "",
        *render_targets(runs),
        "",
        "Babel runs with `--previous` so that, like localize, it keeps the previous msgid (`#|`) of fuzzy entries; "
        "plain `msgmerge` (the target) writes no `#|` lines, the `--previous` row shows what they cost it.",
        "",
        "Outcome of each output, read with polib (fuzzy, untranslated and translated exclude obsolete entries). "
        "localize keeps every vanished entry as obsolete (`#~`), also those it offered as fuzzy; msgmerge and Babel "
        "drop the old entries they used for a fuzzy match.",
        "",
        render_outcomes(outcomes),
    ]
    if warnings:
        parts += ["", "Warnings:", "", *(f"- {w}" for w in warnings)]
    parts += [
        "",
        "Commands (TMP = a fresh work folder; TMP/old.po copied fresh before every run, outputs removed):",
        "",
        f"- setup: `localize extract TMP/orig --course {COURSE} --locales-dir TMP/loc -q`; "
        f"`localize init --course {COURSE} --locale {LOCALE} --locales-dir TMP/loc`; fill every msgstr with polib "
        f"-> TMP/old.po; edit TMP/edited; `localize extract TMP/edited --course {COURSE} --locales-dir TMP/loc-new -q` "
        "-> TMP/new.pot",
        *(f"- {tool.name}: `{tool.shown}`{tool.detail}" for tool in runs),
        "- check: `msgfmt -c -o /dev/null OUTPUT`",
        "",
        "All runs (s):",
        "",
        *(f"- {tool.name}: {', '.join(f'{s:.2f}' for s, _ in tool.runs)}" for tool in runs),
    ]
    return "\n".join(parts)


# --- main -----------------------------------------------------------------------------------------------------


def run_benchmark(
    corpus: Path, work: Path, repeat: int, tools: dict[str, str]
) -> tuple[Setup, list[Tool], dict[str, Outcome], list[str]]:
    warm_cache(corpus)
    setup = prepare_inputs(corpus, work, tools)
    print(
        f"setup: edited {setup.edited_paragraphs} paragraphs on {setup.edited_pages} pages; "
        f"old.po {setup.old_entries} entries, new.pot {setup.new_entries} entries "
        f"({setup.added} new, {setup.removed} gone)",
        file=sys.stderr,
    )
    warnings: list[str] = []
    runs = make_tools(work, tools)
    time_tools(work, runs, repeat, warnings)
    if keys(work / "loc2" / "templates" / f"{COURSE}.pot") != keys(work / "new.pot"):
        warnings.append("the template `localize update` re-extracted differs from new.pot (did src/ change mid-run?)")
    outcomes = {"old.po (input)": outcome(work / "pristine" / "old.po", tools["msgfmt"])}
    outcomes |= {tool.name: outcome(tool.output, tools["msgfmt"]) for tool in runs}
    return setup, runs, outcomes, warnings


def intro_tools(tools: dict[str, str]) -> dict[str, str] | None:
    """The tools the shared intro names (run.py's set), or None when one is missing: the intro is then kept."""
    try:
        return {name: find_tool(name) for name in ("localize", "html2po", "msgen")}
    except BenchError:
        return None


def write_file(path: Path, tools: dict[str, str], section: str) -> None:
    text = path.read_text() if path.exists() else ""
    intro = intro_tools(tools)
    if intro is not None:
        text = replace_section(text, "intro", render_intro(intro), after_title=True)
    text = replace_section(text, SECTION, section)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text if text.endswith("\n") else text + "\n")
    tmp.replace(path)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time localize merge against msgmerge and pybabel update.")
    parser.add_argument("--corpus", required=True, type=Path, help="folder of course folders to process")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command; the median is reported (default 3)")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="work in DIR and keep the outputs there")
    parser.add_argument("--write", type=Path, metavar="FILE", help="replace this benchmark's section in FILE")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        corpus: Path = args.corpus
        if not corpus.is_dir():
            raise BenchError(f"corpus folder not found: {corpus}")
        if not corpus_pages(corpus):
            raise BenchError(f"no .html/.htm pages under the corpus folder: {corpus}")
        tools = find_tools()
        corpus = corpus.resolve()
        revision = git_revision()
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            result = run_benchmark(corpus, args.keep.resolve(), args.repeat, tools)
        else:
            with tempfile.TemporaryDirectory(prefix="localize-bench-update-") as tmp:
                result = run_benchmark(corpus, Path(tmp), args.repeat, tools)
    except BenchError as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    versions = ", ".join(f"`{tool_version(tools[name])}`" for name in ("localize", "msgmerge", "pybabel"))
    context = {"corpus": str(args.corpus), "revision": revision, "versions": versions}
    section = render_section(result[0], result[1], result[2], context, result[3])
    print(section)
    if args.write:
        write_file(args.write, tools, section)
        print(f"\nwrote section '{SECTION}' of {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
