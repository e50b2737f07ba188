"""Precision and recall of the terminology check on a labelled set (issue 15, item 4).

The set is ``tests/fixtures/glossary/labelled.tsv``: Spanish and Arabic translations
written for this project, of real OCW entries (referred to by course and the sha256 of
their msgid: the corpus text stays outside the repository) and of sentences written for
the project, checked against the glossaries ``physics.es.csv`` and ``physics.ar.csv``.
Each row lists the findings a careful reviewer expects (``kind:term``, comma-separated).

Labelling rules (written before the labels, applied by hand to every row):

1. A finding is (entry, kind, term), kind one of ``missing``, ``forbidden``,
   ``translated``; an entry has each at most once per term.
2. A glossary term is *in the source* when its words occur in it in any inflection
   (plural, possessive), whatever the capitalisation, and in the glossary's sense.
   A word used in another sense is not the term (``derivative works``, "it spins
   around"). A term inside a longer glossary term is only the longer one
   (``angular momentum`` is not also ``momentum``).
3. ``missing``: a term in the source whose approved translation is absent from the
   translation. The approved translation counts as present in any inflection or
   agreement (number, gender, article and its contractions, Arabic article, attached
   prepositions and conjunctions, broken plurals), in a derived form a terminologist
   accepts as the same term (``álgebra matricial`` for *matrix algebra*), and when the
   language's grammar puts a complement between its words (Arabic ``حالات الطاقة الذاتية``
   for *energy eigenstates*). A synonym, paraphrase, near-synonym of another meaning
   (``rapidez`` for *velocity*) or an omission is missing, and so is a fixed phrase
   the glossary does not list (``espacio de momentos`` for *momentum space*).
4. ``forbidden``: a forbidden translation of a term in the source is used (in any
   inflection). It is also ``missing`` unless the approved translation is there too.
5. ``translated``: a do-not-translate term of the source is not in the translation
   as it is written in the source (case aside); a transliteration counts as translated.
6. A row without glossary terms, or that follows the glossary, expects nothing.

The measured numbers are in BENCHMARKS.md ("Terminology check"); the targets are a
precision of at least 0.9 and a recall of at least 0.8 for each language.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path

import pytest

from conftest import CORPUS
from localize.catalogs.glossary import Glossary
from localize.catalogs.glossary_files import read_glossary_file

HERE = Path(__file__).resolve().parent / "fixtures" / "glossary"
Finding = tuple[int, str, str]


def rows() -> list[tuple[str, str, str, str, set[tuple[str, str]]]]:
    out = []
    for line in (HERE / "labelled.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line:
            continue
        lang, ref, source, translation, labels = line.split("\t")
        expected = {tuple(x.split(":", 1)) for x in labels.split(",") if x}
        out.append((lang, ref, source, translation, expected))  # type: ignore[arg-type]
    return out


def glossary(lang: str) -> Glossary:
    data = (HERE / f"physics.{lang}.csv").read_bytes()
    return Glossary(lang, tuple(read_glossary_file(data, f"physics.{lang}.csv", lang)))


def corpus_sources(courses: set[str]) -> dict[tuple[str, str], str]:
    """(course, sha256 of msgid) -> msgid for the courses the set refers to."""
    from localize.engine.extract import extract_course
    from localize.storage.courses import open_source

    out: dict[tuple[str, str], str] = {}
    for course in sorted(courses):
        result = extract_course(open_source(CORPUS / course), course, jobs=1)
        for e in result.catalog.entries:
            out[(course, hashlib.sha256(e.msgid.encode("utf-8")).hexdigest())] = e.msgid
    return out


def test_the_set_is_large_enough_and_well_formed() -> None:
    data = rows()
    by_lang = defaultdict(int)
    for lang, ref, source, translation, expected in data:
        by_lang[lang] += 1
        assert translation and ((ref.startswith("corpus:") and not source) or (ref == "project" and source))
        assert all(kind in ("missing", "forbidden", "translated") for kind, _ in expected)
    assert by_lang["es"] >= 200 and by_lang["ar"] >= 100
    assert sum(1 for r in data if r[4]) >= 60  # enough positives to measure recall


def measure(sources: dict[tuple[str, str], str]) -> dict[str, dict[str, float]]:
    found: dict[str, tuple[set[Finding], set[Finding]]] = {}
    glossaries = {lang: glossary(lang) for lang in ("es", "ar")}
    for n, (lang, ref, source, translation, expected) in enumerate(rows()):
        if ref.startswith("corpus:"):
            _, course, digest = ref.split(":")
            source = sources[(course, digest)]
        got = {(f.kind, f.term) for f in glossaries[lang].check(source, translation)}
        want, have = found.setdefault(lang, (set(), set()))
        want |= {(n, k, t) for k, t in expected}
        have |= {(n, k, t) for k, t in got}
    out = {}
    for lang, (want, have) in found.items():
        tp = len(want & have)
        out[lang] = {
            "precision": tp / len(have) if have else 1.0,
            "recall": tp / len(want) if want else 1.0,
            "tp": tp,
            "fp": len(have - want),
            "fn": len(want - have),
        }
    return out


@pytest.mark.corpus
def test_precision_and_recall_on_the_labelled_set(corpus: Path) -> None:
    courses = {r[1].split(":")[1] for r in rows() if r[1].startswith("corpus:")}
    sources = corpus_sources(courses)
    missing = [r[1] for r in rows() if r[1].startswith("corpus:") and tuple(r[1].split(":")[1:]) not in sources]
    assert not missing, f"entries no longer in the corpus: {missing[:3]}"
    numbers = measure(sources)
    print(numbers)
    for lang in ("es", "ar"):
        assert numbers[lang]["precision"] >= 0.9, (lang, numbers[lang])
        assert numbers[lang]["recall"] >= 0.8, (lang, numbers[lang])
