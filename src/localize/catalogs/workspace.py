"""The workspace of record: where a course's template and translations live.

Layout (the one Babel's tooling expects)::

    templates/COURSE.pot
    LL/LC_MESSAGES/COURSE.po
    archive/templates/COURSE/SHA256.pot   every template a catalog was merged from
"""

from __future__ import annotations

import contextlib
import re
from typing import Any

from localize.catalogs import index
from localize.catalogs.faults import kill_point
from localize.catalogs.lifecycle import TEMPLATE_HEADER, template_digest
from localize.catalogs.po import read_po, write_po
from localize.catalogs.progress import ensure_progress, history, record_progress, snapshot_history
from localize.catalogs.stats import CatalogStats, catalog_stats
from localize.errors import CatalogChanged, CatalogError, CatalogNotFoundError, ConfigError, PreconditionFailed
from localize.ids import check_course_id
from localize.locales import PSEUDO_LOCALE, check_locale, known_locale
from localize.model import Catalog
from localize.storage.base import Storage, list_bounded
from localize.storage.locations import open_storage

__all__ = ["ANYTHING", "MERGE_ATTEMPTS", "Workspace", "workspace_stats"]


class _Anything:
    """What :meth:`Workspace.write` overwrites when no ``based_on`` is given: whatever is there."""


ANYTHING = _Anything()
MERGE_ATTEMPTS = 3  # merges of a catalog that other runs keep writing meanwhile, before giving up

_CATALOG_KEY = re.compile(
    r"^([A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)*(?:@[a-z]+)?)/LC_MESSAGES/([A-Za-z0-9][A-Za-z0-9._-]*)\.po$"
)
_TEMPLATE_KEY = re.compile(r"^templates/([A-Za-z0-9][A-Za-z0-9._-]*)\.pot$")


_LOCALE_FOLDER = re.compile(r"^[A-Za-z]{2,3}(?:[_-][A-Za-z0-9]+)*(?:@[a-z]+)?$")


class Workspace:
    def __init__(self, storage: Storage | str) -> None:
        self.storage: Storage = open_storage(storage) if isinstance(storage, str) else storage
        self.written: dict[str, str] = {}  # key -> the version this object last wrote there
        self._archived: dict[str, Catalog] = {}  # archived templates read (named by their digest)

    @staticmethod
    def template_key(course: str) -> str:
        return f"templates/{check_course_id(course)}.pot"

    @staticmethod
    def catalog_key(course: str, locale: str) -> str:
        return f"{check_locale(locale)}/LC_MESSAGES/{check_course_id(course)}.po"

    @staticmethod
    def memory_key(locale: str) -> str:
        return f"memory/{check_locale(locale)}.po"

    def describe(self, key: str) -> str:
        return self.storage.describe(key)

    def record_source(self, course: str, location: str) -> None:
        """Remember where a course's pages are (for publish and preview)."""
        import json
        import os

        if not location.startswith(("s3://", "http://", "https://")):
            location = os.path.abspath(location)
        data = (json.dumps({"course": course, "location": location}, indent=2) + "\n").encode("utf-8")
        key = f"sources/{check_course_id(course)}.json"
        try:
            if self.storage.read_bytes(key) == data:
                return
        except FileNotFoundError:
            pass
        self.storage.write_bytes(key, data)

    def source_of(self, course: str) -> str | None:
        import json

        try:
            return str(json.loads(self.storage.read_bytes(f"sources/{check_course_id(course)}.json"))["location"])
        except FileNotFoundError:
            return None

    def locale_folders(self) -> list[str]:
        """The workspace's locale folders; a ConfigError for a folder of an older spelling of a
        locale code (``sr_Latn``, now ``sr@latin``): its catalogs would be seen under a name no
        command writes, and a new catalog would start beside them."""
        folders = [f for f in self.storage.list_folders("") if _LOCALE_FOLDER.fullmatch(f)]
        for folder in folders:
            check_spelling(self, folder)
        return folders

    def check_locale_folder(self, locale: str) -> str:
        """``locale`` in its canonical spelling; a ConfigError when the workspace keeps it in a
        folder of an older spelling (see :meth:`locale_folders`)."""
        canonical = check_locale(locale)
        for folder in self.storage.list_folders(""):
            if folder != canonical and _LOCALE_FOLDER.fullmatch(folder) and known_locale(folder) == canonical:
                check_spelling(self, folder)
        return canonical

    def catalogs(self, *, course: str | None = None, locale: str | None = None) -> list[tuple[str, str]]:
        """(course, locale) of every catalog in the workspace, sorted. For one course: one
        look per locale folder, never a listing of the fleet's catalogs."""
        if course is None:
            return sorted(k for k in self.catalog_versions(locale=locale))
        check_course_id(course)
        folders = [check_locale(locale)] if locale else self.locale_folders()
        return sorted((course, f) for f in folders if self.storage.exists(f"{f}/LC_MESSAGES/{course}.po"))

    def catalog_versions(self, *, course: str | None = None, locale: str | None = None) -> dict[tuple[str, str], str]:
        """(course, locale) -> version of every catalog file: one folder listing of the
        workspace's top level, then one listing of each ``LL/LC_MESSAGES/`` (never the
        archive, history or index)."""
        wanted = check_locale(locale) if locale else None
        folders = [wanted] if wanted else self.locale_folders()
        out: dict[tuple[str, str], str] = {}
        for folder in folders:
            for key, version in self.storage.list_versions(f"{folder}/LC_MESSAGES"):
                m = _CATALOG_KEY.match(key)
                if m is not None and (course is None or m.group(2) == course) and m.group(1) == folder:
                    out[(m.group(2), m.group(1))] = version
        return out

    def courses(self) -> list[str]:
        """Courses that have a template."""
        return sorted(m.group(1) for key in self.storage.list("templates") if (m := _TEMPLATE_KEY.match(key)))

    def read(self, key: str) -> Catalog:
        return self.read_with_bytes(key)[0]

    def read_with_bytes(self, key: str) -> tuple[Catalog, bytes]:
        """The catalog and the bytes it was read from (for :meth:`write`'s ``based_on``)."""
        try:
            data = self.storage.read_bytes(key)
        except FileNotFoundError:
            raise CatalogNotFoundError("catalog not found", path=self.describe(key)) from None
        return read_po(data, self.describe(key)), data

    def read_template(self, course: str, *, suggest: bool = True) -> Catalog:
        """The template of ``course``; CatalogNotFoundError when it has none (``suggest``: with the
        close names of the courses here, which lists them all: not for a caller that expects it)."""
        key = self.template_key(course)
        try:
            return self.read(key)
        except CatalogNotFoundError:
            raise self.no_template(course, suggest=suggest) from None

    def no_template(self, course: str, *, suggest: bool = True) -> CatalogNotFoundError:
        """The error for a course with no template: a new course, or a mistyped ``--course``
        (with ``suggest``, the close names of courses this workspace has are given)."""
        return CatalogNotFoundError(
            f"no template for course {course!r}{self.meant(course) if suggest else ''}; create it with: "
            f"localize extract SOURCE --course {course}",
            path=self.describe(self.template_key(course)),
        )

    def meant(self, course: str) -> str:
        """`` (did you mean 'x'?)`` with the courses here whose names are close to ``course``, or ''."""
        import difflib

        close = difflib.get_close_matches(course, self.courses(), n=3, cutoff=0.75)
        return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""

    def remember_template(self, course: str, template: Catalog, text: str | None = None) -> str:
        """Keep ``template`` by its digest (once); returns the digest. ``text``: the template
        as written (``write_po``), when the caller has it."""
        digest = template_digest(template, text)
        key = f"archive/templates/{check_course_id(course)}/{digest}.pot"
        if not self.storage.exists(key):
            self.storage.write_bytes(key, (write_po(template) if text is None else text).encode("utf-8"))
        return digest

    def templates_of(self, catalog: Catalog, course: str) -> list[Catalog]:
        """The templates ``catalog`` may have been merged from, most likely first: the one
        its ``X-Localize-Template`` header names, else every kept one and the live one."""
        digest = catalog.header(TEMPLATE_HEADER) or ""
        if re.fullmatch(r"[0-9a-f]{64}", digest):
            try:
                return [self._read_archived(f"archive/templates/{check_course_id(course)}/{digest}.pot")]
            except CatalogNotFoundError:
                pass
        out: list[Catalog] = []
        with contextlib.suppress(CatalogNotFoundError):
            out.append(self.read_template(course))
        for key in self.storage.list(f"archive/templates/{check_course_id(course)}"):
            if key.endswith(".pot"):
                out.append(self._read_archived(key))
        return out

    def _read_archived(self, key: str) -> Catalog:
        """An archived template, read once per workspace object: it is named by the digest of
        its text and never rewritten (an update validates each locale against the same ones)."""
        if key not in self._archived:
            self._archived[key] = self.read(key)
        return self._archived[key]

    def read_catalog(self, course: str, locale: str, *, suggest: bool = True) -> Catalog:
        """The catalog of ``course`` in ``locale``; CatalogNotFoundError when there is none, which
        says what to do (``suggest``: see :meth:`read_template`)."""
        key = self.catalog_key(course, locale)
        try:
            return self.read(key)
        except CatalogNotFoundError:
            if not self.storage.exists(self.template_key(course)):
                raise self.no_template(course, suggest=suggest) from None  # not a course here: not "init"
            # the catalog may be in a folder of an older spelling of the code: say so, not "init"
            ll = self.check_locale_folder(locale)
            raise CatalogNotFoundError(
                f"no {ll} catalog for course {course!r}; start one with "
                + (
                    f"`localize pseudo --course {course}`"
                    if ll == PSEUDO_LOCALE
                    else f"`localize init --course {course} --locale {ll}`"
                ),
                path=self.describe(key),
            ) from None

    def write(
        self,
        key: str,
        catalog: Catalog,
        *,
        volatile: tuple[str, ...] = ("POT-Creation-Date", "PO-Revision-Date"),
        based_on: bytes | _Anything | None = ANYTHING,
    ) -> bool:
        """Write ``catalog`` atomically; returns False (and writes nothing) when the
        file already holds the same catalog apart from the ``volatile`` headers.

        ``based_on``: the bytes the catalog was merged from (None: there was no file). The
        write happens only while the file still holds exactly them, or CatalogChanged is
        raised and nothing is written: a run that read the catalog, worked on it (a memory
        lookup, a QA gate) and wrote it back would otherwise undo what another run wrote
        meanwhile (an ingest's accepted translations, a reviewer's sign-offs). Every write
        is a compare-and-swap against what it just read, so none slips between another's
        check and its write."""
        text = write_po(catalog)
        data = text.encode("utf-8")
        template = _TEMPLATE_KEY.match(key)
        if template is not None:
            self.remember_template(template.group(1), catalog, text)
        try:
            old, etag = self.storage.read_with_etag(key)
        except FileNotFoundError:
            old, etag = None, None
        if not isinstance(based_on, _Anything) and old != based_on:
            raise CatalogChanged(
                "changed by another run while this one worked on it; nothing was written (run again to merge "
                "with what is there now)",
                path=self.describe(key),
            )
        if old is not None and _strip_volatile(old, volatile) == _strip_volatile(data, volatile):
            m = _CATALOG_KEY.match(key)
            if m is not None:  # (a rerun of a run killed between its write and its record)
                self.ensure_history(m.group(2), m.group(1), catalog)
            return False
        try:
            if etag is None:
                version = self.storage.put(key, data, if_none_match=True)
            else:
                version = self.storage.put(key, data, if_match=etag)
        except PreconditionFailed as e:
            raise CatalogChanged(
                "changed by another run while this one wrote it; nothing was written (run again)",
                path=self.describe(key),
            ) from e
        self.written[key] = version
        m = _CATALOG_KEY.match(key)
        if m is not None:
            kill_point(f"catalog:put:{m.group(1)}")  # (tests: killed between a catalog's write and its record)
            self._record_history(m.group(2), m.group(1), catalog, data, version)
        return True

    def _record_history(self, course: str, locale: str, catalog: Catalog, data: bytes, version: str) -> None:
        record_progress(self, course, locale, catalog, data, version)

    def ensure_history(self, course: str, locale: str, catalog: Catalog) -> None:
        ensure_progress(self, course, locale, catalog)

    def ensure_history_at(self, key: str, data: bytes) -> None:
        """:meth:`ensure_history` of the catalog file ``key`` holding ``data`` (nothing for another key)."""
        m = _CATALOG_KEY.match(key)
        if m is not None:
            self.ensure_history(m.group(2), m.group(1), read_po(data, self.describe(key)))

    def history(self) -> list[tuple[str, str, str, int]]:
        return history(self)

    def snapshot_history(self, course: str) -> dict[str, list[tuple[str, int]]]:
        return snapshot_history(self, course)


def _strip_volatile(data: bytes, names: tuple[str, ...]) -> bytes:
    lines = data.split(b"\n")
    prefixes = tuple(f'"{n}:'.encode() for n in names)
    return b"\n".join(line for line in lines if not line.startswith(prefixes))


def workspace_stats(
    workspace: Workspace,
    *,
    course: str | None = None,
    locale: str | None = None,
    indexes: dict[str, dict[str, Any]] | None = None,
) -> list[CatalogStats]:
    """Statistics per course x locale, sorted by course then locale: one listing per
    locale folder and one index object per course; only catalogs changed since they were
    indexed are parsed. ``indexes``, when given, receives each course's index entries as
    read (locale -> entry), for callers that want more of them than the statistics."""
    listed: dict[str, dict[str, str]] = {}
    for (cid, ll), version in workspace.catalog_versions(course=course, locale=locale).items():
        listed.setdefault(cid, {})[ll] = version
    out: list[CatalogStats] = []
    for cid in sorted(listed):
        entries, _ = index.read_index(workspace.storage, cid)
        if indexes is not None:
            indexes[cid] = entries
        stale: list[tuple[CatalogStats, int, str]] = []
        for ll, version in sorted(listed[cid].items()):
            entry = entries.get(ll)
            s = index.to_stats(cid, ll, entry) if isinstance(entry, dict) and entry.get("version") == version else None
            if s is None:
                try:
                    s = catalog_stats(workspace.read_catalog(cid, ll), cid, ll)
                except CatalogError as e:  # one damaged catalog: its row says so, the others go on
                    out.append(CatalogStats(cid, ll, 0, 0, 0, 0, 0, 0, error=str(e)))
                    continue
                stale.append((s, 0, version))  # the version listed before the read: a later write is seen
            out.append(s)
        index.record(workspace.storage, stale)
    return out


def _holds_files(workspace: Workspace, folder: str) -> bool:
    """Whether anything is stored under ``folder`` (an S3 server may keep an emptied folder's entry)."""
    found = list_bounded(workspace.storage, folder, 2)
    return found is None or any(key and not key.endswith("/") for key in found)


def check_spelling(workspace: Workspace, folder: str) -> None:
    """A ConfigError when ``folder`` holds catalogs under an older spelling of its locale code."""
    canonical = known_locale(folder)
    if canonical is None or canonical == folder or not _holds_files(workspace, f"{folder}/LC_MESSAGES"):
        return  # (a folder of another kind whose name reads as a code, bak/ or src/, is not a catalog folder)
    old, new = workspace.describe(folder), workspace.describe(canonical)
    if _holds_files(workspace, f"{canonical}/LC_MESSAGES"):  # `mv` would put the old folder inside the new one
        raise ConfigError(
            f"{old} is the folder of locale {canonical} under an older spelling of its code, and {new} "
            f"exists too: merge the catalogs of {old} into those of {new} (a course in both: msgcat --use-first "
            f"NEW OLD -o NEW; a course in only {old}: move its file across), delete {old}, then run "
            f"`localize index rebuild`"
        )
    files = [("memory/", ".po"), ("memory/", ".rules.json"), ("glossary/", ".tbx")]  # the locale's own files
    also = [
        f"{workspace.describe(f'{d}{folder}{x}')} to {d}{canonical}{x}"
        for d, x in files
        if workspace.storage.exists(f"{d}{folder}{x}")
    ]
    raise ConfigError(
        f"{old} is the folder of locale {canonical} under an older spelling of its code: rename it "
        f"to {new} (on a folder workspace: mv {old} {new}; on S3, copy its objects there and "
        f"delete the old ones)" + (f", and {', '.join(also)}" if also else "") + ", then run `localize index rebuild`"
    )
