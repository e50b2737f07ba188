"""How cost grows with the fleet: a synthetic OpenCourseWare of N courses x 12 locales x 3 regions.

Usage: .venv/bin/python benchmarks/scale.py --corpus ../shared/corpus/ocw [--sizes 25 250] [--quick | --full]
[--write BENCHMARKS.md]

The synthetic site (benchmarks/scale_fleet.py) is made from the real corpus catalogs: course i takes
the template of corpus course i mod 10, with a deterministic share of its texts varied by the course
number. Twelve locales at stages from 0 % to 100 % translated, one assignment per course x locale,
and three regions on a local SeaweedFS (`weed mini`, loopback) whose indexes list every course x
locale as published. Each operation runs as its own process, cold (a new process, no caches), and is
timed with its CPU time, peak RSS, the workspace files it read and the S3 objects it read (counted by
a sitecustomize hook on the storage backends' reads).

Operations: status, report (the dashboard), stats (fleet-wide views: at most 2 ms per course x
locale row); `index rebuild` and extract all (read or write the whole fleet by design: extract all
is one process extracting every course's pages with --jobs 1, the per-core figure); and the
one-course operations, which must take at the largest N at most 1.5x their time at the smallest and
read the same number of files and objects: init of a new course and of a new locale of a course from
the full memory, update of one course (all its locales), route (one course x locale kit), ingest
(the translator's .po for that kit through the QA gate), publish of one course x locale to the three
regions (--jobs 1) and again with no change, pull of it with no change.

--quick uses N = 10 and 40 with six locales. --full uses N = 25 and 2,500 with only the first three
pages of each course in the fleet's catalogs (the source pages that update, extract and publish read
stay whole), builds the memory index while generating (instead of measuring `index rebuild`); a run
made by hand, recorded in its own section of BENCHMARKS.md (scale-full).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import compile_sources, replace_section
from scale_fleet import (
    EXTRACT_ALL,
    LOCALES,
    REGIONS,
    Measure,
    build_fleet,
    corpus_courses,
    first_pages,
    load_templates,
    measure,
    share,
    write_return,
)

SECTION = "scale"
VIEWS = ("status", "report", "stats")
FLEET = ("index rebuild", "extract all")
ROUTED = 3  # the course routed, returned, published and pulled


def operations(
    n: int,
    root: Path,
    config: Path,
    corpus: list[Path],
    locales: tuple[str, ...],
    bucket: str,
    full: bool,
    out: dict[str, Measure],
) -> Iterator[None]:
    """Every operation on the fleet at ``root``, in order (some leave what the next one needs),
    each measurement into ``out``; yields after each, so that the sizes can take turns."""
    env = {"LOCALIZE_BENCH": "1"}
    cfg = ["--config", str(config)]
    ws = ["--locales-dir", str(root / "ws")]
    route_ll = next(ll for k, ll in enumerate(locales) if 0 < share(ROUTED, k) < 1)
    publish_ll = next(ll for k, ll in enumerate(locales) if share(ROUTED, k) == 1)
    course = f"course-{ROUTED:05d}"
    source = str(corpus[ROUTED % len(corpus)])
    partner = f"p{locales.index(route_ll)}"

    def record(name: str, m: Measure) -> None:
        out[name] = m  # printed at once: a run stopped midway still says what it measured
        print(
            f"N={n} {name}: {m.seconds:.2f} s, CPU {m.cpu:.2f} s, {m.rss_kib / 1024:.0f} MB, "
            f"{m.files} files ({m.rows} index rows), {m.objects} objects read, {m.lists} listings",
            file=sys.stderr,
            flush=True,
        )

    def cli(name: str, *args: str) -> None:
        record(name, measure(["-m", "localize.cli", *args], root, env))

    if not full:  # (--full builds the memory index while generating the fleet)
        yield cli("index rebuild", "index", "rebuild", *ws)
        # `index rebuild` drops the assignments index and its next reader rebuilds it from every
        # kit file: done here, so that no measured operation below pays for it
        measure(["-m", "localize.cli", "status", *cfg, "--json"], root, env)
    yield cli("status", "status", *cfg, "--json")
    yield cli("report", "report", *cfg, "--out", str(root / "report.html"))
    yield cli("stats", "stats", *ws, "--json")
    yield record(
        "extract all", measure(["-c", EXTRACT_ALL, str(root / "extract-ws"), str(n), *map(str, corpus)], root, env)
    )
    shutil.rmtree(root / "extract-ws", ignore_errors=True)
    yield cli("init one new course", "init", "--course", "course-new", "--locale", locales[0], *ws)
    yield cli("init one new locale", "init", "--course", "course-00000", "--locale", locales[-1], *ws)
    yield cli("update one course", "update", str(corpus[0]), "--course", "course-00001", *ws, "-q", "--jobs", "1")
    yield cli("route", "route", "--course", course, "--locale", route_ll, *cfg)
    kit = next((root / "inboxes" / partner / "kits" / course / route_ll).glob(f"*/{course}.{route_ll}.po"))
    write_return(kit, root / "inboxes" / partner / "returns" / kit.name, route_ll)
    yield cli(
        "ingest one return",
        "ingest",
        "--partner",
        partner,
        *cfg,
        str(root / "inboxes" / partner / "returns" / kit.name),
    )
    publish = ("publish", "--course", course, "--locale", publish_ll, "--source", source, "--jobs", "1", *cfg)
    yield cli("publish one course", *publish)
    yield cli("publish, no change", *publish)
    pull = ("pull", "--from", f"s3://{bucket}/regions/{REGIONS[0]}", "--course", course, "--locale", publish_ll)
    measure(["-m", "localize.cli", *pull, "--dest", str(root / "mirror")], root, env)  # the first pull
    yield cli("pull, no change", *pull, "--dest", str(root / "mirror"))


def target(name: str, sizes: list[int], results: dict[int, dict[str, Measure]], rows: int) -> str:
    first, last = results[sizes[0]][name], results[sizes[-1]][name]
    if name in VIEWS:
        per_row = last.seconds / rows * 1000
        return f"{'PASS' if per_row <= 2.0 else 'FAIL'} ({per_row:.2f} ms/row, CPU {last.cpu / rows * 1000:.2f}; <= 2)"
    if name in FLEET:
        return f"(the whole fleet by design: {last.seconds / sizes[-1] * 1000:.0f} ms a course)"
    growth = last.seconds / first.seconds if first.seconds else float("inf")
    cpu = last.cpu / first.cpu if first.cpu else float("inf")
    same = last.files <= first.files and last.objects <= first.objects
    verdict = "PASS" if growth <= 1.5 and same else "FAIL"
    # init fills from the locale's memory, which grows with the fleet: "from a memory ten times
    # larger, at most 2x" where the sizes are ten times apart (the default 25 and 250)
    tenfold = (
        f"; memory x10: {'PASS' if growth <= 2 else 'FAIL'} (<= 2x)"
        if name.startswith("init") and sizes[-1] == 10 * sizes[0]
        else ""
    )
    return f"{verdict} (<= 1.5x, same reads); CPU {'PASS' if cpu <= 1.5 else 'FAIL'}{tenfold}"


def table(sizes: list[int], results: dict[int, dict[str, Measure]], locales: tuple[str, ...]) -> list[str]:
    def per_n(f: str) -> str:
        return " | ".join(f"{f} N={n:,}" for n in sizes)

    lines = [
        f"| operation | {per_n('s')} | {per_n('CPU s')} | {per_n('MB')} | files read | index rows read | "
        "objects read | growth (wall / CPU) | target |",
        "|---|" + "---:|" * (3 * len(sizes)) + "---:|---:|---:|---:|---|",
    ]
    for name in results[sizes[0]]:
        ms = [results[n][name] for n in sizes]
        growth = ms[-1].seconds / ms[0].seconds if ms[0].seconds else float("inf")
        cpu = ms[-1].cpu / ms[0].cpu if ms[0].cpu else float("inf")
        lines.append(
            f"| {name} | "
            + " | ".join(f"{m.seconds:.2f}" for m in ms)
            + " | "
            + " | ".join(f"{m.cpu:.2f}" for m in ms)
            + " | "
            + " | ".join(f"{m.rss_kib / 1024:.0f}" for m in ms)
            + f" | {' / '.join(f'{m.files:,}' for m in ms)} | {' / '.join(f'{m.rows:,}' for m in ms)}"
            + f" | {' / '.join(f'{m.objects:,}' for m in ms)}"
            + f" | {growth:.1f}x / {cpu:.1f}x | {target(name, sizes, results, sizes[-1] * len(locales))} |"
        )
    return lines


def main() -> None:
    from localize_dev.seaweed import SeaweedFS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25, 250])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="N = 10 and 40, six locales")
    mode.add_argument("--full", action="store_true", help="N = 25 and 2,500, three pages a course (by hand)")
    parser.add_argument("--pages", type=int, help="pages a course keeps in the fleet (default: all; --full: 3)")
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # SeaweedFS stops with the run
    sizes = [10, 40] if args.quick else [25, 2500] if args.full else args.sizes
    pages = args.pages or (3 if args.full else None)
    locales = LOCALES[:6] if args.quick else LOCALES
    corpus = corpus_courses(args.corpus.resolve())
    compile_sources()
    results: dict[int, dict[str, Measure]] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, SeaweedFS(Path(tmp) / "seaweed") as seaweed:
        os.environ.update(seaweed.env())
        client = seaweed.client()
        templates = load_templates(args.corpus.resolve(), Path(tmp) / "templates-cache")
        if pages:
            templates = [first_pages(t, pages) for t in templates]
        turns = []
        for n in sizes:
            root = Path(tmp) / f"n{n}"
            root.mkdir()
            bucket = f"scale-n{n}"
            client.create_bucket(Bucket=bucket)
            load = os.getloadavg()[0]
            started, cpu0 = time.perf_counter(), time.process_time()
            config = build_fleet(
                templates, root, n, locales, bucket=bucket, endpoint=seaweed.endpoint, client=client,
                index_memory=args.full,
            )  # fmt: skip
            made = (time.perf_counter() - started, time.process_time() - cpu0)
            print(f"N={n}: fleet generated in {made[0]:.0f} s ({made[1]:.0f} s CPU)", file=sys.stderr, flush=True)
            results[n] = {}
            turns.append(operations(n, root, config, corpus, locales, bucket, args.full, results[n]))
            notes.append(
                f"N={n:,}: fleet generated in {made[0]:.0f} s ({made[1]:.0f} s CPU"
                f"{', memory index included' if args.full else ''}); load average {load:.1f} at the start"
            )
        # every fleet first, then each operation on each size in turn: the machine's speed, which
        # drifts over a run of half an hour, is about the same for both measurements of an operation
        while turns:
            for turn in list(turns):
                if next(turn, StopIteration) is StopIteration:
                    turns.remove(turn)
        notes.append(f"load average {os.getloadavg()[0]:.1f} at the end; operations measured on each size in turn")
    control = [results[n].get("extract all") for n in (sizes[0], sizes[-1])]
    if all(control) and len(sizes) > 1:
        # the same work per course at every size: how much slower the machine ran for the larger one
        first, last = (m.cpu / n for m, n in zip(control, (sizes[0], sizes[-1]), strict=True))
        notes.append(
            f"Control: extract all takes {first * 1000:.0f} ms of CPU a course at N={sizes[0]:,} and "
            f"{last * 1000:.0f} ms at N={sizes[-1]:,}: the same work a course, so a machine running "
            f"{last / first:.2f}x as slow for the larger size (each growth factor above includes that)"
        )
    flag = " --quick" if args.quick else " --full" if args.full else f" --sizes {' '.join(map(str, sizes))}"
    lines = [
        "## Scale: cost as the fleet grows",
        "",
        f"Synthetic OCW made from the corpus catalogs: N courses x {len(locales)} locales x {len(REGIONS)} regions "
        "(folder workspace; regions on a local SeaweedFS; each operation a cold process). "
        f"`benchmarks/scale.py{flag}`"
        + (f"; the fleet's catalogs hold only the first {pages} pages of each course" if pages else "")
        + ".",
        "",
        *table(sizes, results, locales),
        "",
        *(f"- {note}" for note in notes),
    ]
    body = "\n".join(lines)
    print(body)
    if args.write:
        text = args.write.read_text() if args.write.exists() else ""
        args.write.write_text(replace_section(text, SECTION + ("-full" if args.full else ""), body))


if __name__ == "__main__":
    main()
