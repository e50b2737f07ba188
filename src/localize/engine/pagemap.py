"""Page maps for the kit's offline preview: a page split by the engine's own segmentation.

The preview in a kit (``preview.html``) is plain JavaScript opened from disk. It must not
segment HTML itself (it would disagree with extraction), so Python hands it each page as
a list of *parts*, in order, that concatenate back to the page:

* a string: the page's own markup and text between units, unchanged;
* a text unit: ``{"e": N, "src": HTML, "ph": {NAME: [OPEN, CLOSE]} or {NAME: [MARKUP]},
  "t": TIMING, "w": WRAP}`` where ``N`` indexes the entry list (msgctxt, msgid), ``src``
  is the unit's original HTML, ``ph`` the original markup of each placeholder (the only
  markup a translation may bring back; ``src``, OPEN and MARKUP are lists of strings and
  attribute units when attribute units sit inside them, as ``title`` in ``<span title>``), ``t`` the start tag of a transcript unit's first
  word-timing span ("" otherwise) and ``w`` whether a ``<span>`` may wrap the unit (not in
  ``title``, ``textarea`` or ``option``, whose content is text only);
* an attribute unit: ``{"e": N, "src": VALUE, "q": QUOTE}`` (the value as written, and
  its quote character, "" when unquoted).

The JavaScript escapes every translated character and inserts only
``ph`` markup, as :func:`localize.engine.segments.render` does.
"""

from __future__ import annotations

from typing import Any

from localize.model import Unit, UnitKind

__all__ = ["EntryIndex", "page_parts"]

_TEXT_ONLY = frozenset(("title", "textarea", "option"))


class EntryIndex:
    """Entries (msgctxt, msgid) numbered in order of first appearance, shared by every page."""

    def __init__(self) -> None:
        self._index: dict[tuple[str | None, str], int] = {}

    def __call__(self, msgctxt: str | None, msgid: str) -> int:
        return self._index.setdefault((msgctxt, msgid), len(self._index))

    def entries(self) -> list[list[str | None]]:
        return [[ctx, msgid] for (ctx, msgid) in self._index]


def _attribute(page: str, unit: Unit, index: EntryIndex) -> dict[str, Any]:
    return {"e": index(unit.msgctxt, unit.msgid), "src": page[unit.start : unit.end], "q": unit.quote}


def _pieces(page: str, start: int, end: int, inner: list[Unit], index: EntryIndex) -> str | list[Any]:
    """``page[start:end]``, as a string, or as strings and the attribute units inside it."""
    inside = [u for u in inner if start <= u.start and u.end <= end]
    if not inside:
        return page[start:end]
    out: list[Any] = []
    pos = start
    for u in inside:
        out += [page[pos : u.start], _attribute(page, u, index)]
        pos = u.end
    out.append(page[pos:end])
    return out


def page_parts(page: str, units: list[Unit], index: EntryIndex) -> list[str | dict[str, Any]]:
    """``page`` (decoded text) as preview parts; ``units`` are :func:`find_units`' for it."""
    parts: list[str | dict[str, Any]] = []
    ordered = sorted(units, key=lambda u: (u.start, -u.end))
    pos = 0
    for i, unit in enumerate(ordered):
        if unit.start < pos:  # an attribute inside a text unit's placeholder markup: placed there
            continue
        if unit.start > pos:
            parts.append(page[pos : unit.start])
        if unit.kind is UnitKind.ATTRIBUTE:
            parts.append(_attribute(page, unit, index))
            pos = unit.end
            continue
        inner = [u for u in ordered[i + 1 :] if u.start < unit.end and u.kind is UnitKind.ATTRIBUTE]
        number = index(unit.msgctxt, unit.msgid)
        ph: dict[str, list[str | list[Any]]] = {}
        for p in unit.placeholders:
            if p.void:
                ph[p.name] = [_pieces(page, p.start, p.end, inner, index)]
            else:
                assert p.close_start is not None and p.close_end is not None
                ph[p.name] = [_pieces(page, p.start, p.end, inner, index), page[p.close_start : p.close_end]]
        parts.append(
            {
                "e": number,
                "src": _pieces(page, unit.start, unit.end, inner, index),
                "ph": ph,
                "t": page[unit.timing[0] : unit.timing[1]] if unit.timing else "",
                "w": unit.container.lower() not in _TEXT_ONLY,
            }
        )
        pos = unit.end
    if pos < len(page):
        parts.append(page[pos:])
    return parts
