"""Derived state that answers fleet-wide questions without reading the fleet.

The catalogs stay the record. Each time the workspace writes a catalog it also
writes that catalog's statistics into ``index/stats/COURSE.json`` (one small
object per course, all its locales), with the catalog's size and version (what
the storage's listing shows for that file: inode, time and size, or the ETag).
``localize status``, ``stats`` and the dashboard read one index object per
course instead of parsing every catalog; an entry whose catalog changed behind
the tools' back (another version in the listing) is recomputed from the
catalog and written back, so the index heals itself, and :func:`rebuild` makes
it anew from the files of record. The same objects work on a folder and on an
S3 workspace shared by several workers: writes are conditional (If-Match on the
object's ETag), so two writers never lose each other's locales.

Progress history keeps one snapshot per catalog per day (``history/COURSE/LL/DAY.json``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from localize.catalogs.stats import CatalogStats
from localize.errors import PreconditionFailed, TransientStorageError
from localize.storage.base import Storage

__all__ = [
    "oldest_unreviewed",
    "read_index",
    "record",
    "set_oldest_unreviewed",
    "stats_key",
    "to_stats",
    "update_json",
]

_FIELDS = ("entries", "words", "translated", "fuzzy", "untranslated", "translated_words", "reviewed")


def stats_key(course: str) -> str:
    return f"index/stats/{course}.json"


def read_index(storage: Storage, course: str) -> tuple[dict[str, Any], str | None]:
    """(locale -> entry, etag) of one course; empty when there is none or it is unreadable."""
    try:
        data, etag = storage.read_with_etag(stats_key(course))
    except FileNotFoundError:
        return {}, None
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {}, etag  # damaged derived state: rebuilt from the catalogs (and overwritten)
    locales = raw.get("locales") if isinstance(raw, dict) else None
    return (locales if isinstance(locales, dict) else {}), etag


def to_stats(course: str, locale: str, entry: Any) -> CatalogStats | None:
    """The statistics an index entry holds, or None when it is malformed."""
    if not isinstance(entry, dict) or not all(isinstance(entry.get(f), int) for f in _FIELDS):
        return None
    e, w, t, f, u, tw, r = (int(entry[name]) for name in _FIELDS)
    return CatalogStats(course, locale, e, w, t, f, u, tw, r)


def update_json(
    storage: Storage,
    key: str,
    mutate: Callable[[dict[str, Any]], None],
    *,
    compact: bool = False,
    known: tuple[dict[str, Any], str] | None = None,
) -> dict[str, Any]:
    """Read-modify-write a small JSON object of derived state under compare-and-swap
    (a damaged object starts again from empty); returns what was written. ``compact``
    objects (large, machine-read) are written without indentation: json's C encoder.
    ``known`` is the object as already read and parsed, with its ETag: the first attempt
    starts from it (mutated in place) instead of reading it again."""
    body: dict[str, Any]
    etag: str | None
    for attempt in range(20):
        if attempt == 0 and known is not None:
            body, etag = known
        else:
            try:
                data, etag = storage.read_with_etag(key)
            except FileNotFoundError:
                body = {}
                etag = None
            else:
                try:
                    loaded = json.loads(data)
                except (ValueError, UnicodeDecodeError, RecursionError):
                    loaded = None
                body = loaded if isinstance(loaded, dict) else {}
        mutate(body)
        body["updated"] = datetime.now(UTC).isoformat(timespec="seconds")
        text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")) if compact else None
        out = ((text or json.dumps(body, indent=1, sort_keys=True)) + "\n").encode("utf-8")
        try:
            if etag is None:
                storage.put(key, out, content_type="application/json", if_none_match=True)
            else:
                storage.put(key, out, content_type="application/json", if_match=etag)
            return body
        except PreconditionFailed:
            continue
    raise TransientStorageError("this index kept changing under us; run again", path=storage.describe(key))


def set_oldest_unreviewed(storage: Storage, course: str, locale: str, when: str | None) -> None:
    """Keep, beside a catalog's statistics, when its oldest unreviewed translation was
    accepted (from the review ledger, which owns it; None: nothing waits for review)."""

    def put(body: dict[str, Any]) -> None:
        locales = body.get("locales")
        if not isinstance(locales, dict):
            locales = body["locales"] = {}
        entry = locales.get(locale)
        if not isinstance(entry, dict):
            entry = locales[locale] = {}  # no statistics yet: the next read computes them
        if when is None:
            entry.pop("oldest_unreviewed", None)
        else:
            entry["oldest_unreviewed"] = when
        body["course"] = course

    update_json(storage, stats_key(course), put)


def oldest_unreviewed(storage: Storage, course: str) -> dict[str, str]:
    """locale -> when the oldest translation still waiting for review was accepted."""
    entries, _ = read_index(storage, course)
    return {
        ll: str(e["oldest_unreviewed"])
        for ll, e in entries.items()
        if isinstance(e, dict) and isinstance(e.get("oldest_unreviewed"), str)
    }


def record(storage: Storage, entries: Iterable[tuple[CatalogStats, int, str]]) -> None:
    """Write the statistics of catalogs of one course, each with the (size, version)
    of the catalog file they were computed from, under compare-and-swap."""
    items = list(entries)
    if not items:
        return
    course = items[0][0].course

    def put_entries(body: dict[str, Any]) -> None:
        locales = body.get("locales")
        if not isinstance(locales, dict):
            locales = body["locales"] = {}
        body["course"] = course
        for stats, size, version in items:
            fields = asdict(stats)
            kept = locales.get(stats.locale)
            extra = (
                {"oldest_unreviewed": kept["oldest_unreviewed"]}
                if isinstance(kept, dict) and kept.get("oldest_unreviewed")
                else {}
            )
            locales[stats.locale] = {f: fields[f] for f in _FIELDS} | {"size": size, "version": version} | extra

    update_json(storage, stats_key(course), put_entries)
