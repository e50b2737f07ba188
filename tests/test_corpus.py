"""Acceptance on the real OCW corpus (../shared/corpus/ocw): 156 pages, 10 courses.

Skipped with a clear reason when the corpus is absent; tests/test_sample_course.py
runs the same checks on the project's own sample course.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from acceptance import build, check_gettext_clients, empty_catalog, extract, identical_tree, msgen, pseudo_checks
from conftest import corpus_courses
from localize.catalogs.po import read_po
from localize.engine.pseudo import pseudo_catalog
from localize.storage.courses import open_source
from localize.storage.sources import is_page

pytestmark = pytest.mark.corpus
COURSES = corpus_courses()


def test_every_page_of_the_corpus_extracts(corpus: Path) -> None:
    pages = sum(1 for c in COURSES for p in open_source(c).paths() if is_page(p))
    assert pages == 156
    from localize.engine.extract import extract_course

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
    from localize.catalogs.po import write_po

    po.write_text(write_po(pseudo), encoding="utf-8")
    check_gettext_clients(po)
    build(course_dir, pseudo, "qps-ploc", tmp_path / "qps")
    total, plain = pseudo_checks(course_dir, tmp_path / "qps")
    assert total > 1000
    assert plain / total <= 0.01, f"{plain} of {total} letters left in plain ASCII"


def test_memory_fills_a_second_course_from_the_first(corpus: Path, tmp_path: Path) -> None:
    """Extract all courses; translate one into a test locale; init a second course in
    that locale: the text they share comes out translated, the rest does not."""
    from dataclasses import replace

    import polib

    from localize.app.catalogs import init_locale
    from localize.catalogs.stats import catalog_stats
    from localize.catalogs.workspace import Workspace
    from localize.engine.extract import extract_course
    from localize.engine.pseudo import pseudo_text

    workspace = Workspace(str(tmp_path / "ws"))
    for course_dir in COURSES:
        workspace.write(
            workspace.template_key(course_dir.name), extract_course(open_source(course_dir), course_dir.name).catalog
        )
    first, second = "8.05-quantum-physics-ii-fall-2013", "8.04-quantum-physics-i-spring-2016"
    init_locale(workspace, first, "eo")
    key = workspace.catalog_key(first, "eo")
    done = workspace.read(key)
    done = replace(done, entries=tuple(replace(e, msgstr=pseudo_text(e.msgid)) for e in done.entries))
    workspace.write(key, done)
    result = init_locale(workspace, second, "eo")
    translated = done.index()
    catalog = workspace.read_catalog(second, "eo")
    shared = [e for e in catalog.entries if e.key in translated]
    assert len(shared) > 50 and result.memory.exact == len(shared)
    for e in catalog.entries:
        if e.key in translated:
            assert e.translated and e.msgstr == translated[e.key].msgstr, e.msgid
        else:
            assert not e.translated, e.msgid
    for cid in (first, second):
        path = tmp_path / "ws" / "eo" / "LC_MESSAGES" / f"{cid}.po"
        check_gettext_clients(path)
        p = polib.pofile(str(path))
        s = catalog_stats(workspace.read_catalog(cid, "eo"), cid, "eo")
        assert (s.translated, s.fuzzy, s.untranslated) == (
            len(p.translated_entries()),
            len(p.fuzzy_entries()),
            len(p.untranslated_entries()),
        )
