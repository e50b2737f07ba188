"""The one page pipeline: decode -> parse -> units -> look up -> lang/dir -> splice -> encode.

Build, the translators' preview and publishing all make their pages here, so a
rule about what a localized page looks like (its ``lang`` and ``dir``, what is
isolated in right-to-left text, which blocks stay left to right, how text left
in the source language is labelled, what a notice or banner is inserted after)
is written once.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from localize.engine.encoding import decode_page, encode_page
from localize.engine.htmltree import ICON_CLASSES, Element, Text, body_start, content, parse
from localize.engine.segments import Replacement, escape_attribute, find_units, math_spans, render
from localize.locales import html_lang, is_rtl
from localize.model import Catalog, Unit, UnitKind

__all__ = [
    "Lookup",
    "PageResult",
    "fallback_attributes",
    "lang_replacements",
    "localize_page",
    "ltr_marks",
    "translations_of",
]

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
                shown = escape_attribute(value, '"')  # never markup, whatever the code says
                inserted += f' {name}="{shown}"'
            continue
        escaped = escape_attribute(value, attr.quote or '"')
        if attr.value is None:  # a bare attribute (<html lang>): its value is added after the name
            out.append((attr.value_start, attr.value_end, f'="{escaped}"'))
            continue
        out.append((attr.value_start, attr.value_end, escaped if attr.quote else f'"{escaped}"'))
    if inserted:
        at = html_el.start + 5  # right after "<html"
        out.append((at, at, inserted))
    return out


# Content that reads left to right whatever the page's direction: code, preformatted text, formulas.
LTR_TAGS = frozenset(("pre", "code", "kbd", "samp", "math", "xmp", "listing", "plaintext"))
# Never shown as text in the page, or a document of its own: left alone.
_NO_DIRECTION = frozenset(
    ("head", "script", "style", "template", "noscript", "iframe", "noembed", "noframes", "textarea", "title", "svg")
)


def _has_attribute(el: Element, name: str) -> bool:
    return name in el.attrs.lower() and any(a.name == name for a in el.attributes())


def _reenables(el: Element) -> bool:
    """Whether something under ``el`` says translate="yes" (it will be translated)."""
    todo = [el]
    while todo:
        for child in todo.pop().children:
            if isinstance(child, Element):
                if child.author_ignored is False and not child.ignored:
                    return True
                todo.append(child)
    return False


def fallback_attributes(locale: str, source_locale: str) -> str:
    """The attributes of text kept in ``source_locale`` in a page in ``locale``."""
    source, lang = html_lang(source_locale), html_lang(locale)
    if source == lang:
        return ""
    out = f' lang="{source}"'
    if is_rtl(source_locale) != is_rtl(locale):
        out += ' dir="rtl"' if is_rtl(source_locale) else ' dir="ltr"'
    return out


def ltr_marks(page: str, root: Element, units: Iterable[Unit]) -> list[Replacement]:
    """What keeps untranslatable content left to right in a right-to-left page.

    ``dir="ltr"`` on the outermost pre, code, kbd, samp, math (and xmp, listing,
    plaintext) elements and on blocks under ``translate="no"`` (unless they already
    say ``dir``), and a ``<span dir="ltr">`` around TeX formulas outside any text
    unit (inside one, :func:`render` isolates them with ``<bdi>``).
    """
    spans = sorted((u.start, u.end) for u in units if u.kind is UnitKind.TEXT)
    starts = [a for a, _ in spans]

    def in_unit(at: int) -> bool:
        i = bisect.bisect_right(starts, at) - 1
        return i >= 0 and spans[i][0] <= at < spans[i][1]

    out: list[Replacement] = []
    todo = [root]
    while todo:
        el = todo.pop()
        for node in content(el):
            if isinstance(node, Text):
                text = page[node.start : node.end]
                if "\\" in text or "$$" in text:
                    for a, b in math_spans(text):
                        a, b = node.start + a, node.start + b
                        if not in_unit(a):
                            out.append((a, a, '<span dir="ltr">'))
                            out.append((b, b, "</span>"))
                continue
            if not isinstance(node, Element) or node.tag in _NO_DIRECTION:
                continue
            if node.tag in LTR_TAGS or (node.author_ignored and not node.inline and not _reenables(node)):
                if not _has_attribute(node, "dir"):
                    out.append((node.attrs_at, node.attrs_at, ' dir="ltr"'))
                continue
            if not node.ignored or node.author_ignored:
                todo.append(node)
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
    icon_classes: Iterable[str] = ICON_CLASSES,
    documents_only: bool = False,
) -> PageResult:
    """One page in ``locale``: the original bytes with translations spliced in.

    ``after_body`` is markup inserted right after ``<body>`` (a notice, the
    preview banner); at the start of a fragment without one, unless ``documents_only``. A page whose locale is the source locale keeps its ``lang``
    and every byte it does not translate. In a page in another locale, text kept
    in the source language says so (``lang``, and ``dir`` where the directions
    differ); in a right-to-left page, code, preformatted text and formulas stay
    left to right (:func:`ltr_marks`).
    Raises :class:`~localize.errors.PageError` for a page that cannot be decoded.
    """
    decoded = decode_page(data, path)
    page = decoded.text
    root = parse(page, icon_classes)
    units = find_units(page, root)
    counts = [0, 0]

    def lookup(unit: Unit) -> str | None:
        msgstr = translations.get(unit.key)
        counts[0 if msgstr is not None else 1] += 1
        return msgstr

    target = locale != source_locale
    rtl = target and is_rtl(locale)
    extra = lang_replacements(page, root, locale) if target else []
    body = body_start(root) if after_body else None
    if after_body and (body is not None or not documents_only):
        at = body if body is not None else 0
        extra.append((at, at, after_body))

    def refused(unit: Unit, message: str) -> None:  # a translation whose placeholders do not fit: kept
        counts[0] -= 1
        counts[1] += 1
        if on_problem is not None:
            on_problem(unit, message)

    rebuilt = render(
        page,
        units,
        lookup,
        extra,
        refused,
        annotate=annotate,
        isolate=rtl,
        inserts=ltr_marks(page, root, units) if rtl else (),
        fallback_attributes=fallback_attributes(locale, source_locale) if target else "",
    )
    if rebuilt is None:
        return PageResult(data, counts[0], counts[1], False)
    return PageResult(encode_page(decoded, rebuilt), counts[0], counts[1], True)
