"""Live course sites: crawled politely, within the course's own prefix on its own host,
into a local cache folder that then serves as a folder source.

Limits: links and redirects only within the course URL on the same host (at most
:data:`MAX_REDIRECTS` redirects; a link's query is dropped, as it names no file of its own,
and never a URL with a ``.``/``..`` segment once percent-decoded: :func:`within`), :data:`MAX_CRAWL_FILE_BYTES` per file and
:data:`MAX_CRAWL_BYTES` per crawl, robots.txt respected (at most
:data:`MAX_ROBOTS_BYTES` of it), bodies streamed to disk.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING

from localize.errors import SourceError
from localize.storage.sources import PAGE_SUFFIXES, FolderSource, safe_member_name

if TYPE_CHECKING:
    from urllib.robotparser import RobotFileParser

__all__ = [
    "CRAWL_REUSE_SECONDS",
    "MAX_CRAWL_BYTES",
    "MAX_CRAWL_FILE_BYTES",
    "HttpSource",
    "crawl",
    "open_site",
    "within",
]


MAX_CRAWL_FILE_BYTES = 64 * 1024 * 1024  # one downloaded file


MAX_CRAWL_BYTES = 2 * 1024 * 1024 * 1024  # everything one crawl downloads


MAX_REDIRECTS = 5


MAX_ROBOTS_BYTES = 512 * 1024


_USER_AGENT = "localize (course localization; polite crawler)"


def _robots(client: object, base_url: str) -> RobotFileParser | None:
    """The site's robots.txt rules, or None when it has none (or it cannot be read)."""
    from urllib.parse import urlsplit
    from urllib.robotparser import RobotFileParser  # here: it loads http.client and ssl

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
    except Exception:  # trickled in too (the client's pace: it held a crawl for days), unreadable: none
        return None
    rules = RobotFileParser()
    rules.parse(body.decode("utf-8", "replace").splitlines())
    return rules


_ENCODED_SEPARATOR = re.compile(r"%(?:2f|5c)", re.I)


def within(url: str, base_url: str) -> bool:
    """Whether ``url`` names a file under ``base_url`` as any server reads it: the same scheme, host
    and port, no query, and no ``.``/``..`` segment or separator once percent-decoded (a server
    reads ``%2e%2e/`` as ``../``: a prefix test on the URL as written let a crawl leave the course)."""
    from urllib.parse import unquote, urlsplit

    if not url.startswith(base_url):
        return False
    parts = urlsplit(url)
    if parts.query or "?" in url or _ENCODED_SEPARATOR.search(parts.path):
        return False
    path = unquote(parts.path)
    return "\\" not in path and not any(segment in (".", "..") for segment in path.split("/"))


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
    skipped = [0]  # links not followed for a dot segment or an encoded separator
    only_queried: set[str] = set()  # files linked only with a query: fetched bare, not missed if absent
    over = threading.Event()
    lock = threading.Lock()
    from localize.storage.paced import paced_client, slow_server

    client = paced_client(
        after=MIN_RATE_AFTER,
        rate=MIN_BYTES_PER_SECOND,
        timeout=30.0,
        follow_redirects=False,
        headers={"User-Agent": _USER_AGENT},
    )

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
        # (a server sending a byte now and then is stopped by the client's pace: storage/paced.py;
        # the part it left is swept at the end of the crawl)
        with os.fdopen(fd, "wb") as out:
            for block in response.iter_bytes():  # as it arrives (a chunk size would wait to fill it)
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
                        if not within(following, base_url):
                            return url, None, f"{url}: redirects to {following[:200]}, outside {base_url}; not followed"
                        target = following
                        continue
                    if r.status_code != 200:
                        return url, None, f"{url}: HTTP {r.status_code}"
                    part, info = download(r, url)
                    return url, part, info
            return url, None, f"{url}: more than {MAX_REDIRECTS} redirects; skipped"
        except httpx.HTTPError as e:
            slow = slow_server(e)
            return url, None, f"{url}: {slow}; skipped" if slow else f"{url}: {type(e).__name__}"

    with client, ThreadPoolExecutor(max_workers=concurrency) as pool:
        robots = _robots(client, base_url)
        if robots is not None and not robots.can_fetch(_USER_AGENT, start):
            problems.append(f"{start}: robots.txt of the site does not allow crawling it")
            frontier = []
        while frontier and len(seen) <= max_files and not over.is_set():
            batch, frontier = frontier, []
            for url, part, info in pool.map(fetch, batch):
                if part is None:
                    if url not in only_queried:
                        problems.append(info)
                    continue
                rel = local_path(url)
                if rel is None:
                    part.unlink()
                    continue
                target = dest / rel
                try:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(part, target)
                except OSError as e:  # "notes" and "notes/" linked both, a name too long: this file only
                    part.unlink()
                    problems.append(f"{url}: cannot be kept as {rel[:200]!r} ({e.strerror or e}); skipped")
                    continue
                if "html" not in info and not rel.endswith(PAGE_SUFFIXES):
                    continue
                text = target.read_bytes()[:MAX_LINK_SCAN_BYTES].decode("utf-8", "replace")
                for m in _LINK.finditer(text):
                    link = unescape(m.group(1) or m.group(2) or m.group(3) or "")
                    # a query names no file of its own (style.css?v=4f6 is style.css): the bare file
                    asked = urldefrag(urljoin(url, link))[0]
                    absolute = asked.split("?", 1)[0]
                    if absolute != asked and absolute not in seen:
                        only_queried.add(absolute)  # (a bare search or download that fails is no problem)
                    elif absolute == asked:
                        only_queried.discard(absolute)
                    if absolute in seen or not absolute.startswith(base_url):
                        continue
                    if not within(absolute, base_url):  # a way out of the course once decoded
                        seen.add(absolute)
                        skipped[0] += 1
                        continue
                    if len(seen) < max_files:
                        seen.add(absolute)
                        if robots is not None and not robots.can_fetch(_USER_AGENT, absolute):
                            problems.append(f"{absolute}: skipped, robots.txt disallows it")
                            continue
                        frontier.append(absolute)
    if skipped[0]:
        problems.append(
            f"{base_url}: {skipped[0]} links with a '.' or '..' segment once percent-decoded, or an encoded "
            "separator, not followed: a server may read them as a way out of the course"
        )
    for leftover in dest.glob(".crawl-*"):
        leftover.unlink()
    return problems


MAX_LINK_SCAN_BYTES = 16 * 1024 * 1024  # links are looked for in the first 16 MiB of a page
MIN_BYTES_PER_SECOND = 1024  # a file that arrives slower than this (on average, past MIN_RATE_AFTER s) is skipped
MIN_RATE_AFTER = 60


class HttpSource(FolderSource):
    """A live course site, crawled once into a local cache folder: ``cache`` (emptied first),
    else a folder of its own in the temporary directory, removed when the source is no longer
    used or the process ends (and, after a kill, by the next crawl on this machine)."""

    def __init__(self, url: str, cache: str | os.PathLike[str] | None = None) -> None:
        import shutil

        if cache is not None:
            root = Path(cache)
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
        else:  # never a folder another crawl (thread or process) is writing or reading
            root = _crawl_folder(url)
        try:
            problems = crawl(url, root)
        except BaseException:
            if cache is None:
                shutil.rmtree(root, ignore_errors=True)
            raise
        super().__init__(root)
        if cache is None:
            weakref.finalize(self, shutil.rmtree, str(root), True)
        self.url = url
        for problem in problems:  # "URL: what": named by its address, never by the cache folder
            where, _, what = problem.partition(": ")
            self.problems.append(SourceError(what, path=where) if what else SourceError(problem, path=url))


_PREFIX = "localize-crawl-"


def _crawl_folder(url: str) -> Path:
    """A new private folder for a crawl of ``url`` (``localize-crawl-PID-HASH-*`` in the temporary
    directory), after removing those that processes of ours which no longer run left behind."""
    import hashlib

    tmp = Path(tempfile.gettempdir())
    for path in tmp.glob(f"{_PREFIX}*"):
        pid = path.name[len(_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            info = path.lstat()
            if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
                continue  # never a link, never another user's
            os.kill(int(pid), 0)
        except ProcessLookupError:
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue  # gone already, or a live process of another user
    name = hashlib.sha256(url.encode()).hexdigest()[:16]
    return Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-{name}-", dir=tmp))


CRAWL_REUSE_SECONDS = 120.0
"""How long :func:`open_site` gives the same crawl again for the same address."""

_sites: dict[str, tuple[float, HttpSource]] = {}
_site_locks: dict[str, threading.Lock] = {}
_sites_lock = threading.Lock()


def open_site(url: str) -> HttpSource:
    """The live site at ``url``, crawled once for the work of a moment: callers that ask
    together (the tasks of a flow run: a kit per locale, each with the course's pages) share
    one crawl, the others waiting for it, and callers within :data:`CRAWL_REUSE_SECONDS` of it
    get it too. A crawl that found no page (the site was down) is not given again."""
    import time

    with _sites_lock:
        lock = _site_locks.setdefault(url, threading.Lock())
    with lock:
        found = _sites.get(url)
        if found is not None and time.monotonic() - found[0] < CRAWL_REUSE_SECONDS:
            return found[1]
        _sites.pop(url, None)  # an old crawl is removed once nobody reads it
        site = HttpSource(url)
        if site.paths():
            _sites[url] = (time.monotonic(), site)
        return site
