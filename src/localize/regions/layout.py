"""A region's storage layout: keys, manifests, the live pointer, the index, versions.

Under the region's location (an S3 prefix or a folder)::

    objects/sha256/AB/ABCD...            file contents, addressed by their sha256
    courses/COURSE/LL/versions/V.json    one manifest per published version
    courses/COURSE/LL/latest.json        the pointer: which version is live
    index.json                           every course and locale with its live version

Publishers and mirrors both read this module (a mirror needs nothing else of
the publishing stack). Pointers are swapped with conditional writes (If-Match
on the pointer's ETag, If-None-Match for the first version), so two publishers
cannot both win and a reader never sees a pointer to an incomplete version.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from localize.config import Config, Region
from localize.errors import ConfigError, IntegrityError, PreconditionFailed, TransientStorageError
from localize.storage.base import Storage
from localize.storage.locations import open_storage

SCHEMA = 1


def object_key(sha256: str) -> str:
    return f"objects/sha256/{sha256[:2]}/{sha256}"


def pointer_key(course: str, locale: str) -> str:
    return f"courses/{course}/{locale}/latest.json"


def manifest_key(course: str, locale: str, version: str) -> str:
    return f"courses/{course}/{locale}/versions/{version}.json"


def to_json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def content_type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return (
        f"{guessed}; charset=utf-8"
        if guessed in ("text/html", "text/css", "text/plain", "application/json")
        else guessed
    )


@dataclass(frozen=True)
class FileRecord:
    path: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Manifest:
    course: str
    locale: str
    version: str
    source_revision: str
    catalog_sha256: str
    tool_version: str
    created: str
    files: tuple[FileRecord, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    qa: dict[str, Any] = field(default_factory=dict)
    pages_in_source_language: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()
    previous: str | None = None
    build_key: str = ""
    schema: int = SCHEMA

    def to_bytes(self) -> bytes:
        return to_json(asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        raw["files"] = tuple(FileRecord(**f) for f in raw["files"])
        raw["pages_in_source_language"] = tuple(raw.get("pages_in_source_language", ()))
        raw["omitted"] = tuple(raw.get("omitted", ()))
        return cls(**raw)

    def file_map(self) -> dict[str, FileRecord]:
        return {f.path: f for f in self.files}


def read_pointer(storage: Storage, course: str, locale: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data, etag = storage.read_with_etag(pointer_key(course, locale))
    except FileNotFoundError:
        return None, None
    return json.loads(data), etag


def read_live_versions(storage: Storage) -> dict[tuple[str, str], str]:
    """(course, locale) -> live version, from the region index (one read for the whole region)."""
    try:
        data = storage.read_bytes("index.json")
    except FileNotFoundError:
        return {}
    try:
        courses = json.loads(data).get("courses", {})
        return {
            (str(course), str(locale)): str(entry["version"])
            for course, locales in courses.items()
            for locale, entry in locales.items()
            if isinstance(entry, dict) and isinstance(entry.get("version"), str)
        }
    except (ValueError, AttributeError, TypeError) as e:
        raise IntegrityError(
            f"the region index is not valid JSON of the expected shape ({e})", path=storage.describe("index.json")
        ) from None


def read_manifest(storage: Storage, course: str, locale: str, version: str) -> Manifest:
    return Manifest.from_bytes(storage.read_bytes(manifest_key(course, locale, version)))


def update_index(
    storage: Storage, region: str, course: str, locale: str, entry: dict[str, Any] | None, now: str
) -> int:
    """Read-modify-write the region index under compare-and-swap; returns writes done."""
    for _ in range(10):
        try:
            data, etag = storage.read_with_etag("index.json")
            index = json.loads(data)
        except FileNotFoundError:
            index, etag = {"region": region, "courses": {}}, None
        courses = index.setdefault("courses", {})
        if entry is None:
            courses.get(course, {}).pop(locale, None)
        else:
            courses.setdefault(course, {})[locale] = entry
        index["updated"] = now
        try:
            if etag is None:
                storage.put("index.json", to_json(index), content_type="application/json", if_none_match=True)
            else:
                storage.put("index.json", to_json(index), content_type="application/json", if_match=etag)
            return 1
        except PreconditionFailed:
            continue
    raise TransientStorageError(
        "the region index kept changing under us; publish again", path=storage.describe("index.json")
    )


def make_pointer(
    course: str, locale: str, version: str, manifest_bytes: bytes, previous: str | None, now: datetime
) -> dict[str, Any]:
    """The live pointer: which version, its manifest and that manifest's hash (pull checks it)."""
    return {
        "course": course,
        "locale": locale,
        "version": version,
        "manifest": manifest_key(course, locale, version),
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "previous": previous,
        "updated": now.isoformat(timespec="seconds"),
    }


def index_entry(pointer: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
    return {
        "version": pointer["version"],
        "manifest": pointer["manifest"],
        "updated": pointer["updated"],
        "translated_percent": manifest.stats.get("translated_percent"),
        "files": len(manifest.files),
    }


def swap_pointer(storage: Storage, course: str, locale: str, pointer: dict[str, Any], etag: str | None) -> None:
    key = pointer_key(course, locale)
    try:
        if etag is None:
            storage.put(key, to_json(pointer), content_type="application/json", if_none_match=True)
        else:
            storage.put(key, to_json(pointer), content_type="application/json", if_match=etag)
    except PreconditionFailed:
        raise PreconditionFailed(
            "another publisher changed the live version meanwhile; nothing was switched, publish again",
            path=storage.describe(key),
        ) from None


def version_id(now: datetime, listing: str, after: str | None) -> str:
    """A version id that sorts after ``after`` (time to the millisecond, then a content hash)."""
    stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    if after is not None and stamp <= after.split("-", 1)[0]:
        # the clock did not move on (or went back): continue from the previous version
        base = datetime.strptime(after.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
        bumped = base + timedelta(milliseconds=1)
        stamp = bumped.strftime("%Y%m%dT%H%M%S") + f".{bumped.microsecond // 1000:03d}Z"
    return f"{stamp}-{listing[:8]}"


def versions(storage: Storage, course: str, locale: str) -> list[str]:
    prefix = f"courses/{course}/{locale}/versions"
    return sorted(key.rsplit("/", 1)[-1].removesuffix(".json") for key in storage.list(prefix) if key.endswith(".json"))


def prune(
    storage: Storage, course: str, locale: str, keep: int, grace_seconds: float = 3600.0
) -> tuple[tuple[str, ...], int]:
    """Drop versions beyond the newest ``keep`` (never the live or previous one),
    then the objects no kept version of any course in the region uses and that
    are older than ``grace_seconds`` (younger ones may belong to a publish
    still under way elsewhere)."""
    pointer, _ = read_pointer(storage, course, locale)
    protected = {pointer.get("version"), pointer.get("previous")} if pointer else set()
    all_versions = versions(storage, course, locale)
    doomed = [v for v in all_versions[: max(0, len(all_versions) - keep)] if v not in protected]
    for v in doomed:
        storage.delete(manifest_key(course, locale, v))
    if not doomed:
        return (), 0
    used: set[str] = set()
    for key in storage.list("courses"):
        if "/versions/" in key and key.endswith(".json"):
            used.update(f.sha256 for f in Manifest.from_bytes(storage.read_bytes(key)).files)
    deleted = 0
    cutoff = time.time() - grace_seconds
    for key, modified in storage.list_with_times("objects/sha256"):
        if key.rsplit("/", 1)[-1] not in used and modified <= cutoff:
            storage.delete(key)
            deleted += 1
    return tuple(doomed), deleted


def rollback(storage: Storage, region: str, course: str, locale: str, to: str | None = None) -> tuple[str, str]:
    """Point the live version back (default: the previous one). Returns (from, to)."""
    pointer, etag = read_pointer(storage, course, locale)
    if pointer is None:
        raise ConfigError(f"{course}/{locale} has never been published in region {region!r}")
    target = to or pointer.get("previous")
    if not target:
        raise ConfigError(
            f"{course}/{locale} in {region!r} has no previous version to roll back to; name one with --to"
        )
    available = versions(storage, course, locale)
    if target not in available:
        raise ConfigError(
            f"no version {target!r} of {course}/{locale} in {region!r} (versions: {', '.join(available) or 'none'})"
        )
    manifest_bytes = storage.read_bytes(manifest_key(course, locale, target))
    new_pointer = make_pointer(course, locale, target, manifest_bytes, pointer["version"], datetime.now(UTC))
    swap_pointer(storage, course, locale, new_pointer, etag)
    update_index(
        storage,
        region,
        course,
        locale,
        index_entry(new_pointer, Manifest.from_bytes(manifest_bytes)),
        new_pointer["updated"],
    )
    return pointer["version"], target


def region_storage(region: Region, config: Config | None = None) -> Storage:
    location = config.resolve(region.location) if config is not None else region.location
    return open_storage(location, endpoint_url=region.endpoint_url)
