"""Rebuilding a locale's translation-memory index from the catalogs of record
(:mod:`.memory_index`): a new generation, written whole, switched to in one conditional write
of the manifest, the old one then deleted. Also ``localize index rebuild``."""

from __future__ import annotations

import re
import secrets
import time
from collections import defaultdict
from typing import Any

from localize.catalogs.index import update_json
from localize.catalogs.memory_lookup import Key
from localize.catalogs.memory_records import add, band
from localize.catalogs.memory_store import contribution, write_json
from localize.catalogs.workspace import Workspace
from localize.errors import CatalogNotFoundError, LocalizeError, TransientStorageError
from localize.locales import check_locale

__all__ = ["GENERATION", "IMPORTED_NAME", "base_key", "claim_rebuild", "listed_versions", "rebuild"]

IMPORTED_NAME = "@imported"  # what older manifests named the compendium (never a course id): dropped
GENERATION = re.compile(r"g[0-9a-f]{1,40}")
# a generation that is not the current one, whose newest object is this much older than the current
# one's switch, is removed by the next rebuild (:func:`_sweep`)
STRAY_AGE = 86400.0
MARK = "mark"  # the folder of a generation's marks: building.json at its start, switched.json after


def base_key(locale: str) -> str:
    return f"index/memory/{check_locale(locale)}"


def listed_versions(workspace: Workspace, locale: str) -> dict[str, str]:
    """course -> version of every catalog of ``locale`` (listings only): what the index holds.
    The imported compendium is not indexed: its units rank by what the workspace recorded at
    import, which the records do not carry, so :func:`~.memory_index.memory_for` reads it (one
    file) and joins it at lookup."""
    return {cid: v for (cid, _), v in workspace.catalog_versions(locale=locale).items()}


def rebuild(workspace: Workspace, locale: str) -> int:
    """Index the memory of ``locale`` anew from the catalogs of record (a new generation,
    switched to in one conditional write); returns how many catalogs were read. The generation
    it replaced is removed, and so is any other left behind (:func:`_sweep`)."""
    locale = check_locale(locale)
    base = base_key(locale)
    listed = listed_versions(workspace, locale)  # versions listed before the files are read
    generation = f"g{time.time_ns():x}{secrets.token_hex(3)}"
    mark = f"{base}/{generation}/{MARK}/building.json"
    write_json(workspace, mark, {})  # first: a sweep that removes this generation removes it first
    homes: dict[str, dict[str, list[list[Any]]]] = defaultdict(dict)
    home_of: dict[Key, str] = {}
    bands: dict[int, dict[str, list[Any]]] = defaultdict(lambda: {"msgctxt": [], "msgid": [], "home": []})
    for name in sorted(listed):  # memory order: by course
        try:
            catalog = workspace.read_catalog(name, locale)
        except CatalogNotFoundError:
            listed.pop(name)
            continue
        units = contribution(workspace, name, locale, catalog)
        for i, u in enumerate(units):
            home = home_of.get((u[0], u[1]))
            if home is None:  # the first origin to hold a source is its home
                home = home_of[(u[0], u[1])] = name
                listed_in = bands[band(len(u[1]))]
                listed_in["msgctxt"].append(u[0])
                listed_in["msgid"].append(u[1])
                listed_in["home"].append(name)
            add(homes[home], name, i, u)
        write_json(workspace, f"{base}/{generation}/units/{name}.json", {"units": [list(u) for u in units]})
    for b, sources in bands.items():
        write_json(workspace, f"{base}/{generation}/band/{b}.json", sources)
    for home, records in homes.items():
        write_json(workspace, f"{base}/{generation}/home/{home}.json", {"keys": records})
    previous: list[str] = []

    def switch(body: dict[str, Any]) -> None:
        previous.append(str(body.get("generation") or ""))
        body.clear()
        # sources listed in the bands, and those of them with records: the rest are dead (no
        # course holds them any more), scored by near-match lookups until the next rebuild
        body.update(generation=generation, courses=listed, writing={}, sources=len(home_of), live=len(home_of))

    if not workspace.storage.exists(mark):  # stopped so long that a sweep removed what it wrote
        raise TransientStorageError(
            f"the rebuild of the {locale} memory index was paused for over a day and its objects were "
            "removed meanwhile; run it again",
            path=workspace.describe(f"{base}/{generation}"),
        )
    update_json(workspace.storage, f"{base}/manifest.json", switch, compact=True)
    write_json(workspace, f"{base}/{generation}/{MARK}/switched.json", {})  # the storage's time, now
    replaced = {p for p in previous if GENERATION.fullmatch(p) and p != generation}  # never a path
    _sweep(workspace, base, generation, replaced)
    return len(listed)


def _sweep(workspace: Workspace, base: str, current: str, replaced: set[str]) -> None:
    """Remove the generations of the index at ``base`` that are not ``current``: the ones the
    switch ``replaced``, and any other whose newest object is :data:`STRAY_AGE` older than the
    current one's switch, both times by the storage's clock, never a machine's: a rebuild that
    stopped before its switch, objects a writer wrote after a rebuild. A rebuild still at work
    writes all along; one paused a day finds its mark gone and does not switch. Best effort:
    what cannot be removed now (a permission, the network) is left to the next rebuild."""
    storage = workspace.storage
    now = max((t for _, t in storage.list_with_times(f"{base}/{current}/{MARK}")), default=None)
    for old in storage.list_folders(base):
        if old == current or not GENERATION.fullmatch(old):  # never a path, nor another folder
            continue
        try:
            listed = list(storage.list_with_times(f"{base}/{old}/"))
            if not listed or (old not in replaced and (now is None or max(t for _, t in listed) > now - STRAY_AGE)):
                continue
            keys = sorted((k for k, _ in listed), key=lambda k: f"/{MARK}/" not in k)  # the mark first
            for k in keys:
                storage.delete(k)
            remove = getattr(storage, "remove_empty_folders", None)  # a folder workspace's emptied folders
            if remove is not None:
                remove(f"{base}/{old}")
        except (LocalizeError, OSError):
            continue


def claim_rebuild(workspace: Workspace, locale: str, lease: float) -> bool:
    """Whether this process is the one to rebuild ``locale`` for its dead sources: true unless
    another claimed it (in the manifest) less than ``lease`` seconds ago. Dead sources cost
    time, not answers, so the other lookups go on with the index as it is instead of all
    rebuilding at once; the rebuild's switch clears the claim, a stopped rebuilder's expires."""
    token, claimed = secrets.token_hex(8), list[bool]()

    def claim(body: dict[str, Any]) -> None:
        claimed.clear()
        held = body.get("rebuilding")
        since = held.get("since") if isinstance(held, dict) else None
        if type(since) is float and 0 <= time.time() - since < lease:
            return  # another process is at it (a time from a skewed or hostile clock is not)
        body["rebuilding"] = {"since": time.time(), "token": token}
        claimed.append(True)

    update_json(workspace.storage, f"{base_key(locale)}/manifest.json", claim, compact=True)
    return bool(claimed)
