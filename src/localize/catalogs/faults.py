"""Injection points for the kill-matrix tests: a process stops dead at a named step.

``LOCALIZE_TEST_KILL_AT=<step>`` makes :func:`kill_point` send SIGKILL to the
running process when it reaches ``step`` (no cleanup code, no ``finally``, as
when a machine loses power or the OOM killer strikes). Unset, it costs one
environment lookup.
"""

from __future__ import annotations

import os

__all__ = ["KILL_ENV", "kill_point"]

KILL_ENV = "LOCALIZE_TEST_KILL_AT"


def kill_point(step: str) -> None:
    if os.environ.get(KILL_ENV) == step:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
