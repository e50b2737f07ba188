"""How cost grows with the fleet: a synthetic OpenCourseWare of N courses x 12 locales x 3 regions.

Usage: .venv/bin/python benchmarks/scale.py --corpus ../shared/corpus/ocw [--sizes 25 250] [--quick] [--write BENCHMARKS.md]

The synthetic site is made from the real corpus catalogs: course i takes the template of corpus course
i mod 10, with a deterministic share of its texts varied by the course number (the shared theme,
navigation and footer stay identical across courses, as on the real site). Twelve locales at stages
from 0 % to 100 % translated, one assignment per course x locale, and three regions whose indexes list
every course x locale as published (folder regions: what is measured here is the fleet-wide reading,
not uploads). Each operation runs as its own `localize` process, cold (a new process, no caches), and
is timed with its peak RSS and the number of workspace files it opened (strace-free: counted by a
sitecustomize hook that wraps LocalStorage reads).

Operations: status, report (the dashboard), stats, `index rebuild` (the derived state anew from every
catalog: reads the fleet by design, made once after the fleet is generated), init of a new course in one
locale from the full memory of that locale, update of one course (all its locales). Targets (printed PASS/FAIL): status and report at most 2 ms per
course x locale row; one-course operations at the largest N at most 1.5x their time at the smallest.
--quick uses N = 10 and 40 with fewer locales.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import replace_section

from localize.model import Catalog

SECTION = "scale"
LOCALES = ("es", "ar", "pt_BR", "fr", "sw", "zh_CN", "hi", "ru", "fa", "tr", "id", "ur")
REGIONS = ("latam", "mena", "africa")

COUNTER = """
import atexit, json, os
from localize.storage import base
_reads = [0]
_orig = base.LocalStorage.read_bytes
def _counting(self, key):
    _reads[0] += 1
    return _orig(self, key)
base.LocalStorage.read_bytes = _counting
atexit.register(lambda: open(os.environ["LOCALIZE_BENCH_READS"], "w").write(json.dumps(_reads[0])))
"""


def course_template(templates: list[Catalog], i: int, course: str) -> Catalog:
    """Course ``i``: the template of corpus course i mod 10, a seventh of its longer texts varied by ``i``."""
    base = templates[i % len(templates)]
    entries = tuple(
        replace(e, msgid=f"{e.msgid} ({i})") if (j % 7 == i % 7 and len(e.msgid) > 40) else e
        for j, e in enumerate(base.entries)
    )
    return (
        replace(base, entries=entries)
        .with_header("Project-Id-Version", course)
        .with_header("X-Localize-Course", course)
    )


def build_fleet(corpus: Path, root: Path, n: int, locales: tuple[str, ...]) -> Path:
    from localize.catalogs.workspace import Workspace
    from localize.engine.extract import extract_course
    from localize.partners.assignments import Assignment, save_assignment
    from localize.storage.courses import open_source

    cache = root.parent / "templates-cache"
    cache.mkdir(exist_ok=True)
    courses = sorted(p for p in corpus.iterdir() if p.is_dir())
    templates: list[Catalog] = []
    for c in courses:
        cached = cache / f"{c.name}.pot"
        if not cached.exists():
            from localize.catalogs.po import write_po

            cached.write_text(write_po(extract_course(open_source(c), c.name, jobs=1).catalog), encoding="utf-8")
        from localize.catalogs.po import read_po

        templates.append(read_po(cached.read_bytes(), str(cached)))
    ws = Workspace(str(root / "ws"))
    rng = random.Random(n)
    for i in range(n):
        course = f"course-{i:05d}"
        template = course_template(templates, i, course)
        entries = template.entries
        ws.write(ws.template_key(course), template)
        for k, ll in enumerate(locales):
            share = (k + i) % 5 / 4  # 0, 25, 50, 75, 100 %
            cut = int(len(entries) * share)
            cat = replace(
                template,
                headers=(*template.headers, ("Language", ll)),
                entries=tuple(replace(e, msgstr=f"[{ll}] {e.msgid}") if j < cut else e for j, e in enumerate(entries)),
            )
            ws.write(ws.catalog_key(course, ll), cat)
            save_assignment(
                ws,
                Assignment(
                    f"20260101-{i:05d}{k:02d}",
                    course,
                    ll,
                    f"p{k}",
                    "0" * 64,
                    "2026-01-01T00:00:00+00:00",
                    "2026-01-15",
                    rng.choice(("sent", "accepted")),
                ),
            )
    for r in REGIONS:
        region = root / "regions" / r
        region.mkdir(parents=True)
        index = {
            "region": r,
            "courses": {
                f"course-{i:05d}": {ll: {"version": "20260101T000000.000Z-00000000"} for ll in locales}
                for i in range(n)
            },
        }
        (region / "index.json").write_text(json.dumps(index))
    partners = "\n".join(
        f'[[partners]]\nid = "p{k}"\nname = "Partner {k}"\nlocales = ["{ll}"]\ninbox = "inboxes/p{k}"\n'
        for k, ll in enumerate(locales)
    )
    regions = "\n".join(
        f'[[regions]]\nname = "{r}"\nlocation = "regions/{r}"\nlocales = {json.dumps(list(locales))}\n' for r in REGIONS
    )
    # a course with a template and no catalog yet: `init` fills it from the whole memory of a locale
    ws.write(ws.template_key("course-new"), course_template(templates, n, "course-new"))
    config = root / "localize.toml"
    config.write_text(f'[workspace]\nlocation = "ws"\n\n{partners}\n{regions}')
    return config


def run(args: list[str], cwd: Path) -> tuple[float, float, int, int]:
    """(seconds, CPU seconds, peak RSS KiB, workspace files read) of one `localize` process.
    CPU time (user + system) is what the process itself spent: unlike the wall clock, it
    hardly moves when other work shares the machine."""
    with tempfile.TemporaryDirectory() as hook:
        Path(hook, "sitecustomize.py").write_text(COUNTER)
        reads = Path(hook, "reads.json")
        env = os.environ | {
            "PYTHONPATH": hook + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "LOCALIZE_BENCH_READS": str(reads),
        }
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "localize.cli", *args],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
        cpu = usage.ru_utime + usage.ru_stime
        return seconds, cpu, usage.ru_maxrss, int(json.loads(reads.read_text())) if reads.exists() else -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 250])
    parser.add_argument("--quick", action="store_true", help="N = 10 and 40, six locales")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    sizes = [10, 40] if args.quick else args.sizes
    locales = LOCALES[:6] if args.quick else LOCALES
    source_course = sorted(p for p in args.corpus.resolve().iterdir() if p.is_dir())[0]
    results: dict[int, dict[str, tuple[float, float, int, int]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            root = Path(tmp) / f"n{n}"
            root.mkdir()
            config = build_fleet(args.corpus, root, n, locales)
            rows = n * len(locales)
            ops = {
                "status": ["status", "--config", str(config), "--json"],
                "report": ["report", "--config", str(config), "--out", str(root / "report.html")],
                "stats": ["stats", "--locales-dir", str(root / "ws"), "--json"],
                "index rebuild": ["index", "rebuild", "--locales-dir", str(root / "ws")],
                "init one new course": [
                    "init",
                    "--course",
                    "course-new",
                    "--locale",
                    "es",
                    "--locales-dir",
                    str(root / "ws"),
                ],
                "update one course": [
                    "update",
                    str(source_course),
                    "--course",
                    "course-00001",
                    "--locales-dir",
                    str(root / "ws"),
                    "-q",
                    "--jobs",
                    "1",
                ],
            }
            results[n] = {name: run(argv, root) for name, argv in ops.items()}
            for name, (s, cpu, rss, reads) in results[n].items():
                print(
                    f"N={n} ({rows} rows) {name}: {s:.2f} s, CPU {cpu:.2f} s, {rss / 1024:.0f} MB, {reads} files read",
                    file=sys.stderr,
                )
            shutil.rmtree(root, ignore_errors=True)
    small, large = sizes[0], sizes[-1]
    lines = [
        "## Scale: cost as the fleet grows",
        "",
        f"Synthetic OCW made from the corpus catalogs: N courses x {len(locales)} locales x {len(REGIONS)} regions "
        f"(folder workspace and regions; each operation a cold `localize` process). `benchmarks/scale.py{' --quick' if args.quick else ''}`.",
        "",
        "| operation | "
        + " | ".join(f"N={n} s" for n in sizes)
        + " | "
        + " | ".join(f"CPU N={n} s" for n in sizes)
        + " | files read ("
        + " / ".join(f"N={n}" for n in sizes)
        + ") | per row (N="
        + str(large)
        + ") | growth (wall / CPU) | target |",
        "|---|" + "---:|" * (2 * len(sizes)) + "---:|---:|---:|---|",
    ]
    for name in results[small]:
        times = [results[n][name][0] for n in sizes]
        cpus = [results[n][name][1] for n in sizes]
        reads = [results[n][name][3] for n in sizes]
        growth = times[-1] / times[0] if times[0] else float("inf")
        cpu_growth = cpus[-1] / cpus[0] if cpus[0] else float("inf")
        per_row = times[-1] / (large * len(locales)) * 1000
        if name in ("status", "report", "stats"):
            target = f"{'PASS' if per_row <= 2.0 else 'FAIL'} (<= 2 ms/row)"
        elif name == "index rebuild":
            target = "(reads the fleet by design)"
        else:
            same = reads[-1] <= reads[0]
            target = (
                f"{'PASS' if growth <= 1.5 and same else 'FAIL'} (<= 1.5x, same files read); "
                f"CPU {'PASS' if cpu_growth <= 1.5 else 'FAIL'}"
            )
        lines.append(
            f"| {name} | "
            + " | ".join(f"{t:.2f}" for t in times)
            + " | "
            + " | ".join(f"{t:.2f}" for t in cpus)
            + f" | {' / '.join(str(r) for r in reads)} | {per_row:.2f} ms | {growth:.1f}x / {cpu_growth:.1f}x | {target} |"
        )
    body = "\n".join(lines)
    print(body)
    if args.write:
        text = args.write.read_text() if args.write.exists() else ""
        args.write.write_text(replace_section(text, SECTION, body))


if __name__ == "__main__":
    main()
