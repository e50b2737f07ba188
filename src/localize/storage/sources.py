"""Where a course's files come from: a folder, an OCW offline .zip, an S3 prefix,
or a live site over HTTP (crawled within its own prefix into a local cache).

A source lists relative POSIX paths and reads their bytes. Archives are read in
place and never extracted as given: a member that would land outside the course
(absolute path, '..', a drive letter, a link) is refused and reported.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import threading
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO, Protocol
from urllib.robotparser import RobotFileParser

from localize.errors import SourceError, StorageError, UnsafeArchiveError
from localize.storage.locations import open_storage

__all__ = [
    "MAX_ARCHIVE_BYTES", "MAX_ARCHIVE_MEMBERS", "MAX_COMPRESSION_RATIO", "MAX_CRAWL_BYTES", "MAX_CRAWL_FILE_BYTES",
    "PAGE_SUFFIXES", "FolderSource", "Source", "ZipSource", "is_page", "open_source",
]  # fmt: skip

PAGE_SUFFIXES = (".html", ".htm")
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # a bigger member is skipped (reported)
MAX_ARCHIVE_BYTES = 4 * 1024 * 1024 * 1024  # the members of one archive, uncompressed, together
MAX_ARCHIVE_MEMBERS = 100_000
MAX_COMPRESSION_RATIO = 100  # uncompressed / compressed, for members above RATIO_FLOOR bytes
RATIO_FLOOR = 1024 * 1024
MAX_CRAWL_FILE_BYTES = 64 * 1024 * 1024  # one downloaded file
MAX_CRAWL_BYTES = 2 * 1024 * 1024 * 1024  # everything one crawl downloads
MAX_REDIRECTS = 5
MAX_ROBOTS_BYTES = 512 * 1024


def is_page(path: str) -> bool:
    return path.lower().endswith(PAGE_SUFFIXES)


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

    def open(self, path: str) -> IO[bytes]:
        try:
            return (self.root / path).open("rb")
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
        return sorted(self.members)

    def read(self, path: str) -> bytes:
        info = self.members[path]
        try:
            return self.zip.read(info)
        except (OSError, zipfile.BadZipFile, RuntimeError, EOFError) as e:
            raise SourceError(f"cannot read archive member {info.filename!r}: {e}", path=self.location) from e

    def open(self, path: str) -> IO[bytes]:
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
        return sorted(self.storage.list(""))

    def read(self, path: str) -> bytes:
        return self.storage.read_bytes(path)

    def open(self, path: str) -> IO[bytes]:
        """A copy in a temporary file (never the whole object in memory)."""
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - returned open to the caller
        try:
            self.storage.download(path, spool)
        except (StorageError, FileNotFoundError):
            spool.close()
            raise
        spool.seek(0)
        return spool


_USER_AGENT = "localize (course localization; polite crawler)"


def _robots(client: object, base_url: str) -> RobotFileParser | None:
    """The site's robots.txt rules, or None when it has none (or it cannot be read)."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    try:
        with client.stream("GET", f"{parts.scheme}://{parts.netloc}/robots.txt") as response:  # type: ignore[attr-defined]
            if response.status_code != 200:
                return None
            body = b""
            for block in response.iter_bytes():
                body += block
                if len(body) > MAX_ROBOTS_BYTES:
                    return None
    except Exception:
        return None
    rules = RobotFileParser()
    rules.parse(body.decode("utf-8", "replace").splitlines())
    return rules


_LINK = re.compile(r"""(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)


def crawl(
    base_url: str,
    dest: Path,
    *,
    max_files: int = 5000,
    concurrency: int = 4,
    delay: float = 0.05,
    max_file_bytes: int = MAX_CRAWL_FILE_BYTES,
    max_total_bytes: int = MAX_CRAWL_BYTES,
) -> list[str]:
    """Download a site under ``base_url`` (never above it) into ``dest``.

    Follows href/src links of pages breadth first with at most ``concurrency``
    requests in flight and a small pause per request; a URL ending in "/" is
    saved as index.html. Redirects are followed only within ``base_url`` on the
    same scheme, host and port (at most MAX_REDIRECTS); a file larger than
    ``max_file_bytes`` is skipped and the crawl stops once ``max_total_bytes``
    have come. Bodies stream to disk, never whole into memory. Returns the
    problems met (one line each).
    """
    import time
    from concurrent.futures import ThreadPoolExecutor
    from html import unescape
    from urllib.parse import urldefrag, urljoin, urlsplit

    import httpx

    dest.mkdir(parents=True, exist_ok=True)
    start = base_url
    last = urlsplit(base_url).path.rsplit("/", 1)[-1]
    if not base_url.endswith("/"):
        base_url = base_url.rsplit("/", 1)[0] + "/" if "." in last else base_url + "/"
    problems: list[str] = []
    seen: set[str] = {start, base_url}
    frontier = [start]
    total = [0]
    over = threading.Event()
    lock = threading.Lock()
    client = httpx.Client(timeout=30.0, follow_redirects=False, headers={"User-Agent": _USER_AGENT})

    def local_path(url: str) -> str | None:
        rel = url[len(base_url) :].split("?", 1)[0]
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        return safe_member_name(rel)

    def download(response: httpx.Response, url: str) -> tuple[Path | None, str]:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_file_bytes:
            return None, f"{url}: larger than {max_file_bytes} bytes ({declared}); skipped"
        fd, part = tempfile.mkstemp(prefix=".crawl-", dir=dest)
        size = 0
        with os.fdopen(fd, "wb") as out:
            for block in response.iter_bytes(1 << 16):
                size += len(block)
                if size > max_file_bytes:
                    Path(part).unlink()
                    return None, f"{url}: larger than {max_file_bytes} bytes; skipped"
                with lock:
                    total[0] += len(block)
                    if total[0] > max_total_bytes:
                        over.set()
                if over.is_set():
                    Path(part).unlink()
                    return None, f"{url}: the crawl reached its limit of {max_total_bytes} bytes; stopped"
                out.write(block)
        return Path(part), response.headers.get("content-type", "")

    def fetch(url: str) -> tuple[str, Path | None, str]:
        time.sleep(delay)
        target = url
        try:
            for _ in range(MAX_REDIRECTS + 1):
                if over.is_set():
                    return url, None, f"{url}: the crawl reached its limit of {max_total_bytes} bytes; stopped"
                with client.stream("GET", target) as r:
                    if r.is_redirect:
                        following = urldefrag(urljoin(target, r.headers.get("location", "")))[0]
                        if not following.startswith(base_url):
                            return url, None, f"{url}: redirects to {following[:200]}, outside {base_url}; not followed"
                        target = following
                        continue
                    if r.status_code != 200:
                        return url, None, f"{url}: HTTP {r.status_code}"
                    part, info = download(r, url)
                    return url, part, info
            return url, None, f"{url}: more than {MAX_REDIRECTS} redirects; skipped"
        except httpx.HTTPError as e:
            return url, None, f"{url}: {type(e).__name__}"

    with client, ThreadPoolExecutor(max_workers=concurrency) as pool:
        robots = _robots(client, base_url)
        if robots is not None and not robots.can_fetch(_USER_AGENT, start):
            problems.append(f"{start}: robots.txt of the site does not allow crawling it")
            frontier = []
        while frontier and len(seen) <= max_files and not over.is_set():
            batch, frontier = frontier, []
            for url, part, info in pool.map(fetch, batch):
                if part is None:
                    problems.append(info)
                    continue
                rel = local_path(url)
                if rel is None:
                    part.unlink()
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, target)
                if "html" not in info and not rel.endswith(PAGE_SUFFIXES):
                    continue
                text = target.read_bytes()[:MAX_LINK_SCAN_BYTES].decode("utf-8", "replace")
                for m in _LINK.finditer(text):
                    link = unescape(m.group(1) or m.group(2) or m.group(3) or "")
                    absolute = urldefrag(urljoin(url, link))[0]
                    if absolute.startswith(base_url) and absolute not in seen and len(seen) < max_files:
                        seen.add(absolute)
                        if robots is not None and not robots.can_fetch(_USER_AGENT, absolute):
                            problems.append(f"{absolute}: skipped, robots.txt disallows it")
                            continue
                        frontier.append(absolute)
    for leftover in dest.glob(".crawl-*"):
        leftover.unlink()
    return problems


MAX_LINK_SCAN_BYTES = 16 * 1024 * 1024  # links are looked for in the first 16 MiB of a page


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
