"""The kit's offline preview (issue 14, point 5b): preview.html opened from disk in Chromium,
fed the translator's .po or .xlf through its file input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from browser import browser_page, require_browser
from lxml import etree

from conftest import SAMPLE, corpus_courses
from localize.catalogs.po import read_po, write_po
from localize.cli import main
from localize.config import load_config
from localize.engine.encoding import decode_page
from localize.engine.htmltree import parse
from localize.engine.pagemap import EntryIndex, page_parts
from localize.engine.segments import find_units
from localize.partners.routing import route

COURSE = "intro-course"
CONFIG = """\
[workspace]
location = "locales"

[[partners]]
id = "lima"
name = "Lima"
locales = ["es"]
inbox = "inbox-es"

[[partners]]
id = "cairo"
name = "Cairo"
locales = ["ar"]
inbox = "inbox-ar"
format = "xliff"
"""
HOSTILE = "<script>alert(1)</script> y <img src=x onerror=alert(2)>"
TOOLTIP = 'Un "día de gracia" amplía\tun plazo de entrega en veinticuatro horas, una sola vez por tarea'
NS = {"x": "urn:oasis:names:tc:xliff:document:1.2"}


def workspace(tmp_path: Path, source: Path, course: str) -> Path:
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["extract", str(source), "--course", course, "--locales-dir", str(tmp_path / "locales"), "-q"]) == 0
    return tmp_path


def kit(tmp_path: Path, source: Path, course: str, locale: str) -> Path:
    ws = workspace(tmp_path, source, course) if not (tmp_path / "localize.toml").exists() else tmp_path
    result = route(load_config(ws / "localize.toml"), course, locale, source=str(source))
    return Path(result.kit_location)


def fill_po(po: Path, translations: dict[str, str], fuzzy: set[str] = frozenset()) -> Path:  # type: ignore[assignment]
    catalog = read_po(po.read_bytes())
    entries = tuple(
        replace(e, msgstr=translations[e.msgid], flags=("fuzzy",) if e.msgid in fuzzy else ())
        if e.msgid in translations
        else e
        for e in catalog.entries
    )
    out = po.parent / ("filled-" + po.name)
    out.write_text(write_po(replace(catalog, entries=entries)), encoding="utf-8")
    return out


def load(page: Any, preview: Path, file: Path) -> Any:
    """Open preview.html from disk, choose ``file``; the page's frame."""
    page.goto(preview.as_uri())
    page.set_input_files("#lz-file", str(file))
    page.wait_for_function("document.getElementById('lz-status').textContent.includes('texts')")
    page.wait_for_function("document.getElementById('lz-frame').contentDocument.querySelector('.lz-untranslated')")
    return page.frame_locator("#lz-frame")


def choose_page(page: Any, path: str) -> Any:
    value = page.evaluate(
        "(p) => Array.from(document.querySelectorAll('#lz-page option')).find(o => o.textContent.endsWith('(' + p + ')') || o.textContent === p).value",
        path,
    )
    page.select_option("#lz-page", value)
    page.wait_for_function(
        "(p) => document.getElementById('lz-frame').contentDocument.baseURI.includes(p)", arg="pages/" + path
    )
    return page.frame_locator("#lz-frame")


def test_kit_carries_pages_assets_and_a_self_contained_preview(tmp_path: Path) -> None:
    folder = kit(tmp_path, SAMPLE, COURSE, "es")
    manifest = json.loads((folder / "kit.json").read_text(encoding="utf-8"))
    assert manifest["preview"] == {
        "file": "preview.html",
        "pages": 8,
        "assets": 3,
        "assets_left_out": 0,
        "pages_left_out": 0,
    }
    for page in SAMPLE.rglob("*.html"):
        rel = page.relative_to(SAMPLE).as_posix()
        assert (folder / "pages" / rel).read_bytes() == page.read_bytes()
    assert (folder / "pages" / "static" / "course.css").is_file()
    html = (folder / "preview.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<script\b", html)) == 2 and "<script src" not in html
    assert not re.search(r"""(?:src|href)=["']?https?:""", html.split('id="lz-map"')[0])
    assert "default-src 'none'" in html
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    listed = {line.split()[0]: " ".join(line.split()[1:]) for line in readme.split("\n\n")[2].splitlines()}
    assert listed["preview.html"] == "your translation on the course pages (see below)"
    assert listed["pages/"] == "those pages"
    # without the source, no preview (and the kit is as before)
    again = route(load_config(tmp_path / "localize.toml"), COURSE, "ar", fmt="po")
    assert not (Path(again.kit_location) / "preview.html").exists()


def test_a_source_with_none_of_the_courses_pages_sends_no_kit(tmp_path: Path) -> None:
    """A mistyped --source (another course, the wrong folder) sent a kit whose preview showed
    no page, and routing again with the right one said 'unchanged: nothing sent'."""
    from localize.errors import SourceError

    ws = workspace(tmp_path, SAMPLE, COURSE)
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text("<html><body><p>Another course</p></body></html>", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        route(load_config(ws / "localize.toml"), COURSE, "es", source=str(other))
    assert str(info.value) == (
        f"{other}: no page here holds a text of {COURSE}: is it the course's own folder, .zip or site? Nothing sent"
    )
    assert not list(tmp_path.glob("**/kits/*/*/*"))
    assert (Path(kit(tmp_path, SAMPLE, COURSE, "es")) / "preview.html").is_file()


def test_po_preview_in_chromium_from_disk(tmp_path: Path) -> None:
    require_browser()
    folder = kit(tmp_path, SAMPLE, COURSE, "es")
    po = fill_po(
        folder / f"{COURSE}.es.po",
        {
            "Then read the <a1>syllabus</a1>": "Luego lea el <a1>programa</a1>",
            "Course Description": "Descripción del curso",
            "Syllabus": HOSTILE,
            "Check the <a1>calendar</a1> first": "Consulte primero el <a2>calendario</a2>",  # renamed placeholder
            "Calendar": "Calendario",
            "Assignments": "",
            'A "late day" extends one deadline by 24 hours': TOOLTIP,
        },
        fuzzy={"Calendar", "Assignments"},
    )
    text = po.read_text(encoding="utf-8")
    assert '"Un \\"día de gracia\\" amplía\\tun plazo' in text and 'msgstr ""\n"Un' in text  # escaped, wrapped
    po.write_text(
        text + '\n#~ msgid "Old text"\n#~ msgstr "Texto viejo"\n\n'
        'msgid "One file"\nmsgid_plural "%d files"\nmsgstr[0] "Un archivo"\nmsgstr[1] "%d archivos"\n',
        encoding="utf-8",
    )
    dialogs: list[str] = []
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with browser_page() as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        frame = load(page, folder / "preview.html", po)
        assert page.inner_text("#lz-status").startswith(
            "filled-intro-course.es.po: 182 texts, 6 translated, 5 problems."
        )
        assert "Descripción del curso" in frame.locator("body").inner_text()
        assert frame.locator(".lz-translated", has_text="Descripción del curso").count() >= 1
        assert frame.locator(".lz-untranslated").count() > 10
        colour = frame.locator(".lz-untranslated").first.evaluate("e => getComputedStyle(e).backgroundColor")
        assert colour == "rgb(255, 241, 168)"
        assert frame.locator(".lz-fuzzy", has_text="Calendario").count() >= 1
        # the hostile translation is text: no element, no handler, no dialog
        assert frame.locator(".lz-problem", has_text="<script>alert(1)</script>").count() >= 1
        assert frame.locator("[onerror]").count() == 0 and frame.locator("img[src=x]").count() == 0
        scripts = (folder / "pages" / "index.html").read_text(encoding="utf-8").count("<script")
        assert frame.locator("script").count() == scripts
        problems = page.inner_text("#lz-problems")
        assert "HTML in the translation will be rejected: <script>" in problems
        assert "placeholder <a1> is missing" in problems and "placeholder <a2> is not in the source" in problems
        assert "marked fuzzy but empty" in problems
        # the line of the translation, as `localize check` gives it (not the msgid's, one above)
        lines = po.read_text(encoding="utf-8").splitlines()
        line = next(i for i, t in enumerate(lines, 1) if t == 'msgid "Syllabus"') + 1
        assert lines[line - 1].startswith("msgstr ")
        assert f"line {line}, Syllabus: HTML in the translation" in problems
        checked = subprocess.run(
            [sys.executable, "-m", "localize.cli", "check", str(po)], capture_output=True, text=True, check=False
        )
        assert f"{po}:{line}: error: markup:" in checked.stdout, checked.stdout
        page.screenshot(path=str(shots / "kit-preview-es.png"), full_page=True)
        # a multi-line msgstr with escapes, in an attribute (msgctxt "attribute")
        frame = choose_page(page, "pages/syllabus/index.html")
        assert frame.locator("span[title^='Un']").get_attribute("title") == TOOLTIP
        # a placeholder translation on another page keeps the link's own markup
        frame = choose_page(page, "fragments/snippet.html")
        link = frame.locator(".lz-translated a", has_text="programa")
        assert link.count() == 1 and link.get_attribute("href")
        assert frame.locator(".lz-problem", has_text="Check the calendar first").count() == 1  # the source shown
        page.wait_for_timeout(200)
    assert dialogs == []
    assert all(u.startswith(("file:", "about:", "data:")) for u in requests), requests
    assert (shots / "kit-preview-es.png").stat().st_size > 10_000


def test_xliff_preview_right_to_left(tmp_path: Path) -> None:
    require_browser()
    folder = kit(tmp_path, SAMPLE, COURSE, "ar")
    xlf = folder / f"{COURSE}.ar.xlf"
    root = etree.fromstring(xlf.read_bytes())
    wanted = {
        "Course Description": "وصف المقرر",
        "Then read the <a1>syllabus</a1>": 'ثم اقرأ <g id="a1" ctype="link">المنهج</g>',
        "Check the <a1>calendar</a1> first": "راجع التقويم أولا",  # the link's code dropped
    }
    for tu in root.iterfind(".//x:trans-unit", NS):
        if tu.get("resname") in wanted:
            target = tu.find("x:target", NS)
            new = etree.fromstring(f'<target xmlns="{NS["x"]}" state="translated">{wanted[tu.get("resname")]}</target>')
            tu.replace(target, new)
    filled = tmp_path / "filled.xlf"
    filled.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    with browser_page() as page:
        frame = load(page, folder / "preview.html", filled)
        assert frame.locator(".lz-translated", has_text="وصف المقرر").count() >= 1
        assert frame.locator("html").get_attribute("dir") == "rtl"
        assert frame.locator("html").get_attribute("lang") == "ar"
        assert re.search(
            r"unit u[0-9a-f]{20}, Check the <a1>calendar</a1> first: placeholder <a1> is missing",
            page.inner_text("#lz-problems"),
        )
        page.screenshot(path=str(tmp_path / "kit-preview-ar.png"), full_page=True)
        frame = choose_page(page, "fragments/snippet.html")
        assert frame.locator(".lz-translated a", has_text="المنهج").count() == 1


@pytest.mark.skipif(not corpus_courses(), reason="real OCW corpus not found (../shared/corpus/ocw)")
def test_preview_of_a_corpus_course(tmp_path: Path) -> None:
    require_browser()
    source = corpus_courses()[0]
    folder = kit(tmp_path, source, source.name, "es")
    po = folder / f"{source.name}.es.po"
    catalog = read_po(po.read_bytes())
    plain = [e.msgid for e in catalog.entries if "<" not in e.msgid and len(e.msgid) > 12][:20]
    filled = fill_po(po, {m: "ES " + m for m in plain})
    manifest = json.loads((folder / "kit.json").read_text(encoding="utf-8"))
    assert manifest["preview"]["pages"] >= 1
    with browser_page() as page:
        load(page, folder / "preview.html", filled)
        assert page.evaluate("document.querySelectorAll('#lz-page option').length") == manifest["preview"]["pages"]
        text = page.evaluate("Array.from(document.querySelectorAll('#lz-page option')).map(o => o.value)")
        found = False
        for value in text:
            page.select_option("#lz-page", value)
            body = page.frame_locator("#lz-frame").locator("body").inner_text()
            if "ES " in body:
                found = True
                break
        assert found
        page.screenshot(path=str(tmp_path / "kit-preview-corpus.png"))


def test_a_hostile_page_cannot_break_out_of_the_page_map(tmp_path: Path) -> None:
    course = tmp_path / "evil"
    course.mkdir()
    (course / "index.html").write_text(
        "<html><head><title>T</script><script>alert(1)</script></title></head><body>"
        "<p>Hello <b>there</b> &lt;/script&gt;</p><!-- </script><script>alert(2)</script> -->"
        "<script>var x = '</scr' + 'ipt>';</script><p title='</script><script>alert(3)</script>'>Text</p>"
        '<img src="pic.png" alt="A picture"><img src="https://example.org/x.png" alt="remote"></body></html>',
        encoding="utf-8",
    )
    (course / "pic.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (course / "big.png").write_bytes(b"\0" * 10)
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["extract", str(course), "--course", "evil", "--locales-dir", str(tmp_path / "locales"), "-q"]) == 0
    result = route(load_config(tmp_path / "localize.toml"), "evil", "es", source=str(course))
    folder = Path(result.kit_location)
    html = (folder / "preview.html").read_text(encoding="utf-8")
    assert len(re.findall(r"<script\b", html, re.I)) == 2 and len(re.findall(r"</script", html, re.I)) == 2
    assert sorted(p.relative_to(folder).as_posix() for p in (folder / "pages").rglob("*")) == [
        "pages/index.html",
        "pages/pic.png",  # linked; big.png is not linked, the remote picture is not fetched
    ]


def test_a_huge_page_is_left_out_of_the_kit_and_counted(tmp_path: Path) -> None:
    """A page the source makes huge is in the kit twice (bytes and preview.html): over 5 MB it
    is left out of pages/ and the preview, counted in kit.json, and the kit is still made."""
    course = tmp_path / "big"
    course.mkdir()
    (course / "index.html").write_text("<html><body><p>Hello there</p></body></html>", encoding="utf-8")
    filler = "<p>Hello there</p>" + "<!--" + "x" * (5 * 1024 * 1024) + "-->"
    (course / "huge.html").write_text(f"<html><body>{filler}</body></html>", encoding="utf-8")
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["extract", str(course), "--course", "big", "--locales-dir", str(tmp_path / "locales"), "-q"]) == 0
    result = route(load_config(tmp_path / "localize.toml"), "big", "es", source=str(course))
    folder = Path(result.kit_location)
    manifest = json.loads((folder / "kit.json").read_text(encoding="utf-8"))
    assert manifest["preview"]["pages"] == 1 and manifest["preview"]["pages_left_out"] == 1
    assert sorted(p.name for p in (folder / "pages").iterdir()) == ["index.html"]
    assert (folder / "preview.html").stat().st_size < 1024 * 1024


def test_markup_heavy_pages_cannot_make_the_preview_huge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages of <b></b> grow about four-fold as escaped JSON in preview.html: the cap counts the
    page's bytes and its part of the preview, so the kit stays within it (smaller caps here)."""
    from localize.partners import kit_preview

    monkeypatch.setattr(kit_preview, "MAX_PAGES_BYTES", 400_000)
    course = tmp_path / "bold"
    course.mkdir()
    for i in range(10):
        body = f"<p>Hello {i}</p>" + "<b></b>" * 3_000
        (course / f"p{i}.html").write_text(f"<html><body>{body}</body></html>", encoding="utf-8")
    (tmp_path / "localize.toml").write_text(CONFIG, encoding="utf-8")
    assert main(["extract", str(course), "--course", "bold", "--locales-dir", str(tmp_path / "locales"), "-q"]) == 0
    result = route(load_config(tmp_path / "localize.toml"), "bold", "es", source=str(course))
    folder = Path(result.kit_location)
    manifest = json.loads((folder / "kit.json").read_text(encoding="utf-8"))
    kept = manifest["preview"]["pages"]
    assert 0 < kept < 10 and manifest["preview"]["pages_left_out"] == 10 - kept
    size = sum(p.stat().st_size for p in (folder / "pages").iterdir()) + (folder / "preview.html").stat().st_size
    assert size < 400_000 + 200_000  # the cap, and the preview's own page and script


def _source_text(parts: list[Any]) -> str:
    """The page again from its parts, every unit as its source (what the preview shows first)."""

    def pieces(p: Any) -> str:
        return p if isinstance(p, str) else "".join(x if isinstance(x, str) else x["src"] for x in p)

    return "".join(p if isinstance(p, str) else pieces(p["src"]) for p in parts)


@pytest.mark.parametrize("course", [SAMPLE, *corpus_courses()[:3]], ids=lambda p: p.name)
def test_page_map_parts_give_back_each_page_and_every_unit(course: Path) -> None:
    for path in sorted(course.rglob("*.htm*")):
        text = decode_page(path.read_bytes(), path.name).text
        units = find_units(text, parse(text))
        index = EntryIndex()
        parts = page_parts(text, units, index)
        assert _source_text(parts) == text, path
        assert {(c, m) for c, m in index.entries()} == {(u.msgctxt, u.msgid) for u in units}, path


def test_route_source_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace(tmp_path, SAMPLE, COURSE)
    config = str(tmp_path / "localize.toml")
    args = ["route", "--course", COURSE, "--locale", "es", "--config", config]
    assert main([*args, "--source", str(tmp_path / "missing")]) == 2
    assert "error:" in capsys.readouterr().err and not (tmp_path / "inbox-es").exists()  # nothing written
    assert main([*args, "--source", str(SAMPLE)]) == 0
    (folder,) = (tmp_path / "inbox-es" / "kits" / COURSE / "es").iterdir()
    assert (folder / "preview.html").is_file() and (folder / "pages" / "index.html").is_file()


def test_the_preview_finds_variables_by_the_gates_rule() -> None:
    """The preview took "75% Exam" for a printf "% E" and showed an error that `check` and the gate
    never raise: its rule is now the gate's, character for character."""
    from localize.partners.checks import _BRACE, _PRINTF

    script = (Path(__file__).parents[1] / "src" / "localize" / "templates" / "kit_preview.js").read_text()
    assert f"const PRINTF = /{_PRINTF.pattern}|{_BRACE.pattern}/g;" in script
    assert _PRINTF.findall("Total grade = 75% Exam average + 25% Homework") == []
