"""TMX inline codes read as localize's placeholders.

A TMX file made by another tool from HTML keeps the markup inside a sentence as inline codes:
``Read the <bpt i="1">&lt;a href="x"&gt;</bpt>notes<ept i="1">&lt;/a&gt;</ept> first.`` and
``<ph>&lt;br/&gt;</ph>``. localize's msgid of the same sentence is ``Read the <a1>notes</a1>
first.``: each element a placeholder named by its tag and its position among the sentence's
placeholders, paired or void (:mod:`localize.engine.segments`). So the source segment names its
codes in that order from their native tags (``i`` pairs a ``<bpt>`` with its ``<ept>`` within a
segment, ``<hi>`` is transparent), and each code of the target takes the name of the source's
code it stands for:

* the source code with the same ``x`` (TMX's link between the codes of a unit's segments), whose
  native tag must be the target code's;
* without ``x``, the source code with the same native code (``<a href="notes.html">``), the
  first for the first such code of the target, and so on: a translation may reorder the codes,
  never swap one for another (two codes with the same native code are the same markup).

A unit whose codes cannot be named so (an isolated ``<it>``, ``<ut>``, a native code that is not
an HTML tag, an ``<ept>`` without its ``<bpt>``, a target code the source does not have or whose
tag differs) is read as the text of its segments with the native codes in it, as before: it never
matches a msgid, and the QA gate of ``tm import`` sees its markup. The page's own markup is what
a build writes for a placeholder; a native code never reaches a page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from localize.errors import CatalogError

_LOGGED_ENTITY = re.compile(r"Entity '([^']{1,40})'")
__all__ = ["Codes", "refuse_entities", "segment_text", "source_segment", "target_segment"]

_NATIVE_TAG = re.compile(r"\s*</?\s*([A-Za-z][A-Za-z0-9]*)")
_SPACES = re.compile(r"\s+")


@dataclass
class Codes:
    """The codes of a source segment: by ``x``, and by native code (in order)."""

    by_x: dict[str, tuple[str, str]] = field(default_factory=dict)  # x -> (name, tag)
    by_native: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (kind, native) -> names
    count: int = 0


class _Unnamed(Exception):
    """A code of the segment has no placeholder name."""


def segment_text(seg: Any) -> str:
    """The text of a ``<seg>`` with its native codes in it."""
    return "".join(seg.itertext())


def source_segment(seg: Any) -> tuple[str, Codes | None]:
    """The text of a source ``<seg>`` with its inline codes as placeholders, and its codes
    (None: a code could not be named, the text has the native codes in it)."""
    codes = Codes()
    if len(seg) == 0:
        return seg.text or "", codes
    try:
        return _walk(seg, codes, source=True), codes
    except _Unnamed:
        return segment_text(seg), None


def target_segment(seg: Any, codes: Codes | None) -> str | None:
    """The text of a target ``<seg>``, its codes named as the source's; None when a code
    cannot be named so (read both segments as text then: :func:`segment_text`)."""
    if len(seg) == 0:
        return seg.text or ""
    if codes is None or not codes.count:
        return None
    try:
        return _walk(seg, codes, source=False)
    except _Unnamed:
        return None


def _native(el: Any) -> tuple[str, str]:
    """(tag name, native code with its runs of white space as one space) of a code element."""
    native = segment_text(el)
    m = _NATIVE_TAG.match(native)
    if m is None:
        raise _Unnamed
    return m.group(1).lower(), _SPACES.sub(" ", native.strip())


def _walk(seg: Any, codes: Codes, *, source: bool) -> str:
    out: list[str] = [seg.text or ""]
    opened: list[str] = []
    by_i: dict[str, str] = {}  # this segment's open bpt names by i
    used: dict[tuple[str, str], int] = {}  # (kind, native) -> how many the target took
    taken: set[str] = set()

    def named(el: Any, kind: str) -> str:
        tag, native = _native(el)
        x = el.get("x")
        if source:
            codes.count += 1
            name = f"{tag}{codes.count}"
            if x is not None:
                if x in codes.by_x:
                    raise _Unnamed
                codes.by_x[x] = (name, tag)
            codes.by_native.setdefault((kind, native), []).append(name)
            return name
        if x is not None and x in codes.by_x:
            name, source_tag = codes.by_x[x]
            if source_tag != tag:
                raise _Unnamed
        else:
            names = codes.by_native.get((kind, native), [])
            k = used.get((kind, native), 0)
            if k >= len(names):
                raise _Unnamed
            used[(kind, native)] = k + 1
            name = names[k]
        if name in taken:
            raise _Unnamed
        taken.add(name)
        return name

    def children(parent: Any) -> None:
        for el in parent:
            tag = el.tag
            if tag == "hi":
                out.append(el.text or "")
                children(el)
            elif tag == "bpt":
                i = el.get("i") or ""
                name = named(el, "pair")
                if i in by_i:
                    raise _Unnamed
                by_i[i] = name
                opened.append(name)
                out.append(f"<{name}>")
            elif tag == "ept":
                name = by_i.pop(el.get("i") or "", "")
                if not opened or opened[-1] != name:
                    raise _Unnamed
                opened.pop()
                out.append(f"</{name}>")
            elif tag == "ph":
                out.append(f"<{named(el, 'void')}/>")
            else:  # it, ut, x, sub out of place, or anything else: not named
                raise _Unnamed
            out.append(el.tail or "")

    children(seg)
    if opened:
        raise _Unnamed
    return "".join(out)


def refuse_entities(root: Any, path: str, what: str, log: Any = None) -> None:
    """A CatalogError for an XML file (TMX, TBX) that declares entities or uses one: the parser
    never resolves them (no billion laughs, no file read), so ``&x;`` would be imported as those
    characters and published on a page. A DOCTYPE naming the format's DTD, as CAT tools write
    it, is fine. ``log``: the parser's error log, where a reference in an attribute value shows."""
    from lxml import etree

    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise CatalogError(f"the {what} file declares entities in its DOCTYPE; remove them", path=path, line=1)
    for logged in log if log is not None else ():  # (lxml drops an unknown one from an attribute value)
        if logged.type_name in ("WAR_UNDECLARED_ENTITY", "ERR_UNDECLARED_ENTITY"):
            named = _LOGGED_ENTITY.search(logged.message)
            raise CatalogError(
                f"the {what} file uses the entity reference '&{named.group(1) if named else '…'};', which is not "
                "read; write the character itself",
                path=path,
                line=logged.line,
            )
    for found in root.iter(etree.Entity):
        raise CatalogError(
            f"the {what} file uses the entity reference {str(found.text)[:40]!r}, which is not read; "
            "write the character itself",
            path=path,
            line=found.sourceline,
        )
