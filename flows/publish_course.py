"""Flow ``publish-course``: build a course's locales and publish them to their regions,
one task per locale x region (retried alone)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows import tasks
from flows.artifacts import published_table
from flows.fanout import publish_each
from flows.params import ConfigPath, CourseId, Locales


@flow(name="publish-course", task_runner=tasks.threads())
def publish_course(
    course: CourseId,
    locales: Locales | None = None,
    region: str | None = None,
    config: ConfigPath = "localize.toml",
) -> list[dict[str, Any]]:
    """Publish each locale (default: every locale a partner serves) to the regions
    that serve it: only new objects are uploaded, the live pointer is swapped
    atomically, an unchanged course uploads nothing."""
    logger = get_run_logger()
    wanted = locales or tasks.configured_locales(config, course)
    rows = publish_each(config, course, wanted, region)
    for r in rows:
        logger.info("%s/%s %s: %s", course, r["locale"], r.get("region", "-"), r.get("message") or r.get("error"))
    published_table(rows, course)
    # the regions' public pages read the whole fleet: once per run, not once per course
    tasks.publish_dashboards(config, sorted({r["region"] for r in rows if r.get("published")}))
    return rows
