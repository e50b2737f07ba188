"""The offline preview a kit carries: the course pages it covers and ``preview.html``.

When ``route`` is given the course's source, the kit gets::

    pages/PATH                 every page with at least one text of the kit, byte for byte
    pages/ASSET                the stylesheets, images and fonts those pages link to
                               (each at most 2 MB, 20 MB in all; the rest is left out)
    preview.html               one self-contained file: plain HTML and JavaScript, no network

``preview.html`` embeds a page map (:mod:`localize.engine.pagemap`: each page split by the
engine's own segmentation, with each placeholder's original markup) and the script
``templates/kit_preview.js``. Opened from disk, it reads the translator's .po or .xlf
file, shows each page with the translations in place (escaped; only placeholder markup
comes back), marks untranslated, fuzzy and broken units, and lists the problems it finds.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import unquote, urlsplit

from localize.engine.encoding import decode_page
from localize.engine.htmltree import parse
from localize.engine.pagemap import EntryIndex, page_parts
from localize.engine.segments import find_units
from localize.errors import LocalizeError
from localize.locales import html_lang, is_rtl, language_name
from localize.model import Catalog
from localize.storage.sources import Source, is_page
from localize.templating import render

__all__ = [
    "ASSET_SUFFIXES",
    "MAX_ASSETS_BYTES",
    "MAX_ASSET_BYTES",
    "MAX_PAGES_BYTES",
    "MAX_PAGE_BYTES",
    "KitPreview",
    "kit_preview",
]

ASSET_SUFFIXES = (".css", ".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".ico", ".woff", ".woff2", ".ttf", ".otf")
MAX_ASSET_BYTES = 2 * 1024 * 1024
MAX_ASSETS_BYTES = 20 * 1024 * 1024
# a page is in the kit twice (its bytes, and its texts in preview.html): a page the source makes
# huge must not make the kit huge (MAX_PAGES_BYTES counts both)
MAX_PAGE_BYTES = 5 * 1024 * 1024
MAX_PAGES_BYTES = 50 * 1024 * 1024
_LINK = re.compile(r"""(?:src|href)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))|url\(\s*['"]?([^'")]+)""", re.I)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title", re.I | re.S)


@dataclass(frozen=True)
class KitPreview:
    files: dict[str, bytes]  # path inside the kit -> bytes
    pages: int
    assets: int
    assets_left_out: int
    pages_left_out: int = 0  # pages with texts of the kit over MAX_PAGE_BYTES, or past MAX_PAGES_BYTES in all


def _links(text: str, path: str) -> list[str]:
    """Course-relative paths that ``text`` (a page or stylesheet at ``path``) refers to."""
    out: list[str] = []
    for m in _LINK.finditer(text):
        url = next(g for g in m.groups() if g is not None).strip()
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
            continue
        target = posixpath.normpath(posixpath.join(posixpath.dirname(path), unquote(parts.path)))
        if not target.startswith("../") and target != "..":
            out.append(target)
    return out


def _read_limited(source: Source, path: str, limit: int = MAX_ASSET_BYTES) -> bytes | None:
    with source.open(path) as f:
        data = f.read(limit + 1)
    return data if len(data) <= limit else None


def _script() -> str:
    """The package's own static script (the template marks it safe: it is not data)."""
    js = resources.files("localize").joinpath("templates/kit_preview.js").read_text(encoding="utf-8")
    assert "</script" not in js.lower()
    return js


def _json_for_script(value: Any) -> str:
    """JSON that cannot end the <script> element it sits in (every <, > and & escaped; the
    template marks it safe)."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def kit_preview(source: Source, catalog: Catalog, *, course: str, locale: str, file: str) -> KitPreview:
    """The pages of ``source`` that hold texts of ``catalog`` (the kit), their assets and
    ``preview.html``. Pages that cannot be read are left out (extract reported them)."""
    wanted = {e.key for e in catalog.entries if not e.obsolete}
    index = EntryIndex()
    pages: list[dict[str, Any]] = []
    files: dict[str, bytes] = {}
    linked: list[str] = []
    all_paths = set(source.paths())
    pages_total = pages_left_out = 0
    for path in sorted((p for p in all_paths if is_page(p)), key=lambda p: (p != "index.html", p)):
        try:
            page_or_none = _read_limited(source, path, MAX_PAGE_BYTES)
            if page_or_none is None or pages_total + len(page_or_none) > MAX_PAGES_BYTES:
                pages_left_out += 1  # counted whether or not it holds texts of the kit: not parsed
                continue
            data = page_or_none
            text = decode_page(data, path).text
            units = find_units(text, parse(text))
        except (LocalizeError, OSError):
            continue
        if not any((u.msgctxt, u.msgid) in wanted for u in units):
            continue
        title = _TITLE.search(text)
        parts = page_parts(text, units, index)
        # the page is in the kit twice: its bytes and its parts in preview.html (escaped for a
        # <script>: markup-heavy text grows up to six-fold there), both count toward the cap
        cost = len(data) + len(_json_for_script(parts))
        if pages_total + cost > MAX_PAGES_BYTES:
            pages_left_out += 1
            continue
        pages.append({"path": path, "title": " ".join(title.group(1).split())[:120] if title else "", "parts": parts})
        files[f"pages/{path}"] = data
        pages_total += cost
        linked += _links(text, path)
    total, left_out, seen = 0, 0, set(files)
    queue = sorted(set(linked))
    while queue:
        path = queue.pop(0)
        if f"pages/{path}" in seen or path not in all_paths or not path.lower().endswith(ASSET_SUFFIXES):
            continue
        seen.add(f"pages/{path}")
        data_or_none = _read_limited(source, path)
        if data_or_none is None or total + len(data_or_none) > MAX_ASSETS_BYTES:
            left_out += 1
            continue
        total += len(data_or_none)
        files[f"pages/{path}"] = data_or_none
        if path.lower().endswith(".css"):  # a stylesheet's own images and fonts
            queue += sorted(set(_links(data_or_none.decode("utf-8", "replace"), path)))
    page_map = {
        "lang": html_lang(locale),
        "dir": "rtl" if is_rtl(locale) else "ltr",
        "entries": index.entries(),
        "pages": pages,
    }
    files["preview.html"] = render(
        "kit_preview.html",
        course=course,
        language=language_name(locale),
        file=file,
        page_map=_json_for_script(page_map),
        script=_script(),
    ).encode("utf-8")
    return KitPreview(files, len(pages), len(files) - len(pages) - 1, left_out, pages_left_out)
