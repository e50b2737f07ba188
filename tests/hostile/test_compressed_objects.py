"""Hostile compressed objects: a bucket that serves gzip objects which inflate to more (a
decompression bomb), to less, to other bytes, or are not gzip at all; and manifests whose
storage fields lie. Each is refused with the live version untouched, memory and disk bounded
by the size the manifest records."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localize.model import Catalog
from localize.regions.bundle import make_bundle
from localize.regions.publish import publish_bundle
from localize.regions.pull import pull
from localize.storage.base import LocalStorage
from localize.storage.sources import FolderSource

from .test_regions import C, L, live, plant_manifest, refused

PAGE = "<html><body>" + "".join(f"<p>paragraph {i} of a page long enough to compress</p>" for i in range(60))


@pytest.fixture
def region(tmp_path: Path) -> tuple[LocalStorage, Path, str]:
    """A region whose pages are stored compressed, with two versions and a mirror at the first."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.html").write_text(PAGE + "one</body></html>")
    (src / "a.png").write_bytes(b"png" * 10)
    storage = LocalStorage(tmp_path / "region")
    with make_bundle(FolderSource(src), Catalog(), L) as b:
        first = publish_bundle(storage, "r", C, L, b, Catalog()).version
    mirror = tmp_path / "mirror"
    pull(str(tmp_path / "region"), C, L, mirror)
    (src / "index.html").write_text(PAGE + "two</body></html>")
    with make_bundle(FolderSource(src), Catalog(), L) as b:
        publish_bundle(storage, "r", C, L, b, Catalog())
    assert first is not None
    return storage, mirror, first


def page_record(storage: LocalStorage) -> dict[str, Any]:
    record = next(f for f in live(storage)[1]["files"] if f["path"] == "index.html")
    assert record["encoding"] == "gzip" and record["stored_size"] < record["size"]
    return dict(record)


def gz_key(record: dict[str, Any]) -> str:
    return f"objects/sha256/{record['sha256'][:2]}/{record['sha256']}.gz"


def bomb(size: int) -> bytes:
    """gzip of ``size`` zero bytes, compressed a megabyte at a time (about 1/1000 of ``size``)."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [z.compress(zeros) for _ in range(size >> 20)]
    return b"".join(parts) + z.flush()


def set_stored_size(size: int) -> Callable[[dict[str, Any]], None]:
    def change(manifest: dict[str, Any]) -> None:
        for f in manifest["files"]:
            if f["path"] == "index.html":
                f["stored_size"] = size

    return change


def test_decompression_bomb_is_refused_at_the_size_the_manifest_records(
    region: tuple[LocalStorage, Path, str],
) -> None:
    storage, mirror, first = region
    record = page_record(storage)
    evil = bomb(1 << 30)  # 1 GiB of zeros in about a megabyte
    storage.write_bytes(gz_key(record), evil)
    plant_manifest(storage, set_stored_size(len(evil)))  # the stored size is even made to match
    refused(storage, mirror, first, f"inflates to more than the {record['size']} bytes the manifest records")
    assert not (mirror / ".localize" / C / L / ".downloads").exists()


def test_compressed_object_larger_than_its_stored_size_is_not_read_past_it(
    region: tuple[LocalStorage, Path, str],
) -> None:
    storage, mirror, first = region
    record = page_record(storage)
    storage.write_bytes(gz_key(record), gzip.compress(b"A" * (4 << 20)))
    refused(storage, mirror, first, f"larger than the {record['stored_size']} bytes the manifest records")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("not-gzip", "compressed object not valid gzip"),
        ("cut-short", "the compressed object is cut short"),
        ("trailing", "bytes after the end of the compressed object"),
        ("other-bytes", "the region's copy is damaged or was tampered with"),
        ("shorter", "expected sha256"),
    ],
)
def test_damaged_compressed_object_is_refused(region: tuple[LocalStorage, Path, str], case: str, expected: str) -> None:
    storage, mirror, first = region
    record = page_record(storage)
    good = storage.read_bytes(gz_key(record))
    evil = {
        "not-gzip": b"<script>evil()</script>".ljust(len(good), b" "),
        "cut-short": good[: len(good) // 2],
        "trailing": good[:-8] + good[-8:],  # replaced below: the good object plus a second member
        "other-bytes": gzip.compress(b"X" * record["size"], mtime=0),
        "shorter": gzip.compress(b"<p>", mtime=0),
    }[case]
    if case == "trailing":
        evil = good + gzip.compress(b"<script>more()</script>", mtime=0)
        plant_manifest(storage, set_stored_size(len(evil)))
    elif len(evil) > record["stored_size"]:
        plant_manifest(storage, set_stored_size(len(evil)))
    storage.write_bytes(gz_key(record), evil)
    refused(storage, mirror, first, expected)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"encoding": "br"}, "encoding: must be one of identity, gzip, got 'br'"),
        ({"encoding": "gzip", "stored_size": None}, "stored_size: must be a whole number"),
        ({"encoding": "gzip", "stored_size": -1}, "stored_size: must be a whole number"),
        ({"encoding": "gzip", "stored_size": 1 << 41}, "stored_size: must be a whole number"),
        ({"encoding": "identity", "stored_size": 10}, "stored_size: is only for a compressed object"),
        ({"stored_size": 10, "encoding": "gzip", "extra": 1}, "'extra': is not a field of this schema"),
    ],
)
def test_lying_storage_fields_are_refused(
    region: tuple[LocalStorage, Path, str], change: dict[str, Any], expected: str
) -> None:
    storage, mirror, first = region

    def plant(manifest: dict[str, Any]) -> None:
        manifest["files"][0].update(change)

    plant_manifest(storage, plant)
    refused(storage, mirror, first, expected)


def test_gzip_without_stored_size_is_refused(region: tuple[LocalStorage, Path, str]) -> None:
    storage, mirror, first = region

    def plant(manifest: dict[str, Any]) -> None:
        f = next(f for f in manifest["files"] if "stored_size" in f)
        del f["stored_size"]

    plant_manifest(storage, plant)
    refused(storage, mirror, first, "stored_size: is missing (a gzip object needs its stored size)")


def test_one_block_of_a_bomb_inflates_a_chunk_at_a_time() -> None:
    """Deflate expands about 1000:1: one megabyte read from the bucket must never become one
    gigabyte in memory, whatever size the manifest allows."""
    from localize.regions.objects import Inflating
    from localize.storage.base import CHUNK

    class Pieces:
        largest = 0
        total = 0

        def write(self, block: bytes) -> int:
            self.largest = max(self.largest, len(block))
            self.total += len(block)
            return len(block)

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def truncate(self, size: int | None = None) -> int:
            return 0

    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = z.compress(b"\0" * (256 << 20)) + z.flush()  # 256 MiB of zeros in about 250 KiB
    sink = Pieces()
    Inflating(sink, 1 << 40).write(bomb)
    assert sink.total == 256 << 20 and sink.largest <= CHUNK


def test_an_https_region_is_read_as_stored_never_inflated_by_the_client(tmp_path: Path) -> None:
    """The client asks for identity; a response compressed anyway (a pointer, a manifest) is
    refused before it is inflated, while a .gz object labelled gzip by a CDN is read raw, as
    the region stores it."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from localize.errors import PermanentStorageError
    from localize.regions.remote import open_remote

    body = gzip.compress(b"[" * 1000 + b"]" * 1000, mtime=0)
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.headers.get("Accept-Encoding", ""))
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        remote = open_remote(f"http://127.0.0.1:{server.server_port}/region")
        with pytest.raises(PermanentStorageError, match=r"Content-Encoding: gzip\) though asked for identity"):
            remote.read("index.json", 1 << 16)
        assert remote.read("objects/sha256/ab/" + "ab" * 32 + ".gz", 1 << 16) == body  # raw, as stored
        assert seen and all(a == "identity" for a in seen)
    finally:
        server.shutdown()
