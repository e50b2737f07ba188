"""A catalog's progress over time: the day's snapshot (``history/COURSE/LL/YYYYMMDD.json``, the
record) and the chart's points in the statistics index, written after every catalog write
(:meth:`~.workspace.Workspace.write`) and checked against the file after, so that of two runs
writing one catalog the last to look records what the file holds; a rerun that finds the file
already written records its progress when the chart's last point is not what the file holds."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Protocol

from localize.catalogs import index
from localize.catalogs.po import read_po, write_po
from localize.catalogs.stats import catalog_stats
from localize.errors import CatalogError, ConfigError
from localize.ids import check_course_id
from localize.model import Catalog
from localize.storage.base import Storage


class Workspace(Protocol):
    """What of :class:`~.workspace.Workspace` the progress needs (that module uses this one)."""

    storage: Storage

    def catalog_key(self, course: str, locale: str) -> str: ...

    def describe(self, key: str) -> str: ...


__all__ = ["ensure_progress", "history", "record_progress", "snapshot_history"]

ATTEMPTS = 3  # records made again from a file other runs keep replacing, before leaving it to them


def _snapshot_key(course: str, locale: str, day: datetime) -> str:
    return f"history/{course}/{locale}/{day:%Y%m%d}.json"


def record_progress(
    workspace: Workspace, course: str, locale: str, catalog: Catalog, data: bytes, version: str
) -> None:
    """After a catalog write: its statistics into the index (catalogs/index.py) and
    the day's progress snapshot (one per catalog per day: the dashboard's history). Then
    the file is looked at again: when another run replaced it meanwhile (whose own record
    may have landed before this one), the record is made again from the file as it is, so
    the last to look records what the file holds."""
    key = workspace.catalog_key(course, locale)
    for _ in range(ATTEMPTS):
        s = catalog_stats(catalog, course, locale)
        now = datetime.now(UTC)
        at = now.isoformat(timespec="seconds")
        record = {"at": at, "course": course, "locale": locale, "words": s.words}
        record |= {"translated_words": s.translated_words, "translated": s.translated, "entries": s.entries}
        # first: a point in the index below says its snapshot is there (ensure_progress)
        workspace.storage.write_bytes(_snapshot_key(course, locale, now), json.dumps(record).encode())
        # The statistics are indexed under the version the write returned (our own file's):
        # if another writer replaced the file since, the listing shows its version, not this
        # one, so the entry is stale and recomputed from the file (no read-back needed).
        index.record(
            workspace.storage,
            [(s, len(data), version)],
            at=at,
            backfill=lambda: snapshot_history(workspace, course),
        )
        current = workspace.storage.version(key)
        if current is None or current == version:
            return
        try:
            data, _ = workspace.storage.read_with_etag(key)
            catalog, version = read_po(data, workspace.describe(key)), current
        except (FileNotFoundError, CatalogError):
            return


def ensure_progress(workspace: Workspace, course: str, locale: str, catalog: Catalog) -> None:
    """After a run found the catalog already as it would write it (a rerun of a run killed after
    its write, before its record): the progress recorded if the chart's last point of the catalog
    is not its translated words (one read; an unchanged catalog's rerun writes nothing)."""
    s = catalog_stats(catalog, course, locale)
    try:
        body = json.loads(workspace.storage.read_bytes(index.stats_key(course)))
    except (FileNotFoundError, ValueError, UnicodeDecodeError, RecursionError):
        body = None
    points = [words for ll, _, words in index.history_points(body) if ll == locale]
    if points and points[-1] == s.translated_words:
        return
    version = workspace.storage.version(workspace.catalog_key(course, locale))
    if version is not None:
        record_progress(workspace, course, locale, catalog, write_po(catalog).encode("utf-8"), version)


def history(workspace: Workspace) -> list[tuple[str, str, str, int]]:
    """Every progress point (at, course, locale, translated words), oldest first: one object
    per course (its index object), not one file per catalog per day."""
    keys = [k for k in workspace.storage.list("index/stats") if k.endswith(".json")]
    out: list[tuple[str, str, str, int]] = []
    for key in keys:
        course = key.rsplit("/", 1)[-1].removesuffix(".json")
        try:
            body = json.loads(workspace.storage.read_bytes(key))
        except FileNotFoundError:
            continue
        except (ValueError, UnicodeDecodeError, RecursionError):
            continue  # damaged derived state: `localize index rebuild` makes it anew
        if isinstance(body, dict) and "history" not in body:
            # indexed before the history moved beside the statistics: from the snapshots, once
            with contextlib.suppress(ConfigError):  # a key that is not a course id: no snapshots
                snapshots = snapshot_history(workspace, course)
                index.set_history(workspace.storage, course, snapshots)
                body = {"history": {ll: [list(p) for p in series] for ll, series in snapshots.items()}}
        out += [(at, course, locale, words) for locale, at, words in index.history_points(body)]
    return sorted(out)


def snapshot_history(workspace: Workspace, course: str) -> dict[str, list[tuple[str, int]]]:
    """The history of ``course`` from its daily snapshot files (the record; reads them all)."""
    points: dict[str, list[tuple[str, int]]] = {}
    for key in sorted(workspace.storage.list(f"history/{check_course_id(course)}")):
        if not key.endswith(".json"):
            continue
        try:
            record = json.loads(workspace.storage.read_bytes(key))
            at, locale, words = str(record["at"]), str(record["locale"]), int(record["translated_words"])
        except (ValueError, TypeError, KeyError, UnicodeDecodeError, RecursionError, FileNotFoundError):
            continue
        points.setdefault(locale, []).append((at, words))
    return {ll: sorted(series) for ll, series in points.items()}
