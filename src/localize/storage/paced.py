"""HTTP clients that hold a server to a pace from the first byte of its answer, headers included.

httpx's read timeout is per read: a server that sends a header line every 29 s never trips it,
and httpx has no deadline for a whole request. So a crawl, or a pull and the course's lock,
could be held for as long as a broken or hostile server liked. The connections of
:func:`paced_client` wait in socket reads at most as long as the rule of crawls and pulls
allows: ``after`` seconds, then ``rate`` bytes a second on average, counted from the request
(only the time spent waiting for the server: a reader pacing itself, ``pull --max-rate``, is
not taken for a slow server). A TLS handshake gets ``after`` seconds, and a response's headers
(interim ``1xx`` responses included: httpcore reads past any number of them) ``after`` seconds
plus what 16 KiB take at ``rate``. A server past that raises :class:`SlowServer` (an
``httpcore.ReadTimeout``: httpx raises it as ``httpx.ReadTimeout`` with this one as its cause,
see :func:`slow_server`). Connections through a proxy of the environment (``HTTPS_PROXY``) are
paced too; the address ``check`` applies to direct connections only (a proxy resolves the names).
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import httpcore
import httpx

from localize.errors import PROXY_VARIABLES, ConfigError, proxy_with_password

__all__ = ["Refused", "SlowServer", "paced_client", "proxy_in_use", "refused", "slow_server"]

_PROXY_SETTINGS = (*PROXY_VARIABLES, "NO_PROXY", "no_proxy")
HEADER_BYTES = 16 * 1024  # what a response's headers may take to arrive at the rule's rate, past `after`
_phase = threading.local()  # headers_by: when the headers of this thread's current response are due

Check = Callable[[str, str], "str | None"]
"""(host asked for, address connected to) -> why the connection is refused, or None."""


class SlowServer(httpcore.ReadTimeout):
    """The server answered slower than the rule allows (its message says how slowly)."""


class Refused(httpcore.ConnectError):
    """The connection reached an address its check refuses (its message says why)."""


def refused(error: BaseException) -> Refused | None:
    """The :class:`Refused` behind an httpx error, if that is what it is."""
    cause = error if isinstance(error, Refused) else error.__cause__
    return cause if isinstance(cause, Refused) else None


def slow_server(error: BaseException) -> SlowServer | None:
    """The :class:`SlowServer` behind an httpx error, if that is what it is."""
    cause = error if isinstance(error, SlowServer) else error.__cause__
    return cause if isinstance(cause, SlowServer) else None


class _PacedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, after: float, rate: float) -> None:
        self._inner = inner
        self._after = after
        self._rate = rate
        self._waited = 0.0  # seconds spent in reads since the last request was sent
        self._received = 0

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._waited, self._received = 0.0, 0  # a request: its answer is timed from here
        self._inner.write(buffer, timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        # how long the server may still send nothing before it falls below the rule
        left = max(self._after, self._received / self._rate) - self._waited
        if left <= 0:
            raise self._slow()
        started = time.monotonic()
        headers_by = getattr(_phase, "headers_by", None)
        if headers_by is not None:
            if headers_by <= started:
                raise SlowServer(f"the server took longer than {headers_by - _phase.asked:.0f} s to send its headers")
            left = min(left, headers_by - started)
        wait = left if timeout is None else min(timeout, left)
        try:
            data = self._inner.read(max_bytes, wait)
        except httpcore.ReadTimeout:
            self._waited += time.monotonic() - started
            if timeout is None or wait < timeout:
                if headers_by is not None and time.monotonic() >= headers_by:
                    raise SlowServer(
                        f"the server took longer than {headers_by - _phase.asked:.0f} s to send its headers"
                    ) from None
                raise self._slow() from None
            raise
        self._waited += time.monotonic() - started
        self._received += len(data)
        return data

    def _slow(self) -> SlowServer:
        return SlowServer(
            f"the server sent {self._received} bytes in {self._waited:.1f} s, slower than {self._rate:.0f} "
            f"bytes a second after {self._after:g} seconds"
        )

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # the handshake's reads happen inside the ssl module, each with its own timeout: a watchdog
        # shuts the connection down if the whole handshake takes longer than `after` (through a
        # duplicate of the descriptor: the ssl module takes the socket over, and a TLS socket, the
        # connection to an https proxy, cannot be duplicated as a socket)
        sock = self._inner.get_extra_info("socket")
        if sock is None:  # a stream with no socket of its own (none of httpcore's sync streams)
            return _PacedStream(self._inner.start_tls(ssl_context, server_hostname, timeout), self._after, self._rate)
        try:
            watch = socket.socket(sock.family, sock.type, sock.proto, fileno=os.dup(sock.fileno()))
        except OSError as e:  # out of file descriptors: a failed connection, as httpx reports one
            raise httpcore.ConnectError(f"no descriptor for the TLS handshake's watchdog: {e}") from e
        fired = threading.Event()

        def stop() -> None:
            fired.set()
            with contextlib.suppress(OSError):
                watch.shutdown(socket.SHUT_RDWR)

        timer = threading.Timer(self._after, stop)
        timer.daemon = True
        try:
            timer.start()
        except RuntimeError as e:  # no thread to be had
            watch.close()
            raise httpcore.ConnectError(f"no thread for the TLS handshake's watchdog: {e}") from e
        try:
            inner = self._inner.start_tls(ssl_context, server_hostname, timeout)
        except httpcore.NetworkError:
            if fired.is_set():
                raise SlowServer(f"the TLS handshake took longer than {self._after:g} seconds") from None
            raise
        finally:
            timer.cancel()
            watch.close()
        if fired.is_set():  # done just as the watchdog shut the connection down
            inner.close()
            raise SlowServer(f"the TLS handshake took longer than {self._after:g} seconds")
        return _PacedStream(inner, self._after, self._rate)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PacedBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend, after: float, rate: float, check: Check | None) -> None:
        self._inner = inner
        self._after = after
        self._rate = rate
        self._check = check

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        if self._check is not None:
            # the address actually connected to, not one looked up before: a name cannot
            # resolve to a public address for a check and to an internal one for the connection
            peer = stream.get_extra_info("server_addr")
            why = self._check(host, str(peer[0]) if peer else "")
            if why is not None:
                stream.close()
                raise Refused(why)
        return _PacedStream(stream, self._after, self._rate)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - no unix sockets here
        stream = self._inner.connect_unix_socket(path, timeout, socket_options)
        return _PacedStream(stream, self._after, self._rate)

    def sleep(self, seconds: float) -> None:  # pragma: no cover - httpcore's retries (none here)
        self._inner.sleep(seconds)


def proxy_in_use() -> str | None:
    """The first proxy variable of the environment that is set (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY)."""
    return next((v for v in PROXY_VARIABLES if os.environ.get(v)), None)


def _trace(event: str, info: dict[str, Any]) -> None:
    """httpcore's trace extension: marks when this thread waits for a response's headers."""
    if event == "http11.receive_response_headers.started":
        _phase.asked = time.monotonic()
        _phase.headers_by = _phase.asked + _phase.allowed
    elif event.startswith("http11.receive_response_headers."):
        _phase.headers_by = None


def paced_client(*, after: float, rate: float, check: Check | None = None, **options: Any) -> httpx.Client:
    """An ``httpx.Client`` (``options`` as for it) whose connections keep to the rule, and whose
    direct connections connect only where ``check`` allows (:class:`Refused` otherwise).

    httpx does not take a network backend, so the one of each connection pool is wrapped (the
    client's own, and those of the environment's proxies); a change in httpx that moves them
    fails here (and in the tests), never silently unpaced."""
    if "transport" in options or options.get("http2"):
        raise ValueError("a paced client makes its own HTTP/1.1 transports (no transport=, no http2)")
    allowed = after + HEADER_BYTES / rate

    def traced(request: httpx.Request) -> None:
        _phase.allowed = allowed
        request.extensions = {**request.extensions, "trace": _trace}

    hooks = dict(options.pop("event_hooks", None) or {})
    hooks["request"] = [traced, *hooks.get("request", [])]
    try:
        client = httpx.Client(event_hooks=hooks, **options)
    except (ImportError, ValueError, httpx.InvalidURL) as e:  # the environment's proxies, as httpx reads them
        named = [v for v in _PROXY_SETTINGS if os.environ.get(v)] or list(_PROXY_SETTINGS[::2])
        # (httpx's message quotes the part of an address it could not parse, a password's too)
        why = (
            f"{type(e).__name__}: {e}" if isinstance(e, ImportError) or not proxy_with_password() else type(e).__name__
        )
        raise ConfigError(
            f"the proxy settings of the environment cannot be used ({why}); fix or unset {', '.join(named)} "
            "(an address reads http:// and then USER:PASSWORD@HOST:PORT, any of / ? # @ : in USER or PASSWORD "
            "percent-encoded; a socks:// proxy needs `pip install 'httpx[socks]'`)"
        ) from None
    except (OSError, ssl.SSLError) as e:  # SSL_CERT_FILE or SSL_CERT_DIR naming what is not there
        named = [v for v in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(v)] or ["SSL_CERT_FILE"]
        raise ConfigError(
            f"the certificates the environment names cannot be read ({type(e).__name__}: "
            f"{getattr(e, 'strerror', None) or e}); fix or unset {', '.join(named)}"
        ) from None
    own = getattr(client, "_transport", None)
    mounts = getattr(client, "_mounts", None)
    if not isinstance(mounts, dict):
        raise RuntimeError("this httpx keeps its connections where localize cannot pace them: pin httpx<0.30")
    for transport in (own, *mounts.values()):
        if transport is None:  # a NO_PROXY host: the client's own transport
            continue
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if not isinstance(pool, httpcore.ConnectionPool) or not isinstance(backend, httpcore.NetworkBackend):
            raise RuntimeError("this httpx keeps its connections where localize cannot pace them: pin httpx<0.30")
        pool._network_backend = _PacedBackend(backend, after, rate, check if transport is own else None)
    return client
