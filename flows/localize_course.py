"""Flow ``localize-course``: the whole chain for one course.

extract -> update each locale -> route each kit -> ingest returns -> publish each
locale to each region, each item a task over the library (retried alone); a
coordinator can rerun it any time: unchanged catalogs are not routed again and
unchanged bundles are not uploaded again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_link_artifact

from flows import tasks
from flows.artifacts import published_table, qa_summary, stats_table
from flows.fanout import outcome, publish_each, route_each
from flows.params import ConfigPath, CourseId, Locales
from localize.config import load_config


@flow(name="localize-course", task_runner=tasks.threads())
def localize_course(
    course: CourseId,
    source: str | None = None,
    locales: Locales | None = None,
    config: ConfigPath = "localize.toml",
    publish: bool = True,
) -> dict[str, Any]:
    """Extract and update COURSE (from SOURCE, or where it was extracted from
    before), send kits to the partners serving LOCALES, take in every returned
    file waiting in their inboxes, and publish to the regions."""
    logger = get_run_logger()
    settings = load_config(config)
    locales_dir = settings.workspace_location
    if source is None:
        from localize.catalogs.workspace import Workspace

        source = Workspace(locales_dir).source_of(course)
        if source is None:
            raise ValueError(f"no source for {course!r}: pass source= (a folder, .zip, s3:// or https:// location)")
    wanted = locales or tasks.configured_locales(config, course)
    updated = tasks.extract_template(source, course, locales_dir, settings.workspace.source_locale, wanted)
    items = {locale: tasks.update_locale.submit(course, locale, locales_dir) for locale in updated["locales"]}
    catalogs = []
    for locale, item in items.items():
        _, row, error = outcome(item)
        catalogs.append(row or {"course": course, "locale": locale, "written": False, "error": error})
        if error is not None:
            updated["failures"].append(f"{locale}: {error}")
    updated["catalogs"] = catalogs
    routed = route_each(config, course, wanted, source)  # kits carry the pages and preview.html
    ingested = tasks.ingest_returns(config, None)
    qa_summary(ingested)
    published = publish_each(config, course, wanted, None) if publish else []
    if publish:
        published_table(published, course)
        # the regions' public pages read the whole fleet: once per run, not once per course
        tasks.publish_dashboards(config, sorted({r["region"] for r in published if r.get("published")}))
    stats = tasks.stats_rows(locales_dir, course)
    stats_table(stats, course)
    dashboard = tasks.write_report(config)
    create_link_artifact(
        Path(dashboard).resolve().as_uri(),
        link_text="progress dashboard",
        key="dashboard",
        description="Per partner and locale: progress, assignments, QA, published versions",
    )
    problems = updated["failures"] + [e for r in ingested for e in r.get("errors", [])]
    for p in problems:
        logger.warning("%s", p)
    return {
        "course": course,
        "dashboard": dashboard,
        "updated": updated,
        "routed": routed,
        "ingested": ingested,
        "published": published,
        "stats": stats,
        "problems": problems,
    }
