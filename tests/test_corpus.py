"""Acceptance on the real OCW corpus (../shared/corpus/ocw): 156 pages, 10 courses.

Skipped with a clear reason when the corpus is absent; tests/test_sample_course.py
runs the same checks on the project's own sample course.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from acceptance import build, check_gettext_clients, empty_catalog, extract, identical_tree, msgen, pseudo_checks
from conftest import corpus_courses
from localize.po import read_po
from localize.pseudo import pseudo_catalog
from localize.sources import is_page, open_source

pytestmark = pytest.mark.corpus
COURSES = corpus_courses()


def test_every_page_of_the_corpus_extracts(corpus: Path) -> None:
    pages = sum(1 for c in COURSES for p in open_source(c).paths() if is_page(p))
    assert pages == 156
    from localize.extract import extract_course

    result = extract_course(open_source(corpus), "corpus")
    assert (result.pages, result.failures) == (156, ())
    assert len(result.catalog.entries) > 6000


@pytest.mark.parametrize("course_dir", COURSES, ids=[c.name for c in COURSES])
def test_identity_and_pseudo_per_course(course_dir: Path, tmp_path: Path) -> None:
    template, pot = extract(course_dir, course_dir.name, tmp_path)
    check_gettext_clients(pot)
    # msgstr all empty -> identical
    build(course_dir, empty_catalog(template, "en"), "en", tmp_path / "empty")
    assert identical_tree(course_dir, tmp_path / "empty") == []
    # msgstr == msgid (GNU msgen) -> identical
    en = read_po(msgen(pot, tmp_path / "en.po").read_bytes(), "en.po")
    build(course_dir, en, "en", tmp_path / "msgen")
    assert identical_tree(course_dir, tmp_path / "msgen") == []
    # pseudo: every script/style/pre identical, attributes translated, <= 1 % plain ASCII letters
    pseudo = pseudo_catalog(template, course_dir.name)
    po = tmp_path / "qps.po"
    from localize.po import write_po

    po.write_text(write_po(pseudo), encoding="utf-8")
    check_gettext_clients(po)
    build(course_dir, pseudo, "qps-ploc", tmp_path / "qps")
    total, plain = pseudo_checks(course_dir, tmp_path / "qps")
    assert total > 1000
    assert plain / total <= 0.01, f"{plain} of {total} letters left in plain ASCII"
