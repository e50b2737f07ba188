"""Files and folders a mirror or an exporter touches, taken only as what they claim to be.

A drive, a staging folder left beside one, or a mirror's web folder can be changed
by someone else between two runs: a symbolic link where a folder was, a pipe where a
file was. Everything here looks at the entry itself (``lstat``, ``O_NOFOLLOW``) and
refuses what is not a real folder or a regular file, so nothing is read from, written
to or deleted outside the folder named, and nothing waits forever on a pipe.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from localize.errors import IntegrityError

__all__ = ["check_real_folders", "create_new", "links_under", "read_regular", "refuse_trust_inside"]

_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def read_regular(path: Path, limit: int) -> bytes:
    """At most ``limit + 1`` bytes of ``path``, a regular file (not a link, pipe or device);
    OSError as for ``open`` (FileNotFoundError when absent)."""
    try:
        fd = os.open(path, _READ)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise OSError(errno.ELOOP, "a symbolic link, not a file", str(path)) from None
        raise
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a pipe, a device or a folder)", str(path))
        return f.read(limit + 1)


def create_new(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file ``path`` (never through a link, never over an existing entry)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def check_real_folders(*folders: Path) -> None:
    """Refuse when any of ``folders`` is a symbolic link (a file in the way fails later, as such)."""
    for folder in folders:
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(mode):
            raise IntegrityError(
                "is a symbolic link where localize keeps a folder; not following it (someone changed "
                "the mirror's folders: look at what it points to, remove the link, and pull again)",
                path=str(folder),
            )


def links_under(root: Path) -> list[str]:
    """Entries under ``root`` (never followed) that are neither real folders nor regular files."""
    odd: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            try:
                mode = os.lstat(path).st_mode
            except FileNotFoundError:
                continue
            if not (stat.S_ISDIR(mode) or stat.S_ISREG(mode)):
                odd.append(path.relative_to(root).as_posix())
    return sorted(odd)


def refuse_trust_inside(location: str, files: list[Path]) -> None:
    """Refuse keys (or a configuration naming them) that lie inside the region being pulled: a
    drive or folder could then supply the very key that vouches for it."""
    if "://" in location:
        return
    try:
        root = Path(location).resolve()
    except OSError:
        return
    for file in files:
        resolved = Path(os.path.abspath(file)).resolve()
        if resolved == root or root in resolved.parents:
            raise IntegrityError(
                f"{file} lies inside {location}, the folder being pulled: a drive cannot vouch for itself. "
                "Use the key installed on the mirror (its [mirror] trust setting, or a key file the coordinators "
                "gave you, its fingerprint compared by another way), kept outside the drive",
                path=str(file),
            )
