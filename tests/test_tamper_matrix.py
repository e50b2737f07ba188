"""Signed releases wherever a mirror reads them: tampering with each kind of file (object, manifest,
pointer, index, signature) in a SeaweedFS bucket, behind an HTTP server and in an exported folder is
refused by `pull --trust`, and the mirror's live site is left as it was (issue 16, items 1 and 2)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_drives import PAIRS, first_release, page, publish, second_release, site

from localize.errors import IntegrityError, LocalizeError
from localize.regions.export import export_region
from localize.regions.keys import Signer, TrustedKeys, generate_keys, index_signature_key, manifest_signature_key
from localize.regions.layout import update_index
from localize.regions.pull import live_version, pull_all
from localize.regions.schema import object_key, pointer_key
from localize.storage.base import LocalStorage, Storage
from localize.storage.locations import open_storage


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder served over HTTP (a public bucket or CDN, as `pull --from https://…` reads one)."""
    root = tmp_path / "public"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def live(storage: Storage, course: str = "c1", locale: str = "es") -> tuple[bytes, dict[str, str]]:
    data = storage.read_bytes(pointer_key(course, locale))
    return data, json.loads(data)


def tamper_object(storage: Storage) -> None:
    _, pointer = live(storage)
    manifest = json.loads(storage.read_bytes(pointer["manifest"]))
    [record] = [f for f in manifest["files"] if f["path"] == "index.html"]
    storage.put(object_key(record["sha256"]), b"<script>evil()</script>")


def tamper_manifest(storage: Storage) -> None:
    _, pointer = live(storage)
    storage.put(pointer["manifest"], storage.read_bytes(pointer["manifest"]).replace(b'"c1"', b'"c1" ', 1))


def tamper_pointer(storage: Storage) -> None:
    data, _ = live(storage)
    storage.put(pointer_key("c1", "es"), data.replace(b'"updated": "', b'"updated":  "'))


def tamper_index(storage: Storage) -> None:
    index = json.loads(storage.read_bytes("index.json"))
    del index["courses"]["c2"]  # hide a course from the mirrors
    storage.put("index.json", json.dumps(index).encode())


def tamper_signature(storage: Storage) -> None:
    _, pointer = live(storage)
    key = manifest_signature_key("c1", "es", pointer["version"])
    raw = json.loads(storage.read_bytes(key))
    signature = bytearray(base64.b64decode(raw["signature"]))
    signature[5] ^= 1
    raw["signature"] = base64.b64encode(bytes(signature)).decode()
    storage.put(key, json.dumps(raw).encode())


TAMPER = {
    "object": (tamper_object, "index.html: expected sha256 "),
    "manifest": (tamper_manifest, "the manifest does not match its signature: it was changed after signing"),
    "pointer": (tamper_pointer, "the pointer is not signed (no courses/c1/es/signatures/"),
    "index": (tamper_index, "the region index is not signed (no signatures/index/"),
    "signature": (tamper_signature, "the manifest does not match its signature: it was changed after signing"),
}


@pytest.mark.parametrize("kind", sorted(TAMPER))
@pytest.mark.parametrize("where", ["seaweedfs", "http", "export"])
def test_tampering_with_each_kind_of_file_anywhere_is_refused_and_the_live_site_is_untouched(
    where: str, kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    made = generate_keys(tmp_path / "keys")
    signer, trust = Signer.from_file(made.private), TrustedKeys.from_files([made.public])
    if where == "seaweedfs":
        bucket = request.getfixturevalue("s3_env")
        location = f"s3://{bucket}/region"
        storage = open_storage(location)
    elif where == "http":
        root, location = request.getfixturevalue("http_root")
        storage = LocalStorage(root)
    else:
        storage = LocalStorage(tmp_path / "region")
        location = str(tmp_path / "region")
    first_release(storage, tmp_path, signer)
    mirror = tmp_path / "mirror"
    assert not [r for r in pull_all(location, mirror, trust=trust) if isinstance(r, LocalizeError)]
    versions = {pair: live_version(mirror, *pair) for pair in PAIRS}
    before = site(mirror)
    second_release(storage, tmp_path, signer)
    if where == "export":
        export_region(storage, "mena", tmp_path / "drive", signer=signer)
        location, storage = str(tmp_path / "drive"), LocalStorage(tmp_path / "drive")
    tamper, message = TAMPER[kind]
    tamper(storage)

    try:
        errors: list[LocalizeError] = [
            r for r in pull_all(location, mirror, trust=trust) if isinstance(r, LocalizeError)
        ]
    except IntegrityError as e:
        errors = [e]

    assert len(errors) == 1 and isinstance(errors[0], IntegrityError), errors
    assert message in errors[0].message, str(errors[0])
    if kind != "index":  # the other courses went on; c1/es kept its version
        assert versions[("c1", "es")] == live_version(mirror, "c1", "es")
        assert live_version(mirror, "c2", "es") != versions[("c2", "es")]
        assert {k: v for k, v in site(mirror).items() if k.startswith("c1/es/")} == {
            k: v for k, v in before.items() if k.startswith("c1/es/")
        }
    else:  # nothing was pulled at all
        assert {pair: live_version(mirror, *pair) for pair in PAIRS} == versions and site(mirror) == before
    assert b"evil" not in (mirror / "c1" / "es" / "index.html").read_bytes()


def test_a_signing_publisher_never_signs_an_index_it_did_not_write(tmp_path: Path) -> None:
    """An index its key did not sign (tampered, or from before signing) is rebuilt from the pointers
    that key signed before it is signed; prune keeps only the live index's signature."""
    from localize.regions import gc

    made = generate_keys(tmp_path / "keys")
    signer, trust = Signer.from_file(made.private), TrustedKeys.from_files([made.public])
    storage = LocalStorage(tmp_path / "region")
    first_release(storage, tmp_path, None)  # unsigned: then the coordinators start signing
    index = json.loads(storage.read_bytes("index.json"))
    index["courses"]["planted"] = {"es": index["courses"]["c2"]["es"]}
    storage.put("index.json", json.dumps(index).encode())
    second_release(storage, tmp_path, signer)  # c1/es and c2/es, signed; c1/ar left unsigned
    data = storage.read_bytes("index.json")
    assert storage.exists(index_signature_key(data))
    assert {c: sorted(ls) for c, ls in json.loads(data)["courses"].items()} == {"c1": ["es"], "c2": ["es"]}
    results = pull_all(str(storage.root), tmp_path / "mirror", trust=trust)
    assert [type(r).__name__ for r in results] == ["PullResult", "PullResult"]
    update_index(storage, "mena", "c1", "es", json.loads(data)["courses"]["c1"]["es"], "2030-01-01T00:00:00", signer)
    publish(storage, tmp_path / "src", "c1", "es", {"index.html": page("three")}, signer)  # a version to prune
    gc.POINTER_SIGNATURE_GRACE, grace = 0.0, gc.POINTER_SIGNATURE_GRACE
    try:
        gc.prune(storage, "c1", "es", keep=2, grace_seconds=0)
    finally:
        gc.POINTER_SIGNATURE_GRACE = grace
    assert [k for k in storage.list("signatures/index")] == [index_signature_key(storage.read_bytes("index.json"))]
