"""Workspace operations: what the commands and flows do with catalogs of record.

Each reads and writes through :class:`~localize.workspace.Workspace` (so a local
folder and an S3 prefix behave the same), writes atomically, and reports per
catalog what happened; a bad catalog is reported and left untouched while the
others go on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from localize.catalogs import (
    DEFAULT_SIMILARITY,
    CatalogStats,
    MergeReport,
    catalog_stats,
    check_locale,
    merge,
    new_catalog,
    validate_catalog,
)
from localize.errors import CatalogError, CatalogNotFoundError, ConfigError
from localize.extract import ExtractResult, extract_course
from localize.memory import FillReport, TranslationMemory, load_memory
from localize.model import Catalog
from localize.sources import Source
from localize.workspace import Workspace

__all__ = ["CatalogUpdate", "InitResult", "UpdateResult", "init_locale", "update_course", "workspace_stats"]


@dataclass(frozen=True, slots=True)
class InitResult:
    path: str
    entries: int
    memory: FillReport


def init_locale(
    workspace: Workspace, course: str, locale: str, *, similarity: float = DEFAULT_SIMILARITY
) -> InitResult:
    """Create LL/LC_MESSAGES/COURSE.po from the template, filled from the memory."""
    locale = check_locale(locale)
    key = workspace.catalog_key(course, locale)
    if workspace.storage.exists(key):
        raise ConfigError(
            f"{workspace.describe(key)} already exists; bring it up to date with: localize update SOURCE --course {course}"
        )
    template = workspace.read_template(course)
    catalog = new_catalog(template, course, locale)
    catalog, filled = load_memory(workspace, locale, exclude_course=course).fill(catalog, similarity=similarity)
    workspace.write(key, catalog)
    return InitResult(workspace.describe(key), len(catalog.entries), filled)


@dataclass(frozen=True, slots=True)
class CatalogUpdate:
    locale: str
    path: str
    merge: MergeReport | None = None
    memory: FillReport | None = None
    written: bool = False
    error: str | None = None


@dataclass(frozen=True, slots=True)
class UpdateResult:
    extract: ExtractResult
    template_path: str
    template_written: bool
    catalogs: tuple[CatalogUpdate, ...]

    @property
    def failures(self) -> list[str]:
        return [str(f) for f in self.extract.failures] + [c.error for c in self.catalogs if c.error]


def update_course(
    workspace: Workspace,
    source: Source,
    course: str,
    *,
    source_locale: str = "en",
    similarity: float = DEFAULT_SIMILARITY,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> UpdateResult:
    """Re-extract ``course`` and merge the new template into each of its catalogs."""
    template_key = workspace.template_key(course)
    previous: Catalog | None
    try:
        previous = workspace.read_template(course)
    except CatalogNotFoundError:
        previous = None
    extracted = extract_course(source, course, source_locale=source_locale, jobs=jobs, progress=progress)
    template = extracted.catalog
    template_written = workspace.write(template_key, template)
    workspace.record_source(course, source.location)
    updates: list[CatalogUpdate] = []
    memories: dict[str, TranslationMemory] = {}
    for _, locale in workspace.catalogs(course=course):
        key = workspace.catalog_key(course, locale)
        path = workspace.describe(key)
        try:
            old = workspace.read(key)
            validate_catalog(old, path, course=course, locale=locale, template=previous)
        except CatalogError as e:
            updates.append(CatalogUpdate(locale, path, error=f"{e} (catalog left unchanged)"))
            continue
        merged, report = merge(old, template, similarity=similarity)
        if locale not in memories:
            memories[locale] = load_memory(workspace, locale, exclude_course=course)
        merged, filled = memories[locale].fill(merged, similarity=similarity)
        written = workspace.write(key, merged)
        updates.append(CatalogUpdate(locale, path, report, filled, written))
    return UpdateResult(extracted, workspace.describe(template_key), template_written, tuple(updates))


def workspace_stats(
    workspace: Workspace, *, course: str | None = None, locale: str | None = None
) -> list[CatalogStats]:
    """Statistics per course x locale, sorted by course then locale."""
    return [
        catalog_stats(workspace.read_catalog(cid, ll), cid, ll)
        for cid, ll in workspace.catalogs(course=course, locale=check_locale(locale) if locale else None)
    ]
