"""Decoding pages the way browsers do, and encoding them back without a byte of drift.

The encoding comes from a byte order mark, else from ``<meta charset>`` or
``<meta http-equiv="Content-Type">`` in the first 1024 bytes, else UTF-8. Pages
keep their own encoding on output: untouched stretches are re-encoded exactly
(single-byte encodings round-trip through ``surrogateescape``), and translated
text that the encoding cannot hold becomes numeric character references.

windows-1252 (what browsers read for "iso-8859-1", "ascii" and "windows-1252"
alike) is decoded as the WHATWG Encoding Standard says: the five bytes Python's
cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) are the C1 control code
points U+0081... and go back to the same bytes, so decoding never fails and every
byte 0x00-0xFF round-trips.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import webencodings

from localize.errors import PageError

__all__ = ["DecodedPage", "ascii_compatible", "decode_page", "encode_page"]

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_META_CHARSET = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""",
    re.I,
)
# WHATWG: these labels mean windows-1252 in a browser
_WINDOWS_1252 = {
    "windows-1252",
    "cp1252",
    "x-cp1252",
    "ascii",
    "us-ascii",
    "iso-8859-1",
    "iso8859-1",
    "latin1",
    "latin-1",
    "l1",
    "cp819",
    "iso_8859-1",
}


_PROBE = bytes(b for b in range(0x20, 0x7F) if b != 0x5C) + b"\t\n\r\\x41\\u0041.xn--ls8h.\x1b$B!!\x1b(B"


def ascii_compatible(codec: str) -> bool:
    """Whether ``codec`` is a text encoding that reads ASCII bytes as the ASCII characters, as every
    charset of the web and of gettext does: never a codec that reads escapes (``unicode_escape``
    takes ``\\x3c`` for ``<``), base64 (``utf-7``), bytes-to-bytes (``hex``, ``zlib``), domain
    names (``idna``) or escape sequences (``iso-2022-*``): no charset of a PO file. (A page's label
    is looked up in the WHATWG table instead, as browsers do: :func:`_sniff`.)"""
    try:
        return _PROBE.decode(codec) == _PROBE.decode("ascii")
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False


@dataclass(frozen=True, slots=True)
class DecodedPage:
    text: str
    encoding: str
    bom: bytes


def _sniff(data: bytes) -> tuple[str, bytes, bool]:
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name, bom, True
    m = _META_CHARSET.search(data, 0, 1024)
    if m:
        label = m.group(1).decode("ascii").lower()
        if label in _WINDOWS_1252:
            return "cp1252", b"", False
        known = webencodings.lookup(label)  # the labels browsers know (WHATWG Encoding Standard)
        if known is None or known.name in ("utf-16le", "utf-16be", "x-user-defined"):
            return "utf-8", b"", False  # an unknown label is ignored; a meta tag cannot switch to UTF-16
        if known.name == "replacement":
            return "replacement", b"", False
        return (known.name if known.name == "utf-8" else codecs.lookup(known.codec_info.name).name), b"", False
    return "utf-8", b"", False


def decode_page(data: bytes, path: str) -> DecodedPage:
    """Decode ``data``; raises :class:`PageError` for binary or undecodable files."""
    encoding, bom, from_bom = _sniff(data)
    if encoding == "replacement":
        raise PageError("declares a charset browsers refuse to read (WHATWG's 'replacement': iso-2022-kr, "
                        "hz-gb-2312...); save it as UTF-8", path=path)  # fmt: skip
    body = data[len(bom) :]
    if not encoding.startswith("utf-16") and b"\x00" in body[:8192]:
        raise PageError("binary file (NUL bytes), not an HTML page; remove it or rename it", path=path)
    if encoding == "utf-8":
        try:
            return DecodedPage(body.decode("utf-8"), "utf-8", bom)
        except UnicodeDecodeError as e:
            line = body.count(b"\n", 0, e.start) + 1
            raise PageError(
                f"not valid UTF-8 at line {line} (byte 0x{body[e.start]:02x}); declare its charset with "
                "<meta charset=...> or save it as UTF-8",
                path=path,
            ) from None
    try:
        errors = "strict" if from_bom else "localize-whatwg" if encoding == "cp1252" else "surrogateescape"
        return DecodedPage(body.decode(encoding, errors), encoding, bom)
    except UnicodeDecodeError as e:
        raise PageError(f"not valid {encoding} at byte {e.start}: {e.reason}", path=path) from None
    except (UnicodeError, LookupError, ValueError) as e:  # a codec that fails in its own way
        raise PageError(f"cannot be read as {encoding}: {e}", path=path) from None


# bytes cp1252 leaves undefined; WHATWG's windows-1252 maps each to the C1 code point of the same value
_C1_1252 = frozenset((0x81, 0x8D, 0x8F, 0x90, 0x9D))


def _whatwg_errors(err: UnicodeError) -> tuple[str, int]:
    """Decode error handler for windows-1252: undefined bytes are C1 controls (as in browsers)."""
    assert isinstance(err, UnicodeDecodeError)
    data = err.object[err.start : err.end]
    return "".join(chr(b) if b in _C1_1252 else chr(0xDC00 + b) for b in data), err.end


def _html_errors(err: UnicodeError, c1: bool = False) -> tuple[bytes, int]:
    """Encode error handler: escaped source bytes go back as they were (and, with ``c1``,
    the C1 controls of a windows-1252 page), new characters the encoding cannot hold
    become character references."""
    assert isinstance(err, UnicodeEncodeError)
    out = []
    for ch in err.object[err.start : err.end]:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(bytes((o - 0xDC00,)))
        elif c1 and o in _C1_1252:
            out.append(bytes((o,)))
        else:
            out.append(f"&#{o};".encode("ascii"))
    return b"".join(out), err.end


codecs.register_error("localize-whatwg", _whatwg_errors)
codecs.register_error("localize-html", _html_errors)
codecs.register_error("localize-html-1252", lambda err: _html_errors(err, True))


def encode_page(page: DecodedPage, text: str) -> bytes:
    """Encode a (rebuilt) page in its own encoding, BOM first."""
    return page.bom + text.encode(page.encoding, "localize-html-1252" if page.encoding == "cp1252" else "localize-html")
