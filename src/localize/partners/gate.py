"""The QA gate of one returned file and the three-way merge it allows, computed but not applied.

:func:`check_return` finds the kit the file answers (only from its parsed header), runs the
checks of :mod:`localize.partners.qa` and computes the merge of every entry that passes
three-way against the kit the partner received: an entry the partner left as it was never
overwrites a newer translation (but fills an empty one: a memory match the kit offered); a later
return of the same kit by the same partner corrects what its earlier return brought in; if the
catalog changed meanwhile otherwise and the partner's translation differs, the accepted one stays
and the partner's is kept beside it in a comment (a conflict, reported). :mod:`localize.partners.ingest` applies it as one step.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from localize.catalogs.glossary_files import load_glossary
from localize.catalogs.memory import COMMENT_PREFIX, TranslationMemory
from localize.catalogs.po import read_po, write_po
from localize.catalogs.refresh import refresh
from localize.catalogs.review import brought_by, mark_reviewed, without_reviewed
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import REVIEWED, is_xliff, read_xliff
from localize.config import Config, Partner
from localize.errors import CatalogNotFoundError, LocalizeError, PoSyntaxError
from localize.locales import known_locale
from localize.model import Catalog, Entry
from localize.partners.assignments import (
    Assignment,
    assignment_key,
    assignments_of_kit,
    kit_file,
    load_assignments,
    plain_names,
)
from localize.partners.checks import ERROR, FILE_LEVEL, WARNING, Limits, Problem
from localize.partners.inbox import open_inbox
from localize.partners.ingest_report import FUZZY_KEPT, FUZZY_SUGGESTION, IngestReport
from localize.partners.qa import check_catalog, with_file_lines, without_echoes
from localize.storage.base import Storage

__all__ = ["IngestReport", "check_return", "sha256_or_none"]

_KIT_HEADER = re.compile(rb"X-Localize-Kit:\s*([A-Za-z0-9._-]+)")
_KIT_ID = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def _find_assignment(
    workspace: Workspace, partner: Partner, data: bytes, catalog: Catalog | None, held: Callable[[Assignment], bool]
) -> tuple[Assignment | None, str, str]:
    """(this partner's assignment the file answers, why none was found, a note for the operator);
    ``held``: whether the partner may hold a kit (sent whole, or its file in their inbox)."""
    if catalog is not None:
        kit = catalog.header("X-Localize-Kit")  # a parsed header, never text in a msgstr or comment
    else:
        m = _KIT_HEADER.search(data[:4096])
        kit = m.group(1).decode("ascii") if m else None
    if kit:
        kit = kit.strip()
        course = catalog.header("X-Localize-Course") if catalog is not None else None
        locale = catalog.header("X-Localize-Locale") if catalog is not None else None
        of_kit = assignments_of_kit(workspace, kit, course=course, locale=locale)
        for a in of_kit:
            if a.partner == partner.id:
                return a, "", ""
        shown = kit if _KIT_ID.match(kit) else repr(kit[:40])
        owner = of_kit[0] if of_kit else None
        if owner is not None:
            return (
                None,
                f"this file answers a kit that was sent to another partner, not to {partner.id}: this inbox is "
                f"{partner.id}'s; return the file through the inbox of the partner the kit was sent to",
                f"kit {shown} belongs to partner {owner.partner!r} ({owner.course}/{owner.locale}); "
                f"it was dropped in the inbox of {partner.id!r}",
            )
        return (
            None,
            f"no kit {shown} was sent to {partner.id} (X-Localize-Kit header); send the file from a kit you received",
            "",
        )
    why = ", so which kit it answers cannot be told"
    if catalog is not None:
        course = catalog.header("X-Localize-Course") or catalog.header("Project-Id-Version")
        raw = catalog.header("X-Localize-Locale") or catalog.header("Language")
        locale = (known_locale(raw) or raw) if raw else raw  # in any spelling: iw, pt-br, sr-Latn
        candidates = (
            [a for a in load_assignments(workspace, course=course, locale=locale) if a.partner == partner.id]
            if plain_names(course, locale)
            else []
        )
        if candidates:  # the latest kit they hold: one a killed route left incomplete may not be
            return ([a for a in candidates if held(a)] or candidates)[-1], "", ""
        if plain_names(course, locale):  # what the file says it is, of which this partner holds no kit
            why = f" and says it is {course} in {locale}, of which no kit was sent to {partner.id}"
    return None, f"this file has no X-Localize-Kit header{why}; send the file from the kit you received", ""


def _held_by(config: Config, partner: Partner) -> Callable[[Assignment], bool]:
    inboxes: list[Storage] = []  # opened only if an incomplete kit asks, and once

    def held(a: Assignment) -> bool:
        if a.complete:
            return True
        try:  # a route killed midway: the kit file may or may not have reached the inbox
            inboxes[:] = inboxes or [open_inbox(config.resolve(partner.inbox))]
            return inboxes[0].exists(f"kits/{a.course}/{a.locale}/{a.kit}/{kit_file(a.course, a.locale, a.format)}")
        except (OSError, LocalizeError):
            return False

    return held


def _as_returned(ours: Entry, theirs: Entry, flags: tuple[str, ...]) -> Entry:
    """Our entry with the returned translation taken (and ``flags``)."""
    return replace(
        ours,
        msgstr=theirs.msgstr,
        msgstr_plural=theirs.msgstr_plural,
        flags=flags,
        translator_comments=theirs.translator_comments or ours.translator_comments,
        previous_msgid=None,
        previous_msgctxt=None,
    )


def _same(a: Entry, b: Entry) -> bool:
    return a.msgstr == b.msgstr and a.msgstr_plural == b.msgstr_plural and a.fuzzy == b.fuzzy


def _three_way(
    theirs: Catalog,
    base: Catalog,
    ours: Catalog,
    blocked: dict[tuple[str | None, str], tuple[int, list[str]]],
    partner: str,
    *,
    accept_fuzzy: bool,
    signed_off: frozenset[tuple[str | None, str]] = frozenset(),
    own: set[tuple[str | None, str]] | frozenset[tuple[str | None, str]] = frozenset(),
) -> tuple[Catalog, list[dict[str, Any]]]:
    """``signed_off``: the entries a reviewer signed off (empty unless the return answers a
    review kit and comes from a reviewer): they get the reviewed flag if their translation
    is the one in the catalog. ``own``: the entries whose translation an earlier return of the
    same kit by the same partner brought in: a later return corrects them, as if from the kit.
    Any other translation accepted since the kit stays in the catalog (and on the pages) when
    the return differs: the return's text is kept beside it in a comment, a conflict."""
    base_index, ours_index = base.index(), ours.index()
    updated: dict[tuple[str | None, str], Entry] = {}
    outcomes: list[dict[str, Any]] = []

    def record(e: Entry, status: str, reason: str = "", reviewed: bool = False) -> None:
        # the line `check` gives: the first problem's of a rejected entry, else the translation's
        line = blocked[e.key][0] if e.key in blocked else e.msgstr_lineno or e.lineno
        outcome = {"line": line, "msgctxt": e.msgctxt, "msgid": e.msgid, "status": status, "reason": reason}
        if reviewed:
            outcome["reviewed"] = True
        outcomes.append(outcome)

    for t in theirs.entries:
        if t.obsolete:
            continue
        b = base_index.get(t.key)
        if t.key in blocked:
            record(t, "rejected", "; ".join(blocked[t.key][1]))
            continue
        if b is None:
            continue  # reported as edited-source
        if _same(t, b) or not (t.msgstr or any(t.msgstr_plural)):
            o = ours_index.get(t.key)
            if t.key in signed_off and o is not None and o.translated and o.msgstr == t.msgstr and t.msgstr:
                updated[t.key] = mark_reviewed(o)
                record(t, "unchanged", "signed off", reviewed=True)
            elif o is not None and _offered(b, o, t):
                flags = tuple(sorted({*without_reviewed(o.flags), "fuzzy"} - (set() if t.fuzzy else {"fuzzy"})))
                comments = t.translator_comments or o.translator_comments
                updated[t.key] = replace(o, msgstr=t.msgstr, msgstr_plural=t.msgstr_plural, flags=flags, translator_comments=comments)  # fmt: skip
                record(t, "accepted", "kept as the kit offered it")
            else:
                record(t, "unchanged")
            continue
        o = ours_index.get(t.key)
        if o is None:
            record(t, "stale", "no longer in the course (it changed after the kit was sent); kept in the archive")
            continue
        if t.fuzzy and not accept_fuzzy and o.translated:
            record(t, "unchanged", FUZZY_KEPT)
            continue
        flags = without_reviewed(f for f in t.flags if f != "fuzzy" or (t.fuzzy and not accept_fuzzy))
        sign = t.key in signed_off and "fuzzy" not in flags
        if sign:
            flags = (*flags, REVIEWED)
        if t.key in own and not _same(o, b) and _as_returned(o, t, flags) == o:
            record(t, "unchanged", "same as your earlier return of this kit")  # the same file sent again
            continue
        if _same(o, b) or not o.translated or t.key in own:  # (a fuzzy suggestion is no accepted work)
            updated[t.key] = _as_returned(o, t, flags)
            why = "replaces your earlier return of this kit" if t.key in own and not _same(o, b) else ""
            record(t, "accepted", FUZZY_SUGGESTION if "fuzzy" in flags else why, reviewed=sign)
        elif o.msgstr == t.msgstr and o.msgstr_plural == t.msgstr_plural:
            if sign and o.translated:
                updated[t.key] = mark_reviewed(o)
            record(t, "accepted", "same as the current translation", reviewed=sign and o.translated)
        else:
            theirs_text = t.msgstr if t.msgid_plural is None else " | ".join(t.msgstr_plural)
            note = f"conflict: {partner} returned {theirs_text!r} after this translation was accepted; it stays"
            if note not in o.translator_comments:
                updated[t.key] = replace(o, translator_comments=(*o.translator_comments, note))
            record(t, "conflict", "the translation accepted earlier stays; yours is kept beside it for the coordinator")
    entries = tuple(updated.get(e.key, e) if not e.obsolete else e for e in ours.entries)
    return replace(ours, entries=entries), outcomes


def _offered(kit: Entry, ours: Entry, theirs: Entry) -> bool:
    """The kit offered it from the memory, the catalog never had it (not cleared), the partner kept it."""
    memory = [any(c.startswith(COMMENT_PREFIX) for c in e.translator_comments) for e in (kit, ours)]
    has = [bool(e.msgstr or any(e.msgstr_plural)) for e in (ours, theirs)]
    return memory == [True, False] and has == [False, True]


def _catalog_of_record(workspace: Workspace, course: str, locale: str, kit: Catalog) -> Catalog:
    """The catalog the return merges into, holding every entry the kit had
    (route does not write the catalog of record, so a new locale has none yet and
    a kit may carry entries of a newer template)."""
    try:
        ours: Catalog | None = workspace.read_catalog(course, locale, suggest=False)
    except CatalogNotFoundError:
        ours = None
    known = ours.index() if ours is not None else {}
    if ours is not None and all(e.key in known for e in kit.entries if not e.obsolete):
        return ours
    template = workspace.read_template(course)
    workspace.remember_template(course, template)
    return refresh(ours, template, course, locale, TranslationMemory([])).catalog


def sha256_or_none(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


_EXPECTED = "expected msgctxt, msgid, msgid_plural, msgstr or a comment"
_QUOTING = (
    (re.compile(r"^expected a quoted string, found .*$", re.S), 'expected a quoted string ("...") here'),
    (re.compile(rf"^unexpected .*: {_EXPECTED}$", re.S), f"unexpected text: {_EXPECTED}"),
)


def _syntax_message(message: str) -> str:
    """A syntax error for the partner's report: what is wrong and where, never a quote of
    an arbitrary line (the file may not be a PO file at all)."""
    for pattern, replacement in _QUOTING:
        if pattern.match(message):
            return replacement
    return message


def check_return(
    config: Config, workspace: Workspace, partner: Partner, name: str, data: bytes, digest: str, archive_key: str
) -> tuple[IngestReport, dict[str, Any] | None, bytes | None]:
    """The QA gate and the three-way merge, computed but not applied: (report, merge plan, merged catalog)."""
    report = IngestReport(partner.id, name, digest, workspace.describe(archive_key))
    catalog: Catalog | None = None
    problems: list[Problem] = []
    unit_problems: list[Problem] = []
    claimed: frozenset[tuple[str | None, str]] = frozenset()
    limits = Limits(config.qa.max_file_bytes, config.qa.max_string_chars)
    if len(data) > limits.max_file_bytes:
        problems.append(
            Problem(name, 1, ERROR, "size", f"the file has {len(data)} bytes, more than the limit of "
                    f"{limits.max_file_bytes} ([qa] max_file_bytes)")
        )  # fmt: skip
    elif not data.strip():
        problems.append(Problem(name, 1, ERROR, "syntax", "the file is empty"))
    else:
        try:
            if is_xliff(name, data):
                parsed = read_xliff(data, name)
                catalog = parsed.catalog
                claimed = parsed.signed_off
                unit_problems = [
                    Problem(name, u.line, ERROR, "inline-codes", u.message, u.key) for u in parsed.problems
                ]
            else:
                catalog = read_po(data, name)
                claimed = frozenset(e.key for e in catalog.entries if REVIEWED in e.flags and not e.obsolete)
        except PoSyntaxError as e:
            problems.append(Problem(name, e.line or 1, ERROR, "syntax", _syntax_message(e.message)))
    assignment, kit_problem, owner_note = _find_assignment(workspace, partner, data, catalog, _held_by(config, partner))
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
        glossary=load_glossary(
            workspace, assignment.locale, assignment.course, source_locale=config.workspace.source_locale
        ),
    )
    problems = (
        [*without_echoes(problems, unit_problems), *unit_problems]
        if is_xliff(name, data)
        else with_file_lines(problems, data, name)
    )
    review = assignment.kind == "review" and partner.reviewer
    signed_off = claimed
    if review and not is_xliff(name, data):
        # a PO review kit arrives all fuzzy: an entry the reviewer returns without the mark is approved
        signed_off = claimed | frozenset(e.key for e in catalog.entries if e.translated)
    if not review:
        if claimed:
            problems.append(
                Problem(
                    name,
                    1,
                    WARNING,
                    "review",
                    f"{len(claimed)} entries are marked signed off or reviewed; only a reviewer's return of a "
                    "review kit signs translations off, so they count as translated",
                )
            )
        signed_off = frozenset()
    if any(p.severity == ERROR and p.check in FILE_LEVEL for p in problems):
        return replace(report, problems=tuple(problems)), None, None
    blocked: dict[tuple[str | None, str], tuple[int, list[str]]] = {}  # key -> (first line, problems)
    for p in problems:
        if p.severity == ERROR and p.key is not None:
            line, said = blocked.setdefault(p.key, (p.line, []))
            said.append(f"{p.check}: {p.message}")
            if p.line < line:
                blocked[p.key] = (p.line, said)
    catalog_key = workspace.catalog_key(assignment.course, assignment.locale)
    try:
        before: bytes | None = workspace.storage.read_bytes(catalog_key)
    except FileNotFoundError:
        before = None
    ours = _catalog_of_record(workspace, assignment.course, assignment.locale, base)
    own = brought_by(workspace, ours, assignment.course, assignment.locale, partner.id, assignment.kit)
    merged, outcomes = _three_way(
        catalog, base, ours, blocked, partner.id, accept_fuzzy=config.qa.accept_fuzzy, signed_off=signed_off, own=own
    )
    try:
        staged = write_po(merged).encode("utf-8")
        after = write_po(read_po(staged, "staged")).encode("utf-8")  # what Workspace.write makes of it
    except (PoSyntaxError, UnicodeError) as e:  # never a catalog of record that does not read back
        problem = f"this file cannot be merged into a valid catalog ({e}); nothing of it was taken"
        return replace(report, problems=(*problems, Problem(name, 1, ERROR, "syntax", problem))), None, None
    plan = {"catalog": catalog_key, "before": sha256_or_none(before), "after": sha256_or_none(after)}
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
        reviewed=sum(1 for o in outcomes if o.get("reviewed")),
        problems=tuple(problems),
        entries=tuple(outcomes),
    )
    return report, plan, staged
