"""Writing PO files: the one writer of the catalogs of record, kits and exports.

GNU gettext's layout (msgmerge's line breaking at 79 columns, ``#|`` previous strings,
``#~`` obsolete entries), so that catalogs diff cleanly against what gettext tools write.
Whatever an entry holds, what is written reads back as that entry: a comment, reference
or flag with a line break in it (an XLIFF note, a file name) never becomes a line of PO syntax.
:mod:`localize.catalogs.po` reads them (and re-exports :func:`write_po`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from localize.model import Catalog, Entry

__all__ = ["WIDTH", "write_po"]

WIDTH = 79
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BREAK = re.compile(r"[^ ]* *")  # the pieces a line may break after: a word and the spaces after it
_NEWLINE_PART = re.compile(r"(?<=\\n)")
_SPACE = re.compile(r"\s")  # the characters str.isspace() is true for (both use Py_UNICODE_ISSPACE)


def _escape(value: str) -> str:
    # str.replace per character is many times faster than str.translate with a mapping
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if '"' in value:
        value = value.replace('"', '\\"')
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    return value


def _quote_lines(keyword: str, value: str, prefix: str, width: int) -> list[str]:
    escaped = _escape(value)
    first = f'{prefix}{keyword} "{escaped}"'
    if len(first) <= width and "\\n" not in escaped[:-2]:
        return [first]
    # multi-line: break after embedded newlines and between words (after a run of spaces)
    room = width - len(prefix) - 2
    lines: list[str] = []
    for part in _NEWLINE_PART.split(escaped) if "\\n" in escaped else (escaped,):
        if not part:
            continue
        if len(part) <= room:
            lines.append(part)
            continue
        line = ""
        for piece in _BREAK.findall(part):
            if line and len(line) + len(piece) > room:
                lines.append(line)
                line = piece
            else:
                line += piece
        if line:
            lines.append(line)
    return [f'{prefix}{keyword} ""'] + [f'{prefix}"{ln}"' for ln in lines]


def _reference_lines(refs: Iterable[str], width: int) -> list[str]:
    out: list[str] = []
    line = "#:"
    for ref in refs:
        if _SPACE.search(ref):  # read back as one reference (str.split splits on them all)
            ref = f"\u2068{ref}\u2069"
        if len(line) > 2 and len(line) + 1 + len(ref) > width:
            out.append(line)
            line = "#:"
        line += " " + ref
    if len(line) > 2:
        out.append(line)
    return out


def _comment_lines(mark: str, text: str) -> list[str]:
    """One comment as PO lines: each line of a comment that holds line breaks (an XLIFF note, a
    file name) is a comment line of the same kind, never a line of PO syntax."""
    if "\n" in text or "\r" in text:
        return [f"{mark} {line}" if line else mark for line in _LINE_BREAK.split(text)]
    return [f"{mark} {text}" if text else mark]


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n") if "\n" in text or "\r" in text else text


def _flag(flag: str) -> str:
    """A flag as one flag: never a line break, nor a comma that would make it two."""
    return _one_line(flag).replace(",", " ") if "," in flag or "\n" in flag or "\r" in flag else flag


def _entry_lines(e: Entry, width: int) -> list[str]:
    out: list[str] = []
    for c in e.translator_comments:
        out.extend(_comment_lines("#", c))
    for c in e.extracted_comments:
        out.extend(_comment_lines("#.", c))
    if e.references and not e.obsolete:
        out.extend(_reference_lines([_one_line(r) for r in e.references], width))
    if e.flags:
        out.append("#, " + ", ".join(_flag(f) for f in e.flags))
    prefix = "#~ " if e.obsolete else ""
    previous = "#~| " if e.obsolete else "#| "  # GNU msgmerge's form (as "#~ #|", polib refused the file)
    if e.previous_msgctxt is not None:
        out.extend(_quote_lines("msgctxt", e.previous_msgctxt, previous, width))
    if e.previous_msgid is not None:
        out.extend(_quote_lines("msgid", e.previous_msgid, previous, width))
    if e.msgctxt is not None:
        out.extend(_quote_lines("msgctxt", e.msgctxt, prefix, width))
    out.extend(_quote_lines("msgid", e.msgid, prefix, width))
    if e.msgid_plural is not None:
        out.extend(_quote_lines("msgid_plural", e.msgid_plural, prefix, width))
        forms = e.msgstr_plural or ("", "")
        for i, form in enumerate(forms):
            out.extend(_quote_lines(f"msgstr[{i}]", form, prefix, width))
    else:
        out.extend(_quote_lines("msgstr", e.msgstr, prefix, width))
    return out


def write_po(catalog: Catalog, width: int = WIDTH) -> str:
    """The catalog as PO text (UTF-8 when encoded; the header says so)."""
    out: list[str] = []
    for c in catalog.header_comments:
        out.extend(_comment_lines("#", c))
    if catalog.header_flags:
        out.append("#, " + ", ".join(_flag(f) for f in catalog.header_flags))
    out.append('msgid ""')
    out.append('msgstr ""')
    for key, value in catalog.headers:
        out.append('"' + _escape(f"{key}: {value}\n") + '"')
    for entry in catalog.entries:
        out.append("")
        out.extend(_entry_lines(entry, width))
    out.append("")
    return "\n".join(out)
