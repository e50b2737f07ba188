"""The ``localize`` command: a thin layer over the library.

Exit codes: 0 success; 1 the command ran but some pages or entries failed (each
is listed); 2 nothing was done (bad arguments, missing catalog, unreadable
source).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

from localize import __version__
from localize.errors import LocalizeError

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2

DESCRIPTION = """\
localize turns open-courseware sites into gettext catalogs and back.

  extract   pages -> templates/COURSE.pot (every piece of human-readable text)
  pseudo    template -> qps-ploc catalog, to see what would be missed or cut off
  build     pages + LL catalog -> localized pages (untranslated bytes unchanged)

Catalogs live in a workspace (--locales-dir, default ./locales) laid out as
templates/COURSE.pot and LL/LC_MESSAGES/COURSE.po.
"""


class _Help(argparse.RawDescriptionHelpFormatter):
    pass


def _add_common(p: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        p.add_argument("source", metavar="SOURCE", help="course folder or OCW offline .zip")
    p.add_argument(
        "--course", required=True, metavar="ID", help="course id, names the catalogs (e.g. 8.05-quantum-physics)"
    )
    p.add_argument("--locales-dir", default="locales", metavar="DIR", help="catalog workspace (default: %(default)s)")


def _add_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="worker processes (default: one per core)")
    p.add_argument("--quiet", "-q", action="store_true", help="print errors and the summary only")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="localize", description=DESCRIPTION, formatter_class=_Help)
    parser.add_argument("--version", action="version", version=f"localize {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "extract",
        help="extract a course's text into templates/COURSE.pot",
        description="Extract every piece of human-readable text of a course into DIR/templates/COURSE.pot.\n\n"
        "Inline markup becomes placeholders such as <a1>...</a1> and <br2/>; the same text\n"
        "anywhere in the course is one entry listing every page. Pages that cannot be read\n"
        "are reported and skipped (exit code 1); the others are still extracted.",
        formatter_class=_Help,
    )
    _add_common(p)
    p.add_argument(
        "--source-locale", default="en", metavar="LL", help="language of the source pages (default: %(default)s)"
    )
    _add_jobs(p)
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser(
        "pseudo",
        help="write a pseudo-localized (qps-ploc) catalog from the template",
        description="Write DIR/qps-ploc/LC_MESSAGES/COURSE.po: every ASCII letter replaced by an\n"
        "accented look-alike, about 30 %% longer and bracketed, placeholders kept. Build\n"
        "it with --locale qps-ploc to see untranslated or truncated text at a glance.",
        formatter_class=_Help,
    )
    _add_common(p, source=False)
    p.set_defaults(func=cmd_pseudo)

    p = sub.add_parser(
        "build",
        help="write the course with a catalog's translations spliced in",
        description="Write every file of SOURCE under OUT, pages translated from\n"
        "DIR/LL/LC_MESSAGES/COURSE.po. Untranslated and fuzzy entries keep the source text;\n"
        "everything that is not a translated unit stays byte-for-byte as it was. Sets\n"
        '<html lang> (and dir="rtl" for right-to-left languages) when LL differs from\n'
        "the source locale. Translations are escaped: they cannot add markup to a page.",
        formatter_class=_Help,
    )
    _add_common(p)
    p.add_argument("--locale", required=True, metavar="LL", help="catalog to build from (e.g. es, pt_BR, ar, qps-ploc)")
    p.add_argument("--out", required=True, metavar="OUT", help="output folder")
    p.add_argument(
        "--source-locale", default="en", metavar="LL", help="language of the source pages (default: %(default)s)"
    )
    _add_jobs(p)
    p.set_defaults(func=cmd_build)
    return parser


@contextmanager
def _progress(label: str, total: int, quiet: bool, stream: TextIO) -> Iterator[Callable[[str], None]]:
    """A progress bar on a terminal; nothing when output is redirected."""
    if quiet or not stream.isatty() or total < 2:
        yield lambda _path: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[page]}", style="dim"),
        console=Console(file=stream),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total, page="")
        yield lambda path: bar.update(task, advance=1, page=path[-50:])


def _report(failures: Sequence[object], stream: TextIO, label: str = "error") -> None:
    for failure in failures:
        print(f"{label}: {failure}", file=stream)


def cmd_extract(args: argparse.Namespace) -> int:
    from localize.extract import extract_course
    from localize.sources import is_page, open_source
    from localize.workspace import Workspace, check_course_id

    check_course_id(args.course)
    source = open_source(args.source)
    workspace = Workspace(args.locales_dir)
    total = sum(1 for p in source.paths() if is_page(p))
    if total == 0:
        print(f"error: {args.source}: no .html or .htm pages found", file=sys.stderr)
        return EXIT_FAILED
    with _progress("extracting", total, args.quiet, sys.stderr) as tick:
        result = extract_course(source, args.course, source_locale=args.source_locale, jobs=args.jobs, progress=tick)
    _report(result.failures, sys.stderr)
    key = workspace.template_key(args.course)
    written = workspace.write(key, result.catalog)
    state = "written" if written else "unchanged"
    print(
        f"{result.pages} pages, {result.units} units, {len(result.catalog.entries)} entries -> "
        f"{workspace.describe(key)} ({state})"
    )
    if result.failures:
        n = len(result.failures)
        print(
            f"{n} file{'s' if n != 1 else ''} could not be extracted (listed above); {result.pages} of {total} pages extracted",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_pseudo(args: argparse.Namespace) -> int:
    from localize.pseudo import PSEUDO_LOCALE, pseudo_catalog
    from localize.workspace import Workspace

    workspace = Workspace(args.locales_dir)
    template = workspace.read_template(args.course)
    catalog = pseudo_catalog(template, args.course)
    key = workspace.catalog_key(args.course, PSEUDO_LOCALE)
    written = workspace.write(key, catalog)
    print(f"{len(catalog.entries)} entries -> {workspace.describe(key)} ({'written' if written else 'unchanged'})")
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from localize.build import build_course
    from localize.sources import open_source
    from localize.workspace import Workspace, normalize_locale

    locale = normalize_locale(args.locale)
    workspace = Workspace(args.locales_dir)
    catalog = workspace.read_catalog(args.course, locale)
    source = open_source(args.source)
    total = len(source.paths())
    with _progress(f"building {locale}", total, args.quiet, sys.stderr) as tick:
        result = build_course(
            source, catalog, args.out, locale, source_locale=args.source_locale, jobs=args.jobs, progress=tick
        )
    _report(result.failures, sys.stderr)
    if not args.quiet:
        _report(result.problems, sys.stderr, "warning")
    print(
        f"{result.pages} pages ({result.changed_pages} localized), {result.copied} other files -> {args.out}; "
        f"units: {result.translated} translated, {result.fallback} in the source language"
    )
    if result.problems:
        print(f"{len(result.problems)} translations not used (their placeholders do not match)", file=sys.stderr)
    if result.failures:
        print(f"{len(result.failures)} files failed and were copied unchanged (listed above)", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
        return code
    except LocalizeError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
