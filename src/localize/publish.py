"""Publishing localized bundles to a region's object storage, versioned and atomic.

Layout under the region's location (an S3 prefix or a folder)::

    objects/sha256/AB/ABCD...            file contents, addressed by their sha256
    courses/COURSE/LL/versions/V.json    one manifest per published version
    courses/COURSE/LL/latest.json        the pointer: which version is live
    index.json                           every course and locale with its live version

A publish uploads the objects the region does not have yet, then the manifest,
then swaps the pointer with a conditional write (If-Match on the pointer's ETag,
If-None-Match for the first version), so two publishers cannot both win and a
reader never sees a pointer to an incomplete version. Objects are shared across
versions, locales and courses: an unchanged page or image is never uploaded
twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mimetypes
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from localize import __version__
from localize.build import build_page, is_rtl, translations_of
from localize.catalogs import catalog_stats
from localize.config import Config, Region
from localize.errors import ConfigError, LocalizeError, StorageError
from localize.htmltree import find_element, parse
from localize.model import Catalog
from localize.po import write_po
from localize.sources import Source, is_page, open_source
from localize.storage import PreconditionFailed, Storage, open_storage
from localize.workspace import Workspace

__all__ = [
    "Bundle",
    "FileRecord",
    "Manifest",
    "PublishResult",
    "content_type",
    "make_bundle",
    "manifest_key",
    "notice_html",
    "object_key",
    "pointer_key",
    "prune",
    "publish",
    "publish_bundle",
    "read_manifest",
    "read_pointer",
    "region_storage",
    "rollback",
    "versions",
]

SCHEMA = 1


def object_key(sha256: str) -> str:
    return f"objects/sha256/{sha256[:2]}/{sha256}"


def pointer_key(course: str, locale: str) -> str:
    return f"courses/{course}/{locale}/latest.json"


def manifest_key(course: str, locale: str, version: str) -> str:
    return f"courses/{course}/{locale}/versions/{version}.json"


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def content_type(path: str) -> str:
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return (
        f"{guessed}; charset=utf-8"
        if guessed in ("text/html", "text/css", "text/plain", "application/json")
        else guessed
    )


@dataclass(frozen=True)
class FileRecord:
    path: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Manifest:
    course: str
    locale: str
    version: str
    source_revision: str
    catalog_sha256: str
    tool_version: str
    created: str
    files: tuple[FileRecord, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    qa: dict[str, Any] = field(default_factory=dict)
    pages_in_source_language: tuple[str, ...] = ()
    omitted: tuple[str, ...] = ()
    previous: str | None = None
    build_key: str = ""
    schema: int = SCHEMA

    def to_bytes(self) -> bytes:
        return _json(asdict(self))

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        raw = json.loads(data)
        raw["files"] = tuple(FileRecord(**f) for f in raw["files"])
        raw["pages_in_source_language"] = tuple(raw.get("pages_in_source_language", ()))
        raw["omitted"] = tuple(raw.get("omitted", ()))
        return cls(**raw)

    def file_map(self) -> dict[str, FileRecord]:
        return {f.path: f for f in self.files}


@dataclass(frozen=True)
class Bundle:
    """A built course ready to publish: path -> bytes, plus how it was made."""

    files: dict[str, bytes]
    source_revision: str
    pages_in_source_language: tuple[str, ...]
    omitted: tuple[str, ...]


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


NOTICES = {
    "en": "This page is not yet available in your language. You are reading the original.",
    "es": "Esta página todavía no está disponible en español. Está leyendo la versión original.",
    "ar": "هذه الصفحة غير متوفرة بعد باللغة العربية. أنت تقرأ النص الأصلي.",
    "fr": "Cette page n’est pas encore disponible en français. Vous lisez la version originale.",
    "pt": "Esta página ainda não está disponível em português. Você está lendo a versão original.",
    "sw": "Ukurasa huu bado haupatikani kwa Kiswahili. Unasoma toleo la asili.",
    "zh": "本页尚无中文版本。您正在阅读原文。",
    "hi": "यह पृष्ठ अभी हिंदी में उपलब्ध नहीं है। आप मूल पाठ पढ़ रहे हैं।",
    "ru": "Эта страница пока недоступна на русском языке. Вы читаете оригинал.",
    "fa": "این صفحه هنوز به فارسی در دسترس نیست. شما متن اصلی را می‌خوانید.",
    "ur": "یہ صفحہ ابھی اردو میں دستیاب نہیں ہے۔ آپ اصل متن پڑھ رہے ہیں۔",
    "tr": "Bu sayfa henüz Türkçe olarak mevcut değil. Orijinal metni okuyorsunuz.",
    "id": "Halaman ini belum tersedia dalam bahasa Indonesia. Anda membaca versi aslinya.",
    "qps-ploc": "[Ţĥîš þàĝé îš ñöţ ýéţ àṽàîļàƀļé îñ ýöûŕ ļàñĝûàĝé.]",
}


def notice_html(locale: str) -> str:
    text = NOTICES.get(locale) or NOTICES.get(locale.split("_")[0]) or NOTICES["en"]
    lang = locale.replace("_", "-") if (locale in NOTICES or locale.split("_")[0] in NOTICES) else "en"
    direction = "rtl" if is_rtl(locale) else "ltr"
    return (
        f'<div class="localize-notice" role="note" lang="{lang}" dir="{direction}" '
        'style="background:#fff4ce;border-bottom:1px solid #e0c060;padding:.6em 1em;font:1rem/1.4 sans-serif">'
        f"{text}</div>"
    )


def _with_notice(data: bytes, path: str, locale: str) -> bytes:
    from localize.encoding import decode_page, encode_page

    decoded = decode_page(data, path)
    root = parse(decoded.text)
    body = find_element(root, "body")
    at = body.tag_end if body is not None else 0
    text = decoded.text[:at] + notice_html(locale) + decoded.text[at:]
    return encode_page(decoded, text)


def source_revision(source: Source) -> str:
    """A hash over every file of a course (paths and bytes)."""
    h = hashlib.sha256()
    for path in source.paths():
        h.update(path.encode() + b"\0" + hashlib.sha256(source.read(path)).digest())
    return h.hexdigest()


def build_key(
    revision: str, catalog_sha: str, locale: str, source_locale: str, page_threshold: float, below: str
) -> str:
    """What a bundle is built from: equal keys give byte-identical bundles."""
    parts = (revision, catalog_sha, locale, source_locale, f"{page_threshold:g}", below, __version__)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def make_bundle(
    source: Source,
    catalog: Catalog,
    locale: str,
    *,
    source_locale: str = "en",
    page_threshold: float = 0.0,
    below_threshold: str = "source",
    revision: str | None = None,
) -> Bundle:
    """Build every file of the course for ``locale`` in memory, applying the
    per-page threshold (a page with a smaller translated share falls back to the
    source page with a notice, or is left out). ``revision`` is the source's
    :func:`source_revision` when the caller has it already."""
    revision = revision if revision is not None else source_revision(source)
    translations = translations_of(catalog)
    files: dict[str, bytes] = {}
    in_source: list[str] = []
    omitted: list[str] = []
    for path in source.paths():
        data = source.read(path)
        if not is_page(path):
            files[path] = data
            continue
        try:
            built, translated, fallback = build_page(data, path, translations, locale, source_locale=source_locale)
        except LocalizeError:
            files[path] = data  # an unreadable page is published as it is
            continue
        total = translated + fallback
        share = 100.0 * translated / total if total else 100.0
        if share < page_threshold and locale != source_locale:
            if below_threshold == "omit":
                omitted.append(path)
                continue
            in_source.append(path)
            files[path] = _with_notice(data, path, locale)
        else:
            files[path] = built
    return Bundle(files, revision, tuple(in_source), tuple(omitted))


def read_pointer(storage: Storage, course: str, locale: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        data, etag = storage.read_with_etag(pointer_key(course, locale))
    except FileNotFoundError:
        return None, None
    return json.loads(data), etag


def read_manifest(storage: Storage, course: str, locale: str, version: str) -> Manifest:
    return Manifest.from_bytes(storage.read_bytes(manifest_key(course, locale, version)))


def _update_index(
    storage: Storage, region: str, course: str, locale: str, entry: dict[str, Any] | None, now: str
) -> int:
    """Read-modify-write the region index under compare-and-swap; returns writes done."""
    for _ in range(10):
        try:
            data, etag = storage.read_with_etag("index.json")
            index = json.loads(data)
        except FileNotFoundError:
            index, etag = {"region": region, "courses": {}}, None
        courses = index.setdefault("courses", {})
        if entry is None:
            courses.get(course, {}).pop(locale, None)
        else:
            courses.setdefault(course, {})[locale] = entry
        index["updated"] = now
        try:
            if etag is None:
                storage.put("index.json", _json(index), content_type="application/json", if_none_match=True)
            else:
                storage.put("index.json", _json(index), content_type="application/json", if_match=etag)
            return 1
        except PreconditionFailed:
            continue
    raise StorageError("the region index kept changing under us; publish again", path=storage.describe("index.json"))


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
    new_pointer = _pointer(course, locale, version, manifest_bytes, current.version if current else None, now)
    _swap_pointer(storage, course, locale, new_pointer, etag)
    writes = 2 + _update_index(
        storage, region, course, locale, _index_entry(new_pointer, manifest), now.isoformat(timespec="seconds")
    )
    pruned, deleted = prune(storage, course, locale, keep_versions, gc_grace_seconds)
    return PublishResult(
        region, course, locale, version, True,
        f"published version {version}: {len(missing)} new objects ({uploaded_bytes} bytes), {len(records) - len(missing)} reused",
        uploaded_objects=len(missing), uploaded_bytes=uploaded_bytes, reused_objects=len(records) - len(missing),
        metadata_writes=writes, pruned_versions=pruned, deleted_objects=deleted,
    )  # fmt: skip


def _pointer(
    course: str, locale: str, version: str, manifest_bytes: bytes, previous: str | None, now: datetime
) -> dict[str, Any]:
    """The live pointer: which version, its manifest and that manifest's hash (pull checks it)."""
    return {
        "course": course,
        "locale": locale,
        "version": version,
        "manifest": manifest_key(course, locale, version),
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
        "previous": previous,
        "updated": now.isoformat(timespec="seconds"),
    }


def _index_entry(pointer: dict[str, Any], manifest: Manifest) -> dict[str, Any]:
    return {
        "version": pointer["version"],
        "manifest": pointer["manifest"],
        "updated": pointer["updated"],
        "translated_percent": manifest.stats.get("translated_percent"),
        "files": len(manifest.files),
    }


def _swap_pointer(storage: Storage, course: str, locale: str, pointer: dict[str, Any], etag: str | None) -> None:
    key = pointer_key(course, locale)
    try:
        if etag is None:
            storage.put(key, _json(pointer), content_type="application/json", if_none_match=True)
        else:
            storage.put(key, _json(pointer), content_type="application/json", if_match=etag)
    except PreconditionFailed:
        raise PreconditionFailed(
            "another publisher changed the live version meanwhile; nothing was switched, publish again",
            path=storage.describe(key),
        ) from None


def version_id(now: datetime, listing: str, after: str | None) -> str:
    """A version id that sorts after ``after`` (time to the millisecond, then a content hash)."""
    stamp = now.strftime("%Y%m%dT%H%M%S") + f".{now.microsecond // 1000:03d}Z"
    if after is not None and stamp <= after.split("-", 1)[0]:
        # the clock did not move on (or went back): continue from the previous version
        base = datetime.strptime(after.split("-", 1)[0], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
        bumped = base + timedelta(milliseconds=1)
        stamp = bumped.strftime("%Y%m%dT%H%M%S") + f".{bumped.microsecond // 1000:03d}Z"
    return f"{stamp}-{listing[:8]}"


def versions(storage: Storage, course: str, locale: str) -> list[str]:
    prefix = f"courses/{course}/{locale}/versions"
    return sorted(key.rsplit("/", 1)[-1].removesuffix(".json") for key in storage.list(prefix) if key.endswith(".json"))


def prune(
    storage: Storage, course: str, locale: str, keep: int, grace_seconds: float = 3600.0
) -> tuple[tuple[str, ...], int]:
    """Drop versions beyond the newest ``keep`` (never the live or previous one),
    then the objects no kept version of any course in the region uses and that
    are older than ``grace_seconds`` (younger ones may belong to a publish
    still under way elsewhere)."""
    pointer, _ = read_pointer(storage, course, locale)
    protected = {pointer.get("version"), pointer.get("previous")} if pointer else set()
    all_versions = versions(storage, course, locale)
    doomed = [v for v in all_versions[: max(0, len(all_versions) - keep)] if v not in protected]
    for v in doomed:
        storage.delete(manifest_key(course, locale, v))
    if not doomed:
        return (), 0
    used: set[str] = set()
    for key in storage.list("courses"):
        if "/versions/" in key and key.endswith(".json"):
            used.update(f.sha256 for f in Manifest.from_bytes(storage.read_bytes(key)).files)
    deleted = 0
    cutoff = time.time() - grace_seconds
    for key, modified in storage.list_with_times("objects/sha256"):
        if key.rsplit("/", 1)[-1] not in used and modified <= cutoff:
            storage.delete(key)
            deleted += 1
    return tuple(doomed), deleted


def rollback(storage: Storage, region: str, course: str, locale: str, to: str | None = None) -> tuple[str, str]:
    """Point the live version back (default: the previous one). Returns (from, to)."""
    pointer, etag = read_pointer(storage, course, locale)
    if pointer is None:
        raise ConfigError(f"{course}/{locale} has never been published in region {region!r}")
    target = to or pointer.get("previous")
    if not target:
        raise ConfigError(
            f"{course}/{locale} in {region!r} has no previous version to roll back to; name one with --to"
        )
    available = versions(storage, course, locale)
    if target not in available:
        raise ConfigError(
            f"no version {target!r} of {course}/{locale} in {region!r} (versions: {', '.join(available) or 'none'})"
        )
    manifest_bytes = storage.read_bytes(manifest_key(course, locale, target))
    new_pointer = _pointer(course, locale, target, manifest_bytes, pointer["version"], datetime.now(UTC))
    _swap_pointer(storage, course, locale, new_pointer, etag)
    _update_index(
        storage,
        region,
        course,
        locale,
        _index_entry(new_pointer, Manifest.from_bytes(manifest_bytes)),
        new_pointer["updated"],
    )
    return pointer["version"], target


def region_storage(region: Region, config: Config | None = None) -> Storage:
    location = config.resolve(region.location) if config is not None else region.location
    return open_storage(location, endpoint_url=region.endpoint_url)


def _qa_summary(workspace: Workspace, course: str, locale: str) -> dict[str, Any]:
    from localize.routing import load_assignments

    assignments = load_assignments(workspace, course=course, locale=locale)
    if not assignments:
        return {"assignments": 0}
    last = assignments[-1]
    returns = [r for a in assignments for r in a.returns]
    return {
        "assignments": len(assignments),
        "last_kit": last.kit,
        "last_state": last.state,
        "returns": len(returns),
        "accepted": sum(int(r.get("accepted", 0)) for r in returns),
        "rejected": sum(int(r.get("rejected", 0)) for r in returns),
        "conflicts": sum(int(r.get("conflicts", 0)) for r in returns),
    }


def publish(
    config: Config,
    course: str,
    locale: str,
    *,
    region: str | None = None,
    source: str | None = None,
    dry_run: bool = False,
    on_upload: Callable[[str, int], None] | None = None,
) -> list[PublishResult]:
    """Build ``course`` in ``locale`` and publish it to each region serving the locale."""
    from localize.catalogs import check_locale

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
    words_percent = 100.0 * stats.translated_words / stats.words if stats.words else 100.0
    stats_dict = stats.as_dict() | {"translated_words_percent": round(words_percent, 1)}
    qa = _qa_summary(workspace, course, locale)
    results: list[PublishResult] = []
    bundles: dict[tuple[float, str], Bundle] = {}
    revision = source_revision(src)
    catalog_sha = hashlib.sha256(write_po(catalog).encode("utf-8")).hexdigest()
    for r in regions:
        if locale not in r.locales:
            raise ConfigError(f"region {r.name!r} does not serve {locale} (its locales: {', '.join(r.locales)})")
        if words_percent < r.min_translated:
            results.append(
                PublishResult(
                    r.name,
                    course,
                    locale,
                    None,
                    False,
                    f"only {words_percent:.1f}% translated; region {r.name} publishes from {r.min_translated:g}%",
                )
            )
            continue
        key = (r.page_threshold, r.below_threshold)
        storage = region_storage(r, config)
        inputs = build_key(revision, catalog_sha, locale, config.workspace.source_locale, *key)
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
        if result.published:
            _publish_dashboard(storage, workspace, config)
    return results


def _publish_dashboard(storage: Storage, workspace: Workspace, config: Config) -> None:
    """The coordinators' dashboard, beside the region index."""
    from localize.report import collect, render_dashboard

    page = render_dashboard(collect(workspace, config))
    storage.put("report.html", page.encode("utf-8"), content_type="text/html; charset=utf-8")
