"""Catalog lifecycle: new locales, merging a new template into translations, validation.

The merge follows GNU msgmerge: an unchanged unit keeps its translation and
flags; a changed one keeps the old translation as fuzzy with the previous msgid
(``#|``), matched by similarity and never across msgctxt; a unit that
disappeared becomes obsolete (``#~``) and comes back with its translation when
the text returns. Translators' comments survive. Merging twice changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from localize import __version__
from localize.catalogs.edges import EdgePlan, edge_key, edge_trimmed
from localize.catalogs.po import write_po
from localize.errors import CatalogError
from localize.locales import check_locale, language_name, plural_forms
from localize.model import Catalog, Entry

__all__ = [
    "DEFAULT_SIMILARITY",
    "TEMPLATE_HEADER",
    "MergeReport",
    "merge",
    "new_catalog",
    "template_digest",
    "validate_catalog",
]

DEFAULT_SIMILARITY = 0.75
# The sha256 of the template a catalog was last merged from (its content, creation date aside):
# ``update`` validates a catalog against that template, not whatever template is newest on disk.
TEMPLATE_HEADER = "X-Localize-Template"


def template_digest(template: Catalog, text: str | None = None) -> str:
    """The template's identity: its entries and headers, ``POT-Creation-Date`` aside.

    ``text`` is ``write_po(template)`` when the caller has it: the date's line is blanked in
    it instead of serializing the template again, when that is sure to give the same digest
    (one date header, named exactly so, a short plain value, no header spanning lines;
    otherwise the template is serialized again)."""
    if text is not None:
        fast = _digest_from_text(template, text)
        if fast is not None:
            return fast
    return hashlib.sha256(write_po(template.with_header("POT-Creation-Date", "")).encode("utf-8")).hexdigest()


def _digest_from_text(template: Catalog, text: str) -> str | None:
    dates = [(k, v) for k, v in template.headers if k.lower() == "pot-creation-date"]
    if len(dates) != 1 or dates[0][0] != "POT-Creation-Date":
        return None
    value = dates[0][1]
    if len(value) > 40 or any(c in value for c in '"\\\t\r\n'):
        return None
    if any("\n" in k or "\n" in v or "\r" in k or "\r" in v for k, v in template.headers):
        return None
    head_end = text.find("\n\n")
    head = text if head_end < 0 else text[:head_end]
    lines = head.split("\n")
    line = f'"POT-Creation-Date: {value}\\n"'
    if lines.count(line) != 1:
        return None
    lines[lines.index(line)] = '"POT-Creation-Date: \\n"'
    return hashlib.sha256(("\n".join(lines) + text[len(head) :]).encode("utf-8")).hexdigest()


def new_catalog(template: Catalog, course: str, locale: str, *, now: datetime | None = None) -> Catalog:
    """A fresh, untranslated catalog for ``locale`` with correct headers."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M%z")
    headers = (
        ("Project-Id-Version", course),
        ("Report-Msgid-Bugs-To", ""),
        ("POT-Creation-Date", template.header("POT-Creation-Date") or stamp),
        ("PO-Revision-Date", stamp),
        ("Last-Translator", ""),
        ("Language-Team", language_name(locale)),
        ("Language", locale),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
        ("Plural-Forms", plural_forms(locale)),
        ("X-Generator", f"localize {__version__}"),
        ("X-Localize-Course", course),
        ("X-Localize-Source-Locale", template.header("X-Localize-Source-Locale") or "en"),
    )
    entries = tuple(
        replace(e, msgstr="", msgstr_plural=(), flags=tuple(f for f in e.flags if f != "fuzzy"))
        for e in template.entries
        if not e.obsolete
    )
    return Catalog(
        headers=headers, entries=entries, header_comments=(f"{language_name(locale)} translation of {course}",)
    )


@dataclass(frozen=True, slots=True)
class MergeReport:
    kept: int
    fuzzy: int
    revived: int
    new: int
    obsoleted: int
    dropped: int = 0  # untranslated entries gone from the pages (nothing to keep)


def _keep(new: Entry, old: Entry) -> Entry:
    return replace(
        new,
        msgstr=old.msgstr,
        msgstr_plural=old.msgstr_plural if new.msgid_plural is not None else (),
        flags=old.flags,
        translator_comments=old.translator_comments,
        previous_msgctxt=old.previous_msgctxt,
        previous_msgid=old.previous_msgid,
        obsolete=False,
    )


def merge(old: Catalog, template: Catalog, *, similarity: float = DEFAULT_SIMILARITY) -> tuple[Catalog, MergeReport]:
    """Bring ``old`` (a translated catalog) up to date with ``template``."""
    from rapidfuzz import fuzz, process

    live = {e.key: e for e in old.entries if not e.obsolete}
    obsolete = {e.key: e for e in old.entries if e.obsolete}
    used: set[tuple[str | None, str]] = set()
    out: list[Entry] = []
    pending: list[int] = []
    kept = revived = 0
    for t in template.entries:
        if t.obsolete:
            continue
        o: Entry | None = live.get(t.key)
        if o is not None:
            kept += 1
        else:
            o = obsolete.get(t.key)
            if o is not None:
                revived += 1
        if o is not None:
            used.add(t.key)
            out.append(_keep(t, o))
            continue
        pending.append(len(out))
        out.append(t)
    # changed units: the most similar old translation, within the same msgctxt
    candidates: dict[str | None, dict[str, Entry]] = {}
    for e in (*live.values(), *obsolete.values()):
        if e.key not in used and e.has_translation:
            candidates.setdefault(e.msgctxt, {})[e.msgid] = e
    # units whose only change is at their edges (an icon or an empty element extraction now
    # leaves outside): the translation, with the same change (catalogs/edges.py). Kept as it was
    # only when it is surely the same unit (a page in common, no other new entry of that text in
    # another context: an unwrapped element may have had a context of its own) and the
    # translation changed only at its edges; else fuzzy, for the translator to confirm.
    edged: dict[tuple[str | None, str], list[tuple[Entry, EdgePlan]]] = {}
    wanted = {edge_key(out[i].msgid) for i in pending}
    for pool_ in candidates.values():
        for e in pool_.values():
            hit = e.msgid_plural is None and "<" in e.msgid and edge_key(e.msgid) in wanted
            trimmed = edge_trimmed(e.msgid) if hit else None
            if trimmed is not None:
                edged.setdefault((e.msgctxt, trimmed[0]), []).append((e, trimmed[1]))
    contexts: dict[str, int] = {}
    for t in template.entries:
        if not t.obsolete:
            contexts[t.msgid] = contexts.get(t.msgid, 0) + 1
    edge_fuzzy = 0
    for i in list(pending) if edged else ():
        new = out[i]
        hits = edged.get(new.key, []) if new.msgid_plural is None else []
        hits = sorted(hits, key=lambda h: not set(h[0].references) & set(new.references))  # a shared page first
        for o, plan in hits:
            carried = plan.translate(o.msgstr)
            if carried is None:
                continue
            text, clean = carried
            if clean and set(o.references) & set(new.references) and contexts.get(new.msgid) == 1:
                out[i] = replace(_keep(new, o), msgstr=text)
                kept += 1
            else:
                out[i] = replace(
                    new,
                    msgstr=text,
                    flags=tuple(sorted({*o.flags, "fuzzy"} - {"reviewed"})),
                    translator_comments=o.translator_comments,
                    previous_msgctxt=o.msgctxt,
                    previous_msgid=o.msgid,
                )
                edge_fuzzy += 1
            pending.remove(i)
            break
    fuzzy = 0
    cutoff = similarity * 100
    for i in pending:
        new = out[i]
        pool = candidates.get(new.msgctxt)
        best = process.extractOne(new.msgid, pool.keys(), scorer=fuzz.ratio, score_cutoff=cutoff) if pool else None
        if pool is None or best is None:
            out[i] = replace(new, msgstr="", msgstr_plural=(), previous_msgid=None, previous_msgctxt=None)
            continue
        o = pool[best[0]]
        fuzzy += 1
        out[i] = replace(
            new,
            msgstr=o.msgstr,
            msgstr_plural=o.msgstr_plural if new.msgid_plural is not None else (),
            flags=tuple(sorted({*o.flags, "fuzzy"} - {"reviewed"})),  # a changed source needs a new review
            translator_comments=o.translator_comments,
            previous_msgctxt=o.msgctxt,
            previous_msgid=o.msgid,
        )
    # disappeared units: kept as obsolete (if they carry any work), in a stable order
    gone = [
        replace(e, obsolete=True, references=(), extracted_comments=())
        for key, e in live.items()
        if key not in used and (e.has_translation or e.translator_comments)
    ]
    still = [e for key, e in obsolete.items() if key not in used]
    obsoleted = sorted([*still, *gone], key=lambda e: (e.msgctxt or "", e.msgid))
    entries = (*out, *obsoleted)
    catalog = replace(old, entries=entries)
    stamp = template.header("POT-Creation-Date")
    if stamp:
        catalog = catalog.with_header("POT-Creation-Date", stamp)
    dropped = sum(1 for key in live if key not in used) - len(gone)
    report = MergeReport(kept, fuzzy + edge_fuzzy, revived, len(pending) - fuzzy, len(gone), dropped)
    return catalog, report


# -- validation ----------------------------------------------------------------


def validate_catalog(catalog: Catalog, path: str, *, course: str, locale: str, template: Catalog | None = None) -> None:
    """Refuse a catalog that belongs elsewhere or was damaged by hand.

    Raises CatalogError naming ``path`` and the line of the first problem.
    """
    if not catalog.headers:
        raise CatalogError('no header entry (msgid "" with Content-Type and Language); restore it', path=path, line=1)
    content_type = catalog.header("Content-Type")
    if content_type is None or "charset=" not in content_type:
        raise CatalogError(
            'header has no Content-Type with a charset; add "Content-Type: text/plain; charset=UTF-8"',
            path=path,
            line=1,
        )
    owner = catalog.header("X-Localize-Course") or catalog.header("Project-Id-Version")
    if owner and owner != course:
        raise CatalogError(f"this catalog belongs to course {owner!r}, not {course!r}", path=path, line=1)
    language = catalog.header("Language")
    if language and check_locale(language) != locale:
        raise CatalogError(f"header says Language: {language}, but this is the {locale} catalog", path=path, line=1)
    if template is not None:
        known = template.index()
        for e in catalog.entries:
            if not e.obsolete and e.key not in known:
                ctx = "" if e.msgctxt is None else f" (msgctxt {e.msgctxt!r})"
                raise CatalogError(
                    f"msgid {e.msgid[:60]!r}{ctx} is not in the template: the source text was edited by hand; "
                    "restore the original msgid (translations go in msgstr)",
                    path=path,
                    line=e.lineno,
                )
