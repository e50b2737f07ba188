"""Glossaries: a locale's (and optionally a course's) terms and their approved translations.

A term row is (term, translation, status, part of speech, note); the status is
``approved`` (the translation to use), ``forbidden`` (a translation never to use) or
``do-not-translate`` (the term stays as in the source: names, code, units). A
:class:`Glossary` finds its terms in a source and checks a translation against them,
in any inflection (:mod:`.terms`); the files of record (TBX) and CSV are in
:mod:`.glossary_files`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from localize.catalogs.terms import Stemmer, contains_tokens, find, stemmer_for
from localize.errors import ConfigError
from localize.model import Catalog

__all__ = [
    "APPROVED",
    "DO_NOT_TRANSLATE",
    "FORBIDDEN",
    "STATUSES",
    "TERMS_COMMENT",
    "Glossary",
    "Term",
    "TermFinding",
    "TermGroup",
    "annotate",
    "with_terms",
]

APPROVED, FORBIDDEN, DO_NOT_TRANSLATE = "approved", "forbidden", "do-not-translate"
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")  # what XML 1.0 cannot hold
STATUSES = (APPROVED, FORBIDDEN, DO_NOT_TRANSLATE)


@dataclass(frozen=True, slots=True)
class Term:
    term: str
    translation: str
    status: str = APPROVED
    pos: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ConfigError(f"term {self.term!r}: status must be one of {', '.join(STATUSES)}, not {self.status!r}")
        if not self.term.strip():
            raise ConfigError("a glossary term is empty")
        for name in ("term", "translation", "pos", "note"):
            bad = _NOT_XML.search(getattr(self, name))
            if bad is not None:  # no TBX file can hold it: the glossary would stop reading
                raise ConfigError(
                    f"term {self.term[:60]!r}: its {name} holds the control character U+{ord(bad.group()):04X}, "
                    "which no TBX file can hold: remove it"
                )


@dataclass(frozen=True, slots=True)
class TermGroup:
    """Everything a glossary says about one source term."""

    term: str
    approved: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()
    do_not_translate: bool = False
    pos: str = ""
    note: str = ""

    def comment(self) -> str:
        """How a translator sees it: ``eigenvalue = valor propio (not: autovalor)``."""
        if self.do_not_translate:
            text = f"{self.term} (do not translate)"
        else:
            text = f"{self.term} = {' / '.join(self.approved)}" if self.approved else self.term
            if self.forbidden:
                text += f" (not: {', '.join(self.forbidden)})"
        return text


@dataclass(frozen=True, slots=True)
class TermFinding:
    kind: str  # "missing", "forbidden", "translated"
    term: str
    message: str


@dataclass(frozen=True)
class Glossary:
    """The terms of a locale, with inflection-tolerant lookups in sources and translations."""

    locale: str
    terms: tuple[Term, ...] = ()
    source_locale: str = "en"
    _groups: list[tuple[tuple[str, ...], TermGroup]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        rows: dict[str, list[Term]] = {}
        for t in self.terms:
            rows.setdefault(t.term.casefold(), []).append(t)
        groups: list[tuple[tuple[str, ...], TermGroup]] = []
        source = stemmer_for(self.source_locale)
        for items in rows.values():
            first = items[0]
            group = TermGroup(
                first.term,
                tuple(dict.fromkeys(t.translation for t in items if t.status == APPROVED and t.translation)),
                tuple(dict.fromkeys(t.translation for t in items if t.status == FORBIDDEN and t.translation)),
                any(t.status == DO_NOT_TRANSLATE for t in items),
                next((t.pos for t in items if t.pos), ""),
                next((t.note for t in items if t.note), ""),
            )
            groups.append((tuple(source.stems(first.term)), group))
        # longer terms first: "harmonic oscillator" is reported before "oscillator"
        groups.sort(key=lambda g: (-len(g[0]), g[1].term.casefold()))
        object.__setattr__(self, "_groups", groups)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def target(self) -> Stemmer:
        return stemmer_for(self.locale)

    def groups(self) -> list[TermGroup]:
        return [g for _, g in self._groups]

    def in_source(self, source: str) -> list[TermGroup]:
        """The terms that occur in ``source`` (any inflection); a term inside a longer one found
        at the same place is left out."""
        stems = stemmer_for(self.source_locale).stems(source)
        covered: set[int] = set()
        out: list[TermGroup] = []
        for term_stems, group in self._groups:
            spans = [set(range(i, j)) for i, j in find(stems, term_stems)]
            free = [s for s in spans if not s <= covered]
            if free:
                out.append(group)
                for s in free:
                    covered |= s
        return out

    def check(self, source: str, translation: str) -> list[TermFinding]:
        """Terminology problems of one translation: an approved translation missing, a
        forbidden one used, a do-not-translate term translated."""
        found = self.in_source(source)
        if not found:
            return []
        target = self.target
        stems = target.stems(translation)
        out: list[TermFinding] = []
        for group in found:
            if group.do_not_translate:
                if not contains_tokens(translation, group.term):
                    out.append(
                        TermFinding(
                            "translated", group.term, f"{group.term!r} must not be translated: keep it as in the source"
                        )
                    )
                continue
            approved_at: set[int] = set()
            for a in group.approved:
                for i, j in find(stems, target.stems(a), loose=True):
                    approved_at |= set(range(i, j))
            for f in group.forbidden:
                if any(not set(range(i, j)) <= approved_at for i, j in find(stems, target.stems(f))):
                    use = f"; use {' or '.join(repr(a) for a in group.approved)}" if group.approved else ""
                    out.append(
                        TermFinding("forbidden", group.term, f"{f!r} is a forbidden translation of {group.term!r}{use}")
                    )
            if group.approved and not approved_at:
                wanted = " or ".join(repr(a) for a in group.approved)
                out.append(TermFinding("missing", group.term, f"{group.term!r} should be translated as {wanted}"))
        return out

    def merged(self, other: Glossary) -> Glossary:
        """This glossary with ``other``'s terms replacing its own of the same source term."""
        replaced = {t.term.casefold() for t in other.terms}
        kept = tuple(t for t in self.terms if t.term.casefold() not in replaced)
        return Glossary(self.locale, kept + other.terms, self.source_locale)


TERMS_COMMENT = "Terms: "


def annotate(catalog: Catalog, glossary: Glossary) -> tuple[Catalog, int]:
    """``catalog`` with a translator-facing comment on every entry whose source has glossary
    terms (``#. Terms: eigenvalue = valor propio; MATLAB (do not translate)``); returns the
    catalog and how many entries got one."""
    if not len(glossary):
        return catalog, 0
    n = 0
    entries = []
    for e in catalog.entries:
        kept = tuple(c for c in e.extracted_comments if not c.startswith(TERMS_COMMENT))
        groups = [] if e.obsolete else glossary.in_source(e.msgid + ("\n" + e.msgid_plural if e.msgid_plural else ""))
        if groups:
            n += 1
            kept = (*kept, TERMS_COMMENT + "; ".join(g.comment() for g in groups))
        entries.append(e if kept == e.extracted_comments else replace(e, extracted_comments=kept))
    return replace(catalog, entries=tuple(entries)), n


def with_terms(glossary: Glossary, rows: Iterable[Term]) -> Glossary:
    """``glossary`` with ``rows`` added; rows of a term already there replace its rows."""
    return glossary.merged(Glossary(glossary.locale, tuple(rows), glossary.source_locale))
