"""Running the shards of a ``sync-all``: each shard is a ``sync-shard`` flow run, on a
deployment's work pool (side by side, one per free worker slot) or in this process.

Only Prefect plumbing lives here; which course goes to which shard and how the shards'
rows are combined is :mod:`localize.app.shards`.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from prefect import Flow, get_run_logger
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import FlowRun, State, StateType, WorkerStatus
from prefect.client.schemas.responses import OrchestrationResult, SetStateStatus
from prefect.deployments import run_deployment
from prefect.runtime import flow_run as flow_run_context
from prefect.states import Cancelled

POLL_SECONDS = 2.0
SHARD_WAIT_SECONDS = 600.0
"""How long shards may stay unstarted for a reason that will not go away by itself (no worker
polls the pool, the pool is paused, the only thing holding its slots is this sync-all) before
``sync-all`` cancels them. Shards queued behind other work are waited for."""
WARN_SECONDS = 30.0
"""A stall that lasts this long is said in the log (once), with what to do, while waiting on."""
CHECK_SECONDS = 10.0
"""How often, while every shard waits unstarted, the pool is looked at for such a stall."""


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


def stall_reason(client: SyncPrefectClient, pool: str | None, me: str | None) -> str | None:
    """Why shards scheduled on ``pool`` cannot start, when that will not change by itself (None:
    they are only queued, or this cannot be told: no pool, a push or managed pool, an API error).
    ``me``: the flow run waiting for them, which may hold a slot of the pool itself."""
    if pool is None:
        return None
    try:
        info = client.read_work_pool(pool)
        if info.type == "prefect:managed" or info.type.endswith(":push"):
            return None  # no worker of ours takes them
        if info.is_paused:
            return f"work pool {pool!r} is paused: resume it (`prefect work-pool resume {pool}`)"
        if not any(w.status == WorkerStatus.ONLINE for w in client.read_workers_for_work_pool(pool)):
            return f"no worker polls work pool {pool!r}: start one (`prefect worker start --pool {pool}`)"
        busy = client.read_flow_runs(
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING, StateType.PENDING]))
            ),
            limit=20,
        )
    except Exception:  # the API cannot tell now: not a stall
        return None
    others = [r for r in busy if str(r.id) != me]
    if others:
        return None  # other work holds the slots: the shards are queued behind it
    if busy:
        return (
            f"every worker slot of work pool {pool!r} is taken by this sync-all itself: run sync-all on "
            "another pool, or start the worker without --limit"
        )
    return (
        f"a worker polls work pool {pool!r} but takes none of the shards: does it poll their work queue "
        "(`prefect worker start --pool POOL --work-queue QUEUE`)?"
    )


def stalled_message(reason: str, waited: float) -> str:
    """What a shard cancelled after a stall says."""
    return f"not started after {waited:.0f} s: {reason}; then run sync-all again (what finished is cached)"


def _cancel_unstarted(client: SyncPrefectClient, run_id: UUID, message: str) -> bool:
    """Cancel a shard's flow run if it is still only scheduled (the server refuses the change
    if a worker took it meanwhile); True when it was cancelled."""
    try:
        current = client.read_flow_run(run_id)
        if current.state is None or current.state.type != StateType.SCHEDULED:
            return False
        done: OrchestrationResult[Any] = client.set_flow_run_state(run_id, Cancelled(message=message))
    except Exception:  # the API cannot do it now: keep waiting for the run
        return False
    return done.status == SetStateStatus.ACCEPT


def run_shards(
    shard_flow: Flow[..., Any],
    plan: list[list[dict[str, str]]],
    locales_dir: str,
    deployment: str | None,
    wait: float = SHARD_WAIT_SECONDS,
) -> list[dict[str, Any]]:
    """One outcome per shard of ``plan`` (an empty shard is not run). With ``deployment``,
    every shard is a flow run of it, started together and waited for; without, each
    runs here as a subflow of ``shard_flow``, one after the other. When the shards stay
    unstarted for ``wait`` seconds for a reason that will not go away by itself
    (:func:`stall_reason`), those still unstarted are cancelled and each says why; shards
    queued behind other work are waited for."""
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
    runs: dict[int, FlowRun] = {}
    for i, courses in enumerate(plan):
        if courses:
            run = run_deployment(  # a FlowRun when called from sync code
                name=deployment,
                parameters={"courses": courses, "locales_dir": locales_dir},
                flow_run_name=f"sync-shard-{i + 1}-of-{len(plan)}",
                timeout=0,
            )
            assert isinstance(run, FlowRun)
            runs[i] = run
            logger.info("shard %d of %d: %d courses, flow run %s", i + 1, len(plan), len(courses), run.name)
    if not runs:
        return [o for o in outcomes if o is not None]
    pool = next(iter(runs.values())).work_pool_name
    me = str(flow_run_context.id) if flow_run_context.id else None
    with get_client(sync_client=True) as client:
        waiting = dict(runs)
        stalled: tuple[str, float] | None = None  # (reason, since when)
        checked = 0.0
        warned = False
        while waiting:
            unstarted = True
            for i, run in list(waiting.items()):
                current = client.read_flow_run(run.id)
                if current.state is not None and current.state.is_final():
                    outcomes[i] = _outcome(current.state, current.name)
                    del waiting[i]
                elif current.state is None or current.state.type != StateType.SCHEDULED:
                    unstarted = False  # taken by a worker (pending) or running: it goes on
            if not waiting:
                break
            now = time.monotonic()
            if not unstarted:
                stalled, warned = None, False
            elif now - checked >= CHECK_SECONDS:
                checked = now
                reason = stall_reason(client, pool, me)
                if reason is None:
                    stalled, warned = None, False
                elif stalled is None or stalled[0] != reason:
                    stalled, warned = (reason, now), False
            if stalled is not None:
                idle = now - stalled[1]
                if idle >= min(WARN_SECONDS, wait) and not warned:
                    warned = True
                    logger.warning("shards not started: %s; waiting up to %.0f s", stalled[0], wait)
                if idle >= wait:
                    message = stalled_message(stalled[0], idle)
                    logger.error(message)
                    for i, run in list(waiting.items()):
                        if _cancel_unstarted(client, run.id, message):
                            outcomes[i] = {"state": "Cancelled", "rows": None, "error": message, "run": run.name}
                            del waiting[i]
                    stalled = None  # what was not cancelled has started: it is waited for
                    continue
            time.sleep(POLL_SECONDS)
    return [o for o in outcomes if o is not None]
