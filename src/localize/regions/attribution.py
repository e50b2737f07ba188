"""The attribution notice every translated page of a region carries.

OCW material is CC BY-NC-SA: a derivative must credit the original and say that it was changed.
Each page a region publishes in a locale other than the source one gets, right after
``<body>``, a notice naming the original course and its URL, its licence, the translating
partners, that the page was translated and when, and a link to the page in the source language.
Untranslated fallback pages keep their own notice (:func:`localize.regions.bundle.notice_html`).

The wording is a template per region and locale: ``notice_templates = "DIR"`` names a folder of
``notice.LL.html`` (or ``notice.LL_CC.html``) files. A template is written by an operator but
treated as untrusted: it is rendered in Jinja2's sandbox, with autoescaping, no loader (no
``include``, no file access), and bounded output; a template that does not compile or render is
a :class:`~localize.errors.ConfigError` naming the file and the line. A locale without a
template gets the built-in English one, and publishing says so. Every value comes from a
catalog, a page or the configuration, and is escaped; a URL that is not http(s) is left out.
"""

from __future__ import annotations

import functools
import hashlib
import html
import re
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from localize.catalogs.review import provenance
from localize.catalogs.workspace import Workspace
from localize.config import Config, Region
from localize.errors import ConfigError
from localize.locales import html_lang, is_rtl, known_locale, same_language
from localize.model import Catalog
from localize.storage.sources import Source
from localize.templating import render

__all__ = ["Credits", "Notice", "course_credits", "course_title", "region_notice", "safe_url"]

MAX_TEMPLATE_BYTES = 64 * 1024
MAX_NOTICE_CHARS = 16 * 1024
MAX_TITLE_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def safe_url(url: str) -> str:
    """``url`` if it is an absolute http(s) URL without spaces or controls, else ""."""
    if not re.fullmatch(r"https?://[^\s\"'<>\\\x00-\x1f\x7f]+", url, re.IGNORECASE) or len(url) > 2000:
        return ""
    return url


def _clean(text: str, limit: int = MAX_TITLE_CHARS) -> str:
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


HOME_PAGES = ("index.html", "index.htm", "contents/index.htm", "contents/index.html")


def course_title(source: Source, fallback: str) -> str:
    """The course's title: the ``<title>`` of its home page (index.html, else index.htm, else
    contents/index.htm(l) as older OCW sites have it) up to the first " | " (OCW writes
    "Quantum Physics I | Physics | MIT OpenCourseWare"), or ``fallback``. Read from a page,
    so only plain text comes out of it (unescaped here, escaped again where it is shown)."""
    paths = set(source.paths())
    home = next((p for p in HOME_PAGES if p in paths), None)
    if home is None:
        return fallback
    with source.open(home) as f:
        head = f.read(1 << 20).decode("utf-8", "replace")
    lower = head.lower()
    start = lower.find("<title")
    opened = head.find(">", start) if start >= 0 else -1
    end = lower.find("</title", opened) if opened >= 0 else -1
    if end < 0:
        return fallback
    title = _clean(html.unescape(head[opened + 1 : end]).split(" | ")[0])
    return title or fallback


@dataclass(frozen=True)
class Credits:
    """What a course's notices say in a locale, whatever the page or the region."""

    course: str
    title: str
    partners: tuple[str, ...]  # display names, most entries first
    translated_on: str  # YYYY-MM-DD, or "" when unknown


def course_credits(
    config: Config, workspace: Workspace, catalog: Catalog, course: str, locale: str, source: Source
) -> Credits:
    """The partners who brought the current translations in (the review ledger's provenance:
    the return that brought each entry, or the reviewer who signed it off), named as in the
    configuration, and the latest date one of them was accepted (failing that, the catalog's
    PO-Revision-Date)."""
    found = provenance(workspace, catalog, course, locale)
    names = {p.id: p.name for p in config.partners}
    counts = Counter(p.partner for p in found.values() if p.partner)
    partners = tuple(_clean(names.get(pid, pid)) for pid, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    dates = sorted(p.at[:10] for p in found.values() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.at[:10]))
    revised = (catalog.header("PO-Revision-Date") or "")[:10]
    when = dates[-1] if dates else (revised if re.fullmatch(r"\d{4}-\d{2}-\d{2}", revised) else "")
    return Credits(course, course_title(source, course), partners, when)


SAFE_FILTERS = (
    "abs", "capitalize", "count", "d", "default", "e", "escape", "first", "float", "int", "join", "last",
    "length", "list", "lower", "max", "min", "reverse", "round", "sort", "string", "sum", "title", "trim",
    "truncate", "unique", "upper", "urlencode", "wordcount",
)  # fmt: skip
"""Filters that cannot make their output much larger than their input (no ``center``, ``indent``,
``replace``, ``wordwrap``, ``format``, ``tojson`` or ``attr``)."""
MAX_RANGE = 1000


_REFUSED_NODES: dict[type[nodes.Node], str] = {
    nodes.Concat: "the ~ operator (write {{ a }}{{ b }} instead)",
    nodes.Macro: "macros",
    nodes.CallBlock: "call blocks",
    nodes.EvalContextModifier: "autoescape blocks (values are always escaped)",
    nodes.ScopedEvalContextModifier: "autoescape blocks (values are always escaped)",
}
"""Template constructs whose results are built in memory outside the output limit (or that turn
escaping off): a notice needs none of them."""
_AMPLIFYING_METHODS = frozenset(
    {"format", "format_map", "replace", "join", "ljust", "rjust", "center", "zfill", "expandtabs", "split"}
)
MAX_LOOP_NESTING = 2  # range(1000) twice: a million steps at most


def check_template(env: jinja2.Environment, source: str) -> None:
    """Refuse what the sandbox cannot bound (:data:`_REFUSED_NODES`, loops nested deeper than
    MAX_LOOP_NESTING)."""
    tree = env.parse(source)
    for node in tree.find_all(tuple(_REFUSED_NODES)):
        raise SecurityError(f"{_REFUSED_NODES[type(node)]} are not allowed in a notice (line {node.lineno})")

    def depth(node: nodes.Node, level: int) -> None:
        for child in node.iter_child_nodes():
            inner = level + isinstance(child, nodes.For)
            if inner > MAX_LOOP_NESTING:
                raise SecurityError(f"loops nested {inner} deep (at most {MAX_LOOP_NESTING} in a notice)")
            depth(child, inner)

    depth(tree, 0)


def _size(value: Any, budget: int = MAX_NOTICE_CHARS + 1) -> int:
    """How many characters ``value`` stands for (a list: its items'), counted up to ``budget``."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        total = len(value)
        for item in value:
            if total > budget:
                break
            total += _size(item, budget - total)
        return total
    return 1


class _Sandbox(ImmutableSandboxedEnvironment):
    """Jinja2's immutable sandbox (no unsafe attributes, no mutating methods, no file access: no
    loader) with amplification closed: a whitelist of filters, ``range`` up to MAX_RANGE, ``*``,
    ``**``, ``+`` and ``%`` refusing results past the notice size, no amplifying string
    methods, and calls refusing numbers past the notice size (see also :func:`check_template`)."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=jinja2.StrictUndefined, loader=None)
        self.filters = {name: self.filters[name] for name in SAFE_FILTERS}
        self.tests = dict(self.tests)
        self.globals = {"range": self._range}

    @staticmethod
    def _range(*args: int) -> range:
        r = range(*args)
        if len(r) > MAX_RANGE:
            raise SecurityError(f"range of {len(r)} items (at most {MAX_RANGE} in a notice)")
        return r

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "+":
            if _size(left) + _size(right) > MAX_NOTICE_CHARS:
                raise SecurityError("a sum too large for a notice")
            return left + right
        if operator == "%":
            if isinstance(left, str):
                raise SecurityError("string formatting with % is not allowed in a notice")
            return left % right
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError(f"** {right} (too large for a notice)")
            return left**right
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(n, int) and _size(seq) * n > MAX_NOTICE_CHARS:
                raise SecurityError(f"a repetition of {_size(seq) * n} items (too large for a notice)")
        return left * right

    def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        wrapped = getattr(__obj, "__wrapped__", None)  # the sandbox wraps str.format
        owner = getattr(__obj, "__self__", None) or getattr(wrapped, "__self__", None)
        if isinstance(owner, str | list | tuple) and getattr(__obj, "__name__", "") in _AMPLIFYING_METHODS:
            raise SecurityError(f".{__obj.__name__}() is not allowed in a notice")
        if any(isinstance(a, int) and abs(a) > MAX_NOTICE_CHARS for a in (*args, *kwargs.values())):
            raise SecurityError("a call with a number too large for a notice")
        return super().call(__context, __obj, *args, **kwargs)


def _template_line(error: BaseException, filename: str) -> int | None:
    """The template line an exception was raised at (Jinja2 rewrites tracebacks to name it)."""
    line = getattr(error, "lineno", None)
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line if isinstance(line, int) else None


@functools.lru_cache(maxsize=64)
def _compiled(source: str, filename: str) -> jinja2.Template:
    """The template compiled in the sandbox and checked (:func:`check_template`), once per
    process: a notice is rendered for every page of a course."""
    env = _Sandbox()
    code = env.compile(source, name=filename, filename=filename)
    check_template(env, source)
    return env.template_class.from_code(env, code, env.make_globals(None))


@dataclass(frozen=True)
class _Template:
    source: str
    filename: str  # shown in errors
    lang: str  # the language it is written in (html_lang form)
    rtl: bool

    def render(self, context: dict[str, Any]) -> str:
        def refuse(problem: str, error: BaseException) -> ConfigError:
            line = _template_line(error, self.filename)
            at = f"{self.filename}, line {line}" if line else self.filename
            return ConfigError(f"notice template {at}: {problem}; fix the template (it is rendered in a sandbox)")

        try:
            template = _compiled(self.source, self.filename)
        except jinja2.TemplateSyntaxError as e:
            raise refuse(e.message or "syntax error", e) from e
        except SecurityError as e:
            raise refuse(str(e), e) from e
        parts: list[str] = []
        size = 0
        try:
            for part in template.generate(**context):  # streamed: a template cannot fill memory
                size += len(part)
                if size > MAX_NOTICE_CHARS:
                    raise SecurityError(f"it renders more than {MAX_NOTICE_CHARS} characters")
                parts.append(part)
        except (
            jinja2.TemplateError, ArithmeticError, TypeError, ValueError, LookupError, RecursionError,
            AssertionError, MemoryError,
        ) as e:  # fmt: skip
            raise refuse(f"{type(e).__name__}: {e}", e) from e
        return "".join(parts).strip()


def _builtin() -> _Template:
    text = resources.files("localize").joinpath("templates/attribution.en.html").read_text(encoding="utf-8")
    return _Template(text, "attribution.en.html (built in)", "en", False)


def _find_template(config: Config, region: Region, locale: str) -> _Template | None:
    if not region.notice_templates:
        return None
    folder = Path(config.resolve(region.notice_templates))
    base, _, modifier = locale.partition("@")
    language = base.split("_")[0] + (f"@{modifier}" if modifier else "")  # sr_RS@latin: sr@latin, not sr
    wanted = [locale] + ([language] if same_language(language, locale) else [])  # zh_TW: not zh's
    # a template named in an older spelling of the locale (notice.iw.html for he) serves it too
    spelled = {known_locale(p.name[7:-5]): p.name for p in folder.glob("notice.*.html")} if folder.is_dir() else {}
    for name in dict.fromkeys(wanted):
        path = folder / f"notice.{name}.html"
        path = path if path.is_file() else folder / spelled.get(name, path.name)
        if path.is_file():
            data = path.read_bytes()
            if len(data) > MAX_TEMPLATE_BYTES:
                raise ConfigError(f"notice template {path}: larger than {MAX_TEMPLATE_BYTES} bytes")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as e:
                raise ConfigError(f"notice template {path}: not UTF-8 (byte {e.start}); save it as UTF-8") from e
            return _Template(text, str(path), html_lang(locale), is_rtl(locale))
    return None


def _source_page_url(course_url: str, path: str) -> str:
    """The page's address on the original site: OCW serves ``pages/x/index.html`` as ``pages/x/``."""
    if not course_url:
        return ""
    base = course_url if course_url.endswith("/") else course_url + "/"
    page = (
        "" if path == "index.html" else path.removesuffix("/index.html") + "/" if path.endswith("/index.html") else path
    )
    return safe_url(base + page)


class Notice:
    """The notice of one region's pages of a course in a locale: call it with a page's path.
    ``fingerprint`` changes whenever any page's notice would (it goes into the build key);
    ``warnings`` says when the English fallback is used."""

    def __init__(self, config: Config, region: Region, credits: Credits, locale: str) -> None:
        found = _find_template(config, region, locale)
        self.warnings: tuple[str, ...] = ()
        if found is None:
            found = _builtin()
            if not locale.startswith("en"):
                where = (
                    f"in {config.resolve(region.notice_templates)}: no notice.{locale}.html"
                    if region.notice_templates
                    else "its notice_templates folder is not set"
                )
                self.warnings = (
                    f"region {region.name} has no notice template for {locale} ({where}); "
                    "its pages carry the English notice",
                )
        if credits.title == credits.course:
            self.warnings += (
                f"the notice names course {credits.course} by its id: its source has no home page with a <title> "
                f"({', '.join(HOME_PAGES)})",
            )
        self.template = found
        self.course_url = safe_url(region.course_url.replace("{course}", credits.course))
        self.base: dict[str, Any] = {
            "course": credits.course,
            "course_title": credits.title,
            "course_url": self.course_url,
            "licence": _clean(region.licence),
            "licence_url": safe_url(region.licence_url),
            "partners": list(credits.partners),
            "translated_on": credits.translated_on,
            "locale": locale,
        }
        self.direction = "" if found.rtl == is_rtl(locale) else ("rtl" if found.rtl else "ltr")
        self("index.html")  # a broken template fails here, before anything is built or uploaded
        material = repr((found.source, sorted(self.base.items()), self.direction)).encode("utf-8")
        self.fingerprint = hashlib.sha256(material).hexdigest()

    def __call__(self, path: str) -> str:
        body = self.template.render({**self.base, "source_url": _source_page_url(self.course_url, path)})
        return render("attribution.html", lang=self.template.lang, direction=self.direction, body=body).rstrip("\n")


def region_notice(config: Config, region: Region, credits: Credits, locale: str) -> Notice | None:
    """The notice of ``region``'s pages in ``locale`` (None in the source locale: nothing is translated)."""
    return None if locale == config.workspace.source_locale else Notice(config, region, credits, locale)
