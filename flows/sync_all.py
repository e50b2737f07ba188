"""Flow ``sync-all``: extract and update every course of a listing, one task per course.

Courses fan out on a bounded thread pool. Each course's task is cached on its
content hash and the tool version (with persisted results), so a rerun over
unchanged courses does no extraction work and a changed course reruns alone.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field

from flows import tasks
from flows.artifacts import stats_table


@flow(name="sync-all", task_runner=ThreadPoolTaskRunner(max_workers=4))
def sync_all(
    listing: str, locales_dir: str = "locales", max_courses: Annotated[int, Field(ge=1)] = 10_000
) -> list[dict[str, Any]]:
    """LISTING is a folder of course folders (or .zip files), a JSON list of
    {"course", "source"} or a text file of `COURSE SOURCE` lines. Returns, per
    course, the task's final state ("Completed", or "Cached" when nothing changed)."""
    logger = get_run_logger()
    courses = tasks.list_courses(listing)[:max_courses]
    revisions = {c["course"]: tasks.course_revision.submit(c["source"]) for c in courses}
    futures = {
        c["course"]: tasks.sync_course.submit(c["course"], c["source"], locales_dir, revisions[c["course"]])
        for c in courses
    }
    rows: list[dict[str, Any]] = []
    for course, future in futures.items():
        future.wait()
        state = future.state
        row: dict[str, Any] = {"course": course, "state": state.name}
        if state.is_completed():
            result = future.result()
            row |= {"pages": result["pages"], "entries": result["entries"], "failures": result["failures"]}
        else:
            row["error"] = str(state.message)
            logger.error("%s: %s", course, state.message)
        rows.append(row)
    stats_table(tasks.stats_rows(locales_dir, None), None)
    return rows
