"""One generic conversion from typed results to plain data (str, int, float,
bool, None, list, dict), for what crosses task, process and machine boundaries."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from enum import Enum
from typing import Any

__all__ = ["to_plain"]


def to_plain(value: Any) -> Any:
    """Dataclasses become dicts (with ``as_dict()`` when they define one, so
    derived figures such as percentages come along), tuples and lists become
    lists, enums their values; everything else must already be plain."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, Enum):
        return to_plain(value.value)
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return to_plain(as_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [to_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, set | frozenset) else items
    raise TypeError(f"not plain data: {type(value).__name__}")
