"""The project's own sample course: every engine feature, without ../shared."""

from __future__ import annotations

from pathlib import Path

from acceptance import build, check_gettext_clients, empty_catalog, extract, identical_tree, msgen, pseudo_checks
from conftest import SAMPLE
from localize.catalogs.po import read_po, write_po
from localize.engine.pseudo import pseudo_catalog


def test_sample_course_identity_pseudo_and_clients(tmp_path: Path) -> None:
    template, pot = extract(SAMPLE, "intro-course", tmp_path)
    check_gettext_clients(pot)
    build(SAMPLE, empty_catalog(template, "en"), "en", tmp_path / "empty")
    assert identical_tree(SAMPLE, tmp_path / "empty") == []
    en = read_po(msgen(pot, tmp_path / "en.po").read_bytes(), "en.po")
    build(SAMPLE, en, "en", tmp_path / "msgen")
    assert identical_tree(SAMPLE, tmp_path / "msgen") == []
    pseudo = pseudo_catalog(template, "intro-course")
    (tmp_path / "qps.po").write_text(write_po(pseudo), encoding="utf-8")
    check_gettext_clients(tmp_path / "qps.po")
    build(SAMPLE, pseudo, "qps-ploc", tmp_path / "qps")
    total, plain = pseudo_checks(SAMPLE, tmp_path / "qps")
    assert total > 500 and plain / total <= 0.01


def test_sample_course_catalog_content(tmp_path: Path) -> None:
    template, _ = extract(SAMPLE, "intro-course", tmp_path)
    index = template.index()
    ids = {msgid for _, msgid in index}
    # site chrome on every page is one entry listing every page
    footer = [e for e in template.entries if "CC0" in e.msgid and e.msgctxt is None]
    assert footer and len(footer[0].references) >= 7
    # never extracted: JSON-LD, scripts, code blocks, math, translate="no"
    assert not any("@context" in i or "querySelector" in i or "def " in i or "omega" in i for i in ids)
    assert not any(i in ("6.S01", "Signals Lab Toolkit") for i in ids)
    # the author's context and the attribute context
    assert ("verb", "Record") in index and (None, "Record") in index
    assert ("attribute", "Search this course") in index
    # nav runs are split into one unit per link
    assert (None, "Syllabus") in index and (None, "Calendar") in index
    # no attribute values in msgids
    assert not any("href=" in i or "class=" in i or "src=" in i for i in ids)
