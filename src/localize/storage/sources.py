"""Where a course's files come from: a folder, an OCW offline .zip, an S3 prefix,
or a live site over HTTP (crawled within its own prefix into a local cache).

A source lists relative POSIX paths and reads their bytes. Archives are read in
place and never extracted as given: a member that would land outside the course
(absolute path, '..', a drive letter, a link) is refused and reported. Every
source lists only the paths :func:`~localize.storage.base.course_path_problem`
accepts and reports the others in ``problems``, so extract, build, publish and
pull all see the same files.
"""

from __future__ import annotations

import bisect
import os
import stat
import unicodedata
from pathlib import Path, PurePosixPath
from typing import IO, Protocol, cast

from localize.errors import SourceError, StorageError, UnsafeArchiveError
from localize.storage.base import TooLarge, course_path_problem
from localize.storage.locations import open_storage

__all__ = [
    "MAX_ARCHIVE_BYTES", "MAX_ARCHIVE_MEMBERS", "MAX_COMPRESSION_RATIO", "MAX_PAGE_BYTES", "PAGE_SUFFIXES",
    "PAGE_TOO_LARGE", "FolderSource", "S3Source", "Source", "ZipSource", "copy_file", "course_paths", "is_page",
    "read_page",
]  # fmt: skip

PAGE_SUFFIXES = (".html", ".htm")
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a bigger member is skipped (reported)
MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024  # the members of one archive, uncompressed, together
MAX_ARCHIVE_MEMBERS = 100_000
MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed, for members above RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
MAX_PAGE_BYTES = 32 * 1024 * 1024  # a larger "page" is never parsed: extract skips it, build and publish copy it
PAGE_TOO_LARGE = f"larger than the {MAX_PAGE_BYTES // (1024 * 1024)} MB a page may be"
_CHUNK = 1024 * 1024  # what one step of reading an archive member inflates at most


def is_page(path: str) -> bool:
    return path.lower().endswith(PAGE_SUFFIXES)


def _regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def read_page(source: Source, path: str) -> bytes | None:
    """A page's bytes; None when it is larger than :data:`MAX_PAGE_BYTES` (read no further: a page
    of hundreds of megabytes, from an archive of a few, would take gigabytes to parse)."""
    limited = getattr(source, "read_limited", None)
    if limited is not None:  # (an S3 object: its size is asked first, never downloaded whole to see)
        return cast("bytes | None", limited(path, MAX_PAGE_BYTES))
    with source.open(path) as f:
        try:
            size: int | None = os.fstat(f.fileno()).st_size
        except (AttributeError, OSError, ValueError):  # (an archive member: no file of its own)
            size = None
        if size is not None and size > MAX_PAGE_BYTES:
            return None
        data = f.read(min(size, MAX_PAGE_BYTES) + 1 if size is not None else MAX_PAGE_BYTES + 1)
    return data if len(data) <= MAX_PAGE_BYTES else None


def copy_file(source: Source, path: str, target: Path) -> None:
    """The file's bytes into ``target``, streamed (a large file never needs to fit in memory)."""
    import shutil

    with source.open(path) as f, target.open("wb") as out:
        shutil.copyfileobj(f, out, _CHUNK)


def course_paths(paths: list[str], location: str, problems: list[SourceError]) -> list[str]:
    """The ``paths`` a course may hold, sorted; each refused one is added to ``problems``."""
    out: list[str] = []
    ordered = sorted(paths)
    folded: dict[str, str] = {}  # a name as a case-insensitive, normalizing disk sees it -> the first such
    for path in ordered:
        folded.setdefault(unicodedata.normalize("NFC", path).casefold(), path)
    for path in paths:
        problem = course_path_problem(path)
        if problem is None and _is_folder(path, ordered):  # "notes" beside "notes/index.html": no folder holds both
            problem = "a folder of the same name holds other files of the course"
        first = folded.get(unicodedata.normalize("NFC", path).casefold(), path)
        if problem is None and first != path:  # a mirror on macOS or Windows would keep one of the two
            problem = f"the same name as {first!r} on a disk that ignores case or Unicode normalization"
        if problem is None:
            out.append(path)
            continue
        message = f"file name {path!r} refused ({problem}): rename it to build and publish it"
        if not any(str(p) == str(SourceError(message, path=location)) for p in problems):
            problems.append(SourceError(message, path=location))
    out.sort()
    return out


def _is_folder(path: str, ordered: list[str]) -> bool:
    """Whether another of the sorted paths lies under ``path/`` (a search, never a set of every
    prefix of every path: a name of 32,000 levels would make that quadratic in memory)."""
    below = path + "/"
    i = bisect.bisect_left(ordered, below)
    return i < len(ordered) and ordered[i].startswith(below)


class Source(Protocol):
    location: str
    problems: list[SourceError]

    def paths(self) -> list[str]:
        """Every file of the course, sorted."""
        ...

    def read(self, path: str) -> bytes: ...

    def open(self, path: str) -> IO[bytes]:
        """The file as a stream (large files never need to fit in memory); close it after use."""
        ...


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
                if not full.is_symlink() and not _regular(full):
                    self.problems.append(
                        SourceError("not a regular file (a pipe, socket or device), skipped", path=str(full))
                    )
                    continue
                if full.is_symlink():
                    target = full.resolve()
                    if not target.is_relative_to(root) or not target.is_file():
                        self.problems.append(
                            SourceError("symbolic link to outside the course, skipped", path=str(full))
                        )
                        continue
                out.append(full.relative_to(self.root).as_posix())
        return course_paths(out, self.location, self.problems)

    def read(self, path: str) -> bytes:
        with self.open(path) as f:
            try:
                return f.read()
            except OSError as e:
                raise SourceError(f"cannot read: {e.strerror}", path=str(self.root / path)) from e

    def open(self, path: str) -> IO[bytes]:
        """The file, opened without waiting (a pipe put there since the listing is refused, not waited on)."""
        where = str(self.root / path)
        try:
            fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise SourceError(f"cannot read: {e.strerror}", path=where) from e
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise SourceError("not a regular file (a pipe, socket or device)", path=where)
        return os.fdopen(fd, "rb")


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
    # zipfile is imported where it is used: opening a folder, the common case, does not load it
    def __init__(self, path: str | os.PathLike[str]) -> None:
        import zipfile

        self.location = str(path)
        self.problems: list[SourceError] = []
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as e:
            raise SourceError(f"not a readable zip archive ({e})", path=self.location) from e
        members: dict[str, zipfile.ZipInfo] = {}
        infos = self.zip.infolist()
        if len(infos) > MAX_ARCHIVE_MEMBERS:
            raise SourceError(
                f"the archive has {len(infos)} members, more than the {MAX_ARCHIVE_MEMBERS} a course may have",
                path=self.location,
            )
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            # declared sizes bound what zipfile will inflate (it stops at file_size and checks the CRC)
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_COMPRESSION_RATIO * max(1, info.compress_size):
                raise SourceError(
                    f"archive member {info.filename!r} expands {info.file_size // max(1, info.compress_size)} times "
                    f"({info.compress_size} bytes to {info.file_size}), more than the {MAX_COMPRESSION_RATIO}x a "
                    "course file may; refusing the archive (a zip bomb?)",
                    path=self.location,
                )
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
            if name in members:  # the same name twice (or "c\\x" beside "c/x"): which one is the course's?
                self.problems.append(
                    SourceError(
                        f"archive member {info.filename!r} has the name of an earlier member; the earlier one is "
                        "used: remove one of them",
                        path=self.location,
                    )
                )
                continue
            total += info.file_size
            if total > MAX_ARCHIVE_BYTES:
                raise SourceError(
                    f"the archive expands to more than {MAX_ARCHIVE_BYTES} bytes at member {info.filename!r}; "
                    "refusing it (a zip bomb?)",
                    path=self.location,
                )
            members[name] = info
        # OCW offline archives hold one top folder: the course
        tops = {n.split("/", 1)[0] for n in members}
        self.prefix = ""
        if len(tops) == 1 and all("/" in n for n in members):
            self.prefix = tops.pop() + "/"
        self.members = {n[len(self.prefix) :]: info for n, info in members.items()}

    def paths(self) -> list[str]:
        return course_paths(list(self.members), self.location, self.problems)

    def read(self, path: str) -> bytes:
        import zipfile

        info = self.members[path]
        # in bounded steps: ZipFile.read() inflates all the compressed bytes at once before it cuts
        # them to the declared size, so a member that declares 1 KB and inflates to 2 GB took 2 GB
        chunks: list[bytes] = []
        try:
            with self.zip.open(info) as f:
                while chunk := f.read(_CHUNK):  # stops at the declared size; a lie fails its CRC
                    chunks.append(chunk)
            return b"".join(chunks)
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as e:
            raise SourceError(f"cannot read archive member {info.filename!r}: {e}", path=self.location) from e

    def open(self, path: str) -> IO[bytes]:
        import zipfile

        info = self.members[path]
        try:
            return self.zip.open(info)
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as e:
            raise SourceError(f"cannot read archive member {info.filename!r}: {e}", path=self.location) from e


class S3Source:
    """Every object under an S3 prefix."""

    def __init__(self, location: str) -> None:

        self.location = location
        self.problems: list[SourceError] = []
        self.storage = open_storage(location)

    def paths(self) -> list[str]:
        # a key ending in "/" is a folder marker (consoles and sync tools make them), not a file
        return course_paths([k for k in self.storage.list("") if not k.endswith("/")], self.location, self.problems)

    def read(self, path: str) -> bytes:
        try:
            return self.storage.read_bytes(path)
        except FileNotFoundError as e:
            raise self._gone(path) from e

    def read_limited(self, path: str, limit: int) -> bytes | None:
        """The object's bytes; None when it is larger than ``limit`` (not read)."""
        try:
            return self.storage.read_with_etag(path, limit)[0]
        except TooLarge:
            return None
        except FileNotFoundError as e:
            raise self._gone(path) from e

    def _gone(self, path: str) -> SourceError:
        """An object listed, then deleted or renamed before it was read: that page fails, the course goes on."""
        return SourceError(
            "the object was deleted since the course was listed; run again once the upload is complete",
            path=f"{self.location.rstrip('/')}/{path}",
        )

    def open(self, path: str) -> IO[bytes]:
        """A copy in a temporary file (never the whole object in memory)."""
        import tempfile

        spool = tempfile.TemporaryFile()  # noqa: SIM115 - returned open to the caller
        try:
            self.storage.download(path, spool)
        except StorageError:
            spool.close()
            raise
        except FileNotFoundError as e:
            spool.close()
            raise self._gone(path) from e
        spool.seek(0)
        return spool
