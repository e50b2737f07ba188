"""Plain-data entry points for orchestration (flows/ wraps these, one line a task).

The flows' view of the application layer: each calls the same operation as
the CLI and returns its result as plain data (:func:`localize.app.plain.to_plain`).

Each takes and returns only strings, numbers, lists and dicts, so results can be
persisted, cached and sent between processes and machines. Extraction runs in
one process here (``jobs=1``): flows fan out per course instead, and per course
x locale (x region for publishing) so that a retry redoes one item only:
:func:`extract_template` then :func:`update_locale` for each of its ``locales``;
:func:`publish_regions` then :func:`publish_region` for each.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from localize import __version__
from localize.app import shards
from localize.app.catalogs import CatalogUpdate, catalog_locales, update_catalog, update_template
from localize.app.fingerprints import course_fingerprint as fingerprint
from localize.app.fingerprints import mark_synced as synced
from localize.app.fingerprints import still_held
from localize.app.plain import to_plain
from localize.app.regions import publish
from localize.app.regions import publish_dashboards as app_publish_dashboards
from localize.catalogs.workspace import Workspace, workspace_stats
from localize.config import Config, load_config
from localize.errors import ConfigError, LocalizeError, NothingToSend, TransientStorageError, without_credentials
from localize.ids import check_course_id
from localize.locales import check_locale
from localize.partners.ingest import ingest
from localize.partners.routing import route
from localize.regions.bundle import source_revision
from localize.storage.courses import open_source
from localize.storage.sources import Source
from localize.views.dashboard import write_report as write

__all__ = [
    "TOOL_VERSION",
    "combine_shards",
    "configured_locales",
    "course_fingerprints",
    "course_revision",
    "current_versions",
    "extract_template",
    "ingest_returns",
    "list_courses",
    "mark_synced",
    "publish_locales",
    "publish_region",
    "publish_regions",
    "route_kit",
    "shard_plan",
    "stats_rows",
    "sync_summary",
    "update_locale",
]

TOOL_VERSION = __version__


def course_revision(source: str) -> str:
    """A hash of every file of a course (paths and bytes): unchanged course, same hash."""

    return source_revision(open_source(source))


def course_fingerprints(courses: list[dict[str, str]], locales_dir: str) -> list[dict[str, Any]]:
    """For each course of a listing, its :func:`course_revision` read only from the files
    changed since the last call (their hashes are kept in the workspace): ``revision``,
    ``files``, ``hashed`` (how many files were read) and ``synced`` (the result of the last
    complete sync when it was made from this revision by this tool version: nothing to do).
    A course that cannot be read is a row with ``error``; a transient storage error raises."""
    out: list[dict[str, Any]] = []
    for c in courses:
        row: dict[str, Any] = {"course": c["course"], "source": c["source"]}
        try:
            found = fingerprint(c["source"], check_course_id(c["course"]), locales_dir, TOOL_VERSION)
        except TransientStorageError:
            raise
        except (LocalizeError, OSError) as e:
            out.append(row | {"error": str(e)})
            continue
        out.append(
            row | {"revision": found.revision, "files": found.files, "hashed": found.hashed, "synced": found.synced}
        )
    synced = {r["course"]: r["synced"] for r in out if r.get("synced") is not None}
    if synced:
        held = still_held(Workspace(locales_dir).storage, synced)
        for r in out:
            if r.get("synced") is not None and r["course"] not in held:
                r["synced"] = None  # the workspace no longer holds what that sync left: synced again
    return out


def mark_synced(locales_dir: str, done: list[dict[str, Any]]) -> int:
    """Remember each ``{"course", "source", "revision", "result"}`` of ``done`` as fully synced
    (its next unchanged sync runs nothing); returns how many were recorded."""
    return sum(
        synced(d["source"], check_course_id(d["course"]), locales_dir, d["revision"], TOOL_VERSION, d["result"])
        for d in done
    )


def shard_plan(courses: list[dict[str, str]], count: int) -> list[list[dict[str, str]]]:
    """The listing split into ``count`` shards by course id (each in listing order)."""
    return shards.split_shards(courses, count)


def combine_shards(courses: list[dict[str, str]], outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per course of the listing from each shard's outcome (``state``, ``rows``
    or None, ``error``, ``run``): a course whose shard failed is a Failed row saying so."""
    return shards.combine_shards(courses, [shards.ShardOutcome(**o) for o in outcomes])


def sync_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Courses by state, pages parsed, files read and the failed courses of a sync."""
    return shards.summarize(rows)


def _catalog_row(c: CatalogUpdate) -> dict[str, Any]:
    return {
        "locale": c.locale,
        "path": c.path,
        "written": c.written,
        "error": c.error,
        "merge": to_plain(c.merge),
        "memory": to_plain(c.memory),
    }


def extract_template(
    source: str, course: str, locales_dir: str, source_locale: str = "en", new_locales: list[str] | None = None
) -> dict[str, Any]:
    """Extract the course into its template of record; ``locales`` lists the catalogs
    to bring up to date next, one :func:`update_locale` each (every existing one,
    and each of ``new_locales`` that has none)."""
    workspace = Workspace(locales_dir)
    extracted, written = update_template(
        workspace, open_source(source), check_course_id(course), source_locale=source_locale, jobs=1
    )
    return {
        "course": course,
        "source": without_credentials(source),  # a result: shown and kept by Prefect
        "pages": extracted.pages,
        "entries": len(extracted.catalog.entries),
        "template": workspace.describe(workspace.template_key(course)),
        "template_written": written,
        "failures": [str(f) for f in extracted.failures],
        "locales": catalog_locales(workspace, course, new_locales or ()),
        # what the workspace holds after this: a cached result stands only while it still does
        "version": workspace.storage.version(workspace.template_key(course)),
    }


def update_locale(course: str, locale: str, locales_dir: str) -> dict[str, Any]:
    """Merge the course's template of record into its ``locale`` catalog (created if
    missing), filled from memory. A damaged catalog is left unchanged and raises
    (so that the item fails, is reported and is tried again by the next run)."""
    workspace = Workspace(locales_dir)
    row = _catalog_row(update_catalog(workspace, check_course_id(course), locale))
    if row["error"]:
        raise LocalizeError(row["error"])
    return row | {"course": course, "version": workspace.storage.version(workspace.catalog_key(course, locale))}


def current_versions(locales_dir: str, course: str, locales: list[str]) -> dict[str, Any]:
    """The versions the workspace holds now of the course's template and of its ``locales``
    catalogs (None: missing), to compare with those a cached result recorded: a workspace
    wiped, restored or written since is not what the cached run left."""
    workspace = Workspace(locales_dir)
    version = workspace.storage.version
    return {
        "template": version(workspace.template_key(check_course_id(course))),
        "locales": {locale: version(workspace.catalog_key(course, locale)) for locale in locales},
    }


def configured_locales(config_path: str, course: str) -> list[str]:
    """Every locale some partner translates this course into."""
    config = load_config(config_path)
    return sorted({loc for p in config.partners for loc in p.locales if p.serves(course, loc)})


def route_kit(config_path: str, course: str, locale: str, source: str | None = None) -> dict[str, Any]:
    """Send the kit of one locale (with the course's pages and preview.html when ``source`` is
    given; a row with ``error`` for a refusal; a transient storage error raises, for the
    orchestrator to retry)."""
    config = load_config(config_path)
    return _route_row(config, course, locale, open_source(source) if source is not None else None)


def _route_row(config: Config, course: str, locale: str, pages: Source | None) -> dict[str, Any]:
    try:
        r = route(config, course, locale, source=pages)
    except TransientStorageError:
        raise  # transient: let the orchestrator retry
    except NothingToSend as e:  # not a failure: the partner has nothing to do
        return {"course": course, "locale": locale, "sent": False, "note": str(e)}
    except LocalizeError as e:
        return {"course": course, "locale": locale, "error": str(e)}
    return {
        "course": course,
        "locale": locale,
        "partner": r.assignment.partner,
        "kit": r.assignment.kit,
        "sent": r.sent,
        "location": r.kit_location,
        "due": r.assignment.due,
        "words_to_translate": r.assignment.words_to_translate,
        "webhook": r.webhook,
    }


def ingest_returns(config_path: str, partner: str | None = None) -> list[dict[str, Any]]:
    """Every returned file waiting in the inboxes (of one partner, or all)."""

    config = load_config(config_path)
    partners = [partner] if partner else [p.id for p in config.partners]
    out: list[dict[str, Any]] = []
    for pid in partners:
        try:  # one partner's inbox (a file where its reports go, a path that is not a folder)
            reports = ingest(config, pid)  # stops only that partner: the others' returns go on
        except TransientStorageError:
            raise  # transient: let the orchestrator retry (a return already taken is not taken twice)
        except (LocalizeError, OSError) as e:
            error = (
                f"{pid}: {e}"
                if isinstance(e, LocalizeError)
                else f"{pid}: cannot read the inbox: {without_credentials(str(e))}"
            )
            out.append({"partner": pid, "state": "failed", "error": error, "errors": [error], "terminology": []})
            continue
        for report in reports:
            row = {
                k: v
                for k, v in report.as_dict().items()
                if k
                in (
                    "partner",
                    "file",
                    "kit",
                    "course",
                    "locale",
                    "state",
                    "accepted",
                    "rejected",
                    "conflicts",
                    "unchanged",
                    "reviewed",
                    "report",
                    "archived",
                    "already",
                )
            }
            row["errors"] = [str(p) for p in report.problems if p.severity == "error"]
            row["terminology"] = [str(p) for p in report.problems if p.check == "terminology"]
            out.append(row)
    return out


def publish_locales(
    config_path: str, course: str, locales: list[str], region: str | None = None
) -> list[dict[str, Any]]:
    """Every locale to every region serving it, one after the other (flows fan
    out over :func:`publish_regions` and :func:`publish_region` instead)."""
    out: list[dict[str, Any]] = []
    for locale in locales:
        try:
            regions = publish_regions(config_path, locale, region)
        except LocalizeError as e:
            out.append({"course": course, "locale": locale, "error": str(e)})
            continue
        for name in regions:
            out.extend(publish_region(config_path, course, locale, name))
    return out


def publish_regions(config_path: str, locale: str, region: str | None = None) -> list[str]:
    """The regions ``locale`` is published to (``region`` alone if given); a locale
    no region serves is a ConfigError."""
    config = load_config(config_path)
    locale = check_locale(locale)
    if region is not None:
        return [config.region(region).name]
    names = [r.name for r in config.regions if locale in r.locales]
    if not names:
        raise ConfigError(f"no region serves {locale}: add it to a region's locales (or publish --region R)")
    return names


def publish_region(config_path: str, course: str, locale: str, region: str) -> list[dict[str, Any]]:
    """Publish one course x locale to one region: its row (a refusal or a permanent
    failure is a row with ``error``; a transient failure raises, for a retry)."""
    config = load_config(config_path)
    try:
        results = publish(config, course, locale, region=region, dashboard=False)
    except TransientStorageError:
        raise  # transient (or the region is down): let the orchestrator retry
    except LocalizeError as e:
        return [{"course": course, "locale": locale, "region": region, "published": False, "error": str(e)}]
    out: list[dict[str, Any]] = []
    for r in results:
        if isinstance(r.error, TransientStorageError):
            raise r.error  # let the orchestrator retry (nothing was switched in this region)
        row = {
            "course": course,
            "locale": locale,
            "region": r.region,
            "version": r.version,
            "published": r.published,
            "message": r.message,
            "uploaded_objects": r.uploaded_objects,
            "uploaded_bytes": r.uploaded_bytes,
        }
        if r.error is not None:
            row["error"] = str(r.error)
        if r.warnings:  # e.g. no notice template for the locale (the English notice is used)
            row["warnings"] = "; ".join(r.warnings)
        out.append(row)
    return out


def publish_dashboards(config_path: str, regions: list[str]) -> list[str]:
    """Once at the end of a run: the public page of every region that got a new version."""
    return app_publish_dashboards(load_config(config_path), regions)


def stats_rows(locales_dir: str, course: str | None = None) -> list[dict[str, Any]]:

    return [to_plain(s) for s in workspace_stats(Workspace(locales_dir), course=course)]


def write_report(config_path: str, out: str | None = None) -> str:
    """The dashboard as one HTML file (default: report.html beside localize.toml)."""

    target = out or str(Path(config_path).resolve().parent / "report.html")
    return write(target, config_path=config_path)


def list_courses(listing: str) -> list[dict[str, str]]:
    """A source listing: a folder whose sub-folders (or .zip files) are courses, a
    JSON file ``[{"course": ..., "source": ...}]``, or a text file of
    ``COURSE SOURCE`` lines (relative sources are relative to the file)."""
    path = Path(listing)
    if path.is_dir():
        out = []
        for child in sorted(path.iterdir()):
            if child.name.startswith("."):
                continue
            if child.is_dir() or child.suffix.lower() == ".zip":
                out.append({"course": child.stem if child.is_file() else child.name, "source": str(child)})
        return out
    shapes = (
        "a listing is a folder of course folders or .zip files, a .json file of "
        '[{"course": ..., "source": ...}] or a text file of COURSE SOURCE lines'
    )
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise ConfigError(f"no such course listing; {shapes}", path=listing) from e
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read the course listing ({e}); {shapes}", path=listing) from e
    base = path.parent
    if path.suffix.lower() == ".json":
        try:
            rows = json.loads(text)
        except ValueError as e:
            raise ConfigError(f"not valid JSON ({e}); {shapes}", path=listing) from e
        if not isinstance(rows, list) or not all(
            isinstance(r, dict) and isinstance(r.get("course"), str) and isinstance(r.get("source"), str) for r in rows
        ):
            raise ConfigError(f"not a list of course and source pairs; {shapes}", path=listing)
    else:
        rows = []
        for line in text.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                course, _, source = line.partition(" ")
                rows.append({"course": course, "source": source.strip()})
    for row in rows:
        check_course_id(row["course"])
        if (
            not str(row["source"]).startswith(("s3://", "http://", "https://"))
            and not Path(row["source"]).is_absolute()
        ):
            row["source"] = str(base / row["source"])
    return [{"course": str(r["course"]), "source": str(r["source"])} for r in rows]
