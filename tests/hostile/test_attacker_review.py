"""An attacker's findings on the translation-to-page path (session 29 review): a line break in a
comment (an XLIFF note) becoming PO syntax, charsets that are no charset (unicode_escape, utf-7,
hex), pages that made the parser quadratic, a script ended early by the `document.write` idiom
(so that its code became translatable text), and a bare `<html lang>`."""

from __future__ import annotations

import random

import html5lib
import pytest

from localize.catalogs.po import read_po, write_po
from localize.engine.encoding import ascii_compatible, decode_page
from localize.engine.extract import extract_page
from localize.engine.htmltree import find_element, parse
from localize.engine.pages import localize_page
from localize.engine.segments import MATH, math_spans
from localize.errors import PageError, PoSyntaxError
from localize.model import Catalog, Entry

# -- a comment is never PO syntax -------------------------------------------------------------------

NOTE = 'ok\n\nmsgid "Welcome to the lab."\nmsgstr "evil"\r\n\r# tail\n#, reviewed'


def test_a_line_break_in_a_comment_never_becomes_an_entry_or_a_flag() -> None:
    entry = Entry(
        msgid="Waves",
        msgstr="Ondas",
        translator_comments=(NOTE,),
        extracted_comments=(NOTE,),
        references=('a\nmsgid "b"', "c\rmsgstr"),
        flags=("x\n#, reviewed",),
    )
    text = write_po(Catalog(entries=(entry,), header_comments=(NOTE,)))
    assert not any(
        line.startswith(('msgid "Welcome', 'msgstr "evil', "#, reviewed", 'msgid "b')) for line in text.splitlines()
    )
    [back] = read_po(text.encode()).entries
    assert (back.msgid, back.msgstr) == ("Waves", "Ondas")
    assert "reviewed" not in back.flags and back.translator_comments[2] == 'msgid "Welcome to the lab."'
    assert write_po(read_po(write_po(read_po(text.encode())).encode())) == write_po(read_po(text.encode()))


# -- charsets that are no charset ---------------------------------------------------------------------


@pytest.mark.parametrize("charset", ["unicode_escape", "raw_unicode_escape", "utf-7", "hex", "zlib", "idna", "rot13"])
def test_a_po_file_in_a_codec_that_is_no_charset_is_refused(charset: str) -> None:
    data = f'# \xff\nmsgid ""\nmsgstr ""\n"Content-Type: text/plain; charset={charset}\\n"\n\nmsgid "a"\nmsgstr "\\\\ud800"\n'
    with pytest.raises(PoSyntaxError, match=f"unknown charset '{charset}'"):
        read_po(data.encode("latin-1"), "r.po")


def test_the_charsets_of_the_web_are_kept() -> None:
    for codec in ("utf-8", "cp1252", "iso-8859-15", "shift_jis", "euc-jp", "gb18030", "big5",
                  "koi8-r", "windows-1256", "euc-kr"):  # fmt: skip
        assert ascii_compatible(codec), codec
    for codec in ("utf-7", "unicode_escape", "raw_unicode_escape", "hex", "zlib", "rot13", "idna", "punycode", "cp500",
                  "iso-2022-jp", "iso-2022-jp-2"):  # fmt: skip
        assert not ascii_compatible(codec), codec


@pytest.mark.parametrize(
    "label",
    [
        "hex",
        "zlib",
        "rot13",
        "idna",
        "punycode",
        "unicode_escape",
        "utf-7",
        "undefined",
        "iso-2022-jp-2",
        "x-user-defined",
    ],
)
def test_a_page_declaring_a_codec_that_is_no_charset_is_read_as_a_browser_reads_it(label: str) -> None:
    data = f'<html><head><meta charset="{label}"></head><body><p>Hello \\x3cb\\x3e world +ADw- \x1b$B!!\x1b(B</p></body></html>'.encode()
    page = decode_page(data, "index.html")
    assert page.encoding == "utf-8" and "\\x3cb\\x3e" in page.text and "+ADw-" in page.text and "$B!!" in page.text
    [unit] = extract_page(data, "index.html")
    assert "\\x3cb\\x3e" in unit.msgid  # the escape is text, as in a browser: never a tag


# -- linear on pathological pages ---------------------------------------------------------------------


def test_a_tail_of_unclosed_tags_is_text_as_before() -> None:
    for page in (
        "<p>Hello</p><p>" + "<a " * 3000,
        "x > y" + "<a " * 3000,
        "<p>a < b > c</p>" + "</a " * 3000,
        "<a " * 3000 + 'x=">"',  # a quote after the last ">": the first tag's value never closes
        "<a " * 3000 + "x='>'",
    ):
        root = parse(page)
        p = find_element(root, "p")
        assert find_element(root, "a") is None and (p is None or p.start == page.index("<p>"))


def test_formulas_are_found_as_the_regular_expression_finds_them() -> None:
    rng = random.Random(29)
    pieces = ["\\(", "\\)", "\\[", "\\]", "$", "$$", "a", " ", "\\", "(", "\n"]
    for _ in range(20000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert math_spans(text) == [m.span() for m in MATH.finditer(text)], text
    assert math_spans("\\( " * 30000) == []


# -- a script ends where a browser ends it ------------------------------------------------------------

SCRIPT = """<!--
document.write('<script src="menu.js"></script>');
var greeting = "Hello students";
//-->"""


def _script_text(page: str) -> str:
    root = parse(page)
    el = find_element(root, "script")
    assert el is not None
    return page[el.tag_end : el.end_start]


def _html5lib_script(page: str) -> str:
    tree = html5lib.parse(page, namespaceHTMLElements=False)
    return "".join(tree.find(".//script").itertext())


def test_the_document_write_idiom_keeps_its_code_out_of_the_units() -> None:
    page = f"<html><body><script>{SCRIPT}</script><p>Welcome</p></body></html>"
    assert _script_text(page) == SCRIPT == _html5lib_script(page)
    assert [u.msgid for u in extract_page(page.encode(), "index.html")] == ["Welcome"]
    built = localize_page(page.encode(), "index.html", {(None, "Welcome"): "Bienvenida"}, "es").data.decode()
    assert SCRIPT in built and "Bienvenida" in built


def test_script_ends_agree_with_html5lib() -> None:
    rng = random.Random(30)
    pieces = ["<!--", "-->", "<script>", "</script>", "<script ", "</script ", "<SCRIPT>", "-", ">", "<", "x", "<!-->"]
    for _ in range(3000):
        body = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        page = f"<html><head><script>{body}</script></head><body></body></html>"
        ours = _script_text(page)
        assert page.startswith(f"<html><head><script>{ours}")
        assert ours == _html5lib_script(page) or not page[len("<html><head><script>") + len(ours) :].lower().startswith(
            "</script"
        ), body


# -- a bare lang attribute ----------------------------------------------------------------------------


def test_a_bare_lang_attribute_gets_a_value() -> None:
    out = localize_page(b"<html lang><body><p>Hello world</p></body></html>", "index.html", {}, "ar").data
    assert out.startswith((b'<html dir="rtl" lang="ar">', b'<html lang="ar" dir="rtl">'))


def test_a_page_in_a_charset_browsers_refuse_is_an_error_of_that_page() -> None:
    data = b'<html><head><meta charset="iso-2022-kr"></head><body><p>Hello</p></body></html>'
    with pytest.raises(PageError, match="charset browsers refuse"):
        decode_page(data, "index.html")
    page = decode_page(data.replace(b"iso-2022-kr", b"ISO-2022-JP"), "index.html")
    assert page.encoding == "iso2022_jp"  # a label browsers know is read as they read it
