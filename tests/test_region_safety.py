"""Regions stay whole: GC against concurrent publishers, kills and storage faults at every step, bounded memory."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path
from typing import IO, Any

import pytest

from localize.errors import TransientStorageError
from localize.model import Catalog
from localize.regions.bundle import make_bundle
from localize.regions.checkpoints import KILL_ENV, on_checkpoint
from localize.regions.gc import _lock_is_dead as lock_is_dead
from localize.regions.layout import read_manifest, read_pointer, versions
from localize.regions.publish import publish_bundle
from localize.regions.pull import live_version, pull
from localize.regions.schema import object_key
from localize.storage.base import LocalStorage, Storage
from localize.storage.s3 import S3Storage
from localize.storage.sources import FolderSource

ROOT = Path(__file__).resolve().parent.parent


def course(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(data)
    return root


def page(text: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{text}</title></head><body><p>{text}</p></body></html>".encode()


def publish_folder(storage: Storage, name: str, folder: Path, **kwargs: Any) -> Any:
    with make_bundle(FolderSource(folder), Catalog(), "es") as bundle:
        return publish_bundle(storage, "r", name, "es", bundle, Catalog(), **kwargs)


def assert_region_whole(storage: Storage) -> None:
    """Every live (and previous) manifest's objects exist with the right bytes."""
    for key in storage.list("courses"):
        if not key.endswith("latest.json"):
            continue
        _, name, locale, _ = key.split("/")
        pointer, _ = read_pointer(storage, name, locale)
        assert pointer is not None
        for version in filter(None, (pointer["version"], pointer["previous"])):
            for f in read_manifest(storage, name, locale, version).files:
                assert hashlib.sha256(storage.read_bytes(object_key(f.sha256))).hexdigest() == f.sha256, f.path


def test_prune_between_reuse_check_and_pointer_swap_deletes_nothing_reused(s3_env: str, tmp_path: Path) -> None:
    """Course A's prune runs while course B publishes, between B's reuse check and its pointer swap."""
    storage = S3Storage(f"s3://{s3_env}/region")
    shared = b"\x89PNG shared figure" * 100
    a = course(tmp_path / "a", {"index.html": page("A1"), "figure.png": shared})
    publish_folder(storage, "course-a", a, keep_versions=1, gc_grace_seconds=0)
    (a / "figure.png").unlink()  # A's next versions no longer use the figure: only A v1 references it
    (a / "index.html").write_bytes(page("A2"))
    publish_folder(storage, "course-a", a, keep_versions=1, gc_grace_seconds=0)  # v1 is now the previous one
    (a / "index.html").write_bytes(page("A3"))  # publishing A3 makes v1 prunable, and with it the figure
    b = course(tmp_path / "b", {"index.html": page("B1"), "figure.png": shared})

    def prune_a_meanwhile(step: str) -> None:
        if step == "publish:reuse-checked":
            with on_checkpoint(lambda _: None):  # nested publishes do not re-trigger
                hooks.clear()
                publish_folder(storage, "course-a", a, keep_versions=1, gc_grace_seconds=0)

    hooks = [prune_a_meanwhile]
    with on_checkpoint(lambda step: [h(step) for h in list(hooks)]):
        result = publish_folder(storage, "course-b", b, keep_versions=1, gc_grace_seconds=0)
    assert result.published and result.reused_objects == 1  # B reused the figure A uploaded
    assert len(versions(storage, "course-a", "es")) == 2  # A's prune did run (keep 1 + the previous one)
    assert_region_whole(storage)
    pulled = pull(f"s3://{s3_env}/region", "course-b", "es", tmp_path / "mirror")
    assert (tmp_path / "mirror" / "course-b" / "es" / "figure.png").read_bytes() == shared
    assert pulled.switched
    assert not list(storage.list("leases")) and not storage.exists("gc/lock.json")
    # once B moves on too, nothing references the figure and a prune collects it
    (b / "figure.png").unlink()
    for text in ("B2", "B3"):
        (b / "index.html").write_bytes(page(text))
        publish_folder(storage, "course-b", b, keep_versions=1, gc_grace_seconds=0)
    for text in ("A4", "A5"):
        (a / "index.html").write_bytes(page(text))
        publish_folder(storage, "course-a", a, keep_versions=1, gc_grace_seconds=0)
    assert not storage.exists(object_key(hashlib.sha256(shared).hexdigest()))
    assert_region_whole(storage)


def test_a_collector_waits_out_nobody_but_a_live_lock_stops_reuse_checks(tmp_path: Path) -> None:
    """A publisher that finds a live collector's lock waits; a dead collector's lock (same host) does not block."""
    storage = LocalStorage(tmp_path / "region")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock = {"host": os.uname().nodename, "pid": int(dead.stdout), "token": "x",
            "created": "2024-01-01T00:00:00+00:00", "expires": "2999-01-01T00:00:00+00:00"}  # fmt: skip
    storage.put("gc/lock.json", json.dumps(lock).encode())
    result = publish_folder(storage, "c", course(tmp_path / "c", {"index.html": page("x")}))
    assert result.published


# -- kills at every step -----------------------------------------------------------------------------

DRIVER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from localize.model import Catalog
    from localize.regions.bundle import make_bundle
    from localize.regions.publish import publish_bundle
    from localize.regions.pull import pull
    from localize.storage.base import LocalStorage
    from localize.storage.sources import FolderSource
    action, region, arg = sys.argv[1:4]
    if action == "publish":
        with make_bundle(FolderSource(arg), Catalog(), "es") as bundle:
            publish_bundle(LocalStorage(region), "r", "c", "es", bundle, Catalog(), keep_versions=2, gc_grace_seconds=0)
    else:
        pull(region, "c", "es", arg)
    """
)


def run(action: str, region: Path, arg: Path, kill_at: str | None = None) -> int:
    env = dict(os.environ, PYTHONPATH=f"{ROOT / 'src'}{os.pathsep}{ROOT}")
    env.pop(KILL_ENV, None)
    if kill_at:
        env[KILL_ENV] = kill_at
    done = subprocess.run([sys.executable, "-c", DRIVER, action, str(region), str(arg)], env=env, capture_output=True)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr.decode()
    return done.returncode


def three_versions(tmp_path: Path) -> tuple[Path, Path]:
    """A region with two published versions and a course folder holding a third (and a mirror at the second)."""
    src = course(tmp_path / "src", {f"p{i}.html": page(f"v1 {i}") for i in range(4)} | {"img.png": b"img" * 50})
    region = tmp_path / "region"
    assert run("publish", region, src) == 0
    (src / "p0.html").write_bytes(page("v2"))
    assert run("publish", region, src) == 0
    for i in range(4):
        (src / f"p{i}.html").write_bytes(page(f"v3 {i}"))
    (src / "new.png").write_bytes(b"new" * 50)
    return region, src


def live_files(storage: Storage) -> tuple[str, Any]:
    pointer, _ = read_pointer(storage, "c", "es")
    assert pointer is not None
    return pointer["version"], read_manifest(storage, "c", "es", pointer["version"]).files


PUBLISH_STEPS = [
    "publish:lease-written", "publish:object-uploaded#2", "publish:objects-uploaded", "publish:manifest-written",
    "publish:pointer-swapped", "publish:index-updated", "prune:object-deleted", "prune:done",
]  # fmt: skip


@pytest.mark.parametrize("step", PUBLISH_STEPS)
def test_publish_killed_at_each_step_then_rerun_ends_like_an_uninterrupted_run(tmp_path: Path, step: str) -> None:
    reference_region, src = three_versions(tmp_path / "ref")
    assert run("publish", reference_region, src) == 0
    _, reference = live_files(LocalStorage(reference_region))

    region, src = three_versions(tmp_path / "killed")
    before, _ = live_files(LocalStorage(region))
    assert run("publish", region, src, kill_at=step) == -signal.SIGKILL
    storage = LocalStorage(region)
    version, _ = live_files(storage)
    if step in (
        "publish:lease-written",
        "publish:object-uploaded#2",
        "publish:objects-uploaded",
        "publish:manifest-written",
    ):
        assert version == before  # nothing switched yet
    assert_region_whole(storage)
    pending = versions(storage, "c", "es")
    assert run("publish", region, src) == 0
    version, files = live_files(storage)
    assert files == reference
    if step == "publish:manifest-written":
        assert version == pending[-1]  # the rerun finished the interrupted version instead of making another
    assert_region_whole(storage)
    assert len(versions(storage, "c", "es")) == 2
    assert not list(storage.list("leases"))
    # a lock the killed collector left is ignored by everyone (its holder is gone); the next prune replaces it
    assert lock_is_dead(storage)[0]
    used = {f.sha256 for v in versions(storage, "c", "es") for f in read_manifest(storage, "c", "es", v).files}
    assert {k.rsplit("/", 1)[-1] for k in storage.list("objects/sha256")} == used
    index = json.loads(storage.read_bytes("index.json"))
    assert index["courses"]["c"]["es"]["version"] == version
    mirror = tmp_path / "mirror"
    assert run("pull", region, mirror) == 0
    assert live_version(mirror, "c", "es") == version


PULL_STEPS = ["pull:object-downloaded#2", "pull:staged", "pull:switched", "pull:local-pruned"]


@pytest.mark.parametrize("step", PULL_STEPS)
def test_pull_killed_at_each_step_then_rerun_ends_like_an_uninterrupted_run(tmp_path: Path, step: str) -> None:
    region, src = three_versions(tmp_path)
    mirror = tmp_path / "mirror"
    assert run("pull", region, mirror) == 0
    old = live_version(mirror, "c", "es")
    old_page = (mirror / "c" / "es" / "p1.html").read_bytes()
    assert run("publish", region, src) == 0
    new, files = live_files(LocalStorage(region))
    assert run("pull", region, mirror, kill_at=step) == -signal.SIGKILL
    if step in ("pull:object-downloaded#2", "pull:staged"):
        assert (mirror / "c" / "es" / "p1.html").read_bytes() == old_page  # the live site is untouched
        assert live_version(mirror, "c", "es") == old
    assert run("pull", region, mirror) == 0
    assert live_version(mirror, "c", "es") == new
    site = mirror / "c" / "es"
    for f in files:
        assert hashlib.sha256((site / f.path).read_bytes()).hexdigest() == f.sha256
    kept = sorted(p.name for p in (mirror / ".localize" / "c" / "es").iterdir() if p.is_dir() and p.name != "manifests")
    assert kept == sorted({new, str(old)})


# -- a storage error at every step ---------------------------------------------------------------------


class Faulty:
    """A Storage that raises TransientStorageError at its Nth operation."""

    def __init__(self, inner: Storage, fail_at: int) -> None:
        self.inner, self.fail_at, self.calls = inner, fail_at, 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name in ("describe",) or not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls == self.fail_at:
                raise TransientStorageError(f"injected failure in {name}", path=self.inner.describe())
            return attr(*args, **kwargs)

        return call


def test_a_storage_error_at_any_step_of_publish_leaves_a_state_the_next_run_completes(tmp_path: Path) -> None:
    counting = Faulty(LocalStorage(tmp_path / "probe"), fail_at=0)
    src = course(tmp_path / "src", {"a.html": page("one"), "b.png": b"b" * 40})
    publish_folder(counting, "c", src, keep_versions=2, gc_grace_seconds=0)  # type: ignore[arg-type]
    (src / "a.html").write_bytes(page("two"))
    counting.calls = 0
    publish_folder(counting, "c", src, keep_versions=2, gc_grace_seconds=0)  # type: ignore[arg-type]
    steps = counting.calls
    assert steps > 10
    for n in range(1, steps + 1):
        region = tmp_path / f"r{n}"
        (src / "a.html").write_bytes(page("one"))
        publish_folder(LocalStorage(region), "c", src, keep_versions=2, gc_grace_seconds=0)
        (src / "a.html").write_bytes(page("two"))
        faulty = Faulty(LocalStorage(region), fail_at=n)
        with contextlib.suppress(TransientStorageError):
            publish_folder(faulty, "c", src, keep_versions=2, gc_grace_seconds=0)  # type: ignore[arg-type]
        storage = LocalStorage(region)
        assert_region_whole(storage)
        publish_folder(storage, "c", src, keep_versions=2, gc_grace_seconds=0)
        assert_region_whole(storage)
        _, files = live_files(storage)
        assert {f.path for f in files} == {"a.html", "b.png"}
        assert storage.read_bytes(object_key({f.path: f.sha256 for f in files}["b.png"])) == b"b" * 40
        # a lease whose delete failed only protects objects until it expires; no live lock is left behind
        assert lock_is_dead(storage)[0]


class FaultyRemote:
    def __init__(self, location: str, fail_at: int) -> None:
        from localize.regions.remote import open_remote

        self.inner, self.fail_at, self.calls = open_remote(location), fail_at, 0

    def _tick(self) -> None:
        self.calls += 1
        if self.calls == self.fail_at:
            raise TransientStorageError("injected failure", path="remote")

    def read(self, key: str, max_bytes: int) -> bytes:
        self._tick()
        return self.inner.read(key, max_bytes)

    def download(self, key: str, dest: IO[bytes], max_bytes: int, block: int = 1 << 20) -> int:
        self._tick()
        return self.inner.download(key, dest, max_bytes, block)

    def describe(self, key: str = "") -> str:
        return self.inner.describe(key)


def test_a_storage_error_at_any_step_of_pull_leaves_a_state_the_next_run_completes(tmp_path: Path) -> None:
    region, src = three_versions(tmp_path)
    mirror = tmp_path / "mirror"
    pull(str(region), "c", "es", mirror)
    old = live_version(mirror, "c", "es")
    assert run("publish", region, src) == 0
    new, _ = live_files(LocalStorage(region))
    probe = FaultyRemote(str(region), 0)
    shutil.copytree(mirror, tmp_path / "probe", symlinks=True)
    pull(str(region), "c", "es", tmp_path / "probe", remote=probe)  # type: ignore[arg-type]
    for n in range(1, probe.calls + 1):
        dest = tmp_path / f"m{n}"
        shutil.copytree(mirror, dest, symlinks=True)
        with pytest.raises(TransientStorageError):
            pull(str(region), "c", "es", dest, remote=FaultyRemote(str(region), n))  # type: ignore[arg-type]
        assert live_version(dest, "c", "es") == old
        assert pull(str(region), "c", "es", dest).version == new
        assert live_version(dest, "c", "es") == new


# -- memory does not grow with the size of a file -----------------------------------------------------------


def peak_of(fn: Any) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_publish_and_pull_memory_does_not_scale_with_file_size(s3_env: str, tmp_path: Path) -> None:
    peaks = {}
    for size in (2, 40):
        src = course(tmp_path / f"src{size}", {"index.html": page("x")})
        with (src / "video.bin").open("wb") as f:
            for _ in range(size):
                f.write(os.urandom(1 << 20))
        storage = S3Storage(f"s3://{s3_env}/mem{size}")
        publish_peak = peak_of(lambda: publish_folder(storage, "c", src))  # noqa: B023
        pull_peak = peak_of(lambda: pull(f"s3://{s3_env}/mem{size}", "c", "es", tmp_path / f"m{size}"))  # noqa: B023
        peaks[size] = (publish_peak, pull_peak)
        assert (tmp_path / f"m{size}" / "c" / "es" / "video.bin").stat().st_size == size << 20
    # 20x the bytes, about the same memory: nothing holds a whole file
    assert peaks[40][0] < peaks[2][0] + (8 << 20), peaks
    assert peaks[40][1] < peaks[2][1] + (8 << 20), peaks
    assert max(peaks[40]) < 40 << 20


def test_a_folder_storage_writes_and_deletes_nothing_through_a_linked_folder(tmp_path: Path) -> None:
    """A region or workspace folder with a planted link (a carried drive, a shared folder): a
    collector's delete or a write through it is refused with the link named, whether the link
    leads out or back up into the folder itself (then a cleanup of one folder deleted them all)."""
    from localize.errors import PermanentStorageError
    from localize.storage.base import LocalStorage

    outside = tmp_path / "outside"
    (outside / "ab").mkdir(parents=True)
    (outside / "ab" / "victim").write_text("keep me")
    root = tmp_path / "region"
    (root / "objects").mkdir(parents=True)
    (root / "objects" / "sha256").symlink_to(outside)
    (root / "catalog.po").write_text("keep me too")
    (root / "gen").symlink_to(".")  # back up to the storage folder
    storage = LocalStorage(root)
    assert list(storage.list("objects/sha256")) == ["objects/sha256/ab/victim"]
    for key, link in (("objects/sha256/ab/victim", "objects/sha256"), ("gen/catalog.po", "gen")):
        with pytest.raises(PermanentStorageError) as info:
            storage.delete(key)
        assert str(info.value) == (
            f"{root / link}: is a symbolic link where a folder is expected; localize does not write or delete "
            f"through links in {root}: replace it with the folder itself; not deleting {key}"
        )
        with pytest.raises(PermanentStorageError, match="not writing "):
            storage.write_bytes(key, b"planted")
        with pytest.raises(PermanentStorageError, match="not writing "):
            storage.put(key, b"planted")
    with pytest.raises(PermanentStorageError, match="not writing "):
        storage.write_bytes("objects/sha256/new/file", b"planted")
    assert not (outside / "new").exists()
    assert (outside / "ab" / "victim").read_text() == "keep me" and (root / "catalog.po").read_text() == "keep me too"
    (root / "objects" / "sha256").unlink()
    storage.write_bytes("objects/sha256/f", b"x")
    storage.delete("objects/sha256/f")
    assert not (root / "objects" / "sha256" / "f").exists()


def test_a_compare_and_swap_never_locks_through_a_planted_link_or_pipe(tmp_path: Path) -> None:
    from localize.errors import PermanentStorageError
    from localize.storage.base import LocalStorage

    root = tmp_path / "ws"
    (root / "a").mkdir(parents=True)
    storage = LocalStorage(root)
    (root / "a" / ".k.json.lock").symlink_to(tmp_path / "created-outside")
    with pytest.raises(PermanentStorageError, match="a symbolic link, not a file; not locking with it"):
        storage.put("a/k.json", b"{}")
    assert not (tmp_path / "created-outside").exists()
    os.mkfifo(root / "a" / ".f.json.lock")
    with pytest.raises(PermanentStorageError, match=r"not a regular file \(a pipe, a device or a folder\)"):
        storage.put("a/f.json", b"{}")
    (root / "a" / "t.json").symlink_to(tmp_path / "secret")
    (tmp_path / "secret").write_text("s")
    with pytest.raises(PermanentStorageError, match="a symbolic link, not a file; not reading it"):
        storage.put("a/t.json", b"{}", if_match='"x"')


def test_a_folder_swapped_for_a_link_during_writes_never_gets_a_file_outside(tmp_path: Path) -> None:
    """The check of a path and its use were two steps: an attacker swapping a folder for a link
    in between had 80 of 20,000 writes land outside (attacker review). Writes and deletes now
    open each folder without following a link and work from its descriptor."""
    import subprocess
    import sys

    from localize.errors import PermanentStorageError
    from localize.storage.base import LocalStorage

    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a").mkdir(parents=True)
    outside.mkdir()
    (root / "link").symlink_to(outside)
    swapper = subprocess.Popen(
        [sys.executable, "-c", (
            "import os, shutil, sys\nroot = sys.argv[1]\n"
            "while True:\n"
            "    try:\n"
            "        os.rename(f'{root}/a', f'{root}/real'); os.rename(f'{root}/link', f'{root}/a')\n"
            "        os.rename(f'{root}/a', f'{root}/link'); os.rename(f'{root}/real', f'{root}/a')\n"
            "    except OSError:\n"
            "        pass\n"
        ), str(root)],
    )  # fmt: skip
    storage = LocalStorage(root)
    written = refused = 0
    try:
        for i in range(20000):
            try:
                storage.write_bytes(f"a/f{i}.json", b"{}")
                storage.delete(f"a/f{i}.json")
                written += 1
            except (PermanentStorageError, OSError):
                refused += 1
            if swapper.poll() is not None:
                break
    finally:
        swapper.kill()
        swapper.wait()
    assert written + refused > 100 and list(outside.iterdir()) == []
