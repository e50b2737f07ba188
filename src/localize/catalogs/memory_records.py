"""Records of the indexed translation memory (:mod:`.memory_index`): pure arithmetic, no storage.

A source's record per (translation, reviewed) keeps its count and a *prefix* of its
members in two orders: ranking (newest first, then origin: :class:`~.memory.TranslationMemory`'s
representative) and memory order (origin, then position in the catalog). A prefix stays a
true prefix under any sequence of additions and removals; a lookup that leaves one course
out needs only its first member left. Sources are listed by length band (:func:`band`; their
records are kept by home, :mod:`.memory_store`), and :func:`bands_for` gives every band a fill
may read (its own length and :class:`~.memory.NearIndex`'s lossless window).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from localize.catalogs.memory import IMPORTED, _newest_first, length_window

__all__ = ["KEEP", "RATIO", "Unit", "add", "band", "bands_for", "diff", "key_of", "origin_rank", "pos_order", "remove"]

KEEP = 4  # members kept per record, in each order (at least 2: a lookup leaves one course out)
RATIO = 1.5  # a length band spans lengths within this ratio
Unit = tuple[str | None, str, str, bool, str, str, str]  # msgctxt, msgid, msgstr, reviewed, at, partner, kit


def band(length: int) -> int:
    return int(math.log(length + 1) / math.log(RATIO))


def bands_for(msgids: Iterable[str], similarity: float) -> set[int]:
    """Every band holding a source the memory may offer for one of ``msgids``: its own length
    and :class:`NearIndex`'s window at ``similarity``."""
    s = similarity
    out: set[int] = set()
    for msgid in msgids:
        n = len(msgid)
        if s <= 0:
            return set(range(band(10**9) + 1))
        lo, hi = length_window(n, s)
        out.update(range(band(max(0, lo)), band(max(hi, n)) + 1))
    return out


def origin_rank(origin: str) -> tuple[int, str]:
    return (1, "") if origin == IMPORTED else (0, origin)


def _rep_order(rep: list[Any]) -> tuple[tuple[int, ...], str]:
    return (_newest_first(str(rep[0])), str(rep[1]))


def pos_order(pos: list[Any]) -> tuple[tuple[int, str], int]:
    return (origin_rank(str(pos[0])), int(pos[1]))


def key_of(msgctxt: str | None, msgid: str) -> str:
    return json.dumps([msgctxt, msgid], ensure_ascii=False)


# -- records: count and prefixes of members ------------------------------------------


def add(records: dict[str, list[list[Any]]], origin: str, index: int, u: Unit) -> None:
    entry = records.setdefault(key_of(u[0], u[1]), [])
    record = next((r for r in entry if r[0] == u[2] and r[1] == u[3]), None)
    if record is None:
        record = [u[2], u[3], 0, [], []]
        entry.append(record)
    _insert(record[3], [u[4], origin, u[5], u[6]], record[2], _rep_order)
    _insert(record[4], [origin, index], record[2], pos_order)
    record[2] += 1


def _insert(members: list[list[Any]], new: list[Any], count: int, order: Any) -> None:
    """Keep ``members`` the first few of ``count`` (+ ``new``) in ``order``: a complete list
    takes any newcomer, a prefix only one that sorts within it."""
    if len(members) == count or (members and order(new) < order(members[-1])):
        members.append(new)
        members.sort(key=order)
        del members[KEEP:]


def remove(records: dict[str, list[list[Any]]], origin: str, u: Unit) -> None:
    key = key_of(u[0], u[1])
    entry = records.get(key, [])
    for record in entry:
        if record[0] == u[2] and record[1] == u[3]:
            record[2] -= 1
            record[3] = [m for m in record[3] if m[1] != origin]
            record[4] = [m for m in record[4] if m[0] != origin]
    entry[:] = [r for r in entry if r[2] > 0]
    if not entry:
        records.pop(key, None)


def diff(old: list[Unit], new: list[Unit]) -> tuple[set[tuple[int, Unit]], set[tuple[int, Unit]]]:
    before, after = set(enumerate(old)), set(enumerate(new))
    return before - after, after - before
