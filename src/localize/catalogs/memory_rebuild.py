"""Rebuilding a locale's translation-memory index from the catalogs of record
(:mod:`.memory_index`): a new generation, written whole, switched to in one conditional write
of the manifest, the old one then deleted, with any left over for a day (:func:`_sweep`). Also ``localize index rebuild``."""

from __future__ import annotations

import re
import secrets
import time
from collections import defaultdict
from typing import Any

from localize.catalogs.index import update_json
from localize.catalogs.memory_lookup import Key
from localize.catalogs.memory_records import add, band
from localize.catalogs.memory_store import contribution, read_json, write_json
from localize.catalogs.review import ledger_key
from localize.catalogs.workspace import Workspace
from localize.errors import CatalogNotFoundError, LocalizeError, TransientStorageError
from localize.locales import check_locale

__all__ = ["GENERATION", "IMPORTED_NAME", "base_key", "claim_rebuild", "listed_versions", "rebuild"]

IMPORTED_NAME = "@imported"  # what older manifests named the compendium (never a course id): dropped
GENERATION = re.compile(r"g[0-9a-f]{1,40}")
ABANDONED = 86_400.0  # seconds without a write after which a generation no manifest names is left over


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
    switched to in one conditional write); returns how many catalogs were read."""
    locale = check_locale(locale)
    base = base_key(locale)
    listed = listed_versions(workspace, locale)  # versions listed before the files are read
    generation = f"g{time.time_ns():x}{secrets.token_hex(3)}"
    homes: dict[str, dict[str, list[list[Any]]]] = defaultdict(dict)
    home_of: dict[Key, str] = {}
    bands: dict[int, dict[str, list[Any]]] = defaultdict(lambda: {"msgctxt": [], "msgid": [], "home": []})
    ledgers: dict[str, str | None] = {}
    for name in sorted(listed):  # memory order: by course
        try:
            catalog = workspace.read_catalog(name, locale, suggest=False)
        except CatalogNotFoundError:
            listed.pop(name)
            continue
        ledgers[name] = workspace.storage.version(ledger_key(name, locale))  # (provenance: read after)
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
    # what this rebuild wrote is all there before the manifest names it: another rebuild's sweep
    # takes a generation whose files are all over a day old (_sweep), which this one's could be
    # only after a pause of a day (a suspended machine) in the middle of it
    written = len(listed) + len(bands) + len(homes)
    if sum(1 for _ in workspace.storage.list(f"{base}/{generation}/")) < written:
        raise TransientStorageError(
            "files of the index being built went missing while it was written; run again",
            path=workspace.describe(f"{base}/{generation}"),
        )

    # a review ledger written since this rebuild read it (an ingest's, after its catalog): the
    # course is left for the next lookup to record again, as the catalog's version cannot tell
    moved = {n: "" for n in listed if workspace.storage.version(ledger_key(n, locale)) != ledgers.get(n)}

    def switch(body: dict[str, Any]) -> None:
        previous.append(str(body.get("generation") or ""))
        body.clear()
        # sources listed in the bands, and those of them with records: the rest are dead (no
        # course holds them any more), scored by near-match lookups until the next rebuild
        courses = listed | moved
        body.update(generation=generation, courses=courses, writing={}, sources=len(home_of), live=len(home_of))

    update_json(workspace.storage, f"{base}/manifest.json", switch, compact=True)
    _sweep(workspace, base, generation, previous)
    return len(listed)


def _sweep(workspace: Workspace, base: str, generation: str, previous: list[str]) -> None:
    """After switching to ``generation``, delete the generation it replaced, and any other whose
    files are all more than :data:`ABANDONED` old by the storage's clock (against the manifest
    just written: no machine's own clock counts), left by a rebuild that stopped before its
    switch or by a late writer in a generation already replaced. Never the one the manifest
    names (read again before each), never a path (only names a rebuild gives). Contributions go
    first, so that a lookup meeting a partly deleted generation rebuilds. Best effort: what
    stays costs space, not answers; one file that cannot go does not keep the others."""
    storage = workspace.storage
    stale = {p for p in previous if GENERATION.fullmatch(p)}
    newest: dict[str, float] = {}
    now: float | None = None
    try:
        for key, at in storage.list_with_times(f"{base}/"):
            name, slash, _ = key[len(base) + 1 :].partition("/")
            if not slash:
                now = at if name == "manifest.json" else now
            elif GENERATION.fullmatch(name):
                newest[name] = max(newest.get(name, at), at)
    except (LocalizeError, OSError):
        pass
    if now is not None:
        stale |= {g for g, at in newest.items() if at < now - ABANDONED}
    stale.discard(generation)
    for old in sorted(stale):
        try:
            if (read_json(workspace, f"{base}/manifest.json") or {}).get("generation") == old:
                continue  # the manifest names it: never deleted
            keys = sorted(storage.list(f"{base}/{old}/"), key=lambda k: ("/units/" not in k, k))
        except (LocalizeError, OSError):
            continue
        for k in keys:
            try:
                storage.delete(k)
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
