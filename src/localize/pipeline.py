"""Plain-data entry points for orchestration (flows/ wraps these, one line a task).

Each takes and returns only strings, numbers, lists and dicts, so results can be
persisted, cached and sent between processes and machines.
"""

from __future__ import annotations

from typing import Any

from localize.extract import extract_course
from localize.po import write_po
from localize.sources import open_source
from localize.workspace import Workspace, check_course_id

__all__ = ["extract_template", "list_source_pages", "save_template"]


def list_source_pages(source: str) -> list[str]:
    """Relative paths of the HTML pages of a course folder or archive."""
    from localize.sources import is_page

    return [p for p in open_source(source).paths() if is_page(p)]


def extract_template(source: str, course: str, source_locale: str = "en", jobs: int | None = None) -> dict[str, Any]:
    """Extract a course; returns the template text and what happened."""
    result = extract_course(open_source(source), check_course_id(course), source_locale=source_locale, jobs=jobs)
    return {
        "course": course,
        "template": write_po(result.catalog),
        "pages": result.pages,
        "units": result.units,
        "entries": len(result.catalog.entries),
        "failures": [str(f) for f in result.failures],
    }


def save_template(locales_dir: str, course: str, template: str) -> dict[str, Any]:
    """Write the template into the workspace (atomically; unchanged files are left alone)."""
    from localize.po import read_po

    workspace = Workspace(locales_dir)
    key = workspace.template_key(course)
    written = workspace.write(key, read_po(template, key))
    return {"path": workspace.describe(key), "written": written}
