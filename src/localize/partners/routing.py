"""Routing catalogs to partner translators: kits, assignments, webhooks.

A kit is written into the partner's inbox (a folder or an S3 prefix)::

    kits/COURSE/LL/KIT/COURSE.LL.po    the catalog to translate
    kits/COURSE/LL/KIT/README.txt      plain-language instructions
    kits/COURSE/LL/KIT/kit.json        manifest (course, locale, hash, counts, due date,
                                       words by match band, the estimate at the partner's rates)
    kits/COURSE/LL/KIT/glossary.tbx    the locale's and course's terms (when there are any)
    kits/COURSE/LL/KIT/preview.html    an offline preview of the pages (given the course's source;
    kits/COURSE/LL/KIT/pages/...       see :mod:`localize.partners.kit_preview`)

Each entry whose source has glossary terms says so in a ``#. Terms: ...`` comment.

Partners put their translated files into ``returns/``; QA reports come back in
``reports/``. The workspace keeps each assignment (``assignments/COURSE/LL/KIT.json``)
and the exact catalog that was sent (``KIT.po``), the base of the three-way merge
on return. Both are written before any of the kit reaches the inbox (the assignment
marked incomplete until the kit is whole there and the partner notified), so a return
is always known; a route killed midway is finished by the next route of the catalog.

Webhook notices are JSON POSTs with these headers:

* ``X-Localize-Event``: ``kit.sent`` (or ``qa.report``)
* ``X-Localize-Delivery``: a unique id for the delivery
* ``X-Localize-Timestamp``: seconds since the epoch
* ``X-Localize-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``TIMESTAMP.BODY``
  keyed with the partner's secret (reject deliveries older than a few minutes)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from localize.catalogs.bands import BANDS, BandCount, estimate, match_bands
from localize.catalogs.faults import kill_point
from localize.catalogs.glossary import Glossary, annotate
from localize.catalogs.glossary_files import load_glossary, to_tbx
from localize.catalogs.po import write_po
from localize.catalogs.refresh import refresh_from_memory
from localize.catalogs.stats import catalog_stats, source_words
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import unit_id, write_xliff
from localize.config import Config, Partner
from localize.errors import CatalogNotFoundError, ConfigError, NothingToSend, SourceError
from localize.locales import check_locale, language_name
from localize.model import Catalog
from localize.partners.assignments import (
    Assignment,
    assignment_key,
    kit_file,
    load_assignments,
    save_assignment,
    start_kit_index,
)
from localize.partners.inbox import open_inbox
from localize.partners.kit_preview import KitPreview, kit_preview
from localize.partners.kit_texts import GUIDES, KIT_README, PREVIEW_README, kit_files, readme_plan
from localize.partners.review_kits import (
    REVIEW_HOW,
    REVIEW_README,
    XLIFF_README,
    changes_html,
    po_review_kit,
    previous_translations,
    review_catalog,
)
from localize.partners.webhooks import flush_outbox, send_notice
from localize.storage.base import Storage, local_error
from localize.storage.courses import open_source
from localize.storage.sources import Source

__all__ = ["RouteResult", "current_catalog", "route"]


@dataclass(frozen=True)
class RouteResult:
    assignment: Assignment
    sent: bool
    kit_location: str
    webhook: str
    resumed: bool = False  # the send of a route that stopped midway, finished


def _keeping_returns(assignment: Assignment) -> Callable[[Assignment], Assignment]:
    """``assignment`` with the state and returns of the stored copy (:func:`save_assignment`'s
    merge): a return ingested while the kit was being sent (its file reaches the inbox first)
    is never written over."""
    return lambda stored: replace(assignment, state=stored.state, returns=stored.returns)


def _new_kit_id(workspace: Workspace, course: str, locale: str, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… when a kit of that id was sent already (the same
    catalog routed again on the same day, after a rejected return): a kit id, its assignment
    record and its webhook delivery id are never reused."""
    taken = {
        key.rsplit("/", 1)[-1].removesuffix(".json") for key in workspace.storage.list(f"assignments/{course}/{locale}")
    }
    kit, n = base, 1
    while kit in taken:
        n += 1
        kit = f"{base}-{n}"
    return kit


def _pick_partner(config: Config, course: str, locale: str, partner_id: str | None, *, review: bool = False) -> Partner:
    if partner_id is not None:
        partner = config.partner(partner_id)
        if locale not in partner.locales:
            raise ConfigError(
                f"partner {partner.id!r} does not translate into {locale} (its locales: {', '.join(partner.locales)})"
            )
        if review and not partner.reviewer:
            raise ConfigError(f"partner {partner.id!r} is not a reviewer (set reviewer = true in the configuration)")
        return partner
    serving = [p for p in config.partners if p.serves(course, locale) and (p.reviewer or not review)]
    if not review and any(not p.reviewer for p in serving):
        serving = [p for p in serving if not p.reviewer]  # translation kits go to translators first
    if review and not serving:
        raise ConfigError(
            f"no reviewer serves {locale} for course {course!r}: set reviewer = true on a partner (or name one: route --partner)"
        )
    if not serving:
        raise ConfigError(
            f"no partner serves {locale} for course {course!r}: add it to a partner's locales in the configuration (or name one: route --partner)"
        )
    if len(serving) > 1:
        raise ConfigError(
            f"several partners serve {locale} for {course!r} ({', '.join(p.id for p in serving)}); choose one with --partner"
        )
    return serving[0]


def current_catalog(workspace: Workspace, course: str, locale: str) -> Catalog:
    """The catalog of record brought up to date with the template and filled from
    the memory, for a kit: the catalog of record itself is not written."""
    try:
        existing: Catalog | None = workspace.read_catalog(course, locale, suggest=False)
    except CatalogNotFoundError:
        existing = None
    template = workspace.read_template(course)
    return refresh_from_memory(workspace, existing, template, course, locale).catalog


def route(
    config: Config,
    course: str,
    locale: str,
    *,
    partner_id: str | None = None,
    now: datetime | None = None,
    fmt: str | None = None,
    review: bool = False,
    source: str | Source | None = None,
) -> RouteResult:
    """Send a kit for ``course`` in ``locale`` to the partner that serves it: a .po or
    an XLIFF file (``fmt``, default the partner's ``format``). A review kit (``review``)
    goes to a reviewer and holds only the translations not yet signed off. Given the
    course's ``source`` (a location, or a source opened once for several locales), the kit
    also carries its pages and an offline ``preview.html``."""
    locale = check_locale(locale)
    workspace = Workspace(config.workspace_location)
    partner = _pick_partner(config, course, locale, partner_id, review=review)
    fmt = fmt or partner.format
    if fmt not in ("po", "xliff"):
        raise ConfigError(f"unknown kit format {fmt!r}: use po or xliff")
    flush_outbox(workspace, [partner])
    catalog = current_catalog(workspace, course, locale)
    if review:
        catalog = review_catalog(catalog)
        if not catalog.entries:
            raise NothingToSend(f"nothing to review: every translation of {course} in {locale} is signed off already")
    elif not any(not e.translated for e in catalog.entries if not e.obsolete):
        # a kit of nothing (after an accepted return, say) would show as open work, then overdue
        raise NothingToSend(
            f"nothing to translate: every entry of {course} in {locale} is translated; no kit sent "
            "(route --review sends the translations to a reviewer)"
        )
    glossary = load_glossary(workspace, locale, course, source_locale=config.workspace.source_locale)
    catalog, with_terms = annotate(catalog, glossary)
    # what the kit holds, less the revision date a catalog not yet written takes from the clock:
    # routing again a minute later is the same kit
    kind = f"\n# {fmt} {'review' if review else 'translation'} kit\n".encode() if fmt != "po" or review else b""
    # (another kind of kit of the same catalog is another kit)
    digest = hashlib.sha256(write_po(catalog.with_header("PO-Revision-Date", "")).encode("utf-8") + kind).hexdigest()
    earlier: list[str] = []  # the digest as kits sent before it said, made only if one may need it

    def same(sent: str) -> bool:
        if sent == digest:
            return True
        if not earlier:
            earlier.append(hashlib.sha256(write_po(catalog).encode("utf-8") + kind).hexdigest())
        return sent == earlier[0]

    inbox = open_inbox(config.resolve(partner.inbox))
    resumed: Assignment | None = None
    latest: datetime | None = None  # the last kit sent for this course and locale
    for existing in load_assignments(workspace, course=course, locale=locale):
        with contextlib.suppress(ValueError, TypeError):
            sent_at = datetime.fromisoformat(existing.sent_at)
            latest = sent_at if latest is None or sent_at > latest else latest
        if existing.partner == partner.id and existing.state == "sent" and same(existing.catalog_sha256):
            if not existing.complete:
                resumed = existing  # a send that stopped midway: the same kit, sent again whole
                continue
            return RouteResult(
                existing, False, inbox.describe(f"kits/{course}/{locale}/{existing.kit}"), "not sent again"
            )
    po_name = kit_file(course, locale, fmt)
    if resumed is not None and inbox.exists(
        f"kits/{course}/{locale}/{resumed.kit}/{po_name}"
    ):  # the partner may hold the kit file already: the same bytes again
        now, kit, due = datetime.fromisoformat(resumed.sent_at), resumed.kit, resumed.due
    elif resumed is not None:  # none of it reached the partner: sent today, due as from today
        now, kit = now or datetime.now(UTC), resumed.kit
        due = (now.date() + timedelta(days=partner.turnaround_days)).isoformat()
    else:
        now = now or datetime.now(UTC)
        if latest is not None and latest.tzinfo is not None and now <= latest:
            # a clock running behind: the new kit still comes after the last one, or status would
            # show the old one as the latest and a return without its kit header would go to it
            now = latest + timedelta(microseconds=1)
        kit = _new_kit_id(workspace, course, locale, f"{now.strftime('%Y%m%d')}-{digest[:10]}")
        due = (now.date() + timedelta(days=partner.turnaround_days)).isoformat()
    stats = catalog_stats(catalog, course, locale)
    words = sum(source_words(e.msgid) for e in catalog.entries if not e.obsolete and not e.translated)
    kit_catalog = catalog
    for name, value in (
        ("X-Localize-Kit", kit),
        ("X-Localize-Partner", partner.id),
        ("X-Localize-Locale", locale),
        ("X-Localize-Due", due),
    ):
        kit_catalog = kit_catalog.with_header(name, value)
    if review:
        kit_catalog = kit_catalog.with_header("X-Localize-Kind", "review")
    kit_data = write_po(kit_catalog).encode("utf-8")  # the base of the three-way merge on return
    previous = previous_translations(workspace, course, locale, kit_catalog) if review else {}
    if fmt == "xliff":
        sent = write_xliff(
            kit_catalog,
            original=f"{course}.{locale}.po",
            source_locale=config.workspace.source_locale,
            target_locale=locale,
            previous=previous,
            glossary="glossary.tbx" if len(glossary) else None,
            copy_source=partner.xliff_targets == "source",
        )
    else:
        sent = write_po(po_review_kit(kit_catalog, previous) if review else kit_catalog).encode("utf-8")
    preview: KitPreview | None = None
    if source is not None:
        pages = open_source(source) if isinstance(source, str) else source
        preview = kit_preview(pages, kit_catalog, course=course, locale=locale, file=po_name)
        if not preview.pages and not preview.pages_left_out:
            raise SourceError(  # a kit whose preview shows nothing, sent once, is never sent again
                f"no page here holds a text of {course}: is it the course's own folder, .zip or site? Nothing sent",
                path=source if isinstance(source, str) else None,
            )
    manifest = {
        "kit": kit,
        "course": course,
        "locale": locale,
        "partner": partner.id,
        "catalog_sha256": digest,
        "file": po_name,
        "format": fmt,
        "kind": "review" if review else "translation",
        "entries": stats.entries,
        "translated": stats.translated,
        "fuzzy": stats.fuzzy,
        "untranslated": stats.untranslated,
        "words_to_translate": words,
        "due": due,
        "created": now.isoformat(timespec="seconds"),
        **_plan(catalog, partner, glossary, with_terms),
        # the kit's sources by id: `localize check` in the kit folder finds a msgid edited by hand
        "sources": sorted(unit_id(e.msgctxt, e.msgid) for e in kit_catalog.entries if not e.obsolete),
    }
    if preview is not None:
        manifest["preview"] = {
            "file": "preview.html",
            "pages": preview.pages,
            "assets": preview.assets,
            "assets_left_out": preview.assets_left_out,
            "pages_left_out": preview.pages_left_out,
        }
    language = language_name(locale)
    readme = KIT_README.format(
        course=course,
        language=language,
        underline="=" * (len(course) + len(language) + 24),
        task=f'review in {language} (see "This is a review kit" below)' if review else f"translate into {language}",
        po_name=po_name,
        files=kit_files(
            po_name,
            xliff=fmt == "xliff",
            glossary=len(glossary) > 0,
            preview=preview is not None,
            review=review,
            source_targets=partner.xliff_targets == "source",
        ),
        due=date.fromisoformat(due).strftime("%d %B %Y"),
        inbox=inbox.describe(),
        locale=locale,
        contact=partner.contact or "your coordinator",
        guide=GUIDES["xliff" if fmt == "xliff" else "po"],
    ) + readme_plan(manifest, stats.entries if review else None)
    base = f"kits/{course}/{locale}/{kit}"
    assignment = Assignment(
        kit,
        course,
        locale,
        partner.id,
        digest,
        now.isoformat(timespec="microseconds"),  # two kits sent in one second still have an order
        due,
        "sent",
        stats.entries,
        words,
        format=fmt,
        kind="review" if review else "translation",
        bands=manifest["bands"],
        estimate=manifest.get("estimate"),
        complete=False,
    )
    # recorded before the partner can see any of it: a return of this kit is always known, and a
    # send that stops midway is finished by the next route (the same kit id, the same files)
    start_kit_index(workspace)  # before the first file under assignments/ of a new workspace
    workspace.storage.write_bytes(assignment_key(course, locale, kit, "po"), kit_data)
    kill_point("route:base-written")
    save_assignment(workspace, assignment, merge=_keeping_returns(assignment))  # a resumed kit may have one
    kill_point("route:recorded")
    if fmt == "xliff":
        readme += XLIFF_README
    if preview is not None:
        readme += PREVIEW_README.format(file=po_name)
        for name, data in sorted(preview.files.items()):
            _write(inbox, f"{base}/{name}", data)
    if review:
        readme += REVIEW_README.format(file=po_name, how=REVIEW_HOW["xliff" if fmt == "xliff" else "po"])
        _write(inbox, f"{base}/changes.html", changes_html(course, locale, kit_catalog, previous).encode("utf-8"))
    _write(inbox, f"{base}/{po_name}", sent)
    kill_point("route:kit-written")
    _write(inbox, f"{base}/README.txt", readme.encode("utf-8"))
    if len(glossary):
        _write(inbox, f"{base}/glossary.tbx", to_tbx(glossary).encode("utf-8"))
    _write(inbox, f"{base}/kit.json", (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    kill_point("route:inbox-written")
    delivery = send_notice(workspace, partner, "kit.sent", {**manifest, "location": inbox.describe(base)}, f"kit-{kit}")
    kill_point("route:notified")
    assignment = replace(assignment, webhook=delivery, complete=True)
    assignment = save_assignment(workspace, assignment, merge=_keeping_returns(assignment))
    return RouteResult(assignment, True, inbox.describe(base), delivery, resumed=resumed is not None)


def _plan(catalog: Catalog, partner: Partner, glossary: Glossary, with_terms: int) -> dict[str, Any]:
    """kit.json's planning fields: words by match band, the estimate, the glossary."""
    bands: dict[str, BandCount] = match_bands(catalog)
    out: dict[str, Any] = {"bands": {b: {"entries": c.entries, "words": c.words} for b, c in bands.items()}}
    if partner.rates:
        out["estimate"] = {
            "total": estimate(bands, partner.rates),
            "currency": partner.currency,
            "rates": {b: partner.rates[b] for b in BANDS if b in partner.rates},
        }
    if len(glossary):
        out["glossary"] = {"file": "glossary.tbx", "terms": len(glossary), "entries_with_terms": with_terms}
    return out


def _write(storage: Storage, key: str, data: bytes) -> None:
    try:
        storage.write_bytes(key, data)
    except OSError as e:
        raise local_error(e, "cannot write the kit", storage.describe(key)) from e
