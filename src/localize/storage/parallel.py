"""Run a per-page function over many pages on every core, results in page order.

Workers open the course source themselves (sources are cheap to open and not
picklable), so only page paths go out and small plain results come back.
Workers are forked when the caller has one thread; from a threaded process (a
Prefect flow runs tasks on threads) they start from a fork server instead, since
forking a process with other threads running can copy a lock one of them holds.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from localize.storage.courses import open_source
from localize.storage.sources import Source

__all__ = ["default_jobs", "map_pages"]

R = TypeVar("R")

_SOURCES: dict[str, Source] = {}
_MIN_PAGES_PER_JOB = 12


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _worker_source(location: str) -> Source:
    source = _SOURCES.get(location)
    if source is None:
        source = _SOURCES[location] = open_source(location)
    return source


_SHARED: list[Any] = [None]


def _init(shared: Any) -> None:
    _SHARED[0] = shared


def _call(args: tuple[Callable[[Source, str, Any], R], str, str]) -> R:
    func, location, path = args
    return func(_worker_source(location), path, _SHARED[0])


def map_pages(
    func: Callable[[Source, str, Any], R],
    source: Source,
    paths: list[str],
    jobs: int | None = None,
    shared: Any = None,
) -> Iterator[R]:
    """``func(source, path, shared)`` for each path, in order; in worker
    processes when there are enough pages to make it worth it. ``func`` must be
    a module-level function (it is pickled by name); ``shared`` goes to each
    worker once."""
    jobs = default_jobs() if jobs is None else max(1, jobs)
    jobs = min(jobs, max(1, len(paths) // _MIN_PAGES_PER_JOB))
    if jobs == 1:
        for path in paths:
            yield func(source, path, shared)
        return
    # imported here: a one-process run (most one-course commands) never pays for them
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        method = "fork"
    else:
        method = "forkserver" if "forkserver" in methods else "spawn"
    context = multiprocessing.get_context(method)
    _SOURCES[source.location] = source
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init, initargs=(shared,)) as pool:
        chunk = max(1, min(16, len(paths) // (jobs * 4)))
        yield from pool.map(_call, [(func, source.location, p) for p in paths], chunksize=chunk)
