"""CLI: a locale's translations across courses: the translation memory (``tm``) and ``consistency``."""

from __future__ import annotations

import argparse
import json
import sys

from localize.app.catalogs import consistency
from localize.app.memory import MEMORY_FORMATS, edit_memory, export_memory, import_memory, list_memory
from localize.catalogs.consistency import WARNING
from localize.catalogs.memory import MemoryUnit, describe_origin
from localize.catalogs.workspace import Workspace
from localize.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    HelpFormatter,
    add_workspace,
    existing_workspace,
    locale_arg,
    optional_config,
    workspace_location,
)
from localize.errors import printable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "tm",
        help="export, import, list or edit a translation memory",
        description="Translation memory exchange. `tm export` writes every translated entry of a locale\n"
        "(all courses and imported memories) as a compendium .po, a TMX 1.4 or an XLIFF 1.2 file;\n"
        "`tm import` adds a partner's .po, .tmx or .xlf to the workspace memory (DIR/memory/LL.po),\n"
        "which `init` and `update` use to fill untranslated entries. `tm list` shows every unit with where it\n"
        "came from; `tm delete` and `tm obsolete` edit the memory (DIR/memory/LL.rules.json).",
        formatter_class=HelpFormatter,
    )
    tm = p.add_subparsers(dest="tm_command", metavar="ACTION", required=True)
    q = tm.add_parser(
        "export",
        help="write the memory of a locale to a .po, .tmx or .xlf file",
        description="Write every translated entry of LL (all courses and imported memories) to FILE:\n"
        "a compendium .po, a TMX 1.4 or an XLIFF 1.2 file, chosen by the extension (.po, .tmx, .xlf).\n"
        'Each unit carries its provenance (course, partner, kit, date, reviewed): TMX <prop type="x-...">\n'
        "and changedate, PO translator comments; `tm import` of such a file keeps it as the file's claims.",
        formatter_class=HelpFormatter,
    )
    q.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the memory of this locale")
    q.add_argument("--out", required=True, metavar="FILE", help=f"the file to write: {' or '.join(MEMORY_FORMATS)}")
    add_workspace(q)
    q.add_argument(
        "--source-locale",
        default="en",
        type=locale_arg,
        metavar="LL",
        help="source language for TMX (default: %(default)s)",
    )
    q.add_argument(
        "--obsolete",
        action="store_true",
        help="also write the units marked obsolete, marked so (for another localize workspace: other tools "
        "would offer them)",
    )
    q.set_defaults(func=cmd_tm_export)
    q = tm.add_parser(
        "import",
        help="add a .po compendium, .tmx or .xlf file to the memory of a locale",
        description="Add the translated units of FILE (a .po compendium, a TMX or an XLIFF file) to the workspace\n"
        "memory of LL (DIR/memory/LL.po), which `init` and `update` use to fill entries.\n"
        "The provenance FILE gives (course, partner, kit, date, reviewed) is kept as its claim and\n"
        "listed as such (`imported: c1 (from FILE on DAY)`), with FILE's name and the import time;\n"
        "a date after the import is the import time. Imported units never outrank the workspace's\n"
        "own catalogs and rank by their import time; a unit FILE says was reviewed counts as\n"
        "reviewed only with --trust-reviewed. Units the QA gate of a return would refuse (under\n"
        "the [qa] settings of --config, else of ./localize.toml when --locales-dir is not given)\n"
        "are listed and not imported.",
        formatter_class=HelpFormatter,
    )
    q.add_argument("file", metavar="FILE", help="a .po, .tmx or .xlf file")
    q.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the memory to add to")
    q.add_argument(
        "--trust-reviewed",
        action="store_true",
        help="count the units FILE says were reviewed as reviewed (ranked first among imported units and "
        "over unreviewed ones); only for a file you know, e.g. another localize workspace's export",
    )
    add_workspace(q)
    q.set_defaults(func=cmd_tm_import)
    q = tm.add_parser(
        "list",
        help="list the units of a locale's memory with their provenance",
        description="List every unit of the memory of LL: source (and context), translation, the course or\n"
        "imported file it comes from, the partner, kit and date that produced it when known,\n"
        "and whether it was reviewed or marked obsolete. An imported unit shows what its file\n"
        "claims, marked `imported: ... (from FILE on DAY)`, and `claims reviewed` unless it was\n"
        "imported with --trust-reviewed. Deleted units are not shown.",
        formatter_class=HelpFormatter,
    )
    q.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the memory of this locale")
    q.add_argument("--search", metavar="TEXT", help="only units whose source or translation contains TEXT (any case)")
    q.add_argument("--json", action="store_true", help="print JSON instead of lines")
    add_workspace(q)
    q.set_defaults(func=cmd_tm_list)
    for action, summary, detail in (
        (
            "delete",
            "remove units from a locale's memory",
            "The matching units are never offered, listed or exported again.",
        ),
        (
            "obsolete",
            "mark units of a locale's memory obsolete",
            "The matching units stay listed (marked obsolete) but are never offered again.",
        ),
    ):
        q = tm.add_parser(
            action,
            help=summary,
            description=f"{summary[0].upper()}{summary[1:]}: the source --msgid (in context --msgctxt), only its\n"
            f"translation --msgstr when given. {detail}\nThe catalogs of record are not changed: the edit is "
            "kept in DIR/memory/LL.rules.json\nand applied whenever the memory is used.",
            formatter_class=HelpFormatter,
        )
        q.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the memory to edit")
        q.add_argument("--msgid", required=True, metavar="TEXT", help="the source text, exactly")
        q.add_argument("--msgctxt", metavar="CONTEXT", help="its context (default: none)")
        q.add_argument("--msgstr", metavar="TEXT", help="only this translation of it (default: every translation)")
        add_workspace(q)
        q.set_defaults(func=cmd_tm_edit, tm_action=action)
    p = sub.add_parser(
        "consistency",
        help="find a locale's translations that disagree across courses",
        description="Compare every catalog of LL. Warnings: the same source (msgid and msgctxt) translated\n"
        "differently in different courses. Information: different sources translated identically,\n"
        "where the sources differ in more than case, punctuation, placeholders and stop words.\n"
        "Each finding names the courses, the entries and, when known, the partners who translated\n"
        "them. Findings are advice: the exit code is 0 whatever is found.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the locale to check")
    p.add_argument("--course", action="append", metavar="ID", help="only these courses (repeat for more)")
    p.add_argument("--warnings", action="store_true", help="only warnings (leave out information)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_workspace(p)
    p.set_defaults(func=cmd_consistency)


def cmd_tm_export(args: argparse.Namespace) -> int:
    n = export_memory(
        Workspace(existing_workspace(args)),
        args.locale,
        args.out,
        source_locale=args.source_locale,
        obsolete=args.obsolete,
    )
    print(f"{n} translation units -> {args.out}")
    return EXIT_OK


def cmd_tm_import(args: argparse.Namespace) -> int:
    # the project's [qa]: of --config, else of ./localize.toml when no --locales-dir says where to go
    config = optional_config(args) if args.config or not args.locales_dir else None
    location = args.locales_dir or (config.workspace_location if config is not None else "locales")
    qa = config.qa if config is not None else None
    r = import_memory(Workspace(location), args.file, args.locale, trust_reviewed=args.trust_reviewed, qa=qa)
    print(printable(f"{r.imported} translation units imported -> {r.path} ({r.total} in all)"))
    if r.claims_reviewed and not args.quiet:
        counted = "counted as reviewed (--trust-reviewed)" if r.trusted else "not counted (see --trust-reviewed)"
        print(f"{r.claims_reviewed} of them claim to be reviewed: {counted}", file=sys.stderr)
    if r.refused:
        for problem in r.refused:
            source = problem.key[1] if problem.key else ""
            shown = source if len(source) <= 60 else source[:57] + "..."
            print(printable(f"{problem.path}: {shown!r}: {problem.check}: {problem.message}"), file=sys.stderr)
        n = len(r.refused)
        print(
            f"{n} unit{'s' if n != 1 else ''} not imported, as the QA gate would refuse them in a return "
            "(listed above); the others were imported",
            file=sys.stderr,
        )
        return EXIT_PARTIAL
    return EXIT_OK


def cmd_tm_list(args: argparse.Namespace) -> int:
    units = list_memory(Workspace(existing_workspace(args)), args.locale, search=args.search)
    if args.json:
        print(json.dumps([_unit_dict(u) for u in units], indent=2, ensure_ascii=False))
        return EXIT_OK
    for u in units:
        review = "reviewed" if u.reviewed else "claims reviewed" if u.claims_reviewed else ""
        made = ", ".join(x for x in (u.partner, u.kit, u.at[:10], review) if x)
        state = " [obsolete]" if u.obsolete else ""
        context = f"[{u.msgctxt}] ".replace("\n", "\\n") if u.msgctxt is not None else ""  # one line a unit
        line = f"{describe_origin(u)}{f' ({made})' if made else ''}{state}: {context}{u.msgid!r} -> {u.msgstr!r}"
        print(printable(line))
    if not args.quiet:
        print(f"{len(units)} units", file=sys.stderr)
    return EXIT_OK


def _unit_dict(u: MemoryUnit) -> dict[str, object]:
    return {
        "msgctxt": u.msgctxt,
        "msgid": u.msgid,
        "msgstr": u.msgstr,
        "course": u.origin,
        "partner": u.partner or None,
        "kit": u.kit or None,
        "at": u.at or None,
        "reviewed": u.reviewed,
        "obsolete": u.obsolete,
        # an imported unit: the fields above are its file's claims (reviewed: only if trusted)
        "imported_from": u.imported_from or None,
        "imported_at": u.imported_at or None,
        "claims_reviewed": u.claims_reviewed,
    }


def cmd_tm_edit(args: argparse.Namespace) -> int:
    n = edit_memory(
        Workspace(workspace_location(args)),
        args.locale,
        args.tm_action,
        args.msgid,
        msgctxt=args.msgctxt,
        msgstr=args.msgstr,
    )
    done = "deleted" if args.tm_action == "delete" else "marked obsolete"
    print(f"{n} unit{'s' if n != 1 else ''} {done} in the {args.locale} memory")
    return EXIT_OK


def cmd_consistency(args: argparse.Namespace) -> int:
    findings = consistency(Workspace(existing_workspace(args)), args.locale, courses=args.course)
    if args.warnings:
        findings = [f for f in findings if f.severity == WARNING]
    if args.json:
        print(json.dumps([f.as_dict() for f in findings], indent=2, ensure_ascii=False))
        return EXIT_OK
    for f in findings:
        print(printable(f"{f.severity}: {f.message()}"))
        for u in f.uses:
            context = f"[{u.msgctxt}] ".replace("\n", "\\n") if u.msgctxt is not None else ""  # one line a unit
            who = f" (partner {u.partner}{f', kit {u.kit}' if u.kit else ''})" if u.partner else ""
            print(printable(f"  {u.course}{who}: {context}{u.msgid!r} -> {u.msgstr!r}"))
    warnings = sum(1 for f in findings if f.severity == WARNING)
    if not args.quiet:
        print(f"{warnings} warnings, {len(findings) - warnings} information", file=sys.stderr)
    return EXIT_OK
