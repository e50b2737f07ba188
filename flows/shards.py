"""Running the shards of a ``sync-all``: each shard is a ``sync-shard`` flow run, on a
deployment's work pool (side by side, one per free worker slot) or in this process.

Only Prefect plumbing lives here; which course goes to which shard and how the shards'
rows are combined is :mod:`localize.app.shards`.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import Flow, get_run_logger
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType, WorkerStatus
from prefect.deployments import run_deployment
from prefect.states import Cancelled, State

POLL_SECONDS = 2.0
SHARD_WAIT_SECONDS = 600.0
"""How long the shards may all sit unstarted (none running, none changing state) before
``sync-all`` gives up on them: no worker polls the pool, or every worker slot is taken."""
WARN_SECONDS = 30.0
"""When the shards have waited this long with no worker online, say so (once) and go on waiting."""


def _outcome(state: State[Any] | None, run: str) -> dict[str, Any]:
    """A finished shard's outcome as plain data (its rows, or why there are none)."""
    if state is None:
        return {"state": "Unknown", "rows": None, "error": "the flow run has no state", "run": run}
    if state.is_completed():
        try:
            rows = state.result()
        except Exception as e:  # its result cannot be read back (result storage not shared?)
            return {
                "state": state.name or "Completed",
                "rows": None,
                "error": f"cannot read its result: {e}",
                "run": run,
            }
        return {"state": state.name or "Completed", "rows": rows, "error": None, "run": run}
    return {"state": state.name or "Failed", "rows": None, "error": str(state.message or state.name), "run": run}


def _online(client: SyncPrefectClient, pool: str | None) -> bool:
    """Whether a worker polling ``pool`` is online (a heartbeat lately)."""
    if pool is None:
        return False
    return any(w.status == WorkerStatus.ONLINE for w in client.read_workers_for_work_pool(pool))


def stalled_message(pool: str | None, online: bool, waited: float) -> str:
    """Why shards never started, and what to do about it."""
    where = f"work pool {pool!r}" if pool else "the deployment's work pool"
    if online:
        return (
            f"no shard started in {waited:.0f} s although a worker polls {where}: every worker slot is "
            f"taken (does sync-all itself run on {where}? give it another pool, or start the worker without "
            "--limit), then run sync-all again (what finished is cached)"
        )
    start = f"prefect worker start --pool {pool}" if pool else "prefect worker start --pool POOL"
    return f"no worker polled {where} for {waited:.0f} s: start one (`{start}`) and run sync-all again"


def run_shards(
    shard_flow: Flow[..., Any],
    plan: list[list[dict[str, str]]],
    locales_dir: str,
    deployment: str | None,
    wait: float = SHARD_WAIT_SECONDS,
) -> list[dict[str, Any]]:
    """One outcome per shard of ``plan`` (an empty shard is not run). With ``deployment``,
    every shard is a flow run of it, started together and waited for; without, each
    runs here as a subflow of ``shard_flow``, one after the other. When for ``wait``
    seconds no shard runs and none changes state (no worker polls the pool, or all its
    slots are taken), the shards not started are cancelled and each says why."""
    logger = get_run_logger()
    outcomes: list[dict[str, Any] | None] = [None] * len(plan)
    for i, courses in enumerate(plan):
        if not courses:
            outcomes[i] = {"state": "Completed", "rows": [], "error": None, "run": None}
    if deployment is None:
        for i, courses in enumerate(plan):
            if courses:
                name = f"sync-shard-{i + 1}-of-{len(plan)}"
                state = shard_flow.with_options(flow_run_name=name)(courses, locales_dir, return_state=True)
                outcomes[i] = _outcome(state, name)
        return [o for o in outcomes if o is not None]
    runs = {}
    for i, courses in enumerate(plan):
        if courses:
            run = run_deployment(
                name=deployment,
                parameters={"courses": courses, "locales_dir": locales_dir},
                flow_run_name=f"sync-shard-{i + 1}-of-{len(plan)}",
                timeout=0,
            )
            runs[i] = run
            logger.info("shard %d of %d: %d courses, flow run %s", i + 1, len(plan), len(courses), run.name)
    with get_client(sync_client=True) as client:
        pool = client.read_deployment_by_name(deployment).work_pool_name
        waiting = dict(runs)
        seen: dict[int, StateType | None] = {}
        progress = time.monotonic()
        warned = False
        while waiting:
            for i, run in list(waiting.items()):
                current = client.read_flow_run(run.id)
                kind = current.state.type if current.state is not None else None
                if seen.get(i, StateType.SCHEDULED) != kind or kind == StateType.RUNNING:
                    progress = time.monotonic()  # a shard started, runs or ended
                seen[i] = kind
                if current.state is not None and current.state.is_final():
                    outcomes[i] = _outcome(current.state, current.name)
                    del waiting[i]
            if not waiting:
                break
            idle = time.monotonic() - progress
            if idle >= min(WARN_SECONDS, wait) and not warned and not _online(client, pool):
                warned = True
                logger.warning("%s; waiting up to %.0f s", stalled_message(pool, False, idle), wait)
            if idle >= wait:
                message = stalled_message(pool, _online(client, pool), idle)
                logger.error(message)
                for i, run in waiting.items():
                    client.set_flow_run_state(run.id, Cancelled(message=message), force=True)
                    outcomes[i] = {"state": "Cancelled", "rows": None, "error": message, "run": run.name}
                break
            time.sleep(POLL_SECONDS)
    return [o for o in outcomes if o is not None]
