"""Writing and deleting under a storage folder without ever following a link on the way.

A path that is checked and then used leaves a moment between the two in which whoever can
write into the folder (a shared folder, a carried drive) can swap a folder for a symbolic
link, and the write (or a cleanup's delete) lands outside. So :class:`~.base.LocalStorage`
opens each folder from the storage folder down with ``O_NOFOLLOW`` (making it when asked) and
works relative to the last one's descriptor: a link put there at any moment is refused, never
followed. The storage folder itself may be a link (the operator's own layout).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from localize.errors import CatalogError, CatalogNotFoundError, PermanentStorageError

__all__ = ["folder_of", "new_file_mode", "regular_fd", "write_in"]

# O_PATH (Linux): a folder one may write into but not list (a drop box, mode 1733) opens too
_PATH = getattr(os, "O_PATH", os.O_RDONLY)
_FOLDER = _PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()


def new_file_mode() -> int:
    """The permissions of a new file of the workspace: the umask's (a group may share it)."""
    return 0o666 & ~_UMASK


@contextlib.contextmanager
def folder_of(root: Path, key: str, *, create: bool, doing: str) -> Iterator[int]:
    """A descriptor of the folder of ``key`` (a checked key) under ``root``, opened one folder at
    a time without following a link (made when ``create``); FileNotFoundError when it is absent
    and not ``create``; PermanentStorageError naming a link or a file in the way."""
    if create:
        root.mkdir(parents=True, exist_ok=True)  # the storage folder itself, wherever it leads
    fd = os.open(root, _PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        where = root
        for part in key.split("/")[:-1]:
            where = where / part
            try:
                try:
                    inner = os.open(part, _FOLDER, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    with contextlib.suppress(FileExistsError):
                        os.mkdir(part, 0o777, dir_fd=fd)
                    inner = os.open(part, _FOLDER, dir_fd=fd)
            except OSError as e:
                if e.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                what = "a symbolic link" if os.path.islink(where) else "not a folder"
                raise PermanentStorageError(
                    f"is {what} where a folder is expected; localize does not write or delete through links "
                    f"in {root}: replace it with the folder itself; not {doing} {key}",
                    path=str(where),
                ) from None
            os.close(fd)
            fd = inner
        yield fd
    finally:
        os.close(fd)


def regular_fd(name: str, flags: int, doing: str, *, dir_fd: int | None = None) -> int:
    """``name`` opened with ``flags``, only when it is a regular file: a link, a pipe or a device
    planted in the folder (a drive) is refused instead of followed or waited on."""
    try:
        fd = os.open(name, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise PermanentStorageError(
                f"a symbolic link, not a file; not {doing} it (replace it with the file itself)", path=name
            ) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise PermanentStorageError(f"not a regular file (a pipe, a device or a folder); not {doing} it", path=name)
    return fd


def write_in(folder: int, name: str, chunks: Iterable[bytes]) -> os.stat_result:
    """Write the file ``name`` of the folder open as ``folder`` atomically: a new file of our own
    beside it, given the mode of the file it replaces (else the umask's), renamed over it.
    Returns the new file's status (the rename keeps its inode and time)."""
    try:
        old = os.stat(name, dir_fd=folder, follow_symlinks=False)
        mode = stat.S_IMODE(old.st_mode) if stat.S_ISREG(old.st_mode) else new_file_mode()
    except FileNotFoundError:
        mode = new_file_mode()
    for _ in range(100):
        tmp = f".{name}.{os.urandom(4).hex()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free temporary name beside {name}")
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in chunks:
                f.write(chunk)
            f.flush()  # the status below is the written file's (its time, after the last byte)
            os.fchmod(f.fileno(), mode)
            written = os.fstat(f.fileno())
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=folder)
        raise
    return written


def read_named_file(path: str, limit: int, what: str) -> bytes:
    """The bytes of a file an operator named (an import), refused past ``limit`` bytes before it
    is read: a parser holds many times a file's size (a 66 MB TMX took 1.2 GB)."""
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise CatalogNotFoundError("no such file", path=path) from None
    except OSError as e:
        raise CatalogError(e.strerror or str(e), path=path) from e
    if len(data) > limit:
        raise CatalogError(f"larger than the {limit // (1024 * 1024)} MiB {what} may be; split it", path=path)
    return data


def clear_non_files(root: Path, prefix: str, suffix: str) -> list[str]:
    """Remove what stands, under ``root/prefix``, where only files named ``*suffix`` belong: a
    folder, link, pipe or device of such a name (derived state replaced by hand; every read and
    write of it stops at it). Links are removed, never followed. Returns the names removed."""
    import shutil

    base = root / prefix
    if base.is_symlink() or not base.is_dir():
        return []
    removed: list[str] = []
    for folder, dirs, files in os.walk(base, followlinks=False):
        for name in [*dirs, *files]:
            path = os.path.join(folder, name)
            mode = os.lstat(path).st_mode if name.endswith(suffix) else stat.S_IFREG
            if stat.S_ISREG(mode):
                continue
            if stat.S_ISDIR(mode):
                shutil.rmtree(path)  # (never follows a link inside it)
                dirs.remove(name)
            else:
                os.unlink(path)
            removed.append(os.path.relpath(path, root))
    return sorted(removed)
