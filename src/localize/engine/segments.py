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
* code, kbd, samp, pre, script, style, template, svg, math, MathJax spans,
  icon-font elements (``<i class="material-icons">menu</i>``) and anything marked
  ``translate="no"``, ``class="notranslate"`` or ``data-translate-ignore`` are
  never translated; inside a sentence they are void placeholders that carry the
  original markup through unchanged;
* ``<noscript>`` is a block of its own: text written directly in it is a unit;
* word-timing spans of transcripts (``<span m="940">``) are transparent; a
  translated unit is wrapped in its first one (the timing of its first word);
* alt, title, placeholder, aria-label, the value of submit buttons and the
  description, keywords and social-card metadata are units of their own, with
  msgctxt ``attribute``.

Both walk with explicit stacks, never recursion: a page may nest 100,000 elements.

One cohesive thing at about 650 lines: finding units and splicing them back
share the walker's rules, and keeping them side by side is what stops
extraction and rebuild from drifting apart.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable, Iterable, Iterator

from localize.engine.htmltree import (
    ICON_CLASSES,
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
# a key of a data literal: the text of a hidden span a page's script reads (legacy OCW video pages
# keep {'English - US': '/courses/.../lec1.srt'} in <span class="nodisplay">): never text to translate
_DATA_KEY = re.compile(r"""['"][ ]{0,8}:""")
# the separator before the current page's name that ends a breadcrumb, as the page has it
_CRUMB_TAIL = re.compile(
    r"[ \t\n\r\f]{0,64}(?:»|›|/|\||>|&raquo;|&rsaquo;|&gt;|&#187;|&#8250;|&#x[bB][bB];)[ \t\n\r\f]{0,64}"
)
_WS_RUN = re.compile(r"[\t\n\f\r ]+")
_LETTER = re.compile(r"[^\W\d_]")
# control characters, and lone surrogates (undecodable bytes kept for the rebuild): never in a msgid
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ud800-\udfff]")
MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.+?\$\$", re.S)  # the rule; math_spans applies it
_MATH_PAIRS = (("\\(", "\\)", 2), ("\\[", "\\]", 2), ("$$", "$$", 3))  # opener, closer, least length


class _Next:
    """The next occurrence of ``needle`` at or after a position that only grows: each answer is
    kept until the position passes it, so a text is searched once however many asks it gets."""

    __slots__ = ("at", "found", "needle", "text")

    def __init__(self, text: str, needle: str) -> None:
        self.text, self.needle, self.at, self.found = text, needle, -1, -1

    def __call__(self, pos: int) -> int:
        if self.at < 0 or pos < self.at or pos > self.found >= 0:
            self.at, self.found = pos, self.text.find(self.needle, pos)
        return self.found


def math_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each formula of ``text``, as ``MATH.finditer`` finds them, in linear time:
    the regular expression scans to the end of the text for every unclosed ``\\(`` (quadratic on a
    page of them)."""
    openers = [_Next(text, o) for o, _, _ in _MATH_PAIRS]
    closers = [_Next(text, c) for _, c, _ in _MATH_PAIRS]
    out: list[tuple[int, int]] = []
    pos = 0
    while True:
        starts = [o(pos) for o in openers]
        found = [(at, k) for k, at in enumerate(starts) if at >= 0]
        if not found:
            return out
        at, k = min(found)
        end = closers[k](at + _MATH_PAIRS[k][2])
        if end < 0:
            pos = at + 1
            continue
        end += 2
        out.append((at, end))
        pos = end


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
    "icon": "icon, kept as it is",
}


def _unescape(s: str) -> str:
    return html.unescape(s) if "&" in s else s


def _sets_lang(el: Element) -> bool:
    """Whether ``el`` says which language its content is in (``lang`` or ``xml:lang``);
    ``<html lang>`` is the page's language, which a build replaces."""
    attrs = el.attrs
    if el.tag == "html" or ("lang" not in attrs and "LANG" not in attrs and "Lang" not in attrs):
        return False
    return any(a.name in ("lang", "xml:lang") for a in el.attributes())


class _Frame:
    """An element whose children the walker is going through, and the inline run it gathers."""

    __slots__ = ("el", "ignored", "it", "lang", "prev", "run", "split")

    def __init__(self, el: Element, ignored: bool, lang: bool) -> None:
        self.el = el
        self.it = iter(el.children)
        self.ignored = ignored  # under translate="no": only translate="yes" descendants count
        self.lang = lang  # an enclosing element (or this one) sets its own lang
        self.prev = el.tag_end
        self.run: list[Element | Text] = []
        self.split = False  # block children or block end tags cut the content into several runs


_NO_OWNER = frozenset(("#document", "html"))
_DROPPABLE = VOID | INVISIBLE


def _edge_droppable(item: Element | Text, page: str) -> bool:
    """Whitespace, void and invisible elements, icons, elements with nothing inside (an anchor
    ``<a name="x"></a>``), comments and stray end tags: dropped from a unit's edges, where they
    stay as they are, so a translator sees ``Download File``, not ``<span1/> Download File``."""
    if isinstance(item, Element):
        return item.tag in _DROPPABLE or item.icon or (item.end_start == item.tag_end and not item.children)
    if type(item) is Text:
        return not page[item.start : item.end].strip(_WS)
    return True  # comments and stray end tags


class _Walker:
    def __init__(self, page: str) -> None:
        self.page = page
        self.units: list[Unit] = []
        self.container = ""

    # -- structure -------------------------------------------------------
    def walk(self, top: Element, ignored: bool = False) -> None:
        """Every block under ``top``, in document order, with an explicit stack: a page
        may nest elements 100,000 deep."""
        page = self.page
        stack = [_Frame(top, ignored, False)]
        while stack:
            f = stack[-1]
            nested: _Frame | None = None
            if f.ignored:
                for child in f.it:
                    if isinstance(child, Element):
                        if child.author_ignored is False and not child.ignored:
                            if child.attrs:
                                self.attributes(child)
                            nested = _Frame(child, False, f.lang or _sets_lang(child))
                        else:
                            nested = _Frame(child, True, f.lang)
                        break
                if nested is None:
                    stack.pop()
                else:
                    stack.append(nested)
                continue
            pending: list[Element] = []
            run, prev = f.run, f.prev  # locals in the hot loop, stored back below
            for child in f.it:
                start = child.start
                if start > prev and (run or not page[prev:start].isspace()):
                    run.append(Text(prev, start))
                prev = child.end
                if isinstance(child, Element):
                    if child.inline:
                        run.append(child)
                        continue
                    f.split = True
                    if run:
                        pending = self.flush(run, f.el, False, f.lang)
                        run = []
                    if child.attrs:
                        self.attributes(child)
                    if child.ignored:
                        if child.author_ignored:
                            nested = _Frame(child, True, f.lang)
                            break
                        if pending:
                            break
                        continue
                    nested = _Frame(child, False, f.lang or _sets_lang(child))
                    break
                if isinstance(child, Stray):
                    if child.tag in INLINE:
                        run.append(child)
                    elif run:
                        f.split = True
                        pending = self.flush(run, f.el, False, f.lang)
                        run = []
                        break
                else:
                    run.append(child)
            else:
                el = f.el
                if el.end_start > prev and (run or not page[prev : el.end_start].isspace()):
                    run.append(Text(prev, el.end_start))
                if run:
                    pending = self.flush(run, el, not f.split, f.lang)
                    run = []
                stack.pop()
            f.run, f.prev = run, prev
            if nested is not None:
                stack.append(nested)
            if pending:  # translate="yes" inside translate="no" inside the run just flushed: walked next
                stack.extend(_Frame(el, True, f.lang) for el in reversed(pending))

    def flush(self, run: list[Element | Text], block: Element, whole: bool, lang: bool) -> list[Element]:
        """The unit of a run; returns the translate="no" elements of the run to walk for
        translate="yes" descendants."""
        self.container = block.tag
        pending: list[Element] = []
        for item in run:
            if isinstance(item, Element):
                self.inline_attributes(item, pending)
        owner = block if whole and block.tag not in _NO_OWNER else None
        self.unit(run, block.context, owner, lang)
        return pending

    def inline_attributes(self, top: Element, pending: list[Element]) -> None:
        todo = [top]
        while todo:
            el = todo.pop()
            if el.attrs:
                self.attributes(el)
            if el.ignored:
                if el.author_ignored:
                    pending.append(el)
                continue
            if el.children:
                todo.extend([c for c in reversed(el.children) if isinstance(c, Element)])

    def trim(self, items: list[Element | Text]) -> list[Element | Text]:
        page = self.page
        lo, hi = 0, len(items)
        while lo < hi and _edge_droppable(items[lo], page):
            lo += 1
        while hi > lo and _edge_droppable(items[hi - 1], page):
            hi -= 1
        return items if lo == 0 and hi == len(items) else items[lo:hi]

    def unit(self, run: list[Element | Text], context: str | None, owner: Element | None, lang: bool) -> None:
        items = self.trim(run)
        while len(items) == 1 and isinstance(el := items[0], Element):
            if el.ignored or el.tag in VOID:
                return
            context = el.context
            owner = el
            lang = lang or _sets_lang(el)
            items = self.trim(content(el))
        if not items:
            return
        links = self.link_run(items)
        if links:
            for link in links:
                if isinstance(link, Element):
                    self.unit([link], link.context, None, lang)
                else:  # the current page ending a breadcrumb, after its last separator
                    self.text_unit([link], context, -2 if lang else -1)
            return
        self.text_unit(items, context, -2 if lang else owner.attrs_at if owner is not None else -1)

    def link_run(self, items: list[Element | Text]) -> list[Element | Text] | None:
        """The parts of a nav bar or breadcrumb, one unit each.

        Links with only whitespace between them, or links and other inline
        elements separated by symbols such as "/", "›" or "|" (a breadcrumb
        ending in the current page), but never a sentence: any letter outside
        the elements keeps the run whole, but for the current page's name as
        plain text after the last separator of two links or more
        (``Home » Courses » Assignments``): a text part of its own.
        """
        for item in items:  # no link, none wrapped in an element of its own: no nav bar (most units)
            if type(item) is Element and (
                item.tag == "a" or any(type(c) is Element and c.tag == "a" for c in item.children)
            ):
                break
        else:
            return None
        parts: list[Element | Text] = []
        links = 0
        symbols = False
        page = self.page
        tail: Text | None = None
        for i, item in enumerate(items):
            if isinstance(item, Element):
                if item.tag == "a" or self._wraps_link(item):
                    links += 1
                    parts.append(item)
                elif item.tag not in INVISIBLE and item.tag not in VOID:
                    parts.append(item)
            elif type(item) is Text:
                text = _unescape(page[item.start : item.end])
                if _LETTER.search(text):
                    crumb = _CRUMB_TAIL.match(page, item.start, item.end) if i == len(items) - 1 else None
                    if crumb is None:
                        return None
                    tail = Text(crumb.end(), item.end)
                    continue
                symbols = symbols or bool(text.strip())
        if tail is not None:
            return [*parts, tail] if links >= 2 and links == len(parts) else None
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
    def text_unit(self, items: list[Element | Text], context: str | None, lang_at: int) -> None:
        page = self.page
        out: list[str] = []
        placeholders: list[Placeholder] = []
        tags: list[str] = []
        letter = False
        timing: tuple[int, int] | None = None

        def add_void(tag: str, start: int, end: int, described: str) -> None:
            name = f"{tag}{len(placeholders) + 1}"
            out.append(f"<{name}/>")
            placeholders.append(Placeholder(name, start, end))
            tags.append(described)

        # an explicit stack of (children still to see, closing placeholder): no recursion
        stack: list[tuple[Iterator[Element | Text], str]] = [(iter(items), "")]
        while stack:
            it, closing = stack[-1]
            node = next(it, None)
            if node is None:
                stack.pop()
                if closing:
                    out.append(closing)
                continue
            kind = type(node)
            if kind is Text:
                s = page[node.start : node.end]
                if "\\" in s or "$$" in s:
                    pos = 0
                    for a, b in math_spans(s):
                        piece = _unescape(s[pos:a])
                        letter = letter or _LETTER.search(piece) is not None
                        out.append(piece)
                        add_void("math", node.start + a, node.start + b, "math")
                        pos = b
                    s = s[pos:]
                s = _unescape(s)
                if not letter and _LETTER.search(s):
                    letter = True
                out.append(s)
            elif kind is Element:
                assert isinstance(node, Element)
                tag = node.tag
                if tag == "span" and node.attrs and _TIMING_ONLY.fullmatch(node.attrs) and not node.ignored:
                    # word timing of a transcript: its text joins the unit; the first one is kept
                    if timing is None:
                        timing = (node.start, node.tag_end)
                    if node.children or node.end_start <= node.tag_end:
                        stack.append((iter(content(node)), ""))
                        continue
                    # only text inside (a transcript has thousands of these): as a text node would be
                    s = page[node.tag_end : node.end_start]
                    if "\\" in s or "$$" in s:
                        stack.append((iter(content(node)), ""))
                        continue
                    s = _unescape(s)
                    if not letter and _LETTER.search(s):
                        letter = True
                    out.append(s)
                    continue
                if node.ignored or tag in VOID or tag in RAW_TEXT:
                    add_void(tag, node.start, node.end, "icon" if node.icon else tag)
                else:
                    name = f"{tag}{len(placeholders) + 1}"
                    placeholders.append(Placeholder(name, node.start, node.tag_end, node.end_start, node.end))
                    tags.append(tag)
                    out.append(f"<{name}>")
                    stack.append((iter(content(node)), f"</{name}>"))
            elif kind is Comment:
                add_void("comment", node.start, node.end, "comment")
            else:
                assert isinstance(node, Stray)
                add_void(node.tag, node.start, node.end, node.tag)

        if not letter:
            return
        msgid = _WS_RUN.sub(" ", "".join(out)).strip(" ")
        if not placeholders and msgid[:1] in ("{", "[") and msgid[-1:] in ("}", "]") and _DATA_KEY.search(msgid):
            return  # a data literal ({'key': 'value'}), not words
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
            Unit(
                UnitKind.TEXT,
                msgid,
                context,
                start,
                end,
                tuple(placeholders),
                comment,
                container=self.container,
                lang_at=lang_at,
                timing=timing,
            )
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


def find_units(page: str, root: Element | None = None, icon_classes: Iterable[str] = ICON_CLASSES) -> list[Unit]:
    """Every translatable unit of ``page``, in document order (``icon_classes``: see
    :func:`~localize.engine.htmltree.parse`; ignored when ``root`` is given)."""
    walker = _Walker(page)
    walker.walk(root if root is not None else parse(page, icon_classes))
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
    inserts: Iterable[Replacement] = (),
    fallback_attributes: str = "",
) -> str | None:
    """``page`` with translations spliced in, or None when nothing changes.

    ``lookup`` gives the translation of a unit, or None to keep the source.
    ``extra`` are further (start, end, text) replacements outside any text
    unit (the ``<html lang>`` attribute). ``inserts`` are replacements that may
    fall inside units' markup (``dir="ltr"`` in a ``<code>`` start tag): they
    travel with the placeholders, like translated attributes. Translations whose
    placeholders do not match are reported to ``on_problem`` and the source text
    is kept. ``annotate(unit, translated)`` may return markup to wrap around a
    text unit's content (the preview marks units that way); None leaves it bare.
    With ``isolate`` (right-to-left targets), untranslatable inline content in a
    translated sentence (code, formulas, names under translate="no") is wrapped
    in ``<bdi>`` so its own direction survives ("6.S01" stays "6.S01").
    ``fallback_attributes`` (`` lang="en"``) mark a text unit that keeps the
    source text: on the element it fills, else on a ``span`` around it. A
    translated unit of a transcript is wrapped in its first word-timing span.
    """
    attribute_repl: list[Replacement] = list(inserts)
    text_units: list[tuple[Unit, list[str | tuple[str, Placeholder]]]] = []
    wrapped: dict[tuple[int, int], tuple[Unit, tuple[str, str]]] = {}
    kept: list[Unit] = []  # text units in the source language
    for unit in units:
        msgstr = lookup(unit)
        tokens: list[str | tuple[str, Placeholder]] = []
        if msgstr is not None and msgstr != unit.msgid and unit.kind is UnitKind.TEXT:
            try:  # checked before the unit is annotated: a refused translation is marked as kept
                tokens = parse_translation(msgstr, unit)
            except TranslationProblem as e:
                if on_problem is not None:
                    on_problem(unit, str(e))
                msgstr = None
        if annotate is not None and unit.kind is UnitKind.TEXT:
            marks = annotate(unit, msgstr is not None)
            if marks is not None:
                wrapped[(unit.start, unit.end)] = (unit, marks)
        if msgstr is None:
            if unit.kind is UnitKind.TEXT:
                kept.append(unit)
            continue
        if msgstr == unit.msgid:
            continue
        if unit.kind is UnitKind.ATTRIBUTE:
            quote = unit.quote
            value = escape_attribute(msgstr, quote or '"')
            attribute_repl.append((unit.start, unit.end, value if quote else f'"{value}"'))
        else:
            text_units.append((unit, tokens))
    top: list[Replacement] = list(extra)
    attribute_repl.sort()
    done: set[tuple[int, int]] = set()
    starts = [r[0] for r in attribute_repl]
    used: set[int] = set()

    def inside(a: int, b: int) -> list[Replacement]:
        lo = bisect.bisect_left(starts, a)
        hi = bisect.bisect_left(starts, b)
        used.update(range(lo, hi))
        return attribute_repl[lo:hi]

    for unit, tokens in text_units:
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
        if unit.timing is not None:
            text = page[unit.timing[0] : unit.timing[1]] + text + "</span>"
        marked = wrapped.get((unit.start, unit.end))
        if marked is not None:
            text = marked[1][0] + text + marked[1][1]
            done.add((unit.start, unit.end))
        top.append((unit.start, unit.end, text))
    if fallback_attributes:
        for unit in kept:
            if unit.lang_at >= 0:
                top.append((unit.lang_at, unit.lang_at, fallback_attributes))
            elif unit.lang_at == -1:
                span = (f"<span{fallback_attributes}>", "</span>")
                marked = wrapped.get((unit.start, unit.end))
                if marked is not None:
                    span = (marked[1][0] + span[0], span[1] + marked[1][1])
                wrapped[(unit.start, unit.end)] = (unit, span)
    for key, (unit, (before, after)) in wrapped.items():
        if key not in done:
            inner = inside(unit.start, unit.end)
            top.append((unit.start, unit.end, before + _splice(page, unit.start, unit.end, inner) + after))
    # attributes not carried by a translated unit's placeholders apply on their own
    top.extend(r for i, r in enumerate(attribute_repl) if i not in used)
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
