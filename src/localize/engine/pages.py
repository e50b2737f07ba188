"""The one page pipeline: decode -> parse -> units -> look up -> lang/dir -> splice -> encode.

Build, the translators' preview and publishing all make their pages here, so a
rule about what a localized page looks like (its ``lang`` and ``dir``, what is
isolated in right-to-left text, what a notice or banner is inserted after) is
written once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localize.engine.encoding import decode_page, encode_page
from localize.engine.htmltree import Element, find_element, parse
from localize.engine.segments import Replacement, escape_attribute, find_units, render
from localize.locales import html_lang, is_rtl
from localize.model import Catalog, Unit

__all__ = ["Lookup", "PageResult", "lang_replacements", "localize_page", "translations_of"]

Lookup = dict[tuple[str | None, str], str]
"""(msgctxt, msgid) -> msgstr of the entries a page may use."""


def translations_of(catalog: Catalog) -> Lookup:
    """(msgctxt, msgid) -> msgstr for every translated, non-fuzzy entry."""
    return {e.key: e.msgstr for e in catalog.entries if e.translated and e.msgid_plural is None}


@dataclass(frozen=True, slots=True)
class PageResult:
    data: bytes
    translated: int  # units whose translation was used
    fallback: int  # units kept in the source language
    changed: bool


def lang_replacements(page: str, root: Element, locale: str) -> list[Replacement]:
    """Set ``<html lang>`` (and ``xml:lang`` where present) to ``locale``, and ``dir``
    for right-to-left locales (or where the page sets one)."""
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


def localize_page(
    data: bytes,
    path: str,
    translations: Lookup,
    locale: str,
    *,
    source_locale: str = "en",
    after_body: str = "",
    on_problem: Callable[[Unit, str], None] | None = None,
    annotate: Callable[[Unit, bool], tuple[str, str] | None] | None = None,
) -> PageResult:
    """One page in ``locale``: the original bytes with translations spliced in.

    ``after_body`` is markup inserted right after ``<body>`` (a notice, the
    preview banner). A page whose locale is the source locale keeps its ``lang``.
    Raises :class:`~localize.errors.PageError` for a page that cannot be decoded.
    """
    decoded = decode_page(data, path)
    page = decoded.text
    root = parse(page)
    units = find_units(page, root)
    counts = [0, 0]

    def lookup(unit: Unit) -> str | None:
        msgstr = translations.get(unit.key)
        counts[0 if msgstr is not None else 1] += 1
        return msgstr

    target = locale != source_locale
    extra = lang_replacements(page, root, locale) if target else []
    if after_body:
        body = find_element(root, "body")
        at = body.tag_end if body is not None else 0
        extra.append((at, at, after_body))
    rebuilt = render(page, units, lookup, extra, on_problem, annotate=annotate, isolate=target and is_rtl(locale))
    if rebuilt is None:
        return PageResult(data, counts[0], counts[1], False)
    return PageResult(encode_page(decoded, rebuilt), counts[0], counts[1], True)
