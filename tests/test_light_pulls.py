"""Light pulls: objects stored compressed when that saves bytes, inflated by mirrors on the way,
bytes moved reported, the rate capped; over S3 (SeaweedFS), a folder and plain HTTP."""

from __future__ import annotations

import gzip
import hashlib
import json
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_publish import COURSE, setup_workspace, tree_hashes

from localize.app.regions import publish
from localize.cli import main
from localize.config import load_config
from localize.regions.layout import read_manifest, read_pointer, region_storage
from localize.regions.objects import TokenBucket
from localize.regions.pull import pull


def published_files(config_path: Path, region: str, locale: str) -> list[dict[str, object]]:
    config = load_config(config_path)
    storage = region_storage(config.region(region), config)
    pointer, _ = read_pointer(storage, COURSE, locale)
    assert pointer is not None
    return [json.loads(storage.read_bytes(pointer["manifest"]))["files"]][0]  # type: ignore[no-any-return]


def test_pages_are_stored_compressed_and_mirrors_get_the_same_files(seaweed, s3_env: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config_path = setup_workspace(
        tmp_path,
        f'[[regions]]\nname = "light"\nlocation = "s3://{s3_env}/light"\nlocales = ["ar"]\n\n'
        '[[regions]]\nname = "plain"\nlocation = "plain"\nlocales = ["ar"]\ncompress = false\n',
    )
    config = load_config(config_path)
    light, plain = publish(config, COURSE, "ar")
    assert light.published and plain.published
    assert light.uploaded_bytes == plain.uploaded_bytes == plain.stored_bytes > light.stored_bytes
    storage = region_storage(config.region("light"), config)
    pointer, _ = read_pointer(storage, COURSE, "ar")
    assert pointer is not None
    manifest = read_manifest(storage, COURSE, "ar", pointer["version"])
    pages = [f for f in manifest.files if f.path.endswith(".html")]
    assert pages and all(f.encoding == "gzip" and f.stored_size is not None and f.stored_size < f.size for f in pages)
    for f in pages:  # the object is the gzip of the file; the manifest's hash is over the file itself
        assert storage.exists(f.key) and not storage.exists(f.key.removesuffix(".gz"))
        assert hashlib.sha256(gzip.decompress(storage.read_bytes(f.key))).hexdigest() == f.sha256
        assert f.content_type.startswith("text/html")
    images = [f for f in manifest.files if f.path.endswith(".png")]
    assert images and all(f.encoding == "identity" for f in images)  # compressed already: stored as they are
    assert all(f.encoding == "identity" for f in read_manifest(
        region_storage(config.region("plain"), config), COURSE, "ar", plain.version or ""
    ).files)  # fmt: skip
    a = pull(f"s3://{s3_env}/light", COURSE, "ar", tmp_path / "m1")
    b = pull(str(tmp_path / "plain"), COURSE, "ar", tmp_path / "m2")
    assert tree_hashes(tmp_path / "m1" / COURSE / "ar") == tree_hashes(tmp_path / "m2" / COURSE / "ar")
    assert a.downloaded_bytes == b.downloaded_bytes and a.moved_bytes < b.moved_bytes
    assert a.message.endswith(f"; {a.moved_bytes} bytes moved")
    # a no-change pull moves the pointer and the manifest only
    again = pull(f"s3://{s3_env}/light", COURSE, "ar", tmp_path / "m1")
    assert not again.switched and 0 < again.moved_bytes < 64 * 1024
    # publishing again into the compressed region reuses every object (their stored size is known)
    [same] = publish(config, COURSE, "ar", region="light")
    assert not same.published and same.message.startswith("unchanged")


def test_pull_over_http_inflates_and_is_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config_path = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["ar"]\n')
    publish(load_config(config_path), COURSE, "ar")
    assert any(p.name.endswith(".gz") for p in (tmp_path / "public" / "objects").rglob("*"))

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(tmp_path / "public")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        capsys.readouterr()
        assert main(["pull", "--from", base, "--all", "--dest", str(tmp_path / "site"), "--max-rate", "50M"]) == 0
        out = capsys.readouterr().out
        assert "bytes moved" in out.splitlines()[0] and out.splitlines()[-1].endswith("bytes moved in all")
    finally:
        server.shutdown()
    pull(str(tmp_path / "public"), COURSE, "ar", tmp_path / "direct")
    assert tree_hashes(tmp_path / "site" / COURSE / "ar") == tree_hashes(tmp_path / "direct" / COURSE / "ar")
    page = (tmp_path / "site" / COURSE / "ar" / "index.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") or "<html" in page[:200]


def test_a_pull_that_cannot_connect_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by a newcomer: https:// to a plain HTTP server said only "download failed: ConnectError"."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(SimpleHTTPRequestHandler, directory=str(tmp_path)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"https://127.0.0.1:{server.server_port}"
        assert main(["pull", "--from", base, "--course", COURSE, "--locale", "ar", "--dest", str(tmp_path / "m")]) == 2
        err = capsys.readouterr().err
        assert "download failed: ConnectError: the TLS handshake failed (a plain http:// server?" in err
    finally:
        server.shutdown()
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert main(["pull", "--from", f"http://127.0.0.1:{port}", "--course", COURSE, "--locale", "ar",
                 "--dest", str(tmp_path / "m")]) == 2  # fmt: skip
    assert "could not connect (is the address right and the server up?)" in capsys.readouterr().err


def test_max_rate_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("fast", "0", "-5k", "inf", "nan"):
        with pytest.raises(SystemExit):
            main(["pull", "--from", "x", "--all", "--dest", str(tmp_path), f"--max-rate={bad}"])
        assert "is not a rate" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # 0.1 bytes a second looked like a stalled pull
        main(["pull", "--from", "x", "--all", "--dest", str(tmp_path), "--max-rate=0.1"])
    assert "'0.1' is under 1k (1000 bytes a second); give at least 1k" in capsys.readouterr().err


def test_token_bucket_paces_to_the_rate() -> None:
    """A fake clock: 1,000 bytes a second, 5,000 bytes taken in 10 blocks sleep about 4 s in all
    (the first second's worth is a burst)."""
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    bucket = TokenBucket(1000, clock=lambda: now[0], sleep=sleep)
    for _ in range(10):
        bucket.take(500)
    assert sum(slept) == pytest.approx(4.0)
    now[0] += 100  # idle: the bucket refills to one second's worth, no more
    slept.clear()
    bucket.take(1000)
    bucket.take(1000)
    assert sum(slept) == pytest.approx(1.0)


@pytest.mark.parametrize("over", ["folder", "http", "s3"])
def test_a_paced_pull_reads_small_blocks(over: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """At --max-rate 64k, a pull reads 8,000 bytes at a time (an eighth of a second's worth), so the
    network sends no faster than that; it used to read 1 MiB at full speed and then wait 16 s."""
    import io
    import os

    from localize.regions.objects import Metered
    from localize.regions.remote import open_remote

    data = os.urandom(300_000)
    location = str(tmp_path / "region")
    (tmp_path / "region").mkdir()
    (tmp_path / "region" / "big.bin").write_bytes(data)
    server = None
    if over == "http":

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=location))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        location = f"http://127.0.0.1:{server.server_port}"
    elif over == "s3":
        from localize.storage.locations import open_storage

        location = f"s3://{request.getfixturevalue('s3_env')}/region"
        open_storage(location).write_bytes("big.bin", data)

    class Blocks(io.BytesIO):
        def __init__(self) -> None:
            super().__init__()
            self.sizes: list[int] = []

        def write(self, b: bytes) -> int:  # type: ignore[override]
            self.sizes.append(len(b))
            return super().write(b)

    try:
        paced = Metered(open_remote(location), max_rate=64_000)
        now, waited = [0.0], []

        def wait(seconds: float) -> None:
            waited.append(seconds)
            now[0] += seconds

        paced.bucket = TokenBucket(64_000, clock=lambda: now[0], sleep=wait)  # a fake clock: no waiting here
        got = Blocks()
        assert paced.download("big.bin", got, 1 << 20) == len(data) and got.getvalue() == data
        assert max(got.sizes) <= 8_000 and len(got.sizes) >= 300_000 // 8_000
        assert paced.bytes_moved == len(data) and sum(waited) == pytest.approx((len(data) - 64_000) / 64_000)
        # a whole-object read (a pointer, a manifest of up to 64 MiB) is paced in blocks too: many
        # short waits, not one of several seconds after the object came at full speed
        waited.clear()
        assert paced.read("big.bin", 1 << 20) == data and paced.bytes_moved == 2 * len(data)
        assert len(waited) >= 30 and max(waited) <= 0.125 + 1e-9
        whole = Blocks()
        assert Metered(open_remote(location)).download("big.bin", whole, 1 << 20) == len(data)
        assert max(whole.sizes) > 8_000  # unpaced: large blocks
    finally:
        if server is not None:
            server.shutdown()


def test_pull_all_paces_the_region_index_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`pull --all --max-rate` read the region's index.json unpaced (a large region's index is
    megabytes): it now goes through the same token bucket, first."""
    from localize.regions.pull import pull_all

    config_path = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["ar"]\n')
    publish(load_config(config_path), COURSE, "ar")
    taken: list[int] = []
    monkeypatch.setattr(TokenBucket, "take", lambda self, n: taken.append(n))
    results = pull_all(str(tmp_path / "public"), tmp_path / "site", max_rate=10**9)
    assert [type(r).__name__ for r in results] == ["PullResult"]
    assert taken[0] == (tmp_path / "public" / "index.json").stat().st_size


def test_a_compressed_object_shared_by_two_courses_is_reused_with_its_stored_size(tmp_path: Path) -> None:
    from localize.model import Catalog
    from localize.regions.bundle import make_bundle
    from localize.regions.publish import publish_bundle
    from localize.storage.base import LocalStorage
    from localize.storage.sources import FolderSource

    shared = "".join(f"body {{ margin: {i}px }}\n" for i in range(200))
    storage = LocalStorage(tmp_path / "region")
    for name in ("course-a", "course-b"):
        src = tmp_path / name
        src.mkdir()
        (src / "index.html").write_text(f"<html><body><p>{name}</p></body></html>")
        (src / "style.css").write_text(shared)
        with make_bundle(FolderSource(src), Catalog(), "es") as bundle:
            result = publish_bundle(storage, "r", name, "es", bundle, Catalog())
        assert result.published
    assert result.reused_objects == 1 and result.uploaded_objects == 1  # course-b reuses course-a's style
    manifest = read_manifest(storage, "course-b", "es", result.version or "")
    [css] = [f for f in manifest.files if f.path == "style.css"]
    assert css.encoding == "gzip" and css.stored_size == len(storage.read_bytes(css.key))
    pulled = pull(str(tmp_path / "region"), "course-b", "es", tmp_path / "mirror")
    assert (tmp_path / "mirror" / "course-b" / "es" / "style.css").read_text() == shared
    assert pulled.moved_bytes < len(shared)


@pytest.mark.parametrize("where", ["folder", "seaweedfs"])
def test_a_compressed_object_another_publisher_stored_first_keeps_its_bytes_and_size(
    where: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two publishers racing on one file, the other with another zlib (other bytes, another
    size): whoever is second keeps the region's object and records the size the region holds,
    so mirrors verify the version instead of refusing it."""
    from localize.regions.objects import store_object
    from localize.regions.schema import FileRecord
    from localize.storage.base import LocalStorage, Storage
    from localize.storage.sources import FolderSource

    text = "".join(f"<p>line {i}</p>\n" for i in range(400)).encode()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "page.html").write_bytes(text)
    storage: Storage
    if where == "folder":
        storage = LocalStorage(tmp_path / "region")
    else:
        from localize.storage.s3 import S3Location, S3Storage

        seaweed = request.getfixturevalue("seaweed")
        bucket = request.getfixturevalue("s3_env")
        storage = S3Storage(S3Location(bucket, endpoint_url=seaweed.endpoint), client=seaweed.client())
    record = FileRecord("page.html", hashlib.sha256(text).hexdigest(), len(text), "text/html")
    other = gzip.compress(text, compresslevel=1, mtime=0) + b""  # "another zlib": other bytes
    other_record = FileRecord(*record.content(), "gzip", len(other))
    storage.put(other_record.key, other, if_none_match=True)
    stored = store_object(storage, FolderSource(tmp_path / "src"), record, True)
    assert (stored.encoding, stored.stored_size) == ("gzip", len(other))
    assert storage.read_bytes(stored.key) == other  # not overwritten
    # alone, it writes its own
    storage.delete(other_record.key)
    mine = store_object(storage, FolderSource(tmp_path / "src"), record, True)
    assert (
        mine.stored_size == len(storage.read_bytes(mine.key)) and gzip.decompress(storage.read_bytes(mine.key)) == text
    )
    assert mine.stored_size != len(other)  # the two "builds" did write different objects


def test_a_mistyped_region_or_a_refused_first_pull_leaves_no_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A region folder that does not exist was reported as 'not published' and, like any first
    pull that failed, left DEST/.localize/COURSE/LL/.lock behind."""
    config_path = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["ar"]\n')
    publish(load_config(config_path), COURSE, "ar")
    missing = str(tmp_path / "pubic")
    for argv in (["--course", COURSE, "--locale", "ar"], ["--all"], ["--status"]):
        assert main(["pull", "--from", missing, *argv, "--dest", str(tmp_path / "site")]) == 2
        assert capsys.readouterr().err == (
            f"error: {missing}: no such folder: give the region's folder (or drive), an s3://bucket/prefix "
            "or an https:// address\n"
        )
    region = str(tmp_path / "public")
    assert main(["pull", "--from", region, "--course", "nope", "--locale", "ar", "--dest", str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err == f"error: nope/ar is not published at {region}\n"
    assert not (tmp_path / "site").exists()
    (tmp_path / "site").mkdir()
    assert main(["pull", "--from", region, "--course", "nope", "--locale", "ar", "--dest", str(tmp_path / "site")]) == 2
    assert list((tmp_path / "site").iterdir()) == []  # the operator's folder stays, empty as it was


def test_a_mirror_inside_the_region_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`pull --from drive --dest drive/site` wrote the site into the drive it read."""
    config_path = setup_workspace(tmp_path, '[[regions]]\nname = "r1"\nlocation = "public"\nlocales = ["ar"]\n')
    publish(load_config(config_path), COURSE, "ar")
    region = tmp_path / "public"
    for dest in (region / "site", region):
        assert main(["pull", "--from", str(region), "--all", "--dest", str(dest)]) == 2
        assert capsys.readouterr().err == (
            f"error: {dest}: the mirror folder lies inside the region's folder {region} (a drive is never written "
            "to); choose a folder outside it\n"
        )
    assert not (region / "site").exists()
