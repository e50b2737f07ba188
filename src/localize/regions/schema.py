"""What a region stores, validated: keys, the manifest and pointer schema, size limits.

A bucket is not trusted: everything read back from a region (pointer, manifest,
index) goes through this module before use, and anything that does not match
the schema is an :class:`~localize.errors.IntegrityError` naming the key and the
field (version ids must be version ids, paths safe relative paths, hashes 64 hex
digits, sizes whole numbers, the schema number one this localize reads).

One cohesive thing: the whole schema of a region (keys, file records with their storage,
manifest, pointer, index) and its validation, so what a bucket may say is read in one place.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from localize.errors import ConfigError, IntegrityError, printable
from localize.ids import check_course_id
from localize.locales import check_locale, older_spelling
from localize.regions.index_shape import in_written_form
from localize.storage.base import Storage, TooLarge

SCHEMA = 1
# used with fullmatch ($ allows a newline); ASCII digits only (\d takes any Unicode digit)
VERSION_RE = re.compile(r"[0-9]{8}T[0-9]{6}\.[0-9]{3}Z-[0-9a-f]{8}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
COURSE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")  # used with fullmatch, whatever the workspace's check does
MAX_POINTER_BYTES = 64 * 1024
MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_PATH_CHARS = 1024
MAX_FILE_BYTES = 1 << 40  # a size beyond 1 TiB in a manifest is a lie
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


def to_compact_json(data: Any) -> bytes:
    """:func:`to_json` without indentation, for the region index (an entry per course and locale of
    the region, rewritten by every publish): json's C encoder, five times faster at 10,000 entries."""
    return (json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


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
        if (
            not isinstance(value, str)
            or _CONTROL.search(value)
            or not COURSE_RE.fullmatch(value)
            or check_course_id(value) != value
        ):
            raise ConfigError("")
    except ConfigError:
        raise _Invalid(name, f"must be a course id (letters, digits, '.', '_', '-'), got {_shown(value)}") from None
    return value


def _locale(raw: dict[str, Any], name: str = "locale") -> str:
    """A canonical locale code, or one in a spelling an earlier release wrote as canonical (iw,
    sr_Latn, zh_Hant_TW: pages published under it stay live, and are reachable, until the
    locale is published under its current spelling)."""
    value = raw.get(name)
    try:
        if not isinstance(value, str) or (check_locale(value) != value and not older_spelling(value)):
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


ENCODINGS = ("identity", "gzip")


@dataclass(frozen=True)
class FileRecord:
    """One file of a version: its path, the sha256 and size of its bytes, its content type, and
    how the region stores it (``encoding`` "gzip": the object is ``object_key(sha256) + ".gz"``,
    ``stored_size`` bytes long; the hash and size are always those of the uncompressed bytes)."""

    path: str
    sha256: str
    size: int
    content_type: str
    encoding: str = "identity"
    stored_size: int | None = None

    @property
    def key(self) -> str:
        """Where the region keeps this file's bytes."""
        return object_key(self.sha256) + (".gz" if self.encoding == "gzip" else "")

    @property
    def wire_size(self) -> int:
        """How many bytes a mirror reads for it (the most it accepts)."""
        return self.stored_size if self.stored_size is not None else self.size

    def content(self) -> tuple[str, str, int, str]:
        """What the file is, whatever its storage: (path, sha256, size, content type)."""
        return (self.path, self.sha256, self.size, self.content_type)

    def as_dict(self) -> dict[str, Any]:
        """The manifest entry: the storage fields only when the object is compressed (a manifest
        without compressed objects stays readable by mirrors that predate compression)."""
        entry: dict[str, Any] = {"path": self.path, "sha256": self.sha256, "size": self.size}
        entry["content_type"] = self.content_type
        if self.encoding != "identity":
            entry.update(encoding=self.encoding, stored_size=self.stored_size)
        return entry


def _storage_fields(entry: dict[str, Any]) -> tuple[str, int | None]:
    """A record's ``encoding`` and ``stored_size``: both or neither ("identity" needs no size)."""
    encoding = entry.get("encoding", "identity")
    if encoding not in ENCODINGS:
        raise _Invalid("encoding", f"must be one of {', '.join(ENCODINGS)}, got {_shown(encoding)}")
    if encoding == "identity":
        if "stored_size" in entry:
            raise _Invalid("stored_size", "is only for a compressed object")
        return "identity", None
    if "stored_size" not in entry:
        raise _Invalid("stored_size", f"is missing (a {encoding} object needs its stored size)")
    return str(encoding), _int(entry["stored_size"], "stored_size", MAX_FILE_BYTES)


_MANIFEST_FIELDS = {
    "course", "locale", "version", "source_revision", "catalog_sha256", "tool_version", "created", "files",
    "stats", "qa", "pages_in_source_language", "omitted", "previous", "build_key", "schema",
}  # fmt: skip
_MANIFEST_REQUIRED = {"course", "locale", "version", "catalog_sha256", "files", "schema"}
_RECORD_FIELDS = {"path", "sha256", "size", "content_type"}
_RECORD_OPTIONAL = {"encoding", "stored_size"}


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
        return to_json({**asdict(self), "files": [f.as_dict() for f in self.files]})

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
            _known_keys(f, _RECORD_FIELDS | _RECORD_OPTIONAL, _RECORD_FIELDS, where + ".")
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
                encoding, stored = _storage_fields(f)
            except _Invalid as e:
                raise _Invalid(where, str(e)) from None
            records.append(FileRecord(path, sha, size, ctype, encoding, stored))
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


_POINTER_FIELDS = {"course", "locale", "version", "manifest", "manifest_sha256", "previous", "updated", "region"}


def validate_pointer(raw: Any, where: str, course: str, locale: str) -> dict[str, Any]:
    """The pointer as it was read, if it matches the schema and points at its own course's manifest."""
    try:
        if not isinstance(raw, dict):
            raise _Invalid("(top level)", f"must be an object, got {type(raw).__name__}")
        _known_keys(raw, _POINTER_FIELDS, _POINTER_FIELDS - {"previous", "region"})
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
        if "region" in raw:  # the region it was published to (signed with it: not valid in another)
            _str(raw, "region", max_chars=200)
    except _Invalid as e:
        raise IntegrityError(f"malformed pointer: {e}; not using it", path=where) from None
    return raw


def check_names(course: str, locale: str) -> None:
    """Refuse a course id or locale (from an index, a command line) that is not one."""
    try:
        _course({"course": course})
        _locale({"locale": locale})
    except _Invalid as e:
        raise IntegrityError(f"not a course and locale: {e}") from None


_INDEX_FIELDS = {"region", "courses", "updated"}
_INDEX_ENTRY_FIELDS = {"version", "manifest", "updated", "translated_percent", "files"}


def _index_entry(course: str, locale: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise _Invalid(f"courses[{_shown(course)}][{_shown(locale)}]", f"must be an object, got {type(entry).__name__}")
    try:
        _known_keys(entry, _INDEX_ENTRY_FIELDS, {"version"})
        version = str(_version(entry, "version"))
        if "manifest" in entry and entry["manifest"] != manifest_key(course, locale, version):
            raise _Invalid(
                "manifest", f"must be {manifest_key(course, locale, version)!r}, got {_shown(entry['manifest'])}"
            )
        if "updated" in entry:
            _str(entry, "updated", max_chars=40)
        share = entry.get("translated_percent")
        if share is not None and (type(share) not in (int, float) or not 0 <= share <= 100):
            raise _Invalid("translated_percent", f"must be a number from 0 to 100, got {_shown(share)}")
        if "files" in entry:
            _int(entry["files"], "files", 10**9)
    except _Invalid as e:  # where: only for the message (10,000 entries are checked per write)
        raise _Invalid(f"courses[{_shown(course)}][{_shown(locale)}]", str(e)) from None


def validate_index(raw: Any, *, entries: bool = True) -> dict[str, Any]:
    """The region index if it matches the schema (courses -> locales -> entries, course ids,
    canonical locales, version ids, known fields only); else IntegrityError.

    ``entries=False`` checks only the shape (a mirror's ``pull --all`` checks each course
    and locale name itself and reads the pointers, so one bad entry does not stop the rest)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("courses", {}), dict):
        raise IntegrityError("malformed region index: courses must be an object")
    for course, locales in raw.get("courses", {}).items():
        if not isinstance(locales, dict) or not all(isinstance(v, dict) for v in locales.values()):
            raise IntegrityError(f"malformed region index: courses[{_shown(course)}] must map locales to objects")
    if not entries:
        return raw
    try:
        _known_keys(raw, _INDEX_FIELDS, set())
        for name in ("region", "updated"):
            if name in raw:
                _str(raw, name, max_chars=200)
        canonical: set[str] = set()  # locales checked already (a dozen, each in every course)
        for course, locales in raw.get("courses", {}).items():
            try:
                _course({"course": course})
            except _Invalid:
                where = f"courses[{_shown(course)}]"  # built for the message only
                _course({where: course}, where)
            for locale, entry in locales.items():
                if locale not in canonical:
                    where = f"courses[{_shown(course)}][{_shown(locale)}]"
                    _locale({where: locale}, where)
                    canonical.add(locale)
                _index_entry(course, locale, entry)
    except _Invalid as e:
        raise IntegrityError(f"malformed region index: {e}") from None
    return raw


def parse_index(data: bytes, where: str) -> dict[str, Any]:
    """The region index in ``data`` if it matches the schema, else IntegrityError (as
    :func:`validate_index` after :func:`parse_json`). An index in the form localize writes is
    recognised by :func:`~localize.regions.index_shape.in_written_form` and its locale names
    checked once each; any other is checked entry by entry (and so gets the same message)."""
    raw = parse_json(data, "region index", where)
    if in_written_form(data):
        try:
            for locale in set().union(*map(dict.keys, raw["courses"].values())):
                _locale({"locale": locale})
            return raw  # type: ignore[no-any-return]
        except _Invalid:
            pass
    return validate_index(raw)


def index_entry(pointer: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
    """The region index's entry of a live version: what its pointer and manifest say."""
    share = manifest.stats.get("translated_percent")
    if not isinstance(share, int | float) or isinstance(share, bool) or not 0 <= share <= 100:
        share = None  # the index schema takes a share or nothing
    return {
        "version": pointer["version"],
        "manifest": pointer["manifest"],
        "updated": pointer["updated"],
        "translated_percent": share,
        "files": len(manifest.files),
    }
