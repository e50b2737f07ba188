"""Named step boundaries of publish and pull, for tests that interrupt them.

Production code calls :func:`checkpoint` between steps; it costs a dict lookup.
Tests either set ``LOCALIZE_TEST_KILL_AT=<name>`` (or ``<name>#N`` for the Nth
time the step is reached) in a subprocess, which then dies by SIGKILL right
there, or register a callback with :func:`on_checkpoint` to run code (a
concurrent prune, an injected failure) at that exact point, without sleeps.

Publish: ``publish:lease-written``, ``publish:reuse-checked``, ``publish:object-uploaded``,
``publish:objects-uploaded``, ``publish:manifest-written``, ``publish:pointer-swapped``,
``publish:index-updated``, ``prune:object-deleted``, ``prune:done``.
Pull: ``pull:object-downloaded``, ``pull:staged``, ``pull:switched``, ``pull:local-pruned``.
Export: ``export:object-copied``, ``export:objects-copied``, ``export:course-written``,
``export:index-written``, ``export:manifest-written``, ``export:done``.
"""

from __future__ import annotations

import os
import signal
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

__all__ = ["KILL_ENV", "checkpoint", "on_checkpoint"]

KILL_ENV = "LOCALIZE_TEST_KILL_AT"

_HOOKS: list[Callable[[str], None]] = []
_SEEN: Counter[str] = Counter()


def checkpoint(name: str) -> None:
    """A step boundary: die here if a test asked for it, then run registered callbacks."""
    _SEEN[name] += 1
    wanted = os.environ.get(KILL_ENV)
    if wanted and wanted in (name, f"{name}#{_SEEN[name]}"):
        os.kill(os.getpid(), signal.SIGKILL)
    for hook in tuple(_HOOKS):
        hook(name)


@contextmanager
def on_checkpoint(hook: Callable[[str], None]) -> Iterator[None]:
    """Call ``hook(name)`` at every checkpoint while the block runs."""
    _HOOKS.append(hook)
    try:
        yield
    finally:
        _HOOKS.remove(hook)
