"""Where a course's files come from: a folder or an OCW offline .zip.

A source lists relative POSIX paths and reads their bytes. Archives are read in
place and never extracted as given: a member that would land outside the course
(absolute path, '..', a drive letter, a link) is refused and reported.
"""

from __future__ import annotations

import os
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Protocol

from localize.errors import SourceError, UnsafeArchiveError

__all__ = ["PAGE_SUFFIXES", "FolderSource", "Source", "ZipSource", "is_page", "open_source"]

PAGE_SUFFIXES = (".html", ".htm")
MAX_MEMBER_BYTES = 512 * 1024 * 1024


def is_page(path: str) -> bool:
    return path.lower().endswith(PAGE_SUFFIXES)


class Source(Protocol):
    location: str
    problems: list[SourceError]

    def paths(self) -> list[str]:
        """Every file of the course, sorted."""
        ...

    def read(self, path: str) -> bytes: ...


class FolderSource:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.location = str(root)
        self.problems: list[SourceError] = []
        if not self.root.is_dir():
            raise SourceError("no such folder; give a course folder or an OCW .zip", path=self.location)

    def paths(self) -> list[str]:
        out: list[str] = []
        root = self.root.resolve()
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames[:] = sorted(
                d for d in dirnames if not d.startswith(".") and not os.path.islink(os.path.join(dirpath, d))
            )
            for name in filenames:
                if name.startswith("."):
                    continue
                full = Path(dirpath, name)
                if full.is_symlink():
                    target = full.resolve()
                    if not target.is_relative_to(root) or not target.is_file():
                        self.problems.append(
                            SourceError("symbolic link to outside the course, skipped", path=str(full))
                        )
                        continue
                out.append(full.relative_to(self.root).as_posix())
        out.sort()
        return out

    def read(self, path: str) -> bytes:
        try:
            return (self.root / path).read_bytes()
        except OSError as e:
            raise SourceError(f"cannot read: {e.strerror}", path=str(self.root / path)) from e


def safe_member_name(name: str) -> str | None:
    """The member's relative path, or None if it could escape the target folder."""
    if "\x00" in name:
        return None
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(norm).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


class ZipSource:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.location = str(path)
        self.problems: list[SourceError] = []
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as e:
            raise SourceError(f"not a readable zip archive ({e})", path=self.location) from e
        members: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            if info.is_dir():
                continue
            mode = info.external_attr >> 16
            name = safe_member_name(info.filename)
            if name is None or stat.S_ISLNK(mode):
                self.problems.append(
                    UnsafeArchiveError(
                        f"archive member {info.filename!r} points outside the course; skipped", path=self.location
                    )
                )
                continue
            if info.file_size > MAX_MEMBER_BYTES:
                self.problems.append(
                    SourceError(f"archive member {info.filename!r} is larger than 512 MiB; skipped", path=self.location)
                )
                continue
            members[name] = info
        # OCW offline archives hold one top folder: the course
        tops = {n.split("/", 1)[0] for n in members}
        self.prefix = ""
        if len(tops) == 1 and all("/" in n for n in members):
            self.prefix = tops.pop() + "/"
        self.members = {n[len(self.prefix) :]: info for n, info in members.items()}

    def paths(self) -> list[str]:
        return sorted(self.members)

    def read(self, path: str) -> bytes:
        info = self.members[path]
        try:
            return self.zip.read(info)
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as e:
            raise SourceError(f"cannot read archive member {info.filename!r}: {e}", path=self.location) from e


def open_source(location: str | os.PathLike[str]) -> FolderSource | ZipSource:
    """Open a course folder or .zip archive."""
    path = Path(location)
    if path.is_file():
        if zipfile.is_zipfile(path):
            return ZipSource(path)
        raise SourceError("not a folder or .zip archive", path=str(location))
    if not path.exists():
        raise SourceError("no such file or folder", path=str(location))
    return FolderSource(path)
