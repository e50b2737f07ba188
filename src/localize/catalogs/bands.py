"""Word counts of a kit by match band, so coordinators can plan and budget.

Every entry a translator has to look at falls in one band, counted in source words
(placeholders aside, as everywhere in localize):

* ``memory``: 100 % matches the translation memory filled (to review);
* ``fuzzy``: 75–99 % matches (a near match from the memory, or a changed source whose
  earlier translation is offered), at least ``FUZZY_FLOOR``;
* ``repetition``: the same source text as an earlier entry of the kit that needs work
  (case and spacing aside): translated once, then repeated;
* ``new``: the rest (no match, or a fuzzy one below the floor).

Entries translated by a person earlier are not counted: there is nothing to do.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz

from localize.catalogs.stats import source_words
from localize.model import Catalog

__all__ = ["BANDS", "FUZZY_FLOOR", "BandCount", "estimate", "match_bands"]

BANDS = ("new", "fuzzy", "memory", "repetition")
FUZZY_FLOOR = 75.0
_TM_EXACT = re.compile(r"^localize-tm: exact match\b")
_TM_NEAR = re.compile(r"^localize-tm: (\d{1,3})% match\b")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class BandCount:
    entries: int = 0
    words: int = 0


def match_bands(catalog: Catalog) -> dict[str, BandCount]:
    """Entries and source words per band (see the module's docstring), in ``BANDS`` order."""
    entries = dict.fromkeys(BANDS, 0)
    words = dict.fromkeys(BANDS, 0)
    seen: set[str] = set()
    for e in catalog.entries:
        if e.obsolete:
            continue
        comments = e.translator_comments
        text = e.msgid + ("\n" + e.msgid_plural if e.msgid_plural else "")
        if e.translated:
            if not any(_TM_EXACT.match(c) for c in comments):
                continue  # done by a person
            band = "memory"
        elif e.fuzzy and e.has_translation:
            score = next((float(m.group(1)) for c in comments if (m := _TM_NEAR.match(c))), None)
            if score is None:
                previous = e.previous_msgid if e.previous_msgid is not None else e.msgid
                score = float(fuzz.ratio(previous, e.msgid))
            band = "fuzzy" if score >= FUZZY_FLOOR else "new"
        else:
            band = "new"
        key = _SPACE.sub(" ", text.strip()).casefold()
        if band == "new" and key in seen:
            band = "repetition"
        seen.add(key)
        entries[band] += 1
        words[band] += source_words(e.msgid)
    return {b: BandCount(entries[b], words[b]) for b in BANDS}


def estimate(bands: Mapping[str, BandCount], rates: Mapping[Any, float]) -> float:
    """The cost of a kit: words of each band times the band's rate per word (0 when unset)."""
    return round(sum(bands[b].words * float(rates.get(b, 0.0)) for b in BANDS), 2)
