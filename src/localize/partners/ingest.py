"""Taking returned translations back: archive, QA gate, three-way merge, report.

Only regular files are taken from a folder inbox: links (to anything), FIFOs,
devices and sockets are refused and reported without being opened
(:mod:`localize.partners.inbox`). For each returned file, a recorded sequence of
steps, *received → archived → checked → merged → reported*, kept in
``archive/returns/PARTNER/SHA256.ingest.json`` (written atomically after each
step): a run that was killed or hit a storage error part-way is continued by the
next one from the last completed step, and a file counts as "already ingested"
only once its report exists. Every step may run twice without harm (the merge is
computed once, at the check, and applied only onto the catalog it was computed
from).

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

import contextlib
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localize.catalogs.faults import kill_point
from localize.catalogs.memory import TranslationMemory
from localize.catalogs.po import read_po, write_po
from localize.catalogs.refresh import refresh
from localize.catalogs.workspace import Workspace
from localize.config import Config, Partner
from localize.errors import CatalogNotFoundError, LocalizeError, PoSyntaxError, printable
from localize.model import Catalog, Entry
from localize.partners.checks import ERROR, FILE_LEVEL, Limits, Problem
from localize.partners.inbox import LocalInbox, UnsafeEntryError, open_inbox, read_return, scan_returns
from localize.partners.qa import check_catalog
from localize.partners.routing import Assignment, assignment_key, load_assignments, save_assignment
from localize.partners.webhooks import flush_outbox, send_notice
from localize.storage.base import Storage
from localize.templating import render

__all__ = ["STEPS", "IngestReport", "ingest", "ingest_bytes"]

_KIT_HEADER = re.compile(rb"X-Localize-Kit:\s*([A-Za-z0-9._-]+)")
_KIT_ID = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


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
    # for the operator only (never in the partner's report): whose kit a misplaced file answers
    owner_note: str = field(default="", repr=False)

    def summary(self) -> str:
        if self.already:
            return printable(f"{self.file}: already ingested (archived as {self.archived}); nothing to do")
        where = f"{self.course}/{self.locale} kit {self.kit}" if self.course else "no kit"
        return printable(
            f"{self.file}: {self.state} ({where}): {self.accepted} accepted, {self.rejected} rejected, "
            f"{self.conflicts} conflicts, {self.unchanged} unchanged"
        )

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


def _find_assignment(
    workspace: Workspace, partner: Partner, data: bytes, catalog: Catalog | None
) -> tuple[Assignment | None, str, str]:
    """(this partner's assignment the file answers, why none was found, a note for the operator)."""
    if catalog is not None:
        kit = catalog.header("X-Localize-Kit")  # a parsed header, never text in a msgstr or comment
    else:
        m = _KIT_HEADER.search(data[:4096])
        kit = m.group(1).decode("ascii") if m else None
    every = load_assignments(workspace)
    assignments = [a for a in every if a.partner == partner.id]
    if kit:
        kit = kit.strip()
        for a in assignments:
            if a.kit == kit:
                return a, "", ""
        shown = kit if _KIT_ID.match(kit) else repr(kit[:40])
        owner = next((a for a in every if a.kit == kit), None)
        if owner is not None:
            return (
                None,
                f"this file answers kit {shown}, which was sent to another partner, not to {partner.id}: "
                f"this inbox is {partner.id}'s; return the file through the inbox of the partner the kit was sent to",
                f"kit {shown} belongs to partner {owner.partner!r} ({owner.course}/{owner.locale}); "
                f"it was dropped in the inbox of {partner.id!r}",
            )
        return (
            None,
            f"no kit {shown} was sent to {partner.id} (X-Localize-Kit header); send the file from a kit you received",
            "",
        )
    if catalog is not None:
        course = catalog.header("X-Localize-Course") or catalog.header("Project-Id-Version")
        locale = catalog.header("X-Localize-Locale") or catalog.header("Language")
        candidates = [a for a in assignments if a.course == course and a.locale == locale]
        if candidates:
            return candidates[-1], "", ""
    return (
        None,
        "cannot tell which kit this file answers (no X-Localize-Kit header); send the file from the kit you received",
        "",
    )


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


STEPS = ("received", "archived", "checked", "merged", "reported")


def _state_key(partner: str, digest: str) -> str:
    return f"archive/returns/{partner}/{digest}.ingest.json"


def _staged_key(partner: str, digest: str) -> str:
    return f"archive/returns/{partner}/{digest}.merged.po"


def _sha(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def _load_state(workspace: Workspace, key: str) -> dict[str, Any] | None:
    try:
        raw = json.loads(workspace.storage.read_bytes(key))
    except FileNotFoundError:
        return None
    except ValueError:
        return None  # a damaged record: start again from the archived bytes (every step is idempotent)
    return raw if isinstance(raw, dict) and raw.get("step") in STEPS else None


def _save_state(workspace: Workspace, key: str, state: dict[str, Any], step: str) -> None:
    state["step"] = step
    data = (json.dumps(state, indent=2, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode("utf-8")
    workspace.storage.write_bytes(key, data)
    kill_point(f"ingest:{step}")


def _legacy_archive(workspace: Workspace, partner: str, digest: str) -> str | None:
    """An archive written before returns had a state record (``STAMP-DIGEST16-NAME``)."""
    for key in workspace.storage.list(f"archive/returns/{partner}"):
        if f"-{digest[:16]}-" in key.rsplit("/", 1)[-1] and not key.endswith((".ingest.json", ".merged.po")):
            return key
    return None


def _reported_before(workspace: Workspace, partner: str, digest: str) -> bool:
    return any(
        r.get("sha256") == digest for a in load_assignments(workspace) if a.partner == partner for r in a.returns
    )


def ingest_bytes(
    config: Config,
    partner: Partner,
    name: str,
    data: bytes,
    *,
    inbox: Storage | None = None,
    now: datetime | None = None,
) -> IngestReport:
    """Ingest one returned file (``name`` is how the partner named it), continuing an
    earlier run that stopped part-way (the steps are recorded beside the archive)."""
    workspace = Workspace(config.workspace_location)
    inbox = inbox or open_inbox(config.resolve(partner.inbox))
    digest = hashlib.sha256(data).hexdigest()
    state_key = _state_key(partner.id, digest)
    state = _load_state(workspace, state_key)
    if state is None:
        legacy = _legacy_archive(workspace, partner.id, digest)
        if legacy is not None and _reported_before(workspace, partner.id, digest):
            return IngestReport(partner.id, name, digest, workspace.describe(legacy), already=True, state="duplicate")
        when = now or datetime.now(UTC)
        safe_name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[:100] or "returned.po"
        state = {
            "version": 1,
            "partner": partner.id,
            "file": name,
            "sha256": digest,
            "at": when.isoformat(),
            "archive": legacy
            or f"archive/returns/{partner.id}/{when.strftime('%Y%m%dT%H%M%S')}-{digest[:16]}-{safe_name}",
        }
        _save_state(workspace, state_key, state, "received")
    if state["step"] == "reported":
        return replace(IngestReport.from_dict(state["report"]), file=name, already=True, state="duplicate", entries=())
    when = datetime.fromisoformat(state["at"])
    archive_key = str(state["archive"])
    if state["step"] == "received":
        workspace.storage.write_bytes(archive_key, data)  # before anything else
        _save_state(workspace, state_key, state, "archived")
    staged_key = _staged_key(partner.id, digest)
    while state["step"] in ("archived", "checked"):
        if state["step"] == "archived":
            report, plan, staged = _check(config, workspace, partner, str(state["file"]), data, digest, archive_key)
            if staged is not None:
                workspace.storage.write_bytes(staged_key, staged)
            state["report"] = report.as_dict()
            state["owner_note"] = report.owner_note
            state["merge"] = plan
            _save_state(workspace, state_key, state, "checked")
        if _apply_merge(workspace, state.get("merge"), staged_key):
            _save_state(workspace, state_key, state, "merged")
        else:
            state["step"] = "archived"  # the catalog moved on since the check: check and merge again
    report = replace(IngestReport.from_dict(state["report"]), owner_note=str(state.get("owner_note") or ""))
    if state["step"] == "merged":
        report = _finish(workspace, inbox, partner, report, when)
        state["report"] = report.as_dict()
        _save_state(workspace, state_key, state, "reported")
        workspace.storage.delete(staged_key)
    return report


def _apply_merge(workspace: Workspace, plan: dict[str, Any] | None, staged_key: str) -> bool:
    """Make the catalog of record what the check computed; False when it changed meanwhile."""
    if plan is None:
        return True
    key = str(plan["catalog"])
    try:
        current: bytes | None = workspace.storage.read_bytes(key)
    except FileNotFoundError:
        current = None
    now_sha = _sha(current)
    if now_sha == plan["after"]:
        return True
    if now_sha != plan["before"]:
        return False
    try:
        staged = workspace.storage.read_bytes(staged_key)
    except FileNotFoundError:
        return False
    workspace.write(key, read_po(staged, workspace.describe(staged_key)))
    kill_point("ingest:catalog-written")
    return True


_QUOTING = (
    (re.compile(r"^expected a quoted string, found .*$", re.S), 'expected a quoted string ("...") here'),
    (
        re.compile(r"^unexpected .*: expected msgctxt, msgid, msgid_plural, msgstr or a comment$", re.S),
        "unexpected text: expected msgctxt, msgid, msgid_plural, msgstr or a comment",
    ),
)


def _syntax_message(message: str) -> str:
    """A syntax error for the partner's report: what is wrong and where, never a quote of
    an arbitrary line (the file may not be a PO file at all)."""
    for pattern, replacement in _QUOTING:
        if pattern.match(message):
            return replacement
    return message


def _check(
    config: Config, workspace: Workspace, partner: Partner, name: str, data: bytes, digest: str, archive_key: str
) -> tuple[IngestReport, dict[str, Any] | None, bytes | None]:
    """The QA gate and the three-way merge, computed but not applied: (report, merge plan, merged catalog)."""
    report = IngestReport(partner.id, name, digest, workspace.describe(archive_key))
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
            problems.append(Problem(name, e.line or 1, ERROR, "syntax", _syntax_message(e.message)))
    assignment, kit_problem, owner_note = _find_assignment(workspace, partner, data, catalog)
    report = replace(report, owner_note=owner_note)
    if assignment is None:
        problems.append(Problem(name, 1, ERROR, "kit", kit_problem))
        return replace(report, problems=tuple(problems)), None, None
    report = replace(report, kit=assignment.kit, course=assignment.course, locale=assignment.locale)
    if catalog is None:
        return replace(report, problems=tuple(problems)), None, None
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
        return replace(report, problems=tuple(problems)), None, None
    blocked: dict[tuple[str | None, str], list[str]] = {}
    for p in problems:
        if p.severity == ERROR and p.key is not None:
            blocked.setdefault(p.key, []).append(f"{p.check}: {p.message}")
    catalog_key = workspace.catalog_key(assignment.course, assignment.locale)
    try:
        before: bytes | None = workspace.storage.read_bytes(catalog_key)
    except FileNotFoundError:
        before = None
    ours = _catalog_of_record(workspace, assignment.course, assignment.locale, base)
    merged, outcomes = _three_way(catalog, base, ours, blocked, partner.id, accept_fuzzy=config.qa.accept_fuzzy)
    staged = write_po(merged).encode("utf-8")
    plan = {
        "catalog": catalog_key,
        "before": _sha(before),
        # what Workspace.write makes of the staged catalog
        "after": _sha(write_po(read_po(staged, "staged")).encode("utf-8")),
    }
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
    return report, plan, staged


def _report_stem(report: IngestReport) -> str:
    return f"{report.kit or 'unknown-kit'}-{report.sha256[:12]}"


def _write_reports(inbox: Storage, report: IngestReport) -> IngestReport:
    stem = _report_stem(report)
    report = replace(report, report=inbox.describe(f"reports/{stem}.html"))
    payload = report.as_dict()
    inbox.write_bytes(
        f"reports/{stem}.json", (json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    )
    inbox.write_bytes(f"reports/{stem}.html", render_report(report).encode("utf-8"))
    return report


def _finish(
    workspace: Workspace,
    inbox: Storage,
    partner: Partner,
    report: IngestReport,
    now: datetime,
) -> IngestReport:
    """Report to the partner and record the return on its assignment; every part may run twice."""
    report = _write_reports(inbox, report)
    kill_point("ingest:report-written")
    assignment = next((a for a in load_assignments(workspace) if a.partner == partner.id and a.kit == report.kit), None)
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
        others = tuple(r for r in assignment.returns if r.get("sha256") != report.sha256)
        save_assignment(workspace, replace(assignment, state=report.state, returns=(*others, record)))
    send_notice(
        workspace,
        partner,
        "qa.report",
        {"file": report.file, "state": report.state, "report": report.report, "kit": report.kit},
        f"qa-{report.sha256[:32]}",
    )
    return report


def _refuse(
    workspace: Workspace,
    inbox: Storage,
    partner: Partner,
    key: str,
    why: str,
    *,
    check: str = "file-type",
    move: bool = True,
) -> IngestReport:
    """A report for an inbox entry that is not taken at all (nothing of it is read)."""
    name = key.rsplit("/", 1)[-1]
    digest = hashlib.sha256(f"refused\0{key}\0{why}".encode("utf-8", "surrogateescape")).hexdigest()
    report = IngestReport(
        partner.id,
        name,
        digest,
        "",
        kit="refused",
        problems=(Problem(name, 1, ERROR, check, why),),
    )
    report = _write_reports(inbox, report)
    if move and key != "returns" and isinstance(inbox, LocalInbox):
        with contextlib.suppress(LocalizeError):  # else reported again next time
            inbox.rename(key, f"returns/processed/{name}")
    send_notice(
        workspace,
        partner,
        "qa.report",
        {"file": name, "state": report.state, "report": report.report, "kit": None},
        f"qa-{digest[:32]}",
    )
    return report


def render_report(report: IngestReport) -> str:
    """A self-contained HTML page a partner coordinator can read."""
    colour = {"accepted": "#1b7f3b", "partially accepted": "#a86400", "rejected": "#b00020"}.get(report.state, "#444")
    return render("qa_report.html", report=report, colour=colour)


def _display_name(name: str) -> str:
    """A file name as text (undecodable bytes replaced), for reports and records."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _delete_if_unchanged(inbox: Storage, key: str, digest: str) -> None:
    """Remove a processed return unless the partner replaced it meanwhile (then it is ingested next time)."""
    try:
        if hashlib.sha256(inbox.read_bytes(key)).hexdigest() != digest:
            return
    except (FileNotFoundError, LocalizeError):
        return
    inbox.delete(key)


def ingest(config: Config, partner_id: str, path: str | None = None) -> list[IngestReport]:
    """Ingest one returned file (a local path) or every file in ``returns/`` of an inbox."""
    partner = config.partner(partner_id)
    workspace = Workspace(config.workspace_location)
    flush_outbox(workspace, [partner])
    limit = config.qa.max_file_bytes
    if path is not None and not path.startswith("s3://") and (not Path(path).is_dir() or path.lower().endswith(".po")):
        folder = LocalInbox(Path(path).parent)
        data, size = read_return(folder, Path(path).name, limit)
        if data is None:  # never read: only its size is reported
            inbox = open_inbox(config.resolve(partner.inbox))
            return [_oversize(workspace, inbox, partner, Path(path).name, size, limit, move=False)]
        return [ingest_bytes(config, partner, _display_name(Path(path).name), data)]
    inbox = open_inbox(config.resolve(path or partner.inbox))
    files, refused = scan_returns(inbox)
    reports = [
        _refuse(
            workspace,
            inbox,
            partner,
            r.key,
            f"{_display_name(r.key)} is {r.what}: only regular files are taken from an inbox "
            "(localize never follows links); save the .po file itself into returns/",
        )
        for r in refused
    ]
    for key in files:
        if not key.lower().endswith(".po"):
            continue
        name = key.rsplit("/", 1)[-1]
        try:
            data, size = read_return(inbox, key, limit)
        except FileNotFoundError:
            continue
        except UnsafeEntryError:
            reports.append(
                _refuse(
                    workspace,
                    inbox,
                    partner,
                    key,
                    f"{_display_name(key)} was replaced by something that is not a regular file while it was "
                    "being read; save the .po file itself into returns/",
                )
            )
            continue
        if data is None:
            reports.append(_oversize(workspace, inbox, partner, key, size, limit))
            continue
        report = ingest_bytes(config, partner, _display_name(name), data, inbox=inbox)
        reports.append(report)
        inbox.write_bytes(f"returns/processed/{name}", data)
        kill_point("ingest:processed-copied")
        _delete_if_unchanged(inbox, key, report.sha256)
    return reports


def _oversize(
    workspace: Workspace, inbox: Storage, partner: Partner, key: str, size: int, limit: int, *, move: bool = True
) -> IngestReport:
    """A file over ``[qa] max_file_bytes`` in a folder inbox: refused unread (moved to returns/processed/)."""
    return _refuse(
        workspace,
        inbox,
        partner,
        key,
        f"the file has {size} bytes, more than the limit of {limit} ([qa] max_file_bytes); it was not read. "
        "Split the work or ask your coordinator",
        check="size",
        move=move,
    )
