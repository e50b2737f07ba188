"""The exception tree of localize.

Every error a user can cause is a :class:`LocalizeError` whose message says which
file (and line, where there is one), what is wrong and how to fix it. Third-party
exceptions are wrapped at the edge with ``raise ... from e`` so callers never need
to know which library failed::

    LocalizeError
    ├── SourceError                 a course source cannot be read
    │   ├── PageError               one page is corrupt; the rest of the course goes on
    │   └── UnsafeArchiveError      an archive member would land outside its folder
    ├── CatalogError                a catalog is missing, malformed or misplaced
    │   ├── PoSyntaxError           does not parse (path and line say where)
    │   └── CatalogNotFoundError    does not exist yet
    ├── ConfigError                 a setting or command-line value is invalid
    │   └── NothingToSend           a route with nothing for the partner to do: no kit
    ├── IntegrityError              bytes do not match their recorded sha256
    └── StorageError                reading or writing storage failed
        ├── TransientStorageError   time-outs, dropped connections, 5xx, throttling:
        │   └── PreconditionFailed      worth retrying (a concurrent writer won first)
        └── PermanentStorageError   access denied, no such bucket, invalid key:
                                    retrying cannot help; fix the cause

Orchestration retries only what :func:`is_transient` says is transient.
"""

from __future__ import annotations

import os
import re
from urllib.parse import unquote

_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_USERINFO = re.compile(r'://[^/\s"]*@')  # whatever the scheme (botocore masks some: htt***://)
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def without_credentials(text: str) -> str:
    """``text`` with the user name and password of every address in it left out
    (``http://user:secret@host/`` -> ``http://host/``): an endpoint, source or region
    address may carry them, and a library's message may quote it. The password of a proxy of the
    environment is left out wherever it appears, whole or in parts (a library quotes a proxy
    address it could not parse, ``http://user:pa/ss@host``, as the host ``user:pa``; short parts of a
    password are not, see :func:`_proxy_secrets`)."""
    if "@" in text:
        text = _USERINFO.sub("://", text)
    for secret in _proxy_secrets():
        if secret in text:
            text = text.replace(secret, "***")
    return text


def proxy_with_password() -> list[str]:
    """The proxy variables of the environment whose address holds a user and password."""
    return [name for name in PROXY_VARIABLES if "@" in (os.environ.get(name) or "")]


def _proxy_secrets() -> list[str]:
    """What would give away the password of a proxy set in the environment, longest first: its
    user information (``user:password``), each part of it that holds the ``:`` (split where an
    address parser ends a host: ``/ ? # \\``), and the password's own parts of six characters or
    more (shorter ones, and a user name alone, are not hidden: ``read`` or ``proxy`` would blank
    those words in every message, and show which word the password is). Messages that quote a
    proxy address a library could not parse are not shown at all (:func:`proxy_with_password`)."""
    found: set[str] = set()
    for name in PROXY_VARIABLES:
        value = os.environ.get(name) or ""
        at = value.rfind("@")
        if at <= 0:
            continue
        scheme = _SCHEME.match(value)
        info = value[scheme.end() if scheme and scheme.end() <= at else 0 : at]
        for form in {info, unquote(info)}:
            if ":" not in form:
                continue  # a user name only
            found.add(form)
            found.update(part for part in _HOST_END.split(form) if ":" in part)
            password = form.split(":", 1)[1]
            found.update(part for part in (password, *_PASSWORD_PARTS.split(password)) if len(part) >= 6)
    return sorted(found, key=len, reverse=True)


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_HOST_END = re.compile(r"[/?#\\]")
_PASSWORD_PARTS = re.compile(r"[:/?#\\]")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escape sequences among them)
    and bidirectional overrides shown as ``\\xNN``/``\\uNNNN``, so nothing a file
    or a partner wrote can drive the operator's terminal."""
    return _UNPRINTABLE.sub(lambda m: repr(m.group(0))[1:-1], text) if _UNPRINTABLE.search(text) else text


class LocalizeError(Exception):
    """Base class of every error localize raises on purpose."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        return printable(without_credentials(f"{where}{self.message}"))


class SourceError(LocalizeError):
    """A course source (folder, archive, page) cannot be read."""


class PageError(SourceError):
    """One page is corrupt, binary or undecodable; the rest of the course goes on."""


class UnsafeArchiveError(SourceError):
    """An archive member would be written outside its target folder."""


class CatalogError(LocalizeError):
    """A gettext catalog is missing, malformed or does not belong here."""


class PoSyntaxError(CatalogError):
    """A .po/.pot file does not parse; ``path`` and ``line`` say where."""


class CatalogNotFoundError(CatalogError):
    """The catalog a command needs does not exist yet."""


class ConfigError(LocalizeError):
    """A setting or command-line value is invalid."""


class NothingToSend(ConfigError):
    """Nothing in the catalog for the partner to translate or review: no kit is sent."""


class IntegrityError(LocalizeError):
    """Downloaded or stored bytes do not match the sha256 their manifest records."""


class StorageError(LocalizeError):
    """Reading or writing the workspace or object storage failed."""


class TransientStorageError(StorageError):
    """A failure that may pass: a time-out, a dropped connection, a 5xx answer, throttling."""


class PermanentStorageError(StorageError):
    """A failure that retrying cannot fix: access denied, no such bucket, an invalid key."""


class PreconditionFailed(TransientStorageError):
    """A conditional write lost to a concurrent writer; read again and retry."""


class CatalogChanged(PreconditionFailed):
    """A catalog changed (another run wrote it) after it was read for a merge: nothing was
    written; merge again from what is there now."""


def is_transient(error: BaseException) -> bool:
    """Whether retrying the operation that raised ``error`` may succeed."""
    return isinstance(error, TransientStorageError)
