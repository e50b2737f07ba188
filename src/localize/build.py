"""Catalog + course -> localized course.

Every page is the original bytes with translated spans spliced in. What was not
translated stays byte-for-byte as it was: attributes and their quoting,
entities, comments, scripts, whitespace. Untranslated and fuzzy entries fall
back to the source text; a translation whose placeholders do not match its
unit is reported and falls back too. Translated text is always escaped, so a
translation cannot add markup, scripts or URLs to a page.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from localize.encoding import decode_page, encode_page
from localize.errors import LocalizeError
from localize.extract import PageFailure
from localize.htmltree import Element, parse
from localize.model import Catalog, Unit
from localize.parallel import map_pages
from localize.segments import Replacement, escape_attribute, find_units, render
from localize.sources import Source, is_page
from localize.storage import check_key

__all__ = ["BuildResult", "build_course", "build_page", "html_lang", "is_rtl", "translations_of"]


@dataclass(frozen=True, slots=True)
class BuildResult:
    pages: int
    changed_pages: int
    copied: int
    translated: int
    fallback: int
    failures: tuple[PageFailure, ...]
    problems: tuple[PageFailure, ...]


def translations_of(catalog: Catalog) -> dict[tuple[str | None, str], str]:
    """(msgctxt, msgid) -> msgstr for every translated, non-fuzzy entry."""
    return {e.key: e.msgstr for e in catalog.entries if e.translated and e.msgid_plural is None}


@lru_cache(maxsize=64)
def is_rtl(locale: str) -> bool:
    """Right-to-left script, from Babel's CLDR data."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(locale.replace("-", "_")).character_order == "right-to-left"
    except (UnknownLocaleError, ValueError):
        return False


def html_lang(locale: str) -> str:
    """BCP 47 form of a gettext locale: pt_BR -> pt-BR."""
    return locale.replace("_", "-")


def lang_replacements(page: str, root: Element, locale: str) -> list[Replacement]:
    html_el = next((c for c in root.children if isinstance(c, Element) and c.tag == "html"), None)
    if html_el is None:
        return []
    lang = html_lang(locale)
    direction = "rtl" if is_rtl(locale) else "ltr"
    out: list[Replacement] = []
    attrs = {a.name: a for a in html_el.attributes()}
    inserted = ""
    for name, value in (("lang", lang), ("xml:lang", lang), ("dir", direction)):
        attr = attrs.get(name)
        if attr is None:
            if name == "lang" or (name == "dir" and direction == "rtl"):
                inserted += f' {name}="{value}"'
            continue
        escaped = escape_attribute(value, attr.quote or '"')
        out.append((attr.value_start, attr.value_end, escaped if attr.quote else f'"{escaped}"'))
    if inserted:
        at = html_el.start + 5  # right after "<html"
        out.append((at, at, inserted))
    return out


def build_page(
    data: bytes,
    path: str,
    translations: dict[tuple[str | None, str], str],
    locale: str,
    *,
    source_locale: str = "en",
    on_problem: Callable[[Unit, str], None] | None = None,
) -> tuple[bytes, int, int]:
    """One page rebuilt: (bytes, translated units, units kept in the source language)."""
    decoded = decode_page(data, path)
    page = decoded.text
    root = parse(page)
    units = find_units(page, root)
    counts = [0, 0]

    def lookup(unit: Unit) -> str | None:
        msgstr = translations.get(unit.key)
        counts[0 if msgstr is not None else 1] += 1
        return msgstr

    extra = lang_replacements(page, root, locale) if locale != source_locale else []
    rebuilt = render(page, units, lookup, extra, on_problem, isolate=locale != source_locale and is_rtl(locale))
    if rebuilt is None:
        return data, counts[0], counts[1]
    return encode_page(decoded, rebuilt), counts[0], counts[1]


@dataclass(frozen=True, slots=True)
class _BuildJob:
    out_dir: str
    translations: dict[tuple[str | None, str], str]
    locale: str
    source_locale: str


# (path, is page, translated, fallback, changed, failure, problems)
_Built = tuple[str, bool, int, int, bool, str | None, list[str]]


def _build_one(source: Source, path: str, job: _BuildJob) -> _Built:
    target = Path(job.out_dir) / check_key(path)
    problems: list[str] = []
    try:
        data = source.read(path)
    except LocalizeError as e:
        return path, False, 0, 0, False, str(e), problems
    target.parent.mkdir(parents=True, exist_ok=True)
    if not is_page(path):
        target.write_bytes(data)
        return path, False, 0, 0, False, None, problems

    def problem(unit: Unit, message: str) -> None:
        problems.append(f"translation of {unit.msgid[:60]!r} not used: {message}")

    try:
        result, translated, fallback = build_page(
            data, path, job.translations, job.locale, source_locale=job.source_locale, on_problem=problem
        )
    except LocalizeError as e:
        target.write_bytes(data)  # never leave a hole in the site: the page stays in the source language
        return path, True, 0, 0, False, str(e), problems
    target.write_bytes(result)
    return path, True, translated, fallback, result is not data, None, problems


def build_course(
    source: Source,
    catalog: Catalog,
    out_dir: str | os.PathLike[str],
    locale: str,
    *,
    source_locale: str = "en",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> BuildResult:
    """Write every file of ``source`` under ``out_dir``, pages localized.

    A page that cannot be read is copied unchanged and reported; translations
    that cannot be used are reported in ``problems`` and fall back to the source.
    """
    job = _BuildJob(str(out_dir), translations_of(catalog), locale, source_locale)
    paths = source.paths()
    failures = [PageFailure(p.path or source.location, str(p)) for p in source.problems]
    problems: list[PageFailure] = []
    pages = changed = copied = translated = fallback = 0
    for path, page, t, f, was_changed, failure, issues in map_pages(_build_one, source, paths, jobs, job):
        if progress is not None:
            progress(path)
        problems.extend(PageFailure(path, msg) for msg in issues)
        if failure is not None:
            failures.append(PageFailure(path, failure))
            continue
        if page:
            pages += 1
            translated += t
            fallback += f
            changed += was_changed
        else:
            copied += 1
    return BuildResult(pages, changed, copied, translated, fallback, tuple(failures), tuple(problems))
