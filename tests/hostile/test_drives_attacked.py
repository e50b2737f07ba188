"""Drives, exports and a mirror's own health, attacked (issue 16, attacker review): links planted in a
mirror's folders or an export's staging folder, an old signed drive, a forged manifest record, a key
carried on the drive, a rotation, escapes in an index, a pipe on a drive, a huge export manifest, an
empty mirror, a live file edited in place."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
from test_drives import IMAGE, PAIRS, first_release, page, publish, second_release, site

from localize.cli import main
from localize.errors import ConfigError, IntegrityError, LocalizeError
from localize.regions.export import export_region, read_export
from localize.regions.keys import Signer, TrustedKeys, generate_keys
from localize.regions.layout import read_pointer
from localize.regions.mirror_health import verify_mirror
from localize.regions.pull import PullResult, live_version, pull, pull_all
from localize.regions.rollback import rollback
from localize.storage.base import LocalStorage

Region = tuple[LocalStorage, Signer, TrustedKeys, Path]


@pytest.fixture
def region(tmp_path: Path) -> Region:
    made = generate_keys(tmp_path / "keys")
    signer = Signer.from_file(made.private)
    storage = LocalStorage(tmp_path / "region")
    first_release(storage, tmp_path, signer)
    return storage, signer, TrustedKeys.from_files([made.public]), made.public


def victim(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A folder of the operator's that nothing may touch."""
    home = tmp_path / "operator-home"
    (home / "docs").mkdir(parents=True)
    (home / "docs" / "thesis.tex").write_bytes(b"precious")
    (home / ".bashrc").write_bytes(b"rc")
    return home, {p.relative_to(home).as_posix(): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def untouched(home: Path, before: dict[str, bytes]) -> bool:
    return {p.relative_to(home).as_posix(): p.read_bytes() for p in home.rglob("*") if p.is_file()} == before


def ok(results: list[PullResult | LocalizeError]) -> list[PullResult]:
    errors = [r for r in results if isinstance(r, LocalizeError)]
    assert not errors, errors
    return [r for r in results if isinstance(r, PullResult)]


# -- 1. pull --verify never follows a link planted in the mirror's folders ----------------------


def test_verify_rebuilds_a_version_folder_replaced_by_a_link_and_touches_nothing_it_points_to(
    region: Region, tmp_path: Path
) -> None:
    storage, _, trust, _ = region
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))
    good = site(mirror)
    home, before = victim(tmp_path)
    folder = mirror / ".localize" / "c1" / "es" / str(live_version(mirror, "c1", "es"))
    shutil.rmtree(folder)
    folder.symlink_to(home)  # a defaced web folder: the version folder now links elsewhere
    results = verify_mirror(str(storage.root), mirror, trust=trust)
    assert all(not isinstance(r, LocalizeError) for r in results), results
    [c1es] = [r for r in results if not isinstance(r, LocalizeError) and r.locale == "es" and r.course == "c1"]
    assert c1es.removed == ("(a symbolic link in place of the version folder)",) and len(c1es.repaired) == 3
    assert untouched(home, before) and not (home / "index.html").exists()
    assert folder.is_dir() and not folder.is_symlink() and site(mirror) == good


@pytest.mark.parametrize("level", [".localize", ".localize/c1", ".localize/c1/es"])
def test_verify_refuses_a_state_folder_that_is_a_link(region: Region, tmp_path: Path, level: str) -> None:
    storage, _, trust, _ = region
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))
    home, _ = victim(tmp_path)
    real = mirror / level
    shutil.copytree(real, home / "copy", symlinks=True)
    shutil.rmtree(real)
    real.symlink_to(home / "copy")
    (home / "copy" / "planted").write_bytes(b"mine")  # a file verify would remove were it followed
    results = verify_mirror(str(storage.root), mirror, course="c1", locale="es", trust=trust)
    [error] = results
    assert isinstance(error, IntegrityError) and "symbolic link" in str(error)
    assert (home / "copy" / "planted").read_bytes() == b"mine"


# -- 2. export never writes through a link planted in a leftover staging folder -----------------


def test_export_refuses_to_resume_a_staging_folder_holding_links(region: Region, tmp_path: Path) -> None:
    storage, signer, _, _ = region
    usb = tmp_path / "usb"
    staging = usb / ".mena-2.partial"
    (staging / "objects" / "sha256").mkdir(parents=True)
    outside = tmp_path / "exporter-home"
    outside.mkdir()
    (staging / "courses").symlink_to(outside)
    for i in range(256):
        (staging / "objects" / "sha256" / f"{i:02x}").symlink_to(outside)
    with pytest.raises(IntegrityError, match="links or special files"):
        export_region(storage, "mena", usb / "mena-2", signer=signer)
    assert list(outside.iterdir()) == [] and not (usb / "mena-2").exists()
    shutil.rmtree(staging)
    export_region(storage, "mena", usb / "mena-2", signer=signer)  # a clean folder exports
    assert not [p for p in (usb / "mena-2").rglob("*") if p.is_symlink()]


def test_export_refuses_a_staging_folder_that_is_itself_a_link(region: Region, tmp_path: Path) -> None:
    storage, signer, _, _ = region
    outside = tmp_path / "exporter-home"
    outside.mkdir()
    (tmp_path / "usb").mkdir()
    (tmp_path / "usb" / ".mena.partial").symlink_to(outside)
    with pytest.raises(IntegrityError, match="symbolic link"):
        export_region(storage, "mena", tmp_path / "usb" / "mena", signer=signer)
    assert list(outside.iterdir()) == []


# -- 3. an old signed drive does not roll a mirror back ----------------------------------------


def test_an_old_signed_drive_is_refused_unless_allowed_and_a_region_rollback_passes(
    region: Region, tmp_path: Path
) -> None:
    storage, signer, trust, public = region
    old = tmp_path / "old-drive"
    export_region(storage, "mena", old, signer=signer)
    second_release(storage, tmp_path, signer)
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))
    newer = site(mirror)
    results = pull_all(str(old), mirror, trust=trust)
    refused = [r for r in results if isinstance(r, LocalizeError)]
    assert sorted(str(r).split("/es: ")[0].rsplit(" ", 1)[-1] for r in refused) == ["c1", "c2"]  # named
    assert len(refused) == 2 and all(isinstance(r, IntegrityError) and "--allow-older" in str(r) for r in refused)
    assert site(mirror) == newer
    code = main(["pull", "--from", str(old), "--all", "--dest", str(mirror), "--trust", str(public), "-q"])
    assert code != 0 and site(mirror) == newer
    # deliberately: --allow-older takes it
    code = main(["pull", "--from", str(old), "--course", "c1", "--locale", "es", "--dest", str(mirror),
                 "--trust", str(public), "--allow-older", "-q"])  # fmt: skip
    assert code == 0 and b"c1 es one" in (mirror / "c1" / "es" / "index.html").read_bytes()
    ok(pull_all(str(storage.root), mirror, trust=trust))  # forward again
    # the coordinators roll c2/es back in the region: a newer signed pointer, so mirrors follow it
    before = read_pointer(storage, "c2", "es")[0]
    assert before is not None
    rollback(storage, "mena", "c2", "es", signer=signer)
    [c2] = [r for r in ok(pull_all(str(storage.root), mirror, trust=trust)) if r.course == "c2"]
    assert c2.switched and c2.version == before["previous"]


def test_a_rolled_back_version_cannot_come_back_from_a_drive_made_before_the_rollback(
    region: Region, tmp_path: Path
) -> None:
    """The coordinators roll c1/es back (say, a bad translation) while the mirror is already on
    the version they go back to: the pull changes no file, but the mirror records the newer
    pointer, so a drive exported before the rollback cannot bring the bad version back."""
    storage, signer, trust, public = region
    oldest = tmp_path / "drive-oldest"
    export_region(storage, "mena", oldest, signer=signer)  # the first release, before everything
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))  # on the first release
    good = live_version(mirror, "c1", "es")
    second_release(storage, tmp_path, signer)
    before_rollback = tmp_path / "drive-before-rollback"
    export_region(storage, "mena", before_rollback, signer=signer)  # c1/es at the bad version
    rollback(storage, "mena", "c1", "es", signer=signer)
    assert read_pointer(storage, "c1", "es")[0]["version"] == good  # type: ignore[index]
    [c1] = [r for r in ok(pull_all(str(storage.root), mirror, trust=trust)) if r.course == "c1" and r.locale == "es"]
    assert not c1.switched and c1.version == good  # already there: nothing downloaded
    code = main(["pull", "--from", str(before_rollback), "--course", "c1", "--locale", "es", "--dest", str(mirror),
                 "--trust", str(public), "-q"])  # fmt: skip
    assert code != 0 and live_version(mirror, "c1", "es") == good
    # the live folder lost, then repaired from the oldest drive (same version, older pointer):
    # the mirror keeps the newer time it recorded, so the bad version still cannot come back
    shutil.rmtree(mirror / ".localize" / "c1" / "es" / str(good))
    repaired = pull(str(oldest), "c1", "es", mirror, trust=trust)
    assert repaired.switched and repaired.version == good
    code = main(["pull", "--from", str(before_rollback), "--course", "c1", "--locale", "es", "--dest", str(mirror),
                 "--trust", str(public), "-q"])  # fmt: skip
    assert code != 0 and live_version(mirror, "c1", "es") == good


@pytest.mark.parametrize("damage", ["garbage", "missing"])
def test_a_mirror_already_on_the_version_checks_the_signature_it_keeps(
    region: Region, tmp_path: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A mirror pulled before it trusted keys, pulling again with --trust while already on the
    version: the region's manifest signature is checked before it is kept as the mirror's record
    (a garbage one refused, a missing one said so), never stored unverified or crashing."""
    from localize.regions.keys import manifest_signature_key

    storage, _, trust, public = region
    mirror = tmp_path / "mirror"
    pull(str(storage.root), "c1", "es", mirror)  # no keys trusted yet
    version = str(live_version(mirror, "c1", "es"))
    signature = storage.root / manifest_signature_key("c1", "es", version)
    if damage == "garbage":
        signature.write_bytes(b"garbage, not a signature")
    else:
        signature.unlink()
    with pytest.raises(IntegrityError, match="malformed" if damage == "garbage" else "not signed"):
        pull(str(storage.root), "c1", "es", mirror, trust=trust)
    assert not (mirror / ".localize" / "c1" / "es" / "manifests" / f"{version}.json.sig").exists()
    code = main(["pull", "--from", str(storage.root), "--course", "c1", "--locale", "es", "--dest", str(mirror),
                 "--trust", str(public), "-q"])  # fmt: skip
    assert code == 2 and "Traceback" not in capsys.readouterr().err
    assert live_version(mirror, "c1", "es") == version


# -- 4. pull --verify --trust never relies on the mirror's own unsigned record ------------------


def _mirror_then_newer_drive(region: Region, tmp_path: Path) -> tuple[Path, Path, str]:
    storage, signer, trust, _ = region
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))
    second_release(storage, tmp_path, signer)
    drive = tmp_path / "newer-drive"  # does not hold the mirror's live c1/es
    export_region(storage, "mena", drive, signer=signer)
    return mirror, drive, str(live_version(mirror, "c1", "es"))


def test_verify_with_trust_refuses_a_forged_record_of_the_mirror(region: Region, tmp_path: Path) -> None:
    _, _, trust, _ = region
    mirror, drive, version = _mirror_then_newer_drive(region, tmp_path)
    evil = b"<html><body>DEFACED</body></html>"
    (mirror / "c1" / "es" / "index.html").write_bytes(evil)
    record = mirror / ".localize" / "c1" / "es" / "manifests" / f"{version}.json"
    manifest = json.loads(record.read_bytes())
    for f in manifest["files"]:
        if f["path"] == "index.html":
            f["sha256"], f["size"] = hashlib.sha256(evil).hexdigest(), len(evil)
    record.write_text(json.dumps(manifest))
    [error] = verify_mirror(str(drive), mirror, course="c1", locale="es", trust=trust)
    assert isinstance(error, IntegrityError) and "does not match its signature" in str(error)


def test_verify_with_trust_says_unverifiable_without_a_kept_signature(region: Region, tmp_path: Path) -> None:
    _, _, trust, public = region
    mirror, drive, version = _mirror_then_newer_drive(region, tmp_path)
    [fine] = verify_mirror(str(drive), mirror, course="c1", locale="es", trust=trust)  # the kept signature
    assert not isinstance(fine, LocalizeError) and fine.repaired == ()
    (mirror / ".localize" / "c1" / "es" / "manifests" / f"{version}.json.sig").unlink()
    [error] = verify_mirror(str(drive), mirror, course="c1", locale="es", trust=trust)
    assert isinstance(error, IntegrityError) and "unverifiable" in str(error)
    code = main(["pull", "--from", str(drive), "--verify", "--course", "c1", "--locale", "es",
                 "--dest", str(mirror), "--trust", str(public), "-q"])  # fmt: skip
    assert code != 0


# -- 5. a drive cannot supply the key that vouches for it ---------------------------------------


def test_a_drive_carries_no_key_and_a_key_or_config_on_it_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = generate_keys(tmp_path / "evil")
    evil_region = LocalStorage(tmp_path / "evil-region")
    publish(
        evil_region, tmp_path / "esrc", "c1", "es", {"index.html": page("ATTACKER")}, Signer.from_file(evil.private)
    )
    drive = tmp_path / "drive"
    export_region(evil_region, "mena", drive, signer=Signer.from_file(evil.private))
    readme = (drive / "README.txt").read_text()
    assert "--trust localize-signing.pub.pem" not in readme and "never a key file found on a drive" in readme
    assert not list(drive.rglob("*.pem"))
    shutil.copy(evil.public, drive / "localize-signing.pub.pem")
    monkeypatch.chdir(drive)
    site_dir = tmp_path / "site"
    code = main(["pull", "--from", ".", "--all", "--dest", str(site_dir), "--trust", "localize-signing.pub.pem"])
    assert code != 0 and "a drive cannot vouch for itself" in capsys.readouterr().err
    (drive / "localize.toml").write_text('[mirror]\ntrust = ["localize-signing.pub.pem"]\n')
    code = main(["pull", "--from", str(drive), "--all", "--dest", str(site_dir)])  # ./localize.toml on the drive
    assert code != 0 and "a drive cannot vouch for itself" in capsys.readouterr().err
    assert not site_dir.exists() or site(site_dir) == {}


# -- 7. rotating the key keeps the courses not yet published again -------------------------------


def test_a_key_rotation_keeps_every_course_in_the_index(region: Region, tmp_path: Path) -> None:
    storage, _, _, public = region
    made = generate_keys(tmp_path / "keys2")
    new = Signer.from_file(made.private)
    new.previous = TrustedKeys.from_files([public])  # the region's previous_keys
    publish(storage, tmp_path / "src", "c1", "es", {"index.html": page("rotated")}, new)
    index = json.loads(storage.read_bytes("index.json"))
    assert sorted((c, ll) for c, ls in index["courses"].items() for ll in ls) == PAIRS
    both = TrustedKeys.from_files([public, made.public])
    assert sorted((r.course, r.locale) for r in ok(pull_all(str(storage.root), tmp_path / "m", trust=both))) == PAIRS


def test_an_index_rebuild_leaves_out_what_a_key_not_named_signed(region: Region, tmp_path: Path) -> None:
    """A bucket owner signs a course of their own with any key: a rebuild (the index not signed by the
    publisher's key) must not list it, even while a rotation's previous key is named; nor, with no
    previous key named, the courses the old key signed (until they are published again)."""
    storage, _, _, public = region
    stranger = Signer.from_file(generate_keys(tmp_path / "stranger").private)
    publish(storage, tmp_path / "junk", "junk", "es", {"index.html": page("junk")}, stranger)
    new = Signer.from_file(generate_keys(tmp_path / "keys2").private)
    new.previous = TrustedKeys.from_files([public])
    publish(storage, tmp_path / "src", "c1", "es", {"index.html": page("rotated")}, new)
    index = json.loads(storage.read_bytes("index.json"))
    assert sorted((c, ll) for c, ls in index["courses"].items() for ll in ls) == PAIRS  # no junk
    storage.write_bytes("index.json", b"{}")  # damaged: rebuilt by the next publish
    bare = Signer.from_file(generate_keys(tmp_path / "keys3").private)  # a rotation without previous_keys
    publish(storage, tmp_path / "src2", "c2", "es", {"index.html": page("again")}, bare)
    index = json.loads(storage.read_bytes("index.json"))
    assert sorted((c, ll) for c, ls in index["courses"].items() for ll in ls) == [("c2", "es")]


def test_previous_keys_without_a_signing_key_is_a_configuration_error(tmp_path: Path) -> None:
    from localize.config import Region as RegionSettings
    from localize.regions.signing import region_signer

    settings = RegionSettings(name="r", location=str(tmp_path), locales=["es"], previous_keys=["old.pub.pem"])
    with pytest.raises(ConfigError, match="has previous_keys but no signing key"):
        region_signer(settings)
    made = generate_keys(tmp_path / "k")
    settings = RegionSettings(
        name="r",
        location=str(tmp_path),
        locales=["es"],
        signing_key=str(made.private),
        previous_keys=[str(made.public)],
    )
    signer = region_signer(settings)
    assert signer is not None and signer.previous is not None and list(signer.previous.keys) == [signer.fingerprint]


# -- 9. pull --status prints nothing an index controls raw ---------------------------------------


def test_status_skips_names_that_are_not_course_ids_and_prints_no_escapes(
    region: Region, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage, signer, _, _ = region
    drive = tmp_path / "drive"
    export_region(storage, "mena", drive, signer=signer)
    index = json.loads((drive / "index.json").read_bytes())
    index["courses"]["\x1b[31mEVIL\x1b]0;pwned\x07"] = {"es\x1b[2K": {"version": "20990101T000000.000Z-deadbeef"}}
    (drive / "index.json").write_text(json.dumps(index))
    assert main(["pull", "--from", str(drive), "--status", "--dest", str(tmp_path / "m")]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "EVIL" not in out and out.count("not pulled") == 3


# -- 10, 11. a pipe or a huge file on a drive ----------------------------------------------------


def test_a_pipe_on_a_drive_is_refused_instead_of_waited_on(region: Region, tmp_path: Path) -> None:
    storage, signer, trust, _ = region
    drive = tmp_path / "drive"
    export_region(storage, "mena", drive, signer=signer)
    [obj] = [p for p in (drive / "objects").rglob("*") if p.is_file() and p.stat().st_size == len(IMAGE)]
    obj.unlink()
    os.mkfifo(obj)
    (drive / "courses" / "c1" / "ar" / "latest.json").unlink()
    os.mkfifo(drive / "courses" / "c1" / "ar" / "latest.json")
    results = pull_all(str(drive), tmp_path / "m", trust=trust)
    assert all(isinstance(r, LocalizeError) and "not a regular file" in str(r) for r in results), results


@pytest.mark.parametrize("plant", ["zero", "fifo"])
def test_read_export_reads_a_bounded_regular_file(tmp_path: Path, plant: str) -> None:
    folder = tmp_path / "earlier"
    folder.mkdir()
    if plant == "zero":
        (folder / "export.json").symlink_to("/dev/zero")
    else:
        os.mkfifo(folder / "export.json")
    with pytest.raises(ConfigError, match="not a finished localize export"):
        read_export(folder)


# -- 12. pull --verify with nothing to verify ----------------------------------------------------


def test_verify_on_an_empty_mirror_says_so_and_fails(
    region: Region, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage, _, _, _ = region
    code = main(["pull", "--from", str(storage.root), "--verify", "--dest", str(tmp_path / "empty")])
    assert code != 0 and "nothing pulled into" in capsys.readouterr().err


# -- 13. a live file edited in place is not spread into the next version -------------------------


def test_a_live_file_edited_in_place_is_downloaded_again_not_linked(region: Region, tmp_path: Path) -> None:
    storage, signer, trust, _ = region
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))
    (mirror / "c1" / "es" / "notes" / "a.html").write_bytes(b"<script>tampered</script>")  # in place
    second_release(storage, tmp_path, signer)  # c1/es keeps notes/a.html with the same bytes
    result = pull(str(storage.root), "c1", "es", mirror, trust=trust)
    assert result.switched and b"tampered" not in (mirror / "c1" / "es" / "notes" / "a.html").read_bytes()


def test_a_delta_needing_an_edited_copy_says_to_verify_and_verify_then_lets_it_apply(
    region: Region, tmp_path: Path
) -> None:
    storage, signer, trust, _ = region
    first = tmp_path / "e0"
    export_region(storage, "mena", first, signer=signer)
    mirror = tmp_path / "mirror"
    ok(pull_all(str(first), mirror, trust=trust))
    second_release(storage, tmp_path, signer)
    delta = tmp_path / "d1"
    export_region(storage, "mena", delta, signer=signer, since=first)
    (mirror / "c1" / "es" / "notes" / "a.html").write_bytes(b"<script>tampered</script>")
    errors = [r for r in pull_all(str(delta), mirror, trust=trust) if isinstance(r, LocalizeError)]
    assert errors and all("pull --verify" in str(e) for e in errors)
    assert all(not isinstance(v, LocalizeError) for v in verify_mirror(str(first), mirror, trust=trust))
    ok(pull_all(str(delta), mirror, trust=trust))
    assert b"tampered" not in (mirror / "c2" / "es" / "copied.html").read_bytes()


# -- links planted in a mirror's own folders (attacker review, second round) -----------------------


def _version(storage: LocalStorage, course: str, locale: str) -> str:
    pointer, _ = read_pointer(storage, course, locale)
    assert pointer
    return str(pointer["version"])


@pytest.mark.parametrize("where", ["staging", "inside-staging", "version-folder", "course-folder", "manifests"])
def test_a_pull_writes_and_deletes_nothing_through_a_link_planted_in_the_mirror(
    region: Region, tmp_path: Path, where: str
) -> None:
    """Before: a staging folder replaced with a link made a pull delete the victim's files and fill
    it with the release; a link inside staging had a page written over the victim's; a linked
    course folder had its entry replaced; a linked version folder ended in a traceback."""
    storage, _, trust, _ = region
    mirror = tmp_path / "mirror"
    home, before = victim(tmp_path)
    (home / "notes").mkdir()
    (home / "notes" / "a.html").write_bytes(b"the operator's own page")
    before = {p.relative_to(home).as_posix(): p.read_bytes() for p in home.rglob("*") if p.is_file()}
    state = mirror / ".localize" / "c1" / "es"
    version = _version(storage, "c1", "es")
    state.mkdir(parents=True)
    planted = {
        "staging": state / f".staging-{version}",
        "inside-staging": state / f".staging-{version}" / "notes",
        "version-folder": state / version,
        "course-folder": mirror / "c1",
        "manifests": state / "manifests",
    }[where]
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(home)
    if where == "inside-staging":  # removed and never followed: the pull goes on
        result = pull(str(storage.root), "c1", "es", mirror, trust=trust)
        assert result.switched and not planted.is_symlink()
        assert b"c1 es notes" in (mirror / "c1" / "es" / "notes" / "a.html").read_bytes()
    else:
        with pytest.raises(IntegrityError, match="is a symbolic link where localize keeps a folder") as info:
            pull(str(storage.root), "c1", "es", mirror, trust=trust)
        assert info.value.path == str(planted)
    assert untouched(home, before) and planted.is_symlink() == (where != "inside-staging")


def test_pull_all_writes_no_index_through_a_linked_state_folder(region: Region, tmp_path: Path) -> None:
    storage, _, trust, _ = region
    mirror = tmp_path / "mirror"
    home, before = victim(tmp_path)
    (home / "index.json").write_bytes(b"PRECIOUS")
    before["index.json"] = b"PRECIOUS"
    mirror.mkdir()
    (mirror / ".localize").symlink_to(home)
    with pytest.raises(IntegrityError, match="is a symbolic link where localize keeps a folder"):
        pull_all(str(storage.root), mirror, trust=trust)
    assert untouched(home, before)


def test_a_local_rollback_writes_nothing_through_a_linked_state_folder(region: Region, tmp_path: Path) -> None:
    storage, signer, trust, _ = region
    mirror = tmp_path / "mirror"
    pull(str(storage.root), "c1", "es", mirror, trust=trust)
    second_release(storage, tmp_path, signer)
    pull(str(storage.root), "c1", "es", mirror, trust=trust)
    outside = tmp_path / "outside"
    outside.mkdir()
    (mirror / ".localize" / "c1").rename(outside / "c1")
    (mirror / ".localize" / "c1").symlink_to(outside / "c1")
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    assert main(["pull", "--rollback", "--course", "c1", "--locale", "es", "--dest", str(mirror)]) == 2
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before
    assert not (outside / "c1" / "es" / ".lock").exists() or (outside / "c1" / "es" / ".lock") in before


def test_a_failed_first_pull_removes_every_folder_it_made_and_a_removed_lock_is_never_shared(
    region: Region, tmp_path: Path
) -> None:
    from localize.regions import pull as pull_module

    storage, _, trust, _ = region
    with pytest.raises(LocalizeError, match="nope/es is not published"):
        pull(str(storage.root), "nope", "es", tmp_path / "new1" / "new2", trust=trust)
    assert not (tmp_path / "new1").exists()
    # a pull that opened the lock before a failed first pull removed it must not run beside a later one
    state = tmp_path / "m" / ".localize" / "c1" / "es"
    state.mkdir(parents=True)
    (state / ".lock").write_bytes(b"")
    opened = (state / ".lock").open("a+b")
    (state / ".lock").unlink()
    (state / ".lock").write_bytes(b"")  # a later pull's lock
    real_open = Path.open

    def stale(self: Path, *args: object, **kwargs: object) -> object:
        return opened if self == state / ".lock" else real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    import unittest.mock

    with (
        unittest.mock.patch.object(Path, "open", stale),
        pytest.raises(LocalizeError, match="another pull of c1/es"),
        pull_module._pull_lock(state, "c1", "es"),
    ):
        pass


def test_going_back_and_forth_never_lets_an_old_copy_roll_the_mirror_back(region: Region, tmp_path: Path) -> None:
    """After `pull --allow-older` then `pull --rollback` (back to the newer version), the mirror
    kept the older pointer's time, so a plain pull from the old drive switched it back silently."""
    from localize.regions.pull import rollback_local

    storage, signer, trust, _ = region
    old_copy = tmp_path / "old-drive"
    shutil.copytree(storage.root, old_copy)
    second_release(storage, tmp_path, signer)
    mirror = tmp_path / "mirror"
    new = pull(str(storage.root), "c1", "es", mirror, trust=trust).version
    old = pull(str(old_copy), "c1", "es", mirror, trust=trust, allow_older=True).version
    assert old != new and live_version(mirror, "c1", "es") == old
    assert rollback_local(mirror, "c1", "es") == (old, new)
    with pytest.raises(IntegrityError, match="is older than the one this mirror is on"):
        pull(str(old_copy), "c1", "es", mirror, trust=trust)
    assert live_version(mirror, "c1", "es") == new


def test_a_full_or_read_only_mirror_disk_is_named_as_such_not_blamed_on_the_drive(
    region: Region, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full destination was reported as 'DRIVE/objects/...: cannot read: No space left on
    device', and a read-only one ended in an OSError traceback."""
    import errno

    from localize.regions import pull as pull_module

    storage, _, _, _ = region
    real_write = pull_module._HashingFile.write

    def full(self: object, block: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pull_module._HashingFile, "write", full)
    mirror = tmp_path / "mirror"
    assert main(["pull", "--from", str(storage.root), "--course", "c1", "--locale", "es", "--dest", str(mirror)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {mirror}: cannot pull c1/es into {mirror} (what was staged stays in ")
    assert err.endswith(": No space left on device\n") and str(storage.root) not in err
    monkeypatch.setattr(pull_module._HashingFile, "write", real_write)

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(mirror / ".localize" / ".index.json.part"))

    monkeypatch.setattr(pull_module, "_write_atomic", read_only)
    assert main(["pull", "--from", str(storage.root), "--all", "--dest", str(mirror)]) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        f"error: {mirror / '.localize' / '.index.json.part'}: Read-only file system (nothing after this was done; "
        "it is read-only)"
    )


def test_an_interrupted_pull_all_shows_what_it_finished(
    region: Region, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C during `pull --all` printed only 'interrupted': courses already switched were not shown."""
    from localize.regions import pull as pull_module

    storage, _, _, _ = region
    real = pull_module.pull
    done: list[str] = []

    def stopped_on_the_second(location: str, course: str, locale: str, *args: object, **kwargs: object) -> object:
        if done:
            raise KeyboardInterrupt
        done.append(f"{course}/{locale}")
        return real(location, course, locale, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pull_module, "pull", stopped_on_the_second)
    mirror = tmp_path / "mirror"
    assert main(["pull", "--from", str(storage.root), "--all", "--dest", str(mirror)]) == 130
    out, err = capsys.readouterr()
    assert out.startswith("c1/ar: switched to version ") and out.count("\n") == 1
    assert err.startswith("interrupted: what is listed above is done; run the same command again to finish")


def test_the_mirrors_index_lists_only_what_the_mirror_serves(
    region: Region, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pull --all wrote the region's index as it was, naming versions a refused course never got."""
    from localize.regions import pull as pull_module

    storage, signer, trust, _ = region
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))
    before = json.loads((mirror / ".localize" / ".index.json").read_text())["courses"]
    second_release(storage, tmp_path, signer)
    real = pull_module.pull

    def refuse_c1_es(location: str, course: str, locale: str, *args: object, **kwargs: object) -> object:
        if (course, locale) == ("c1", "es"):
            raise IntegrityError("refused for the test")
        return real(location, course, locale, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pull_module, "pull", refuse_c1_es)
    pull_all(str(storage.root), mirror, trust=trust)
    index = json.loads((mirror / ".localize" / ".index.json").read_text())["courses"]
    assert index["c1"]["es"] == before["c1"]["es"]  # still the version it serves
    assert index["c1"]["es"]["version"] == live_version(mirror, "c1", "es")
    assert all(index[c][ll]["version"] == live_version(mirror, c, ll) for c in index for ll in index[c])


def test_a_damaged_index_in_the_mirror_is_replaced_not_a_crash_every_time(region: Region, tmp_path: Path) -> None:
    storage, _, trust, _ = region
    mirror = tmp_path / "mirror"
    (mirror / ".localize").mkdir(parents=True)
    for damaged in (b'{"courses": []}', b'{"courses": {"c1": []}}', b"[]", b"not json"):
        (mirror / ".localize" / ".index.json").write_bytes(damaged)
        ok(pull_all(str(storage.root), mirror, trust=trust))
        index = json.loads((mirror / ".localize" / ".index.json").read_text())["courses"]
        assert index["c1"]["es"]["version"] == live_version(mirror, "c1", "es")


def test_a_local_rollback_updates_the_mirrors_index(region: Region, tmp_path: Path) -> None:
    """After `pull --rollback`, .localize/index.json still named the version rolled away from."""
    from localize.regions.pull import rollback_local

    storage, signer, trust, _ = region
    mirror = tmp_path / "mirror"
    ok(pull_all(str(storage.root), mirror, trust=trust))
    first = json.loads((mirror / ".localize" / ".index.json").read_text())["courses"]["c1"]["es"]
    second_release(storage, tmp_path, signer)
    ok(pull_all(str(storage.root), mirror, trust=trust))
    rollback_local(mirror, "c1", "es")
    after = json.loads((mirror / ".localize" / ".index.json").read_text())["courses"]["c1"]["es"]
    assert after == first and after["version"] == live_version(mirror, "c1", "es")
