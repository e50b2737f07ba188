"""Partner operations: routing kits, checking and ingesting returns, access policies."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from localize.catalogs.glossary import Glossary
from localize.catalogs.glossary_files import load_glossary, read_tbx
from localize.catalogs.po import read_po
from localize.catalogs.workspace import Workspace
from localize.catalogs.xliff import is_xliff, read_xliff, unit_id
from localize.config import Config
from localize.errors import CatalogError, LocalizeError
from localize.locales import known_locale
from localize.model import Catalog
from localize.partners.access import check_overlaps, iam_policy, partner_access, seaweed_config
from localize.partners.checks import ERROR, Problem
from localize.partners.qa import check_file
from localize.storage.folder_files import regular_fd

__all__ = ["AccessFile", "check_po_file", "write_access_files"]


@dataclass(frozen=True, slots=True)
class AccessFile:
    partner: str | None  # None: the SeaweedFS identities of every partner
    path: str | None  # None: a folder inbox needs no policy
    location: str = ""


def write_access_files(config: Config, out: str) -> list[AccessFile]:
    """An AWS IAM policy per partner with an S3 inbox, and the SeaweedFS
    identities of all of them (new keys; the file is owner-only)."""
    check_overlaps(config)
    target = Path(out)
    written: list[AccessFile] = []
    accesses = []
    for partner in config.partners:
        if not config.resolve(partner.inbox).startswith("s3://"):
            written.append(AccessFile(partner.id, None))
            continue
        access = partner_access(config, partner)
        accesses.append(access)
        path = target / "iam" / f"{partner.id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(iam_policy(access.bucket, access.prefix), indent=2) + "\n")
        written.append(AccessFile(partner.id, str(path), f"s3://{access.bucket}/{access.prefix}/"))
    if accesses:
        path = target / "seaweedfs-identities.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(seaweed_config(accesses))
        written.append(AccessFile(None, str(path)))
    return written


def check_po_file(
    path: str, *, locale: str | None = None, workspace: Workspace | None = None, course: str | None = None
) -> list[Problem]:
    """The translator's own check of a .po file (against the course's template when given)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CatalogError(e.strerror or str(e), path=path) from e
    template = workspace.read_template(course) if workspace is not None and course else None
    catalog, problems = check_file(
        data, path, locale=locale, template=template, glossary=_glossary_for(path, data, locale, workspace, course)
    )
    kit_locale = catalog.header("X-Localize-Locale") if catalog is not None else None
    if locale and kit_locale and known_locale(kit_locale) not in (None, known_locale(locale)):
        # the kit says which locale it is for: the option, not the file, is what is wrong
        _, problems = check_file(data, path, locale=known_locale(kit_locale), template=template,
                                 glossary=_glossary_for(path, data, known_locale(kit_locale), workspace, course))  # fmt: skip
        problems = [
            Problem(path, 1, ERROR, "kit-locale", f"this is the {kit_locale} kit (X-Localize-Locale), but --locale "
                    f"says {locale}: checked as {kit_locale}; leave --locale out or give --locale {kit_locale}"),
            *problems,
        ]  # fmt: skip
    if template is None and catalog is not None:
        problems = sorted([*problems, *_edited_sources(path, catalog)], key=lambda p: p.line)
    return problems


def _edited_sources(path: str, catalog: Catalog) -> list[Problem]:
    """Entries whose msgid (or msgctxt) is not one the kit sent, from ``kit.json`` beside the file
    (its ``sources``: the ids of the kit's entries); none when there is no such kit.json."""
    try:  # a regular file only (never a link, a pipe or a device), at most 20 MB
        with os.fdopen(regular_fd(str(Path(path).parent / "kit.json"), os.O_RDONLY, "reading"), "rb") as f:
            kit = json.loads(f.read(20_000_000))
        sources = set(kit["sources"]) if isinstance(kit.get("sources"), list) else None
    except (OSError, LocalizeError, ValueError, TypeError, AttributeError, KeyError, RecursionError):
        sources = None
    if not sources:
        return []
    return [
        Problem(path, e.msgid_lineno or e.lineno, ERROR, "edited-source",
                f"msgid {e.msgid[:50]!r}{_context(e.msgctxt)} is not one the kit sent (kit.json): restore the "
                "original msgid and msgctxt (some tools drop or rewrite msgctxt lines)", e.key)
        for e in catalog.entries
        if not e.obsolete and unit_id(e.msgctxt, e.msgid) not in sources
    ]  # fmt: skip


def _context(msgctxt: str | None) -> str:
    return " (no msgctxt)" if msgctxt is None else f" (msgctxt {msgctxt[:40]!r})"


def _glossary_for(
    path: str, data: bytes, locale: str | None, workspace: Workspace | None, course: str | None
) -> Glossary | None:
    """The terms for a translator's check: the kit's ``glossary.tbx`` beside the file, else
    the workspace glossary of the course; None when neither is there or the locale is unknown."""
    if locale is None:
        try:
            catalog = read_xliff(data, path).catalog if is_xliff(path, data) else read_po(data, path)
        except LocalizeError:
            return None
        locale = catalog.header("X-Localize-Locale") or catalog.header("Language")
    if not locale:
        return None
    beside = Path(path).parent / "glossary.tbx"
    try:
        if beside.is_file():
            return Glossary(locale, tuple(read_tbx(beside.read_bytes(), str(beside), locale)))
        if workspace is not None and course:
            return load_glossary(workspace, locale, course)
    except LocalizeError:
        return None
    return None
