"""The domain model: units found in pages, catalog entries and catalogs.

All of it is frozen dataclasses holding plain data, so values can cross process
and task boundaries and be compared, hashed and cached.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

ATTRIBUTE_CONTEXT = "attribute"
REVIEWED = "reviewed"
"""The flag of an entry a reviewer signed off (``#, reviewed``; msgfmt -c accepts unknown flags)."""
"""msgctxt of units taken from attributes (alt, title, meta description...)."""


class UnitKind(StrEnum):
    TEXT = "text"
    ATTRIBUTE = "attribute"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """A piece of markup inside a unit, shown to translators as a short tag.

    ``name`` is what the msgid shows (``a1`` for ``<a1>…</a1>``, ``br2`` for
    ``<br2/>``). ``page[start:end]`` is the original markup of the opening tag,
    or of the whole element for a void placeholder (whose content is never
    translated); ``page[close_start:close_end]`` is the closing tag (empty when
    the source left it implied).
    """

    name: str
    start: int
    end: int
    close_start: int | None = None
    close_end: int | None = None

    @property
    def void(self) -> bool:
        return self.close_start is None


@dataclass(frozen=True, slots=True)
class Unit:
    """One occurrence of translatable text in one page.

    ``start``/``end`` are character offsets in the decoded page that a
    translation replaces. ``quote`` is set for attribute units: the quote
    character around the value in the source ('"', "'" or "" when unquoted).
    ``container`` is the tag of the block element a text unit sits in.
    ``lang_at`` says where a text unit's language can be marked: at that offset
    (right after the tag name of the element whose whole content the unit is),
    -1 when the unit shares its element (a ``span`` around it carries the mark),
    -2 when an enclosing element sets its own ``lang``. ``timing`` is the start
    tag of the first word-timing span of a transcript unit (``<span m="940">``).
    """

    kind: UnitKind
    msgid: str
    msgctxt: str | None
    start: int
    end: int
    placeholders: tuple[Placeholder, ...] = ()
    comment: str = ""
    quote: str = '"'
    container: str = ""
    lang_at: int = -1
    timing: tuple[int, int] | None = None

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


@dataclass(frozen=True, slots=True)
class Entry:
    """A catalog entry, as gettext has it."""

    msgid: str
    msgstr: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr_plural: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    references: tuple[str, ...] = ()
    extracted_comments: tuple[str, ...] = ()
    translator_comments: tuple[str, ...] = ()
    previous_msgctxt: str | None = None
    previous_msgid: str | None = None
    obsolete: bool = False
    lineno: int = field(default=0, compare=False)
    msgid_lineno: int = field(default=0, compare=False)
    msgstr_lineno: int = field(default=0, compare=False)

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def translated(self) -> bool:
        """Has a usable translation: not fuzzy, every msgstr filled."""
        if self.fuzzy or self.obsolete:
            return False
        if self.msgid_plural is not None:
            return bool(self.msgstr_plural) and all(self.msgstr_plural)
        return self.msgstr != ""

    @property
    def has_translation(self) -> bool:
        """Some msgstr is filled (translated or fuzzy)."""
        return bool(self.msgstr) or any(self.msgstr_plural)


@dataclass(frozen=True, slots=True)
class Catalog:
    """A whole .po/.pot file: header fields in order, then entries in order."""

    headers: tuple[tuple[str, str], ...] = ()
    entries: tuple[Entry, ...] = ()
    header_comments: tuple[str, ...] = ()
    header_flags: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None

    def with_header(self, name: str, value: str) -> Catalog:
        lname = name.lower()
        out: list[tuple[str, str]] = []
        found = False
        for key, old in self.headers:
            if key.lower() == lname:
                if not found:
                    out.append((key, value))
                found = True
            else:
                out.append((key, old))
        if not found:
            out.append((name, value))
        return replace(self, headers=tuple(out))

    @property
    def language(self) -> str | None:
        return self.header("Language")

    def index(self) -> dict[tuple[str | None, str], Entry]:
        """Live (non-obsolete) entries by (msgctxt, msgid)."""
        return {e.key: e for e in self.entries if not e.obsolete}
