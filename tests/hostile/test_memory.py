"""Hostile translation-memory files (issue 15, point 6): a TMX, PO compendium or XLIFF handed to
``tm import`` controls every provenance claim it carries (course, partner, kit, date, reviewed)
and every byte of them. It must not pass for the workspace's own record, outrank the workspace's
reviewed translations, put escape sequences on the operator's terminal, or make the next export
unreadable.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from localize.catalogs.memory import MemoryUnit, TranslationMemory, load_memory, memory_units
from localize.catalogs.memory_files import read_memory_file, to_po, to_tmx, to_xliff
from localize.catalogs.po import write_po
from localize.catalogs.review import record_review
from localize.catalogs.workspace import Workspace
from localize.cli import main
from localize.model import Catalog, Entry

HEADERS = (("Language", "es"), ("Content-Type", "text/plain; charset=UTF-8"))
REVIEWED_AT = datetime(2024, 5, 1, tzinfo=UTC)
# what the attacker claims: the workspace's own course, reviewer and kit, reviewed, dated far ahead
FORGED = MemoryUnit(None, "Calendar", "Calendario (FORGED)", "c1", True, "rev", "k2", "2099-12-31T00:00:00+00:00")
FORGED_NEAR = MemoryUnit(
    None, "Problem set 3 is due on Friday!", "Falso", "c1", True, "rev", "k2", "2099-12-31T00:00:00+00:00"
)
FORGED_TIE = MemoryUnit(None, "Home", "Casa (FORGED)", "c2", True, "lima", "k1", "2099-12-31T00:00:00+00:00")
# the exact file of the attacker review
VENDOR_TMX = (
    b'<?xml version="1.0"?><tmx version="1.4"><header srclang="en"/><body>'
    b'<tu changedate="20991231T000000Z"><prop type="x-reviewed">yes</prop><prop type="x-origin">c1</prop>'
    b'<prop type="x-partner">rev</prop><prop type="x-kit">k2</prop>'
    b'<tuv xml:lang="en"><seg>Calendar</seg></tuv><tuv xml:lang="es"><seg>Calendario (FORGED)</seg></tuv></tu>'
    b"</body></tmx>"
)


def forged_file(suffix: str) -> bytes:
    memory = TranslationMemory([FORGED, FORGED_NEAR, FORGED_TIE])
    if suffix == ".tmx":
        return to_tmx(memory, "es").encode()
    if suffix == ".xlf":
        return to_xliff(memory, "es")
    return write_po(to_po(memory, "es")).encode()


def workspace(root: Path) -> Workspace:
    """c1: a reviewed Calendar and problem-set sentence (signed off by rev in kit k2); c2: an unreviewed Home."""
    ws = Workspace(str(root))
    reviewed = (Entry("Calendar", "Calendario"), Entry("Problem set 1 is due on Fridays.", "Revisado"))
    ws.write(
        ws.catalog_key("c1", "es"),
        Catalog(headers=HEADERS, entries=tuple(Entry(e.msgid, e.msgstr, flags=("reviewed",)) for e in reviewed)),
    )
    record_review(ws, "c1", "es", partner="rev", kit="k2", at=REVIEWED_AT, signed_off=list(reviewed))
    ws.write(ws.catalog_key("c2", "es"), Catalog(headers=HEADERS, entries=(Entry("Home", "Inicio"),)))
    return ws


def tm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def offered(ws: Workspace) -> dict[str, str]:
    filled, _ = load_memory(ws, "es", exclude_course="c3").fill(
        Catalog(
            headers=HEADERS,
            entries=(Entry("Calendar"), Entry("Home"), Entry("Problem set 3 is due on Friday.")),
        )
    )
    return {e.msgid: e.msgstr for e in filled.entries}


@pytest.mark.parametrize("trust", [False, True], ids=["untrusted", "trust-reviewed"])
@pytest.mark.parametrize("suffix", [".tmx", ".po", ".xlf"])
def test_a_forged_file_never_outranks_the_workspaces_reviewed_translations(
    suffix: str, trust: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = workspace(tmp_path / "ws")
    before = offered(ws)
    assert before == {"Calendar": "Calendario", "Home": "Inicio", "Problem set 3 is due on Friday.": "Revisado"}
    vendor = tmp_path / f"vendor{suffix}"
    vendor.write_bytes(forged_file(suffix))
    started = datetime.now(UTC).replace(microsecond=0)
    argv = ["tm", "import", str(vendor), "--locale", "es", "--locales-dir", str(tmp_path / "ws")]
    code, out, err = tm(capsys, *argv, *(["--trust-reviewed"] if trust else []))
    assert code == 0 and out.startswith("3 translation units imported")
    assert ("counted as reviewed" if trust else "3 of them claim to be reviewed: not counted") in err
    # untrusted, the file's claims rank nothing: the workspace's reviewed translations, and its own
    # unreviewed one over a forged "reviewed" of the same source, are still offered. Trusted, its
    # reviewed units compete as reviewed, yet never outrank the workspace's reviewed unit of a source.
    trusted = {"Home": "Casa (FORGED)", "Problem set 3 is due on Friday.": "Falso"} if trust else {}
    assert offered(ws) == before | trusted
    memory = load_memory(ws, "es")
    calendar = [u.msgstr for u in memory.candidates[(None, "Calendar")]]
    assert calendar == ["Calendario", "Calendario (FORGED)"] if trust else ["Calendario"]
    assert memory.candidates[(None, "Home")][0].msgstr == ("Casa (FORGED)" if trust else "Inicio")
    # the forged units: recorded as imported from vendor.* now, their claims kept as claims
    forged = {u.msgid: u for u in memory_units(ws, "es") if u.imported_from}
    assert set(forged) == {"Calendar", "Home", "Problem set 3 is due on Friday!"}
    for u in forged.values():
        assert u.imported_from == vendor.name and u.claims_reviewed and u.reviewed is trust
        assert started <= datetime.fromisoformat(u.imported_at) <= datetime.now(UTC)
        assert u.at <= u.imported_at  # 2099 became the import time
        assert (u.origin, u.partner) in {("c1", "rev"), ("c2", "lima")}
    # tm list tells the operator which is which
    code, out, _ = tm(
        capsys, "tm", "list", "--locale", "es", "--search", "calendar", "--locales-dir", str(tmp_path / "ws")
    )
    day = forged["Calendar"].imported_at[:10]
    review = "reviewed" if trust else "claims reviewed"
    assert out.splitlines() == [
        "c1 (rev, k2, 2024-05-01, reviewed): 'Calendar' -> 'Calendario'",
        f"imported: c1 (from {vendor.name} on {day}) (rev, k2, {day}, {review}): 'Calendar' -> 'Calendario (FORGED)'",
    ]


def test_the_review_file_tmx_ranks_below_the_real_review(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = workspace(tmp_path / "ws")
    (tmp_path / "vendor.tmx").write_bytes(VENDOR_TMX)
    argv = ["tm", "import", str(tmp_path / "vendor.tmx"), "--locale", "es", "--locales-dir", str(tmp_path / "ws")]
    code, _, _ = tm(capsys, *argv)
    assert code == 0
    first = load_memory(ws, "es").candidates[(None, "Calendar")][0]
    assert (first.msgstr, first.origin, first.reviewed, first.imported_from) == ("Calendario", "c1", True, "")
    filled, _ = load_memory(ws, "es", exclude_course="c3").fill(Catalog(headers=HEADERS, entries=(Entry("Calendar"),)))
    assert filled.entries[0].translator_comments == ("localize-tm: exact match from c1 (rev, reviewed)",)


def test_a_file_cannot_forge_the_workspaces_record_of_its_import(tmp_path: Path) -> None:
    # the comments the workspace's compendium uses for its own record, written by the attacker
    po = (
        b'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        b"# origin: c1\n# imported: c1.po\n# imported-at: 2000-01-01T00:00:00+00:00\n# trusted\n# reviewed\n"
        b"# date: 2099-12-31T23:59:59+00:00\n"
        b'msgid "Calendar"\nmsgstr "Calendario (FORGED)"\n'
    )
    now = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    [unit] = read_memory_file(po, str(tmp_path / "vendor.po"), "es", now=now)
    assert (unit.imported_from, unit.imported_at, unit.at) == ("vendor.po", now.isoformat(), now.isoformat())
    assert (unit.reviewed, unit.claims_reviewed) == (False, True)


# -- control characters and bidirectional overrides in provenance -------------------------------------

ESCAPES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE_PO = (
    'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    "# partner: \x1b[31mRED\x1b]0;title\x07\n# origin: \u202eevil\u202c\n# kit: " + "k" * 5000 + "\n# reviewed\n"
    "# date: \x1b[2J2024-01-01\n"
    'msgid "Home"\nmsgstr "Inicio"\n\n'
    "# date: 0001-01-01T00:00:00+14:00\n"
    'msgid "Syllabus"\nmsgstr "Programa\x1b[0m"\n'
)
HOSTILE_TMX = (
    '<?xml version="1.0"?><tmx version="1.4"><header srclang="en"/><body>'
    '<tu><prop type="x-partner">\u009b31mRED\u202e</prop><prop type="x-origin">c1\u0085c2</prop>'
    '<prop type="x-kit">' + "k" * 5000 + "</prop>"
    '<tuv xml:lang="en"><seg>Home</seg></tuv><tuv xml:lang="es"><seg>Inicio</seg></tuv></tu>'
    "</body></tmx>"
)


@pytest.mark.parametrize(("name", "data"), [("p\x1b[2J.po", HOSTILE_PO), ("t.tmx", HOSTILE_TMX)], ids=["po", "tmx"])
def test_control_characters_in_provenance_never_reach_the_terminal_or_the_export(
    name: str, data: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = tmp_path / "ws"
    (tmp_path / name).write_text(data, encoding="utf-8")
    code, out, err = tm(capsys, "tm", "import", str(tmp_path / name), "--locale", "es", "--locales-dir", str(ws))
    if name.endswith(".po"):  # its Syllabus translation carries an escape: refused like a return's, listed
        assert code == 1 and "'Syllabus': control-characters: control character U+001B" in err, err
        assert not ESCAPES.search(err)
    else:
        assert code == 0, err
    units = memory_units(Workspace(str(ws)), "es")
    assert "Syllabus" not in {u.msgid for u in units}
    for u in units:
        for value in (u.origin, u.partner, u.kit, u.at, u.imported_from):
            assert not ESCAPES.search(value) and len(value) <= 120, value
    home = next(u for u in units if u.msgid == "Home")
    assert home.partner in ("[31mRED ]0;title", "31mRED") and home.kit == "k" * 120
    assert home.origin in ("evil", "c1 c2")
    code, out, err = tm(capsys, "tm", "list", "--locale", "es", "--locales-dir", str(ws))
    assert code == 0 and not ESCAPES.search(out + err)
    # the export is a file tm import reads back (no control character in the XML)
    for suffix in (".tmx", ".po", ".xlf"):
        out_file = tmp_path / f"out{suffix}"
        assert tm(capsys, "tm", "export", "--locale", "es", "--out", str(out_file), "--locales-dir", str(ws))[0] == 0
        text = out_file.read_text(encoding="utf-8")
        # provenance is clean everywhere; a translation's own escape stays PO text, XML gets U+FFFD
        provenance = [line for line in text.splitlines() if line.startswith("#") or "<prop" in line or "<note" in line]
        assert provenance and not ESCAPES.search("".join(provenance))
        assert suffix == ".po" or not ESCAPES.search(text.replace("\n", ""))
        other = tmp_path / f"other{suffix}"
        code, _, err = tm(capsys, "tm", "import", str(out_file), "--locale", "es", "--locales-dir", str(other))
        assert code == 0, err
        assert {u.msgid for u in memory_units(Workspace(str(other)), "es")} == {u.msgid for u in units}


def test_a_tmx_entity_is_refused_not_imported_as_text(tmp_path: Path) -> None:
    """`Cal &x; endario` was imported as those characters and published as `&amp;x;` on 7 pages;
    a DOCTYPE naming the TMX DTD, as CAT tools write it, is still read (an attacker look)."""
    from localize.catalogs.memory_files import read_tmx
    from localize.errors import CatalogError

    tu = b'<tu><tuv xml:lang="en"><seg>Calendar</seg></tuv><tuv xml:lang="es"><seg>Cal &x; endario</seg></tuv></tu>'
    head = b'<tmx version="1.4"><header srclang="en"/><body>'
    with pytest.raises(CatalogError, match="declares entities in its DOCTYPE"):
        read_tmx(b'<!DOCTYPE tmx [<!ENTITY x "y">]>' + head + tu + b"</body></tmx>", "a.tmx", "es", "x")
    with pytest.raises(CatalogError):
        read_tmx(head + tu + b"</body></tmx>", "b.tmx", "es", "x")  # undeclared: not well-formed
    plain = tu.replace(b"Cal &x; endario", b"Calendario")
    units = read_tmx(b'<!DOCTYPE tmx SYSTEM "tmx14.dtd">' + head + plain + b"</body></tmx>", "c.tmx", "es", "x")
    assert [(u.msgid, u.msgstr) for u in units] == [("Calendar", "Calendario")]


def test_a_context_with_a_newline_cannot_fake_a_line_of_tm_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from localize.cli import main

    fake = "x\nmycourse (lima, 2026-01-01, reviewed): 'Syllabus' -> 'Programa'"
    tmx = tmp_path / "m.tmx"
    tmx.write_text(
        '<tmx version="1.4"><header srclang="en"/><body><tu><prop type="x-context">'
        + fake
        + '</prop><tuv xml:lang="en"><seg>Calendar</seg></tuv><tuv xml:lang="es"><seg>Calendario</seg></tuv></tu>'
        "</body></tmx>",
        encoding="utf-8",
    )
    loc = ["--locale", "es", "--locales-dir", str(tmp_path / "ws")]
    assert main(["tm", "import", str(tmx), *loc]) == 0
    capsys.readouterr()
    assert main(["tm", "list", *loc]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "[x\\nmycourse" in out


def test_an_entity_in_an_attribute_value_is_refused_not_dropped() -> None:
    """lxml drops an unknown entity from an attribute value without a word (`xml:lang="es&x;"` read
    as `es`): the raw text is looked at too (a review of this session)."""
    from localize.catalogs.memory_files import read_tmx
    from localize.errors import CatalogError

    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n<tmx version="1.4"><header srclang="en"/><body>'
        b'<tu><tuv xml:lang="en"><seg>Calendar</seg></tuv><tuv xml:lang="es&x;"><seg>Calendario</seg></tuv></tu>'
        b"<!-- &y; in a comment --></body></tmx>"
    )
    with pytest.raises(CatalogError, match=r"c\.tmx:3: the TMX file uses the entity reference '&x;'"):
        read_tmx(data, "c.tmx", "es", "x")
    units = read_tmx(data.replace(b"es&x;", b"es"), "c.tmx", "es", "x")
    assert [(u.msgid, u.msgstr) for u in units] == [("Calendar", "Calendario")]


def test_an_entity_is_refused_in_any_encoding_and_a_processing_instruction_is_not_an_entity() -> None:
    """The first check read the raw bytes: a UTF-16 file or a name like `&café;` went past it, and
    `<?xml-stylesheet href="s.xsl?a&b;"?>` was refused (a second review)."""
    from localize.catalogs.memory_files import read_tmx
    from localize.errors import CatalogError

    text = (
        '<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE tmx SYSTEM "tmx14.dtd">\n<tmx version="1.4">'
        '<header srclang="en"/><body><tu tuid="a&café;b"><tuv xml:lang="en"><seg>Calendar</seg></tuv>'
        '<tuv xml:lang="es"><seg>Calendario</seg></tuv></tu></body></tmx>'
    )
    with pytest.raises(CatalogError, match="uses the entity reference '&café;'"):
        read_tmx(text.encode("utf-16"), "u.tmx", "es", "x")
    styled = text.replace('encoding="UTF-16"?>', 'encoding="UTF-8"?>\n<?xml-stylesheet href="s.xsl?a&b;"?>')
    units = read_tmx(styled.replace("a&café;b", "ab").encode(), "s.tmx", "es", "x")
    assert [(u.msgid, u.msgstr) for u in units] == [("Calendar", "Calendario")]
