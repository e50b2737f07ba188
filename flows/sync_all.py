"""Flow ``sync-all``: extract and update every course of a listing, one task per
course and one per course x locale.

Items fan out on a bounded thread pool. Each course's extraction and each of its
catalog updates is cached on the course's content hash and the tool version (with
persisted results): a rerun over unchanged courses does no extraction work, a
changed course reruns alone, and a course x locale that failed (after its own
retries) is the only thing a rerun does again.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import Field

from flows import tasks
from flows.artifacts import stats_table
from flows.fanout import combined, outcome


@flow(name="sync-all", task_runner=ThreadPoolTaskRunner(max_workers=4))
def sync_all(
    listing: str, locales_dir: str = "locales", max_courses: Annotated[int, Field(ge=1)] = 10_000
) -> list[dict[str, Any]]:
    """LISTING is a folder of course folders (or .zip files), a JSON list of
    {"course", "source"} or a text file of `COURSE SOURCE` lines. Returns, per
    course, its state ("Completed"; "Cached" when nothing changed; "Failed" when the
    extraction or a locale failed, named in ``failures``) and each locale's state."""
    logger = get_run_logger()
    courses = tasks.list_courses(listing)[:max_courses]
    revisions = {c["course"]: tasks.course_revision.submit(c["source"]) for c in courses}
    templates = {
        c["course"]: tasks.sync_template.submit(c["course"], c["source"], locales_dir, revisions[c["course"]])
        for c in courses
    }
    course_of = {future.task_run_id: course for course, future in templates.items()}
    locales: dict[str, dict[str, PrefectFuture[dict[str, Any]]]] = {}
    for future in as_completed(list(templates.values())):
        course = course_of[future.task_run_id]
        _, result, _ = outcome(future)
        if result is not None:
            locales[course] = {
                locale: tasks.sync_locale.submit(course, locale, locales_dir, result["revision"])
                for locale in result["locales"]
            }
    rows: list[dict[str, Any]] = []
    for course, future in templates.items():
        state, result, error = outcome(future)
        row: dict[str, Any] = {"course": course, "state": state}
        if result is None:
            row["error"] = error
            logger.error("%s: %s", course, error)
            rows.append(row)
            continue
        failures = list(result["failures"])
        states: dict[str, str] = {}
        for locale, item in locales.get(course, {}).items():
            states[locale], _, error = outcome(item)
            if error is not None:
                failures.append(f"{locale}: {error}")
                logger.error("%s/%s: %s", course, locale, error)
        row |= {
            "state": combined([state, *states.values()]),
            "pages": result["pages"],
            "entries": result["entries"],
            "locales": states,
            "failures": failures,
        }
        rows.append(row)
    _, stats, error = outcome(tasks.stats_rows.submit(locales_dir, None))
    if stats is not None:
        stats_table(stats, None)
    else:  # a damaged catalog is already a failed item above; the table waits for its repair
        logger.warning("no statistics table: %s", error)
    return rows
