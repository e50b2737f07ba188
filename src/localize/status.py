"""Where every course x locale stands: assignment, returns, published versions."""

from __future__ import annotations

from datetime import date
from typing import Any

from localize.config import Config
from localize.errors import LocalizeError
from localize.operations import workspace_stats
from localize.routing import Assignment, load_assignments
from localize.workspace import Workspace

__all__ = ["course_status"]


def course_status(config: Config, *, course: str | None = None, today: date | None = None) -> list[dict[str, Any]]:
    """One row per course x locale that has a catalog or an assignment."""
    from localize.publish import read_pointer, region_storage

    today = today or date.today()
    workspace = Workspace(config.workspace_location)
    stats = {(s.course, s.locale): s for s in workspace_stats(workspace, course=course)}
    latest: dict[tuple[str, str], Assignment] = {}
    for assignment in load_assignments(workspace, course=course):
        latest[(assignment.course, assignment.locale)] = assignment  # sorted by time: the last one wins
    rows: list[dict[str, Any]] = []
    pointers: dict[tuple[str, str, str], str] = {}
    for key in sorted(set(stats) | set(latest)):
        cid, locale = key
        s, a = stats.get(key), latest.get(key)
        published: dict[str, str] = {}
        for region in config.regions:
            if locale not in region.locales:
                continue
            try:
                pointer, _ = read_pointer(region_storage(region, config), cid, locale)
            except LocalizeError as e:
                published[region.name] = f"unreachable ({e.message})"
                continue
            published[region.name] = pointer["version"] if pointer else "-"
            if pointer:
                pointers[(region.name, cid, locale)] = pointer["version"]
        overdue = bool(a and a.state == "sent" and date.fromisoformat(a.due) < today)
        rows.append(
            {
                "course": cid,
                "locale": locale,
                "translated_percent": round(s.translated_percent, 1) if s else None,
                "fuzzy": s.fuzzy if s else None,
                "untranslated": s.untranslated if s else None,
                "partner": a.partner if a else None,
                "kit": a.kit if a else None,
                "state": a.state if a else "not assigned",
                "due": a.due if a else None,
                "overdue": overdue,
                "returns": len(a.returns) if a else 0,
                "published": published,
            }
        )
    return rows
