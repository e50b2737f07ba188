"""The PO reader/writer: round trips, gettext clients, exact error messages."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polib
import pytest
from babel.messages.pofile import read_po as babel_read_po

from conftest import msgfmt_check
from localize.catalogs.po import read_po, write_po
from localize.errors import PoSyntaxError
from localize.model import Catalog, Entry

HEADERS = (
    ("Project-Id-Version", "demo"),
    ("Language", "es"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=UTF-8"),
    ("Content-Transfer-Encoding", "8bit"),
    ("Plural-Forms", "nplurals=2; plural=(n != 1);"),
    ("PO-Revision-Date", "2026-11-28 10:00+0000"),
    ("Last-Translator", "Ana <ana@example.org>"),
    ("Language-Team", "Spanish <es@example.org>"),
)

ENTRIES = (
    Entry("Hello", "Hola", references=("index.html", "pages/a%20b.html")),
    Entry("Read <a1>this</a1>", "Lee <a1>esto</a1>", extracted_comments=("Placeholders: <a1>…</a1> link",)),
    Entry("Record", "Grabar", msgctxt="verb", translator_comments=("checked by Ana",)),
    Entry('Line one\nLine two "quoted" \\ back\tslash', "Línea uno\nLínea dos"),
    Entry("x" * 200 + " " + "word " * 30, "y"),
    Entry("Old text", "Texto viejo", obsolete=True),
    Entry("Changed", "Cambiado", flags=("fuzzy",), previous_msgid="Changed before"),
    Entry("%d file", msgid_plural="%d files", msgstr_plural=("%d archivo", "%d archivos")),
)


def catalog() -> Catalog:
    return Catalog(headers=HEADERS, entries=ENTRIES, header_comments=("Spanish translation of demo",))


def test_round_trip_is_exact_and_deterministic() -> None:
    text = write_po(catalog())
    again = read_po(text.encode("utf-8"), "demo.po")
    assert again == catalog()
    assert write_po(again) == text


def test_written_file_passes_msgfmt_babel_and_polib(tmp_path: Path) -> None:
    path = tmp_path / "demo.po"
    path.write_text(write_po(catalog()), encoding="utf-8")
    result = msgfmt_check(path)
    assert result.returncode == 0, result.stderr
    with path.open("rb") as f:
        babel_catalog = babel_read_po(f, abort_invalid=True)
    assert babel_catalog.get("Record", context="verb").string == "Grabar"
    po = polib.pofile(str(path))
    assert po.find("Hello").msgstr == "Hola"
    assert po.find("Hello").occurrences == [("index.html", ""), ("pages/a%20b.html", "")]
    assert [e.msgid for e in po.obsolete_entries()] == ["Old text"]


def test_lines_are_wrapped_at_79_columns() -> None:
    text = write_po(catalog())
    long_lines = [line for line in text.splitlines() if len(line) > 79]
    assert long_lines == ['"' + "x" * 200 + ' "']  # a word longer than a line stays whole


def test_reads_crlf_bom_and_latin1(tmp_path: Path) -> None:
    text = 'msgid ""\r\nmsgstr "Content-Type: text/plain; charset=ISO-8859-1\\n"\r\n\r\nmsgid "Caf"\r\nmsgstr "Caf\xe9"\r\n'
    cat = read_po(b"\xef\xbb\xbf" + text.encode("latin-1").replace(b"\xef\xbb\xbf", b""), "x.po")
    assert cat.entries[0].msgstr == "Café"


def test_the_charset_is_the_headers_not_one_a_comment_names_first() -> None:
    """A translator's note "# charset=utf-16" above the header decided how a Latin-1 file was read."""
    text = '# Saved as charset=utf-16 by mistake\nmsgid ""\nmsgstr "Content-Type: text/plain; charset=ISO-8859-1\\n"\n\nmsgid "Caf"\nmsgstr "Caf\xe9"\n'
    assert read_po(text.encode("latin-1"), "x.po").entries[0].msgstr == "Café"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('msgid "a"\nmsgstr "b"\n\nmsgid "c"\nmsgstr "d\n', "x.po:5: expected a quoted string, found '\"d'"),
        ('msgid "a"\nmsgstr "b"\nmsgstr "c"\n', "x.po:3: a second msgstr in one entry"),
        ('msgid "a"\n\nmsgid "b"\nmsgstr ""\n', 'x.po:1: msgid without msgstr (add msgstr "")'),
        (
            'msgid "a"\nmsgstr "b"\n\nmsgid "a"\nmsgstr "c"\n',
            "x.po:4: duplicate entry for msgid 'a', first defined at line 1; keep one of them",
        ),
        ('msgid "a"\nmsgstr "b\\q"\n', "x.po:2: invalid escape sequence \\q"),
        ('msgid "a"\nmsgstr "b" "c"\n', 'x.po:2: unescaped " inside a string (write \\")'),
        (
            'msgid "a"\nmsgtsr "b"\n',
            "x.po:2: unexpected 'msgtsr': expected msgctxt, msgid, msgid_plural, msgstr or a comment",
        ),
        ('"orphan"\nmsgid "a"\nmsgstr ""\n', "x.po:1: a string continuation line with no keyword before it"),
        (
            b'msgid "a"\nmsgstr "\xff"\n',
            "x.po:2: not valid UTF-8 (byte 0xff); save the file as UTF-8 or declare its charset in the Content-Type header",
        ),
    ],
)
def test_syntax_errors_name_file_and_line(text: str | bytes, message: str) -> None:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    with pytest.raises(PoSyntaxError) as info:
        read_po(data, "x.po")
    assert str(info.value) == message


def test_an_obsolete_fuzzy_entry_with_its_previous_msgid_loads_in_polib_babel_and_msgfmt(tmp_path: Path) -> None:
    """`update` made an entry that had been fuzzy obsolete and wrote its previous msgid as
    '#~ #| msgid': polib refused the whole file ('invalid continuation line'). GNU's form is
    '#~| msgid'; Babel skips those lines with a warning, as it does for msgmerge's own files."""
    previous = "Provide an understanding of the role computation can play in solving problems " * 2
    old = Entry("New text", "Viejo", flags=("fuzzy",), previous_msgid=previous, previous_msgctxt="ctx", obsolete=True)
    path = tmp_path / "obsolete.po"
    path.write_text(write_po(replace(catalog(), entries=(*catalog().entries, old))), encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    assert '#~| msgctxt "ctx"\n#~| msgid ""\n#~| "Provide an understanding' in text and "#~ #|" not in text
    assert msgfmt_check(path).returncode == 0
    assert "New text" in [e.msgid for e in polib.pofile(str(path)).obsolete_entries()]
    with path.open("rb") as f:
        assert "New text" in babel_read_po(f).obsolete
    back = [e for e in read_po(path.read_bytes()).entries if e.msgid == "New text"]
    assert [(e.previous_msgid, e.previous_msgctxt, e.obsolete) for e in back] == [(previous, "ctx", True)]
