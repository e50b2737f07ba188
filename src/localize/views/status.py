"""Where every course x locale stands: assignment, returns, published versions.

:func:`course_locales` gathers it once; ``localize status`` and the dashboard
(:mod:`localize.views.dashboard`) only format it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from localize.catalogs.stats import CatalogStats, share
from localize.catalogs.workspace import Workspace, workspace_stats
from localize.config import Config
from localize.errors import LocalizeError
from localize.locales import PSEUDO_LOCALE
from localize.partners.routing import Assignment, load_assignments
from localize.regions.layout import read_pointer, region_storage

__all__ = ["CourseLocale", "course_locales", "course_status"]


@dataclass(frozen=True)
class CourseLocale:
    course: str
    locale: str
    stats: CatalogStats | None
    assignment: Assignment | None  # the latest one
    published: dict[str, str | None]  # region -> live version (None: not published)
    unreachable: dict[str, str]  # region -> why its pointer could not be read
    overdue: bool


def course_locales(
    workspace: Workspace,
    config: Config | None = None,
    *,
    course: str | None = None,
    locale: str | None = None,
    pseudo: bool = False,
    today: date | None = None,
) -> list[CourseLocale]:
    """Every course x locale that has a catalog or an assignment, sorted. The
    pseudo-locale (qps-ploc) is left out unless ``pseudo`` or asked for by name."""

    today = today or date.today()
    stats = {(s.course, s.locale): s for s in workspace_stats(workspace, course=course, locale=locale)}
    latest: dict[tuple[str, str], Assignment] = {}
    for assignment in load_assignments(workspace, course=course):
        if locale is None or assignment.locale == locale:
            latest[(assignment.course, assignment.locale)] = assignment  # sorted by time: the last one wins
    out: list[CourseLocale] = []
    for key in sorted(set(stats) | set(latest)):
        if key[1] == PSEUDO_LOCALE and not pseudo and locale != PSEUDO_LOCALE:
            continue
        cid, locale = key
        a = latest.get(key)
        published: dict[str, str | None] = {}
        unreachable: dict[str, str] = {}
        for region in config.regions if config is not None else ():
            if locale not in region.locales:
                continue
            try:
                pointer, _ = read_pointer(region_storage(region, config), cid, locale)
            except LocalizeError as e:
                unreachable[region.name] = e.message
                continue
            published[region.name] = pointer["version"] if pointer else None
        overdue = bool(a and a.state == "sent" and date.fromisoformat(a.due) < today)
        out.append(CourseLocale(cid, locale, stats.get(key), a, published, unreachable, overdue))
    return out


def course_status(
    config: Config,
    *,
    course: str | None = None,
    locale: str | None = None,
    pseudo: bool = False,
    workspace: str | None = None,
    today: date | None = None,
) -> list[dict[str, Any]]:
    """One row per course x locale, for ``localize status`` (``workspace`` overrides the configuration's)."""
    rows: list[dict[str, Any]] = []
    found = course_locales(
        Workspace(workspace or config.workspace_location),
        config,
        course=course,
        locale=locale,
        pseudo=pseudo,
        today=today,
    )
    for c in found:
        s, a = c.stats, c.assignment
        published = {region: version or "-" for region, version in c.published.items()}
        published |= {region: f"unreachable ({why})" for region, why in c.unreachable.items()}
        rows.append(
            {
                "course": c.course,
                "locale": c.locale,
                "translated_percent": share(s.translated_percent) if s else None,
                "translated_words_percent": share(s.translated_words_percent) if s else None,
                "fuzzy": s.fuzzy if s else None,
                "untranslated": s.untranslated if s else None,
                "partner": a.partner if a else None,
                "kit": a.kit if a else None,
                "state": a.state if a else "not assigned",
                "due": a.due if a else None,
                "overdue": c.overdue,
                "returns": len(a.returns) if a else 0,
                "published": published,
            }
        )
    return rows
