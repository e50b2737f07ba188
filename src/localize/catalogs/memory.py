"""Translation memory: never translate the same sentence twice.

The memory of a locale is every translated, non-fuzzy entry of every catalog of
that locale in the workspace, plus what partners imported (``memory/LL.po``, a
compendium). Untranslated entries are filled from it: an exact match (same
msgid and msgctxt) as translated, with a translator comment saying where it came
from; a near match (similarity at or above a threshold) as fuzzy, with the
memory's msgid as the previous msgid so editors show the difference.

Units carry their provenance (course; partner, kit, date and review from the review ledger,
:func:`localize.catalogs.review.provenance`); edits are rules (:mod:`.memory_rules`).

An imported unit's provenance is only what its file claims (:mod:`.memory_provenance`);
ranking uses only what the workspace recorded: an imported unit counts as reviewed only when
imported with ``--trust-reviewed``, its recency is its import time, and it never outranks a unit
of a catalog of record of the same standing.

Memories travel as compendium PO files, TMX 1.4 or XLIFF 1.2 (:mod:`.memory_files`).
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace

from rapidfuzz import fuzz, process

from localize.catalogs.glossary import FORBIDDEN, Glossary
from localize.catalogs.glossary_files import load_glossary
from localize.catalogs.lifecycle import DEFAULT_SIMILARITY
from localize.catalogs.memory_provenance import (
    IMPORTED,
    MemoryUnit,
    clean_date,
    clean_provenance,
    describe_origin,
    provenance_comments,
    record_comments,
    recorded_units,
    units_of,
)
from localize.catalogs.memory_rules import apply_rules, load_rules
from localize.catalogs.review import provenance
from localize.catalogs.workspace import Workspace
from localize.errors import CatalogNotFoundError
from localize.model import Catalog, Entry

__all__ = [
    "IMPORTED",
    "FillReport",
    "MemoryUnit",
    "NearIndex",
    "TranslationMemory",
    "clean_date",
    "clean_provenance",
    "describe_origin",
    "length_window",
    "load_memory",
    "memory_units",
    "provenance_comments",
    "record_comments",
    "recorded_units",
    "units_of",
]

COMMENT_PREFIX = "localize-tm:"


@dataclass(frozen=True, slots=True)
class FillReport:
    exact: int
    near: int


def length_window(n: int, similarity: float) -> tuple[int, int]:
    """The lengths (lowest, highest) a source may have to reach ``similarity`` (0-1, above 0)
    with a source of length ``n``: ``fuzz.ratio`` is 2·LCS/(|a|+|b|) and LCS <= min(|a|, |b|),
    so only ``n·s/(2-s) <= length <= n·(2-s)/s``, one either side kept for rounding."""
    s = similarity
    return math.floor(n * s / (2 - s)) - 1, math.ceil(n * (2 - s) / s) + 1


class NearIndex:
    """Near-match lookups that read only the candidates that can reach the cutoff.

    ``fuzz.ratio`` is 2·LCS/(|a|+|b|) and LCS <= min(|a|, |b|), so a candidate of
    length ``n`` can reach a similarity ``s`` only when
    ``|a|·s/(2-s) <= n <= |a|·(2-s)/s``: the msgids are kept sorted by length and
    a lookup scores just that window, in the memory's own order, so the result
    (best score, first in memory order on a tie) is the one a full scan gives.
    """

    def __init__(self, msgids: list[str]) -> None:
        self.msgids = msgids
        self.order = sorted(range(len(msgids)), key=lambda i: len(msgids[i]))
        self.lengths = [len(msgids[i]) for i in self.order]

    def window(self, query: str, cutoff: float) -> list[str]:
        """The msgids whose length allows a ratio of ``cutoff`` (0-100) with ``query``, in memory order."""
        s = cutoff / 100
        if s <= 0:
            return self.msgids
        shortest, longest = length_window(len(query), s)
        lo = bisect.bisect_left(self.lengths, shortest)
        hi = bisect.bisect_right(self.lengths, longest)
        return [self.msgids[i] for i in sorted(self.order[lo:hi])]

    def matches(self, query: str, cutoff: float) -> list[tuple[str, float, int]]:
        """(msgid, score, position in memory order) of every msgid at or above ``cutoff``."""
        found = process.extract(query, self.window(query, cutoff), scorer=fuzz.ratio, score_cutoff=cutoff, limit=None)
        return [(str(m), float(score), int(i)) for m, score, i in found]

    def best(self, query: str, cutoff: float) -> tuple[str, float] | None:
        """(msgid, score) of the best match at or above ``cutoff``, or None."""
        pool = self.window(query, cutoff)
        if not pool:
            return None
        found = process.extractOne(query, pool, scorer=fuzz.ratio, score_cutoff=cutoff)
        return (str(found[0]), float(found[1])) if found is not None else None


class TranslationMemory:
    """Exact and near lookups over memory units.

    A source's translations rank reviewed only (when any), then the workspace's own catalogs'
    before imported ones, then most common (in the catalogs), most recent, alphabetical. Near
    matches rank reviewed, then more similar, then the workspace's own, more recent, first in
    memory order. An imported unit's reviewed and date are what the workspace recorded
    (:attr:`MemoryUnit.ranked_at`), never what its file claims. A translation using a forbidden
    glossary translation of a term of the entry's source is never offered (the next is);
    obsolete units are listed, never offered.
    """

    def __init__(self, units: Iterable[MemoryUnit], *, glossary: Glossary | None = None) -> None:
        self.glossary = glossary if glossary is not None and len(glossary) else None
        self.listed = [u for u in units if u.msgstr]  # what `tm list` shows, obsolete units too
        groups: dict[tuple[str | None, str], list[MemoryUnit]] = defaultdict(list)
        for u in (u for u in self.listed if not u.obsolete):
            groups[u.key].append(u)
        self.candidates: dict[tuple[str | None, str], list[MemoryUnit]] = {}
        self.exact: dict[tuple[str | None, str], tuple[str, str]] = {}
        for key, group in groups.items():
            pool = [u for u in group if u.reviewed] or group  # reviewed candidates win
            by_text: dict[str, list[MemoryUnit]] = defaultdict(list)
            for u in pool:
                by_text[u.msgstr].append(u)
            # each text's representative: the workspace's own latest accepted (the first origin on a tie);
            # how common a text is counts the catalogs' units (an imported file cannot tip it)
            reps = [
                (
                    sum(1 for u in us if u.home) or len(us),
                    min(us, key=lambda u: (not u.home, _newest_first(u.ranked_at), u.origin)),
                )
                for us in by_text.values()
            ]
            reps.sort(key=lambda nr: nr[1].msgstr)
            reps.sort(key=lambda nr: nr[1].ranked_at, reverse=True)
            reps.sort(key=lambda nr: nr[0], reverse=True)
            reps.sort(key=lambda nr: nr[1].home, reverse=True)
            ranked = [rep for _, rep in reps]
            self.candidates[key] = ranked
            self.exact[key] = (ranked[0].msgstr, describe_origin(ranked[0]))
        by_context: dict[str | None, list[str]] = defaultdict(list)
        for ctx, msgid in self.exact:
            by_context[ctx].append(msgid)
        self.near: dict[str | None, NearIndex] = {ctx: NearIndex(msgids) for ctx, msgids in by_context.items()}

    def __len__(self) -> int:
        return len(self.exact)

    def units(self) -> list[MemoryUnit]:
        """The translation offered for every source, in (msgctxt, msgid) order."""
        return [self.candidates[key][0] for key in sorted(self.exact, key=lambda k: (k[0] or "", k[1]))]

    def allowed(self, source: str, text: str) -> bool:
        """False when ``text`` uses a forbidden translation of a glossary term of ``source``."""
        if self.glossary is None:
            return True
        return not any(f.kind == FORBIDDEN for f in self.glossary.check(source, text))

    def offer(self, key: tuple[str | None, str], source: str) -> MemoryUnit | None:
        """The best translation of ``key`` the memory may offer for ``source``."""
        return next((u for u in self.candidates.get(key, ()) if self.allowed(source, u.msgstr)), None)

    def near_match(self, msgctxt: str | None, msgid: str, cutoff: float) -> tuple[MemoryUnit, float] | None:
        """The best near match for ``msgid`` at or above ``cutoff`` (0-100), and its score."""
        index = self.near.get(msgctxt)
        if index is None:
            return None
        best: tuple[tuple[bool, float, bool, str, int], MemoryUnit, float] | None = None
        for found, score, position in index.matches(msgid, cutoff):
            unit = self.offer((msgctxt, found), msgid)
            if unit is None:
                continue
            rank = (unit.reviewed, score, unit.home, unit.ranked_at, -position)
            if best is None or rank > best[0]:
                best = (rank, unit, score)
        return None if best is None else (best[1], best[2])

    def fill(self, catalog: Catalog, *, similarity: float = DEFAULT_SIMILARITY) -> tuple[Catalog, FillReport]:
        """Fill every untranslated entry of ``catalog`` that the memory knows."""
        exact = near = 0
        cutoff = similarity * 100
        entries: list[Entry] = []
        for e in catalog.entries:
            if e.obsolete or e.msgid_plural is not None or e.msgstr or e.fuzzy:
                entries.append(e)
                continue
            hit = self.offer(e.key, e.msgid)
            if hit is not None:
                exact += 1
                entries.append(
                    replace(
                        e,
                        msgstr=hit.msgstr,
                        translator_comments=(
                            *e.translator_comments,
                            f"{COMMENT_PREFIX} exact match from {_where(hit)}",
                        ),
                    )
                )
                continue
            found = self.near_match(e.msgctxt, e.msgid, cutoff)
            if found is None:
                entries.append(e)
                continue
            unit, score = found
            near += 1
            entries.append(
                replace(
                    e,
                    msgstr=unit.msgstr,
                    flags=tuple(sorted({*e.flags, "fuzzy"})),
                    previous_msgctxt=e.msgctxt,
                    previous_msgid=unit.msgid,
                    translator_comments=(
                        *e.translator_comments,
                        f"{COMMENT_PREFIX} {score:.0f}% match from {_where(unit)}",
                    ),
                )
            )
        return replace(catalog, entries=tuple(entries)), FillReport(exact, near)


def _newest_first(at: str) -> tuple[int, ...]:
    return (*(-ord(c) for c in at), 1)  # "" (unknown) sorts last


def _where(unit: MemoryUnit) -> str:
    """``8.05`` or ``8.05 (lima, reviewed)``: the origin, and the partner when known."""
    extra = [x for x in (unit.partner, "reviewed" if unit.reviewed else "") if x]
    return describe_origin(unit) + (f" ({', '.join(extra)})" if extra else "")


def memory_units(workspace: Workspace, locale: str, *, exclude_course: str | None = None) -> list[MemoryUnit]:
    """Every unit of the memory of ``locale``, one per translated entry of each catalog (with
    its provenance from the review ledger) and of the imported compendium, with the workspace's
    memory rules applied: deleted units left out, obsolete ones marked."""
    units: list[MemoryUnit] = []
    for course, ll in workspace.catalogs(locale=locale):
        if course == exclude_course:
            continue
        catalog = workspace.read_catalog(course, ll)
        made = provenance(workspace, catalog, course, ll)
        for u in units_of(catalog, course):
            p = made.get(u.key)
            units.append(u if p is None else replace(u, partner=p.partner, kit=p.kit, at=p.at))
    with contextlib.suppress(CatalogNotFoundError):
        units.extend(recorded_units(workspace.read(workspace.memory_key(locale))))
    return apply_rules(units, load_rules(workspace, locale))


def load_memory(
    workspace: Workspace, locale: str, *, exclude_course: str | None = None, glossary: Glossary | None = None
) -> TranslationMemory:
    """The memory of ``locale``: its other catalogs and the imported compendium.

    ``exclude_course`` is the course being filled: its own catalog is left out, and the
    memory never offers a translation its glossary (the locale's terms with the course's
    own over them, unless ``glossary`` is given) forbids."""
    if glossary is None:
        glossary = load_glossary(workspace, locale, exclude_course)
    return TranslationMemory(memory_units(workspace, locale, exclude_course=exclude_course), glossary=glossary)
