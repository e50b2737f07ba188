"""Where every course x locale stands: assignment, returns, published versions.

:func:`course_locales` gathers it once; ``localize status`` and the dashboard
(:mod:`localize.views.dashboard`) only format it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from localize.catalogs import index
from localize.catalogs.stats import CatalogStats, share
from localize.catalogs.workspace import Workspace, workspace_stats
from localize.config import Config
from localize.errors import LocalizeError
from localize.locales import PSEUDO_LOCALE
from localize.partners.assignments import Assignment, latest_assignments
from localize.regions.layout import read_live_versions, region_storage

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
    oldest_unreviewed: str | None = None  # when the oldest translation waiting for review was accepted
    error: str | None = None  # the catalog is damaged (``stats`` is None then)


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
    indexes: dict[str, dict[str, Any]] = {}  # course -> its index entries, read once for both
    stats = {(s.course, s.locale): s for s in workspace_stats(workspace, course=course, locale=locale, indexes=indexes)}
    latest = {
        key: a for key, a in latest_assignments(workspace, course=course).items() if locale is None or key[1] == locale
    }
    live, unreachable_regions = _live_versions(config)
    out: list[CourseLocale] = []
    waiting: dict[str, dict[str, str]] = {}  # course -> locale -> oldest unreviewed (one index read per course)
    for key in sorted(set(stats) | set(latest)):
        if key[1] == PSEUDO_LOCALE and not pseudo and locale != PSEUDO_LOCALE:
            continue
        cid, row_locale = key
        a = latest.get(key)
        published: dict[str, str | None] = {}
        unreachable: dict[str, str] = {}
        for region in config.regions if config is not None else ():
            if row_locale not in region.locales:
                continue
            if region.name in unreachable_regions:
                unreachable[region.name] = unreachable_regions[region.name]
                continue
            published[region.name] = live[region.name].get((cid, row_locale))
        overdue = bool(a and a.open and date.fromisoformat(a.due) < today)
        if cid not in waiting:
            read = indexes.get(cid)
            waiting[cid] = (
                index.oldest_of(read) if read is not None else index.oldest_unreviewed(workspace.storage, cid)
            )
        s = stats.get(key)
        error = s.error if s is not None and s.error else None
        out.append(
            CourseLocale(
                cid,
                row_locale,
                None if error else s,
                a,
                published,
                unreachable,
                overdue,
                waiting[cid].get(row_locale),
                error,
            )
        )
    return out


def _live_versions(config: Config | None) -> tuple[dict[str, dict[tuple[str, str], str]], dict[str, str]]:
    """Every region's live versions from its index (one read and one client per region),
    and why a region could not be read."""
    live: dict[str, dict[tuple[str, str], str]] = {}
    unreachable: dict[str, str] = {}
    for region in config.regions if config is not None else ():
        try:
            live[region.name] = read_live_versions(region_storage(region, config))
        except LocalizeError as e:
            unreachable[region.name] = e.message
    return live, unreachable


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
                "reviewed": s.reviewed if s else None,
                "oldest_unreviewed": c.oldest_unreviewed,
                "partner": a.partner if a else None,
                "kit": a.kit if a else None,
                "state": a.shown if a else "not assigned",
                "due": a.due if a else None,
                "overdue": c.overdue,
                "returns": len(a.returns) if a else 0,
                "published": published,
            }
            | ({"error": c.error} if c.error else {})
        )
    return rows
