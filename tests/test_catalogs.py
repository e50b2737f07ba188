"""Catalog lifecycle: init, merge rules, translation memory, statistics, bad input."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import polib
import pytest

from conftest import msgfmt_check
from localize.catalogs.lifecycle import merge, new_catalog
from localize.catalogs.memory import MemoryUnit, TranslationMemory
from localize.catalogs.memory_files import read_memory_file, to_po, to_tmx
from localize.catalogs.po import read_po, write_po
from localize.catalogs.stats import catalog_stats
from localize.errors import ConfigError
from localize.locales import check_locale, plural_forms
from localize.model import Catalog, Entry


def template(*entries: Entry) -> Catalog:
    return Catalog(
        headers=(("Project-Id-Version", "c"), ("POT-Creation-Date", "2026-11-28 10:00+0000")), entries=entries
    )


def po(*entries: Entry) -> Catalog:
    return new_catalog(template(), "c", "es").__class__(
        headers=new_catalog(template(), "c", "es").headers, entries=entries
    )


def by_id(catalog: Catalog) -> dict[str, Entry]:
    return {e.msgid: e for e in catalog.entries}


# -- init ------------------------------------------------------------------------


def test_new_catalog_headers_come_from_cldr(tmp_path: Path) -> None:
    cat = new_catalog(template(Entry("Hello", references=("index.html",))), "8.05", "ar")
    assert cat.header("Language") == "ar"
    assert cat.header(
        "Plural-Forms",
    ).startswith("nplurals=6; ")  # type: ignore[union-attr]
    assert cat.header("Content-Type") == "text/plain; charset=UTF-8"
    assert cat.header("Language-Team") == "Arabic"
    assert cat.header("Project-Id-Version") == "8.05" and cat.header("X-Localize-Course") == "8.05"
    path = tmp_path / "ar.po"
    path.write_text(write_po(cat), encoding="utf-8")
    result = msgfmt_check(path)
    assert result.returncode == 0 and result.stderr == ""
    assert plural_forms("ja") == "nplurals=1; plural=(0);"


@pytest.mark.parametrize(
    ("code", "canonical"),
    [("es", "es"), ("pt-br", "pt_BR"), ("pt_BR", "pt_BR"), ("sw", "sw"), ("zh_Hant_TW", "zh_TW")],
)
def test_locale_codes_are_canonicalised(code: str, canonical: str) -> None:
    assert check_locale(code) == canonical


def test_unknown_locale_is_refused_with_close_matches() -> None:
    with pytest.raises(ConfigError) as info:
        check_locale("spanish")
    assert str(info.value).startswith("unknown locale code 'spanish'; close matches: es (Spanish)")
    with pytest.raises(ConfigError) as info:
        check_locale("en_XY")
    assert "en_" in str(info.value)


def test_the_quick_check_of_a_locale_agrees_with_babel_on_every_cldr_locale() -> None:
    """check_locale accepts a canonical code whose CLDR file exists without importing Babel:
    every code it accepts that way, Babel accepts too (and nothing Babel refuses gets in)."""
    from babel import Locale
    from babel.localedata import locale_identifiers

    from localize.locales import _babel_id, _has_data

    quick = [ident for ident in locale_identifiers() if _has_data(_babel_id(ident))]
    assert len(quick) > 500 and "en" in quick and "ar" in quick
    for ident in quick:
        assert Locale.parse(_babel_id(ident)) is not None
    assert not _has_data("en_XY") and not _has_data("../en") and not _has_data("éé")
    check_locale.cache_clear()
    with pytest.raises(ConfigError):
        check_locale("en_XY")


# -- merge -----------------------------------------------------------------------


def test_unchanged_unit_keeps_translation_flags_and_comments() -> None:
    old = po(Entry("Hello", "Hola", flags=("c-format",), translator_comments=("ok by Ana",), references=("a.html",)))
    new, report = merge(old, template(Entry("Hello", references=("b.html",), extracted_comments=("hint",))))
    assert new.entries == (
        Entry(
            "Hello",
            "Hola",
            flags=("c-format",),
            translator_comments=("ok by Ana",),
            references=("b.html",),
            extracted_comments=("hint",),
        ),
    )
    assert (report.kept, report.fuzzy, report.new, report.obsoleted) == (1, 0, 0, 0)


def test_changed_unit_becomes_fuzzy_with_previous_msgid() -> None:
    old = po(
        Entry(
            "The course meets twice a week.", "El curso se reúne dos veces por semana.", translator_comments=("note",)
        )
    )
    new, report = merge(old, template(Entry("The course meets three times a week.")))
    [entry, obsolete] = new.entries
    assert entry == Entry(
        "The course meets three times a week.",
        "El curso se reúne dos veces por semana.",
        flags=("fuzzy",),
        translator_comments=("note",),
        previous_msgid="The course meets twice a week.",
    )
    assert obsolete.obsolete and obsolete.msgid == "The course meets twice a week."
    assert (report.fuzzy, report.obsoleted) == (1, 1)


def test_fuzzy_matching_never_crosses_msgctxt() -> None:
    old = po(Entry("Open the syllabus", "Abre el programa", msgctxt="attribute"))
    new, _ = merge(old, template(Entry("Open the syllabus now")))
    assert by_id(new)["Open the syllabus now"].msgstr == ""


def test_dissimilar_text_is_untranslated() -> None:
    new, report = merge(po(Entry("Syllabus", "Programa")), template(Entry("Completely different words")))
    assert by_id(new)["Completely different words"].msgstr == "" and report.new == 1


def test_vanished_unit_is_kept_obsolete_and_comes_back() -> None:
    old = po(Entry("Kept", "Guardado"), Entry("Gone", "Ido", translator_comments=("mine",)), Entry("Empty"))
    new, report = merge(old, template(Entry("Kept")))
    assert [(e.msgid, e.obsolete) for e in new.entries] == [("Kept", False), ("Gone", True)]
    assert report.obsoleted == 1
    text = write_po(new)
    assert '#~ msgid "Gone"\n#~ msgstr "Ido"' in text
    back, report = merge(read_po(text), template(Entry("Kept"), Entry("Gone", references=("x.html",))))
    assert by_id(back)["Gone"] == Entry("Gone", "Ido", translator_comments=("mine",), references=("x.html",))
    assert report.revived == 1


def test_merging_twice_changes_nothing() -> None:
    old = po(Entry("A sentence about waves.", "Una frase sobre ondas."), Entry("Old", "Viejo"))
    tpl = template(Entry("A sentence about sound waves."), Entry("New"))
    once, _ = merge(old, tpl)
    twice, report = merge(read_po(write_po(once)), tpl)
    assert write_po(twice) == write_po(once)
    assert (report.kept, report.fuzzy, report.new) == (2, 0, 0)


# -- translation memory ----------------------------------------------------------


def test_memory_fills_exact_as_translated_and_near_as_fuzzy() -> None:
    memory = TranslationMemory(
        [
            MemoryUnit(None, "Lecture Notes", "Apuntes", "8.05"),
            MemoryUnit(None, "Problem set 1 is due on Friday.", "La tarea 1 vence el viernes.", "8.04"),
            MemoryUnit("attribute", "Lecture Notes", "Apuntes de clase", "8.05"),
        ]
    )
    cat = po(
        Entry("Lecture Notes"), Entry("Problem set 2 is due on Friday."), Entry("Unrelated"), Entry("Kept", "Mantener")
    )
    filled, report = memory.fill(cat)
    entries = by_id(filled)
    assert entries["Lecture Notes"] == Entry(
        "Lecture Notes", "Apuntes", translator_comments=("localize-tm: exact match from 8.05",)
    )
    near = entries["Problem set 2 is due on Friday."]
    assert near.fuzzy and near.msgstr == "La tarea 1 vence el viernes."
    assert near.previous_msgid == "Problem set 1 is due on Friday."
    assert near.translator_comments[0].startswith("localize-tm: 9") and near.translator_comments[0].endswith(
        "% match from 8.04"
    )
    assert entries["Unrelated"].msgstr == "" and entries["Kept"].msgstr == "Mantener"
    assert (report.exact, report.near) == (1, 1)


def test_memory_threshold_is_configurable() -> None:
    memory = TranslationMemory([MemoryUnit(None, "Problem set 1 is due on Friday.", "x", "a")])
    cat = po(Entry("Problem set 2 is due on Monday."))
    assert memory.fill(cat, similarity=0.75)[1].near == 1
    assert memory.fill(cat, similarity=0.95)[1].near == 0


def test_memory_prefers_the_most_common_translation() -> None:
    memory = TranslationMemory(
        [
            MemoryUnit(None, "Home", "Inicio", "a"),
            MemoryUnit(None, "Home", "Casa", "b"),
            MemoryUnit(None, "Home", "Inicio", "c"),
        ]
    )
    assert memory.exact[(None, "Home")] == ("Inicio", "a")


def test_tmx_and_compendium_round_trip(tmp_path: Path) -> None:
    memory = TranslationMemory(
        [
            MemoryUnit(None, "Read <a1>this</a1> & that", "Lee <a1>esto</a1> y eso", "8.05"),
            MemoryUnit("attribute", "Photo", "Foto", "8.05"),
        ]
    )
    tmx = to_tmx(memory, "es")
    assert '<tuv xml:lang="en"><seg>Read &lt;a1&gt;this&lt;/a1&gt; &amp; that</seg></tuv>' in tmx
    units = read_memory_file(tmx.encode(), "partner.tmx", "es")
    assert {(u.msgctxt, u.msgid, u.msgstr) for u in units} == {
        (None, "Read <a1>this</a1> & that", "Lee <a1>esto</a1> y eso"),
        ("attribute", "Photo", "Foto"),
    }
    compendium = write_po(to_po(memory, "es"))
    (tmp_path / "c.po").write_text(compendium, encoding="utf-8")
    assert msgfmt_check(tmp_path / "c.po").returncode == 0
    assert {u.msgstr for u in read_memory_file(compendium.encode(), "c.po", "es")} == {
        "Lee <a1>esto</a1> y eso",
        "Foto",
    }


def test_tmx_from_another_tool_with_regional_variants() -> None:
    tmx = b"""<?xml version="1.0"?><!DOCTYPE tmx SYSTEM "tmx14.dtd"><tmx version="1.4"><header srclang="en-US" datatype="plaintext"/>
    <body><tu><tuv xml:lang="en-US"><seg>Hello</seg></tuv><tuv xml:lang="es-ES"><seg>Hola</seg></tuv><tuv xml:lang="fr"><seg>Salut</seg></tuv></tu></body></tmx>"""
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert read_memory_file(tmx, "x.tmx", "es", now=at) == [
        MemoryUnit(None, "Hello", "Hola", "", imported_from="x.tmx", imported_at="2026-01-02T03:04:05+00:00")
    ]


# -- statistics ------------------------------------------------------------------


def test_stats_count_entries_words_and_states() -> None:
    cat = po(
        Entry("Read <a1>the syllabus</a1> first", "Lee"),
        Entry("Two words", "Dos", flags=("fuzzy",)),
        Entry("Nothing here yet"),
        Entry("Gone", "Ido", obsolete=True),
    )
    s = catalog_stats(cat, "c", "es")
    assert (s.entries, s.words, s.translated, s.fuzzy, s.untranslated, s.translated_words) == (3, 9, 1, 1, 1, 4)
    assert s.as_dict()["translated_percent"] == 33.3


def test_stats_agree_with_polib(tmp_path: Path) -> None:
    cat = po(
        *(
            Entry(f"Entry {i}", "x" if i % 3 == 0 else "", flags=("fuzzy",) if i % 3 == 1 and i % 2 else ())
            for i in range(30)
        )
    )
    cat = replace(cat, entries=tuple(replace(e, msgstr="y") if "fuzzy" in e.flags else e for e in cat.entries))
    path = tmp_path / "x.po"
    path.write_text(write_po(cat), encoding="utf-8")
    p = polib.pofile(str(path))
    s = catalog_stats(read_po(path.read_bytes()), "c", "es")
    assert (s.translated, s.fuzzy, s.untranslated) == (
        len(p.translated_entries()),
        len(p.fuzzy_entries()),
        len(p.untranslated_entries()),
    )


def test_pseudo_keeps_placeholders_urls_emails_and_variables() -> None:
    from localize.engine.pseudo import pseudo_text

    text = pseudo_text("See <a1>https://ocw.mit.edu/x</a1> or write to help@mit.edu about %d items, {name}.")
    assert "<a1>https://ocw.mit.edu/x</a1>" in text and "help@mit.edu" in text and "%d" in text and "{name}" in text
    assert "See" not in text and "items" not in text


def test_percent_signs_in_prose_are_not_printf_variables() -> None:
    from localize.partners.checks import entry_problems

    entry = Entry(
        "Grades: 50% homework, 100% chance, 20 % of it", "Notas: 50 % tareas, 100 % seguro, 20 % de eso", lineno=3
    )
    assert [p.check for p in entry_problems(entry, "x.po")] == []
    entry = Entry("%d problem sets", "%s tareas", lineno=3)
    assert [p.message for p in entry_problems(entry, "x.po")] == [
        "printf variables differ from the source: missing %d; extra %s"
    ]


def test_near_match_index_gives_what_a_full_scan_gives(corpus: Path) -> None:
    """The length window never drops the best candidate: same msgid and score as rapidfuzz over everything."""
    import random

    from rapidfuzz import fuzz, process

    from localize.catalogs.memory import NearIndex
    from localize.engine.extract import extract_course
    from localize.storage.courses import open_source

    msgids = [e.msgid for e in extract_course(open_source(corpus), "ocw", jobs=1).catalog.entries if e.msgctxt is None]
    rng = random.Random(7)
    queries = []
    for m in rng.sample(msgids, 400):
        words = m.split()
        if len(words) > 2:
            words.insert(rng.randrange(len(words)), "indeed")
            del words[rng.randrange(len(words))]
        queries.append(" ".join(words))
    queries += ["", "x", "Problem Set 1", "Lecture 12: Fourier series and filters"]
    index = NearIndex(msgids)
    for cutoff in (60.0, 75.0, 90.0):
        for q in queries:
            full = process.extractOne(q, msgids, scorer=fuzz.ratio, score_cutoff=cutoff)
            expected = (full[0], full[1]) if full is not None else None
            assert index.best(q, cutoff) == expected, (q, cutoff)
            assert len(index.window(q, cutoff)) <= len(msgids)
    # the window is what makes it cheap: a short query looks at a small part of the memory
    assert len(index.window("Problem Set 1", 75.0)) < len(msgids) / 4


def _slow_digest(template: Catalog) -> str:
    import hashlib

    return hashlib.sha256(write_po(template.with_header("POT-Creation-Date", "")).encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    "headers",
    [
        (("Project-Id-Version", "c"), ("POT-Creation-Date", "2026-12-01 10:00+0000")),
        (("POT-Creation-Date", "2026-12-01 10:00+0000"), ("X-Note", "POT-Creation-Date: 1999")),
        (("Project-Id-Version", "c"),),  # no date: the header is added, as before
        (("POT-Creation-Date", "a"), ("POT-Creation-Date", "b")),  # twice: the slow way
        (("POT-Creation-Date", 'x"y\\z'),),  # escapes in the value: the slow way
        (("Project-Id-Version", "p" * 300), ("POT-Creation-Date", "2026-12-01 " + "d" * 200)),  # wrapped lines
        (("POT-Creation-Date", "2026-01-01"), ("pot-creation-date", "2025-01-01")),  # another case
        (("pot-creation-date", "2025-01-01"), ("POT-Creation-Date", "2026-01-01")),
        (("POT-Creation-Date", "2026"), ("POT-Creation-Date", 'x "y"')),
        (("POT-Creation-Date", '"now"'), ("POT-Creation-Date", "x: y")),  # a decoy key
        (("X-Note", "a\nPOT-Creation-Date: 2026"), ("POT-Creation-Date", "2026")),  # a header spanning lines
        (("POT-Creation-Date: a", "b"), ("POT-Creation-Date", "a: b")),  # another line written the same
    ],
)
def test_the_template_digest_from_the_written_text_is_the_digest(headers: tuple[tuple[str, str], ...]) -> None:
    """Extract writes a template once and takes its digest from that text; the digest (which
    catalogs name in X-Localize-Template) must be exactly the one of the template itself."""
    from localize.catalogs.lifecycle import template_digest

    template = Catalog(headers=headers, entries=(Entry("Home", references=("index.html",)), Entry("A\n\nB")))
    assert template_digest(template, write_po(template)) == template_digest(template) == _slow_digest(template)


def test_the_template_digest_from_text_on_real_templates(tmp_path: Path) -> None:
    from conftest import SAMPLE, corpus_courses
    from localize.catalogs.lifecycle import _digest_from_text, template_digest
    from localize.engine.extract import extract_course
    from localize.storage.courses import open_source

    for course in [SAMPLE, *corpus_courses()]:
        template = extract_course(open_source(str(course)), course.name, jobs=1).catalog
        assert template_digest(template, write_po(template)) == _slow_digest(template), course.name
        assert _digest_from_text(template, write_po(template)) is not None  # the shortcut is taken


# -- TMX inline codes (a memory made by another tool from HTML pages) ---------------------------

LEGACY_TMX = """<?xml version="1.0" encoding="UTF-8"?>
<tmx version="1.4"><header creationtool="t" creationtoolversion="1" datatype="html" segtype="sentence"
 adminlang="en" srclang="en" o-tmf="t"/><body>
<tu><tuv xml:lang="es"><seg>Lea primero las <bpt i="1">&lt;a href="notes.html"&gt;</bpt>notas<ept i="1">&lt;/a&gt;</ept>.</seg></tuv>
<tuv xml:lang="en"><seg>Read the <bpt i="1">&lt;a href="notes.html"&gt;</bpt>notes<ept i="1">&lt;/a&gt;</ept> first.</seg></tuv></tu>
<tu><tuv xml:lang="en"><seg><bpt i="1">&lt;b&gt;</bpt>Due<ept i="1">&lt;/b&gt;</ept>:<ph>&lt;br /&gt;</ph> <hi type="x">week</hi> <bpt i="3">&lt;em&gt;</bpt>two<ept i="3">&lt;/em&gt;</ept></seg></tuv>
<tuv xml:lang="es"><seg><bpt i="7">&lt;em&gt;</bpt>Segunda<ept i="7">&lt;/em&gt;</ept> semana:<ph>&lt;br /&gt;</ph> <bpt i="8">&lt;b&gt;</bpt>entrega<ept i="8">&lt;/b&gt;</ept></seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>See <bpt i="1" x="1">&lt;a href="n.html"&gt;</bpt>notes<ept i="1">&lt;/a&gt;</ept> and <bpt i="2" x="2">&lt;b&gt;</bpt>bold<ept i="2">&lt;/b&gt;</ept></seg></tuv>
<tuv xml:lang="es"><seg>Ver <bpt i="1" x="2">&lt;b&gt;</bpt>negrita<ept i="1">&lt;/b&gt;</ept> y <bpt i="2" x="1">&lt;a href="n.html"&gt;</bpt>notas<ept i="2">&lt;/a&gt;</ept></seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>See <ph>&lt;img src="fig.png" alt="Figure"&gt;</ph> then<ph>&lt;br&gt;</ph>continue here</seg></tuv>
<tuv xml:lang="es"><seg>Vea<ph>&lt;br&gt;</ph> y luego <ph>&lt;img src="fig.png" alt="Figure"&gt;</ph> continúe aquí</seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>Swap <bpt i="1" x="1">&lt;a href="n.html"&gt;</bpt>this<ept i="1">&lt;/a&gt;</ept></seg></tuv>
<tuv xml:lang="es"><seg>Cambia <bpt i="1" x="1">&lt;b&gt;</bpt>esto<ept i="1">&lt;/b&gt;</ept></seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>Open the <bpt i="1">&lt;a href="notes.html"&gt;</bpt>notes<ept i="1">&lt;/a&gt;</ept></seg></tuv>
<tuv xml:lang="es"><seg>Abra las <bpt i="1">&lt;a href="javascript:alert(1)"&gt;</bpt>notas<ept i="1">&lt;/a&gt;</ept></seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>Isolated <it pos="begin">&lt;b&gt;</it>bold</seg></tuv><tuv xml:lang="es"><seg>Aislado <it pos="begin">&lt;b&gt;</it>negrita</seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>Not a tag <ph x="1">{1}</ph></seg></tuv><tuv xml:lang="es"><seg>No es <ph x="1">{1}</ph></seg></tuv></tu>
<tu><tuv xml:lang="en"><seg>An <bpt i="1">&lt;i&gt;</bpt>extra<ept i="1">&lt;/i&gt;</ept></seg></tuv>
<tuv xml:lang="es"><seg>Un <bpt i="1">&lt;i&gt;</bpt>extra<ept i="1">&lt;/i&gt;</ept><ph x="9">&lt;img src=x onerror=alert(1)&gt;</ph></seg></tuv></tu>
</body></tmx>
"""


def test_tmx_inline_codes_become_placeholders() -> None:
    units = {u.msgid: u.msgstr for u in read_memory_file(LEGACY_TMX.encode(), "legacy.tmx", "es")}
    # named by tag and position in the source; a target code takes the name of the source's code
    # with its native code, whatever its i (which pairs bpt and ept within one segment only)
    assert units["Read the <a1>notes</a1> first."] == "Lea primero las <a1>notas</a1>."
    assert units["<b1>Due</b1>:<br2/> week <em3>two</em3>"] == "<em3>Segunda</em3> semana:<br2/> <b1>entrega</b1>"
    # or with its x, TMX's link between the segments' codes: a reordered translation keeps each
    # code on its own words (a link never moves onto the bold words)
    assert units["See <a1>notes</a1> and <b2>bold</b2>"] == "Ver <b2>negrita</b2> y <a1>notas</a1>"
    assert units["See <img1/> then<br2/>continue here"] == "Vea<br2/> y luego <img1/> continúe aquí"
    # codes that cannot be named are read as text, as before: they never match a msgid
    assert units['Swap <a href="n.html">this</a>'] == "Cambia <b>esto</b>"  # x, but another tag
    assert units['Open the <a href="notes.html">notes</a>'] == 'Abra las <a href="javascript:alert(1)">notas</a>'
    assert units["Isolated <b>bold"] == "Aislado <b>negrita"
    assert units["Not a tag {1}"] == "No es {1}"
    # a target code the source does not have: the unit is read as text (and the gate sees its markup)
    assert units["An <i>extra</i>"] == "Un <i>extra</i><img src=x onerror=alert(1)>"


def test_a_legacy_tmx_fills_a_course_and_its_native_codes_never_reach_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from localize.cli import main

    course = tmp_path / "course"
    course.mkdir()
    (course / "index.html").write_text('<p>Read the <a href="notes.html">notes</a> first.</p>', encoding="utf-8")
    (tmp_path / "legacy.tmx").write_text(LEGACY_TMX, encoding="utf-8")
    loc = ["--locales-dir", str(tmp_path / "loc")]
    assert main(["extract", str(course), "--course", "c", *loc, "-q"]) == 0
    # the units whose markup the gate refuses are listed, the others imported
    assert main(["tm", "import", str(tmp_path / "legacy.tmx"), "--locale", "es", *loc]) == 1
    err = capsys.readouterr().err
    assert "'An <i>extra</i>': markup: an event handler" in err
    assert "'Open the <a href=\"notes.html\">notes</a>': " in err
    assert main(["init", "--course", "c", "--locale", "es", *loc, "-q"]) == 0
    assert main(["build", str(course), "--course", "c", "--locale", "es", *loc, "--out", str(tmp_path / "site")]) == 0
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<p>Lea primero las <a href="notes.html">notas</a>.</p>' in page
    assert "javascript" not in page


# -- translations carried across the change of a unit's edges ------------------------------------


def test_a_translation_follows_its_unit_when_an_icon_or_empty_element_leaves_its_edge() -> None:
    """Extraction used to keep an icon or an empty element at a unit's edge as a placeholder
    ('<i1/> <span2>Lecture Notes</span2>'); now the unit is 'Lecture Notes'. An update carries the
    translation with the same change instead of leaving 48 short labels of the corpus untranslated
    (too short a text for a fuzzy match): kept as it was when only its edges changed, else fuzzy."""
    from localize.catalogs.edges import edge_trimmed

    page = ("index.html",)
    old = po(
        Entry("<i1/> <span2>Lecture Notes</span2>", "<i1/> <span2>Apuntes de clase</span2>", flags=("reviewed",)),
        Entry("<span1/> Download File", "Descargar <span1/>"),  # the icon at the other edge: clean
        Entry("<a1></a1> <a2></a2>Joost Bonsen", "<a1></a1> <a2></a2>Joost Bonsen"),
        Entry("<i1/> See <b2>this</b2> first", "Vea <b2>esto</b2> primero", flags=("fuzzy",)),
        Entry("<i1/> <span2>Exams</span2>", "Exámenes <span2>finales</span2>", flags=("reviewed",)),
        Entry("<a1></a1>Privacy", "<a1>ver</a1> Privacidad"),  # text in a dropped pair: not carried
        Entry("<i1/> Notes", "java<i1/>script Notas"),  # removing it would join two words: not carried
        Entry("<i1/> Close", "<i1/> Cerrar"),  # two new entries of that text: which one is not sure
        Entry("<code1/> if the variable <code2/> is positive", "<code1/> si la variable <code2/> es positiva"),
    )
    old = replace(old, entries=tuple(replace(e, references=page) for e in old.entries))
    new, report = merge(
        old,
        template(
            *(
                Entry(msgid, msgctxt=ctx, references=page)
                for ctx, msgid in (
                    (None, "Lecture Notes"),
                    (None, "Download File"),
                    (None, "Joost Bonsen"),
                    (None, "See <b1>this</b1> first"),
                    (None, "Exams"),
                    (None, "Privacy"),
                    (None, "Notes"),
                    (None, "Close"),
                    ("verb", "Close"),
                    (None, "<code1/> if the variable <code2/> is positive"),
                )
            )
        ),
    )
    got = {(e.msgctxt, e.msgid): (e.msgstr, e.flags) for e in new.entries if not e.obsolete}
    assert got == {
        (None, "Lecture Notes"): ("Apuntes de clase", ("reviewed",)),
        (None, "Download File"): ("Descargar", ()),
        (None, "Joost Bonsen"): ("Joost Bonsen", ()),
        # the translation's own edges differ: carried, for the translator to confirm
        (None, "See <b1>this</b1> first"): ("Vea <b1>esto</b1> primero", ("fuzzy",)),
        (None, "Exams"): ("Exámenes finales", ("fuzzy",)),
        (None, "Privacy"): ("", ()),
        (None, "Notes"): ("", ()),
        (None, "Close"): ("Cerrar", ("fuzzy",)),
        ("verb", "Close"): ("", ()),
        (None, "<code1/> if the variable <code2/> is positive"): ("<code1/> si la variable <code2/> es positiva", ()),
    }
    exams = next(e for e in new.entries if e.msgid == "Exams")
    assert exams.previous_msgid == "<i1/> <span2>Exams</span2>"
    assert (report.kept, report.fuzzy, report.new) == (4, 3, 3)
    # no page in common: fuzzy, never kept as it was
    lone, _ = merge(
        po(Entry("<i1/> Notes", "<i1/> Notas", references=("a.html",))),
        template(Entry("Notes", references=("b.html",))),
    )
    assert [(e.msgstr, e.flags) for e in lone.entries if not e.obsolete] == [("Notas", ("fuzzy",))]
    # nothing at the edges, not numbered as extraction numbers, a huge or runaway msgid: no candidate
    assert edge_trimmed("Plain <b1>text</b1>") is None and edge_trimmed("<b2>x</b2> y") is None
    assert edge_trimmed("<i" + "9" * 5000 + "/> x") is None
    assert edge_trimmed("".join(f"<i{k}/>" for k in range(1, 20_000)) + " x") is None
    assert edge_trimmed("<i1/> Notes")[1].translate("<i1/>" + " " * 100_000 + "Notas") == ("Notas", True)  # type: ignore[index]


def test_an_edge_carry_over_never_joins_words_across_a_placeholder_it_keeps() -> None:
    """Found by an attacker's review: removing <i1/> from 'Lisez les<i1/><b2>notes</b2>' gave
    'Lisez les<b1>notes</b1>', which a page shows as "Lisez lesnotes": a placeholder has no width."""
    page = ("index.html",)
    cases = [
        ("<i1/> Read the <b2>notes</b2>", "Lisez les<i1/><b2>notes</b2>", "Read the <b1>notes</b1>"),
        ("<b1>Read</b1> the notes <i2/>", "<b1>Lisez</b1><i2/>les notes", "<b1>Read</b1> the notes"),
    ]
    for old_id, old_str, new_id in cases:
        new, _ = merge(po(Entry(old_id, old_str, references=page)), template(Entry(new_id, references=page)))
        entry = next(e for e in new.entries if e.msgid == new_id)
        assert "lesnotes" not in entry.msgstr.replace("<b1>", "").replace("</b1>", "")
        assert "Lisezles" not in entry.msgstr.replace("<b1>", "").replace("</b1>", "")
    # beside a space it is removed, the result fuzzy for the translator to confirm
    new, _ = merge(
        po(Entry("<i1/> Read the <b2>notes</b2>", "Lisez les <i1/><b2>notes</b2>", references=page)),
        template(Entry("Read the <b1>notes</b1>", references=page)),
    )
    assert [(e.msgstr, e.fuzzy) for e in new.entries if not e.obsolete] == [("Lisez les <b1>notes</b1>", True)]


def test_edge_carry_over_work_is_linear_and_only_for_texts_a_new_entry_has(monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by an attacker's review: unwrapping a pair rescanned the rest for its close (quadratic:
    2,000 entries of 199 nested pairs took 32 s), for every old entry, matching or not."""
    import localize.catalogs.lifecycle as lifecycle
    from localize.catalogs.edges import edge_trimmed

    def nested(k: int) -> str:
        pairs = range(2, 201)
        return "<i1/> " + "".join(f"<b{j}>" for j in pairs) + f"w{k}" + "".join(f"</b{j}>" for j in reversed(pairs))

    trims: list[str] = []
    monkeypatch.setattr(lifecycle, "edge_trimmed", lambda msgid: trims.append(msgid) or edge_trimmed(msgid))
    old = po(*(Entry(nested(k), nested(k)) for k in range(50)))
    merge(old, template(Entry("Hello")))
    assert trims == []  # no new entry has their text: none is trimmed
    new, _ = merge(old, template(Entry("w7")))
    assert trims == [nested(7)]
    assert [e.msgstr for e in new.entries if e.msgid == "w7"] == ["w7"]
    # 199 pairs unwrapped, the closes found in one pass
    found = edge_trimmed(nested(7))
    assert found is not None and found[0] == "w7"
    assert len(found[1].unwrapped) == 199 and found[1].dropped == {"i1"}


def test_update_of_a_course_translated_before_the_edge_change_keeps_its_labels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localize.cli import main
    from localize.engine import segments

    course = tmp_path / "course"
    course.mkdir()
    (course / "index.html").write_text(
        '<ul><li><a href="n"><i class="material-icons">notes</i> <span>Lecture Notes</span></a></li></ul>'
        '<h2><a name="privacy"></a>Privacy</h2>',
        encoding="utf-8",
    )
    loc = ["--locales-dir", str(tmp_path / "loc")]

    def before(item: object, page: str) -> bool:  # extraction as it was: only void and invisible dropped
        if isinstance(item, segments.Element):
            return item.tag in segments._DROPPABLE
        if type(item) is segments.Text:
            return not page[item.start : item.end].strip()
        return True

    with monkeypatch.context() as old_engine:
        old_engine.setattr(segments, "_edge_droppable", before)
        assert main(["extract", str(course), "--course", "c", *loc, "-q"]) == 0
        assert main(["init", "--course", "c", "--locale", "es", *loc, "-q"]) == 0
    catalog = tmp_path / "loc" / "es" / "LC_MESSAGES" / "c.po"
    text = catalog.read_text(encoding="utf-8")
    for msgid, translation in (
        ("<i1/> <span2>Lecture Notes</span2>", "<i1/> <span2>Apuntes de clase</span2>"),
        ("<a1></a1>Privacy", "<a1></a1>Privacidad"),
    ):
        assert f'msgid "{msgid}"\nmsgstr ""' in text
        text = text.replace(f'msgid "{msgid}"\nmsgstr ""', f'msgid "{msgid}"\nmsgstr "{translation}"')
    catalog.write_text(text, encoding="utf-8")
    assert main(["update", str(course), "--course", "c", *loc, "-q"]) == 0
    assert (
        main(["build", str(course), "--course", "c", "--locale", "es", *loc, "--out", str(tmp_path / "site"), "-q"])
        == 0
    )
    page = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert '<i class="material-icons">notes</i> <span>Apuntes de clase</span>' in page
    assert '<a name="privacy"></a>Privacidad</h2>' in page
