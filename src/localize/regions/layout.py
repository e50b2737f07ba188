"""A region's storage layout: keys, manifests, the live pointer, the index, versions.

Under the region's location (an S3 prefix or a folder)::

    objects/sha256/AB/ABCD...            file contents, addressed by their sha256
    courses/COURSE/LL/versions/V.json    one manifest per published version
    courses/COURSE/LL/latest.json        the pointer: which version is live
    index.json                           every course and locale with its live version
    leases/COURSE/LL/TOKEN.json          objects a publish under way is about to reference
    gc/lock.json                         held while garbage collection deletes objects

Publishers and mirrors both read this module (a mirror needs nothing else of
the publishing stack). Pointers are swapped with conditional writes (If-Match
on the pointer's ETag, If-None-Match for the first version), so two publishers
cannot both win and a reader never sees a pointer to an incomplete version.

Everything read back from a region is validated against the schema below before
use (a bucket is not trusted): a malformed pointer or manifest is an
:class:`~localize.errors.IntegrityError` naming the key and the field.

Garbage collection is safe against concurrent publishers by construction (see
:func:`prune`): a publisher writes a lease naming every object of its new
version *before* it checks which objects the region already has, and then waits
for any collector holding ``gc/lock.json``; a collector takes that lock *before*
it reads the manifests and leases, and deletes only what none of them names.
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import os
import re
import secrets
import socket
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from localize.catalogs.workspace import check_course_id
from localize.config import Config, Region
from localize.errors import (
    ConfigError,
    IntegrityError,
    LocalizeError,
    PreconditionFailed,
    StorageError,
    TransientStorageError,
    printable,
)
from localize.locales import check_locale
from localize.regions.checkpoints import checkpoint
from localize.storage.base import Storage, TooLarge
from localize.storage.locations import open_storage

SCHEMA = 1
VERSION_RE = re.compile(r"\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}")  # used with fullmatch ($ allows a newline)
SHA256_RE = re.compile(r"[0-9a-f]{64}")
MAX_POINTER_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_PATH_CHARS = 1024
MAX_FILE_BYTES = 1 << 40  # a size beyond 1 TiB in a manifest is a lie
LEASE_TTL_SECONDS = 24 * 3600.0  # a lease older than this is a dead publisher's; a publish must swap before half of it
GC_MAX_SECONDS = 300.0  # a collector stops deleting this long after taking the lock
GC_LOCK_KEY = "gc/lock.json"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def object_key(sha256: str) -> str:
    return f"objects/sha256/{sha256[:2]}/{sha256}"


def pointer_key(course: str, locale: str) -> str:
    return f"courses/{course}/{locale}/latest.json"


def manifest_key(course: str, locale: str, version: str) -> str:
    return f"courses/{course}/{locale}/versions/{version}.json"


def lease_prefix(course: str, locale: str) -> str:
    return f"leases/{course}/{locale}"


def to_json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def content_type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return (
        f"{guessed}; charset=utf-8"
        if guessed in ("text/html", "text/css", "text/plain", "application/json")
        else guessed
    )


# -- validation ------------------------------------------------------------------------------------


class _Invalid(Exception):
    """A schema violation: ``field`` and what is wrong with it."""

    def __init__(self, field_name: str, problem: str) -> None:
        super().__init__(f"{field_name}: {problem}")


def _shown(value: Any) -> str:
    text = repr(value)
    return printable(text if len(text) <= 80 else text[:77] + "...")


def is_version(value: Any) -> bool:
    return isinstance(value, str) and VERSION_RE.fullmatch(value) is not None


def safe_relative_path(path: Any) -> bool:
    """A relative POSIX path that stays inside the folder it is joined to."""
    if not isinstance(path, str) or not path or len(path) > MAX_PATH_CHARS or _CONTROL.search(path):
        return False
    if "\\" in path or path.startswith("/") or ":" in path.split("/", 1)[0]:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


def _str(raw: dict[str, Any], name: str, *, max_chars: int = 1000) -> str:
    value = raw.get(name)
    if not isinstance(value, str):
        raise _Invalid(name, f"must be a string, got {_shown(value)}")
    if len(value) > max_chars or _CONTROL.search(value):
        raise _Invalid(name, f"must be a short single-line string, got {_shown(value)}")
    return value


def _sha(raw: dict[str, Any], name: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not SHA256_RE.fullmatch(value):
        raise _Invalid(name, f"must be 64 lowercase hex digits (a sha256), got {_shown(value)}")
    return value


def _version(raw: dict[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = raw.get(name)
    if value is None and optional:
        return None
    if not is_version(value):
        raise _Invalid(name, f"must be a version id like 20240101T000000.000Z-0123abcd, got {_shown(value)}")
    return str(value)


def _course(raw: dict[str, Any], name: str = "course") -> str:
    value = raw.get(name)
    try:
        if not isinstance(value, str) or _CONTROL.search(value) or check_course_id(value) != value:
            raise ConfigError("")
    except ConfigError:
        raise _Invalid(name, f"must be a course id (letters, digits, '.', '_', '-'), got {_shown(value)}") from None
    return value


def _locale(raw: dict[str, Any], name: str = "locale") -> str:
    value = raw.get(name)
    try:
        if not isinstance(value, str) or check_locale(value) != value:
            raise ConfigError("")
    except ConfigError:
        raise _Invalid(name, f"must be a canonical locale code, got {_shown(value)}") from None
    return value


def _int(value: Any, name: str, top: int) -> int:
    if type(value) is not int or not 0 <= value <= top:
        raise _Invalid(name, f"must be a whole number from 0 to {top}, got {_shown(value)}")
    return value


def _known_keys(raw: dict[str, Any], allowed: set[str], required: set[str], where: str = "") -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise _Invalid(where + _shown(unknown[0]), "is not a field of this schema")
    missing = sorted(required - set(raw))
    if missing:
        raise _Invalid(where + missing[0], "is missing")


def parse_json(data: bytes, what: str, where: str) -> Any:
    """JSON from a region, or an IntegrityError (never a traceback: bad UTF-8, deep nesting, NaN...)."""

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse)
    except (ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else "not valid UTF-8 JSON"
        raise IntegrityError(f"the {what} is {reason}; not using it", path=where) from None


def read_limited(storage: Storage, key: str, max_bytes: int) -> bytes:
    """The object's bytes, streamed, refusing more than ``max_bytes`` (FileNotFoundError passes)."""
    buffer = io.BytesIO()
    try:
        storage.download(key, buffer, max_bytes=max_bytes)
    except TooLarge:
        raise IntegrityError(
            f"larger than the {max_bytes} bytes such a file may have; not reading it", path=storage.describe(key)
        ) from None
    return buffer.getvalue()


@dataclass(frozen=True)
class FileRecord:
    path: str
    sha256: str
    size: int
    content_type: str


_MANIFEST_FIELDS = {
    "course", "locale", "version", "source_revision", "catalog_sha256", "tool_version", "created", "files",
    "stats", "qa", "pages_in_source_language", "omitted", "previous", "build_key", "schema",
}  # fmt: skip
_MANIFEST_REQUIRED = {"course", "locale", "version", "catalog_sha256", "files", "schema"}
_RECORD_FIELDS = {"path", "sha256", "size", "content_type"}


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
    def from_bytes(
        cls,
        data: bytes,
        *,
        where: str = "manifest",
        course: str | None = None,
        locale: str | None = None,
        version: str | None = None,
    ) -> Manifest:
        """Parse and validate a manifest; IntegrityError naming ``where`` and the field otherwise.
        ``course``/``locale``/``version``: what the reader expects it to describe."""
        raw = parse_json(data, "manifest", where)
        try:
            return cls._validated(raw, course, locale, version)
        except _Invalid as e:
            raise IntegrityError(f"malformed manifest: {e}; not using it", path=where) from None

    @classmethod
    def _validated(cls, raw: Any, course: str | None, locale: str | None, version: str | None) -> Manifest:
        if not isinstance(raw, dict):
            raise _Invalid("(top level)", f"must be an object, got {type(raw).__name__}")
        schema = raw.get("schema")
        if type(schema) is not int or schema != SCHEMA:
            raise _Invalid("schema", f"must be {SCHEMA} (the version this localize reads), got {_shown(schema)}")
        _known_keys(raw, _MANIFEST_FIELDS, _MANIFEST_REQUIRED)
        got_course, got_locale, got_version = _course(raw), _locale(raw), str(_version(raw, "version"))
        for name, got, want in (("course", got_course, course), ("locale", got_locale, locale), ("version", got_version, version)):  # fmt: skip
            if want is not None and got != want:
                raise _Invalid(name, f"says {_shown(got)} where {_shown(want)} was expected")
        files = raw["files"]
        if not isinstance(files, list):
            raise _Invalid("files", f"must be a list, got {type(files).__name__}")
        records: list[FileRecord] = []
        seen: set[str] = set()
        for i, f in enumerate(files):
            where = f"files[{i}]"
            if not isinstance(f, dict):
                raise _Invalid(where, f"must be an object, got {type(f).__name__}")
            _known_keys(f, _RECORD_FIELDS, _RECORD_FIELDS, where + ".")
            path = f["path"]
            if not safe_relative_path(path):
                raise _Invalid(where + ".path", f"must be a safe relative path, got {_shown(path)}")
            if path in seen:
                raise _Invalid(where + ".path", f"{_shown(path)} is listed twice")
            seen.add(path)
            try:
                sha = _sha(f, "sha256")
                size = _int(f["size"], "size", MAX_FILE_BYTES)
                ctype = _str(f, "content_type", max_chars=200)
            except _Invalid as e:
                raise _Invalid(where, str(e)) from None
            records.append(FileRecord(path, sha, size, ctype))
        for path in seen:  # "a" and "a/b" cannot both be files
            parts = path.split("/")
            for n in range(1, len(parts)):
                if "/".join(parts[:n]) in seen:
                    raise _Invalid("files", f"{_shown('/'.join(parts[:n]))} is both a file and a folder")
        lists: dict[str, tuple[str, ...]] = {}
        for name in ("pages_in_source_language", "omitted"):
            value = raw.get(name, [])
            if not isinstance(value, list) or not all(safe_relative_path(p) for p in value):
                raise _Invalid(name, f"must be a list of safe relative paths, got {_shown(value)}")
            lists[name] = tuple(value)
        for name in ("stats", "qa"):
            if not isinstance(raw.get(name, {}), dict):
                raise _Invalid(name, f"must be an object, got {_shown(raw.get(name))}")
        build = raw.get("build_key", "")
        if build != "":
            _sha(raw, "build_key")
        revision = raw.get("source_revision", "")
        if revision != "":
            _sha(raw, "source_revision")
        created = raw.get("created", "")
        if created != "":
            try:
                datetime.fromisoformat(_str(raw, "created", max_chars=40))
            except ValueError:
                raise _Invalid("created", f"must be an ISO 8601 time, got {_shown(created)}") from None
        return cls(
            course=got_course,
            locale=got_locale,
            version=got_version,
            source_revision=str(revision),
            catalog_sha256=_sha(raw, "catalog_sha256"),
            tool_version=_str(raw, "tool_version", max_chars=100) if "tool_version" in raw else "",
            created=str(created),
            files=tuple(records),
            stats=dict(raw.get("stats", {})),
            qa=dict(raw.get("qa", {})),
            pages_in_source_language=lists["pages_in_source_language"],
            omitted=lists["omitted"],
            previous=_version(raw, "previous", optional=True),
            build_key=str(build),
            schema=SCHEMA,
        )

    def file_map(self) -> dict[str, FileRecord]:
        return {f.path: f for f in self.files}


_POINTER_FIELDS = {"course", "locale", "version", "manifest", "manifest_sha256", "previous", "updated"}


def validate_pointer(raw: Any, where: str, course: str, locale: str) -> dict[str, Any]:
    """The pointer as it was read, if it matches the schema and points at its own course's manifest."""
    try:
        if not isinstance(raw, dict):
            raise _Invalid("(top level)", f"must be an object, got {type(raw).__name__}")
        _known_keys(raw, _POINTER_FIELDS, _POINTER_FIELDS - {"previous"})
        for name, want in (("course", course), ("locale", locale)):
            if raw[name] != want:
                raise _Invalid(name, f"says {_shown(raw[name])} where {_shown(want)} was expected")
        version = _version(raw, "version")
        _version(raw, "previous", optional=True)
        expected = manifest_key(course, locale, str(version))
        if raw["manifest"] != expected:
            raise _Invalid("manifest", f"must be {expected!r} for this version, got {_shown(raw['manifest'])}")
        _sha(raw, "manifest_sha256")
        _str(raw, "updated", max_chars=40)
    except _Invalid as e:
        raise IntegrityError(f"malformed pointer: {e}; not using it", path=where) from None
    return raw


def read_pointer(storage: Storage, course: str, locale: str) -> tuple[dict[str, Any] | None, str | None]:
    key = pointer_key(course, locale)
    try:
        data, etag = storage.read_with_etag(key)
    except FileNotFoundError:
        return None, None
    if len(data) > MAX_POINTER_BYTES:
        raise IntegrityError(
            f"the pointer is larger than {MAX_POINTER_BYTES} bytes; not using it", path=storage.describe(key)
        )
    return validate_pointer(
        parse_json(data, "pointer", storage.describe(key)), storage.describe(key), course, locale
    ), etag


def read_manifest(storage: Storage, course: str, locale: str, version: str) -> Manifest:
    key = manifest_key(course, locale, version)
    return Manifest.from_bytes(
        read_limited(storage, key, MAX_MANIFEST_BYTES),
        where=storage.describe(key),
        course=course,
        locale=locale,
        version=version,
    )


def check_names(course: str, locale: str) -> None:
    """Refuse a course id or locale (from an index, a command line) that is not one."""
    try:
        _course({"course": course})
        _locale({"locale": locale})
    except _Invalid as e:
        raise IntegrityError(f"not a course and locale: {e}") from None


def validate_index(raw: Any) -> dict[str, Any]:
    """The region index if it has the expected shape (courses -> locales -> entries); else IntegrityError."""
    if not isinstance(raw, dict) or not isinstance(raw.get("courses", {}), dict):
        raise IntegrityError("malformed region index: courses must be an object")
    for course, locales in raw.get("courses", {}).items():
        if not isinstance(locales, dict) or not all(isinstance(v, dict) for v in locales.values()):
            raise IntegrityError(f"malformed region index: courses[{_shown(course)}] must map locales to objects")
    return raw


def _read_index(storage: Storage, region: str) -> tuple[dict[str, Any], str | None]:
    try:
        data, etag = storage.read_with_etag("index.json")
    except FileNotFoundError:
        return {"region": region, "courses": {}}, None
    try:
        if len(data) > MAX_INDEX_BYTES:
            raise IntegrityError("the region index is too large")
        return validate_index(parse_json(data, "region index", storage.describe("index.json"))), etag
    except IntegrityError:
        # the index only summarises the pointers: rebuild it from them
        return rebuild_index(storage, region), etag


def rebuild_index(storage: Storage, region: str) -> dict[str, Any]:
    """The region index from every valid pointer (and its manifest) in the region."""
    courses: dict[str, dict[str, Any]] = {}
    for key in storage.list("courses"):
        parts = key.split("/")
        if len(parts) != 4 or parts[3] != "latest.json":
            continue
        try:
            pointer, _ = read_pointer(storage, parts[1], parts[2])
            if pointer is not None:
                manifest = read_manifest(storage, parts[1], parts[2], pointer["version"])
                courses.setdefault(parts[1], {})[parts[2]] = index_entry(pointer, manifest)
        except (LocalizeError, FileNotFoundError):
            continue
    return {"region": region, "courses": courses}


def update_index(
    storage: Storage, region: str, course: str, locale: str, entry: dict[str, Any] | None, now: str
) -> int:
    """Read-modify-write the region index under compare-and-swap; returns writes done."""
    for _ in range(10):
        index, etag = _read_index(storage, region)
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


def ensure_index(
    storage: Storage, region: str, course: str, locale: str, pointer: dict[str, Any], manifest: Manifest
) -> int:
    """Bring the index entry up to the live pointer if an interrupted publish left it behind; writes done."""
    index, _ = _read_index(storage, region)
    entry = index.get("courses", {}).get(course, {}).get(locale)
    if isinstance(entry, dict) and entry.get("version") == pointer["version"]:
        return 0
    return update_index(storage, region, course, locale, index_entry(pointer, manifest), pointer["updated"])


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
    """Every version id with a manifest, oldest first (keys that are not version ids are ignored)."""
    prefix = f"courses/{course}/{locale}/versions"
    found = (key.rsplit("/", 1)[-1].removesuffix(".json") for key in storage.list(prefix) if key.endswith(".json"))
    return sorted(v for v in found if is_version(v))


# -- leases and garbage collection -----------------------------------------------------------------


def write_lease(storage: Storage, course: str, locale: str, objects: set[str]) -> str:
    """Announce the objects a publish is about to reference; returns the lease key.

    Written before the publisher looks at which objects exist, so that a
    collector either sees it (and spares them) or took its lock before it was
    written (and the publisher waits for that collector, see :func:`wait_for_gc`)."""
    key = f"{lease_prefix(course, locale)}/{secrets.token_hex(8)}.json"
    body = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "objects": sorted(objects),
    }
    storage.put(key, to_json(body), content_type="application/json", if_none_match=True)
    return key


def _dead_here(holder: dict[str, Any]) -> bool:
    """Whether the process that wrote a lock or lease ran on this machine and is gone."""
    if holder.get("host") != socket.gethostname() or type(holder.get("pid")) is not int or holder["pid"] == os.getpid():
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, ValueError):
        return False
    return False


def _lock_is_dead(storage: Storage) -> tuple[bool, str | None]:
    """(whether the GC lock is absent or held by nobody alive, its ETag when present)."""
    try:
        data, etag = storage.read_with_etag(GC_LOCK_KEY)
    except FileNotFoundError:
        return True, None
    try:
        lock = json.loads(data[:MAX_POINTER_BYTES])
        expires = datetime.fromisoformat(str(lock["expires"])).timestamp()
    except (ValueError, KeyError, TypeError, RecursionError, OverflowError):
        return True, etag  # not a lock a collector of ours wrote
    if time.time() > expires + 60:  # 60 s of clock skew between machines
        return True, etag
    # a collector that died deletes nothing any more
    return _dead_here(lock), etag


def wait_for_gc(storage: Storage, *, poll: float = 0.2) -> None:
    """Return once no live collector holds the region's GC lock."""
    while True:
        dead, _ = _lock_is_dead(storage)
        if dead:
            return
        time.sleep(poll)


def _take_gc_lock(storage: Storage) -> str | None:
    """The lock's body (to release it) if we got it, None if a live collector has it."""
    now = datetime.now(UTC)
    body = to_json(
        {
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "token": secrets.token_hex(8),
            "created": now.isoformat(timespec="seconds"),
            "expires": (now + timedelta(seconds=GC_MAX_SECONDS)).isoformat(timespec="seconds"),
        }
    )
    try:
        storage.put(GC_LOCK_KEY, body, content_type="application/json", if_none_match=True)
        return body.decode()
    except PreconditionFailed:
        dead, etag = _lock_is_dead(storage)
        if not dead or etag is None:
            return None
        try:
            storage.put(GC_LOCK_KEY, body, content_type="application/json", if_match=etag)  # take over a dead one
        except PreconditionFailed:
            return None
        return body.decode()


def _references(storage: Storage, skip: set[str]) -> set[str] | None:
    """Every object a manifest (but those in ``skip``) or a live lease names; None when one
    cannot be read (then nothing may be deleted)."""
    used: set[str] = set()
    for key in storage.list("courses"):
        parts = key.split("/")
        if len(parts) == 5 and parts[3] == "versions" and key.endswith(".json") and key not in skip:
            try:
                data = read_limited(storage, key, MAX_MANIFEST_BYTES)
                used.update(f.sha256 for f in Manifest.from_bytes(data, where=storage.describe(key)).files)
            except FileNotFoundError:
                continue  # pruned meanwhile by another course's collector
            except LocalizeError:
                return None
    cutoff = time.time() - LEASE_TTL_SECONDS
    for key, modified in storage.list_with_times("leases"):
        if modified < cutoff:
            storage.delete(key)  # a publisher that died long ago
            continue
        try:
            lease = parse_json(read_limited(storage, key, MAX_MANIFEST_BYTES), "lease", storage.describe(key))
            objects = lease["objects"]
            if not isinstance(objects, list):
                return None
            if _dead_here(lease):
                storage.delete(key)  # its publisher was killed: it will never swap a pointer
                continue
            used.update(str(o) for o in objects)
        except FileNotFoundError:
            continue  # its publish finished: its manifest (read above or newer) names the objects
        except (LocalizeError, KeyError, TypeError):
            return None
    return used


def prune(
    storage: Storage, course: str, locale: str, keep: int, grace_seconds: float = 3600.0
) -> tuple[tuple[str, ...], int]:
    """Drop versions beyond the newest ``keep`` (never the live or previous one) and
    the objects that no other manifest of the region and no lease names.

    Safe against concurrent publishers by construction: the collector takes
    ``gc/lock.json`` (If-None-Match) *before* it reads manifests and leases, and
    a publisher writes its lease *before* it checks which objects exist and then
    waits while a live collector holds the lock. So for any object a publisher
    reuses, either the collector read the lease (and spares the object) or the
    collector's lock was there before the publisher looked, and the publisher
    checked only after the collector had finished deleting. A collector stops
    deleting GC_MAX_SECONDS after taking the lock (the lock says so), so a
    publisher never waits on a dead one longer than that. Objects younger than
    ``grace_seconds`` are kept too. Object deletion comes before the manifests
    are removed, so an interrupted prune is finished by the next one."""
    pointer, _ = read_pointer(storage, course, locale)
    protected = {pointer.get("version"), pointer.get("previous")} if pointer else set()
    all_versions = versions(storage, course, locale)
    doomed = [v for v in all_versions[: max(0, len(all_versions) - keep)] if v not in protected]
    if not doomed:
        return (), 0
    started = time.monotonic()
    lock = _take_gc_lock(storage)
    if lock is None:
        return (), 0  # another collector is at work; the next publish prunes
    deleted = 0
    try:
        doomed_keys = {manifest_key(course, locale, v) for v in doomed}
        used = _references(storage, doomed_keys)
        if used is not None:
            cutoff = time.time() - grace_seconds
            for key, modified in storage.list_with_times("objects/sha256"):
                if time.monotonic() - started > GC_MAX_SECONDS * 0.8:
                    break  # publishers stop waiting for us at GC_MAX_SECONDS: leave the rest for next time
                if key.rsplit("/", 1)[-1] not in used and modified <= cutoff:
                    storage.delete(key)
                    deleted += 1
                    checkpoint("prune:object-deleted")
        for key in sorted(doomed_keys):
            storage.delete(key)
        checkpoint("prune:done")
    finally:
        try:
            if storage.read_bytes(GC_LOCK_KEY).decode() == lock:
                storage.delete(GC_LOCK_KEY)
        except (FileNotFoundError, StorageError):
            pass
    return tuple(doomed), deleted


def pending_version(storage: Storage, course: str, locale: str, after: str | None, manifest: Manifest) -> str | None:
    """A version written by an interrupted publish of exactly this content (newer than
    the live one, never pointed at): a rerun adopts it instead of making another."""
    newer = [v for v in versions(storage, course, locale) if after is None or v > after]
    if not newer:
        return None
    try:
        found = read_manifest(storage, course, locale, newer[-1])
    except (LocalizeError, FileNotFoundError):
        return None
    same = (found.files, found.catalog_sha256, found.build_key, found.previous, found.source_revision) == (
        manifest.files, manifest.catalog_sha256, manifest.build_key, manifest.previous, manifest.source_revision,
    )  # fmt: skip
    return found.version if same else None


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
    key = manifest_key(course, locale, target)
    manifest_bytes = read_limited(storage, key, MAX_MANIFEST_BYTES)
    manifest = Manifest.from_bytes(
        manifest_bytes, where=storage.describe(key), course=course, locale=locale, version=target
    )
    missing = [f.path for f in manifest.files if not storage.exists(object_key(f.sha256))]
    if missing:
        raise IntegrityError(
            f"version {target} lacks {len(missing)} objects (first: {missing[0]}); not rolling back to it",
            path=storage.describe(key),
        )
    new_pointer = make_pointer(course, locale, target, manifest_bytes, pointer["version"], datetime.now(UTC))
    swap_pointer(storage, course, locale, new_pointer, etag)
    update_index(storage, region, course, locale, index_entry(new_pointer, manifest), new_pointer["updated"])
    return pointer["version"], target


def region_storage(region: Region, config: Config | None = None) -> Storage:
    location = config.resolve(region.location) if config is not None else region.location
    return open_storage(location, endpoint_url=region.endpoint_url)
