"""The ``localize`` command: thin adapters over :mod:`localize.app`.

One module per area (pages, catalogs, memory, glossary, partners, regions, views,
run), each registering its subcommands and formatting the application layer's typed
results. Exit codes are in :mod:`localize.cli.common`.

A command imports only its own area (:data:`AREAS` says which area registers which
command): ``localize extract`` loads the engine and the workspace, not Prefect, boto3,
pydantic or the memory, which matters when a coordinator runs one process per course
(start-up was most of a small course's time). ``localize --help`` loads every area.
``localize run`` reaches ``flows/`` through one lazy import (:mod:`localize.cli.run`).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
from collections.abc import Iterator, Sequence

from localize import __version__
from localize.cli.common import EXIT_FAILED, HelpFormatter, add_standard
from localize.errors import CatalogNotFoundError, LocalizeError

__all__ = ["AREAS", "build_parser", "main"]

# area module (localize.cli.NAME) -> the commands it registers, in the order of `--help`
AREAS: dict[str, tuple[str, ...]] = {
    "pages": ("extract", "build"),
    "catalogs": ("init", "update", "merge", "stats", "index", "pseudo"),
    "memory": ("tm", "consistency"),
    "glossary": ("glossary",),
    "partners": ("route", "check", "ingest", "access"),
    "regions": ("publish", "versions", "rollback", "pull", "export", "keys"),
    "views": ("preview", "report", "status"),
    "run": ("run",),
}
_AREA_OF = {command: area for area, commands in AREAS.items() for command in commands}

DESCRIPTION = """\
localize turns open-courseware sites into gettext catalogs and back.

  extract   pages -> templates/COURSE.pot (every piece of human-readable text)
  init      template -> a new LL catalog, filled from the translation memory
  update    re-extract a changed course and merge it into every catalog
  merge     merge one .po with a newer .pot (like msgmerge), for scripts
  stats     translated / fuzzy / untranslated per course and locale
  index     rebuild the derived state (statistics, memory, assignment and kit indexes)
  tm        export, import, list or edit a translation memory (compendium .po, TMX, XLIFF)
  consistency  one source translated differently across courses, and the reverse
  glossary  import, export or suggest a locale's terms (TBX or CSV), carried by kits and checked
  pseudo    template -> qps-ploc catalog, to see what would be missed or cut off
  build     pages + LL catalog -> localized pages (untranslated bytes unchanged)

  route     send a translation kit to the partner serving a locale
  check     check a .po or .xlf file (the translator's own command)
  ingest    take returned .po or .xlf files through the QA gate into the catalogs
  access    write per-partner S3 access policies (AWS IAM and SeaweedFS)

  publish   build a locale and publish it to its regions (versioned, atomic)
  versions  list the published versions of a course in a region
  rollback  point a region back to an earlier version
  pull      fetch a published course onto a mirror (verified, atomic switch; --verify, --status)
  export    write a region onto a folder or drive for mirrors without a link (signed; deltas)
  keys      make the coordinators' signing key (signed releases; pull --trust)

  preview   see a .po or .xlf file on the course pages (translators; served on 127.0.0.1)
  report    a self-contained progress dashboard for coordinators (HTML)

  run       run a pipeline flow on this machine, like its deployment
  status    where every course x locale stands: partner, returns, published versions

Catalogs live in a workspace laid out as templates/COURSE.pot and
LL/LC_MESSAGES/COURSE.po. Every command finds it the same way: --locales-dir,
else the workspace of --config, else that of ./localize.toml, else ./locales.
Every command that does something takes --config, --quiet and --endpoint-url (for
s3:// locations); index, glossary, tm and keys only list their subcommands.

Exit codes: 0 done; 1 done, but some files or entries failed (each is listed);
2 nothing done (bad arguments, missing catalog, unreadable source).
"""


def build_parser(areas: Sequence[str] = tuple(AREAS)) -> argparse.ArgumentParser:
    """The parser of every command, or only of those ``areas`` register (their modules only are imported)."""
    parser = argparse.ArgumentParser(prog="localize", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"localize {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, help="one of the commands above (localize COMMAND --help)"
    )
    for area in areas:
        importlib.import_module(f"{__name__}.{area}").register(sub)
    sub._choices_actions.clear()  # listed once, in DESCRIPTION's order and words (argparse listed them again)
    for command in commands(parser):
        add_standard(command)
    _no_abbreviations(parser)
    return parser


def _no_abbreviations(parser: argparse.ArgumentParser) -> None:
    """No parser takes a prefix of an option for the option: ``--locale`` on a command without
    it was read as ``--locales-dir`` and made a workspace named after the locale."""
    parser.allow_abbrev = False
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                _no_abbreviations(child)


def commands(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    """Every command's parser (``tm export`` and ``tm import`` too), in order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                nested = list(commands(child))
                yield from nested or [child]


def areas_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The area whose command ``argv`` runs; every area for anything else (``--help``, a
    mistyped command: argparse then lists them all). Options before the command are only
    ``-h`` and ``--version``, so the first word that is not an option is the command;
    ``--version`` first needs no area (it printed after loading all of them, in 0.4 s)."""
    if list(argv[:1]) == ["--version"]:
        return ()
    for arg in argv:
        if not arg.startswith("-"):
            area = _AREA_OF.get(arg)
            return (area,) if area else tuple(AREAS)
        break
    return tuple(AREAS)


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(areas_for(argv))
    try:
        args, extra = parser.parse_known_args(argv)
    except LocalizeError as e:  # a value the command cannot take (an unknown locale code)
        print(f"error: {e}", file=sys.stderr)
        return EXIT_FAILED
    if extra:  # with the command's own usage line, not the top one (which argparse would show)
        words = ["localize", *(a for a in argv if not a.startswith("-"))]
        own = max(
            (c for c in commands(parser) if words[: len(c.prog.split())] == c.prog.split()),
            key=lambda c: len(c.prog.split()),
            default=parser,
        )
        own.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "endpoint_url", None):
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint_url
    try:
        code: int = args.func(args)
        sys.stdout.flush()
        return code
    except LocalizeError as e:
        print(f"error: {e}", file=sys.stderr)
        if isinstance(e, CatalogNotFoundError) and _default_workspace(args):
            print(
                f"(the workspace is ./locales of {os.getcwd()}: no --locales-dir or --config was given and there is "
                "no ./localize.toml here; run from your project's folder, or pass --locales-dir DIR)",
                file=sys.stderr,
            )
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `localize stats --json | head`: the reader has what it wanted; end quietly, like cat.
        # Python would complain again when it flushes stdout at exit: point stdout at /dev/null.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 141
    except OSError as e:  # the edge: a read-only or full disk, a permission no step turned into an error
        where = f"{e.filename}: " if e.filename else ""
        fix = {errno.ENOSPC: "; free some space and run again", errno.EROFS: "; it is read-only",
               errno.EACCES: "; check the permissions"}.get(e.errno or 0, "")  # fmt: skip
        print(f"error: {where}{e.strerror or e} (nothing after this was done{fix})", file=sys.stderr)
        return EXIT_FAILED


def _default_workspace(args: argparse.Namespace) -> bool:
    """Whether the command took ./locales for want of --locales-dir, --config and ./localize.toml."""
    return (
        hasattr(args, "locales_dir")
        and not args.locales_dir
        and not getattr(args, "config", None)
        and not os.path.isfile("localize.toml")
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
