"""Flows ``sync-all`` and ``sync-shard``: extract and update every course of a listing,
one task per course and one per course x locale.

Items fan out on a bounded thread pool. Each course's extraction and each of its
catalog updates is cached on the course's content revision and the tool version (with
persisted results): a rerun over unchanged courses does no extraction work, a
changed course reruns alone, and a course x locale that failed (after its own
retries) is the only thing a rerun does again. A cached result stands only while the
workspace holds the template or catalog it left (their versions are compared): the
cache lives outside the workspace, which may have been wiped, restored or reverted. The revision itself is computed from
file versions (stat, ETag) and remembered hashes, so an unchanged course is not read;
one whose last sync completed at that revision runs no task at all
(:mod:`localize.app.fingerprints`).

With ``shards`` > 1 the listing is split by course id (:mod:`localize.app.shards`) and
each shard is a ``sync-shard`` flow run: of the deployment ``shard_deployment`` (so
that every worker of its pool takes shards), or, without one, in this process one
after the other. The shards' rows are combined; a shard that failed as a whole is
reported course by course.
"""

from __future__ import annotations

from typing import Annotated, Any

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture, as_completed
from pydantic import Field

import localize.app.orchestration as pipeline
from flows import tasks
from flows.artifacts import stats_table
from flows.fanout import combined, outcome
from flows.shards import SHARD_WAIT_SECONDS, run_shards


def sync_courses(courses: list[dict[str, str]], locales_dir: str) -> list[dict[str, Any]]:
    """The tasks of one sync over ``courses``: a row per course (see :func:`sync_all`).
    One task fingerprints every course; a course fully synced at its current revision
    runs nothing more (a ``Cached`` row from its last result); the others run their
    cached extraction and catalog tasks, and those that end fully synced are recorded."""
    logger = get_run_logger()
    _, prints, error = outcome(tasks.course_fingerprints.submit(courses, locales_dir))
    if prints is None:
        logger.error("cannot fingerprint the courses: %s", error)
        return [{"course": c["course"], "state": "Failed", "error": f"cannot fingerprint: {error}"} for c in courses]
    templates: dict[str, PrefectFuture[dict[str, Any]]] = {
        f["course"]: tasks.sync_template.submit(f["course"], f["source"], locales_dir, f["revision"])
        for f in prints
        if "error" not in f and f["synced"] is None
    }
    course_of = {future.task_run_id: course for course, future in templates.items()}
    locales: dict[str, dict[str, PrefectFuture[dict[str, Any]]]] = {}
    held: dict[str, dict[str, str | None]] = {}  # course -> locale -> the catalog's version before its task
    for future in as_completed(list(templates.values())):
        course = course_of[future.task_run_id]
        state, result, _ = outcome(future)
        if result is None:
            continue
        now = _held(course, result["locales"], locales_dir) if state == "Cached" else None
        if state == "Cached" and (now is None or now["template"] != result.get("version")):
            # a cached extraction whose template the workspace no longer holds (the course went
            # back to an earlier content, the workspace was wiped or restored): done again
            templates[course] = tasks.sync_template.with_options(refresh_cache=True).submit(
                course, _source(prints, course), locales_dir, result["revision"]
            )
            state, result, _ = outcome(templates[course])
            if result is None:
                continue
        wanted = list(result["locales"])
        if state == "Cached" and now is not None:
            held[course] = now["locales"]
            # the catalogs it has now (a sync brings those up to date, as a fresh extraction lists
            # them: one deleted since the cached run stays deleted, as `init` alone starts one)
            wanted = [locale for locale in wanted if now["locales"].get(locale) is not None]
        # after a fresh extraction every catalog is merged again, whatever a cached run left
        task = tasks.sync_locale if state == "Cached" else tasks.sync_locale.with_options(refresh_cache=True)
        locales[course] = {locale: task.submit(course, locale, locales_dir, result["revision"]) for locale in wanted}
    rows: list[dict[str, Any]] = []
    done: list[dict[str, Any]] = []
    for found in prints:
        course = found["course"]
        row: dict[str, Any] = {"course": course, "state": "Failed", "hashed": found.get("hashed", 0)}
        if "error" in found:
            row["error"] = f"cannot read the course: {found['error']}"
            logger.error("%s: %s", course, row["error"])
            rows.append(row)
            continue
        if found["synced"] is not None:
            result = found["synced"]
            states = dict.fromkeys(result["locales"], "Cached")
            rows.append(row | _course_row("Cached", result, states, list(result["failures"])))
            continue
        state_name, result, error = outcome(templates[course])
        if result is None:
            rows.append(row | {"state": state_name, "error": error})
            logger.error("%s: %s", course, error)
            continue
        failures = list(result["failures"])
        states = {}
        versions: dict[str, Any] = {}  # what the workspace holds once synced: the next sync checks it
        for locale, item in locales.get(course, {}).items():
            states[locale], merged, error = outcome(item)
            if states[locale] == "Cached" and (merged or {}).get("version", "") != held.get(course, {}).get(locale):
                # a cached merge of a catalog the workspace no longer holds as it left it: merged again
                again = tasks.sync_locale.with_options(refresh_cache=True)
                states[locale], merged, error = outcome(again.submit(course, locale, locales_dir, result["revision"]))
            versions[locale] = (merged or {}).get("version")
            if error is not None:
                failures.append(f"{locale}: {error}")
                logger.error("%s/%s: %s", course, locale, error)
        row |= _course_row(state_name, result, states, failures)
        rows.append(row)
        if row["state"] != "Failed":
            result = result | {"catalog_versions": versions}
            done.append({"course": course, "source": found["source"], "revision": found["revision"], "result": result})
    if done:
        _, _, error = outcome(tasks.mark_synced.submit(locales_dir, done))
        if error is not None:  # the next run checks these courses' cached tasks again: slower, not wrong
            logger.warning("could not record the synced courses: %s", error)
    return rows


def _held(course: str, locales: list[str], locales_dir: str) -> dict[str, Any] | None:
    """The versions the workspace holds of the course's template and catalogs (None: unknown)."""
    _, now, _ = outcome(tasks.current_versions.submit(locales_dir, course, locales))
    return now if isinstance(now, dict) else None


def _source(prints: list[dict[str, Any]], course: str) -> str:
    """The course's source as the listing gives it (a result keeps it without credentials)."""
    return next(str(f["source"]) for f in prints if f["course"] == course)


def _course_row(state: str, result: dict[str, Any], states: dict[str, str], failures: list[str]) -> dict[str, Any]:
    return {
        "state": combined([state, *states.values()]),
        "pages": result["pages"],
        "parsed": 0 if state == "Cached" else result["pages"],
        "entries": result["entries"],
        "locales": states,
        "failures": failures,
    }


@flow(name="sync-shard", task_runner=tasks.threads(), persist_result=True)
def sync_shard(courses: list[dict[str, str]], locales_dir: str = "locales") -> list[dict[str, Any]]:
    """One shard of a ``sync-all``: COURSES is a list of {"course", "source"}. Returns a row
    per course, as ``sync-all`` does."""
    return sync_courses(courses, locales_dir)


@flow(name="sync-all", task_runner=tasks.threads())
def sync_all(
    listing: str,
    locales_dir: str = "locales",
    max_courses: Annotated[int, Field(ge=1)] = 10_000,
    shards: Annotated[int, Field(ge=1, le=1024)] = 1,
    shard_deployment: str | None = None,
    shard_wait: Annotated[float, Field(gt=0)] = SHARD_WAIT_SECONDS,
) -> list[dict[str, Any]]:
    """LISTING is a folder of course folders (or .zip files), a JSON list of
    {"course", "source"} or a text file of `COURSE SOURCE` lines. Returns, per
    course, its state ("Completed"; "Cached" when nothing changed; "Failed" when the
    extraction or a locale failed, named in ``failures``), each locale's state, the
    pages parsed and files read in this run (``parsed``, ``hashed``), and with
    SHARDS > 1 its ``shard``. SHARD_DEPLOYMENT ("sync-shard/sync-shard") runs the
    shards on that deployment's work pool, side by side; without it they run here. Shards
    unstarted for SHARD_WAIT seconds for a reason that does not end by itself (no worker
    polls the pool, it is paused, only this sync-all holds its slots) are cancelled, and
    their courses are Failed rows saying why; shards queued behind other runs are waited for."""
    logger = get_run_logger()
    courses = tasks.list_courses(listing)[:max_courses]
    if shards == 1:
        rows = sync_courses(courses, locales_dir)
    else:
        plan = pipeline.shard_plan(courses, shards)
        outcomes = run_shards(sync_shard, plan, locales_dir, shard_deployment, shard_wait)
        rows = pipeline.combine_shards(courses, outcomes)
    summary = pipeline.sync_summary(rows)
    logger.info(
        "%d courses %s, %d pages parsed, %d files read",
        summary["courses"], summary["states"], summary["pages_parsed"], summary["files_hashed"],
    )  # fmt: skip
    for failed in summary["failed"]:
        logger.error("failed: %s", failed)
    _, stats, error = outcome(tasks.stats_rows.submit(locales_dir, None))
    if stats is not None:
        stats_table(stats, None)
    else:  # a damaged catalog is already a failed item above; the table waits for its repair
        logger.warning("no statistics table: %s", error)
    return rows
