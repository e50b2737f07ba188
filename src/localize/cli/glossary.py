"""``localize glossary``: import and export a locale's terms (TBX or CSV); suggest a course's."""

from __future__ import annotations

import argparse
import sys

from localize.app.glossary import GLOSSARY_FORMATS, export_glossary, import_glossary, suggest_glossary
from localize.catalogs.workspace import Workspace
from localize.cli.common import EXIT_OK, HelpFormatter, add_workspace, locale_arg, workspace_location

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "glossary",
        help="import, export or suggest a glossary's terms (TBX or CSV)",
        description="The terms of a locale and their approved, forbidden or do-not-translate translations,\n"
        "kept as TBX in the workspace (DIR/glossary/LL.tbx; one course's own terms in\n"
        "DIR/glossary/COURSE/LL.tbx). Kits carry the terms of each entry and glossary.tbx;\n"
        "the QA gate's terminology check warns when a return does not follow them.",
        formatter_class=HelpFormatter,
    )
    g = p.add_subparsers(dest="glossary_command", metavar="ACTION", required=True)
    q = g.add_parser(
        "import",
        help="add the terms of a .tbx or .csv file to a locale's glossary",
        description="Add the terms of FILE (TBX, or CSV with the columns term, translation, status, note\n"
        "and optionally part_of_speech; status: approved, forbidden or do-not-translate) to the\n"
        "glossary of LL, or of one course with --course. A term in FILE replaces every row the\n"
        "glossary had for that term.",
        formatter_class=HelpFormatter,
    )
    q.add_argument("file", metavar="FILE", help="a .tbx or .csv file")
    q.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the glossary to add to")
    q.add_argument("--course", metavar="ID", help="the course's own glossary (default: every course of LL)")
    add_workspace(q)
    q.set_defaults(func=cmd_import)
    q = g.add_parser(
        "export",
        help="write a locale's glossary to a .tbx or .csv file",
        description="Write the glossary of LL (with --course, the course's own terms over it) to FILE:\n"
        "TBX-Basic or CSV, chosen by the extension (.tbx or .csv).",
        formatter_class=HelpFormatter,
    )
    q.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the glossary of this locale")
    q.add_argument("--out", required=True, metavar="FILE", help=f"the file to write: {' or '.join(GLOSSARY_FORMATS)}")
    q.add_argument("--course", metavar="ID", help="with this course's own terms")
    add_workspace(q)
    q.set_defaults(func=cmd_export)
    q = g.add_parser(
        "suggest",
        help="propose candidate terms from a course's own text",
        description="Rank the frequent noun phrases and capitalised multi-word names of the course's\n"
        "entries (its template; English sources): one to four words between stop words and\n"
        "punctuation, found in at least --min-entries entries, longer and more frequent first,\n"
        "a word that mostly occurs inside a longer candidate below it. With --locale, terms the\n"
        "glossary of LL (and the course's own) already has are left out. --out writes them as a\n"
        "CSV to fill in (the translation column) and give to `localize glossary import`.",
        formatter_class=HelpFormatter,
    )
    q.add_argument("--course", required=True, metavar="ID", help="the course whose entries to read")
    q.add_argument("--locale", type=locale_arg, metavar="LL", help="leave out the terms LL's glossary already has")
    q.add_argument("--limit", type=int, default=50, metavar="N", help="at most N terms (default: %(default)s)")
    q.add_argument(
        "--min-entries", type=int, default=2, metavar="N", help="only terms in N entries or more (default: %(default)s)"
    )
    q.add_argument("--out", metavar="FILE.csv", help="also write the terms as a glossary CSV to fill in and import")
    add_workspace(q)
    q.set_defaults(func=cmd_suggest)


def cmd_import(args: argparse.Namespace) -> int:
    r = import_glossary(Workspace(workspace_location(args)), args.file, args.locale, course=args.course)
    replaced = (
        f"; replaced the rows of {r.replaced} terms it had, {r.changed} with another translation" if r.replaced else ""
    )
    print(f"{r.imported} terms imported -> {r.path} ({r.total} in all{replaced})")
    if r.warning and not args.quiet:
        print(f"warning: {r.warning}", file=sys.stderr)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    n = export_glossary(Workspace(workspace_location(args)), args.locale, args.out, course=args.course)
    print(f"{n} terms -> {args.out}")
    return EXIT_OK


def cmd_suggest(args: argparse.Namespace) -> int:
    found = suggest_glossary(
        Workspace(workspace_location(args)),
        args.course,
        locale=args.locale,
        limit=args.limit,
        min_entries=args.min_entries,
        out=args.out,
    )
    if found:  # the marker is explained only where a row carries it
        names = any(s.name for s in found)
        print(f"{'score':>8}  {'entries':>7}  term" + (" ((name): a capitalised name)" if names else ""))
    for s in found:
        print(f"{s.score:8.2f}  {s.entries:7d}  {s.term}{'  (name)' if s.name else ''}")
    if args.out:
        print(f"{len(found)} terms -> {args.out}")
    return EXIT_OK
