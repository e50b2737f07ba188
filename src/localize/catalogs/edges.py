"""Translations carried across a change of a unit's edges: ``<i1/> <span2>Lecture Notes</span2>``
and ``<a1></a1>Privacy`` became ``Lecture Notes`` and ``Privacy`` when extraction started leaving
icons and empty elements at a unit's edge outside it (:mod:`localize.engine.segments`).

:func:`edge_trimmed` gives the msgid an older extraction's msgid has without such edges: void
placeholders and empty pairs at either edge dropped, a pair then wrapping everything unwrapped (as
extraction unwraps an element that is a unit's only content), again until nothing changes, and
the placeholders left renumbered in order (a placeholder is its tag and its position). It is
only a candidate: :func:`localize.catalogs.lifecycle.merge` uses it for an entry that left the
template when an entry with exactly the trimmed msgid came in, so only what extraction now drops
was dropped. :meth:`EdgePlan.translate` applies the same change to a translation: the dropped
placeholders removed wherever the translator put them, the unwrapped pair's tags removed with
the translator's words around it kept (the page's element now holds them all), the rest
renamed. A translation that does not fit (a dropped pair with text inside, a missing or repeated
placeholder) gives None, and the entry goes the usual way (a fuzzy match, or untranslated).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["EdgePlan", "edge_trimmed"]

_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_-]*?)(\d+)(/?)>")
_SPACE = " \t\n\r\f"


@dataclass(frozen=True)
class EdgePlan:
    """What :func:`edge_trimmed` did: placeholders dropped, pairs unwrapped, the others renamed."""

    dropped: frozenset[str]
    unwrapped: tuple[str, ...]
    renamed: dict[str, str]

    def translate(self, msgstr: str) -> str | None:
        text = msgstr
        for name in self.dropped:
            text = _without(text, f"<{name}/>")
            text = _without(text, f"<{name}></{name}>")
            if f"<{name}>" in text or f"</{name}>" in text:
                return None  # a dropped pair the translation put text in
        for name in self.unwrapped:  # its words stay, and words the translation put beside it
            opening, closing = f"<{name}>", f"</{name}>"
            if text.count(opening) != 1 or text.count(closing) != 1 or text.index(opening) > text.index(closing):
                return None
            text = _without(_without(text, opening), closing)

        def rename(m: re.Match[str]) -> str:
            name = m.group(2) + m.group(3)
            new = self.renamed.get(name)
            if new is None:
                raise KeyError(name)
            return f"<{m.group(1)}{new}{m.group(4)}>"

        try:
            return _TOKEN.sub(rename, text).strip(_SPACE)
        except KeyError:
            return None


def _without(text: str, placeholder: str) -> str:
    """``text`` less ``placeholder``, and less the space it leaves doubled."""
    pattern = r"([ \t\n]*)" + re.escape(placeholder) + r"([ \t\n]*)"
    return re.sub(pattern, lambda m: " " if m.group(1) and m.group(2) else m.group(1) or m.group(2), text)


def _tokens(msgid: str) -> list[tuple[str, str, str]] | None:
    """(kind, name, tag) and ("text", text, "") of a msgid whose placeholders are numbered in
    order from 1 (as extraction writes them); None otherwise."""
    out: list[tuple[str, str, str]] = []
    pos = 0
    count = 0
    for m in _TOKEN.finditer(msgid):
        if m.start() > pos:
            out.append(("text", msgid[pos : m.start()], ""))
        closing, tag, number, void = m.group(1), m.group(2), m.group(3), m.group(4)
        if closing and void:
            return None
        kind = "close" if closing else "void" if void else "open"
        if kind != "close":
            count += 1
            if int(number) != count:
                return None  # not numbered as extraction numbers (or a tag ending in digits)
        out.append((kind, tag + number, tag))
        pos = m.end()
    if pos < len(msgid):
        out.append(("text", msgid[pos:], ""))
    return out


def _closing(tokens: list[tuple[str, str, str]], i: int) -> int:
    """Index of the token closing the pair opened at ``i`` (-1: none)."""
    name = tokens[i][1]
    return next((j for j in range(i + 1, len(tokens)) if tokens[j][:2] == ("close", name)), -1)


def edge_trimmed(msgid: str) -> tuple[str, EdgePlan] | None:
    """The msgid without void placeholders or empty pairs at its edges (and a pair wrapping all
    that is left, unwrapped), with the plan to do the same to a translation; None when there is
    nothing at the edges or the msgid is not numbered as extraction numbers."""
    tokens = _tokens(msgid)
    if tokens is None or not any(kind != "text" for kind, _, _ in tokens):
        return None
    dropped: set[str] = set()
    unwrapped: list[str] = []
    changed = True
    while changed:
        changed = False
        while tokens and tokens[0][0] == "text" and not tokens[0][1].strip(_SPACE):
            tokens.pop(0)
        while tokens and tokens[-1][0] == "text" and not tokens[-1][1].strip(_SPACE):
            tokens.pop()
        if not tokens:
            return None
        first, last = tokens[0], tokens[-1]
        if first[0] == "void":
            dropped.add(tokens.pop(0)[1])
            changed = True
        elif first[0] == "open" and len(tokens) > 1 and tokens[1][:2] == ("close", first[1]):
            dropped.add(first[1])
            del tokens[:2]
            changed = True
        elif last[0] == "void":
            dropped.add(tokens.pop()[1])
            changed = True
        elif last[0] == "close" and len(tokens) > 1 and tokens[-2][:2] == ("open", last[1]):
            dropped.add(last[1])
            del tokens[-2:]
            changed = True
        elif first[0] == "open" and _closing(tokens, 0) == len(tokens) - 1:
            unwrapped.append(first[1])
            tokens = tokens[1:-1]
            changed = True
    if not dropped:
        return None  # only unwrapping: extraction always unwrapped, nothing changed at the edges
    renamed: dict[str, str] = {}
    out: list[str] = []
    for kind, name, tag in tokens:
        if kind == "text":
            out.append(name)
            continue
        if kind != "close":
            renamed[name] = f"{tag}{len(renamed) + 1}"
        new = renamed.get(name)
        if new is None:
            return None
        out.append(f"</{new}>" if kind == "close" else f"<{new}/>" if kind == "void" else f"<{new}>")
    text = "".join(out).strip(_SPACE)
    return (text, EdgePlan(frozenset(dropped), tuple(unwrapped), renamed)) if text else None
