"""Publishing and region housekeeping, as the CLI and the flows do them."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from localize.catalogs.workspace import Workspace
from localize.config import Config
from localize.errors import LocalizeError
from localize.locales import check_locale
from localize.partners.assignments import load_assignments
from localize.regions import layout
from localize.regions.export import ExportResult, export_region
from localize.regions.publish import PublishResult
from localize.regions.publish import publish as publish_to_regions
from localize.regions.rollback import rollback as rollback_region
from localize.regions.signing import region_signer
from localize.storage.base import Storage
from localize.views.dashboard import collect, render_dashboard

__all__ = [
    "VersionInfo",
    "export",
    "list_versions",
    "publish",
    "publish_dashboard",
    "publish_dashboards",
    "qa_summary",
    "rollback",
]


def qa_summary(workspace: Workspace, course: str, locale: str) -> dict[str, Any]:
    """What the partners' returns did to this catalog, for the manifest."""
    assignments = load_assignments(workspace, course=course, locale=locale)
    if not assignments:
        return {"assignments": 0}
    last = assignments[-1]
    returns = [r for a in assignments for r in a.returns]
    return {
        "assignments": len(assignments),
        "last_kit": last.kit,
        "last_state": last.state,
        "returns": len(returns),
        "accepted": sum(int(r.get("accepted", 0)) for r in returns),
        "rejected": sum(int(r.get("rejected", 0)) for r in returns),
        "conflicts": sum(int(r.get("conflicts", 0)) for r in returns),
    }


def publish_dashboard(storage: Storage, workspace: Workspace, config: Config, region: str) -> None:
    """The region's public progress page, beside its index: only the courses and
    locales it serves, nothing about partners or their contacts (the
    coordinators' own report, ``localize report``, keeps everything)."""
    page = render_dashboard(collect(workspace, config, region=region, public=True))
    storage.put("report.html", page.encode("utf-8"), content_type="text/html; charset=utf-8")


def publish(
    config: Config,
    course: str,
    locale: str,
    *,
    region: str | None = None,
    source: str | None = None,
    dry_run: bool = False,
    on_upload: Callable[[str, int], None] | None = None,
    dashboard: bool = False,
    jobs: int | None = None,
    repair: bool = False,
) -> list[PublishResult]:
    """Publish ``course`` in ``locale`` to its regions, recording the QA summary: reads and
    writes only what this course and locale need, whatever the size of the fleet.
    With ``dashboard``, the public page of each region that received a new version is
    refreshed too, which reads the whole fleet; a run that publishes many courses calls
    :func:`publish_dashboards` once at its end instead."""
    locale = check_locale(locale)
    workspace = Workspace(config.workspace_location)
    results = publish_to_regions(
        config,
        course,
        locale,
        region=region,
        source=source,
        dry_run=dry_run,
        on_upload=on_upload,
        qa=qa_summary(workspace, course, locale),
        jobs=jobs,
        repair=repair,
    )
    if dashboard:
        publish_dashboards(config, sorted({r.region for r in results if r.published}))
    return results


def publish_dashboards(config: Config, regions: list[str]) -> list[str]:
    """Refresh the public progress page of each of ``regions``; returns where they are."""
    workspace = Workspace(config.workspace_location)
    out = []
    for name in regions:
        storage = layout.region_storage(config.region(name), config)
        publish_dashboard(storage, workspace, config, name)
        out.append(storage.describe("report.html"))
    return out


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: str
    live: bool
    created: str
    files: int
    translated_percent: object
    error: str | None = None  # its manifest could not be read (damaged, tampered with): the rest are listed


def list_versions(config: Config, region: str, course: str, locale: str) -> list[VersionInfo]:
    """Every published version of ``course``/``locale`` in ``region``, oldest first."""
    locale = check_locale(locale)
    settings = config.region(region)
    settings.check_serves(locale)  # es_ES in a region of es: a mistake, not "no versions"
    storage = layout.region_storage(settings, config)
    pointer, _ = layout.read_pointer(storage, course, locale)
    if pointer is None and layout.older_spelling(storage, course, locale):
        raise layout.never_published(storage, region, course, locale)
    live = pointer["version"] if pointer else None
    out = []
    for v in layout.versions(storage, course, locale):
        try:
            m = layout.read_manifest(storage, course, locale, v)
        except (LocalizeError, FileNotFoundError) as e:  # one damaged version hides none of the others
            out.append(VersionInfo(v, v == live, "", 0, "?", error=str(e)))
            continue
        out.append(VersionInfo(v, v == live, m.created, len(m.files), m.stats.get("translated_percent", "?")))
    return out


def rollback(config: Config, region: str, course: str, locale: str, to: str | None = None) -> tuple[str, str]:
    """Point ``region`` back to an earlier version; returns (from, to)."""
    settings = config.region(region)
    locale = check_locale(locale)
    settings.check_serves(locale)
    storage = layout.region_storage(settings, config)
    signer = region_signer(settings, config)
    return rollback_region(storage, region, course, locale, to, signer=signer)


def export(
    config: Config,
    region: str,
    to: str | os.PathLike[str],
    *,
    courses: list[str] | None = None,
    since: str | os.PathLike[str] | None = None,
    progress: Callable[[str, int], None] | None = None,
) -> ExportResult:
    """Write ``region``'s live versions (of ``courses``) into ``to`` for a drive, signed with the
    region's signing key when it has one; ``since``: an earlier export, for a delta."""
    settings = config.region(region)
    return export_region(
        layout.region_storage(settings, config),
        region,
        to,
        courses=courses,
        since=since,
        signer=region_signer(settings, config),
        progress=progress,
    )
