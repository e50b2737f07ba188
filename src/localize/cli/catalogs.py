"""CLI: catalogs."""

from __future__ import annotations

import argparse
import json
import sys

from localize.app.catalogs import (
    init_locale,
    merge_files,
    pseudo_locale,
    rebuild_indexes,
    update_course,
)
from localize.catalogs.stats import format_share
from localize.catalogs.workspace import Workspace, workspace_stats
from localize.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    HelpFormatter,
    add_common,
    add_jobs,
    add_similarity,
    add_workspace,
    existing_workspace,
    locale_arg,
    print_failures,
    progress,
    workspace_location,
)
from localize.errors import CatalogNotFoundError, printable, without_credentials
from localize.locales import PSEUDO_LOCALE
from localize.storage.courses import open_source
from localize.storage.sources import is_page


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "init",
        help="create a catalog for a new locale from the template",
        description="Create DIR/LL/LC_MESSAGES/COURSE.po from DIR/templates/COURSE.pot with the\n"
        "headers gettext tools expect (Language, Plural-Forms from CLDR, UTF-8), then fill\n"
        "it from the translation memory: every other catalog of LL in the workspace and\n"
        "any imported memory. Exact matches come in translated, near matches as fuzzy.",
        formatter_class=HelpFormatter,
    )
    add_common(p, source=False)
    p.add_argument(
        "--locale",
        required=True,
        type=locale_arg,
        metavar="LL",
        help="locale code, e.g. es, pt_BR (or pt-BR), ar, sr@latin",
    )
    add_similarity(p)
    p.set_defaults(func=cmd_init)
    p = sub.add_parser(
        "update",
        help="re-extract a course and merge the new template into its catalogs",
        description="Re-extract SOURCE into DIR/templates/COURSE.pot and merge it into every\n"
        "DIR/*/LC_MESSAGES/COURSE.po: unchanged units keep their translations; changed ones\n"
        "keep the old translation as fuzzy with the previous msgid (#|); vanished ones become\n"
        "obsolete (#~) and come back if the text returns. Untranslated entries are then\n"
        "filled from the translation memory. Running it twice changes nothing.",
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
    add_similarity(p)
    add_jobs(p)
    p.set_defaults(func=cmd_update)
    p = sub.add_parser(
        "merge",
        help="merge a .po file with a newer template (like msgmerge)",
        description="Merge DEF.po with REF.pot by the rules of `localize update` and, like msgmerge,\n"
        "write the result to standard output, to --output FILE, or back into DEF.po with\n"
        "--update. The summary goes to standard error.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("po", metavar="DEF.po", help="the translated catalog")
    p.add_argument("pot", metavar="REF.pot", help="the new template")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--output", "-o", metavar="FILE", help="write the result to FILE (default: standard output)")
    where.add_argument("--update", "-U", action="store_true", help="write the result back into DEF.po")
    add_similarity(p)
    p.set_defaults(func=cmd_merge)
    p = sub.add_parser(
        "stats",
        help="translation progress per course and locale",
        description="Entries, source words, translated / fuzzy / untranslated counts and percentages\n"
        "for every catalog in the workspace (or one course or locale).",
        formatter_class=HelpFormatter,
    )
    add_workspace(p)
    p.add_argument("--course", metavar="ID", help="only this course")
    p.add_argument("--locale", type=locale_arg, metavar="LL", help="only this locale")
    p.add_argument(
        "--pseudo", action="store_true", help=f"include the pseudo-locale {PSEUDO_LOCALE} (hidden otherwise)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_stats)
    p = sub.add_parser(
        "index",
        help="rebuild the derived state (statistics, memory, assignment and kit indexes) from the files of record",
        description="The workspace keeps derived state beside the catalogs (DIR/index/): statistics per\n"
        "catalog, each locale's translation-memory index, the latest assignments and the kit index.\n"
        "Each heals itself when a file changes behind it; `index rebuild` makes it all anew from the\n"
        "files. Run it once on a workspace made before the kit index was complete (a return naming\n"
        "an unknown kit is then answered without listing every assignment).",
        formatter_class=HelpFormatter,
    )
    actions = p.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    q = actions.add_parser(
        "rebuild",
        help="make the derived state anew from the catalogs, kits and ledgers",
        description="Read every catalog (of LL, with --locale) and write its statistics and its locale's\n"
        "translation-memory index anew; the assignments index is dropped and rebuilt when next read;\n"
        "every assignment file is added to the kit index (without --locale).",
        formatter_class=HelpFormatter,
    )
    add_workspace(q)
    q.add_argument("--locale", type=locale_arg, metavar="LL", help="only this locale")
    q.set_defaults(func=cmd_index_rebuild)
    p = sub.add_parser(
        "pseudo",
        help="write a pseudo-localized (qps-ploc) catalog from the template",
        description="Write DIR/qps-ploc/LC_MESSAGES/COURSE.po: every ASCII letter replaced by an\n"
        "accented look-alike, about 30 % longer and bracketed, placeholders kept. Build\n"
        "it with --locale qps-ploc to see untranslated or truncated text at a glance.",
        formatter_class=HelpFormatter,
    )
    add_common(p, source=False)
    p.set_defaults(func=cmd_pseudo)


def cmd_init(args: argparse.Namespace) -> int:
    result = init_locale(Workspace(workspace_location(args)), args.course, args.locale, similarity=args.similarity)
    print(
        f"{result.entries} entries -> {result.path} (from memory: {result.memory.exact} translated, "
        f"{result.memory.near} fuzzy)"
    )
    if result.warning and not args.quiet:
        print(f"warning: {result.warning}", file=sys.stderr)
    return EXIT_OK


def cmd_update(args: argparse.Namespace) -> int:
    source = open_source(args.source)
    workspace = Workspace(workspace_location(args))
    total = sum(1 for p in source.paths() if is_page(p))
    with progress("extracting", total, args.quiet, sys.stderr) as tick:
        result = update_course(
            workspace,
            source,
            args.course,
            source_locale=args.source_locale,
            similarity=args.similarity,
            jobs=args.jobs,
            progress=tick,
        )
    print_failures(result.extract.failures, sys.stderr)
    template_state = "written" if result.template_written else "unchanged"
    print(
        f"{result.extract.pages} pages, {len(result.extract.catalog.entries)} entries -> {result.template_path} "
        f"({template_state})"
    )
    for c in result.catalogs:
        if c.error is not None:
            print(f"error: {c.error}", file=sys.stderr)
            continue
        assert c.memory is not None
        m = c.merge
        merged = (
            f"{m.kept} kept, {m.fuzzy} fuzzy, {m.revived} revived, {m.new} new, {m.obsoleted} obsolete"
            + (f", {m.dropped} dropped (untranslated, gone from the pages)" if m.dropped else "")
            if m is not None
            else "new catalog"
        )
        print(
            f"{c.locale}: {merged}; "
            f"from memory {c.memory.exact} translated, {c.memory.near} fuzzy -> {c.path} "
            f"({'written' if c.written else 'unchanged'})"
        )
        before = m.kept + m.fuzzy + m.revived + m.obsoleted if m is not None else 0
        if m is not None and m.obsoleted >= 20 and m.obsoleted * 2 > before and not args.quiet:
            print(
                f"warning: {c.locale}: {m.obsoleted} of {before} entries became obsolete: if {without_credentials(args.source)} is not "
                f"the pages of {args.course}, run update again with its own pages (obsolete entries come back)",
                file=sys.stderr,
            )
    if not result.catalogs:
        print(f"no catalogs yet; start one with: localize init --course {args.course} --locale LL")
    failures = result.failures
    if failures:
        print(f"{len(failures)} problem{'s' if len(failures) != 1 else ''} (listed above)", file=sys.stderr)
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_merge(args: argparse.Namespace) -> int:
    output = args.po if args.update else args.output
    m, text = merge_files(args.po, args.pot, output, similarity=args.similarity)
    if output is None:
        sys.stdout.write(text)
    if not args.quiet:
        print(
            f"{m.kept} kept, {m.fuzzy} fuzzy, {m.revived} revived, {m.new} new, {m.obsoleted} obsolete"
            + (f", {m.dropped} dropped (untranslated, gone from the template)" if m.dropped else "")
            + f" -> {output or 'standard output'}",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    location = existing_workspace(args)
    stats = [
        s
        for s in workspace_stats(Workspace(location), course=args.course, locale=args.locale)
        if s.locale != PSEUDO_LOCALE or args.pseudo or args.locale == PSEUDO_LOCALE
    ]
    if args.json:
        print(json.dumps([s.as_dict() for s in stats], indent=2))
        return EXIT_PARTIAL if any(s.error for s in stats) else EXIT_OK
    if not stats:
        workspace = Workspace(location)
        if args.course and not workspace.storage.exists(workspace.template_key(args.course)):
            raise CatalogNotFoundError(
                f"no course {args.course} here (no template); `localize stats` lists the courses", path=location
            )
        scope = " ".join(x for x in (args.course and f"of {args.course}", args.locale and f"in {args.locale}") if x)
        print(f"no catalogs {scope + ' ' if scope else ''}in {location}")
        return EXIT_OK
    width = max(6, *(len(s.course) for s in stats))
    print(
        f"{'course':<{width}}  {'locale':<8} {'entries':>7} {'words':>7}  {'translated entries':>18}  "
        f"{'translated words':>18}  {'fuzzy':>5}  {'untranslated':>12}  {'reviewed':>8}"
    )
    for s in stats:
        if s.error:
            print(printable(f"{s.course:<{width}}  {s.locale:<8} damaged: {s.error}"))
            continue
        print(
            f"{s.course:<{width}}  {s.locale:<8} {s.entries:>7} {s.words:>7}  "
            f"{s.translated:>7} {f'({format_share(s.translated_percent)})':>10}  "
            f"{s.translated_words:>7} {f'({format_share(s.translated_words_percent)})':>10}  "
            f"{s.fuzzy:>5}  {s.untranslated:>12}  {s.reviewed:>8}"
        )
    return EXIT_PARTIAL if any(s.error for s in stats) else EXIT_OK


def cmd_index_rebuild(args: argparse.Namespace) -> int:
    done = rebuild_indexes(Workspace(workspace_location(args)), locale=args.locale)
    print(f"statistics of {done.catalogs} catalogs indexed")
    for ll, n in done.memories.items():
        print(f"{ll}: translation memory indexed from {n} file{'s' if n != 1 else ''}")
    if done.assignments is not None:
        print(f"kit index: {done.assignments} assignment files")
    return EXIT_OK


def cmd_pseudo(args: argparse.Namespace) -> int:
    entries, path, written = pseudo_locale(Workspace(workspace_location(args)), args.course)
    print(f"{entries} entries -> {path} ({'written' if written else 'unchanged'})")
    return EXIT_OK
