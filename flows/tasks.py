"""One-line task wrappers over :mod:`localize.app.orchestration`.

Retries sit only on tasks that touch storage or the network; compute is never
retried. Only plain data (str, int, list, dict) goes in and out.

Flows fan out one task per course x locale (x region for publishing), so a retry
redoes that item alone. Every task that writes to the workspace or a region
carries the tag ``localize-storage-write``: ``prefect concurrency-limit create
localize-storage-write 8`` bounds how many run at once across all flow runs and
workers (no limit is set by default).
"""

from __future__ import annotations

from typing import Any, cast

from prefect import Task, task
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.futures import PrefectFuture
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

import localize.app.orchestration as pipeline
from localize.errors import is_transient


def retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only what may pass (time-outs, dropped connections, 5xx, a lost
    conditional write); access denied or an invalid key fails at once."""
    try:
        state.result()
    except Exception as e:
        return is_transient(e)
    return False


def threads(max_workers: int = 4) -> TaskRunner[PrefectFuture[Any]]:
    """Prefect's thread-pool task runner, typed as ``@flow`` takes it (Prefect 3 declares the
    runner's future type invariantly, so a type checker refuses the runner as it is)."""
    return cast("TaskRunner[PrefectFuture[Any]]", ThreadPoolTaskRunner(max_workers=max_workers))


IO_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [1, 3, 6],
    "retry_condition_fn": retry_transient,
}
STORAGE_WRITE = "localize-storage-write"
"""The tag of every task that writes to storage: a Prefect tag concurrency limit on it
bounds concurrent writers across the whole deployment."""
WRITES: dict[str, Any] = IO_RETRIES | {"tags": [STORAGE_WRITE]}


@task(name="course-fingerprints", **WRITES)
def course_fingerprints(courses: list[dict[str, str]], locales_dir: str) -> list[dict[str, Any]]:
    return pipeline.course_fingerprints(courses, locales_dir)


@task(name="mark-synced", **WRITES)
def mark_synced(locales_dir: str, done: list[dict[str, Any]]) -> int:
    return pipeline.mark_synced(locales_dir, done)


def _extract_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Unchanged course content + same tool version + same workspace = nothing to do."""
    return f"sync-{parameters['course']}-{parameters['revision']}-{pipeline.TOOL_VERSION}-{parameters['locales_dir']}"


def _locale_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """One course x locale of a sync: done once per course content and tool version."""
    return (
        f"sync-{parameters['course']}-{parameters['locale']}-{parameters['revision']}-"
        f"{pipeline.TOOL_VERSION}-{parameters['locales_dir']}"
    )


@task(name="extract-template", **WRITES)
def extract_template(
    source: str, course: str, locales_dir: str, source_locale: str = "en", new_locales: list[str] | None = None
) -> dict[str, Any]:
    return pipeline.extract_template(source, course, locales_dir, source_locale, new_locales)


@task(name="sync-template", cache_key_fn=_extract_cache_key, persist_result=True, **WRITES)
def sync_template(course: str, source: str, locales_dir: str, revision: str) -> dict[str, Any]:
    return pipeline.extract_template(source, course, locales_dir) | {"revision": revision}


@task(name="update-locale", **WRITES)
def update_locale(course: str, locale: str, locales_dir: str) -> dict[str, Any]:
    return pipeline.update_locale(course, locale, locales_dir)


@task(name="sync-locale", cache_key_fn=_locale_cache_key, persist_result=True, **WRITES)
def sync_locale(course: str, locale: str, locales_dir: str, revision: str) -> dict[str, Any]:
    return pipeline.update_locale(course, locale, locales_dir)


@task(name="current-versions", **IO_RETRIES)
def current_versions(locales_dir: str, course: str, locales: list[str]) -> dict[str, Any]:
    return pipeline.current_versions(locales_dir, course, locales)


@task(name="configured-locales")
def configured_locales(config: str, course: str) -> list[str]:
    return pipeline.configured_locales(config, course)


@task(name="route-kit", **WRITES)
def route_kit(config: str, course: str, locale: str, source: str | None = None) -> dict[str, Any]:
    return pipeline.route_kit(config, course, locale, source)


@task(name="ingest-returns", **WRITES)
def ingest_returns(config: str, partner: str | None) -> list[dict[str, Any]]:
    return pipeline.ingest_returns(config, partner)


@task(name="publish-regions")
def publish_regions(config: str, locale: str, region: str | None) -> list[str]:
    return pipeline.publish_regions(config, locale, region)


@task(name="publish-region", **WRITES)
def publish_region(config: str, course: str, locale: str, region: str) -> list[dict[str, Any]]:
    return pipeline.publish_region(config, course, locale, region)


@task(name="publish-dashboards", **WRITES)
def publish_dashboards(config: str, regions: list[str]) -> list[str]:
    return pipeline.publish_dashboards(config, regions)


@task(name="catalog-stats", **IO_RETRIES)
def stats_rows(locales_dir: str, course: str | None) -> list[dict[str, Any]]:
    return pipeline.stats_rows(locales_dir, course)


@task(name="list-courses", **IO_RETRIES)
def list_courses(listing: str) -> list[dict[str, str]]:
    return pipeline.list_courses(listing)


@task(name="write-dashboard", **WRITES)
def write_report(config: str) -> str:
    return pipeline.write_report(config)
