"""A fast, forgiving HTML tree builder that remembers where everything came from.

Every node keeps the character offsets of its start tag, content and end tag in
the decoded page. Extraction reads text through those offsets and the rebuild
splices translations into the same offsets, so the two cannot drift and
everything that is not translated stays exactly as it was.

It follows the parts of the HTML5 parsing rules that decide which text belongs
to which element (raw-text elements, void elements, implied end tags of p, li,
td..., stray end tags, unclosed elements at the end of the file) and leaves the
rest (foster parenting, formatting-element reconstruction) alone: they change
how a browser renders broken markup, not which text it shows.

Building is linear in the size of the page however deep its elements nest: the
open-element stack keeps, per tag, where that tag is open, so no end tag or
implied end tag searches the stack.

One cohesive thing at about 600 lines: the tokenizer, the implied-end-tag rules
and the tree they build belong together; split apart, each half would need the
other's tables.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import lru_cache

__all__ = [
    "ICON_CLASSES",
    "Attribute",
    "Comment",
    "Element",
    "Stray",
    "Text",
    "body_start",
    "content",
    "find_element",
    "parse",
    "parse_attributes",
]

_WS = "\t\n\f\r "

# One pattern for everything that starts with "<". Possessive quantifiers keep it
# linear on pathological input (an unclosed tag at the end of a large file).
_MASTER = re.compile(
    r"""<(?:
    (!--.*?(?:--!?>|\Z))                                    # 1 comment
   |([!?][^>]*+>?)                                          # 2 doctype, CDATA, PI, bogus comment
   |/([A-Za-z][^\t\n\f\r />]*+)[^>]*+>                      # 3 end tag name
   |([A-Za-z][^\t\n\f\r />]*+)                              # 4 start tag name
    ((?:[\t\n\f\r /]*+[^\t\n\f\r />][^\t\n\f\r />=]*+
        (?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:"[^"]*+"|'[^']*+'|[^\t\n\f\r >]++))?+
    )*+)                                                    # 5 attributes
    [\t\n\f\r /]*+>)
    """,
    re.S | re.X,
)

_TAIL = re.compile(r"<[!?]")

_ATTRIBUTE = re.compile(
    r"""([^\t\n\f\r />][^\t\n\f\r />=]*)
        (?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r >]+)))?""",
    re.X,
)

VOID = frozenset(
    [
        "area",
        "base",
        "basefont",
        "bgsound",
        "br",
        "col",
        "embed",
        "frame",
        "hr",
        "image",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
    ]
)
# Elements whose content is not markup: skipped up to their end tag.
RAW_TEXT = frozenset(
    ["script", "style", "xmp", "iframe", "noembed", "noframes", "plaintext", "textarea", "title", "svg", "math"]
)
RCDATA = frozenset(("title", "textarea"))

# Phrasing elements: they may sit inside a sentence and become placeholders.
INLINE = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "b",
        "bdi",
        "bdo",
        "big",
        "br",
        "cite",
        "code",
        "data",
        "del",
        "dfn",
        "em",
        "font",
        "i",
        "img",
        "ins",
        "kbd",
        "mark",
        "nobr",
        "q",
        "rp",
        "rt",
        "ruby",
        "s",
        "samp",
        "small",
        "span",
        "strike",
        "strong",
        "sub",
        "sup",
        "time",
        "tt",
        "u",
        "var",
        "wbr",
        "script",
        "style",
        "template",
        "svg",
        "math",
        "iframe",
    ]
)
# <noscript> is phrasing content in HTML, but its text is a message of its own (shown only
# without JavaScript): the walker treats it as a block, so text written directly in it is a unit.
# Elements whose content is never translated.
OPAQUE = frozenset(
    [
        "script",
        "style",
        "template",
        "pre",
        "code",
        "kbd",
        "samp",
        "xmp",
        "iframe",
        "noembed",
        "noframes",
        "plaintext",
        "textarea",
        "svg",
        "math",
    ]
)
# Opaque elements a reader never sees: dropped from the edges of a unit.
INVISIBLE = frozenset(("script", "style", "template", "noscript"))

_P_CLOSERS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "center",
        "details",
        "dialog",
        "dir",
        "div",
        "dl",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hgroup",
        "hr",
        "main",
        "menu",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "ul",
        "li",
        "dd",
        "dt",
        "summary",
    ]
)
_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
# Where a search for an element to close stops (a simplified "scope").
_SCOPE = frozenset(["html", "table", "td", "th", "caption", "marquee", "object", "template", "applet", "button"])
_TABLE_PARTS = frozenset(["table", "tbody", "thead", "tfoot", "tr", "td", "th", "caption", "colgroup"])

_END_PATTERNS: dict[str, re.Pattern[str]] = {
    name: re.compile(r"</" + name + r"[\t\n\f\r />]", re.I) for name in RAW_TEXT
}

_SCRIPT_TOKENS = re.compile(r"<!--|-->|<(/?)script[\t\n\f\r />]", re.I)


def _script_end(page: str, start: int) -> re.Match[str] | None:
    """The ``</script`` that ends a script whose content starts at ``start``, as browsers find it:
    inside ``<!--`` (escaped) a ``<script`` opens a double-escaped stretch in which ``</script>``
    does not end the script, until ``-->`` (the ``document.write('<script ...></script>')`` of
    older pages). The first ``</script>`` would end it early, and the rest, code, would be text."""
    state = 0  # 0 script data, 1 escaped, 2 double escaped
    pos = start
    while True:
        m = _SCRIPT_TOKENS.search(page, pos)
        if m is None:
            return None
        token = m.group(0)
        if token == "<!--":
            state = state or 1
            pos = m.start() + 2  # "<!-->" opens and closes
        elif token == "-->":
            state = 0
            pos = m.end()
        elif m.group(1):
            if state != 2:
                return m
            state, pos = 1, m.end() - 1
        else:
            state = 2 if state == 1 else state
            pos = m.end() - 1


_TRANSLATE_NO = re.compile(r"""(?:^|[\t\n\f\r /])translate[\t\n\f\r ]*=[\t\n\f\r ]*["']?no\b""", re.I)
_TRANSLATE_YES = re.compile(r"""(?:^|[\t\n\f\r /])translate[\t\n\f\r ]*=[\t\n\f\r ]*["']?yes\b""", re.I)
_NOTRANSLATE_CLASS = re.compile(
    r"""(?:^|[\t\n\f\r /])class[\t\n\f\r ]*=[\t\n\f\r ]*(?:"[^"]*\bnotranslate\b[^"]*"|'[^']*\bnotranslate\b[^']*'|notranslate\b)""",
    re.I,
)
_IGNORE_ATTR = re.compile(r"(?:^|[\t\n\f\r /])data-translate-ignore\b", re.I)
_CONTEXT_ATTR = re.compile(
    r"""(?:^|[\t\n\f\r /])data-translate-context[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r >]+))""",
    re.I,
)


class Text:
    """A run of character data, ``page[start:end]`` (entities not decoded)."""

    __slots__ = ("end", "start")

    def __init__(self, start: int, end: int) -> None:
        self.start = start
        self.end = end


class Comment(Text):
    """A comment, doctype or processing instruction: kept, never translated."""

    __slots__ = ()


class Stray(Text):
    """An end tag that closes nothing (common in real pages): kept as it is."""

    __slots__ = ("tag",)

    def __init__(self, start: int, end: int, tag: str) -> None:
        super().__init__(start, end)
        self.tag = tag


class Element:
    """An element with the offsets of its parts.

    ``page[start:tag_end]`` is the start tag, ``page[tag_end:end_start]`` the
    content and ``page[end_start:end]`` the end tag, empty when the end was
    implied. ``inline`` is true when the element and all its descendants are
    phrasing content, so it can become a placeholder inside a sentence.
    """

    __slots__ = (
        "attrs",
        "attrs_at",
        "author_ignored",
        "children",
        "context",
        "end",
        "end_start",
        "icon",
        "ignored",
        "inline",
        "start",
        "tag",
        "tag_end",
    )

    def __init__(self, tag: str, start: int, tag_end: int, attrs: str, attrs_at: int) -> None:
        self.tag = tag
        self.start = start
        self.tag_end = tag_end
        self.end_start = tag_end
        self.end = tag_end
        self.children: list[Element | Text] = []  # elements, comments, stray end tags; text is the gaps
        self.attrs = attrs
        self.attrs_at = attrs_at
        self.author_ignored: bool | None = None  # None: "inherit" (translate="yes" sets False)
        self.context: str | None = None
        self.ignored = tag in OPAQUE
        self.icon = False  # an icon-font element (its text is a ligature, never translated)
        self.inline = tag in INLINE
        if "translate" in attrs:
            self._read_translate_attributes(attrs)

    def _read_translate_attributes(self, attrs: str) -> None:
        if _TRANSLATE_NO.search(attrs) or _NOTRANSLATE_CLASS.search(attrs) or _IGNORE_ATTR.search(attrs):
            self.author_ignored = True
            self.ignored = True
        elif _TRANSLATE_YES.search(attrs):
            self.author_ignored = False
        m = _CONTEXT_ATTR.search(attrs)
        if m:
            import html

            value = m.group(1) if m.group(1) is not None else m.group(2) if m.group(2) is not None else m.group(3)
            self.context = html.unescape(value).strip() or None

    def close(self, end_start: int, end: int) -> None:
        self.end_start = end_start
        self.end = end
        if self.inline:
            for child in self.children:
                if isinstance(child, Element) and not child.inline:
                    self.inline = False
                    break

    def attributes(self) -> list[Attribute]:
        return parse_attributes(self.attrs, self.attrs_at)

    def __repr__(self) -> str:
        return f"<Element {self.tag} {self.start}:{self.end}>"


class Attribute:
    """An attribute of a start tag; ``value_start``/``value_end`` exclude quotes."""

    __slots__ = ("name", "quote", "value", "value_end", "value_start")

    def __init__(self, name: str, value: str | None, value_start: int, value_end: int, quote: str) -> None:
        self.name = name
        self.value = value
        self.value_start = value_start
        self.value_end = value_end
        self.quote = quote


def parse_attributes(attrs: str, offset: int) -> list[Attribute]:
    """Attributes of a start tag, with offsets in the page (raw values, not unescaped)."""
    out: list[Attribute] = []
    for m in _ATTRIBUTE.finditer(attrs):
        name = m.group(1).lower()
        for group, quote in ((2, '"'), (3, "'"), (4, "")):
            if m.group(group) is not None:
                out.append(Attribute(name, m.group(group), offset + m.start(group), offset + m.end(group), quote))
                break
        else:
            out.append(Attribute(name, None, offset + m.end(1), offset + m.end(1), ""))
    return out


class _Stack:
    """Open elements, and where each tag is open: the stack can be 100,000 deep, so nothing
    here looks through it; every question (is a ``td`` open in scope? which element does this
    end tag close?) is answered from the per-tag positions in constant time."""

    __slots__ = ("at", "items", "scopes", "tables")

    def __init__(self, root: Element) -> None:
        self.items = [root]
        self.at: dict[str, list[int]] = {}  # tag -> indices of its open elements, ascending
        self.scopes: list[int] = [0]  # indices of open elements that bound a search (_SCOPE)
        self.tables: list[int] = [0]  # indices of open table parts

    def pop_to(self, index: int, at: int, end: int | None = None) -> None:
        """Close items[index:]; the one at ``index`` ends at ``end`` if given (an
        explicit end tag), the others have implied ends at ``at``."""
        items = self.items
        for i in range(len(items) - 1, index - 1, -1):
            el = items[i]
            if end is not None and i == index:
                el.close(at, end)
            else:
                el.close(at, at)
            tag = el.tag
            self.at[tag].pop()
            if tag in _SCOPE:
                self.scopes.pop()
            if tag in _TABLE_PARTS:
                self.tables.pop()
        del items[index:]

    def top(self, tag: str) -> int:
        """Index of the innermost open ``tag`` (0: none)."""
        at = self.at.get(tag)
        return at[-1] if at else 0

    def find(self, names: tuple[str, ...], stop: frozenset[str]) -> int:
        """Index of the innermost open element named in ``names`` with no ``stop``
        element inside it (0: none), as a search down the stack would find it."""
        found = 0
        for name in names:
            i = self.top(name)
            if i > found:
                found = i
        if not found:
            return 0
        for name in stop:
            if name not in names and self.top(name) > found:
                return 0
        return found

    def closed_by(self, end_name: str) -> int:
        """Index of the element the end tag ``end_name`` closes (0: a stray end tag)."""
        i = self.top(end_name)
        if not i:
            return 0
        # the search starts below the current element (its own kind never stops it)
        top = len(self.items) - 1
        scopes = self.scopes
        bound = scopes[-1] if scopes[-1] != top else scopes[-2]
        if end_name not in _TABLE_PARTS:
            tables = self.tables
            table = tables[-1] if tables[-1] != top else tables[-2]
            bound = max(bound, table)
        return i if i >= bound else 0


_LI_STOP = _SCOPE | {"ul", "ol", "menu"}
_DD_STOP = _SCOPE | {"dl"}
_ROW_STOP = frozenset(("html", "table", "template"))
_CELL_STOP = frozenset(("html", "table", "template", "tr"))
_OPTION_STOP = frozenset(("html", "select", "datalist", "optgroup", "template"))
_IMPLIED: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "li": (("li",), _LI_STOP),
    "dt": (("dt", "dd"), _DD_STOP),
    "dd": (("dt", "dd"), _DD_STOP),
    "td": (("td", "th"), _CELL_STOP),
    "th": (("td", "th"), _CELL_STOP),
    "tr": (("tr",), _ROW_STOP),
    "tbody": (("tbody", "thead", "tfoot"), _ROW_STOP),
    "thead": (("tbody", "thead", "tfoot"), _ROW_STOP),
    "tfoot": (("tbody", "thead", "tfoot"), _ROW_STOP),
    "option": (("option",), _OPTION_STOP),
    "optgroup": (("option", "optgroup"), _OPTION_STOP),
}
_HEADING_TUPLE = tuple(sorted(_HEADINGS))


def _close_implied(stack: _Stack, name: str, at: int) -> None:
    """Close what the start tag ``name`` implicitly ends (HTML5 "implied end tags")."""
    if name in _P_CLOSERS:
        i = stack.find(("p",), _SCOPE)
        if i:
            stack.pop_to(i, at)
    rule = _IMPLIED.get(name)
    if rule is not None:
        i = stack.find(rule[0], rule[1])
        if i:
            stack.pop_to(i, at)
    elif name in _HEADINGS and stack.items[-1].tag in _HEADINGS:
        stack.pop_to(len(stack.items) - 1, at)


_IMPLYING = _P_CLOSERS | set(_IMPLIED)


ICON_CLASSES = frozenset(
    [
        "material-icons",
        "material-icons-outlined",
        "material-icons-round",
        "material-icons-rounded",
        "material-icons-sharp",
        "material-icons-two-tone",
        "material-symbols",
        "material-symbols-outlined",
        "material-symbols-rounded",
        "material-symbols-sharp",
    ]
)
"""Classes of icon fonts that draw a word as an icon (``<i class="material-icons">menu</i>``):
such elements are never translated, like ``translate="no"``."""


@lru_cache(maxsize=64)
def _icon_needles(classes: frozenset[str]) -> Callable[[str], object] | None:
    """A quick test on a start tag's attributes: false when it holds none of the
    shortest class names (so it has no icon class); None when there are no classes."""
    needles = sorted(c for c in classes if not any(o != c and o in c for o in classes))
    return re.compile("|".join(re.escape(n) for n in needles)).search if needles else None


def _has_class(attrs: str, classes: frozenset[str]) -> bool:
    for attr in parse_attributes(attrs, 0):
        if attr.name == "class":
            return attr.value is not None and not classes.isdisjoint(attr.value.split())
    return False


def parse(page: str, icon_classes: Iterable[str] = ICON_CLASSES) -> Element:
    """Build the tree of ``page``; never raises on malformed markup.

    Text is not stored as nodes: the text of an element is the gaps between
    its children (see :func:`content`), which halves the work on large pages.
    Elements with one of ``icon_classes`` are icons: never translated. Linear in
    the size of the page, however deep its elements nest.
    """
    icons = icon_classes if isinstance(icon_classes, frozenset) else frozenset(icon_classes)
    needles = _icon_needles(icons)
    root = Element("#document", 0, 0, "", 0)
    stack = _Stack(root)
    items = stack.items
    children = root.children
    pos = 0
    n = len(page)
    search = _MASTER.search
    match = _MASTER.match
    # No tag ends after the last ">": a search is bounded there, or it tries every "<" of a tail of
    # unclosed tags ("<a <a <a ...") to the end of the page, quadratic. Past it only "<!" and "<?"
    # start anything. Bounded and whole-page searches differ only where the bound cuts a comment,
    # or a quoted value closes past it: only the last quote of each kind before the bound can open
    # such a value (any other closes before it), so the first tag holding one is matched whole; when
    # that fails (the value runs past the last ">", so the tag never ends), "<" up to that quote are
    # text. Linear; the same tree as a whole-page search on every page but such broken tails.
    bound = page.rfind(">") + 1
    quotes = {page.rfind(q, 0, bound) for q in "\"'" if page.find(q, bound) >= 0} - {-1}
    unclosed: set[int] = set()
    implying = _IMPLYING
    void = VOID
    raw_text = RAW_TEXT
    open_at = stack.at
    scope = _SCOPE
    table_parts = _TABLE_PARTS
    while True:
        m = search(page, pos, bound) if pos < bound else None
        if m is None:
            after = _TAIL.search(page, max(pos, bound))
            if after is None:
                break
            m = match(page, after.start())
        elif m.end() == bound < n and m.lastindex in (1, 2):
            m = match(page, m.start())  # a comment the bound cut: to its real end
        elif quotes and m.lastindex == 5 and any(m.start() < q < m.end() for q in quotes):
            held = {q for q in quotes if m.start() < q < m.end()}
            if held <= unclosed:  # a tag before that quote again: text, up to it (linear)
                pos = max(held) + 1
                continue
            whole = match(page, m.start())
            if whole is None:  # a value opened there runs past the last ">": the tag never ends
                unclosed |= held
                pos = m.start() + 1
                continue
            m = whole
        assert m is not None
        s = m.start()
        e = m.end()
        kind = m.lastindex
        if kind == 5:
            name, attrs = m.group(4, 5)
            name = name.lower()
            if name in implying and len(items) > 1:
                _close_implied(stack, name, s)
                children = items[-1].children
            el = Element(name, s, e, attrs, m.start(5))
            if needles is not None and attrs and needles(attrs) and _has_class(attrs, icons):
                el.icon = el.ignored = True
            parent = items[-1]
            if parent.ignored and el.author_ignored is None:
                # descendants of translate="no" stay ignored unless they say translate="yes"
                el.ignored = True
                el.author_ignored = parent.author_ignored
            if el.context is None:
                el.context = parent.context
            children.append(el)
            if name in void:
                pos = e
                continue
            if name in raw_text:
                end_m = (
                    None if name == "plaintext" else _script_end(page, e) if name == "script"
                    else _END_PATTERNS[name].search(page, e)
                )  # fmt: skip
                if end_m is None:
                    el.close(n, n)
                    pos = n
                else:
                    gt = page.find(">", end_m.end() - 1)
                    pos = n if gt < 0 else gt + 1
                    el.close(end_m.start(), pos)
                continue
            # stack.push(el), inlined: this runs for every element of the page
            at = open_at.get(name)
            if at is None:
                open_at[name] = [len(items)]
            else:
                at.append(len(items))
            if name in scope:
                stack.scopes.append(len(items))
            if name in table_parts:
                stack.tables.append(len(items))
            items.append(el)
            children = el.children
            pos = e
            continue
        if kind == 3:
            end_name = m.group(3).lower()
            top = items[-1]
            if top.tag == end_name:  # the common case: the end tag of the current element
                items.pop()
                top.close(s, e)
                open_at[end_name].pop()
                if end_name in scope:
                    stack.scopes.pop()
                if end_name in table_parts:
                    stack.tables.pop()
                children = items[-1].children
                pos = e
                continue
            i = stack.closed_by(end_name)
            if i:
                stack.pop_to(i, s, e)
                children = items[-1].children
            else:
                children.append(Stray(s, e, end_name))
            pos = e
            continue
        # comment, doctype, processing instruction
        children.append(Comment(s, e))
        pos = e
    stack.pop_to(1, n)
    root.close(n, n)
    return root


def find_element(el: Element, tag: str) -> Element | None:
    """The first element named ``tag`` under ``el``, depth first (document order)."""
    todo: list[Element | Text] = list(reversed(el.children))
    while todo:
        child = todo.pop()
        if isinstance(child, Element):
            if child.tag == tag:
                return child
            todo.extend(reversed(child.children))
    return None


# what a page's head may hold; any other element before <body> starts the body in a browser
_HEAD_CONTENT = frozenset(["title", "meta", "link", "style", "script", "base", "noscript", "template", "object"])


def body_start(root: Element) -> int | None:
    """Where the content a browser shows begins: right after the page's ``<body>`` tag, or, when
    an element that only a body can hold comes before it (a hidden ``div`` with a decoy
    ``<body>`` inside, say), right before that element, as a browser starts the body there and
    ignores later ``<body>`` tags. None for a fragment (no ``<body>`` tag anywhere)."""
    first = find_element(root, "body")
    if first is None:
        return None
    todo: list[Element | Text] = list(reversed(root.children))
    while todo:
        child = todo.pop()
        if not isinstance(child, Element):
            continue
        if child.tag == "body":
            return child.tag_end
        if child.tag in ("html", "head"):
            todo.extend(reversed(child.children))
        elif child.tag not in _HEAD_CONTENT:
            return child.start
    return first.tag_end


def content(el: Element) -> list[Element | Text]:
    """The children of ``el`` with the text between them as :class:`Text` nodes."""
    out: list[Element | Text] = []
    prev = el.tag_end
    for child in el.children:
        if child.start > prev:
            out.append(Text(prev, child.start))
        out.append(child)
        prev = child.end
    if el.end_start > prev:
        out.append(Text(prev, el.end_start))
    return out
