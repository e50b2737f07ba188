"""Bringing a catalog up to date: the one step init, update and route share.

A catalog of record (or none yet) meets the newest template: an existing one is
merged msgmerge-style, a missing one is created from the template, and then the
translation memory fills what it can. Nothing is written here; the caller
decides whether the result becomes the catalog of record (init, update) or only
goes into a kit (route). The result records the template it was merged from
(``X-Localize-Template``), which ``update`` validates it against next time.
"""

from __future__ import annotations

from dataclasses import dataclass

from localize.catalogs.lifecycle import (
    DEFAULT_SIMILARITY,
    TEMPLATE_HEADER,
    MergeReport,
    merge,
    new_catalog,
    template_digest,
)
from localize.catalogs.memory import FillReport, TranslationMemory
from localize.catalogs.memory_index import memory_for, template_sources
from localize.catalogs.memory_lookup import Damaged, Moved
from localize.catalogs.memory_rebuild import rebuild
from localize.catalogs.workspace import Workspace
from localize.errors import TransientStorageError
from localize.model import Catalog

__all__ = ["Refreshed", "refresh", "refresh_from_memory"]


@dataclass(frozen=True, slots=True)
class Refreshed:
    catalog: Catalog
    merge: MergeReport | None  # None: the catalog is new
    memory: FillReport


def refresh(
    existing: Catalog | None,
    template: Catalog,
    course: str,
    locale: str,
    memory: TranslationMemory,
    *,
    similarity: float = DEFAULT_SIMILARITY,
) -> Refreshed:
    """``existing`` (or a new catalog) brought up to date with ``template`` and filled from ``memory``."""
    if existing is None:
        catalog, report = new_catalog(template, course, locale), None
    else:
        catalog, report = merge(existing, template, similarity=similarity)
    catalog, filled = memory.fill(catalog, similarity=similarity)
    catalog = catalog.with_header(TEMPLATE_HEADER, template_digest(template))
    return Refreshed(catalog, report, filled)


def refresh_from_memory(
    workspace: Workspace,
    existing: Catalog | None,
    template: Catalog,
    course: str,
    locale: str,
    *,
    similarity: float = DEFAULT_SIMILARITY,
) -> Refreshed:
    """:func:`refresh` from the memory of ``locale`` less ``course`` (the index's
    :func:`~.memory_index.memory_for`), which reads up front the records of the near matches of
    the sources not translated yet in ``existing``. A source the fill asks about outside that set
    has its records read during the fill: when those are damaged, the locale is rebuilt from
    the catalogs and the fill done again; when the locale was rebuilt meanwhile, the fill is
    done again from the new index."""
    sources = template_sources(template)
    done = set() if existing is None else {e.key for e in existing.entries if e.msgstr and not e.obsolete}
    near = [k for k in sources if k not in done]  # a source translated already asks no near match
    for attempt in range(3):
        memory = memory_for(workspace, locale, course, sources, similarity=similarity, near=near)
        try:
            return refresh(existing, template, course, locale, memory, similarity=similarity)
        except Damaged as e:
            if attempt == 2:
                raise TransientStorageError(
                    f"the memory index kept changing under us ({e}); run again", path=workspace.describe("")
                ) from e
            if not isinstance(e, Moved):
                rebuild(workspace, locale)
    raise AssertionError("unreachable")
