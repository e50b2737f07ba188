"""sync-all split into shards, and a no-change sync that reads and parses no page."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from localize.app.fingerprints import RACY_SECONDS, course_fingerprint, fingerprint_key, mark_synced
from localize.app.shards import ShardOutcome, combine_shards, shard_of, split_shards, summarize
from localize.errors import ConfigError
from localize.regions.bundle import source_revision
from localize.storage.courses import open_source


def _age(folder: Path) -> None:
    """Files older than the racy window, as on a site nobody is editing."""
    old = time.time() - 10 * RACY_SECONDS
    for path in folder.rglob("*"):
        os.utime(path, (old, old))


def _listing(root: Path, n: int) -> Path:
    listing = root / "courses"
    for i in range(n):
        course = listing / f"course-{i:02d}"
        (course / "pages").mkdir(parents=True)
        (course / "index.html").write_text(f"<title>Course {i}</title><p>Shared footer</p><p>Unique {i}</p>")
        (course / "pages" / "syllabus.html").write_text(f"<title>Syllabus</title><p>Week {i}</p>")
    _age(listing)
    return listing


# -- sharding and combining (plain Python) -------------------------------------------------


def test_a_course_always_lands_in_the_same_shard_and_in_exactly_one() -> None:
    courses = [{"course": f"c-{i}", "source": f"/x/{i}"} for i in range(200)]
    plan = split_shards(courses, 4)
    assert sorted(c["course"] for shard in plan for c in shard) == sorted(c["course"] for c in courses)
    assert all(shard for shard in plan)  # 200 courses spread over every shard
    # by id, not by position: the same course is in the same shard in another listing
    assert split_shards(courses[::-1], 4)[shard_of("c-7", 4)].count(courses[7]) == 1
    assert shard_of("c-7", 4) == shard_of("c-7", 4) and shard_of("c-7", 1) == 0
    with pytest.raises(ConfigError, match="listed twice"):
        split_shards([*courses, courses[3]], 4)
    with pytest.raises(ConfigError, match="shards must be between"):
        shard_of("c-1", 0)


def test_a_failed_shard_loses_no_course_and_says_which_it_was() -> None:
    courses = [{"course": f"c-{i}", "source": ""} for i in range(30)]
    plan = split_shards(courses, 3)
    ok = [{"course": c["course"], "state": "Cached", "parsed": 0} for c in plan[0]]
    partial = [{"course": c["course"], "state": "Completed", "parsed": 2} for c in plan[2][1:]]
    outcomes = [
        ShardOutcome("Completed", ok),
        ShardOutcome("Crashed", None, "the worker process exited with code -9", run="sync-shard-2-of-3"),
        ShardOutcome("Completed", partial),
    ]
    rows = combine_shards(courses, outcomes)
    assert [r["course"] for r in rows] == [c["course"] for c in courses]  # listing order, none lost
    by = {r["course"]: r for r in rows}
    for c in plan[1]:
        assert by[c["course"]]["state"] == "Failed" and by[c["course"]]["shard"] == 1
        assert (
            "shard 2 of 3 (flow run sync-shard-2-of-3) ended Crashed: the worker process exited"
            in (by[c["course"]]["error"])
        )
    missing = by[plan[2][0]["course"]]
    assert missing["state"] == "Failed" and "returned no row for this course" in missing["error"]
    summary = summarize(rows)
    assert summary["courses"] == 30
    assert summary["states"] == {"Cached": len(plan[0]), "Completed": len(plan[2]) - 1, "Failed": len(plan[1]) + 1}
    assert summary["pages_parsed"] == 2 * (len(plan[2]) - 1)
    assert {f["course"] for f in summary["failed"]} == {c["course"] for c in plan[1]} | {plan[2][0]["course"]}


# -- fingerprints: unchanged files are not read ------------------------------------------


def test_the_fingerprint_is_the_content_revision_and_reads_only_changed_files(tmp_path: Path) -> None:
    listing = _listing(tmp_path, 1)
    course = listing / "course-00"
    ws = str(tmp_path / "ws")
    first = course_fingerprint(str(course), "course-00", ws)
    assert first.revision == source_revision(open_source(course))
    assert (first.files, first.hashed) == (2, 2)
    again = course_fingerprint(str(course), "course-00", ws)
    assert (again.revision, again.hashed) == (first.revision, 0)
    # one page rewritten with the same size (its mtime tells), the other untouched
    page = course / "pages" / "syllabus.html"
    page.write_text(page.read_text().replace("Week", "Wk. "))
    os.utime(page, (time.time() - 5 * RACY_SECONDS,) * 2)
    changed = course_fingerprint(str(course), "course-00", ws)
    assert changed.hashed == 1 and changed.revision == source_revision(open_source(course)) != first.revision


def test_a_just_written_file_is_read_until_its_mtime_can_be_trusted(tmp_path: Path) -> None:
    course = _listing(tmp_path, 1) / "course-00"
    ws = str(tmp_path / "ws")
    course_fingerprint(str(course), "course-00", ws)
    page = course / "index.html"
    page.write_text(page.read_text().replace("Unique 0", "Unique 9"))  # same size, written now
    for _ in range(2):  # racy: read every time, never remembered by its (coarse) mtime
        found = course_fingerprint(str(course), "course-00", ws)
        assert found.hashed == 1 and found.revision == source_revision(open_source(course))


def test_a_damaged_or_foreign_fingerprint_record_is_ignored(tmp_path: Path) -> None:
    listing = _listing(tmp_path, 2)
    ws = tmp_path / "ws"
    truth = source_revision(open_source(listing / "course-00"))
    course_fingerprint(str(listing / "course-00"), "course-00", str(ws))
    record = ws / fingerprint_key("course-00")
    # a record that claims other hashes for this course's files, made for another location
    data = json.loads(record.read_text())
    data["files"] = {p: [v[0], "0" * 64] for p, v in data["files"].items()}
    data["location"] = str(listing / "course-01")
    record.write_text(json.dumps(data))
    found = course_fingerprint(str(listing / "course-00"), "course-00", str(ws))
    assert (found.revision, found.hashed) == (truth, 2)
    record.write_text("{not json")
    assert course_fingerprint(str(listing / "course-00"), "course-00", str(ws)).revision == truth
    record.write_text(json.dumps({"format": 1, "location": str((listing / "course-00").resolve()), "files": 7}))
    assert course_fingerprint(str(listing / "course-00"), "course-00", str(ws)).revision == truth


def test_a_zip_course_is_read_only_when_the_archive_changes(tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "course.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("course/index.html", "<title>Zip</title><p>Zipped</p>")
        z.writestr("course/pages/a.html", "<p>A</p>")
    old = time.time() - 10 * RACY_SECONDS
    os.utime(archive, (old, old))
    ws = str(tmp_path / "ws")
    first = course_fingerprint(str(archive), "zipped", ws)
    assert first.revision == source_revision(open_source(archive)) and first.hashed == 2
    assert course_fingerprint(str(archive), "zipped", ws).hashed == 0


def test_a_synced_course_is_trusted_only_at_the_same_revision_and_tool_version(tmp_path: Path) -> None:
    course = _listing(tmp_path, 1) / "course-00"
    ws = str(tmp_path / "ws")
    first = course_fingerprint(str(course), "course-00", ws, "1.0")
    assert first.synced is None
    result = {"pages": 2, "locales": ["es"], "failures": []}
    assert mark_synced(str(course), "course-00", ws, first.revision, "1.0", result)
    assert course_fingerprint(str(course), "course-00", ws, "1.0").synced == result
    assert course_fingerprint(str(course), "course-00", ws, "1.1").synced is None  # another tool version
    assert not mark_synced(str(course), "course-00", ws, "0" * 64, "1.0", result)  # not the current revision
    (course / "index.html").write_text("<title>Changed</title>")
    changed = course_fingerprint(str(course), "course-00", ws, "1.0")
    assert changed.synced is None and changed.revision != first.revision


def test_an_item_the_orchestrator_cannot_start_is_a_crashed_row_not_a_crashed_shard() -> None:
    """Seen at 2,500 courses on a SQLite-backed server: the API answered 503 to a task's
    concurrency slot; that item fails, the shard's other items are kept."""
    from flows.fanout import outcome

    class Refused:
        def wait(self) -> None:
            raise RuntimeError("Unable to acquire concurrency slots: 503 Service Unavailable")

    assert outcome(Refused()) == (  # type: ignore[arg-type]
        "Crashed",
        None,
        "RuntimeError: Unable to acquire concurrency slots: 503 Service Unavailable",
    )


# -- on the real Prefect harness ---------------------------------------------------------


@pytest.mark.prefect
def test_sharded_sync_all_matches_one_shard_and_a_rerun_parses_no_page(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.sync_all import sync_all
    from localize.engine import extract

    listing = _listing(tmp_path, 7)
    parsed: list[int] = []
    real_parse = extract.parse

    def counting_parse(*args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(extract, "parse", counting_parse)
    ws = str(tmp_path / "ws")
    rows = sync_all(str(listing), ws, shards=3)
    assert [r["course"] for r in rows] == [f"course-{i:02d}" for i in range(7)]
    assert [(r["state"], r["parsed"], r["hashed"]) for r in rows] == [("Completed", 2, 2)] * 7
    assert [r["shard"] for r in rows] == [shard_of(f"course-{i:02d}", 3) for i in range(7)]
    assert len(parsed) == 14
    parsed.clear()
    # nothing changed: every course Cached, not one page read or parsed, sharded or not
    for shards in (3, 1):
        again = sync_all(str(listing), ws, shards=shards)
        assert [(r["state"], r["parsed"], r["hashed"]) for r in again] == [("Cached", 0, 0)] * 7
        assert parsed == []
    one = ws_one = str(tmp_path / "ws-one")
    assert [r["state"] for r in sync_all(str(listing), one)] == ["Completed"] * 7
    names = sorted(p.name for p in (Path(ws) / "templates").iterdir())
    assert names == sorted(p.name for p in (Path(ws_one) / "templates").iterdir()) and len(names) == 7
    for name in names:  # the same templates, made in (maybe) another minute of the clock
        sharded, single = ((Path(w) / "templates" / name).read_bytes() for w in (ws, ws_one))
        assert _undated(sharded) == _undated(single)


def _undated(pot: bytes) -> bytes:
    return re.sub(rb'"POT-Creation-Date: [^"]*"', b'"POT-Creation-Date: -"', pot)


@pytest.mark.prefect
def test_a_shard_that_fails_as_a_whole_is_reported_course_by_course(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.sync_all as module

    listing = _listing(tmp_path, 6)
    doomed = shard_of("course-00", 2)
    real = module.sync_courses

    def shard_dies(courses: list[dict[str, str]], locales_dir: str) -> list[dict[str, Any]]:
        if any(c["course"] == "course-00" for c in courses):
            raise MemoryError("the shard's process ran out of memory (injected)")
        return real(courses, locales_dir)

    monkeypatch.setattr(module, "sync_courses", shard_dies)
    ws = str(tmp_path / "ws")
    rows = module.sync_all(str(listing), ws, shards=2)
    assert len(rows) == 6
    for row in rows:
        if shard_of(row["course"], 2) == doomed:
            assert row["state"] == "Failed" and row["shard"] == doomed
            assert f"shard {doomed + 1} of 2 (flow run sync-shard-{doomed + 1}-of-2) ended Failed" in row["error"]
            assert "ran out of memory (injected)" in row["error"]
        else:
            assert row["state"] == "Completed"
    monkeypatch.setattr(module, "sync_courses", real)
    again = module.sync_all(str(listing), ws, shards=2)
    assert {r["course"]: r["state"] for r in again} == {
        r["course"]: ("Completed" if shard_of(r["course"], 2) == doomed else "Cached") for r in rows
    }


@pytest.mark.prefect
def test_shards_nobody_takes_are_cancelled_with_a_message_that_says_what_to_start(
    prefect_harness: None, tmp_path: Path
) -> None:
    """A shard deployment whose pool no worker polls used to be waited for for ever: now, after
    ``shard_wait`` seconds without a shard starting, the runs are cancelled and every course is
    a Failed row naming the pool and the command that starts a worker for it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows.sync_all import sync_all, sync_shard

    pool = "nobody-polls"
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name=pool, type="process"), overwrite=True)
        flow_id = client.create_flow_from_name(sync_shard.name)
        client.create_deployment(
            flow_id=flow_id, name="idle", work_pool_name=pool, entrypoint="flows/sync_all.py:sync_shard"
        )
    listing = _listing(tmp_path, 4)
    started = time.monotonic()
    rows = sync_all(str(listing), str(tmp_path / "ws"), shards=2, shard_deployment="sync-shard/idle", shard_wait=3)
    assert time.monotonic() - started < 60  # gave up, did not hang
    assert [r["course"] for r in rows] == [f"course-{i:02d}" for i in range(4)]
    for row in rows:
        assert row["state"] == "Failed", row
        assert row["error"].startswith(f"shard {shard_of(row['course'], 2) + 1} of 2"), row["error"]
        assert re.search(rf"not started after \d+ s: no worker polls work pool {pool!r}: start one ", row["error"])
        assert f"(`prefect worker start --pool {pool}`)" in row["error"]
    assert not (tmp_path / "ws" / "templates").exists()  # nothing ran
    with get_client(sync_client=True) as client:
        runs = [r for r in client.read_flow_runs() if r.name.startswith("sync-shard-") and r.deployment_id]
        idle = [r for r in runs if r.state is not None and r.state.message and pool in r.state.message]
        assert idle and {r.state.type.value for r in idle if r.state} == {"CANCELLED"}


class _Pool:
    """What a Prefect API answers about a work pool, for :func:`flows.shards.stall_reason`."""

    def __init__(self, kind: str = "process", paused: bool = False, online: int = 0, busy: tuple[str, ...] = ()):
        from types import SimpleNamespace

        from prefect.client.schemas.objects import WorkerStatus

        self.info = SimpleNamespace(type=kind, is_paused=paused)
        self.workers = [SimpleNamespace(status=WorkerStatus.ONLINE)] * online + [
            SimpleNamespace(status=WorkerStatus.OFFLINE)
        ]
        self.busy = [SimpleNamespace(id=run) for run in busy]

    def read_work_pool(self, name: str) -> object:
        return self.info

    def read_workers_for_work_pool(self, name: str) -> list[object]:
        return self.workers

    def read_flow_runs(self, **filters: object) -> list[object]:
        return self.busy


class _Down(_Pool):
    def read_work_pool(self, name: str) -> object:
        raise ConnectionError("the API is down")


def test_a_stall_is_told_from_shards_queued_behind_other_work() -> None:
    """Shards are cancelled only for what will not change by itself, each with what to do; shards
    waiting for slots that other runs hold (or whose pool has no workers of ours) are waited for."""
    from flows.shards import stall_reason, stalled_message

    def reason(pool: _Pool, name: str | None = "localize", me: str | None = "me") -> str | None:
        return stall_reason(pool, name, me)  # type: ignore[arg-type]

    assert reason(_Pool(online=0)) == (
        "no worker polls work pool 'localize': start one (`prefect worker start --pool localize`)"
    )
    assert reason(_Pool(paused=True, online=2)) == (
        "work pool 'localize' is paused: resume it (`prefect work-pool resume localize`)"
    )
    assert reason(_Pool(online=1, busy=("me",))) == (
        "every worker slot of work pool 'localize' is taken by this sync-all itself: run sync-all on another "
        "pool, or start the worker without --limit"
    )
    assert "takes none of the shards: does it poll their work queue" in (reason(_Pool(online=1)) or "")
    # queued behind other runs, a push or managed pool, no pool, an API that cannot answer: no stall
    assert reason(_Pool(online=1, busy=("me", "a-route-run"))) is None
    assert reason(_Pool(kind="ecs:push")) is None and reason(_Pool(kind="prefect:managed")) is None
    assert reason(_Pool(online=0), name=None) is None
    assert reason(_Down()) is None
    assert stalled_message("the reason", 600.4) == (
        "not started after 600 s: the reason; then run sync-all again (what finished is cached)"
    )


@pytest.mark.hostile
def test_a_listing_that_is_missing_or_not_a_listing_is_one_actionable_error(tmp_path: Path) -> None:
    """The nightly sync-all reads its listing with no check before: a missing file, bad JSON, a
    JSON of the wrong shape or bytes that are not text raised FileNotFoundError, ValueError or
    TypeError from deep inside. Each is now a ConfigError naming the file and the three forms."""
    from localize.app.orchestration import list_courses

    bad = {
        "missing.txt": None,
        "broken.json": b'[{"course": "c1", ',
        "shape.json": b'{"course": "c1", "source": "x"}',
        "types.json": b'[{"course": 7, "source": "x"}]',
        "binary.txt": b"c1 \xff\xfe\n",
    }
    for name, data in bad.items():
        if data is not None:
            (tmp_path / name).write_bytes(data)
        with pytest.raises(ConfigError) as e:
            list_courses(str(tmp_path / name))
        assert str(e.value).startswith(f"{tmp_path / name}: ") and "COURSE SOURCE lines" in str(e.value), name
    (tmp_path / "good.json").write_text('[{"course": "c1", "source": "c1"}]', encoding="utf-8")
    assert list_courses(str(tmp_path / "good.json")) == [{"course": "c1", "source": str(tmp_path / "c1")}]
