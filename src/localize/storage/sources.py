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

import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.robotparser import RobotFileParser

from localize.errors import SourceError, UnsafeArchiveError
from localize.storage.base import course_path_problem
from localize.storage.locations import open_storage

__all__ = ["PAGE_SUFFIXES", "FolderSource", "Source", "ZipSource", "course_paths", "is_page", "open_source"]

PAGE_SUFFIXES = (".html", ".htm")
MAX_MEMBER_BYTES = 512 * 1024 * 1024


def is_page(path: str) -> bool:
    return path.lower().endswith(PAGE_SUFFIXES)


def course_paths(paths: list[str], location: str, problems: list[SourceError]) -> list[str]:
    """The ``paths`` a course may hold, sorted; each refused one is added to ``problems``."""
    out: list[str] = []
    for path in paths:
        problem = course_path_problem(path)
        if problem is None:
            out.append(path)
            continue
        message = f"file name {path!r} refused ({problem}): rename it to build and publish it"
        if not any(str(p) == str(SourceError(message, path=location)) for p in problems):
            problems.append(SourceError(message, path=location))
    out.sort()
    return out


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
        return course_paths(out, self.location, self.problems)

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
        return course_paths(list(self.members), self.location, self.problems)

    def read(self, path: str) -> bytes:
        info = self.members[path]
        try:
            return self.zip.read(info)
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as e:
            raise SourceError(f"cannot read archive member {info.filename!r}: {e}", path=self.location) from e


class S3Source:
    """Every object under an S3 prefix."""

    def __init__(self, location: str) -> None:

        self.location = location
        self.problems: list[SourceError] = []
        self.storage = open_storage(location)

    def paths(self) -> list[str]:
        return course_paths(list(self.storage.list("")), self.location, self.problems)

    def read(self, path: str) -> bytes:
        return self.storage.read_bytes(path)


_USER_AGENT = "localize (course localization; polite crawler)"


def _robots(client: object, base_url: str) -> RobotFileParser | None:
    """The site's robots.txt rules, or None when it has none (or it cannot be read)."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    try:
        response = client.get(f"{parts.scheme}://{parts.netloc}/robots.txt")  # type: ignore[attr-defined]
    except Exception:
        return None
    if response.status_code != 200:
        return None
    rules = RobotFileParser()
    rules.parse(response.text.splitlines())
    return rules


_LINK = re.compile(r"""(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)


def crawl(base_url: str, dest: Path, *, max_files: int = 5000, concurrency: int = 4, delay: float = 0.05) -> list[str]:
    """Download a site under ``base_url`` (never above it) into ``dest``.

    Follows href/src links of pages breadth first with at most ``concurrency``
    requests in flight and a small pause per request; a URL ending in "/" is
    saved as index.html. Returns the problems met (one line each).
    """
    import time
    from concurrent.futures import ThreadPoolExecutor
    from html import unescape
    from urllib.parse import urldefrag, urljoin, urlsplit

    import httpx

    start = base_url
    last = urlsplit(base_url).path.rsplit("/", 1)[-1]
    if not base_url.endswith("/"):
        base_url = base_url.rsplit("/", 1)[0] + "/" if "." in last else base_url + "/"
    problems: list[str] = []
    seen: set[str] = {start, base_url}
    frontier = [start]
    client = httpx.Client(
        timeout=30.0, follow_redirects=True, headers={"User-Agent": "localize (course localization; polite crawler)"}
    )

    def local_path(url: str) -> str | None:
        rel = url[len(base_url) :].split("?", 1)[0]
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        return safe_member_name(rel)

    def fetch(url: str) -> tuple[str, bytes | None, str]:
        time.sleep(delay)
        try:
            r = client.get(url)
        except httpx.HTTPError as e:
            return url, None, f"{url}: {type(e).__name__}"
        if r.status_code != 200:
            return url, None, f"{url}: HTTP {r.status_code}"
        return url, r.content, r.headers.get("content-type", "")

    with client, ThreadPoolExecutor(max_workers=concurrency) as pool:
        robots = _robots(client, base_url)
        if robots is not None and not robots.can_fetch(_USER_AGENT, start):
            problems.append(f"{start}: robots.txt of the site does not allow crawling it")
            frontier = []
        while frontier and len(seen) <= max_files:
            batch, frontier = frontier, []
            for url, data, info in pool.map(fetch, batch):
                if data is None:
                    problems.append(info)
                    continue
                rel = local_path(url)
                if rel is None:
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                if "html" not in info and not rel.endswith(PAGE_SUFFIXES):
                    continue
                for m in _LINK.finditer(data.decode("utf-8", "replace")):
                    link = unescape(m.group(1) or m.group(2) or m.group(3) or "")
                    absolute = urldefrag(urljoin(url, link))[0]
                    if absolute.startswith(base_url) and absolute not in seen and len(seen) < max_files:
                        seen.add(absolute)
                        if robots is not None and not robots.can_fetch(_USER_AGENT, absolute):
                            problems.append(f"{absolute}: skipped, robots.txt disallows it")
                            continue
                        frontier.append(absolute)
    return problems


class HttpSource(FolderSource):
    """A live course site, crawled once into a local cache folder."""

    def __init__(self, url: str, cache: str | os.PathLike[str] | None = None) -> None:
        import hashlib
        import tempfile

        root = (
            Path(cache)
            if cache is not None
            else Path(tempfile.gettempdir()) / "localize-crawl" / hashlib.sha256(url.encode()).hexdigest()[:16]
        )
        if root.exists():
            import shutil

            shutil.rmtree(root)
        root.mkdir(parents=True)
        problems = crawl(url, root)
        super().__init__(root)
        self.url = url
        self.problems.extend(SourceError(p) for p in problems)


def open_source(location: str | os.PathLike[str]) -> FolderSource | ZipSource | S3Source:
    """Open a course folder, .zip archive, s3:// prefix or http(s):// site."""
    text = str(location)
    if text.startswith("s3://"):
        return S3Source(text)
    if text.startswith(("http://", "https://")):
        return HttpSource(text)
    path = Path(location)
    if path.is_file():
        if zipfile.is_zipfile(path):
            return ZipSource(path)
        raise SourceError("not a folder or .zip archive", path=str(location))
    if not path.exists():
        raise SourceError("no such file or folder", path=str(location))
    return FolderSource(path)
