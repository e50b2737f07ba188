"""Splitting a course listing into shards, and putting the shards' reports back together.

``sync-all`` over a large listing runs each shard as its own flow run (one per worker
slot), so that several workers share the listing. Which shard a course belongs to
depends only on its id and the number of shards (a hash, not the listing's order), so a
course stays in its shard when others are added or removed. A shard that fails as a
whole (its flow run crashed, was cancelled, or its worker died) loses nothing: each of
its courses is reported as failed with the shard's error, and the next run redoes only
what is not cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from localize.errors import ConfigError

__all__ = ["ShardOutcome", "combine_shards", "shard_of", "split_shards", "summarize"]

MAX_SHARDS = 1024


def shard_of(course: str, shards: int) -> int:
    """The shard (0 .. shards-1) of ``course``: the same on every machine and in every run."""
    if not 1 <= shards <= MAX_SHARDS:
        raise ConfigError(f"shards must be between 1 and {MAX_SHARDS}, not {shards}; give --param shards=N")
    digest = hashlib.sha256(course.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % shards


def split_shards(courses: Sequence[dict[str, str]], shards: int) -> list[list[dict[str, str]]]:
    """The listing's courses by shard, each in listing order. Every course is in exactly
    one shard; a course named twice in the listing is a ConfigError (its two sources
    would race for the same catalogs)."""
    out: list[list[dict[str, str]]] = [[] for _ in range(shards)]
    seen: set[str] = set()
    for course in courses:
        name = course["course"]
        if name in seen:
            raise ConfigError(f"course {name!r} is listed twice; keep one source per course in the listing")
        seen.add(name)
        out[shard_of(name, shards)].append(course)
    return out


@dataclass(frozen=True)
class ShardOutcome:
    """What one shard's flow run ended with: its rows, or why there are none."""

    state: str
    rows: list[dict[str, Any]] | None
    error: str | None = None
    run: str | None = None
    """The flow run's name or id, for finding it in the UI."""


def combine_shards(courses: Sequence[dict[str, str]], outcomes: Sequence[ShardOutcome]) -> list[dict[str, Any]]:
    """One row per course of the listing, in its order, each tagged with its ``shard``
    (``outcomes[i]`` is shard i's, as planned by :func:`split_shards` over ``courses``).
    A course its shard did not report (the shard failed, or returned without it) is a
    ``Failed`` row naming the shard, its flow run and its error."""
    total = len(outcomes)
    reported = [{str(r.get("course")): r for r in outcome.rows or ()} for outcome in outcomes]
    out: list[dict[str, Any]] = []
    for course in courses:
        name = course["course"]
        index = shard_of(name, total)
        outcome = outcomes[index]
        row = reported[index].get(name)
        if row is None:
            run = f" (flow run {outcome.run})" if outcome.run else ""
            why = outcome.error or "it returned no row for this course"
            row = {
                "course": name,
                "state": "Failed",
                "error": (
                    f"shard {index + 1} of {total}{run} ended {outcome.state}: {why}; "
                    "run sync-all again (courses already done are cached)"
                ),
            }
        out.append(dict(row) | {"shard": index})
    return out


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Counts over a sync's rows: courses by state, pages parsed and files read this run,
    and the failed courses (with their shard when sharded)."""
    states: dict[str, int] = {}
    for row in rows:
        states[row["state"]] = states.get(row["state"], 0) + 1
    failed = [
        {k: row[k] for k in ("course", "shard", "error", "failures") if k in row}
        for row in rows
        if row["state"] not in ("Completed", "Cached")
    ]
    return {
        "courses": len(rows),
        "states": dict(sorted(states.items())),
        "pages_parsed": sum(int(row.get("parsed", 0)) for row in rows),
        "files_hashed": sum(int(row.get("hashed", 0)) for row in rows),
        "failed": failed,
    }
