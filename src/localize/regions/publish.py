"""Publishing a course: build its bundle, upload what the region lacks, swap the pointer.

Objects are shared across versions, locales and courses: an unchanged page or
image is never uploaded twice. A course whose pages, catalog, tool version and
region policy are unchanged is detected before anything is built.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localize import __version__
from localize.catalogs.po import write_po
from localize.catalogs.review import reviewed_only
from localize.catalogs.stats import catalog_stats, format_share
from localize.catalogs.workspace import Workspace
from localize.config import Config
from localize.errors import ConfigError, PreconditionFailed
from localize.locales import check_locale
from localize.model import Catalog
from localize.regions.bundle import Bundle, build_key, make_bundle, source_revision
from localize.regions.layout import (
    FileRecord,
    Manifest,
    content_type,
    index_entry,
    make_pointer,
    manifest_key,
    object_key,
    prune,
    read_manifest,
    read_pointer,
    region_storage,
    swap_pointer,
    update_index,
    version_id,
)
from localize.storage.base import Storage
from localize.storage.sources import open_source

__all__ = ["PublishResult", "publish", "publish_bundle"]


@dataclass(frozen=True)
class PublishResult:
    region: str
    course: str
    locale: str
    version: str | None
    published: bool
    message: str
    uploaded_objects: int = 0
    uploaded_bytes: int = 0
    reused_objects: int = 0
    metadata_writes: int = 0
    pruned_versions: tuple[str, ...] = ()
    deleted_objects: int = 0
    dry_run: bool = False
    would_upload: tuple[str, ...] = ()


def publish_bundle(
    storage: Storage,
    region: str,
    course: str,
    locale: str,
    bundle: Bundle,
    catalog: Catalog,
    *,
    stats: dict[str, Any] | None = None,
    qa: dict[str, Any] | None = None,
    keep_versions: int = 5,
    dry_run: bool = False,
    now: datetime | None = None,
    on_upload: Callable[[str, int], None] | None = None,
    build_key: str = "",
    gc_grace_seconds: float = 3600.0,
) -> PublishResult:
    """Upload what is missing, write the manifest, swap the pointer."""
    now = now or datetime.now(UTC)
    catalog_sha = hashlib.sha256(write_po(catalog).encode("utf-8")).hexdigest()
    records = tuple(
        FileRecord(path, hashlib.sha256(data).hexdigest(), len(data), content_type(path))
        for path, data in sorted(bundle.files.items())
    )
    pointer, etag = read_pointer(storage, course, locale)
    current: Manifest | None = None
    if pointer is not None:
        current = read_manifest(storage, course, locale, pointer["version"])
        if current.files == records and current.catalog_sha256 == catalog_sha:
            return PublishResult(
                region,
                course,
                locale,
                current.version,
                False,
                f"unchanged since version {current.version}; nothing uploaded",
            )
    existing = {key.rsplit("/", 1)[-1] for key in storage.list("objects/sha256")}
    missing: dict[str, FileRecord] = {}
    for r in records:
        if r.sha256 not in existing:
            missing.setdefault(r.sha256, r)
    if dry_run:
        return PublishResult(
            region, course, locale, None, False,
            f"would upload {len(missing)} objects ({sum(r.size for r in missing.values())} bytes), a manifest and the pointer",
            dry_run=True, would_upload=tuple(sorted(r.path for r in missing.values())),
            uploaded_bytes=sum(r.size for r in missing.values()), uploaded_objects=len(missing),
        )  # fmt: skip
    uploaded_bytes = 0
    for sha, record in missing.items():
        storage.put(object_key(sha), bundle.files[record.path], content_type=record.content_type)
        uploaded_bytes += record.size
        if on_upload is not None:
            on_upload(record.path, record.size)
    listing = hashlib.sha256(
        "".join(f"{r.path}\0{r.sha256}\n" for r in records).encode() + catalog_sha.encode()
    ).hexdigest()
    version = version_id(now, listing, current.version if current else None)
    manifest = Manifest(
        course=course,
        locale=locale,
        version=version,
        source_revision=bundle.source_revision,
        catalog_sha256=catalog_sha,
        tool_version=__version__,
        created=now.isoformat(timespec="seconds"),
        files=records,
        stats=stats or {},
        qa=qa or {},
        pages_in_source_language=bundle.pages_in_source_language,
        omitted=bundle.omitted,
        previous=current.version if current else None,
        build_key=build_key,
    )
    manifest_bytes = manifest.to_bytes()
    # the same version (same second, same content) may be there already: that is fine
    with contextlib.suppress(PreconditionFailed):
        storage.put(
            manifest_key(course, locale, version), manifest_bytes, content_type="application/json", if_none_match=True
        )
    new_pointer = make_pointer(course, locale, version, manifest_bytes, current.version if current else None, now)
    swap_pointer(storage, course, locale, new_pointer, etag)
    writes = 2 + update_index(
        storage, region, course, locale, index_entry(new_pointer, manifest), now.isoformat(timespec="seconds")
    )
    pruned, deleted = prune(storage, course, locale, keep_versions, gc_grace_seconds)
    return PublishResult(
        region, course, locale, version, True,
        f"published version {version}: {len(missing)} new objects ({uploaded_bytes} bytes), {len(records) - len(missing)} reused",
        uploaded_objects=len(missing), uploaded_bytes=uploaded_bytes, reused_objects=len(records) - len(missing),
        metadata_writes=writes, pruned_versions=pruned, deleted_objects=deleted,
    )  # fmt: skip


def publish(
    config: Config,
    course: str,
    locale: str,
    *,
    region: str | None = None,
    source: str | None = None,
    dry_run: bool = False,
    on_upload: Callable[[str, int], None] | None = None,
    qa: dict[str, Any] | None = None,
) -> list[PublishResult]:
    """Build ``course`` in ``locale`` and publish it to each region serving the locale.

    ``qa`` is the QA summary each manifest records (the application layer
    gathers it from the partners' assignments)."""
    locale = check_locale(locale)
    workspace = Workspace(config.workspace_location)
    regions = [config.region(region)] if region else [r for r in config.regions if locale in r.locales]
    if not regions:
        raise ConfigError(f"no region serves {locale}; add one to the configuration or name one with --region")
    catalog = workspace.read_catalog(course, locale)
    location = source or workspace.source_of(course)
    if location is None:
        raise ConfigError(f"where are the pages of {course!r}? Extract it first or pass --source")
    src = open_source(location)
    stats = catalog_stats(catalog, course, locale)
    words_percent = stats.translated_words_percent
    stats_dict = stats.as_dict()
    full = stats
    qa = qa or {}
    results: list[PublishResult] = []
    bundles: dict[tuple[float, str, bool], Bundle] = {}
    revision = source_revision(src)
    catalog_sha = hashlib.sha256(write_po(catalog).encode("utf-8")).hexdigest()
    for r in regions:
        if locale not in r.locales:
            raise ConfigError(f"region {r.name!r} does not serve {locale} (its locales: {', '.join(r.locales)})")
        if r.require_review:  # only reviewed translations count and are published
            reviewed = catalog_stats(reviewed_only(catalog), course, locale)
            words_percent, stats = reviewed.translated_words_percent, reviewed
        else:
            stats = full
            words_percent = stats.translated_words_percent
        if words_percent < r.min_translated:
            results.append(
                PublishResult(
                    r.name,
                    course,
                    locale,
                    None,
                    False,
                    f"only {format_share(words_percent)} of words translated ({format_share(stats.translated_percent)} "
                    f"of entries); region {r.name} publishes from {r.min_translated:g} % of words",
                )
            )
            continue
        key = (r.page_threshold, r.below_threshold, r.require_review)
        storage = region_storage(r, config)
        inputs = build_key(revision, catalog_sha, locale, config.workspace.source_locale, *key[:2])
        if r.require_review:
            inputs = hashlib.sha256(f"{inputs}\0reviewed-only".encode()).hexdigest()
        pointer, _ = read_pointer(storage, course, locale)
        if pointer is not None and not dry_run:
            live = read_manifest(storage, course, locale, pointer["version"])
            if live.build_key == inputs:
                # same pages, same catalog, same tool, same policy: nothing to build or upload
                results.append(
                    PublishResult(
                        r.name,
                        course,
                        locale,
                        live.version,
                        False,
                        f"unchanged since version {live.version}; nothing uploaded",
                    )
                )
                continue
        if key not in bundles:
            bundles[key] = make_bundle(
                src, catalog, locale, source_locale=config.workspace.source_locale,
                page_threshold=r.page_threshold, below_threshold=r.below_threshold, revision=revision,
                require_review=r.require_review,
            )  # fmt: skip
        result = publish_bundle(
            storage,
            r.name,
            course,
            locale,
            bundles[key],
            catalog,
            stats=stats_dict,
            qa=qa,
            keep_versions=r.keep_versions,
            dry_run=dry_run,
            on_upload=on_upload,
            build_key=inputs,
            gc_grace_seconds=r.gc_grace_seconds,
        )
        results.append(result)
    return results
