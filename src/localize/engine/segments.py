"""The one traversal: where a page's translatable units are, and how to splice them.

:func:`find_units` walks the tree from :mod:`localize.engine.htmltree` and returns every
translatable unit of a page with its exact character span. Extraction turns the
units into catalog entries; :func:`render` puts translations back into the same
spans. Both sides read the same :class:`~localize.model.Unit` values, so they
cannot disagree about what a unit is.

Rules, in short:

* a unit is a maximal run of inline content (text and phrasing elements) inside a
  block or container element, with at least one letter;
* inline markup inside a unit becomes placeholders (``<a1>…</a1>``, ``<br2/>``);
  markup wrapping the whole unit, and invisible or void markup at its edges,
  stays outside it;
* a run made only of links (a nav bar, a breadcrumb) gives one unit per link;
* code, kbd, samp, pre, script, style, template, svg, math, MathJax spans and
  anything marked ``translate="no"``, ``class="notranslate"`` or
  ``data-translate-ignore`` are never translated; inside a sentence they are
  void placeholders that carry the original markup through unchanged;
* alt, title, placeholder, aria-label, the value of submit buttons and the
  description, keywords and social-card metadata are units of their own, with
  msgctxt ``attribute``.

One cohesive thing at about 550 lines: finding units and splicing them back
share the walker's rules, and keeping them side by side is what stops
extraction and rebuild from drifting apart.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable

from localize.engine.htmltree import (
    INLINE,
    INVISIBLE,
    RAW_TEXT,
    VOID,
    Attribute,
    Comment,
    Element,
    Stray,
    Text,
    content,
    parse,
)
from localize.engine.placeholders import TranslationProblem, parse_translation
from localize.model import ATTRIBUTE_CONTEXT, Placeholder, Unit, UnitKind

__all__ = ["TranslationProblem", "escape_attribute", "escape_text", "find_units", "parse_translation", "render"]

_WS = "\t\n\f\r "
_WS_RUN = re.compile(r"[\t\n\f\r ]+")
_LETTER = re.compile(r"[^\W\d_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.+?\$\$", re.S)
# <span m="1912150">word</span>: per-word timestamps of interactive transcripts. Word order
# changes in translation, so these spans are transparent: their text joins the unit and a
# translated unit is written without them (an untranslated page keeps them, byte for byte).
_TIMING_ONLY = re.compile(
    r"""(?:[\t\n\f\r ]+(?:m|data-(?:m|t|time|start|begin|end|ts))[\t\n\f\r ]*=[\t\n\f\r ]*(?:"[^"]*"|'[^']*'|[^\s>]+))+[\t\n\f\r /]*""",
    re.I,
)

TRANSLATABLE_ATTRIBUTES = {
    "alt": "alternative text of an image",
    "title": "tooltip (title attribute)",
    "placeholder": "placeholder text of an input field",
    "aria-label": "label read by screen readers (aria-label)",
}
META_NAMES = {
    "description": "page description (meta description)",
    "keywords": "search keywords (meta keywords), keep the commas",
    "og:title": "title shown when the page is shared (og:title)",
    "og:description": "description shown when the page is shared (og:description)",
    "twitter:title": "title shown when the page is shared (twitter:title)",
    "twitter:description": "description shown when the page is shared (twitter:description)",
}
_BUTTON_INPUTS = frozenset(("submit", "button", "reset"))
_ATTR_HINT = re.compile(r"(?:^|[\t\n\f\r /])(?:alt|title|placeholder|aria-label|value)[\t\n\f\r ]*=", re.I)
_NO_ATTRIBUTE_UNITS = frozenset(("script", "style", "template", "link", "base", "head", "html"))

DESCRIPTIONS = {
    "a": "link",
    "abbr": "abbreviation",
    "b": "bold",
    "strong": "strong emphasis",
    "em": "emphasis",
    "i": "italic",
    "u": "underline",
    "s": "strikethrough",
    "small": "small print",
    "sup": "superscript",
    "sub": "subscript",
    "span": "styled text",
    "br": "line break",
    "wbr": "optional line break",
    "img": "image",
    "code": "code, kept as it is",
    "kbd": "keyboard input, kept as it is",
    "samp": "sample output, kept as it is",
    "math": "formula, kept as it is",
    "svg": "drawing, kept as it is",
    "comment": "HTML comment, kept as it is",
    "q": "quotation",
    "cite": "citation",
    "mark": "highlight",
    "time": "date or time",
    "var": "variable",
}


def _unescape(s: str) -> str:
    return html.unescape(s) if "&" in s else s


class _Walker:
    def __init__(self, page: str) -> None:
        self.page = page
        self.units: list[Unit] = []
        self.container = ""

    # -- structure -------------------------------------------------------
    def element(self, el: Element) -> None:
        """A block-level element: its attributes, then its content."""
        self.attributes(el)
        if el.ignored:
            if el.author_ignored:
                self.ignored(el)
            return
        self.block(el)

    def ignored(self, el: Element) -> None:
        """Inside translate="no": only descendants saying translate="yes" count."""
        for child in el.children:
            if type(child) is Element:
                if child.author_ignored is False and not child.ignored:
                    self.element(child)
                else:
                    self.ignored(child)

    def block(self, el: Element) -> None:
        page = self.page
        run: list[Element | Text] = []
        prev = el.tag_end
        for child in el.children:
            if child.start > prev and (run or not page[prev : child.start].isspace()):
                run.append(Text(prev, child.start))
            prev = child.end
            kind = type(child)
            if kind is Element:
                assert isinstance(child, Element)
                if child.inline:
                    run.append(child)
                    continue
                if run:
                    self.flush(run, el)
                    run = []
                self.element(child)
            elif kind is Stray:
                assert isinstance(child, Stray)
                if child.tag in INLINE:
                    run.append(child)
                elif run:
                    self.flush(run, el)
                    run = []
            else:
                run.append(child)
        if el.end_start > prev and (run or not page[prev : el.end_start].isspace()):
            run.append(Text(prev, el.end_start))
        if run:
            self.flush(run, el)

    def flush(self, run: list[Element | Text], block: Element) -> None:
        self.container = block.tag
        context = block.context
        for item in run:
            if type(item) is Element:
                assert isinstance(item, Element)
                self.inline_attributes(item)
        self.unit(run, context)

    def inline_attributes(self, el: Element) -> None:
        self.attributes(el)
        if el.ignored:
            if el.author_ignored:
                self.ignored(el)
            return
        for child in el.children:
            if type(child) is Element:
                assert isinstance(child, Element)
                self.inline_attributes(child)

    def trim(self, items: list[Element | Text]) -> list[Element | Text]:
        page = self.page
        lo, hi = 0, len(items)
        while lo < hi and self._edge_droppable(items[lo], page):
            lo += 1
        while hi > lo and self._edge_droppable(items[hi - 1], page):
            hi -= 1
        return items[lo:hi]

    @staticmethod
    def _edge_droppable(item: Element | Text, page: str) -> bool:
        kind = type(item)
        if kind is Text:
            return not page[item.start : item.end].strip(_WS)
        if kind is Element:
            assert isinstance(item, Element)
            return item.tag in VOID or item.tag in INVISIBLE
        return True  # comments and stray end tags

    def unit(self, run: list[Element | Text], context: str | None) -> None:
        items = self.trim(run)
        while len(items) == 1 and type(items[0]) is Element:
            el = items[0]
            assert isinstance(el, Element)
            if el.ignored or el.tag in VOID:
                return
            context = el.context
            items = self.trim(content(el))
        if not items:
            return
        links = self.link_run(items)
        if links:
            for link in links:
                self.unit([link], link.context)
            return
        self.text_unit(items, context)

    def link_run(self, items: list[Element | Text]) -> list[Element] | None:
        """The parts of a nav bar or breadcrumb, one unit each.

        Links with only whitespace between them, or links and other inline
        elements separated by symbols such as "/", "›" or "|" (a breadcrumb
        ending in the current page), but never a sentence: any letter outside
        the elements keeps the run whole.
        """
        parts: list[Element] = []
        links = 0
        symbols = False
        page = self.page
        for item in items:
            kind = type(item)
            if kind is Element:
                assert isinstance(item, Element)
                if item.tag == "a" or self._wraps_link(item):
                    links += 1
                    parts.append(item)
                elif item.tag not in INVISIBLE and item.tag not in VOID:
                    parts.append(item)
            elif kind is Text:
                text = _unescape(page[item.start : item.end])
                if _LETTER.search(text):
                    return None
                symbols = symbols or bool(text.strip())
        if links >= 2 and links == len(parts):
            return parts
        if links >= 1 and len(parts) >= 2 and symbols:
            return parts
        return None

    def _wraps_link(self, el: Element) -> bool:
        if el.ignored or el.tag in VOID:
            return False
        kids = [c for c in el.children if type(c) is Element]
        if len(kids) != 1 or kids[0].tag != "a":
            return False
        inner = self.trim(content(el))
        return len(inner) == 1 and isinstance(inner[0], Element) and inner[0].tag == "a"

    # -- units -----------------------------------------------------------
    def text_unit(self, items: list[Element | Text], context: str | None) -> None:
        page = self.page
        out: list[str] = []
        placeholders: list[Placeholder] = []
        tags: list[str] = []
        letter = False

        def add_void(tag: str, start: int, end: int) -> None:
            name = f"{tag}{len(placeholders) + 1}"
            out.append(f"<{name}/>")
            placeholders.append(Placeholder(name, start, end))
            tags.append(tag)

        def walk(nodes: Iterable[Element | Text]) -> None:
            nonlocal letter
            for node in nodes:
                kind = type(node)
                if kind is Text:
                    s = page[node.start : node.end]
                    if "\\" in s or "$$" in s:
                        pos = 0
                        for m in _MATH.finditer(s):
                            piece = _unescape(s[pos : m.start()])
                            letter = letter or _LETTER.search(piece) is not None
                            out.append(piece)
                            add_void("math", node.start + m.start(), node.start + m.end())
                            pos = m.end()
                        s = s[pos:]
                    s = _unescape(s)
                    if not letter and _LETTER.search(s):
                        letter = True
                    out.append(s)
                elif kind is Element:
                    assert isinstance(node, Element)
                    tag = node.tag
                    if tag == "span" and node.attrs and _TIMING_ONLY.fullmatch(node.attrs) and not node.ignored:
                        walk(content(node))  # word timing for transcripts: cannot survive translation
                        continue
                    if node.ignored or tag in VOID or tag in RAW_TEXT:
                        add_void(tag, node.start, node.end)
                    else:
                        name = f"{tag}{len(placeholders) + 1}"
                        placeholders.append(Placeholder(name, node.start, node.tag_end, node.end_start, node.end))
                        tags.append(tag)
                        out.append(f"<{name}>")
                        walk(content(node))
                        out.append(f"</{name}>")
                elif kind is Comment:
                    add_void("comment", node.start, node.end)
                else:
                    assert isinstance(node, Stray)
                    add_void(node.tag, node.start, node.end)

        walk(items)
        if not letter:
            return
        msgid = _WS_RUN.sub(" ", "".join(out)).strip(" ")
        if _CONTROL.search(msgid):
            msgid = _CONTROL.sub("\ufffd", msgid)
        first, last = items[0], items[-1]
        start = first.start
        if type(first) is Text:
            raw = page[first.start : first.end]
            start += len(raw) - len(raw.lstrip(_WS))
        end = last.end
        if type(last) is Text:
            raw = page[last.start : last.end]
            end -= len(raw) - len(raw.rstrip(_WS))
        comment = ""
        if placeholders:
            legend = []
            for ph, tag in zip(placeholders, tags, strict=False):
                shown = f"<{ph.name}/>" if ph.void else f"<{ph.name}>…</{ph.name}>"
                legend.append(f"{shown} {DESCRIPTIONS.get(tag, tag)}")
            comment = "Placeholders: " + "; ".join(legend)
        self.units.append(
            Unit(UnitKind.TEXT, msgid, context, start, end, tuple(placeholders), comment, container=self.container)
        )

    def attributes(self, el: Element) -> None:
        attrs = el.attrs
        if not attrs or el.author_ignored or el.tag in _NO_ATTRIBUTE_UNITS:
            return
        if el.tag == "meta":
            self.meta(el)
            return
        if not (
            "alt" in attrs
            or "title" in attrs
            or "label" in attrs
            or "placeholder" in attrs
            or "value" in attrs
            or "ALT" in attrs
            or "TITLE" in attrs
        ) or not _ATTR_HINT.search(attrs):
            return
        parsed = None
        for attr in el.attributes():
            if attr.name in TRANSLATABLE_ATTRIBUTES:
                self.attribute_unit(el, attr.name, attr, TRANSLATABLE_ATTRIBUTES[attr.name])
            elif attr.name == "value" and el.tag == "input":
                parsed = parsed or {a.name: a.value for a in el.attributes()}
                if (parsed.get("type") or "").lower() in _BUTTON_INPUTS:
                    self.attribute_unit(el, "value", attr, "label of a button")

    def meta(self, el: Element) -> None:
        attrs = {a.name: a for a in el.attributes()}
        kind = attrs.get("name") or attrs.get("property")
        content = attrs.get("content")
        if kind is None or kind.value is None or content is None:
            return
        name = kind.value.strip().lower()
        if name in META_NAMES:
            self.attribute_unit(el, name, content, META_NAMES[name])

    def attribute_unit(self, el: Element, name: str, attr: object, hint: str) -> None:

        assert isinstance(attr, Attribute)
        if attr.value is None:
            return
        text = _WS_RUN.sub(" ", _unescape(attr.value)).strip(" ")
        if not _LETTER.search(text):
            return
        if _CONTROL.search(text):
            text = _CONTROL.sub("\ufffd", text)
        context = ATTRIBUTE_CONTEXT if el.context is None else f"{el.context}|{ATTRIBUTE_CONTEXT}"
        self.units.append(
            Unit(
                UnitKind.ATTRIBUTE,
                text,
                context,
                attr.value_start,
                attr.value_end,
                (),
                f"{hint} on <{el.tag}>",
                attr.quote,
            )
        )


def find_units(page: str, root: Element | None = None) -> list[Unit]:
    """Every translatable unit of ``page``, in document order."""
    walker = _Walker(page)
    walker.block(root if root is not None else parse(page))
    return walker.units


# -- rebuild -----------------------------------------------------------------


def escape_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(s: str, quote: str) -> str:
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if quote == "'":
        return s.replace("'", "&#39;")
    return s.replace('"', "&quot;")


Replacement = tuple[int, int, str]
_NOT_ISOLATED = VOID | INVISIBLE | {"comment"}


def _placeholder_tag(name: str) -> str:
    return name.rstrip("0123456789")


def _splice(page: str, start: int, end: int, inner: list[Replacement]) -> str:
    if not inner:
        return page[start:end]
    out: list[str] = []
    pos = start
    for a, b, text in inner:
        out.append(page[pos:a])
        out.append(text)
        pos = b
    out.append(page[pos:end])
    return "".join(out)


def render(
    page: str,
    units: list[Unit],
    lookup: Callable[[Unit], str | None],
    extra: Iterable[Replacement] = (),
    on_problem: Callable[[Unit, str], None] | None = None,
    annotate: Callable[[Unit, bool], tuple[str, str] | None] | None = None,
    isolate: bool = False,
) -> str | None:
    """``page`` with translations spliced in, or None when nothing changes.

    ``lookup`` gives the translation of a unit, or None to keep the source.
    ``extra`` are further (start, end, text) replacements outside any text
    unit (the ``<html lang>`` attribute). Translations whose placeholders do not
    match are reported to ``on_problem`` and the source text is kept.
    ``annotate(unit, translated)`` may return markup to wrap around a text
    unit's content (the preview marks units that way); None leaves it bare.
    With ``isolate`` (right-to-left targets), untranslatable inline content in a
    translated sentence (code, formulas, names under translate="no") is wrapped
    in ``<bdi>`` so its own direction survives ("6.S01" stays "6.S01").
    """
    attribute_repl: list[Replacement] = []
    text_units: list[tuple[Unit, str]] = []
    wrapped: list[tuple[Unit, tuple[str, str]]] = []
    for unit in units:
        msgstr = lookup(unit)
        if annotate is not None and unit.kind is UnitKind.TEXT:
            marks = annotate(unit, msgstr is not None)
            if marks is not None:
                wrapped.append((unit, marks))
        if msgstr is None or msgstr == unit.msgid:
            continue
        if unit.kind is UnitKind.ATTRIBUTE:
            quote = unit.quote
            value = escape_attribute(msgstr, quote or '"')
            attribute_repl.append((unit.start, unit.end, value if quote else f'"{value}"'))
        else:
            text_units.append((unit, msgstr))
    top: list[Replacement] = list(extra)
    attribute_repl.sort()
    marks_of = {(u.start, u.end): m for u, m in wrapped}
    done: set[tuple[int, int]] = set()
    if text_units:
        import bisect

        starts = [r[0] for r in attribute_repl]
        used: set[int] = set()

        def inside(a: int, b: int) -> list[Replacement]:
            lo = bisect.bisect_left(starts, a)
            hi = bisect.bisect_left(starts, b)
            used.update(range(lo, hi))
            return attribute_repl[lo:hi]

        for unit, msgstr in text_units:
            try:
                tokens = parse_translation(msgstr, unit)
            except TranslationProblem as e:
                if on_problem is not None:
                    on_problem(unit, str(e))
                continue
            out: list[str] = []
            for token in tokens:
                if isinstance(token, str):
                    out.append(escape_text(token))
                else:
                    kind, ph = token
                    if kind == "close":
                        assert ph.close_start is not None and ph.close_end is not None
                        out.append(_splice(page, ph.close_start, ph.close_end, inside(ph.close_start, ph.close_end)))
                    elif isolate and kind == "void" and _placeholder_tag(ph.name) not in _NOT_ISOLATED:
                        out.append("<bdi>" + _splice(page, ph.start, ph.end, inside(ph.start, ph.end)) + "</bdi>")
                    else:
                        out.append(_splice(page, ph.start, ph.end, inside(ph.start, ph.end)))
            text = "".join(out)
            marks = marks_of.get((unit.start, unit.end))
            if marks is not None:
                text = marks[0] + text + marks[1]
                done.add((unit.start, unit.end))
            top.append((unit.start, unit.end, text))
        # attributes not carried by a translated unit's placeholders apply on their own
        top.extend(r for i, r in enumerate(attribute_repl) if i not in used)
    else:
        top.extend(attribute_repl)
    for unit, (before, after) in wrapped:
        if (unit.start, unit.end) not in done:
            inner = [r for r in attribute_repl if unit.start <= r[0] < unit.end]
            top = [r for r in top if not (unit.start <= r[0] < unit.end and r in inner)]
            top.append((unit.start, unit.end, before + _splice(page, unit.start, unit.end, inner) + after))
    if not top:
        return None
    top.sort()
    return _splice(page, 0, len(page), _drop_nested(top))


def _drop_nested(repls: list[Replacement]) -> list[Replacement]:
    """Keep outermost replacements only (an attribute inside a replaced unit was applied there)."""
    out: list[Replacement] = []
    end = -1
    for r in repls:
        if r[0] >= end or r[0] == r[1] == end:
            out.append(r)
            end = max(end, r[1])
    return out
