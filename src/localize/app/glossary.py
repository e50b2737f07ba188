"""Glossary operations: import and export TBX or CSV into the workspace's glossary of record."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from localize.app.output import file_kind
from localize.catalogs.glossary import APPROVED, Glossary, Term, with_terms
from localize.catalogs.glossary_files import (
    glossary_key,
    load_glossary,
    read_glossary_file,
    save_glossary,
    to_csv,
    to_tbx,
)
from localize.catalogs.glossary_suggest import Suggestion, suggest_terms
from localize.catalogs.workspace import Workspace
from localize.errors import CatalogError, CatalogNotFoundError, ConfigError
from localize.ids import check_course_id
from localize.locales import check_locale, foreign_script
from localize.model import Entry
from localize.partners.checks import entry_problems
from localize.storage.base import LocalStorage
from localize.storage.folder_files import read_named_file

__all__ = ["GLOSSARY_FORMATS", "GlossaryImport", "export_glossary", "import_glossary", "suggest_glossary"]

MAX_GLOSSARY_BYTES = 32 * 1024 * 1024  # a larger import is refused before it is read

GLOSSARY_FORMATS = (".tbx", ".csv")


@dataclass(frozen=True, slots=True)
class GlossaryImport:
    imported: int
    total: int
    path: str
    replaced: int = 0  # terms the glossary had, whose rows the file's replace
    changed: int = 0  # of the file's rows of those terms, the ones with a translation the glossary did not have
    warning: str = ""  # the course has no template (yet)


def _gate_would_refuse(term: Term) -> str | None:
    """What a kit tells its translator to write must pass the QA gate: an approved translation
    with markup or bidi controls is refused at import (the file's line named)."""
    if term.status != APPROVED:
        return None
    refused = [
        p for p in entry_problems(Entry(term.term, term.translation), "") if p.check in ("markup", "bidi-controls")
    ]
    if not refused:
        return None
    return (
        f"term {term.term[:60]!r}: the QA gate would refuse its approved translation ({refused[0].message}); "
        "write it as text. Nothing imported"
    )


def import_glossary(
    workspace: Workspace, file: str, locale: str, *, course: str | None = None, source_locale: str = "en"
) -> GlossaryImport:
    """Add the terms of a .tbx or .csv file to the glossary of ``locale`` (or of one course):
    the file's rows replace every row the glossary had for the same terms."""
    locale = check_locale(locale)
    warning = ""
    if course is not None and not workspace.storage.exists(workspace.template_key(course)):
        warning = (  # a mistyped --course, or terms made ready before the course is extracted
            f"no course {course!r} in {workspace.describe('')}{workspace.meant(course)}: its terms apply once "
            f"it is extracted (localize extract SOURCE --course {course})"
        )
    data = read_named_file(file, MAX_GLOSSARY_BYTES, "a glossary file")
    rows = read_glossary_file(data, file, locale, _gate_would_refuse, source_locale)
    if not rows:
        raise CatalogError("no terms found: nothing imported", path=file)
    script = foreign_script(locale, [t.translation for t in rows])
    if script is not None:
        raise CatalogError(
            f"the translations are in {script} script, not the one {locale} is written in: is this the glossary "
            f"of another language? Nothing imported; import it with --locale set to its language",
            path=file,
        )
    existing = load_glossary(workspace, locale, course, only_course=course is not None, source_locale=source_locale)
    before = {(t.term.casefold(), t.translation) for t in existing.terms}
    known = {term for term, _ in before}
    replaced = sum(1 for t in {r.term.casefold(): r for r in rows}.values() if t.term.casefold() in known)
    changed = sum(1 for t in rows if t.term.casefold() in known and (t.term.casefold(), t.translation) not in before)
    glossary = with_terms(existing, rows)
    path = save_glossary(workspace, glossary, course)
    return GlossaryImport(len(rows), len(glossary), path, replaced=replaced, changed=changed, warning=warning)


def export_glossary(
    workspace: Workspace, locale: str, out: str, *, course: str | None = None, source_locale: str = "en"
) -> int:
    """Write the glossary of ``locale`` (with ``course``'s terms over it) as TBX or CSV; returns its rows."""
    locale = check_locale(locale)
    target = Path(out)
    kind = file_kind(out, GLOSSARY_FORMATS)
    glossary: Glossary = load_glossary(workspace, locale, course, source_locale=source_locale)
    if not len(glossary):
        raise CatalogNotFoundError(
            f"no {locale} glossary; add one with: localize glossary import FILE --locale {locale}",
            path=workspace.describe(glossary_key(locale, course)),
        )
    text = to_tbx(glossary) if kind == ".tbx" else to_csv(glossary)
    target.parent.mkdir(parents=True, exist_ok=True)
    LocalStorage(target.parent).write_bytes(target.name, text.encode("utf-8"))
    return len(glossary)


def suggest_glossary(
    workspace: Workspace,
    course: str,
    *,
    locale: str | None = None,
    limit: int = 50,
    min_entries: int = 2,
    out: str | None = None,
    source_locale: str = "en",
) -> list[Suggestion]:
    """Candidate terms of ``course``'s template, best first, without the terms the glossary of
    ``locale`` (and the course's own) already has; ``out`` also writes them as a CSV to fill in
    and import (translation empty: ``glossary import`` refuses a row until it has one)."""
    check_course_id(course)
    if limit < 1 or min_entries < 1:
        raise ConfigError(f"--limit and --min-entries must be at least 1, not {min(limit, min_entries)}")
    if source_locale.split("_")[0] != "en":
        raise ConfigError(f"glossary suggest reads English sources; this workspace's source is {source_locale}")
    glossary = None if locale is None else load_glossary(workspace, check_locale(locale), course)
    found = suggest_terms(workspace.read_template(course), glossary=glossary, limit=limit, min_entries=min_entries)
    if out is not None:
        target = Path(out)
        if target.suffix.lower() != ".csv":
            raise ConfigError("name the file .csv (the columns glossary import reads)", path=out)
        rows = [Term(s.term, "", APPROVED, "", f"suggested: in {s.entries} entries of {course}") for s in found]
        target.parent.mkdir(parents=True, exist_ok=True)
        text = to_csv(Glossary(locale or "und", tuple(rows), source_locale))
        LocalStorage(target.parent).write_bytes(target.name, text.encode("utf-8"))
    return found
