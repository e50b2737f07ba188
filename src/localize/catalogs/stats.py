"""Catalog statistics: entries and source words, translated, fuzzy and untranslated.

The one place these tallies are counted; stats, status, the dashboard, the
preview, routing and the publish gate all read them from here.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from localize.engine.placeholders import strip_placeholders
from localize.model import REVIEWED, Catalog

__all__ = ["CatalogStats", "catalog_stats", "format_share", "share", "source_words"]


def share(percent: float) -> float:
    """A percentage to one decimal that never shows a share that is not complete as
    complete (99.96 -> 99.9, not 100.0) nor a started one as none (0.04 -> 0.1)."""
    shown = round(percent, 1)
    if shown >= 100.0 and percent < 100.0:
        return 99.9
    if shown <= 0.0 < percent:
        return 0.1
    return shown


def format_share(percent: float) -> str:
    """``share`` as text: '23.0 %'."""
    return f"{share(percent):.1f} %"


def source_words(msgid: str) -> int:
    return len(strip_placeholders(msgid).split())


@dataclass(frozen=True, slots=True)
class CatalogStats:
    course: str
    locale: str
    entries: int
    words: int
    translated: int
    fuzzy: int
    untranslated: int
    translated_words: int
    reviewed: int = 0  # translated entries signed off by a reviewer (#, reviewed)
    error: str = ""  # the catalog could not be read (counts are 0): what is wrong and where

    @property
    def translated_percent(self) -> float:
        return 100.0 * self.translated / self.entries if self.entries else 100.0

    @property
    def translated_words_percent(self) -> float:
        """The share of source words translated (what a region's publish threshold measures)."""
        return 100.0 * self.translated_words / self.words if self.words else 100.0

    @property
    def fuzzy_percent(self) -> float:
        return 100.0 * self.fuzzy / self.entries if self.entries else 0.0

    @property
    def untranslated_percent(self) -> float:
        return 100.0 * self.untranslated / self.entries if self.entries else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "course": self.course,
            "locale": self.locale,
            "entries": self.entries,
            "words": self.words,
            "translated": self.translated,
            "fuzzy": self.fuzzy,
            "untranslated": self.untranslated,
            "translated_words": self.translated_words,
            "reviewed": self.reviewed,
            "translated_percent": share(self.translated_percent),
            "translated_words_percent": share(self.translated_words_percent),
            "fuzzy_percent": share(self.fuzzy_percent),
            "untranslated_percent": share(self.untranslated_percent),
        } | ({"error": self.error} if self.error else {})


def catalog_stats(catalog: Catalog, course: str, locale: str) -> CatalogStats:
    counts: Counter[str] = Counter()
    words = translated_words = 0
    for e in catalog.entries:
        if e.obsolete:
            continue
        n = source_words(e.msgid)
        words += n
        if e.translated:
            counts["translated"] += 1
            translated_words += n
            if REVIEWED in e.flags:
                counts["reviewed"] += 1
        elif e.fuzzy and e.has_translation:
            counts["fuzzy"] += 1
        else:
            counts["untranslated"] += 1
    total = counts["translated"] + counts["fuzzy"] + counts["untranslated"]
    return CatalogStats(
        course,
        locale,
        total,
        words,
        counts["translated"],
        counts["fuzzy"],
        counts["untranslated"],
        translated_words,
        counts["reviewed"],
    )
