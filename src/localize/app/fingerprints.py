"""A course's content revision without reading its unchanged files.

The revision is the one :func:`localize.regions.bundle.source_revision` computes (a
hash over every file's path and SHA-256), so it changes exactly when the content
does. Each file's SHA-256 is remembered beside the workspace, in
``index/fingerprints/COURSE.json``, with the file's version (a folder file: inode,
mtime in ns and size; an S3 object: its ETag; a .zip archive: the archive's own
version, for all its members at once). A file whose version is unchanged is not
read again, so a rerun over unchanged courses lists and stats them and reads no
page.

As in Git's index, a folder file modified less than :data:`RACY_SECONDS` before its
hash was recorded is not trusted next time (its mtime could hide a same-size
rewrite within the file system's timestamp granularity): it is read again until its
version is old enough. The record is a cache: a damaged, foreign or missing one is
ignored and rewritten, and a live site (http) is always read whole.

The record also keeps the outcome of the last sync that brought the course and all its
catalogs up to date (:func:`mark_synced`), with the revision and tool version it was
made from: a course whose revision has not changed since is reported as it was without
running anything for it (:attr:`Fingerprint.synced`).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from localize.errors import without_credentials
from localize.ids import check_course_id
from localize.storage.base import Storage, file_version
from localize.storage.courses import open_source
from localize.storage.locations import open_storage
from localize.storage.sources import FolderSource, S3Source, Source, ZipSource

__all__ = ["RACY_SECONDS", "Fingerprint", "course_fingerprint", "fingerprint_key", "mark_synced"]

RACY_SECONDS = 2.0
_FORMAT = 1


@dataclass(frozen=True)
class Fingerprint:
    revision: str
    """Equal to :func:`~localize.regions.bundle.source_revision` of the course."""
    files: int
    hashed: int
    """How many files were read to compute it (0 when nothing changed)."""
    synced: dict[str, Any] | None = None
    """The last complete sync's result, when it was made from this revision by this tool version."""


def fingerprint_key(course: str) -> str:
    return f"index/fingerprints/{check_course_id(course)}.json"


def _sha256(stream: IO[bytes]) -> str:
    h = hashlib.sha256()
    while block := stream.read(1 << 20):
        h.update(block)
    return h.hexdigest()


def _versions(source: Source) -> dict[str, str] | None:
    """Each path's version, or None when the source has no cheap versions (a crawled site).
    Folder files modified within :data:`RACY_SECONDS` of now get no version (always read)."""
    if isinstance(source, ZipSource):
        version = "zip:" + file_version(os.stat(source.location))
        return {path: version for path in source.paths()}
    if isinstance(source, S3Source):
        listed = dict(source.storage.list_versions(""))
        return {path: "etag:" + listed[path] for path in source.paths() if path in listed}
    if isinstance(source, FolderSource) and type(source) is FolderSource:
        now = time.time()
        out: dict[str, str] = {}
        for path in source.paths():
            st = os.stat(source.root / path)
            if now - st.st_mtime >= RACY_SECONDS:
                out[path] = "file:" + file_version(st)
        return out
    return None


def _load(storage: Storage, course: str, location: str) -> dict[str, Any]:
    """The course's record, or {} when there is none or it cannot be trusted."""
    try:
        record: Any = json.loads(storage.read_bytes(fingerprint_key(course)))
    except (FileNotFoundError, ValueError):
        return {}
    if not isinstance(record, dict) or record.get("format") != _FORMAT or record.get("location") != location:
        return {}
    files = record.get("files")
    if not isinstance(files, dict):
        return {}
    record["files"] = {
        p: v for p, v in files.items() if isinstance(v, list) and len(v) == 2 and all(isinstance(x, str) for x in v)
    }
    return record


def _where(location: str) -> str:
    """The location as the record keeps it: never with the user name or password an address (or
    its ``?endpoint=``) may carry, which would sit in the workspace for anyone who reads it."""
    if location.startswith(("s3://", "http://", "https://")):
        return without_credentials(location)
    return str(Path(location).resolve())


def _write(storage: Storage, course: str, record: dict[str, Any]) -> None:
    storage.write_bytes(fingerprint_key(course), (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))


def mark_synced(
    location: str, course: str, locales_dir: str | Storage, revision: str, tool: str, result: dict[str, Any]
) -> bool:
    """Remember that ``course`` at ``revision`` is fully synced by ``tool``, with its ``result``
    (False when the record no longer describes that revision: the course changed meanwhile)."""
    storage = open_storage(locales_dir) if isinstance(locales_dir, str) else locales_dir
    record = _load(storage, course, _where(location))
    if record.get("revision") != revision:
        return False
    record["synced"] = {"revision": revision, "tool": tool, "result": result}
    _write(storage, course, record)
    return True


def course_fingerprint(location: str, course: str, locales_dir: str | Storage, tool: str = "") -> Fingerprint:
    """The revision of the course at ``location``, reading only the files whose version
    changed since the last call (recorded in the workspace ``locales_dir``)."""
    source = open_source(location)
    storage = open_storage(locales_dir) if isinstance(locales_dir, str) else locales_dir
    where = _where(location)
    versions = _versions(source)
    record = _load(storage, course, where) if versions is not None else {}
    known: dict[str, list[str]] = record.get("files", {})
    h = hashlib.sha256()
    files: dict[str, list[str]] = {}
    hashed = 0
    paths = source.paths()
    for path in paths:
        version = versions.get(path) if versions is not None else None
        cached = known.get(path)
        if version is not None and cached is not None and cached[0] == version:
            digest = cached[1]
        else:
            with source.open(path) as f:
                digest = _sha256(f)
            hashed += 1
        if version is not None:
            files[path] = [version, digest]
        h.update(path.encode() + b"\0" + bytes.fromhex(digest))
    revision = h.hexdigest()
    synced = record.get("synced")
    if not (isinstance(synced, dict) and synced.get("revision") == revision and synced.get("tool") == tool):
        synced = None
    if versions is not None and (files != known or record.get("revision") != revision):
        fresh = {"format": _FORMAT, "course": course, "location": where, "revision": revision, "files": files}
        _write(storage, course, fresh | ({"synced": synced} if synced else {}))
    result = synced.get("result") if synced else None
    return Fingerprint(
        revision=revision, files=len(paths), hashed=hashed, synced=result if isinstance(result, dict) else None
    )


def still_held(storage: Storage, synced: dict[str, dict[str, Any]]) -> set[str]:
    """The courses of ``synced`` (course -> the result its last complete sync recorded) whose
    template and catalogs the workspace still holds as that sync left them (their versions; a
    record of an earlier localize, without them, is taken at its word). One listing of the
    templates and one per locale, whatever the number of courses: a workspace wiped, restored
    or with a catalog deleted by hand is synced again rather than reported Cached."""
    recorded = {c: r for c, r in synced.items() if isinstance(r, dict) and "version" in r}
    held = set(synced) - set(recorded)
    if not recorded:
        return held
    templates = dict(storage.list_versions("templates"))
    catalogs: dict[str, dict[str, str]] = {}
    for course, result in recorded.items():
        if templates.get(f"templates/{course}.pot") != result["version"]:
            continue
        if "catalog_versions" not in result and result.get("locales"):
            continue  # (recorded before the catalogs' versions were: synced once more to record them)
        wanted = result.get("catalog_versions") or {}
        for locale in wanted:
            if locale not in catalogs:
                catalogs[locale] = dict(storage.list_versions(f"{locale}/LC_MESSAGES"))
        if all(catalogs[ll].get(f"{ll}/LC_MESSAGES/{course}.po") == v for ll, v in wanted.items()):
            held.add(course)
    return held
