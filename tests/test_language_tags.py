"""A file's language tag names a locale in any spelling, and never another script.

Found by an attacker's review of the locale codes: `tm import` and `glossary import` compared the
tags as strings (a Hebrew file tagged iw could be imported under no --locale at all: `--locale iw`
is he), a TMX of Serbian in Latin letters filled the Cyrillic memory, and the QA gate took a return
tagged sr_RS@latin for the Cyrillic kit while it refused it for the Latin one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from localize.catalogs.glossary_files import read_tbx
from localize.catalogs.memory_files import read_memory_file
from localize.errors import LocalizeError
from localize.locales import same_language
from localize.model import Catalog, Entry
from localize.partners.qa import check_catalog


@pytest.mark.parametrize(
    ("tag", "locale", "same"),
    [
        ("iw", "he", True), ("iw-IL", "he", True), ("heb", "he", True), ("in", "id", True),
        ("pt-br", "pt_BR", True), ("es-MX", "es", True), ("es", "es_MX", True), ("es_MX", "es_ES", False),
        ("sr-Latn", "sr@latin", True), ("sr_RS@latin", "sr@latin", True), ("sr-Latn", "sr", False),
        ("sr_RS", "sr", True), ("zh-TW", "zh", False), ("zh-Hant", "zh_TW", True), ("zh-CN", "zh", True),
        ("ca@valencia", "ca", False), ("*all*", "en", False), ("klingon", "en", False),
    ],
)  # fmt: skip
def test_same_language(tag: str, locale: str, same: bool) -> None:
    assert same_language(tag, locale) is same


@pytest.mark.parametrize("tag", ["iw", "iw-IL", "heb"])
def test_a_memory_file_in_an_old_code_is_imported_under_the_current_one(tag: str) -> None:
    data = f'msgid ""\nmsgstr ""\n"Language: {tag}\\n"\n\nmsgid "Hello"\nmsgstr "שלום"\n'.encode()
    [unit] = read_memory_file(data, "m.po", "he")
    assert unit.msgstr == "שלום"


def _tmx(source: str, target: str, srclang: str = "en") -> bytes:
    return (
        f'<tmx version="1.4"><header srclang="{srclang}"/><body><tu><tuv xml:lang="{source}"><seg>Hello</seg></tuv>'
        f'<tuv xml:lang="{target}"><seg>Zdravo</seg></tuv></tu></body></tmx>'
    ).encode()


def test_a_tmx_in_latin_letters_fills_only_the_latin_memory() -> None:
    with pytest.raises(LocalizeError):
        read_memory_file(_tmx("en", "sr-Latn"), "m.tmx", "sr")
    [unit] = read_memory_file(_tmx("en", "sr-Latn"), "m.tmx", "sr@latin")
    assert (unit.msgid, unit.msgstr) == ("Hello", "Zdravo")


def test_a_tmx_whose_source_tuvs_name_a_region_of_srclang_is_read() -> None:
    """srclang="en" with en-US tuvs (as many CAT tools write) was refused, blaming the target."""
    [unit] = read_memory_file(_tmx("en-US", "sr-Latn"), "m.tmx", "sr@latin")
    assert unit.msgid == "Hello"


@pytest.mark.parametrize("tag", ["iw", "heb", "he-IL"])
def test_a_glossary_in_an_old_code_is_read_under_the_current_one(tag: str) -> None:
    tbx = (
        '<tbx xml:lang="en" xmlns="urn:iso:std:iso:30042:ed-2"><text><body><conceptEntry id="c1">'
        '<langSec xml:lang="en"><termSec><term>course</term></termSec></langSec>'
        f'<langSec xml:lang="{tag}"><termSec><term>קורס</term></termSec></langSec>'
        "</conceptEntry></body></text></tbx>"
    ).encode()
    [term] = read_tbx(tbx, "g.tbx", "he")
    assert (term.term, term.translation) == ("course", "קורס")


@pytest.mark.parametrize(
    ("kit", "tag", "accepted"),
    [("sr", "sr_RS@latin", False), ("sr@latin", "sr_RS@latin", True), ("sr", "sr_RS", True), ("he", "iw_IL", True)],
)
def test_the_gate_takes_a_region_of_the_kits_language_only_in_its_script(kit: str, tag: str, accepted: bool) -> None:
    catalog = Catalog(headers=(("Language", tag),), entries=(Entry("Hello", "x"),))
    errors = [
        p for p in check_catalog(catalog, "f.po", locale=kit) if p.check == "header-language" and p.severity == "error"
    ]
    assert (not errors) is accepted


def test_the_workspace_source_locale_is_read_in_any_spelling(tmp_path: Path) -> None:
    """source_locale = "en-US" made route and ingest refuse every glossary ("no es terms (its
    languages: en)"): it was compared as written."""
    from localize.config import load_config
    from localize.errors import ConfigError

    (tmp_path / "localize.toml").write_text('[workspace]\nsource_locale = "en-US"\n', encoding="utf-8")
    assert load_config(tmp_path / "localize.toml").workspace.source_locale == "en_US"
    (tmp_path / "localize.toml").write_text('[workspace]\nsource_locale = "klingon"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown locale code 'klingon'"):
        load_config(tmp_path / "localize.toml")


def test_exchange_files_carry_bcp_47_tags_that_read_back_as_the_locale() -> None:
    """XLIFF, TMX and TBX files said sr@latin (gettext's spelling), which no BCP 47 reader
    takes: they now say sr-Latn, and each reads back as sr@latin."""
    from localize.catalogs.glossary import Glossary, Term
    from localize.catalogs.glossary_files import to_tbx
    from localize.catalogs.memory import MemoryUnit, TranslationMemory
    from localize.catalogs.memory_files import to_tmx
    from localize.catalogs.xliff import read_xliff, write_xliff

    catalog = Catalog(headers=(("Language", "sr@latin"),), entries=(Entry("Hello", "Zdravo"),))
    xliff = write_xliff(catalog, original="c", source_locale="en", target_locale="sr@latin")
    assert b'target-language="sr-Latn"' in xliff and b"sr@latin" not in xliff.split(b"<header>")[0]
    assert read_xliff(xliff).catalog.entries[0].msgstr == "Zdravo"
    tmx = to_tmx(TranslationMemory([MemoryUnit(None, "Hello", "Zdravo", "c")]), "sr@latin").encode()
    assert b'xml:lang="sr-Latn"' in tmx and b"sr@latin" not in tmx
    assert [u.msgstr for u in read_memory_file(tmx, "m.tmx", "sr@latin")] == ["Zdravo"]
    tbx = to_tbx(Glossary("sr@latin", (Term("course", "kurs"),))).encode()
    assert b'xml:lang="sr-Latn"' in tbx and b"sr@latin" not in tbx
    assert [t.translation for t in read_tbx(tbx, "g.tbx", "sr@latin")] == ["kurs"]


def test_flow_parameters_take_each_locale_once_in_its_canonical_spelling() -> None:
    """`localize run route-course --param 'locales=["iw","he"]'` sent one kit twice, and the
    flows refused sr@latin, the canonical spelling itself."""
    from pydantic import TypeAdapter, ValidationError

    from flows.params import Locales

    adapter = TypeAdapter(Locales)
    assert adapter.validate_python(["iw", "he", "sr-Latn", "sr@latin", "pt-br"]) == ["he", "sr@latin", "pt_BR"]
    with pytest.raises(ValidationError, match="unknown locale code 'xx'"):
        adapter.validate_python(["xx"])


@pytest.mark.parametrize(
    ("locale", "plain"),
    [("he", True), ("iw", True), ("sr_Latn", True), ("zh_Hant_TW", True), ("pt-br", False), ("PT_BR", False),
     ("../he", False), ("he/..", False), ("xx", False)],
)  # fmt: skip
def test_a_kit_sent_under_an_older_spelling_is_still_found(locale: str, plain: bool) -> None:
    """A kit routed as iw (or sr_Latn) before the spelling changed came back "no kit ... was sent
    to tlv": the kit index named a locale no longer canonical. (Tried by hand on a workspace the
    previous release made: after the rename the return is accepted into he.) Names still never
    make a path: no separators, no other case."""
    from localize.partners.assignments import plain_names

    assert plain_names("c", locale) is plain


def test_the_rename_hint_names_the_locales_other_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import SAMPLE
    from localize.cli import main

    loc = tmp_path / "loc"
    ws = ["--locales-dir", str(loc)]
    assert main(["extract", str(SAMPLE), "--course", "c", *ws, "-q"]) == 0
    assert main(["init", "--course", "c", "--locale", "he", *ws, "-q"]) == 0
    (loc / "he").rename(loc / "iw")
    (loc / "memory").mkdir()
    (loc / "memory" / "iw.po").write_text('msgid ""\nmsgstr ""\n', encoding="utf-8")
    (loc / "glossary").mkdir()
    (loc / "glossary" / "iw.tbx").write_text("<tbx/>", encoding="utf-8")
    capsys.readouterr()
    assert main(["stats", *ws]) == 2
    err = capsys.readouterr().err
    assert f", and {loc}/memory/iw.po to memory/he.po, {loc}/glossary/iw.tbx to glossary/he.tbx, then run" in err


@pytest.mark.parametrize("tag", ["sr-Latn\n", "zh-Hant\n", "sr_Latn\n", "iw@xx\n", "he\r", "he\t"])
def test_a_tag_with_a_control_character_is_no_locale(tag: str) -> None:
    """Found by an attacker's review: `$` also matches before a final newline, and Babel took
    "Latn\\n" for a variant, so xml:lang="sr-Latn&#10;" counted as Cyrillic Serbian and a Latin
    TMX filled the sr memory; a region index naming "iw@xx\\n" made a mirror folder of it."""
    from localize.locales import known_locale, older_spelling
    from localize.partners.assignments import plain_names
    from localize.regions.schema import check_names

    assert known_locale(tag) is None and not older_spelling(tag) and not same_language(tag, "sr")
    assert not plain_names("c", tag)
    with pytest.raises(LocalizeError):
        check_names("c", tag)
    with pytest.raises(LocalizeError):
        read_memory_file(_tmx("en", tag), "m.tmx", "sr")


def test_a_language_header_is_never_written_into_the_preview_as_markup(tmp_path: Path) -> None:
    """Found by an attacker's review: the preview put an unknown Language into <html lang="...">
    as written, and a page whose <html> had no lang got the header's markup."""
    from localize.catalogs.po import write_po
    from localize.storage.courses import open_source
    from localize.views.preview import build_preview

    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("<html><body><p>Hello there.</p></body></html>", encoding="utf-8")
    hostile = 'x"><script>alert(1)</script><x y="'
    po = tmp_path / "k.po"
    po.write_text(write_po(Catalog(headers=(("Language", hostile),), entries=(Entry("Hello there.", "Hola."),))))
    build_preview(po, open_source(str(tmp_path / "site")), tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert "<script>alert" not in page and page.startswith('<html lang="und">')


def test_status_shows_a_kit_sent_under_an_older_spelling_in_the_locales_row(tmp_path: Path) -> None:
    """status showed a second row, "c iw tlv accepted", beside the he row for ever."""
    import json

    from localize.catalogs.workspace import Workspace
    from localize.partners.assignments import latest_assignments

    folder = tmp_path / "assignments" / "c"
    base = {"course": "c", "partner": "tlv", "catalog_sha256": "0" * 64, "due": "2026-12-17", "state": "sent",
            "entries": 1, "words_to_translate": 1}  # fmt: skip
    for ll, kit, at in (("iw", "20261201-aaaaaaaaaa", "2026-12-01T10:00:00+00:00"),
                        ("he", "20261202-bbbbbbbbbb", "2026-12-02T10:00:00+00:00")):  # fmt: skip
        (folder / ll).mkdir(parents=True)
        (folder / ll / f"{kit}.json").write_text(json.dumps({**base, "kit": kit, "locale": ll, "sent_at": at}))
    latest = latest_assignments(Workspace(str(tmp_path)))
    assert list(latest) == [("c", "he")] and latest[("c", "he")].kit == "20261202-bbbbbbbbbb"
