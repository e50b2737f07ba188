"""TMX inline codes read as localize's placeholders.

A TMX file made by another tool from HTML keeps the markup inside a sentence as inline codes:
``Read the <bpt i="1">&lt;a href="x"&gt;</bpt>notes<ept i="1">&lt;/a&gt;</ept> first.`` and
``<ph x="2">&lt;br/&gt;</ph>``. localize's msgid of the same sentence is ``Read the
<a1>notes</a1> first.``: each element a placeholder named by its tag and its position among the
sentence's placeholders, paired or void (:mod:`localize.engine.segments`). So the source segment
names its codes in that order from their native tags, and the target segment's codes take the
names of the source's codes with the same ``i`` (``bpt``/``ept``) or ``x`` (``ph``), in whatever
order the translation puts them. ``<hi>`` is transparent.

A segment whose codes cannot be named (an isolated ``<it>``, ``<ut>``, a native code that is not
an HTML tag, an ``<ept>`` without its ``<bpt>``, a target code the source does not have) makes
the unit's two segments read as their text with the native codes in it, as before: it never matches a msgid, and the QA gate of
``tm import`` sees its markup.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Names", "segment_text", "source_segment", "target_segment"]

_NATIVE_TAG = re.compile(r"\s*</?\s*([A-Za-z][A-Za-z0-9]*)")

Names = dict[tuple[str, str], str]


class _Unnamed(Exception):
    """A code of the segment has no placeholder name."""


def _text(seg: Any) -> str:
    return "".join(seg.itertext())


def source_segment(seg: Any) -> tuple[str, Names]:
    """The text of a source ``<seg>`` with its inline codes as placeholders, and the names given."""
    names: Names = {}
    if len(seg) == 0:
        return seg.text or "", names
    try:
        return _walk(seg, names, assign=True), names
    except _Unnamed:
        return _text(seg), {}


def target_segment(seg: Any, names: Names) -> str | None:
    """The text of a target ``<seg>``, its codes named as the source's (``names``); None when a
    code cannot be named so (read both segments as text then: :func:`segment_text`)."""
    if len(seg) == 0:
        return seg.text or ""
    if not names:
        return _text(seg)
    try:
        return _walk(seg, dict(names), assign=False)
    except _Unnamed:
        return None


def segment_text(seg: Any) -> str:
    """The text of a ``<seg>`` with its native codes in it."""
    return _text(seg)


def _walk(seg: Any, names: Names, *, assign: bool) -> str:
    out: list[str] = [seg.text or ""]
    opened: list[str] = []
    unkeyed = 0

    def named(key: tuple[str, str], el: Any) -> str:
        if not assign:
            if key not in names:
                raise _Unnamed
            return names[key]
        m = _NATIVE_TAG.match(_text(el))
        if m is None or key in names:
            raise _Unnamed
        names[key] = name = f"{m.group(1).lower()}{len(names) + 1}"
        return name

    def children(parent: Any) -> None:
        nonlocal unkeyed
        for el in parent:
            tag = el.tag
            if tag == "hi":
                out.append(el.text or "")
                children(el)
            elif tag == "bpt":
                name = named(("pair", el.get("i") or ""), el)
                opened.append(name)
                out.append(f"<{name}>")
            elif tag == "ept":
                name = names.get(("pair", el.get("i") or ""), "")
                if not opened or opened[-1] != name:
                    raise _Unnamed
                opened.pop()
                out.append(f"</{name}>")
            elif tag == "ph":
                x = el.get("x")
                if x is None:
                    unkeyed += 1
                name = named(("void", x if x is not None else f"#{unkeyed}"), el)
                out.append(f"<{name}/>")
            else:  # it, ut, x, sub out of place, or anything else: not named
                raise _Unnamed
            out.append(el.tail or "")

    children(seg)
    if opened:
        raise _Unnamed
    return "".join(out)
