"""Translation memory: never translate the same sentence twice.

The memory of a locale is every translated, non-fuzzy entry of every catalog of
that locale in the workspace, plus what partners imported (``memory/LL.po``, a
compendium). Untranslated entries are filled from it: an exact match (same
msgid and msgctxt) as translated, with a translator comment saying where it came
from; a near match (similarity at or above a threshold) as fuzzy, with the
memory's msgid as the previous msgid so editors show the difference.

Units carry their provenance (course; partner, kit, date and review from the review ledger,
:func:`localize.catalogs.review.provenance`); edits are rules (:mod:`.memory_rules`).

Memories travel as compendium PO files, TMX 1.4 or XLIFF 1.2.
"""

from __future__ import annotations

import bisect
import contextlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from rapidfuzz import fuzz, process

from localize import __version__
from localize.catalogs.glossary import FORBIDDEN, Glossary
from localize.catalogs.glossary_files import load_glossary
from localize.catalogs.lifecycle import DEFAULT_SIMILARITY
from localize.catalogs.memory_rules import apply_rules, load_rules
from localize.catalogs.po import read_po
from localize.catalogs.review import provenance
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import REVIEWED, is_xliff, read_xliff, write_xliff
from localize.errors import CatalogError, CatalogNotFoundError
from localize.locales import check_locale
from localize.model import Catalog, Entry

__all__ = [
    "FillReport",
    "MemoryUnit",
    "NearIndex",
    "TranslationMemory",
    "load_memory",
    "memory_units",
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
    origin: str  # the course, or the imported file
    reviewed: bool = False  # signed off by a reviewer: preferred over unreviewed candidates
    partner: str = ""  # who produced it, when known (see localize.catalogs.review.provenance)
    kit: str = ""
    at: str = ""  # when it was accepted (ISO 8601), when known
    obsolete: bool = False  # kept for the record (``tm obsolete``), never offered

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


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

    A source's translations rank reviewed only (when any), then most common, most recent,
    alphabetical. Near matches rank reviewed, then more similar, more recent, first in memory
    order. A translation using a forbidden glossary translation of a term of the entry's
    source is never offered (the next is); obsolete units are listed, never offered.
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
            # each text's representative: the latest accepted (the first origin in sorted order on a tie)
            reps = [(len(us), min(us, key=lambda u: (_newest_first(u.at), u.origin))) for us in by_text.values()]
            reps.sort(key=lambda nr: nr[1].msgstr)
            reps.sort(key=lambda nr: nr[1].at, reverse=True)
            reps.sort(key=lambda nr: nr[0], reverse=True)
            ranked = [rep for _, rep in reps]
            self.candidates[key] = ranked
            self.exact[key] = (ranked[0].msgstr, ranked[0].origin)
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
        best: tuple[tuple[bool, float, str, int], MemoryUnit, float] | None = None
        for found, score, position in index.matches(msgid, cutoff):
            unit = self.offer((msgctxt, found), msgid)
            if unit is None:
                continue
            rank = (unit.reviewed, score, unit.at, -position)
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
    return unit.origin + (f" ({', '.join(extra)})" if extra else "")


def _units_of(catalog: Catalog, origin: str) -> Iterable[MemoryUnit]:
    for e in catalog.entries:
        if e.translated and e.msgid_plural is None:
            yield MemoryUnit(e.msgctxt, e.msgid, e.msgstr, origin, REVIEWED in e.flags)


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
        for u in _units_of(catalog, course):
            p = made.get(u.key)
            units.append(u if p is None else replace(u, partner=p.partner, kit=p.kit, at=p.at))
    with contextlib.suppress(CatalogNotFoundError):
        units.extend(_units_of(workspace.read(workspace.memory_key(locale)), IMPORTED))
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
