"""Derived state kept as rows of one SQLite database file in a folder workspace (one cohesive
backend: finding, opening, replacing and reading the database belong together).

The translation-memory index (``index/memory/``, :mod:`localize.catalogs.memory_index`) is many
small objects: a one-course lookup reads the records of every course that first held one of its
texts or their near matches, and a larger fleet spreads those over more courses. As files, that
is one open and read per course; as rows of one database it is one file whatever the fleet's
size. :class:`~localize.storage.base.LocalStorage` serves these keys through the same
:class:`~localize.storage.base.Storage` methods as its files, with the same meaning: a write is
atomic, a version changes with every write, and a conditional write (:meth:`Rows.put`) compares
and swaps in one transaction, so the index code is the same on a folder and on S3 (where the
index stays objects).

Where it is: ``index/.memory.current`` names the database in use, ``index/.memory-ID.sqlite3``.
A database is made whole under its own new name (table made, permissions set) and then named in
``.memory.current`` (replaced by a rename, under a lock), so no process ever sees one half made,
and a database is never renamed or replaced while others may have it open: SQLite finds a
database's journal by its name, and a connection left on a renamed file would take the next
one's journal for its own. Each operation first looks whether ``.memory.current`` is still the
file it read (one ``lstat``); when it is not, the connection is dropped and the named database
opened. The database is made with the umask's permissions, as the workspace's files are (a group
sharing the workspace with umask 002 can write it). Reading never makes it, and SQLite is never
let make it (it would, with 0644). localize's own file operations here go through the folder's
descriptor and never follow a link; SQLite opens the database and its journal by name, so one who
can swap ``index`` for a link at the instant a journal is made can have a file of that one name
made in the link's target (nothing is deleted or read there).

Processes and threads of one machine share the database: each thread of each process has one
connection to it, whatever the number of :class:`Rows` (a process made by fork opens its own and
never uses or closes its parent's; fork while another thread is writing leaves the child unable to
write the index until the parent's write lock is gone, as SQLite documents: localize forks its
workers before any thread writes). The rollback journal, not WAL, keeps it on the file locks a
folder workspace already relies on.

Nothing here is the record, and nothing in it is trusted: a database that is not one (damaged by
a crash of the machine, emptied, or replaced by hand), that holds anything but the one table this
module makes, or that is gone (or a pipe, link or folder stands at its journal's name) is replaced
(an error that says only that it could not be used now, such as running out of file descriptors,
is reported: SQLite's result code, not its message, tells which): a new empty database is made and named, the
one replaced is kept as it is for a look (only the latest), and each locale's next lookup rebuilds
its index from the catalogs. Only one process replaces it (under the lock, if it still is the one
named); the others notice and reopen. Values are read as the types they should be whatever the
file holds, and a value is measured before it is read. A database another user made and this one
cannot write is not replaced: the error names it and what to change.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import io
import os
import re
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar
from urllib.parse import quote

from localize.errors import PermanentStorageError, PreconditionFailed, StorageError, TransientStorageError
from localize.storage.folder_files import folder_of, new_file_mode, write_in
from localize.storage.limits import TooLarge, copy_limited

__all__ = ["CURRENT", "PREFIX", "Rows", "database_of"]

PREFIX = "index/memory/"  # the keys kept as rows
CURRENT = "index/.memory.current"  # names the database in use (hidden: never listed as a key)
_NAME = ".memory-"  # + ID + ".sqlite3": the databases (and "-journal" beside each)
# what _make may remove: databases, a temporary file of .memory.current, and the index of earlier versions
# (index/memory/ as files; index/.memory.sqlite3 with its journal and the copies set aside)
_OURS = (_NAME, "..memory.current.", ".memory.sqlite3", ".memory.lock")
BUSY = 120.0  # seconds a statement waits for another process's write before giving up
_T = TypeVar("_T")


def _schema() -> tuple[str, list[tuple[str, str, str]]]:
    """The statement making the table, and what ``sqlite_master`` then holds: all a database of
    ours may hold. STRICT (SQLite 3.37) where there is one; the reads cast every value anyway."""
    strict = " STRICT," if sqlite3.sqlite_version_info >= (3, 37) else ""
    make = (
        "CREATE TABLE IF NOT EXISTS objects (key TEXT PRIMARY KEY, data BLOB NOT NULL, version TEXT NOT NULL, "
        f"modified REAL NOT NULL){strict} WITHOUT ROWID"
    )
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.execute(make)
        return make, [tuple(r) for r in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")]


_SCHEMA: tuple[str, list[tuple[str, str, str]]] | None = None


class _Damaged(Exception):
    """The database ``name`` is not one of ours, or is gone: it is replaced."""

    def __init__(self, message: str, name: str | None) -> None:
        super().__init__(message)
        self.name = name


@dataclass
class _Open:
    conn: sqlite3.Connection
    pid: int
    ident: tuple[int, int, int]  # of the CURRENT file read: device, inode, modification time
    name: str  # the database's file name in index/


_LOCAL = threading.local()  # this thread's connections, by workspace
_ABANDONED: list[sqlite3.Connection] = []  # a parent's connections seen after a fork: never used or closed


def _connections() -> dict[str, _Open]:
    found: dict[str, _Open] | None = getattr(_LOCAL, "open", None)
    if found is None:
        found = _LOCAL.open = {}
    return found


def _ident(path: Path) -> tuple[int, int, int] | None:
    try:
        st = os.lstat(path)
    except OSError:  # absent, or not to be looked at: the next open says which
        return None
    return (st.st_dev, st.st_ino, st.st_mtime_ns)


def _text(value: object) -> str:
    """A text column read as bytes (a byte no UTF-8 makes is damage, not a crash)."""
    try:
        return value.decode() if isinstance(value, bytes) else str(value)
    except UnicodeDecodeError as e:
        raise _Damaged(f"a value is not text: {e}", None) from e


def database_of(root: Path) -> Path | None:
    """The database in use in the folder workspace at ``root`` (None: none named)."""
    try:
        with folder_of(root, CURRENT, create=False, doing="reading the memory index") as fd:
            name = Rows(root)._named(fd)[1]
    except (FileNotFoundError, StorageError):
        return None
    return None if name is None else root / "index" / name


def _valid(name: str) -> bool:
    return re.fullmatch(r"\.memory-[0-9a-f]{1,64}\.sqlite3", name) is not None


def _remove(fd: int, name: str) -> None:
    """Remove ``name`` in the folder ``fd``: a folder with what it holds, anything else itself
    (a link: the link); never through a link."""
    with contextlib.suppress(FileNotFoundError):
        if stat.S_ISDIR(os.lstat(name, dir_fd=fd).st_mode):
            import shutil  # only here: not loaded by every command that opens the index

            shutil.rmtree(name, dir_fd=fd)
        else:
            os.unlink(name, dir_fd=fd)


class Rows:
    """The keys under :data:`PREFIX` of a folder workspace at ``root``, as rows of its database."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder = root / "index"
        self.current = root / CURRENT

    def describe(self, key: str = "") -> str:
        where = f"{self.folder}/{_NAME}*.sqlite3"
        return f"{where} ({key})" if key else where

    # -- connections ---------------------------------------------------------------------

    def _connect(self, create: bool) -> _Open | None:
        """This thread's connection to the database ``.memory.current`` names now (reopened when
        it names another); None when there is none and not ``create``."""
        cache = _connections()
        known = cache.get(str(self.root))
        if known is not None:
            if known.pid == os.getpid() and known.ident == _ident(self.current):
                if self._journal_ok(None, known.name):
                    return known
                raise _Damaged("what stands at its journal's name is not a file", known.name)
            self._drop(known)
        try:
            with folder_of(self.root, CURRENT, create=create, doing="keeping the memory index") as fd:
                ident, name = self._named(fd)
                if name is None or not self._is_file(fd, name):
                    if not create:
                        return None
                    ident, name = self._make(fd, name)
                if not self._journal_ok(fd, name):
                    raise _Damaged("what stands at its journal's name is not a file", name)
        except FileNotFoundError:
            return None  # no index folder: nothing was ever written
        uri = f"file:{quote(str(self.folder / name))}?mode=rw"  # SQLite never makes it (it would, 0644)
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=BUSY, isolation_level=None, check_same_thread=True)
        except sqlite3.OperationalError as e:
            if self._damage(e, name):
                raise _Damaged(str(e), name) from e
            raise
        opened = _Open(conn, os.getpid(), ident, name)
        try:
            # files of the workspace are not synced either: a crash of the machine can damage the
            # database, which is then replaced and the index rebuilt (see the module's notes)
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("PRAGMA journal_mode=TRUNCATE")
            conn.execute("PRAGMA trusted_schema=OFF")
            if [tuple(r) for r in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name")] != _made()[
                1
            ]:
                raise _Damaged("it holds tables this program did not make", name)
        except sqlite3.Error as e:
            conn.close()
            if self._damage(e, name):
                raise _Damaged(str(e), name) from e
            raise
        except BaseException:
            conn.close()
            raise
        cache[str(self.root)] = opened
        return opened

    def _drop(self, known: _Open) -> None:
        _connections().pop(str(self.root), None)
        if known.pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                known.conn.close()
        else:
            _ABANDONED.append(known.conn)  # its parent's: closing it here could undo the parent's work

    def _named(self, fd: int) -> tuple[tuple[int, int, int], str | None]:
        """What ``.memory.current`` is (to see later whether it changed) and the database it names."""
        try:
            f = os.open(".memory.current", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=fd)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ELOOP, errno.ENXIO):
                return (-1, -1, -1), None  # absent, or a link (replaced when written)
            raise
        try:
            st = os.fstat(f)
            text = os.read(f, 200) if stat.S_ISREG(st.st_mode) else b""
        finally:
            os.close(f)
        name = text.decode("utf-8", "replace").strip()
        return (st.st_dev, st.st_ino, st.st_mtime_ns), name if _valid(name) else None

    def _journal_ok(self, fd: int | None, name: str) -> bool:
        """Nothing but a file at the journal's name (SQLite would wait on a pipe there for ever)."""
        try:
            if fd is None:
                mode = os.lstat(self.folder / f"{name}-journal").st_mode
            else:
                mode = os.lstat(f"{name}-journal", dir_fd=fd).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return True
        return stat.S_ISREG(mode)

    @staticmethod
    def _is_file(fd: int, name: str) -> bool:
        try:
            return stat.S_ISREG(os.lstat(name, dir_fd=fd).st_mode)
        except FileNotFoundError:
            return False

    def _make(self, fd: int, replacing: str | None) -> tuple[tuple[int, int, int], str]:
        """Make a new database and name it in ``.memory.current``, unless it names another than
        ``replacing`` (made by another process meanwhile: that one is used). Under the lock; keeps
        ``replacing`` (for a look) and removes the other databases, what earlier versions kept,
        and anything a process stopped midway here left."""
        lock = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)  # (fd may be O_PATH)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)  # the folder itself: no lock file to be replaced by hand
            ident, now = self._named(fd)
            if now is not None and now != replacing and self._is_file(fd, now) and self._journal_ok(fd, now):
                return ident, now
            name = f"{_NAME}{time.time_ns():x}{os.urandom(4).hex()}.sqlite3"
            try:
                made = os.open(
                    name, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=fd
                )
                try:
                    os.fchmod(made, new_file_mode())  # the umask's, not SQLite's 0644 (its journal follows)
                finally:
                    os.close(made)
                uri = f"file:{quote(str(self.folder / name))}?mode=rw"
                with contextlib.closing(sqlite3.connect(uri, uri=True)) as c:
                    c.execute("PRAGMA journal_mode=TRUNCATE")
                    c.execute(_made()[0])
                with contextlib.suppress(FileNotFoundError):
                    if not stat.S_ISREG(os.lstat(".memory.current", dir_fd=fd).st_mode):
                        _remove(fd, ".memory.current")  # a folder put there by hand: never written through
                write_in(fd, ".memory.current", (f"{name}\n".encode(),))
            except BaseException:
                for made_here in (name, f"{name}-journal"):
                    with contextlib.suppress(OSError):
                        _remove(fd, made_here)
                raise
            keep = {name, f"{name}-journal", ".memory.current"}
            if replacing is not None:
                keep |= {replacing, f"{replacing}-journal"}
            for entry in os.listdir(lock):
                if entry not in keep and (entry.startswith(_OURS) or entry == "memory"):
                    with contextlib.suppress(OSError):
                        _remove(fd, entry)
            ident, _ = self._named(fd)
            return ident, name
        finally:
            os.close(lock)  # (the lock goes with it)

    def _run(self, work: Callable[[sqlite3.Connection], _T], key: str, *, create: bool, absent: _T) -> _T:
        """``work`` on this thread's connection (``absent`` when there is no database and not
        ``create``). When ``.memory.current`` changed under it, ``work`` is done again on the
        database it names; a database that is not one of ours is replaced and ``work`` done on
        the new one; a lock held past :data:`BUSY` is a transient error."""
        try:
            key.encode()
        except UnicodeEncodeError:
            raise PermanentStorageError("is not valid text (UTF-8); not a key of the index", path=repr(key)) from None
        replaced = False
        for _ in range(4):
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
                if opened is not None and opened.ident != _ident(self.current):
                    self._drop(opened)  # replaced by another process during the work: done again there
                    continue
                if isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e)):
                    raise TransientStorageError(
                        f"the database stayed locked by another process: {e}", path=self.describe(key)
                    ) from e
                damaged = isinstance(e, _Damaged) or self._damage(e, opened.name if opened else None)
                if not create and (damaged or _code(e) in (_READONLY, _IOERR, _CANTOPEN)):
                    return absent  # not one to read from (a reader may not roll back a journal): absent
                if not damaged or replaced:
                    if _code(e) in (_READONLY, _CANTOPEN):
                        self._check_writable(key, e)
                    raise StorageError(f"the database failed: {e}", path=self.describe(key)) from e
                # the one that failed, not the one named now (another process may have replaced it)
                failed = (e.name if isinstance(e, _Damaged) else None) or (opened.name if opened else None)
                if opened is not None:
                    self._drop(opened)
                try:
                    with folder_of(self.root, CURRENT, create=True, doing="keeping the memory index") as fd:
                        self._make(fd, failed)
                except (OSError, sqlite3.Error) as oe:
                    raise StorageError(f"cannot make the database anew: {oe}", path=self.describe(key)) from e
                replaced = True
            except OSError as e:
                raise StorageError(f"cannot open the database: {e.strerror or e}", path=self.describe(key)) from e
        raise TransientStorageError("the database kept being replaced by other processes", path=self.describe(key))

    def _damage(self, e: sqlite3.Error, name: str | None) -> bool:
        """Whether ``e`` says the database ``name`` is not one of ours (replaced), rather than that
        it could not be used now (out of file descriptors, a journal this user cannot write: a
        healthy database is never replaced for those)."""
        code = _code(e)
        if code in (_CORRUPT, _NOTADB) or "no such table" in str(e):
            return True
        if code in (_READONLY, _IOERR, _CANTOPEN) and name is not None:
            try:  # gone, or something else put there (or at its journal's name) by hand
                return not stat.S_ISREG(os.lstat(self.folder / name).st_mode) or not self._journal_ok(None, name)
            except FileNotFoundError:
                return True
            except OSError:
                return False
        return False

    def _check_writable(self, key: str, e: Exception) -> None:
        """A database (or its folder or journal) this user cannot write is another user's: named."""
        try:
            database = database_of(self.root)
        except OSError:
            return
        journal = None if database is None else Path(f"{database}-journal")
        for path in (self.folder, database, journal):
            try:
                st = path.stat() if path is not None and not os.access(path, os.W_OK) else None
            except OSError:
                st = None  # gone meanwhile: not another user's
            if path is not None and st is not None:
                raise StorageError(
                    f"is not writable by this user (owner uid {st.st_uid}, mode {stat.S_IMODE(st.st_mode):o}): "
                    "everyone who writes a shared workspace needs group write on index/ and its files "
                    "(chmod -R g+w, and umask 002 for each of them); or remove the file (derived state: "
                    "`localize index rebuild` makes the index again)",
                    path=str(path),
                ) from e

    # -- the Storage methods ----------------------------------------------------------------

    def _get(self, key: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """The value and version of ``key``, its size measured before it is read."""
        query = (
            "SELECT CASE WHEN ? IS NULL OR length(data) <= ? THEN CAST(data AS BLOB) END, CAST(version AS BLOB) "
            "FROM objects WHERE key = ?"
        )

        def get(c: sqlite3.Connection) -> tuple[bytes | None, str] | None:
            row = c.execute(query, (max_bytes, max_bytes, key)).fetchone()
            return None if row is None else (row[0], _text(row[1]))

        got = self._run(get, key, create=False, absent=None)
        if got is None:
            raise FileNotFoundError(errno.ENOENT, "no such object", self.describe(key))
        if got[0] is None:
            error = TooLarge(f"larger than the {max_bytes} bytes allowed here; not read", path=self.describe(key))
            error.etag = f'"{got[1]}"'
            raise error
        return bytes(got[0]), got[1]

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
        def get(c: sqlite3.Connection) -> str | None:
            row = c.execute("SELECT CAST(version AS BLOB) FROM objects WHERE key = ?", (key,)).fetchone()
            return None if row is None else _text(row[0])

        return self._run(get, key, create=False, absent=None)

    def write_bytes(self, key: str, data: bytes) -> str:
        return self.put(key, data)

    def put(self, key: str, data: bytes, *, if_none_match: bool = False, if_match: str | None = None) -> str:
        version = f"r{time.time_ns():x}{os.urandom(4).hex()}"

        def write(c: sqlite3.Connection) -> None:
            c.execute("BEGIN IMMEDIATE")
            try:
                row = c.execute("SELECT CAST(version AS BLOB) FROM objects WHERE key = ?", (key,)).fetchone()
                current = None if row is None else f'"{_text(row[0])}"'
                if (if_none_match and current is not None) or (if_match is not None and current != if_match):
                    raise PreconditionFailed("someone else changed this object first", path=self.describe(key))
                c.execute(
                    "INSERT OR REPLACE INTO objects (key, data, version, modified) VALUES (?, ?, ?, ?)",
                    (key, bytes(data), version, time.time()),
                )
            except BaseException:
                if c.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
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
            "SELECT CAST(key AS BLOB), CAST(version AS BLOB), CAST(modified AS REAL) FROM objects "
            "WHERE key >= ? AND key < ? ORDER BY key"
        )

        def get(c: sqlite3.Connection) -> list[tuple[str, str, float]]:
            return [(_text(k), _text(v), float(m)) for k, v, m in c.execute(query, (low, high))]

        none: list[tuple[str, str, float]] = []
        return iter(self._run(get, prefix, create=False, absent=none))

    def folders(self, prefix: str) -> list[str]:
        """The names of the folders directly under the folder ``prefix`` (within :data:`PREFIX`)."""
        here = prefix.strip("/") + "/"
        return sorted({k[len(here) :].split("/")[0] for k, _, _ in self.items(here) if "/" in k[len(here) :]})


def _made() -> tuple[str, list[tuple[str, str, str]]]:
    global _SCHEMA
    if _SCHEMA is None:
        _SCHEMA = _schema()
    return _SCHEMA


# SQLite's primary result codes (sqlite3.h) that say what became of a database
_READONLY, _IOERR, _CORRUPT, _CANTOPEN, _NOTADB = 8, 10, 11, 14, 26


def _code(e: BaseException) -> int | None:
    code = getattr(e, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None
