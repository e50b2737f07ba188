"""Partner inboxes on a local folder, read and written without ever following a link.

A partner who can write into its inbox folder controls every name below it: a
symbolic link ``returns/env.po -> /proc/self/environ`` must not make localize
read the process environment, and a link ``reports -> ../../locales`` must not
make it write into the workspace. :class:`LocalInbox` walks every path from the
inbox root one component at a time through directory descriptors opened with
``O_NOFOLLOW``; files are opened with ``O_NOFOLLOW | O_NONBLOCK`` and their
``fstat`` must be the regular file ``lstat`` saw (a link, FIFO or device swapped
in between is caught). Hard links are regular files and are accepted. The inbox
root itself is the operator's configured path and may be anything.

S3 inboxes have no links; :func:`open_inbox` gives the ordinary S3 storage for them.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from localize.errors import PermanentStorageError, PreconditionFailed
from localize.storage.base import CHUNK, Storage, TooLarge, check_key, file_version, local_error
from localize.storage.locations import open_storage

__all__ = ["LocalInbox", "Refused", "UnsafeEntryError", "entry_kind", "open_inbox", "read_return", "scan_returns"]

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_NEW_FILE_MODE = 0o666 & ~_umask()


class UnsafeEntryError(PermanentStorageError):
    """An inbox entry is a link, a device, a FIFO or anything but a regular file (or folder)."""


@dataclass(frozen=True, slots=True)
class Refused:
    key: str
    what: str  # "a symbolic link", "a named pipe (FIFO)", ...


def entry_kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISREG(mode):
        return "a regular file"
    return "not a regular file"


class LocalInbox:
    """The storage interface over an inbox folder; no path below the root is ever followed."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def describe(self, key: str = "") -> str:
        return str(self.root / check_key(key)) if key else str(self.root)

    @contextmanager
    def _dir(self, parts: list[str], *, create: bool) -> Iterator[int]:
        if create:
            self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for i, part in enumerate(parts):
                try:
                    child = os.open(part, _DIR, dir_fd=fd)
                except FileNotFoundError:
                    if not create:
                        raise
                    with suppress(FileExistsError):
                        os.mkdir(part, 0o777, dir_fd=fd)
                    child = self._open_dir(fd, parts[: i + 1])
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise self._unsafe(fd, parts[: i + 1]) from None
                    raise
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def _open_dir(self, parent: int, parts: list[str]) -> int:
        try:
            return os.open(parts[-1], _DIR, dir_fd=parent)
        except OSError as e:
            if e.errno in (errno.ELOOP, errno.ENOTDIR):
                raise self._unsafe(parent, parts) from None
            raise

    def _unsafe(self, parent: int, parts: list[str]) -> UnsafeEntryError:
        try:
            what = entry_kind(os.stat(parts[-1], dir_fd=parent, follow_symlinks=False).st_mode)
        except OSError:
            what = "not a folder"
        return UnsafeEntryError(
            f"{'/'.join(parts)} is {what}, not a folder: localize never follows links in an inbox",
            path=self.describe("/".join(parts)),
        )

    @staticmethod
    def _split(key: str) -> tuple[list[str], str]:
        parts = check_key(key).split("/")
        return parts[:-1], parts[-1]

    def size(self, key: str) -> int:
        """The size of the regular file at ``key`` (UnsafeEntryError for anything else)."""
        parents, name = self._split(key)
        with self._dir(parents, create=False) as fd:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            if not stat.S_ISREG(st.st_mode):
                raise UnsafeEntryError(
                    f"{key} is {entry_kind(st.st_mode)}, not a regular file", path=self.describe(key)
                )
            return st.st_size

    def read_bytes(self, key: str) -> bytes:
        parents, name = self._split(key)
        try:
            with self._dir(parents, create=False) as dfd:
                before = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                if not stat.S_ISREG(before.st_mode):
                    raise UnsafeEntryError(
                        f"{key} is {entry_kind(before.st_mode)}, not a regular file", path=self.describe(key)
                    )
                try:
                    fd = os.open(name, _FILE, dir_fd=dfd)
                except OSError as e:
                    if e.errno == errno.ELOOP:
                        raise UnsafeEntryError(f"{key} is a symbolic link", path=self.describe(key)) from None
                    raise
                with os.fdopen(fd, "rb") as f:
                    now = os.fstat(f.fileno())
                    if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
                        raise UnsafeEntryError(f"{key} was replaced while it was being opened", path=self.describe(key))
                    return f.read()
        except (FileNotFoundError, UnsafeEntryError):
            raise
        except OSError as e:
            raise local_error(e, "cannot read", self.describe(key)) from e

    def write_bytes(self, key: str, data: bytes) -> str:
        parents, name = self._split(key)
        try:
            with self._dir(parents, create=True) as dfd:
                try:
                    old = os.stat(name, dir_fd=dfd, follow_symlinks=False)
                    mode = stat.S_IMODE(old.st_mode) if stat.S_ISREG(old.st_mode) else _NEW_FILE_MODE
                except FileNotFoundError:
                    mode = _NEW_FILE_MODE
                tmp = f".{name[:100]}.{secrets.token_hex(6)}.tmp"
                fd = os.open(
                    tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd
                )
                try:
                    with os.fdopen(fd, "wb") as f:
                        f.write(data)
                        os.fchmod(f.fileno(), mode)
                        f.flush()
                        written = os.fstat(f.fileno())
                    os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
                except BaseException:
                    with suppress(OSError):
                        os.unlink(tmp, dir_fd=dfd)
                    raise
        except UnsafeEntryError:
            raise
        except OSError as e:
            raise local_error(e, "cannot write", self.describe(key)) from e
        return file_version(written)

    def download(self, key: str, dest: IO[bytes], *, max_bytes: int | None = None, block: int = CHUNK) -> int:
        """Stream a file of the inbox into ``dest`` (no link followed); see Storage.download."""
        data = self.read_bytes(key)
        if max_bytes is not None and len(data) > max_bytes:
            raise TooLarge(f"larger than the {max_bytes} bytes allowed here; stopped reading", path=self.describe(key))
        dest.write(data)
        return len(data)

    def upload(self, key: str, src: IO[bytes], *, content_type: str | None = None) -> None:
        """Write a file of the inbox from ``src`` (no link followed); see Storage.upload."""
        self.write_bytes(key, src.read())

    def rename(self, key: str, new_key: str) -> None:
        """Move the entry itself (a link stays a link, its target is never touched)."""
        src_parents, src = self._split(key)
        dst_parents, dst = self._split(new_key)
        try:
            with self._dir(src_parents, create=False) as sfd, self._dir(dst_parents, create=True) as dfd:
                os.rename(src, dst, src_dir_fd=sfd, dst_dir_fd=dfd)
        except OSError as e:
            raise local_error(e, "cannot move", self.describe(key)) from e

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except (OSError, UnsafeEntryError):
            return False
        return True

    def version(self, key: str) -> str | None:
        parents, name = self._split(key)
        try:
            with self._dir(parents, create=False) as fd:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError, UnsafeEntryError):
            return None
        return file_version(st) if stat.S_ISREG(st.st_mode) else None

    def read_with_etag(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        import hashlib

        data = self.read_bytes(key)
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        if max_bytes is not None and len(data) > max_bytes:  # (an inbox's own small files)
            error = TooLarge(f"larger than the {max_bytes} bytes allowed here; not read", path=self.describe(key))
            error.etag = etag
            raise error
        return data, etag

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        import hashlib

        if if_none_match and self.exists(key):
            raise PreconditionFailed("someone else changed this object first", path=self.describe(key))
        if if_match is not None and (not self.exists(key) or self.read_with_etag(key)[1] != if_match):
            raise PreconditionFailed("someone else changed this object first", path=self.describe(key))
        self.write_bytes(key, data)
        return '"' + hashlib.sha256(data).hexdigest() + '"'

    def scan(self, prefix: str, *, skip: tuple[str, ...] = ()) -> tuple[list[str], list[Refused]]:
        """Regular files under ``prefix`` (sorted) and every entry that is not one
        (links, FIFOs, devices, sockets, a linked ``prefix`` itself); hidden names and
        the top-level sub-folders in ``skip`` are left out."""
        files: list[str] = []
        refused: list[Refused] = []
        parts = check_key(prefix).split("/")
        try:
            with self._dir(parts, create=False) as fd:
                self._walk(fd, prefix, files, refused, skip)
        except FileNotFoundError:
            pass
        except UnsafeEntryError as e:
            what = e.message.split(" is ", 1)[1].split(",", 1)[0] if " is " in e.message else "not a folder"
            refused.append(Refused(prefix, what))
        return sorted(files), sorted(refused, key=lambda r: r.key)

    def _walk(self, fd: int, prefix: str, files: list[str], refused: list[Refused], skip: tuple[str, ...]) -> None:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
        for entry in entries:
            key = f"{prefix}/{entry.name}"
            if entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                continue  # our own temporary files, editors' backups
            mode = entry.stat(follow_symlinks=False).st_mode
            if stat.S_ISREG(mode):
                files.append(key)
            elif stat.S_ISDIR(mode):
                if entry.name in skip:
                    continue
                try:
                    child = os.open(entry.name, _DIR, dir_fd=fd)
                except OSError:
                    refused.append(Refused(key, "a folder that cannot be opened"))
                    continue
                try:
                    self._walk(child, key, files, refused, ())
                finally:
                    os.close(child)
            else:
                refused.append(Refused(key, entry_kind(mode)))

    def list(self, prefix: str = "") -> Iterator[str]:
        if not prefix:
            files: list[str] = []
            with self._dir([], create=False) as fd:
                self._walk(fd, "", files, [], ())
            return iter(sorted(f.lstrip("/") for f in files))
        return iter(self.scan(prefix)[0])

    def list_with_times(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        for key in self.list(prefix):
            parents, name = self._split(key)
            with self._dir(parents, create=False) as fd:
                yield key, os.stat(name, dir_fd=fd, follow_symlinks=False).st_mtime

    def list_versions(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        for key in self.list(prefix):
            parents, name = self._split(key)
            with self._dir(parents, create=False) as fd:
                yield key, file_version(os.stat(name, dir_fd=fd, follow_symlinks=False))

    def list_folders(self, prefix: str = "") -> Iterator[str]:
        """Sub-folders directly under ``prefix`` (links are not folders here)."""
        try:
            with self._dir(check_key(prefix).split("/") if prefix else [], create=False) as fd, os.scandir(fd) as it:
                names = [e.name for e in it if e.is_dir(follow_symlinks=False) and not e.name.startswith(".")]
        except (FileNotFoundError, UnsafeEntryError):
            return iter(())
        return iter(sorted(names))

    def delete(self, key: str) -> None:
        parents, name = self._split(key)
        try:
            with self._dir(parents, create=False) as fd:
                os.unlink(name, dir_fd=fd)
        except FileNotFoundError:
            pass


def open_inbox(location: str) -> Storage:
    """A partner inbox: a folder (never following links below it) or an S3 prefix."""
    if location.startswith("s3://"):
        return open_storage(location)
    return LocalInbox(location)


def scan_returns(inbox: Storage) -> tuple[list[str], list[Refused]]:
    """The returned files waiting in ``returns/`` (not ``returns/processed/``), and the refused entries."""
    if isinstance(inbox, LocalInbox):
        return inbox.scan("returns", skip=("processed",))
    return [k for k in inbox.list("returns") if not k.startswith("returns/processed/")], []


def read_return(inbox: Storage, key: str, limit: int) -> tuple[bytes | None, int]:
    """(the bytes, the size) of a returned file; the bytes are None when the size is over ``limit``
    (a folder inbox is not even read then)."""
    if isinstance(inbox, LocalInbox):
        size = inbox.size(key)
        if size > limit:
            return None, size
    data = inbox.read_bytes(key)
    return (data, len(data)) if len(data) <= limit else (None, len(data))
