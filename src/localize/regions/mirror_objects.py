"""Objects a mirror already holds: the files of every version it keeps, found by sha256.

A pull copies from the region only what the mirror lacks. When the region (a
drive holding a *delta* export, made against an earlier export the mirror
imported) does not carry an object, the pull takes it from any course or locale
on the mirror whose kept version holds a file with that sha256, after hashing
that file again (a damaged copy is never spread). The folders are found from
the manifests the mirror recorded (``.localize/COURSE/LL/manifests/V.json``
beside ``.localize/COURSE/LL/V/``), read once per pull (or once per ``pull --all``).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from pathlib import Path

from localize.errors import IntegrityError, LocalizeError
from localize.regions.schema import Manifest, is_version

__all__ = ["LocalObjects", "MissingObject", "sha256_file"]


class MissingObject(IntegrityError):
    """The region lacks an object its manifest names (and the mirror has no copy of it)."""


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class LocalObjects:
    """sha256 -> files on the mirror that should hold those bytes (checked again before use)."""

    def __init__(self, dest: str | os.PathLike[str]) -> None:
        self.dest = Path(dest)
        self._found: dict[str, list[Path]] | None = None

    def _scan(self) -> dict[str, list[Path]]:
        found: dict[str, list[Path]] = {}
        root = self.dest / ".localize"
        for manifest_path in sorted(root.glob("*/*/manifests/*.json")) if root.is_dir() else ():
            version = manifest_path.stem
            folder = manifest_path.parent.parent / version
            if not is_version(version) or not folder.is_dir() or folder.is_symlink():
                continue
            try:
                manifest = Manifest.from_bytes(manifest_path.read_bytes(), where=str(manifest_path))
            except (OSError, LocalizeError):
                continue  # a damaged record of the mirror's own: its files are simply not offered
            for record in manifest.files:
                found.setdefault(record.sha256, []).append(folder / record.path)
        return found

    def copy_to(self, sha256: str, size: int, target: Path) -> bool:
        """Put a verified local copy of the object at ``target`` (a hard link when possible)."""
        if self._found is None:
            self._found = self._scan()
        for candidate in self._found.get(sha256, ()):
            try:
                if candidate.is_symlink() or not candidate.is_file() or candidate.stat().st_size != size:
                    continue
                if sha256_file(candidate) != sha256:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.with_name(f".{target.name}.local.{os.getpid()}.{secrets.token_hex(4)}")
                try:
                    try:
                        os.link(candidate, tmp)
                    except OSError:
                        shutil.copy2(candidate, tmp)
                    os.replace(tmp, target)
                finally:
                    tmp.unlink(missing_ok=True)
                return True
            except OSError:
                continue  # pruned meanwhile by another course's pull: try the next copy
        return False
