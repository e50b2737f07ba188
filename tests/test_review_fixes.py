"""Regression tests for the review findings on regions: GC against rollback, hostile indexes,
per-region publish errors, lock expiry and liveness, the public page, hostile manifests on a
mirror and overlapping pulls."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from localize.errors import IntegrityError, TransientStorageError
from localize.model import Catalog
from localize.regions import gc
from localize.regions.bundle import make_bundle
from localize.regions.layout import (
    make_pointer,
    read_live_versions,
    read_manifest,
    read_pointer,
    swap_pointer,
    versions,
)
from localize.regions.publish import publish_bundle
from localize.regions.pull import pull
from localize.regions.rollback import rollback
from localize.regions.schema import manifest_key, object_key, to_json
from localize.storage.base import LocalStorage
from localize.storage.sources import FolderSource

C, L = "course", "es"


def publish_versions(tmp_path: Path, n: int) -> tuple[LocalStorage, list[str]]:
    """A folder region with ``n`` versions of C/L, each with a page of its own."""
    storage = LocalStorage(tmp_path / "region")
    src = tmp_path / "src"
    src.mkdir()
    made = []
    for i in range(n):
        (src / "index.html").write_text(f"<html><body><p>version {i}</p></body></html>")
        with make_bundle(FolderSource(src), Catalog(), L) as b:
            result = publish_bundle(storage, "r", C, L, b, Catalog(), keep_versions=100, gc_grace_seconds=0)
        made.append(result.version)
    return storage, made


class _OnLock(LocalStorage):
    """Runs ``hook`` once, right after the collector took the GC lock (after it chose its versions)."""

    def __init__(self, root: Path, hook: Any) -> None:
        super().__init__(root)
        self.hook = hook

    def put(self, key: str, data: bytes, **kwargs: Any) -> str:
        etag = super().put(key, data, **kwargs)
        if key == gc.GC_LOCK_KEY and self.hook is not None:
            hook, self.hook = self.hook, None
            hook()
        return etag


def assert_live_whole(storage: LocalStorage) -> None:
    pointer, _ = read_pointer(storage, C, L)
    assert pointer is not None
    for version in filter(None, (pointer["version"], pointer["previous"])):
        for f in read_manifest(storage, C, L, version).files:
            assert storage.exists(object_key(f.sha256)), f.path


# -- 1. prune racing a rollback ----------------------------------------------------------------------


def test_a_rollback_landing_while_prune_holds_the_lock_keeps_its_target(tmp_path: Path) -> None:
    _, made = publish_versions(tmp_path, 4)
    storage = _OnLock(tmp_path / "region", None)
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(rollback(LocalStorage(storage.root), "r", C, L, made[0])))

    def roll_back_meanwhile() -> None:
        thread.start()
        for _ in range(200):  # until the rollback announced its target (or, unprotected, finished)
            if done or any(storage.list("leases")):
                return
            time.sleep(0.01)

    storage.hook = roll_back_meanwhile
    pruned, _ = gc.prune(storage, C, L, keep=2, grace_seconds=0)
    thread.join(10)
    assert done == [(made[3], made[0])]
    assert made[0] not in pruned and made[1] in pruned
    assert versions(storage, C, L) == [made[0], made[2], made[3]]
    assert_live_whole(storage)
    pull(str(storage.root), C, L, tmp_path / "mirror")
    assert not list(storage.list("leases"))


def test_prune_rereads_the_pointer_after_taking_the_lock(tmp_path: Path) -> None:
    """A pointer moved to an old version between the choice and the lock (a client without leases)."""
    _, made = publish_versions(tmp_path, 4)

    def move_pointer() -> None:
        plain = LocalStorage(tmp_path / "region")
        _, etag = read_pointer(plain, C, L)
        data = plain.read_bytes(manifest_key(C, L, made[0]))
        swap_pointer(plain, C, L, make_pointer(C, L, made[0], data, made[3], datetime.now(UTC)), etag)

    storage = _OnLock(tmp_path / "region", move_pointer)
    pruned, _ = gc.prune(storage, C, L, keep=2, grace_seconds=0)
    assert pruned == (made[1],)
    assert_live_whole(storage)


# -- 4. a file vanishing while a folder region is listed ------------------------------------------


def test_list_with_times_skips_a_file_deleted_during_the_listing(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for name in ("a", "b", "c"):
        storage.write_bytes(f"leases/{name}.json", b"{}")
    listing = storage.list_with_times("leases")
    assert next(listing)[0] == "leases/a.json"
    storage.delete("leases/b.json")  # its publisher dropped the lease meanwhile
    assert [key for key, _ in listing] == ["leases/c.json"]


# -- 5. a lock that claims too much ---------------------------------------------------------------


def put_lock(storage: LocalStorage, created: datetime, expires: datetime, **holder: Any) -> None:
    body = {"token": "t", "created": created.isoformat(), "expires": expires.isoformat()} | holder
    storage.put(gc.GC_LOCK_KEY, json.dumps(body).encode())


def test_a_lock_counts_as_released_gc_max_seconds_after_it_was_taken_whatever_it_claims(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    now = datetime.now(UTC)
    put_lock(storage, now - timedelta(seconds=gc.GC_MAX_SECONDS + 120), datetime(9999, 1, 1, tzinfo=UTC))
    assert gc._lock_is_dead(storage)[0]
    put_lock(storage, now + timedelta(days=1), now + timedelta(days=1, seconds=60))  # from the future
    assert gc._lock_is_dead(storage)[0]
    put_lock(storage, now, datetime(9999, 1, 1, tzinfo=UTC))
    assert not gc._lock_is_dead(storage)[0]


def test_a_publisher_stops_waiting_for_one_lock_after_a_bounded_time(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    now = datetime.now(UTC)
    put_lock(storage, now, datetime(9999, 1, 1, tzinfo=UTC))
    assert gc.GC_WAIT_SECONDS == gc.GC_MAX_SECONDS + 60
    started = time.monotonic()
    with pytest.raises(TransientStorageError, match="held for over 0 s, longer than any collector"):
        gc.wait_for_gc(storage, poll=0.01, limit=0.2)
    assert time.monotonic() - started < 2


def test_a_collector_out_of_time_while_reading_references_deletes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, made = publish_versions(tmp_path, 4)
    objects = sorted(storage.list("objects"))
    monkeypatch.setattr(gc, "GC_MAX_SECONDS", 0.0)
    assert gc.prune(storage, C, L, keep=2, grace_seconds=0) == ((), 0)
    assert versions(storage, C, L) == made and sorted(storage.list("objects")) == objects
    assert not storage.exists(gc.GC_LOCK_KEY)


def test_a_collector_never_removes_a_successors_lock(tmp_path: Path) -> None:
    storage, _ = publish_versions(tmp_path, 4)
    successor = {"token": "successor", "created": datetime.now(UTC).isoformat(), "expires": "9999-01-01T00:00:00+00:00"}
    from localize.regions.checkpoints import on_checkpoint

    def taken_over(step: str) -> None:
        if step == "prune:done":
            storage.write_bytes(gc.GC_LOCK_KEY, json.dumps(successor).encode())

    with on_checkpoint(taken_over):
        gc.prune(storage, C, L, keep=2, grace_seconds=0)
    assert json.loads(storage.read_bytes(gc.GC_LOCK_KEY))["token"] == "successor"


# -- 6. same-host liveness ------------------------------------------------------------------------


def a_dead_pid() -> int:
    return int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True).stdout)


@pytest.mark.skipif(not os.path.exists("/proc/sys/kernel/random/boot_id"), reason="needs a boot id")
def test_a_holder_is_dead_only_on_this_host_boot_and_pid_namespace_with_its_pid_gone() -> None:
    me = gc.holder_identity()
    assert me["boot"] and me["pidns"] and len(me["process"]) == 16
    gone = me | {"pid": a_dead_pid(), "process": "0" * 16}
    assert gc._dead_here(gone)
    assert not gc._dead_here(gone | {"boot": "another-boot"})  # same host name, another machine's boot
    assert not gc._dead_here(gone | {"pidns": "pid:[1]"})  # another container sharing the host name
    assert not gc._dead_here({k: v for k, v in gone.items() if k not in ("boot", "pidns")})  # an old holder
    assert not gc._dead_here(me)  # ourselves
    assert gc._dead_here(me | {"process": "0" * 16})  # our pid, but an earlier process's


# -- 2. a malformed index entry --------------------------------------------------------------------

V = "20260101T000000.000Z-abcdef12"
BAD_INDEXES = {
    "no-version": ({C: {L: {}}}, "courses['course']['es']: version: is missing"),
    "number-version": ({C: {L: {"version": 5}}}, "version: must be a version id"),
    "escape-version": ({C: {L: {"version": "\x1b[2J"}}}, "version: must be a version id"),
    "unknown-field": ({C: {L: {"version": V, "extra": 1}}}, "'extra': is not a field of this schema"),
    "bad-manifest": ({C: {L: {"version": V, "manifest": "../x"}}}, "manifest: must be"),
    "bad-files": ({C: {L: {"version": V, "files": -1}}}, "files: must be a whole number"),
    "bad-share": ({C: {L: {"version": V, "translated_percent": "all"}}}, "translated_percent: must be a number"),
    "path-course": ({"a/b": {L: {"version": V}}}, "courses['a/b']: must be a course id"),
    "newline-course": ({"intro\n": {L: {"version": V}}}, "must be a course id"),
    "bad-locale": ({C: {"xx_YY\x07": {"version": V}}}, "must be a canonical locale code"),
}


@pytest.mark.parametrize("case", sorted(BAD_INDEXES))
def test_a_malformed_index_entry_is_an_integrity_error_naming_it(tmp_path: Path, case: str) -> None:
    storage = LocalStorage(tmp_path)
    courses, expected = BAD_INDEXES[case]
    storage.write_bytes("index.json", to_json({"region": "r", "courses": courses}))
    with pytest.raises(IntegrityError, match="malformed region index") as info:
        read_live_versions(storage)
    assert expected in str(info.value) and "\x1b" not in str(info.value)


def test_a_publish_rebuilds_an_index_with_a_malformed_entry_from_the_pointers(tmp_path: Path) -> None:
    storage, _ = publish_versions(tmp_path, 1)
    storage.write_bytes("index.json", to_json({"region": "r", "courses": {"other": {L: {}}, C: {L: {"version": V}}}}))
    src = tmp_path / "src"
    (src / "index.html").write_text("<html><body><p>new</p></body></html>")
    with make_bundle(FolderSource(src), Catalog(), L) as b:
        result = publish_bundle(storage, "r", C, L, b, Catalog())
    assert read_live_versions(storage) == {(C, L): result.version}


# -- 3. one bad region -----------------------------------------------------------------------------


def test_a_region_with_a_damaged_pointer_does_not_stop_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from test_publish import COURSE, setup_workspace

    from localize.app.regions import publish
    from localize.cli import main
    from localize.config import load_config

    config = setup_workspace(
        tmp_path,
        "".join(
            f'[[regions]]\nname = "{n}"\nlocation = "{tmp_path}/{n}"\nlocales = ["es"]\n\n' for n in ("a", "b", "c")
        ),
        capsys,
    )
    LocalStorage(tmp_path / "b").write_bytes(f"courses/{COURSE}/es/latest.json", b'{"course": 1}')
    a, b, c = publish(load_config(config), COURSE, "es")
    assert a.published and c.published and (b.published, b.version) == (False, None)
    assert isinstance(b.error, IntegrityError) and b.message.startswith("not published: ")
    assert "malformed pointer" in b.message and f"b/courses/{COURSE}/es/latest.json" in b.message
    assert main(["publish", "--course", COURSE, "--locale", "es", "--config", str(config)]) == 1
    out, err = capsys.readouterr()
    assert "a: unchanged since version" in out and "c: unchanged since version" in out
    assert err.startswith("error: b: not published: ") and "malformed pointer" in err


# -- 8. a hostile manifest on a mirror -------------------------------------------------------------


def plant_version(storage: LocalStorage, files: dict[str, bytes]) -> str:
    """Make a version of C/L with exactly ``files`` live (objects, manifest, pointer), as a bucket could."""
    import hashlib

    pointer, etag = read_pointer(storage, C, L)
    assert pointer is not None
    version = "29990101T000000.000Z-0badc0de"
    records = []
    for path, data in files.items():
        sha = hashlib.sha256(data).hexdigest()
        storage.write_bytes(object_key(sha), data)
        records.append({"path": path, "sha256": sha, "size": len(data), "content_type": "text/html"})
    manifest = {"course": C, "locale": L, "version": version, "catalog_sha256": "0" * 64, "files": records, "schema": 1}
    data = to_json(manifest)
    storage.write_bytes(manifest_key(C, L, version), data)
    planted = make_pointer(C, L, version, data, pointer["version"], datetime.now(UTC), region=pointer.get("region"))
    swap_pointer(storage, C, L, planted, etag)
    return version


def test_a_manifest_naming_a_download_part_file_cannot_truncate_another_file(tmp_path: Path) -> None:
    storage, _ = publish_versions(tmp_path, 1)
    files = {".a.html.part": b"<p>part</p>" * 10, "a.html": b"<p>a</p>"}
    version = plant_version(storage, files)
    result = pull(str(storage.root), C, L, tmp_path / "mirror")
    assert result.version == version and result.switched
    site = tmp_path / "mirror" / C / L
    assert {p.name: p.read_bytes() for p in site.iterdir()} == files


def test_a_staged_folder_missing_a_file_is_never_switched_to(tmp_path: Path) -> None:
    from localize.regions.pull import live_version

    storage, made = publish_versions(tmp_path, 1)
    mirror = tmp_path / "mirror"
    pull(str(storage.root), C, L, mirror)
    plant_version(storage, {"a.html": b"<p>a</p>", "b.html": b"<p>b</p>"})
    staging = mirror / ".localize" / C / L

    def lose_a(path: str) -> None:
        if path == "b.html":
            next(staging.glob(".staging-*/a.html")).unlink()  # the disk lost it, or another process did

    with pytest.raises(IntegrityError, match="does not hold exactly its manifest's files; not switching"):
        pull(str(storage.root), C, L, mirror, on_file=lose_a)
    assert live_version(mirror, C, L) == made[0]
    assert (mirror / C / L / "index.html").is_file()


# -- 9. overlapping pulls --------------------------------------------------------------------------


def test_a_second_pull_of_the_same_course_and_locale_is_refused_while_one_runs(tmp_path: Path) -> None:
    import fcntl

    from localize.errors import LocalizeError

    storage, made = publish_versions(tmp_path, 1)
    mirror = tmp_path / "mirror"
    state = mirror / ".localize" / C / L
    state.mkdir(parents=True)
    with (state / ".lock").open("a+b") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # the first pull
        with pytest.raises(LocalizeError, match=f"another pull of {C}/{L} into .* is running"):
            pull(str(storage.root), C, L, mirror)
    assert pull(str(storage.root), C, L, mirror).version == made[0]
    assert sorted(p.name for p in (mirror / C).iterdir()) == [L]  # no temporary link left beside it


def test_pull_all_reports_a_local_file_system_error_and_goes_on(tmp_path: Path) -> None:
    from localize.errors import StorageError
    from localize.regions.pull import pull_all

    storage, made = publish_versions(tmp_path, 1)
    src = tmp_path / "src"
    with make_bundle(FolderSource(src), Catalog(), L) as b:
        publish_bundle(storage, "r", "another", L, b, Catalog())
    mirror = tmp_path / "mirror"
    (mirror / ".localize").mkdir(parents=True)
    (mirror / ".localize" / "another").write_text("a file where the course's folder goes")
    failed, done = pull_all(str(storage.root), mirror)
    assert isinstance(failed, StorageError) and "cannot pull another/es" in str(failed)
    assert not isinstance(done, StorageError) and (done.course, done.version) == (C, made[0])


# -- 7. the public page --------------------------------------------------------------------------


def test_the_public_region_page_shows_only_course_locales_live_in_that_region(tmp_path: Path) -> None:
    from test_publish import COURSE, setup_workspace

    from localize.app.regions import publish
    from localize.catalogs.workspace import Workspace
    from localize.config import load_config
    from localize.views.dashboard import collect

    config = load_config(
        setup_workspace(tmp_path, f'[[regions]]\nname = "r"\nlocation = "{tmp_path}/r"\nlocales = ["es", "ar"]\n')
    )
    workspace = Workspace(config.workspace_location)
    everything = collect(workspace, config, region="r")
    assert {r["locale"] for g in everything["groups"] for r in g["rows"]} == {"es", "ar"}
    assert set(everything["series"]) == {"es", "ar"}  # the coordinators see the unreleased locale
    [result] = publish(config, COURSE, "es", dashboard=True)
    assert result.published
    public = collect(workspace, config, region="r", public=True)
    assert [(r["course"], r["locale"]) for g in public["groups"] for r in g["rows"]] == [(COURSE, "es")]
    assert set(public["series"]) == {"es"}
    page = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "عربي" not in page and '"ar"' not in page and ">ar<" not in page


# -- 10. course ids read from a region -------------------------------------------------------------


@pytest.mark.parametrize("course", ["intro\n", "intro\r", "in\x00tro", "intro\x1b[2J", "../x", ".localize", "a/b", ""])
def test_a_course_id_from_a_region_must_fullmatch_without_control_characters(course: str) -> None:
    from localize.regions.schema import check_names

    with pytest.raises(IntegrityError, match="not a course and locale: course: must be a course id") as info:
        check_names(course, L)
    assert "\x1b" not in str(info.value) and "\n" not in str(info.value)
    check_names("8.05-quantum-physics", L)


def test_an_atomic_write_takes_any_name_a_temporary_file_beside_it_can_have(tmp_path: Path) -> None:
    """LocalStorage's temporary file adds 14 characters to the name, as tempfile.mkstemp did: a
    241-character file name (255, the usual limit, less 14) is still written; one too long for a
    temporary name beside it is a storage error naming the file, never a stray temporary file."""
    from localize.errors import StorageError
    from localize.storage.base import LocalStorage

    storage = LocalStorage(tmp_path)
    name = "a" * 241
    storage.write_bytes(f"d/{name}", b"x")
    storage.upload(f"e/{name}", io.BytesIO(b"y" * 3_000_000))
    assert storage.read_bytes(f"d/{name}") == b"x" and storage.read_bytes(f"e/{name}") == b"y" * 3_000_000
    with pytest.raises(StorageError, match="cannot write"):
        storage.write_bytes(f"d/{'b' * 242}", b"x")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == [name]
    mask = os.umask(0o022)
    os.umask(mask)
    assert [p.stat().st_mode & 0o777 for p in (tmp_path / "d").iterdir()] == [0o666 & ~mask]
