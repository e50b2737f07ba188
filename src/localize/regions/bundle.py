"""Building a bundle: every file of a course for one locale, written to a
temporary folder (pages on the worker pool of ``localize build``, one page in
memory per worker; other files streamed), with the
per-page threshold applied (a page translated below it falls back to the source
page with a notice in the reader's language, or is left out)."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from localize import __version__
from localize.catalogs.review import reviewed_only
from localize.engine.pages import Lookup, localize_page, translations_of
from localize.errors import LocalizeError
from localize.locales import PSEUDO_LOCALE, html_lang, is_rtl
from localize.model import Catalog
from localize.storage.parallel import map_pages
from localize.storage.sources import MAX_PAGE_BYTES, Source, is_page
from localize.templating import render

CHUNK = 1 << 20


@dataclass(frozen=True)
class Built:
    sha256: str
    size: int


@dataclass(frozen=True)
class Bundle:
    """A built course ready to publish: its files in ``root`` (path -> sha256 and
    size in ``files``), plus how it was made. :meth:`close` removes the folder."""

    root: Path
    files: dict[str, Built]
    source_revision: str
    pages_in_source_language: tuple[str, ...]
    omitted: tuple[str, ...]
    unused: tuple[str, ...] = ()  # translations left out of the pages: their placeholders do not match

    @property
    def warnings(self) -> tuple[str, ...]:
        if not self.unused:
            return ()
        first = ", ".join(repr(m[:40]) for m in self.unused[:3]) + (", ..." if len(self.unused) > 3 else "")
        return (
            f"{len(self.unused)} translations not used, their placeholders do not match the source's ({first}): "
            "those texts stay in the source language; `localize check` on the catalog lists them",
        )

    def open(self, path: str) -> IO[bytes]:
        return (self.root / path).open("rb")

    def read(self, path: str) -> bytes:
        return (self.root / path).read_bytes()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Bundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    PSEUDO_LOCALE: "[Ţĥîš þàĝé îš ñöţ ýéţ àṽàîļàƀļé îñ ýöûŕ ļàñĝûàĝé.]",
}


def notice_html(locale: str) -> str:
    text = NOTICES.get(locale) or NOTICES.get(locale.split("_")[0]) or NOTICES["en"]
    lang = html_lang(locale) if (locale in NOTICES or locale.split("_")[0] in NOTICES) else "en"
    direction = "rtl" if is_rtl(locale) else "ltr"
    return render("notice.html", lang=lang, direction=direction, text=text).rstrip("\n")


def with_notice(data: bytes, path: str, locale: str, source_locale: str = "en") -> bytes:
    """The source page as it is, with the notice in the reader's language after ``<body>``."""
    return localize_page(
        data, path, {}, source_locale, source_locale=source_locale, after_body=notice_html(locale)
    ).data


def _stream_sha256(stream: IO[bytes], out: IO[bytes] | None = None) -> Built:
    h = hashlib.sha256()
    size = 0
    while block := stream.read(CHUNK):
        h.update(block)
        size += len(block)
        if out is not None:
            out.write(block)
    return Built(h.hexdigest(), size)


def source_revision(source: Source) -> str:
    """A hash over every file of a course (paths and bytes), streamed."""
    h = hashlib.sha256()
    for path in source.paths():
        with source.open(path) as f:
            digest = bytes.fromhex(_stream_sha256(f).sha256)
        h.update(path.encode() + b"\0" + digest)
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
    workdir: str | os.PathLike[str] | None = None,
    require_review: bool = False,
    notice: Callable[[str], str] | None = None,
    jobs: int | None = None,
) -> Bundle:
    """Build every file of the course for ``locale`` into a temporary folder (under
    ``workdir`` if given), applying the per-page threshold (a page with a smaller
    translated share falls back to the source page with a notice, or is left out).
    Pages are built on the same worker pool as ``localize build`` (``jobs``
    processes, default every core; one page in memory per worker); other files
    (and pages above MAX_PAGE_BYTES) are streamed through, hashed on the way. ``revision`` is the source's
    :func:`source_revision` when the caller has it already; ``require_review`` uses
    only reviewed translations (the rest falls back to the source). ``notice`` gives the
    attribution markup spliced after ``<body>`` of each translated page (by its path)."""
    revision = revision if revision is not None else source_revision(source)
    translations = translations_of(reviewed_only(catalog) if require_review else catalog)
    root = Path(tempfile.mkdtemp(prefix="localize-bundle-", dir=workdir))
    job = _BundleJob(str(root), translations, locale, source_locale, page_threshold, below_threshold, notice)
    files: dict[str, Built] = {}
    in_source: list[str] = []
    omitted: list[str] = []
    unused: set[str] = set()
    try:
        for path, built, kind, left_out in map_pages(_bundle_one, source, source.paths(), jobs, job):
            unused.update(left_out)
            if kind == "omitted":
                omitted.append(path)
                continue
            if kind == "notice":
                in_source.append(path)
            assert built is not None
            files[path] = built
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return Bundle(root, files, revision, tuple(in_source), tuple(omitted), tuple(sorted(unused)))


@dataclass(frozen=True, slots=True)
class _BundleJob:
    root: str
    translations: Lookup
    locale: str
    source_locale: str
    page_threshold: float
    below_threshold: str
    notice: Callable[[str], str] | None  # the attribution after <body> (an attribution.Notice: pickles)


def _bundle_one(source: Source, path: str, job: _BundleJob) -> tuple[str, Built | None, str, frozenset[str]]:
    """Build one file of a bundle into ``job.root`` (in a worker process when there are enough
    pages): (path, what was written, "file" | "page" | "notice" | "omitted", translations not used)."""
    root = Path(job.root)
    unused: set[str] = set()

    def write(data: bytes) -> Built:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return Built(hashlib.sha256(data).hexdigest(), len(data))

    with source.open(path) as stream:
        head = stream.read(MAX_PAGE_BYTES + 1) if is_page(path) else b""
        if not is_page(path) or len(head) > MAX_PAGE_BYTES:
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("wb") as out:
                out.write(head)
                rest = _stream_sha256(stream, out)
            return path, (Built(_file_sha256(target), len(head) + rest.size) if head else rest), "file", frozenset()
    data = head
    try:
        after = job.notice(path) if job.notice is not None else ""
        built = localize_page(
            data, path, job.translations, job.locale, source_locale=job.source_locale, after_body=after,
            documents_only=True, on_problem=lambda unit, _: unused.add(unit.msgid),
        )  # fmt: skip
    except LocalizeError:
        return path, write(data), "file", frozenset()  # an unreadable page is published as it is
    total = built.translated + built.fallback
    share = 100.0 * built.translated / total if total else 100.0
    if share < job.page_threshold and job.locale != job.source_locale:
        if job.below_threshold == "omit":
            return path, None, "omitted", frozenset(unused)
        return path, write(with_notice(data, path, job.locale, job.source_locale)), "notice", frozenset(unused)
    return path, write(built.data), "page", frozenset(unused)


def _file_sha256(path: Path) -> str:
    with path.open("rb") as f:
        return _stream_sha256(f).sha256
