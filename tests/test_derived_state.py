"""Derived state kept right when runs meet or the index is rebuilt (found by a race look, session 32):
the day's progress snapshot of a catalog two runs wrote at once, and what waits for review after
`index rebuild`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localize.app.catalogs import rebuild_indexes
from localize.catalogs import index
from localize.catalogs.review import record_review
from localize.catalogs.stats import catalog_stats
from localize.catalogs.workspace import Workspace
from localize.model import Catalog, Entry

TEXTS = ("Welcome to the course.", "Read the syllabus first.", "Problem sets are due on Fridays.")


def catalog(translated: int) -> Catalog:
    entries = tuple(Entry(t, f"ES {t}" if i < translated else "") for i, t in enumerate(TEXTS))
    return Catalog(headers=(("Language", "es"),), entries=entries)


def snapshot(ws: Workspace) -> dict[str, Any]:
    day = datetime.now(UTC)
    return dict(json.loads(ws.storage.read_bytes(f"history/c1/es/{day:%Y%m%d}.json")))


def test_of_two_runs_writing_a_catalog_at_once_the_snapshot_holds_what_the_file_holds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run A wrote, run B wrote and recorded, then A's record landed: the snapshot (and the chart,
    which `index rebuild` makes from the snapshots) said what A wrote, not what the file holds."""
    ws = Workspace(str(tmp_path / "ws"))
    key = ws.catalog_key("c1", "es")
    record = index.record
    met: list[bool] = []

    def b_meanwhile(*args: Any, **kwargs: Any) -> None:
        record(*args, **kwargs)
        if not met:
            met.append(True)
            assert Workspace(str(tmp_path / "ws")).write(key, catalog(3))  # B: written and recorded

    monkeypatch.setattr(index, "record", b_meanwhile)
    assert ws.write(key, catalog(1))  # A
    monkeypatch.undo()
    held = catalog_stats(ws.read_catalog("c1", "es"), "c1", "es")
    assert held.translated == 3 and snapshot(ws)["translated"] == 3
    assert snapshot(ws)["translated_words"] == held.translated_words
    points = [p for p in ws.history() if p[1] == "c1" and p[2] == "es"]
    assert points[-1][3] == held.translated_words


def test_index_rebuild_keeps_what_waits_for_review(tmp_path: Path) -> None:
    """`index rebuild` made every row's oldest unreviewed translation None: the dashboard said
    nothing waited for review while 310 translations did."""
    ws = Workspace(str(tmp_path / "ws"))
    assert ws.write(ws.catalog_key("c1", "es"), catalog(2))
    at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    fresh = [e for e in ws.read_catalog("c1", "es").entries if e.translated]
    record_review(ws, "c1", "es", partner="lima", kit="k1", at=at, translated=fresh)
    stats_key = "index/stats/c1.json"

    def oldest() -> object:
        return json.loads(ws.storage.read_bytes(stats_key))["locales"]["es"].get("oldest_unreviewed")

    assert oldest() == "2026-11-02T09:30:00+00:00"
    ws.storage.delete(stats_key)
    rebuild_indexes(ws)
    assert oldest() == "2026-11-02T09:30:00+00:00"
    ws.storage.write_bytes(stats_key, b"garbage")
    rebuild_indexes(ws)
    assert oldest() == "2026-11-02T09:30:00+00:00"


def test_of_a_return_and_a_sign_off_at_once_the_index_holds_what_the_ledger_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each run set the oldest unreviewed translation from its own ledger write: the last to land
    won, even when it had computed from an older ledger."""
    ws = Workspace(str(tmp_path / "ws"))
    assert ws.write(ws.catalog_key("c1", "es"), catalog(2))
    fresh = [e for e in ws.read_catalog("c1", "es").entries if e.translated]
    put = index.set_oldest_unreviewed
    met: list[bool] = []

    def sign_off_meanwhile(*args: Any) -> None:
        if not met:  # run B signs everything off, and sets None, before run A's value lands
            met.append(True)
            at = datetime(2026, 11, 3, tzinfo=UTC)
            record_review(ws, "c1", "es", partner="rev", kit="k2", at=at, signed_off=fresh)
        put(*args)

    monkeypatch.setattr(index, "set_oldest_unreviewed", sign_off_meanwhile)
    record_review(ws, "c1", "es", partner="lima", kit="k1", at=datetime(2026, 11, 2, tzinfo=UTC), translated=fresh)
    monkeypatch.undo()
    assert json.loads(ws.storage.read_bytes("index/stats/c1.json"))["locales"]["es"].get("oldest_unreviewed") is None


def test_a_rerun_of_an_unchanged_catalog_records_nothing_on_a_new_day(tmp_path: Path) -> None:
    """The repair of a killed run's record made a snapshot and a chart point for every unchanged
    catalog once a day (a daily cron over a fleet: a write per catalog per day; a review)."""
    ws = Workspace(str(tmp_path / "ws"))
    key = ws.catalog_key("c1", "es")
    assert ws.write(key, catalog(2))
    for snap in (tmp_path / "ws" / "history").rglob("*.json"):
        snap.unlink()  # as on a new day: no snapshot of today
    stats_before = ws.storage.read_bytes("index/stats/c1.json")
    assert not ws.write(key, catalog(2))  # unchanged
    assert not list((tmp_path / "ws" / "history").rglob("*.json"))
    assert ws.storage.read_bytes("index/stats/c1.json") == stats_before
