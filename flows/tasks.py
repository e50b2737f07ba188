"""One-line task wrappers over :mod:`localize.app.orchestration`.

Retries sit only on tasks that touch storage or the network; compute is never
retried. Only plain data (str, int, list, dict) goes in and out.
"""

from __future__ import annotations

from typing import Any

from prefect import Task, task
from prefect.client.schemas.objects import TaskRun
from prefect.context import TaskRunContext
from prefect.states import State

from localize.app import orchestration as pipeline
from localize.errors import is_transient


def retry_transient(task: Task[..., Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry only what may pass (time-outs, dropped connections, 5xx, a lost
    conditional write); access denied or an invalid key fails at once."""
    try:
        state.result()
    except Exception as e:
        return is_transient(e)
    return False


IO_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [1, 3, 6],
    "retry_condition_fn": retry_transient,
}


@task(name="course-revision", **IO_RETRIES)
def course_revision(source: str) -> str:
    return pipeline.course_revision(source)


@task(name="update-catalogs", **IO_RETRIES)
def update_catalogs(
    source: str, course: str, locales_dir: str, source_locale: str = "en", new_locales: list[str] | None = None
) -> dict[str, Any]:
    return pipeline.update_catalogs(source, course, locales_dir, source_locale, new_locales)


def _sync_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    """Unchanged course content + same tool version + same workspace = nothing to do."""
    return f"sync-{parameters['course']}-{parameters['revision']}-{pipeline.TOOL_VERSION}-{parameters['locales_dir']}"


@task(name="sync-course", cache_key_fn=_sync_cache_key, persist_result=True, **IO_RETRIES)
def sync_course(course: str, source: str, locales_dir: str, revision: str) -> dict[str, Any]:
    return pipeline.update_catalogs(source, course, locales_dir) | {"revision": revision}


@task(name="configured-locales")
def configured_locales(config: str, course: str) -> list[str]:
    return pipeline.configured_locales(config, course)


@task(name="route-kits", **IO_RETRIES)
def route_kits(config: str, course: str, locales: list[str], source: str | None = None) -> list[dict[str, Any]]:
    return pipeline.route_kits(config, course, locales, source)


@task(name="ingest-returns", **IO_RETRIES)
def ingest_returns(config: str, partner: str | None) -> list[dict[str, Any]]:
    return pipeline.ingest_returns(config, partner)


@task(name="publish-locales", **IO_RETRIES)
def publish_locales(config: str, course: str, locales: list[str], region: str | None) -> list[dict[str, Any]]:
    return pipeline.publish_locales(config, course, locales, region)


@task(name="publish-dashboards", **IO_RETRIES)
def publish_dashboards(config: str, regions: list[str]) -> list[str]:
    return pipeline.publish_dashboards(config, regions)


@task(name="catalog-stats", **IO_RETRIES)
def stats_rows(locales_dir: str, course: str | None) -> list[dict[str, Any]]:
    return pipeline.stats_rows(locales_dir, course)


@task(name="list-courses", **IO_RETRIES)
def list_courses(listing: str) -> list[dict[str, str]]:
    return pipeline.list_courses(listing)


@task(name="write-dashboard", **IO_RETRIES)
def write_report(config: str) -> str:
    return pipeline.write_report(config)
