"""Right on real OCW pages (issue 11 items 1-5) and one odd page never stops a course (issue 10 item 6).

Each rule on a small page first, then on the real corpus where it has examples
(icons, transcripts, code blocks), then in Chromium where what matters is what a
reader sees (direction, language).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from lxml import html as lxml_html

from acceptance import icon_texts
from localize.engine.build import build_course
from localize.engine.encoding import decode_page, encode_page
from localize.engine.extract import extract_course, extract_page
from localize.engine.pages import localize_page
from localize.engine.pseudo import pseudo_text
from localize.engine.segments import find_units
from localize.errors import SourceError
from localize.model import UnitKind
from localize.storage.base import check_key, course_path_problem
from localize.storage.courses import open_source
from localize.storage.sources import FolderSource, ZipSource, is_page


def msgids(page: str, **kwargs: object) -> list[str]:
    return [u.msgid for u in find_units(page, **kwargs) if u.kind is UnitKind.TEXT]  # type: ignore[arg-type]


def build(page: str, translations: dict[tuple[str | None, str], str], locale: str) -> str:
    return localize_page(page.encode(), "p.html", translations, locale).data.decode()


def pseudo_all(page: str) -> dict[tuple[str | None, str], str]:
    return {u.key: pseudo_text(u.msgid) for u in find_units(page)}


# -- 1. icon ligatures -------------------------------------------------------

OCW_ICONS = (
    '<nav><button><i class="material-icons">menu</i></button></nav>'
    '<li><a href="n"><i class="course-feature-icon material-icons h2 pr-2 mb-0">notes</i> '
    '<span class="x">Lecture Notes</span></a></li>'
    '<a href="d"><span class="material-icons md-18">file_download</span> Download File</a>'
    '<a href="c"><i class="material-icons-round"><span> co_present </span></i> <span class="x">Instructor Insights</span></a>'
)


def test_icon_font_elements_are_never_translated() -> None:
    # an icon at a unit's edge stays outside it: the same words as everywhere else, no placeholder
    assert msgids(OCW_ICONS) == ["Lecture Notes", "Download File", "Instructor Insights"]
    [notes] = [u for u in find_units(OCW_ICONS) if "Lecture" in u.msgid]
    assert notes.comment == ""
    out = build(OCW_ICONS, pseudo_all(OCW_ICONS), "qps-ploc")
    assert icon_texts(out.encode()) == ["menu", "notes", "file_download", " co_present "]
    assert "Ļéçţûŕé Ñöţéš" in out


@pytest.mark.parametrize("locale", ["es", "ar"])
def test_empty_elements_and_icons_at_an_edge_stay_outside_the_unit(locale: str) -> None:
    # OCW's people and terms pages: an anchor before a heading's words (8 headings of one course
    # were "<a1></a1>Name", each a second entry beside the same words elsewhere)
    page = (
        '<h4><strong>\n\n<a name="bennet"></a>Victoria Bennet</strong></h4>'
        '<h2><a name="privacy" id="privacy"></a>Privacy</h2>'
        '<p>Before <a id="x"></a> after <span class="fa fa-check"></span></p>'
        '<p><a href="#top"></a></p>'
        '<a href="d"><span class="material-icons">file_download</span> Download File</a>'
    )
    assert msgids(page) == ["Victoria Bennet", "Privacy", "Before <a1></a1> after", "Download File"]
    translated = {
        (None, "Victoria Bennet"): "فيكتوريا بينيت",
        (None, "Privacy"): "Privacidad",
        (None, "Before <a1></a1> after"): "Antes <a1></a1> después",
        (None, "Download File"): "Descargar",
    }
    out = build(page, translated, locale)
    # what was dropped from the edges is still there, byte for byte, before or after the words
    assert '<a name="bennet"></a>فيكتوريا بينيت</strong>' in out
    assert '<a name="privacy" id="privacy"></a>Privacidad</h2>' in out
    assert 'Antes <a id="x"></a> después <span class="fa fa-check"></span></p>' in out
    assert '<span class="material-icons">file_download</span> Descargar</a>' in out
    assert '<p><a href="#top"></a></p>' in out


@pytest.mark.parametrize(
    "cls",
    [
        "material-icons",
        "material-icons-outlined",
        "material-icons-round",
        "material-icons-sharp",
        "material-icons-two-tone",
        "material-symbols-outlined",
        "material-symbols-rounded",
        "material-symbols-sharp",
        "pr-1 material-icons md-18",
    ],
)
def test_every_material_icon_variant(cls: str) -> None:
    assert msgids(f'<p>Open the <span class="{cls}">arrow_forward</span> menu</p>') == ["Open the <span1/> menu"]
    assert msgids(f'<div><i class="{cls}">search</i></div>') == []


def test_icon_classes_are_configurable_and_attributes_of_icons_still_count() -> None:
    page = '<p><i class="fa-lig">home</i> Home page</p><i class="material-icons" title="Open menu">menu</i>'
    assert msgids(page) == ["<i1>home</i1> Home page"]
    assert msgids(page, icon_classes={"fa-lig"}) == ["Home page", "menu"]
    assert msgids(page, icon_classes=()) == ["<i1>home</i1> Home page", "menu"]
    assert ("attribute", "Open menu") in [u.key for u in find_units(page)]
    # not a class token: words that merely contain the name are text
    assert msgids('<p class="not-material-icons">Text</p><i class="material-iconsx">word</i>') == ["Text", "word"]


def test_icon_classes_reach_extract_and_build(tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "index.html").write_text('<p><b class="ico">star</b> Favourites</p>')
    template = extract_course(open_source(course), "c", jobs=1, icon_classes={"ico"}).catalog
    [entry] = template.entries
    assert entry.msgid == "Favourites"
    assert extract_page((course / "index.html").read_bytes(), "index.html", {"ico"})[0].msgid == entry.msgid
    from dataclasses import replace

    catalog = replace(template, entries=(replace(entry, msgstr="Favoritos"),), header_flags=())
    build_course(open_source(course), catalog, tmp_path / "out", "es", jobs=1, icon_classes={"ico"})
    assert (tmp_path / "out" / "index.html").read_text() == '<p><b class="ico">star</b> Favoritos</p>'


def test_icons_of_the_corpus_are_unchanged_in_pseudo_pages(corpus: Path) -> None:
    icons = pages_with_icons = 0
    for path in sorted(p for p in corpus.rglob("*") if is_page(p.name)):
        data = path.read_bytes()
        page = decode_page(data, str(path)).text
        before = icon_texts(data)
        if not before:
            continue
        pages_with_icons += 1
        icons += len(before)
        words = {"menu", "notes", "theaters", "assignment", "arrow_forward", "file_download"}
        assert not any(words & set(re.findall(r">([a-z_]+)<", u.msgid)) or u.msgid in words for u in find_units(page))
        built = localize_page(data, str(path), pseudo_all(page), "qps-ploc").data
        assert icon_texts(built) == before, path
    assert (icons, pages_with_icons) == (1986, 106)


# -- 2. right-to-left pages keep code and math left to right ------------------

CODE_PAGE = (
    '<html lang="en"><head><meta charset="utf-8"></head><body><h1>Frequencies</h1><p>Check it:</p>'
    '<pre><code class="language-python">if fs &lt; 2 * f0:\n    print("aliasing")</code></pre>'
    "<p>We call <code>f(x)</code> here.</p><p>\\[ f_s \\geq 2 f_0 \\]</p>"
    '<div translate="no"><p>6.S01 Signals</p></div><pre dir="auto">kept</pre>'
    "<p>Math <math><mi>x</mi><mo>+</mo><mn>1</mn></math> inline.</p></body></html>"
)
AR = {
    (None, "Frequencies"): "الترددات",
    (None, "Check it:"): "تحقق منه:",
    (None, "We call <code1/> here."): "نستدعي <code1/> هنا.",
}


def test_code_pre_math_and_untranslatable_blocks_stay_left_to_right_in_rtl_pages() -> None:
    out = build(CODE_PAGE, AR, "ar")
    assert '<pre dir="ltr"><code class="language-python">if fs' in out
    assert '<p>نستدعي <bdi><code dir="ltr">f(x)</code></bdi> هنا.</p>' in out
    assert '<p><span dir="ltr">\\[ f_s \\geq 2 f_0 \\]</span></p>' in out
    assert '<div dir="ltr" translate="no"><p>6.S01 Signals</p></div>' in out
    assert '<pre dir="auto">kept</pre>' in out  # the author's own dir stays
    assert '<math dir="ltr">' in out
    # the same translations in a left-to-right locale: not a byte of direction added
    es = build(CODE_PAGE, {k: "x" for k in AR}, "es")
    assert es.count("dir=") == CODE_PAGE.count("dir=") == 1


def test_every_pre_block_of_the_corpus_is_left_to_right_in_arabic(corpus: Path) -> None:
    pres = 0
    for path in sorted(p for p in corpus.rglob("*") if is_page(p.name)):
        data = path.read_bytes()
        page = decode_page(data, str(path)).text
        arabic = {u.key: "نص عربي" for u in find_units(page)}
        root = lxml_html.fromstring(localize_page(data, str(path), arabic, "ar").data)
        for pre in root.iter("pre"):
            pres += 1
            assert pre.xpath("ancestor-or-self::*[@dir][1]/@dir") == ["ltr"], path
    assert pres >= 20


def test_rtl_code_block_renders_left_to_right_in_chromium(tmp_path: Path) -> None:
    from browser import browser_page, require_browser, static_server

    require_browser()
    (tmp_path / "ar.html").write_text(build(CODE_PAGE, AR, "ar"), encoding="utf-8")
    with static_server(tmp_path) as base, browser_page() as page:
        page.goto(f"{base}/ar.html")
        page.screenshot(path=str(tmp_path / "rtl-code.png"), full_page=True)
        style = page.evaluate(
            """() => [...document.querySelectorAll('h1, pre, code, div[translate]')].map(e => {
                const s = getComputedStyle(e); return [e.tagName, s.direction];
            })"""
        )
        assert style[0] == ["H1", "rtl"]
        assert all(d == "ltr" for tag, d in style[1:]), style
        # the code block starts at the left edge of the page; the heading ends at the right edge
        pre = page.evaluate("() => document.querySelector('pre').getBoundingClientRect().left")
        text = page.evaluate(
            """() => { const r = document.createRange(); r.selectNodeContents(document.querySelector('pre code'));
                       return r.getClientRects()[0].left; }"""
        )
        assert abs(text - pre) < 2, (text, pre)
        assert page.inner_text("pre").startswith("if fs < 2 * f0:")
    assert (tmp_path / "rtl-code.png").stat().st_size > 5_000


# -- 3. text directly inside <noscript> -------------------------------------


def test_text_directly_in_noscript_is_a_unit_and_is_rebuilt() -> None:
    page = (
        "<body><noscript>Please enable JavaScript to use this site.</noscript>"
        '<noscript><iframe src="https://www.googletagmanager.com/ns.html"></iframe></noscript>'
        "<noscript><p>Block inside</p></noscript><div>Main</div></body>"
    )
    assert msgids(page) == ["Please enable JavaScript to use this site.", "Block inside", "Main"]
    out = build(page, {(None, "Please enable JavaScript to use this site."): "Activa JavaScript."}, "es")
    assert "<noscript>Activa JavaScript.</noscript>" in out


# -- 4. text left in the source language says so ------------------------------

HALF = (
    '<html lang="en"><head><meta charset="utf-8"><title>Syllabus</title></head><body>'
    "<p>Translated paragraph.</p><p>Still <b>English</b> here.</p>"
    '<div>Loose English text<p>Otra</p></div><img alt="A wave" src="w.png"><p lang="fr">Bonjour</p></body></html>'
)
ES = {
    (None, "Translated paragraph."): "Párrafo traducido.",
    (None, "Otra"): "Otra traducida",
    (None, "Syllabus"): "Programa",
}


def test_fallback_units_are_labelled_with_the_source_language() -> None:
    out = build(HALF, ES, "es")
    assert '<html lang="es">' in out
    assert "<p>Párrafo traducido.</p>" in out
    assert '<p lang="en">Still <b>English</b> here.</p>' in out  # the unit's own element
    assert '<div><span lang="en">Loose English text</span><p>Otra traducida</p></div>' in out  # shares its element
    assert '<img alt="A wave" src="w.png">' in out  # attributes cannot carry a lang of their own
    assert '<p lang="fr">Bonjour</p>' in out  # the author said which language this is
    # right-to-left target: English text also keeps its direction
    ar = build(HALF, {(None, "Translated paragraph."): "فقرة"}, "ar")
    assert '<p lang="en" dir="ltr">Still <b>English</b> here.</p>' in ar
    # source-locale builds and fully translated pages: unchanged
    assert build(HALF, {}, "en") == HALF
    assert 'lang="en"' not in build(HALF, pseudo_all(HALF), "qps-ploc").replace('<p lang="fr">', "")


def test_fallback_language_is_what_chromium_sees(tmp_path: Path) -> None:
    from browser import browser_page, require_browser, static_server

    require_browser()
    (tmp_path / "es.html").write_text(build(HALF, ES, "es"), encoding="utf-8")
    with static_server(tmp_path) as base, browser_page() as page:
        page.goto(f"{base}/es.html")
        english = page.evaluate("() => [...document.querySelectorAll('body :lang(en)')].map(e => e.textContent)")
        spanish = page.evaluate("() => [...document.querySelectorAll('body p:lang(es)')].map(e => e.textContent)")
        assert english == ["Still English here.", "English", "Loose English text"]
        assert spanish == ["Párrafo traducido.", "Otra traducida"]
        assert page.evaluate("() => document.querySelector('p').lang") == ""  # inherits es from <html>
        # make the language visible in the screenshot: English on red, the page's Spanish on green
        page.add_style_tag(content=":lang(en) { background: #fcc } p:lang(es) { background: #cfc }")
        page.screenshot(path=str(tmp_path / "fallback-lang.png"), full_page=True)
    assert (tmp_path / "fallback-lang.png").stat().st_size > 3_000


# -- 5. word timing of transcripts -------------------------------------------


def test_a_translated_transcript_unit_keeps_the_timing_of_its_first_word() -> None:
    page = '<p><span m="940">The</span> <span m="1030">following</span> <b><span m="1480">content</span></b></p>'
    [unit] = find_units(page)
    assert unit.msgid == "The following <b1>content</b1>" and unit.timing is not None
    out = build(page, {(None, unit.msgid): "El siguiente <b1>contenido</b1>"}, "es")
    assert out == '<p><span m="940">El siguiente <b>contenido</b></span></p>'
    assert build(page, {}, "es") == page.replace("<p>", '<p lang="en">')  # untranslated: every span kept


def test_transcripts_of_the_corpus_keep_one_timing_per_translated_unit(corpus: Path) -> None:
    transcripts = 0
    timing = re.compile(r'<span m="(\d+)">')
    for path in sorted(p for p in corpus.rglob("*") if is_page(p.name)):
        data = path.read_bytes()
        if b"<span m=" not in data:
            continue
        transcripts += 1
        page = decode_page(data, str(path)).text
        units = find_units(page)
        timed = [u for u in units if u.timing is not None]
        assert len(timed) > 10
        firsts = [timing.match(page, u.timing[0]).group(1) for u in timed]  # type: ignore[index, union-attr]
        for u in timed:  # the first timing span inside the unit's own text
            assert u.start <= u.timing[0] < u.end and page.find("<span m=", u.start) == u.timing[0]  # type: ignore[index]
        built = localize_page(data, str(path), pseudo_all(page), "qps-ploc").data.decode()
        # a span wrapping a whole unit stays where it is; inside a translated unit, only the first one
        spans = sorted((u.start, u.end) for u in units if u.kind is UnitKind.TEXT)
        outside = [
            (m.start(), m.group(1)) for m in timing.finditer(page) if not any(a <= m.start() < b for a, b in spans)
        ]
        expected = sorted(outside + [(u.timing[0], t) for u, t in zip(timed, firsts, strict=True)])  # type: ignore[index]
        assert timing.findall(built) == [t for _, t in expected], path
        assert sum(1 for _ in timing.finditer(page)) > 5 * len(expected)
    assert transcripts >= 5


# -- 6. one odd page never stops a course ------------------------------------

DEPTH = 100_000


@pytest.mark.parametrize(
    "page",
    [
        "<div>" * DEPTH + "Deep text" + "</div>" * DEPTH,
        "<p>" + "<span>" * DEPTH + "Deep <b>text</b>" + "</span>" * DEPTH + "</p>",
        "<ul>" + "<li><ul>" * DEPTH + "<li>Deep text" + "</ul>" * DEPTH,
        # end tags that close nothing, each under 100,000 open elements (was O(depth) each)
        "<b><table>" + "<div>" * DEPTH + "Deep text" + "</b>" * DEPTH,
        '<div translate="no">'
        + "<span translate='yes'><span translate='no'>" * (DEPTH // 2)
        + "</div><p>Deep text</p>",
    ],
    ids=["blocks", "inline", "lists", "stray-end-tags", "translate-no-yes"],
)
def test_100000_nesting_levels_in_linear_time(page: str) -> None:
    started = time.perf_counter()
    units = find_units(page)
    assert [u.msgid for u in units if "Deep" in u.msgid] in (["Deep text"], ["Deep <b1>text</b1>"])
    problems: list[str] = []
    translations = {u.key: u.msgid.replace("Deep", "عميق") for u in units}
    out = localize_page(page.encode(), "deep.html", translations, "ar", on_problem=lambda u, m: problems.append(m))
    assert problems == [] and out.translated >= 1 and "عميق".encode() in out.data
    assert time.perf_counter() - started < 60  # quadratic end-tag handling took hours here


def test_deep_pages_go_through_extract_and_build(tmp_path: Path) -> None:
    course = tmp_path / "course"
    course.mkdir()
    (course / "deep.html").write_text("<section>" * DEPTH + "<p>Deep text</p>" + "</section>" * DEPTH)
    (course / "ok.html").write_text("<p>Fine</p>")
    result = extract_course(open_source(course), "c", jobs=1)
    assert result.failures == () and [e.msgid for e in result.catalog.entries] == ["Deep text", "Fine"]
    built = build_course(open_source(course), result.catalog, tmp_path / "out", "es", jobs=1)
    assert built.failures == () and built.pages == 2


def test_windows_1252_decodes_as_browsers_do_and_every_byte_round_trips() -> None:
    head = b'<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 \x80</p>\n<!--'
    data = head + b"x" * 8192 + bytes(range(256)) + b"-->\n</body></html>"  # NUL only after the binary sniff
    decoded = decode_page(data, "p.html")
    whatwg = {0x81: "\x81", 0x8D: "\x8d", 0x8F: "\x8f", 0x90: "\x90", 0x9D: "\x9d", 0x80: "€", 0x9F: "Ÿ", 0xE9: "é"}
    tail = decoded.text[decoded.text.index("x" * 8192) + 8192 :]
    assert all(tail[b] == ch for b, ch in whatwg.items())
    assert tail[:256] == "".join(
        chr(b) if b < 0x80 or b >= 0xA0 or b in (0x81, 0x8D, 0x8F, 0x90, 0x9D) else bytes([b]).decode("cp1252")
        for b in range(256)
    )
    assert encode_page(decoded, decoded.text) == data
    out = localize_page(data, "p.html", {(None, "Café €"): "Café € ok"}, "en").data
    assert out == data.replace(b"Caf\xe9 \x80", b"Caf\xe9 \x80 ok")


def test_a_utf8_page_labelled_windows_1252_with_0x9d_extracts(tmp_path: Path) -> None:
    data = '<meta charset="windows-1252"><p>He said “hello” to all</p>'.encode()  # ” is E2 80 9D
    assert b"\x9d" in data
    [unit] = extract_page(data, "p.html")
    assert unit.msgid == "He said â€œhelloâ€\x9d to all"
    course = tmp_path / "c"
    course.mkdir()
    (course / "p.html").write_bytes(data)
    result = extract_course(open_source(course), "c", jobs=1)
    assert result.failures == () and len(result.catalog.entries) == 1
    out = localize_page(data, "p.html", {(None, unit.msgid): unit.msgid + "!"}, "en").data
    assert out == data.replace(b"to all", b"to all!")


def test_undecodable_bytes_never_reach_a_msgid() -> None:
    data = '<meta charset="iso-8859-8"><p>Shalom \xff\xfe there</p>'.encode("latin-1")
    [unit] = extract_page(data, "p.html")
    assert not any(0xD800 <= ord(c) <= 0xDFFF for c in unit.msgid)


@pytest.mark.parametrize(
    ("path", "ok"),
    [
        ("index.html", True),
        ("pages/notes:1.html", True),
        ("notes:1.html", False),
        ("C:/x.html", False),
        ("a\\b.html", False),
        ("line\nbreak.html", False),
        ("../up.html", False),
        ("a//b.html", False),
    ],
)
def test_one_rule_for_what_a_course_may_hold_and_check_key_agrees(path: str, ok: bool) -> None:
    assert (course_path_problem(path) is None) is ok
    if ok:
        assert check_key(path) == path


def test_a_refused_file_name_is_reported_by_every_source_and_never_aborts_a_build(tmp_path: Path) -> None:
    import zipfile

    course = tmp_path / "course"
    (course / "pages").mkdir(parents=True)
    (course / "index.html").write_text("<p>Home</p>")
    (course / "notes:1.html").write_text("<p>Notes</p>")
    (course / "pages" / "a.html").write_text("<p>A</p>")
    (course / "pages" / "z.css").write_text("p{}")
    source = FolderSource(course)
    assert source.paths() == ["index.html", "pages/a.html", "pages/z.css"]
    [problem] = source.problems
    assert isinstance(problem, SourceError) and "'notes:1.html' refused" in str(problem)
    archive = tmp_path / "course.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name in ("index.html", "notes:1.html", "pages/a.html", "pages/z.css"):
            z.write(course / name, f"course/{name}")
    zipped = ZipSource(archive)
    assert zipped.paths() == source.paths() and len(zipped.problems) == 1
    template = extract_course(open_source(course), "c", jobs=1)
    assert [f.path for f in template.failures] == [str(course)]
    result = build_course(open_source(course), template.catalog, tmp_path / "out", "es", jobs=1)
    assert result.pages == 2 and result.copied == 1 and len(result.failures) == 1
    assert "notes:1.html" in str(result.failures[0])
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*") if p.is_file()) == [
        "index.html",
        "pages/a.html",
        "pages/z.css",
    ]
