"""Prefect flows over :mod:`localize.app` (see README, "Orchestration")."""

from __future__ import annotations

import os


def without_telemetry() -> None:
    """Prefect's settings for a server started on this machine, unless the environment says
    otherwise, before it starts (`localize run`, the demo, ``python -m flows.extract_course``):
    analytics off (its heartbeat also meets a run's own writes to the server's database:
    "database is locked" tracebacks), and 90 s, not 20, for a temporary server to start, as the
    Makefile has it (its first start on a new PREFECT_HOME creates the database: 30 s here)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
