"""The ``localize`` command: thin adapters over :mod:`localize.app`.

One module per area (catalogs, partners, regions, views, run), each registering
its subcommands and formatting the application layer's typed results. Exit
codes are in :mod:`localize.cli.common`.

May import every package of the library. ``localize run`` reaches ``flows/``
through one lazy import (:mod:`localize.cli.run`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from localize import __version__
from localize.cli import catalogs, partners, regions, run, views
from localize.cli.common import EXIT_FAILED, HelpFormatter
from localize.errors import LocalizeError

__all__ = ["build_parser", "main"]

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="localize", description=DESCRIPTION, formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"localize {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in (catalogs, partners, regions, views, run):
        area.register(sub)
    return parser


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
