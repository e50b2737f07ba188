"""An unlucky operator's and a tampered bucket's findings (session 29 review): `pull --verify`
repairing from an edited manifest, a live link left on a pruned folder, a rollback stopped after
its swap, a publisher whose clock is behind, oversized pointer, index and lock objects read whole,
an export trusting an unsigned index, and passwords of endpoint addresses in messages."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import localize.regions.pull as pull_module
import localize.regions.rollback as rollback_module
from localize.cli import main
from localize.errors import ConfigError, IntegrityError, StorageError, TransientStorageError
from localize.model import Catalog
from localize.regions import gc
from localize.regions.bundle import make_bundle
from localize.regions.checkpoints import on_checkpoint
from localize.regions.export import export_region
from localize.regions.keys import Signer, generate_keys
from localize.regions.layout import read_live_versions, read_pointer
from localize.regions.mirror_health import mirror_status, verify_mirror
from localize.regions.publish import PublishResult, publish_bundle
from localize.regions.pull import pull, rollback_local
from localize.regions.rollback import rollback
from localize.regions.schema import object_key, to_json
from localize.storage.base import LocalStorage, TooLarge
from localize.storage.sources import FolderSource

C, L = "course", "es"


class Region:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path
        self.src = tmp_path / "src"
        (self.src / "img").mkdir(parents=True)
        (self.src / "img" / "a.png").write_bytes(b"png" * 10)
        self.storage = LocalStorage(tmp_path / "region")
        self.location = str(tmp_path / "region")
        self.mirror = tmp_path / "mirror"

    def publish(self, text: str, course: str = C, **kw: object) -> PublishResult:
        (self.src / "index.html").write_text(f"<html><body><p>{text}</p></body></html>")
        with make_bundle(FolderSource(self.src), Catalog(), L) as b:
            return publish_bundle(self.storage, "r", course, L, b, Catalog(), **kw)  # type: ignore[arg-type]

    def pull(self) -> str:
        return pull(self.location, C, L, self.mirror).message

    def live(self) -> tuple[dict[str, object], dict[str, object]]:
        pointer = json.loads(self.storage.read_bytes(f"courses/{C}/{L}/latest.json"))
        return pointer, json.loads(self.storage.read_bytes(str(pointer["manifest"])))

    def serves(self) -> str:
        return (self.mirror / C / L / "index.html").read_text()


@pytest.fixture
def region(tmp_path: Path) -> Region:
    return Region(tmp_path)


# -- pull --verify never repairs from a manifest that is not the one pulled (nor pinned) ----------


def test_verify_refuses_a_manifest_edited_in_the_bucket(region: Region) -> None:
    region.publish("one")
    region.pull()
    state = region.mirror / ".localize" / C / L / "manifests"
    recorded = {p.name: p.read_bytes() for p in state.iterdir()}
    evil = b"<html><body><script>alert(1)</script></body></html>"
    sha = hashlib.sha256(evil).hexdigest()
    region.storage.write_bytes(object_key(sha), evil)
    pointer, manifest = region.live()
    for f in manifest["files"]:  # type: ignore[attr-defined]
        if f["path"] == "index.html":
            f.update(sha256=sha, size=len(evil))
            f.pop("encoding", None)
            f.pop("stored_size", None)
    region.storage.write_bytes(str(pointer["manifest"]), to_json(manifest))

    (result,) = verify_mirror(region.location, region.mirror)
    assert isinstance(result, IntegrityError)
    assert "is not the one this mirror pulled" in str(result) and "nothing was repaired" in str(result)
    assert "<script>" not in region.serves() and "one" in region.serves()
    assert {p.name: p.read_bytes() for p in state.iterdir()} == recorded  # the mirror's record is kept
    assert region.pull().startswith("already at version")  # and pull still works


def test_verify_removes_nothing_for_a_manifest_emptied_in_the_bucket(region: Region) -> None:
    region.publish("one")
    region.pull()
    pointer, manifest = region.live()
    manifest["files"] = []
    region.storage.write_bytes(str(pointer["manifest"]), to_json(manifest))
    (result,) = verify_mirror(region.location, region.mirror)
    assert isinstance(result, IntegrityError)
    assert (region.mirror / C / L / "img" / "a.png").is_file() and "one" in region.serves()


def test_verify_still_repairs_a_damaged_file_and_a_lost_record(region: Region) -> None:
    region.publish("one")
    region.pull()
    (region.mirror / C / L / "index.html").write_text("damaged")
    for record in (region.mirror / ".localize" / C / L / "manifests").iterdir():
        record.unlink()  # the region's pointer still pins the manifest: it is taken
    (result,) = verify_mirror(region.location, region.mirror)
    assert not isinstance(result, Exception) and result.repaired == ("index.html",)
    assert "one" in region.serves()


# -- a live link never points at a pruned folder ----------------------------------------------------


def test_pull_after_a_stopped_pull_and_a_region_rollback_serves_the_region_version(region: Region) -> None:
    v1 = region.publish("one").version
    region.pull()
    region.publish("bad release")

    def stop(name: str) -> None:
        if name == "pull:switched":
            raise KeyboardInterrupt(name)

    with on_checkpoint(stop), pytest.raises(KeyboardInterrupt):
        region.pull()
    assert "bad release" in region.serves()  # switched, state not yet written
    rollback(region.storage, "r", C, L)
    assert region.pull().startswith(f"switched to version {v1}")
    assert "one" in region.serves() and (region.mirror / C / L).resolve().name == v1
    assert region.pull().startswith(f"already at version {v1}") and "one" in region.serves()


def test_pull_repairs_a_local_rollback_stopped_between_its_record_and_its_switch(
    region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    region.publish("one")
    region.pull()
    v2 = region.publish("two").version
    region.pull()

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("stopped")

    with monkeypatch.context() as m:
        m.setattr(pull_module, "_switch", stop)
        with pytest.raises(KeyboardInterrupt):
            rollback_local(region.mirror, C, L)
    assert "two" in region.serves()  # recorded first: the record says v1, the link still serves v2
    [status] = mirror_status(region.location, region.mirror)
    assert (status.region, status.mirror, status.state) == (v2, v2, "up to date")  # what it serves
    assert region.pull().startswith(f"switched to version {v2}")
    assert "two" in region.serves()
    assert region.pull().startswith(f"already at version {v2}")


def test_prune_never_deletes_the_folder_the_live_link_serves(region: Region) -> None:
    region.publish("one")
    region.pull()
    state_dir = region.mirror / ".localize" / C / L
    live = (region.mirror / C / L).resolve()
    pull_module._prune_local(state_dir, set())
    assert live.is_dir() and "one" in region.serves()


# -- region rollback stopped after its swap ---------------------------------------------------------


def test_rollback_stopped_before_the_index_says_so_and_is_finished_with_to(
    region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1 = region.publish("one").version
    v2 = region.publish("bad release").version

    def slow_down(*args: object, **kwargs: object) -> int:
        raise TransientStorageError("SlowDown (HTTP 503)", path="index.json")

    with monkeypatch.context() as m:
        m.setattr(rollback_module, "update_index", slow_down)
        with pytest.raises(TransientStorageError) as e:
            rollback(region.storage, "r", C, L)
    message = str(e.value)
    assert f"{v1} is live (rolled back from {v2})" in message and f"--to {v1}" in message
    assert region.live()[0]["version"] == v1 and read_live_versions(region.storage)[(C, L)] == v2

    with pytest.raises(ConfigError, match="stopped before updating the index"):
        rollback(region.storage, "r", C, L)  # the same command again: it would bring the bad release back
    assert region.live()[0]["version"] == v1

    assert rollback(region.storage, "r", C, L, v1) == (v1, v1)
    assert region.live()[0]["version"] == v1 and read_live_versions(region.storage)[(C, L)] == v1


# -- a publisher whose clock is behind ---------------------------------------------------------------


def test_a_publisher_whose_clock_is_behind_still_moves_the_pointer_forward(region: Region) -> None:
    now = datetime.now(UTC)
    region.publish("one", now=now)
    region.pull()
    first = str(region.live()[0]["updated"])
    v2 = region.publish("fixed", now=now - timedelta(minutes=10)).version
    assert str(region.live()[0]["updated"]) > first
    assert region.pull().startswith(f"switched to version {v2}") and "fixed" in region.serves()
    v3 = rollback(region.storage, "r", C, L)[1]  # a rollback from the same machine: forward too
    assert region.pull().startswith(f"switched to version {v3}")


# -- oversized objects are never read whole ---------------------------------------------------------


def _sparse(path: Path, size: int) -> None:
    with path.open("r+b") as f:
        f.truncate(size)


def test_read_with_etag_refuses_past_max_bytes_with_the_etag(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write_bytes("big", b"x")
    _sparse(tmp_path / "big", 64 << 20)
    with pytest.raises(TooLarge) as e:
        storage.read_with_etag("big", 1024)
    digest = hashlib.sha256()
    with (tmp_path / "big").open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    assert e.value.etag == f'"{digest.hexdigest()}"'
    assert storage.read_with_etag("big", 64 << 20)[1] == e.value.etag  # within the limit: read, same ETag


def test_an_oversized_pointer_index_or_gc_lock_is_refused_or_replaced(region: Region) -> None:
    region.publish("one")
    root = region.root / "region"
    _sparse(root / "index.json", 200 << 20)
    v2 = region.publish("two").version  # the index is rebuilt from the pointers and replaced
    assert read_live_versions(region.storage) == {(C, L): v2}
    region.storage.write_bytes(gc.GC_LOCK_KEY, b"{}")
    _sparse(root / gc.GC_LOCK_KEY, 200 << 20)
    assert gc._lock_is_dead(region.storage)[0]
    _sparse(root / "courses" / C / L / "latest.json", 200 << 20)
    with pytest.raises(IntegrityError, match="pointer is larger than"):
        read_pointer(region.storage, C, L)


# -- a signed export takes its course list from the signed pointers ---------------------------------


def test_a_signed_export_does_not_trust_an_unsigned_index(region: Region, tmp_path: Path) -> None:
    signer = Signer.from_file(generate_keys(tmp_path / "keys").private)
    region.publish("one", course="course", signer=signer)
    region.publish("one", course="other", signer=signer)
    index = json.loads(region.storage.read_bytes("index.json"))
    del index["courses"]["other"]
    region.storage.write_bytes("index.json", json.dumps(index).encode())  # edited, unsigned
    result = export_region(region.storage, "r", tmp_path / "drive", signer=signer)
    assert sorted(c for c, _, _ in result.versions) == ["course", "other"]


# -- passwords in addresses never appear in messages ------------------------------------------------


def test_an_endpoint_password_never_appears_in_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    code = main(
        ["pull", "--from", "s3://bucket/pre", "--endpoint-url", "http://admin:S3cretPW@127.0.0.1:9",
         "--course", C, "--locale", L, "--dest", str(tmp_path / "m")]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code != 0 and "127.0.0.1:9" in out.err
    assert "S3cretPW" not in out.out + out.err and "admin" not in out.out + out.err


def test_errors_leave_out_the_user_and_password_of_any_address() -> None:
    error = StorageError('Could not connect to "http://user:p@ss@host:9/b/k"', path="https://u:pw@example.org/x")
    assert str(error) == 'https://example.org/x: Could not connect to "http://host:9/b/k"'
    assert "mail a@b.c" in str(StorageError("mail a@b.c"))


def test_extract_never_prints_the_password_of_a_site_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["extract", "https://user:TopSecretPW@127.0.0.1:9/courses/x/", "--course", "c",
          "--locales-dir", str(tmp_path / "ws")])  # fmt: skip
    out = capsys.readouterr()
    assert "TopSecretPW" not in out.out + out.err and "127.0.0.1:9" in out.err
    assert os.listdir(tmp_path) == [] or not (tmp_path / "ws" / "templates").exists()


# -- publish --repair puts back what the bucket lost ------------------------------------------------


def test_publish_repair_uploads_again_a_deleted_and_a_swapped_object(region: Region) -> None:
    (region.src / "style.css").write_text("body { color: #222; }\n" * 40)  # stored compressed
    v1 = region.publish("one").version
    _, manifest = region.live()
    files = {f["path"]: f for f in manifest["files"]}  # type: ignore[attr-defined]
    png, css = files["img/a.png"], files["style.css"]
    assert css.get("encoding") == "gzip"
    region.storage.delete(object_key(png["sha256"]))
    region.storage.write_bytes(object_key(css["sha256"]) + ".gz", b"not the stylesheet")
    with pytest.raises(Exception, match="publish --repair"):
        region.pull()
    ordinary = region.publish("one")  # unchanged: nothing checked, nothing repaired
    assert (ordinary.published, ordinary.version) == (False, v1)

    repaired = region.publish("one", repair=True)
    assert repaired.published and repaired.version != v1 and repaired.uploaded_objects == 2
    assert region.pull().startswith(f"switched to version {repaired.version}")
    assert (region.mirror / C / L / "img" / "a.png").read_bytes() == b"png" * 10
    assert (region.mirror / C / L / "style.css").read_text() == "body { color: #222; }\n" * 40
    again = region.publish("one", repair=True)  # all intact now: nothing to do
    assert (again.published, again.version) == (False, repaired.version)


def test_a_planted_pointer_from_the_far_future_is_not_followed(region: Region) -> None:
    from localize.regions.layout import make_pointer

    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    soon, far = "2026-12-03T09:05:00.000+00:00", "9000-01-01T00:00:00+00:00"
    assert make_pointer(C, L, "v", b"{}", None, now, soon)["updated"] == "2026-12-03T09:05:00.001+00:00"
    assert make_pointer(C, L, "v", b"{}", None, now, far)["updated"] == "2026-12-03T09:00:00.000+00:00"


def test_a_password_with_a_quote_or_angle_bracket_never_appears() -> None:
    for url in ("http://admin:S3cret'PW@127.0.0.1:9/b", "http://admin:S3<cret>@h/b", 'x "http://u:p\'w@h:9/k" y'):
        assert "admin" not in str(StorageError(url)) and "S3" not in str(StorageError(url))
        assert "p'w" not in str(StorageError(url))


# -- a folder's lock files do not pile up, and compare-and-swap still holds ----------------------------


def _increments(root: str, n: int) -> int:
    from localize.errors import PreconditionFailed

    storage, done = LocalStorage(root), 0
    while done < n:
        data, etag = storage.read_with_etag("counter")
        try:
            storage.put("counter", str(int(data) + 1).encode(), if_match=etag)
            done += 1
        except PreconditionFailed:
            continue
    return done


def test_conditional_writes_of_a_folder_hold_across_processes_and_leave_no_lock_files(tmp_path: Path) -> None:
    from concurrent.futures import ProcessPoolExecutor

    storage = LocalStorage(tmp_path)
    storage.put("counter", b"0", if_none_match=True)
    with ProcessPoolExecutor(4) as pool:
        assert sum(pool.map(_increments, [str(tmp_path)] * 4, [60] * 4)) == 240
    assert storage.read_bytes("counter") == b"240"  # no lost update
    assert [p.name for p in tmp_path.iterdir()] == ["counter"]  # no .counter.lock left behind


# -- a pull stopped between its record and its switch never takes the mirror back (session 31) ----


def _pull_stopped_before_its_switch(region: Region, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, bytes]:
    """v1 live on the mirror, v2 published and its pull stopped before the switch; v1's pointer."""
    v1 = region.publish("one").version
    region.pull()
    old = region.storage.read_bytes(f"courses/{C}/{L}/latest.json")
    v2 = region.publish("two").version

    def stop(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("stopped")

    with monkeypatch.context() as m:
        m.setattr(pull_module, "_switch", stop)
        with pytest.raises(KeyboardInterrupt):
            region.pull()
    assert "one" in region.serves()
    return v1, v2, old


def test_verify_after_a_pull_stopped_at_its_switch_goes_forward(
    region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The link was switched before the record was written: `pull --verify` then "repaired" the
    link back to the older version the record named."""
    _, v2, _ = _pull_stopped_before_its_switch(region, monkeypatch)
    (result,) = verify_mirror(region.location, region.mirror)
    assert not isinstance(result, Exception), result
    assert "two" in region.serves() and (region.mirror / C / L).resolve().name == v2
    assert region.pull().startswith(f"already at version {v2}")


def test_a_replayed_pointer_after_a_pull_stopped_at_its_switch_is_refused(
    region: Region, monkeypatch: pytest.MonkeyPatch
) -> None:
    v1, _, old = _pull_stopped_before_its_switch(region, monkeypatch)
    region.storage.write_bytes(f"courses/{C}/{L}/latest.json", old)  # a bucket serving v1's pointer again
    with pytest.raises(IntegrityError, match="older than the one this mirror is on"):
        region.pull()
    assert (region.mirror / C / L).resolve().name == v1  # the link never moved to v2, nor back


def test_a_stopped_pulls_staging_of_a_version_passed_by_is_removed(region: Region) -> None:
    region.publish("one")
    region.pull()
    v2 = region.publish("two").version

    def stop(name: str) -> None:
        if name == "pull:object-downloaded":
            raise KeyboardInterrupt(name)

    with on_checkpoint(stop), pytest.raises(KeyboardInterrupt):
        region.pull()
    state = region.mirror / ".localize" / C / L
    assert (state / f".staging-{v2}").is_dir()
    region.publish("three")
    assert region.pull().startswith("switched to version")
    assert not [p.name for p in state.iterdir() if p.name.startswith(".staging-")]


# -- regions that share a signing key cannot stand in for each other (session 31) -----------------


def _two_regions(tmp_path: Path) -> tuple[Region, Region, Signer, object]:
    from localize.regions.keys import TrustedKeys

    made = generate_keys(tmp_path / "keys")
    signer = Signer.from_file(made.private)
    latam, mena = Region(tmp_path / "latam"), Region(tmp_path / "mena")
    latam.mirror = mena.mirror = tmp_path / "site"
    for r in (latam, mena):
        r.src.mkdir(parents=True, exist_ok=True)
        (r.src / "img").mkdir(exist_ok=True)
        (r.src / "img" / "a.png").write_bytes(b"png" * 10)
    return latam, mena, signer, TrustedKeys.from_files([str(made.public)])


def _publish(r: Region, name: str, text: str, signer: Signer) -> None:
    (r.src / "index.html").write_text(f"<html><body><p>{text}</p></body></html>")
    with make_bundle(FolderSource(r.src), Catalog(), L) as b:
        publish_bundle(r.storage, name, C, L, b, Catalog(), signer=signer)


def _copy_release(src: Path, dst: Path) -> None:
    import shutil

    for part in ("courses", "objects", "versions"):
        if (src / part).exists():
            shutil.copytree(src / part, dst / part, dirs_exist_ok=True)


def test_a_release_signed_for_another_region_is_refused(tmp_path: Path) -> None:
    """One key signs both regions: mena's release, copied over latam's by latam's bucket owner,
    was taken by latam's mirror (a require_review region made to serve unreviewed text)."""
    latam, mena, signer, trust = _two_regions(tmp_path)
    _publish(latam, "latam", "reviewed latam text", signer)
    assert pull(latam.location, C, L, latam.mirror, trust=trust).switched  # type: ignore[arg-type]
    _publish(mena, "mena", "UNREVIEWED mena text", signer)
    _copy_release(mena.root / "region", latam.root / "region")
    with pytest.raises(IntegrityError, match="this pointer is of region 'mena', and this mirror serves region 'latam'"):
        pull(latam.location, C, L, latam.mirror, trust=trust)  # type: ignore[arg-type]
    assert "reviewed latam text" in latam.serves()
    # a mirror's first pull, told its region, refuses it as well
    with pytest.raises(IntegrityError, match="serves region 'latam' \\(--region\\)"):
        pull(latam.location, C, L, tmp_path / "new-site", trust=trust, region="latam")  # type: ignore[arg-type]
    assert not (tmp_path / "new-site" / C / L).exists()
    assert main(["pull", "--from", latam.location, "--course", C, "--locale", L, "--dest", str(tmp_path / "s2"),
                 "--region", "latam", "-q"]) == 2  # fmt: skip


def test_pull_all_keeps_the_region_a_mirror_recorded_over_the_index(tmp_path: Path) -> None:
    """`pull --all` passed the index's region on as the mirror's: a copied index of the other region
    (signed by the shared key) moved the mirror over, where a pull of one course was refused."""
    from localize.regions.pull import pull_all

    latam, mena, signer, trust = _two_regions(tmp_path)
    _publish(latam, "latam", "reviewed latam text", signer)
    assert not [r for r in pull_all(latam.location, latam.mirror, trust=trust) if isinstance(r, Exception)]
    _publish(mena, "mena", "UNREVIEWED mena text", signer)
    _copy_release(mena.root / "region", latam.root / "region")
    import shutil

    shutil.copy(mena.root / "region" / "index.json", latam.root / "region" / "index.json")
    shutil.copytree(mena.root / "region" / "signatures", latam.root / "region" / "signatures", dirs_exist_ok=True)
    with pytest.raises(IntegrityError, match="serves region 'latam' \\(recorded by its pulls\\)"):
        pull_all(latam.location, latam.mirror, trust=trust)  # type: ignore[arg-type]
    with pytest.raises(IntegrityError, match="serves region 'latam' \\(recorded at its first pull\\)"):
        pull(latam.location, C, L, latam.mirror, trust=trust)  # type: ignore[arg-type]
    assert "reviewed latam text" in latam.serves()
    state = json.loads((latam.mirror / ".localize" / C / L / "state.json").read_text())
    assert state["region"] == "latam"


def test_a_new_mirror_takes_pointers_of_an_earlier_localize_that_name_no_region(region: Region) -> None:
    """Upgraded mirrors refused every course whose live pointer came before pointers named their
    region (the index names it), until someone published each course again."""
    from localize.regions.pull import pull_all

    region.publish("one")
    key = f"courses/{C}/{L}/latest.json"
    pointer = json.loads(region.storage.read_bytes(key))
    del pointer["region"]
    region.storage.write_bytes(key, to_json(pointer))
    [done] = pull_all(region.location, region.mirror)
    assert not isinstance(done, Exception), done
    assert "one" in region.serves()
    with pytest.raises(IntegrityError, match=r"of no region \(published by an earlier localize: publish it again\)"):
        pull(region.location, C, L, region.root / "other", region="r")


def test_a_mirror_that_took_a_pointer_naming_no_region_keeps_the_indexs_region(tmp_path: Path) -> None:
    """Taken under the index's region, a region-less pointer left the mirror without any: another
    region's release copied over then switched in, by `pull` and by `pull --all` (a review)."""
    from localize.regions.pull import pull_all

    latam, mena, signer, _ = _two_regions(tmp_path)
    _publish(latam, "latam", "reviewed latam text", signer)
    key = latam.root / "region" / "courses" / C / L / "latest.json"
    pointer = json.loads(key.read_bytes())
    del pointer["region"]  # as an earlier localize wrote it (unsigned now: this mirror trusts no key)
    key.write_bytes(to_json(pointer))
    assert not [r for r in pull_all(latam.location, latam.mirror) if isinstance(r, Exception)]
    state = json.loads((latam.mirror / ".localize" / C / L / "state.json").read_text())
    assert state.get("index_region") == "latam" and "region" not in state
    _publish(mena, "mena", "UNREVIEWED mena text", signer)
    _copy_release(mena.root / "region", latam.root / "region")
    with pytest.raises(IntegrityError, match="this pointer is of region 'mena', and this mirror serves region 'latam'"):
        pull(latam.location, C, L, latam.mirror)
    assert "reviewed latam text" in latam.serves()


def test_pull_all_refuses_an_index_of_another_region_than_the_mirrors(tmp_path: Path) -> None:
    """A course only the other region published, with that region's signed index copied over, was
    pulled and served by `pull --all`, and recorded as of that region (a review)."""
    import shutil

    from localize.regions.pull import pull_all

    latam, mena, signer, trust = _two_regions(tmp_path)
    _publish(latam, "latam", "reviewed latam text", signer)
    assert not [r for r in pull_all(latam.location, latam.mirror, trust=trust) if isinstance(r, Exception)]
    (mena.src / "index.html").write_text("<html><body><p>UNREVIEWED</p></body></html>")
    with make_bundle(FolderSource(mena.src), Catalog(), L) as b:
        publish_bundle(mena.storage, "mena", "other", L, b, Catalog(), signer=signer)
    _copy_release(mena.root / "region", latam.root / "region")
    shutil.copy(mena.root / "region" / "index.json", latam.root / "region" / "index.json")
    shutil.copytree(mena.root / "region" / "signatures", latam.root / "region" / "signatures", dirs_exist_ok=True)
    with pytest.raises(
        IntegrityError, match="this region index is of region 'mena', and this mirror serves region 'latam'"
    ):
        pull_all(latam.location, latam.mirror, trust=trust)  # type: ignore[arg-type]
    assert not (latam.mirror / "other").exists()


def test_a_region_publishes_anew_a_live_pointer_that_names_no_region(region: Region) -> None:
    """A pointer of an earlier localize names no region: the next publish writes one that does,
    rather than reporting the course unchanged (else a mirror told its region would refuse it)."""
    first = region.publish("one")
    key = f"courses/{C}/{L}/latest.json"
    pointer = json.loads(region.storage.read_bytes(key))
    assert pointer["region"] == "r"
    del pointer["region"]
    region.storage.write_bytes(key, to_json(pointer))
    again = region.publish("one")
    assert again.version != first.version and json.loads(region.storage.read_bytes(key))["region"] == "r"
    assert region.publish("one").version == again.version  # and then unchanged


def test_a_course_named_like_the_mirrors_index_pulls_in_both_orders(region: Region) -> None:
    """The mirror kept its index at .localize/index.json, where a course `index.json` keeps its
    state: every `pull --all` ended in "Is a directory", exit 2."""
    from localize.regions.pull import pull_all

    region.publish("one", course="c1")
    region.publish("two", course="index.json")
    (region.mirror / ".localize").mkdir(parents=True)
    earlier = {"courses": {"c0": {L: {"version": "20200101T000000.000Z-00000000"}}}}
    (region.mirror / ".localize" / "index.json").write_text(json.dumps(earlier))  # as an earlier localize left it
    for _ in range(2):
        results = pull_all(region.location, region.mirror)
        assert not [r for r in results if isinstance(r, Exception)], results
    assert "two" in (region.mirror / "index.json" / L / "index.html").read_text()
    index = json.loads((region.mirror / ".localize" / ".index.json").read_text())
    assert sorted(index["courses"]) == ["c1", "index.json"]  # (c0: no longer live here, left out)


def test_after_a_publisher_whose_clock_ran_fast_a_signed_region_moves_forward(tmp_path: Path) -> None:
    """A pointer more than ten minutes ahead was never followed, even one this key signed: after a
    publish from a machine whose clock ran 15 minutes fast, every rollback and publish from a right
    clock was older, and mirrors refused them all until the clocks met."""
    from localize.regions.keys import TrustedKeys

    made = generate_keys(tmp_path / "keys")
    signer, trust = Signer.from_file(made.private), TrustedKeys.from_files([str(made.public)])
    region = Region(tmp_path)
    region.publish("one", signer=signer)
    region.publish("two", signer=signer, now=datetime.now(UTC) + timedelta(minutes=15))
    assert pull(region.location, C, L, region.mirror, trust=trust).switched
    v3 = rollback(region.storage, "r", C, L, signer=signer)[1]
    assert pull(region.location, C, L, region.mirror, trust=trust).version == v3 and "one" in region.serves()
    v4 = region.publish("four", signer=signer).version
    assert pull(region.location, C, L, region.mirror, trust=trust).version == v4 and "four" in region.serves()


def test_a_switch_refused_by_a_real_folder_records_nothing(region: Region) -> None:
    """Recording a pull before its switch recorded the new version even when the switch was then
    refused (the live place a real folder, as after a copy made by hand): status said up to date."""
    region.publish("one")
    (region.mirror / C / L).mkdir(parents=True)
    (region.mirror / C / L / "index.html").write_text("by hand")
    with pytest.raises(Exception, match="is a real folder, not a link made by localize"):
        region.pull()
    assert not (region.mirror / ".localize" / C / L / "state.json").exists()
    [status] = mirror_status(region.location, region.mirror)
    assert status.state == "not pulled"


def test_the_mirrors_index_of_an_earlier_localize_is_moved_with_what_it_says(region: Region) -> None:
    """Deleted rather than moved, it took with it the entry of a course whose pull then failed."""
    from localize.regions.pull import pull_all

    v1 = region.publish("one").version
    region.pull()
    entry = {"version": v1, "manifest": f"courses/{C}/{L}/versions/{v1}.json"}
    (region.mirror / ".localize" / "index.json").write_text(json.dumps({"courses": {C: {L: entry}}}))
    region.publish("two, whose page object is damaged")
    _, manifest = region.live()
    page = next(f for f in manifest["files"] if f["path"] == "index.html")  # type: ignore[attr-defined]
    region.storage.write_bytes(object_key(page["sha256"]), b"damaged")
    [failed] = pull_all(region.location, region.mirror)
    assert isinstance(failed, Exception)
    index = json.loads((region.mirror / ".localize" / ".index.json").read_text())
    assert index["courses"][C][L]["version"] == v1 and "one" in region.serves()
    assert not (region.mirror / ".localize" / "index.json").exists()
