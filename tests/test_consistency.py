"""Issue 15, points 5 and 6: consistency across courses, and a memory that knows where its
translations come from (provenance, ranking, forbidden terms, delete and obsolete)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from conftest import SAMPLE
from localize.app.catalogs import consistency
from localize.app.memory import edit_memory, list_memory
from localize.catalogs.consistency import INFORMATION, WARNING, source_words
from localize.catalogs.glossary import FORBIDDEN, Glossary, Term
from localize.catalogs.memory import MemoryUnit, TranslationMemory, load_memory, memory_units
from localize.catalogs.po import read_po, write_po
from localize.catalogs.review import record_review
from localize.catalogs.workspace import Workspace
from localize.cli import main
from localize.config import load_config
from localize.engine.extract import extract_course
from localize.engine.pseudo import pseudo_text
from localize.errors import CatalogError, CatalogNotFoundError
from localize.model import Catalog, Entry
from localize.partners.ingest import ingest_bytes
from localize.partners.routing import route
from localize.storage.courses import open_source

COURSE = "intro-course"
HEADERS = (("Language", "es"), ("Content-Type", "text/plain; charset=UTF-8"))


def catalog(*entries: Entry) -> Catalog:
    return Catalog(headers=HEADERS, entries=entries)


def put(ws: Workspace, course: str, *entries: Entry) -> None:
    ws.write(ws.catalog_key(course, "es"), catalog(*entries))


# -- 6: provenance ---------------------------------------------------------------------------


def test_memory_units_carry_course_partner_kit_date_and_review(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path))
    put(
        ws,
        "c1",
        Entry("Syllabus", "Programa"),
        Entry("Calendar", "Calendario", flags=("reviewed",)),
        Entry("Readings", "Lecturas editadas a mano"),
    )
    at = datetime(2024, 5, 1, 12, tzinfo=UTC)
    record_review(
        ws,
        "c1",
        "es",
        partner="lima",
        kit="k1",
        at=at,
        translated=[Entry("Syllabus", "Programa"), Entry("Readings", "Lecturas")],
    )
    record_review(ws, "c1", "es", partner="rev", kit="k2", at=at, signed_off=[Entry("Calendar", "Calendario")])
    units = {u.msgid: u for u in memory_units(ws, "es")}
    assert (units["Syllabus"].origin, units["Syllabus"].partner, units["Syllabus"].kit) == ("c1", "lima", "k1")
    assert units["Syllabus"].at.startswith("2024-05-01") and not units["Syllabus"].reviewed
    assert (units["Calendar"].partner, units["Calendar"].reviewed) == ("rev", True)
    # the catalog no longer holds what lima returned: no partner is claimed
    assert units["Readings"].partner == "" and units["Readings"].kit == ""


def _provenanced_workspace(root: Path) -> Workspace:
    ws = Workspace(str(root))
    put(ws, "c1", Entry("Syllabus", "Programa"), Entry("Calendar", "Calendario", flags=("reviewed",)))
    put(ws, "c2", Entry("Photo", "Foto", msgctxt="attribute"), Entry("Readings", "Lecturas"))
    at = datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)
    record_review(ws, "c1", "es", partner="lima", kit="k1", at=at, translated=[Entry("Syllabus", "Programa")])
    record_review(ws, "c1", "es", partner="rev", kit="k2", at=at, signed_off=[Entry("Calendar", "Calendario")])
    return ws


def _made(units: list[MemoryUnit]) -> dict[str, tuple[object, ...]]:
    return {u.msgid: (u.msgctxt, u.msgstr, u.origin, u.partner, u.kit, u.at, u.reviewed, u.obsolete) for u in units}


@pytest.mark.parametrize("suffix", [".tmx", ".po"])
def test_tm_export_and_import_keep_provenance(suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _provenanced_workspace(tmp_path / "a")
    loc = ["--locale", "es", "--locales-dir", str(tmp_path / "a")]
    assert main(["tm", "obsolete", "--msgid", "Readings", *loc]) == 0
    before = _made(memory_units(ws, "es"))
    assert before["Syllabus"] == (None, "Programa", "c1", "lima", "k1", "2024-05-01T12:30:05+00:00", False, False)
    assert before["Calendar"][3:] == ("rev", "k2", "2024-05-01T12:30:05+00:00", True, False)
    out = tmp_path / f"m{suffix}"
    assert main(["tm", "export", "--out", str(out), "--obsolete", *loc]) == 0
    assert "4 translation units" in capsys.readouterr().out
    data = out.read_text(encoding="utf-8")
    if suffix == ".tmx":
        assert '<tu creationdate="20240501T123005Z" changedate="20240501T123005Z">' in data
        for prop in ("x-origin", "x-partner", "x-kit", "x-reviewed", "x-obsolete"):
            assert f'<prop type="{prop}">' in data
        # what other TMX tools see: valid XML, languages as usual
        from translate.storage import tmx

        assert {u.source for u in tmx.tmxfile.parsestring(out.read_bytes()).units} == set(before)
    else:
        assert "# origin: c1\n# partner: lima\n# kit: k1\n# date: 2024-05-01T12:30:05+00:00\n" in data
        assert "# reviewed\n" in data and "# obsolete\n" in data
    # imported into another workspace, every unit keeps where it came from, as the file's claim
    fresh = tmp_path / "b"
    assert main(["tm", "import", str(out), "--locale", "es", "--locales-dir", str(fresh)]) == 0
    assert "1 of them claim to be reviewed: not counted (see --trust-reviewed)" in capsys.readouterr().err
    units = memory_units(Workspace(str(fresh)), "es")
    assert {u.imported_from for u in units} == {out.name} and all(u.imported_at for u in units)
    claimed = {k: (*v[:6], False, v[7]) for k, v in before.items()}  # the review is only claimed
    assert _made(units) == claimed
    assert [u.msgid for u in units if u.claims_reviewed] == ["Calendar"]
    # the operator who trusts the file (another workspace of theirs) counts its reviews
    trusted = tmp_path / "c"
    argv = ["tm", "import", str(out), "--locale", "es", "--locales-dir", str(trusted), "--trust-reviewed"]
    assert main(argv) == 0
    assert "1 of them claim to be reviewed: counted as reviewed (--trust-reviewed)" in capsys.readouterr().err
    assert _made(memory_units(Workspace(str(trusted)), "es")) == before
    # tm list shows them as imported, with what the file claims
    assert main(["tm", "list", "--locale", "es", "--locales-dir", str(fresh)]) == 0
    listed = capsys.readouterr().out
    day = next(iter(units)).imported_at[:10]
    assert (
        f"imported: c1 (from {out.name} on {day}) (rev, k2, 2024-05-01, claims reviewed): 'Calendar' -> 'Calendario'"
    ) in listed
    # the imported obsolete unit is listed, never offered; the trusted reviewed one is preferred
    memory = load_memory(Workspace(str(trusted)), "es")
    assert (None, "Readings") not in memory.exact and memory.candidates[(None, "Calendar")][0].reviewed
    # without --obsolete, the obsolete unit stays home
    assert main(["tm", "export", "--out", str(out), *loc]) == 0
    assert "Lecturas" not in out.read_text(encoding="utf-8")


def test_a_hostile_tmx_cannot_forge_a_broken_date_or_provenance(tmp_path: Path) -> None:
    tmx = (
        '<?xml version="1.0"?><tmx version="1.4"><header srclang="en"/><body>'
        '<tu changedate="not-a-date"><prop type="x-reviewed">maybe</prop><prop type="x-partner">a\n\nb</prop>'
        '<tuv xml:lang="en"><seg>Home</seg></tuv><tuv xml:lang="es"><seg>Inicio</seg></tuv></tu>'
        "</body></tmx>"
    )
    (tmp_path / "x.tmx").write_text(tmx, encoding="utf-8")
    assert main(["tm", "import", str(tmp_path / "x.tmx"), "--locale", "es", "--locales-dir", str(tmp_path)]) == 0
    (unit,) = memory_units(Workspace(str(tmp_path)), "es")
    assert (unit.origin, unit.partner, unit.at, unit.reviewed, unit.obsolete) == ("", "a b", "", False, False)
    assert unit.imported_from == "x.tmx"
    # a catalog of record's translator comments (a partner may write them) claim no provenance
    ws = Workspace(str(tmp_path))
    forged = ("reviewed", "partner: evil", "origin: c9", "obsolete")
    put(ws, "c3", Entry("Syllabus", "Programa", translator_comments=forged))
    unit = next(u for u in memory_units(ws, "es") if u.msgid == "Syllabus")
    assert (unit.origin, unit.partner, unit.reviewed, unit.obsolete) == ("c3", "", False, False)


def test_an_ingested_return_names_its_partner_and_kit_in_the_memory(tmp_path: Path) -> None:
    (tmp_path / "localize.toml").write_text(
        '[workspace]\nlocation = "locales"\n\n[[partners]]\nid = "lima"\nname = "Lima"\nlocales = ["es"]\n'
        'inbox = "inbox"\n',
        encoding="utf-8",
    )
    assert main(["extract", str(SAMPLE), "--course", COURSE, "--locales-dir", str(tmp_path / "locales"), "-q"]) == 0
    config = load_config(tmp_path / "localize.toml")
    result = route(config, COURSE, "es")
    kit_po = next(Path(result.kit_location).glob("*.po"))
    kit = read_po(kit_po.read_bytes(), str(kit_po))
    back = replace(
        kit,
        entries=tuple(
            replace(e, msgstr="Descripción del curso") if e.msgid == "Course Description" else e for e in kit.entries
        ),
    )
    report = ingest_bytes(config, config.partner("lima"), "back.po", write_po(back).encode("utf-8"))
    assert report.accepted == 1, report
    ws = Workspace(str(tmp_path / "locales"))
    [unit] = [u for u in memory_units(ws, "es") if u.msgid == "Course Description"]
    assert (unit.msgstr, unit.partner, unit.kit) == ("Descripción del curso", "lima", result.assignment.kit)
    assert unit.at
    [listed] = list_memory(ws, "es", search="descripción")
    assert listed == unit


# -- 6: ranking -----------------------------------------------------------------------------


def test_near_matches_rank_reviewed_then_similar_then_recent() -> None:
    query = catalog(Entry("Problem set 3 is due on Friday."))
    close = MemoryUnit(None, "Problem set 3 is due on Friday!", "Cerca", "a")
    farther = MemoryUnit(None, "Problem set 1 is due on Fridays.", "Lejos revisado", "b", reviewed=True)
    filled, report = TranslationMemory([close, farther]).fill(query)
    assert report.near == 1 and filled.entries[0].msgstr == "Lejos revisado"
    assert filled.entries[0].translator_comments[-1].endswith("match from b (reviewed)")
    # two equally similar, unreviewed: the more recent wins (whatever the memory order)
    old = MemoryUnit(None, "Problem set 4 is due on Friday.", "Vieja", "a", at="2023-01-01T00:00:00+00:00")
    new = MemoryUnit(
        None, "Problem set 5 is due on Friday.", "Nueva", "b", partner="lima", at="2024-01-01T00:00:00+00:00"
    )
    for units in ([old, new], [new, old]):
        filled, _ = TranslationMemory(units).fill(query)
        assert filled.entries[0].msgstr == "Nueva"
        assert filled.entries[0].translator_comments[-1].endswith("match from b (lima)")
    # exact: the more recent of two equally common translations
    older = replace(old, msgid="Home", msgstr="Casa")
    newer = replace(new, msgid="Home", msgstr="Inicio")
    assert TranslationMemory([newer, older]).exact[(None, "Home")][0] == "Inicio"
    assert TranslationMemory([older, newer]).exact[(None, "Home")][0] == "Inicio"


# -- 6: forbidden terms ------------------------------------------------------------------------


def test_a_forbidden_translation_is_never_offered() -> None:
    glossary = Glossary("es", (Term("eigenvalue", "valor propio"), Term("eigenvalue", "autovalor", FORBIDDEN)))
    units = [
        MemoryUnit(None, "Find the eigenvalue.", "Halle el autovalor.", "a"),
        MemoryUnit(None, "Find the eigenvalue.", "Halle el autovalor.", "b"),
        MemoryUnit(None, "Find the eigenvalue.", "Halle el valor propio.", "c"),
        MemoryUnit(None, "Find the eigenvalues.", "Halle los autovalores.", "d"),
    ]
    cat = catalog(Entry("Find the eigenvalue."), Entry("Find the eigenvalues!"))
    without = TranslationMemory(units).fill(cat)[0]
    assert without.entries[0].msgstr == "Halle el autovalor."  # the most common, absent a glossary
    filled, report = TranslationMemory(units, glossary=glossary).fill(cat)
    assert filled.entries[0].msgstr == "Halle el valor propio."  # the next candidate
    assert "autovalor" not in filled.entries[1].msgstr and (report.exact, report.near) == (1, 1)
    # only forbidden translations: nothing offered
    only = TranslationMemory([units[0], units[3]], glossary=glossary).fill(cat)
    assert [e.msgstr for e in only[0].entries] == ["", ""] and only[1] == type(only[1])(0, 0)


def test_load_memory_uses_the_glossary_of_the_course_being_filled(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path))
    put(ws, "c1", Entry("Find the eigenvalue.", "Halle el autovalor."))
    (tmp_path / "glossary").mkdir()
    (tmp_path / "glossary.csv").write_text("term,translation,status,note\neigenvalue,autovalor,forbidden,\n")
    assert (
        main(
            [
                "glossary",
                "import",
                str(tmp_path / "glossary.csv"),
                "--locale",
                "es",
                "--locales-dir",
                str(tmp_path),
                "-q",
            ]
        )
        == 0
    )
    memory = load_memory(ws, "es", exclude_course="c2")
    assert memory.fill(catalog(Entry("Find the eigenvalue.")))[1].exact == 0
    assert len(memory) == 1  # still in the memory (listed, exported), only never offered


# -- 6: tm list, delete, obsolete -------------------------------------------------------------


def test_tm_delete_and_obsolete_are_kept_in_the_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace(str(tmp_path))
    put(ws, "c1", Entry("Home", "Casa"), Entry("Syllabus", "Programa"), Entry("Photo", "Foto", msgctxt="attribute"))
    put(ws, "c2", Entry("Home", "Inicio"), Entry("Syllabus", "Temario"))
    loc = ["--locale", "es", "--locales-dir", str(tmp_path)]
    assert main(["tm", "delete", "--msgid", "Home", "--msgstr", "Casa", *loc]) == 0
    assert "1 unit deleted" in capsys.readouterr().out
    assert main(["tm", "obsolete", "--msgid", "Syllabus", *loc]) == 0
    assert "2 units marked obsolete" in capsys.readouterr().out
    assert main(["tm", "delete", "--msgid", "Photo", *loc]) == 2  # the context must match
    assert (
        "no unit of the es memory has this source without a context; see: localize tm list" in capsys.readouterr().err
    )
    assert main(["tm", "delete", "--msgid", "Photo", "--msgctxt", "attribute", *loc]) == 0
    capsys.readouterr()
    rules = json.loads((tmp_path / "memory" / "es.rules.json").read_text())["rules"]
    assert [(r["action"], r["msgid"], r["msgstr"]) for r in rules] == [
        ("delete", "Home", "Casa"),
        ("obsolete", "Syllabus", None),
        ("delete", "Photo", None),
    ]
    # honoured by every load: fill, list, export
    memory = load_memory(ws, "es", exclude_course="c3")
    assert memory.exact == {(None, "Home"): ("Inicio", "c2")}
    filled, report = memory.fill(catalog(Entry("Home"), Entry("Syllabus"), Entry("Photo", msgctxt="attribute")))
    assert [e.msgstr for e in filled.entries] == ["Inicio", "", ""] and report.near == 0
    assert main(["tm", "list", "--json", *loc]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(u["msgid"], u["msgstr"], u["course"], u["obsolete"]) for u in listed] == [
        ("Home", "Inicio", "c2", False),
        ("Syllabus", "Programa", "c1", True),
        ("Syllabus", "Temario", "c2", True),
    ]
    assert main(["tm", "list", *loc]) == 0
    assert "c1 [obsolete]: 'Syllabus' -> 'Programa'" in capsys.readouterr().out
    assert main(["tm", "export", "--out", str(tmp_path / "m.po"), *loc]) == 0
    exported = read_po((tmp_path / "m.po").read_bytes())
    assert [(e.msgid, e.msgstr) for e in exported.entries] == [("Home", "Inicio")]
    # the catalogs of record are untouched
    assert ws.read_catalog("c1", "es").index()[(None, "Home")].msgstr == "Casa"
    # nothing matched: refused, nothing written
    before = (tmp_path / "memory" / "es.rules.json").read_bytes()
    with pytest.raises(CatalogNotFoundError):
        edit_memory(ws, "es", "delete", "Nowhere")
    assert (tmp_path / "memory" / "es.rules.json").read_bytes() == before


def test_damaged_memory_edits_are_an_error_not_an_empty_list(tmp_path: Path) -> None:
    ws = Workspace(str(tmp_path))
    put(ws, "c1", Entry("Home", "Casa"))
    (tmp_path / "memory").mkdir()
    (tmp_path / "memory" / "es.rules.json").write_text('{"rules": [{"action": "erase", "msgid": "Home"}]}')
    with pytest.raises(CatalogError, match="damaged memory edits"):
        load_memory(ws, "es")


# -- 5: consistency ---------------------------------------------------------------------------


def test_source_words_ignore_case_punctuation_placeholders_and_stop_words() -> None:
    assert source_words("Read <a1>the Syllabus</a1>.") == source_words("read syllabus")
    assert source_words("Problem set") != source_words("Homework")


def test_consistency_names_courses_entries_and_partners(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = Workspace(str(tmp_path))
    put(
        ws,
        "c1",
        Entry("Syllabus", "Programa"),
        Entry("Photo", "Foto", msgctxt="attribute"),
        Entry("Homework", "Tarea"),
        Entry("The syllabus.", "Programa"),
    )
    put(ws, "c2", Entry("Syllabus", "Temario"), Entry("Photo", "Imagen"), Entry("Problem set", "Tarea"))
    record_review(
        ws, "c2", "es", partner="lima", kit="k9", at=datetime.now(UTC), translated=[Entry("Syllabus", "Temario")]
    )
    findings = consistency(ws, "es")
    warnings = [f for f in findings if f.severity == WARNING]
    info = [f for f in findings if f.severity == INFORMATION]
    # "Photo" has two contexts: two sources, not an inconsistency
    [w] = warnings
    assert w.courses == ["c1", "c2"] and w.partners == ["lima"]
    assert [(u.course, u.msgid, u.msgstr, u.partner, u.kit) for u in w.uses] == [
        ("c1", "Syllabus", "Programa", "", ""),
        ("c2", "Syllabus", "Temario", "lima", "k9"),
    ]
    # "Tarea" for two sources is information; "Programa" for "Syllabus" and "The syllabus." is not
    [i] = info
    assert i.uses[0].msgstr == "Tarea" and {u.msgid for u in i.uses} == {"Homework", "Problem set"}
    assert main(["consistency", "--locale", "es", "--locales-dir", str(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("warning: 'Syllabus' is translated 2 ways in c1, c2\n")
    assert "  c2 (partner lima, kit k9): 'Syllabus' -> 'Temario'" in out and "information: 'Tarea'" in out
    assert err == "1 warnings, 1 information\n"
    assert main(["consistency", "--locale", "es", "--warnings", "--json", "--locales-dir", str(tmp_path)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["severity"] == "warning" and row["courses"] == ["c1", "c2"] and row["partners"] == ["lima"]
    assert main(["consistency", "--locale", "es", "--course", "c1", "--locales-dir", str(tmp_path), "-q"]) == 0
    assert capsys.readouterr().out == ""


def test_consistency_on_the_corpus_finds_exactly_the_planted_inconsistency(corpus: Path, tmp_path: Path) -> None:
    """Two real courses pseudo-translated (the same source always gets the same text), then one
    shared msgid translated differently in the second: exactly that warning, naming both."""
    first, second = "8.04-quantum-physics-i-spring-2016", "8.05-quantum-physics-ii-fall-2013"
    ws = Workspace(str(tmp_path / "ws"))
    templates = {c: extract_course(open_source(corpus / c), c, jobs=1).catalog for c in (first, second)}
    shared = sorted(
        {e.key for e in templates[first].entries if not e.obsolete and e.msgid_plural is None}
        & {e.key for e in templates[second].entries if e.msgid_plural is None},
        key=lambda k: (k[0] or "", k[1]),
    )
    assert len(shared) > 50
    planted = next(k for k in shared if k[0] is None and len(k[1].split()) > 2)
    for course, template in templates.items():
        entries = []
        for e in template.entries:
            if e.obsolete or e.msgid_plural is not None:
                continue
            text = pseudo_text(e.msgid)
            if course == second and e.key == planted:
                text = "[inconsistent] " + text
            entries.append(replace(e, msgstr=text, flags=()))
        put(ws, course, *entries)
    findings = consistency(ws, "es")
    [warning] = [f for f in findings if f.severity == WARNING]
    assert warning.courses == [first, second]
    assert {(u.course, u.msgid) for u in warning.uses} == {(first, planted[1]), (second, planted[1])}
    assert not [f for f in findings if f.severity == INFORMATION]


def test_an_imported_memory_cannot_carry_what_the_gate_refuses_into_published_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner's TMX fills catalogs that are built without another return: a bidi override
    (Trojan Source), a control character or placeholders that do not match the source are
    refused at import, each listed, and the rest is imported (exit 1, nothing lost)."""
    units = [
        ("Home", "Inicio"),  # fine
        ("Syllabus", "Pro\u202egrama"),  # a bidi override reverses the rest of the page
        ("Readings", "Lec\x07turas"),  # a control character
        ("See <a1>the notes</a1>.", "Vea las notas."),  # the link's placeholder is gone
        ("Exams", "Exámenes <a1>x</a1>"),  # a placeholder the source does not have
    ]
    tmx = tmp_path / "partner.po"  # a compendium .po: unlike XML, it can carry any control character
    tmx.write_text(write_po(catalog(*(Entry(source, target) for source, target in units))), encoding="utf-8")
    ws = tmp_path / "ws"
    code = main(["tm", "import", str(tmx), "--locale", "es", "--locales-dir", str(ws)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == f"1 translation units imported -> {ws}/memory/es.po (1 in all)\n"
    assert "'Syllabus': bidi-controls: bidi override U+202E is not allowed" in err
    assert "'Readings': control-characters: control character U+0007 is not allowed; remove it" in err
    assert "'See <a1>the notes</a1>.': placeholders:" in err
    assert "'Exams': placeholders:" in err
    assert err.endswith(
        "4 units not imported, as the QA gate would refuse them in a return (listed above); the others were imported\n"
    )
    assert [(u.msgid, u.msgstr) for u in memory_units(Workspace(str(ws)), "es")] == [("Home", "Inicio")]
    assert "\x07" not in err and "\u202e" not in err  # the terminal sees them escaped


def test_tm_import_refuses_what_the_projects_qa_settings_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import gate uses the project's [qa] limits (as the gate of a return does), not only
    the defaults: a translation longer than ``max_string_chars`` stays out of the memory."""
    long = "Programa " * 20  # 180 characters: within the default limit, over this project's 100
    compendium = tmp_path / "partner.po"
    compendium.write_text(write_po(catalog(Entry("Home", "Inicio"), Entry("Syllabus", long))), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "localize.toml").write_text('[workspace]\nlocation = "ws"\n\n[qa]\nmax_string_chars = 100\n')
    assert main(["tm", "import", str(compendium), "--locale", "es"]) == 1
    err = capsys.readouterr().err
    assert "'Syllabus': length-limit: the translation has 180 characters" in err, err
    assert "([qa] max_string_chars)" in err
    assert [u.msgid for u in memory_units(Workspace("ws"), "es")] == ["Home"]
    # --config names the project from anywhere; --locales-dir alone reads no configuration (as
    # for every command), so a broken ./localize.toml does not stop it, and the defaults apply
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    argv = ["tm", "import", str(compendium), "--locale", "es", "--locales-dir", "ws3"]
    assert main([*argv, "--config", str(tmp_path / "localize.toml")]) == 1
    assert [u.msgid for u in memory_units(Workspace("ws3"), "es")] == ["Home"]
    (other / "localize.toml").write_text("[qa\nnot toml")
    assert main(["tm", "import", str(compendium), "--locale", "es", "--locales-dir", "ws2"]) == 0
    assert sorted(u.msgid for u in memory_units(Workspace("ws2"), "es")) == ["Home", "Syllabus"]
