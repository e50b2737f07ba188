"""Where a mirror reads a region from: the storage backends, or plain HTTPS (a public bucket, a CDN).

Every read is streamed and bounded: the caller says how many bytes it accepts,
and a larger answer stops with :class:`~localize.storage.base.TooLarge` before
more than that has been read.
"""

from __future__ import annotations

import io
import os
import time
from typing import IO, Any, Protocol

from localize.errors import ConfigError, PermanentStorageError, TransientStorageError
from localize.storage import sites
from localize.storage.base import CHUNK, TooLarge, check_key
from localize.storage.locations import open_storage

__all__ = ["Remote", "open_remote", "shown_location"]


class Remote(Protocol):
    def read(self, key: str, max_bytes: int) -> bytes:
        """The object's bytes; FileNotFoundError, or TooLarge past ``max_bytes``."""
        ...

    def download(self, key: str, dest: IO[bytes], max_bytes: int, block: int = CHUNK) -> int:
        """Stream the object into ``dest`` (seekable: a retry starts it over), read ``block``
        bytes at a time; returns its size."""
        ...

    def describe(self, key: str = "") -> str: ...


class _StorageRemote:
    def __init__(self, location: str, endpoint_url: str | None = None) -> None:
        self.storage = open_storage(location, endpoint_url=endpoint_url)

    def read(self, key: str, max_bytes: int) -> bytes:
        buffer = io.BytesIO()
        self.storage.download(key, buffer, max_bytes=max_bytes)
        return buffer.getvalue()

    def download(self, key: str, dest: IO[bytes], max_bytes: int, block: int = CHUNK) -> int:
        return self.storage.download(key, dest, max_bytes=max_bytes, block=block)

    def describe(self, key: str = "") -> str:
        return self.storage.describe(key)


class _HttpRemote:
    """A public bucket or CDN: plain HTTPS GETs, streamed, retried on 5xx and dropped connections."""

    def __init__(self, base_url: str) -> None:
        from urllib.parse import urlsplit

        import httpx

        self.shown = shown_location(base_url)
        try:
            parts = urlsplit(base_url)
            httpx.URL(base_url).port  # noqa: B018 - a malformed host or port raises here, not in a download
        except (ValueError, httpx.InvalidURL) as e:
            raise ConfigError(
                f"not a valid address ({type(e).__name__}): check its host and port", path=self.shown
            ) from None
        if parts.query or parts.fragment:
            raise ConfigError(
                "a region's https:// address is the folder of its files, with no ?query or #fragment "
                "(each file's address is made by adding its path)",
                path=self.shown,
            )
        self.base = base_url.rstrip("/")
        # identity: a response is read as the bytes it holds (never inflated by the client, outside
        # the limits); a .gz object labelled Content-Encoding: gzip by a CDN is read raw, as stored
        from localize.storage.paced import paced_client

        own = httpx.URL(self.base)  # (as httpx gives every request's: a default port is None)
        self.origin = (own.scheme, own.host.lower(), own.port)
        self.client = paced_client(
            after=sites.MIN_RATE_AFTER,
            rate=sites.MIN_BYTES_PER_SECOND,
            check=self._connect_allowed,
            timeout=30.0,
            follow_redirects=True,
            max_redirects=5,
            headers={"Accept-Encoding": "identity"},
            event_hooks={"request": [self._redirect_allowed]},
        )

    def _redirect_allowed(self, request: Any) -> None:
        """Every request a pull makes, redirects included: to the region's own origin, or over
        https to another public host (a CDN's); never from https to http, nor to a loopback,
        private or link-local address (cloud metadata) a bucket owner could point a mirror at."""
        url = request.url
        here = (url.scheme, url.host.lower(), url.port)
        if here == self.origin:
            return
        if url.scheme == "https" and not _internal(url.host):
            return
        raise PermanentStorageError(
            f"the region redirects to {url.scheme}://{url.host}{f':{url.port}' if url.port else ''}, "
            "not followed (only to its own address, or over https to another public host)",
            path=self.shown,
        )

    def _connect_allowed(self, host: str, address: str) -> str | None:
        """Every connection, once made: another host than the region's own must be at a public
        address. A name a bucket owner controls could resolve to loopback or cloud metadata; the
        check is on the address connected to, so a name resolving differently a second time
        (DNS rebinding) changes nothing."""
        if host.lower().rstrip(".") == self.origin[1].rstrip(".") or not _internal(address):
            return None
        return (
            f"the region redirects to {host}, which is at an internal address ({address}), "
            "not followed (only to its own address, or over https to another public host)"
        )

    def describe(self, key: str = "") -> str:
        return f"{self.shown}/{key}" if key else self.shown

    def read(self, key: str, max_bytes: int) -> bytes:
        buffer = io.BytesIO()
        self.download(key, buffer, max_bytes)
        return buffer.getvalue()

    def download(self, key: str, dest: IO[bytes], max_bytes: int, block: int = CHUNK) -> int:
        import httpx

        from localize.storage.paced import refused, slow_server

        address, url = f"{self.base}/{check_key(key)}", self.describe(key)
        error = ""
        for attempt in range(4):
            dest.seek(0)
            dest.truncate()
            try:
                with self.client.stream("GET", address) as response:
                    if response.status_code == 404:
                        raise FileNotFoundError(url)
                    if response.status_code < 300:
                        declared = response.headers.get("content-length", "")
                        if declared.isdigit() and int(declared) > max_bytes:
                            raise TooLarge(f"larger than the {max_bytes} bytes allowed here; not read", path=url)
                        encoding = response.headers.get("content-encoding", "identity").strip().lower()
                        if encoding not in ("", "identity") and not key.endswith(".gz"):
                            raise PermanentStorageError(
                                f"the server sent it compressed (Content-Encoding: {encoding}) though asked for "
                                "identity; serve the region's files as they are (turn off compression for it)",
                                path=url,
                            )
                        total = 0
                        # (a server sending a byte now and then is stopped by the client's pace, which
                        # counts only the time spent waiting for it: storage/paced.py)
                        for received in response.iter_raw():  # as it arrives (a size waits to fill it)
                            for at in range(0, len(received), block):  # written (and paced) a block at a time
                                data = received[at : at + block]
                                total += len(data)
                                if total > max_bytes:
                                    raise TooLarge(
                                        f"larger than the {max_bytes} bytes allowed here; stopped reading", path=url
                                    )
                                dest.write(data)  # (--max-rate waits here: the mirror's own pace, not the server's)
                        return total
                    error = f"HTTP {response.status_code}"
                    if response.status_code < 500:
                        break
            except httpx.HTTPError as e:
                if (why := refused(e)) is not None:
                    raise PermanentStorageError(str(why), path=self.shown) from None
                slow = slow_server(e)
                if slow is not None:  # as the body's own rule below: not tried again
                    raise TransientStorageError(
                        f"download stopped: {slow} (the live version stays as it was)", path=url
                    ) from None
                error = _failure(e)
            time.sleep(0.3 * 2**attempt)
        kind = PermanentStorageError if error.startswith("HTTP 4") else TransientStorageError
        raise kind(f"download failed: {error}", path=url)


def _internal(host: str) -> bool:
    """Whether ``host`` names this machine or a private network (an address, or localhost)."""
    import ipaddress
    import socket

    name = host.strip("[]").lower().rstrip(".")  # (localhost. is localhost)
    if name == "localhost" or name.endswith((".localhost", ".internal")):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        try:  # the legacy spellings a resolver still takes: 2130706433, 0x7f000001, 127.1
            address = ipaddress.ip_address(socket.inet_aton(name))
        except OSError:
            return False
    return not address.is_global


def _failure(e: Exception) -> str:
    """What went wrong, without the exception's text (it may hold the address)."""
    import httpx

    from localize.storage.paced import proxy_in_use

    name = type(e).__name__
    text = str(e)
    if isinstance(e, httpx.ConnectError) and ("SSL" in text or "TLS" in text or "certificate" in text):
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate" in text.lower():
            return f"{name}: the server's TLS certificate is not trusted here"
        return f"{name}: the TLS handshake failed (a plain http:// server? then pull from http://...)"
    if isinstance(e, httpx.ConnectError):
        proxy = proxy_in_use()
        through = f", and the proxy {proxy} names?" if proxy else "?"
        return f"{name}: could not connect (is the address right and the server up{through})"
    if isinstance(e, httpx.TimeoutException):
        return f"{name}: no answer in time"
    return name


def shown_location(location: str) -> str:
    """``location`` as messages show it: an address (any scheme, any case) without the user
    name and password it may carry, and an http(s) one without its query; a folder as it is."""
    scheme, sep, rest = location.partition("://")
    if not sep or not scheme.strip().isascii():
        return location
    netloc, slash, path = rest.partition("/")
    netloc = netloc.rpartition("@")[2]  # user:password@host -> host
    if scheme.strip().lower() in ("http", "https"):
        path = path.partition("?")[0].partition("#")[0]
    return f"{scheme}://{netloc}{slash}{path}".rstrip("/")


def open_remote(location: str, endpoint_url: str | None = None) -> Remote:
    scheme = location.partition("://")[0] if "://" in location else ""
    if scheme.lower() in ("http", "https"):
        return _HttpRemote(location)
    if scheme and scheme != "s3":
        raise ConfigError(
            "not a region address: give the region's folder (or drive), an s3://bucket/prefix or an https:// address",
            path=shown_location(location),
        )
    if not scheme and not os.path.isdir(location):
        raise ConfigError(
            "no such folder: give the region's folder (or drive), an s3://bucket/prefix or an https:// address",
            path=location,
        )
    return _StorageRemote(location, endpoint_url)
