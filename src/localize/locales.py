"""Locale codes: one canonical form, accepted in BCP 47 and POSIX spellings.

The canonical form is gettext's (what names ``LL/LC_MESSAGES/`` folders):
language in lower case, script in title case, region in upper case, joined by
``_``, with a POSIX ``@modifier`` kept (``sr@latin``). ``pt-br``, ``pt_BR`` and
``pt-BR`` are all ``pt_BR``; ``zh-TW`` is ``zh_TW`` (not expanded to
``zh_Hant_TW``, which is ``zh_TW`` too: a usual script goes without saying); ``sr-Latn`` is
``sr@latin`` and ``sr-Cyrl`` is ``sr``; a withdrawn or three-letter code of a language is
its current two-letter one (``iw`` is ``he``, ``swh_KE`` is ``sw_KE``). CLDR (through Babel) decides
whether a code is known, its plural rule and its direction of writing.
``qps-ploc`` is the pseudo-locale.
"""

from __future__ import annotations

import importlib.util
import re
from functools import lru_cache
from pathlib import Path

from localize.errors import ConfigError

__all__ = [
    "PSEUDO_LOCALE",
    "check_locale",
    "html_lang",
    "is_rtl",
    "language_name",
    "language_of",
    "older_spelling",
    "plural_forms",
    "same_language",
]

PSEUDO_LOCALE = "qps-ploc"

# a language, then at most a script, a region and two variants (sr_Latn_RS, ca_ES_valencia), a modifier
_SYNTAX = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,4}(?:@[A-Za-z]{2,16})?$")
_MODIFIER_SCRIPTS = {"latin": "Latn", "cyrillic": "Cyrl", "arabic": "Arab", "devanagari": "Deva"}


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


def _canonical_spelling(code: str) -> str:
    base, _, modifier = code.partition("@")
    parts = re.split(r"[_-]", base)
    out = [parts[0].lower()]
    for p in parts[1:]:
        if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit()):
            out.append(p.upper())
        elif len(p) == 4 and p.isalpha():
            out.append(p.title())
        else:
            out.append(p)
    return "_".join(out) + (f"@{modifier.lower()}" if modifier else "")


def _babel_id(canonical: str) -> str:
    base, _, modifier = canonical.partition("@")
    script = _MODIFIER_SCRIPTS.get(modifier)
    if script:
        lang, _, rest = base.partition("_")
        return "_".join(x for x in (lang, script, rest) if x)
    return base


@lru_cache(maxsize=1)
def _locale_data() -> Path | None:
    """Babel's CLDR folder, found without importing Babel (a command that only checks its
    ``--source-locale`` need not pay Babel's start-up)."""
    spec = importlib.util.find_spec("babel")
    folders = spec.submodule_search_locations if spec is not None else None
    return Path(next(iter(folders))) / "locale-data" if folders else None


def _has_data(babel_id: str) -> bool:
    """True when CLDR has data of exactly ``babel_id`` (so Babel knows it); False: ask Babel."""
    folder = _locale_data()
    try:
        return folder is not None and babel_id.isascii() and (folder / f"{babel_id}.dat").is_file()
    except OSError:  # a name the file system refuses (too long): not CLDR's
        return False


_SCRIPT_MODIFIERS = {script: modifier for modifier, script in _MODIFIER_SCRIPTS.items()}


def _script_as_modifier(canonical: str) -> str:
    """gettext's spelling of a script: the language's usual one (CLDR's likely script, for its
    region when it names one) goes without saying, sr_Cyrl -> sr, zh_Hans_CN -> zh_CN,
    zh_Hant_TW -> zh_TW, sr@cyrillic -> sr; another one with a gettext modifier becomes it,
    sr_Latn -> sr@latin, sr_Latn_RS -> sr_RS@latin (as sr@latin is read). So each pair of
    spellings names one catalog. Scripts gettext has no modifier for stay as written (zh_Hant)."""
    base, _, modifier = canonical.partition("@")
    parts = base.split("_")
    if modifier:
        script, rest = _MODIFIER_SCRIPTS.get(modifier), parts[1:]
    elif len(parts) > 1 and len(parts[1]) == 4 and parts[1].isalpha():
        script, rest = parts[1], parts[2:]
    else:
        return canonical
    if script is None:
        return canonical
    region = next((p for p in rest if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())), None)
    if _usual_script(parts[0], region) == script:
        return "_".join([parts[0], *rest])
    if modifier or script not in _SCRIPT_MODIFIERS or _usual_script(parts[0]) == script:
        return canonical
    return "_".join([parts[0], *rest]) + "@" + _SCRIPT_MODIFIERS[script]


def _usual_script(language: str, region: str | None = None) -> str | None:
    """The script ``language`` is usually written in (CLDR likely subtags: sr -> Cyrl), in
    ``region`` when CLDR says (pa in PK -> Arab), if known."""
    from babel.core import get_global  # only for a code with a script subtag, or a glossary import

    subtags = get_global("likely_subtags")
    likely = str((region and subtags.get(f"{language}_{region}")) or subtags.get(language, "")).split("_")
    return likely[1] if len(likely) > 1 else None


_WITHDRAWN = frozenset(("iw", "in", "ji", "jw", "mo"))  # ISO 639-1 codes withdrawn for he, id, yi, jv, ro


def _current_language(spelled: str) -> str | None:
    """``spelled`` with its language code replaced by the one in use, when CLDR calls it an alias
    of another language: a withdrawn code (iw -> he, in_ID -> id_ID) or a three-letter code of a
    language that has a two-letter one (heb -> he, swh_KE -> sw_KE, eng -> en). Else None. So
    each language has one catalog, in the folder its two-letter code names, as gettext and
    glibc name them. Aliases between languages CLDR merges (tl -> fil, tw -> ak) are left alone:
    gettext keeps those apart."""
    language = spelled.split("_", 1)[0].split("@", 1)[0]
    if language not in _WITHDRAWN and len(language) != 3:
        return None
    from babel.core import get_global  # only for a code CLDR has no data of

    alias = get_global("language_aliases").get(language)
    if not isinstance(alias, str) or len(alias) != 2 or not alias.isalpha() or not alias.islower():
        return None
    return alias + spelled[len(language) :]


@lru_cache(maxsize=1024)
def known_locale(code: str) -> str | None:
    """The canonical form of ``code`` when it is a known locale, else None (without the close
    matches :func:`check_locale` lists: for names that may not be locale codes at all)."""
    if code.lower().replace("_", "-") == PSEUDO_LOCALE:
        return PSEUDO_LOCALE
    canonical = _canonical_spelling(code) if _SYNTAX.fullmatch(code) else None
    if canonical is None:
        return None
    spelled, canonical = canonical, _script_as_modifier(canonical)
    if _has_data(_babel_id(canonical)):
        return canonical
    current = _current_language(spelled)
    if current is not None:
        return known_locale(current)
    from babel import Locale, UnknownLocaleError

    try:
        Locale.parse(_babel_id(canonical))
        return canonical
    except (UnknownLocaleError, ValueError, TypeError):
        return None


def older_spelling(code: str) -> bool:
    """Whether ``code`` is a known locale in a spelling an earlier release stored as canonical
    (its own case and separators, before usual scripts and language aliases were folded in:
    ``iw``, ``sr_Latn``, ``zh_Hant_TW``); not ``pt-br`` or ``PT_BR``, which no release stored."""
    canonical = known_locale(code)
    return canonical not in (None, code, PSEUDO_LOCALE) and _canonical_spelling(code) == code


@lru_cache(maxsize=256)
def language_of(code: str) -> tuple[str, str | None, str | None] | None:
    """(language, script, region) that ``code`` names, in any spelling (``iw-IL``, ``sr-Latn``,
    ``sr_RS@latin``, ``zh-TW``): the script is the one written or implied (CLDR's likely script
    for the language in that region: zh_TW is Hant, zh is Hans, sr is Cyrl); a modifier that is
    no script (``@valencia``) stands in its place. None for a code that is not a known locale."""
    canonical = known_locale(code)
    if canonical is None or canonical == PSEUDO_LOCALE:
        return None
    base, _, modifier = canonical.partition("@")
    parts = base.split("_")
    region = next((p for p in parts[1:] if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())), None)
    script = _MODIFIER_SCRIPTS.get(modifier, modifier or None) or next(
        (p for p in parts[1:] if len(p) == 4 and p.isalpha()), None
    )
    return parts[0], script or _usual_script(parts[0], region), region


def same_language(code: str, locale: str, *, any_region: bool = False) -> bool:
    """Whether a file's language tag ``code`` names ``locale``'s language in its script: the
    regions agree or one of them names none (``any_region``: whatever they are). ``sr-Latn`` is
    not ``sr``, ``zh-TW`` is not ``zh``, ``iw`` is ``he``, ``es-MX`` is ``es``."""
    a, b = language_of(code), language_of(locale)
    if a is None or b is None or a[:2] != b[:2]:
        return False
    return any_region or a[2] == b[2] or a[2] is None or b[2] is None


@lru_cache(maxsize=512)
def check_locale(code: str) -> str:
    """The canonical form of ``code`` ('pt-br' -> 'pt_BR'), or a ConfigError
    listing close matches for unknown or malformed codes."""
    canonical = known_locale(code)
    if canonical is not None:
        return canonical
    known = _known_locales()
    lowered = {k.lower(): k for k in known}
    import difflib  # only when a locale is not known

    guesses = difflib.get_close_matches(code.replace("-", "_").lower(), list(lowered), n=4, cutoff=0.6)
    by_name = [k for k, name in known.items() if name.lower().startswith(code.lower()) and "_" not in k][:4]
    matches = list(dict.fromkeys(by_name + [lowered[g] for g in guesses]))
    hint = ", ".join(f"{m} ({known[m]})" for m in matches) if matches else "none"
    shown = code if len(code) <= 40 else code[:40] + "…"
    raise ConfigError(f"unknown locale code {shown!r}; close matches: {hint}")


def plural_forms(locale: str) -> str:
    """The Plural-Forms header for ``locale`` from CLDR (Babel)."""
    if locale == PSEUDO_LOCALE:
        return "nplurals=2; plural=(n != 1);"
    from babel.messages.plurals import get_plural

    rule = get_plural(_babel_id(locale))
    expr = rule.plural_expr
    if not (expr.startswith("(") and expr.endswith(")")):
        expr = f"({expr})"
    return f"nplurals={rule.num_plurals}; plural={expr};"


def language_name(locale: str) -> str:
    """English name of the language ('Spanish (Brazil)'), for headers and kits."""
    if locale == PSEUDO_LOCALE:
        return "pseudo-localization"
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(_babel_id(locale)).english_name or locale
    except (UnknownLocaleError, ValueError, TypeError):
        return locale


@lru_cache(maxsize=64)
def is_rtl(locale: str) -> bool:
    """Right-to-left script, from Babel's CLDR data."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(_babel_id(_canonical_spelling(locale))).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError, TypeError):
        return False


def html_lang(locale: str) -> str:
    """BCP 47 form of a canonical locale: pt_BR -> pt-BR, sr@latin -> sr-Latn."""
    base, _, modifier = locale.partition("@")
    script = _MODIFIER_SCRIPTS.get(modifier)
    if script:
        lang, _, rest = base.partition("_")
        return "-".join(x for x in (lang, script, rest.replace("_", "-")) if x)
    return base.replace("_", "-")


# a CLDR script code -> the first word(s) of Unicode's names of its letters
_SCRIPT_LETTERS = {
    "Latn": ("LATIN",), "Arab": ("ARABIC",), "Cyrl": ("CYRILLIC",), "Grek": ("GREEK",), "Hebr": ("HEBREW",),
    "Deva": ("DEVANAGARI",), "Beng": ("BENGALI",), "Taml": ("TAMIL",), "Thai": ("THAI",), "Ethi": ("ETHIOPIC",),
    "Geor": ("GEORGIAN",), "Armn": ("ARMENIAN",), "Hang": ("HANGUL", "CJK"), "Kore": ("HANGUL", "CJK"),
    "Hans": ("CJK",), "Hant": ("CJK",), "Jpan": ("HIRAGANA", "KATAKANA", "CJK"),
}  # fmt: skip


def foreign_script(locale: str, texts: list[str]) -> str | None:
    """The writing system most letters of ``texts`` are in, when it is not the one ``locale`` is
    written in (from CLDR; None when they match, when the locale's script is not known here, or
    when there are too few letters to tell): a file of another language, named with this locale."""
    import unicodedata

    base, _, modifier = check_locale(locale).partition("@")
    parts = base.split("_")
    script = _MODIFIER_SCRIPTS.get(modifier) or next((p for p in parts[1:] if len(p) == 4), None)
    region = next((p for p in parts[1:] if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())), None)
    expected = _SCRIPT_LETTERS.get(script or _usual_script(parts[0], region) or "")
    if expected is None:
        return None
    counts: dict[str, int] = {}
    for ch in "".join(texts):
        if ch.isalpha():
            word = unicodedata.name(ch, "").split(" ", 1)[0]
            counts[word] = counts.get(word, 0) + 1
    letters = sum(counts.values())
    ours = sum(counts.get(w, 0) for w in expected)
    if letters < 20 or ours >= letters * 0.2:
        return None
    top = max(counts, key=lambda w: counts[w])
    return top.title() if top != "CJK" else "Chinese characters"
