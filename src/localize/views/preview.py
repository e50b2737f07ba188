"""In-context preview for translators: the course built from their own .po file.

Every translated unit carries a tooltip with its source text and the PO line it
comes from; untranslated units are highlighted (fuzzy ones in another colour);
a banner at the top lists what ``localize check`` says about the file. Served on
127.0.0.1 and rebuilt whenever the .po file changes. No workspace needed: the
kit's .po and the course's pages are enough.
"""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from localize.engine.pages import localize_page, translations_of
from localize.errors import CatalogError, CatalogNotFoundError, LocalizeError
from localize.locales import known_locale
from localize.model import Catalog, Unit
from localize.partners.checks import ERROR, INFO, Problem
from localize.partners.qa import check_file
from localize.storage.courses import open_source
from localize.storage.parallel import map_pages
from localize.storage.sources import Source, copy_file, is_page, read_page
from localize.templating import render as render_template

__all__ = ["PreviewBuild", "PreviewServer", "build_preview", "prepare_preview", "read_po_bytes"]

_NO_MARKUP = frozenset(("title", "option", "textarea", "select", "script", "style"))


@dataclass(frozen=True)
class PreviewBuild:
    out: Path
    locale: str
    pages: int
    problems: tuple[Problem, ...]
    translated: int
    untranslated: int
    seconds: float
    too_large: tuple[str, ...] = ()  # pages copied as they are: too large to parse (as build copies them)


def _banner(po_name: str, locale: str, problems: list[Problem], counts: tuple[int, int, int]) -> str:
    errors = [p for p in problems if p.severity == ERROR]
    warnings = [p for p in problems if p.severity not in (ERROR, INFO)]
    translated, fuzzy, untranslated = counts
    return render_template(
        "preview_banner.html",
        po_name=po_name,
        locale=locale,
        translated=translated,
        fuzzy=fuzzy,
        untranslated=untranslated,
        errors=len(errors),
        warnings=len(warnings),
        shown=[*errors, *warnings][:200],
    ).rstrip("\n")


@dataclass(frozen=True)
class _PreviewJob:
    out: str
    po_name: str
    locale: str
    banner: str
    translations: dict[tuple[str | None, str], str]
    lines: dict[tuple[str | None, str], int]
    fuzzy: frozenset[tuple[str | None, str]]


def _preview_page(source: Source, path: str, job: _PreviewJob) -> tuple[bool, int, int, bool]:
    """Worker: one file of the preview; (is page, translated units, other units, a page copied
    as it is for its size)."""
    target = Path(job.out) / path
    target.parent.mkdir(parents=True, exist_ok=True)
    page = is_page(path)
    raw = read_page(source, path) if page else None
    if raw is None:  # a file, or a page too large to parse: copied as it is (as build does)
        copy_file(source, path, target)
        return page, 0, 0, page

    def annotate(unit: Unit, is_translated: bool) -> tuple[str, str] | None:
        if unit.container in _NO_MARKUP:
            return None
        line = job.lines.get(unit.key)
        where = f"{job.po_name}:{line}" if line is not None else "not in this file"
        if is_translated:
            css, label = "lz-t", ""
        elif unit.key in job.translations:  # refused at the splice: its placeholders do not fit
            css, label = "lz-u", "translation not used (its placeholders do not match; see the list at the top): "
        elif unit.key in job.fuzzy:
            css, label = "lz-f", "fuzzy, not used yet: "
        else:
            css, label = "lz-u", "untranslated: "
        tip = html.escape(f"{label}{unit.msgid}\n({where})", quote=True)
        return f'<span class="{css}" title="{tip}">', "</span>"

    try:
        built = localize_page(raw, path, job.translations, job.locale, after_body=job.banner, annotate=annotate)
    except LocalizeError:
        target.write_bytes(raw)
        return True, 0, 0, False
    target.write_bytes(built.data)
    return True, built.translated, built.fallback, False


def read_po_bytes(po: Path) -> bytes:
    """The translator's file, or a one-line error naming it."""
    try:
        return po.read_bytes()
    except FileNotFoundError:
        raise CatalogNotFoundError("no such file; give the .po file of your kit", path=str(po)) from None
    except IsADirectoryError:
        raise CatalogError("is a folder; give the .po file of your kit", path=str(po)) from None
    except OSError as e:
        raise CatalogError(e.strerror or str(e), path=str(po)) from None


def prepare_preview(po_path: str | os.PathLike[str], out: str | os.PathLike[str]) -> tuple[_PreviewJob, list[Problem]]:
    """Read and check the translator's file; what every page build needs."""
    po = Path(po_path)
    catalog, problems = check_file(read_po_bytes(po), po.name)
    catalog = catalog or Catalog()
    # iw is he (<html lang="he">); a Language that is no locale code is never written into the pages
    tags = (catalog.header("Language"), catalog.header("X-Localize-Locale"))
    locale = next((known_locale(t) for t in tags if t and known_locale(t)), None) or "und"
    index = {e.key: e for e in catalog.entries if not e.obsolete}
    fuzzy = frozenset(k for k, e in index.items() if e.fuzzy and e.msgstr)
    counts = (
        sum(1 for e in index.values() if e.translated),
        len(fuzzy),
        sum(1 for k, e in index.items() if not e.translated and k not in fuzzy),
    )
    job = _PreviewJob(
        str(out), po.name, locale, _banner(po.name, locale, problems, counts), translations_of(catalog),
        {k: e.msgstr_lineno or e.lineno for k, e in index.items()}, fuzzy,
    )  # fmt: skip
    return job, problems


def build_preview(
    po_path: str | os.PathLike[str], source: Source, out: str | os.PathLike[str], *, jobs: int | None = None
) -> PreviewBuild:
    """Build the whole course into ``out`` with the preview marks (pages on every core)."""

    started = time.monotonic()
    job, problems = prepare_preview(po_path, out)
    pages = translated = untranslated = 0
    paths = source.paths()
    too_large: list[str] = []
    for path, (is_a_page, t, u, large) in zip(paths, map_pages(_preview_page, source, paths, jobs, job), strict=True):
        pages += is_a_page
        translated += t
        untranslated += u
        if large:
            too_large.append(path)
    return PreviewBuild(
        Path(out), job.locale, pages, tuple(problems), translated, untranslated, time.monotonic() - started,
        tuple(too_large),
    )  # fmt: skip


_LOCAL_NAMES = frozenset(("127.0.0.1", "localhost", "::1"))
MAX_CONNECTIONS = 32  # a browser opens about six to one host; past this, a connection is closed at once
IDLE_SECONDS = 30.0  # each read or write of an answer: a client stalled this long is dropped (a socket is a thread)
HEADER_SECONDS = 10.0  # a request's line and headers must have arrived this long after it began (or idle)


class _Server(ThreadingHTTPServer):
    """The preview's HTTP server: one thread per connection, as the standard library's, but at most
    :data:`MAX_CONNECTIONS` of them. Any local program, or a web page the translator has open,
    can connect to 127.0.0.1: without a bound, connections held open would each hold a thread."""

    def __init__(self, address: tuple[str, int], handler: Callable[..., SimpleHTTPRequestHandler]) -> None:
        super().__init__(address, handler)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)  # too many at once: closed, nothing read (the browser retries)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address):  # type: ignore[no-untyped-def]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
        if isinstance(sys.exc_info()[1], OSError):
            return  # a client gone mid-answer, or dropped: nothing for the translator's terminal
        super().handle_error(request, client_address)  # a bug: its traceback


class _Handler(SimpleHTTPRequestHandler):
    """Serves the preview folder, building each file the first time it is asked for."""

    preview: PreviewServer
    timeout = IDLE_SECONDS  # the socket's, per read or write (the wait for a request: header_seconds)
    header_seconds = HEADER_SECONDS

    def log_message(self, *args: object) -> None:
        pass

    def handle_one_request(self) -> None:
        """One request, whose line and headers must all have arrived within ``header_seconds``
        (idle time before it included): the socket's time-out counts each read alone, so a client
        sending a byte every 20 s would hold its connection, and with 31 more, the preview."""
        deadline = threading.Timer(self.header_seconds, self._drop)
        deadline.daemon = True
        self._deadline = deadline
        deadline.start()
        try:
            super().handle_one_request()
        finally:
            deadline.cancel()

    def parse_request(self) -> bool:
        ok = super().parse_request()  # (reads the headers)
        self._deadline.cancel()  # in time: the answer may take as long as the page's build
        return ok

    def _drop(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def send_head(self):  # type: ignore[no-untyped-def]
        from urllib.parse import unquote, urlsplit

        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]").lower()
        if host not in _LOCAL_NAMES:  # a web page's DNS rebinding: another name pointed at 127.0.0.1
            self.send_error(421, "This preview answers only on 127.0.0.1 and localhost")
            return None
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        if "\0" in rel:  # no file has it in its name (open() would raise; a page could fill the terminal)
            self.send_error(400, "No file name holds a NUL character")
            return None
        if rel == "" or rel.endswith("/"):
            rel += "index.html"
        self.preview.ensure(rel)
        return super().send_head()


class PreviewServer:
    """Serves the preview on 127.0.0.1, building pages on first request (so it starts
    at once, whatever the course's size) and again after the .po file changes."""

    def __init__(
        self, po_path: str, source: str, *, port: int = 0, on_rebuild: Callable[[PreviewBuild], None] | None = None
    ) -> None:
        import tempfile

        started = time.monotonic()
        self.po = Path(po_path)
        read_po_bytes(self.po)  # a missing or unreadable file stops here, before anything is created
        self.source = open_source(source)
        self.paths = set(self.source.paths())
        self.on_rebuild = on_rebuild
        self._lock = threading.Lock()
        self._built: set[str] = set()
        self._mtime = self.po.stat().st_mtime_ns
        self.root = Path(tempfile.mkdtemp(prefix="localize-preview-"))
        try:
            self.site = self.root / "site"
            self.site.mkdir()
            self.job, problems = prepare_preview(self.po, self.site)
            pages = sum(1 for p in self.paths if is_page(p))
            self.build = PreviewBuild(
                self.site, self.job.locale, pages, tuple(problems), 0, 0, time.monotonic() - started
            )
            handler = type("PreviewHandler", (_Handler,), {"preview": self})
            self.server = _Server(("127.0.0.1", port), partial(handler, directory=str(self.site)))
            self._stop = threading.Event()
            self._serving = False
            self._closed = False
        except BaseException:  # a KeyboardInterrupt (Ctrl-C, or a kill made one) too: nothing is left behind
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def ensure(self, rel: str) -> None:
        """Build ``rel`` for the current .po file if it is a file of the course."""
        if rel not in self.paths:
            return
        with self._lock:
            if rel not in self._built and not self._closed:  # (after stop(): the folder is gone)
                _preview_page(self.source, rel, self.job)
                self._built.add(rel)

    @property
    def url(self) -> str:
        start = "index.html" if "index.html" in self.paths else ""
        return f"http://127.0.0.1:{self.server.server_port}/{start}"

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            try:
                mtime = self.po.stat().st_mtime_ns
            except OSError:
                continue
            if mtime != self._mtime:
                self._mtime = mtime
                started = time.monotonic()
                try:
                    job, problems = prepare_preview(self.po, self.site)
                except (LocalizeError, OSError):  # replaced by a folder, gone between stat and read...:
                    self._mtime = -1  # read again on the next look; the preview shows the last good build
                    continue
                with self._lock:
                    self.job = job
                    self._built.clear()  # every page is rebuilt on its next request
                self.build = PreviewBuild(
                    self.site, job.locale, self.build.pages, tuple(problems), 0, 0, time.monotonic() - started
                )
                if self.on_rebuild is not None:
                    self.on_rebuild(self.build)

    def start(self) -> PreviewServer:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self._serving = True  # (only once its thread runs: shutdown() waits for the loop)
        threading.Thread(target=self._watch, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop serving and remove the preview's folder, after any page being built (also when it
        was never started: ``shutdown`` would wait for a loop that never ran)."""
        self._stop.set()
        if self._serving:
            self.server.shutdown()
        self.server.server_close()
        with self._lock:  # a page being built finishes first; none is built after
            self._closed = True
            shutil.rmtree(self.root, ignore_errors=True)
