"""The attribution notice: in every translated page of a pulled region, in the page's language,
from a sandboxed per-locale template; English fallback with a warning; hostile templates,
partner names, titles and URLs."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_publish import COURSE, setup_workspace, without_attribution

from localize.app.regions import publish
from localize.catalogs.po import read_po, write_po
from localize.catalogs.review import record_review
from localize.catalogs.workspace import Workspace
from localize.cli import main
from localize.config import load_config
from localize.errors import ConfigError
from localize.regions.pull import pull

NOTICE = re.compile(r'<div class="localize-attribution" role="note"([^>]*)>(.*?)</div>', re.S)
PARTNERS = """
[[partners]]
id = "cairo"
name = "Cairo <b>University</b> & \\"friends\\""
locales = ["ar"]
inbox = "inboxes/cairo"

[[partners]]
id = "lima"
name = "Universidad de Lima"
locales = ["es"]
inbox = "inboxes/lima"
"""
TEMPLATES = {
    "ar": "ترجمة {{ course_title }} ({{ licence }}) بواسطة {{ partners | join('، ') }} في {{ translated_on }}."
    ' <a href="{{ source_url }}">الصفحة الأصلية</a> <a href="{{ course_url }}">المقرر</a>',
    "es": "Traducción de «{{ course_title }}» ({{ licence }}) por {{ partners | join(', ') }}, {{ translated_on }}."
    ' <a href="{{ source_url }}">Página original</a>',
}


def workspace_with_ledger(tmp_path: Path, regions: str, templates: dict[str, str] | None = None) -> Path:
    config_path = setup_workspace(tmp_path, PARTNERS + regions)
    folder = tmp_path / "notices"
    folder.mkdir()
    for locale, text in (TEMPLATES if templates is None else templates).items():
        (folder / f"notice.{locale}.html").write_text(text, encoding="utf-8")
    ws = Workspace(str(tmp_path / "ws"))
    for locale, partner in (("ar", "cairo"), ("es", "lima")):
        catalog = read_po((tmp_path / "ws" / locale / "LC_MESSAGES" / f"{COURSE}.po").read_bytes())
        at = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
        record_review(ws, COURSE, locale, partner=partner, kit=f"k-{locale}", at=at, translated=catalog.entries)
    return config_path


def region(name: str, locales: str, **extra: str) -> str:
    more = "".join(f"{k} = {v}\n" for k, v in extra.items())
    return f'[[regions]]\nname = "{name}"\nlocation = "{name}"\nlocales = {locales}\n{more}\n'


def pages(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.html"))}


def test_every_page_of_a_pulled_region_carries_the_notice_in_its_language(tmp_path: Path) -> None:
    config_path = workspace_with_ledger(
        tmp_path, region("world", '["ar", "es"]', notice_templates='"notices"', licence='"CC BY-NC-SA 4.0 <i>x</i>"')
    )
    config = load_config(config_path)
    for locale in ("ar", "es"):
        [result] = publish(config, COURSE, locale)
        assert result.published and result.warnings == ()
        pull(str(tmp_path / "world"), COURSE, locale, tmp_path / "mirror")
    for locale, words in (("ar", "ترجمة"), ("es", "Traducción de")):
        site = pages(tmp_path / "mirror" / COURSE / locale)
        documents = {p: t for p, t in site.items() if "<body" in t}
        assert len(documents) >= 7
        for path, text in documents.items():
            [(attributes, body)] = NOTICE.findall(text)
            page_lang = re.search(r'<html[^>]*\blang="([^"]+)"', text)
            assert page_lang is not None and f'lang="{page_lang.group(1)}"' in attributes, path
            assert page_lang.group(1) == locale and "dir=" not in attributes  # inherits the page's direction
            assert body.startswith(words), body
            assert "Introduction to Signals and Systems" in body and "2026-03-14" in body
            assert "CC BY-NC-SA 4.0 &lt;i&gt;x&lt;/i&gt;" in body  # configuration values are escaped too
            original = "https://ocw.mit.edu/courses/intro-course/" + (
                "" if path == "index.html" else path.removesuffix("index.html")
            )
            assert f'<a href="{original}">' in body, body
        if locale == "ar":
            assert "Cairo &lt;b&gt;University&lt;/b&gt; &amp; &#34;friends&#34;" in body
            assert "<b>" not in body
        else:
            assert "Universidad de Lima" in body and "Cairo" not in body
    # the page itself is byte for byte what it was before the notice (spliced, not re-serialised)
    fragment = site.get("fragments/snippet.html")
    assert fragment is not None and "localize-attribution" not in fragment
    without_attribution((tmp_path / "mirror" / COURSE / "es" / "index.html").read_bytes())


def test_fallback_pages_keep_their_notice_and_english_is_the_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_path = workspace_with_ledger(
        tmp_path,
        region("strict", '["ar"]', page_threshold="30", notice_templates='"notices"')
        + region("plain", '["ar"]', course_url='"javascript:alert(1)//{course}"'),
        templates={},
    )
    po = tmp_path / "ws" / "ar" / "LC_MESSAGES" / f"{COURSE}.po"
    catalog = read_po(po.read_bytes())  # nothing translated: every page of "strict" falls back
    po.write_text(write_po(replace(catalog, entries=tuple(replace(e, msgstr="") for e in catalog.entries))))
    capsys.readouterr()
    assert main(["publish", "--course", COURSE, "--locale", "ar", "--config", str(config_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("warning: region ") for line in err)
    assert f"(in {tmp_path / 'notices'}: no notice.ar.html); its pages carry the English notice" in err[0]
    assert "(its notice_templates folder is not set); its pages carry the English notice" in err[1]
    assert main(["publish", "--course", COURSE, "--locale", "ar", "--config", str(config_path), "-q"]) == 0
    assert capsys.readouterr().err == ""  # --quiet: errors and the summary only
    for name in ("strict", "plain"):
        pull(str(tmp_path / name), COURSE, "ar", tmp_path / f"{name}-mirror")
    strict = pages(tmp_path / "strict-mirror" / COURSE / "ar")
    assert all("localize-attribution" not in t for t in strict.values())  # untranslated: the fallback notice
    assert sum("localize-notice" in t for t in strict.values()) >= 7
    plain = pages(tmp_path / "plain-mirror" / COURSE / "ar")
    [(attributes, body)] = NOTICE.findall(plain["pages/syllabus/index.html"])
    assert 'lang="en"' in attributes and 'dir="ltr"' in attributes  # English inside an Arabic page
    assert body.startswith("This page is a translation of") and "javascript" not in body
    assert "href" not in body.split("licensed under")[0]  # the course URL was not http(s): no link


def test_a_changed_template_republishes(tmp_path: Path) -> None:
    config_path = workspace_with_ledger(tmp_path, region("r", '["es"]', notice_templates='"notices"'))
    config = load_config(config_path)
    [first] = publish(config, COURSE, "es")
    assert not publish(config, COURSE, "es")[0].published
    (tmp_path / "notices" / "notice.es.html").write_text("Traducido. {{ licence }}", encoding="utf-8")
    [second] = publish(config, COURSE, "es")
    assert second.published and second.version != first.version


HOSTILE = {
    "syntax": ("Hola\n{% if %}\n", "notice.es.html, line 2: Expected an expression"),
    "undefined": ("Hola\n\n{{ nobody.here }}", "notice.es.html, line 3: UndefinedError"),
    "dunder": ("{{ ''.__class__.__mro__[1].__subclasses__() }}", "SecurityError"),
    "globals": ("{{ self._TemplateReference__context }}", "SecurityError: access to attribute"),
    "include": ("{% include '/etc/passwd' %}", "no loader for this environment"),
    "import": ("{% import 'x.html' as x %}", "no loader for this environment"),
    "huge-range": ("{% for i in range(5000) %}x{% endfor %}", "range of 5000 items"),
    "huge-number": ("{% for i in range(10**9) %}x{% endfor %}", "a number too large"),
    "nested-output": (
        "{% for i in range(999) %}{% for j in range(999) %}xx{% endfor %}{% endfor %}",
        "renders more than",
    ),
    "repeat": ("{{ 'x' * 100000000 }}", "a repetition of 100000000 items"),
    "power": ("{{ 10 ** 100000 }}", "** 100000"),
    "pad": ("{{ 'x'.ljust(1000000000) }}", ".ljust() is not allowed"),
    "center": ("{{ 'x' | center(1000000000) }}", "No filter named 'center'"),
    "format": ("{{ '%s' | format(licence) }}", "No filter named 'format'"),
    "recursion": ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "macros are not allowed"),
    "concat-doubling": (
        "{% set a = 'x' * 16000 %}{% set a = a ~ a %}{% set a = a ~ a %}{{ a | length }}",
        "the ~ operator (write {{ a }}{{ b }} instead) are not allowed",
    ),
    "plus-doubling": ("{% set a = 'x' * 16000 %}{% set a = a + a %}{{ a | length }}", "a sum too large"),
    "percent-width": ("{{ ('%0999999999d' % 1) | length }}", "string formatting with % is not allowed"),
    "format-width": ("{{ '{:>999999999}'.format(1) | length }}", ".format() is not allowed"),
    "join-chain": ("{% set a = 'x' * 16000 %}{{ ([a] * 16) | join | length }}", "a repetition of"),
    "replace": ("{% set a = 'x' * 16000 %}{{ a.replace('x', a) | length }}", ".replace() is not allowed"),
    "expandtabs": ("{{ ('\\t' * 16000).expandtabs(16000) | length }}", ".expandtabs() is not allowed"),
    "list-append": ("{% set a = [] %}{{ a.append(1) }}", "unsafe"),
    "autoescape-off": ("{% autoescape false %}{{ course_title }}{% endautoescape %}", "autoescape blocks"),
    "truncate-assert": ("{{ 'x' | truncate(10, end='y' * 20) }}", "AssertionError"),
    "loops-three-deep": (
        "{% for i in range(999) %}{% for j in range(999) %}{% for k in range(999) %}{% endfor %}{% endfor %}{% endfor %}",
        "loops nested 3 deep",
    ),
    "not-utf8": (b"\xff\xfe{{ licence }}", "not UTF-8"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_template_is_a_config_error_naming_the_file(tmp_path: Path, case: str) -> None:
    text, expected = HOSTILE[case]
    config_path = workspace_with_ledger(tmp_path, region("r", '["es"]', notice_templates='"notices"'), templates={})
    target = tmp_path / "notices" / "notice.es.html"
    target.write_bytes(text if isinstance(text, bytes) else text.encode())
    [result] = publish(load_config(config_path), COURSE, "es")
    assert not result.published and isinstance(result.error, ConfigError)
    assert f"notice template {target}" in result.message and expected in result.message, result.message
    assert not (tmp_path / "r" / "courses").exists()  # refused before anything went up


def test_hostile_title_and_partner_are_text(tmp_path: Path) -> None:
    config_path = workspace_with_ledger(tmp_path, region("r", '["es"]', notice_templates='"notices"'))
    index = tmp_path / "course" / "index.html"
    page = index.read_text(encoding="utf-8")
    page = re.sub(
        r"<title>.*?</title>", "<title>&lt;script&gt;alert(1)&lt;/script&gt;\u202e | x</title>", page, count=1
    )
    index.write_text(page, encoding="utf-8")
    publish(load_config(config_path), COURSE, "es")
    pull(str(tmp_path / "r"), COURSE, "es", tmp_path / "m")
    [(_, body)] = NOTICE.findall((tmp_path / "m" / COURSE / "es" / "index.html").read_text(encoding="utf-8"))
    assert "«&lt;script&gt;alert(1)&lt;/script&gt;»" in body and "<script" not in body and "\u202e" not in body


@pytest.mark.parametrize(
    ("locale", "files", "chosen"),
    [
        ("sr_RS@latin", ["notice.sr.html", "notice.sr@latin.html"], "notice.sr@latin.html"),  # not the Cyrillic one
        ("sr_RS@latin", ["notice.sr.html"], None),
        ("zh_TW", ["notice.zh.html"], None),  # zh is Simplified
        ("es_MX", ["notice.es.html"], "notice.es.html"),
        ("he", ["notice.iw.html"], "notice.iw.html"),  # written before iw became he
        ("he", ["notice.iw.html", "notice.he.html"], "notice.he.html"),
    ],
)
def test_a_notice_template_serves_its_locale_in_any_spelling_never_another_script(
    tmp_path: Path, locale: str, files: list[str], chosen: str | None
) -> None:
    """Found by an attacker's review: sr_RS@latin pages took notice.sr.html (Cyrillic), and an
    operator's notice.iw.html was ignored once iw became he."""
    from localize.config import Config, Region
    from localize.regions.attribution import _find_template

    (tmp_path / "notices").mkdir()
    for name in files:
        (tmp_path / "notices" / name).write_text(f"<p>{name}</p>", encoding="utf-8")
    config = Config(root=tmp_path)
    found = _find_template(config, Region(name="r", location="r", locales=[locale], notice_templates="notices"), locale)
    assert (None if found is None else Path(found.filename).name) == chosen


def test_the_title_of_an_older_ocw_site_comes_from_its_contents_page(tmp_path: Path) -> None:
    from localize.regions.attribution import course_title
    from localize.storage.sources import FolderSource

    (tmp_path / "contents").mkdir()
    (tmp_path / "contents" / "index.htm").write_text(
        "<html><head><title>Physics I: Classical Mechanics | Physics | MIT OpenCourseWare</title></head></html>"
    )
    assert course_title(FolderSource(tmp_path), "8.01") == "Physics I: Classical Mechanics"
    (tmp_path / "index.html").write_text("<title>Home &amp; more | MIT OpenCourseWare</title>")
    assert course_title(FolderSource(tmp_path), "8.01") == "Home & more"  # the site's own home first
    (tmp_path / "index.html").unlink()
    (tmp_path / "contents" / "index.htm").unlink()
    assert course_title(FolderSource(tmp_path), "8.01") == "8.01"  # no home page: the course id


def test_a_title_loses_every_bidi_control_and_mark() -> None:
    """U+061C (Arabic letter mark) reached a notice's course title; U+200E/U+200F were already caught."""
    from localize.regions.attribution import _clean

    assert _clean("Physics\u061c I\u200f \u202eII\u2069") == "Physics I II"
