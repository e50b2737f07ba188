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

__all__ = ["LocalStorage", "Storage", "check_key"]


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

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys under ``prefix``, sorted."""
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

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.root / prefix if prefix else self.root
        if not base.is_dir():
            return iter(())
        keys = sorted(
            p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file() and not p.name.startswith(".")
        )
        return iter(keys)

    def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def open_storage(location: str | os.PathLike[str]) -> Storage:
    """A folder path, or ``s3://bucket/prefix`` (endpoint from AWS_ENDPOINT_URL or
    ``?endpoint=...``)."""
    text = str(location)
    if text.startswith("s3://"):
        from localize.s3 import S3Storage

        return S3Storage(text)
    return LocalStorage(location)
