"""XLIFF 1.2 kits and returns, review kits, the reviewed flag and regions that require review (issue 14)."""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from lxml import etree

from conftest import SAMPLE, corpus_courses, msgfmt_check
from localize.catalogs.memory import TranslationMemory, load_memory
from localize.catalogs.memory_files import read_memory_file
from localize.catalogs.po import read_po, write_po
from localize.catalogs.review import is_reviewed, review_state, reviewed_only
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import REVIEWED, read_xliff, unit_id, write_xliff
from localize.cli import main
from localize.config import load_config
from localize.model import Catalog
from localize.partners.ingest import ingest_bytes
from localize.partners.routing import route
from localize.storage.courses import open_source

DATA = Path(__file__).resolve().parent / "data" / "xliff"
COURSE, LOCALE = "intro-course", "es"
CONFIG = """\
[workspace]
location = "locales"

[[partners]]
id = "acme"
name = "Acme Translations"
locales = ["es"]
inbox = "inbox"
format = "xliff"

[[partners]]
id = "pol"
name = "Po people"
locales = ["es"]
inbox = "inbox-po"
courses = []

[[partners]]
id = "rev"
name = "Reviewers"
locales = ["es"]
inbox = "inbox-rev"
reviewer = true
courses = []
"""


def schema() -> etree.XMLSchema:
    text = (DATA / "xliff-core-1.2-strict.xsd").read_bytes()
    text = text.replace(b"http://www.w3.org/2001/xml.xsd", (DATA / "xml.xsd").as_uri().encode())
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.fromstring(text, parser, base_url=str(DATA / "x.xsd")))


def valid(data: bytes) -> None:
    s = schema()
    doc = etree.fromstring(data, etree.XMLParser(no_network=True, resolve_entities=False))
    assert s.validate(doc), s.error_log


def fill_with_source(data: bytes) -> bytes:
    """Every <target> of a kit becomes a copy of its <source> (inline codes kept), state translated."""
    root = etree.fromstring(data)
    ns = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
    for tu in root.iterfind(".//x:trans-unit", ns):
        source, target = tu.find("x:source", ns), tu.find("x:target", ns)
        for child in list(target):
            target.remove(child)
        target.text = source.text
        for child in source:
            target.append(copy.deepcopy(child))
        target.set("state", "translated")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def fill_po_with_source(data: bytes) -> bytes:
    catalog = read_po(data)
    entries = tuple(
        e if e.obsolete or e.msgid_plural else replace(e, msgstr=e.msgid, flags=()) for e in catalog.entries
    )
    return write_po(replace(catalog, entries=entries)).encode()


@pytest.fixture
def ws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["extract", str(SAMPLE), "--course", COURSE, "--locales-dir", str(tmp_path / "locales"), "-q"]) == 0
    capsys.readouterr()
    return tmp_path


def kit_file(root: Path, inbox: str, result_location: str, suffix: str) -> Path:
    return next(Path(result_location).glob(f"*{suffix}"))


# -- 1, 2: the kit ---------------------------------------------------------------------------


def test_xliff_kit_validates_and_opens_in_translate_toolkit(ws: Path) -> None:
    config = load_config(ws / "localize.toml")
    result = route(config, COURSE, LOCALE)
    assert result.assignment.format == "xliff"
    xlf = kit_file(ws, "inbox", result.kit_location, ".xlf")
    assert xlf.name == f"{COURSE}.{LOCALE}.xlf"
    data = xlf.read_bytes()
    valid(data)
    root = etree.fromstring(data)
    f = root[0]
    assert (f.get("source-language"), f.get("target-language"), f.get("datatype")) == ("en", "es", "html")
    # the original markup never inside a unit: only <g>/<x> codes
    assert b"href=" not in data and b"<a " not in data
    assert b'<g id="a1" ctype="link">' in data and b'ctype="lb"/>' in data
    assert b'state="needs-translation"' in data and b"Placeholders:" in data
    from translate.storage import factory

    store = factory.getobject(str(xlf))
    units = [u for u in store.units if not u.isheader()]
    template = Workspace(str(ws / "locales")).read_template(COURSE)
    live = [e for e in template.entries if not e.obsolete]
    assert len(units) == len(live)
    ours = read_xliff(data).catalog.entries
    assert [e.msgid for e in ours] == [e.msgid for e in live]
    # translate-toolkit's source text is the msgid without placeholders
    strip = re.compile(r"</?[A-Za-z][A-Za-z-]*\d+/?>")
    assert [u.source for u in units] == [strip.sub("", e.msgid) for e in live]
    # ids are stable: the same kit twice gives the same ids
    assert {u.getid().split("\x04")[-1] for u in units} == {unit_id(e.msgctxt, e.msgid) for e in live}


def test_xliff_kit_carries_the_glossary_and_still_validates(ws: Path) -> None:
    glossary = SAMPLE.parent / "glossary" / "es.csv"
    assert main(["glossary", "import", str(glossary), "--locale", "es", "--locales-dir", str(ws / "locales")]) == 0
    config = load_config(ws / "localize.toml")
    result = route(config, COURSE, LOCALE)
    xlf = kit_file(ws, "inbox", result.kit_location, ".xlf")
    data = xlf.read_bytes()
    valid(data)
    assert (xlf.parent / "glossary.tbx").is_file()
    root = etree.fromstring(data)
    ns = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
    assert root.find("x:file/x:header/x:glossary/x:external-file", ns).get("href") == "glossary.tbx"
    notes = {
        tu.get("resname"): [n.text for n in tu.iterfind("x:note", ns) if n.get("from") == "glossary"]
        for tu in root.iterfind(".//x:trans-unit", ns)
    }
    assert notes["Midterm exam"] == ["midterm exam = examen de mitad de semestre"]
    assert notes["<a1>Problem sets</a1> with solutions"] == [
        "problem set = lista de problemas (not: conjunto de problemas)"
    ]
    assert notes["Course Home"] == []
    # the developer notes (placeholder legends) stay developer notes; no Terms: prefix leaks into them
    assert b"Terms: " not in data and b'from="developer">Placeholders:' in data
    # translate-toolkit still opens it; reading it back keeps no glossary note as a comment
    from translate.storage import factory

    assert len([u for u in factory.getobject(str(xlf)).units if not u.isheader()]) == len(notes)
    entries = read_xliff(data).catalog.entries
    assert not any(c.startswith("Terms: ") or " = " in c for e in entries for c in e.extracted_comments)
    # a filled return goes through the gate as usual
    report = _return(ws, fill_with_source(data))
    assert report.accepted > 0


def test_fuzzy_previous_source_is_an_alt_trans_and_states_map_both_ways() -> None:
    catalog = Catalog(
        headers=(("Language", "es"),),
        entries=(read_po('msgid "Read the <a1>notes</a1>"\nmsgstr "Lea las <a1>notas</a1>"\n').entries[0],),
    )
    e = catalog.entries[0]
    fuzzy = replace(e, flags=("fuzzy",), previous_msgid="Read <a1>notes</a1>")
    reviewed = replace(e, msgid="Hello", msgstr="Hola", flags=(REVIEWED,))
    empty = replace(e, msgid="Bye", msgstr="")
    data = write_xliff(
        replace(catalog, entries=(fuzzy, reviewed, empty)), original="c", source_locale="en", target_locale="es"
    )
    valid(data)
    assert b'state="needs-review-translation"' in data and b'alttranstype="previous-version"' in data
    assert b'state="signed-off"' in data and b'approved="yes"' in data
    back = read_xliff(data)
    assert [x.fuzzy for x in back.catalog.entries] == [True, False, False]
    assert back.catalog.entries[0].previous_msgid == "Read <a1>notes</a1>"
    assert back.signed_off == {(None, "Hello")}
    assert back.catalog.entries[2].msgstr == ""


def test_hostile_xliff_is_refused_without_expanding_anything(tmp_path: Path) -> None:
    from localize.errors import PoSyntaxError

    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><xliff version="1.2" xmlns="urn:oasis:names:tc:xliff:document:1.2"/>'
    with pytest.raises(PoSyntaxError, match="DOCTYPE"):
        read_xliff(bomb)
    ext = b'<?xml version="1.0"?><!DOCTYPE x SYSTEM "http://example.invalid/x.dtd"><xliff/>'
    with pytest.raises(PoSyntaxError):
        read_xliff(ext)
    with pytest.raises(PoSyntaxError, match="not an XLIFF"):
        read_xliff(b"<html/>")


# -- 3: returns through the gate ----------------------------------------------------------------


def _return(ws: Path, data: bytes, name: str = "back.xlf", partner: str = "acme"):  # type: ignore[no-untyped-def]
    config = load_config(ws / "localize.toml")
    return ingest_bytes(config, config.partner(partner), name, data)


def _target(data: bytes, msgid_start: str, target_xml: str, state: str = "translated") -> bytes:
    """Replace the <target> of the unit whose resname starts with ``msgid_start``."""
    root = etree.fromstring(data)
    ns = {"x": "urn:oasis:names:tc:xliff:document:1.2"}
    for tu in root.iterfind(".//x:trans-unit", ns):
        if tu.get("resname", "").startswith(msgid_start):
            old = tu.find("x:target", ns)
            new = etree.fromstring(
                f'<target xmlns="urn:oasis:names:tc:xliff:document:1.2" state="{state}">{target_xml}</target>'
            )
            tu.replace(old, new)
            return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    raise AssertionError(msgid_start)


def test_xliff_return_reordered_codes_pass_illegal_ones_are_rejected_per_unit(ws: Path) -> None:
    config = load_config(ws / "localize.toml")
    xlf = kit_file(ws, "inbox", route(config, COURSE, LOCALE).kit_location, ".xlf")
    data = xlf.read_bytes()
    two_links = "Students should be comfortable"
    ok = '<g id="a2" ctype="link">El calendario</g> y el <g id="a1" ctype="link">programa</g>: cálculo y complejos.'
    data = _target(data, two_links, ok)
    data = _target(data, "Check the <a1>", 'Vea el <g id="a1" ctype="link">calendario</g> <g id="a1">x</g>')
    data = _target(data, "Then read the", "Luego lea el programa")  # dropped
    data = _target(data, "Download: ", 'Descarga: <g id="a9">Figura</g> <g id="a1">1</g>')  # unknown id
    data = _target(data, "Instructor: Prof.", 'Profesor<x id="br1">otoño</x>')  # content in a void code
    report = _return(ws, data)
    errors = {(p.check, p.message.split(":")[0]) for p in report.problems if p.severity == "error"}
    by_unit = {p.message for p in report.problems if p.check == "inline-codes"}
    assert any("duplicated" in m for m in by_unit)
    assert any("dropped" in m for m in by_unit)
    assert any("unknown id" in m for m in by_unit)
    assert any("illegal nesting" in m for m in by_unit)
    assert all(m.startswith("unit u") for m in by_unit), by_unit
    # each fault is reported once: not again as a placeholder problem of the same entry
    faulty = {p.key for p in report.problems if p.check == "inline-codes"}
    assert not [p for p in report.problems if p.check == "placeholders" and p.key in faulty]
    assert errors
    assert report.state == "partially accepted" and report.accepted == 1
    catalog = Workspace(str(ws / "locales")).read_catalog(COURSE, LOCALE)
    translated = {e.msgid: e.msgstr for e in catalog.entries if e.translated}
    assert list(translated) == [next(k for k in translated if k.startswith(two_links))]
    assert translated[next(iter(translated))].startswith("<a2>El calendario</a2> y el <a1>programa</a1>")


def test_a_link_nested_in_a_link_is_illegal_a_swap_is_not() -> None:
    entry = read_po('msgid "See <a1>A</a1> and <a2>B</a2>"\nmsgstr ""\n').entries[0]
    data = write_xliff(Catalog(entries=(entry,)), original="c", source_locale="en", target_locale="es")
    swapped = _target(data, "See", 'Vea <g id="a2">B</g> y <g id="a1">A</g>')
    assert not read_xliff(swapped).problems
    assert read_xliff(swapped).catalog.entries[0].msgstr == "Vea <a2>B</a2> y <a1>A</a1>"
    nested = _target(data, "See", 'Vea <g id="a1">A y <g id="a2">B</g></g>')
    (problem,) = read_xliff(nested).problems
    assert "illegal nesting" in problem.message and problem.unit == unit_id(None, entry.msgid)
    typed = _target(data, "See", "Vea &lt;a1&gt;A&lt;/a1&gt; y <g id='a2'>B</g>")
    assert any("typed as text" in p.message for p in read_xliff(typed).problems)


def test_signed_off_counts_only_in_a_reviewers_return_of_a_review_kit(ws: Path) -> None:
    config = load_config(ws / "localize.toml")
    xlf = kit_file(ws, "inbox", route(config, COURSE, LOCALE).kit_location, ".xlf")
    data = _target(xlf.read_bytes(), "Then read the", 'Luego lea el <g id="a1">programa</g>', state="signed-off")
    report = _return(ws, data)
    assert report.accepted == 1 and report.reviewed == 0
    assert any(p.check == "review" for p in report.problems)
    workspace = Workspace(str(ws / "locales"))
    entry = next(e for e in workspace.read_catalog(COURSE, LOCALE).entries if e.msgid.startswith("Then read"))
    assert entry.translated and not is_reviewed(entry)
    # the review kit: only that entry, to the reviewer, with an HTML summary
    review = route(config, COURSE, LOCALE, partner_id="rev", review=True, fmt="xliff")
    assert review.assignment.kind == "review" and review.assignment.entries == 1
    folder = Path(review.kit_location)
    assert (folder / "changes.html").is_file() and "Luego lea" in (folder / "changes.html").read_text()
    kit = (folder / f"{COURSE}.{LOCALE}.xlf").read_bytes()
    valid(kit)
    signed = _target(kit, "Then read the", 'Luego lea el <g id="a1">programa</g>', state="signed-off")
    report = _return(ws, signed, partner="rev")
    assert report.reviewed == 1, report
    entry = next(e for e in workspace.read_catalog(COURSE, LOCALE).entries if e.msgid.startswith("Then read"))
    assert is_reviewed(entry)
    state = review_state(workspace, workspace.read_catalog(COURSE, LOCALE), COURSE, LOCALE)
    assert (state.reviewed, state.unreviewed) == (1, 0)
    ledger = (ws / "locales" / "reviews" / COURSE / f"{LOCALE}.json").read_text()
    assert '"partner": "rev"' in ledger and review.assignment.kit in ledger
    # the flag is one msgfmt -c accepts and survives update
    path = ws / "locales" / LOCALE / "LC_MESSAGES" / f"{COURSE}.po"
    assert "#, reviewed" in path.read_text() and msgfmt_check(path).returncode == 0
    assert main(["update", str(SAMPLE), "--course", COURSE, "--locales-dir", str(ws / "locales"), "-q"]) in (0, 1)
    entry = next(e for e in workspace.read_catalog(COURSE, LOCALE).entries if e.msgid.startswith("Then read"))
    assert is_reviewed(entry)
    # a new translation of a reviewed entry is unreviewed again; the next review kit shows the old one
    xlf2 = kit_file(ws, "inbox", route(config, COURSE, LOCALE, fmt="xliff").kit_location, ".xlf")
    changed = _target(xlf2.read_bytes(), "Then read the", 'Después lea el <g id="a1">programa</g>')
    assert _return(ws, changed, name="again.xlf").accepted == 1
    entry = next(e for e in workspace.read_catalog(COURSE, LOCALE).entries if e.msgid.startswith("Then read"))
    assert entry.translated and not is_reviewed(entry)
    po_review = route(config, COURSE, LOCALE, partner_id="rev", review=True, fmt="po")
    # its README asks for a review, in the kit's own format (it said "to translate" and listed
    # words by match band, all 0, and told a .po reviewer about .xlf states)
    readme = (Path(po_review.kit_location) / "README.txt").read_text()
    assert 'for you to\nreview in Spanish (see "This is a review kit" below).' in readme
    assert "  1 translation to review\n" in readme and "new text" not in readme
    assert "remove the mark from each one you approve" in readme and "signed-off" not in readme
    xlf_readme = (Path(review.kit_location) / "README.txt").read_text()
    assert "signed-off" in xlf_readme and "fuzzy" not in xlf_readme.split("This is a review kit")[1]
    text = (Path(po_review.kit_location) / f"{COURSE}.{LOCALE}.po").read_text()
    assert "# previously accepted: Luego lea el <a1>programa</a1>" in text and "#, fuzzy" in text
    # PO review: the reviewer approves by clearing the fuzzy mark
    approved = text.replace("#, fuzzy\n", "")
    assert _return(ws, approved.encode(), name="rev.po", partner="rev").reviewed == 1


def test_memory_prefers_reviewed_candidates_and_reads_writes_xliff(ws: Path, tmp_path: Path) -> None:
    from localize.catalogs.memory import MemoryUnit

    memory = TranslationMemory(
        [
            MemoryUnit(None, "Hello", "Hola", "a"),
            MemoryUnit(None, "Hello", "Hola", "b"),
            MemoryUnit(None, "Hello", "Buenas", "c", reviewed=True),
        ]
    )
    assert memory.exact[(None, "Hello")][0] == "Buenas"
    # tm export/import in XLIFF
    workspace = Workspace(str(ws / "locales"))
    workspace.write(
        workspace.memory_key("es"),
        read_po('msgid ""\nmsgstr "Language: es\\n"\n\nmsgid "A <b1>x</b1>"\nmsgstr "Una <b1>x</b1>"\n'),
    )
    out = tmp_path / "tm.xlf"
    assert main(["tm", "export", "--locale", "es", "--out", str(out), "--locales-dir", str(ws / "locales")]) == 0
    valid(out.read_bytes())
    units = read_memory_file(out.read_bytes(), str(out), "es")
    assert [(u.msgid, u.msgstr) for u in units] == [("A <b1>x</b1>", "Una <b1>x</b1>")]
    other = tmp_path / "other"
    assert main(["tm", "import", str(out), "--locale", "es", "--locales-dir", str(other)]) == 0
    assert len(load_memory(Workspace(str(other)), "es")) == 1


# -- 8: a region that requires review ----------------------------------------------------------


def test_reviewed_only_keeps_unreviewed_translations_out() -> None:
    catalog = read_po(
        'msgid ""\nmsgstr "Language: es\\n"\n\n#, reviewed\nmsgid "A"\nmsgstr "Ah"\n\nmsgid "B"\nmsgstr "Be"\n'
    )
    only = {e.msgid: e.msgstr for e in reviewed_only(catalog).entries}
    assert only == {"A": "Ah", "B": ""}


def test_region_requiring_review_never_publishes_an_unreviewed_entry(ws: Path) -> None:
    from localize.regions.bundle import make_bundle

    workspace = Workspace(str(ws / "locales"))
    template = workspace.read_template(COURSE)
    reviewed_text, unreviewed_text = "REVISADO-OK", "SIN-REVISAR"
    entries = []
    for i, e in enumerate(x for x in template.entries if not x.obsolete and "<" not in x.msgid):
        if i == 0:
            entries.append(replace(e, msgstr=reviewed_text, flags=(REVIEWED,)))
        else:
            entries.append(replace(e, msgstr=unreviewed_text))
    catalog = replace(template, entries=tuple(entries))
    src = open_source(str(SAMPLE))
    strict = make_bundle(src, catalog, "es", require_review=True)
    loose = make_bundle(src, catalog, "es")
    strict_text = b"".join(strict.read(path) for path in strict.files)
    assert reviewed_text.encode() in strict_text and unreviewed_text.encode() not in strict_text
    assert unreviewed_text.encode() in b"".join(loose.read(path) for path in loose.files)


# -- 5: the corpus round trip ---------------------------------------------------------------------


@pytest.mark.parametrize("course_dir", corpus_courses(), ids=lambda p: p.name)
def test_corpus_round_trip_xliff_equals_po(course_dir: Path, tmp_path: Path, corpus: Path) -> None:
    from translate.storage import factory

    results = {}
    for fmt in ("po", "xliff"):
        root = tmp_path / fmt
        root.mkdir()
        (root / "localize.toml").write_text(CONFIG.replace('format = "xliff"', f'format = "{fmt}"'), encoding="utf-8")
        locales = root / "locales"
        assert main(["extract", str(course_dir), "--course", course_dir.name, "--locales-dir", str(locales), "-q"]) == 0
        config = load_config(root / "localize.toml")
        result = route(config, course_dir.name, LOCALE)
        suffix = ".xlf" if fmt == "xliff" else ".po"
        kit = next(Path(result.kit_location).glob(f"*{suffix}"))
        data = kit.read_bytes()
        if fmt == "xliff":
            valid(data)
            store = factory.getobject(str(kit))
            units = [u for u in store.units if not u.isheader()]
            template = Workspace(str(locales)).read_template(course_dir.name)
            live = [e for e in template.entries if not e.obsolete and e.msgid_plural is None]
            assert len(units) == len(live)
            strip = re.compile(r"</?[A-Za-z][A-Za-z-]*\d+/?>")
            assert [u.source for u in units] == [strip.sub("", e.msgid) for e in live]
            filled = fill_with_source(data)
        else:
            filled = fill_po_with_source(data)
        report = ingest_bytes(config, config.partner("acme"), kit.name, filled)
        assert report.rejected == 0, [str(p) for p in report.problems if p.severity == "error"][:5]
        results[fmt] = Workspace(str(locales)).read_catalog(course_dir.name, LOCALE)
    po, xliff = results["po"].entries, results["xliff"].entries
    assert len(po) == len(xliff)
    for a, b in zip(po, xliff, strict=True):
        assert (a.msgctxt, a.msgid, a.msgstr, a.flags, a.obsolete) == (
            b.msgctxt,
            b.msgid,
            b.msgstr,
            b.flags,
            b.obsolete,
        )


def test_route_cli_takes_format_and_review(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "route",
            "--course",
            COURSE,
            "--locale",
            LOCALE,
            "--partner",
            "pol",
            "--format",
            "xliff",
            "--config",
            str(ws / "localize.toml"),
        ]
    )
    assert code == 0 and ".xlf" not in capsys.readouterr().err
    assert list((ws / "inbox-po" / "kits").rglob("*.xlf"))
    code = main(
        [
            "route",
            "--course",
            COURSE,
            "--locale",
            LOCALE,
            "--review",
            "--partner",
            "rev",
            "--config",
            str(ws / "localize.toml"),
        ]
    )
    assert code == 2  # nothing translated yet: nothing to review
    assert "nothing to review" in capsys.readouterr().err


def test_translate_toolkit_reads_the_schema_test_data_offline() -> None:
    # the schema loads without network access (the import points at the local xml.xsd)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.path.insert(0, sys.argv[1]); import test_xliff; test_xliff.schema()",
            str(Path(__file__).parent),
        ],
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "no_proxy": "",
            "http_proxy": "http://127.0.0.1:9",
            "PYTHONPATH": ":".join(sys.path),
        },
    )
    assert out.returncode == 0, out.stderr


def test_copied_source_targets_validate_and_read_back_as_untranslated() -> None:
    """``xliff_targets = "source"`` (for OmegaT 3.x): untranslated targets hold the source, and
    a target still equal to its source in state needs-translation is not a translation."""
    entries = read_po('msgid "See <a1>A</a1><br2/>"\nmsgstr ""\n\nmsgid "Done"\nmsgstr "Hecho"\n').entries
    data = write_xliff(Catalog(entries=entries), original="c", source_locale="en", target_locale="es", copy_source=True)
    valid(data)
    assert b'state="needs-translation">See <g id="a1" ctype="link">A</g><x id="br2" ctype="lb"/></target>' in data
    back = read_xliff(data)
    assert not back.problems
    assert [e.msgstr for e in back.catalog.entries] == ["", "Hecho"]
    translated = _target(data, "See", 'Vea <g id="a1">A</g><x id="br2"/>', state="needs-translation")
    assert read_xliff(translated).catalog.entries[0].msgstr == "Vea <a1>A</a1><br2/>"


def test_the_xliff_kits_own_instructions_work(ws: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The kit's README told an XLIFF translator to run `localize check FILE.xlf`, which failed
    with a PO syntax error, and explained msgid, msgstr and the fuzzy mark; `preview` built
    nothing translated from an .xlf."""
    config = load_config(ws / "localize.toml")
    xlf = kit_file(ws, "inbox", route(config, COURSE, LOCALE).kit_location, ".xlf")
    readme = (xlf.parent / "README.txt").read_text(encoding="utf-8")
    assert f"localize check {xlf.name} --locale {LOCALE}" in readme
    assert "msgid" not in readme and "msgstr" not in readme and "fuzzy" not in readme
    assert "your translation is its target" in readme
    # the file list says what opens it (a newcomer's XLIFF kit said "Poedit, Weblate, or a text editor")
    assert f"  {xlf.name}   the file to translate (open it in your translation tool: memoQ, Trados" in readme
    assert "Poedit, Weblate, or a text editor" not in readme
    data = _target(xlf.read_bytes(), "Check the <a1>", 'Vea el <g id="a1" ctype="link">calendario</g> <g id="a1">x</g>')
    data = _target(data, "Course Description", "Descripción del curso")
    filled = xlf.parent / "filled.xlf"
    filled.write_bytes(data)
    assert main(["check", str(filled), "--locale", LOCALE]) == 1
    out, err = capsys.readouterr()
    assert "error: inline-codes: unit u" in out and "duplicated" in out and "syntax" not in out, out
    assert "placeholders" not in out, out  # the same fault, once
    assert err.endswith(" warnings\n") and not err.startswith("0 errors"), err  # sum printed on stderr
    assert main(["preview", str(filled), str(SAMPLE), "--course", COURSE, "--out", str(ws / "pv")]) == 0
    assert capsys.readouterr().out.startswith("8 pages (es) -> ")
    assert "Descripción del curso" in (ws / "pv" / "index.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("target", "verdict"), [("zh-TW", "rejected"), ("fr", "rejected"), ("es-ES", "accepted"), ("es", "accepted")]
)
def test_the_target_language_a_cat_tool_translated_into_is_checked(ws: Path, target: str, verdict: str) -> None:
    """A memoQ, Trados or OmegaT project set up in another language passed: only our header note's
    Language was checked, and no CAT tool edits it."""
    config = load_config(ws / "localize.toml")
    result = route(config, COURSE, LOCALE)
    data = fill_with_source(kit_file(ws, "inbox", result.kit_location, ".xlf").read_bytes())
    data = data.replace(b'target-language="es"', f'target-language="{target}"'.encode())
    report = _return(ws, data)
    assert report.state == verdict
    checks = {p.check for p in report.problems}
    assert "header-language" in checks or target == "es"


def test_the_kit_readme_sends_an_omegat_translator_to_a_kit_omegat_can_open(ws: Path) -> None:
    """The README of a kit with empty targets said "open it in OmegaT", which shows it nothing to translate."""
    config = load_config(ws / "localize.toml")
    readme = (Path(route(config, COURSE, LOCALE).kit_location) / "README.txt").read_text()
    assert "(open it in your translation tool: memoQ, Trados...; for OmegaT, ask your coordinator for a kit" in readme
    assert "open it in your translation tool: OmegaT" not in readme


def test_a_link_the_source_nests_in_another_may_stay_nested_as_in_a_po_return() -> None:
    """A page's own broken markup nests two links: the XLIFF reader keeps that structure, as the PO
    gate does, and refuses any other nesting."""
    entry = read_po('msgid "Read <a1>the <a2>notes</a2> now</a1> or <a3>the forum</a3>"\nmsgstr ""\n').entries[0]
    data = write_xliff(Catalog(entries=(entry,)), original="c", source_locale="en", target_locale="es")
    kept = _target(data, "Read", 'Lea <g id="a1">las <g id="a2">notas</g> ahora</g> o <g id="a3">el foro</g>')
    assert not read_xliff(kept).problems
    assert read_xliff(kept).catalog.entries[0].msgstr == "Lea <a1>las <a2>notas</a2> ahora</a1> o <a3>el foro</a3>"
    other = _target(data, "Read", 'Lea <g id="a3">el foro <g id="a1">las <g id="a2">notas</g></g></g>')
    (problem,) = read_xliff(other).problems
    assert "'a1' (a link) is nested inside another link (illegal nesting)" in problem.message
