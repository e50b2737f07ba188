"""What a kit says in XLIFF and what a review kit holds: the entries translated since the
last sign-off, the previous accepted translation (PO: a translator comment, since ``#|``
carries only msgctxt and msgid; XLIFF: ``<alt-trans>``) and an HTML summary of the changes."""

from __future__ import annotations

import html
from dataclasses import replace

from localize.catalogs.review import is_reviewed, previous_signed_off, without_reviewed
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import unit_id
from localize.model import Catalog, Entry

__all__ = [
    "REVIEW_HOW",
    "REVIEW_README",
    "XLIFF_README",
    "changes_html",
    "po_review_kit",
    "previous_translations",
    "review_catalog",
]

XLIFF_README = """
This kit is in XLIFF 1.2 (the .xlf file)
----------------------------------------
Open the .xlf file in your CAT tool (memoQ, Trados, Okapi tools, Poedit; OmegaT
translates a kit whose targets hold the source: the list of files above says which).
Formatting and links are inline codes (tags) of the tool: keep every one of them,
each once; you may move them to fit your sentence, but do not put a link inside
another link. Save the translated .xlf file and return it as it is.
"""

REVIEW_README = """
This is a review kit
--------------------
It holds only the translations made since the last review; changes.html lists
each one beside the translation accepted before (if any). Correct what needs it.
{how}Return {file} as usual.
"""
# how a reviewer approves a translation, by the kit's format (REVIEW_README's {how})
REVIEW_HOW = {
    "xliff": """Set the state of each translation you approve to "signed-off" (memoQ/Trados:
confirm as reviewed or approved).
""",
    "po": """Approved entries are those you leave without the "fuzzy" (needs work) mark:
every entry arrives marked fuzzy; remove the mark from each one you approve.
""",
}


def review_catalog(catalog: Catalog) -> Catalog:
    """The entries translated but not signed off (what a review kit holds)."""
    return replace(catalog, entries=tuple(e for e in catalog.entries if e.translated and not is_reviewed(e)))


def previous_translations(
    workspace: Workspace, course: str, locale: str, catalog: Catalog
) -> dict[tuple[str | None, str], str]:
    signed = previous_signed_off(workspace, course, locale)
    out: dict[tuple[str | None, str], str] = {}
    for e in catalog.entries:
        before = signed.get(unit_id(e.msgctxt, e.msgid))
        if before is not None and before != e.msgstr:
            out[e.key] = before
    return out


def po_review_kit(catalog: Catalog, previous: dict[tuple[str | None, str], str]) -> Catalog:
    """A review kit as PO: every entry fuzzy (the reviewer clears the mark to approve) and the
    previous accepted translation in a translator comment (``#|`` carries only msgctxt and msgid)."""
    entries: list[Entry] = []
    for e in catalog.entries:
        comments = e.translator_comments
        if e.key in previous:
            comments = (*comments, "previously accepted: " + previous[e.key].replace("\n", " "))
        entries.append(
            replace(e, flags=tuple(sorted({*without_reviewed(e.flags), "fuzzy"})), translator_comments=comments)
        )
    return replace(catalog, entries=tuple(entries))


def changes_html(course: str, locale: str, catalog: Catalog, previous: dict[tuple[str | None, str], str]) -> str:
    rows = []
    for e in catalog.entries:
        before = previous.get(e.key)
        rows.append(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>".format(
                html.escape(e.msgid),
                html.escape(before) if before is not None else "<i>(new)</i>",
                html.escape(e.msgstr),
            )
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>Review: {html.escape(course)} ({html.escape(locale)})</title>"
        "<style>body{font-family:sans-serif}td{border-top:1px solid #ccc;padding:4px;vertical-align:top}</style>"
        f"</head><body><h1>Translations to review: {html.escape(course)} ({html.escape(locale)})</h1>"
        f"<p>{len(rows)} translations changed since the last review.</p>"
        "<table><tr><th>Source</th><th>Accepted before</th><th>New translation</th></tr>"
        + "".join(rows)
        + "</table></body></html>\n"
    )
