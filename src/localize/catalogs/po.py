"""The one gettext PO reader and writer.

Reads what GNU gettext, Babel, polib, Poedit and Weblate write (CRLF, BOM,
obsolete and previous entries, plurals, any charset the header names) and writes
files that pass ``msgfmt -c`` and load in Babel and polib. Errors name the file
and line. Output is deterministic: the same catalog always gives the same bytes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from localize.catalogs.po_write import WIDTH, write_po
from localize.engine.encoding import ascii_compatible
from localize.errors import PoSyntaxError
from localize.model import Catalog, Entry

__all__ = ["DECLARED_CHARSET", "WIDTH", "parse_headers", "read_po", "write_po"]


_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_ESCAPE_RE = re.compile(r"\\(?:([ntr\"\\abfv])|([0-7]{1,3})|x([0-9A-Fa-f]{1,2})|(.?))", re.S)
# the charset the header's Content-Type declares (not a "charset=" in a comment or a msgid before it)
DECLARED_CHARSET = re.compile(rb'"Content-Type:[^"\n]*?charset=([A-Za-z0-9._:-]+)', re.I)
_KEYWORD_RE = re.compile(r"(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)(?:\s+|(?=\")|$)(.*)$")


def _unquote(token: str, path: str, lineno: int) -> str:
    token = token.strip()
    if len(token) < 2 or token[0] != '"' or token[-1] != '"':
        raise PoSyntaxError(f"expected a quoted string, found {token[:40]!r}", path=path, line=lineno)
    body = token[1:-1]
    if "\\" not in body:
        if '"' in body:
            raise PoSyntaxError('unescaped " inside a string (write \\")', path=path, line=lineno)
        return body

    def sub(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return _ESCAPES[m.group(1)]
        if m.group(2) is not None:
            return chr(int(m.group(2), 8))
        if m.group(3) is not None:
            return chr(int(m.group(3), 16))
        raise PoSyntaxError(f"invalid escape sequence \\{m.group(4)}", path=path, line=lineno)

    unescaped_quote = re.search(r'(?<!\\)(?:\\\\)*"', body)
    if unescaped_quote:
        raise PoSyntaxError('unescaped " inside a string (write \\")', path=path, line=lineno)
    return _ESCAPE_RE.sub(sub, body)


def _decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without BOM), else the charset the header declares."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        failure = error
    m = DECLARED_CHARSET.search(data)
    charset = m.group(1).decode("ascii") if m else None
    if charset and charset.lower().replace("-", "") not in ("utf8", "charset"):
        try:
            if not ascii_compatible(charset):  # unicode_escape, utf-7, hex...: no charset msgfmt knows
                raise LookupError(charset)
            text = data.decode(charset)
            if _SURROGATE.search(text):  # (never from a real charset)
                raise UnicodeError(charset)
            return text
        except UnicodeDecodeError as error:
            failure = error
        except (LookupError, UnicodeError, ValueError):  # no such codec, or "undefined", "rot13"...
            raise PoSyntaxError(
                f"unknown charset {charset!r} in the Content-Type header; save the file as UTF-8",
                path=path,
                line=data.count(b"\n", 0, m.start()) + 1 if m else None,
            ) from None
    line = data.count(b"\n", 0, failure.start) + 1
    raise PoSyntaxError(
        f"not valid {charset or 'UTF-8'} (byte 0x{data[failure.start]:02x}); save the file as UTF-8 "
        "or declare its charset in the Content-Type header",
        path=path,
        line=line,
    )


@dataclass
class _Draft:
    lineno: int = 0
    msgctxt: list[str] | None = None
    msgid: list[str] | None = None
    msgid_plural: list[str] | None = None
    msgstr: list[str] | None = None
    plurals: dict[int, list[str]] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    extracted: list[str] = field(default_factory=list)
    translator: list[str] = field(default_factory=list)
    prev_ctxt: list[str] | None = None
    prev_id: list[str] | None = None
    obsolete: bool = False
    msgid_line: int = 0
    msgstr_line: int = 0

    def has_keywords(self) -> bool:
        return self.msgid is not None or self.msgctxt is not None


def read_po(data: bytes | str, path: str = "<catalog>", *, allow_duplicates: bool = False) -> Catalog:
    """Parse a PO/POT file. Raises :class:`PoSyntaxError` naming ``path`` and line."""
    text = _decode(data, path) if isinstance(data, bytes) else data.lstrip("\ufeff")
    entries: list[Entry] = []
    header: Entry | None = None
    seen: dict[tuple[str | None, str], int] = {}
    draft = _Draft()
    current: list[str] | None = None  # the string list continuation lines append to
    current_prev = False

    def finish(lineno: int) -> None:
        nonlocal draft, header
        d = draft
        draft = _Draft()
        if not d.has_keywords():
            if d.msgstr is not None or d.plurals:
                raise PoSyntaxError("msgstr without msgid", path=path, line=d.lineno)
            return
        if d.msgid is None:
            raise PoSyntaxError("msgctxt without msgid", path=path, line=d.lineno)
        if d.msgstr is None and not d.plurals:
            raise PoSyntaxError('msgid without msgstr (add msgstr "")', path=path, line=d.lineno)
        if d.msgid_plural is not None and d.msgstr is not None:
            raise PoSyntaxError("an entry with msgid_plural needs msgstr[0], msgstr[1]...", path=path, line=d.lineno)
        if d.msgid_plural is None and d.plurals:
            raise PoSyntaxError("msgstr[N] without msgid_plural", path=path, line=d.lineno)
        plural: tuple[str, ...] = ()
        if d.plurals:
            if sorted(d.plurals) != list(range(len(d.plurals))):
                raise PoSyntaxError(
                    "plural forms must be numbered msgstr[0], msgstr[1]... without gaps", path=path, line=d.lineno
                )
            plural = tuple("".join(d.plurals[i]) for i in range(len(d.plurals)))
        entry = Entry(
            msgid="".join(d.msgid),
            msgstr="".join(d.msgstr or ()),
            msgctxt=None if d.msgctxt is None else "".join(d.msgctxt),
            msgid_plural=None if d.msgid_plural is None else "".join(d.msgid_plural),
            msgstr_plural=plural,
            flags=tuple(dict.fromkeys(d.flags)),
            references=tuple(d.references),
            extracted_comments=tuple(d.extracted),
            translator_comments=tuple(d.translator),
            previous_msgctxt=None if d.prev_ctxt is None else "".join(d.prev_ctxt),
            previous_msgid=None if d.prev_id is None else "".join(d.prev_id),
            obsolete=d.obsolete,
            lineno=d.lineno,
            msgid_lineno=d.msgid_line,
            msgstr_lineno=d.msgstr_line,
        )
        if entry.msgid == "" and entry.msgctxt is None and not entry.obsolete:
            if header is not None:
                raise PoSyntaxError(
                    f"a second header entry (the first is at line {header.lineno})", path=path, line=d.lineno
                )
            header = entry
            return
        if not entry.obsolete:
            if entry.key in seen and not allow_duplicates:
                ctx = "" if entry.msgctxt is None else f" (msgctxt {entry.msgctxt!r})"
                raise PoSyntaxError(
                    f"duplicate entry for msgid {entry.msgid[:60]!r}{ctx}, first defined at line {seen[entry.key]}; "
                    "keep one of them",
                    path=path,
                    line=d.lineno,
                )
            seen[entry.key] = d.lineno
        entries.append(entry)

    # lines end at \r\n, \r or \n (str.split is many times faster than a regex split)
    lines = (text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text).split("\n")
    for lineno, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line:
            if draft.msgid is not None or draft.msgctxt is not None:
                finish(lineno)
                current = None
            continue
        first = line[0]
        if first == '"':  # the most common line of a long entry: a continuation
            if current is None or current_prev:
                raise PoSyntaxError("a string continuation line with no keyword before it", path=path, line=lineno)
            current.append(_unquote(line, path, lineno))
            continue
        obsolete = False
        if first == "#" and line.startswith("#~"):
            obsolete = True
            line = line[2:].strip()
            if not line:
                continue
            if line.startswith("|"):
                line = "#" + line
        if line.startswith("#"):
            if line.startswith("#|"):
                body = line[2:].strip()
                if (draft.msgid is not None and draft.msgstr is not None) or draft.plurals:
                    finish(lineno)
                if draft.lineno == 0:
                    draft.lineno = lineno
                if body.startswith("msgctxt"):
                    draft.prev_ctxt = [_unquote(body[7:], path, lineno)]
                    current, current_prev = draft.prev_ctxt, True
                elif body.startswith("msgid_plural"):
                    current, current_prev = None, True
                elif body.startswith("msgid"):
                    draft.prev_id = [_unquote(body[5:], path, lineno)]
                    current, current_prev = draft.prev_id, True
                elif body.startswith('"') and current is not None and current_prev:
                    current.append(_unquote(body, path, lineno))
                continue
            if draft.has_keywords() and (draft.msgstr is not None or draft.plurals):
                finish(lineno)
                current = None
            if draft.lineno == 0:
                draft.lineno = lineno
            if obsolete:
                continue
            kind = line[1:2]
            if kind == ".":
                draft.extracted.append(line[2:].strip())
            elif kind == ":":
                draft.references.extend(_split_references(line[2:]))
            elif kind == ",":
                draft.flags.extend(f.strip() for f in line[2:].split(",") if f.strip())
            else:
                comment = raw.lstrip()[1:]
                draft.translator.append(comment[1:] if comment.startswith(" ") else comment)
            continue
        if line.startswith('"'):
            if current is None or current_prev:
                raise PoSyntaxError("a string continuation line with no keyword before it", path=path, line=lineno)
            current.append(_unquote(line, path, lineno))
            continue
        m = _KEYWORD_RE.match(line)
        if m is None:
            word = line.split()[0][:30]
            raise PoSyntaxError(
                f"unexpected {word!r}: expected msgctxt, msgid, msgid_plural, msgstr or a comment",
                path=path,
                line=lineno,
            )
        if not m.group(3).startswith('"'):
            raise PoSyntaxError(f"{m.group(1)} needs a quoted string after it", path=path, line=lineno)
        keyword = m.group(1)
        value = [_unquote(m.group(3), path, lineno)]
        current_prev = False
        if keyword in ("msgctxt", "msgid") and draft.has_keywords() and (draft.msgstr is not None or draft.plurals):
            finish(lineno)
        if draft.lineno == 0:
            draft.lineno = lineno
        draft.obsolete = draft.obsolete or obsolete
        if keyword == "msgctxt":
            if draft.msgid is not None or draft.msgctxt is not None:
                raise PoSyntaxError("msgctxt must come before msgid", path=path, line=lineno)
            draft.msgctxt = value
        elif keyword == "msgid":
            if draft.msgid is not None:
                raise PoSyntaxError("a second msgid without a msgstr for the first", path=path, line=lineno)
            draft.msgid = value
            draft.msgid_line = lineno
        elif keyword == "msgid_plural":
            if draft.msgid is None:
                raise PoSyntaxError("msgid_plural before msgid", path=path, line=lineno)
            draft.msgid_plural = value
        elif m.group(2) is not None:
            if draft.msgid is None:
                raise PoSyntaxError("msgstr[N] before msgid", path=path, line=lineno)
            index = int(m.group(2))
            if index in draft.plurals:
                raise PoSyntaxError(f"msgstr[{index}] appears twice in one entry", path=path, line=lineno)
            draft.plurals[index] = value
            draft.msgstr_line = draft.msgstr_line or lineno
        else:
            if draft.msgid is None:
                raise PoSyntaxError("msgstr before msgid", path=path, line=lineno)
            if draft.msgstr is not None:
                raise PoSyntaxError("a second msgstr in one entry", path=path, line=lineno)
            draft.msgstr = value
            draft.msgstr_line = lineno
        current = value
    finish(len(lines))
    headers: tuple[tuple[str, str], ...] = ()
    header_comments: tuple[str, ...] = ()
    header_flags: tuple[str, ...] = ()
    if header is not None:
        headers = parse_headers(header.msgstr)
        header_comments = header.translator_comments
        header_flags = header.flags
    return Catalog(headers=headers, entries=tuple(entries), header_comments=header_comments, header_flags=header_flags)


def _split_references(text: str) -> list[str]:
    text = text.strip()
    if "\u2068" not in text:
        return text.split()
    # GNU gettext wraps file names containing spaces in FSI ... PDI
    return [m.group(1) or m.group(2) for m in re.finditer(r"\u2068([^\u2069]*)\u2069|(\S+)", text)]


def parse_headers(msgstr: str) -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for line in msgstr.split("\n"):
        if ":" in line:
            key, _, value = line.partition(":")
            out.append((key.strip(), value.strip()))
    return tuple(out)


# -- writing -----------------------------------------------------------------
