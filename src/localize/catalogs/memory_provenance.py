"""Translation-memory units and their provenance: what produced a unit, what an imported file
claims, and what the workspace recorded when it imported it.

A unit of a catalog of record knows its course and, from the review ledger, its partner, kit,
date and review. An imported unit's origin, partner, kit, date and review are only what its file
claims (kept, shown as ``imported: c1 (from vendor.tmx on 2026-12-01)``); the workspace records
beside them the file's name, the import time and whether the operator trusted the file's review
marks (``tm import --trust-reviewed``), and ranking uses only that record
(:class:`localize.catalogs.memory.TranslationMemory`). Every provenance value read from a file is
one line without control characters or bidirectional overrides, bounded in length.

Compendium PO files carry provenance as translator comments (:func:`provenance_comments` for
export, :func:`record_comments` for the workspace's ``memory/LL.po``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from localize.catalogs.xliff import REVIEWED
from localize.model import Catalog, Entry

__all__ = [
    "IMPORTED",
    "MemoryUnit",
    "clean_date",
    "clean_provenance",
    "describe_origin",
    "provenance_comments",
    "record_comments",
    "recorded_units",
    "units_of",
]

IMPORTED = "an earlier import"  # the file of a unit imported before imports were recorded
PROVENANCE_CHARS = 120  # a provenance value longer than this is cut
# C0 and C1 controls (tabs and newlines too: a value is one line), DEL, bidirectional overrides and isolates
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_provenance(value: str) -> str:
    """``value`` as one safe line: control characters (terminal escape sequences among them) and
    bidirectional overrides removed, white space collapsed, at most :data:`PROVENANCE_CHARS`."""
    return " ".join(_UNSAFE.sub(" ", value).split())[:PROVENANCE_CHARS].strip()


def clean_date(value: str, *, latest: datetime | None = None) -> str:
    """``value`` as an ISO 8601 UTC date, or "" when it is not one; a date after ``latest`` is
    ``latest`` (nothing is accepted in the future of when it was received)."""
    try:
        when = datetime.fromisoformat(clean_provenance(value))
        when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # not a date; a year 1 or 9999 date that leaves the calendar in UTC
        return ""
    if latest is not None and when > latest:
        when = latest.astimezone(UTC)
    return when.isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True)
class MemoryUnit:
    msgctxt: str | None
    msgid: str
    msgstr: str
    origin: str  # the course (for an imported unit: the course its file claims, "" when none)
    reviewed: bool = False  # signed off by a reviewer: preferred over unreviewed candidates
    partner: str = ""  # who produced it, when known (see localize.catalogs.review.provenance)
    kit: str = ""
    at: str = ""  # when it was accepted (ISO 8601), when known
    obsolete: bool = False  # kept for the record (``tm obsolete``), never offered
    # an imported unit: origin, partner, kit and at are what its file claims (at no later than
    # imported_at); these are what the workspace recorded when it imported it
    imported_from: str = ""  # the file's name ("" for a unit of a catalog of record)
    imported_at: str = ""  # when (ISO 8601, our clock)
    claims_reviewed: bool = False  # its file says reviewed; ``reviewed`` only when imported with --trust-reviewed

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def home(self) -> bool:
        """A unit of a catalog of record of the workspace (not imported)."""
        return not self.imported_from

    @property
    def ranked_at(self) -> str:
        """The date ranking uses: the workspace's own record (an imported unit's import time)."""
        return self.at if self.home else self.imported_at


def describe_origin(unit: MemoryUnit) -> str:
    """``8.05`` for a catalog's unit; an imported one's claimed origin, marked as imported, with
    the file and day the workspace recorded: ``imported: 8.05 (from vendor.tmx on 2026-12-01)``."""
    if unit.home:
        return unit.origin
    claim = f": {unit.origin}" if unit.origin else ""
    day = f" on {unit.imported_at[:10]}" if unit.imported_at else ""
    return f"imported{claim} (from {unit.imported_from}{day})"


def _comments(entry: Entry) -> dict[str, str]:
    """The ``name: value`` translator comments of a compendium entry (``reviewed`` as ``{"reviewed": ""}``)."""
    made: dict[str, str] = {}
    for c in entry.translator_comments:
        name, _, value = c.partition(": ")
        made.setdefault(name.strip(), value)
    return made


def units_of(catalog: Catalog, origin: str, *, compendium: bool = False) -> Iterable[MemoryUnit]:
    """The translated entries of ``catalog`` as units of ``origin``. A ``compendium`` (an
    exported or imported memory, never a catalog of record, whose translator comments a partner
    wrote) has its provenance read back from the comments :func:`provenance_comments` writes
    (``# origin: 8.05``, ``# partner: lima``, ``# reviewed``): claims, cleaned
    (:func:`clean_provenance`), which only :func:`recorded_units` and ``tm import`` give weight."""
    for e in catalog.entries:
        if e.translated and e.msgid_plural is None:
            made = _comments(e) if compendium else {}
            yield MemoryUnit(
                e.msgctxt,
                e.msgid,
                e.msgstr,
                clean_provenance(made.get("origin", "")) or origin,
                REVIEWED in e.flags or "reviewed" in made,
                clean_provenance(made.get("partner", "")),
                clean_provenance(made.get("kit", "")),
                clean_date(made.get("date", "")),
                "obsolete" in made,
            )


def provenance_comments(unit: MemoryUnit) -> tuple[str, ...]:
    """A unit's provenance as the translator comments of a compendium entry (read back by
    :func:`units_of`): ``origin: 8.05``, ``partner: lima``, ``kit: K``, ``date: ISO``,
    ``reviewed``, ``obsolete``. An imported unit is written with what its file claimed (its
    file's name for origin when it claimed none), reviewed only when this workspace counts it so."""
    fields = (
        ("origin", unit.origin or unit.imported_from),
        ("partner", unit.partner),
        ("kit", unit.kit),
        ("date", unit.at),
    )
    out = [f"{name}: {clean_provenance(value)}" for name, value in fields if clean_provenance(value)]
    return (*out, *(["reviewed"] if unit.reviewed else []), *(["obsolete"] if unit.obsolete else []))


def record_comments(unit: MemoryUnit) -> tuple[str, ...]:
    """An imported unit as the workspace's compendium (``memory/LL.po``) records it: its file's
    claims (``origin``, ``partner``, ``kit``, ``date``, ``reviewed`` when claimed, ``obsolete``),
    then the workspace's own record: ``imported: FILE``, ``imported-at: ISO`` and ``trusted``
    when the operator imported it with ``--trust-reviewed``. Read back by :func:`recorded_units`."""
    fields = (("origin", unit.origin), ("partner", unit.partner), ("kit", unit.kit), ("date", unit.at))
    claims = [f"{name}: {clean_provenance(value)}" for name, value in fields if clean_provenance(value)]
    claims += ["reviewed"] if unit.claims_reviewed else []
    claims += ["obsolete"] if unit.obsolete else []
    record = [f"imported: {clean_provenance(unit.imported_from) or IMPORTED}"]
    record += [f"imported-at: {unit.imported_at}"] if unit.imported_at else []
    record += ["trusted"] if unit.reviewed else []
    return (*claims, *record)


def recorded_units(catalog: Catalog) -> list[MemoryUnit]:
    """The units of the workspace's compendium, as :func:`record_comments` wrote them: claimed
    provenance, the file and time of the import, and reviewed only when the operator trusted it
    (a compendium from before imports were recorded counts none reviewed)."""
    units = []
    for e in catalog.entries:
        if e.translated and e.msgid_plural is None:
            made = _comments(e)
            claims = "reviewed" in made
            units.append(
                MemoryUnit(
                    e.msgctxt,
                    e.msgid,
                    e.msgstr,
                    clean_provenance(made.get("origin", "")),
                    claims and "trusted" in made,
                    clean_provenance(made.get("partner", "")),
                    clean_provenance(made.get("kit", "")),
                    clean_date(made.get("date", "")),
                    "obsolete" in made,
                    clean_provenance(made.get("imported", "")) or IMPORTED,
                    clean_date(made.get("imported-at", "")),
                    claims,
                )
            )
    return units
