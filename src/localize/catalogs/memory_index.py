"""The translation memory of a locale, indexed: one-course operations read a bounded number of objects.

:func:`localize.catalogs.memory.load_memory` reads every catalog of the locale. ``init``,
``update`` and ``route`` need only the memory's answers for one course's sources, so they
use :func:`memory_for`, which reads ``index/memory/LL/manifest.json``, the memory edits, the
course's own contribution, at most one object per length band its sources can reach
(:func:`band`; a near match of similarity ``s`` lies within the lossless length window of
:class:`~.memory.NearIndex`) and the records of the few *homes* its sources and near
matches have (:mod:`.memory_store`):

    index/memory/LL/manifest.json           generation, catalog version per course, writers at work
    index/memory/LL/GEN/units/COURSE.json   what COURSE contributes: its units with provenance
    index/memory/LL/GEN/band/B.json         every source of length band B, with its home
    index/memory/LL/GEN/home/H.json         the records of the sources whose home is H: one per
                                            (translation, reviewed): count, the first few
                                            representatives and memory positions

A record keeps the count and a *prefix* of its members in ranking order (newest first,
then origin) and in memory order: the answer for a course is the record less that course's
own unit (known from its contribution), which needs only the first member left. Writes keep
each prefix a true prefix; when one runs out while members remain, the lookup rebuilds the
locale from the catalogs. The answers equal a full scan's under the same ranking (a corpus
test checks it), with the memory edits applied at lookup. The bands hold every distinct
source of their lengths, so they grow with the fleet (as the near-match work does); the
records a lookup reads do not. A source no course holds any more stays in its band without
records (absent, as in a full scan); the manifest counts the sources listed and those with
records, and a lookup rebuilds a locale whose dead sources pass a quarter of them (and
:data:`DEAD`). The write that follows a lookup starts from the objects it parsed.

The catalogs stay the record. A catalog write records its course (:func:`record_catalog`)
under compare-and-swap: mark the course in the manifest, claim a home in its band for each
source new to the index, update the touched homes' records, write the contribution, then
the catalog's version (the one its write returned). A lookup lists the locale's catalogs and
records those whose version differs (written behind the index's back, or by a writer that
stopped); a writer marked longer than :data:`LEASE` ago, a damaged manifest, many stale
catalogs or dead sources rebuild the locale (:func:`~.memory_rebuild.rebuild`, also ``localize index
rebuild``) into a new generation, switched to in one conditional write of the manifest.
"""

from __future__ import annotations

import contextlib
import math
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from localize.catalogs.faults import kill_point
from localize.catalogs.glossary import Glossary
from localize.catalogs.glossary_files import load_glossary
from localize.catalogs.index import update_json
from localize.catalogs.lifecycle import DEFAULT_SIMILARITY
from localize.catalogs.memory import IMPORTED, MemoryUnit, TranslationMemory, recorded_units
from localize.catalogs.memory_lookup import HOME as _NAME
from localize.catalogs.memory_lookup import Damaged, IndexedMemory, Key, Moved, check_records, parse_sources
from localize.catalogs.memory_rebuild import (
    GENERATION,
    IMPORTED_NAME,
    base_key,
    claim_rebuild,
    listed_versions,
    rebuild,
)
from localize.catalogs.memory_records import Unit, add, bands_for, diff, key_of, remove
from localize.catalogs.memory_rules import apply_rules, load_rules
from localize.catalogs.memory_store import (
    claim_homes,
    contribution,
    read_json,
    read_object,
    units_of_record,
    write_json,
)
from localize.catalogs.review import ledger_key
from localize.catalogs.workspace import Workspace
from localize.catalogs.writers import gone, this_writer
from localize.errors import CatalogNotFoundError, TransientStorageError
from localize.locales import check_locale
from localize.model import Catalog
from localize.storage.base import LocalStorage

__all__ = ["DEAD", "LEASE", "memory_for", "record_catalog", "reindex", "template_sources"]

LEASE = 600.0  # seconds a writer may hold a course's mark before the locale is rebuilt
DEAD = 5000  # dead sources (listed, no records) a locale's bands may hold beyond a quarter of them
# what reading an index object someone damaged (or wrote by hand) may raise: the locale is rebuilt
_DAMAGE = (TypeError, ValueError, IndexError, KeyError, AttributeError, RecursionError, OverflowError)
# the band and home objects this thread's last lookup read and parsed, with their ETags (by the
# key's description: a path or URL): the write that follows it (init, update) starts from them,
# under the same compare-and-swap, instead of reading and parsing each again
_read_objects = threading.local()


# -- writing --------------------------------------------------------------------------


def record_catalog(
    workspace: Workspace, course: str, locale: str, catalog: Catalog | None, version: str | None
) -> None:
    """After a catalog write (``catalog`` None: removed): its units into the memory index
    of ``locale``, and ``version`` (what the write returned) as the one indexed. Nothing
    happens when the locale has no index yet: the first lookup builds it."""
    ledger = ledger_key(course, locale)
    before = workspace.storage.version(ledger) if catalog is not None else None
    units = [] if catalog is None else contribution(workspace, course, locale, catalog)
    _record(workspace, locale, course, units, version)
    manifest = f"{base_key(locale)}/manifest.json"
    if catalog is not None and workspace.storage.version(ledger) != before and workspace.storage.exists(manifest):
        # the provenance changed while this was recorded (an ingest's review ledger, written after
        # its catalog): the catalog's version alone would never tell a lookup, so it is unsettled
        update_json(workspace.storage, manifest, _unsettle(course), compact=True)


def _unsettle(name: str) -> Callable[[dict[str, Any]], None]:
    """A manifest change that makes the next lookup record ``name`` again (no version matches "")."""

    def change(body: dict[str, Any]) -> None:
        if isinstance(body.get("courses"), dict) and name in body["courses"]:
            body["courses"][name] = ""

    return change


def _broken(body: dict[str, Any]) -> None:
    body["broken"] = True  # the next lookup rebuilds the locale from the catalogs


def _expired(mark: dict[str, Any]) -> bool:
    """A writer's mark older than LEASE, one no clock could have written (not a finite time,
    or ahead of ours by more than a minute), or one of a process of this machine that has
    ended (killed mid-write: not waited for, :mod:`.writers`): taken over."""
    since = float(mark.get("since", 0))
    now = time.time()
    return not math.isfinite(since) or since > now + 60 or now - since > LEASE or gone(mark)


def _record(workspace: Workspace, locale: str, name: str, units: list[Unit], version: str | None) -> None:
    base, token = base_key(locale), secrets.token_hex(8)
    seen: dict[str, Any] = {}

    def mark(body: dict[str, Any]) -> None:
        seen.clear()
        seen.update(body)
        writing = body.get("writing")
        if not isinstance(writing, dict) or not body.get("generation") or body.get("broken"):
            return
        held = writing.get(name)
        if held is not None and (not isinstance(held, dict) or _expired(held)):
            # a writer stopped somewhere in its write: what it left is unknown, so not taken over
            _broken(body)  # rebuilt on the next lookup
        elif held is not None:
            # another writer is at this course, perhaps with what was there before this write: it
            # leaves the course for the next lookup to record again instead of naming its version
            held["again"] = True
        else:
            writing[name] = {"since": time.time(), "token": token, **this_writer()}
            seen["marked"] = True

    if not workspace.storage.exists(f"{base}/manifest.json"):
        return
    try:
        update_json(workspace.storage, f"{base}/manifest.json", mark, compact=True)
        if seen.get("marked"):
            try:
                _apply(workspace, base, name, units, version, seen, token)
            except BaseException:  # a full disk, a cancelled task, a bug: left half written
                with contextlib.suppress(Exception):
                    update_json(workspace.storage, f"{base}/manifest.json", _broken, compact=True)
                raise
        # else: no index yet, or another writer at this course (told to leave it to the next lookup)
    except _DAMAGE:
        update_json(
            workspace.storage, f"{base}/manifest.json", _broken, compact=True
        )  # damaged: rebuilt on the next lookup


def _apply(
    workspace: Workspace, base: str, name: str, units: list[Unit], version: str | None, seen: dict[str, Any], token: str
) -> None:
    generation = str(seen["generation"])
    key = f"{base}/{generation}/units/{name}.json"
    old = units_of_record(read_json(workspace, key))
    known = name in seen.get("courses", {})
    if old is None and known:
        update_json(workspace.storage, f"{base}/manifest.json", _broken, compact=True)
        return
    removed, added = diff(old or [], units)
    origin = IMPORTED if name == IMPORTED_NAME else name
    read: dict[str, tuple[dict[str, Any], str]] = getattr(_read_objects, "objects", {})
    _read_objects.objects = {}
    changes = [(False, i, u) for i, u in removed] + [(True, i, u) for i, u in added]
    claimed: dict[int, int] = {}  # band -> sources this write brought into it
    homes = claim_homes(workspace, f"{base}/{generation}", name, changes, read, claimed)
    kill_point("memory:homes-claimed")
    live: dict[str, int] = {}  # home -> sources that have records now less those that had before
    by_home: dict[str, list[tuple[bool, int, Unit]]] = defaultdict(list)
    for change in changes:
        home = homes.get((change[2][0], change[2][1]))
        if home is not None:  # None: a removal of a source the index never had
            by_home[home].append(change)
    for home, mine in sorted(by_home.items()):

        def apply(body: dict[str, Any], mine: list[tuple[bool, int, Unit]] = mine, home: str = home) -> None:
            records = body.setdefault("keys", {})
            touched = {key_of(u[0], u[1]) for _, _, u in mine}
            before = touched & records.keys()
            for k in before:
                # copied before they change: a memory from the lookup may still hold the lists
                records[k] = [[*r[:3], list(r[3]), list(r[4])] for r in records[k]]
            for is_added, i, u in sorted(mine, key=lambda c: c[0]):  # removals first
                (add(records, origin, i, u) if is_added else remove(records, origin, u))
            live[home] = len(touched & records.keys()) - len(before)  # of the attempt that is written

        home_key = f"{base}/{generation}/home/{home}.json"
        update_json(
            workspace.storage, home_key, apply, compact=True, known=read.get(workspace.describe(home_key)), strict=True
        )
    write_json(workspace, key, {"units": [list(u) for u in units]})

    def done(body: dict[str, Any]) -> None:
        held = body.get("writing", {}).get(name)
        if isinstance(held, dict) and held.get("token") == token:
            del body["writing"][name]
            if body.get("generation") == generation:
                body.setdefault("courses", {})[name] = "" if held.get("again") else version
                if version is None and not held.get("again"):
                    body["courses"].pop(name)
                if isinstance(body.get("sources"), int) and isinstance(body.get("live"), int):
                    body["sources"] += sum(claimed.values())
                    body["live"] += sum(live.values())

    update_json(workspace.storage, f"{base}/manifest.json", done, compact=True)


def reindex(workspace: Workspace, course: str, locale: str) -> None:
    """Record ``course``'s catalog of ``locale`` as it is now (after its review ledger changed)."""
    key = workspace.catalog_key(course, locale)
    version = workspace.catalog_versions(course=course, locale=locale).get((course, check_locale(locale)))
    try:
        catalog: Catalog | None = workspace.read(key) if version is not None else None
    except CatalogNotFoundError:
        catalog = None
    record_catalog(workspace, course, locale, catalog, version)


# -- reading -----------------------------------------------------------------------------


class _Unknown(TransientStorageError):
    """A record's prefix ran out while members remain, or the index is damaged: rebuild."""


def _manifest(workspace: Workspace, locale: str) -> dict[str, Any]:
    """The manifest of a current index: built, healed or rebuilt as needed."""
    for _ in range(3):
        body = read_json(workspace, f"{base_key(locale)}/manifest.json")
        writing = body.get("writing", {}) if body else {}
        if (
            body is None
            or body.get("damaged")
            or body.get("broken")
            or not isinstance(body.get("generation"), str)
            or not GENERATION.fullmatch(body["generation"])
            or not isinstance(writing, dict)
            or not isinstance(body.get("courses", {}), dict)
            or not all(isinstance(n, str) and _NAME.fullmatch(n) for n in (*body.get("courses", {}), *writing))
            or any(not isinstance(w, dict) or _expired(w) for w in writing.values())
        ):
            rebuild(workspace, locale)
            continue
        n, live = body.get("sources"), body.get("live")  # absent before the counts were kept
        if (n, live) != (None, None) and not (type(n) is type(live) is int and 0 <= live <= n):
            rebuild(workspace, locale)  # counts no index writes
            continue
        dead = n - live if isinstance(n, int) and isinstance(live, int) else 0  # texts no course holds
        if dead > max(DEAD, (n or 0) // 4) and claim_rebuild(workspace, locale, LEASE):
            rebuild(workspace, locale)  # one process rebuilds; the others go on (answers are the same)
            continue
        indexed = body.get("courses", {})
        listed = listed_versions(workspace, locale)
        stale = [n for n in sorted({*indexed, *listed}) if indexed.get(n) != listed.get(n) and n not in writing]
        if not stale:
            return body
        if len(stale) > max(16, len(listed) // 4):
            rebuild(workspace, locale)
            continue
        for name in stale:
            if name == IMPORTED_NAME:  # an older manifest's entry for the compendium (never indexed)
                _record(workspace, locale, name, [], None)
            else:
                reindex(workspace, name, locale)
    raise _Unknown("the memory index kept changing under us; run again", path=workspace.describe(base_key(locale)))


def memory_for(
    workspace: Workspace,
    locale: str,
    course: str,
    sources: Iterable[tuple[str | None, str]],
    *,
    similarity: float = DEFAULT_SIMILARITY,
    glossary: Glossary | None = None,
    near: Iterable[tuple[str | None, str]] | None = None,
) -> TranslationMemory:
    """The memory of ``locale`` less ``course``'s own catalog, as :func:`~.memory.load_memory`
    would give it, for filling entries with these (msgctxt, msgid) ``sources`` (a course's
    template) at ``similarity``, never from the other catalogs. ``near``: the sources a fill
    may ask a near match for (default: all of ``sources``), whose near matches' records are
    read up front."""
    locale = check_locale(locale)
    wanted = list(sources)
    asked = wanted if near is None else list(near)
    if glossary is None:
        glossary = load_glossary(workspace, locale, course)
    try:  # the imported compendium: one file, whatever the fleet's size, joined at lookup
        imported = recorded_units(workspace.read(workspace.memory_key(locale)))
    except CatalogNotFoundError:
        imported = []
    for attempt in range(2):
        try:
            try:
                return _lookup(workspace, locale, course, wanted, similarity, glossary, asked, imported)
            except Moved:  # rebuilt by another writer during the lookup: asked again, not rebuilt
                if attempt:
                    raise
                continue
            except _DAMAGE as e:
                raise _Unknown(
                    f"damaged memory index ({type(e).__name__})", path=workspace.describe(base_key(locale))
                ) from e
        except _Unknown:
            if attempt:
                raise
            rebuild(workspace, locale)
    raise AssertionError("unreachable")


def _lookup(
    workspace: Workspace,
    locale: str,
    course: str,
    sources: list[tuple[str | None, str]],
    similarity: float,
    glossary: Glossary,
    near: list[tuple[str | None, str]],
    imported: list[MemoryUnit],
) -> TranslationMemory:
    _read_objects.objects = {}  # a repair below starts from nothing an earlier lookup parsed
    body = _manifest(workspace, locale)
    generation = str(body["generation"])
    base = f"{base_key(locale)}/{generation}"
    own = units_of_record(read_json(workspace, f"{base}/units/{course}.json"))
    if own is None:
        if course in body.get("courses", {}):
            raise _Unknown(f"the contribution of {course} is damaged or gone")
        own = []
    mine = {(u[0], u[1], u[2], u[3]) for u in own}
    rules = load_rules(workspace, locale)
    homes: dict[Key, str] = {}
    read: dict[str, tuple[dict[str, Any], str]] = {}
    _read_objects.objects = read
    absent = False
    for b in sorted(bands_for((msgid for _, msgid in sources), similarity)):
        got = read_object(workspace, f"{base}/band/{b}.json", read)
        if got is not None:
            homes.update(parse_sources(got))
        absent = absent or got is None
    if absent and (read_json(workspace, f"{base_key(locale)}/manifest.json") or {}).get("generation") != generation:
        # a band no source reaches is absent; so is every band of a generation replaced (and
        # deleted) since the manifest was read: asked again, not answered from nothing
        raise Moved(f"the memory index of {locale} was rebuilt during the lookup")

    def load_home(home: str) -> dict[str, Any]:
        """The records of the sources whose home is ``home`` (checked: damage raises). Absent in
        this generation (a writer stopped between claiming a home and writing it) it holds
        nothing; absent because the locale was rebuilt since the lookup, :class:`Moved`."""
        try:
            got = read_object(workspace, f"{base}/home/{home}.json", read)
        except ValueError as e:
            raise Damaged(f"the records of {home} are damaged") from e
        if got is None:
            now = read_json(workspace, f"{base_key(locale)}/manifest.json") or {}
            if now.get("generation") != generation:
                raise Moved(f"the memory index of {locale} was rebuilt during the lookup")
        records = {} if got is None else got.get("keys")
        if not isinstance(records, dict):
            raise Damaged(f"the records of {home} are damaged")
        check_records(records)
        return records

    memory = IndexedMemory(
        homes,
        load_home,
        course,
        mine,
        rules,
        glossary=glossary,
        imported=apply_rules(imported, rules),
        concurrent=not isinstance(workspace.storage, LocalStorage),  # a folder's rows: one local read each
    )
    memory.load({(ctx, msgid) for ctx, msgid in sources} | {(u[0], u[1]) for u in own}, near, similarity)
    return memory


def template_sources(template: Catalog) -> list[tuple[str | None, str]]:
    """The sources a fill from ``template`` may look up."""
    return [(e.msgctxt, e.msgid) for e in template.entries if not e.obsolete and e.msgid_plural is None]
