"""Catalog lifecycle: new locales, merging a new template into translations, statistics.

The merge follows GNU msgmerge: an unchanged unit keeps its translation and
flags; a changed one keeps the old translation as fuzzy with the previous msgid
(``#|``), matched by similarity and never across msgctxt; a unit that
disappeared becomes obsolete (``#~``) and comes back with its translation when
the text returns. Translators' comments survive. Merging twice changes nothing.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache

from localize import __version__
from localize.errors import CatalogError, ConfigError
from localize.model import Catalog, Entry

__all__ = [
    "DEFAULT_SIMILARITY",
    "CatalogStats",
    "MergeReport",
    "catalog_stats",
    "check_locale",
    "merge",
    "new_catalog",
    "plural_forms",
    "source_words",
    "validate_catalog",
]

DEFAULT_SIMILARITY = 0.75
_PLACEHOLDER = re.compile(r"</?[A-Za-z][A-Za-z-]*\d+/?>")
_PSEUDO = "qps-ploc"


@lru_cache(maxsize=1)
def _known_locales() -> dict[str, str]:
    """Babel's locale identifiers -> English display name."""
    from babel import Locale
    from babel.localedata import locale_identifiers

    out: dict[str, str] = {}
    for ident in locale_identifiers():
        try:
            out[ident] = Locale.parse(ident).english_name or ident
        except (ValueError, LookupError):  # pragma: no cover - Babel data inconsistency
            continue
    return out


def check_locale(code: str) -> str:
    """The canonical gettext form of ``code`` ('pt-br' -> 'pt_BR'), or ConfigError
    listing close matches for unknown or malformed codes."""
    if code.lower() == _PSEUDO:
        return _PSEUDO
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        known = _known_locales()
        lowered = {k.lower(): k for k in known}
        guesses = difflib.get_close_matches(code.replace("-", "_").lower(), list(lowered), n=4, cutoff=0.6)
        by_name = [k for k, name in known.items() if name.lower().startswith(code.lower()) and "_" not in k][:4]
        matches = list(dict.fromkeys(by_name + [lowered[g] for g in guesses]))
        hint = ", ".join(f"{m} ({known[m]})" for m in matches) if matches else "none"
        raise ConfigError(f"unknown locale code {code!r}; close matches: {hint}") from None
    return str(locale)


def plural_forms(locale: str) -> str:
    """The Plural-Forms header for ``locale`` from CLDR (Babel)."""
    if locale == _PSEUDO:
        return "nplurals=2; plural=(n != 1);"
    from babel.messages.plurals import get_plural

    rule = get_plural(locale)
    expr = rule.plural_expr
    if not (expr.startswith("(") and expr.endswith(")")):
        expr = f"({expr})"
    return f"nplurals={rule.num_plurals}; plural={expr};"


def _language_team(locale: str) -> str:
    if locale == _PSEUDO:
        return "pseudo-localization"
    return _known_locales().get(locale, locale)


def new_catalog(template: Catalog, course: str, locale: str, *, now: datetime | None = None) -> Catalog:
    """A fresh, untranslated catalog for ``locale`` with correct headers."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M%z")
    headers = (
        ("Project-Id-Version", course),
        ("Report-Msgid-Bugs-To", ""),
        ("POT-Creation-Date", template.header("POT-Creation-Date") or stamp),
        ("PO-Revision-Date", stamp),
        ("Last-Translator", ""),
        ("Language-Team", _language_team(locale)),
        ("Language", locale),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("Plural-Forms", plural_forms(locale)),
        ("X-Generator", f"localize {__version__}"),
        ("X-Localize-Course", course),
        ("X-Localize-Source-Locale", template.header("X-Localize-Source-Locale") or "en"),
    )
    entries = tuple(
        replace(e, msgstr="", msgstr_plural=(), flags=tuple(f for f in e.flags if f != "fuzzy"))
        for e in template.entries
        if not e.obsolete
    )
    return Catalog(
        headers=headers, entries=entries, header_comments=(f"{_language_team(locale)} translation of {course}",)
    )


@dataclass(frozen=True, slots=True)
class MergeReport:
    kept: int
    fuzzy: int
    revived: int
    new: int
    obsoleted: int


def _keep(new: Entry, old: Entry) -> Entry:
    return replace(
        new,
        msgstr=old.msgstr,
        msgstr_plural=old.msgstr_plural if new.msgid_plural is not None else (),
        flags=old.flags,
        translator_comments=old.translator_comments,
        previous_msgctxt=old.previous_msgctxt,
        previous_msgid=old.previous_msgid,
        obsolete=False,
    )


def _has_translation(e: Entry) -> bool:
    return bool(e.msgstr) or any(e.msgstr_plural)


def merge(old: Catalog, template: Catalog, *, similarity: float = DEFAULT_SIMILARITY) -> tuple[Catalog, MergeReport]:
    """Bring ``old`` (a translated catalog) up to date with ``template``."""
    from rapidfuzz import fuzz, process

    live = {e.key: e for e in old.entries if not e.obsolete}
    obsolete = {e.key: e for e in old.entries if e.obsolete}
    used: set[tuple[str | None, str]] = set()
    out: list[Entry] = []
    pending: list[int] = []
    kept = revived = 0
    for t in template.entries:
        if t.obsolete:
            continue
        o: Entry | None = live.get(t.key)
        if o is not None:
            kept += 1
        else:
            o = obsolete.get(t.key)
            if o is not None:
                revived += 1
        if o is not None:
            used.add(t.key)
            out.append(_keep(t, o))
            continue
        pending.append(len(out))
        out.append(t)
    # changed units: the most similar old translation, within the same msgctxt
    candidates: dict[str | None, dict[str, Entry]] = {}
    for e in (*live.values(), *obsolete.values()):
        if e.key not in used and _has_translation(e):
            candidates.setdefault(e.msgctxt, {})[e.msgid] = e
    fuzzy = 0
    cutoff = similarity * 100
    for i in pending:
        new = out[i]
        pool = candidates.get(new.msgctxt)
        best = process.extractOne(new.msgid, pool.keys(), scorer=fuzz.ratio, score_cutoff=cutoff) if pool else None
        if pool is None or best is None:
            out[i] = replace(new, msgstr="", msgstr_plural=(), previous_msgid=None, previous_msgctxt=None)
            continue
        o = pool[best[0]]
        fuzzy += 1
        out[i] = replace(
            new,
            msgstr=o.msgstr,
            msgstr_plural=o.msgstr_plural if new.msgid_plural is not None else (),
            flags=tuple(sorted({*o.flags, "fuzzy"})),
            translator_comments=o.translator_comments,
            previous_msgctxt=o.msgctxt,
            previous_msgid=o.msgid,
        )
    # disappeared units: kept as obsolete (if they carry any work), in a stable order
    gone = [
        replace(e, obsolete=True, references=(), extracted_comments=())
        for key, e in live.items()
        if key not in used and (_has_translation(e) or e.translator_comments)
    ]
    still = [e for key, e in obsolete.items() if key not in used]
    obsoleted = sorted([*still, *gone], key=lambda e: (e.msgctxt or "", e.msgid))
    entries = (*out, *obsoleted)
    catalog = replace(old, entries=entries)
    stamp = template.header("POT-Creation-Date")
    if stamp:
        catalog = catalog.with_header("POT-Creation-Date", stamp)
    report = MergeReport(kept, fuzzy, revived, len(pending) - fuzzy, len(gone))
    return catalog, report


# -- validation ----------------------------------------------------------------


def validate_catalog(catalog: Catalog, path: str, *, course: str, locale: str, template: Catalog | None = None) -> None:
    """Refuse a catalog that belongs elsewhere or was damaged by hand.

    Raises CatalogError naming ``path`` and the line of the first problem.
    """
    if not catalog.headers:
        raise CatalogError('no header entry (msgid "" with Content-Type and Language); restore it', path=path, line=1)
    content_type = catalog.header("Content-Type")
    if content_type is None or "charset=" not in content_type:
        raise CatalogError(
            'header has no Content-Type with a charset; add "Content-Type: text/plain; charset=UTF-8"',
            path=path,
            line=1,
        )
    owner = catalog.header("X-Localize-Course") or catalog.header("Project-Id-Version")
    if owner and owner != course:
        raise CatalogError(f"this catalog belongs to course {owner!r}, not {course!r}", path=path, line=1)
    language = catalog.header("Language")
    if language and check_locale(language) != locale:
        raise CatalogError(f"header says Language: {language}, but this is the {locale} catalog", path=path, line=1)
    if template is not None:
        known = template.index()
        for e in catalog.entries:
            if not e.obsolete and e.key not in known:
                ctx = "" if e.msgctxt is None else f" (msgctxt {e.msgctxt!r})"
                raise CatalogError(
                    f"msgid {e.msgid[:60]!r}{ctx} is not in the template: the source text was edited by hand; "
                    "restore the original msgid (translations go in msgstr)",
                    path=path,
                    line=e.lineno,
                )


# -- statistics ------------------------------------------------------------------


def source_words(msgid: str) -> int:
    return len(_PLACEHOLDER.sub(" ", msgid).split())


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

    @property
    def translated_percent(self) -> float:
        return 100.0 * self.translated / self.entries if self.entries else 100.0

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
            "translated_percent": round(self.translated_percent, 1),
            "fuzzy_percent": round(self.fuzzy_percent, 1),
            "untranslated_percent": round(self.untranslated_percent, 1),
        }


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
        elif e.fuzzy and _has_translation(e):
            counts["fuzzy"] += 1
        else:
            counts["untranslated"] += 1
    total = counts["translated"] + counts["fuzzy"] + counts["untranslated"]
    return CatalogStats(
        course, locale, total, words, counts["translated"], counts["fuzzy"], counts["untranslated"], translated_words
    )
