"""Taking returned translations back: archive, QA gate, three-way merge, report.

For each returned file:

1. the bytes are archived unchanged in the workspace (``archive/returns/PARTNER/``)
   before anything else, so nothing a partner sends is ever lost;
2. the file is checked (:mod:`localize.partners.checks`); file-level errors (syntax, wrong
   language, plural forms) reject the whole file, entry-level errors reject
   only their entries;
3. the entries that pass are merged three-way against the kit the partner
   received: an entry the partner left as it was never overwrites a newer
   translation; if the catalog changed meanwhile (another return) and the
   partner's translation differs, it is kept as a fuzzy suggestion and the
   conflict is reported;
4. a QA report (JSON and a readable HTML page) goes to the partner's inbox and
   the assignment's state is updated.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localize.catalogs.memory import TranslationMemory
from localize.catalogs.po import read_po
from localize.catalogs.refresh import refresh
from localize.catalogs.workspace import Workspace
from localize.config import Config, Partner
from localize.errors import CatalogNotFoundError, ConfigError, LocalizeError, PoSyntaxError
from localize.model import Catalog, Entry
from localize.partners.checks import ERROR, FILE_LEVEL, Limits, Problem
from localize.partners.qa import check_catalog
from localize.partners.routing import Assignment, assignment_key, load_assignments, save_assignment
from localize.partners.webhooks import notify
from localize.storage.base import Storage
from localize.storage.locations import open_storage
from localize.templating import render

__all__ = ["IngestReport", "ingest", "ingest_bytes"]

_KIT_HEADER = re.compile(rb"X-Localize-Kit:\s*([A-Za-z0-9._-]+)")


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
    problems: tuple[Problem, ...] = ()
    notes: tuple[str, ...] = ()
    report: str = ""
    already: bool = False
    entries: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def summary(self) -> str:
        if self.already:
            return f"{self.file}: already ingested (archived as {self.archived}); nothing to do"
        where = f"{self.course}/{self.locale} kit {self.kit}" if self.kit else "no kit"
        return (
            f"{self.file}: {self.state} ({where}): {self.accepted} accepted, {self.rejected} rejected, "
            f"{self.conflicts} conflicts, {self.unchanged} unchanged"
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["problems"] = [asdict(p) | {"key": list(p.key) if p.key else None} for p in self.problems]
        out["entries"] = list(self.entries)
        return out


def _find_assignment(workspace: Workspace, partner: Partner, data: bytes, catalog: Catalog | None) -> Assignment | None:
    m = _KIT_HEADER.search(data)
    kit = m.group(1).decode("ascii") if m else None
    assignments = [a for a in load_assignments(workspace) if a.partner == partner.id]
    if kit:
        for a in assignments:
            if a.kit == kit:
                return a
    if catalog is not None:
        course = catalog.header("X-Localize-Course") or catalog.header("Project-Id-Version")
        locale = catalog.header("X-Localize-Locale") or catalog.header("Language")
        candidates = [a for a in assignments if a.course == course and a.locale == locale]
        if candidates:
            return candidates[-1]
    return None


def _same(a: Entry, b: Entry) -> bool:
    return a.msgstr == b.msgstr and a.msgstr_plural == b.msgstr_plural and a.fuzzy == b.fuzzy


def _three_way(
    theirs: Catalog,
    base: Catalog,
    ours: Catalog,
    blocked: dict[tuple[str | None, str], list[str]],
    partner: str,
    *,
    accept_fuzzy: bool,
) -> tuple[Catalog, list[dict[str, Any]]]:
    base_index, ours_index = base.index(), ours.index()
    updated: dict[tuple[str | None, str], Entry] = {}
    outcomes: list[dict[str, Any]] = []

    def record(e: Entry, status: str, reason: str = "") -> None:
        outcomes.append({"line": e.lineno, "msgctxt": e.msgctxt, "msgid": e.msgid, "status": status, "reason": reason})

    for t in theirs.entries:
        if t.obsolete:
            continue
        b = base_index.get(t.key)
        if t.key in blocked:
            record(t, "rejected", "; ".join(blocked[t.key]))
            continue
        if b is None:
            continue  # reported as edited-source
        if _same(t, b) or not (t.msgstr or any(t.msgstr_plural)):
            record(t, "unchanged")
            continue
        o = ours_index.get(t.key)
        if o is None:
            record(t, "stale", "no longer in the course (it changed after the kit was sent); kept in the archive")
            continue
        if t.fuzzy and not accept_fuzzy and o.translated:
            record(t, "unchanged", "marked fuzzy by the translator; the current translation stays")
            continue
        flags = tuple(f for f in t.flags if f != "fuzzy" or (t.fuzzy and not accept_fuzzy))
        if _same(o, b) or not (o.msgstr or any(o.msgstr_plural)):
            updated[t.key] = replace(
                o,
                msgstr=t.msgstr,
                msgstr_plural=t.msgstr_plural,
                flags=flags,
                translator_comments=t.translator_comments or o.translator_comments,
                previous_msgid=None,
                previous_msgctxt=None,
            )
            record(t, "accepted")
        elif o.msgstr == t.msgstr and o.msgstr_plural == t.msgstr_plural:
            record(t, "accepted", "same as the current translation")
        else:
            note = f"conflict: {partner} returned this after a different translation was accepted: {o.msgstr!r}"
            updated[t.key] = replace(
                o,
                msgstr=t.msgstr,
                msgstr_plural=t.msgstr_plural,
                flags=tuple(sorted({*o.flags, "fuzzy"})),
                translator_comments=(*o.translator_comments, note),
            )
            record(t, "conflict", "kept as a fuzzy suggestion; the translation accepted earlier is in a comment")
    entries = tuple(updated.get(e.key, e) if not e.obsolete else e for e in ours.entries)
    return replace(ours, entries=entries), outcomes


def _catalog_of_record(workspace: Workspace, course: str, locale: str, kit: Catalog) -> Catalog:
    """The catalog the return merges into, holding every entry the kit had
    (route does not write the catalog of record, so a new locale has none yet and
    a kit may carry entries of a newer template)."""
    try:
        ours: Catalog | None = workspace.read_catalog(course, locale)
    except CatalogNotFoundError:
        ours = None
    known = ours.index() if ours is not None else {}
    if ours is not None and all(e.key in known for e in kit.entries if not e.obsolete):
        return ours
    return refresh(ours, workspace.read_template(course), course, locale, TranslationMemory([])).catalog


def ingest_bytes(
    config: Config,
    partner: Partner,
    name: str,
    data: bytes,
    *,
    inbox: Storage | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Ingest one returned file (``name`` is how the partner named it)."""
    now = now or datetime.now(UTC)
    workspace = Workspace(config.workspace_location)
    inbox = inbox or open_storage(config.resolve(partner.inbox))
    digest = hashlib.sha256(data).hexdigest()
    safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name) or "returned.po"
    for key in workspace.storage.list(f"archive/returns/{partner.id}"):
        if f"-{digest[:16]}-" in key:
            return IngestReport(partner.id, name, digest, workspace.describe(key), already=True, state="duplicate")
    archive_key = f"archive/returns/{partner.id}/{now.strftime('%Y%m%dT%H%M%S')}-{digest[:16]}-{safe_name}"
    workspace.storage.write_bytes(archive_key, data)  # before anything else
    archived = workspace.describe(archive_key)
    report = IngestReport(partner.id, name, digest, archived)
    catalog: Catalog | None = None
    problems: list[Problem] = []
    limits = Limits(config.qa.max_file_bytes, config.qa.max_string_chars)
    if len(data) > limits.max_file_bytes:
        problems.append(
            Problem(
                name,
                1,
                ERROR,
                "size",
                f"the file has {len(data)} bytes, more than the limit of {limits.max_file_bytes} ([qa] max_file_bytes)",
            )
        )
    elif not data.strip():
        problems.append(Problem(name, 1, ERROR, "syntax", "the file is empty"))
    else:
        try:
            catalog = read_po(data, name)
        except PoSyntaxError as e:
            problems.append(Problem(name, e.line or 1, ERROR, "syntax", e.message))
    assignment = _find_assignment(workspace, partner, data, catalog)
    if assignment is None:
        problems.append(
            Problem(
                name,
                1,
                ERROR,
                "kit",
                "cannot tell which kit this file answers (no X-Localize-Kit header); send the file from the kit you received",
            )
        )
        return _finish(workspace, inbox, partner, replace(report, problems=tuple(problems)), None, now)
    report = replace(report, kit=assignment.kit, course=assignment.course, locale=assignment.locale)
    if catalog is None:
        return _finish(workspace, inbox, partner, replace(report, problems=tuple(problems)), assignment, now)
    base = read_po(
        workspace.storage.read_bytes(assignment_key(assignment.course, assignment.locale, assignment.kit, "po")), "kit"
    )
    problems = check_catalog(
        catalog,
        name,
        locale=assignment.locale,
        template=base,
        qa_max=config.qa.max_length_ratio,
        qa_min=config.qa.min_length_ratio,
        source_locale=config.workspace.source_locale,
        checks=partner.checks,
        limits=limits,
    )
    if any(p.severity == ERROR and p.check in FILE_LEVEL for p in problems):
        return _finish(workspace, inbox, partner, replace(report, problems=tuple(problems)), assignment, now)
    blocked: dict[tuple[str | None, str], list[str]] = {}
    for p in problems:
        if p.severity == ERROR and p.key is not None:
            blocked.setdefault(p.key, []).append(f"{p.check}: {p.message}")
    ours = _catalog_of_record(workspace, assignment.course, assignment.locale, base)
    merged, outcomes = _three_way(catalog, base, ours, blocked, partner.id, accept_fuzzy=config.qa.accept_fuzzy)
    workspace.write(workspace.catalog_key(assignment.course, assignment.locale), merged)
    count = {
        s: sum(1 for o in outcomes if o["status"] == s)
        for s in ("accepted", "rejected", "unchanged", "conflict", "stale")
    }
    rejected = count["rejected"]  # edited msgids are blocked entries: counted once, there
    if rejected and (count["accepted"] or count["conflict"]):
        state = "partially accepted"
    elif rejected:
        state = "rejected"
    else:
        state = "accepted"
    report = replace(
        report,
        state=state,
        accepted=count["accepted"],
        rejected=rejected,
        unchanged=count["unchanged"],
        conflicts=count["conflict"],
        stale=count["stale"],
        problems=tuple(problems),
        entries=tuple(outcomes),
    )
    return _finish(workspace, inbox, partner, report, assignment, now)


def _finish(
    workspace: Workspace,
    inbox: Storage,
    partner: Partner,
    report: IngestReport,
    assignment: Assignment | None,
    now: datetime,
) -> IngestReport:
    stem = f"{report.kit or 'unknown-kit'}-{report.sha256[:12]}"
    report = replace(report, report=inbox.describe(f"reports/{stem}.html"))
    payload = report.as_dict()
    inbox.write_bytes(
        f"reports/{stem}.json", (json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    )
    inbox.write_bytes(f"reports/{stem}.html", render_report(report).encode("utf-8"))
    if assignment is not None:
        record = {
            "at": now.isoformat(timespec="seconds"),
            "file": report.file,
            "sha256": report.sha256,
            "archived": report.archived,
            "state": report.state,
            "accepted": report.accepted,
            "rejected": report.rejected,
            "conflicts": report.conflicts,
            "report": report.report,
        }
        save_assignment(workspace, replace(assignment, state=report.state, returns=(*assignment.returns, record)))
    notify(
        partner, "qa.report", {"file": report.file, "state": report.state, "report": report.report, "kit": report.kit}
    )
    return report


def render_report(report: IngestReport) -> str:
    """A self-contained HTML page a partner coordinator can read."""
    colour = {"accepted": "#1b7f3b", "partially accepted": "#a86400", "rejected": "#b00020"}.get(report.state, "#444")
    return render("qa_report.html", report=report, colour=colour)


def ingest(config: Config, partner_id: str, path: str | None = None) -> list[IngestReport]:
    """Ingest one returned file (a local path) or every file in ``returns/`` of an inbox."""
    partner = config.partner(partner_id)
    if path is not None and (Path(path).is_file() or (path.lower().endswith(".po") and not path.startswith("s3://"))):
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise ConfigError(f"cannot read {path}: {e.strerror}") from e
        return [ingest_bytes(config, partner, Path(path).name, data)]
    inbox = open_storage(config.resolve(path or partner.inbox))
    reports = []
    for key in inbox.list("returns"):
        if not key.lower().endswith(".po") or "/processed/" in key:
            continue
        data = inbox.read_bytes(key)
        try:
            reports.append(ingest_bytes(config, partner, key.rsplit("/", 1)[-1], data, inbox=inbox))
        except LocalizeError:
            raise
        inbox.write_bytes(f"returns/processed/{key.rsplit('/', 1)[-1]}", data)
        inbox.delete(key)
    return reports
