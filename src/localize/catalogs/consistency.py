"""Consistency of a locale across courses: one source, one translation, and the reverse.

Two kinds of finding over every catalog of record of a locale (translated, non-fuzzy,
singular entries):

* **warning**: the same source (msgid *and* msgctxt: ``data-translate-context`` and
  attribute units are different sources) translated differently in different courses;
* **information**: different sources translated identically, where the sources differ
  in more than case, punctuation, placeholders and English stop words ("the Syllabus" and
  "Syllabus." are the same source for this purpose; "Problem set" and "Homework" are not).

Each finding names every course, entry and, where the review ledger knows it, the partner
that produced the translation (:func:`localize.catalogs.review.provenance`).

Finding them reads every catalog of the locale, so the dashboard does not: each full run
(``localize consistency --locale LL``, or ``localize report --consistency``) leaves a small
summary in ``index/consistency/LL.json`` (counts, when, the first warnings), which the
dashboard reads, one object per locale.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localize.catalogs.review import provenance
from localize.catalogs.terms import tokens
from localize.catalogs.workspace import Workspace
from localize.locales import check_locale

__all__ = [
    "INFORMATION",
    "WARNING",
    "Finding",
    "Use",
    "find_inconsistencies",
    "read_summary",
    "save_summary",
    "source_words",
    "summary_key",
]

WARNING, INFORMATION = "warning", "information"
SAME_SOURCE, SAME_TRANSLATION = "same source, different translations", "different sources, same translation"

SHOWN = 10  # warnings kept in a summary
MESSAGE_CHARS = 300

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "nor",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "about",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "it's",
        "than",
        "then",
        "so",
        "if",
        "not",
        "no",
        "do",
        "does",
        "did",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
        "must",
        "shall",
        "our",
        "your",
        "their",
        "his",
        "her",
        "my",
        "we",
        "you",
        "they",
        "he",
        "she",
        "i",
        "me",
        "us",
        "them",
    ]
)


def source_words(text: str) -> tuple[str, ...]:
    """What two sources must differ in to count as different: their words, case-folded,
    without placeholders, punctuation and stop words."""
    return tuple(w for w in (t.casefold() for t in tokens(text)) if w not in STOP_WORDS)


@dataclass(frozen=True, slots=True)
class Use:
    """One translated entry of one course."""

    course: str
    msgctxt: str | None
    msgid: str
    msgstr: str
    partner: str = ""  # "" when unknown
    kit: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "course": self.course,
            "msgctxt": self.msgctxt,
            "msgid": self.msgid,
            "msgstr": self.msgstr,
            "partner": self.partner or None,
            "kit": self.kit or None,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # SAME_SOURCE or SAME_TRANSLATION
    severity: str  # WARNING or INFORMATION
    uses: tuple[Use, ...]  # sorted by course, then source, then translation

    @property
    def courses(self) -> list[str]:
        return sorted({u.course for u in self.uses})

    @property
    def partners(self) -> list[str]:
        return sorted({u.partner for u in self.uses if u.partner})

    def message(self) -> str:
        if self.kind == SAME_SOURCE:
            u = self.uses[0]
            context = f" (context {u.msgctxt!r})" if u.msgctxt is not None else ""
            variants = len({x.msgstr for x in self.uses})
            return f"{u.msgid!r}{context} is translated {variants} ways in {', '.join(self.courses)}"
        return (
            f"{self.uses[0].msgstr!r} translates {len({(x.msgctxt, x.msgid) for x in self.uses})} different "
            f"sources in {', '.join(self.courses)}"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message(),
            "courses": self.courses,
            "partners": self.partners,
            "entries": [u.as_dict() for u in self.uses],
        }


def uses_of(workspace: Workspace, locale: str, *, courses: list[str] | None = None) -> list[Use]:
    """Every translated, non-fuzzy, singular entry of ``locale``'s catalogs, with its partner."""
    out: list[Use] = []
    for course, ll in workspace.catalogs(locale=check_locale(locale)):
        if courses is not None and course not in courses:
            continue
        catalog = workspace.read_catalog(course, ll)
        made = provenance(workspace, catalog, course, ll)
        for e in catalog.entries:
            if e.obsolete or not e.translated or e.msgid_plural is not None:
                continue
            p = made.get(e.key)
            out.append(Use(course, e.msgctxt, e.msgid, e.msgstr, p.partner if p else "", p.kit if p else ""))
    return out


def find_inconsistencies(uses: list[Use]) -> list[Finding]:
    """Warnings first (by source), then information (by translation)."""
    order = sorted(uses, key=lambda u: (u.course, u.msgctxt or "", u.msgid, u.msgstr))
    by_source: dict[tuple[str | None, str], list[Use]] = defaultdict(list)
    by_text: dict[str, list[Use]] = defaultdict(list)
    for u in order:
        by_source[(u.msgctxt, u.msgid)].append(u)
        by_text[u.msgstr].append(u)
    findings: list[Finding] = []
    for key in sorted(by_source, key=lambda k: (k[1], k[0] or "")):
        group = by_source[key]
        if len({u.msgstr for u in group}) > 1:
            findings.append(Finding(SAME_SOURCE, WARNING, tuple(group)))
    for text in sorted(by_text):
        group = by_text[text]
        if len({source_words(u.msgid) for u in group}) > 1:
            findings.append(Finding(SAME_TRANSLATION, INFORMATION, tuple(group)))
    return findings


def summary_key(locale: str) -> str:
    return f"index/consistency/{check_locale(locale)}.json"


def save_summary(workspace: Workspace, locale: str, uses: list[Use], findings: list[Finding]) -> dict[str, Any]:
    """Record what a full run over ``locale`` found, for the dashboard; returns the summary."""
    warnings = [f for f in findings if f.severity == WARNING]
    body: dict[str, Any] = {
        "locale": check_locale(locale),
        "computed": datetime.now(UTC).isoformat(timespec="seconds"),
        "courses": len({u.course for u in uses}),
        "warnings": len(warnings),
        "information": len(findings) - len(warnings),
        "shown": [
            {"message": f.message()[:MESSAGE_CHARS], "courses": f.courses, "partners": f.partners}
            for f in warnings[:SHOWN]
        ],
    }
    data = (json.dumps(body, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
    workspace.storage.write_bytes(summary_key(locale), data)
    return body


def read_summary(workspace: Workspace, locale: str) -> dict[str, Any] | None:
    """The last summary of ``locale``, or None when there is none or it is damaged (derived
    state: the next full run writes it anew)."""
    try:
        raw = json.loads(workspace.storage.read_bytes(summary_key(locale)))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(raw, dict) or not all(
        isinstance(raw.get(k), int) for k in ("courses", "warnings", "information")
    ):
        return None
    listed = raw.get("shown")
    shown: list[Any] = listed if isinstance(listed, list) else []
    return {
        "computed": str(raw.get("computed", ""))[:32],
        "courses": raw["courses"],
        "warnings": raw["warnings"],
        "information": raw["information"],
        "shown": [
            {
                "message": str(f.get("message", ""))[:MESSAGE_CHARS],
                "courses": _strings(f.get("courses")),
                "partners": _strings(f.get("partners")),
            }
            for f in shown[:SHOWN]
            if isinstance(f, dict)
        ],
    }


def _strings(value: object) -> list[str]:
    return [v[:100] for v in value[:50] if isinstance(v, str)] if isinstance(value, list) else []
