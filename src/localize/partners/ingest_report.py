"""What the QA gate says of one returned file: counts, problems, the outcome of each entry.

Printed by ``ingest`` (:meth:`IngestReport.summary`), sent to the partner as JSON and HTML,
and kept beside the archived return so that a rerun says the same.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from localize.errors import printable
from localize.partners.checks import Problem
from localize.storage.base import Storage
from localize.templating import render

__all__ = ["FUZZY_KEPT", "FUZZY_SUGGESTION", "IngestReport", "render_report", "write_reports"]

FUZZY_KEPT = "marked fuzzy by the translator; the current translation stays"
FUZZY_SUGGESTION = "kept fuzzy, as the translator marked it: not on the pages until someone confirms it"


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class IngestReport:
    partner: str
    file: str
    sha256: str
    archived: str
    kit: str | None = None
    course: str | None = None
    locale: str | None = None
    state: str = "rejected"
    accepted: int = 0
    rejected: int = 0
    unchanged: int = 0
    conflicts: int = 0
    stale: int = 0
    reviewed: int = 0
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    report: str = ""
    already: bool = False
    entries: tuple[dict[str, Any], ...] = field(default=(), repr=False)
    # for the operator only (never in the partner's report): whose kit a misplaced file answers
    owner_note: str = field(default="", repr=False)

    def summary(self) -> str:
        if self.already:
            return printable(f"{self.file}: already ingested (archived as {self.archived}); nothing to do")
        where = f"{self.course}/{self.locale} kit {self.kit}" if self.course else "no kit"
        signed = sum(1 for o in self.entries if o.get("reviewed"))
        fuzzy = sum(1 for o in self.entries if o.get("reason") == FUZZY_SUGGESTION)
        accepted = f"{self.accepted} accepted" + (f" ({fuzzy} as fuzzy)" if fuzzy else "")
        counts = f"{accepted}, {self.rejected} rejected, {_n(self.conflicts, 'conflict')}, "
        counts += f"{self.stale} stale, " if self.stale else ""
        return printable(
            f"{self.file}: {self.state} ({where}): {counts}{self.unchanged} unchanged"
            + (f"; {signed} signed off" if signed else "")
        )

    def set_aside(self) -> list[dict[str, Any]]:
        """The entries of the return that did not land as translations: conflicts, stale ones, and
        translations the partner marked fuzzy where an accepted one stays."""
        return [
            o
            for o in self.entries
            if o.get("status") in ("conflict", "stale") or o.get("reason") in (FUZZY_KEPT, FUZZY_SUGGESTION)
        ]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["owner_note"]
        out["problems"] = [asdict(p) | {"key": list(p.key) if p.key else None} for p in self.problems]
        out["entries"] = list(self.entries)
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> IngestReport:
        values = dict(raw)
        values["problems"] = tuple(
            Problem(**(p | {"key": tuple(p["key"]) if p.get("key") else None})) for p in raw.get("problems", ())
        )
        values["entries"] = tuple(raw.get("entries", ()))
        values["notes"] = tuple(raw.get("notes", ()))
        return cls(**values)


def _report_stem(report: IngestReport) -> str:
    return f"{report.kit or 'unknown-kit'}-{report.sha256[:12]}"


def write_reports(inbox: Storage, report: IngestReport) -> IngestReport:
    """The report as JSON and HTML in the partner's inbox (``reports/``), and where the HTML is."""
    stem = _report_stem(report)
    report = replace(report, report=inbox.describe(f"reports/{stem}.html"))
    payload = report.as_dict()
    inbox.write_bytes(
        f"reports/{stem}.json", (json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    )
    inbox.write_bytes(f"reports/{stem}.html", render_report(report).encode("utf-8"))
    return report


def render_report(report: IngestReport) -> str:
    """A self-contained HTML page a partner coordinator can read."""
    colour = {"accepted": "#1b7f3b", "partially accepted": "#a86400", "rejected": "#b00020"}.get(report.state, "#444")
    return render("qa_report.html", report=report, colour=colour)
