"""What every command shares: exit codes, option helpers, progress on a terminal.

Exit codes: 0 success; 1 the command ran but some pages or entries failed (each
is listed); 2 nothing was done (bad arguments, missing catalog, unreadable
source).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from localize import DEFAULT_CONFIG
from localize.errors import CatalogNotFoundError, ConfigError
from localize.locales import check_locale

if TYPE_CHECKING:
    from localize.config import Config

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "SOURCE_HELP",
    "HelpFormatter",
    "add_common",
    "add_config",
    "add_jobs",
    "add_similarity",
    "add_standard",
    "add_workspace",
    "bytes_progress",
    "config_of",
    "config_with_workspace",
    "locale_arg",
    "print_failures",
    "progress",
    "similarity",
    "workspace_location",
]

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2

SOURCE_HELP = "the course: a folder, an OCW offline .zip, s3://bucket/prefix or an https:// site"
WORKSPACE_HELP = (
    "catalog workspace, a folder or s3://bucket/prefix (default: the workspace of --config, else of "
    f"./{DEFAULT_CONFIG}, else ./locales)"
)
CONFIG_HELP = f"project configuration: partners, regions, workspace (default: ./{DEFAULT_CONFIG} when there is one)"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter, told the terminal's width as ``shutil.get_terminal_size`` would tell
    it: argparse makes one for every argument it adds, and would import ``shutil`` (and with it
    bz2 and lzma) in every command only for that."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None):
        if width is None:
            width = _columns() - 2  # as argparse does
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """The terminal's width: $COLUMNS, else the width of the terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def locale_arg(value: str) -> str:
    """argparse type: a locale code in its canonical form (zh-TW -> zh_TW). An unknown
    code raises ConfigError (not an argparse error), which ``main`` prints as one line."""
    return check_locale(value)


def add_workspace(p: argparse.ArgumentParser) -> None:
    p.add_argument("--locales-dir", default=None, metavar="DIR", help=WORKSPACE_HELP)


def add_common(p: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        p.add_argument("source", metavar="SOURCE", help=SOURCE_HELP)
    p.add_argument(
        "--course", required=True, metavar="ID", help="course id, names the catalogs (e.g. 8.05-quantum-physics)"
    )
    add_workspace(p)


def add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None, metavar="FILE", help=CONFIG_HELP)


def add_standard(p: argparse.ArgumentParser) -> None:
    """--config, --quiet and --endpoint-url: the options every command takes."""
    have = {opt for action in p._actions for opt in action.option_strings}
    if "--config" not in have:
        add_config(p)
    if "--quiet" not in have:
        p.add_argument(
            "--quiet", "-q", action="store_true", help="no progress or warnings: errors and the summary only"
        )
    if "--endpoint-url" not in have:
        p.add_argument(
            "--endpoint-url",
            metavar="URL",
            help="S3 endpoint for s3:// locations (default: AWS_ENDPOINT_URL, else AWS itself)",
        )


def load_config(path: str) -> Config:
    """:func:`localize.config.load_config`, imported when a command reads a configuration:
    pydantic and the models cost a tenth of a second, and ``extract --locales-dir`` needs neither."""
    from localize.config import load_config as load

    return load(path)


def config_of(args: argparse.Namespace) -> Config:
    """The configuration of --config, else ./localize.toml (ConfigError when there is none)."""
    path = getattr(args, "config", None) or DEFAULT_CONFIG
    if getattr(args, "config", None) is None and not Path(path).is_file():
        raise ConfigError(
            f"no {DEFAULT_CONFIG} in {Path.cwd()}; pass --config FILE "
            "(copy src/localize/samples/localize.toml, a documented example, and edit it)"
        )
    return load_config(path)


def config_with_workspace(args: argparse.Namespace) -> Config:
    """``config_of`` with the workspace moved to --locales-dir when it is given."""
    config = config_of(args)
    if getattr(args, "locales_dir", None):
        location = args.locales_dir if "://" in args.locales_dir else str(Path(args.locales_dir).resolve())
        config = config.model_copy(update={"workspace": config.workspace.model_copy(update={"location": location})})
    return config


def optional_config(args: argparse.Namespace) -> Config | None:
    """The configuration of --config, else ./localize.toml when there is one, else None."""
    path = getattr(args, "config", None)
    if path:
        return load_config(path)
    if Path(DEFAULT_CONFIG).is_file():
        return load_config(DEFAULT_CONFIG)
    return None


def workspace_location(args: argparse.Namespace) -> str:
    """The one rule for where catalogs live: --locales-dir, else --config's workspace,
    else ./localize.toml's, else ./locales."""
    explicit = getattr(args, "locales_dir", None)
    if explicit:
        return str(explicit)
    config = optional_config(args)
    return config.workspace_location if config is not None else "locales"


def existing_workspace(args: argparse.Namespace) -> str:
    """:func:`workspace_location`, refused when it is a local folder that does not exist: a command
    that only reads (stats, report, consistency) answered "no catalogs" for a mistyped
    --locales-dir, wrote an empty dashboard, or made a workspace where there was none."""
    location = workspace_location(args)
    if "://" not in location and not os.path.isdir(location):
        raise CatalogNotFoundError(
            f"no workspace here: {os.path.abspath(location)} is not a folder; check --locales-dir or --config "
            "(a workspace is made by `localize extract SOURCE --course ID`)",
            path=location,
        )
    return location


def similarity(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {value!r}") from None
    if not 0.0 < number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return number


def add_similarity(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--similarity",
        type=similarity,
        default=0.75,
        metavar="S",
        help="least similarity (0-1) for a near match to be offered as fuzzy (default: %(default)s)",
    )


def add_jobs(p: argparse.ArgumentParser) -> None:
    p.add_argument("--jobs", "-j", type=int, default=None, metavar="N", help="worker processes (default: one per core)")


@contextmanager
def progress(label: str, total: int, quiet: bool, stream: TextIO) -> Iterator[Callable[[str], None]]:
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


def print_failures(failures: Sequence[object], stream: TextIO, label: str = "error") -> None:
    for failure in failures:
        print(f"{label}: {failure}", file=stream)


@contextmanager
def bytes_progress(label: str, quiet: bool, stream: TextIO) -> Iterator[Callable[[str, int], None]]:
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
