"""Translation memory: never translate the same sentence twice.

The memory of a locale is every translated, non-fuzzy entry of every catalog of
that locale in the workspace, plus what partners imported (``memory/LL.po``, a
compendium). Untranslated entries are filled from it: an exact match (same
msgid and msgctxt) as translated, with a translator comment saying where it came
from; a near match (similarity at or above a threshold) as fuzzy, with the
memory's msgid as the previous msgid so editors show the difference.

Memories travel as compendium PO files or TMX 1.4.
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from rapidfuzz import fuzz, process

from localize import __version__
from localize.catalogs.lifecycle import DEFAULT_SIMILARITY
from localize.catalogs.po import read_po
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import REVIEWED, is_xliff, read_xliff, write_xliff
from localize.errors import CatalogError, CatalogNotFoundError
from localize.locales import check_locale
from localize.model import Catalog, Entry

__all__ = [
    "FillReport",
    "MemoryUnit",
    "TranslationMemory",
    "load_memory",
    "merge_into_compendium",
    "read_memory_file",
    "read_tmx",
    "to_po",
    "to_tmx",
    "to_xliff",
]

COMMENT_PREFIX = "localize-tm:"
IMPORTED = "imported memory"


@dataclass(frozen=True, slots=True)
class MemoryUnit:
    msgctxt: str | None
    msgid: str
    msgstr: str
    origin: str
    reviewed: bool = False  # signed off by a reviewer: preferred over unreviewed candidates


@dataclass(frozen=True, slots=True)
class FillReport:
    exact: int
    near: int


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
        n = len(query)
        lo = bisect.bisect_left(self.lengths, math.floor(n * s / (2 - s)) - 1)
        hi = bisect.bisect_right(self.lengths, math.ceil(n * (2 - s) / s) + 1)
        return [self.msgids[i] for i in sorted(self.order[lo:hi])]

    def best(self, query: str, cutoff: float) -> tuple[str, float] | None:
        """(msgid, score) of the best match at or above ``cutoff``, or None."""
        pool = self.window(query, cutoff)
        if not pool:
            return None
        found = process.extractOne(query, pool, scorer=fuzz.ratio, score_cutoff=cutoff)
        return (str(found[0]), float(found[1])) if found is not None else None


class TranslationMemory:
    """Exact and near lookups over memory units."""

    def __init__(self, units: Iterable[MemoryUnit]) -> None:
        votes: dict[tuple[str | None, str], Counter[tuple[str, str]]] = defaultdict(Counter)
        all_units = [u for u in units if u.msgstr]
        reviewed_keys = {(u.msgctxt, u.msgid) for u in all_units if u.reviewed}
        for u in all_units:
            if u.reviewed or (u.msgctxt, u.msgid) not in reviewed_keys:  # reviewed candidates win
                votes[(u.msgctxt, u.msgid)][(u.msgstr, u.origin)] += 1
        self.exact: dict[tuple[str | None, str], tuple[str, str]] = {}
        for key, counter in votes.items():
            # the most common translation wins; ties go to the first origin in sorted order
            by_text: Counter[str] = Counter()
            origins: dict[str, str] = {}
            for (text, origin), n in counter.items():
                by_text[text] += n
                origins[text] = min(origins.get(text, origin), origin)
            best = sorted(by_text.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            self.exact[key] = (best, origins[best])
        by_context: dict[str | None, list[str]] = defaultdict(list)
        for ctx, msgid in self.exact:
            by_context[ctx].append(msgid)
        self.near: dict[str | None, NearIndex] = {ctx: NearIndex(msgids) for ctx, msgids in by_context.items()}

    def __len__(self) -> int:
        return len(self.exact)

    def units(self) -> list[MemoryUnit]:
        return [
            MemoryUnit(ctx, msgid, text, origin)
            for (ctx, msgid), (text, origin) in sorted(self.exact.items(), key=lambda kv: (kv[0][0] or "", kv[0][1]))
        ]

    def fill(self, catalog: Catalog, *, similarity: float = DEFAULT_SIMILARITY) -> tuple[Catalog, FillReport]:
        """Fill every untranslated entry of ``catalog`` that the memory knows."""
        exact = near = 0
        cutoff = similarity * 100
        entries: list[Entry] = []
        for e in catalog.entries:
            if e.obsolete or e.msgid_plural is not None or e.msgstr or e.fuzzy:
                entries.append(e)
                continue
            hit = self.exact.get(e.key)
            if hit is not None:
                exact += 1
                entries.append(
                    replace(
                        e,
                        msgstr=hit[0],
                        translator_comments=(*e.translator_comments, f"{COMMENT_PREFIX} exact match from {hit[1]}"),
                    )
                )
                continue
            index = self.near.get(e.msgctxt)
            best = index.best(e.msgid, cutoff) if index is not None else None
            if best is None:
                entries.append(e)
                continue
            text, origin = self.exact[(e.msgctxt, best[0])]
            near += 1
            entries.append(
                replace(
                    e,
                    msgstr=text,
                    flags=tuple(sorted({*e.flags, "fuzzy"})),
                    previous_msgctxt=e.msgctxt,
                    previous_msgid=best[0],
                    translator_comments=(
                        *e.translator_comments,
                        f"{COMMENT_PREFIX} {best[1]:.0f}% match from {origin}",
                    ),
                )
            )
        return replace(catalog, entries=tuple(entries)), FillReport(exact, near)


def _units_of(catalog: Catalog, origin: str) -> Iterable[MemoryUnit]:
    for e in catalog.entries:
        if e.translated and e.msgid_plural is None:
            yield MemoryUnit(e.msgctxt, e.msgid, e.msgstr, origin, REVIEWED in e.flags)


def load_memory(workspace: Workspace, locale: str, *, exclude_course: str | None = None) -> TranslationMemory:
    """The memory of ``locale``: its other catalogs and the imported compendium."""
    units: list[MemoryUnit] = []
    for course, ll in workspace.catalogs(locale=locale):
        if course == exclude_course:
            continue
        units.extend(_units_of(workspace.read_catalog(course, ll), course))
    with contextlib.suppress(CatalogNotFoundError):
        units.extend(_units_of(workspace.read(workspace.memory_key(locale)), IMPORTED))
    return TranslationMemory(units)


# -- exchange formats ------------------------------------------------------------


def to_po(memory: TranslationMemory, locale: str) -> Catalog:
    """A compendium: one entry per memory unit, its origin as a translator comment."""
    headers = (
        ("Project-Id-Version", "localize translation memory"),
        ("Language", locale),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("X-Generator", f"localize {__version__}"),
    )
    entries = tuple(
        Entry(u.msgid, u.msgstr, u.msgctxt, translator_comments=(f"origin: {u.origin}",)) for u in memory.units()
    )
    return Catalog(headers=headers, entries=entries)


def to_tmx(memory: TranslationMemory, locale: str, source_locale: str = "en") -> str:
    created = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    src, tgt = source_locale.replace("_", "-"), locale.replace("_", "-")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<tmx version="1.4">',
        f'  <header creationtool="localize" creationtoolversion={quoteattr(__version__)} datatype="plaintext" '
        f'segtype="sentence" adminlang="en" srclang={quoteattr(src)} o-tmf="gettext" creationdate="{created}"/>',
        "  <body>",
    ]
    for u in memory.units():
        out.append("    <tu>")
        if u.msgctxt is not None:
            out.append(f'      <prop type="x-context">{escape(u.msgctxt)}</prop>')
        out.append(f'      <prop type="x-origin">{escape(u.origin)}</prop>')
        out.append(f"      <tuv xml:lang={quoteattr(src)}><seg>{escape(u.msgid)}</seg></tuv>")
        out.append(f"      <tuv xml:lang={quoteattr(tgt)}><seg>{escape(u.msgstr)}</seg></tuv>")
        out.append("    </tu>")
    out += ["  </body>", "</tmx>", ""]
    return "\n".join(out)


def to_xliff(memory: TranslationMemory, locale: str, source_locale: str = "en") -> bytes:
    """The memory as XLIFF 1.2: one translated unit per memory unit, its origin as a note."""
    catalog = to_po(memory, locale)
    return write_xliff(catalog, original="translation-memory", source_locale=source_locale, target_locale=locale)


def _lang_matches(lang: str, locale: str) -> bool:
    a, b = lang.replace("-", "_").lower(), locale.lower()
    return a == b or a.split("_")[0] == b or (a.split("_")[0] == b.split("_")[0] and "_" not in a)


def read_tmx(data: bytes, path: str, locale: str, origin: str) -> list[MemoryUnit]:
    """Memory units for ``locale`` from a TMX file (any version 1.x)."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise CatalogError(f"not a valid TMX file: {e.msg}", path=path, line=e.lineno) from e
    if root.tag != "tmx":
        raise CatalogError(f"not a TMX file (root element <{root.tag}>)", path=path, line=root.sourceline)
    header = root.find("header")
    srclang = (header.get("srclang") if header is not None else None) or "en"
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    units: list[MemoryUnit] = []
    others: set[str] = set()
    for tu in root.iter("tu"):
        context = None
        for prop in tu.findall("prop"):
            if prop.get("type") == "x-context":
                context = prop.text or ""
        source = target = None
        for tuv in tu.findall("tuv"):
            lang = tuv.get(xml_lang) or tuv.get("lang") or ""
            seg = tuv.find("seg")
            text = "".join(seg.itertext()) if seg is not None else ""
            if source is None and lang.lower() == srclang.lower():
                source = text
            elif target is None and _lang_matches(lang, locale):
                target = text
            elif lang.lower() != srclang.lower() and len(others) < 20:
                others.add(lang[:20])
        if source and target:
            units.append(MemoryUnit(context, source, target, origin))
    if not units and others:
        raise CatalogError(
            f"this TMX file has no {locale} translations (its languages: {', '.join(sorted(others))}); "
            f"import it with --locale set to its language",
            path=path,
        )
    return units


def read_memory_file(data: bytes, path: str, locale: str) -> list[MemoryUnit]:
    """Memory units from a compendium .po or a .tmx file."""
    locale = check_locale(locale)
    origin = path.rsplit("/", 1)[-1]
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
        return [u for u in _units_of(parsed.catalog, origin) if (u.msgctxt, u.msgid) not in bad]
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
    return list(_units_of(catalog, origin))


def merge_into_compendium(existing: Catalog | None, units: list[MemoryUnit], locale: str) -> Catalog:
    """The imported compendium with ``units`` added (a later import wins on conflicts)."""
    current = {} if existing is None else {e.key: e for e in existing.entries}
    for u in units:
        current[(u.msgctxt, u.msgid)] = Entry(
            u.msgid, u.msgstr, u.msgctxt, translator_comments=(f"origin: {u.origin}",)
        )
    memory = TranslationMemory(MemoryUnit(e.msgctxt, e.msgid, e.msgstr, IMPORTED) for e in current.values())
    catalog = to_po(memory, locale)
    entries = tuple(current[(u.msgctxt, u.msgid)] for u in memory.units())
    return replace(catalog, entries=entries)
