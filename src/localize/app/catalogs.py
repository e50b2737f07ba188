"""Catalog operations: what the commands and flows do with catalogs of record.

Each reads and writes through :class:`~localize.catalogs.workspace.Workspace` (so a local
folder and an S3 prefix behave the same), writes atomically, and reports per
catalog what happened; a bad catalog is reported and left untouched while the
others go on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from localize.catalogs import index
from localize.catalogs.consistency import Finding, find_inconsistencies, save_summary, uses_of
from localize.catalogs.faults import kill_point
from localize.catalogs.lifecycle import (
    DEFAULT_SIMILARITY,
    TEMPLATE_HEADER,
    MergeReport,
    merge,
    template_digest,
    validate_catalog,
)
from localize.catalogs.memory import (
    FillReport,
)
from localize.catalogs.memory_index import record_catalog
from localize.catalogs.memory_rebuild import rebuild
from localize.catalogs.po import read_po, write_po
from localize.catalogs.refresh import refresh_from_memory
from localize.catalogs.review import oldest_unreviewed
from localize.catalogs.stats import catalog_stats
from localize.catalogs.workspace import MERGE_ATTEMPTS, Workspace
from localize.engine.extract import ExtractResult, extract_course
from localize.engine.pseudo import pseudo_catalog
from localize.errors import CatalogChanged, CatalogError, CatalogNotFoundError, ConfigError
from localize.ids import check_course_id
from localize.locales import PSEUDO_LOCALE, check_locale
from localize.model import Catalog
from localize.partners.assignments import index_kits
from localize.storage.base import LocalStorage
from localize.storage.folder_files import clear_non_files
from localize.storage.sources import Source

__all__ = [
    "CatalogUpdate",
    "InitResult",
    "RebuiltIndexes",
    "UpdateResult",
    "catalog_locales",
    "consistency",
    "init_locale",
    "merge_files",
    "pseudo_locale",
    "rebuild_indexes",
    "update_catalog",
    "update_course",
    "update_template",
]


@dataclass(frozen=True, slots=True)
class InitResult:
    path: str
    entries: int
    memory: FillReport
    warning: str = ""  # a catalog in the course's own language


def init_locale(
    workspace: Workspace, course: str, locale: str, *, similarity: float = DEFAULT_SIMILARITY
) -> InitResult:
    """Create LL/LC_MESSAGES/COURSE.po from the template, filled from the memory."""
    check_course_id(course)
    locale = workspace.check_locale_folder(locale)
    key = workspace.catalog_key(course, locale)
    if workspace.storage.exists(key):
        raise ConfigError(
            f"{workspace.describe(key)} already exists; bring it up to date with: localize update SOURCE --course {course}"
        )
    template = workspace.read_template(course)
    workspace.remember_template(course, template)
    fresh = refresh_from_memory(workspace, None, template, course, locale, similarity=similarity)
    try:
        workspace.write(key, fresh.catalog, based_on=None)
    except CatalogChanged:  # another run created it meanwhile: its catalog stays
        raise ConfigError(
            f"{workspace.describe(key)} was created by another run meanwhile; bring it up to date with: "
            f"localize update SOURCE --course {course}"
        ) from None
    record_catalog(workspace, course, locale, fresh.catalog, workspace.written.get(key))
    source = template.header("X-Localize-Source-Locale") or "en"
    warning = ""
    if locale.split("_")[0].split("@")[0] == source.split("_")[0].split("@")[0]:
        warning = (
            f"{locale} is the language {course} is written in ({source}): this catalog's translations replace "
            "its text on the pages (a copy-edit); a translation is a catalog of another locale"
        )
    return InitResult(workspace.describe(key), len(fresh.catalog.entries), fresh.memory, warning)


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
    new_locales: Iterable[str] = (),
) -> UpdateResult:
    """Re-extract ``course`` and merge the new template into each of its catalogs;
    ``new_locales`` that have no catalog yet get one (as ``init`` would)."""
    extracted, template_written = update_template(
        workspace, source, course, source_locale=source_locale, jobs=jobs, progress=progress
    )
    template = extracted.catalog
    updates = [
        update_catalog(workspace, course, locale, template, similarity=similarity)
        for locale in catalog_locales(workspace, course, new_locales)
    ]
    return UpdateResult(extracted, workspace.describe(workspace.template_key(course)), template_written, tuple(updates))


def update_template(
    workspace: Workspace,
    source: Source,
    course: str,
    *,
    source_locale: str = "en",
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[ExtractResult, bool]:
    """The first half of :func:`update_course`: extract ``course`` and write its template
    of record (the previous one is kept, so catalogs merged from it still validate).
    Returns the extraction and whether the template changed."""
    check_course_id(course)
    previous: Catalog | None
    try:
        previous = workspace.read_template(course, suggest=False)  # a new course
    except CatalogNotFoundError:
        previous = None
    if previous is not None:
        workspace.remember_template(course, previous)  # catalogs merged from it are validated against it
    extracted = extract_course(source, course, source_locale=source_locale, jobs=jobs, progress=progress)
    # the template first, then each catalog: every catalog names the template it was merged from
    # (X-Localize-Template), so a run stopped in between leaves catalogs the next run validates
    # against their own template and brings up to date
    template_written = workspace.write(workspace.template_key(course), extracted.catalog)
    kill_point("update:template-written")
    workspace.record_source(course, source.location)
    return extracted, template_written


def catalog_locales(workspace: Workspace, course: str, new_locales: Iterable[str] = ()) -> list[str]:
    """The locales whose catalogs of ``course`` an update touches: every existing one,
    then each of ``new_locales`` that has none yet."""
    existing = [locale for _, locale in workspace.catalogs(course=check_course_id(course))]
    return existing + sorted({check_locale(x) for x in new_locales} - set(existing))


def update_catalog(
    workspace: Workspace,
    course: str,
    locale: str,
    template: Catalog | None = None,
    *,
    similarity: float = DEFAULT_SIMILARITY,
) -> CatalogUpdate:
    """The second half of :func:`update_course`, for one locale: merge ``template``
    (default: the template of record) into the catalog, filled from the locale's
    memory, or create the catalog if there is none. A damaged catalog is reported
    in ``error`` and left unchanged."""
    check_course_id(course)
    locale = check_locale(locale)
    if template is None:
        template = workspace.read_template(course)
    key = workspace.catalog_key(course, locale)
    path = workspace.describe(key)
    for attempt in range(MERGE_ATTEMPTS):
        old: Catalog | None = None
        data: bytes | None = None
        try:
            try:
                old, data = workspace.read_with_bytes(key)
            except CatalogNotFoundError:
                old = None  # a new locale: created from the template, as ``init`` would
            if old is not None:
                _validate(workspace, old, path, course, locale)
        except CatalogError as e:
            return CatalogUpdate(locale, path, error=f"{e} (catalog left unchanged)")
        fresh = refresh_from_memory(workspace, old, template, course, locale, similarity=similarity)
        try:
            # only over the catalog it merged: an ingest or a review that wrote meanwhile is merged again
            written = workspace.write(key, fresh.catalog, based_on=data)
            break
        except CatalogChanged:
            if attempt == MERGE_ATTEMPTS - 1:  # the other locales go on; this one is reported
                return CatalogUpdate(
                    locale,
                    path,
                    error=f"{path}: changed by other runs while it was merged, {MERGE_ATTEMPTS} times; left as "
                    "they wrote it (run update again)",
                )
    kill_point(f"update:catalog-written:{locale}")
    if written:
        record_catalog(workspace, course, locale, fresh.catalog, workspace.written.get(key))
    return CatalogUpdate(locale, path, fresh.merge, fresh.memory, written)


def _validate(workspace: Workspace, catalog: Catalog, path: str, course: str, locale: str) -> None:
    """Refuse a catalog damaged by hand, judged against the template it was merged from
    (``X-Localize-Template``; for older catalogs, any template the workspace kept)."""
    templates = workspace.templates_of(catalog, course)
    if not templates:
        validate_catalog(catalog, path, course=course, locale=locale)
        return
    first: CatalogError | None = None
    for template in templates:
        try:
            validate_catalog(catalog, path, course=course, locale=locale, template=template)
            return
        except CatalogError as e:
            first = first or e
    assert first is not None
    raise first


def merge_files(
    po: str, pot: str, output: str | None, *, similarity: float = DEFAULT_SIMILARITY
) -> tuple[MergeReport, str]:
    """``msgmerge``-style: merge the catalog file ``po`` with the template file
    ``pot``; write the result atomically to ``output`` (``po`` itself to update in
    place, keeping its permissions) or, with no ``output``, only return it.
    Returns the report and the merged text."""
    old = _read_po_file(po)
    template = _read_po_file(pot)
    merged, report = merge(old, template, similarity=similarity)
    text = write_po(merged)
    if output is not None:
        target = Path(output)
        LocalStorage(target.parent).write_bytes(target.name, text.encode("utf-8"))
    return report, text


def _read_po_file(path: str) -> Catalog:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise CatalogNotFoundError("no such file", path=path) from None
    except OSError as e:
        raise CatalogError(e.strerror or str(e), path=path) from e
    return read_po(data, path)


def consistency(workspace: Workspace, locale: str, *, courses: list[str] | None = None) -> list[Finding]:
    """Inconsistencies of ``locale`` across its courses (or ``courses``): warnings for one source
    translated differently, information for different sources translated identically; each
    names the courses, entries and (from the review ledger) partners. A run over every course
    leaves its summary for the dashboard (:func:`localize.catalogs.consistency.save_summary`)."""
    locale = check_locale(locale)
    for c in courses or ():
        check_course_id(c)
    uses = uses_of(workspace, locale, courses=courses)
    findings = find_inconsistencies(uses)
    if courses is None:
        save_summary(workspace, locale, uses, findings)
    return findings


def pseudo_locale(workspace: Workspace, course: str) -> tuple[int, str, bool]:
    """Write the qps-ploc catalog of ``course``: (entries, path, written)."""
    template = workspace.read_template(course)
    # the template it was made from, as `update` records it (else the next update rewrites it)
    catalog = pseudo_catalog(template, course).with_header(TEMPLATE_HEADER, template_digest(template))
    key = workspace.catalog_key(course, PSEUDO_LOCALE)
    written = workspace.write(key, catalog)
    return len(catalog.entries), workspace.describe(key), written


@dataclass(frozen=True, slots=True)
class RebuiltIndexes:
    catalogs: int  # catalogs whose statistics were indexed anew
    memories: dict[str, int]  # locale -> catalogs (and imported compendium) read into its memory index
    assignments: int | None = None  # assignment files added to the kit index (None: one locale only)


def rebuild_indexes(workspace: Workspace, *, locale: str | None = None) -> RebuiltIndexes:
    """Make the derived state anew from the files of record: every catalog's statistics
    (``index/stats/``) and progress history (from ``history/``), each locale's translation-memory index (``index/memory/LL/``), and
    the assignments index (dropped: the next read rebuilds it from the kit files), and the kit
    index (every assignment file added, then marked complete: a return naming an unknown kit
    is answered without a listing)."""
    wanted = check_locale(locale) if locale else None
    if isinstance(workspace.storage, LocalStorage):  # a folder where a derived file belongs stops every read of it
        clear_non_files(workspace.storage.root, "index", ".json")
    versions = workspace.catalog_versions(locale=wanted)
    by_course: dict[str, list[tuple[str, str]]] = {}
    for (course, ll), version in sorted(versions.items()):
        by_course.setdefault(course, []).append((ll, version))
    for course, catalogs in by_course.items():
        index.record(
            workspace.storage,
            [(catalog_stats(workspace.read_catalog(course, ll), course, ll), 0, version) for ll, version in catalogs],
        )
        for ll, _ in catalogs:  # what waits for review, from the review ledger (the record)
            index.set_oldest_unreviewed(workspace.storage, course, ll, oldest_unreviewed(workspace, course, ll))
        if wanted is None:  # the chart's points, from the daily snapshots (the record)
            index.set_history(workspace.storage, course, workspace.snapshot_history(course))
    kits = None
    if wanted is None:
        for key in workspace.storage.list("index/assignments"):
            workspace.storage.delete(key)
        kits = index_kits(workspace)
    locales = [wanted] if wanted else sorted({ll for _, ll in versions})
    return RebuiltIndexes(len(versions), {ll: rebuild(workspace, ll) for ll in locales}, kits)
