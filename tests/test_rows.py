"""The translation-memory index of a folder workspace as rows of one SQLite database
(:mod:`localize.storage.rows`): the same Storage meaning as files, shared by processes, safe
against kills, and made anew when it is damaged."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from localize.catalogs.index import update_json
from localize.errors import PreconditionFailed, StorageError, TransientStorageError
from localize.storage import rows
from localize.storage.base import LocalStorage, TooLarge

KEY = "index/memory/es/manifest.json"


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
    assert not (tmp_path / "index" / "memory").exists() and (tmp_path / rows.DATABASE).is_file()
    out = io.BytesIO()
    assert storage.download(KEY, out) == 3 and out.getvalue() == b"one"
    with pytest.raises(TooLarge) as large:
        storage.read_with_etag(KEY, max_bytes=2)
    data, etag = storage.read_with_etag(KEY)
    assert data == b"one" and large.value.etag == etag
    storage.delete(KEY)
    storage.delete(KEY)  # absent: nothing to do, as for a file
    assert not storage.exists(KEY)
    assert "index/.memory.sqlite3" in storage.describe(KEY) and KEY in storage.describe(KEY)


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
    conn = sqlite3.connect(Path(root) / rows.DATABASE, isolation_level=None)
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


def test_a_damaged_database_is_set_aside_and_made_anew(tmp_path: Path) -> None:
    """A database that is not one (a crash of the machine, a copy cut short, bytes written over
    it) is derived state: it is set aside, and the index starts empty (rebuilt by its next
    lookup), instead of every lookup failing."""
    LocalStorage(tmp_path).write_bytes(KEY, b"x")
    (tmp_path / rows.DATABASE).write_bytes(b"this is not a database" * 100)
    storage = LocalStorage(tmp_path)
    assert not storage.exists(KEY)
    storage.write_bytes(KEY, b"y")
    assert storage.read_bytes(KEY) == b"y"
    aside = list((tmp_path / "index").glob(".memory.sqlite3.damaged-*"))
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"this is not a database")


def test_a_database_locked_past_the_wait_is_a_transient_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rows, "BUSY", 0.2)
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    holder = sqlite3.connect(tmp_path / rows.DATABASE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(TransientStorageError, match="locked by another process") as e:
            LocalStorage(tmp_path).write_bytes(KEY, b"y")
        assert "index/.memory.sqlite3" in str(e.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert storage.read_bytes(KEY) == b"x"


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


def test_only_the_file_found_damaged_is_set_aside(tmp_path: Path) -> None:
    """Two workers find the same damaged database: the first sets it aside and makes a new one;
    the second, failing on the old file a moment later, must not set the new one aside (it would
    lose the first one's rows and set each other's aside in turn); it reopens. Only the latest
    file set aside is kept."""
    first, second = LocalStorage(tmp_path), rows.Rows(tmp_path)
    first.write_bytes(KEY, b"x")
    old = rows._ident(tmp_path / rows.DATABASE)
    for _ in range(3):  # damaged three times over: one file set aside stays
        (tmp_path / rows.DATABASE).write_bytes(b"this is not a database" * 100)
        assert not first.exists(KEY)
        first.write_bytes(KEY, b"new")
    new = rows._ident(tmp_path / rows.DATABASE)
    assert new != old
    second._set_aside(old)  # the second worker's failure on the file it had open
    assert rows._ident(tmp_path / rows.DATABASE) == new and LocalStorage(tmp_path).read_bytes(KEY) == b"new"
    assert len(list((tmp_path / "index").glob(".memory.sqlite3.damaged-*"))) == 1


def test_a_worker_reopens_a_database_made_anew_by_another(tmp_path: Path) -> None:
    """A connection open on a file set aside by another worker does not go on reading and writing
    that file: the next operation opens the file now at the path."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"old")
    path = tmp_path / rows.DATABASE
    os.rename(path, tmp_path / "index" / "elsewhere")  # as a set-aside by another process does
    assert not storage.exists(KEY)
    storage.write_bytes(KEY, b"new")
    assert sqlite3.connect(path).execute("SELECT data FROM objects").fetchall() == [(b"new",)]


def test_the_database_and_its_journal_follow_the_umask(tmp_path: Path) -> None:
    """A workspace shared by a group (umask 002) stays writable by the group: the database is
    not made 0644 as SQLite's default would."""
    code = f"from localize.storage.base import LocalStorage; LocalStorage({str(tmp_path)!r}).write_bytes({KEY!r}, b'x')"
    subprocess.run([sys.executable, "-c", code], check=True, preexec_fn=lambda: os.umask(0o002), timeout=60)
    assert (tmp_path / rows.DATABASE).stat().st_mode & 0o777 == 0o664
    assert Path(f"{tmp_path / rows.DATABASE}-journal").stat().st_mode & 0o777 == 0o664


@pytest.mark.parametrize(
    "made",
    [
        "CREATE TABLE objects (key, data, version, modified)",  # another shape: integers where bytes go
        "CREATE TABLE other (x)",
    ],
)
def test_a_database_this_program_did_not_make_is_set_aside(tmp_path: Path, made: str) -> None:
    """Whatever the file holds is not trusted: a table of another shape (an integer standing for
    a value would have been read as that many zero bytes, a text as its time) is not read."""
    (tmp_path / "index").mkdir()
    conn = sqlite3.connect(tmp_path / rows.DATABASE, isolation_level=None)
    conn.execute(made)
    if "objects" in made:
        conn.execute("INSERT INTO objects VALUES (?, ?, ?, ?)", (KEY, 10**12, "v", "yesterday"))
    conn.close()
    storage = LocalStorage(tmp_path)
    assert not storage.exists(KEY) and list(storage.list("index/")) == []
    storage.write_bytes(KEY, b"y")
    assert storage.read_bytes(KEY) == b"y"
    assert len(list((tmp_path / "index").glob(".memory.sqlite3.damaged-*"))) == 1


def test_what_stands_at_the_journal_never_blocks_the_index_silently(tmp_path: Path) -> None:
    """A link at the journal's name is removed (never followed); a folder there is named, with
    what to do."""
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    journal = Path(f"{tmp_path / rows.DATABASE}-journal")
    journal.unlink()
    target = tmp_path / "target"
    target.write_bytes(b"keep")
    journal.symlink_to(target)
    storage.write_bytes(KEY, b"y")
    assert target.read_bytes() == b"keep" and LocalStorage(tmp_path).read_bytes(KEY) == b"y"
    journal.unlink()
    journal.mkdir()
    with pytest.raises(StorageError, match="is not a file where the memory index's journal is kept; remove it") as e:
        LocalStorage(tmp_path).write_bytes(KEY, b"z")
    assert str(journal) in str(e.value)


def test_reading_never_makes_the_database(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    storage = LocalStorage(root)
    assert not storage.exists(KEY) and storage.version(KEY) is None and list(storage.list("index/memory/")) == []
    storage.delete(KEY)
    with pytest.raises(FileNotFoundError):
        storage.read_bytes(KEY)
    assert not root.exists()


def test_one_connection_per_thread_however_many_storages(tmp_path: Path) -> None:
    before = len(os.listdir("/proc/self/fd"))
    kept = [LocalStorage(tmp_path) for _ in range(40)]
    for n, storage in enumerate(kept):
        storage.write_bytes(KEY, str(n).encode())
    assert kept[0].read_bytes(KEY) == b"39"
    assert len(os.listdir("/proc/self/fd")) - before <= 2  # the database and its journal
