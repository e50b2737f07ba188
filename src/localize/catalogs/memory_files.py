"""Translation memories in and out: compendium PO, TMX 1.4 and XLIFF 1.2, with provenance.

Every unit carries where it came from (course, partner, kit, date, reviewed, obsolete):

* in a compendium PO, as translator comments (``# origin: 8.05``, ``# partner: lima``,
  ``# kit: …``, ``# date: …``, ``# reviewed``, ``# obsolete``);
* in TMX, as ``<prop type="x-origin|x-partner|x-kit|x-reviewed|x-obsolete">`` on each ``<tu>``
  and its date as the ``creationdate`` and ``changedate`` attributes (TMX's ``YYYYMMDDThhmmssZ``).

``tm import`` of such a file keeps it all, as the file's claims: the imported compendium records
them beside the file's name and the import time (:func:`localize.catalogs.memory_provenance.record_comments`),
dates later than the import are the import time, and a claimed review counts only when the
operator trusts the file (``--trust-reviewed``). An imported obsolete unit is never offered.
Provenance values are cleaned (no control characters, one bounded line) when read and written,
so an export is always valid XML. Other tools ignore the ``x-`` properties and comments they do not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from localize import __version__
from localize.catalogs.memory import TranslationMemory
from localize.catalogs.memory_provenance import (
    MemoryUnit,
    clean_date,
    clean_provenance,
    provenance_comments,
    record_comments,
    recorded_units,
    units_of,
)
from localize.catalogs.po import read_po
from localize.catalogs.tmx_codes import Codes, refuse_entities, segment_text, source_segment, target_segment
from localize.catalogs.xliff import is_xliff, read_xliff, write_xliff
from localize.errors import CatalogError
from localize.locales import check_locale, html_lang, same_language
from localize.model import Catalog, Entry

__all__ = ["as_imported", "merge_into_compendium", "read_memory_file", "read_tmx", "to_po", "to_tmx", "to_xliff"]

TMX_DATE = "%Y%m%dT%H%M%SZ"
_YES = ("yes", "true", "1")
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml(text: str) -> str:
    """``text`` escaped as XML 1.0 character data (characters it cannot carry become U+FFFD)."""
    return escape(_XML_BAD.sub("\ufffd", text))


def _exported(memory: TranslationMemory, obsolete: bool) -> list[MemoryUnit]:
    """The unit offered for every source, then (``obsolete``) the units marked obsolete."""
    return memory.units() + ([u for u in memory.listed if u.obsolete] if obsolete else [])


def to_po(memory: TranslationMemory, locale: str, *, obsolete: bool = False) -> Catalog:
    """A compendium: one entry per memory unit, its provenance as translator comments."""
    headers = (
        ("Project-Id-Version", "localize translation memory"),
        ("Language", locale),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("X-Generator", f"localize {__version__}"),
    )
    entries = tuple(
        Entry(u.msgid, u.msgstr, u.msgctxt, translator_comments=provenance_comments(u))
        for u in _exported(memory, obsolete)
    )
    return Catalog(headers=headers, entries=entries)


def _tmx_date(at: str) -> str | None:
    try:
        when = datetime.fromisoformat(at)
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC).strftime(TMX_DATE)
    except (ValueError, OverflowError):
        return None


def _iso_date(value: str | None) -> str:
    try:
        return datetime.strptime(value or "", TMX_DATE).replace(tzinfo=UTC).isoformat(timespec="seconds")
    except ValueError:
        return ""


def to_tmx(memory: TranslationMemory, locale: str, source_locale: str = "en", *, obsolete: bool = False) -> str:
    created = datetime.now(UTC).strftime(TMX_DATE)
    src, tgt = html_lang(source_locale), html_lang(locale)  # BCP 47: sr@latin is sr-Latn
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<tmx version="1.4">',
        f'  <header creationtool="localize" creationtoolversion={quoteattr(__version__)} datatype="plaintext" '
        f'segtype="sentence" adminlang="en" srclang={quoteattr(src)} o-tmf="gettext" creationdate="{created}"/>',
        "  <body>",
    ]
    for u in _exported(memory, obsolete):
        when = _tmx_date(u.at) if u.at else None
        out.append(f'    <tu creationdate="{when}" changedate="{when}">' if when else "    <tu>")
        if u.msgctxt is not None:
            out.append(f'      <prop type="x-context">{_xml(u.msgctxt)}</prop>')
        for name, value in (("origin", u.origin or u.imported_from), ("partner", u.partner), ("kit", u.kit)):
            if clean_provenance(value):
                out.append(f'      <prop type="x-{name}">{escape(clean_provenance(value))}</prop>')
        for name, flag in (("reviewed", u.reviewed), ("obsolete", u.obsolete)):
            if flag:
                out.append(f'      <prop type="x-{name}">yes</prop>')
        out.append(f"      <tuv xml:lang={quoteattr(src)}><seg>{_xml(u.msgid)}</seg></tuv>")
        out.append(f"      <tuv xml:lang={quoteattr(tgt)}><seg>{_xml(u.msgstr)}</seg></tuv>")
        out.append("    </tu>")
    out += ["  </body>", "</tmx>", ""]
    return "\n".join(out)


def to_xliff(memory: TranslationMemory, locale: str, source_locale: str = "en", *, obsolete: bool = False) -> bytes:
    """The memory as XLIFF 1.2: one translated unit per memory unit, its provenance as notes."""
    catalog = to_po(memory, locale, obsolete=obsolete)
    return write_xliff(catalog, original="translation-memory", source_locale=source_locale, target_locale=locale)


def _lang_matches(lang: str, locale: str) -> bool:
    """A file's language tag names ``locale`` (any spelling or old code; the script must agree,
    a region may be named on one side only)."""
    return lang.replace("_", "-").lower() == locale.replace("_", "-").lower() or same_language(lang, locale)


def read_tmx(data: bytes, path: str, locale: str, origin: str) -> list[MemoryUnit]:
    """Memory units for ``locale`` from a TMX file (any version 1.x), with the provenance of
    localize's ``x-`` properties and the ``changedate`` (else ``creationdate``) of each ``<tu>``."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise CatalogError(f"not a valid TMX file: {e.msg}", path=path, line=e.lineno) from e
    if root.tag != "tmx":
        raise CatalogError(f"not a TMX file (root element <{root.tag}>)", path=path, line=root.sourceline)
    refuse_entities(root, path, "TMX", parser.error_log)
    header = root.find("header")
    srclang = (header.get("srclang") if header is not None else None) or "en"

    def is_source(lang: str) -> bool:  # en-US tuvs in a file whose srclang is en, or the reverse
        return lang.lower() == srclang.lower() or same_language(lang, srclang)

    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    units: list[MemoryUnit] = []
    others: set[str] = set()
    for tu in root.iter("tu"):
        props: dict[str, str] = {}
        for prop in tu.findall("prop"):
            kind = prop.get("type") or ""
            if kind.startswith("x-") and kind not in props:
                props[kind] = clean_provenance(prop.text or "") if kind != "x-context" else prop.text or ""
        source = target = source_seg = target_seg = None
        codes: Codes | None = None
        for tuv in tu.findall("tuv"):
            lang = tuv.get(xml_lang) or tuv.get("lang") or ""
            seg = tuv.find("seg")
            if source is None and is_source(lang):
                source, codes = source_segment(seg) if seg is not None else ("", None)
                source_seg = seg
            elif target_seg is None and _lang_matches(lang, locale):
                target_seg = seg
            elif not is_source(lang) and len(others) < 20:
                others.add(lang[:20])
        if target_seg is not None:  # read after the source, whose codes name its own
            target = target_segment(target_seg, codes)
            if target is None and source_seg is not None:  # a code not named as the source's: as text
                source, target = segment_text(source_seg), segment_text(target_seg)
        if source and target:
            units.append(
                MemoryUnit(
                    props.get("x-context"),
                    source,
                    target,
                    props.get("x-origin") or origin,
                    props.get("x-reviewed", "").lower() in _YES,
                    props.get("x-partner", ""),
                    props.get("x-kit", ""),
                    _iso_date(tu.get("changedate") or tu.get("creationdate")),
                    props.get("x-obsolete", "").lower() in _YES,
                )
            )
    if not units and others:
        raise CatalogError(
            f"this TMX file has no {locale} translations (its languages: {', '.join(sorted(others))}); "
            f"import it with --locale set to its language",
            path=path,
        )
    return units


def read_memory_file(
    data: bytes, path: str, locale: str, *, now: datetime | None = None, trust_reviewed: bool = False
) -> list[MemoryUnit]:
    """Memory units from a compendium .po, a .tmx or an XLIFF file, as imported ``now``
    (:func:`as_imported`)."""
    return as_imported(_claims(data, path, locale), path, now=now, trust_reviewed=trust_reviewed)


def as_imported(
    units: Iterable[MemoryUnit], path: str, *, now: datetime | None = None, trust_reviewed: bool = False
) -> list[MemoryUnit]:
    """``units`` read from the file ``path`` as the workspace records their import: their
    provenance kept as the file's claims (origin, partner, kit; a date after ``now`` is ``now``;
    review in ``claims_reviewed``), beside the file's name and ``now``; reviewed only when
    ``trust_reviewed`` (the operator vouches for the file's review marks)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    name = clean_provenance(path.replace("\\", "/").rsplit("/", 1)[-1]) or "an unnamed file"
    stamp = now.isoformat(timespec="seconds")
    return [
        replace(
            u,
            at=clean_date(u.at, latest=now),
            reviewed=u.reviewed and trust_reviewed,
            imported_from=name,
            imported_at=stamp,
            claims_reviewed=u.reviewed,
        )
        for u in units
    ]


def _claims(data: bytes, path: str, locale: str) -> list[MemoryUnit]:
    """The units of a memory file with the provenance it claims (``reviewed`` as claimed, origin "" when none)."""
    locale = check_locale(locale)
    origin = ""
    if path.lower().endswith((".xlf", ".xliff")) or (
        not path.lower().endswith(".tmx") and is_xliff(path, data) and b"<xliff" in data[:2048]
    ):
        parsed = read_xliff(data, path)
        language = parsed.catalog.language
        if language and not _lang_matches(language.strip(), locale):
            raise CatalogError(
                f"this file is in {language.strip()[:40]!r} (its target-language), not {locale}: "
                f"nothing imported; import it with --locale set to its language",
                path=path,
                line=1,
            )
        bad = {u.key for u in parsed.problems}
        return [u for u in units_of(parsed.catalog, origin, compendium=True) if (u.msgctxt, u.msgid) not in bad]
    if path.lower().endswith(".tmx") or data.lstrip().startswith(b"<"):
        return read_tmx(data, path, locale, origin)
    catalog = read_po(data, path, allow_duplicates=True)
    language = catalog.header("Language")
    if language and not _lang_matches(language.strip(), locale):
        raise CatalogError(
            f"this file is in {language.strip()[:40]!r} (its Language header), not {locale}: "
            f"nothing imported; import it with --locale set to its language",
            path=path,
            line=1,
        )
    return list(units_of(catalog, origin, compendium=True))


def merge_into_compendium(existing: Catalog | None, units: Iterable[MemoryUnit], locale: str) -> Catalog:
    """The imported compendium with ``units`` (from :func:`as_imported`) added, their claims and
    the workspace's record of their import kept (a later import wins on conflicts, except that a
    unit marked obsolete never replaces a live one)."""
    current = {} if existing is None else {e.key: e for e in existing.entries}
    for u in units:
        key = (u.msgctxt, u.msgid)
        if u.obsolete and key in current and "obsolete" not in current[key].translator_comments:
            continue
        current[key] = Entry(u.msgid, u.msgstr, u.msgctxt, translator_comments=record_comments(u))
    stored = recorded_units(Catalog(entries=tuple(current.values())))
    memory = TranslationMemory(replace(u, obsolete=False) for u in stored)  # the order of every key
    catalog = to_po(memory, locale)
    entries = tuple(current[(u.msgctxt, u.msgid)] for u in memory.units())
    return replace(catalog, entries=entries)
