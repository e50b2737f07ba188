"""The objects of the indexed translation memory (:mod:`.memory_index`) in storage: reading and
writing them, and where a source's records live (its *home*).

Per locale and generation, ``band/B.json`` lists every source of length band B with its home
(``{"msgctxt": [...], "msgid": [...], "home": [...]}``), and ``home/H.json`` holds the records of the
sources whose home is H (``{"keys": {source key: [record, ...]}}``, records as
:mod:`.memory_records` makes them). A source's home is the course that
first brought it into the index; it never changes until a rebuild. So a lookup reads the
bands (sources only: what a near match needs) and the records of a few homes only, and a
write rewrites a band only when a source is new to the index.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from localize.catalogs.index import update_json
from localize.catalogs.memory import units_of
from localize.catalogs.memory_lookup import Damaged, Key, parse_sources
from localize.catalogs.memory_records import Unit, band
from localize.catalogs.review import provenance
from localize.catalogs.workspace import Workspace
from localize.model import Catalog

__all__ = ["claim_homes", "contribution", "read_json", "read_object", "units_of_record", "write_json"]


def read_json(workspace: Workspace, key: str) -> dict[str, Any] | None:
    try:
        raw = json.loads(workspace.storage.read_bytes(key))
    except FileNotFoundError:
        return None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return {"damaged": True}
    return raw if isinstance(raw, dict) else {"damaged": True}


def write_json(workspace: Workspace, key: str, body: dict[str, Any]) -> None:
    workspace.storage.write_bytes(key, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def units_of_record(body: dict[str, Any] | None) -> list[Unit] | None:
    """The units of a contribution; None when there is none or it is damaged."""
    if body is None or not isinstance(body.get("units"), list):
        return None
    out: list[Unit] = []
    for u in body["units"]:
        if not (isinstance(u, list) and len(u) == 7 and all(isinstance(x, str) for x in (u[1], u[2], *u[4:]))):
            return None
        if u[0] is not None and not isinstance(u[0], str):
            return None
        out.append((u[0], u[1], u[2], bool(u[3]), u[4], u[5], u[6]))
    return out


def claim_homes(
    workspace: Workspace,
    base: str,
    name: str,
    changes: list[tuple[bool, int, Unit]],
    read: dict[str, tuple[dict[str, Any], str]],
    claimed: dict[int, int],
) -> dict[Key, str]:
    """The home of every source ``changes`` touch: the one its band records, else (a source new
    to the index) ``name``, claimed in the band under compare-and-swap (a writer that claimed it
    first keeps it; ``claimed`` receives how many this write claimed per band). A band is written
    only when a source is new to it; a band's copy from the lookup before is used only when it
    lists every source touched."""
    touched: dict[int, set[Key]] = defaultdict(set)
    adding: dict[int, set[Key]] = defaultdict(set)
    for is_added, _, u in changes:
        touched[band(len(u[1]))].add((u[0], u[1]))
        if is_added:
            adding[band(len(u[1]))].add((u[0], u[1]))
    homes: dict[Key, str] = {}
    for b, keys in sorted(touched.items()):
        band_key = f"{base}/band/{b}.json"
        new = adding.get(b, set())
        parsed = read.get(workspace.describe(band_key))
        known = {} if parsed is None else parse_sources(parsed[0])
        if parsed is not None and keys <= known.keys():
            # a band only grows within a generation: a copy read earlier that lists every
            # source touched is right about their homes (one it lacks is read again below)
            homes.update((k, known[k]) for k in keys)
            continue
        body = read_json(workspace, band_key)
        known = {} if body is None else parse_sources(body)
        if new <= known.keys():
            homes.update((k, known[k]) for k in keys if k in known)
            continue  # nothing new to the band (a removal of a source it never had has no home)

        def claim(body: dict[str, Any], keys: set[Key] = keys, new: set[Key] = new, b: int = b) -> None:
            known = parse_sources(body) if body else {}
            mine = sorted(new - known.keys(), key=_order)
            body.setdefault("msgctxt", []).extend(k[0] for k in mine)
            body.setdefault("msgid", []).extend(k[1] for k in mine)
            body.setdefault("home", []).extend(name for _ in mine)
            known.update((k, name) for k in mine)
            homes.update((k, known[k]) for k in keys if k in known)
            claimed[b] = len(mine)  # of the attempt that is written

        update_json(workspace.storage, band_key, claim, compact=True, strict=True)
    return homes


def _order(key: Key) -> tuple[bool, str, str]:
    return (key[0] is not None, key[0] or "", key[1])


def read_object(workspace: Workspace, key: str, read: dict[str, tuple[dict[str, Any], str]]) -> dict[str, Any] | None:
    """An object of the index, parsed, kept with its ETag for the write that follows (None: absent)."""
    try:
        data, etag = workspace.storage.read_with_etag(key)
    except FileNotFoundError:
        return None
    try:
        got = json.loads(data)
    except (UnicodeDecodeError, RecursionError) as e:
        raise ValueError(f"{key} is not JSON") from e
    if not isinstance(got, dict):
        raise Damaged(f"{key} is damaged")  # rebuilt from the catalogs
    read[workspace.describe(key)] = (got, etag)
    return got


# -- what one catalog contributes (units/COURSE.json) ----------------------------------


def contribution(workspace: Workspace, course: str, locale: str, catalog: Catalog) -> list[Unit]:
    """The units ``catalog`` gives the memory, in catalog order, with their provenance."""
    made = provenance(workspace, catalog, course, locale)
    out: list[Unit] = []
    for u in units_of(catalog, course):
        p = made.get(u.key)
        at, partner, kit = (p.at, p.partner, p.kit) if p is not None else ("", "", "")
        out.append((u.msgctxt, u.msgid, u.msgstr, u.reviewed, at, partner, kit))
    return out
