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

import contextlib
import hashlib
import mimetypes
from datetime import UTC, datetime, timedelta
from typing import Any

from localize.config import Config, Region
from localize.errors import ConfigError, IntegrityError, LocalizeError, PreconditionFailed, TransientStorageError
from localize.locales import known_locale
from localize.regions.freshness import parse_updated
from localize.regions.keys import (
    MAX_SIGNATURE_BYTES,
    Signer,
    index_signature_key,
    manifest_signature_key,
    pointer_signature_key,
)
from localize.regions.schema import (
    MAX_INDEX_BYTES,
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    SCHEMA,
    FileRecord,
    Manifest,
    check_names,
    index_entry,
    is_version,
    manifest_key,
    object_key,
    parse_index,
    parse_json,
    pointer_key,
    read_limited,
    to_compact_json,
    to_json,
    validate_pointer,
)
from localize.storage.base import Storage, TooLarge
from localize.storage.locations import open_storage

__all__ = [
    "SCHEMA", "FileRecord", "Manifest", "content_type", "ensure_index", "index_entry", "make_pointer",
    "manifest_key", "object_key", "pending_version", "pointer_key", "read_manifest", "read_pointer",
    "region_storage", "swap_pointer", "to_json", "update_index", "version_id", "versions",
]  # fmt: skip


def content_type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return (
        f"{guessed}; charset=utf-8"
        if guessed in ("text/html", "text/css", "text/plain", "application/json")
        else guessed
    )


def read_pointer(storage: Storage, course: str, locale: str) -> tuple[dict[str, Any] | None, str | None]:
    key = pointer_key(course, locale)
    try:
        data, etag = storage.read_with_etag(key, MAX_POINTER_BYTES)
    except FileNotFoundError:
        return None, None
    except TooLarge:  # never read whole: a planted huge pointer must not take the publisher's memory
        raise IntegrityError(
            f"the pointer is larger than {MAX_POINTER_BYTES} bytes; not using it", path=storage.describe(key)
        ) from None
    return validate_pointer(
        parse_json(data, "pointer", storage.describe(key)), storage.describe(key), course, locale
    ), etag


def read_live_versions(
    storage: Storage, signer: Signer | None = None, region: str = "", *, left_out: list[tuple[str, str]] | None = None
) -> dict[tuple[str, str], str]:
    """(course, locale) -> live version, from the region index (one read for the whole region).
    With ``signer``, an index that key did not sign is not taken on trust: the list comes from
    the signed pointers (as a publisher rebuilds it), so a course left out of it is not left out;
    the live versions it leaves out for their signatures are added to ``left_out``."""
    if signer is not None:
        index, _, _ = _read_index(storage, region, signer, left_out)
        return {(str(c), str(ll)): str(e["version"]) for c, lls in index["courses"].items() for ll, e in lls.items()}
    try:
        data = read_limited(storage, "index.json", MAX_INDEX_BYTES)
    except FileNotFoundError:
        return {}
    where = storage.describe("index.json")
    try:
        index = parse_index(data, where)
    except IntegrityError as e:
        raise IntegrityError(f"{e.message} (the next publish rebuilds it from the pointers)", path=where) from None
    return {
        (str(course), str(locale)): str(entry["version"])
        for course, locales in index.get("courses", {}).items()
        for locale, entry in locales.items()
    }


def read_manifest(storage: Storage, course: str, locale: str, version: str) -> Manifest:
    key = manifest_key(course, locale, version)
    return Manifest.from_bytes(
        read_limited(storage, key, MAX_MANIFEST_BYTES),
        where=storage.describe(key),
        course=course,
        locale=locale,
        version=version,
    )


def _read_index(
    storage: Storage, region: str, signer: Signer | None = None, left_out: list[tuple[str, str]] | None = None
) -> tuple[dict[str, Any], str | None, bool]:
    """The index, its ETag, and whether it is used as read (False: rebuilt from the pointers,
    because it was malformed or, with ``signer``, not signed by that key; ``left_out``: see
    :func:`rebuild_index`)."""
    try:
        data, etag = storage.read_with_etag("index.json", MAX_INDEX_BYTES)
    except FileNotFoundError:
        return {"region": region, "courses": {}}, None, True
    except TooLarge as e:  # rebuilt from the pointers, and replaced where it is (its ETag)
        return rebuild_index(storage, region, signer, left_out), e.etag, False
    try:
        index = parse_index(data, storage.describe("index.json"))
        if signer is None or _signed(storage, signer, data, index_signature_key(data)):
            return index, etag, True
    except IntegrityError:
        pass
    # the index only summarises the pointers: rebuild it from them (nothing unsigned is signed on trust)
    return rebuild_index(storage, region, signer, left_out), etag, False


def _signed(storage: Storage, signer: Signer, data: bytes, signature_key: str, *, previous: bool = False) -> bool:
    try:
        signature = read_limited(storage, signature_key, MAX_SIGNATURE_BYTES)
    except (FileNotFoundError, IntegrityError):
        return False
    return signer.vouches(data, signature) if previous else signer.signed(data, signature)


def _signed_live(storage: Storage, signer: Signer, course: str, locale: str, version: str) -> bool:
    """Whether the live pointer and the manifest of ``version`` carry signatures by ``signer``'s
    key or, during a rotation, by one of its ``previous`` keys (the region's ``previous_keys``: a
    course not yet published again with the new key stays listed). Another key's signature is not
    taken on its form: a bucket owner could sign a course of their own with any key."""
    try:
        pointer = read_limited(storage, pointer_key(course, locale), MAX_POINTER_BYTES)
        manifest = read_limited(storage, manifest_key(course, locale, version), MAX_MANIFEST_BYTES)
    except (FileNotFoundError, IntegrityError):
        return False
    keys = (pointer_signature_key(course, locale, pointer), manifest_signature_key(course, locale, version))
    return _signed(storage, signer, pointer, keys[0], previous=True) and _signed(
        storage, signer, manifest, keys[1], previous=True
    )


def rebuild_index(
    storage: Storage, region: str, signer: Signer | None = None, left_out: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The region index from every valid pointer (and its manifest) in the region; with ``signer``,
    only courses whose live pointer and manifest are signed (by that key or, during a rotation,
    one of its previous keys); the others are left out, and added to ``left_out``."""
    courses: dict[str, dict[str, Any]] = {}
    for key in storage.list("courses"):
        parts = key.split("/")
        if len(parts) != 4 or parts[3] != "latest.json":
            continue
        try:
            check_names(parts[1], parts[2])  # a planted courses/../ folder is not a course
            pointer, _ = read_pointer(storage, parts[1], parts[2])
            if pointer is not None:
                if signer is not None and not _signed_live(storage, signer, parts[1], parts[2], pointer["version"]):
                    if left_out is not None:
                        left_out.append((parts[1], parts[2]))
                    continue
                manifest = read_manifest(storage, parts[1], parts[2], pointer["version"])
                courses.setdefault(parts[1], {})[parts[2]] = index_entry(pointer, manifest)
        except (LocalizeError, FileNotFoundError):
            continue
    return {"region": region, "courses": courses}


def update_index(
    storage: Storage,
    region: str,
    course: str,
    locale: str,
    entry: dict[str, Any] | None,
    now: str,
    signer: Signer | None = None,
) -> int:
    """Read-modify-write the region index under compare-and-swap; returns writes done. With
    ``signer``, the new index's signature goes up first (named by the index's sha256)."""
    for _ in range(10):
        index, etag, _ = _read_index(storage, region, signer)
        courses = index.setdefault("courses", {})
        if entry is None:
            courses.get(course, {}).pop(locale, None)
        else:
            courses.setdefault(course, {})[locale] = entry
        index["updated"] = now
        data = to_compact_json(index)
        if signer is not None:
            storage.put(index_signature_key(data), signer.sign(data), content_type="application/json")
        try:
            if etag is None:
                storage.put("index.json", data, content_type="application/json", if_none_match=True)
            else:
                storage.put("index.json", data, content_type="application/json", if_match=etag)
            return 1
        except PreconditionFailed:
            continue
    raise TransientStorageError(
        "the region index kept changing under us; publish again", path=storage.describe("index.json")
    )


def ensure_index(
    storage: Storage,
    region: str,
    course: str,
    locale: str,
    pointer: dict[str, Any],
    manifest: Manifest,
    signer: Signer | None = None,
) -> int:
    """Bring the index entry up to the live pointer if an interrupted publish left it behind
    (or, with ``signer``, sign an index that key did not sign); writes done. The usual case, an
    entry already at the pointer in a valid index, reads the index once and writes nothing."""
    index, _, as_read = _read_index(storage, region, signer)
    entry = index.get("courses", {}).get(course, {}).get(locale)
    if as_read and isinstance(entry, dict) and entry.get("version") == pointer["version"]:
        return 0
    entry = index_entry(pointer, manifest)
    return update_index(storage, region, course, locale, entry, pointer["updated"], signer)


POINTER_SKEW = timedelta(minutes=10)
"""How far ahead of this machine's clock a live pointer's time is followed (publishers' clocks
disagree by less): a pointer claiming more, planted unsigned, would sign a far future into the chain."""


def make_pointer(
    course: str,
    locale: str,
    version: str,
    manifest_bytes: bytes,
    previous: str | None,
    now: datetime,
    after: object = None,
    region: str | None = None,
    trusted: bool = False,
) -> dict[str, Any]:
    """The live pointer: which version, its manifest and that manifest's hash (pull checks it),
    and the region it is published to (signed with the rest, so a mirror of another region
    refuses it even where both regions share a key).
    Its ``updated`` is later than ``after`` (the pointer it replaces): mirrors refuse a pointer
    older than theirs, so a publisher whose clock is behind must still move time forward."""
    last, now = parse_updated(after), now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    # a pointer from further ahead is followed only when this key signed it (``trusted``): planted
    # unsigned, it would sign a far future into the chain; signed, it is a publisher's fast clock,
    # and not following it would have every mirror refuse the releases until the clocks meet
    if last is not None and now <= last and (trusted or last <= now + POINTER_SKEW):
        with contextlib.suppress(OverflowError):  # (a pointer claiming the year 9999 is not followed)
            now = last + timedelta(milliseconds=1)
    return {
        "course": course,
        "locale": locale,
        "version": version,
        "manifest": manifest_key(course, locale, version),
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "previous": previous,
        "updated": now.isoformat(timespec="milliseconds"),
    } | ({"region": region} if region is not None else {})


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


def region_storage(region: Region, config: Config | None = None) -> Storage:
    location = config.resolve(region.location) if config is not None else region.location
    return open_storage(location, endpoint_url=region.endpoint_url)


def older_spelling(storage: Storage, course: str, locale: str, *, publishing: bool = False) -> tuple[str, ...]:
    """What to say of a folder of ``course`` in the region named by an older spelling of ``locale``
    (sr_Cyrl for sr, zh_Hant_TW for zh_TW: a usual script goes without saying now), if there is
    one: pages published before, which no command reaches under ``locale``. One listing, asked
    only where ``locale`` has nothing (a first publish, versions or rollback that found none)."""
    old = next((f for f in storage.list_folders(f"courses/{course}") if f != locale and known_locale(f) == locale), "")
    if not old:
        return ()
    where = f"{storage.describe(f'courses/{course}/{old}')} holds {course} published under {old}, an older spelling of {locale}"
    if publishing:
        return (f"{where}: its mirrors now pull {locale}; delete {old} when they have moved",)
    return (f"{where}: publish {course} --locale {locale} to serve it under {locale}, then delete {old}",)


def never_published(storage: Storage, region: str, course: str, locale: str) -> ConfigError:
    """The error for a course and locale the region has no pointer of (or its older spelling)."""
    return ConfigError(
        next(
            iter(older_spelling(storage, course, locale)),
            f"{course}/{locale} has never been published in region {region!r}",
        )
    )
