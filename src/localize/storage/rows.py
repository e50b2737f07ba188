"""Derived state kept as rows of one SQLite database file in a folder workspace.

The translation-memory index (``index/memory/``, :mod:`localize.catalogs.memory_index`) is many
small objects: a one-course lookup reads the records of every course that first held one of its
texts or their near matches, and a larger fleet spreads those over more courses. As files, that
is one open and read per course; as rows of one database (``index/.memory.sqlite3``) it is one
file whatever the fleet's size. :class:`~localize.storage.base.LocalStorage` serves these keys
through the same :class:`~localize.storage.base.Storage` methods as its files, with the same
meaning: a write is atomic, a version changes with every write, and a conditional write
(:meth:`Rows.put`) compares and swaps in one transaction, so the index code is the same on a
folder and on S3 (where the index stays objects).

Processes and threads of one machine share the database (each its own connection; a process
made by fork opens its own). The rollback journal, not WAL, keeps it on the file locks a folder
workspace already relies on. Nothing here is the record: a database that is not one (damaged by a
crash of the machine, or replaced by hand) is set aside as ``index/.memory.sqlite3.damaged-*`` and
made anew, empty, and the next lookup of each locale rebuilds its index from the catalogs.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TypeVar

from localize.errors import PreconditionFailed, StorageError, TransientStorageError
from localize.storage.limits import TooLarge, copy_limited

__all__ = ["DATABASE", "PREFIX", "Rows"]

PREFIX = "index/memory/"  # the keys kept as rows
DATABASE = "index/.memory.sqlite3"  # a hidden name: never listed as a key of the workspace
BUSY = 120.0  # seconds a statement waits for another process's write before giving up
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects ("
    "key TEXT PRIMARY KEY, data BLOB NOT NULL, version TEXT NOT NULL, modified REAL NOT NULL) WITHOUT ROWID"
)
_T = TypeVar("_T")


class Rows:
    """The keys under :data:`PREFIX` of a folder workspace at ``root``, as rows of :data:`DATABASE`."""

    def __init__(self, root: Path) -> None:
        self.path = root / DATABASE
        self._local = threading.local()

    def describe(self, key: str = "") -> str:
        return f"{self.path} ({key})" if key else str(self.path)

    # -- connections ---------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        """This thread's connection (a child made by fork never uses its parent's)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if folder.is_symlink() or not folder.is_dir():
                raise StorageError("not a folder; remove it (it holds derived state only)", path=str(folder))
            with contextlib.suppress(FileNotFoundError):
                if not stat.S_ISREG(os.lstat(self.path).st_mode):  # a link or folder put there: never followed
                    self._set_aside()
            fresh = not self.path.exists()
            conn = sqlite3.connect(self.path, timeout=BUSY, isolation_level=None, check_same_thread=True)
            if fresh and (folder / "memory").is_dir() and not (folder / "memory").is_symlink():
                # the index as files, from before it was kept here: derived, and never read again
                shutil.rmtree(folder / "memory", ignore_errors=True)
        except OSError as e:
            raise StorageError(f"cannot open the database: {e.strerror or e}", path=str(self.path)) from e
        try:
            # files of the workspace are not synced either: a crash of the machine can damage the
            # database, which is then set aside and the index rebuilt (see the module's notes)
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA journal_mode=TRUNCATE")
            conn.execute(_SCHEMA)
        except sqlite3.Error:
            conn.close()
            raise
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _set_aside(self) -> None:
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.time_ns():x}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(self.path, aside)
        for extra in ("-journal", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                os.unlink(f"{self.path}{extra}")

    def _run(self, work: Callable[[sqlite3.Connection], _T], key: str) -> _T:
        """``work`` on this thread's connection. A database that is not one is set aside and
        ``work`` done on a new one; a lock held past :data:`BUSY` is a transient error."""
        for attempt in range(2):
            conn: sqlite3.Connection | None = None
            try:
                conn = self._connect()
                return work(conn)
            except sqlite3.Error as e:
                if conn is not None and conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
                    raise TransientStorageError(
                        f"the database stayed locked by another process: {e}", path=self.describe(key)
                    ) from e
                if attempt or not _damaged(e):
                    raise StorageError(f"the database failed: {e}", path=self.describe(key)) from e
            self._local.conn = None
            if conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    conn.close()
            self._set_aside()  # not a database: derived state, made anew (the index is rebuilt)
        raise AssertionError("unreachable")

    # -- the Storage methods ----------------------------------------------------------------

    def _get(self, key: str) -> tuple[bytes, str]:
        row = self._run(lambda c: c.execute("SELECT data, version FROM objects WHERE key = ?", (key,)).fetchone(), key)
        if row is None:
            raise FileNotFoundError(errno.ENOENT, "no such object", self.describe(key))
        return bytes(row[0]), str(row[1])

    def read_bytes(self, key: str) -> bytes:
        return self._get(key)[0]

    def read_with_etag(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        data, version = self._get(key)
        if max_bytes is not None and len(data) > max_bytes:
            error = TooLarge(f"larger than the {max_bytes} bytes allowed here; not read", path=self.describe(key))
            error.etag = f'"{version}"'
            raise error
        return data, f'"{version}"'

    def download(self, key: str, dest: IO[bytes], *, max_bytes: int | None, block: int) -> int:
        return copy_limited(io.BytesIO(self.read_bytes(key)), dest, max_bytes, self.describe(key), block)

    def exists(self, key: str) -> bool:
        return self.version(key) is not None

    def version(self, key: str) -> str | None:
        row = self._run(lambda c: c.execute("SELECT version FROM objects WHERE key = ?", (key,)).fetchone(), key)
        return None if row is None else str(row[0])

    def write_bytes(self, key: str, data: bytes) -> str:
        return self.put(key, data)

    def put(self, key: str, data: bytes, *, if_none_match: bool = False, if_match: str | None = None) -> str:
        version = f"r{time.time_ns():x}{secrets.token_hex(4)}"

        def write(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            try:
                row = c.execute("SELECT version FROM objects WHERE key = ?", (key,)).fetchone()
                current = None if row is None else f'"{row[0]}"'
                if (if_none_match and current is not None) or (if_match is not None and current != if_match):
                    raise PreconditionFailed("someone else changed this object first", path=self.describe(key))
                c.execute(
                    "INSERT OR REPLACE INTO objects (key, data, version, modified) VALUES (?, ?, ?, ?)",
                    (key, data, version, time.time()),
                )
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

        self._run(write, key)
        return version

    def delete(self, key: str) -> None:
        self._run(lambda c: c.execute("DELETE FROM objects WHERE key = ?", (key,)), key)

    def items(self, prefix: str) -> Iterator[tuple[str, str, float]]:
        """(key, version, modified) of every row under the folder ``prefix``, sorted by key (UTF-8
        order, which is Python's order of code points)."""
        low = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if not (low.startswith(PREFIX) or PREFIX.startswith(low)) or not self.path.exists():
            return iter(())
        high = low[:-1] + chr(ord(low[-1]) + 1) if low else "\U0010ffff"
        rows = self._run(
            lambda c: c.execute(
                "SELECT key, version, modified FROM objects WHERE key >= ? AND key < ? ORDER BY key", (low, high)
            ).fetchall(),
            prefix,
        )
        return iter([(str(k), str(v), float(m)) for k, v, m in rows])

    def folders(self, prefix: str) -> list[str]:
        """The names of the folders directly under the folder ``prefix`` (within :data:`PREFIX`)."""
        here = prefix.strip("/") + "/"
        return sorted({k[len(here) :].split("/")[0] for k, _, _ in self.items(here) if "/" in k[len(here) :]})


def _damaged(e: sqlite3.Error) -> bool:
    text = str(e)
    return "malformed" in text or "not a database" in text or "disk image" in text
