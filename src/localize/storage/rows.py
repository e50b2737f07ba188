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

Processes and threads of one machine share the database: each thread of each process has one
connection to it, whatever the number of :class:`Rows` (a process made by fork opens its own and
never touches its parent's). The rollback journal, not WAL, keeps it on the file locks a folder
workspace already relies on. The file is made with the umask's permissions, as the workspace's
files are (SQLite's own default would be 0644 and lock out a group sharing the workspace).
Reading never makes it: an index never written has no rows.

Nothing here is the record, and nothing in it is trusted: a database that is not one (damaged
by a crash of the machine, or replaced by hand), or that holds anything but the one table this
module makes, is set aside as ``index/.memory.sqlite3.damaged-*`` (only the latest is kept) and
made anew, empty, and the next lookup of each locale rebuilds its index from the catalogs. Only
the process that finds the damage sets the file aside, and only if it is still the file it found
damaged: the others notice a new file and reopen. Values are read as the types they should be
whatever the file holds, and a value is measured before it is read.
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

from localize.errors import PreconditionFailed, StorageError, TransientStorageError
from localize.storage.folder_files import folder_of, new_file_mode
from localize.storage.limits import TooLarge, copy_limited

__all__ = ["DATABASE", "PREFIX", "Rows"]

PREFIX = "index/memory/"  # the keys kept as rows
DATABASE = "index/.memory.sqlite3"  # a hidden name: never listed as a key of the workspace
JOURNAL = "-journal"
BUSY = 120.0  # seconds a statement waits for another process's write before giving up
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, data BLOB NOT NULL, version TEXT NOT NULL, "
    "modified REAL NOT NULL) STRICT, WITHOUT ROWID"
)


def _stored_schema() -> list[tuple[str, str, str]]:
    """What ``sqlite_master`` holds once :data:`_SCHEMA` is made: all a database of ours may hold."""
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.execute(_SCHEMA)
        return [tuple(r) for r in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")]


_EXPECTED = _stored_schema()
_T = TypeVar("_T")


class _Damaged(Exception):
    """The database at ``ident`` (device, inode) is not one, or holds something this module did not make."""

    def __init__(self, message: str, ident: tuple[int, int]) -> None:
        super().__init__(message)
        self.ident = ident


@dataclass
class _Open:
    conn: sqlite3.Connection
    pid: int
    ident: tuple[int, int]  # device and inode of the file it opened


_LOCAL = threading.local()  # this thread's connections, by database path
_ABANDONED: list[sqlite3.Connection] = []  # a parent's connections seen after a fork: never used or closed


def _connections() -> dict[str, _Open]:
    found: dict[str, _Open] | None = getattr(_LOCAL, "open", None)
    if found is None:
        found = _LOCAL.open = {}
    return found


def _ident(path: Path) -> tuple[int, int] | None:
    """The device and inode of the regular file at ``path`` (None: nothing there)."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISREG(st.st_mode) else (-1, -1)


class Rows:
    """The keys under :data:`PREFIX` of a folder workspace at ``root``, as rows of :data:`DATABASE`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / DATABASE

    def describe(self, key: str = "") -> str:
        return f"{self.path} ({key})" if key else str(self.path)

    # -- connections ---------------------------------------------------------------------

    def _connect(self, create: bool) -> _Open | None:
        """This thread's connection to the database at :attr:`path` as it is now (reopened when the
        file there is another); None when there is none and not ``create``."""
        cache = _connections()
        name = str(self.path)
        known = cache.get(name)
        ident = _ident(self.path)
        if known is not None:
            if known.pid == os.getpid() and known.ident == ident:
                self._clear_journal()
                return known
            del cache[name]
            if known.pid == os.getpid():
                with contextlib.suppress(sqlite3.Error):
                    known.conn.close()
            else:
                _ABANDONED.append(known.conn)  # its parent's: closing it here could undo the parent's work
        try:
            with folder_of(self.root, DATABASE, create=create, doing="keeping the memory index"):
                pass  # `index` is a folder, not a link (refused, named): checked before any path use
        except FileNotFoundError:
            return None
        self._clear_journal()
        if ident == (-1, -1):  # a link or a folder put there: set aside, never followed
            self._set_aside(ident)
            ident = None
        if ident is None:
            if not create:
                return None
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                try:
                    os.fchmod(fd, new_file_mode())  # the umask's, not SQLite's 0644 (its journal follows)
                finally:
                    os.close(fd)
                legacy = self.path.parent / "memory"
                if legacy.is_dir() and not legacy.is_symlink():
                    # the index as files, from before it was kept here: derived, and never read again
                    shutil.rmtree(legacy, ignore_errors=True)
            except FileExistsError:
                pass  # another process made it first
            ident = _ident(self.path)
        conn = sqlite3.connect(self.path, timeout=BUSY, isolation_level=None, check_same_thread=True)
        opened = _Open(conn, os.getpid(), ident or (-1, -1))
        try:
            # files of the workspace are not synced either: a crash of the machine can damage the
            # database, which is then set aside and the index rebuilt (see the module's notes)
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA journal_mode=TRUNCATE")
            conn.execute("PRAGMA trusted_schema=OFF")
            schema = [tuple(r) for r in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")]
            if not schema:
                conn.execute(_SCHEMA)
            elif schema != _EXPECTED:
                raise _Damaged("it holds tables this program did not make", opened.ident)
        except sqlite3.Error as e:
            conn.close()
            if _damaged(e):
                raise _Damaged(str(e), opened.ident) from e
            raise
        except BaseException:
            conn.close()
            raise
        cache[name] = opened
        return opened

    def _clear_journal(self) -> None:
        """A link at the journal's name is removed, never followed; anything else not a file is named."""
        journal = f"{self.path}{JOURNAL}"
        try:
            mode = os.lstat(journal).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISLNK(mode):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(journal)
        elif not stat.S_ISREG(mode):
            raise StorageError(
                "is not a file where the memory index's journal is kept; remove it (derived state: "
                "`localize index rebuild` makes the index again)",
                path=journal,
            )

    def _set_aside(self, ident: tuple[int, int] | None) -> None:
        """Set the database aside if the file there is still the one found damaged (``ident``);
        earlier ones set aside are removed."""
        if _ident(self.path) != ident:
            return  # another process set it aside first and made a new one: that one is not damaged
        aside = self.path.with_name(f"{self.path.name}.damaged-{time.time_ns():x}")
        with contextlib.suppress(FileNotFoundError):
            os.rename(self.path, aside)
        for extra in (JOURNAL, "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
                os.unlink(f"{self.path}{extra}")
        for old in self.path.parent.glob(f"{self.path.name}.damaged-*"):
            if old.name == aside.name:
                continue
            with contextlib.suppress(OSError):
                if old.is_dir() and not old.is_symlink():
                    shutil.rmtree(old)
                else:
                    old.unlink()

    def _run(self, work: Callable[[sqlite3.Connection], _T], key: str, *, create: bool, absent: _T) -> _T:
        """``work`` on this thread's connection (``absent`` when there is no database and not
        ``create``). A database that is not one is set aside and ``work`` done on a new one; a
        lock held past :data:`BUSY` is a transient error."""
        for attempt in range(2):
            opened: _Open | None = None
            try:
                opened = self._connect(create)
                if opened is None:
                    return absent
                return work(opened.conn)
            except (sqlite3.Error, _Damaged) as e:
                if opened is not None and opened.conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        opened.conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
                    raise TransientStorageError(
                        f"the database stayed locked by another process: {e}", path=self.describe(key)
                    ) from e
                if attempt or not (isinstance(e, _Damaged) or _damaged(e)):
                    raise StorageError(f"the database failed: {e}", path=self.describe(key)) from e
                damaged = e.ident if isinstance(e, _Damaged) else opened.ident if opened is not None else None
            except OSError as e:
                raise StorageError(f"cannot open the database: {e.strerror or e}", path=self.describe(key)) from e
            _connections().pop(str(self.path), None)
            if opened is not None:
                with contextlib.suppress(sqlite3.Error):
                    opened.conn.close()
            self._set_aside(damaged)  # not a database of ours: derived state, made anew (the index is rebuilt)
        raise AssertionError("unreachable")

    # -- the Storage methods ----------------------------------------------------------------

    def _get(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """The value and version of ``key``, its size measured before it is read."""
        query = (
            "SELECT CASE WHEN ? IS NULL OR length(data) <= ? THEN CAST(data AS BLOB) END, CAST(version AS TEXT) "
            "FROM objects WHERE key = ?"
        )
        row = self._run(
            lambda c: c.execute(query, (max_bytes, max_bytes, key)).fetchone(), key, create=False, absent=None
        )
        if row is None:
            raise FileNotFoundError(errno.ENOENT, "no such object", self.describe(key))
        if row[0] is None:
            error = TooLarge(f"larger than the {max_bytes} bytes allowed here; not read", path=self.describe(key))
            error.etag = f'"{row[1]}"'
            raise error
        return bytes(row[0]), str(row[1])

    def read_bytes(self, key: str) -> bytes:
        return self._get(key)[0]

    def read_with_etag(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        data, version = self._get(key, max_bytes)
        return data, f'"{version}"'

    def download(self, key: str, dest: IO[bytes], *, max_bytes: int | None, block: int) -> int:
        data = self._get(key, max_bytes)[0]
        return copy_limited(io.BytesIO(data), dest, max_bytes, self.describe(key), block)

    def exists(self, key: str) -> bool:
        return self.version(key) is not None

    def version(self, key: str) -> str | None:
        query = "SELECT CAST(version AS TEXT) FROM objects WHERE key = ?"
        row = self._run(lambda c: c.execute(query, (key,)).fetchone(), key, create=False, absent=None)
        return None if row is None else str(row[0])

    def write_bytes(self, key: str, data: bytes) -> str:
        return self.put(key, data)

    def put(self, key: str, data: bytes, *, if_none_match: bool = False, if_match: str | None = None) -> str:
        version = f"r{time.time_ns():x}{secrets.token_hex(4)}"

        def write(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            try:
                row = c.execute("SELECT CAST(version AS TEXT) FROM objects WHERE key = ?", (key,)).fetchone()
                current = None if row is None else f'"{row[0]}"'
                if (if_none_match and current is not None) or (if_match is not None and current != if_match):
                    raise PreconditionFailed("someone else changed this object first", path=self.describe(key))
                c.execute(
                    "INSERT OR REPLACE INTO objects (key, data, version, modified) VALUES (?, ?, ?, ?)",
                    (key, bytes(data), version, time.time()),
                )
            except BaseException:
                c.execute("ROLLBACK")
                raise
            c.execute("COMMIT")

        self._run(write, key, create=True, absent=None)
        return version

    def delete(self, key: str) -> None:
        self._run(lambda c: c.execute("DELETE FROM objects WHERE key = ?", (key,)), key, create=False, absent=None)

    def items(self, prefix: str) -> Iterator[tuple[str, str, float]]:
        """(key, version, modified) of every row under the folder ``prefix``, sorted by key (UTF-8
        order, which is Python's order of code points)."""
        low = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if not (low.startswith(PREFIX) or PREFIX.startswith(low)):
            return iter(())
        high = low[:-1] + chr(ord(low[-1]) + 1) if low else "\U0010ffff"
        query = (
            "SELECT CAST(key AS TEXT), CAST(version AS TEXT), CAST(modified AS REAL) FROM objects "
            "WHERE key >= ? AND key < ? ORDER BY key"
        )
        found: list[tuple[str, str, float]] = self._run(
            lambda c: c.execute(query, (low, high)).fetchall(), prefix, create=False, absent=[]
        )
        return iter([(str(k), str(v), float(m)) for k, v, m in found])

    def folders(self, prefix: str) -> list[str]:
        """The names of the folders directly under the folder ``prefix`` (within :data:`PREFIX`)."""
        here = prefix.strip("/") + "/"
        return sorted({k[len(here) :].split("/")[0] for k, _, _ in self.items(here) if "/" in k[len(here) :]})


def _damaged(e: sqlite3.Error) -> bool:
    text = str(e)
    return "malformed" in text or "not a database" in text or "disk image" in text
