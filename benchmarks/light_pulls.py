"""Bytes a mirror moves: a cold pull, a pull after a one-page change and a no-change pull, with
objects stored raw (``compress = false``) and gzip-compressed (the default).

Usage: .venv/bin/python benchmarks/light_pulls.py --corpus ../shared/corpus/ocw [--write BENCHMARKS.md]

Every course of the corpus is published (as the source locale's pages, no catalog) to a folder
region and pulled onto a mirror; "bytes moved" is what the pull read from the region: pointer,
manifest and objects as stored (``PullResult.moved_bytes``), summed over the courses. The
one-page change appends a comment to one page of each course and publishes again. Counts, not
times: the figures do not depend on the machine's load.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from run import replace_section

SECTION = "light-pulls"


@dataclass
class Moved:
    files: int = 0
    file_bytes: int = 0
    moved: int = 0
    stored: int = 0  # what the publish uploaded (objects as stored)


def measure(corpus: Path, work: Path, compress: bool) -> dict[str, Moved]:
    from localize.model import Catalog
    from localize.regions.bundle import make_bundle
    from localize.regions.publish import publish_bundle
    from localize.regions.pull import pull
    from localize.storage.base import LocalStorage
    from localize.storage.sources import FolderSource

    region = work / ("gzip" if compress else "raw")
    storage = LocalStorage(region)
    mirror = work / f"mirror-{region.name}"
    out = {step: Moved() for step in ("cold", "one page changed", "no change")}
    courses = sorted(p for p in corpus.iterdir() if p.is_dir())
    for course in courses:
        copy = work / "src" / course.name
        shutil.copytree(course, copy)
        name = course.name.replace(".", "-")
        for step in out:
            if step == "one page changed":
                page = min(p for p in copy.rglob("*") if p.suffix in (".html", ".htm"))
                page.write_bytes(page.read_bytes() + b"<!-- edited -->")
            if step != "no change":
                with make_bundle(FolderSource(copy), Catalog(), "en") as bundle:
                    published = publish_bundle(storage, "bench", name, "en", bundle, Catalog(), compress=compress)
                out[step].stored += published.stored_bytes
            result = pull(str(region), name, "en", mirror)
            out[step].files += result.downloaded_files
            out[step].file_bytes += result.downloaded_bytes
            out[step].moved += result.moved_bytes
    return out


def table(raw: dict[str, Moved], gz: dict[str, Moved], courses: int) -> str:
    lines = [
        f"Bytes a mirror moves for the {courses} courses of the OCW corpus (`benchmarks/light_pulls.py`; counts, "
        "not times). Bytes moved = pointer + manifest + objects as the region stores them.",
        "",
        "| pull | files fetched | file bytes | moved, raw objects | moved, gzip (default) | saved |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step in raw:
        a, b = raw[step], gz[step]
        saved = f"{100 * (a.moved - b.moved) / a.moved:.0f} %" if a.moved else "-"
        lines.append(f"| {step} | {b.files} | {b.file_bytes:,} | {a.moved:,} | {b.moved:,} | {saved} |")
    a, b = raw["cold"].stored, gz["cold"].stored
    lines += ["", f"Publishing uploads {a:,} bytes raw and {b:,} bytes compressed (cold)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True, help="a folder of course folders")
    parser.add_argument("--write", type=Path, help="replace this benchmark's section of the file")
    args = parser.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"error: no corpus at {args.corpus}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="localize-bench-pulls-") as tmp:
        raw = measure(args.corpus, Path(tmp) / "a", compress=False)
        gz = measure(args.corpus, Path(tmp) / "b", compress=True)
    courses = sum(1 for p in args.corpus.iterdir() if p.is_dir())
    text = table(raw, gz, courses)
    print(text)
    if args.write:
        current = args.write.read_text(encoding="utf-8") if args.write.exists() else "# Benchmarks\n"
        args.write.write_text(replace_section(current, SECTION, "## Light pulls\n\n" + text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
