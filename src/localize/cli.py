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
from localize.errors import ConfigError, LocalizeError

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2

DESCRIPTION = """\
localize turns open-courseware sites into gettext catalogs and back.

  extract   pages -> templates/COURSE.pot (every piece of human-readable text)
  init      template -> a new LL catalog, filled from the translation memory
  update    re-extract a changed course and merge it into every catalog
  merge     merge one .po with a newer .pot (like msgmerge), for scripts
  stats     translated / fuzzy / untranslated per course and locale
  tm        export or import a translation memory (compendium .po or TMX)
  pseudo    template -> qps-ploc catalog, to see what would be missed or cut off
  build     pages + LL catalog -> localized pages (untranslated bytes unchanged)

  route     send a translation kit to the partner serving a locale
  check     check a .po file (the translator's own command)
  ingest    take returned .po files through the QA gate into the catalogs
  access    write per-partner S3 access policies (AWS IAM and SeaweedFS)

  publish   build a locale and publish it to its regions (versioned, atomic)
  versions  list the published versions of a course in a region
  rollback  point a region back to an earlier version
  pull      fetch a published course onto a mirror (verified, atomic switch)

  preview   see a .po file on the course pages (translators; served on 127.0.0.1)
  report    a self-contained progress dashboard for coordinators (HTML)

  run       run a pipeline flow locally (Prefect in-process), like its deployment
  status    where every course x locale stands: partner, returns, published versions

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


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", default="localize.toml", metavar="FILE", help="project configuration (default: %(default)s)"
    )


def _similarity(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def _add_similarity(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--similarity",
        type=_similarity,
        default=0.75,
        metavar="S",
        help="least similarity (0-1) for a near match to be offered as fuzzy (default: %(default)s)",
    )


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
        "init",
        help="create a catalog for a new locale from the template",
        description="Create DIR/LL/LC_MESSAGES/COURSE.po from DIR/templates/COURSE.pot with the\n"
        "headers gettext tools expect (Language, Plural-Forms from CLDR, UTF-8), then fill\n"
        "it from the translation memory: every other catalog of LL in the workspace and\n"
        "any imported memory. Exact matches come in translated, near matches as fuzzy.",
        formatter_class=_Help,
    )
    _add_common(p, source=False)
    p.add_argument("--locale", required=True, metavar="LL", help="locale code, e.g. es, pt_BR, ar, sw")
    _add_similarity(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser(
        "update",
        help="re-extract a course and merge the new template into its catalogs",
        description="Re-extract SOURCE into DIR/templates/COURSE.pot and merge it into every\n"
        "DIR/*/LC_MESSAGES/COURSE.po: unchanged units keep their translations; changed ones\n"
        "keep the old translation as fuzzy with the previous msgid (#|); vanished ones become\n"
        "obsolete (#~) and come back if the text returns. Untranslated entries are then\n"
        "filled from the translation memory. Running it twice changes nothing.",
        formatter_class=_Help,
    )
    _add_common(p)
    p.add_argument(
        "--source-locale", default="en", metavar="LL", help="language of the source pages (default: %(default)s)"
    )
    _add_similarity(p)
    _add_jobs(p)
    p.set_defaults(func=cmd_update)

    p = sub.add_parser(
        "merge",
        help="merge a .po file with a newer template (like msgmerge)",
        description="Merge DEF.po with REF.pot by the rules of `localize update` and write the\n"
        "result to --output (default: replace DEF.po).",
        formatter_class=_Help,
    )
    p.add_argument("po", metavar="DEF.po", help="the translated catalog")
    p.add_argument("pot", metavar="REF.pot", help="the new template")
    p.add_argument("--output", "-o", metavar="FILE", help="where to write (default: DEF.po)")
    _add_similarity(p)
    p.set_defaults(func=cmd_merge)

    p = sub.add_parser(
        "stats",
        help="translation progress per course and locale",
        description="Entries, source words, translated / fuzzy / untranslated counts and percentages\n"
        "for every catalog in the workspace (or one course or locale).",
        formatter_class=_Help,
    )
    p.add_argument("--locales-dir", default="locales", metavar="DIR", help="catalog workspace (default: %(default)s)")
    p.add_argument("--course", metavar="ID", help="only this course")
    p.add_argument("--locale", metavar="LL", help="only this locale")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser(
        "tm",
        help="export or import a translation memory",
        description="Translation memory exchange. `tm export` writes every translated entry of a locale\n"
        "(all courses and imported memories) as a compendium .po or a TMX 1.4 file; `tm import`\n"
        "adds a partner's .po or .tmx to the workspace memory (DIR/memory/LL.po), which `init`\n"
        "and `update` use to fill untranslated entries.",
        formatter_class=_Help,
    )
    tm = p.add_subparsers(dest="tm_command", metavar="ACTION", required=True)
    q = tm.add_parser("export", help="write the memory of a locale to a .po or .tmx file")
    q.add_argument("--locale", required=True, metavar="LL")
    q.add_argument("--out", required=True, metavar="FILE", help="FILE.po (compendium) or FILE.tmx")
    q.add_argument("--locales-dir", default="locales", metavar="DIR", help="catalog workspace (default: %(default)s)")
    q.add_argument("--source-locale", default="en", metavar="LL", help="source language for TMX (default: %(default)s)")
    q.set_defaults(func=cmd_tm_export)
    q = tm.add_parser("import", help="add a .po compendium or .tmx file to the memory of a locale")
    q.add_argument("file", metavar="FILE", help="a .po or .tmx file")
    q.add_argument("--locale", required=True, metavar="LL")
    q.add_argument("--locales-dir", default="locales", metavar="DIR", help="catalog workspace (default: %(default)s)")
    q.set_defaults(func=cmd_tm_import)

    p = sub.add_parser(
        "route",
        help="send a translation kit to the partner serving a locale",
        description="Bring DIR/LL/LC_MESSAGES/COURSE.po up to date and write a kit (the .po, a README\n"
        "for translators, kit.json) into the partner's inbox; record the assignment; POST a\n"
        "signed notice to the partner's webhook. An unchanged catalog is not sent twice.",
        formatter_class=_Help,
    )
    p.add_argument("--course", required=True, metavar="ID")
    p.add_argument("--locale", required=True, metavar="LL")
    p.add_argument("--partner", metavar="P", help="partner id (default: the one partner serving LL for the course)")
    _add_config(p)
    p.set_defaults(func=cmd_route)

    p = sub.add_parser(
        "check",
        help="check a translated .po file",
        description="Check a .po file as the QA gate will: syntax, Language and Plural-Forms headers,\n"
        "placeholders, markup, variables, URLs, numbers, whitespace, length. Prints\n"
        "FILE:LINE: severity: check: message and exits 1 if there is an error.\n"
        "With --course (and --locales-dir) it also finds msgids edited by hand.",
        formatter_class=_Help,
    )
    p.add_argument("file", metavar="FILE.po")
    p.add_argument("--locale", metavar="LL", help="the kit's locale (default: the file's X-Localize-Locale header)")
    p.add_argument("--course", metavar="ID", help="compare with this course's template")
    p.add_argument("--locales-dir", default="locales", metavar="DIR", help="catalog workspace (default: %(default)s)")
    p.add_argument("--quiet", "-q", action="store_true", help="errors only")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser(
        "ingest",
        help="take returned .po files through the QA gate into the catalogs",
        description="Archive each returned file byte for byte, check it, merge every entry that passes\n"
        "into the catalog of record (three-way against the kit the partner received), write\n"
        "a QA report (JSON and HTML) into the partner's inbox and update the assignment.\n"
        "PATH is a returned .po file or an inbox (default: the partner's inbox, returns/).",
        formatter_class=_Help,
    )
    p.add_argument("path", nargs="?", metavar="PATH")
    p.add_argument("--partner", required=True, metavar="P")
    _add_config(p)
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser(
        "access",
        help="write per-partner S3 access policies",
        description="For every partner with an s3:// inbox, write OUT/iam/PARTNER.json (an AWS IAM policy\n"
        "allowing only its inbox prefix) and OUT/seaweedfs-identities.json (the same for\n"
        "SeaweedFS, with freshly generated keys; the file is readable by its owner only).",
        formatter_class=_Help,
    )
    p.add_argument("--out", required=True, metavar="DIR")
    _add_config(p)
    p.set_defaults(func=cmd_access)

    p = sub.add_parser(
        "publish",
        help="build a locale and publish it to its regions",
        description="Build COURSE in LL and upload it to every region serving LL (or --region R):\n"
        "content-addressed objects (only what the region lacks is uploaded), a manifest per\n"
        "version, then the live pointer, swapped with a conditional write; the region index\n"
        "lists what is available. An unchanged course uploads nothing.",
        formatter_class=_Help,
    )
    p.add_argument("--course", required=True, metavar="ID")
    p.add_argument("--locale", required=True, metavar="LL")
    p.add_argument("--region", metavar="R", help="only this region")
    p.add_argument("--source", metavar="SOURCE", help="course pages (default: where `extract` read them)")
    p.add_argument("--dry-run", action="store_true", help="say what would be uploaded, upload nothing")
    _add_config(p)
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("versions", help="list the published versions of a course in a region")
    p.add_argument("--course", required=True, metavar="ID")
    p.add_argument("--locale", required=True, metavar="LL")
    p.add_argument("--region", required=True, metavar="R")
    _add_config(p)
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser(
        "rollback",
        help="point a region back to an earlier version",
        description="Move the live pointer of COURSE/LL in region R back to the previous version\n"
        "(or --to VERSION). Mirrors get it on their next pull.",
        formatter_class=_Help,
    )
    p.add_argument("--course", required=True, metavar="ID")
    p.add_argument("--locale", required=True, metavar="LL")
    p.add_argument("--region", required=True, metavar="R")
    p.add_argument("--to", metavar="VERSION")
    _add_config(p)
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser(
        "pull",
        help="fetch a published course onto a mirror",
        description="Download COURSE/LL from LOCATION (s3://bucket/prefix, or an https:// base URL of a\n"
        "public bucket or CDN) into DEST: only files that changed, every sha256 verified, staged\n"
        "beside the live version and switched with one atomic rename (DEST/COURSE/LL is a\n"
        "symlink). An interrupted pull resumes; a damaged file stops it before anything\n"
        "switches. --all pulls everything in the region index; --rollback switches back.",
        formatter_class=_Help,
    )
    p.add_argument("--from", dest="location", metavar="LOCATION")
    p.add_argument("--course", metavar="ID")
    p.add_argument("--locale", metavar="LL")
    p.add_argument("--dest", required=True, metavar="DIR")
    p.add_argument("--all", action="store_true", help="every course and locale in the region index")
    p.add_argument("--rollback", action="store_true", help="switch DEST back to the previous version it holds")
    p.add_argument("--endpoint-url", metavar="URL", help="S3 endpoint (default: AWS_ENDPOINT_URL)")
    p.add_argument("--quiet", "-q", action="store_true")
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser(
        "preview",
        help="see a .po file on the course's own pages",
        description="Build the course SOURCE with FILE.po and serve it on 127.0.0.1: every translated\n"
        "sentence shows its source text and PO line on hover, untranslated ones are highlighted,\n"
        "and a banner lists what `localize check` says. Edit and save the .po file: the preview\n"
        "rebuilds; reload the page. Ctrl-C stops it. --out DIR builds once without serving.",
        formatter_class=_Help,
    )
    p.add_argument("file", metavar="FILE.po")
    p.add_argument("source", metavar="SOURCE", help="course folder or OCW .zip")
    p.add_argument("--course", required=True, metavar="ID")
    p.add_argument("--port", type=int, default=0, metavar="N", help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--open", action="store_true", help="open it in the web browser")
    p.add_argument("--out", metavar="DIR", help="build into DIR and exit instead of serving")
    p.set_defaults(func=cmd_preview)

    p = sub.add_parser(
        "report",
        help="write a progress dashboard (one self-contained HTML file)",
        description="One HTML page with no external assets: per partner and locale a progress bar per\n"
        "course, assignments with due dates (overdue marked), the last QA results, the version\n"
        "live in each region, and words translated over time. Readable on a phone.",
        formatter_class=_Help,
    )
    p.add_argument("--locales-dir", metavar="DIR", help="catalog workspace (default: from --config, else ./locales)")
    p.add_argument("--out", required=True, metavar="FILE.html")
    p.add_argument("--config", metavar="FILE", help="localize.toml, for partners and regions (optional)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "run",
        help="run a pipeline flow locally",
        description="Run one of the Prefect flows on this machine with the same parameters as its\n"
        "deployment (Prefect starts a temporary server in-process unless PREFECT_API_URL is set).\n"
        "Values are JSON when they parse as JSON (lists, numbers, true/false), text otherwise.\n\n"
        "  localize run localize-course --param course=intro-course --param config=localize.toml\n"
        "  localize run sync-all --param listing=courses/ --param locales_dir=locales\n\n"
        "Flows: " + ", ".join(FLOWS),
        formatter_class=_Help,
    )
    p.add_argument("flow", metavar="FLOW", choices=sorted(FLOWS))
    p.add_argument("--param", "-p", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser(
        "status",
        help="where every course x locale stands",
        description="For every course x locale: translated share, the partner it is assigned to and the\n"
        "kit's state and due date (overdue ones marked), returns, and the version live in each region.",
        formatter_class=_Help,
    )
    p.add_argument("--course", metavar="ID")
    p.add_argument("--json", action="store_true")
    _add_config(p)
    p.set_defaults(func=cmd_status)

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
    workspace.record_source(args.course, args.source)
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


def cmd_init(args: argparse.Namespace) -> int:
    from localize.operations import init_locale
    from localize.workspace import Workspace

    result = init_locale(Workspace(args.locales_dir), args.course, args.locale, similarity=args.similarity)
    print(
        f"{result.entries} entries -> {result.path} (from memory: {result.memory.exact} translated, "
        f"{result.memory.near} fuzzy)"
    )
    return EXIT_OK


def cmd_update(args: argparse.Namespace) -> int:
    from localize.operations import update_course
    from localize.sources import is_page, open_source
    from localize.workspace import Workspace, check_course_id

    check_course_id(args.course)
    source = open_source(args.source)
    workspace = Workspace(args.locales_dir)
    total = sum(1 for p in source.paths() if is_page(p))
    with _progress("extracting", total, args.quiet, sys.stderr) as tick:
        result = update_course(
            workspace,
            source,
            args.course,
            source_locale=args.source_locale,
            similarity=args.similarity,
            jobs=args.jobs,
            progress=tick,
        )
    _report(result.extract.failures, sys.stderr)
    template_state = "written" if result.template_written else "unchanged"
    print(
        f"{result.extract.pages} pages, {len(result.extract.catalog.entries)} entries -> {result.template_path} "
        f"({template_state})"
    )
    for c in result.catalogs:
        if c.error is not None:
            print(f"error: {c.error}", file=sys.stderr)
            continue
        assert c.merge is not None and c.memory is not None
        m = c.merge
        print(
            f"{c.locale}: {m.kept} kept, {m.fuzzy} fuzzy, {m.revived} revived, {m.new} new, {m.obsoleted} obsolete; "
            f"from memory {c.memory.exact} translated, {c.memory.near} fuzzy -> {c.path} "
            f"({'written' if c.written else 'unchanged'})"
        )
    if not result.catalogs:
        print(f"no catalogs yet; start one with: localize init --course {args.course} --locale LL")
    failures = result.failures
    if failures:
        print(f"{len(failures)} problem{'s' if len(failures) != 1 else ''} (listed above)", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    from pathlib import Path

    from localize.catalogs import merge
    from localize.po import read_po, write_po
    from localize.storage import LocalStorage

    try:
        old = read_po(Path(args.po).read_bytes(), args.po)
        template = read_po(Path(args.pot).read_bytes(), args.pot)
    except FileNotFoundError as e:
        print(f"error: {e.filename}: no such file", file=sys.stderr)
        return EXIT_FAILED
    merged, m = merge(old, template, similarity=args.similarity)
    target = Path(args.output or args.po)
    LocalStorage(target.parent).write_bytes(target.name, write_po(merged).encode("utf-8"))
    print(f"{m.kept} kept, {m.fuzzy} fuzzy, {m.revived} revived, {m.new} new, {m.obsoleted} obsolete -> {target}")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    import json

    from localize.operations import workspace_stats
    from localize.workspace import Workspace

    stats = workspace_stats(Workspace(args.locales_dir), course=args.course, locale=args.locale)
    if args.json:
        print(json.dumps([s.as_dict() for s in stats], indent=2))
        return EXIT_OK
    if not stats:
        print(f"no catalogs in {args.locales_dir}")
        return EXIT_OK
    width = max(6, *(len(s.course) for s in stats))
    print(
        f"{'course':<{width}}  {'locale':<8} {'entries':>7} {'words':>7}  {'translated':>16}  {'fuzzy':>14}  {'untranslated':>14}"
    )
    for s in stats:
        print(
            f"{s.course:<{width}}  {s.locale:<8} {s.entries:>7} {s.words:>7}  "
            f"{s.translated:>7} {f'({s.translated_percent:.1f}%)':>8}  {s.fuzzy:>5} {f'({s.fuzzy_percent:.1f}%)':>8}  "
            f"{s.untranslated:>5} {f'({s.untranslated_percent:.1f}%)':>8}"
        )
    return EXIT_OK


def cmd_tm_export(args: argparse.Namespace) -> int:
    from pathlib import Path

    from localize.catalogs import check_locale
    from localize.memory import load_memory, to_po, to_tmx
    from localize.po import write_po
    from localize.workspace import Workspace

    locale = check_locale(args.locale)
    memory = load_memory(Workspace(args.locales_dir), locale)
    out = Path(args.out)
    text = (
        to_tmx(memory, locale, args.source_locale) if out.suffix.lower() == ".tmx" else write_po(to_po(memory, locale))
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"{len(memory)} translation units -> {out}")
    return EXIT_OK


def cmd_tm_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from localize.catalogs import check_locale
    from localize.errors import CatalogNotFoundError
    from localize.memory import merge_into_compendium, read_memory_file
    from localize.workspace import Workspace

    locale = check_locale(args.locale)
    try:
        data = Path(args.file).read_bytes()
    except FileNotFoundError:
        print(f"error: {args.file}: no such file", file=sys.stderr)
        return EXIT_FAILED
    units = read_memory_file(data, args.file, locale)
    workspace = Workspace(args.locales_dir)
    key = workspace.memory_key(locale)
    try:
        existing = workspace.read(key)
    except CatalogNotFoundError:
        existing = None
    catalog = merge_into_compendium(existing, units, locale)
    workspace.write(key, catalog)
    print(f"{len(units)} translation units imported -> {workspace.describe(key)} ({len(catalog.entries)} in all)")
    return EXIT_OK


def cmd_route(args: argparse.Namespace) -> int:
    from localize.config import load_config
    from localize.routing import route

    result = route(load_config(args.config), args.course, args.locale, partner_id=args.partner)
    a = result.assignment
    if not result.sent:
        print(
            f"unchanged since kit {a.kit} was sent to {a.partner} on {a.sent_at[:10]}; nothing sent ({result.kit_location})"
        )
        return EXIT_OK
    print(
        f"kit {a.kit} -> {a.partner}: {result.kit_location} (due {a.due}; {a.entries} entries, "
        f"{a.words_to_translate} words to translate; webhook: {result.webhook})"
    )
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from pathlib import Path

    from localize.checks import ERROR, INFO, check_file
    from localize.workspace import Workspace

    try:
        data = Path(args.file).read_bytes()
    except OSError as e:
        print(f"error: {args.file}: {e.strerror}", file=sys.stderr)
        return EXIT_FAILED
    template = Workspace(args.locales_dir).read_template(args.course) if args.course else None
    _, problems = check_file(data, args.file, locale=args.locale, template=template)
    for p in problems:
        if args.quiet and p.severity != ERROR:
            continue
        print(p)
    errors = sum(1 for p in problems if p.severity == ERROR)
    warnings = sum(1 for p in problems if p.severity not in (ERROR, INFO))
    if not args.quiet:
        print(
            f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
            file=sys.stderr,
        )
    return EXIT_PARTIAL if errors else EXIT_OK


def cmd_ingest(args: argparse.Namespace) -> int:
    from localize.config import load_config
    from localize.ingest import ingest

    reports = ingest(load_config(args.config), args.partner, args.path)
    if not reports:
        print("no returned files waiting")
    for r in reports:
        print(r.summary())
        for p in r.problems:
            if p.severity == "error":
                print(f"  {p}", file=sys.stderr)
        if r.report and not r.already:
            print(f"  report: {r.report}")
    bad = [r for r in reports if r.state in ("rejected", "partially accepted")]
    return EXIT_PARTIAL if bad else EXIT_OK


def cmd_access(args: argparse.Namespace) -> int:
    import json
    import os
    from pathlib import Path

    from localize.access import iam_policy, partner_access, seaweed_config
    from localize.config import load_config

    config = load_config(args.config)
    out = Path(args.out)
    accesses = []
    for partner in config.partners:
        if not config.resolve(partner.inbox).startswith("s3://"):
            print(f"{partner.id}: folder inbox, no policy needed")
            continue
        access = partner_access(config, partner)
        accesses.append(access)
        path = out / "iam" / f"{partner.id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(iam_policy(access.bucket, access.prefix), indent=2) + "\n")
        print(f"{partner.id}: s3://{access.bucket}/{access.prefix}/ -> {path}")
    if accesses:
        path = out / "seaweedfs-identities.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(seaweed_config(accesses))
        print(f"SeaweedFS identities (with new keys, owner-only file) -> {path}")
    return EXIT_OK


def cmd_publish(args: argparse.Namespace) -> int:
    from localize.config import load_config
    from localize.publish import publish

    results = publish(
        load_config(args.config), args.course, args.locale, region=args.region, source=args.source, dry_run=args.dry_run
    )
    for r in results:
        print(f"{r.region}: {r.message}")
        for path in r.would_upload:
            print(f"  would upload {path}")
    return EXIT_OK


def cmd_versions(args: argparse.Namespace) -> int:
    from localize.catalogs import check_locale
    from localize.config import load_config
    from localize.publish import read_manifest, read_pointer, region_storage, versions

    config = load_config(args.config)
    locale = check_locale(args.locale)
    storage = region_storage(config.region(args.region), config)
    pointer, _ = read_pointer(storage, args.course, locale)
    live = pointer["version"] if pointer else None
    found = versions(storage, args.course, locale)
    if not found:
        print(f"{args.course}/{locale} has no published versions in {args.region}")
    for v in found:
        m = read_manifest(storage, args.course, locale, v)
        mark = "*" if v == live else " "
        pct = m.stats.get("translated_percent", "?")
        print(f"{mark} {v}  {m.created}  {len(m.files)} files  {pct}% translated")
    return EXIT_OK


def cmd_rollback(args: argparse.Namespace) -> int:
    from localize.catalogs import check_locale
    from localize.config import load_config
    from localize.publish import region_storage, rollback

    config = load_config(args.config)
    storage = region_storage(config.region(args.region), config)
    old, new = rollback(storage, args.region, args.course, check_locale(args.locale), args.to)
    print(f"{args.region}: {args.course}/{args.locale} live version {old} -> {new}")
    return EXIT_OK


def cmd_pull(args: argparse.Namespace) -> int:
    from localize.errors import LocalizeError
    from localize.pull import pull, pull_all, rollback_local

    if args.rollback:
        if not (args.course and args.locale):
            print("error: --rollback needs --course and --locale", file=sys.stderr)
            return EXIT_FAILED
        old, new = rollback_local(args.dest, args.course, args.locale)
        print(f"{args.dest}/{args.course}/{args.locale}: {old} -> {new}")
        return EXIT_OK
    if not args.location:
        print("error: --from LOCATION is required", file=sys.stderr)
        return EXIT_FAILED
    if args.all:
        results = pull_all(args.location, args.dest, endpoint_url=args.endpoint_url)
        failed = 0
        for r in results:
            if isinstance(r, LocalizeError):
                failed += 1
                print(f"error: {r}", file=sys.stderr)
            else:
                print(f"{r.course}/{r.locale}: {r.message}")
        return EXIT_PARTIAL if failed else EXIT_OK
    if not (args.course and args.locale):
        print("error: give --course and --locale, or --all", file=sys.stderr)
        return EXIT_FAILED
    with _bytes_progress(f"pulling {args.course}/{args.locale}", args.quiet, sys.stderr) as tick:
        result = pull(args.location, args.course, args.locale, args.dest, endpoint_url=args.endpoint_url, progress=tick)
    print(f"{args.course}/{args.locale}: {result.message}")
    return EXIT_OK


@contextmanager
def _bytes_progress(label: str, quiet: bool, stream: TextIO) -> Iterator[Callable[[str, int], None]]:
    """Files and bytes moved, on a terminal."""
    if quiet or not stream.isatty():
        yield lambda _path, _size: None
        return
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        DownloadColumn(),
        TextColumn("{task.fields[page]}", style="dim"),
        console=Console(file=stream),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, page="")
        yield lambda path, size: bar.update(task, advance=size, page=path[-50:])


def cmd_preview(args: argparse.Namespace) -> int:
    from localize.preview import PreviewServer, build_preview
    from localize.sources import open_source

    if args.out:
        result = build_preview(args.file, open_source(args.source), args.out)
        print(
            f"{result.pages} pages ({result.locale}) -> {args.out}: {result.translated} units translated, {result.untranslated} not"
        )
        return EXIT_OK

    def rebuilt(build: object) -> None:
        print(f"{args.file} changed: checked again; reload the page to see it", file=sys.stderr)

    server = PreviewServer(args.file, args.source, port=args.port, on_rebuild=rebuilt).start()
    b = server.build
    errors = sum(1 for p in b.problems if p.severity == "error")
    print(f"preview of {args.file} ({b.locale}, {b.pages} pages, ready in {b.seconds:.1f} s; {errors} check errors)")
    print(f"  {server.url}")
    print("edit and save the .po file to rebuild; Ctrl-C to stop", file=sys.stderr)
    if args.open:
        import webbrowser

        webbrowser.open(server.url)
    try:
        import time

        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    from localize.report import write_report

    path = write_report(args.out, locales_dir=args.locales_dir, config_path=args.config)
    print(f"dashboard -> {path}")
    return EXIT_OK


FLOWS = {
    "extract-course": "flows.extract_course:extract_course",
    "route-course": "flows.route_course:route_course",
    "ingest-returns": "flows.ingest_returns:ingest_returns",
    "publish-course": "flows.publish_course:publish_course",
    "localize-course": "flows.localize_course:localize_course",
    "sync-all": "flows.sync_all:sync_all",
}


def _parse_params(pairs: list[str]) -> dict[str, object]:
    import json

    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--param {pair!r}: write KEY=VALUE")
        try:
            params[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            params[key.replace("-", "_")] = value
    return params


def cmd_run(args: argparse.Namespace) -> int:
    import importlib
    import json
    import os
    import time

    params = _parse_params(args.param)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    module_name, _, attr = FLOWS[args.flow].partition(":")
    flow = getattr(importlib.import_module(module_name), attr)
    started = time.monotonic()
    print(f"running {args.flow} with {json.dumps(params)}", file=sys.stderr)
    try:
        state = flow(**params, return_state=True)
    except TypeError as e:
        raise ConfigError(f"{args.flow}: {e}") from None
    elapsed = time.monotonic() - started
    if not state.is_completed():
        print(f"error: {args.flow} {state.name.lower()} after {elapsed:.1f} s: {state.message}", file=sys.stderr)
        return EXIT_FAILED
    result = state.result()
    print(json.dumps(result, indent=2, ensure_ascii=False, default=str))
    print(f"{args.flow} completed in {elapsed:.1f} s", file=sys.stderr)
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    import json

    from localize.config import load_config
    from localize.status import course_status

    rows = course_status(load_config(args.config), course=args.course)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print("no catalogs or assignments yet")
        return EXIT_OK
    print(f"{'course':<22} {'locale':<7} {'done':>6}  {'partner':<10} {'state':<19} {'due':<11} published")
    for r in rows:
        done = "-" if r["translated_percent"] is None else f"{r['translated_percent']:.0f}%"
        due = (r["due"] or "-") + ("!" if r["overdue"] else "")
        published = ", ".join(f"{k}={v}" for k, v in r["published"].items()) or "-"
        print(
            f"{r['course']:<22} {r['locale']:<7} {done:>6}  {r['partner'] or '-':<10} {r['state']:<19} {due:<11} {published}"
        )
    if any(r["overdue"] for r in rows):
        print("! overdue")
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
