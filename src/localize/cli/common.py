"""What every command shares: exit codes, option helpers, progress on a terminal.

Exit codes: 0 success; 1 the command ran but some pages or entries failed (each
is listed); 2 nothing was done (bad arguments, missing catalog, unreadable
source).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TextIO

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_PARTIAL",
    "HelpFormatter",
    "add_common",
    "add_config",
    "add_jobs",
    "add_similarity",
    "bytes_progress",
    "print_failures",
    "progress",
    "similarity",
]

EXIT_OK, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    pass


def add_common(p: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        p.add_argument("source", metavar="SOURCE", help="course folder or OCW offline .zip")
    p.add_argument(
        "--course", required=True, metavar="ID", help="course id, names the catalogs (e.g. 8.05-quantum-physics)"
    )
    p.add_argument("--locales-dir", default="locales", metavar="DIR", help="catalog workspace (default: %(default)s)")


def add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--config", default="localize.toml", metavar="FILE", help="project configuration (default: %(default)s)"
    )


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
    p.add_argument("--quiet", "-q", action="store_true", help="print errors and the summary only")


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
