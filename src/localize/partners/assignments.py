"""Assignments: which kit went to which partner, when it is due, what came back.

One JSON file per kit (``assignments/COURSE/LL/KIT.json``, the record) and an
index per course (``index/assignments/COURSE.json``: per locale, the kits known
and the latest assignment) so fleet-wide views need not read every file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from localize.catalogs import index
from localize.catalogs.faults import kill_point
from localize.catalogs.workspace import Workspace
from localize.errors import ConfigError, PreconditionFailed, TransientStorageError
from localize.ids import check_course_id
from localize.locales import check_locale, known_locale, older_spelling

__all__ = [
    "STATES",
    "Assignment",
    "assignment_key",
    "assignments_of_kit",
    "index_kits",
    "kit_file",
    "kits_complete",
    "latest_assignments",
    "load_assignments",
    "plain_names",
    "save_assignment",
    "start_kit_index",
    "with_return",
]


STATES = ("sent", "returned", "accepted", "partially accepted", "rejected")


@dataclass(frozen=True)
class Assignment:
    kit: str
    course: str
    locale: str
    partner: str
    catalog_sha256: str
    sent_at: str
    due: str
    state: str = "sent"
    entries: int = 0
    words_to_translate: int = 0
    returns: tuple[dict[str, Any], ...] = ()
    webhook: str = ""
    format: str = "po"  # the kit's file: "po" or "xliff"
    kind: str = "translation"  # or "review" (only a reviewer's return of one can sign entries off)
    bands: dict[str, Any] = field(default_factory=dict)  # kit.json's words by match band, when sent
    estimate: dict[str, Any] | None = None  # kit.json's estimate at the partner's rates, if any
    # False from the moment routing records the kit until it is whole in the partner's inbox and
    # the partner notified: the next route of the same catalog sends it again, whole
    complete: bool = True

    @property
    def open(self) -> bool:
        """Sent whole and not returned yet: work the partner holds (what status and the dashboard count)."""
        return self.state == "sent" and self.complete

    @property
    def shown(self) -> str:
        """The state as status and the dashboard say it."""
        return self.state if self.complete else f"{self.state} (incomplete)"

    def to_json(self) -> bytes:
        fields = asdict(self)
        if self.complete:
            del fields["complete"]  # as assignments were written before the field existed
        return (json.dumps(fields, indent=2, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> Assignment:
        raw = json.loads(data)
        raw["returns"] = tuple(raw.get("returns", ()))
        return cls(**raw)


def kit_file(course: str, locale: str, fmt: str) -> str:
    """The name of the file to translate in a kit's folder of the inbox (``kits/COURSE/LL/KIT/``)."""
    return f"{course}.{locale}.{'xlf' if fmt == 'xliff' else 'po'}"


def assignment_key(course: str, locale: str, kit: str, suffix: str = "json") -> str:
    return f"assignments/{course}/{locale}/{kit}.{suffix}"


def load_assignments(workspace: Workspace, *, course: str | None = None, locale: str | None = None) -> list[Assignment]:
    prefix = "assignments" if course is None else f"assignments/{course}" + (f"/{locale}" if locale else "")
    out = []
    for key in workspace.storage.list(prefix):
        if key.endswith(".json"):
            out.append(Assignment.from_json(workspace.storage.read_bytes(key)))
    return sorted(out, key=lambda a: (a.sent_at, a.kit))


_KIT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")


def _kit_index_key(kit: str) -> str:
    return f"index/kits/{kit}.json"


_KITS_COMPLETE = "index/kits/_complete.json"  # never a kit's index: a kit id starts with a letter or digit


def kits_complete(workspace: Workspace) -> bool:
    """True when every assignment of the workspace is in the kit index: :func:`save_assignment`
    indexes a kit before it writes its file, and this marker is written on a workspace that
    had no assignment yet (:func:`start_kit_index`), or by :func:`index_kits` (``localize
    index rebuild``) on an older one."""
    try:
        return bool(json.loads(workspace.storage.read_bytes(_KITS_COMPLETE)).get("complete"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError, AttributeError, RecursionError):
        return False


def _mark_complete(workspace: Workspace) -> None:
    workspace.storage.write_bytes(_KITS_COMPLETE, json.dumps({"complete": True}).encode())


def start_kit_index(workspace: Workspace) -> None:
    """Mark the kit index complete on a workspace that holds no assignment yet (before anything
    is written under ``assignments/``: routing calls this before it stores a kit's file)."""
    if not kits_complete(workspace) and not list(workspace.storage.list_folders("assignments")):
        _mark_complete(workspace)


def plain_names(course: str | None, locale: str | None) -> bool:
    """A course id and a locale code as this workspace writes them, or wrote them before a locale's
    spelling changed (iw, sr_Latn: a kit sent then still comes back), so they may name a folder:
    checked on what a partner's file or an index object says before it names any key."""
    try:
        return (
            bool(course and locale)
            and check_course_id(str(course)) == course
            and (check_locale(str(locale)) == locale or older_spelling(str(locale)))
        )
    except ConfigError:
        return False


def _indexed(workspace: Workspace, kit: str, complete: bool) -> list[Assignment] | None:
    """The assignments the kit index names for ``kit``; None when only a listing can say (an
    index entry missing, damaged or naming another file, on a workspace not yet complete)."""
    try:
        keys = json.loads(workspace.storage.read_bytes(_kit_index_key(kit))).get("files")
    except FileNotFoundError:
        keys = []
    except (ValueError, UnicodeDecodeError, AttributeError, RecursionError):
        keys = None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or not keys:
        return [] if complete else None
    found = []
    name = f"{kit}.json"
    for key in keys:
        parts = key.split("/")
        if len(parts) != 4 or parts[0] != "assignments" or parts[3] != name or not plain_names(parts[1], parts[2]):
            if complete:
                continue  # not what this index writes (or a case-insensitive folder's other kit)
            return None
        try:
            found.append(Assignment.from_json(workspace.storage.read_bytes(key)))
        except FileNotFoundError:
            if complete:
                continue  # indexed by a writer stopped before its file: no assignment
            return None
    return [a for a in found if a.kit == kit]


def assignments_of_kit(
    workspace: Workspace, kit: str, *, course: str | None = None, locale: str | None = None
) -> list[Assignment]:
    """The assignment(s) recorded for kit id ``kit`` (which comes from a returned file): from the
    kit index (``index/kits/KIT.json``: the assignment files of the kit, indexed before they are
    written). Once the index is complete (:func:`kits_complete`), never a listing of the fleet's
    assignments: an unknown or malformed id costs two object reads; the ``course`` and
    ``locale`` the file names are looked at when the index knows no file (a kit index object
    lost), and a kit found there is indexed again. On a workspace whose older assignments
    are not indexed yet, a kit the index does not know is looked for in one listing."""
    complete = kits_complete(workspace)
    if _KIT_NAME.fullmatch(kit):
        found = _indexed(workspace, kit, complete)
        if found is not None and (found or not complete):
            return found
        if found is not None:  # complete, and the index names no file of it: where the file says
            if course is not None and locale is not None and plain_names(course, locale):
                key = assignment_key(course, locale, kit)
                try:
                    hinted = Assignment.from_json(workspace.storage.read_bytes(key))
                except (FileNotFoundError, ValueError, TypeError, KeyError, AttributeError):
                    return []  # not there, or not an assignment
                if hinted.kit == kit:
                    _index_kit(workspace, kit, [key])
                    return [hinted]
            return []
    elif complete:
        return []  # every kit this workspace sends has a plain id (save_assignment checks)
    name = f"{kit}.json"
    return [
        Assignment.from_json(workspace.storage.read_bytes(key))
        for key in workspace.storage.list("assignments")
        if key.rsplit("/", 1)[-1] == name
    ]


def _index_kit(workspace: Workspace, kit: str, keys: list[str]) -> None:
    def add(body: dict[str, Any]) -> None:
        files = body.get("files")
        files = [f for f in files if isinstance(f, str)] if isinstance(files, list) else []
        body["files"] = sorted({*files, *keys})

    index.update_json(workspace.storage, _kit_index_key(kit), add)


def index_kits(workspace: Workspace) -> int:
    """Add every assignment file to the kit index (added to, never rewritten: a writer's kit
    indexed before its file stays), then mark the index complete; returns how many files."""
    by_kit: dict[str, list[str]] = {}
    for key in workspace.storage.list("assignments"):
        parts = key.split("/")
        if len(parts) == 4 and parts[3].endswith(".json") and _KIT_NAME.fullmatch(parts[3][:-5]):
            by_kit.setdefault(parts[3][:-5], []).append(key)
    for kit, keys in sorted(by_kit.items()):
        _index_kit(workspace, kit, keys)
    _mark_complete(workspace)
    return sum(map(len, by_kit.values()))


def save_assignment(
    workspace: Workspace, assignment: Assignment, *, merge: Callable[[Assignment], Assignment] | None = None
) -> Assignment:
    """Write ``assignment`` (indexed first, see :func:`kits_complete`); returns what was written.
    With ``merge``, the write is a compare-and-swap over the stored copy, if there is one (and
    not damaged): ``merge(stored)`` is written, so that a routing and an ingest that meet on one
    assignment each keep what the other wrote."""
    if not _KIT_NAME.fullmatch(assignment.kit):
        raise ValueError(f"not a kit id: {assignment.kit[:80]!r} (letters, digits, '.', '_' and '-')")
    key = assignment_key(assignment.course, assignment.locale, assignment.kit)
    start_kit_index(workspace)
    _index_kit(workspace, assignment.kit, [key])
    kill_point("assignment:kit-indexed")
    if merge is None:
        data = assignment.to_json()
        workspace.storage.write_bytes(key, data)
    else:
        assignment, data = _swap(workspace, key, assignment, merge)
    folder = key.rsplit("/", 1)[0]
    version = next((v for k, v in workspace.storage.list_versions(folder) if k == key), "")
    # indexed only if the file listed then is still this one (a concurrent writer indexes its own;
    # a later write changes the version, which the next reader notices: not a time, which two
    # writes within a second on S3 share)
    try:
        if workspace.storage.read_bytes(key) == data:
            _index_assignments(workspace, assignment.course, [(assignment, version)])
    except FileNotFoundError:
        pass
    return assignment


def with_return(assignment: Assignment, state: str, record: dict[str, Any]) -> Assignment:
    """``assignment`` with a return's record (in place of one of the same file) and its state: a
    return proves the partner had the kit, whether or not its sending finished."""
    others = tuple(r for r in assignment.returns if r.get("sha256") != record.get("sha256"))
    return replace(assignment, state=state, returns=(*others, record), complete=True)


def _swap(
    workspace: Workspace, key: str, assignment: Assignment, merge: Callable[[Assignment], Assignment]
) -> tuple[Assignment, bytes]:
    for _ in range(20):
        try:
            raw, etag = workspace.storage.read_with_etag(key)
        except FileNotFoundError:
            stored, etag = None, None
        else:
            try:
                stored = Assignment.from_json(raw)
            except (ValueError, TypeError):
                stored = None  # damaged: written over
        new = assignment if stored is None else merge(stored)
        data = new.to_json()
        try:
            if etag is None:
                workspace.storage.put(key, data, content_type="application/json", if_none_match=True)
            else:
                workspace.storage.put(key, data, content_type="application/json", if_match=etag)
            return new, data
        except PreconditionFailed:
            continue  # written meanwhile: merged again from what is there now
    raise TransientStorageError("this assignment kept changing under us; run again", path=workspace.describe(key))


def _assignments_index_key(course: str) -> str:
    return f"index/assignments/{course}.json"


def _index_assignments(workspace: Workspace, course: str, assignments: list[tuple[Assignment, str]]) -> None:
    """Keep index/assignments/COURSE.json: per locale, each kit file's version (as listed) and
    the latest assignment."""

    def put(body: dict[str, Any]) -> None:
        locales = body.get("locales")
        if not isinstance(locales, dict):
            locales = body["locales"] = {}
        for a, version in assignments:
            entry = locales.get(a.locale)
            if not isinstance(entry, dict) or not isinstance(entry.get("kits"), dict):
                entry = locales[a.locale] = {"kits": {}, "latest": None}
            entry["kits"][a.kit] = version
            latest = entry.get("latest")
            if (
                not isinstance(latest, dict)
                or latest.get("kit") == a.kit
                or (a.sent_at, a.kit) > (str(latest.get("sent_at")), str(latest.get("kit")))
            ):
                entry["latest"] = json.loads(a.to_json())

    index.update_json(workspace.storage, _assignments_index_key(course), put)


def latest_assignments(workspace: Workspace, *, course: str | None = None) -> dict[tuple[str, str], Assignment]:
    """The latest assignment of every course x locale: one listing of the assignment
    files (with their versions) and one index object per course; a course x locale whose
    files the index does not know as they are now (written by hand, changed by a run
    killed before it indexed, or older than the index) is read and re-indexed."""
    listed: dict[str, dict[str, dict[str, str]]] = {}  # course -> locale -> kit -> version
    prefix = "assignments" if course is None else f"assignments/{course}"
    for key, version in workspace.storage.list_versions(prefix):
        parts = key.split("/")
        if len(parts) == 4 and parts[3].endswith(".json"):
            listed.setdefault(parts[1], {}).setdefault(parts[2], {})[parts[3].removesuffix(".json")] = version
    out: dict[tuple[str, str], Assignment] = {}
    for cid in sorted(listed):
        try:
            raw = json.loads(workspace.storage.read_bytes(_assignments_index_key(cid)))
        except (FileNotFoundError, ValueError, UnicodeDecodeError):
            raw = {}
        locales = raw.get("locales", {}) if isinstance(raw, dict) else {}
        stale: list[tuple[Assignment, str]] = []
        for ll, kits in sorted(listed[cid].items()):
            c = cid
            entry = locales.get(ll) if isinstance(locales, dict) else None
            latest = None
            if isinstance(entry, dict) and entry.get("kits") == kits and isinstance(entry.get("latest"), dict):
                try:
                    latest = Assignment.from_json(json.dumps(entry["latest"]).encode("utf-8"))
                except (TypeError, ValueError):
                    latest = None
            if latest is None:
                found = load_assignments(workspace, course=c, locale=ll)
                stale.extend((a, kits.get(a.kit, "")) for a in found)
                latest = found[-1] if found else None
            row = (c, known_locale(ll) or ll)  # a kit sent under an older spelling (iw) is the locale's (he)
            if latest is not None and (row not in out or out[row].sent_at < latest.sent_at):
                out[row] = latest
        if stale:
            _index_assignments(workspace, cid, stale)
    return out
