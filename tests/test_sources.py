"""Course sources beyond folders and zips: an S3 prefix and a live site over HTTP."""

from __future__ import annotations

import os
import shutil
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import SAMPLE
from localize.engine.extract import extract_course
from localize.storage.courses import open_source
from localize.storage.s3 import S3Storage


def keys(location: str) -> dict[tuple[str | None, str], tuple[str, ...]]:
    return {e.key: e.references for e in extract_course(open_source(location), "c", jobs=1).catalog.entries}


def test_an_s3_prefix_extracts_like_the_folder(s3_env: str) -> None:
    storage = S3Storage(f"s3://{s3_env}/courses/intro")
    for path in sorted(p for p in SAMPLE.rglob("*") if p.is_file()):
        storage.write_bytes(path.relative_to(SAMPLE).as_posix(), path.read_bytes())
    assert keys(f"s3://{s3_env}/courses/intro") == keys(str(SAMPLE))


class _Logged(SimpleHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        super().do_GET()


def test_a_live_site_is_crawled_within_its_prefix(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "courses").mkdir(parents=True)
    import shutil

    shutil.copytree(SAMPLE, site / "courses" / "intro")
    (site / "outside.html").write_text("<p>Not part of the course</p>")
    (site / "courses" / "intro" / "index.html").write_text(
        (SAMPLE / "index.html")
        .read_text(encoding="utf-8-sig")
        .replace("</body>", '<a href="../../outside.html">out</a></body>'),
        encoding="utf-8",
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Logged, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/courses/intro/index.html"
        found = keys(url)
    finally:
        server.shutdown()
    folder = keys(str(SAMPLE))
    # every linked page is there (the fragment page is linked from nowhere, so a crawler cannot find it)
    linked = {k for k, refs in folder.items() if any(r != "fragments/snippet.html" for r in refs)}
    assert linked <= set(found)
    assert (None, "Not part of the course") not in found
    assert all(p.startswith("/courses/intro/") for p in _Logged.requests if p != "/robots.txt")
    assert any(p.endswith("static/figure1.png") for p in _Logged.requests)


def test_robots_txt_is_respected(tmp_path: Path) -> None:
    import shutil

    site = tmp_path / "site"
    shutil.copytree(SAMPLE, site / "courses" / "intro")
    (site / "robots.txt").write_text("User-agent: *\nDisallow: /courses/intro/pages/calendar/\n")
    _Logged.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Logged, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        source = open_source(f"http://127.0.0.1:{server.server_port}/courses/intro/")
    finally:
        server.shutdown()
    assert not any("calendar" in p for p in _Logged.requests)
    assert "pages/syllabus/index.html" in source.paths() and "pages/calendar/index.html" not in source.paths()
    assert any("robots.txt disallows it" in str(p) for p in source.problems)


def test_a_live_site_is_crawled_once_for_the_tasks_that_ask_for_it_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tasks of one flow run (a kit per locale, each with the course's pages) used to crawl
    the whole site each, into one shared folder that each emptied first: now four at once get
    one crawl, complete; after the reuse window the site is crawled again into a new folder,
    and the old one stays whole for whoever still reads it."""
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    from localize.storage import sites

    shutil.copytree(SAMPLE, tmp_path / "site" / "courses" / "intro")
    _Logged.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Logged, directory=str(tmp_path / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/courses/intro/"
    try:
        with ThreadPoolExecutor(4) as pool:
            opened = list(pool.map(lambda _: open_source(url), range(4)))
        fetched = [p for p in _Logged.requests if p.endswith("index.html")]
        assert len(fetched) == len(set(fetched))  # every page once
        assert len({id(s) for s in opened}) == 1
        first = opened[0]
        assert "pages/syllabus/index.html" in first.paths()
        monkeypatch.setattr(sites, "CRAWL_REUSE_SECONDS", 0.0)
        again = open_source(url)
    finally:
        server.shutdown()
    assert again is not first and again.root != first.root
    assert sorted(again.paths()) == sorted(first.paths())
    assert all((first.root / p).is_file() for p in first.paths())  # the first crawl is intact
    assert len([p for p in _Logged.requests if p.endswith("syllabus/index.html")]) == 2
    # a crawl nobody holds any more is removed from the disk
    old_root = first.root
    del first, opened
    import gc

    gc.collect()
    assert not old_root.exists() and again.root.is_dir()


def test_a_crawl_that_found_nothing_is_not_given_again(tmp_path: Path) -> None:
    """The site was down for the first task of a flow run: the next one crawls again."""
    import shutil
    import socket

    with socket.socket() as probe:  # a port nothing listens on, yet
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/courses/intro/"
    down = open_source(url)
    assert down.paths() == [] and down.problems
    shutil.copytree(SAMPLE, tmp_path / "site" / "courses" / "intro")
    server = ThreadingHTTPServer(("127.0.0.1", port), partial(_Logged, directory=str(tmp_path / "site")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        up = open_source(url)
    finally:
        server.shutdown()
    assert up is not down and "pages/syllabus/index.html" in up.paths()


def test_crawl_folders_of_a_killed_process_are_removed_by_the_next_crawl(tmp_path: Path) -> None:
    import subprocess
    import sys
    import tempfile

    from localize.storage.sites import _crawl_folder

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    left = Path(tempfile.mkdtemp(prefix=f"localize-crawl-{dead.stdout.strip()}-abc-"))
    (left / "page.html").write_text("<p>left by a killed crawl</p>")
    alive = Path(tempfile.mkdtemp(prefix=f"localize-crawl-{os.getppid()}-abc-"))  # a running process's
    try:
        mine = _crawl_folder("http://example.invalid/")
        assert mine.is_dir() and mine.name.startswith(f"localize-crawl-{os.getpid()}-")
        assert not left.exists() and alive.is_dir()
    finally:
        for path in (alive, mine):
            shutil.rmtree(path, ignore_errors=True)
