"""Who holds a writer's mark in shared derived state, and whether that process still runs.

A mark (the memory index's "this course is being written") carries a lease: after
:data:`~localize.catalogs.memory_index.LEASE` seconds anyone takes it over. A writer that
was killed on this machine need not be waited for that long: its mark names the machine,
the process and when that process started, so a reader on the same machine sees at once
that it is gone (a process id used again by a later process has another start time). Marks
from other machines, or without these fields, keep to the lease.
"""

from __future__ import annotations

import os
import socket
from typing import Any

__all__ = ["gone", "this_writer"]


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()  # after the command name, which may hold spaces
    return fields[19] if len(fields) > 19 else None


def this_writer() -> dict[str, Any]:
    """The fields a mark carries to say who wrote it."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": _started(pid)}


def gone(mark: dict[str, Any]) -> bool:
    """True when the process that wrote ``mark`` ran on this machine and has ended."""
    pid, started = mark.get("pid"), mark.get("started")
    if mark.get("host") != socket.gethostname() or type(pid) is not int or pid <= 0 or not isinstance(started, str):
        return False
    if pid == os.getpid():
        return started != _started(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # another user's process: alive
    return _started(pid) not in (None, started) or (_started(pid) is None and not os.path.exists(f"/proc/{pid}"))
