"""A mirror never goes back in time by accident.

Each pull records the live pointer's ``updated`` time (part of the signed pointer)
in the mirror's state. A pointer older than the one the mirror is on (an old drive,
a stale copy of the bucket replayed) is refused, even when it is validly signed:
the coordinators' own rollback writes a new pointer with a newer ``updated``, so
region rollbacks still pass. ``--allow-older`` takes an older pointer on purpose.
"""

from __future__ import annotations

from datetime import UTC, datetime

from localize.errors import IntegrityError

__all__ = ["check_not_older", "parse_updated"]


def parse_updated(text: object) -> datetime | None:
    """A pointer's ``updated`` as an aware datetime (UTC when it names no zone), None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def check_not_older(
    course: str, locale: str, version: str, updated: object, recorded: object, current: str | None, where: str
) -> None:
    """Refuse a pointer whose ``updated`` is older than the one the mirror recorded for its live version."""
    new, old = parse_updated(updated), parse_updated(recorded)
    if old is None or version == current:
        return
    if new is None or new < old:
        raise IntegrityError(
            f"{course}/{locale}: this pointer (version {version}, updated {updated}) is older than the one this "
            f"mirror is on (version {current}, updated {recorded}); an old drive or a stale copy of the region "
            "would roll the mirror back, so nothing was changed. Pull from a newer copy of the region, or add "
            "--allow-older to go back to it on purpose",
            path=where,
        )
