"""The translation-memory index of a folder workspace as rows of one SQLite database
(:mod:`localize.storage.rows`): the same Storage meaning as files, shared by processes, safe
against kills, and made anew when it is damaged."""

from __future__ import annotations

import contextlib
import io
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from localize.catalogs.index import update_json
from localize.errors import PreconditionFailed, StorageError, TransientStorageError
from localize.storage import rows
from localize.storage.base import LocalStorage, TooLarge
from localize.storage.folder_files import folder_of

KEY = "index/memory/es/manifest.json"


def _db(root: Path) -> Path:
    found = rows.database_of(root)
    assert found is not None
    return found


def test_rows_mean_what_files_mean(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("es/LC_MESSAGES/c.po", b"po")  # a file
    storage.write_bytes("index/stats/c.json", b"{}")
    assert not storage.exists(KEY) and storage.version(KEY) is None
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(KEY)
    v1 = storage.write_bytes(KEY, b"one")
    assert storage.version(KEY) == v1 and storage.exists(KEY) and storage.read_bytes(KEY) == b"one"
    v2 = storage.write_bytes(KEY, b"one")  # the same bytes again: another version, as a file's
    assert v2 != v1 and storage.version(KEY) == v2
    storage.write_bytes("index/memory/es/g1/band/3.json", b"{}")
    storage.write_bytes("index/memory/ar/manifest.json", b"{}")
    # one listing of both, sorted as files are; no file stands for a row
    assert list(storage.list("")) == [
        "es/LC_MESSAGES/c.po",
        "index/memory/ar/manifest.json",
        "index/memory/es/g1/band/3.json",
        KEY,
        "index/stats/c.json",
    ]
    assert list(storage.list("index/memory/es")) == ["index/memory/es/g1/band/3.json", KEY]
    assert [k for k, _ in storage.list_versions("index/memory/es/")][-1] == KEY
    assert list(storage.list_folders("index/memory/")) == ["ar", "es"]
    assert list(storage.list_folders("index/memory/es")) == ["g1"]
    assert not (tmp_path / "index" / "memory").exists() and _db(tmp_path).is_file()
    out = io.BytesIO()
    assert storage.download(KEY, out) == 3 and out.getvalue() == b"one"
    with pytest.raises(TooLarge) as large:
        storage.read_with_etag(KEY, max_bytes=2)
    data, etag = storage.read_with_etag(KEY)
    assert data == b"one" and large.value.etag == etag
    storage.delete(KEY)
    storage.delete(KEY)  # absent: nothing to do, as for a file
    assert not storage.exists(KEY)
    assert "index/.memory-" in storage.describe(KEY) and KEY in storage.describe(KEY)


def test_conditional_writes_compare_and_swap(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put(KEY, b"a", if_none_match=True)
    with pytest.raises(PreconditionFailed):
        storage.put(KEY, b"b", if_none_match=True)
    _, etag = storage.read_with_etag(KEY)
    storage.put(KEY, b"c", if_match=etag)
    with pytest.raises(PreconditionFailed):
        storage.put(KEY, b"d", if_match=etag)  # stale
    assert storage.read_bytes(KEY) == b"c"


def _count(root: str, n: int) -> None:
    storage = LocalStorage(root)

    def bump(body: dict[str, int]) -> None:
        body["n"] = body.get("n", 0) + 1

    for _ in range(n):
        update_json(storage, KEY, bump)  # type: ignore[arg-type]


def test_processes_share_the_database_without_losing_a_write(tmp_path: Path) -> None:
    """Four processes (made by fork, after the parent opened its connection) each add 40 under
    compare-and-swap: none is lost."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b'{"n": 0}')  # the parent's connection exists before the fork
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_count, args=(str(tmp_path), 40)) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert json.loads(storage.read_bytes(KEY))["n"] == 160


def _killed_mid_write(root: str) -> None:
    conn = sqlite3.connect(_db(Path(root)), isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA journal_mode=TRUNCATE")
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("UPDATE objects SET data = ? WHERE key = ?", (b"half", KEY))
    conn.execute("DELETE FROM objects WHERE key != ?", (KEY,))
    os._exit(9)  # killed before its commit: no handler runs


def test_a_writer_killed_mid_transaction_leaves_the_rows_as_they_were(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"whole")
    storage.write_bytes("index/memory/es/g1/home/c.json", b"{}")
    child = multiprocessing.get_context("fork").Process(target=_killed_mid_write, args=(str(tmp_path),))
    child.start()
    child.join(60)
    assert child.exitcode == 9
    fresh = LocalStorage(tmp_path)
    assert fresh.read_bytes(KEY) == b"whole" and fresh.exists("index/memory/es/g1/home/c.json")


def test_a_damaged_database_is_replaced_and_kept_for_a_look(tmp_path: Path) -> None:
    """A database that is not one (a crash of the machine, a copy cut short, bytes written over
    it) is derived state: a new one is made and named, and the index starts empty (rebuilt by its
    next lookup), instead of every lookup failing. The damaged one stays as it is, the latest only."""
    LocalStorage(tmp_path).write_bytes(KEY, b"x")
    for n in range(3):
        damaged = _db(tmp_path)
        damaged.write_bytes(b"this is not a database %d" % n * 100)
        storage = LocalStorage(tmp_path)
        assert not storage.exists(KEY)  # a read answers absent, and makes nothing
        assert _db(tmp_path) == damaged
        storage.write_bytes(KEY, b"y")
        assert storage.read_bytes(KEY) == b"y" and _db(tmp_path) != damaged
        assert damaged.read_bytes().startswith(b"this is not a database %d" % n)
    assert sorted(p.name for p in (tmp_path / "index").glob(".memory-*.sqlite3")) == sorted(
        [damaged.name, _db(tmp_path).name]
    )


def test_a_database_locked_past_the_wait_is_a_transient_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "BUSY", 0.2)
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    holder = sqlite3.connect(_db(tmp_path), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(TransientStorageError, match="locked by another process") as e:
            LocalStorage(tmp_path).write_bytes(KEY, b"y")
        assert "index/.memory-" in str(e.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert storage.read_bytes(KEY) == b"x"


def test_a_worker_on_a_replaced_database_reopens_the_new_one(tmp_path: Path) -> None:
    """Two workers (threads here: each has its own connection, as a process has) on one database;
    the first finds it damaged and replaces it. The second, still connected to the old file, does
    not write there (its work would be lost) nor replace the new one in turn: it reopens."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"old")
    other: list[object] = []

    def second(step: str) -> None:
        worker = threading.Thread(target=lambda: other.append(step == "read" and storage.read_bytes(KEY)))
        if step == "write":
            worker = threading.Thread(target=lambda: other.append(storage.write_bytes(KEY, b"second")))
        worker.start()
        worker.join(30)

    second("read")  # connected to the first database
    first = _db(tmp_path)
    first.write_bytes(b"garbage" * 1000)
    storage.write_bytes("index/memory/es/other.json", b"first")  # replaced by this thread
    second("write")
    assert _db(tmp_path) != first and len(list((tmp_path / "index").glob(".memory-*.sqlite3"))) == 2
    assert storage.read_bytes(KEY) == b"second" and storage.read_bytes("index/memory/es/other.json") == b"first"


def test_work_interrupted_by_a_replacement_is_done_again_on_the_new_database(tmp_path: Path) -> None:
    """Another process replaces the database between this one's look at what is named and its
    statement: the statement fails on the old file, and is done again on the new one, not
    reported as a failure."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    table = rows.Rows(tmp_path)
    done: list[str] = []

    def work(conn: sqlite3.Connection) -> str:
        if not done:
            done.append("replaced")
            with folder_of(tmp_path, rows.CURRENT, create=False, doing="test") as fd:
                table._make(fd, _db(tmp_path).name)  # as another process would
            raise sqlite3.OperationalError("no such table: objects")  # what the old file says
        return _db(tmp_path).name

    assert table._run(work, KEY, create=True, absent="") == _db(tmp_path).name


def test_the_database_and_its_journal_follow_the_umask(tmp_path: Path) -> None:
    """A workspace shared by a group (umask 002) stays writable by the group: the database is
    not made 0644 as SQLite's default would, and neither is the file naming it."""
    code = f"from localize.storage.base import LocalStorage; LocalStorage({str(tmp_path)!r}).write_bytes({KEY!r}, b'x')"
    subprocess.run([sys.executable, "-c", code], check=True, preexec_fn=lambda: os.umask(0o002), timeout=60)
    for path in (_db(tmp_path), Path(f"{_db(tmp_path)}-journal"), tmp_path / rows.CURRENT):
        assert path.stat().st_mode & 0o777 == 0o664, path


def _forge(root: Path, made: str, *rows_: tuple[object, ...]) -> None:
    (root / "index").mkdir(parents=True, exist_ok=True)
    name = ".memory-forged.sqlite3"
    with contextlib.closing(sqlite3.connect(root / "index" / name, isolation_level=None)) as conn:
        conn.execute(made)
        for row in rows_:
            conn.execute("INSERT INTO objects VALUES (?, ?, ?, ?)", row)
    (root / rows.CURRENT).write_text(name)


@pytest.mark.parametrize(
    "made",
    [
        "CREATE TABLE objects (key, data, version, modified)",  # another shape: integers where bytes go
        "CREATE TABLE objects (key TEXT PRIMARY KEY, data BLOB NOT NULL, version TEXT NOT NULL, "
        "modified REAL NOT NULL) WITHOUT ROWID",  # the table of 0.x (not STRICT)
        "CREATE TABLE other (x)",
    ],
)
def test_a_database_this_program_did_not_make_is_replaced(tmp_path: Path, made: str) -> None:
    """Whatever the file holds is not trusted: a table of another shape (an integer standing for
    a value would have been read as that many zero bytes, a text as its time) is not read."""
    _forge(tmp_path, made, *([(KEY, 10**12, "v", "yesterday")] if "objects" in made else []))
    storage = LocalStorage(tmp_path)
    assert not storage.exists(KEY) and list(storage.list("index/")) == []
    storage.write_bytes(KEY, b"y")
    assert storage.read_bytes(KEY) == b"y" and _db(tmp_path).name != ".memory-forged.sqlite3"


def test_values_are_read_as_their_types(tmp_path: Path) -> None:
    """A version that is not UTF-8 (a flipped bit: SQLite keeps no checksums) is damage, not a
    crash of every command: the database is replaced."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    with contextlib.closing(sqlite3.connect(_db(tmp_path), isolation_level=None)) as conn:
        conn.execute("UPDATE objects SET version = CAST(x'ff41' AS TEXT)")
    assert not LocalStorage(tmp_path).exists(KEY) and list(storage.list("index/memory/")) == []
    storage.write_bytes(KEY, b"y")
    assert storage.read_bytes(KEY) == b"y"


def test_a_database_emptied_in_place_is_replaced(tmp_path: Path) -> None:
    """``: > index/.memory-….sqlite3`` keeps the file (an empty database, without the table): the
    running process does not fail on it until it restarts."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    os.truncate(_db(tmp_path), 0)
    assert not storage.exists(KEY)
    storage.write_bytes(KEY, b"y")
    assert storage.read_bytes(KEY) == b"y"


def test_what_stands_at_the_journal_never_blocks_the_index(tmp_path: Path) -> None:
    """A link or a folder at the journal's name: the database is replaced, the link never
    followed."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    for blocker in ("link", "folder"):
        journal = Path(f"{_db(tmp_path)}-journal")
        journal.unlink()
        journal.symlink_to(target) if blocker == "link" else journal.mkdir()
        storage.write_bytes(KEY, blocker.encode())
        assert LocalStorage(tmp_path).read_bytes(KEY) == blocker.encode() and target.read_bytes() == b"keep"


def test_reading_never_makes_the_database(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    storage = LocalStorage(root)
    assert not storage.exists(KEY) and storage.version(KEY) is None and list(storage.list("index/memory/")) == []
    storage.delete(KEY)
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(KEY)
    assert not root.exists()
    (root / "index").mkdir(parents=True)
    assert not storage.exists(KEY) and os.listdir(root / "index") == []


def test_one_connection_per_thread_however_many_storages(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    kept = [LocalStorage(tmp_path) for _ in range(40)]
    for n, storage in enumerate(kept):
        storage.write_bytes(KEY, str(n).encode())
    assert kept[0].read_bytes(KEY) == b"39"
    assert len(os.listdir("/proc/self/fd")) - before <= 2  # the database and its journal


def test_the_index_folder_as_a_link_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = tmp_path / "ws"
    root.mkdir()
    (root / "index").symlink_to(elsewhere)
    for attempt in (lambda s: s.write_bytes(KEY, b"x"), lambda s: s.read_bytes(KEY), lambda s: list(s.list())):
        with pytest.raises(StorageError, match="is a symbolic link where a folder is expected") as e:
            attempt(LocalStorage(root))
        assert str(root / "index") in str(e.value)
    assert list(elsewhere.iterdir()) == []


def test_a_link_swapped_in_for_the_index_folder_midway_is_never_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Who can write into the workspace swaps ``index`` for a link to another folder just after
    localize looked at it: nothing is made, removed or replaced in that folder."""
    root, victim = tmp_path / "ws", tmp_path / "victim"
    (victim / "memory").mkdir(parents=True)
    (victim / "memory" / "precious.txt").write_text("keep me")
    (victim / ".memory.sqlite3").write_text("keep me too")
    storage = LocalStorage(root)
    storage.write_bytes(KEY, b"x")
    named = rows.Rows._named

    def swapped(self: rows.Rows, fd: int) -> object:
        got = named(self, fd)
        if not (root / "index").is_symlink():
            os.rename(root / "index", tmp_path / "moved")
            (root / "index").symlink_to(victim)
        return got

    os.truncate(_db(root), 0)  # damaged: the write replaces it
    monkeypatch.setattr(rows.Rows, "_named", swapped)
    with pytest.raises(StorageError):
        LocalStorage(root).write_bytes(KEY, b"y")
    assert sorted(os.listdir(victim)) == [".memory.sqlite3", "memory"]
    assert (victim / "memory" / "precious.txt").read_text() == "keep me"


def test_a_database_of_another_user_is_named_with_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    database = _db(tmp_path)
    monkeypatch.setattr(rows.os, "access", lambda path, mode: Path(path) != database)
    with pytest.raises(StorageError, match=r"is not writable by this user \(owner uid \d+, mode 6\d4\)") as e:
        rows.Rows(tmp_path)._check_writable(KEY, OSError())
    assert str(database) in str(e.value) and "umask 002" in str(e.value)


def test_an_older_sqlite_without_strict_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite before 3.37 (RHEL 9, Debian 11) has no STRICT tables: the table is made without,
    and every value is still read as its type."""
    monkeypatch.setattr(rows.sqlite3, "sqlite_version_info", (3, 34, 1))
    monkeypatch.setattr(rows, "_SCHEMA", None)
    monkeypatch.setattr(rows, "_LOCAL", threading.local())
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    assert storage.read_bytes(KEY) == b"x"
    with contextlib.closing(sqlite3.connect(_db(tmp_path))) as conn:
        assert "STRICT" not in conn.execute("SELECT sql FROM sqlite_master").fetchone()[0]


def test_the_index_of_earlier_versions_is_removed_when_the_database_is_first_made(tmp_path: Path) -> None:
    index = tmp_path / "index"
    (index / "memory" / "es").mkdir(parents=True)
    (index / "memory" / "es" / "manifest.json").write_text("{}")
    (index / ".memory.sqlite3").write_text("0.x")
    (index / ".memory.sqlite3.damaged-17").write_text("0.x")
    (index / "..memory.current.dead.tmp").write_text("a write of the name killed halfway")
    (index / "stats").mkdir()
    LocalStorage(tmp_path).write_bytes(KEY, b"x")
    assert sorted(p.name for p in index.iterdir() if not p.name.startswith(".memory-")) == [".memory.current", "stats"]


def test_two_workers_finding_one_damaged_database_replace_it_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers A and B both fail on the damaged database; B replaces it and writes first. A must
    not replace B's new database in turn (B's acknowledged write would be lost)."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    _db(tmp_path).write_bytes(b"garbage" * 1000)
    original, raced = rows.Rows._connect, []

    def racing(self: rows.Rows, create: bool) -> object:
        try:
            return original(self, create)
        except rows._Damaged:
            if not raced:
                raced.append(True)
                other = threading.Thread(target=lambda: LocalStorage(tmp_path).write_bytes(f"{KEY}.B", b"B"))
                other.start()
                other.join(30)
            raise

    monkeypatch.setattr(rows.Rows, "_connect", racing)
    rows._connections().clear()  # A opens the damaged database afresh, as a new process does
    LocalStorage(tmp_path).write_bytes(f"{KEY}.A", b"A")
    assert raced
    assert storage.read_bytes(f"{KEY}.B") == b"B" and storage.read_bytes(f"{KEY}.A") == b"A"


def _in_time(work: Callable[[], object]) -> object:
    got: list[object] = []
    worker = threading.Thread(target=lambda: got.append(work()), daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "waited on a pipe"
    return got[0]


def test_a_pipe_where_the_journal_or_the_lock_was_is_never_waited_on(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    journal = Path(f"{_db(tmp_path)}-journal")
    journal.unlink()
    os.mkfifo(journal)
    os.mkfifo(tmp_path / "index" / ".memory.lock")  # the lock file of an earlier version
    assert _in_time(lambda: LocalStorage(tmp_path).exists(KEY)) is False
    _in_time(lambda: LocalStorage(tmp_path).write_bytes(KEY, b"y"))
    assert _in_time(lambda: LocalStorage(tmp_path).read_bytes(KEY)) == b"y"
    assert not (tmp_path / "index" / ".memory.lock").exists()


@pytest.mark.parametrize("named", ["folder", "nul", "elsewhere"])
def test_what_names_the_database_is_not_trusted(tmp_path: Path, named: str) -> None:
    """A folder at ``.memory.current`` (every write failed, leaving three files each time), a NUL
    byte in it (a raw ValueError from every method), or a name outside the folder."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    current = tmp_path / rows.CURRENT
    current.unlink()
    if named == "folder":
        (current / "inside").mkdir(parents=True)
    else:
        current.write_bytes(b".memory-\0.sqlite3" if named == "nul" else b"../../elsewhere.sqlite3")
    fresh = LocalStorage(tmp_path)
    assert not fresh.exists(KEY) and list(fresh.list("index/memory/")) == []
    for _ in range(3):
        fresh.write_bytes(KEY, b"y")
    assert fresh.read_bytes(KEY) == b"y" and current.is_file()
    assert len([p for p in (tmp_path / "index").iterdir() if p.name.startswith(".memory")]) <= 5


def test_a_reader_that_cannot_roll_back_a_journal_answers_absent(tmp_path: Path) -> None:
    """A writer killed mid-transaction in a workspace this user may only read: SQLite must roll
    the journal back before it reads, and cannot; the index is derived, so reads answer absent
    (a write names what to change)."""
    LocalStorage(tmp_path).write_bytes(KEY, b"x")

    def work(conn: sqlite3.Connection) -> str:
        raise _sqlite_error("attempt to write a readonly database", 776)  # SQLITE_READONLY_ROLLBACK

    assert rows.Rows(tmp_path)._run(work, KEY, create=False, absent="absent") == "absent"


def _sqlite_error(message: str, code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # as SQLite sets it
    return error


@pytest.mark.parametrize(("message", "code"), [("unable to open database file", 14), ("disk I/O error", 10)])
def test_a_healthy_database_is_never_replaced_for_a_passing_error(tmp_path: Path, message: str, code: int) -> None:
    """Out of file descriptors for a moment, a journal this user cannot write: SQLite says
    "unable to open" or "disk I/O error" of a database that is whole. Replacing it would lose every
    row of every worker: the error is reported, the rows stay."""
    storage = LocalStorage(tmp_path)
    for n in range(20):
        storage.write_bytes(f"{KEY}.{n}", b"row")
    database = _db(tmp_path)

    def work(conn: sqlite3.Connection) -> None:
        raise _sqlite_error(message, code)

    with pytest.raises(StorageError, match=message):
        rows.Rows(tmp_path)._run(work, KEY, create=True, absent=None)
    assert _db(tmp_path) == database and len(list(storage.list("index/memory/"))) == 20


def test_a_key_that_is_not_text_is_refused_plainly(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="not valid text"):
        LocalStorage(tmp_path).write_bytes("index/memory/\udcff/x.json", b"x")
    with pytest.raises(StorageError, match="not valid text"):
        LocalStorage(tmp_path).exists("index/memory/\udcff/x.json")
