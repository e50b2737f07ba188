"""CLI: pages (``extract`` and ``build``), the commands that read and write a course's pages.

Their own area so that a one-course ``extract`` or ``build`` imports only the engine, the
workspace and :mod:`localize.app.pages`, not every layer (start-up is most of a small course's time).
"""

from __future__ import annotations

import argparse
import sys

from localize.app.pages import build, extract_to_workspace, other_source
from localize.catalogs.workspace import Workspace
from localize.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    HelpFormatter,
    add_common,
    add_jobs,
    locale_arg,
    print_failures,
    progress,
    workspace_location,
)
from localize.errors import without_credentials
from localize.storage.courses import open_source
from localize.storage.sources import is_page


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "extract",
        help="extract a course's text into templates/COURSE.pot",
        description="Extract every piece of human-readable text of a course into DIR/templates/COURSE.pot.\n\n"
        "Inline markup becomes placeholders such as <a1>...</a1> and <br2/>; the same text\n"
        "anywhere in the course is one entry listing every page. Pages that cannot be read\n"
        "are reported and skipped (exit code 1); the others are still extracted.",
        formatter_class=HelpFormatter,
    )
    add_common(p)
    p.add_argument(
        "--source-locale",
        default="en",
        type=locale_arg,
        metavar="LL",
        help="language of the source pages (default: %(default)s)",
    )
    add_jobs(p)
    p.set_defaults(func=cmd_extract)
    p = sub.add_parser(
        "build",
        help="write the course with a catalog's translations spliced in",
        description="Write every file of SOURCE under OUT, pages translated from\n"
        "DIR/LL/LC_MESSAGES/COURSE.po. Untranslated and fuzzy entries keep the source text;\n"
        "everything that is not a translated unit stays byte-for-byte as it was. Sets\n"
        '<html lang> (and dir="rtl" for right-to-left languages) when LL differs from\n'
        "the source locale. Translations are escaped: they cannot add markup to a page.\n"
        "OUT is replaced as a whole once the build is complete: an interrupted build leaves\n"
        "the previous OUT (or none), never half of one.",
        formatter_class=HelpFormatter,
    )
    add_common(p)
    p.add_argument(
        "--locale",
        required=True,
        type=locale_arg,
        metavar="LL",
        help="catalog to build from (e.g. es, pt_BR, ar, qps-ploc)",
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="OUT",
        help="output folder: built beside it and renamed into place; never the source, a folder "
        "holding it or one inside it",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write OUT even if it is the source itself (replacing it) or holds other files; never a folder that holds the source or lies inside it",
    )
    p.add_argument(
        "--source-locale",
        default="en",
        type=locale_arg,
        metavar="LL",
        help="language of the source pages (default: %(default)s)",
    )
    add_jobs(p)
    p.set_defaults(func=cmd_build)


def cmd_extract(args: argparse.Namespace) -> int:
    source = open_source(args.source)
    total = sum(1 for p in source.paths() if is_page(p))
    if total == 0:
        print(f"error: {without_credentials(args.source)}: no .html or .htm pages found", file=sys.stderr)
        return EXIT_FAILED
    with progress("extracting", total, args.quiet, sys.stderr) as tick:
        outcome = extract_to_workspace(
            Workspace(workspace_location(args)),
            source,
            args.course,
            source_locale=args.source_locale,
            jobs=args.jobs,
            progress=tick,
        )
    result = outcome.result
    print_failures(result.failures, sys.stderr)
    print(
        f"{result.pages} pages, {result.units} units, {len(result.catalog.entries)} entries -> "
        f"{outcome.path} ({'written' if outcome.written else 'unchanged'})"
    )
    if result.failures:
        n = len(result.failures)
        print(
            f"{n} file{'s' if n != 1 else ''} could not be extracted (listed above); {result.pages} extracted",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    locale = args.locale
    source = open_source(args.source)
    elsewhere = other_source(Workspace(workspace_location(args)), args.course, args.source)
    if elsewhere is not None and not args.quiet:
        print(f"warning: {args.course} was extracted from {elsewhere}, not from {args.source}: the pages of "
              "another course, or a part of this one, are built half in the source language", file=sys.stderr)  # fmt: skip
    total = len(source.paths())
    with progress(f"building {locale}", total, args.quiet, sys.stderr) as tick:
        result = build(
            Workspace(workspace_location(args)), source, args.course, locale, args.out,
            source_locale=args.source_locale, jobs=args.jobs, progress=tick, force=args.force,
        )  # fmt: skip
    print_failures(result.failures, sys.stderr)
    if not args.quiet:
        print_failures(result.problems, sys.stderr, "warning")
    print(
        f"{result.pages} pages ({result.translated_pages} with translations), {result.copied} other files -> {args.out}; "
        f"units: {result.translated} translated, {result.fallback} in the source language"
    )
    if result.problems:
        print(
            f"{len(result.problems)} translations not used (listed above: placeholders that do not match, or "
            "markup a page would make of them)",
            file=sys.stderr,
        )
    if result.failures:
        print(
            f"{len(result.failures)} file{'' if len(result.failures) == 1 else 's'} failed (listed above): a page "
            "that could not be localized is copied unchanged, a file that could not be read is left out",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK
