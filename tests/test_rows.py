"""The translation-memory index of a folder workspace as rows of one SQLite database
(:mod:`localize.storage.rows`): the same Storage meaning as files, shared by processes, safe
against kills, and made anew when it is damaged."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import sqlite3
from pathlib import Path

import pytest

from localize.catalogs.index import update_json
from localize.errors import PreconditionFailed, TransientStorageError
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
    storage = LocalStorage(tmp_path)
    storage.write_bytes(KEY, b"x")
    holder = sqlite3.connect(tmp_path / rows.DATABASE, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(rows, "BUSY", 0.2)
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
    with pytest.raises(Exception, match="not a folder") as e:
        LocalStorage(root).write_bytes(KEY, b"x")
    assert type(e.value).__name__ == "StorageError"
    assert list(elsewhere.iterdir()) == []
