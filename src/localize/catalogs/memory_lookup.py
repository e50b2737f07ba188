"""The answers of the indexed translation memory, worked out only for the sources a fill asks about.

:func:`localize.catalogs.memory_index.memory_for` reads the length bands a course's sources
can reach. Those bands list every distinct source of the locale in that range (with its
home: where its records are, :mod:`.memory_store`), so they grow with the fleet; what a fill
asks about does not (the course's own sources, and the few sources that come near one of
them). So :class:`IndexedMemory` reads and checks the records of the homes of the course's
sources up front (cheap type checks: damage found there is found inside ``memory_for``,
which rebuilds the index), those of a near match's home when the fill meets it (damage
then raises :class:`Damaged`, a rebuild under way :class:`Moved`:
:func:`~.refresh.refresh_from_memory` rebuilds or looks up again), and ranks a source's
translations only when a fill first asks for it: an exact lookup, or a near match found
by the length window. The answers are those of a full scan
(:class:`~.memory.TranslationMemory`):

* a source is offered the same ranked translations (count, newest, alphabetical; reviewed
  only when any), less the course's own units and the memory edits;
* a near match ranks reviewed, then more similar, then the workspace's own, more recent,
  then first in memory order, where memory order is the smallest (origin, position) of
  the source's members: compared directly instead of numbering every source in that order;
* a source left with nothing to offer (only the course's own units, or all edited out)
  is in the length window but never offered, as if it were absent;
* the imported compendium's unit of a source (read whole by ``memory_for``: one file) joins
  the catalogs' ranking as a full scan ranks it (:func:`_with_imported`), and its sources join
  the near-match candidates, after every catalog in memory order.
"""

from __future__ import annotations

import bisect
import re
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rapidfuzz import fuzz, process

from localize.catalogs.glossary import Glossary
from localize.catalogs.memory import IMPORTED, MemoryUnit, TranslationMemory, describe_origin, length_window
from localize.catalogs.memory_records import key_of, pos_order
from localize.catalogs.memory_rules import DELETE, OBSOLETE, MemoryRule

__all__ = [
    "NEAR_SCORES",
    "Damaged",
    "IndexedMemory",
    "Key",
    "LengthIndex",
    "NearScores",
    "check_records",
    "parse_sources",
]

Key = tuple[str | None, str]
HOME = re.compile(r"@imported|[A-Za-z0-9][A-Za-z0-9._-]{0,199}")  # a course id, or the imported compendium
Position = tuple[tuple[int, str], int]
_VALID_HOMES: set[str] = set()  # homes that passed HOME (a pure check of the string)


class Damaged(ValueError):
    """A record of the index is not what the index writes: the locale is rebuilt."""


class Moved(Damaged):
    """The locale's index was rebuilt while a fill was reading it: look up again (no rebuild)."""


def parse_sources(body: dict[str, Any]) -> dict[Key, str]:
    """(msgctxt, msgid) -> home of every source of a band object (``{"msgctxt": [...], "msgid":
    [...], "home": [...]}``, three lists of one length: checked and paired at C speed); raises
    :class:`Damaged` when it is not what the index writes."""
    ctxs, msgids, homes = body.get("msgctxt"), body.get("msgid"), body.get("home")
    if type(ctxs) is not list or type(msgids) is not list or type(homes) is not list:
        raise Damaged("a band of the index does not hold three lists")
    if not len(ctxs) == len(msgids) == len(homes):
        raise Damaged("the lists of a band of the index differ in length")
    if not set(map(type, msgids)) <= {str} or not set(map(type, homes)) <= {str}:
        raise Damaged("a source or home of the index is not a string")
    if not set(map(type, ctxs)) <= {str, type(None)}:
        raise Damaged("a context of the index is not a string or null")
    fresh = set(homes) - _VALID_HOMES
    for home in fresh:
        if not HOME.fullmatch(home):
            raise Damaged(f"a source of the index has no valid home: {home[:80]!r}")
    if len(_VALID_HOMES) + len(fresh) > 100_000:
        _VALID_HOMES.clear()
    _VALID_HOMES.update(fresh)  # each band of every locale names the same homes: checked once
    return dict(zip(zip(ctxs, msgids, strict=True), homes, strict=True))


def check_records(records: dict[str, Any]) -> None:
    """Every record has the shape :func:`~.memory_records.add` writes: [translation, reviewed,
    count, [[at, origin, partner, kit]...], [[origin, position]...]], with members while the
    count is positive. Raises :class:`Damaged` otherwise. Of the members, only the first of
    each list is checked: a source not of the course being filled is answered from its first
    members; one of that course (whose own members are left out, so any member may come
    first) is ranked by :meth:`IndexedMemory.load`, where any damage raises too."""
    for k, entry in records.items():
        if type(entry) is not list:
            raise Damaged(f"the records of {k[:80]!r} are not a list")
        for r in entry:
            if (
                type(r) is not list
                or len(r) != 5
                or type(r[0]) is not str
                or type(r[2]) is not int
                or type(r[3]) is not list
                or type(r[4]) is not list
            ):
                raise Damaged(f"a translation of {k[:80]!r} in the index is not a record")
            if r[3]:
                m = r[3][0]
                if type(m) is not list or len(m) != 4 or not all(type(x) is str for x in m):
                    raise Damaged(f"a member of {k[:80]!r} in the index is not [at, origin, partner, kit]")
            elif r[2] > 0:
                raise Damaged(f"a translation of {k[:80]!r} has a count and no members")
            if r[4]:
                m = r[4][0]
                if type(m) is not list or len(m) != 2 or type(m[0]) is not str or type(m[1]) is not int:
                    raise Damaged(f"a position of {k[:80]!r} in the index is not [origin, position]")
            elif r[2] > 0:
                raise Damaged(f"a translation of {k[:80]!r} has a count and no positions")


def _check_first(key: Key, reps: list[Any], pos: list[Any]) -> None:
    """The members a source is answered from are what the index writes (see :func:`check_records`)."""
    rep, first = reps[0], pos[0]
    if type(rep) is not list or len(rep) != 4 or not all(type(x) is str for x in rep):
        raise Damaged(f"a member of {key_of(*key)[:80]!r} in the index is not [at, origin, partner, kit]")
    if type(first) is not list or len(first) != 2 or type(first[0]) is not str or type(first[1]) is not int:
        raise Damaged(f"a position of {key_of(*key)[:80]!r} in the index is not [origin, position]")


class LengthIndex:
    """The sources of one context sorted by length: a near-match lookup scores only those
    whose length allows the cutoff (``fuzz.ratio`` is 2·LCS/(|a|+|b|), so a source of length
    ``n`` reaches ``s`` only when ``|a|·s/(2-s) <= n <= |a|·(2-s)/s``: the window of
    :class:`~.memory.NearIndex`, one slice, in no particular order)."""

    def __init__(self, msgids: list[str]) -> None:
        self.msgids = sorted(msgids, key=len)
        self.lengths = [len(m) for m in self.msgids]

    def window(self, query: str, cutoff: float) -> list[str]:
        s = cutoff / 100
        if s <= 0:
            return self.msgids
        shortest, longest = length_window(len(query), s)
        lo = bisect.bisect_left(self.lengths, shortest)
        hi = bisect.bisect_right(self.lengths, longest)
        return self.msgids[lo:hi]

    def matches(self, query: str, cutoff: float) -> list[tuple[str, float]]:
        """(msgid, score) of every source at or above ``cutoff`` (0-100)."""
        pool = self.window(query, cutoff)
        if not pool:
            return []
        found = process.extract(query, pool, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
        return [(str(m), float(score)) for m, score, _ in found]


class NearScores:
    """Near-match scores shared by the lookups of one process: the sources each lookup may
    offer (per context) join a *universe*, kept in chunks sorted by length, and a query's
    matches are scored once per chunk, whichever locale asks. Updating a course fills it in
    every locale from memories that mostly hold the same sources, so each (query, source)
    pair is scored once instead of once per locale.

    Exact: a lookup answers from the matches of its own sources only (a set filter), and its
    sources are all in the universe when it asks, so it gets every source of its own that
    reaches the cutoff, with the score ``fuzz.ratio`` gives. Bounded: past ``limit`` sources
    or queries, everything is dropped (lookups add their sources back when they next ask).
    Thread-safe (one lock: flows may run lookups in threads)."""

    def __init__(self, limit: int = 400_000) -> None:
        self.limit = limit
        self.generation = 0
        self._lock = threading.Lock()
        self._seen: dict[str | None, set[str]] = {}
        self._chunks: dict[str | None, list[LengthIndex]] = {}
        self._hits: dict[tuple[str | None, str, float], tuple[int, list[tuple[str, float]]]] = {}
        self._size = 0

    def add(self, msgctxt: str | None, msgids: list[str]) -> int:
        """Put ``msgids`` in the universe of ``msgctxt``; returns the generation they are in."""
        with self._lock:
            if self._size + len(msgids) > self.limit or len(self._hits) > self.limit:
                self._seen.clear()
                self._chunks.clear()
                self._hits.clear()
                self._size = 0
                self.generation += 1
            seen = self._seen.setdefault(msgctxt, set())
            new = [m for m in msgids if m not in seen]
            if new:
                seen.update(new)
                self._chunks.setdefault(msgctxt, []).append(LengthIndex(new))
                self._size += len(new)
            return self.generation

    def matches(
        self, msgctxt: str | None, query: str, cutoff: float, generation: int
    ) -> list[tuple[str, float]] | None:
        """(msgid, score) of every source of the universe at or above ``cutoff``; None when the
        universe was dropped since ``generation`` (add the sources again)."""
        with self._lock:
            if generation != self.generation:
                return None
            chunks = self._chunks.get(msgctxt, [])
            key = (msgctxt, query, cutoff)
            done, found = self._hits.get(key, (0, []))
            if done < len(chunks):
                found = found + [m for chunk in chunks[done:] for m in chunk.matches(query, cutoff)]
                self._hits[key] = (len(chunks), found)
            return found


NEAR_SCORES = NearScores()


def _with_imported(units: list[MemoryUnit] | None, imported: MemoryUnit) -> list[MemoryUnit]:
    """A source's ranked translations from the catalogs with the compendium's unit of it joined,
    as a full scan ranks them: reviewed ones only when any is; the catalogs' texts first (the
    imported unit of a text they have only joins it: the count and representative stay the
    catalogs'), an imported text of its own last."""
    if not units:
        return [imported]
    if units[0].reviewed != imported.reviewed:  # the catalogs' ranking is reviewed only, or none is
        return units if units[0].reviewed else [imported]
    return units if any(u.msgstr == imported.msgstr for u in units) else [*units, imported]


class IndexedMemory(TranslationMemory):
    """The memory of a locale less one course, from the index: every source of the length bands
    read (with its home), and the records of a home read when a source of it is first asked
    (:meth:`load` reads those of the sources a fill will ask about up front, so damage shows
    inside ``memory_for``; a near match's home may be read during the fill, and damage there
    raises :class:`Damaged`). Ranked per source when first asked. Only :meth:`offer`,
    :meth:`near_match` and :meth:`fill` answer; ``len``, ``units`` and ``listed`` cover only
    what was asked so far."""

    def __init__(
        self,
        homes: dict[Key, str],
        load_home: Callable[[str], dict[str, Any]],
        course: str,
        own: set[tuple[str | None, str, str, bool]],
        rules: list[MemoryRule],
        *,
        glossary: Glossary | None = None,
        imported: Iterable[MemoryUnit] = (),
        concurrent: bool = True,
    ) -> None:
        super().__init__((), glossary=glossary)
        self._concurrent = concurrent
        # the imported compendium's units (memory edits applied), one per source, after every
        # catalog in memory order
        self._imported: dict[Key, tuple[MemoryUnit, Position]] = {}
        for i, u in enumerate(imported):
            if u.msgstr and not u.obsolete:
                self._imported.setdefault(u.key, (u, pos_order([IMPORTED, i])))
        self._homes = homes
        self._load_home = load_home
        self._records: dict[str, Any] = {}
        self._loaded: set[str] = set()
        self._course = course
        self._own = own
        self._rules = [r for r in rules if r.action in (DELETE, OBSOLETE)]
        self._positions: dict[Key, Position] = {}
        self._absent: set[Key] = set()
        by_context: dict[str | None, list[str]] = defaultdict(list)
        for ctx, msgid in homes:
            by_context[ctx].append(msgid)
        for ctx, msgid in self._imported.keys() - homes.keys():
            by_context[ctx].append(msgid)
        self.near = {}
        self._sources = dict(by_context)
        self._members = {ctx: set(msgids) for ctx, msgids in by_context.items()}
        self._generations: dict[str | None, int] = {}

    def load(self, keys: Iterable[Key], near: Iterable[Key] = (), similarity: float = 0.0) -> None:
        """Read the homes of ``keys`` now and rank the course's own sources (where a prefix may
        run out: found now, not during a fill); then the homes of the near matches at
        ``similarity`` of those of ``near`` that have no exact match (the sources a fill will
        ask a near match for), all at once."""
        self._homes_read({self._homes[k] for k in keys if k in self._homes})
        for msgctxt, msgid, _, _ in self._own:
            self._ranked((msgctxt, msgid))
        wanted: set[str] = set()
        for msgctxt, msgid in near:
            members = self._members.get(msgctxt)
            if members is None or self._ranked((msgctxt, msgid)) is not None:
                continue
            for found, _ in self._scored(msgctxt, msgid, similarity * 100):
                home = self._homes.get((msgctxt, found)) if found in members else None
                if home is not None:
                    wanted.add(home)
        self._homes_read(wanted)

    def _homes_read(self, homes: set[str]) -> None:
        """Read these homes' records, several at a time when ``concurrent`` (an S3 workspace answers
        each in a round trip)."""
        todo = sorted(homes - self._loaded)
        if len(todo) > 1 and self._concurrent:
            with ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
                got = list(pool.map(self._load_home, todo))
        else:
            got = [self._load_home(h) for h in todo]
        for home, records in zip(todo, got, strict=True):
            self._records.update(records)
            self._loaded.add(home)

    def _ranked(self, key: Key) -> list[MemoryUnit] | None:
        """The translations offered for ``key``, ranked (None: nothing to offer)."""
        if key in self.candidates:
            return self.candidates[key]
        if key in self._absent:
            return None
        home = self._homes.get(key)
        units = None if home is None else self._from_records(key, home)
        imported = self._imported.get(key)
        if imported is not None:
            units = _with_imported(units, imported[0])
            self._positions.setdefault(key, imported[1])
        if not units:
            self._absent.add(key)
            return None
        self.candidates[key] = units
        self.exact[key] = (units[0].msgstr, describe_origin(units[0]))
        return units

    def _from_records(self, key: Key, home: str) -> list[MemoryUnit] | None:
        """The catalogs' translations of ``key``, ranked, from its home's records."""
        self._homes_read({home})
        entry = self._records.get(key_of(*key))
        kept: list[tuple[str, bool, int, list[Any], list[Any]]] = []
        msgctxt, msgid = key
        for msgstr, reviewed, count, reps, pos in entry or ():
            if self._ruled(msgctxt, msgid, msgstr):
                continue
            if (msgctxt, msgid, msgstr, bool(reviewed)) in self._own:
                count -= 1
                reps = [m for m in reps if m[1] != self._course]
                pos = [m for m in pos if m[0] != self._course]
            if count <= 0:
                continue
            if not reps or not pos:
                raise Damaged(f"the members of {key_of(*key)[:80]!r} ran out")  # the locale is rebuilt
            _check_first(key, reps, pos)
            kept.append((msgstr, bool(reviewed), count, reps[0], pos[0]))
        if not kept:
            return None
        pool = [r for r in kept if r[1]] or kept
        ranked = [
            (count, MemoryUnit(msgctxt, msgid, msgstr, rep[1], reviewed, rep[2], rep[3], rep[0]))
            for msgstr, reviewed, count, rep, _ in pool
        ]
        ranked.sort(key=lambda nr: nr[1].msgstr)
        ranked.sort(key=lambda nr: nr[1].at, reverse=True)
        ranked.sort(key=lambda nr: nr[0], reverse=True)
        self._positions[key] = min(pos_order(r[4]) for r in kept)
        return [u for _, u in ranked]

    def _ruled(self, msgctxt: str | None, msgid: str, msgstr: str) -> bool:
        """True when a delete or obsolete edit takes this translation out of what is offered."""
        if not self._rules:
            return False
        probe = MemoryUnit(msgctxt, msgid, msgstr, "")
        return any(r.matches(probe) for r in self._rules)

    def offer(self, key: Key, source: str) -> MemoryUnit | None:
        self._ranked(key)
        return super().offer(key, source)

    def near_match(self, msgctxt: str | None, msgid: str, cutoff: float) -> tuple[MemoryUnit, float] | None:
        members = self._members.get(msgctxt)
        if members is None:
            return None
        best: tuple[tuple[bool, float, bool, str], Position, MemoryUnit, float] | None = None
        for found, score in self._scored(msgctxt, msgid, cutoff):
            if found not in members:
                continue
            unit = self.offer((msgctxt, found), msgid)
            if unit is None:
                continue
            rank = (unit.reviewed, score, unit.home, unit.ranked_at)
            position = self._positions[(msgctxt, found)]
            if best is None or rank > best[0] or (rank == best[0] and position < best[1]):
                best = (rank, position, unit, score)
        return None if best is None else (best[2], best[3])

    def _scored(self, msgctxt: str | None, msgid: str, cutoff: float) -> list[tuple[str, float]]:
        """The matches of ``msgid`` in the shared universe, which holds this memory's sources."""
        while True:
            generation = self._generations.get(msgctxt)
            if generation is not None:
                found = NEAR_SCORES.matches(msgctxt, msgid, cutoff, generation)
                if found is not None:
                    return found
            self._generations[msgctxt] = NEAR_SCORES.add(msgctxt, self._sources[msgctxt])
