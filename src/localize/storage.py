"""The storage interface: one small protocol, a local-folder backend here and an
S3 backend beside it (boto3 lives only there).

Keys are POSIX-style relative paths ("templates/course.pot"). Every write is
atomic: readers see the old object or the new one, never half of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from localize.errors import StorageError

__all__ = ["LocalStorage", "PreconditionFailed", "Storage", "check_key", "open_storage"]


class PreconditionFailed(StorageError):
    """A conditional write lost: the object changed (or exists) since it was read."""


def check_key(key: str) -> str:
    """Refuse keys that could escape the storage root."""
    parts = key.replace("\\", "/").split("/")
    if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or ":" in parts[0]:
        raise StorageError(f"invalid storage key {key!r}: use a relative path without '..'")
    return "/".join(parts)


@runtime_checkable
class Storage(Protocol):
    """Where catalogs, kits and bundles live."""

    def read_bytes(self, key: str) -> bytes:
        """The object's bytes; FileNotFoundError when it does not exist."""
        ...

    def write_bytes(self, key: str, data: bytes) -> None:
        """Create or replace the object atomically."""
        ...

    def exists(self, key: str) -> bool: ...

    def read_with_etag(self, key: str) -> tuple[bytes, str]:
        """The object's bytes and an ETag for conditional writes."""
        ...

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write; only if absent (``if_none_match``) or still at ``if_match``.
        Raises PreconditionFailed otherwise. Returns the new ETag."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix``, sorted."""
        ...

    def list_with_times(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        """(key, last modified as a POSIX time) under ``prefix``, sorted by key."""
        ...

    def delete(self, key: str) -> None: ...

    def describe(self, key: str = "") -> str:
        """Where ``key`` is, for messages (never with credentials)."""
        ...


class LocalStorage:
    """A folder on the local file system."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    def describe(self, key: str = "") -> str:
        return str(self.path(key)) if key else str(self.root)

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise
        except OSError as e:
            raise StorageError(f"cannot read: {e.strerror}", path=self.describe(key)) from e

    def write_bytes(self, key: str, data: bytes) -> None:
        target = self.path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.replace(tmp, target)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise StorageError(f"cannot write: {e.strerror}", path=str(target)) from e

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def read_with_etag(self, key: str) -> tuple[bytes, str]:
        data = self.read_bytes(key)
        return data, _etag(data)

    def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str | None = None,
        if_none_match: bool = False,
        if_match: str | None = None,
    ) -> str:
        """Write, optionally only if absent or unchanged (compare-and-swap under a lock)."""
        import fcntl

        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target.parent / f".{target.name}.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if if_none_match and target.exists():
                raise PreconditionFailed("someone else changed this object first", path=str(target))
            if if_match is not None:
                current = _etag(target.read_bytes()) if target.exists() else None
                if current != if_match:
                    raise PreconditionFailed("someone else changed this object first", path=str(target))
            self.write_bytes(key, data)
        return _etag(data)

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return iter(())
        keys = sorted(
            p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
        return iter(keys)

    def list_with_times(self, prefix: str = "") -> Iterator[tuple[str, float]]:
        for key in self.list(prefix):
            yield key, self.path(key).stat().st_mtime

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def _etag(data: bytes) -> str:
    import hashlib

    return '"' + hashlib.sha256(data).hexdigest() + '"'


def open_storage(location: str | os.PathLike[str], endpoint_url: str | None = None) -> Storage:
    """A folder path, or ``s3://bucket/prefix`` (endpoint from ``endpoint_url``,
    ``?endpoint=...``, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL)."""
    text = str(location)
    if text.startswith("s3://"):
        from localize.s3 import S3Storage, parse_s3_url

        return S3Storage(parse_s3_url(text, endpoint_url=endpoint_url))
    return LocalStorage(location)
