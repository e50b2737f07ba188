"""The reviewed state: which translations a reviewer signed off, and when.

An entry is *reviewed* when it is translated and carries the ``reviewed`` flag
(``#, reviewed``: GNU ``msgfmt -c`` accepts unknown flags, and every writer here
keeps flags). The flag survives ``update`` of an unchanged entry, is dropped when
the source changes (the entry turns fuzzy) and when a new translation is accepted,
and is set only by the QA gate for entries a reviewer signed off in a review kit.

The workspace keeps the review ledger ``reviews/COURSE/LL.json``:

* ``signed_off``: per unit id (:func:`localize.catalogs.xliff.unit_id`), the
  translation last signed off, by which partner, in which kit, when (the previous
  accepted translation a review kit shows);
* ``unreviewed_since``: per unit id, when an unreviewed translation was accepted
  (the age of the oldest unreviewed entry);
* ``accepted``: per unit id, the translation a partner's return last brought in (not a
  reviewer's sign-off), by which partner, in which kit, when;
* ``events``: every sign-off (partner, kit, time, number of entries).

The ledger is also where a translation's *provenance* comes from (:func:`provenance`):
catalogs of record do not say who wrote an entry, and this layer may not read the
partners' assignments, so the QA gate records it here at merge time, beside the sign-offs
it already records. A record counts only while the catalog still holds the very
translation it names: an entry edited by hand or replaced later has no partner.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from localize.catalogs import index
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import REVIEWED, unit_id
from localize.model import Catalog, Entry

Key = tuple[str | None, str]

__all__ = [
    "REVIEWED",
    "Provenance",
    "ReviewState",
    "brought_by",
    "is_reviewed",
    "ledger_key",
    "mark_reviewed",
    "oldest_unreviewed",
    "previous_signed_off",
    "provenance",
    "record_review",
    "review_state",
    "reviewed_only",
    "without_reviewed",
]


def is_reviewed(entry: Entry) -> bool:
    return entry.translated and REVIEWED in entry.flags


def without_reviewed(flags: Iterable[str]) -> tuple[str, ...]:
    return tuple(f for f in flags if f != REVIEWED)


def mark_reviewed(entry: Entry) -> Entry:
    return entry if REVIEWED in entry.flags else replace(entry, flags=tuple(sorted({*entry.flags, REVIEWED})))


def reviewed_only(catalog: Catalog) -> Catalog:
    """The catalog with every unreviewed translation emptied (what a region that requires review publishes)."""
    entries = tuple(
        e if e.obsolete or is_reviewed(e) else replace(e, msgstr="", msgstr_plural=tuple("" for _ in e.msgstr_plural))
        for e in catalog.entries
    )
    return replace(catalog, entries=entries)


def ledger_key(course: str, locale: str) -> str:
    return f"reviews/{course}/{locale}.json"


def _load(workspace: Workspace, course: str, locale: str) -> dict[str, Any]:
    try:
        raw = json.loads(workspace.storage.read_bytes(ledger_key(course, locale)))
    except (FileNotFoundError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


def previous_signed_off(workspace: Workspace, course: str, locale: str) -> dict[str, str]:
    """Unit id -> the translation last signed off."""
    signed = _load(workspace, course, locale).get("signed_off", {})
    return (
        {k: str(v.get("msgstr", "")) for k, v in signed.items() if isinstance(v, dict)}
        if isinstance(signed, dict)
        else {}
    )


def brought_by(workspace: Workspace, catalog: Catalog, course: str, locale: str, partner: str, kit: str) -> set[Key]:
    """The entries of ``catalog`` whose current translation a return of ``kit`` by ``partner``
    brought in (the ledger's record, while the catalog still holds that very translation) and
    no reviewer signed off since: a partner corrects its own work, never a reviewed translation."""
    raw = _load(workspace, course, locale).get("accepted", {})
    accepted = raw if isinstance(raw, dict) else {}
    out: set[Key] = set()
    for e in catalog.entries:
        own = (e.msgstr or any(e.msgstr_plural)) and not e.obsolete and not is_reviewed(e)  # fuzzy too
        record = accepted.get(unit_id(e.msgctxt, e.msgid)) if own else None
        if (
            isinstance(record, dict)
            and _holds(record, e)
            and (record.get("partner"), record.get("kit")) == (partner, kit)
        ):
            out.add(e.key)
    return out


def _holds(record: dict[str, Any], e: Entry) -> bool:
    """Whether the ledger's ``record`` names the very translation ``e`` holds (every plural form)."""
    return record.get("msgstr") == e.msgstr and record.get("plural", []) == list(e.msgstr_plural)


def _record(e: Entry, partner: str, kit: str, when: str) -> dict[str, Any]:
    record: dict[str, Any] = {"msgstr": e.msgstr, "partner": partner, "kit": kit, "at": when}
    if e.msgstr_plural:
        record["plural"] = list(e.msgstr_plural)
    return record


def record_review(
    workspace: Workspace,
    course: str,
    locale: str,
    *,
    partner: str,
    kit: str,
    at: datetime,
    signed_off: Iterable[Entry] = (),
    translated: Iterable[Entry] = (),
) -> None:
    """Record sign-offs and newly accepted (unreviewed) translations in the ledger."""
    signed = list(signed_off)
    fresh = list(translated)
    when = at.isoformat(timespec="seconds")

    def put(body: dict[str, Any]) -> None:
        so = body.setdefault("signed_off", {})
        since = body.setdefault("unreviewed_since", {})
        accepted = body.setdefault("accepted", {})
        for e in fresh:
            since.setdefault(unit_id(e.msgctxt, e.msgid), when)
            accepted[unit_id(e.msgctxt, e.msgid)] = _record(e, partner, kit, when)
        for e in signed:
            uid = unit_id(e.msgctxt, e.msgid)
            so[uid] = _record(e, partner, kit, when)
            since.pop(uid, None)
        if signed:
            events = body.setdefault("events", [])
            if not any(ev.get("kit") == kit and ev.get("at") == when for ev in events):
                events.append({"partner": partner, "kit": kit, "at": when, "entries": len(signed)})

    body = index.update_json(workspace.storage, ledger_key(course, locale), put)
    for _ in range(3):  # set from this run's ledger, then checked: another run's may have landed since
        oldest = _oldest(body)
        index.set_oldest_unreviewed(workspace.storage, course, locale, oldest)
        body = _load(workspace, course, locale)
        if _oldest(body) == oldest:
            break


def _oldest(body: dict[str, Any]) -> str | None:
    since = body.get("unreviewed_since", {})
    waiting = [w for w in since.values() if isinstance(w, str)] if isinstance(since, dict) else []
    return min(waiting) if waiting else None


def oldest_unreviewed(workspace: Workspace, course: str, locale: str) -> str | None:
    """When the oldest translation still waiting for review was accepted, from the ledger (the
    record the statistics index keeps it from; ``index rebuild`` takes it from here)."""
    return _oldest(_load(workspace, course, locale))


@dataclass(frozen=True, slots=True)
class ReviewState:
    course: str
    locale: str
    reviewed: int
    unreviewed: int  # translated, not reviewed
    oldest_unreviewed: str | None  # when the oldest unreviewed translation was accepted (ISO), if known

    def age_days(self, now: datetime) -> float | None:
        if self.oldest_unreviewed is None:
            return None
        return (now - datetime.fromisoformat(self.oldest_unreviewed)).total_seconds() / 86400

    def as_dict(self) -> dict[str, object]:
        return {"reviewed": self.reviewed, "unreviewed": self.unreviewed, "oldest_unreviewed": self.oldest_unreviewed}


def review_state(workspace: Workspace, catalog: Catalog, course: str, locale: str) -> ReviewState:
    since = _load(workspace, course, locale).get("unreviewed_since", {})
    reviewed = unreviewed = 0
    oldest: str | None = None
    for e in catalog.entries:
        if not e.translated:
            continue
        if is_reviewed(e):
            reviewed += 1
            continue
        unreviewed += 1
        when = since.get(unit_id(e.msgctxt, e.msgid)) if isinstance(since, dict) else None
        if isinstance(when, str) and (oldest is None or when < oldest):
            oldest = when
    return ReviewState(course, locale, reviewed, unreviewed, oldest)


@dataclass(frozen=True, slots=True)
class Provenance:
    """Who produced a translation of record: partner, kit and when it was accepted (or signed off)."""

    partner: str = ""
    kit: str = ""
    at: str = ""  # ISO 8601; "" when unknown
    reviewed: bool = False


def provenance(
    workspace: Workspace, catalog: Catalog, course: str, locale: str
) -> dict[tuple[str | None, str], Provenance]:
    """(msgctxt, msgid) -> provenance of every translated entry of ``catalog`` (the catalog
    of record of ``course`` in ``locale``). The partner and kit are those of the return that
    brought the current translation in; failing that, of the reviewer who signed it off
    (a reviewer may correct a translation); failing both, unknown (written by hand, filled
    from memory, or older than the record)."""
    body = _load(workspace, course, locale)

    def table(name: str) -> dict[str, Any]:
        raw = body.get(name, {})
        return raw if isinstance(raw, dict) else {}

    accepted, signed, since = table("accepted"), table("signed_off"), table("unreviewed_since")
    out: dict[tuple[str | None, str], Provenance] = {}
    for e in catalog.entries:
        if not e.translated or e.obsolete:
            continue
        uid = unit_id(e.msgctxt, e.msgid)
        reviewed = REVIEWED in e.flags
        found = Provenance(at=str(since.get(uid, "")), reviewed=reviewed)
        for record in (accepted.get(uid), signed.get(uid)):
            if isinstance(record, dict) and _holds(record, e):
                found = Provenance(
                    str(record.get("partner", "")), str(record.get("kit", "")), str(record.get("at", "")), reviewed
                )
                break
        out[e.key] = found
    return out
