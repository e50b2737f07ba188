"""The storage interface: one small protocol, a local-folder backend here and an
S3 backend beside it (boto3 lives only there).

Keys are POSIX-style relative paths ("templates/course.pot"). Every write is
atomic: readers see the old object or the new one, never half of one.

The protocol and the folder backend that defines its meaning (versions, listings, conditional
writes on files) are kept together as one cohesive thing; the translation-memory index's rows
(:mod:`.rows`), and reading within a limit (:mod:`.limits`), are beside them.
"""

from __future__ import annotations

import contextlib
import errno
import heapq
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Protocol, TypeVar, runtime_checkable

from localize.errors import (
    PermanentStorageError,
    PreconditionFailed,
    StorageError,
    TransientStorageError,
)
from localize.storage.folder_files import folder_of, regular_fd, write_in
from localize.storage.limits import CHUNK, TooLarge, copy_limited
from localize.storage.rows import PREFIX as ROWS_PREFIX
from localize.storage.rows import Rows

_V = TypeVar("_V")

__all__ = [
    "CHUNK",
    "LocalStorage",
    "PreconditionFailed",
    "Storage",
    "TooLarge",
    "check_key",
    "copy_limited",
    "course_path_problem",
    "file_version",
    "list_bounded",
    "local_error",
]


def _key_problem(key: str) -> str | None:
    parts = key.replace("\\", "/").split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        return "use a relative path without '..'"
    if ":" in parts[0]:
        return "':' in the first folder or file name reads as a drive letter or a URL scheme"
    return None


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root."""
    problem = _key_problem(key)
    if problem is not None:
        raise PermanentStorageError(f"invalid storage key {key!r}: {problem}")
    return "/".join(key.replace("\\", "/").split("/"))


_CONTROL_CHARACTERS = frozenset(map(chr, [*range(0x20), *range(0x7F, 0xA0)]))
_BIDI_CONTROLS = frozenset(map(chr, [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
MAX_NAME_BYTES = 255  # a part of a path (most file systems' limit)
MAX_PATH_BYTES = 1024  # a whole path, leaving room for the folders a build or a mirror puts it under


def course_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a file of a course (None: it can).

    The one rule every course source applies when it lists its files, so build,
    publish and pull see the same set: a course file is built, published and
    pulled under exactly this path, so it must be a storage key that
    :func:`check_key` keeps as it is (no backslash), a name a catalog reference
    and a manifest can carry (no control characters, no bidirectional controls) and
    one every file system the build or a mirror writes to can hold (the length).
    """
    problem = _key_problem(path)
    if problem is not None:
        return problem
    if "\\" in path:
        return "'\\' is a folder separator on some systems"
    if not _CONTROL_CHARACTERS.isdisjoint(path):
        return "control characters in the name"
    if not _BIDI_CONTROLS.isdisjoint(path):
        return "bidirectional controls in the name (they make it read as another name)"
    longest = max((len(part.encode("utf-8")) for part in path.split("/")), default=0)
    if longest > MAX_NAME_BYTES:
        return f"a name of {longest} bytes, more than the {MAX_NAME_BYTES} a file system allows"
    if len(path.encode("utf-8")) > MAX_PATH_BYTES:
        return f"a path of more than {MAX_PATH_BYTES} bytes"
    return None


_WRITING_ERRNOS = frozenset((errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG))
_TRANSIENT_ERRNOS = frozenset((errno.EAGAIN, errno.EBUSY, errno.EINTR, errno.EIO, errno.ETIMEDOUT))


def local_error(e: OSError, action: str, path: str) -> StorageError:
    """An OSError as a storage error, transient only where waiting may help."""
    kind = TransientStorageError if e.errno in _TRANSIENT_ERRNOS else PermanentStorageError
    return kind(f"{action}: {e.strerror or e}", path=path)


@runtime_checkable
class Storage(Protocol):
    """Where catalogs, kits and bundles live."""

    def read_bytes(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when it does not exist."""
        ...

    def write_bytes(self, key: str, data: bytes) -> str:
        """Create or replace the object atomically; returns the version written (what
        :meth:`list_versions` lists for this very object, until someone replaces it)."""
        ...

    def exists(self, key: str) -> bool: ...

    def version(self, key: str) -> str | None:
        """The object's version as :meth:`list_versions` gives it (None when there is no such
        object): one look at this object, never a listing."""
        ...

    def read_with_etag(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """The object's bytes and an ETag for conditional writes; :class:`TooLarge` (with the
        ETag) for an object of more than ``max_bytes``, which is never read whole into memory."""
        ...

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write; only if absent (``if_none_match``) or still at ``if_match`` (an ETag of
        :meth:`read_with_etag`). Raises PreconditionFailed otherwise. Returns the version
        written, as :meth:`write_bytes` does."""
        ...

    def download(self, key: str, dest: IO[bytes], *, max_bytes: int | None = None, block: int = CHUNK) -> int:
        """Stream the object into ``dest``, read ``block`` bytes at a time (a paced pull reads small
        blocks, so that the network sends no faster than it is read); returns its size.
        FileNotFoundError when it does not exist, :class:`TooLarge` past ``max_bytes``."""
        ...

    def upload(self, key: str, src: IO[bytes], *, content_type: str | None = None) -> None:
        """Create or replace the object atomically from ``src``, streamed (multipart when large)."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix``, sorted."""
        ...

    def list_with_times(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        """(key, last modified as a POSIX time) under ``prefix``, sorted by key."""
        ...

    def list_versions(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        """(key, version) under ``prefix``, sorted by key: a version changes whenever the
        object is replaced (a folder: inode, mtime in ns and size; S3: the ETag)."""
        ...

    def list_folders(self, prefix: str = "") -> Iterator[str]:
        """The names of the folders directly under ``prefix`` (S3: common prefixes of a
        delimiter listing), sorted: without listing what is inside them."""
        ...

    def delete(self, key: str) -> None: ...

    def describe(self, key: str = "") -> str:
        """Where ``key`` is, for messages (never with credentials)."""
        ...


def list_bounded(storage: Storage, prefix: str, limit: int) -> tuple[str, ...] | None:
    """The keys under ``prefix``, sorted, if there are at most ``limit``; else None, having read
    about ``limit`` of them (an S3 listing stops after that many pages): a listing that may be
    large, tried at a bounded cost."""
    bounded = getattr(storage, "list_bounded", None)
    if bounded is not None:
        found: tuple[str, ...] | None = bounded(prefix, limit)
        return found
    keys = tuple(storage.list(prefix))
    return keys if len(keys) <= limit else None


class LocalStorage:
    """A folder on the local file system. The keys of the translation-memory index are rows of
    one database file in it (:mod:`.rows`), served by the same methods."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self._rows = Rows(self.root)

    def _row(self, key: str) -> bool:
        return check_key(key).startswith(ROWS_PREFIX)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def describe(self, key: str = "") -> str:
        if key and self._row(key):
            return self._rows.describe(key)
        return str(self.path(key)) if key else str(self.root)

    def _open(self, key: str) -> IO[bytes]:
        return os.fdopen(regular_fd(str(self.path(key)), os.O_RDONLY, "reading"), "rb")

    def read_bytes(self, key: str) -> bytes:
        if self._row(key):
            return self._rows.read_bytes(key)
        try:
            with self._open(key) as f:
                return f.read()
        except FileNotFoundError:
            raise
        except OSError as e:
            raise local_error(e, "cannot read", self.describe(key)) from e

    def write_bytes(self, key: str, data: bytes) -> str:
        if self._row(key):
            return self._rows.write_bytes(key, data)
        try:
            with folder_of(self.root, check_key(key), create=True, doing="writing") as folder:
                written = write_in(folder, self.path(key).name, (data,))
        except OSError as e:
            raise local_error(e, "cannot write", self.describe(key)) from e
        return file_version(written)

    def download(self, key: str, dest: IO[bytes], *, max_bytes: int | None = None, block: int = CHUNK) -> int:
        if self._row(key):
            return self._rows.download(key, dest, max_bytes=max_bytes, block=block)
        try:
            with self._open(key) as f:
                return copy_limited(f, dest, max_bytes, self.describe(key), block)
        except FileNotFoundError:
            raise
        except OSError as e:
            if e.errno in _WRITING_ERRNOS:
                raise  # where the copy goes is full or read-only: not this file's fault
            raise local_error(e, "cannot read", self.describe(key)) from e

    def upload(self, key: str, src: IO[bytes], *, content_type: str | None = None) -> None:
        if self._row(key):
            self._rows.write_bytes(key, src.read())
            return
        try:
            with folder_of(self.root, check_key(key), create=True, doing="writing") as folder:
                write_in(folder, self.path(key).name, iter(lambda: src.read(CHUNK), b""))
        except OSError as e:
            raise local_error(e, "cannot write", self.describe(key)) from e

    def exists(self, key: str) -> bool:
        if self._row(key):
            return self._rows.exists(key)
        return self.path(key).is_file()

    def version(self, key: str) -> str | None:
        if self._row(key):
            return self._rows.version(key)
        try:
            st = os.stat(self.path(key))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise local_error(e, "cannot look at", self.describe(key)) from e
        return file_version(st) if stat.S_ISREG(st.st_mode) else None

    def read_with_etag(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        if self._row(key):
            return self._rows.read_with_etag(key, max_bytes)
        if max_bytes is None:
            data = self.read_bytes(key)
            return data, _etag(data)
        import hashlib

        try:
            with self._open(key) as f:
                data = f.read(max_bytes + 1)
                if len(data) <= max_bytes:
                    return data, _etag(data)
                digest = hashlib.sha256(data)  # the ETag of what is there, hashed a block at a time
                for block in iter(lambda: f.read(CHUNK), b""):
                    digest.update(block)
        except FileNotFoundError:
            raise
        except OSError as e:
            raise local_error(e, "cannot read", self.describe(key)) from e
        error = TooLarge(f"larger than the {max_bytes} bytes allowed here; not read", path=self.describe(key))
        error.etag = '"' + digest.hexdigest() + '"'
        raise error

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write, optionally only if absent or unchanged (compare-and-swap under a lock)."""
        import fcntl

        if self._row(key):
            return self._rows.put(key, data, if_none_match=if_none_match, if_match=if_match)

        name = self.path(key).name
        lock_name = f".{name}.lock"
        with folder_of(self.root, check_key(key), create=True, doing="writing") as folder:
            while True:  # the lock file is removed after each write (none piles up): lock one still there
                lock = os.fdopen(regular_fd(lock_name, os.O_RDWR | os.O_CREAT, "locking with", dir_fd=folder), "r+b")
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    held = (
                        os.stat(lock_name, dir_fd=folder, follow_symlinks=False).st_ino
                        == os.fstat(lock.fileno()).st_ino
                    )
                except FileNotFoundError:
                    held = False
                if held:
                    break
                lock.close()  # removed by the writer before us: take the new one
            with lock:
                try:
                    written = self._put_locked(folder, key, name, data, if_none_match, if_match)
                finally:
                    with contextlib.suppress(OSError):
                        os.unlink(lock_name, dir_fd=folder)  # still locked: a waiter sees it gone
        return file_version(written)

    def _put_locked(
        self, folder: int, key: str, name: str, data: bytes, if_none_match: bool, if_match: str | None
    ) -> os.stat_result:
        try:
            with os.fdopen(regular_fd(name, os.O_RDONLY, "reading", dir_fd=folder), "rb") as f:
                current: str | None = _etag(f.read())
        except FileNotFoundError:
            current = None
        if (if_none_match and current is not None) or (if_match is not None and current != if_match):
            raise PreconditionFailed("someone else changed this object first", path=self.describe(key))
        try:
            return write_in(folder, name, (data,))
        except OSError as e:
            raise local_error(e, "cannot write", self.describe(key)) from e

    def _files(self, prefix: str) -> list[tuple[str, os.DirEntry[str]]]:
        """(key, entry) of every regular file under ``prefix`` (a link to one counts; hidden
        names do not; links to folders are not followed), sorted by key: one ``scandir`` per
        folder, so listing a locale of a large fleet costs no path objects per file."""
        if prefix.strip("/"):
            check_key(prefix.strip("/"))  # a prefix is a key: never a way out of the folder
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return []
        out: list[tuple[str, os.DirEntry[str]]] = []
        todo = [(str(base), prefix.strip("/") + "/" if prefix.strip("/") else "")]
        while todo:
            folder, rel = todo.pop()
            try:
                with os.scandir(folder) as it:
                    entries = list(it)
            except PermissionError:
                continue
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        todo.append((entry.path, rel + entry.name + "/"))
                    elif not entry.name.startswith(".") and entry.is_file():
                        out.append((rel + entry.name, entry))
                except OSError:
                    continue
        out.sort(key=lambda ke: ke[0])
        return out

    def list(self, prefix: str = "") -> Iterator[str]:
        rows = [key for key, _, _ in self._rows.items(prefix)]
        files = [key for key, _ in self._files(prefix) if not key.startswith(ROWS_PREFIX)]
        return heapq.merge(files, rows) if rows else iter(files)

    def list_with_times(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        rows = [(key, modified) for key, _, modified in self._rows.items(prefix)]
        return heapq.merge(self._stat_files(prefix, lambda st: st.st_mtime), rows)

    def list_versions(self, prefix: str = "") -> Iterator[tuple[str, str]]:
        rows = [(key, version) for key, version, _ in self._rows.items(prefix)]
        return heapq.merge(self._stat_files(prefix, file_version), rows)

    def _stat_files(self, prefix: str, what: Callable[[os.stat_result], _V]) -> Iterator[tuple[str, _V]]:
        """(key, what of its stat) of the files under ``prefix``, looked at as they are listed (the
        index's files from before it was kept as rows are never listed)."""
        for key, entry in self._files(prefix):
            if key.startswith(ROWS_PREFIX):
                continue
            try:
                yield key, what(entry.stat())
            except FileNotFoundError:
                continue  # deleted since the listing (a lease dropped by its publisher): skip it

    def list_folders(self, prefix: str = "") -> Iterator[str]:
        here = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if (here + "x").startswith(ROWS_PREFIX):  # folders of the index's rows
            return iter(self._rows.folders(here))
        base = self.root / prefix if prefix else self.root
        try:
            names = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
        except (FileNotFoundError, NotADirectoryError):
            names = []
        except OSError as e:
            raise local_error(e, "cannot list", str(base)) from e
        return iter(names)

    def delete(self, key: str) -> None:  # a link: the link itself; never through a linked folder
        if self._row(key):
            return self._rows.delete(key)
        try:
            with folder_of(self.root, check_key(key), create=False, doing="deleting") as folder:
                os.unlink(self.path(key).name, dir_fd=folder)
        except FileNotFoundError:
            pass


def file_version(st: os.stat_result) -> str:
    """A file's version: it changes whenever the file is replaced (another inode) or rewritten."""
    return f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}"


def _etag(data: bytes) -> str:
    import hashlib

    return '"' + hashlib.sha256(data).hexdigest() + '"'
