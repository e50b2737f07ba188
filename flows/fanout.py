"""Collecting the outcome of fanned-out tasks: one row per item, failures as rows."""

from __future__ import annotations

from typing import Any

from prefect.futures import PrefectFuture

from flows import tasks


def outcome(future: PrefectFuture[Any]) -> tuple[str, Any, str | None]:
    """(final state name, result or None, error message or None) of one item,
    after its retries: a failed item is reported, never raised, so the others'
    results are kept. An item the orchestrator could not even start (the API refused
    its concurrency slot, say) is ``Crashed``, and the next run tries it again."""
    try:
        future.wait()
        state = future.state
    except Exception as e:
        return "Crashed", None, f"{type(e).__name__}: {e}"
    if state.is_completed():
        return state.name or "Completed", future.result(), None
    return state.name or "Failed", None, str(state.message or state.name)


def combined(states: list[str]) -> str:
    """A course's state from its items': Cached when every item was, Failed when
    any failed, else Completed."""
    if any(s not in ("Completed", "Cached") for s in states):
        return "Failed"
    return "Cached" if states and all(s == "Cached" for s in states) else "Completed"


def publish_each(config: str, course: str, locales: list[str], region: str | None) -> list[dict[str, Any]]:
    """One ``publish-region`` task per locale x region, run side by side; rows in
    locale then region order, a failed item (after its retries) as a row with ``error``."""
    targets = {locale: tasks.publish_regions.submit(config, locale, region) for locale in locales}
    items: list[tuple[str, str | None, Any]] = []
    for locale, future in targets.items():
        _, names, error = outcome(future)
        if names is None:
            items.append((locale, None, error))
            continue
        items += [(locale, name, tasks.publish_region.submit(config, course, locale, name)) for name in names]
    rows: list[dict[str, Any]] = []
    for locale, name, item in items:
        if name is None:
            rows.append({"course": course, "locale": locale, "error": item})
            continue
        _, result, error = outcome(item)
        if result is None:
            result = [{"course": course, "locale": locale, "region": name, "published": False, "error": error}]
        rows += result
    return rows


def route_each(config: str, course: str, locales: list[str], source: str | None = None) -> list[dict[str, Any]]:
    """One ``route-kit`` task per locale, side by side; a failed one as a row with ``error``
    (with ``source``, each kit carries the course's pages and preview.html)."""
    futures = {locale: tasks.route_kit.submit(config, course, locale, source) for locale in locales}
    rows: list[dict[str, Any]] = []
    for locale, future in futures.items():
        _, row, error = outcome(future)
        rows.append(row if row is not None else {"course": course, "locale": locale, "error": error})
    return rows
