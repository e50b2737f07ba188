"""Flows on a real Prefect (prefect_test_harness: a temporary local API server)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLE
from localize.catalogs.po import read_po, write_po
from localize.catalogs.workspace import Workspace

pytestmark = pytest.mark.prefect


def test_extract_course_flow_writes_the_template(prefect_harness: None, tmp_path: Path) -> None:
    from flows.extract_course import extract_course

    state = extract_course(str(SAMPLE), "intro-course", str(tmp_path), return_state=True)
    assert state.is_completed()
    summary = state.result()
    pot = tmp_path / "templates" / "intro-course.pot"
    assert summary["path"] == str(pot) and summary["written"] is True
    assert summary["pages"] == 8 and summary["failures"] == []
    catalog = read_po(pot.read_bytes(), str(pot))
    assert len(catalog.entries) == summary["entries"]
    assert catalog.header("X-Localize-Course") == "intro-course"
    again = extract_course(str(SAMPLE), "intro-course", str(tmp_path))
    assert again["written"] is False


def test_extract_course_flow_reports_bad_pages(prefect_harness: None, tmp_path: Path) -> None:
    from flows.extract_course import extract_course

    course = tmp_path / "course"
    course.mkdir()
    (course / "a.html").write_text("<p>Fine</p>")
    (course / "b.html").write_bytes(b"\x00\x01binary")
    summary = extract_course(str(course), "c", str(tmp_path / "loc"))
    assert summary["pages"] == 1
    assert summary["failures"] == ["b.html: binary file (NUL bytes), not an HTML page; remove it or rename it"]


def test_flow_parameters_are_validated(prefect_harness: None, tmp_path: Path) -> None:
    from prefect.exceptions import ParameterTypeError

    from flows.extract_course import extract_course

    with pytest.raises(ParameterTypeError) as info:
        extract_course(str(SAMPLE), "../etc", str(tmp_path))
    assert "course" in str(info.value) and "pattern" in str(info.value)


def test_sync_all_skips_unchanged_courses(prefect_harness: None, tmp_path: Path) -> None:
    from flows.sync_all import sync_all

    listing = tmp_path / "courses"
    for i in range(3):
        (listing / f"course-{i}").mkdir(parents=True)
        (listing / f"course-{i}" / "index.html").write_text(
            f"<title>Course {i}</title><p>Shared footer</p><p>Unique {i}</p>"
        )
    ws = str(tmp_path / "ws")
    assert [r["state"] for r in sync_all(str(listing), ws)] == ["Completed"] * 3
    # nothing changed: no extraction work at all
    assert [r["state"] for r in sync_all(str(listing), ws)] == ["Cached"] * 3
    (listing / "course-1" / "index.html").write_text("<title>Course 1</title><p>Changed text</p>")
    rows = sync_all(str(listing), ws)
    assert [r["state"] for r in rows] == ["Cached", "Completed", "Cached"]
    assert 'msgid "Changed text"' in (tmp_path / "ws" / "templates" / "course-1.pot").read_text()


def test_sync_all_never_reports_cached_work_the_workspace_no_longer_holds(
    prefect_harness: None, tmp_path: Path
) -> None:
    """Prefect's task cache keys on the course's revision, and lives outside the workspace: a course
    that went back to an earlier content, or a wiped workspace, came out "Cached" with the template
    and catalogs of the other content, or none at all (an attacker's look, session 31)."""
    from flows.sync_all import sync_all
    from localize.cli import main

    listing = tmp_path / "courses"
    (listing / "c").mkdir(parents=True)
    page = listing / "c" / "index.html"
    page.write_text("<title>C</title><p>First text</p>")
    ws = tmp_path / "ws"
    template, catalog = ws / "templates" / "c.pot", ws / "es" / "LC_MESSAGES" / "c.po"
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Completed"]
    assert main(["init", "--course", "c", "--locale", "es", "--locales-dir", str(ws)]) == 0
    page.write_text("<title>C</title><p>Added text</p><p>First text</p>")
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Completed"]
    assert 'msgid "Added text"' in template.read_text() and 'msgid "Added text"' in catalog.read_text()
    page.write_text("<title>C</title><p>First text</p>")  # back to the first content
    [row] = sync_all(str(listing), str(ws))
    assert row["state"] == "Completed" and row["parsed"] == 1, row
    assert 'msgid "Added text"' not in template.read_text()
    assert 'msgid "Added text"' not in catalog.read_text()  # merged with the template of this content
    shutil.rmtree(ws)  # wiped: the next sync makes it again
    [row] = sync_all(str(listing), str(ws))
    assert row["state"] == "Completed" and 'msgid "First text"' in template.read_text(), row
    assert main(["init", "--course", "c", "--locale", "es", "--locales-dir", str(ws)]) == 0
    page.write_text("<title>C</title><p>First text</p><p>More text</p>")
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Completed"]
    # and what is really done stays cached: nothing changed, nothing done
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Cached"]
    # the workspace's own record of a complete sync is not taken at its word either: a template and
    # a catalog deleted by hand (or a partial restore) are made again
    template.unlink()
    catalog.unlink()
    [row] = sync_all(str(listing), str(ws))
    assert row["state"] != "Cached" and template.is_file(), row
    assert not catalog.exists()  # (a sync brings catalogs up to date; `init` starts one)
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Cached"]
    # a catalog deleted alone stays deleted too (the cached extraction listed it): the same rule
    assert main(["init", "--course", "c", "--locale", "es", "--locales-dir", str(ws)]) == 0
    page.write_text("<title>C</title><p>First text</p><p>Other text</p>")
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Completed"]
    page.write_text("<title>C</title><p>First text</p><p>More text</p>")  # a content synced before
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Completed"]
    catalog.unlink()
    [row] = sync_all(str(listing), str(ws))
    assert not catalog.exists() and row["locales"] == {}, row  # (its template cached: nothing else to do)
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Cached"]


def test_sync_all_retries_one_course_locale_alone(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One task per course x locale: a transient failure of one catalog write is retried
    for that item only; no other course or locale is extracted or merged again, then or
    in the next run."""
    from collections import Counter

    from flows.sync_all import sync_all
    from localize.app import orchestration
    from localize.cli import main
    from localize.errors import TransientStorageError

    listing = tmp_path / "courses"
    for i in range(2):
        (listing / f"course-{i}").mkdir(parents=True)
        (listing / f"course-{i}" / "index.html").write_text(f"<title>Course {i}</title><p>Text {i}</p>")
    ws = tmp_path / "ws"
    assert [r["state"] for r in sync_all(str(listing), str(ws))] == ["Completed"] * 2
    for i in range(2):
        for locale in ("es", "ar"):
            assert main(["init", "--course", f"course-{i}", "--locale", locale, "--locales-dir", str(ws)]) == 0
        (listing / f"course-{i}" / "index.html").write_text(f"<title>Course {i}</title><p>New text {i}</p>")

    calls: Counter[tuple[str, ...]] = Counter()
    real_extract, real_update = orchestration.extract_template, orchestration.update_locale

    def extract(source: str, course: str, *args: Any) -> dict[str, Any]:
        calls[("extract", course)] += 1
        return real_extract(source, course, *args)

    def update(course: str, locale: str, locales_dir: str) -> dict[str, Any]:
        calls[(course, locale)] += 1
        return real_update(course, locale, locales_dir)

    real_write = Workspace.write

    def flaky_write(self: Workspace, key: str, catalog: Any, **kwargs: Any) -> bool:
        if key == "ar/LC_MESSAGES/course-0.po" and calls[("course-0", "ar")] == 1:
            raise TransientStorageError("connection reset (injected)", path=key)
        return real_write(self, key, catalog, **kwargs)

    monkeypatch.setattr(orchestration, "extract_template", extract)
    monkeypatch.setattr(orchestration, "update_locale", update)
    monkeypatch.setattr(Workspace, "write", flaky_write)
    rows = sync_all(str(listing), str(ws))
    assert [(r["state"], r["locales"], r["failures"]) for r in rows] == [
        ("Completed", {"ar": "Completed", "es": "Completed"}, []),
    ] * 2
    assert calls == {
        ("extract", "course-0"): 1,
        ("extract", "course-1"): 1,
        ("course-0", "ar"): 2,  # the failed item, retried alone
        ("course-0", "es"): 1,
        ("course-1", "ar"): 1,
        ("course-1", "es"): 1,
    }
    for i in range(2):
        for locale in ("es", "ar"):
            assert f'msgid "New text {i}"' in (ws / locale / "LC_MESSAGES" / f"course-{i}.po").read_text()
    calls.clear()
    again = sync_all(str(listing), str(ws))
    assert [(r["state"], r["locales"]) for r in again] == [("Cached", {"ar": "Cached", "es": "Cached"})] * 2
    assert not calls  # nothing extracted or merged again


def test_a_damaged_catalog_fails_its_item_and_the_next_run_tries_it_again(
    prefect_harness: None, tmp_path: Path
) -> None:
    from flows.sync_all import sync_all
    from localize.cli import main

    listing = tmp_path / "courses"
    (listing / "c").mkdir(parents=True)
    (listing / "c" / "index.html").write_text("<title>C</title><p>Text</p>")
    ws = tmp_path / "ws"
    sync_all(str(listing), str(ws))
    for locale in ("es", "ar"):
        assert main(["init", "--course", "c", "--locale", locale, "--locales-dir", str(ws)]) == 0
    damaged = ws / "ar" / "LC_MESSAGES" / "c.po"
    good = damaged.read_bytes()
    damaged.write_bytes(b'msgid "unterminated\n')
    (listing / "c" / "index.html").write_text("<title>C</title><p>Other text</p>")
    [row] = sync_all(str(listing), str(ws))
    assert row["state"] == "Failed" and row["locales"] == {"ar": "Failed", "es": "Completed"}
    [failure] = row["failures"]
    assert failure.startswith("ar: ") and "c.po" in failure and "catalog left unchanged" in failure
    assert damaged.read_bytes() == b'msgid "unterminated\n'
    damaged.write_bytes(good)  # repaired: the next run merges it, and only it
    [row] = sync_all(str(listing), str(ws))
    assert row["state"] == "Completed" and row["locales"] == {"ar": "Completed", "es": "Cached"}
    assert 'msgid "Other text"' in damaged.read_text()


def write_config(tmp_path: Path, bucket: str, min_translated: int = 50) -> Path:
    config = tmp_path / "localize.toml"
    config.write_text(
        f"""
[workspace]
location = "ws"

[[partners]]
id = "lima"
name = "Universidad de Lima (sample)"
locales = ["es"]
inbox = "inboxes/lima"

[[partners]]
id = "cairo"
name = "Cairo University (sample)"
locales = ["ar"]
inbox = "inboxes/cairo"

[[regions]]
name = "latam"
location = "s3://{bucket}/latam"
locales = ["es"]
min_translated = {min_translated}

[[regions]]
name = "mena"
location = "s3://{bucket}/mena"
locales = ["ar"]
min_translated = {min_translated}
"""
    )
    return config


def partners_return(tmp_path: Path) -> None:
    """The translators' work: every entry translated; one Arabic entry carries a script."""
    for partner, locale, prefix in (("lima", "es", "ES "), ("cairo", "ar", "عربي ")):
        [kit] = (tmp_path / "inboxes" / partner / "kits" / "intro-course" / locale).glob("*/*.po")
        cat = read_po(kit.read_bytes())
        entries = tuple(replace(e, msgstr=prefix + e.msgid) for e in cat.entries)
        if locale == "ar":
            entries = tuple(
                replace(e, msgstr="<script>alert(1)</script>" + e.msgstr) if e.msgid == "Syllabus" else e
                for e in entries
            )
        returns = tmp_path / "inboxes" / partner / "returns"
        returns.mkdir(parents=True)
        (returns / kit.name).write_text(write_po(replace(cat, entries=entries)), encoding="utf-8")


def artifacts(keys: list[str]) -> dict[str, Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactCollectionFilter, ArtifactCollectionFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_latest_artifacts(
            artifact_filter=ArtifactCollectionFilter(key=ArtifactCollectionFilterKey(any_=keys))
        )
    return {a.key: json.loads(a.data) if a.type == "table" and isinstance(a.data, str) else a.data for a in found}


def test_localize_course_end_to_end(prefect_harness: None, s3_env: str, tmp_path: Path) -> None:
    from flows.localize_course import localize_course
    from localize.regions.pull import pull

    config = str(write_config(tmp_path, s3_env))
    first = localize_course("intro-course", source=str(SAMPLE), config=config)
    assert sorted((r["partner"], r["sent"]) for r in first["routed"]) == [("cairo", True), ("lima", True)]
    for r in first["routed"]:  # the flow passes its source: kits carry the pages and the offline preview
        assert (Path(r["location"]) / "preview.html").is_file() and (Path(r["location"]) / "pages").is_dir()
    assert all(
        not r["published"] and r["message"].startswith("only 0.0 % of words translated") for r in first["published"]
    )
    partners_return(tmp_path)
    second = localize_course("intro-course", config=config)
    states = {r["partner"]: r["state"] for r in second["ingested"]}
    assert states == {"cairo": "partially accepted", "lima": "accepted"}
    [cairo] = [r for r in second["ingested"] if r["partner"] == "cairo"]
    assert cairo["rejected"] == 1 and any("markup: <script> is not allowed" in e for e in cairo["errors"])
    assert sorted((r["region"], r["published"]) for r in second["published"]) == [("latam", True), ("mena", True)]
    assert all(not r["sent"] for r in second["routed"])  # the kits were not sent again
    site = tmp_path / "site"
    pull(f"s3://{s3_env}/mena", "intro-course", "ar", site)
    home = (site / "intro-course" / "ar" / "index.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in home and "عربي Course Description" in home and "<script>alert" not in home
    assert Path(second["dashboard"]).read_text(encoding="utf-8").count("intro-course") >= 2
    from localize.storage.locations import open_storage

    assert b"Localization progress" in open_storage(f"s3://{s3_env}/mena").read_bytes("report.html")
    found = artifacts(["qa-summary", "catalog-stats-intro-course", "published-intro-course", "dashboard"])
    assert found["dashboard"].startswith("[progress dashboard](file://")
    assert "partially accepted" in found["qa-summary"] and "markup: <script>" in found["qa-summary"]
    assert {r["locale"] for r in found["catalog-stats-intro-course"]} == {"ar", "es"}
    assert {r["region"] for r in found["published-intro-course"]} == {"latam", "mena"}


def test_a_storage_outage_is_retried_and_the_flow_completes(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.publish_course import publish_course
    from localize_dev.seaweed import SeaweedFS

    server = SeaweedFS(tmp_path / "sw", buckets=("outage",))
    server.start()
    try:
        for key, value in server.env().items():
            monkeypatch.setenv(key, value)
        config = write_config(tmp_path, "outage", min_translated=0)
        monkeypatch.chdir(tmp_path)
        shutil.copytree(SAMPLE, tmp_path / "course")
        from localize.cli import main

        assert main(["extract", str(tmp_path / "course"), "--course", "intro-course", "--locales-dir", "ws", "-q"]) == 0
        assert main(["init", "--course", "intro-course", "--locale", "es", "--locales-dir", "ws"]) == 0
        server.stop()
        # the server comes back while the first task that failed on the outage is judged worth
        # a retry, before the retry is scheduled: an injected event, not a sleep or a thread (a
        # server slow to start on a loaded machine used to come back after the retries were spent)
        import flows.tasks as flow_tasks

        met = []
        real = flow_tasks.is_transient

        def observed(e: BaseException) -> bool:
            transient = real(e)
            if transient and not met:
                met.append(e)
                server.start()
            return transient

        monkeypatch.setattr(flow_tasks, "is_transient", observed)
        rows = publish_course("intro-course", locales=["es"], config=str(config))
        assert met, "the flow never met the outage"
        assert rows[0].get("published") and rows[0]["region"] == "latam", rows
        assert Workspace("ws").source_of("intro-course") == str(tmp_path / "course")
    finally:
        server.stop()


def test_localize_run_and_status(
    prefect_harness: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from localize.cli import main

    monkeypatch.chdir(tmp_path)
    config = tmp_path / "localize.toml"
    config.write_text(
        '[workspace]\nlocation = "ws"\n\n[[partners]]\nid = "lima"\nname = "Lima"\nlocales = ["es"]\ninbox = "inbox"\nturnaround_days = 1\n'
    )
    code = main(
        [
            "run",
            "localize-course",
            "--param",
            "course=intro-course",
            "--param",
            f"source={SAMPLE}",
            "--param",
            "publish=false",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    result = json.loads(out)
    assert result["routed"][0]["partner"] == "lima" and result["routed"][0]["sent"] is True
    assert "localize-course completed in " in err
    code = main(["status", "--json"])
    [row] = json.loads(capsys.readouterr().out)
    assert (row["course"], row["locale"], row["partner"], row["state"], row["overdue"]) == (
        "intro-course",
        "es",
        "lima",
        "sent",
        False,
    )
    from datetime import date, timedelta

    from localize.config import load_config
    from localize.views.status import course_status

    [later] = course_status(load_config(config), today=date.today() + timedelta(days=5))
    assert later["overdue"] is True
    assert main(["run", "sync-all", "--param", "nonsense=1"]) == 2
    assert "sync-all: " in capsys.readouterr().err


def test_a_permanent_storage_error_is_not_retried(
    prefect_harness: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seaweed, s3_env: str
) -> None:
    """Access denied (a wrong secret key) fails the locale at once: no retry, a clear error row."""
    from flows.publish_course import publish_course
    from localize.cli import main

    config = write_config(tmp_path, s3_env, min_translated=0)
    monkeypatch.chdir(tmp_path)
    shutil.copytree(SAMPLE, tmp_path / "course")
    assert main(["extract", str(tmp_path / "course"), "--course", "intro-course", "--locales-dir", "ws", "-q"]) == 0
    assert main(["init", "--course", "intro-course", "--locale", "es", "--locales-dir", "ws"]) == 0
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    started = time.monotonic()
    rows = publish_course("intro-course", locales=["es"], config=str(config))
    assert time.monotonic() - started < 10  # retries would wait 1 + 3 + 6 s
    [row] = rows
    assert (row["course"], row["locale"], row["region"], row["published"]) == ("intro-course", "es", "latam", False)
    assert "SignatureDoesNotMatch" in row["error"] or "AccessDenied" in row["error"], rows
    assert "not-the-secret" not in row["error"]


def test_transient_and_permanent_storage_errors_are_told_apart() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    from flows.tasks import retry_transient
    from localize.errors import PermanentStorageError, PreconditionFailed, TransientStorageError, is_transient
    from localize.storage.s3 import s3_error

    def client_error(code: str, status: int) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "PutObject")

    assert isinstance(s3_error(client_error("AccessDenied", 403), "write", "s3://b/k"), PermanentStorageError)
    assert isinstance(s3_error(client_error("NoSuchBucket", 404), "write", "s3://b/k"), PermanentStorageError)
    assert isinstance(s3_error(client_error("SlowDown", 503), "write", "s3://b/k"), TransientStorageError)
    assert isinstance(s3_error(client_error("InternalError", 500), "write", "s3://b/k"), TransientStorageError)
    assert isinstance(
        s3_error(EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), "read", "s3://b/k"), TransientStorageError
    )
    assert is_transient(PreconditionFailed("lost the race")) and not is_transient(ValueError("x"))
    from prefect.states import Completed, Failed

    assert retry_transient(None, None, Failed(data=TransientStorageError("timeout")))  # type: ignore[arg-type]
    assert not retry_transient(None, None, Failed(data=PermanentStorageError("denied")))  # type: ignore[arg-type]
    assert not retry_transient(None, None, Completed(data=1))  # type: ignore[arg-type]


def test_every_task_that_writes_storage_carries_the_concurrency_tag() -> None:
    """`prefect concurrency-limit create localize-storage-write N` bounds them all."""
    from flows import tasks

    writers = {
        "course-fingerprints", "mark-synced", "extract-template", "sync-template", "update-locale", "sync-locale",
        "route-kit", "ingest-returns", "publish-region", "publish-dashboards", "write-dashboard",
    }  # fmt: skip
    found = {t.name: t for t in vars(tasks).values() if hasattr(t, "fn") and hasattr(t, "tags")}
    assert writers <= set(found)
    assert {name for name, t in found.items() if tasks.STORAGE_WRITE in t.tags} == writers
