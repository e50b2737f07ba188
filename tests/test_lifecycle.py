"""init / update / stats / tm through the command line, and bad catalogs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import SAMPLE, msgfmt_check
from localize.catalogs.po import read_po, write_po
from localize.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A small course we can edit."""
    root = tmp_path / "course"
    root.mkdir()
    (root / "index.html").write_text(
        "<html><head><title>Waves</title></head><body>"
        "<nav><a href='index.html'>Home</a> <a href='notes.html'>Notes</a></nav>"
        "<p>The course meets twice a week in room 4-270.</p><p>Problem sets are due on Fridays.</p>"
        "<p>Office hours are on Mondays.</p></body></html>"
    )
    (root / "notes.html").write_text(
        "<nav><a href='index.html'>Home</a> <a href='notes.html'>Notes</a></nav><p>Lecture notes for every session.</p>"
    )
    return root


def translate_all(po: Path, prefix: str = "ES: ") -> None:
    cat = read_po(po.read_bytes())
    from dataclasses import replace

    po.write_text(
        write_po(replace(cat, entries=tuple(replace(e, msgstr=prefix + e.msgid) for e in cat.entries))),
        encoding="utf-8",
    )


def test_update_counts_the_untranslated_entries_it_drops(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An untranslated entry whose text left the pages is dropped (nothing to keep), and the line
    said "5 kept, 0 fuzzy, 0 revived, 1 new, 0 obsolete" for a catalog of 7 entries: 2 unaccounted."""
    loc = str(tmp_path / "loc")
    assert run(capsys, "extract", str(course), "--course", "waves", "--locales-dir", loc)[0] == 0
    assert run(capsys, "init", "--course", "waves", "--locale", "es", "--locales-dir", loc)[0] == 0
    page = (course / "index.html").read_text()
    page = page.replace("twice a week", "three times a week").replace(
        "<p>Office hours are on Mondays.</p>", "<p>New section.</p>"
    )
    (course / "index.html").write_text(page)
    code, out, _ = run(capsys, "update", str(course), "--course", "waves", "--locales-dir", loc)
    assert code == 0 and out.splitlines()[1].startswith(
        "es: 5 kept, 0 fuzzy, 0 revived, 2 new, 0 obsolete, 2 dropped (untranslated, gone from the pages); "
    )


def test_init_update_stats_round(course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    loc = str(tmp_path / "loc")
    assert run(capsys, "extract", str(course), "--course", "waves", "--locales-dir", loc)[0] == 0
    code, out, err = run(capsys, "init", "--course", "waves", "--locale", "es", "--locales-dir", loc)
    po = tmp_path / "loc" / "es" / "LC_MESSAGES" / "waves.po"
    assert (code, err) == (0, "")
    assert out == f"7 entries -> {po} (from memory: 0 translated, 0 fuzzy)\n"
    assert msgfmt_check(po).returncode == 0
    translate_all(po)
    # the course changes: one sentence edited, one removed, one added
    page = (course / "index.html").read_text()
    page = page.replace("twice a week", "three times a week").replace(
        "<p>Office hours are on Mondays.</p>", "<p>New section.</p>"
    )
    (course / "index.html").write_text(page)
    code, out, err = run(capsys, "update", str(course), "--course", "waves", "--locales-dir", loc)
    assert (code, err) == (0, "")
    assert (
        out.splitlines()[1]
        == f"es: 5 kept, 1 fuzzy, 0 revived, 1 new, 2 obsolete; from memory 0 translated, 0 fuzzy -> {po} (written)"
    )
    text = po.read_text()
    assert (
        '#, fuzzy\n#| msgid "The course meets twice a week in room 4-270."\nmsgid "The course meets three times a week in room 4-270."\nmsgstr "ES: The course meets twice a week in room 4-270."'
        in text
    )
    assert '#~ msgid "Office hours are on Mondays."\n#~ msgstr "ES: Office hours are on Mondays."' in text
    # running it again changes nothing
    before = po.read_bytes()
    code, out, _ = run(capsys, "update", str(course), "--course", "waves", "--locales-dir", loc)
    assert code == 0 and out.splitlines()[1].endswith("(unchanged)") and po.read_bytes() == before
    # the text comes back: so does its translation
    (course / "index.html").write_text(page.replace("<p>New section.</p>", "<p>Office hours are on Mondays.</p>"))
    run(capsys, "update", str(course), "--course", "waves", "--locales-dir", loc)
    assert 'msgid "Office hours are on Mondays."\nmsgstr "ES: Office hours are on Mondays."' in po.read_text()
    code, out, _ = run(capsys, "stats", "--locales-dir", loc, "--json")
    [stats] = json.loads(out)
    assert stats == {
        "course": "waves",
        "locale": "es",
        "entries": 7,
        "words": 29,
        "translated": 6,
        "fuzzy": 1,
        "untranslated": 0,
        "translated_words": 19,
        "reviewed": 0,
        "translated_percent": 85.7,
        "translated_words_percent": 65.5,
        "fuzzy_percent": 14.3,
        "untranslated_percent": 0.0,
    }
    code, out, _ = run(capsys, "stats", "--locales-dir", loc)
    assert out.splitlines()[1].split() == [
        "waves",
        "es",
        "7",
        "29",
        "6",
        "(85.7",
        "%)",
        "19",
        "(65.5",
        "%)",
        "1",
        "0",
        "0",
    ]


def test_second_course_is_filled_from_the_first(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loc = str(tmp_path / "loc")
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text(
        "<nav><a href='/'>Home</a> <a href='/n'>Notes</a></nav><p>Problem sets are due on Thursdays.</p><p>Brand new text here.</p>"
    )
    for cid, src in (("waves", course), ("optics", other)):
        run(capsys, "extract", str(src), "--course", cid, "--locales-dir", loc)
    run(capsys, "init", "--course", "waves", "--locale", "es", "--locales-dir", loc)
    translate_all(tmp_path / "loc" / "es" / "LC_MESSAGES" / "waves.po")
    code, out, _ = run(capsys, "init", "--course", "optics", "--locale", "es", "--locales-dir", loc)
    assert out.endswith("(from memory: 2 translated, 1 fuzzy)\n")
    text = (tmp_path / "loc" / "es" / "LC_MESSAGES" / "optics.po").read_text()
    assert '# localize-tm: exact match from waves\n#: index.html\nmsgid "Home"\nmsgstr "ES: Home"' in text
    assert '#, fuzzy\n#| msgid "Problem sets are due on Fridays."\nmsgid "Problem sets are due on Thursdays."' in text
    # export and import the memory
    tmx = tmp_path / "es.tmx"
    code, out, _ = run(capsys, "tm", "export", "--locale", "es", "--out", str(tmx), "--locales-dir", loc)
    assert out == f"7 translation units -> {tmx}\n"
    fresh = str(tmp_path / "fresh")
    run(capsys, "extract", str(other), "--course", "optics", "--locales-dir", fresh)
    code, out, _ = run(capsys, "tm", "import", str(tmx), "--locale", "es", "--locales-dir", fresh)
    assert code == 0
    assert out == f"7 translation units imported -> {fresh}/memory/es.po (7 in all)\n"
    code, out, _ = run(capsys, "init", "--course", "optics", "--locale", "es", "--locales-dir", fresh)
    assert code == 0
    assert out.endswith("(from memory: 2 translated, 1 fuzzy)\n")


def write_catalog(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: {ll}\\n"\n"X-Localize-Course: {course}\\n"\n\n'


@pytest.mark.parametrize(
    ("locale", "text", "message"),
    [
        (
            "fr",
            HEADER.format(ll="fr", course="waves") + 'msgid "Homme"\nmsgstr "Maison"\n',
            "fr/LC_MESSAGES/waves.po:7: msgid 'Homme' is not in the template: the source text was edited by hand; restore the original msgid (translations go in msgstr)",
        ),
        (
            "de",
            HEADER.format(ll="de", course="optics") + 'msgid "Home"\nmsgstr "Start"\n',
            "de/LC_MESSAGES/waves.po:1: this catalog belongs to course 'optics', not 'waves'",
        ),
        (
            "it",
            HEADER.format(ll="it", course="waves") + 'msgid "Home"\nmsgstr "Casa"\n\nmsgid "Home"\nmsgstr "Inizio"\n',
            "it/LC_MESSAGES/waves.po:10: duplicate entry for msgid 'Home', first defined at line 7; keep one of them",
        ),
        (
            "pt",
            'msgid "Home"\nmsgstr "Casa"\n',
            'pt/LC_MESSAGES/waves.po:1: no header entry (msgid "" with Content-Type and Language); restore it',
        ),
        (
            "nl",
            HEADER.format(ll="de", course="waves"),
            "nl/LC_MESSAGES/waves.po:1: header says Language: de, but this is the nl catalog",
        ),
        (
            "sv",
            b'msgid ""\nmsgstr "Content-Type: text/plain; charset=UTF-8\\n"\n\nmsgid "Home"\nmsgstr "Hem \xe5t"\n',
            "sv/LC_MESSAGES/waves.po:5: not valid UTF-8 (byte 0xe5); save the file as UTF-8 or declare its charset in the Content-Type header",
        ),
    ],
)
def test_bad_catalogs_are_reported_and_left_untouched(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], locale: str, text: str | bytes, message: str
) -> None:
    loc = tmp_path / "loc"
    run(capsys, "extract", str(course), "--course", "waves", "--locales-dir", str(loc))
    run(capsys, "init", "--course", "waves", "--locale", "es", "--locales-dir", str(loc))
    bad = loc / locale / "LC_MESSAGES" / "waves.po"
    write_catalog(bad, text)
    before = bad.read_bytes()
    (course / "notes.html").write_text("<p>Lecture notes for every session, updated.</p>")
    code, out, err = run(capsys, "update", str(course), "--course", "waves", "--locales-dir", str(loc))
    assert code == 1
    assert err == f"error: {loc}/{message} (catalog left unchanged)\n1 problem (listed above)\n"
    assert bad.read_bytes() == before
    assert "es: " in out  # the good catalog was still updated
    assert [p.name for p in bad.parent.iterdir()] == ["waves.po"]  # no temporary files left behind


def test_a_latin1_catalog_that_says_so_is_accepted(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loc = tmp_path / "loc"
    run(capsys, "extract", str(course), "--course", "waves", "--locales-dir", str(loc))
    header = HEADER.format(ll="sv", course="waves").replace("charset=UTF-8", "charset=ISO-8859-1")
    write_catalog(
        loc / "sv" / "LC_MESSAGES" / "waves.po", (header + 'msgid "Home"\nmsgstr "Hem \xe5t"\n').encode("latin-1")
    )
    code, out, _ = run(capsys, "update", str(course), "--course", "waves", "--locales-dir", str(loc))
    assert code == 0 and "sv: 1 kept" in out


def test_init_refuses_an_existing_catalog_and_bad_locales(
    course: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loc = str(tmp_path / "loc")
    run(capsys, "extract", str(course), "--course", "waves", "--locales-dir", loc)
    run(capsys, "init", "--course", "waves", "--locale", "es", "--locales-dir", loc)
    code, _, err = run(capsys, "init", "--course", "waves", "--locale", "es", "--locales-dir", loc)
    assert (code, err) == (
        2,
        f"error: {loc}/es/LC_MESSAGES/waves.po already exists; bring it up to date with: localize update SOURCE --course waves\n",
    )
    code, _, err = run(capsys, "init", "--course", "waves", "--locale", "xx_YY", "--locales-dir", loc)
    assert code == 2 and err.startswith("error: unknown locale code 'xx_YY'; close matches: ")


def test_merge_command_like_msgmerge(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(SAMPLE, tmp_path / "c")
    run(capsys, "extract", str(tmp_path / "c"), "--course", "intro-course", "--locales-dir", str(tmp_path / "loc"))
    pot = tmp_path / "loc" / "templates" / "intro-course.pot"
    run(capsys, "init", "--course", "intro-course", "--locale", "fr", "--locales-dir", str(tmp_path / "loc"))
    po = tmp_path / "loc" / "fr" / "LC_MESSAGES" / "intro-course.po"
    code, out, err = run(capsys, "merge", str(po), str(pot), "-o", str(tmp_path / "merged.po"))
    assert code == 0 and out == "" and err.endswith(f"0 fuzzy, 0 revived, 0 new, 0 obsolete -> {tmp_path}/merged.po\n")
    assert msgfmt_check(tmp_path / "merged.po").returncode == 0
