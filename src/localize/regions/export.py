"""Export a region (or some of its courses) to a folder or a drive, for places without a link.

An export is itself a region, laid out as in the bucket (so ``pull --from DIR``
reads it like any other region), plus two files for people::

    DIR/objects/sha256/AB/ABCD...                the objects this export carries
    DIR/courses/COURSE/LL/latest.json            the live pointer, byte for byte as published
    DIR/courses/COURSE/LL/signatures/SHA.sig     its signature (as published)
    DIR/courses/COURSE/LL/versions/V.json(.sig)  the live manifest and its signature
    DIR/index.json, DIR/signatures/index/SHA.sig the courses it holds (signed by the exporter's key)
    DIR/README.txt                               for the person carrying it: what it is, how to import
    DIR/export.json                              the export manifest: courses, versions, objects

A *delta* (``since``: an earlier export of the same region) carries only the
objects the earlier one did not reference: a mirror that imported the earlier
export already holds the rest, and ``pull`` takes them from its own verified
copies (:mod:`.mirror_objects`).

The export is written into ``.NAME.partial`` beside DIR and renamed to DIR when
complete, so a drive pulled out mid-copy never shows a complete-looking export; a
rerun resumes the staging folder (objects already there with the right sha256 are
kept). Steps end at checkpoints: ``export:object-copied`` (each),
``export:objects-copied``, ``export:course-written`` (each), ``export:index-written``,
``export:manifest-written``, ``export:done``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localize import __version__
from localize.errors import ConfigError, IntegrityError, LocalizeError
from localize.regions.checkpoints import checkpoint
from localize.regions.keys import (
    MAX_SIGNATURE_BYTES,
    Signer,
    index_signature_key,
    manifest_signature_key,
    pointer_signature_key,
    show_fingerprint,
)
from localize.regions.layout import index_entry, read_live_versions
from localize.regions.objects import Refused, copy_stored
from localize.regions.safe_files import check_real_folders, create_new, links_under, read_regular
from localize.regions.schema import (
    MAX_MANIFEST_BYTES,
    MAX_POINTER_BYTES,
    SHA256_RE,
    FileRecord,
    Manifest,
    parse_json,
    pointer_key,
    read_limited,
    to_json,
    validate_pointer,
)
from localize.storage.base import Storage

__all__ = ["EXPORT_FILE", "ExportResult", "export_region", "read_export"]

EXPORT_FILE = "export.json"
KIND = "localize-region-export"
MAX_EXPORT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class ExportResult:
    folder: Path
    region: str
    export_id: str
    versions: tuple[tuple[str, str, str], ...]  # course, locale, version
    objects: int  # every object the exported versions use
    carried: int  # those in this folder (all of them unless a delta)
    carried_bytes: int
    since: str | None
    signed_by: str | None


def read_export(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """An export's manifest (``export.json``), checked enough to build a delta on it."""
    path = Path(folder) / EXPORT_FILE
    try:
        data = read_regular(path, MAX_EXPORT_BYTES)
    except OSError as e:
        raise ConfigError(
            f"not a finished localize export (no readable {EXPORT_FILE}: {e.strerror or type(e).__name__})",
            path=str(folder),
        ) from None
    raw = parse_json(data, "export manifest", str(path)) if len(data) <= MAX_EXPORT_BYTES else None
    objects = raw.get("objects") if isinstance(raw, dict) else None
    if (
        not isinstance(raw, dict)
        or raw.get("kind") != KIND
        or not isinstance(raw.get("id"), str)
        or not isinstance(raw.get("region"), str)
        or not isinstance(objects, list)
        or not all(isinstance(o, str) and SHA256_RE.fullmatch(o) for o in objects)
    ):
        raise IntegrityError("not a localize export manifest (kind, id, region, objects)", path=str(path))
    return raw


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    tmp.unlink(missing_ok=True)
    create_new(tmp, data)
    os.replace(tmp, path)


def _optional(storage: Storage, key: str) -> bytes | None:
    try:
        return read_limited(storage, key, MAX_SIGNATURE_BYTES)
    except FileNotFoundError:
        return None


@dataclass(frozen=True)
class _Live:
    course: str
    locale: str
    pointer: bytes
    pointer_signature: bytes | None
    manifest: Manifest
    manifest_bytes: bytes
    manifest_signature: bytes | None


def _read_live(storage: Storage, course: str, locale: str, signer: Signer | None) -> _Live:
    """The live pointer and manifest, as published, with their signatures (checked with ``signer``)."""
    key = pointer_key(course, locale)
    try:
        pointer_bytes = read_limited(storage, key, MAX_POINTER_BYTES)
    except FileNotFoundError:
        raise IntegrityError(
            f"the region index lists {course}/{locale} but it has no live pointer; publish it again or "
            "export the other courses (--course)",
            path=storage.describe(key),
        ) from None
    pointer = validate_pointer(
        parse_json(pointer_bytes, "pointer", storage.describe(key)), storage.describe(key), course, locale
    )
    try:
        manifest_bytes = read_limited(storage, pointer["manifest"], MAX_MANIFEST_BYTES)
    except FileNotFoundError:
        raise IntegrityError(
            f"the manifest of live version {pointer['version']} is missing", path=storage.describe(pointer["manifest"])
        ) from None
    if hashlib.sha256(manifest_bytes).hexdigest() != pointer["manifest_sha256"]:
        raise IntegrityError("the manifest does not match its pointer", path=storage.describe(pointer["manifest"]))
    version = pointer["version"]
    manifest = Manifest.from_bytes(
        manifest_bytes, where=storage.describe(pointer["manifest"]), course=course, locale=locale, version=version
    )
    live = _Live(
        course, locale, pointer_bytes, _optional(storage, pointer_signature_key(course, locale, pointer_bytes)),
        manifest, manifest_bytes, _optional(storage, manifest_signature_key(course, locale, version)),
    )  # fmt: skip
    if signer is not None and not (
        live.pointer_signature is not None
        and signer.signed(pointer_bytes, live.pointer_signature)
        and live.manifest_signature is not None
        and signer.signed(manifest_bytes, live.manifest_signature)
    ):
        raise IntegrityError(
            f"the live version {version} of {course}/{locale} is not signed by the region's signing key "
            f"({show_fingerprint(signer.fingerprint)}); publish it again, then export",
            path=storage.describe(key),
        )
    return live


def _copy_object(storage: Storage, record: FileRecord, staging: Path) -> bool:
    """Copy one object, as the region stores it, into the staging folder; False when a resumed
    export had it already."""
    try:
        return copy_stored(storage, record, staging / record.key)
    except Refused:
        raise IntegrityError(
            f"the region's object does not match its sha256 {record.sha256}; not exporting it (publish again)",
            path=storage.describe(record.key),
        ) from None


def _check_staging(staging: Path) -> None:
    """Refuse to resume a staging folder holding links or special files (or that is one): an
    export writes only into real folders it made, never through a link planted on the drive."""
    check_real_folders(staging)
    if staging.exists() and not staging.is_dir():
        raise IntegrityError("a file where the export's staging folder goes; move it away", path=str(staging))
    odd = links_under(staging) if staging.is_dir() else []
    if odd:
        raise IntegrityError(
            f"the unfinished export holds {len(odd)} entries that are links or special files "
            f"({', '.join(odd[:3])}{', …' if len(odd) > 3 else ''}), which localize never writes; "
            "not resuming it: delete the folder (after looking at what it points to) and export again",
            path=str(staging),
        )


def export_region(
    storage: Storage,
    region: str,
    to: str | os.PathLike[str],
    *,
    courses: list[str] | None = None,
    since: str | os.PathLike[str] | None = None,
    signer: Signer | None = None,
    now: datetime | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ExportResult:
    """Write the region's live versions (of ``courses``, default all) into ``to``; see the module."""
    final = Path(to)
    if final.exists() and (not final.is_dir() or any(final.iterdir())):
        raise ConfigError("the export folder exists and is not empty; choose a new folder", path=str(final))
    staging = final.parent / f".{final.name}.partial"
    earlier = read_export(since) if since is not None else None
    if earlier is not None and earlier["region"] != region:
        raise ConfigError(
            f"the earlier export is of region {earlier['region']!r}, not {region!r}; a delta needs one of the same region",
            path=str(since),
        )
    known = set(earlier["objects"]) if earlier is not None else set()
    left_out: list[tuple[str, str]] = []
    live_versions = read_live_versions(storage, signer, region, left_out=left_out)
    unsigned = sorted(k for k in left_out if courses is None or k[0] in courses)
    if unsigned and signer is not None:  # (a drive must not quietly lack a course the region serves)
        named = ", ".join(f"{c}/{ll}" for c, ll in unsigned[:3]) + (
            f" and {len(unsigned) - 3} more" if len(unsigned) > 3 else ""
        )
        raise IntegrityError(
            f"the live version of {named} is not signed by the region's signing key "
            f"({show_fingerprint(signer.fingerprint)}) nor a key of its previous_keys: publish it again with "
            "this key, or, during a rotation, name the key that signed it in previous_keys (or leave it out: --course)",
            path=storage.describe("courses"),
        )
    wanted = sorted(k for k in live_versions if courses is None or k[0] in courses)
    for name in courses or ():
        if not any(c == name for c, _ in wanted):
            raise ConfigError(f"course {name!r} is not published in region {region!r}")
    if not wanted:
        raise ConfigError(f"region {region!r} has nothing published to export")
    lives = [_read_live(storage, course, locale, signer) for course, locale in wanted]
    sizes = {f.sha256: f.size for live in lives for f in live.manifest.files}
    stored = {f.key: f for live in lives for f in live.manifest.files}  # as the region keeps them
    carried = sorted(set(sizes) - known)
    carried_keys = sorted(k for k, f in stored.items() if f.sha256 not in known)
    _check_staging(staging)
    staging.mkdir(parents=True, exist_ok=True)
    keep = {Path(k).name for k in carried_keys}
    for stale in (staging / "objects").rglob("*") if (staging / "objects").is_dir() else ():
        if stale.is_file() and stale.name not in keep:  # left by an export of another moment
            stale.unlink()
    copied_bytes = 0
    for key in carried_keys:
        record = stored[key]
        if _copy_object(storage, record, staging):
            copied_bytes += record.wire_size
            if progress is not None:
                progress(record.sha256, record.wire_size)
        checkpoint("export:object-copied")
    checkpoint("export:objects-copied")
    for folder in ("courses", "signatures"):  # the metadata is written anew: nothing of an earlier run stays
        shutil.rmtree(staging / folder, ignore_errors=True)
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    index: dict[str, Any] = {"region": region, "courses": {}, "updated": stamp}
    for live in lives:
        base = staging / "courses" / live.course / live.locale
        version = live.manifest.version
        if live.manifest_signature is not None:
            _write(staging / manifest_signature_key(live.course, live.locale, version), live.manifest_signature)
        _write(base / "versions" / f"{version}.json", live.manifest_bytes)
        if live.pointer_signature is not None:
            _write(staging / pointer_signature_key(live.course, live.locale, live.pointer), live.pointer_signature)
        _write(staging / pointer_key(live.course, live.locale), live.pointer)
        pointer = json.loads(live.pointer)
        index["courses"].setdefault(live.course, {})[live.locale] = index_entry(pointer, live.manifest)
        checkpoint("export:course-written")
    index_bytes = to_json(index)
    if signer is not None:
        _write(staging / index_signature_key(index_bytes), signer.sign(index_bytes))
    _write(staging / "index.json", index_bytes)
    checkpoint("export:index-written")
    versions = tuple((live.course, live.locale, live.manifest.version) for live in lives)
    listing = "".join(f"{c}/{ll}/{v}\n" for c, ll, v in versions) + "".join(sorted(sizes))
    export_id = stamp.replace(":", "").replace("-", "")[:15] + "-" + hashlib.sha256(listing.encode()).hexdigest()[:8]
    carried_bytes = sum(sizes[s] for s in carried)
    signed_by = signer.fingerprint if signer is not None else None
    manifest = {
        "schema": 1, "kind": KIND, "id": export_id, "region": region, "created": stamp, "tool_version": __version__,
        "courses": {c: {ll: v for cc, ll, v in versions if cc == c} for c, _, _ in versions},
        "objects": sorted(sizes), "carried": carried,
        "carried_bytes": carried_bytes,
        "since": {"id": earlier["id"], "created": earlier.get("created")} if earlier is not None else None,
        "signed_by": signed_by,
    }  # fmt: skip
    result = ExportResult(
        final, region, export_id, versions, len(sizes), len(carried), carried_bytes,
        earlier["id"] if earlier is not None else None, signed_by,
    )  # fmt: skip
    _write(staging / "README.txt", _readme(result, stamp).encode("utf-8"))
    _write(staging / EXPORT_FILE, to_json(manifest))  # the last file: a staging folder with it is complete
    checkpoint("export:manifest-written")
    try:
        if final.is_dir():
            final.rmdir()  # the empty folder the user named
        os.replace(staging, final)
    except OSError as e:
        raise LocalizeError(
            f"cannot move the finished export into place ({e.strerror}); it is complete in {staging}: "
            "rename it, or name a folder on the drive rather than the drive itself",
            path=str(final),
        ) from None
    checkpoint("export:done")
    return result


def _readme(result: ExportResult, stamp: str) -> str:
    n = result.carried_bytes
    size = f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.1f} kB" if n >= 1e3 else f"{n} bytes"
    lines = [
        f"OpenCourseWare translations for region {result.region}, exported {stamp} (export {result.export_id}).",
        "",
        "This folder is a copy of what the region publishes, for a mirror without a good connection.",
        "Copy the whole folder as it is; do not change, add or remove files inside it (the mirror",
        "checks every file and refuses anything changed).",
        "",
        f"It holds these courses, in {result.carried} files ({size}):",
        *(f"  {course} ({locale}): version {version}" for course, locale, version in result.versions),
        "",
    ]
    if result.since:
        lines += [
            f"This is an UPDATE: it carries only what changed since export {result.since}. Import that",
            "earlier export on the mirror first (once); then this one brings the mirror up to date.",
            "",
        ]
    if result.signed_by:
        lines += [
            "On the mirror, import it with (the mirror's site folder as --dest, and the coordinators'",
            "public key the mirror already has: its [mirror] trust setting, or the key file the",
            "coordinators gave you; never a key file found on a drive):",
            "",
            "  localize pull --from THIS_FOLDER --all --dest SITE_FOLDER --trust /path/on/the/mirror/key.pub.pem",
            "",
            "Only what the mirror lacks is copied; every file's sha256 and every signature is checked",
        ]
    else:
        lines += [
            "This export is NOT signed (the region has no signing key), so a mirror that trusts a key",
            "(--trust) refuses it. A mirror that does not, imports it with:",
            "",
            "  localize pull --from THIS_FOLDER --all --dest SITE_FOLDER",
            "",
            "Only what the mirror lacks is copied; every file's sha256 is checked (nothing proves who",
            "made the drive: ask the coordinators to sign their releases, see `localize keys generate`)",
        ]
    lines += [
        "before the site switches, all at once. If the copy stops (the drive was pulled out), run the",
        "same command again: it goes on from where it stopped and the site stays as it was meanwhile.",
    ]
    if result.signed_by:
        lines += [
            "",
            "Signed by the key with this fingerprint. Compare it with the fingerprint the coordinators",
            "gave you by another way (phone, letter, their web site), not with anything on this drive:",
            f"  {show_fingerprint(result.signed_by)}",
            "This folder carries no key to trust: a key that came with the drive proves nothing.",
        ]
    return "\n".join(lines) + "\n"
