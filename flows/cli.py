"""``localize run FLOW``: run a pipeline flow in this process, like its deployment.

The ``localize`` command reaches this module through one documented lazy import
(:mod:`localize.cli.run`), so the library never imports Prefect.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from typing import Any

FLOWS = {
    "extract-course": "flows.extract_course:extract_course",
    "route-course": "flows.route_course:route_course",
    "ingest-returns": "flows.ingest_returns:ingest_returns",
    "publish-course": "flows.publish_course:publish_course",
    "localize-course": "flows.localize_course:localize_course",
    "sync-all": "flows.sync_all:sync_all",
}


class FlowParameterError(ValueError):
    """The flow does not take these parameters."""


def run_flow(name: str, params: dict[str, Any]) -> tuple[bool, Any, str]:
    """Run flow ``name``; returns (completed, result, message)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "INFO")
    module_name, _, attr = FLOWS[name].partition(":")
    flow = getattr(importlib.import_module(module_name), attr)
    started = time.monotonic()
    print(f"running {name} with {json.dumps(params)}", file=sys.stderr)
    try:
        state = flow(**params, return_state=True)
    except TypeError as e:
        raise FlowParameterError(f"{name}: {e}") from None
    elapsed = time.monotonic() - started
    if not state.is_completed():
        return False, None, f"{name} {state.name.lower()} after {elapsed:.1f} s: {state.message}"
    return True, state.result(), f"{name} completed in {elapsed:.1f} s"
