"""CLI: views."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import time
from pathlib import Path

from localize.app.views import preview_to_folder
from localize.catalogs.stats import format_share
from localize.cli.common import (
    EXIT_OK,
    EXIT_PARTIAL,
    SOURCE_HELP,
    HelpFormatter,
    add_config,
    add_workspace,
    existing_workspace,
    locale_arg,
    workspace_location,
)
from localize.config import DEFAULT_CONFIG, Config, load_config
from localize.errors import ConfigError, printable
from localize.locales import PSEUDO_LOCALE
from localize.storage.courses import open_source
from localize.storage.sources import PAGE_TOO_LARGE
from localize.views.dashboard import write_report
from localize.views.preview import PreviewServer
from localize.views.status import course_status


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "preview",
        help="see a .po or .xlf file on the course's own pages",
        description="Build the course SOURCE with FILE (.po, or .xlf of an XLIFF kit) and serve it on 127.0.0.1: every translated\n"
        "sentence shows its source text and PO line on hover, untranslated ones are highlighted,\n"
        "and a banner lists what `localize check` says. Edit and save the file: the preview\n"
        "rebuilds; reload the page. Ctrl-C stops it. --out DIR builds once without serving.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("file", metavar="FILE", help="the translated file (the .po or .xlf of your kit)")
    p.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument("--course", required=True, metavar="ID", help="the course id (as in the kit's README)")
    p.add_argument("--port", type=int, default=0, metavar="N", help="port on 127.0.0.1 (default: any free port)")
    p.add_argument("--open", action="store_true", help="open it in the web browser")
    p.add_argument(
        "--out", metavar="DIR", help="build into DIR and exit instead of serving (never the source or inside it)"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write --out even if it is the source itself (replacing it) or holds other files; never a folder that holds the source or lies inside it",
    )
    p.set_defaults(func=cmd_preview)
    p = sub.add_parser(
        "report",
        help="write a progress dashboard (one self-contained HTML file)",
        description="One HTML page with no external assets: per partner and locale a progress bar per\n"
        "course, assignments with due dates (overdue marked), the last QA results, the version\n"
        "live in each region, the open kits' words by match band (and the estimate at the partners'\n"
        "rates), each locale's consistency across courses as `localize consistency` last found it,\n"
        "and words translated over time. Readable on a phone.",
        formatter_class=HelpFormatter,
    )
    add_workspace(p)
    p.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write")
    add_config(p)
    p.add_argument(
        "--pseudo", action="store_true", help=f"include the pseudo-locale {PSEUDO_LOCALE} (hidden otherwise)"
    )
    p.add_argument(
        "--consistency",
        action="store_true",
        help="check every locale's consistency across courses first (reads every catalog)",
    )
    p.set_defaults(func=cmd_report)
    p = sub.add_parser(
        "status",
        help="where every course x locale stands",
        description="For every course x locale: the share translated (of entries and of source words: a\n"
        "region's publish threshold counts words), the partner it is assigned to and the\n"
        "kit's state and due date (overdue ones marked), returns, and the version live in each region.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--course", metavar="ID", help="only this course")
    p.add_argument("--locale", type=locale_arg, metavar="LL", help="only this locale")
    p.add_argument(
        "--pseudo", action="store_true", help=f"include the pseudo-locale {PSEUDO_LOCALE} (hidden otherwise)"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    add_workspace(p)
    add_config(p)
    p.set_defaults(func=cmd_status)


_INTERRUPTS = {signal.SIGINT, signal.SIGTERM}  # what stops `localize preview`


def _open_browser(url: str, held: set[int | signal.Signals] | None) -> None:
    """Open ``url`` in the browser, which must not inherit the preview's held signals (a browser
    started from here would ignore Ctrl-C and kills): they are let through while it starts (one
    that comes then is a KeyboardInterrupt, as in the wait)."""
    import webbrowser

    if held is None:
        webbrowser.open(url)
        return
    signal.pthread_sigmask(signal.SIG_SETMASK, held)
    try:
        webbrowser.open(url)
    finally:
        signal.pthread_sigmask(signal.SIG_BLOCK, _INTERRUPTS)


def cmd_preview(args: argparse.Namespace) -> int:
    try:  # the kit names its course (PO header, or XLIFF's header note): a wrong --course is a mistake
        with open(args.file, "rb") as f:  # the header only (the build reads the file)
            named = re.search(rb"X-Localize-Course: ([A-Za-z0-9][A-Za-z0-9._-]*)", f.read(65536))
    except OSError:
        named = None  # the build says what is wrong with the file
    if named and named.group(1).decode() != args.course:
        raise ConfigError(
            f"this is a kit of {named.group(1).decode()} (X-Localize-Course), but --course says {args.course}",
            path=args.file,
        )
    if args.out:
        result = preview_to_folder(args.file, open_source(args.source), args.out, force=args.force)
        print(
            f"{result.pages} pages ({result.locale}) -> {args.out}: {result.translated} units translated, {result.untranslated} not"
        )
        if result.too_large and not args.quiet:  # (a warning: --quiet keeps errors and the summary)
            shown = ", ".join(printable(p) for p in result.too_large[:5]) + (
                ", ..." if len(result.too_large) > 5 else ""
            )
            many = len(result.too_large) > 1
            print(
                f"note: {len(result.too_large)} page{'s' if many else ''} {PAGE_TOO_LARGE}, copied as "
                f"{'they are' if many else 'it is'} (as build and publish copy them): {shown}",
                file=sys.stderr,
            )
        return EXIT_OK

    def rebuilt(build: object) -> None:
        print(f"{args.file} changed: checked again; reload the page to see it", file=sys.stderr)

    def stopped(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a `kill` stops it as Ctrl-C does: its temporary folder is removed

    signal.signal(signal.SIGTERM, stopped)  # before the folder exists: a kill at any moment removes it
    interrupts = _INTERRUPTS
    # Held from here on in this thread and in every thread started from it (the server's): the kernel
    # may hand a kill to any thread, and Python runs its handler only in this one, which would sleep on
    # through it. Taken here with sigwait, once: a second Ctrl-C or kill while stopping waits too.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, interrupts) if hasattr(signal, "sigwait") else None
    try:
        server = PreviewServer(args.file, args.source, port=args.port, on_rebuild=rebuilt)
        try:
            server.start()
            b = server.build
            errors = sum(1 for p in b.problems if p.severity == "error")
            print(
                f"preview of {args.file} ({b.locale}, {b.pages} pages, ready in {b.seconds:.1f} s; {errors} check error{'' if errors == 1 else 's'})"
            )
            print(f"  {server.url}")
            print("edit and save the .po file to rebuild; Ctrl-C to stop", file=sys.stderr)
            if args.open:
                _open_browser(server.url, held)
            if held is not None:
                signal.sigwait(interrupts)
            else:
                while True:
                    time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
    finally:
        if held is not None:
            while signal.sigtimedwait(interrupts, 0) is not None:  # a second kill while stopping: taken
                pass
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:

    config = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    path = write_report(
        args.out,
        locales_dir=existing_workspace(args),
        config_path=config,
        pseudo=args.pseudo,
        consistency=args.consistency,
    )
    print(f"dashboard -> {path}")
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    path = args.config or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).is_file() else None)
    config = load_config(path) if path else Config()
    where = existing_workspace(args) if args.locales_dir else workspace_location(args)  # (a mistyped one)
    rows = course_status(config, course=args.course, locale=args.locale, pseudo=args.pseudo, workspace=where)
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_PARTIAL if any(r.get("error") for r in rows) else EXIT_OK
    if not rows:
        print("no catalogs or assignments yet")
        return EXIT_OK
    width = max(22, *(len(r["course"]) for r in rows))  # OCW ids are long: the columns stay aligned
    partner_width = max(10, *(len(r["partner"] or "-") for r in rows))
    lw = max(7, *(len(r["locale"]) for r in rows))  # sr@latin, qps-ploc
    print(
        f"{'course':<{width}} {'locale':<{lw}} {'entries':>8} {'words':>8} {'reviewed':>8}  {'partner':<{partner_width}} "
        f"{'state':<19} {'due':<11} published"
    )
    for r in rows:
        entries = "-" if r["translated_percent"] is None else format_share(r["translated_percent"])
        words = "-" if r["translated_words_percent"] is None else format_share(r["translated_words_percent"])
        reviewed = "-" if r["reviewed"] is None else str(r["reviewed"])
        due = (r["due"] or "-") + ("!" if r["overdue"] else "")
        published = ", ".join(f"{k}={v}" for k, v in r["published"].items()) or "-"
        print(  # (printable: a region's error text comes from its server)
            printable(
                f"{r['course']:<{width}} {r['locale']:<{lw}} {entries:>8} {words:>8} {reviewed:>8}  "
                f"{r['partner'] or '-':<{partner_width}} {r['state']:<19} {due:<11} {published}"
            )
        )
        if r.get("error"):
            print(printable(f"  ! damaged catalog: {r['error']}"))
    if any(r["overdue"] for r in rows):
        print("! overdue")
    if any(r["state"].endswith("(incomplete)") for r in rows):
        print("(incomplete): routing stopped before the kit was whole in the partner's inbox; route again to finish it")
    return EXIT_PARTIAL if any(r.get("error") for r in rows) else EXIT_OK
