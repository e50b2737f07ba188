"""Course -> gettext template.

Every page of a course is traversed once; the same text anywhere in the course is
one entry with every page in its references. Entries keep the order in which a
reader meets them (pages in path order), so catalogs read like the course and a
rerun on the same pages gives the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from localize import __version__
from localize.engine.encoding import decode_page
from localize.engine.htmltree import ICON_CLASSES, parse
from localize.engine.segments import find_units
from localize.errors import LocalizeError
from localize.model import Catalog, Entry, Unit
from localize.storage.parallel import map_pages
from localize.storage.sources import PAGE_TOO_LARGE, Source, is_page, read_page

__all__ = ["ExtractResult", "PageFailure", "extract_course", "extract_page", "template_headers"]


@dataclass(frozen=True, slots=True)
class PageFailure:
    path: str
    message: str

    def __str__(self) -> str:
        return self.message if self.message.startswith(self.path) else f"{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class ExtractResult:
    catalog: Catalog
    pages: int
    units: int
    failures: tuple[PageFailure, ...]


def extract_page(data: bytes, path: str, icon_classes: Iterable[str] = ICON_CLASSES) -> list[Unit]:
    """The units of one page; raises PageError for undecodable files."""
    text = decode_page(data, path).text
    return find_units(text, parse(text, icon_classes))


_Found = tuple[str, list[tuple[str | None, str, str]] | None, str | None]


def _extract_one(source: Source, path: str, icon_classes: frozenset[str]) -> _Found:
    """Worker: (path, [(msgctxt, msgid, comment)], None) or (path, None, error)."""
    try:
        data = read_page(source, path)
        if data is None:
            return path, None, f"{path}: {PAGE_TOO_LARGE}: not extracted (build and publish copy it as it is)"
        units = extract_page(data, path, icon_classes)
    except LocalizeError as e:
        return path, None, str(e)
    return reference(path), [(u.msgctxt, u.msgid, u.comment) for u in units], None


def reference(path: str) -> str:
    """A page path as a ``#:`` reference: gettext tools split references at spaces."""
    return path.replace("%", "%25").replace(" ", "%20").replace("\t", "%09") if (" " in path or "\t" in path) else path


def template_headers(
    course: str, source_locale: str = "en", *, now: datetime | None = None
) -> tuple[tuple[str, str], ...]:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M%z")
    return (
        ("Project-Id-Version", course),
        ("Report-Msgid-Bugs-To", ""),
        ("POT-Creation-Date", stamp),
        ("PO-Revision-Date", "YEAR-MO-DA HO:MI+ZONE"),
        ("Last-Translator", "FULL NAME <EMAIL@ADDRESS>"),
        ("Language-Team", "LANGUAGE <LL@li.org>"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("X-Generator", f"localize {__version__}"),
        ("X-Localize-Course", course),
        ("X-Localize-Source-Locale", source_locale),
    )


class _Collector:
    __slots__ = ("comments", "order", "refs")

    def __init__(self) -> None:
        self.order: dict[tuple[str | None, str], int] = {}
        self.refs: dict[tuple[str | None, str], dict[str, None]] = {}
        self.comments: dict[tuple[str | None, str], dict[str, None]] = {}

    def add(self, path: str, units: list[tuple[str | None, str, str]]) -> None:
        order, refs, comments = self.order, self.refs, self.comments
        for msgctxt, msgid, comment in units:
            key = (msgctxt, msgid)
            if key not in order:
                order[key] = len(order)
                refs[key] = {path: None}
                comments[key] = {comment: None} if comment else {}
            else:
                refs[key][path] = None
                if comment:
                    comments[key][comment] = None

    def entries(self) -> tuple[Entry, ...]:
        return tuple(
            Entry(
                msgid=key[1],
                msgctxt=key[0],
                references=tuple(self.refs[key]),
                extracted_comments=tuple(sorted(self.comments[key])),
            )
            for key in self.order
        )


def extract_course(
    source: Source,
    course: str,
    *,
    source_locale: str = "en",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
    icon_classes: Iterable[str] = ICON_CLASSES,
) -> ExtractResult:
    """Extract every page of ``source`` into one template catalog.

    A page that cannot be read is reported in ``failures`` and the others go on.
    ``jobs`` worker processes share the pages (default: one per core).
    ``icon_classes``: elements with one of these classes are icons, never translated.
    """
    collector = _Collector()
    paths = [p for p in source.paths() if is_page(p)]
    failures = [PageFailure(p.path or source.location, str(p)) for p in source.problems]
    pages = units = 0
    for path, found, error in map_pages(_extract_one, source, paths, jobs, frozenset(icon_classes)):
        if progress is not None:
            progress(path)
        if found is None:
            failures.append(PageFailure(path, error or "unreadable"))
            continue
        pages += 1
        units += len(found)
        collector.add(path, found)
    catalog = Catalog(
        headers=template_headers(course, source_locale), entries=collector.entries(), header_flags=("fuzzy",)
    )
    return ExtractResult(catalog, pages, units, tuple(failures))
