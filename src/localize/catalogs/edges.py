"""Translations carried across a change of a unit's edges: ``<i1/> <span2>Lecture Notes</span2>``
and ``<a1></a1>Privacy`` became ``Lecture Notes`` and ``Privacy`` when extraction started leaving
icons and empty elements at a unit's edge outside it (:mod:`localize.engine.segments`).

:func:`edge_trimmed` gives the msgid an older extraction's msgid has without such edges: void
placeholders and empty pairs at either edge dropped, a pair then wrapping everything unwrapped (as
extraction unwraps an element that is a unit's only content), again until nothing changes, and
the placeholders left renumbered in order (a placeholder is its tag and its position). It is
only a candidate: :func:`localize.catalogs.lifecycle.merge` uses it for an entry that left the
template when an entry with exactly the trimmed msgid came in.

:meth:`EdgePlan.translate` applies the same change to a translation. When the translation has
the same edges (the same trim of it drops and unwraps the same placeholders), the result is
*clean*: the same words, only the edges changed. Otherwise the dropped placeholders are removed
where the translator put them (only beside a space or an end: removing one between two
characters would join them), an unwrapped pair's tags removed with the words around it kept, and
the result is not clean (merge makes it fuzzy: the translator confirms). Either way the result
must hold exactly the new msgid's placeholders, each once and well nested, else None and the
entry goes the usual way (a fuzzy match, or untranslated). Bounded: a msgid or translation with
more than :data:`MAX_PLACEHOLDERS` placeholders is never carried.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["MAX_PLACEHOLDERS", "EdgePlan", "edge_key", "edge_trimmed"]

MAX_PLACEHOLDERS = 200
_TOKEN = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9_-]{0,40}?)(\d{1,4})(/?)>")
_SPACE = " \t\n\r\f"

Token = tuple[str, str, str]  # (kind, name or text, tag): kind is text, open, close or void


@dataclass(frozen=True)
class EdgePlan:
    """What :func:`edge_trimmed` did: placeholders dropped, pairs unwrapped, the others renamed."""

    dropped: frozenset[str]
    unwrapped: tuple[str, ...]
    renamed: dict[str, str]

    def translate(self, msgstr: str) -> tuple[str, bool] | None:
        """(the translation with the same change, whether it is clean); None when it does not fit."""
        tokens = _tokens(msgstr, numbered=False)
        if tokens is None:
            return None
        rest, dropped, unwrapped = _trim(list(tokens))
        if dropped == self.dropped and tuple(unwrapped) == self.unwrapped:
            text, clean = self._render(rest), True
        else:
            text, clean = self._render(self._removed(tokens)), False
        return (text, clean) if text and _well_formed(text, set(self.renamed.values())) else None

    def _removed(self, tokens: list[Token]) -> list[Token] | None:
        """``tokens`` less the dropped and unwrapped placeholders, each once, and only where
        removing them joins no two characters (a run of them beside a space or an end)."""
        gone = self.dropped | set(self.unwrapped)
        removed = [kind != "text" and name in gone for kind, name, _ in tokens]
        seen = [f"{kind}:{name}" for (kind, name, _), r in zip(tokens, removed, strict=True) if r]
        if len(seen) != len(set(seen)):
            return None  # a placeholder repeated
        for name in self.unwrapped:
            if f"open:{name}" not in seen or f"close:{name}" not in seen:
                return None
        # the characters around each token, placeholders being of no width: "les<i1/><b2>notes"
        # less <i1/> is "lesnotes" on the page, though <i1/> has a placeholder, not text, after it
        before_char = [""] * len(tokens)
        last = ""
        for i, (kind, name, _) in enumerate(tokens):
            before_char[i] = last
            if kind == "text" and name:
                last = name[-1]
        after_char = [""] * (len(tokens) + 1)
        for i in range(len(tokens) - 1, -1, -1):
            kind, name, _ = tokens[i]
            after_char[i] = name[0] if kind == "text" and name else after_char[i + 1]
        for i, (kind, name, _) in enumerate(tokens):
            if (
                removed[i]
                and kind == "open"
                and name in self.dropped
                and (i + 1 >= len(tokens) or tokens[i + 1][:2] != ("close", name))
            ):
                return None  # a dropped pair the translation put text in
            if removed[i] and (i == 0 or not removed[i - 1]):  # a run of removed placeholders starts
                j = i
                while j < len(tokens) and removed[j]:
                    j += 1
                if before_char[i] not in ("", *_SPACE) and after_char[j] not in ("", *_SPACE):
                    return None  # between two characters: removing it would join them
        return [t for t, r in zip(tokens, removed, strict=True) if not r]

    def _render(self, tokens: list[Token] | None) -> str:
        if tokens is None:
            return ""
        out: list[str] = []
        for kind, name, _ in tokens:
            if kind == "text":
                if out and out[-1][-1:] in _SPACE and name[:1] in _SPACE:
                    name = name.lstrip(_SPACE)  # the space a removed placeholder left doubled
                out.append(name)
                continue
            new = self.renamed.get(name)
            if new is None:
                return ""
            out.append(f"</{new}>" if kind == "close" else f"<{new}/>" if kind == "void" else f"<{new}>")
        return "".join(out).strip(_SPACE)


def _tokens(text: str, *, numbered: bool = True) -> list[Token] | None:
    """The tokens of ``text``; None past MAX_PLACEHOLDERS or (``numbered``) when its placeholders
    are not numbered in order from 1 (as extraction writes them)."""
    out: list[Token] = []
    pos = opened = 0
    for count, m in enumerate(_TOKEN.finditer(text), 1):
        if m.start() > pos:
            out.append(("text", text[pos : m.start()], ""))
        closing, tag, number, void = m.group(1), m.group(2), m.group(3), m.group(4)
        if closing and void:
            return None
        kind = "close" if closing else "void" if void else "open"
        if count > MAX_PLACEHOLDERS * 2:
            return None
        if kind != "close":
            opened += 1
            if numbered and int(number) != opened:
                return None  # not numbered as extraction numbers (or a tag ending in digits)
        out.append((kind, tag + number, tag))
        pos = m.end()
    if pos < len(text):
        out.append(("text", text[pos:], ""))
    return out


def _trim(tokens: list[Token]) -> tuple[list[Token], frozenset[str], list[str]]:
    """``tokens`` without void placeholders or empty pairs at their edges, and a pair wrapping
    all the rest unwrapped, until nothing changes: (what is left, dropped, unwrapped)."""
    dropped: set[str] = set()
    unwrapped: list[str] = []
    closes = _first_closes(tokens)
    lo, hi = 0, len(tokens)  # tokens[lo:hi] is what is left: no copies, linear
    while True:
        while lo < hi and tokens[lo][0] == "text" and not tokens[lo][1].strip(_SPACE):
            lo += 1
        while hi > lo and tokens[hi - 1][0] == "text" and not tokens[hi - 1][1].strip(_SPACE):
            hi -= 1
        if lo == hi:
            break
        first, last = tokens[lo], tokens[hi - 1]
        if first[0] == "void":
            dropped.add(first[1])
            lo += 1
        elif first[0] == "open" and hi - lo > 1 and tokens[lo + 1][:2] == ("close", first[1]):
            dropped.add(first[1])
            lo += 2
        elif last[0] == "void":
            dropped.add(last[1])
            hi -= 1
        elif last[0] == "close" and hi - lo > 1 and tokens[hi - 2][:2] == ("open", last[1]):
            dropped.add(last[1])
            hi -= 2
        elif first[0] == "open" and last[:2] == ("close", first[1]) and closes.get(lo) == hi - 1:
            unwrapped.append(first[1])
            lo, hi = lo + 1, hi - 1
        else:
            break
    return tokens[lo:hi], frozenset(dropped), unwrapped


def _first_closes(tokens: list[Token]) -> dict[int, int]:
    """Where each opening placeholder is first closed after it (index of the open -> of the
    close), in one pass from the end: a pair unwraps only when its first close is at the end."""
    out: dict[int, int] = {}
    close_at: dict[str, int] = {}
    for i in range(len(tokens) - 1, -1, -1):
        kind, name, _ = tokens[i]
        if kind == "close":
            close_at[name] = i
        elif kind == "open" and name in close_at:
            out[i] = close_at[name]
    return out


def _well_formed(text: str, names: set[str]) -> bool:
    """Each of ``names`` once (a pair: opened, then closed, well nested), and no other placeholder."""
    tokens = _tokens(text, numbered=False)
    if tokens is None:
        return False
    stack: list[str] = []
    seen: set[str] = set()
    for kind, name, _ in tokens:
        if kind == "text":
            continue
        if kind == "close":
            if not stack or stack.pop() != name:
                return False
            continue
        if name in seen:
            return False
        seen.add(name)
        if kind == "open":
            stack.append(name)
    return not stack and seen == names


def edge_key(msgid: str) -> str:
    """``msgid``'s text without placeholders or white space: a msgid and its :func:`edge_trimmed`
    have the same key, so a merge trims only the old msgids whose key a new one has (one regular
    expression each, not a trim of every old entry)."""
    return "".join(_TOKEN.sub(" ", msgid).split())


def edge_trimmed(msgid: str) -> tuple[str, EdgePlan] | None:
    """The msgid without void placeholders or empty pairs at its edges (and a pair wrapping all
    that is left, unwrapped), with the plan to do the same to a translation; None when there is
    nothing at the edges or the msgid is not numbered as extraction numbers."""
    tokens = _tokens(msgid)
    if tokens is None or not any(kind != "text" for kind, _, _ in tokens):
        return None
    rest, dropped, unwrapped = _trim(tokens)
    if not dropped:
        return None  # only unwrapping: extraction always unwrapped, nothing changed at the edges
    renamed: dict[str, str] = {}
    for kind, name, tag in rest:
        if kind in ("open", "void"):
            renamed[name] = f"{tag}{len(renamed) + 1}"
    plan = EdgePlan(dropped, tuple(unwrapped), renamed)
    text = plan._render(rest)
    return (text, plan) if text and _well_formed(text, set(renamed.values())) else None
