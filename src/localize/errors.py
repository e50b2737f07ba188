"""The exception tree of localize.

Every error a user can cause is a :class:`LocalizeError` whose message says which
file (and line, where there is one), what is wrong and how to fix it. Third-party
exceptions are wrapped at the edge with ``raise ... from e`` so callers never need
to know which library failed.
"""

from __future__ import annotations


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
        return f"{where}{self.message}"


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


class StorageError(LocalizeError):
    """Reading or writing the workspace or object storage failed."""
