"""Page operations: extract a course into its template of record, build it in a locale.

Apart from :mod:`localize.app.catalogs` so that the commands that only read and write pages
load the engine and the workspace, not the memory, the merge and the consistency checks.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from localize.catalogs.workspace import Workspace
from localize.engine.extract import ExtractResult, extract_course
from localize.ids import check_course_id
from localize.locales import check_locale
from localize.storage.sources import Source

if TYPE_CHECKING:
    from localize.engine.build import BuildResult

# The build half of the engine loads when a build runs: a process that extracts (one per
# course, for a coordinator) does not pay for it.

__all__ = ["ExtractOutcome", "build", "extract_to_workspace"]


@dataclass(frozen=True, slots=True)
class ExtractOutcome:
    result: ExtractResult
    path: str
    written: bool


def extract_to_workspace(
    workspace: Workspace,
    source: Source,
    course: str,
    *,
    source_locale: str = "en",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExtractOutcome:
    """Extract ``course`` into its template of record and remember where it came from."""
    check_course_id(course)
    result = extract_course(source, course, source_locale=source_locale, jobs=jobs, progress=progress)
    key = workspace.template_key(course)
    written = workspace.write(key, result.catalog)
    workspace.record_source(course, source.location)
    return ExtractOutcome(result, workspace.describe(key), written)


def build(
    workspace: Workspace,
    source: Source,
    course: str,
    locale: str,
    out: str,
    *,
    source_locale: str = "en",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    force: bool = False,
) -> BuildResult:
    """Build ``course`` in ``locale`` from its catalog of record into the folder ``out``:
    staged beside it and renamed into place, so ``out`` is never left half-written;
    refuses an ``out`` that is, holds or lies inside the source unless ``force``."""
    from localize.app.output import check_output, staged_output
    from localize.engine.build import build_course

    locale = check_locale(locale)
    target = check_output(source, out, force=force)
    catalog = workspace.read_catalog(course, locale)
    with staged_output(target) as staging:
        result = build_course(
            source, catalog, str(staging), locale, source_locale=source_locale, jobs=jobs, progress=progress
        )
    return result


def other_source(workspace: Workspace, course: str, location: str) -> str | None:
    """Where ``course`` was extracted from, when ``location`` (a local folder or file) is somewhere
    else: pages of another course, or one folder of it, would build half in the source language."""
    recorded = workspace.source_of(course)
    if recorded is None or "://" in recorded or "://" in location:
        return None
    return recorded if os.path.realpath(recorded) != os.path.realpath(location) else None
