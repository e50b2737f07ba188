"""The QA gate is linear: every check on a 1 MB translation, and a whole 1 MB returned file.

Usage: .venv/bin/python benchmarks/qa.py [--write BENCHMARKS.md]

Each row is one hostile-shaped 1 MB translation of the kind that made a backtracking pattern
quadratic (e-mail, printf, tag-like, handler, URL, numbers), checked by every entry check of the
registry (localize.partners.checks). Target: under a second each.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import replace_section

SECTION = "qa"
MB = 1_000_000

CASES = {
    "e-mail: a long local part, no domain": ("Write to us", "a" * MB + "@"),
    "e-mail: dotted local part": ("Write to us", "a." * (MB // 2) + "@b"),
    "printf: flags and width fighting over zeros": ("100%", "%" + "0" * MB),
    "printf: a run of percent signs": ("100%", "%" * MB),
    "tag-like: a name that never ends": ("x < y", "<a" + "-a" * (MB // 2)),
    "tag-like: open brackets and spaces": ("x < y", "< " * (MB // 2)),
    "handler: on... that never reaches =": ("x", "on" + "n" * MB),
    "URL: one long address": ("See http://a.b", "http://" + "a" * MB),
    "numbers: one long list": ("1", "1" + " 1" * (MB // 2)),
    "prose: ordinary words": ("A sentence.", "Una frase corriente. " * (MB // 21)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", type=Path)
    args = parser.parse_args()

    from localize.model import Entry
    from localize.partners.checks import Limits, entry_problems
    from localize.partners.qa import check_file

    limits = Limits(max_string_chars=10 * MB, max_file_bytes=100 * MB)
    rows = []
    for name, (source, translation) in CASES.items():
        started = time.perf_counter()
        entry_problems(Entry(source, translation), "x.po", limits=limits)
        rows.append((name, time.perf_counter() - started))
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: es\\n"\n\n'
    body = "".join(f'msgid "Sentence {i} of the course."\nmsgstr "Frase {i} del curso."\n\n' for i in range(20_000))
    data = (header + body).encode("utf-8")
    started = time.perf_counter()
    check_file(data, "big.po", limits=limits)
    whole = time.perf_counter() - started
    lines = [
        "## QA gate: linear on hostile input",
        "",
        "Every entry check of the registry on one 1 MB translation shaped like the inputs that made",
        "backtracking patterns quadratic (`benchmarks/qa.py`; target: under a second each).",
        "",
        "| 1 MB translation | seconds | target |",
        "|---|---:|---|",
        *(f"| {name} | {t:.3f} | {'PASS' if t < 1.0 else 'FAIL'} |" for name, t in rows),
        "",
        f"A whole returned file of {len(data) / 1e6:.1f} MB (20,000 entries), parsed and checked: {whole:.2f} s.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.write:
        current = args.write.read_text() if args.write.exists() else ""
        args.write.write_text(replace_section(current, SECTION, text))


if __name__ == "__main__":
    main()
