"""Page maps for the kit's offline preview: a page split by the engine's own segmentation.

The preview in a kit (``preview.html``) is plain JavaScript opened from disk. It must not
segment HTML itself (it would disagree with extraction), so Python hands it each page as
a list of *parts*, in order, that concatenate back to the page:

* a string: the page's own markup and text between units, unchanged;
* a text unit: ``{"e": N, "src": HTML, "ph": {NAME: [OPEN, CLOSE]} or {NAME: [MARKUP]},
  "t": TIMING, "w": WRAP}`` where ``N`` indexes the entry list (msgctxt, msgid), ``src``
  is the unit's original HTML, ``ph`` the original markup of each placeholder (the only
  markup a translation may bring back), ``t`` the start tag of a transcript unit's first
  word-timing span ("" otherwise) and ``w`` whether a ``<span>`` may wrap the unit (not in
  ``title``, ``textarea`` or ``option``, whose content is text only);
* an attribute unit: ``{"e": N, "src": VALUE, "q": QUOTE}`` (the value as written, and
  its quote character, "" when unquoted).

Attribute units inside a text unit's placeholder markup stay in that markup (the preview
shows their source). The JavaScript escapes every translated character and inserts only
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


def page_parts(page: str, units: list[Unit], index: EntryIndex) -> list[str | dict[str, Any]]:
    """``page`` (decoded text) as preview parts; ``units`` are :func:`find_units`' for it."""
    parts: list[str | dict[str, Any]] = []
    pos = 0
    for unit in sorted(units, key=lambda u: (u.start, u.end)):
        if unit.start < pos:  # an attribute inside a text unit's placeholder markup
            continue
        if unit.start > pos:
            parts.append(page[pos : unit.start])
        number = index(unit.msgctxt, unit.msgid)
        if unit.kind is UnitKind.ATTRIBUTE:
            parts.append({"e": number, "src": page[unit.start : unit.end], "q": unit.quote})
        else:
            ph: dict[str, list[str]] = {}
            for p in unit.placeholders:
                if p.void:
                    ph[p.name] = [page[p.start : p.end]]
                else:
                    assert p.close_start is not None and p.close_end is not None
                    ph[p.name] = [page[p.start : p.end], page[p.close_start : p.close_end]]
            parts.append(
                {
                    "e": number,
                    "src": page[unit.start : unit.end],
                    "ph": ph,
                    "t": page[unit.timing[0] : unit.timing[1]] if unit.timing else "",
                    "w": unit.container.lower() not in _TEXT_ONLY,
                }
            )
        pos = unit.end
    if pos < len(page):
        parts.append(page[pos:])
    return parts
