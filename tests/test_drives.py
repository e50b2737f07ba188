"""Offline regions: export onto a drive, import with `pull --from DIR`, deltas, a mirror's own
health (`pull --verify`, `pull --status`); interrupted exports and imports resume (issue 16, items 2 and 5)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from localize.cli import main
from localize.errors import ConfigError, IntegrityError, LocalizeError, TransientStorageError
from localize.model import Catalog
from localize.regions.bundle import make_bundle
from localize.regions.checkpoints import KILL_ENV, on_checkpoint
from localize.regions.export import EXPORT_FILE, export_region
from localize.regions.keys import Signer, TrustedKeys, generate_keys
from localize.regions.mirror_health import mirror_status, verify_mirror
from localize.regions.publish import publish_bundle
from localize.regions.pull import PullResult, live_version, pull, pull_all
from localize.storage.base import LocalStorage, Storage
from localize.storage.sources import FolderSource

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAIRS = [("c1", "ar"), ("c1", "es"), ("c2", "es")]
IMAGE = b"\x89PNG shared picture " * 20


def page(text: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{text}</title></head><body><p>{text}</p></body></html>".encode()


def publish(
    storage: Storage, src: Path, course: str, locale: str, files: dict[str, bytes], signer: Signer | None
) -> str:
    shutil.rmtree(src, ignore_errors=True)
    for path, data in files.items():
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_bytes(data)
    with make_bundle(FolderSource(src), Catalog(), locale) as b:
        version = publish_bundle(storage, "mena", course, locale, b, Catalog(), signer=signer).version
    assert version is not None
    return version


def first_release(storage: Storage, work: Path, signer: Signer | None) -> None:
    for course, locale in PAIRS:
        files = {"index.html": page(f"{course} {locale} one"), "img/shared.png": IMAGE}
        if course == "c1":
            files["notes/a.html"] = page(f"{course} {locale} notes")
        publish(storage, work / "src", course, locale, files, signer)


def second_release(storage: Storage, work: Path, signer: Signer | None) -> None:
    """c1/es changes one page and gains a picture; c2/es gains c1's notes page (same bytes, another
    course: a delta carries it not, the mirror has it); c1/ar is unchanged."""
    publish(storage, work / "src", "c1", "es", {
        "index.html": page("c1 es two"), "img/shared.png": IMAGE, "notes/a.html": page("c1 es notes"),
        "img/new.png": b"new picture" * 30,
    }, signer)  # fmt: skip
    publish(storage, work / "src", "c2", "es", {
        "index.html": page("c2 es one"), "img/shared.png": IMAGE, "copied.html": page("c1 es notes"),
    }, signer)  # fmt: skip


@pytest.fixture
def region(tmp_path: Path) -> tuple[LocalStorage, Signer, TrustedKeys, Path]:
    made = generate_keys(tmp_path / "keys")
    signer = Signer.from_file(made.private)
    storage = LocalStorage(tmp_path / "region")
    first_release(storage, tmp_path, signer)
    return storage, signer, TrustedKeys.from_files([made.public]), made.public


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def site(mirror: Path) -> dict[str, str]:
    """Every live page of the mirror, by course/locale/path, as sha256."""
    out = {}
    for course, locale in PAIRS:
        live = mirror / course / locale
        if live.exists():
            for p in sorted(live.rglob("*")):
                if p.is_file():
                    out[f"{course}/{locale}/{p.relative_to(live).as_posix()}"] = hashlib.sha256(
                        p.read_bytes()
                    ).hexdigest()
    return out


def import_all(drive: Path, mirror: Path, trust: TrustedKeys | None) -> list[PullResult]:
    results = pull_all(str(drive), mirror, trust=trust)
    errors = [r for r in results if isinstance(r, LocalizeError)]
    assert not errors, errors
    return [r for r in results if isinstance(r, PullResult)]


# -- export and import ---------------------------------------------------------------------------


def test_an_export_is_a_signed_self_contained_region_a_mirror_imports_with_trust(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    storage, signer, trust, _ = region
    drive = tmp_path / "usb" / "mena-2026-03"
    done = export_region(storage, "mena", drive, signer=signer, now=NOW)
    assert done.carried == done.objects and done.since is None and done.signed_by == signer.fingerprint
    assert sorted(p.name for p in drive.iterdir()) == [
        "README.txt",
        "courses",
        EXPORT_FILE,
        "index.json",
        "objects",
        "signatures",
    ]
    assert not list(drive.parent.glob(".*"))  # the staging folder became the export
    manifest = json.loads((drive / EXPORT_FILE).read_bytes())
    assert manifest["courses"] == {
        c: {ll: v for (cc, ll), v in zip(PAIRS, [v for _, _, v in done.versions], strict=True) if cc == c}
        for c in ("c1", "c2")
    }
    assert len(manifest["objects"]) == done.objects and manifest["carried"] == manifest["objects"]
    readme = (drive / "README.txt").read_text()
    assert "localize pull --from THIS_FOLDER --all --dest SITE_FOLDER --trust" in readme
    assert " ".join(signer.fingerprint[i : i + 4] for i in range(0, 64, 4)) in readme
    mirror = tmp_path / "mirror"
    results = import_all(drive, mirror, trust)
    assert [r.switched for r in results] == [True] * 3
    online = tmp_path / "online"
    import_all(storage.root, online, trust)
    assert site(mirror) == site(online) and len(site(mirror)) == 8
    again = import_all(drive, mirror, trust)  # nothing missing: nothing copied
    assert [r.switched for r in again] == [False] * 3


def test_export_refuses_what_it_cannot_vouch_for(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    storage, signer, _, _ = region
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("mine")
    with pytest.raises(ConfigError, match="exists and is not empty"):
        export_region(storage, "mena", tmp_path / "full", signer=signer)
    with pytest.raises(ConfigError, match="course 'nope' is not published in region 'mena'"):
        export_region(storage, "mena", tmp_path / "a", courses=["nope"], signer=signer)
    publish(storage, tmp_path / "src", "c2", "es", {"index.html": page("unsigned")}, None)
    other = Signer.from_file(generate_keys(tmp_path / "other").private)
    with pytest.raises(
        IntegrityError, match=r"the live version of c1/ar, .* is not signed by the region's signing key"
    ):
        export_region(storage, "mena", tmp_path / "b", signer=other)  # (the rebuilt index would list none of them)
    with pytest.raises(
        IntegrityError, match=r"the live version of c2/es is not signed .* nor a key of its previous_keys"
    ):
        export_region(storage, "mena", tmp_path / "b", signer=signer)  # c2/es went up unsigned: not quietly left out
    assert not (tmp_path / "b").exists()
    done = export_region(storage, "mena", tmp_path / "c", courses=["c1"], signer=signer)
    assert [c for c, _, _ in done.versions] == ["c1", "c1"]


def test_a_delta_carries_only_new_objects_and_brings_a_mirror_that_has_the_earlier_one_up_to_date(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    storage, signer, trust, _ = region
    first = tmp_path / "drive" / "first"
    export_region(storage, "mena", first, signer=signer, now=NOW)
    mirror = tmp_path / "mirror"
    import_all(first, mirror, trust)
    second_release(storage, tmp_path, signer)
    delta = tmp_path / "drive" / "delta"
    done = export_region(storage, "mena", delta, since=first, signer=signer, now=NOW)
    earlier = set(json.loads((first / EXPORT_FILE).read_bytes())["objects"])
    carried = {p.name for p in (delta / "objects").rglob("*") if p.is_file()}
    assert carried == set(json.loads((delta / EXPORT_FILE).read_bytes())["objects"]) - earlier
    assert len(carried) == done.carried == 2  # the changed page and the new picture; not c1's notes page in c2
    assert "This is an UPDATE" in (delta / "README.txt").read_text()
    results = {(r.course, r.locale): r for r in import_all(delta, mirror, trust)}
    assert not results[("c1", "ar")].switched and results[("c1", "es")].downloaded_files == 2
    assert results[("c2", "es")].downloaded_files == 0  # every file of c2's new version came from the mirror itself
    online = tmp_path / "online"
    import_all(storage.root, online, trust)
    assert site(mirror) == site(online)
    for course, locale in PAIRS:
        assert live_version(mirror, course, locale) == live_version(online, course, locale)
    # a mirror that never imported the earlier export cannot take the delta alone, and says why
    fresh = tmp_path / "fresh"
    [error, *_] = [r for r in pull_all(str(delta), fresh, trust=trust) if isinstance(r, LocalizeError)]
    assert "the region lacks this object and this mirror has no intact copy of it" in error.message
    assert "import the export it was made against first" in error.message
    assert not (fresh / "c1" / "ar").exists()


def test_a_delta_needs_an_earlier_export_of_the_same_region(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    storage, signer, _, _ = region
    with pytest.raises(ConfigError, match="not a finished localize export"):
        export_region(storage, "mena", tmp_path / "d", since=tmp_path / "nothing", signer=signer)
    export_region(storage, "mena", tmp_path / "first", signer=signer)
    with pytest.raises(ConfigError, match="the earlier export is of region 'mena', not 'latam'"):
        export_region(storage, "latam", tmp_path / "d", since=tmp_path / "first", signer=signer)


# -- interrupted exports and imports resume ----------------------------------------------------------

EXPORT_STEPS = [
    "export:object-copied", "export:object-copied#3", "export:objects-copied", "export:course-written",
    "export:course-written#3", "export:index-written", "export:manifest-written",
]  # fmt: skip


class Stop(Exception):
    pass


def stop_at(step: str) -> Any:
    name, _, nth = step.partition("#")
    seen = {"n": 0}

    def hook(reached: str) -> None:
        if reached == name:
            seen["n"] += 1
            if seen["n"] == int(nth or 1):
                raise Stop(step)

    return on_checkpoint(hook)


@pytest.mark.parametrize("step", EXPORT_STEPS)
def test_an_export_stopped_at_every_step_is_never_taken_as_complete_and_resumes(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path, step: str
) -> None:
    storage, signer, _, _ = region
    reference = tmp_path / "reference"
    export_region(storage, "mena", reference, signer=signer, now=NOW)
    drive = tmp_path / "usb" / "export"
    with stop_at(step), pytest.raises(Stop):
        export_region(storage, "mena", drive, signer=signer, now=NOW)
    assert not drive.exists()  # a half-written drive shows no export
    with pytest.raises(LocalizeError):
        pull_all(str(drive), tmp_path / "m")
    copied: list[str] = []
    export_region(storage, "mena", drive, signer=signer, now=NOW, progress=lambda sha, _: copied.append(sha))
    assert tree(drive) == tree(reference)
    if step not in ("export:object-copied",):
        assert len(copied) < json.loads((reference / EXPORT_FILE).read_bytes())["carried"].__len__()


IMPORT_STEPS = [
    "pull:object-downloaded", "pull:object-downloaded#2", "pull:staged", "pull:switched", "pull:local-pruned",
    "pull:staged#2", "pull:switched#2", "pull:local-pruned#2",
]  # fmt: skip


@pytest.mark.parametrize("step", IMPORT_STEPS)
def test_an_import_stopped_at_every_step_leaves_the_live_site_whole_and_resumes(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path, step: str
) -> None:
    storage, signer, trust, _ = region
    first, delta = tmp_path / "first", tmp_path / "delta"
    export_region(storage, "mena", first, signer=signer, now=NOW)
    second_release(storage, tmp_path, signer)
    export_region(storage, "mena", tmp_path / "full", signer=signer, now=NOW)
    export_region(storage, "mena", delta, since=first, signer=signer, now=NOW)
    reference = tmp_path / "reference"
    import_all(tmp_path / "full", reference, trust)
    for drives in ([tmp_path / "full"], [first, delta]):
        mirror = tmp_path / f"mirror-{len(drives)}"
        for drive in drives[:-1]:
            import_all(drive, mirror, trust)
        before = site(mirror)
        with stop_at(step), pytest.raises(Stop):
            pull_all(str(drives[-1]), mirror, trust=trust)
        for course, locale in PAIRS:  # each course is on its old version or its new one, never half
            link = mirror / course / locale  # what readers see (state.json follows the switch)
            version = link.resolve().name if link.is_symlink() else None
            if version is not None and version != live_version(reference, course, locale):
                assert {k: v for k, v in site(mirror).items() if k.startswith(f"{course}/{locale}/")} == {
                    k: v for k, v in before.items() if k.startswith(f"{course}/{locale}/")
                }
        import_all(drives[-1], mirror, trust)
        assert site(mirror) == site(reference)


def test_a_drive_pulled_out_mid_copy_stops_the_import_and_the_next_one_goes_on(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    storage, signer, trust, _ = region
    drive = tmp_path / "usb" / "export"
    export_region(storage, "mena", drive, signer=signer)
    mirror = tmp_path / "mirror"

    def pull_out(step: str) -> None:
        if step == "pull:object-downloaded" and drive.exists():
            drive.rename(tmp_path / "usb" / "elsewhere")

    with on_checkpoint(pull_out):
        results = pull_all(str(drive), mirror, trust=trust)
    assert all(isinstance(r, LocalizeError) for r in results) and site(mirror) == {}
    (tmp_path / "usb" / "elsewhere").rename(drive)
    resumed = import_all(drive, mirror, trust)
    assert resumed[0].reused_files == 1 and resumed[0].downloaded_files == 2  # the staged file is kept
    assert len(site(mirror)) == 8


DRIVER = "import sys; from localize.cli import main; sys.exit(main(sys.argv[1:]))"


def cli(cwd: Path, *argv: str, kill_at: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
    env.pop(KILL_ENV, None)
    if kill_at:
        env[KILL_ENV] = kill_at
    return subprocess.run(
        [sys.executable, "-c", DRIVER, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("export_kill", "import_kill"),
    [("export:object-copied#2", "pull:object-downloaded#3"), ("export:index-written", "pull:switched#2"),
     ("export:manifest-written", "pull:staged")],
)  # fmt: skip
def test_a_real_kill_of_export_and_import_then_a_rerun_completes(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path, export_kill: str, import_kill: str
) -> None:
    storage, _, trust, public = region
    (tmp_path / "localize.toml").write_text(
        '[[regions]]\nname = "mena"\nlocation = "region"\nlocales = ["ar", "es"]\n'
        'signing_key = "keys/localize-signing.pem"\n'
    )
    argv = ["export", "--region", "mena", "--to", "usb/export", "-q"]
    assert cli(tmp_path, *argv, kill_at=export_kill).returncode == -signal.SIGKILL
    assert not (tmp_path / "usb" / "export").exists()
    done = cli(tmp_path, *argv)
    assert done.returncode == 0, done.stderr
    assert "mena -> usb/export: export " in done.stdout and "(full export), 3 live versions" in done.stdout
    pull_argv = ["pull", "--from", "usb/export", "--all", "--dest", "site", "--trust", str(public), "-q"]
    assert cli(tmp_path, *pull_argv, kill_at=import_kill).returncode == -signal.SIGKILL
    again = cli(tmp_path, *pull_argv)
    assert again.returncode == 0, again.stderr
    online = tmp_path / "online"
    import_all(storage.root, online, trust)
    assert site(tmp_path / "site") == site(online)


# -- a mirror's own health ------------------------------------------------------------------------------


def test_verify_repairs_what_differs_and_says_what_it_fixed(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage, _, trust, public = region
    mirror = tmp_path / "mirror"
    import_all(storage.root, mirror, trust)
    good = site(mirror)
    live = mirror / "c1" / "es"
    (live / "index.html").write_bytes(b"<script>defaced</script>")
    (live / "notes" / "a.html").unlink()
    (live / "planted.html").write_bytes(b"not ours")
    (live / "img" / "shared.png").unlink()
    (live / "img" / "shared.png").symlink_to("/etc/passwd")
    [c1ar, c1es, _] = verify_mirror(str(storage.root), mirror, trust=trust)
    assert not isinstance(c1es, LocalizeError) and not isinstance(c1ar, LocalizeError)
    assert sorted(c1es.repaired) == ["img/shared.png", "index.html", "notes/a.html"]
    assert c1es.removed == ("img/shared.png", "planted.html") and c1ar.repaired == ()
    assert site(mirror) == good and not (live / "planted.html").exists()
    assert (
        main(["pull", "--from", str(storage.root), "--verify", "--dest", str(mirror), "--trust", str(public), "-q"])
        == 0
    )
    out = capsys.readouterr().out
    assert out.count("files checked, all intact") == 3
    (mirror / "c2" / "es" / "index.html").write_bytes(b"x")
    assert main(["pull", "--from", str(storage.root), "--verify", "--course", "c2", "--locale", "es",
                 "--dest", str(mirror), "-q"]) == 0  # fmt: skip
    assert capsys.readouterr().out.startswith("c2/es: version ") and site(mirror) == good


def test_verify_from_a_drive_refuses_a_tampered_manifest(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    storage, signer, trust, _ = region
    drive = tmp_path / "drive"
    export_region(storage, "mena", drive, signer=signer)
    mirror = tmp_path / "mirror"
    import_all(drive, mirror, trust)
    version = live_version(mirror, "c2", "es")
    manifest = drive / "courses" / "c2" / "es" / "versions" / f"{version}.json"
    manifest.write_bytes(manifest.read_bytes().replace(b"\n", b"\n ", 1))
    results = verify_mirror(str(drive), mirror, trust=trust)
    [error] = [r for r in results if isinstance(r, LocalizeError)]
    assert "the manifest does not match its signature" in error.message


def test_status_says_which_version_each_course_is_on_and_whether_it_is_behind(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    storage, signer, trust, public = region
    mirror = tmp_path / "mirror"
    pull(str(storage.root), "c1", "es", mirror, trust=trust)
    pull(str(storage.root), "c1", "ar", mirror, trust=trust)
    old = live_version(mirror, "c1", "es")
    second_release(storage, tmp_path, signer)
    rows = {(r.course, r.locale): (r.mirror, r.state) for r in mirror_status(str(storage.root), mirror, trust=trust)}
    new = live_version(tmp_path / "x", "c1", "es") or pull(str(storage.root), "c1", "es", tmp_path / "x").version
    assert rows == {
        ("c1", "ar"): (live_version(mirror, "c1", "ar"), "up to date"),
        ("c1", "es"): (old, "behind"),
        ("c2", "es"): (None, "not pulled"),
    }
    assert main(["pull", "--from", str(storage.root), "--status", "--dest", str(mirror), "--trust", str(public)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == f"c1/es: behind (mirror {old}, region {new})"
    assert out[2].startswith("c2/es: not pulled (mirror -, region ")
    # the region rolled back (or an older drive): the mirror that has the newer version is ahead
    from localize.regions.rollback import rollback

    rollback(storage, "mena", "c1", "es", signer=signer)
    rows = {(r.course, r.locale): r.state for r in mirror_status(str(storage.root), tmp_path / "x", trust=trust)}
    assert rows[("c1", "es")] == "ahead (the source holds an older version)"


def test_an_export_failing_on_a_storage_error_at_every_call_resumes(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    from test_region_safety import Faulty

    storage, signer, _, _ = region
    reference = tmp_path / "reference"
    export_region(storage, "mena", reference, signer=signer, now=NOW)
    probe = Faulty(storage, fail_at=0)
    export_region(probe, "mena", tmp_path / "probe", signer=signer, now=NOW)  # type: ignore[arg-type]
    assert probe.calls > 15
    for n in range(1, probe.calls + 1):
        drive = tmp_path / f"drive-{n}"
        with pytest.raises(TransientStorageError):
            export_region(Faulty(storage, fail_at=n), "mena", drive, signer=signer, now=NOW)  # type: ignore[arg-type]
        assert not drive.exists()
        export_region(storage, "mena", drive, signer=signer, now=NOW)
        assert tree(drive) == tree(reference), n


def test_export_on_the_command_line(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "localize.toml").write_text(
        '[[regions]]\nname = "mena"\nlocation = "region"\nlocales = ["ar", "es"]\n'
        'signing_key = "keys/localize-signing.pem"\n'
        '[[regions]]\nname = "plain"\nlocation = "region"\nlocales = ["es"]\n'
    )
    assert main(["export", "--region", "mena", "--course", "c2", "--to", "usb/a", "-q"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("mena -> usb/a: export ") and out[0].endswith(
        "(full export), 1 live version, 2 of 2 objects carried (524 bytes)"
    )
    assert out[1].startswith("  c2/es: version ") and out[2].startswith("signed by ")
    assert main(["export", "--region", "mena", "--since", "usb/a", "--to", "usb/b", "-q"]) == 0
    assert "(delta since export " in capsys.readouterr().out
    assert main(["export", "--region", "plain", "--to", "usb/c", "-q"]) == 0
    assert capsys.readouterr().out.endswith(
        "not signed (the region has no signing_key): mirrors cannot check it with --trust\n"
    )
    readme = (
        tmp_path / "usb" / "c" / "README.txt"
    ).read_text()  # it told mirrors to use --trust, then that --trust refuses it
    assert "--trust /path" not in readme and "  localize pull --from THIS_FOLDER --all --dest SITE_FOLDER\n" in readme
    assert "This export is NOT signed" in readme
    assert main(["export", "--region", "mena", "--to", "usb/a", "-q"]) == 2
    assert capsys.readouterr().err == "error: usb/a: the export folder exists and is not empty; choose a new folder\n"


def test_a_hostile_drive_reaches_nothing_outside_and_plants_nothing(
    region: tuple[LocalStorage, Signer, TrustedKeys, Path], tmp_path: Path
) -> None:
    storage, signer, _, _ = region
    drive = tmp_path / "drive"
    export_region(storage, "mena", drive, signer=signer)
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-drive-secret")
    [obj] = [p for p in (drive / "objects").rglob("*") if p.is_file() and p.stat().st_size == len(IMAGE)]
    obj.unlink()
    obj.symlink_to(secret)  # an object that is a link to a file of the mirror's machine
    index = json.loads((drive / "index.json").read_bytes())
    index["courses"]["../../escape"] = {"es": index["courses"]["c2"]["es"]}
    (drive / "index.json").write_text(json.dumps(index))
    mirror = tmp_path / "mirror"
    results = pull_all(str(drive), mirror)  # without trust: the hashes alone refuse it
    errors = [str(r) for r in results if isinstance(r, LocalizeError)]
    assert any("not a course and locale" in e for e in errors), errors
    assert any("a symbolic link, not a file; not reading it" in e for e in errors), errors
    assert not (tmp_path / "escape").exists() and not (tmp_path.parent / "escape").exists()
    for path in mirror.rglob("*"):
        assert not path.is_file() or b"CANARY-drive-secret" not in path.read_bytes(), path
