"""CLI: partners."""

from __future__ import annotations

import argparse
import sys

from localize.app.partners import check_po_file, write_access_files
from localize.catalogs.workspace import Workspace
from localize.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    HelpFormatter,
    add_config,
    add_workspace,
    config_of,
    config_with_workspace,
    locale_arg,
    workspace_location,
)
from localize.errors import printable
from localize.partners.checks import ERROR, INFO
from localize.partners.ingest import ingest, skipped_returns
from localize.partners.routing import route


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "route",
        help="send a translation kit to the partner serving a locale",
        description="Bring DIR/LL/LC_MESSAGES/COURSE.po up to date, record the assignment, write a kit\n"
        "(the .po, a README for translators, kit.json) into the partner's inbox and POST a\n"
        "signed notice to the partner's webhook. An unchanged catalog is not sent twice; a\n"
        "route stopped midway (status: 'sent (incomplete)') is finished by routing again.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--course", required=True, metavar="ID", help="the course whose catalog is sent")
    p.add_argument("--locale", required=True, type=locale_arg, metavar="LL", help="the locale to translate into")
    p.add_argument("--partner", metavar="P", help="partner id (default: the one partner serving LL for the course)")
    p.add_argument(
        "--format",
        choices=("po", "xliff"),
        help="the kit's file: po (gettext) or xliff (XLIFF 1.2 for CAT tools); default: the partner's format",
    )
    p.add_argument(
        "--review",
        action="store_true",
        help="send a review kit (the translations not yet signed off) to a partner with reviewer = true",
    )
    p.add_argument(
        "--source",
        metavar="SOURCE",
        help="the course's pages (folder, .zip, s3:// or https://): the kit then carries them and an offline preview.html",
    )
    add_workspace(p)
    add_config(p)
    p.set_defaults(func=cmd_route)
    p = sub.add_parser(
        "check",
        help="check a translated .po or .xlf file",
        description="Check a .po or XLIFF (.xlf) kit file as the QA gate will: syntax, the charset,\n"
        "the Language and Plural-Forms headers, inline codes, placeholders, markup, variables,\n"
        "URLs and e-mails, control characters and bidi controls, newlines, numbers, whitespace,\n"
        "length, and the glossary's terms (the kit's glossary.tbx beside FILE, else the workspace's\n"
        "with --course). Prints\n"
        "FILE:LINE: severity: check: message and exits 1 if there is an error.\n"
        "With --course (and --locales-dir) it also finds msgids edited by hand.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="the translated file (.po, or .xlf of an XLIFF kit)")
    p.add_argument(
        "--locale",
        type=locale_arg,
        metavar="LL",
        help="the kit's locale (default: the file's X-Localize-Locale or Language header)",
    )
    p.add_argument("--course", metavar="ID", help="compare with this course's template (needs the workspace)")
    add_workspace(p)
    p.add_argument("--quiet", "-q", action="store_true", help="errors only, no warnings or summary")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser(
        "ingest",
        help="take returned .po/.xlf files through the QA gate into the catalogs",
        description="Archive each returned file byte for byte, check it, merge every entry that passes\n"
        "into the catalog of record (three-way against the kit the partner received), write\n"
        "a QA report (JSON and HTML) into the partner's inbox and update the assignment.\n"
        "PATH is a returned .po or .xlf file or an inbox (default: the partner's inbox, returns/).",
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "path", nargs="?", metavar="PATH", help="a returned .po/.xlf file or an inbox (default: the partner's)"
    )
    p.add_argument("--partner", required=True, metavar="P", help="the partner who returned the files")
    add_workspace(p)
    add_config(p)
    p.set_defaults(func=cmd_ingest)
    p = sub.add_parser(
        "access",
        help="write per-partner S3 access policies",
        description="For every partner with an s3:// inbox, write DIR/iam/PARTNER.json (an AWS IAM policy\n"
        "allowing only its inbox prefix) and DIR/seaweedfs-identities.json (the same for\n"
        "SeaweedFS, with freshly generated keys; the file is readable by its owner only).",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the policies into")
    add_config(p)
    p.set_defaults(func=cmd_access)


def cmd_route(args: argparse.Namespace) -> int:
    result = route(
        config_with_workspace(args),
        args.course,
        args.locale,
        partner_id=args.partner,
        fmt=args.format,
        review=args.review,
        source=args.source,
    )
    a = result.assignment
    if not result.sent:
        print(
            f"unchanged since kit {a.kit} was sent to {a.partner} on {a.sent_at[:10]}; nothing sent ({result.kit_location})"
        )
        return EXIT_OK
    print(
        f"kit {a.kit} -> {a.partner}: {result.kit_location} (due {a.due}; "
        + (
            f"{a.entries} translations to review"
            if a.kind == "review"
            else f"{a.entries} entries, {a.words_to_translate} words to translate"
        )
        + f"; webhook: {result.webhook})"
        + (
            f"; the same kit as the route of {a.sent_at[:10]} that stopped midway, now sent whole"
            if result.resumed
            else ""
        )
    )
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    problems = check_po_file(
        args.file, locale=args.locale, workspace=Workspace(workspace_location(args)), course=args.course
    )
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
    config = config_with_workspace(args)
    reports = ingest(config, args.partner, args.path)
    skipped = [] if args.quiet and reports else skipped_returns(config, args.partner, args.path)  # (a listing)
    if not reports:
        left = f" ({len(skipped)} other file{'s' if len(skipped) != 1 else ''} left where {'they are' if len(skipped) != 1 else 'it is'})"
        print("no returned files waiting" + (left if skipped else ""))
    for key in () if args.quiet else skipped:
        print(
            printable(
                f"  skipped: {key}: not a .po, .xlf or .xliff file"
                + (" (a .zip: unpack it into returns/)" if key.lower().endswith(".zip") else "")
            ),
            file=sys.stderr,
        )
    for r in reports:
        print(r.summary())
        if r.owner_note:
            print(f"  note: {printable(r.owner_note)}", file=sys.stderr)
        for p in r.problems:
            if p.severity == "error":
                print(f"  {p}", file=sys.stderr)
        aside = [] if args.quiet else r.set_aside()  # not lost (the return is archived), not in the catalog as sent
        for o in aside:
            context = f"[{o['msgctxt']}] " if o.get("msgctxt") is not None else ""
            print(
                printable(f"  {o['status']}: line {o['line']}: {context}{o['msgid'][:80]!r}: {o['reason']}"),
                file=sys.stderr,
            )
        if r.conflicts and not r.already and not args.quiet:
            print(
                f"  {r.conflicts} conflicting {'entry keeps' if r.conflicts == 1 else 'entries keep'} the translation "
                "accepted earlier (on the pages too); the partner's is in a comment beside it: to take it, put it "
                "in the msgstr of the catalog",
                file=sys.stderr,
            )
        if r.report and not r.already:
            print(f"  report: {r.report}")
    bad = [r for r in reports if r.state in ("rejected", "partially accepted")]
    return EXIT_PARTIAL if bad else EXIT_OK


def cmd_access(args: argparse.Namespace) -> int:
    for f in write_access_files(config_of(args), args.out):
        if f.partner is None:
            print(f"SeaweedFS identities (with new keys, owner-only file) -> {f.path}")
        elif f.path is None:
            print(f"{f.partner}: folder inbox, no policy needed")
        else:
            print(f"{f.partner}: {f.location} -> {f.path}")
    return EXIT_OK
