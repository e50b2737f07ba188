"""Running the shards of a ``sync-all``: each shard is a ``sync-shard`` flow run, on a
deployment's work pool (side by side, one per free worker slot) or in this process.

Only Prefect plumbing lives here; which course goes to which shard and how the shards'
rows are combined is :mod:`localize.app.shards`.
"""

from __future__ import annotations

import time
from typing import Any

from prefect import Flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
from prefect.states import State

POLL_SECONDS = 2.0


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


def run_shards(
    shard_flow: Flow[..., Any], plan: list[list[dict[str, str]]], locales_dir: str, deployment: str | None
) -> list[dict[str, Any]]:
    """One outcome per shard of ``plan`` (an empty shard is not run). With ``deployment``,
    every shard is a flow run of it, started together and waited for; without, each
    runs here as a subflow of ``shard_flow``, one after the other."""
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
        waiting = dict(runs)
        while waiting:
            for i, run in list(waiting.items()):
                current = client.read_flow_run(run.id)
                if current.state is not None and current.state.is_final():
                    outcomes[i] = _outcome(current.state, current.name)
                    del waiting[i]
            if waiting:
                time.sleep(POLL_SECONDS)
    return [o for o in outcomes if o is not None]
