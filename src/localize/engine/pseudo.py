"""Pseudo-localization (qps-ploc): see at a glance what was missed or cut off.

Every ASCII letter becomes an accented look-alike, the text grows by about 30 %
and is bracketed; placeholders stay as they are, so a pseudo-localized page has
the same markup as the source.
"""

from __future__ import annotations

import re
from dataclasses import replace

from localize.engine.placeholders import PLACEHOLDER_PATTERN
from localize.locales import PSEUDO_LOCALE
from localize.model import Catalog

__all__ = ["PSEUDO_LOCALE", "pseudo_catalog", "pseudo_text"]


_PLAIN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOOKS = "àƀçđéƒĝĥîĵķļɱñöþǫŕšţûṽŵẋýžÀßÇĐÉƑĜĤÎĴĶĻṀÑÖÞǪŔŠŢÛṼŴẊÝŽ"
_TABLE = str.maketrans(_PLAIN, _LOOKS)
# kept as they are: placeholders, URLs, e-mail addresses, printf and brace variables
_PLACEHOLDER = re.compile(
    PLACEHOLDER_PATTERN + r"|https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]"
    r"|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|%(?:\(\w+\))?[-+#0]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa](?![A-Za-z])"
    r"|\{[A-Za-z_][\w.]*\}|\{\d*\}"
)
_PAD = " ·ōņē·ţŵō·ţĥŕēē·ƒōũŕ·ƒīṽē·šīẋ·šēṽēņ·ēīĝĥţ·ņīņē·ţēņ"


def pseudo_text(text: str) -> str:
    """'Read <a1>this</a1>' -> '[Ŕéàđ <a1>ţĥîš</a1> ·ōņē]' (placeholders, URLs, e-mail
    addresses and variables are left as they are)."""
    pieces: list[str] = []
    pos = 0
    visible = 0
    for m in _PLACEHOLDER.finditer(text):
        chunk = text[pos : m.start()]
        visible += len(chunk)
        pieces.append(chunk.translate(_TABLE))
        pieces.append(m.group(0))
        pos = m.end()
    chunk = text[pos:]
    visible += len(chunk)
    pieces.append(chunk.translate(_TABLE))
    grow = max(1, round(visible * 0.3) - 2)
    pad = (_PAD * (grow // len(_PAD) + 1))[:grow]
    return "[" + "".join(pieces) + pad + "]"


def pseudo_catalog(template: Catalog, course: str) -> Catalog:
    entries = tuple(
        replace(
            e,
            msgstr="" if e.msgid_plural is not None else pseudo_text(e.msgid),
            msgstr_plural=tuple(pseudo_text(e.msgid if i == 0 else e.msgid_plural or e.msgid) for i in range(2))
            if e.msgid_plural is not None
            else (),
            flags=tuple(f for f in e.flags if f != "fuzzy"),
        )
        for e in template.entries
        if not e.obsolete
    )
    catalog = Catalog(headers=template.headers, entries=entries)
    for name, value in (
        ("PO-Revision-Date", template.header("POT-Creation-Date") or ""),
        ("Last-Translator", "localize pseudo-localization"),
        ("Language-Team", "pseudo-localization"),
        ("Language", PSEUDO_LOCALE),
        ("Plural-Forms", "nplurals=2; plural=(n != 1);"),
    ):
        catalog = catalog.with_header(name, value)
    return catalog
