"""Who holds a writer's mark in shared derived state, and whether that process still runs.

A mark (the memory index's "this course is being written") carries a lease: after
:data:`~localize.catalogs.memory_index.LEASE` seconds anyone takes it over. A writer that
was killed on this machine need not be waited for that long: its mark names the machine (its
name, and the id of this boot), the process-id space, the process and when that process
started, so a reader in the same space sees at once that it is gone (a process id used again
by a later process has another start time). Marks from other machines or containers, or
without these fields, keep to the lease.
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


def _space() -> str | None:
    """This boot of this machine and this process-id space: two machines of one name, or
    containers sharing a name (host networking) but not their process ids, differ here."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            boot = f.read().strip()
        return f"{boot} {os.readlink('/proc/self/ns/pid')}"
    except (OSError, UnicodeError):
        return None


def this_writer() -> dict[str, Any]:
    """The fields a mark carries to say who wrote it."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "space": _space(), "pid": pid, "started": _started(pid)}


def gone(mark: dict[str, Any]) -> bool:
    """True when the process that wrote ``mark`` ran in this boot of this machine, in this
    process-id space, and has ended; False when that cannot be known (the lease decides)."""
    pid, started, space = mark.get("pid"), mark.get("started"), mark.get("space")
    if (
        mark.get("host") != socket.gethostname()
        or not isinstance(space, str)
        or space != _space()
        or type(pid) is not int
        or pid <= 0
        or not isinstance(started, str)
    ):
        return False
    if pid == os.getpid():
        return started != _started(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OSError):
        return False  # another user's process: alive
    now = _started(pid)
    return now is not None and now != started  # the id names a later process now
