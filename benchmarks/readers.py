"""Why the engine has its own PO reader and its own position-keeping HTML tokenizer.

Usage: .venv/bin/python benchmarks/readers.py --corpus ../shared/corpus/ocw [--repeat 3] [--write BENCHMARKS.md]

Measures, in one process on the whole corpus:
- parsing every corpus page: localize.engine.htmltree (keeps every character offset, which the byte-faithful
  rebuild needs) beside BeautifulSoup with html.parser and with lxml, and bare lxml.html;
- reading the corpus as one catalog (every page extracted into one template, filled with msgen-style copies):
  localize.catalogs.po.read_po beside polib and Babel's read_po.
Best of --repeat runs, wall time.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import replace_section

SECTION = "readers"


def best(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()

    import lxml.html
    import polib
    from babel.messages.pofile import read_po as babel_read_po
    from bs4 import BeautifulSoup

    from localize.catalogs.po import read_po, write_po
    from localize.engine.encoding import decode_page
    from localize.engine.extract import extract_course
    from localize.engine.htmltree import parse
    from localize.storage.courses import open_source

    pages = sorted(p for p in args.corpus.rglob("*") if p.suffix in (".html", ".htm"))
    texts = [decode_page(p.read_bytes(), str(p)).text for p in pages]
    size = sum(len(t) for t in texts)

    html_rows = [
        ("localize.engine.htmltree (offsets kept)", lambda: [parse(t) for t in texts]),
        ("BeautifulSoup, html.parser", lambda: [BeautifulSoup(t, "html.parser") for t in texts]),
        ("BeautifulSoup, lxml", lambda: [BeautifulSoup(t, "lxml") for t in texts]),
        ("lxml.html (no offsets, C)", lambda: [lxml.html.fromstring(t) for t in texts if t.strip()]),
    ]
    html_times = [(name, best(fn, args.repeat)) for name, fn in html_rows]

    template = extract_course(open_source(args.corpus), "ocw", jobs=1).catalog
    filled = replace(template, entries=tuple(replace(e, msgstr=e.msgid) for e in template.entries))
    po_text = write_po(filled)
    po_bytes = po_text.encode("utf-8")
    po_rows = [
        ("localize.catalogs.po.read_po", lambda: read_po(po_bytes, "corpus.po")),
        ("polib.pofile", lambda: polib.pofile(po_text)),
        ("babel.messages.pofile.read_po", lambda: babel_read_po(io.BytesIO(po_bytes))),
    ]
    po_times = [(name, best(fn, args.repeat)) for name, fn in po_rows]

    lines = [
        "## Readers: why the engine parses HTML and PO itself",
        "",
        f"{len(pages)} corpus pages ({size / 1e6:.1f} M characters); one catalog of the whole corpus "
        f"({len(filled.entries)} entries, {len(po_bytes) / 1e6:.1f} MB). Best of {args.repeat}, one process.",
        "",
        "| parse every page | seconds | × htmltree |",
        "|---|---:|---:|",
    ]
    base = html_times[0][1]
    lines += [f"| {name} | {t:.2f} | {t / base:.1f} |" for name, t in html_times]
    lines += ["", "| read the corpus catalog | seconds | × localize |", "|---|---:|---:|"]
    base = po_times[0][1]
    lines += [f"| {name} | {t:.2f} | {t / base:.1f} |" for name, t in po_times]
    lines += [
        "",
        "htmltree keeps the character offsets of every tag, text and attribute, which the byte-faithful rebuild",
        "splices into; lxml is faster but keeps no offsets, and BeautifulSoup neither keeps them nor is faster.",
        "The PO reader keeps line numbers of every keyword (for QA messages) and the exact header; polib and",
        "Babel serve as independent oracles in the tests.",
    ]
    body = "\n".join(lines)
    print(body)
    if args.write:
        text = args.write.read_text() if args.write.exists() else ""
        args.write.write_text(replace_section(text, SECTION, body))
        print(f"wrote section '{SECTION}' of {args.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
