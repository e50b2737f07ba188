"""Fleet-wide questions answered from derived state: the statistics index, region indexes, daily history."""

from __future__ import annotations

import json
import os
import time
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import SAMPLE
from localize.catalogs import index
from localize.catalogs.stats import catalog_stats
from localize.catalogs.workspace import Workspace, workspace_stats
from localize.cli import main
from localize.storage.rows import database_of


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    loc = str(tmp_path / "ws")
    assert main(["extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", loc, "-q"]) == 0
    for ll in ("es", "ar", "sw"):
        assert main(["init", "--course", "intro-course", "--locale", ll, "--locales-dir", loc]) == 0
    return Workspace(loc)


def test_stats_come_from_the_index_without_parsing_a_catalog(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = [catalog_stats(ws.read_catalog("intro-course", ll), "intro-course", ll) for ll in ("ar", "es", "sw")]
    parsed: list[str] = []
    original = Workspace.read

    def counting_read(self: Workspace, key: str):  # type: ignore[no-untyped-def]
        parsed.append(key)
        return original(self, key)

    monkeypatch.setattr(Workspace, "read", counting_read)
    assert workspace_stats(ws) == expected
    assert parsed == []


def test_a_catalog_changed_behind_the_tools_back_is_recomputed_and_reindexed(ws: Workspace) -> None:
    key = ws.catalog_key("intro-course", "es")
    path = Path(ws.describe(key))
    text = path.read_text(encoding="utf-8")
    first_empty = text.index('msgstr ""\n\n', text.index("msgid", text.index("\n\n")))
    path.write_text(text[:first_empty] + 'msgstr "hecho a mano"\n\n' + text[first_empty + 11 :], encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    [es] = workspace_stats(ws, locale="es")
    assert es == catalog_stats(ws.read_catalog("intro-course", "es"), "intro-course", "es")
    assert es.translated == 1
    entries, _ = index.read_index(ws.storage, "intro-course")
    assert entries["es"]["translated"] == 1
    assert entries["es"]["version"] == ws.catalog_versions(locale="es")[("intro-course", "es")]


def test_a_damaged_or_missing_index_is_rebuilt_from_the_catalogs(ws: Workspace) -> None:
    truth = workspace_stats(ws)
    ws.storage.write_bytes(index.stats_key("intro-course"), b"{not json")
    assert workspace_stats(ws) == truth
    ws.storage.delete(index.stats_key("intro-course"))
    assert workspace_stats(ws) == truth
    assert set(index.read_index(ws.storage, "intro-course")[0]) == {"ar", "es", "sw"}


def test_two_writers_of_one_course_index_keep_each_others_locales(ws: Workspace) -> None:
    """Conditional writes: a writer that read the index before another wrote retries on the newer one."""
    storage = ws.storage
    _, etag = index.read_index(storage, "intro-course")
    es = catalog_stats(ws.read_catalog("intro-course", "es"), "intro-course", "es")
    index.record(storage, [(es, 0, "v1")])  # the other writer wins first
    original_put = storage.put
    calls = []

    def put(key, data, **kw):  # type: ignore[no-untyped-def]
        calls.append(kw.get("if_match"))
        return original_put(key, data, **kw)

    storage.put = put  # type: ignore[method-assign]
    ar = catalog_stats(ws.read_catalog("intro-course", "ar"), "intro-course", "ar")
    index.record(storage, [(ar, 0, "v2")])
    entries, _ = index.read_index(storage, "intro-course")
    assert entries["es"]["version"] == "v1" and entries["ar"]["version"] == "v2"
    assert etag not in calls  # it never wrote over what it had not read


def test_history_keeps_one_snapshot_per_catalog_per_day(ws: Workspace) -> None:
    for n in range(3):
        catalog = ws.read_catalog("intro-course", "es")
        ws.write(ws.catalog_key("intro-course", "es"), catalog.with_header("X-Test", str(n)))
    keys = [k for k in ws.storage.list("history/intro-course/es")]
    assert len(keys) == 1 and json.loads(ws.storage.read_bytes(keys[0]))["locale"] == "es"


def test_status_reads_each_region_index_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from localize.config import load_config
    from localize.storage.base import LocalStorage
    from localize.views.status import course_status

    loc = tmp_path / "ws"
    assert main(["extract", str(SAMPLE), "--course", "intro-course", "--locales-dir", str(loc), "-q"]) == 0
    for ll in ("es", "ar"):
        assert main(["init", "--course", "intro-course", "--locale", ll, "--locales-dir", str(loc)]) == 0
    region = tmp_path / "region"
    region.mkdir()
    (region / "index.json").write_text(
        json.dumps({"region": "r", "courses": {"intro-course": {"es": {"version": "20260101T000000.000Z-abcdef12"}}}})
    )
    config = tmp_path / "localize.toml"
    config.write_text(
        f'[workspace]\nlocation = "{loc}"\n\n[[regions]]\nname = "r"\nlocation = "{region}"\nlocales = ["es", "ar"]\n'
    )
    reads: list[str] = []
    original_read, original_download = LocalStorage.read_bytes, LocalStorage.download

    def counting(self: LocalStorage, key: str) -> bytes:
        if str(self.root) == str(region):
            reads.append(key)
        return original_read(self, key)

    def counting_download(self: LocalStorage, key: str, dest, **kw):  # type: ignore[no-untyped-def]
        if str(self.root) == str(region):
            reads.append(key)
        return original_download(self, key, dest, **kw)

    monkeypatch.setattr(LocalStorage, "read_bytes", counting)
    monkeypatch.setattr(LocalStorage, "download", counting_download)
    rows = course_status(load_config(config))
    assert {(r["locale"], r["published"]["r"]) for r in rows} == {("es", "20260101T000000.000Z-abcdef12"), ("ar", "-")}
    assert reads == ["index.json"]


def test_latest_assignments_come_from_the_index_and_heal_from_the_files(ws: Workspace) -> None:
    from localize.partners.assignments import (
        Assignment,
        assignment_key,
        latest_assignments,
        load_assignments,
        save_assignment,
    )

    def make(kit: str, locale: str, sent: str, state: str = "sent") -> Assignment:
        return Assignment(kit, "intro-course", locale, "acme", "0" * 64, sent, "2026-02-01", state)

    save_assignment(ws, make("20260101-a", "es", "2026-01-01T10:00:00+00:00"))
    save_assignment(ws, make("20260102-b", "es", "2026-01-02T10:00:00+00:00"))
    save_assignment(ws, make("20260101-a", "es", "2026-01-01T10:00:00+00:00", "accepted"))  # an older kit's return
    save_assignment(ws, make("20260101-c", "ar", "2026-01-01T09:00:00+00:00"))
    latest = latest_assignments(ws)
    assert {k: (a.kit, a.state) for k, a in latest.items()} == {
        ("intro-course", "es"): ("20260102-b", "sent"),
        ("intro-course", "ar"): ("20260101-c", "sent"),
    }
    # a file the index does not know (written by hand) is read, and the index heals
    late = make("20260105-d", "ar", "2026-01-05T09:00:00+00:00")
    ws.storage.write_bytes(assignment_key(late.course, late.locale, late.kit), late.to_json())
    assert latest_assignments(ws)[("intro-course", "ar")].kit == "20260105-d"
    assert {k: a.kit for k, a in latest_assignments(ws).items()} == {
        (a.course, a.locale): a.kit for a in load_assignments(ws)
    }


def test_an_assignment_changed_behind_the_index_is_read_again(ws: Workspace) -> None:
    """A run killed between the assignment file and its index (or a hand edit) cannot leave a stale state."""
    from localize.partners.assignments import Assignment, assignment_key, latest_assignments, save_assignment

    a = Assignment("20260101-a", "intro-course", "es", "acme", "0" * 64, "2026-01-01T10:00:00+00:00", "2026-02-01")
    save_assignment(ws, a)
    assert latest_assignments(ws)[("intro-course", "es")].state == "sent"
    key = assignment_key(a.course, a.locale, a.kit)
    path = Path(ws.describe(key))
    path.write_text(path.read_text(encoding="utf-8").replace('"sent"', '"partially accepted"'), encoding="utf-8")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert latest_assignments(ws)[("intro-course", "es")].state == "partially accepted"


def test_a_late_writer_never_indexes_statistics_of_a_file_it_no_longer_holds(ws: Workspace) -> None:
    """Writer A wrote, writer B wrote and indexed, then A indexes: A's numbers must not land on B's file."""
    from localize.catalogs.po import write_po

    key = ws.catalog_key("intro-course", "es")
    a_catalog = ws.read_catalog("intro-course", "es")
    a_data = write_po(a_catalog).encode("utf-8")
    b_catalog = replace(
        a_catalog.with_header("X-Writer", "B"),
        entries=tuple(replace(e, msgstr="B") if not e.obsolete else e for e in a_catalog.entries),
    )
    a_version = ws.storage.write_bytes(key, a_data)  # A wrote
    assert ws.write(key, b_catalog)  # B wrote and indexed
    ws._record_history("intro-course", "es", a_catalog, a_data, a_version)  # A indexes, late
    [es] = workspace_stats(ws, locale="es")
    assert es == catalog_stats(ws.read_catalog("intro-course", "es"), "intro-course", "es")
    assert es.translated == es.entries


def test_reviewed_counts_and_the_oldest_unreviewed_translation_reach_stats_status_and_dashboard(
    ws: Workspace, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from localize.catalogs.review import mark_reviewed, record_review
    from localize.config import load_config
    from localize.views.dashboard import collect, render_dashboard
    from localize.views.status import course_status

    key = ws.catalog_key("intro-course", "es")
    catalog = ws.read_catalog("intro-course", "es")
    live = [e for e in catalog.entries if not e.obsolete]
    done = {e.key: replace(e, msgstr="hecho") for e in live[:3]}
    done |= {k: mark_reviewed(e) for k, e in list(done.items())[:2]}
    ws.write(key, replace(catalog, entries=tuple(done.get(e.key, e) for e in catalog.entries)))
    [es] = workspace_stats(ws, locale="es")
    assert (es.translated, es.reviewed) == (3, 2)
    record_review(
        ws, "intro-course", "es", partner="lima", kit="k1", at=datetime(2026, 11, 20, 9, tzinfo=UTC),
        translated=[done[live[2].key]],
    )  # fmt: skip
    config = tmp_path / "localize.toml"
    config.write_text(f'[workspace]\nlocation = "{ws.describe("")}"\n')
    [row] = [r for r in course_status(load_config(config)) if r["locale"] == "es"]
    assert (row["reviewed"], row["oldest_unreviewed"]) == (2, "2026-11-20T09:00:00+00:00")
    page = render_dashboard(collect(ws, load_config(config)))
    assert "2 reviewed; unreviewed since 2026-11-20" in page
    # a later catalog write keeps the date the review ledger owns
    ws.write(key, ws.read_catalog("intro-course", "es").with_header("X-Touch", "1"))
    [row] = [r for r in course_status(load_config(config)) if r["locale"] == "es"]
    assert row["oldest_unreviewed"] == "2026-11-20T09:00:00+00:00"


def test_status_reads_a_course_statistics_index_once(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The statistics and the oldest unreviewed date come from the same read of the course's index."""
    from localize.config import load_config
    from localize.views.status import course_status

    config = tmp_path / "localize.toml"
    config.write_text(f'[workspace]\nlocation = "{ws.describe("")}"\n')
    workspace_stats(ws)  # indexed
    reads: list[str] = []
    storage = type(ws.storage)
    original = storage.read_with_etag

    def counting(self, key: str):  # type: ignore[no-untyped-def]
        reads.append(key)
        return original(self, key)

    monkeypatch.setattr(storage, "read_with_etag", counting)
    rows = course_status(load_config(config))
    assert [r["locale"] for r in rows] == ["ar", "es", "sw"]
    assert [k for k in reads if k.startswith("index/stats/")] == ["index/stats/intro-course.json"]


def test_finding_catalogs_lists_only_the_locale_folders(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not the archive, history or index: one folder listing, then each LL/LC_MESSAGES/."""
    listed: list[str] = []
    for name in ("list", "list_with_times", "list_versions"):
        original = getattr(ws.storage, name)

        def spy(prefix: str = "", _original=original):  # type: ignore[no-untyped-def]
            listed.append(prefix)
            return _original(prefix)

        monkeypatch.setattr(ws.storage, name, spy)
    assert ws.catalogs() == [("intro-course", ll) for ll in ("ar", "es", "sw")]
    assert [s.locale for s in workspace_stats(ws)] == ["ar", "es", "sw"]
    assert set(listed) == {"ar/LC_MESSAGES", "es/LC_MESSAGES", "sw/LC_MESSAGES"}


def test_a_catalog_write_never_reads_the_file_back(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The version the write returns is what the index records: the only read is the one
    before the write (is it the same catalog?)."""
    key = ws.catalog_key("intro-course", "es")
    reads: list[str] = []
    original = ws.storage.read_bytes

    def spy(k: str) -> bytes:
        reads.append(k)
        return original(k)

    monkeypatch.setattr(ws.storage, "read_bytes", spy)
    assert ws.write(key, ws.read_catalog("intro-course", "es").with_header("X-Test", "1"))
    assert reads.count(key) == 2  # read_catalog, then the comparison before writing
    entries, _ = index.read_index(ws.storage, "intro-course")
    assert entries["es"]["version"] == ws.written[key] == ws.catalog_versions()[("intro-course", "es")]


def test_index_rebuild_makes_the_derived_state_anew_from_the_files(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    truth = workspace_stats(ws)
    ws.storage.write_bytes(index.stats_key("intro-course"), b"{damaged")
    ws.storage.write_bytes("index/memory/es/manifest.json", b"{damaged")
    assert main(["index", "rebuild", "--locales-dir", ws.storage.describe()]) == 0
    out = capsys.readouterr().out
    assert "statistics of 3 catalogs indexed" in out and "es: translation memory indexed from 1 file" in out
    entries, _ = index.read_index(ws.storage, "intro-course")
    assert {ll: entries[ll]["version"] for ll in entries} == {ll: v for (_, ll), v in ws.catalog_versions().items()}
    assert workspace_stats(ws) == truth
    manifest = json.loads(ws.storage.read_bytes("index/memory/es/manifest.json"))
    assert manifest["courses"] == {"intro-course": ws.catalog_versions()[("intro-course", "es")]}


def test_a_damaged_catalog_is_a_row_that_says_so_and_the_fleet_view_goes_on(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(ws.describe(ws.catalog_key("intro-course", "es")))
    path.write_bytes(b'msgid "x"\nmsgstr "\x1b[2J unterminated\n')  # damaged, with a terminal escape in it
    later = time.time() + 5
    os.utime(path, (later, later))
    rows = {s.locale: s for s in workspace_stats(ws)}
    assert set(rows) == {"ar", "es", "sw"}
    assert rows["es"].error.startswith(str(path)) and rows["es"].entries == 0
    assert rows["ar"].error == "" and rows["ar"].entries > 0
    loc = ws.describe("")
    assert main(["stats", "--locales-dir", loc]) == 1  # partial: the others are listed
    out = capsys.readouterr().out
    assert "ar " in out and "sw " in out and "es       damaged: " in out and "\x1b" not in out
    assert main(["status", "--locales-dir", loc, "--json"]) == 1
    status = {r["locale"]: r for r in json.loads(capsys.readouterr().out)}
    assert status["es"]["error"].startswith(str(path)) and status["es"]["translated_percent"] is None
    assert "error" not in status["ar"]
    assert main(["status", "--locales-dir", loc]) == 1
    out = capsys.readouterr().out
    assert "! damaged catalog: " in out and "\x1b" not in out
    # never indexed: once repaired, the catalog is read again and counted
    entries, _ = index.read_index(ws.storage, "intro-course")
    assert entries.get("es", {}).get("version") != ws.catalog_versions(locale="es")[("intro-course", "es")]
    path.write_bytes(
        b'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Hello"\nmsgstr "Hola"\n'
    )
    os.utime(path, (later + 5, later + 5))
    repaired = {s.locale: s for s in workspace_stats(ws)}["es"]
    assert repaired.error == "" and repaired.translated == 1


def _old_series(records: list[tuple[str, str, str, int]]) -> dict[str, list[tuple[str, int]]]:
    """The chart's series as the dashboard computed it before (a sum over every pair per
    snapshot), collapsed to a point a day: the reference for the running totals."""
    series: dict[str, list[tuple[str, int]]] = {}
    current: dict[tuple[str, str], int] = {}
    for at, course, locale, words in sorted(records):
        current[(course, locale)] = words
        total = sum(v for (_, loc), v in current.items() if loc == locale)
        points = series.setdefault(locale, [])
        if points and points[-1][0][:10] == at[:10]:
            points[-1] = (at, total)
        else:
            points.append((at, total))
    return series


def test_the_chart_reads_one_object_per_course_however_many_days_and_rebuilds_from_the_snapshots(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Progress points live beside the statistics (one a day per catalog): the dashboard reads
    one index object per course, never the snapshot files (one per catalog per day), and its
    running totals equal the sum the dashboard made before; `index rebuild` puts them back."""
    from localize.app.catalogs import rebuild_indexes
    from localize.views.dashboard import _series

    base = catalog_stats(ws.read_catalog("intro-course", "es"), "intro-course", "es")
    records = []
    for day in range(1, 31):  # a month of daily progress in three courses and two locales
        for course in ("intro-course", "c2", "c3"):
            for ll in ("es", "ar"):
                words = day * 10 + len(course) + len(ll)
                at = f"2026-11-{day:02d}T12:{len(course):02d}:00+00:00"
                stats = replace(base, course=course, locale=ll, translated_words=words)
                index.record(ws.storage, [(stats, 1, "v")], at=at)
                ws.storage.write_bytes(
                    f"history/{course}/{ll}/202611{day:02d}.json",
                    json.dumps({"at": at, "course": course, "locale": ll, "translated_words": words}).encode(),
                )
                records.append((at, course, ll, words))
    read: list[str] = []
    original = type(ws.storage).read_bytes

    def counting(self, key: str) -> bytes:  # type: ignore[no-untyped-def]
        read.append(key)
        return original(self, key)

    monkeypatch.setattr(type(ws.storage), "read_bytes", counting)
    series = _series(ws, False, lambda course, locale: True)
    monkeypatch.setattr(type(ws.storage), "read_bytes", original)
    assert sorted(read) == ["index/stats/c2.json", "index/stats/c3.json", "index/stats/intro-course.json"]
    old = _old_series(records)
    november = {ll: [pt for pt in series[ll] if pt[0].startswith("2026-11")] for ll in ("es", "ar")}
    assert november == old and len(november["es"]) == 30  # (the fixture's own catalogs add today's point)
    # the index lost: rebuilt from the snapshots, the same chart
    for key in list(ws.storage.list("index/stats")):
        ws.storage.delete(key)
    for course in ("c2", "c3"):  # courses need a catalog for `index rebuild` to know them
        for ll in ("es", "ar"):
            ws.write(ws.catalog_key(course, ll), ws.read_catalog("intro-course", "es"))
    rebuild_indexes(ws)
    rebuilt = _series(ws, False, lambda course, locale: True)
    assert {ll: [pt for pt in rebuilt[ll] if pt[0].startswith("2026-11")] for ll in ("es", "ar")} == old


@pytest.mark.parametrize(
    "history",
    [
        "not a dict",
        {"es": "not a list"},
        {"es": [["2026-11-01T00:00:00+00:00", -5], [None, 3], ["not a date", 4], ["x" * 100, 1], [True, True]]},
        {"es": [["2026-11-01T00:00:00+00:00", 7, "extra"], ["2026-11-02T00:00:00+00:00", 9]]},
    ],
)
def test_hostile_history_points_are_skipped(ws: Workspace, history: object) -> None:
    body = json.loads(ws.storage.read_bytes(index.stats_key("intro-course")))
    body["history"] = history
    ws.storage.write_bytes(index.stats_key("intro-course"), json.dumps(body).encode())
    points = ws.history()
    assert all(isinstance(words, int) and words >= 0 for _, _, _, words in points)
    assert [(at, words) for at, _, ll, words in points if ll == "es" and at.startswith("2026-11")] == (
        [("2026-11-02T00:00:00+00:00", 9)] if isinstance(history, dict) and "extra" in str(history) else []
    )


def _old_workspace(ws: Workspace) -> None:
    """As a workspace indexed before the points moved beside the statistics: snapshots of two
    November days, index objects without a history."""
    for key in list(ws.storage.list("index/stats")):
        body = json.loads(ws.storage.read_bytes(key))
        body.pop("history", None)
        ws.storage.write_bytes(key, json.dumps(body).encode())
    for day, words in ((3, 2), (4, 5)):
        at = f"2026-11-0{day}T10:00:00+00:00"
        record = {"at": at, "course": "intro-course", "locale": "es", "translated_words": words}
        ws.storage.write_bytes(f"history/intro-course/es/2026110{day}.json", json.dumps(record).encode())


def test_an_upgraded_workspace_keeps_its_chart_on_read_and_on_the_next_write(ws: Workspace) -> None:
    _old_workspace(ws)
    es = [(at[:10], words) for at, _, ll, words in ws.history() if ll == "es"]
    assert es[:2] == [("2026-11-03", 2), ("2026-11-04", 5)]  # from the snapshots, on first read
    assert "history" in json.loads(ws.storage.read_bytes(index.stats_key("intro-course")))  # migrated once
    _old_workspace(ws)
    ws.write(ws.catalog_key("intro-course", "es"), ws.read_catalog("intro-course", "es").with_header("X-T", "1"))
    es = [(at[:10], words) for at, _, ll, words in ws.history() if ll == "es"]
    assert es[:2] == [("2026-11-03", 2), ("2026-11-04", 5)] and len(es) == 3  # and today's point


def test_index_rebuild_keeps_a_point_written_while_it_read_the_snapshots(ws: Workspace) -> None:
    snapshots = ws.snapshot_history("intro-course")  # what a rebuild read...
    base = catalog_stats(ws.read_catalog("intro-course", "es"), "intro-course", "es")
    later = "2099-01-01T00:00:00+00:00"  # ...then a catalog write landed
    index.record(ws.storage, [(replace(base, translated_words=42), 1, "v")], at=later)
    index.set_history(ws.storage, "intro-course", snapshots)
    assert (later, "intro-course", "es", 42) in ws.history()


def _listings(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The prefixes the workspace's storage is asked to list from now on."""
    listed: list[str] = []
    original = type(ws.storage).list

    def spy(self, prefix: str = ""):  # type: ignore[no-untyped-def]
        listed.append(prefix)
        return original(self, prefix)

    monkeypatch.setattr(type(ws.storage), "list", spy)
    return listed


def test_a_return_finds_its_kit_without_listing_every_assignment(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ingest looks its kit up in the kit index, not in a listing of every assignment of the
    fleet; on a workspace whose kit index is complete, neither does an unknown or malformed id."""
    from localize.partners.assignments import Assignment, assignments_of_kit, save_assignment

    for i in range(5):
        a = Assignment(f"k{i}", "intro-course", "es", "lima", "0" * 64, f"t{i}", "2027-01-01")
        save_assignment(ws, a)
    listed = _listings(ws, monkeypatch)
    [found] = assignments_of_kit(ws, "k3")
    assert (found.kit, found.sent_at) == ("k3", "t3") and listed == []
    # every kit of this workspace was indexed before its file: an unknown or malformed id
    # (a partner's file says what it likes) costs two object reads, never a listing
    assert assignments_of_kit(ws, "../../index/kits/k3") == [] and listed == []
    assert assignments_of_kit(ws, "no-such-kit") == [] and assignments_of_kit(ws, "-x") == [] and listed == []
    # a kit index naming another kit's file is not believed: the kit is looked for where the
    # returned file says it belongs (its course and locale headers), and indexed again
    ws.storage.write_bytes(
        "index/kits/k4.json", json.dumps({"files": ["assignments/intro-course/es/k1.json"]}).encode()
    )
    assert assignments_of_kit(ws, "k4") == []
    assert assignments_of_kit(ws, "k4", course="../intro-course", locale="es") == []
    [found] = assignments_of_kit(ws, "k4", course="intro-course", locale="es")
    assert found.kit == "k4" and listed == []
    [found] = assignments_of_kit(ws, "k4")
    assert found.kit == "k4"


def _legacy_assignment(ws: Workspace, kit: str) -> None:
    """An assignment file as a version before the kit index wrote it: no index entry, no marker."""
    from localize.partners.assignments import Assignment, assignment_key

    a = Assignment(kit, "intro-course", "es", "lima", "0" * 64, "t", "2027-01-01")
    ws.storage.write_bytes(assignment_key(a.course, a.locale, a.kit), a.to_json())


def test_an_older_workspace_lists_until_index_rebuild_completes_the_kit_index(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Assignments written before the kit index are still found (by a listing); `index rebuild`
    indexes them and marks the index complete, after which nothing is listed; an assignment
    saved later on such a workspace is indexed too."""
    from localize.partners.assignments import Assignment, assignments_of_kit, kits_complete, save_assignment

    _legacy_assignment(ws, "old1")
    save_assignment(ws, Assignment("new1", "intro-course", "ar", "cairo", "0" * 64, "t", "2027-01-01"))
    assert not kits_complete(ws)  # it had assignments before: they may be unindexed
    listed = _listings(ws, monkeypatch)
    [old] = assignments_of_kit(ws, "old1")
    assert old.kit == "old1" and listed == ["assignments"]
    [new] = assignments_of_kit(ws, "new1")
    assert new.kit == "new1" and listed == ["assignments"]  # from the index
    assert assignments_of_kit(ws, "unknown") == [] and listed == ["assignments"] * 2
    monkeypatch.undo()
    assert main(["index", "rebuild", "--locales-dir", ws.describe("")]) == 0
    assert "kit index: 2 assignment files" in capsys.readouterr().out
    assert kits_complete(ws)
    listed = _listings(ws, monkeypatch)
    assert [a.kit for a in assignments_of_kit(ws, "old1")] == ["old1"]
    assert assignments_of_kit(ws, "unknown") == [] and assignments_of_kit(ws, "a/b") == [] and listed == []


def test_a_kill_between_indexing_a_kit_and_writing_its_file_loses_nothing(ws: Workspace) -> None:
    """Killed at the step between (an injected SIGKILL): the index names a file that is not
    there, which answers "no such kit" without a listing; routing the kit again writes it."""
    import signal
    import subprocess
    import sys

    from localize.catalogs.faults import KILL_ENV
    from localize.partners.assignments import assignments_of_kit, kits_complete

    script = (
        "import sys; from localize.catalogs.workspace import Workspace\n"
        "from localize.partners.assignments import Assignment, save_assignment\n"
        "save_assignment(Workspace(sys.argv[1]), Assignment('k9', 'intro-course', 'es', 'lima', '0' * 64, 't', 'd'))\n"
    )
    run = [sys.executable, "-c", script, ws.describe("")]
    killed = subprocess.run(run, env={**os.environ, KILL_ENV: "assignment:kit-indexed"}, capture_output=True)
    assert killed.returncode == -signal.SIGKILL
    assert kits_complete(ws) and ws.storage.exists("index/kits/k9.json")
    assert not ws.storage.exists("assignments/intro-course/es/k9.json")
    assert assignments_of_kit(ws, "k9") == []
    assert subprocess.run(run, capture_output=True).returncode == 0
    [found] = assignments_of_kit(ws, "k9")
    assert found.partner == "lima"
    assert json.loads(ws.storage.read_bytes("index/kits/k9.json"))["files"] == ["assignments/intro-course/es/k9.json"]


def test_a_complete_kit_index_that_is_damaged_or_hostile_is_never_followed_nor_listed(
    ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once complete, a kit index object that does not hold a list, names a file of another kit
    (as a case-insensitive folder gives for "ABC" and "abc"), or a key with ".." or an empty
    part answers "no such kit": never a listing, never a read outside the assignments."""
    from localize.partners.assignments import Assignment, assignments_of_kit, save_assignment

    save_assignment(ws, Assignment("abc", "intro-course", "es", "lima", "0" * 64, "t", "2027-01-01"))
    listed = _listings(ws, monkeypatch)
    hostile = {
        "ABC": {"files": ["assignments/intro-course/es/abc.json"]},
        "k1": {"files": "assignments/intro-course/es/k1.json"},
        "k2": {"files": ["assignments/../../etc/k2.json", "assignments//es/k2.json", "assignments/./es/k2.json"]},
        "k3": [1, 2],
    }
    for kit, body in hostile.items():
        ws.storage.write_bytes(f"index/kits/{kit}.json", json.dumps(body).encode())
        assert assignments_of_kit(ws, kit) == [], kit
    ws.storage.write_bytes("index/kits/k4.json", b"{not json")
    assert assignments_of_kit(ws, "k4") == []
    assert [a.kit for a in assignments_of_kit(ws, "abc")] == ["abc"] and listed == []


def test_an_assignment_written_between_a_read_and_a_write_is_merged_never_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Routing marks a kit complete while an ingest records a return on it: the write is a
    compare-and-swap, so the one that comes second merges over what the first wrote."""
    from localize.partners.assignments import Assignment, save_assignment
    from localize.storage.base import LocalStorage

    ws = Workspace(str(tmp_path / "ws"))
    sent = Assignment("k1", "c", "es", "lima", "d" * 64, "2026-12-02T08:00:00+00:00", "2026-12-16", complete=False)
    save_assignment(ws, sent)
    returned = replace(sent, state="accepted", returns=({"sha256": "e" * 64},), complete=True)
    original, raced = LocalStorage.put, []

    def racing_put(self: LocalStorage, key: str, data: bytes, **kwargs: object) -> str:
        if key.endswith("/k1.json") and not raced:
            raced.append(key)
            save_assignment(ws, returned)  # an ingest lands after this writer read the assignment
        return original(self, key, data, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalStorage, "put", racing_put)
    saved = save_assignment(
        ws, replace(sent, webhook="delivered", complete=True), merge=lambda s: replace(s, webhook="delivered")
    )

    assert raced and saved == replace(returned, webhook="delivered")
    assert Assignment.from_json(ws.storage.read_bytes("assignments/c/es/k1.json")) == saved


def test_a_point_from_a_clock_ahead_does_not_push_the_oldest_points_out() -> None:
    """A writer whose clock ran a year ahead left a point at the end of the history: every later
    write of the day used to append a point of its own (the last point was never of its day),
    and past MAX_HISTORY_POINTS the oldest days fell out. Points stay one a day, in date order."""
    history: dict[str, object] = {
        "es": [[f"2024-01-{d:02d}T00:00:00+00:00", d] for d in range(1, 11)] + [["2027-12-01T00:00:00+00:00", 99]]
    }
    for n in range(3 * index.MAX_HISTORY_POINTS):
        index._add_point(history, "es", f"2026-12-02T10:{n // 60 % 60:02d}:{n % 60:02d}+00:00", 50 + n)
    index._add_point(history, "es", "2026-12-03T09:00:00+00:00", 7)
    index._add_point(history, "es", "2024-01-05T12:00:00+00:00", 5)  # a clock behind: that day's point
    points = history["es"]
    assert isinstance(points, list)
    assert [p[0][:10] for p in points] == [
        *(f"2024-01-{d:02d}" for d in range(1, 11)),
        "2026-12-02",
        "2026-12-03",
        "2027-12-01",
    ]
    assert points[10][1] == 50 + 3 * index.MAX_HISTORY_POINTS - 1 and points[4] == ["2024-01-05T12:00:00+00:00", 5]


def test_index_rebuild_repairs_derived_files_replaced_by_folders(
    ws: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    """A statistics file or a memory manifest replaced by a folder stopped `stats` and `init` with
    "not a regular file", and `index rebuild` stopped the same way: the tool that makes derived
    state anew could not repair it (found by an operator's look). The memory index is now rows of
    one database file: that file replaced by a folder is replaced by a new one."""
    root = Path(ws.storage.describe())
    loc = ["--locales-dir", str(root)]
    assert main(["init", "--course", "intro-course", "--locale", "fr", *loc]) == 0  # the es index exists too
    truth = workspace_stats(ws)
    database = database_of(root)
    assert database is not None
    for path in (root / index.stats_key("intro-course"), database):
        path.unlink()
        (path / "inside").mkdir(parents=True)
        (path / "inside" / "x.json").write_text("{}")
    outside = root.parent / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    (root / "index" / "kits").mkdir(parents=True, exist_ok=True)
    (root / "index" / "kits" / "linked.json").symlink_to(outside)
    assert main(["stats", *loc]) == 2  # what the operator met
    capsys.readouterr()
    assert main(["index", "rebuild", *loc]) == 0
    database = database_of(root)
    assert (root / index.stats_key("intro-course")).is_file() and database is not None and database.is_file()
    assert ws.storage.exists("index/memory/es/manifest.json")
    assert not (root / "index" / "kits" / "linked.json").exists() and (outside / "keep.txt").read_text() == "keep"
    assert workspace_stats(ws) == truth
    assert main(["stats", *loc]) == 0
