"""Flow ``route-course``: send translation kits for a course to its partners, one task per locale."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from flows import tasks
from flows.fanout import route_each
from flows.params import ConfigPath, CourseId, Locales


@flow(name="route-course", task_runner=tasks.threads())
def route_course(
    course: CourseId, locales: Locales | None = None, config: ConfigPath = "localize.toml"
) -> list[dict[str, Any]]:
    """Write a kit (each locale's catalog brought up to date and filled from memory;
    the catalog of record is not written) into the inbox of the
    partner serving it (default: every locale some partner serves for the course).
    An unchanged catalog is not sent twice."""
    logger = get_run_logger()
    wanted = locales or tasks.configured_locales(config, course)
    rows = route_each(config, course, wanted)
    for r in rows:
        if "error" in r:
            logger.error("%s/%s: %s", course, r["locale"], r["error"])
        elif r["sent"]:
            logger.info("%s/%s: kit %s sent to %s (due %s)", course, r["locale"], r["kit"], r["partner"], r["due"])
    return rows
