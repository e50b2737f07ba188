"""Benchmark localize against translate-toolkit (html2po / po2html) as whole processes.

Usage: .venv/bin/python benchmarks/run.py --corpus ../shared/corpus/ocw [--repeat 3] [--keep DIR] [--write BENCHMARKS.md]

Every command runs as its own process over the whole corpus folder. Wall time is measured with
time.perf_counter around spawn + exit; peak RSS comes from os.wait4() on that child, i.e. the kernel's
ru_maxrss for the child and the descendants it waited for (the largest single process, not a sum).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SECTION = "engine"
TITLE = "# Benchmarks"
TARGET_RATIO = 3.0
COURSE = "ocw-corpus"
PAGE_SUFFIXES = (".html", ".htm")
TT_ERROR = "Error processing"
RSS_METHOD = "os.wait4() ru_maxrss of each child (largest single process in its tree, KiB from the kernel)"

INSTALL_HINTS = {
    "localize": "run `make install` (pip install -e '.[dev]')",
    "html2po": "run `make bench` (pip install -e '.[bench]' installs translate-toolkit)",
    "po2html": "run `make bench` (pip install -e '.[bench]' installs translate-toolkit)",
    "msgen": "install GNU gettext (`make system-deps`, or apt-get install gettext)",
}


class BenchError(Exception):
    """A problem that stops the benchmark; main() prints it and exits non-zero."""


@dataclass
class Step:
    """Timings of one table row: one list of (seconds, peak_kib) per tool."""

    name: str
    localize: list[tuple[float, int]] = field(default_factory=list)
    tt: list[tuple[float, int]] = field(default_factory=list)
    target: bool = True


@dataclass
class Report:
    steps: list[Step] = field(default_factory=list)
    pages: int = 0
    courses: int = 0
    identical_localize: int = 0
    identical_tt: int = 0
    tt_extract_errors: int = 0
    tt_po_files: int = 0
    tt_po_empty: int = 0
    tt_build_errors: int = 0
    tt_build_empty: int = 0
    warnings: list[str] = field(default_factory=list)


# --- running commands -------------------------------------------------------------------------------------------


def find_tool(name: str) -> str:
    """The tool next to this interpreter (the venv's bin), else on PATH; BenchError if neither."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise BenchError(f"required tool not found: {name} ({INSTALL_HINTS.get(name, 'install it')})")
    return found


def run_timed(
    cmd: Sequence[str],
    *,
    log: Path,
    warnings: list[str] | None = None,
) -> tuple[float, int]:
    """Run cmd as a child process; return (wall seconds, peak RSS in KiB).

    stdout is discarded, stderr goes to `log`. A non-zero exit raises BenchError, except exit code 1
    when a warnings list is given (localize: "some pages failed"): that is printed and recorded.
    """
    with open(os.devnull, "wb") as out, log.open("wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    shown = " ".join(cmd)
    if code == 1 and warnings is not None:
        message = f"exit code 1 (some pages failed): {shown}"
        print(f"warning: {message}", file=sys.stderr)
        if message not in warnings:
            warnings.append(message)
    elif code != 0:
        tail = log.read_text(errors="replace")[-2000:]
        raise BenchError(f"command failed with exit code {code}: {shown}\n{tail}".rstrip())
    return seconds, usage.ru_maxrss


def run_quiet(cmd: Sequence[str]) -> str:
    """Run an untimed helper command, return its stdout; BenchError on failure."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True)
    if proc.returncode != 0:
        raise BenchError(f"command failed with exit code {proc.returncode}: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
    return proc.stdout


def compile_sources() -> None:
    """Write the bytecode of localize's sources before timing cold processes, as a wheel
    install does: with PYTHONDONTWRITEBYTECODE set, an editable install whose sources
    changed since their last compile recompiles them in every process (about 30 ms each)."""
    root = Path(__file__).resolve().parent.parent
    run_quiet([sys.executable, "-m", "compileall", "-q", str(root / "src"), str(root / "flows")])


def fresh(path: Path) -> Path:
    """Remove path if it exists, so each timed run starts from an empty output location."""
    if path.exists():
        shutil.rmtree(path)
    return path


def count_errors(log: Path) -> int:
    return sum(1 for line in log.read_text(errors="replace").splitlines() if TT_ERROR in line)


# --- corpus checks --------------------------------------------------------------------------------------------


def corpus_pages(corpus: Path) -> list[Path]:
    """The .html/.htm pages of the corpus, relative to it, sorted."""
    return sorted(p.relative_to(corpus) for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in PAGE_SUFFIXES)


def warm_cache(corpus: Path) -> None:
    """Read every corpus file once so the first timed run does not pay for a cold page cache."""
    for path in corpus.rglob("*"):
        if path.is_file():
            path.read_bytes()


def identical_pages(corpus: Path, out: Path, pages: Sequence[Path]) -> int:
    """How many pages of the corpus come back byte-for-byte identical under out."""
    same = 0
    for rel in pages:
        built = out / rel
        if built.is_file() and built.read_bytes() == (corpus / rel).read_bytes():
            same += 1
    return same


def empty_files(folder: Path) -> int:
    return sum(1 for p in folder.rglob("*") if p.is_file() and p.stat().st_size == 0)


# --- the benchmark --------------------------------------------------------------------------------------------


def run_benchmark(corpus: Path, work: Path, repeat: int, tools: dict[str, str]) -> Report:
    report = Report()
    pages = corpus_pages(corpus)
    report.pages = len(pages)
    report.courses = sum(1 for p in corpus.iterdir() if p.is_dir())
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    loc = work / "loc"
    warm_cache(corpus)

    extract = Step("extract")
    extract_j1 = Step("extract, localize --jobs 1", target=False)
    localize_extract = [tools["localize"], "extract", str(corpus), "--course", COURSE, "-q", "--locales-dir"]
    for i in range(repeat):
        print(f"[{i + 1}/{repeat}] extract", file=sys.stderr)
        cmd = [*localize_extract, str(fresh(loc))]
        extract.localize.append(run_timed(cmd, log=logs / "localize-extract.log", warnings=report.warnings))
        tt_log = logs / "html2po-pot.log"
        cmd = [tools["html2po"], "--progress=none", "-P", "-i", str(corpus), "-o", str(fresh(work / "tt-pot"))]
        extract.tt.append(run_timed(cmd, log=tt_log))
        report.tt_extract_errors = max(report.tt_extract_errors, count_errors(tt_log))
    for i in range(repeat):
        print(f"[{i + 1}/{repeat}] extract --jobs 1", file=sys.stderr)
        cmd = [*localize_extract, str(fresh(work / "loc-j1")), "--jobs", "1"]
        extract_j1.localize.append(run_timed(cmd, log=logs / "localize-extract-j1.log", warnings=report.warnings))
    extract_j1.tt = list(extract.tt)

    # Build inputs, untimed: an English catalog with msgstr = msgid, and translate-toolkit's per-page PO files.
    po = loc / "en" / "LC_MESSAGES" / f"{COURSE}.po"
    po.parent.mkdir(parents=True, exist_ok=True)
    run_quiet([tools["msgen"], str(loc / "templates" / f"{COURSE}.pot"), "-o", str(po)])
    tt_po = fresh(work / "tt-po")
    run_timed([tools["html2po"], "--progress=none", "-i", str(corpus), "-o", str(tt_po)], log=logs / "html2po-po.log")
    report.tt_po_files = sum(1 for p in tt_po.rglob("*.po") if p.is_file())
    report.tt_po_empty = empty_files(tt_po)

    build = Step("build, nothing translated")
    out_localize, out_tt = work / "out-localize", work / "out-tt"
    for i in range(repeat):
        print(f"[{i + 1}/{repeat}] build", file=sys.stderr)
        cmd = [tools["localize"], "build", str(corpus), "--course", COURSE, "--locale", "en"]
        cmd += ["--locales-dir", str(loc), "--out", str(fresh(out_localize)), "-q"]
        build.localize.append(run_timed(cmd, log=logs / "localize-build.log", warnings=report.warnings))
        tt_log = logs / "po2html.log"
        cmd = [tools["po2html"], "--progress=none", "-t", str(corpus), "-i", str(tt_po), "-o", str(fresh(out_tt))]
        build.tt.append(run_timed(cmd, log=tt_log))
        report.tt_build_errors = max(report.tt_build_errors, count_errors(tt_log))

    report.steps = [extract, extract_j1, build]
    report.identical_localize = identical_pages(corpus, out_localize, pages)
    report.identical_tt = identical_pages(corpus, out_tt, pages)
    report.tt_build_empty = empty_files(out_tt)
    return report


# --- rendering ------------------------------------------------------------------------------------------------


def median_seconds(runs: Sequence[tuple[float, int]]) -> float:
    return statistics.median(seconds for seconds, _ in runs)


def peak_mib(runs: Sequence[tuple[float, int]]) -> str:
    return f"{max(kib for _, kib in runs) / 1024:.0f} MiB"


def render_table(steps: Sequence[Step]) -> str:
    lines = [
        "| step | localize (s) | translate-toolkit (s) | ratio (tt/localize) | peak RSS localize | peak RSS tt | target >= 3x |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for step in steps:
        ours, theirs = median_seconds(step.localize), median_seconds(step.tt)
        ratio = theirs / ours
        verdict = ("PASS" if ratio >= TARGET_RATIO else "FAIL") if step.target else "(information)"
        lines.append(
            f"| {step.name} | {ours:.2f} | {theirs:.2f} | {ratio:.1f}x "
            f"| {peak_mib(step.localize)} | {peak_mib(step.tt)} | {verdict} |"
        )
    return "\n".join(lines)


def render_runs(steps: Sequence[Step]) -> str:
    def fmt(runs: Sequence[tuple[float, int]]) -> str:
        return ", ".join(f"{seconds:.2f}" for seconds, _ in runs)

    return "\n".join(f"- {s.name}: localize {fmt(s.localize)} s; translate-toolkit {fmt(s.tt)} s" for s in steps)


def render_section(report: Report, corpus_label: str, repeat: int, commands: dict[str, str], revision: str) -> str:
    parts = [
        "## localize engine vs translate-toolkit",
        "",
        f"Corpus `{corpus_label}`: {report.pages} pages in {report.courses} course folders, processed as one course in one process per command. "
        f"Median wall time of {repeat} runs per command (spawn to exit, `time.perf_counter`); peak RSS is the largest "
        f"over those runs, measured with {RSS_METHOD}. localize revision: {revision}.",
        "",
        render_table(report.steps),
        "",
        f"Targets: extract and build each at least {TARGET_RATIO:.0f}x faster than translate-toolkit as whole "
        "processes (PASS/FAIL above; the `--jobs 1` row is for information and reuses the translate-toolkit extract runs).",
        "",
        f"Pages byte-identical to the source after a build with nothing translated: localize "
        f"{report.identical_localize}/{report.pages}, translate-toolkit {report.identical_tt}/{report.pages}.",
        "",
        f"translate-toolkit failed to extract {report.tt_extract_errors}/{report.pages} pages "
        f'(html2po stderr "{TT_ERROR}"); for the build it wrote {report.tt_po_files} PO files, '
        f"{report.tt_po_empty} of them empty (the failed pages), and po2html reported {report.tt_build_errors} "
        f"errors and wrote {report.tt_build_empty} empty pages.",
    ]
    if report.warnings:
        parts += ["", "Warnings:", "", *(f"- {w}" for w in report.warnings)]
    parts += [
        "",
        "Commands (TMP = a fresh work folder; output folders emptied before every run):",
        "",
        *(f"- {name}: `{cmd}`" for name, cmd in commands.items()),
        "",
        "All runs (s):",
        "",
        render_runs(report.steps),
    ]
    return "\n".join(parts)


def tool_version(path: str) -> str:
    try:
        out = run_quiet([path, "--version"])
    except BenchError:
        return "unknown"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def nproc() -> str:
    try:
        return run_quiet(["nproc"]).strip()
    except (BenchError, OSError):
        return str(os.cpu_count())


def render_intro(tools: dict[str, str]) -> str:
    return "\n".join(
        [
            "Run `make bench` (installs translate-toolkit from the `bench` extra and GNU gettext, then runs "
            "`.venv/bin/python benchmarks/run.py --corpus ../shared/corpus/ocw --write BENCHMARKS.md`). "
            "Each script rewrites only its own section between `<!-- bench:NAME:start -->` and "
            "`<!-- bench:NAME:end -->`; everything else in this file is kept.",
            "",
            f"- Machine: {nproc()} cores (`nproc`), CPU {cpu_model()}, {platform.system()} {platform.release()}",
            f"- Python {platform.python_version()}",
            f"- `{tool_version(tools['localize'])}`, `{tool_version(tools['html2po'])}`, "
            f"`{tool_version(tools['msgen'])}`",
            f"- Date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        ]
    )


def git_revision() -> str:
    repo = Path(__file__).resolve().parent.parent
    try:
        head = run_quiet(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"]).strip()
        dirty = run_quiet(["git", "-C", str(repo), "status", "--porcelain", "--", "src"]).strip()
    except (BenchError, OSError):
        return "unknown"
    return f"{head} + uncommitted changes in src/" if dirty else head


# --- file sections --------------------------------------------------------------------------------------------


def markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"


def replace_section(text: str, name: str, body: str, *, after_title: bool = False) -> str:
    """Put body between the name's markers in text.

    Replaced in place when the markers are there; otherwise appended, or with after_title put right
    after the file's "# " title line (which is created when the file has none).
    """
    start, end = markers(name)
    block = f"{start}\n{body.strip()}\n{end}"
    i = text.find(start)
    j = text.find(end, i + len(start)) if i >= 0 else -1
    if i >= 0 and j >= 0:
        return text[:i] + block + text[j + len(end) :]
    if not after_title:
        return text.rstrip() + "\n\n" + block + "\n" if text.strip() else block + "\n"
    lines = text.lstrip().splitlines()
    if lines and lines[0].startswith("# "):
        title, rest = lines[0], "\n".join(lines[1:]).strip()
    else:
        title, rest = TITLE, "\n".join(lines).strip()
    return f"{title}\n\n{block}\n" + (f"\n{rest}\n" if rest else "")


def write_sections(path: Path, intro: str, section: str) -> None:
    """Rewrite the intro and this benchmark's section of path (created if missing); keep everything else."""
    text = path.read_text() if path.exists() else ""
    text = replace_section(text, "intro", intro, after_title=True)
    text = replace_section(text, SECTION, section)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text if text.endswith("\n") else text + "\n")
    tmp.replace(path)


# --- main -----------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Time localize against translate-toolkit on a corpus folder.")
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
        tools = {name: find_tool(name) for name in ("localize", "html2po", "po2html", "msgen")}
        corpus = corpus.resolve()
        revision = git_revision()  # before the runs: others may commit while they go
        compile_sources()
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            report = run_benchmark(corpus, args.keep.resolve(), args.repeat, tools)
        else:
            with tempfile.TemporaryDirectory(prefix="localize-bench-") as tmp:
                report = run_benchmark(corpus, Path(tmp), args.repeat, tools)
    except BenchError as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    commands = {
        "extract, localize": f"localize extract CORPUS --course {COURSE} --locales-dir TMP/loc -q",
        "extract, translate-toolkit": "html2po --progress=none -P -i CORPUS -o TMP/tt-pot",
        "extract --jobs 1": f"localize extract CORPUS --course {COURSE} --locales-dir TMP/loc-j1 -q --jobs 1",
        "build setup (untimed)": f"msgen TMP/loc/templates/{COURSE}.pot -o TMP/loc/en/LC_MESSAGES/{COURSE}.po; "
        "html2po --progress=none -i CORPUS -o TMP/tt-po",
        "build, localize": f"localize build CORPUS --course {COURSE} --locale en --locales-dir TMP/loc "
        "--out TMP/out-localize -q",
        "build, translate-toolkit": "po2html --progress=none -t CORPUS -i TMP/tt-po -o TMP/out-tt",
    }
    section = render_section(report, str(args.corpus), args.repeat, commands, revision)
    print(section)
    if args.write:
        write_sections(args.write, render_intro(tools), section)
        print(f"\nwrote section '{SECTION}' of {args.write}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
