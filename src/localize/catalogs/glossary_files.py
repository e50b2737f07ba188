"""Glossary files: TBX of record in the workspace, TBX and CSV to exchange.

The file of record is TBX (TermBase eXchange, ISO 30042), the format CAT tools read,
in the workspace::

    glossary/LL.tbx              every course of the locale
    glossary/COURSE/LL.tbx       one course (its terms replace the locale's of the same term)

In TBX a source term is a ``conceptEntry``; each row is a ``termSec`` of the target
``langSec`` with ``administrativeStatus`` ``preferredTerm-admn-sts`` (approved) or
``deprecatedTerm-admn-sts`` (forbidden); a do-not-translate term has the source term as
its target and the note ``do not translate``. Reading also takes TBX 2 (``martif``,
``termEntry``/``langSet``/``tig``) and Weblate's ``forbidden`` status and
``translationNote`` ``no``.

CSV has the columns ``term, translation, status, note`` (and optionally
``part_of_speech``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from localize.catalogs.glossary import APPROVED, DO_NOT_TRANSLATE, FORBIDDEN, Glossary, Term
from localize.catalogs.tmx_codes import refuse_entities
from localize.catalogs.workspace import Workspace
from localize.errors import CatalogError, ConfigError
from localize.ids import check_course_id
from localize.locales import check_locale, html_lang, same_language

__all__ = [
    "CSV_COLUMNS",
    "glossary_key",
    "load_glossary",
    "read_csv",
    "read_glossary_file",
    "read_tbx",
    "save_glossary",
    "to_csv",
    "to_tbx",
]

_DNT_NOTE = "do not translate"
_TBX_NS = "urn:iso:std:iso:30042:ed-2"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ADMIN = {APPROVED: "preferredTerm-admn-sts", FORBIDDEN: "deprecatedTerm-admn-sts"}
_FORBIDDEN_STATUSES = {"deprecatedterm-admn-sts", "supersededterm-admn-sts", "forbidden", "obsolete", "deprecated"}


# -- the workspace ------------------------------------------------------------------


def glossary_key(locale: str, course: str | None = None) -> str:
    ll = check_locale(locale)
    return f"glossary/{ll}.tbx" if course is None else f"glossary/{check_course_id(course)}/{ll}.tbx"


def load_glossary(
    workspace: Workspace,
    locale: str,
    course: str | None = None,
    *,
    only_course: bool = False,
    source_locale: str = "en",
) -> Glossary:
    """The glossary of ``locale`` (with ``course``'s own terms over it); empty when there is none."""
    locale = check_locale(locale)
    out = Glossary(locale, (), source_locale)
    keys = ([] if only_course else [glossary_key(locale)]) + ([glossary_key(locale, course)] if course else [])
    for key in keys:
        try:
            data = workspace.storage.read_bytes(key)
        except FileNotFoundError:
            continue
        rows = read_tbx(data, workspace.describe(key), locale, source_locale)
        out = out.merged(Glossary(locale, tuple(rows), source_locale))
    return out


def save_glossary(workspace: Workspace, glossary: Glossary, course: str | None = None) -> str:
    key = glossary_key(glossary.locale, course)
    workspace.storage.write_bytes(key, to_tbx(glossary).encode("utf-8"))
    return workspace.describe(key)


# -- TBX ------------------------------------------------------------------------------


def _lang(locale: str) -> str:
    return html_lang(locale)  # BCP 47: sr@latin is sr-Latn


def to_tbx(glossary: Glossary) -> str:
    """A TBX-Basic file (TBX 3, DCA style) with one conceptEntry per source term."""
    src, tgt = _lang(glossary.source_locale), _lang(glossary.locale)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<tbx type="TBX-Basic" style="dca" xml:lang={quoteattr(src)} xmlns="{_TBX_NS}">',
        "  <tbxHeader>",
        "    <fileDesc>",
        f"      <sourceDesc><p>localize glossary {escape(src)} to {escape(tgt)}</p></sourceDesc>",
        "    </fileDesc>",
        "  </tbxHeader>",
        "  <text>",
        "    <body>",
    ]
    rows: dict[str, list[Term]] = {}
    for t in glossary.terms:
        rows.setdefault(t.term.casefold(), []).append(t)
    for n, items in enumerate(sorted(rows.values(), key=lambda r: r[0].term.casefold()), 1):
        pos = next((t.pos for t in items if t.pos), "")
        pos_note = f'<termNote type="partOfSpeech">{escape(pos)}</termNote>' if pos else ""
        out += [
            f'      <conceptEntry id="c{n}">',
            f"        <langSec xml:lang={quoteattr(src)}>",
            f"          <termSec><term>{escape(items[0].term)}</term>{pos_note}</termSec>",
            "        </langSec>",
            f"        <langSec xml:lang={quoteattr(tgt)}>",
        ]
        for t in items:
            text = t.term if t.status == DO_NOT_TRANSLATE else t.translation
            status = _ADMIN.get(t.status, _ADMIN[APPROVED])
            notes = f"<note>{_DNT_NOTE}</note>" if t.status == DO_NOT_TRANSLATE else ""
            notes += f"<note>{escape(t.note)}</note>" if t.note else ""
            term_pos = f'<termNote type="partOfSpeech">{escape(t.pos)}</termNote>' if t.pos else ""
            out.append(
                f"          <termSec><term>{escape(text)}</term>{term_pos}"
                f'<termNote type="administrativeStatus">{status}</termNote>{notes}</termSec>'
            )
        out += ["        </langSec>", "      </conceptEntry>"]
    out += ["    </body>", "  </text>", "</tbx>", ""]
    return "\n".join(out)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _lang_of(element: object, default: str) -> str:
    get = getattr(element, "get", None)
    value = (get(_XML_LANG) or get("lang")) if get is not None else None
    return str(value or default).replace("-", "_").lower()


def _same_language(lang: str, locale: str) -> bool:
    """A TBX language tag names ``locale``'s language in its script, in any region (es-ES terms
    serve es_MX; sr-Latn terms do not serve sr, nor zh-TW terms zh)."""
    return lang.replace("_", "-").lower() == locale.replace("_", "-").lower() or same_language(
        lang, locale, any_region=True
    )


Vet = Callable[[Term], "str | None"]
"""A check of each row as it is read: why it is refused (raised naming the file and line), or None."""


def read_tbx(data: bytes, path: str, locale: str, source_locale: str = "en", vet: Vet | None = None) -> list[Term]:
    """The rows of a TBX file (TBX 3 or 2) for ``locale``."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise CatalogError(f"not a valid TBX file: {e.msg}", path=path, line=e.lineno) from e
    if _local(root.tag) not in ("tbx", "martif"):
        raise CatalogError(f"not a TBX file (root element <{_local(root.tag)}>)", path=path, line=root.sourceline)
    refuse_entities(root, path, "TBX", parser.error_log)
    default = _lang_of(root, source_locale)
    rows: list[Term] = []
    others: set[str] = set()
    for concept in root.iter(etree.Element):
        if _local(concept.tag) not in ("conceptEntry", "termEntry"):
            continue
        source: tuple[str, str] | None = None
        targets: list[tuple[str, str, str, str, int | None]] = []  # text, status, pos, note, line
        for lang_sec in concept:
            if _local(lang_sec.tag) not in ("langSec", "langSet"):
                continue
            lang = _lang_of(lang_sec, default)
            for term_sec in lang_sec.iter(etree.Element):
                if _local(term_sec.tag) not in ("termSec", "tig", "ntig"):
                    continue
                text = pos = admin = ""
                notes: list[str] = []
                dnt = False
                for el in term_sec.iter(etree.Element):
                    name, kind, value = _local(el.tag), el.get("type") or "", "".join(el.itertext()).strip()
                    if name == "term":
                        text = value
                    elif name == "termNote" and kind == "partOfSpeech":
                        pos = value
                    elif name == "termNote" and kind == "administrativeStatus":
                        admin = value.lower()
                    elif name == "termNote" and kind == "translationNote" and value.lower() == "no":
                        dnt = True
                    elif name == "note" and value:
                        if value.lower() == _DNT_NOTE:
                            dnt = True
                        else:
                            notes.append(value)
                if not text:
                    continue
                if _same_language(lang, source_locale) and source is None:
                    source = (text, pos)
                elif _same_language(lang, locale):
                    status = DO_NOT_TRANSLATE if dnt else FORBIDDEN if admin in _FORBIDDEN_STATUSES else APPROVED
                    targets.append((text, status, pos, "; ".join(notes), term_sec.sourceline))
                elif len(others) < 20:
                    others.add(lang)
        if source is None:
            continue
        for text, status, pos, note, line in targets:
            rows.append(Term(source[0], "" if status == DO_NOT_TRANSLATE else text, status, pos or source[1], note))
            if vet is not None and (why := vet(rows[-1])) is not None:
                raise CatalogError(why, path=path, line=line)
    if not rows and others:
        raise CatalogError(
            f"this TBX file has no {locale} terms (its languages: {', '.join(sorted(others))}); "
            "import it with --locale set to its language",
            path=path,
        )
    return rows


# -- CSV ------------------------------------------------------------------------------

CSV_COLUMNS = ("term", "translation", "status", "note", "part_of_speech")


def to_csv(glossary: Glossary) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for t in glossary.terms:
        writer.writerow([_cell(v) for v in (t.term, t.translation, t.status, t.note, t.pos)])
    return buffer.getvalue()


_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet reads as the start of a formula


def _cell(value: str) -> str:
    """A value as a spreadsheet shows it and never runs it: one that starts like a formula gets a
    leading apostrophe, which spreadsheets hide and :func:`read_csv` takes off again."""
    return "'" + value if value.startswith(_FORMULA) else value


def _uncell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA) else value


def read_csv(text: str, path: str, vet: Vet | None = None) -> list[Term]:
    """Rows of a CSV glossary; the header row names the columns (term and translation at least)."""
    reader = csv.DictReader(io.StringIO(text))
    columns = [c.strip().lower() for c in reader.fieldnames or ()]
    if "term" not in columns:
        raise CatalogError(
            f"a CSV glossary needs a header row with the columns {', '.join(CSV_COLUMNS[:4])}", path=path
        )
    rows: list[Term] = []
    for raw in reader:  # (reader.line_num: the row's last line, blank lines and multi-line cells counted)
        row = {(k or "").strip().lower(): _uncell((v or "").strip()) for k, v in raw.items() if isinstance(v, str)}
        if not row.get("term"):
            continue
        status = (row.get("status") or APPROVED).lower().replace("_", "-").replace(" ", "-")
        try:
            rows.append(
                Term(
                    row["term"], row.get("translation", ""), status, row.get("part_of_speech", ""), row.get("note", "")
                )
            )
        except ConfigError as e:
            raise CatalogError(e.message, path=path, line=reader.line_num) from None
        if status == APPROVED and not rows[-1].translation:
            raise CatalogError(
                f"term {row['term']!r} is approved but has no translation: fill it in, or delete the row (the "
                "rows of `glossary suggest` start empty; nothing was imported)",
                path=path,
                line=reader.line_num,
            )
        if vet is not None and (why := vet(rows[-1])) is not None:
            raise CatalogError(why, path=path, line=reader.line_num)
    return rows


def read_glossary_file(
    data: bytes, path: str, locale: str, vet: Vet | None = None, source_locale: str = "en"
) -> list[Term]:
    """Rows from a .tbx or .csv file (by extension, else by content), each ``vet``-ted as read."""
    locale = check_locale(locale)
    if path.lower().endswith((".tbx", ".xml")) or data.lstrip().startswith(b"<"):
        return read_tbx(data, path, locale, source_locale, vet=vet)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CatalogError("a CSV glossary must be UTF-8", path=path) from None
    return read_csv(text, path, vet)
