"""Output folders written whole or not at all, and never over the course they come from.

``build`` and ``preview --out`` write every file of a course. They build into a
staging folder beside the target and rename it into place at the end, so an
interrupted or failed build leaves the previous output (or nothing), never a
half-written folder. They refuse an output folder that contains or lies inside
the source (forced or not: the source would be lost), and, unless forced, one that
is the source or holds files the build would not write.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from localize.errors import ConfigError
from localize.storage.sources import Source

__all__ = ["check_output", "file_kind", "staged_output"]


def _local_root(source: Source) -> Path | None:
    location = source.location
    if "://" in location:
        return None
    return Path(location).resolve()


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if info.st_ino else None  # 0: a file system that gives none


MAX_FOLDERS = 200_000  # folders of a source looked at for a way into it (a bind mount of one)


def _folders(root: Path) -> set[tuple[int, int]]:
    """The (device, inode) of ``root`` and of every folder under it (links not followed)."""
    found: set[tuple[int, int]] = set()
    for top, _, _ in os.walk(root):
        ident = _identity(Path(top))
        if ident is not None:
            found.add(ident)
        if len(found) >= MAX_FOLDERS:
            break
    return found


def _existing_chain(path: Path) -> list[tuple[int, int]]:
    """The (device, inode) of ``path`` and of each of its folders that exist, innermost first: a
    folder is known by what it is, not by how it is spelled (a bind mount, a case-insensitive disk)."""
    found = [_identity(p) for p in (path, *path.parents)]
    return [f for f in found if f is not None]


def _reached(target: Path, root: Path) -> bool:
    """Whether ``target``, or the nearest of its folders that exists, is a folder of the source
    (reached another way: a bind mount of one of its subfolders)."""
    nearest = next((i for i in (_identity(p) for p in (target, *target.parents)) if i is not None), None)
    return nearest is not None and nearest in _folders(root)


def check_output(source: Source, out: str | os.PathLike[str], *, force: bool = False) -> Path:
    """The resolved output folder, or a ConfigError saying why writing there would lose files."""
    target = Path(out).resolve()
    root = _local_root(source)
    same = False
    if root is not None:
        own, around, under = _identity(root), _existing_chain(root.parent), _existing_chain(target.parent)
        same = target == root or (own is not None and _identity(target) == own)
        # (never with --force: the source, or part of it, would be lost)
        if not same and (root.is_relative_to(target) or _identity(target) in around):
            raise ConfigError(
                f"contains the source course ({source.location}); replacing it would delete the source: "
                "choose another folder",
                path=str(out),
            )
        if not same and (target.is_relative_to(root) or (own is not None and own in under) or _reached(target, root)):
            raise ConfigError(
                f"is inside the source course ({source.location}); the build would replace that part of the "
                "course and become part of it: choose a folder outside it",
                path=str(out),
            )
    if force:
        return target
    if same:
        raise ConfigError(
            "is the source course itself; writing there would overwrite it: choose another folder "
            "(or --force to replace the source)",
            path=str(out),
        )
    if target.is_file():
        raise ConfigError("is a file; give a folder to write the course into", path=str(out))
    if target.is_dir():
        expected = set(source.paths())
        extra = sorted(
            p.relative_to(target).as_posix()
            for p in target.rglob("*")
            if not p.is_dir() and p.relative_to(target).as_posix() not in expected
        )
        if extra:
            more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
            raise ConfigError(
                f"holds files that are not part of the course (such as {extra[0]}{more}); the build replaces "
                "the whole folder: choose an empty or new folder (or --force)",
                path=str(out),
            )
    return target


@contextmanager
def staged_output(target: Path) -> Iterator[Path]:
    """A fresh staging folder beside ``target``; renamed to ``target`` when the block
    ends normally, removed when it raises (or is interrupted)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    umask = os.umask(0o022)
    os.umask(umask)
    staging.chmod(0o777 & ~umask)  # as a folder made with mkdir would be, not mkdtemp's 0700
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        os.rmdir(old)
        os.rename(target, old)
    try:
        os.rename(staging, target)
    except BaseException:
        if old is not None:
            os.rename(old, target)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def file_kind(out: str, formats: tuple[str, ...], described: str = "") -> str:
    """The extension of ``out`` (lower case) when it is one of ``formats``; a ConfigError
    saying how to name the file otherwise (``described`` names the formats in words)."""
    kind = Path(out).suffix.lower()
    if kind not in formats:
        raise ConfigError(
            f"cannot tell the format from {kind or 'a name without an extension'!r}; "
            f"name the file {' or '.join(formats)}" + (f" ({described})" if described else ""),
            path=out,
        )
    return kind
