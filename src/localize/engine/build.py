"""Catalog + course -> localized course.

Every page is the original bytes with translated spans spliced in. What was not
translated stays byte-for-byte as it was: attributes and their quoting,
entities, comments, scripts, whitespace. Untranslated and fuzzy entries fall
back to the source text; a translation whose placeholders do not match its
unit is reported and falls back too. Translated text is always escaped, so a
translation cannot add markup, scripts or URLs to a page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from localize.engine.extract import PageFailure
from localize.engine.htmltree import ICON_CLASSES
from localize.engine.pages import Lookup, localize_page, translations_of
from localize.errors import LocalizeError
from localize.model import Catalog, Unit
from localize.storage.base import check_key
from localize.storage.parallel import map_pages
from localize.storage.sources import PAGE_TOO_LARGE, Source, copy_file, is_page, read_page

__all__ = ["BuildResult", "build_course"]


@dataclass(frozen=True, slots=True)
class BuildResult:
    pages: int
    translated_pages: int  # pages where at least one translation was used
    copied: int
    translated: int
    fallback: int
    failures: tuple[PageFailure, ...]
    problems: tuple[PageFailure, ...]


@dataclass(frozen=True, slots=True)
class _BuildJob:
    out_dir: str
    translations: Lookup
    locale: str
    source_locale: str
    icon_classes: frozenset[str]


# (path, is page, translated, fallback, failure, problems)
_Built = tuple[str, bool, int, int, str | None, list[str]]


def _build_one(source: Source, path: str, job: _BuildJob) -> _Built:
    problems: list[str] = []
    try:
        target = Path(job.out_dir) / check_key(path)  # sources list only paths it keeps as they are
        data = read_page(source, path) if is_page(path) else None
        target.parent.mkdir(parents=True, exist_ok=True)
        if data is None:  # a file, or a page too large to parse: copied as it is (as publish does)
            copy_file(source, path, target)
            failure = f"{PAGE_TOO_LARGE}: copied as it is, not translated" if is_page(path) else None
            return path, False, 0, 0, failure, problems
    except LocalizeError as e:
        return path, False, 0, 0, str(e), problems

    def problem(unit: Unit, message: str) -> None:
        problems.append(f"translation of {unit.msgid[:60]!r} not used: {message}")

    try:
        built = localize_page(
            data,
            path,
            job.translations,
            job.locale,
            source_locale=job.source_locale,
            on_problem=problem,
            icon_classes=job.icon_classes,
        )
    except LocalizeError as e:
        target.write_bytes(data)  # never leave a hole in the site: the page stays in the source language
        return path, True, 0, 0, str(e), problems
    target.write_bytes(built.data)
    return path, True, built.translated, built.fallback, None, problems


def build_course(
    source: Source,
    catalog: Catalog,
    out_dir: str | os.PathLike[str],
    locale: str,
    *,
    source_locale: str = "en",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    icon_classes: Iterable[str] = ICON_CLASSES,
) -> BuildResult:
    """Write every file of ``source`` under ``out_dir``, pages localized.

    A page that cannot be read is copied unchanged and reported; translations
    that cannot be used are reported in ``problems`` and fall back to the source.
    """
    job = _BuildJob(str(out_dir), translations_of(catalog), locale, source_locale, frozenset(icon_classes))
    paths = source.paths()
    failures = [PageFailure(p.path or source.location, str(p)) for p in source.problems]
    problems: list[PageFailure] = []
    pages = with_translations = copied = translated = fallback = 0
    for path, page, t, f, failure, issues in map_pages(_build_one, source, paths, jobs, job):
        if progress is not None:
            progress(path)
        problems.extend(PageFailure(path, msg) for msg in issues)
        if failure is not None:
            failures.append(PageFailure(path, failure))
            continue
        if page:
            pages += 1
            translated += t
            fallback += f
            with_translations += t > 0
        else:
            copied += 1
    return BuildResult(pages, with_translations, copied, translated, fallback, tuple(failures), tuple(problems))
