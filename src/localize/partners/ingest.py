"""Taking returned translations back: archive, QA gate, three-way merge, report.

Only regular files are taken from a folder inbox: links (to anything), FIFOs,
devices and sockets are refused and reported without being opened
(:mod:`localize.partners.inbox`). For each returned file, a recorded sequence of
steps, *received → archived → checked → merged → reported*, kept in
``archive/returns/PARTNER/SHA256.ingest.json`` (written atomically after each
step): a run that was killed or hit a storage error part-way is continued by the
next one from the last completed step, and a file counts as "already ingested"
only once its report exists. Every step may run twice without harm (the merge is computed
once, at the check, and applied only onto the catalog it was computed from).

1. the bytes are archived unchanged in the workspace (``archive/returns/PARTNER/``)
   before anything else, so nothing a partner sends is ever lost;
2. the file is checked (:mod:`localize.partners.gate`, :mod:`localize.partners.checks`); file-level errors (syntax,
   wrong language, plural forms) reject the whole file, entry-level errors only their entries;
3. the entries that pass are merged three-way against the kit the partner
   received: an entry the partner left as it was never overwrites a newer translation; a later
   return of the same kit corrects the partner's own earlier one; if the catalog changed meanwhile
   otherwise and the partner's translation differs, the accepted one stays and the partner's is
   kept beside it in a comment (a conflict, reported);
4. a QA report (JSON and a readable HTML page) goes to the partner's inbox and
   the assignment's state is updated.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localize.catalogs.faults import kill_point
from localize.catalogs.memory_index import reindex
from localize.catalogs.po import read_po
from localize.catalogs.review import record_review
from localize.catalogs.workspace import Workspace
from localize.config import Config, Partner
from localize.errors import CatalogChanged, CatalogError, LocalizeError, printable
from localize.partners.assignments import assignments_of_kit, load_assignments, save_assignment, with_return
from localize.partners.checks import ERROR, Problem
from localize.partners.gate import IngestReport, check_return, sha256_or_none
from localize.partners.inbox import LocalInbox, UnsafeEntryError, open_inbox, read_return, scan_returns
from localize.partners.ingest_report import write_reports
from localize.partners.webhooks import flush_outbox, send_notice
from localize.storage.base import Storage

__all__ = ["STEPS", "IngestReport", "ingest", "ingest_bytes", "skipped_returns"]

STEPS = ("received", "archived", "checked", "merged", "reported")
RETURN_SUFFIXES = (".po", ".xlf", ".xliff")


def _state_key(partner: str, digest: str) -> str:
    return f"archive/returns/{partner}/{digest}.ingest.json"


def _staged_key(partner: str, digest: str) -> str:
    return f"archive/returns/{partner}/{digest}.merged.po"


def _load_state(workspace: Workspace, key: str) -> dict[str, Any] | None:
    """A return's record; None: none, :data:`_DAMAGED`: damaged (begun again: every step is idempotent)."""
    try:
        raw = json.loads(workspace.storage.read_bytes(key))
    except FileNotFoundError:
        return None
    except ValueError:
        return _DAMAGED
    return raw if isinstance(raw, dict) and raw.get("step") in STEPS else _DAMAGED


def _save_state(workspace: Workspace, key: str, state: dict[str, Any], step: str) -> None:
    state["step"] = step
    data = (json.dumps(state, indent=2, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    workspace.storage.write_bytes(key, data)
    kill_point(f"ingest:{step}")


def _legacy_archive(workspace: Workspace, partner: str, digest: str, *, damaged: bool) -> str | None:
    """An archive from before state records (``STAMP-DIGEST16-NAME``, no ``DIGEST.ingest.json``), or
    whose record is ``damaged``. Every archive since has its record, written first: once a look
    finds none without one, a marker says so, and later returns list no history."""
    folder = f"archive/returns/{partner}"
    if not damaged and workspace.storage.exists(f"{folder}/{_ALL_RECORDED}"):
        return None
    keys = [k.rsplit("/", 1)[-1] for k in workspace.storage.list(folder)]
    recorded = {k[:16] for k in keys if k.endswith(".ingest.json")}
    archived = [k for k in keys if not k.endswith((".ingest.json", ".merged.po")) and k != _ALL_RECORDED]
    if all(k.split("-")[1:2] and k.split("-")[1] in recorded for k in archived):
        workspace.storage.write_bytes(f"{folder}/{_ALL_RECORDED}", b"{}\n")
    return next((f"{folder}/{k}" for k in archived if f"-{digest[:16]}-" in k), None)


_ALL_RECORDED = "_all-recorded.json"  # never an archive's name (a time stamp) or a record's (hex)
_DAMAGED: dict[str, Any] = {}  # a return's record that is there but damaged


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
    if state is None or state is _DAMAGED:
        legacy = _legacy_archive(workspace, partner.id, digest, damaged=state is _DAMAGED)
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
            report, plan, staged = check_return(
                config, workspace, partner, str(state["file"]), data, digest, archive_key
            )
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
        workspace.storage.delete(staged_key)  # applied; the merged step is done
        _save_state(workspace, state_key, state, "reported")
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
    now_sha = sha256_or_none(current)
    if now_sha == plan["after"]:
        if current is not None:  # written by a run killed before its record: the day's progress
            workspace.ensure_history_at(key, current)
        return True
    if now_sha != plan["before"]:
        return False
    try:
        staged = workspace.storage.read_bytes(staged_key)
    except FileNotFoundError:
        return False
    try:  # only over the catalog the check merged with: another ingest may write between
        workspace.write(key, read_po(staged, workspace.describe(staged_key)), based_on=current)
    except CatalogChanged:
        return False
    kill_point("ingest:catalog-written")
    return True


def _finish(
    workspace: Workspace,
    inbox: Storage,
    partner: Partner,
    report: IngestReport,
    now: datetime,
) -> IngestReport:
    """Report to the partner and record the return on its assignment; every part may run twice."""
    report = write_reports(inbox, report)
    kill_point("ingest:report-written")
    assignment = (
        next(
            (
                a
                for a in assignments_of_kit(workspace, str(report.kit), course=report.course, locale=report.locale)
                if a.partner == partner.id
            ),
            None,
        )
        if report.kit
        else None
    )
    if assignment is not None and report.entries:
        _record_review(workspace, assignment.course, assignment.locale, partner.id, report, now)
    if assignment is not None:
        reindex(workspace, assignment.course, assignment.locale)  # the memory: the catalog and its provenance
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
        outcome = report.state  # merged over what a routing may have written meanwhile
        save_assignment(
            workspace, with_return(assignment, outcome, record), merge=lambda s: with_return(s, outcome, record)
        )
    send_notice(
        workspace,
        partner,
        "qa.report",
        {"file": report.file, "state": report.state, "report": report.report, "kit": report.kit},
        f"qa-{report.sha256[:32]}",
    )
    return report


def _record_review(
    workspace: Workspace, course: str, locale: str, partner: str, report: IngestReport, now: datetime
) -> None:
    """The review ledger: who signed what off in which kit, and when new translations arrived."""
    try:
        current = workspace.read_catalog(course, locale).index()
    except LocalizeError:
        return
    signed, fresh = [], []
    for o in report.entries:
        entry = current.get((o.get("msgctxt"), str(o.get("msgid"))))
        if entry is None:
            continue
        if o.get("reviewed"):
            signed.append(entry)
        elif o.get("status") == "accepted" and o.get("reason") != "same as the current translation":
            fresh.append(entry)
    if signed or fresh:
        record_review(
            workspace, course, locale, partner=partner, kit=str(report.kit), at=now, signed_off=signed, translated=fresh
        )


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
        _display_name(name),
        digest,
        "",
        kit="refused",
        problems=(Problem(_display_name(name), 1, ERROR, check, why),),
    )
    report = write_reports(inbox, report)
    if move and key != "returns" and isinstance(inbox, LocalInbox):
        with contextlib.suppress(LocalizeError):  # else reported again next time
            inbox.rename(key, f"returns/processed/{name}")
    send_notice(
        workspace,
        partner,
        "qa.report",
        {"file": report.file, "state": report.state, "report": report.report, "kit": None},
        f"qa-{digest[:32]}",
    )
    return report


def _display_name(name: str) -> str:
    """A file name as one line: undecodable bytes replaced, controls and bidi overrides escaped."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return printable(text.replace("\n", "\\n").replace("\t", "\\t"))


def _delete_if_unchanged(inbox: Storage, key: str, digest: str) -> None:
    """Remove a processed return unless the partner replaced it meanwhile (then it is ingested next time)."""
    try:
        if hashlib.sha256(inbox.read_bytes(key)).hexdigest() != digest:
            return
    except (FileNotFoundError, LocalizeError):
        return
    inbox.delete(key)


def skipped_returns(config: Config, partner_id: str, path: str | None = None) -> list[str]:
    """The files waiting in ``returns/`` of an inbox that ingest leaves there (not .po, .xlf or .xliff)."""
    if path is not None and not path.startswith("s3://") and not Path(path).is_dir():
        return []
    files, _ = scan_returns(open_inbox(config.resolve(path or config.partner(partner_id).inbox)))
    return [k for k in files if not k.lower().endswith(RETURN_SUFFIXES)]


def ingest(config: Config, partner_id: str, path: str | None = None) -> list[IngestReport]:
    """Ingest one returned file (a local path) or every file in ``returns/`` of an inbox."""
    partner = config.partner(partner_id)
    workspace = Workspace(config.workspace_location)
    flush_outbox(workspace, [partner])
    limit = config.qa.max_file_bytes
    if path is not None and not path.startswith("s3://") and not os.path.lexists(path):
        raise CatalogError("no such file or folder: give a returned .po/.xlf/.xliff file, or the partner's inbox folder "
                           "(without a path: the inbox of localize.toml)", path=path)  # fmt: skip
    if (
        path is not None
        and not path.startswith("s3://")
        and (not Path(path).is_dir() or path.lower().endswith(RETURN_SUFFIXES))
    ):
        folder = LocalInbox(Path(path).parent)
        data, size = read_return(folder, Path(path).name, limit)
        if data is None:  # never read: only its size is reported
            inbox = open_inbox(config.resolve(partner.inbox))
            return [_oversize(workspace, inbox, partner, Path(path).name, size, limit, move=False)]
        if data.startswith(b"PK\x03\x04"):  # left where it is: nothing was taken
            raise CatalogError("a zip archive, not a returned file: unpack it and ingest the .po, .xlf or .xliff "
                               "files inside", path=path)  # fmt: skip
        if not path.lower().endswith(RETURN_SUFFIXES):  # as in an inbox's returns/: nothing was taken
            raise CatalogError("not a .po, .xlf or .xliff file; if it is a returned catalog, rename it", path=path)
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
        if not key.lower().endswith(RETURN_SUFFIXES):
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
