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

Progress history keeps one snapshot per catalog per day (``history/COURSE/LL/DAY.json``,
the record), and the same points beside the statistics in the course's index object
(``history``: locale -> [[at, translated words], ...], one a day, at most
:data:`MAX_HISTORY_POINTS`), so the dashboard's chart reads one object per course, not one
file per catalog per day; :func:`set_history` puts them back from the snapshots (``index rebuild``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from localize.catalogs.stats import CatalogStats
from localize.errors import PreconditionFailed, TransientStorageError
from localize.storage.base import Storage

__all__ = [
    "MAX_HISTORY_POINTS",
    "history_points",
    "oldest_of",
    "oldest_unreviewed",
    "read_index",
    "record",
    "set_history",
    "set_oldest_unreviewed",
    "stats_key",
    "to_stats",
    "update_json",
]

_FIELDS = ("entries", "words", "translated", "fuzzy", "untranslated", "translated_words", "reviewed")
MAX_HISTORY_POINTS = 1000  # per catalog: one a day, about three years


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
    strict: bool = False,
) -> dict[str, Any]:
    """Read-modify-write a small JSON object of derived state under compare-and-swap
    (a damaged object starts again from empty); returns what was written. ``compact``
    objects (large, machine-read) are written without indentation: json's C encoder.
    ``known`` is the object as already read and parsed, with its ETag: the first attempt
    starts from it (mutated in place) instead of reading it again. ``strict``: a damaged object
    raises ValueError instead (its writer rebuilds what it derives from)."""
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
                if strict and not isinstance(loaded, dict):
                    raise ValueError(f"{storage.describe(key)} is damaged: not a JSON object")
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
    return oldest_of(read_index(storage, course)[0])


def oldest_of(entries: dict[str, Any]) -> dict[str, str]:
    """:func:`oldest_unreviewed` from a course's index entries already read (:func:`read_index`)."""
    return {
        ll: str(e["oldest_unreviewed"])
        for ll, e in entries.items()
        if isinstance(e, dict) and isinstance(e.get("oldest_unreviewed"), str)
    }


def _history(body: dict[str, Any]) -> dict[str, Any]:
    history = body.get("history")
    if not isinstance(history, dict):
        history = body["history"] = {}
    return history


def _day(point: Any) -> str:
    return point[0][:10] if isinstance(point, list) and point and isinstance(point[0], str) else ""


def _add_point(history: dict[str, Any], locale: str, at: str, words: int) -> None:
    """The day's point of ``locale``: replaces an earlier one of the same day, in date order.
    A point a writer with a clock ahead left at the end does not make every later write of
    the day a point of its own (which used to push the oldest points out)."""
    points = history.get(locale)
    if not isinstance(points, list):
        points = history[locale] = []
    day, i = at[:10], len(points)
    while i and _day(points[i - 1]) > day:
        i -= 1  # points dated after ours: written by a clock ahead of this one
    if i and _day(points[i - 1]) == day:
        points[i - 1] = [at, words]
    else:
        points.insert(i, [at, words])
    del points[:-MAX_HISTORY_POINTS]


def history_points(body: Any) -> list[tuple[str, str, int]]:
    """(locale, at, translated words) of an index object's history; malformed points skipped."""
    history = body.get("history") if isinstance(body, dict) else None
    out: list[tuple[str, str, int]] = []
    for locale, points in history.items() if isinstance(history, dict) else ():
        for point in points if isinstance(points, list) else ():
            if (
                isinstance(point, list)
                and len(point) == 2
                and isinstance(point[0], str)
                and len(point[0]) <= 40
                and isinstance(point[1], int)
                and not isinstance(point[1], bool)
                and point[1] >= 0
            ):
                with contextlib.suppress(ValueError):
                    datetime.fromisoformat(point[0])
                    out.append((str(locale), point[0], point[1]))
    return out


def _merged(points: dict[str, list[tuple[str, int]]], kept: Any) -> dict[str, Any]:
    """``points`` (from the snapshots), and the points of ``kept`` (an index object's history)
    later than a locale's last snapshot: a write that landed while the snapshots were read."""
    later: dict[str, list[tuple[str, int]]] = {}
    for locale, at, words in history_points({"history": kept}):
        last = points[locale][-1][0] if points.get(locale) else ""
        if at > last:
            later.setdefault(locale, []).append((at, words))
    history: dict[str, Any] = {}
    for locale in sorted({*points, *later}):
        for at, words in sorted([*points.get(locale, []), *later.get(locale, [])]):
            _add_point(history, locale, at, words)
    return history


def set_history(storage: Storage, course: str, points: dict[str, list[tuple[str, int]]]) -> None:
    """Put the history points of ``course`` back from its snapshots (locale -> [(at, words)]),
    keeping any point written since those were read."""

    def put(body: dict[str, Any]) -> None:
        body["history"] = _merged(points, body.get("history"))
        body["course"] = course

    update_json(storage, stats_key(course), put)


def record(
    storage: Storage,
    entries: Iterable[tuple[CatalogStats, int, str]],
    *,
    at: str | None = None,
    backfill: Callable[[], dict[str, list[tuple[str, int]]]] | None = None,
) -> None:
    """Write the statistics of catalogs of one course, each with the (size, version)
    of the catalog file they were computed from, under compare-and-swap. ``at``: the
    catalogs were written then (their progress is a point of the history); None when the
    statistics are only recomputed (the history stays as it is). ``backfill`` gives the
    course's earlier points (from its snapshots) for an object that has no history yet
    (a workspace indexed before the history moved here): read once, then kept here."""
    items = list(entries)
    if not items:
        return
    course = items[0][0].course
    earlier: list[dict[str, list[tuple[str, int]]]] = []

    def seed(body: dict[str, Any]) -> None:
        if "history" not in body and backfill is not None:
            if not earlier:
                earlier.append(backfill())
            body["history"] = _merged(earlier[0], None)

    def put_entries(body: dict[str, Any]) -> None:
        locales = body.get("locales")
        if not isinstance(locales, dict):
            locales = body["locales"] = {}
        body["course"] = course
        if at is not None:
            seed(body)
            history = _history(body)
            for stats, _, _ in items:
                _add_point(history, stats.locale, at, stats.translated_words)
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
