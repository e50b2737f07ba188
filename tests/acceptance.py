"""Checks shared by the corpus and sample-course acceptance tests."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import polib
from babel.messages.pofile import read_po as babel_read_po
from lxml import html as lxml_html

from conftest import msgfmt_check
from localize.catalogs.po import write_po
from localize.engine.build import build_course
from localize.engine.extract import extract_course
from localize.engine.htmltree import ICON_CLASSES
from localize.model import Catalog
from localize.storage.courses import open_source
from localize.storage.sources import is_page

RAW_BLOCKS = re.compile(r"<(script|style|pre)\b.*?</\1\s*>", re.S | re.I)
SKIP = {"script", "style", "pre", "code", "noscript", "template"}


def extract(course_dir: Path, course: str, tmp: Path) -> tuple[Catalog, Path]:
    result = extract_course(open_source(course_dir), course)
    assert result.failures == (), result.failures
    pot = tmp / f"{course}.pot"
    pot.write_text(write_po(result.catalog), encoding="utf-8")
    return result.catalog, pot


def check_gettext_clients(path: Path) -> None:
    result = msgfmt_check(path)
    assert result.returncode == 0, result.stderr
    with path.open("rb") as f:
        babel_read_po(f, abort_invalid=True)
    polib.pofile(str(path))


def identical_tree(a: Path, b: Path) -> list[str]:
    """Files that differ or are missing, as `diff -r` would list them."""
    diff = subprocess.run(["diff", "-r", "-q", str(a), str(b)], capture_output=True, text=True)
    return diff.stdout.splitlines()


def msgen(pot: Path, out: Path) -> Path:
    subprocess.run(["msgen", str(pot), "-o", str(out)], check=True, capture_output=True)
    return out


def build(course_dir: Path, catalog: Catalog, locale: str, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    result = build_course(open_source(course_dir), catalog, out, locale)
    assert result.failures == () and result.problems == (), (result.failures, result.problems)


def is_icon(el: lxml_html.HtmlElement) -> bool:
    """An icon-font element (its text is a ligature such as "menu")."""
    return not ICON_CLASSES.isdisjoint((el.get("class") or "").split())


def icon_texts(page: bytes) -> list[str]:
    """The text of every icon-font element of a page, in order."""
    return [el.text_content() for el in lxml_html.fromstring(page).iter() if isinstance(el.tag, str) and is_icon(el)]


def letters(page: bytes) -> tuple[int, int]:
    """(letters, plain ASCII letters) of the visible text, outside script, style, pre, code, translate=no
    and icons."""
    root = lxml_html.fromstring(page)
    total = ascii_letters = 0

    def count(text: str | None) -> None:
        nonlocal total, ascii_letters
        for ch in text or "":
            if ch.isalpha():
                total += 1
                ascii_letters += ch.isascii()

    def visit(el: lxml_html.HtmlElement) -> None:
        if isinstance(el.tag, str):
            skipped = (
                el.tag in SKIP
                or el.get("translate") == "no"
                or "notranslate" in (el.get("class") or "").split()
                or el.get("data-translate-ignore") is not None
                or is_icon(el)
            )
            if not skipped:
                count(el.text)
                for child in el:
                    visit(child)
        count(el.tail)

    body = root.find("body")
    visit(body if body is not None else root)
    return total, ascii_letters


def pseudo_checks(course_dir: Path, out: Path) -> tuple[int, int]:
    """Pseudo output: raw blocks and icons identical, attributes translated; returns letter counts."""
    total = ascii_letters = 0
    for path in (p for p in open_source(course_dir).paths() if is_page(p)):
        src, built = (course_dir / path).read_bytes(), (out / path).read_bytes()
        src_text, built_text = src.decode("utf-8", "surrogateescape"), built.decode("utf-8", "surrogateescape")
        assert [m.group(0) for m in RAW_BLOCKS.finditer(src_text)] == [
            m.group(0) for m in RAW_BLOCKS.finditer(built_text)
        ], path
        assert icon_texts(built) == icon_texts(src), path  # icons are never translated
        root = lxml_html.fromstring(built)
        for el in root.iter("img"):
            alt = el.get("alt") or ""
            if re.search("[A-Za-z]", alt) and el.get("translate") != "no":
                assert alt.startswith("["), (path, alt)
        for el in root.iter("meta"):
            if (el.get("name") or el.get("property")) in ("description", "og:description"):
                content = el.get("content") or ""
                if re.search("[A-Za-z]{2}", content):
                    assert content.startswith("["), (path, content)
        for el in root.xpath("//*[@title]"):
            if re.search("[A-Za-z]", el.get("title")) and el.tag not in ("link", "style"):
                assert el.get("title").startswith("["), (path, el.get("title"))
        t, a = letters(built)
        total += t
        ascii_letters += a
    return total, ascii_letters


def empty_catalog(template: Catalog, locale: str) -> Catalog:
    return replace(template.with_header("Language", locale), header_flags=())
