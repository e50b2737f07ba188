"""Translation-memory operations: ``tm export``, ``tm import``, ``tm list`` and the memory
rules (``tm delete``, ``tm obsolete``), over the workspace's catalogs and imported compendium."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from localize.app.output import file_kind
from localize.catalogs.faults import kill_point
from localize.catalogs.memory import MemoryUnit, load_memory, memory_units
from localize.catalogs.memory_files import merge_into_compendium, read_memory_file, to_po, to_tmx, to_xliff
from localize.catalogs.memory_rules import MemoryRule, add_rule
from localize.catalogs.po import write_po
from localize.catalogs.workspace import MERGE_ATTEMPTS, Workspace
from localize.errors import CatalogChanged, CatalogNotFoundError
from localize.locales import check_locale
from localize.model import Catalog, Entry
from localize.partners.checks import ERROR, Limits, Problem, entry_problems
from localize.storage.base import LocalStorage
from localize.storage.folder_files import read_named_file

if TYPE_CHECKING:
    from localize.config import QAPolicy  # pydantic: imported by the commands that read a configuration

__all__ = ["MEMORY_FORMATS", "MemoryImport", "edit_memory", "export_memory", "import_memory", "list_memory"]

MAX_MEMORY_FILE_BYTES = 128 * 1024 * 1024  # a larger import is refused before it is read

MEMORY_FORMATS = (".po", ".tmx", ".xlf")
"""What ``tm export`` writes, by the file's extension."""


def export_memory(
    workspace: Workspace, locale: str, out: str, *, source_locale: str = "en", obsolete: bool = False
) -> int:
    """Write the memory of ``locale`` as TMX (``.tmx``), a compendium .po or XLIFF, with the
    provenance of every unit (:mod:`localize.catalogs.memory_files`); ``obsolete`` also writes the
    units marked obsolete (so as marked: for another localize workspace). Returns its size."""
    locale = check_locale(locale)
    target = Path(out)
    kind = file_kind(out, MEMORY_FORMATS, "compendium .po, TMX 1.4 or XLIFF 1.2")
    memory = load_memory(workspace, locale)
    if not len(memory) and not (obsolete and any(u.obsolete for u in memory.listed)):
        raise CatalogNotFoundError(
            f"the {locale} translation memory is empty (no translated entry in any {locale} catalog, nothing "
            f"imported): nothing exported; check the locale and the workspace",
            path=workspace.describe(""),
        )
    if kind == ".xlf":
        data = to_xliff(memory, locale, source_locale, obsolete=obsolete)
    else:
        data = (
            to_tmx(memory, locale, source_locale, obsolete=obsolete)
            if kind == ".tmx"
            else write_po(to_po(memory, locale, obsolete=obsolete))
        ).encode()
    target.parent.mkdir(parents=True, exist_ok=True)
    LocalStorage(target.parent).write_bytes(target.name, data)
    return len(memory) + (sum(1 for u in memory.listed if u.obsolete) if obsolete else 0)


@dataclass(frozen=True, slots=True)
class MemoryImport:
    imported: int
    total: int
    path: str
    claims_reviewed: int = 0  # units the file says were reviewed
    trusted: bool = False  # ... and whether they count as reviewed (--trust-reviewed)
    refused: tuple[Problem, ...] = field(default=())  # units left out: the QA gate's errors, one per unit


def _gate(
    units: list[MemoryUnit], file: str, qa: QAPolicy | None = None
) -> tuple[list[MemoryUnit], tuple[Problem, ...]]:
    """The units a returned kit's gate would accept: an imported unit fills catalogs that are
    published without another return, so a control character, a bidi override or placeholders
    that do not match the source are refused here, with the problem (the others are imported).
    ``qa``: the project's ``[qa]`` settings, which the gate of a return uses too."""
    kept: list[MemoryUnit] = []
    refused: list[Problem] = []
    options: dict[str, Any] = {}  # entry_problems' defaults are those of QAPolicy()
    if qa is not None:
        limits = Limits(max_file_bytes=qa.max_file_bytes, max_string_chars=qa.max_string_chars)
        options = {"qa_max": qa.max_length_ratio, "qa_min": qa.min_length_ratio, "limits": limits}
    for unit in units:
        entry = Entry(unit.msgid, unit.msgstr, unit.msgctxt)
        problems = entry_problems(entry, file, **options)
        errors = [p for p in problems if p.severity == ERROR]
        if errors:
            refused.append(errors[0])
        else:
            kept.append(unit)
    return kept, tuple(refused)


def import_memory(
    workspace: Workspace,
    file: str,
    locale: str,
    *,
    trust_reviewed: bool = False,
    now: datetime | None = None,
    qa: QAPolicy | None = None,
) -> MemoryImport:
    """Add the units of a TMX, XLIFF or .po file to the imported memory of ``locale``: their
    provenance kept as the file's claims beside the file's name and the import time (``now``);
    their claimed review counts only with ``trust_reviewed``
    (:func:`localize.catalogs.memory_files.as_imported`). Units the QA gate refuses under the
    project's ``qa`` settings (default: the defaults of ``[qa]``) are not imported."""
    locale = check_locale(locale)
    data = read_named_file(file, MAX_MEMORY_FILE_BYTES, "a memory file")
    units, refused = _gate(read_memory_file(data, file, locale, now=now, trust_reviewed=trust_reviewed), file, qa)
    key = workspace.memory_key(locale)
    for attempt in range(MERGE_ATTEMPTS):
        existing: Catalog | None = None
        based_on: bytes | None = None
        with contextlib.suppress(CatalogNotFoundError):
            existing, based_on = workspace.read_with_bytes(key)
        catalog = merge_into_compendium(existing, units, locale)
        kill_point("tm-import:before-write")
        try:  # atomic, and only over the compendium it merged with: two imports at once both stay
            workspace.write(key, catalog, based_on=based_on)
            break
        except CatalogChanged:
            if attempt == MERGE_ATTEMPTS - 1:
                raise
    kill_point("tm-import:written")
    claims = sum(1 for u in units if u.claims_reviewed)
    return MemoryImport(len(units), len(catalog.entries), workspace.describe(key), claims, trust_reviewed, refused)


def list_memory(workspace: Workspace, locale: str, *, search: str | None = None) -> list[MemoryUnit]:
    """Every unit of the memory of ``locale`` with its provenance (obsolete ones too, deleted
    ones not), optionally only those whose source or translation contains ``search`` (any case)."""
    units = memory_units(workspace, check_locale(locale))
    if search:
        needle = search.casefold()
        units = [u for u in units if needle in u.msgid.casefold() or needle in u.msgstr.casefold()]
    return sorted(units, key=lambda u: (u.msgctxt or "", u.msgid, u.origin, u.msgstr))


def edit_memory(
    workspace: Workspace, locale: str, action: str, msgid: str, *, msgctxt: str | None = None, msgstr: str | None = None
) -> int:
    """Delete or obsolete memory units of ``locale`` (``action``: delete, obsolete): the source
    ``msgid`` in context ``msgctxt``, only the translation ``msgstr`` when given. Kept as a
    rule in ``memory/LL.rules.json`` (the catalogs of record stay as they are); returns how
    many units it applies to."""
    locale = check_locale(locale)
    return add_rule(workspace, locale, MemoryRule(action, msgctxt, msgid, msgstr), memory_units(workspace, locale))
