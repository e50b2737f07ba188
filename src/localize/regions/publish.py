"""Publishing a course: build its bundle, upload what the region lacks, swap the pointer.

Objects are shared across versions, locales and courses: an unchanged page or
image is never uploaded twice. A course whose pages, catalog, tool version and
region policy are unchanged is detected before anything is built.
"""

from __future__ import annotations

import contextlib
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from localize import __version__
from localize.catalogs.po import write_po
from localize.catalogs.review import reviewed_only
from localize.catalogs.stats import catalog_stats, format_share
from localize.catalogs.workspace import Workspace
from localize.config import Config
from localize.errors import ConfigError, IntegrityError, LocalizeError, PreconditionFailed, TransientStorageError
from localize.locales import check_locale
from localize.model import Catalog
from localize.regions.attribution import course_credits, region_notice
from localize.regions.bundle import Bundle, build_key, make_bundle, source_revision
from localize.regions.checkpoints import checkpoint
from localize.regions.gc import LEASE_TTL_SECONDS, prune, wait_for_gc, write_lease
from localize.regions.keys import Signer, manifest_signature_key
from localize.regions.layout import (
    content_type,
    ensure_index,
    index_entry,
    make_pointer,
    older_spelling,
    pending_version,
    read_manifest,
    read_pointer,
    region_storage,
    update_index,
    version_id,
)
from localize.regions.objects import existing_objects, plan_records
from localize.regions.schema import MAX_MANIFEST_BYTES, FileRecord, Manifest, manifest_key, read_limited
from localize.regions.signing import region_signer, signed_live, signed_manifest, swap_signed
from localize.regions.uploads import damaged_objects, upload_missing
from localize.storage.base import Storage
from localize.storage.courses import open_source

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
    uploaded_bytes: int = 0  # the new objects' file sizes
    stored_bytes: int = 0  # what went up: the new objects as stored (compressed when that saved bytes)
    reused_objects: int = 0
    metadata_writes: int = 0
    pruned_versions: tuple[str, ...] = ()
    deleted_objects: int = 0
    dry_run: bool = False
    would_upload: tuple[str, ...] = ()
    error: LocalizeError | None = None  # this region failed (the others went on); ``message`` says why
    warnings: tuple[str, ...] = ()  # e.g. no notice template for the locale: the English one is used


def _live_manifest(storage: Storage, course: str, locale: str, version: str) -> Manifest:
    """The live version's manifest; a missing one is an IntegrityError, not a traceback."""
    try:
        return read_manifest(storage, course, locale, version)
    except FileNotFoundError:
        raise IntegrityError(
            f"the manifest of live version {version} is missing; repair the region or roll back",
            path=storage.describe(manifest_key(course, locale, version)),
        ) from None


def _unchanged(
    region: str, course: str, locale: str, version: str, pruned: tuple[str, ...], deleted: int
) -> PublishResult:
    message = f"unchanged since version {version}; nothing uploaded"
    return PublishResult(
        region, course, locale, version, False, message, pruned_versions=pruned, deleted_objects=deleted
    )


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
    signer: Signer | None = None,
    compress: bool = True,
    repair: bool = False,
) -> PublishResult:
    """Upload what is missing, write the manifest, swap the pointer, prune. With ``repair``, every
    object of the live version is read and hashed first; one the region lacks or holds with other
    bytes (deleted or swapped in the bucket) is uploaded again, in a new version.

    Steps (each ends at a :func:`checkpoint`): write a lease naming every object
    of the new version, wait for any garbage collector holding the region's
    lock, list what the region has, stream up what it lacks, write the
    manifest (or adopt the one an interrupted run of the same content wrote),
    swap the pointer, update the index, drop the lease, prune. With ``signer``, the manifest's
    and the pointer's signatures are written before each of them, and a live version that
    this key did not sign is published anew rather than reported unchanged."""
    now = now or datetime.now(UTC)
    catalog_sha = hashlib.sha256(write_po(catalog).encode("utf-8")).hexdigest()
    records = tuple(
        FileRecord(path, built.sha256, built.size, content_type(path)) for path, built in sorted(bundle.files.items())
    )
    pointer, etag = read_pointer(storage, course, locale)
    current: Manifest | None = None
    damaged: set[str] = set()
    if pointer is not None:
        current = _live_manifest(storage, course, locale, pointer["version"])
        damaged = damaged_objects(storage, current.files) if repair else set()
        if not damaged and (
            [f.content() for f in current.files] == [r.content() for r in records]
            and current.catalog_sha256 == catalog_sha
            and pointer.get("region") == region  # (a pointer of an earlier localize names none)
            and (signer is None or signed_live(storage, signer, course, locale))
        ):
            if not dry_run:
                ensure_index(storage, region, course, locale, pointer, current, signer)
            pruned, deleted = ((), 0) if dry_run else prune(storage, course, locale, keep_versions, gc_grace_seconds)
            return _unchanged(region, course, locale, current.version, pruned, deleted)
    started = time.monotonic()
    lease = None if dry_run else write_lease(storage, course, locale, {r.sha256 for r in records})
    try:
        checkpoint("publish:lease-written")
        if not dry_run:
            wait_for_gc(storage)
        known = {f.sha256: f for f in current.files if f.sha256 not in damaged} if current else {}
        existing = existing_objects(storage, [r for r in records if r.sha256 not in known])
        existing -= {name for name in existing if name.removesuffix(".gz") in damaged}
        planned, missing = plan_records(records, existing, known, storage, compress)
        checkpoint("publish:reuse-checked")
        if dry_run:
            return PublishResult(
                region, course, locale, None, False,
                f"would upload {len(missing)} objects ({sum(r.size for r in missing.values())} bytes), a manifest and the pointer",
                dry_run=True, would_upload=tuple(sorted(r.path for r in missing.values())),
                uploaded_bytes=sum(r.size for r in missing.values()), uploaded_objects=len(missing),
            )  # fmt: skip
        for f in current.files if current and damaged else ():
            if f.sha256 in damaged:
                storage.delete(f.key)  # a swapped object is replaced, never kept by a write-if-absent
        uploaded_bytes, stored_bytes = upload_missing(
            storage, bundle, missing, on_upload, compress, str(bundle.root.parent)
        )
        stored_as = {sha: (r.encoding, r.stored_size) for sha, r in missing.items()}
        records = tuple(FileRecord(*r.content(), *stored_as[r.sha256]) if r.sha256 in stored_as else r for r in planned)
        checkpoint("publish:objects-uploaded")
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
        adopted = pending_version(storage, course, locale, current.version if current else None, manifest)
        if adopted is not None and signer is not None and not signed_manifest(storage, signer, course, locale, adopted):
            adopted = None  # not ours to sign: a bucket's bytes are not trusted
        if adopted is not None:
            # an interrupted run of this very content wrote its manifest: finish that version
            version = adopted
            manifest_bytes = read_limited(storage, manifest_key(course, locale, version), MAX_MANIFEST_BYTES)
            manifest = Manifest.from_bytes(
                manifest_bytes, where=storage.describe(manifest_key(course, locale, version))
            )
        else:
            manifest_bytes = manifest.to_bytes()
            if signer is not None:  # before the manifest: a manifest that is there is signed
                storage.put(
                    manifest_signature_key(course, locale, version),
                    signer.sign(manifest_bytes),
                    content_type="application/json",
                )
            # the same version (same millisecond, same content) may be there already: that is fine
            with contextlib.suppress(PreconditionFailed):
                storage.put(
                    manifest_key(course, locale, version),
                    manifest_bytes,
                    content_type="application/json",
                    if_none_match=True,
                )
        checkpoint("publish:manifest-written")
        if time.monotonic() - started > LEASE_TTL_SECONDS / 2:
            raise TransientStorageError(
                "this publish took so long that its lease may have expired; nothing was switched, publish again",
                path=storage.describe(manifest_key(course, locale, version)),
            )
        new_pointer = make_pointer(
            course, locale, version, manifest_bytes, current.version if current else None, now,
            pointer["updated"] if pointer is not None else None, region,
            trusted=pointer is not None and signer is not None and signed_live(storage, signer, course, locale),
        )  # fmt: skip
        swap_signed(storage, course, locale, new_pointer, etag, signer)
        checkpoint("publish:pointer-swapped")
        entry, stamp = index_entry(new_pointer, manifest), now.isoformat(timespec="seconds")
        writes = 2 + update_index(storage, region, course, locale, entry, stamp, signer)
        checkpoint("publish:index-updated")
    finally:
        if lease is not None:
            storage.delete(lease)  # the manifest names the objects from here on (or the publish failed)
    pruned, deleted = prune(storage, course, locale, keep_versions, gc_grace_seconds)
    return PublishResult(
        region, course, locale, version, True,
        f"published version {version}: {len(missing)} new object{'s' if len(missing) != 1 else ''} "
        f"({uploaded_bytes} bytes, {stored_bytes} stored), "
        f"{len(records) - len(missing)} reused",
        uploaded_objects=len(missing), uploaded_bytes=uploaded_bytes, reused_objects=len(records) - len(missing),
        stored_bytes=stored_bytes,
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
    jobs: int | None = None,
    repair: bool = False,
) -> list[PublishResult]:
    """Build ``course`` in ``locale`` and publish it to each region serving the locale
    (pages on ``jobs`` worker processes, default one per core, as ``localize build``).

    A region that fails (a damaged pointer, an unreachable bucket) gets a result
    with ``error`` set and ``published`` False; the other regions are published.

    ``qa`` is the QA summary each manifest records (the application layer
    gathers it from the partners' assignments)."""
    locale = check_locale(locale)
    workspace = Workspace(config.workspace_location)
    regions = [config.region(region)] if region else [r for r in config.regions if locale in r.locales]
    if not regions:
        raise ConfigError(f"no region serves {locale}: add it to a region's locales (or publish --region R)")
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
    bundles: dict[tuple[float, str, bool, str], Bundle] = {}
    revision = source_revision(src)
    catalog_sha = hashlib.sha256(write_po(catalog).encode("utf-8")).hexdigest()
    credits = course_credits(config, workspace, catalog, course, locale, src)
    for r in regions:  # a usage error: refused before any region is published
        r.check_serves(locale)
    try:
        for r in regions:
            if r.require_review:  # only reviewed translations count and are published
                stats = catalog_stats(reviewed_only(catalog), course, locale)
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
                        f"only {format_share(words_percent)} of words {'reviewed' if r.require_review else 'translated'} "
                        f"({format_share(stats.translated_percent)} of entries); region {r.name} publishes "
                        + ("reviewed translations only, " if r.require_review else "")
                        + f"from {r.min_translated:g} % of words",
                    )
                )
                continue
            try:
                notice = region_notice(config, r, credits, locale)
                attribution = notice.fingerprint if notice else ""
                key = (r.page_threshold, r.below_threshold, r.require_review, attribution)
                storage = region_storage(r, config)
                inputs = build_key(revision, catalog_sha, locale, config.workspace.source_locale, *key[:2])
                review = "\0reviewed-only" if r.require_review else ""
                inputs = hashlib.sha256(f"{inputs}{review}\0{attribution}".encode()).hexdigest()
                signer = region_signer(r, config)
                pointer, _ = read_pointer(storage, course, locale)
                if pointer is not None and not dry_run and not repair:
                    live = _live_manifest(storage, course, locale, pointer["version"])
                    if (
                        live.build_key == inputs
                        and pointer.get("region") == r.name
                        and (signer is None or signed_live(storage, signer, course, locale))
                    ):
                        # same pages, same catalog, same tool, same policy: nothing to build or upload
                        # (but finish the index update and prune an interrupted run may have left)
                        ensure_index(storage, r.name, course, locale, pointer, live, signer)
                        pruned, deleted = prune(storage, course, locale, r.keep_versions, r.gc_grace_seconds)
                        results.append(_unchanged(r.name, course, locale, live.version, pruned, deleted))
                        continue
                if key not in bundles:
                    bundles[key] = make_bundle(
                        src, catalog, locale, source_locale=config.workspace.source_locale,
                        page_threshold=r.page_threshold, below_threshold=r.below_threshold, revision=revision,
                        require_review=r.require_review, notice=notice, jobs=jobs,
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
                    signer=signer,
                    compress=r.compress,
                    repair=repair,
                )
                moved = () if pointer else older_spelling(storage, course, locale, publishing=True)  # a first publish
                result = replace(result, warnings=(notice.warnings if notice else ()) + bundles[key].warnings + moved)
            except LocalizeError as e:  # this region only: the others are published all the same
                result = PublishResult(r.name, course, locale, None, False, f"not published: {e}", error=e)
            results.append(result)
    finally:
        for bundle in bundles.values():
            bundle.close()
    return results
