"""The placeholder grammar: how inline markup appears inside a msgid.

A unit's inline markup is shown to translators as short numbered tags: paired
``<a1>…</a1>``, ``<em2>…</em2>`` and void ``<br3/>``. The name is the HTML tag
(letters and ``-``) followed by the placeholder's number. This module is the
only place that grammar is written down; segments (rebuild), the QA checks,
statistics and pseudo-localization all use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from localize.model import Placeholder, Unit, UnitKind

__all__ = [
    "PLACEHOLDER",
    "PLACEHOLDER_PATTERN",
    "TranslationProblem",
    "maybe_wide",
    "parse_translation",
    "strip_placeholders",
    "tex_added",
    "unit_for",
    "wide_placeholders",
]

PLACEHOLDER_PATTERN = r"<(/?)([A-Za-z][A-Za-z-]*\d+)(/?)>"
"""Group 1: ``/`` of a closing tag; group 2: the name (``a1``); group 3: ``/`` of a void tag."""
PLACEHOLDER = re.compile(PLACEHOLDER_PATTERN)


# What a page's MathJax turns into markup (MathJax 3's defaults: \( \[ $$ delimiters and
# environments), and the TeX commands that make links, styles or load extensions inside a formula
_TEX = re.compile(
    r"\\[()\[\]]|\$\$|\\(?:begin|end|href|url|style|class|cssId|bbox|data|unicode|require|html[A-Za-z]{0,16})(?![A-Za-z])"
)


_INVISIBLE = re.compile(r"<(?:wbr|comment)\d+/>")


def tex_added(msgid: str, msgstr: str) -> str | None:
    """The first TeX delimiter or command of ``msgstr`` that ``msgid`` does not have as often, if any."""
    if "\\" not in msgstr and "$" not in msgstr:
        return None
    # MathJax reads across what is invisible inside a text (<wbr>, a comment): ``\<wbr1/>(`` is
    # ``\(``; not across an element (``<strong1>C:\</strong1>(`` is a path, then a bracket)
    msgid, msgstr = _INVISIBLE.sub("", msgid), _INVISIBLE.sub("", msgstr)
    extra = Counter(_TEX.findall(msgstr)) - Counter(_TEX.findall(msgid))
    return next((m.group(0) for m in _TEX.finditer(msgstr) if m.group(0) in extra), None)


# a placeholder typed in an input method's full-width mode (Chinese, Japanese, Korean): ＜ａ１＞,
# ＜／ａ１＞, ＜ｂｒ２／＞ (bounded runs: linear)
_WIDE = re.compile(
    "[<\uff1c][/\uff0f]?[A-Za-z\uff21-\uff3a\uff41-\uff5a][-A-Za-z\uff0d\uff21-\uff3a\uff41-\uff5a]{0,40}"
    "[0-9\uff10-\uff19]{1,9}[/\uff0f]?[>\uff1e]"
)


def maybe_wide(translation: str) -> bool:
    """Whether ``translation`` may hold a placeholder typed in full-width characters (a quick look
    before :func:`wide_placeholders`, which needs the source's names)."""
    return not translation.isascii() and _WIDE.search(translation) is not None


def wide_placeholders(translation: str, names: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """``translation`` with each placeholder of ``names`` typed with one or more full-width
    characters (``＜a1＞`` for ``<a1>``) put back as meant, and (as typed, as meant) of each, in
    order. One pass: linear."""
    if translation.isascii():
        return translation, []
    found: list[tuple[str, str]] = []

    def meant(m: re.Match[str]) -> str:
        typed = m.group(0)
        fixed = unicodedata.normalize("NFKC", typed)
        tag = PLACEHOLDER.fullmatch(fixed)
        if typed.isascii() or tag is None or tag.group(2) not in names:
            return typed
        found.append((typed, fixed))
        return fixed

    return _WIDE.sub(meant, translation), found


def strip_placeholders(text: str) -> str:
    """``text`` with every placeholder replaced by a space (for words and numbers)."""
    return PLACEHOLDER.sub(" ", text) if "<" in text else text


def unit_for(msgid: str) -> Unit:
    """The placeholders a msgid carries, as a Unit that :func:`parse_translation` understands."""
    placeholders: dict[str, Placeholder] = {}
    for m in PLACEHOLDER.finditer(msgid):
        name = m.group(2)
        if m.group(3):
            placeholders[name] = Placeholder(name, 0, 0)
        elif not m.group(1) and name not in placeholders:
            placeholders[name] = Placeholder(name, 0, 0, 0, 0)
    return Unit(UnitKind.TEXT, msgid, None, 0, 0, tuple(placeholders.values()))


def nested_links(text: str) -> set[tuple[str, str]]:
    """The (outer, inner) link placeholders ``text`` nests, one inside the other."""
    pairs: set[tuple[str, str]] = set()
    stack: list[str] = []
    for m in PLACEHOLDER.finditer(text):
        name = m.group(2)
        if name.rstrip("0123456789") != "a" or m.group(3):
            continue
        if m.group(1):
            if name in stack:
                stack.remove(name)
        else:
            if stack:
                pairs.add((stack[-1], name))
            stack.append(name)
    return pairs


class TranslationProblem(ValueError):
    """A translation cannot be used for its unit (it falls back to the source)."""


def parse_translation(msgstr: str, unit: Unit) -> list[str | tuple[str, Placeholder]]:
    """Split a translation into text and placeholder tokens, checking the placeholders.

    Returns text pieces (still unescaped) and ``("open"|"close"|"void", placeholder)``
    tuples. Raises :class:`TranslationProblem` when a placeholder of the unit is
    missing, repeated, misnested or changed from paired to void, when a link is
    nested inside another, or when the translation adds TeX that a page's MathJax
    would turn into markup (a link, a style) although it is written as text; anything
    else that looks like markup but is not one of the unit's placeholders is plain text.
    """
    tex = tex_added(unit.msgid, msgstr)
    if tex is not None:
        raise TranslationProblem(
            f"{tex} is TeX, which the page's MathJax would turn into a formula (with links or styles): "
            "only the source's formulas may appear, as their placeholders (<math1/>)"
        )
    by_name = {p.name: p for p in unit.placeholders}
    tokens: list[str | tuple[str, Placeholder]] = []
    seen: dict[str, int] = {}
    stack: list[str] = []
    pos = 0
    for m in PLACEHOLDER.finditer(msgstr):
        ph = by_name.get(m.group(2))
        if ph is None:
            continue
        closing, selfclosing = m.group(1) == "/", m.group(3) == "/"
        if ph.void:
            if closing or not selfclosing:
                raise TranslationProblem(f"placeholder <{ph.name}/> must stay a single <{ph.name}/>")
            kind = "void"
        elif selfclosing:
            raise TranslationProblem(f"placeholder <{ph.name}> needs its closing </{ph.name}>")
        elif closing:
            if not stack or stack[-1] != ph.name:
                raise TranslationProblem(f"</{ph.name}> closes a placeholder that is not open or is misnested")
            stack.pop()
            kind = "close"
        else:
            outer = next((o for o in reversed(stack) if o.rstrip("0123456789") == "a"), None)
            if (
                ph.name.rstrip("0123456789") == "a"
                and outer is not None
                and (outer, ph.name) not in nested_links(unit.msgid)  # (a page's own broken markup: kept)
            ):
                raise TranslationProblem(f"placeholder <{ph.name}> (a link) is nested inside another link")
            stack.append(ph.name)
            kind = "open"
        seen[m.group(0)] = seen.get(m.group(0), 0) + 1
        if seen[m.group(0)] > 1:
            raise TranslationProblem(f"placeholder {m.group(0)} appears more than once")
        if m.start() > pos:
            tokens.append(msgstr[pos : m.start()])
        tokens.append((kind, ph))
        pos = m.end()
    if pos < len(msgstr):
        tokens.append(msgstr[pos:])
    if stack:
        raise TranslationProblem(f"placeholder <{stack[-1]}> is never closed")
    for ph in unit.placeholders:
        wanted = f"<{ph.name}/>" if ph.void else f"<{ph.name}>"
        if wanted not in seen:
            raise TranslationProblem(f"placeholder {wanted} is missing")
    return tokens
