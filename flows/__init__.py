"""Prefect flows over :mod:`localize.app` (see README, "Orchestration")."""

from __future__ import annotations

import os


def without_telemetry() -> None:
    """Turn Prefect's server analytics off unless the environment says otherwise, before a server
    starts (`localize run`, the demo, ``python -m flows.extract_course``): its heartbeat also
    meets a run's own writes to the server's database ("database is locked" tracebacks)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
