"""Reading within a limit: what every storage backend (and the database rows of
:mod:`.rows`) raises for an object larger than its reader allowed."""

from __future__ import annotations

from typing import IO

from localize.errors import PermanentStorageError

__all__ = ["CHUNK", "TooLarge", "copy_limited"]

CHUNK = 1 << 20  # streaming reads and writes move at most this much at a time


class TooLarge(PermanentStorageError):
    """An object is larger than the reader allowed (``max_bytes``); nothing more was read."""

    etag: str | None = None  # from read_with_etag: the object's ETag, for a conditional write replacing it


def copy_limited(src: IO[bytes], dest: IO[bytes], max_bytes: int | None, where: str, size: int = CHUNK) -> int:
    """Copy ``src`` to ``dest`` in chunks of ``size``; :class:`TooLarge` once more than ``max_bytes`` came."""
    total = 0
    while True:
        block = src.read(size)
        if not block:
            return total
        total += len(block)
        if max_bytes is not None and total > max_bytes:
            raise TooLarge(f"larger than the {max_bytes} bytes allowed here; stopped reading", path=where)
        dest.write(block)
