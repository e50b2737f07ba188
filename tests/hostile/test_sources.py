"""Hostile course sources: zip bombs and ratio bombs, crawls that redirect away or never end."""

from __future__ import annotations

import threading
import time
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from localize.errors import SourceError
from localize.storage import sources
from localize.storage.courses import open_source
from localize.storage.sites import crawl
from localize.storage.sources import ZipSource

from .conftest import CANARY, assert_no_leak


def make_zip(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method, compresslevel=9) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def test_ratio_bomb_page_is_refused_naming_the_member(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "bomb.zip", {"course/index.html": b"<p>hi</p>", "course/big.html": b"\0" * (40 << 20)}
    )
    with pytest.raises(SourceError) as info:
        open_source(archive)
    assert "archive member 'course/big.html' expands" in str(info.value)
    assert "more than the 100x a course file may" in str(info.value)


def test_many_small_members_over_the_total_cap_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_ARCHIVE_BYTES", 3 << 20)
    archive = make_zip(
        tmp_path / "wide.zip", {f"c/{i}.bin": bytes(range(256)) * 4096 for i in range(4)}, zipfile.ZIP_STORED
    )
    with pytest.raises(SourceError) as info:
        open_source(archive)
    assert "the archive expands to more than 3145728 bytes at member 'c/3.bin'" in str(info.value)


def test_too_many_members_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_ARCHIVE_MEMBERS", 10)
    archive = make_zip(tmp_path / "many.zip", {f"c/{i}.html": b"x" for i in range(11)})
    with pytest.raises(SourceError, match="the archive has 11 members, more than the 10"):
        open_source(archive)


def test_lying_size_header_is_caught_when_read(tmp_path: Path) -> None:
    """A member whose header claims fewer bytes than it inflates to: zipfile stops at the claim and the CRC fails."""
    archive = make_zip(tmp_path / "liar.zip", {"c/index.html": b"A" * 200_000})
    data = bytearray(archive.read_bytes())
    # shrink the declared size in both the local header and the central directory
    declared = (200_000).to_bytes(4, "little")
    data = bytearray(bytes(data).replace(declared, (100).to_bytes(4, "little")))
    archive.write_bytes(bytes(data))
    source = ZipSource(archive)
    with pytest.raises(SourceError, match=r"cannot read archive member 'c/index\.html'"):
        source.read("index.html")


def test_a_lying_member_is_read_in_bounded_steps(tmp_path: Path) -> None:
    """A member that declares 1,000 bytes and inflates to 64 MiB: ZipFile.read() inflated all of it
    at once before cutting it to the claim (a 2 MB zip took 2.1 GB); it is now read a step at a time."""
    import tracemalloc

    size = 64 * 1024 * 1024
    archive = make_zip(tmp_path / "liar.zip", {"c/index.html": b"<p>ok</p>", "c/big.html": b"A" * size})
    archive.write_bytes(archive.read_bytes().replace(size.to_bytes(4, "little"), (1000).to_bytes(4, "little")))
    source = ZipSource(archive)
    tracemalloc.start()
    try:
        with pytest.raises(SourceError, match=r"cannot read archive member 'c/big\.html'"):
            source.read("big.html")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert source.read("index.html") == b"<p>ok</p>"


@pytest.mark.parametrize(
    "name",
    ["../evil.html", "/etc/evil.html", "C:/evil.html", "c/../../evil.html", "c\\..\\..\\evil.html"],
)
def test_traversal_members_are_skipped_and_reported(tmp_path: Path, name: str) -> None:
    archive = make_zip(tmp_path / "t.zip", {"c/index.html": b"<p>ok</p>", name: b"evil"})
    source = open_source(archive)
    assert all("evil" not in p for p in source.paths())
    assert any("points outside the course" in str(p) for p in source.problems)


def test_a_stored_member_at_the_limit_streams_without_loading(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "big.zip", {"c/video.bin": b"v" * (3 << 20)}, zipfile.ZIP_STORED)
    source = open_source(archive)
    with source.open("video.bin") as f:
        assert len(f.read(1024)) == 1024


# -- the crawler ------------------------------------------------------------------------------------------


class Site(BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, tuple[int, dict[str, str], bytes]]] = {}
    seen: ClassVar[list[str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        type(self).seen.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {}, b"no"))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if "Content-Length" not in headers and not callable(body):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if callable(body):
            for block in body():
                try:
                    self.wfile.write(block)
                except OSError:
                    return
        else:
            self.wfile.write(body)


@pytest.fixture
def site() -> Iterator[tuple[str, str]]:
    """Two servers on loopback: the course site and an 'other host' (another port)."""
    Site.routes, Site.seen = {}, []
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), Site) for _ in range(2)]
    for s in servers:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    try:
        yield tuple(f"http://127.0.0.1:{s.server_port}" for s in servers)  # type: ignore[misc]
    finally:
        for s in servers:
            s.shutdown()


def html(links: str) -> tuple[int, dict[str, str], bytes]:
    return 200, {"Content-Type": "text/html"}, f"<html><body>{links}</body></html>".encode()


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("{other}/c/secret.html", "outside"),  # another host (port)
        ("http://169.254.169.254/latest/meta-data/", "outside"),  # cloud metadata
        ("file:///etc/passwd", "outside"),
        ("{base}/admin/", "outside"),  # same host, outside the course
        ("//evil.example/c/x.html", "outside"),  # scheme-relative
    ],
)
def test_redirects_away_are_not_followed(site: tuple[str, str], tmp_path: Path, location: str, why: str) -> None:
    base, other = site
    Site.routes = {
        "/c/index.html": html('<a href="moved.html">m</a>'),
        "/c/moved.html": (302, {"Location": location.format(base=base, other=other)}, b""),
    }
    problems = crawl(f"{base}/c/index.html", tmp_path / "out", delay=0)
    assert any("moved.html: redirects to" in p and why in p for p in problems), problems
    assert not (tmp_path / "out" / "moved.html").exists()
    assert all(not p.startswith("/latest") for p in Site.seen)


def test_same_host_redirects_within_the_course_are_followed(site: tuple[str, str], tmp_path: Path) -> None:
    base, _ = site
    Site.routes = {
        "/c/index.html": html('<a href="old.html">o</a>'),
        "/c/old.html": (301, {"Location": "/c/new.html"}, b""),
        "/c/new.html": html("<p>new</p>"),
    }
    assert crawl(f"{base}/c/index.html", tmp_path / "out", delay=0) == []
    assert b"new" in (tmp_path / "out" / "old.html").read_bytes()


def test_redirect_loops_stop(site: tuple[str, str], tmp_path: Path) -> None:
    base, _ = site
    Site.routes = {"/c/index.html": html('<a href="a.html">a</a>'), "/c/a.html": (302, {"Location": "/c/a.html"}, b"")}
    problems = crawl(f"{base}/c/index.html", tmp_path / "out", delay=0)
    assert any("more than 5 redirects" in p for p in problems)


def test_a_file_over_the_cap_is_skipped_by_its_declared_size(site: tuple[str, str], tmp_path: Path) -> None:
    base, _ = site
    Site.routes = {
        "/c/index.html": html('<a href="big.bin">b</a>'),
        "/c/big.bin": (200, {"Content-Length": str(1 << 40)}, b""),
    }
    problems = crawl(f"{base}/c/index.html", tmp_path / "out", delay=0, max_file_bytes=1 << 20)
    assert any("big.bin: larger than 1048576 bytes (1099511627776); skipped" in p for p in problems)


def test_a_file_over_the_cap_without_a_length_is_cut_off(site: tuple[str, str], tmp_path: Path) -> None:
    base, _ = site

    def endless() -> Iterator[bytes]:
        for _ in range(64):
            yield b"x" * 65536

    Site.routes = {
        "/c/index.html": html('<a href="stream.bin">s</a>'),
        "/c/stream.bin": (200, {}, endless),  # type: ignore[dict-item]  # no length: the body ends when it closes
    }
    problems = crawl(f"{base}/c/index.html", tmp_path / "out", delay=0, max_file_bytes=1 << 20)
    assert any("stream.bin: larger than 1048576 bytes; skipped" in p for p in problems), problems
    assert not (tmp_path / "out" / "stream.bin").exists()
    assert not list((tmp_path / "out").glob(".crawl-*"))


def test_the_crawl_stops_at_its_total_cap(site: tuple[str, str], tmp_path: Path) -> None:
    base, _ = site
    links = "".join(f'<a href="f{i}.bin">f</a>' for i in range(20))
    Site.routes = {"/c/index.html": html(links)} | {f"/c/f{i}.bin": (200, {}, b"z" * 100_000) for i in range(20)}
    problems = crawl(f"{base}/c/index.html", tmp_path / "out", delay=0, max_total_bytes=500_000)
    assert any("the crawl reached its limit of 500000 bytes; stopped" in p for p in problems)
    total = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert total <= 500_000


def test_a_huge_robots_txt_is_ignored(site: tuple[str, str], tmp_path: Path) -> None:
    base, _ = site
    Site.routes = {
        "/robots.txt": (200, {}, b"User-agent: *\nDisallow: /\n" + b"#" * (1 << 20)),
        "/c/index.html": html("<p>ok</p>"),
    }
    assert crawl(f"{base}/c/index.html", tmp_path / "out", delay=0) == []
    assert (tmp_path / "out" / "index.html").exists()


def test_robots_redirect_to_another_host_is_not_followed(site: tuple[str, str], tmp_path: Path) -> None:
    base, other = site
    Site.routes = {"/robots.txt": (302, {"Location": f"{other}/robots.txt"}, b""), "/c/index.html": html("<p>ok</p>")}
    crawl(f"{base}/c/index.html", tmp_path / "out", delay=0)
    assert Site.seen.count("/robots.txt") == 1


def test_crawled_files_do_not_carry_the_environment(site: tuple[str, str], tmp_path: Path) -> None:
    base, _ = site
    Site.routes = {"/c/index.html": html('<a href="${LOCALIZE_TEST_CANARY}.html">x</a>')}
    crawl(f"{base}/c/index.html", tmp_path / "out", delay=0)
    assert_no_leak(tmp_path / "out")
    assert CANARY not in " ".join(Site.seen)


def test_an_object_deleted_after_the_listing_fails_its_page_not_the_course(
    s3_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An object deleted between the listing and its read stopped the whole extract with
    "error: s3://.../double.html (nothing after this was done)", and no reason."""
    from localize.cli import main
    from localize.storage.locations import open_storage

    bucket = open_storage(f"s3://{s3_env}/c")
    bucket.write_bytes("index.html", b"<p>Welcome to the course.</p>")
    bucket.write_bytes("double.html", b"<p>Soon gone.</p>")
    read = sources.S3Source.read_limited

    def deleted_first(self: sources.S3Source, path: str, limit: int) -> bytes | None:
        if path == "double.html":
            bucket.delete("double.html")
        return read(self, path, limit)

    monkeypatch.setattr(sources.S3Source, "read_limited", deleted_first)
    code = main(["extract", f"s3://{s3_env}/c", "--course", "c", "--locales-dir", str(tmp_path / "ws"), "--jobs", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        f"s3://{s3_env}/c/double.html: the object was deleted since the course was listed; run again once the "
        "upload is complete" in err
    )
    assert b"Welcome to the course." in (tmp_path / "ws" / "templates" / "c.pot").read_bytes()


def test_a_password_in_an_endpoint_is_not_kept_in_the_workspace(s3_env: str, seaweed: object, tmp_path: Path) -> None:
    """The sync flow's fingerprint record kept "s3://b/c?endpoint=http://tok:SECRET@host" as it was given."""
    from localize.app.fingerprints import course_fingerprint, mark_synced
    from localize.storage.locations import open_storage

    open_storage(f"s3://{s3_env}/c").write_bytes("index.html", b"<p>Welcome.</p>")
    endpoint = seaweed.endpoint.replace("http://", "http://tok:EndpointSECRET@")  # type: ignore[attr-defined]
    location = f"s3://{s3_env}/c?endpoint={endpoint}"
    found = course_fingerprint(location, "c", str(tmp_path / "ws"))
    assert mark_synced(location, "c", str(tmp_path / "ws"), found.revision, "t", {"ok": True})
    records = list((tmp_path / "ws").rglob("*.json"))
    assert records and all("SECRET" not in p.read_text() for p in records)
    assert course_fingerprint(location, "c", str(tmp_path / "ws")).hashed == 0  # the record still serves


def test_a_file_and_a_folder_of_one_name_skip_the_file_not_the_crawl(site: tuple[str, str], tmp_path: Path) -> None:
    """Links to both "notes" and "notes/" stopped the whole crawl with "notes: File exists"."""
    base, _ = site
    Site.routes = {
        "/c/index.html": html('<a href="notes/">n</a> <a href="syllabus.html">s</a>'),
        "/c/notes/": html('<a href="../notes">same</a>'),
        "/c/notes": html("<p>notes as a file</p>"),
        "/c/syllabus.html": html("<p>syllabus</p>"),
    }
    problems = crawl(f"{base}/c/index.html", tmp_path / "out", delay=0)
    assert [p for p in problems if "cannot be kept as 'notes'" in p] == [p for p in problems if "notes" in p]
    assert len(problems) == 1, problems
    assert (tmp_path / "out" / "notes" / "index.html").is_file() and (tmp_path / "out" / "syllabus.html").is_file()


def test_a_trickling_file_is_skipped(site: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server sending a line every few seconds held a crawl for as long as it liked (81 s for 40 lines)."""

    from localize.storage import sites

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.5)

    def trickle() -> Iterator[bytes]:
        for _ in range(40):
            yield b"<p>a line</p>\n"
            time.sleep(0.1)

    Site.routes = {
        "/c/index.html": html('<a href="slow.html">s</a>'),
        "/c/slow.html": (200, {"Content-Type": "text/html"}, trickle),  # type: ignore[dict-item]
    }
    started = time.monotonic()
    problems = crawl(f"{site[0]}/c/index.html", tmp_path / "out", delay=0)
    assert time.monotonic() - started < 3
    # (the client's pace: storage/paced.py)
    assert len(problems) == 1 and "/c/slow.html: " in problems[0] and "slower than 1024" in problems[0]
    assert not (tmp_path / "out" / "slow.html").exists()


def test_a_region_server_sending_a_byte_now_and_then_does_not_hold_a_pull(
    site: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An https:// region trickling its pointer held `pull` (and the course's lock) for as long as
    it liked: the read timeout never fired (an attacker's look at the mirrors, session 31)."""
    from localize.errors import TransientStorageError
    from localize.regions.pull import pull
    from localize.storage import sites

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.5)

    def trickle() -> Iterator[bytes]:
        for _ in range(40):
            yield b"{"
            time.sleep(0.1)

    Site.routes = {"/r/courses/c1/es/latest.json": (200, {"Content-Length": "60000"}, trickle)}  # type: ignore[dict-item]
    started = time.monotonic()
    with pytest.raises(TransientStorageError, match=r"slower than 1024 bytes a second after 0\.5 seconds"):
        pull(f"{site[0]}/r", "c1", "es", tmp_path / "site")
    assert time.monotonic() - started < 3
    assert not (tmp_path / "site" / "c1").exists()


@pytest.fixture
def trickler() -> Iterator[str]:
    """A server on loopback that answers every connection with ``Trickle.opening``, then
    ``Trickle.drip`` every 0.1 s for 10 s (headers that never end, or a TLS record that never
    fills); yields its address."""
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)  # the request, or a TLS client hello
            try:
                conn.sendall(Trickle.opening)
                for _ in range(100):
                    if stop.wait(0.1):
                        break
                    conn.sendall(Trickle.drip)
            except OSError:
                pass

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()


class Trickle:
    opening = b"HTTP/1.1 200 OK\r\n"
    drip = b"X-Pad: a\r\n"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_a_region_server_trickling_its_headers_does_not_hold_a_pull(
    trickler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scheme: str
) -> None:
    """A server sending a header line now and then, or its TLS handshake a byte at a time, held
    `pull` and the course's lock for as long as it liked: httpx's read timeout is per read and
    the rate rule began with the body (left alone in sessions 31 and 32)."""
    from localize.errors import TransientStorageError
    from localize.regions.pull import pull
    from localize.storage import sites

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.5)
    if scheme == "https":  # a record header announcing 16,000 bytes of handshake, sent a byte at a time
        monkeypatch.setattr(Trickle, "opening", b"\x16\x03\x03\x3e\x80")
        monkeypatch.setattr(Trickle, "drip", b"\x00")
    address = trickler
    started = time.monotonic()
    expected = (
        r"download stopped: the server sent \d+ bytes in [\d.]+ s, slower than 1024 bytes a second after 0\.5 seconds"
        if scheme == "http"
        else r"download stopped: the TLS handshake took longer than 0\.5 seconds"
    )
    with pytest.raises(TransientStorageError, match=expected):
        pull(f"{scheme}://{address}/r", "c1", "es", tmp_path / "site")
    assert time.monotonic() - started < 3
    assert not (tmp_path / "site" / "c1").exists()


def test_a_page_trickling_its_headers_is_skipped_by_a_crawl(
    trickler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live site sending a page's headers a line at a time held the crawl for as long as it liked."""
    from localize.storage import sites

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.5)
    address = trickler
    started = time.monotonic()
    problems = crawl(f"http://{address}/c/index.html", tmp_path / "out", delay=0)
    assert time.monotonic() - started < 3
    # robots.txt trickled too: crawled as if the site had none, and the page is skipped, named
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"http://{address}/c/index.html: the server sent ")
    assert problems[0].endswith("slower than 1024 bytes a second after 0.5 seconds; skipped")
    assert not (tmp_path / "out" / "index.html").exists()


def test_interim_responses_without_end_do_not_hold_a_pull(trickler: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server sending `103 Early Hints` faster than the rate rule, forever, held a pull: httpcore
    reads past any number of interim responses (a review of the first version of the rule)."""
    from localize.errors import TransientStorageError
    from localize.regions.remote import open_remote
    from localize.storage import paced, sites

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.5)
    monkeypatch.setattr(paced, "HEADER_BYTES", 512, raising=False)  # headers due in 0.5 s + 512 B at 1 KB/s
    hint = b"HTTP/1.1 103 Early Hints\r\nLink: <" + b"a" * 200 + b">\r\n\r\n"  # 2.3 KB/s
    monkeypatch.setattr(Trickle, "opening", hint)
    monkeypatch.setattr(Trickle, "drip", hint)
    started = time.monotonic()
    with pytest.raises(
        TransientStorageError, match=r"download stopped: the server took longer than 1 s to send its headers"
    ):
        open_remote(f"http://{trickler}/r").read("x.json", 1000)
    assert time.monotonic() - started < 3


def test_crawls_and_pulls_go_through_the_proxy_of_the_environment(
    site: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY was ignored once the connections were paced: an operator behind a proxy could
    neither crawl nor pull (httpx reads the environment's proxies only without a transport)."""
    from localize.regions.remote import open_remote

    base, _ = site
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", base)  # the site's server plays the proxy: it sees absolute URLs
    monkeypatch.setenv("http_proxy", base)
    Site.routes = {
        "http://course.invalid/robots.txt": (404, {}, b""),
        "http://course.invalid/c/index.html": html("<p>Welcome</p>"),
        "http://course.invalid/r/x.json": (200, {}, b'{"ok": true}'),
    }
    assert crawl("http://course.invalid/c/index.html", tmp_path / "out", delay=0) == []
    assert (tmp_path / "out" / "index.html").read_bytes() == html("<p>Welcome</p>")[2]
    assert open_remote("http://course.invalid/r").read("x.json", 1000) == b'{"ok": true}'
    assert Site.seen == [
        "http://course.invalid/robots.txt",
        "http://course.invalid/c/index.html",
        "http://course.invalid/r/x.json",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ALL_PROXY", "socks5://127.0.0.1:1080", "ImportError"),  # httpx without socksio
        ("HTTP_PROXY", "ftp://proxy:21", "ValueError"),
        ("NO_PROXY", "fe80::/10", "InvalidURL"),  # no proxy at all: the setting at fault is named
    ],
)
def test_proxy_settings_httpx_cannot_use_are_a_configuration_error(
    site: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    """A socks or ftp proxy in the environment gave a raw traceback naming no variable (a review)."""
    from localize.errors import ConfigError
    from localize.regions.remote import open_remote

    pytest.importorskip("httpx")
    if variable == "ALL_PROXY":
        try:
            import socksio  # noqa: F401
        except ImportError:
            pass
        else:
            pytest.skip("socksio is installed here: a socks proxy is usable")
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv(variable, value)
    with pytest.raises(
        ConfigError,
        match=rf"the proxy settings of the environment cannot be used \({expected}: .*\); fix or unset {variable} \(",
    ):
        open_remote("https://cdn.example/r")
    with pytest.raises(ConfigError, match="the proxy settings of the environment cannot be used"):
        crawl(f"{site[0]}/c/index.html", tmp_path / "out", delay=0)


@pytest.mark.parametrize(
    "proxy", ["http://operator:Spring?2024@127.0.0.1:9", "http://operator:Spring#2024@127.0.0.1:9"]
)
def test_a_proxy_address_httpx_cannot_parse_never_shows_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxy: str
) -> None:
    """httpx quotes the part of a proxy address it could not parse ("Invalid port: 'Spring'"): with a
    password in the address, only the kind of error is named (a second review)."""
    from localize.errors import ConfigError
    from localize.regions.remote import open_remote

    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    with pytest.raises(ConfigError) as info:
        open_remote("https://cdn.example/r")
    message = str(info.value)
    assert message.startswith(
        "the proxy settings of the environment cannot be used (InvalidURL); fix or unset HTTPS_PROXY"
    )
    assert "Spring" not in message and "operator" not in message
    assert (
        "(an address reads http:// and then USER:PASSWORD@HOST:PORT, any of / ? # @ : in USER or PASSWORD " in message
    )


def test_a_certificate_file_the_environment_names_but_is_not_there_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSL_CERT_FILE naming a missing file gave a raw FileNotFoundError (a review)."""
    from localize.errors import ConfigError
    from localize.regions.remote import open_remote

    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "nowhere.pem"))
    with pytest.raises(
        ConfigError, match=r"the certificates the environment names cannot be read .*; fix or unset SSL_CERT_FILE"
    ):
        open_remote("https://cdn.example/r")


def test_a_dead_proxy_is_named_in_a_failed_pull(monkeypatch: pytest.MonkeyPatch) -> None:
    """A dead proxy was blamed on the region: 'is the address right and the server up?' (a review)."""
    from localize.errors import TransientStorageError
    from localize.regions.remote import open_remote

    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:1")
    monkeypatch.setattr("localize.regions.remote.time.sleep", lambda s: None)
    with pytest.raises(
        TransientStorageError,
        match=r"could not connect \(is the address right and the server up, and the proxy HTTPS_PROXY names\?\)",
    ):
        open_remote("https://cdn.example/r").read("x.json", 1000)


def test_a_tls_handshake_through_an_https_proxy_socket_has_its_watchdog(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through an https proxy the connection's socket is a TLS socket, which cannot be duplicated
    as a socket: the handshake inside the tunnel kept per-read timeouts only (a review). The
    watchdog duplicates the descriptor instead."""
    import os
    import socket
    import ssl

    import httpcore

    from localize.storage.paced import _PacedStream

    a, b = socket.socketpair()
    fd = a.fileno()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    outer = context.wrap_socket(a, do_handshake_on_connect=False)  # as the TLS socket to a proxy is

    class Inner(httpcore.NetworkStream):
        def get_extra_info(self, info: str) -> object:
            return outer if info == "socket" else None

        def start_tls(
            self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
        ) -> httpcore.NetworkStream:
            os.read(fd, 1)  # the handshake waiting on a server that sends nothing: until shut down
            raise httpcore.ConnectError("the connection was closed")

    threading.Timer(5, b.close).start()  # without the watchdog: a failure in 5 s, not a hang
    started = time.monotonic()
    with pytest.raises(httpcore.ReadTimeout, match=r"the TLS handshake took longer than 0\.3 seconds"):
        _PacedStream(Inner(), 0.3, 1024).start_tls(ssl.create_default_context(), "cdn.example", 30)
    assert time.monotonic() - started < 3
    b.close()


def test_a_tls_handshake_without_a_descriptor_to_spare_is_a_failed_connection(
    trickler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handshake's watchdog needs a descriptor: at the process's limit a bare OSError escaped
    and would have stopped a whole crawl (a review)."""
    import os

    import httpx

    from localize.storage.paced import paced_client

    def no_descriptor(fd: int) -> int:
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(os, "dup", no_descriptor)
    with (
        paced_client(after=0.5, rate=1024, timeout=5.0) as client,
        pytest.raises(httpx.ConnectError, match="no descriptor for the TLS handshake's watchdog"),
    ):
        client.get(f"https://{trickler}/x")


def test_a_fast_server_is_not_held_to_the_rule_by_a_slow_reader(
    site: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection-level rule counts only the time spent waiting for the server: a reader that
    takes its time between reads (a mirror's --max-rate) is never taken for a slow server."""
    from localize.storage import sites
    from localize.storage.paced import paced_client

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.2)
    Site.routes = {"/big.bin": (200, {}, b"x" * 400_000)}
    with (
        paced_client(after=0.2, rate=1_000_000, timeout=5.0) as client,
        client.stream("GET", f"{site[0]}/big.bin") as r,
    ):
        got = b""
        for block in r.iter_raw(4096):
            got += block
            time.sleep(0.01)  # 100 reads a second of 4 KB at most: far below 1 MB/s in total
    assert got == b"x" * 400_000


def test_a_pull_the_mirror_paces_itself_is_not_taken_for_a_slow_server(
    site: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pull --max-rate 1k` was stopped as "slower than 1024 bytes a second": the time the mirror
    waited for its own pace counted as the server's (a review of the slow-server rule)."""
    import io

    from localize.regions.remote import open_remote
    from localize.storage import sites

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.3)
    monkeypatch.setattr(sites, "MIN_BYTES_PER_SECOND", 10_000)
    Site.routes = {"/r/big.bin": (200, {}, b"x" * 3000)}

    class Paced(io.BytesIO):
        def write(self, b: bytes) -> int:  # type: ignore[override]
            time.sleep(0.03)  # as the token bucket of --max-rate waits
            return super().write(b)

    got = Paced()
    assert open_remote(f"{site[0]}/r").download("big.bin", got, 1 << 20, 100) == 3000
    assert got.getvalue() == b"x" * 3000


def test_a_zip_with_a_file_and_a_folder_of_one_name_builds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """ "c/notes" beside "c/notes/index.html": extract passed, and build stopped with "File exists"."""
    from localize.cli import main

    archive = make_zip(
        tmp_path / "c.zip",
        {"c/index.html": b"<p>Welcome.</p>", "c/notes": b"<p>A file.</p>", "c/notes/index.html": b"<p>Notes.</p>"},
    )
    assert ZipSource(archive).paths() == ["index.html", "notes/index.html"]
    ws = str(tmp_path / "ws")
    assert main(["extract", str(archive), "--course", "c", "--locales-dir", ws]) == 1
    assert "file name 'notes' refused (a folder of the same name holds other files of the course)" in (
        capsys.readouterr().err
    )
    assert main(["pseudo", "--course", "c", "--locales-dir", ws]) == 0
    code = main(
        [
            "build",
            str(archive),
            "--course",
            "c",
            "--locale",
            "qps-ploc",
            "--locales-dir",
            ws,
            "--out",
            str(tmp_path / "o"),
        ]
    )
    assert code == 1 and (tmp_path / "o" / "notes" / "index.html").is_file()


def test_a_name_twice_in_a_zip_is_reported_and_the_first_is_used(tmp_path: Path) -> None:
    """The last of two members of one name won silently, "c\\\\index.html" included (read as c/index.html)."""
    import warnings

    archive = tmp_path / "dup.zip"
    with warnings.catch_warnings(), zipfile.ZipFile(archive, "w") as z:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name, as it should
        z.writestr("c/index.html", b"<p>first</p>")
        z.writestr("c/index.html", b"<p>second</p>")
        z.writestr("c\\index.html", b"<p>third</p>")
    source = ZipSource(archive)
    assert source.paths() == ["index.html"] and source.read("index.html") == b"<p>first</p>"
    assert [str(p) for p in source.problems] == [
        f"{archive}: archive member 'c/index.html' has the name of an earlier member; the earlier one is used: "
        "remove one of them",
        f"{archive}: archive member 'c\\\\index.html' has the name of an earlier member; the earlier one is used: "
        "remove one of them",
    ]


def test_deep_member_names_cost_no_quadratic_memory(tmp_path: Path) -> None:
    """The file-and-folder check built every prefix of every name: twelve names of 16,000 levels
    (a 769 KB zip) took 3 GB (found by a review of that check)."""
    import tracemalloc

    archive = tmp_path / "deep.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for k in range(12):
            z.writestr(f"c/d{k}/" + "a/" * 16000 + "x.html", b"<p>x</p>")
    tracemalloc.start()
    try:
        source = ZipSource(archive)
        paths = source.paths()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 * 1024 * 1024
    # (and no disk holds such a path: refused, reported, since an over-long name stopped a whole build)
    assert paths == [] and sum("a path of more than 1024 bytes" in str(p) for p in source.problems) == 12


# -- found by an attacker look (session 32): a page too large to parse, a pipe, names no disk holds --


def test_a_page_too_large_to_parse_is_not_extracted_and_is_copied_by_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 2 MB zip held a 211 MB page: extract took 4.7 GB. A page over the limit is skipped by
    extract (reported) and copied as it is by build, as publish does, the other pages going on."""
    from localize.engine.build import build_course
    from localize.engine.extract import extract_course
    from localize.model import Catalog

    monkeypatch.setattr(sources, "MAX_PAGE_BYTES", 4096)
    big = b"<html><body>" + b"<p>words</p>" * 400 + b"</body></html>"
    archive = make_zip(tmp_path / "c.zip", {"c/index.html": b"<p>Welcome</p>", "c/big.html": big})
    source = open_source(archive)
    result = extract_course(source, "c", jobs=1)
    assert [e.msgid for e in result.catalog.entries] == ["Welcome"]
    [failure] = result.failures
    assert failure.path == "big.html" and "larger than the 32 MB a page may be: not extracted" in str(failure)
    built = build_course(source, Catalog(), str(tmp_path / "out"), "es", jobs=1)
    assert (tmp_path / "out" / "big.html").read_bytes() == big
    assert [str(f) for f in built.failures] == [
        "big.html: larger than the 32 MB a page may be: copied as it is, not translated"
    ]
    assert built.problems == ()


def test_a_pipe_in_a_course_folder_is_skipped_not_waited_on(tmp_path: Path) -> None:
    import os

    from localize.storage.sources import FolderSource

    course = tmp_path / "course"
    (course / "pages").mkdir(parents=True)
    (course / "index.html").write_text("<p>Welcome</p>")
    os.mkfifo(course / "pages" / "trap.html")
    source = FolderSource(course)
    assert source.paths() == ["index.html"]
    assert [str(p) for p in source.problems] == [
        f"{course / 'pages' / 'trap.html'}: not a regular file (a pipe, socket or device), skipped"
    ]
    os.mkfifo(course / "late.html")  # put there after the listing: refused at once, not waited on
    with pytest.raises(SourceError, match="not a regular file"):
        source.read("late.html")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("c/" + "a" * 300 + ".html", "a name of 305 bytes, more than the 255 a file system allows"),
        ("c/" + "/".join(["d" * 50] * 25) + "/x.html", "a path of more than 1024 bytes"),
        ("c/x\u202egnp.html", "bidirectional controls in the name"),
        ("c/x\u009bq.html", "control characters in the name"),
    ],
)
def test_names_a_disk_cannot_hold_or_that_read_as_another_are_skipped(tmp_path: Path, name: str, why: str) -> None:
    """An over-long name was extracted, then stopped build and route for the whole course."""
    source = open_source(make_zip(tmp_path / "n.zip", {"c/index.html": b"<p>Hi</p>", name: b"<p>x</p>"}))
    assert source.paths() == ["index.html"]
    assert any(why in str(p) for p in source.problems), source.problems


def test_percent_encoded_dot_segments_never_lead_the_crawl_out_of_the_course(
    site: tuple[str, str], tmp_path: Path
) -> None:
    """`%2e%2e/admin/keys.html` passed the prefix test as written, and the server read it as `../`:
    the admin page's text went into the template (found by an attacker look)."""
    base, _ = site
    links = "".join(
        f'<a href="{h}">x</a>'
        for h in ("%2e%2e/admin/keys.html", "%2E%2E/", "sub/%2e%2e/%2e%2e/admin/k.html", "..%2fadmin/k.html",
                  "%2e/index.html", "a%5c..%5cadmin.html")
    )  # fmt: skip
    Site.routes = {
        "/c/index.html": html(links + '<a href="ok.html">ok</a>'),
        "/c/ok.html": html("<p>fine</p>"),
        "/c/%2e%2e/admin/keys.html": html("<p>ADMIN ONLY</p>"),
        "/c/moved.html": (302, {"Location": "/c/%2e%2e/admin/keys.html"}, b""),
    }
    problems = crawl(f"{base}/c/index.html", tmp_path / "out", delay=0)
    assert Site.seen == ["/robots.txt", "/c/index.html", "/c/ok.html"]
    assert problems == [f"{base}/c/: 6 links with a '.' or '..' segment once percent-decoded, or an encoded "
                        "separator, not followed: a server may read them as a way out of the course"]  # fmt: skip
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == ["index.html", "ok.html"]
    Site.routes["/c/index.html"] = html('<a href="moved.html">m</a>')
    Site.seen = []
    problems = crawl(f"{base}/c/index.html", tmp_path / "out2", delay=0)
    assert any("moved.html: redirects to" in p for p in problems) and "/c/%2e%2e/admin/keys.html" not in Site.seen


def test_a_link_with_a_query_never_replaces_the_page_it_names(site: tuple[str, str], tmp_path: Path) -> None:
    """`index.html?print=1` was saved over index.html: the last variant won, with no word of it. A
    query is dropped: the bare file is fetched once (a cache-busting `style.css?v=4f6` is style.css)."""
    base, _ = site
    Site.routes = {
        "/c/index.html": html(
            '<p>Welcome to the course.</p><a href="index.html?print=1">print</a>'
            '<link href="_static/style.css?v=4f649999"><a href="week1.html?x=1">w</a><a href="week1.html?x=2">w</a>'
        ),
        "/c/index.html?print=1": html("<p>ATTACKER REPLACED INDEX</p>"),
        "/c/_static/style.css": (200, {"Content-Type": "text/css"}, b"p { color: black }"),
        "/c/week1.html": html("<p>Week 1</p>"),
    }
    assert crawl(f"{base}/c/index.html", tmp_path / "out", delay=0) == []
    assert b"Welcome to the course." in (tmp_path / "out" / "index.html").read_bytes()
    assert (tmp_path / "out" / "_static" / "style.css").read_bytes() == b"p { color: black }"
    assert not [p for p in Site.seen if "?" in p] and Site.seen.count("/c/week1.html") == 1


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/role",  # cloud metadata
        "{other}/r/courses/c1/es/latest.json",  # another port of this machine
        "http://10.0.0.7/r/courses/c1/es/latest.json",  # a private network
        "https://localhost/r/courses/c1/es/latest.json",
        "https://2130706433/r/courses/c1/es/latest.json",  # 127.0.0.1, spelled as a resolver still reads it
        "https://0x7f000001/r/courses/c1/es/latest.json",
    ],
)
def test_a_region_redirect_to_an_internal_address_or_another_origin_over_http_is_refused(
    site: tuple[str, str], tmp_path: Path, location: str
) -> None:
    """`pull --from http(s)://…` followed a pointer's redirect anywhere: to cloud metadata, whose
    answer then showed in the error (found by an attacker look)."""
    from localize.errors import PermanentStorageError
    from localize.regions.pull import pull

    base, other = site
    Site.routes = {"/r/courses/c1/es/latest.json": (302, {"Location": location.format(other=other)}, b"")}
    with pytest.raises(PermanentStorageError, match="not followed"):
        pull(f"{base}/r", "c1", "es", tmp_path / "site")
    assert Site.seen == ["/r/courses/c1/es/latest.json"]  # the other port was never asked
    assert not (tmp_path / "site" / "c1").exists()


def test_a_region_redirect_to_a_name_at_an_internal_address_is_refused(
    site: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redirect over https to a public-looking name was followed wherever the name resolved:
    a bucket owner's DNS could send a mirror's requests to loopback or cloud metadata (left
    alone in session 32). The address connected to is checked, not a lookup made before it."""
    import socket

    from localize.errors import PermanentStorageError
    from localize.regions.pull import pull

    base, other = site
    port = int(other.rsplit(":", 1)[1])
    real = socket.getaddrinfo

    def resolve(host: str, *args: object, **kwargs: object) -> list[tuple[object, ...]]:
        if host == "cdn.example":  # a name its owner points at this machine
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    Site.routes = {"/r/courses/c1/es/latest.json": (302, {"Location": f"https://cdn.example:{port}/meta"}, b"")}
    with pytest.raises(
        PermanentStorageError, match=r"redirects to cdn\.example, which is at an internal address \(127\.0\.0\.1\)"
    ):
        pull(f"{base}/r", "c1", "es", tmp_path / "site")
    assert not (tmp_path / "site" / "c1").exists()


def test_the_region_own_host_may_be_at_an_internal_address(site: tuple[str, str]) -> None:
    """A region inside the organisation's network (its own host at a private address) is pulled."""
    from localize.regions.remote import _HttpRemote

    remote = _HttpRemote(f"{site[0]}/r")
    assert remote._connect_allowed("127.0.0.1", "127.0.0.1") is None
    assert remote._connect_allowed("cdn.example", "8.8.8.8") is None
    assert remote._connect_allowed("cdn.example", "10.1.2.3") is not None
    assert remote._connect_allowed("cdn.example", "::ffff:169.254.169.254") is not None


def test_a_region_redirect_within_its_own_address_is_followed(site: tuple[str, str], tmp_path: Path) -> None:
    from localize.regions.remote import open_remote

    base, _ = site
    Site.routes = {
        "/r/moved.json": (301, {"Location": "/r/here.json"}, b""),
        "/r/here.json": (200, {}, b'{"ok": true}'),
    }
    assert open_remote(f"{base}/r").read("moved.json", 1000) == b'{"ok": true}'


def test_a_trickling_robots_txt_does_not_hold_the_crawl(
    site: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """robots.txt sent a byte every 2 s: the crawl waited on it past 150 s (an attacker look)."""
    from localize.storage import sites

    monkeypatch.setattr(sites, "MIN_RATE_AFTER", 0.5)

    def trickle() -> Iterator[bytes]:
        for _ in range(40):
            yield b"#"
            time.sleep(0.1)

    Site.routes = {
        "/robots.txt": (200, {"Content-Type": "text/plain"}, trickle),  # type: ignore[dict-item]
        "/c/index.html": html("<p>Welcome</p>"),
    }
    started = time.monotonic()
    assert crawl(f"{site[0]}/c/index.html", tmp_path / "out", delay=0) == []
    assert time.monotonic() - started < 3
    assert (tmp_path / "out" / "index.html").exists()


def test_an_s3_folder_marker_is_not_a_file_of_the_course(s3_env: str, tmp_path: Path) -> None:
    """A `c/sub/` object (consoles and sync tools make them) was reported as a file to rename."""
    from localize.storage.locations import open_storage
    from localize.storage.s3 import S3Storage

    bucket = open_storage(f"s3://{s3_env}/c")
    assert isinstance(bucket, S3Storage)
    bucket.write_bytes("index.html", b"<p>Welcome</p>")
    bucket.write_bytes("sub/notes.html", b"<p>Notes</p>")
    bucket.client.put_object(Bucket=bucket.location.bucket, Key="c/sub/", Body=b"")
    source = sources.S3Source(f"s3://{s3_env}/c")
    assert source.paths() == ["index.html", "sub/notes.html"] and source.problems == []


def test_a_crawl_problem_is_named_by_its_address_not_by_the_cache_folder(site: tuple[str, str], tmp_path: Path) -> None:
    from localize.engine.extract import extract_course
    from localize.storage.sites import HttpSource

    base, _ = site
    Site.routes = {"/c/index.html": html('<p>Hi</p><a href="gone.html">g</a>')}
    source = HttpSource(f"{base}/c/index.html", cache=tmp_path / "cache")
    [failure] = extract_course(source, "c", jobs=1).failures
    assert str(failure) == f"{base}/c/gone.html: HTTP 404"


@pytest.mark.parametrize(
    ("first", "second"), [("c/Index.html", "c/index.html"), ("c/caf\u00e9.html", "c/cafe\u0301.html")]
)
def test_names_one_disk_holds_as_one_file_keep_the_first(tmp_path: Path, first: str, second: str) -> None:
    """A mirror on macOS or Windows would keep one of the two, whichever came last."""
    source = open_source(make_zip(tmp_path / "n.zip", {first: b"<p>A</p>", second: b"<p>B</p>"}))
    kept = sorted([first.removeprefix("c/"), second.removeprefix("c/")])[0]
    assert source.paths() == [kept]
    assert any("on a disk that ignores case or Unicode normalization" in str(p) for p in source.problems)


def test_a_region_address_with_its_default_port_is_its_own_origin() -> None:
    """`http://host:80/r` was refused at its first request: httpx names a default port None (a review)."""
    import httpx

    from localize.regions.remote import _HttpRemote

    for base, asked in (
        ("http://127.0.0.1:80/r", "http://127.0.0.1/r/x"),
        ("https://10.0.0.5:443/r", "https://10.0.0.5/r/x"),
    ):
        _HttpRemote(base)._redirect_allowed(httpx.Request("GET", asked))  # no error: the region's own address


def test_preview_copies_a_page_too_large_to_parse_as_build_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`preview --out` parsed a 34 MB page whole: 1.9 GB and 97 s (a review of this session)."""
    from localize.views.preview import _preview_page, _PreviewJob

    monkeypatch.setattr(sources, "MAX_PAGE_BYTES", 1024)
    big = b"<p>" + b"words " * 400 + b"</p>"
    source = open_source(make_zip(tmp_path / "c.zip", {"c/big.html": big}))
    job = _PreviewJob(str(tmp_path / "out"), "k.po", "es", "", {}, {}, frozenset())
    assert _preview_page(source, "big.html", job) == (True, 0, 0, True)
    assert (tmp_path / "out" / "big.html").read_bytes() == big


def test_preview_out_says_which_pages_it_copied_for_their_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`preview --out` copied a page too large to parse without a word: the translator saw it
    untranslated and could not tell why (left alone in session 32)."""
    from localize.cli import main

    monkeypatch.setattr(sources, "MAX_PAGE_BYTES", 1024)
    big = b"<p>" + b"words " * 400 + b"</p>"
    archive = make_zip(tmp_path / "c.zip", {"c/big.html": big, "c/index.html": b"<p>Welcome.</p>"})
    po = tmp_path / "k.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n\nmsgid "Welcome."\nmsgstr "Bienvenida."\n', encoding="utf-8"
    )
    assert main(["preview", str(po), str(archive), "--course", "c", "--out", str(tmp_path / "out")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("2 pages (es) -> ") and "1 units translated, 0 not" in out  # the copied one too
    assert err == (
        "note: 1 page larger than the 32 MB a page may be, copied as it is (as build and publish copy them): big.html\n"
    )


def test_an_s3_page_too_large_to_parse_is_never_downloaded_to_be_measured(
    s3_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from localize.storage.locations import open_storage

    monkeypatch.setattr(sources, "MAX_PAGE_BYTES", 1024)
    bucket = open_storage(f"s3://{s3_env}/c")
    bucket.write_bytes("big.html", b"<p>" + b"x" * 4096 + b"</p>")
    bucket.write_bytes("index.html", b"<p>Hi</p>")
    source = sources.S3Source(f"s3://{s3_env}/c")
    monkeypatch.setattr(sources.S3Source, "open", lambda *a: pytest.fail("downloaded whole"))
    assert sources.read_page(source, "big.html") is None
    assert sources.read_page(source, "index.html") == b"<p>Hi</p>"


def test_a_file_linked_only_with_a_query_that_is_not_there_bare_is_no_problem(
    site: tuple[str, str], tmp_path: Path
) -> None:
    """`download?id=7` and `search?q=x` became failures of every build once queries were dropped (a
    second review); a file also linked bare is still reported when it is missing."""
    base, _ = site
    Site.routes = {
        "/c/index.html": html(
            '<a href="download?id=7">d</a><a href="search?q=x">s</a><link href="style.css?v=2">'
            '<a href="gone.html?x=1">g</a><a href="gone.html">g</a>'
        ),
        "/c/style.css": (200, {"Content-Type": "text/css"}, b"p {}"),
    }
    assert crawl(f"{base}/c/index.html", tmp_path / "out", delay=0) == [f"{base}/c/gone.html: HTTP 404"]
    assert (tmp_path / "out" / "style.css").read_bytes() == b"p {}"
