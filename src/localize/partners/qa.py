"""The QA gate over a whole returned file: parse it, check the header (Language,
Plural-Forms) and every entry with the registry of :mod:`.checks`, sorted by line."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import replace

from localize.catalogs.glossary import Glossary
from localize.catalogs.po import DECLARED_CHARSET, read_po
from localize.catalogs.xliff import is_xliff, read_xliff
from localize.errors import ConfigError, PoSyntaxError
from localize.locales import check_locale, language_of, plural_forms, same_language
from localize.model import Catalog
from localize.partners.checks import ERROR, INFO, NPLURALS, WARNING, Limits, Problem, entry_problems, policy

__all__ = ["check_catalog", "check_file", "with_file_lines"]


def _file_problems(catalog: Catalog, path: str, locale: str | None) -> tuple[list[Problem], str | None, int | None]:
    """header-language and plural-forms: (problems, target locale, nplurals)."""
    problems: list[Problem] = []

    def locale_or_none(code: str | None) -> str | None:
        if not code:
            return None
        try:
            return check_locale(code)
        except ConfigError:
            return None

    expected_raw = locale or catalog.header("X-Localize-Locale")
    expected = locale_or_none(expected_raw)
    if expected_raw and expected is None:
        problems.append(
            Problem(path, 1, ERROR, "header-language", f"the kit's locale {expected_raw[:40]!r} is not a locale code")
        )
    language = catalog.header("Language")
    canonical: str | None = None
    if not language:
        problems.append(
            Problem(path, 1, ERROR, "header-language", "the header has no Language; set it to the kit's locale")
        )
    else:
        try:
            canonical = check_locale(language)
        except ConfigError as err:  # an unknown or malformed code
            problems.append(Problem(path, 1, ERROR, "header-language", err.message))
        if canonical and expected and canonical != expected:
            kit = language_of(expected)
            if kit is not None and kit[2] is None and same_language(canonical, expected):
                # a region of the kit's language, in its script (sr_RS@latin for sr@latin, not for sr)
                problems.append(
                    Problem(
                        path,
                        1,
                        WARNING,
                        "header-language",
                        f"Language is {language}, more specific than the kit's {expected}; accepted as {expected}",
                    )
                )
            else:
                problems.append(
                    Problem(
                        path,
                        1,
                        ERROR,
                        "header-language",
                        f"Language is {language}, but this kit is for {expected}; set Language: {expected}",
                    )
                )
    nplurals: int | None = None
    target = expected or canonical
    has_plurals = any(e.msgid_plural is not None and not e.obsolete for e in catalog.entries)
    if target:
        want = plural_forms(target)
        nplurals = int(NPLURALS.search(want).group(1))  # type: ignore[union-attr]
        have = catalog.header("Plural-Forms")
        found = NPLURALS.search(have or "")
        # a wrong Plural-Forms only matters (and blocks the file) when there are plural entries
        severity = ERROR if has_plurals else WARNING
        if has_plurals or have:
            if not found:
                problems.append(
                    Problem(path, 1, severity, "plural-forms", f"the header has no valid Plural-Forms; use: {want}")
                )
            elif int(found.group(1)) != nplurals:
                problems.append(
                    Problem(
                        path,
                        1,
                        severity,
                        "plural-forms",
                        f"Plural-Forms says nplurals={found.group(1)}, CLDR has {nplurals} for {target}; use: {want}",
                    )
                )
    return problems, target, nplurals


def check_catalog(
    catalog: Catalog,
    path: str,
    *,
    locale: str | None = None,
    template: Catalog | None = None,
    qa_max: float = 3.0,
    qa_min: float = 0.3,
    source_locale: str = "en",
    checks: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    glossary: Glossary | None = None,
) -> list[Problem]:
    """Every problem of a parsed catalog, sorted by line (``glossary``: the terms of the
    terminology check)."""
    policy(checks)  # unknown check ids fail before anything is read
    problems, target, nplurals = _file_problems(catalog, path, locale)
    known = template.index() if template is not None else None
    contexts: dict[str, list[str | None]] | None = None  # msgid -> its contexts in the template, when asked
    same_language = bool(target) and (target or "").split("_")[0] == source_locale.split("_")[0]
    counts: Counter[str] = Counter()
    for e in catalog.entries:
        if e.obsolete:
            continue
        counts["translated" if e.translated else "fuzzy" if e.fuzzy and e.has_translation else "untranslated"] += 1
        if known is not None and e.key not in known:
            ctx = "" if e.msgctxt is None else f" (msgctxt {e.msgctxt[:40]!r})"
            if contexts is None:
                contexts = defaultdict(list)
                for k in known:
                    contexts[k[1]].append(k[0])
            others = contexts.get(e.msgid, [])
            if others:  # the msgid is the kit's: its msgctxt was dropped or rewritten (translate-toolkit does)
                was = " or ".join("no msgctxt" if c is None else f"msgctxt {c[:40]!r}" for c in others[:3])
                message = (
                    f"msgid {e.msgid[:50]!r}{ctx or ' (no msgctxt)'}: the kit has this msgid with {was}; restore "
                    "that msgctxt (some tools drop or rewrite msgctxt lines)"
                )
            else:
                message = f"msgid {e.msgid[:50]!r}{ctx} is not in the template: restore the original msgid"
            problems.append(Problem(path, e.msgid_lineno or e.lineno, ERROR, "edited-source", message, e.key))
            continue
        if known is not None and known[e.key].msgid_plural != e.msgid_plural:
            problems.append(
                Problem(
                    path,
                    e.msgid_lineno or e.lineno,
                    ERROR,
                    "edited-source",
                    "msgid_plural was added or changed; the source has "
                    + ("no plural form: write one msgstr" if known[e.key].msgid_plural is None else "a plural form"),
                    e.key,
                )
            )
            continue
        if e.msgid_plural is not None and nplurals is not None and e.msgstr_plural and len(e.msgstr_plural) != nplurals:
            problems.append(
                Problem(
                    path,
                    e.msgstr_lineno or e.lineno,
                    ERROR,
                    "plural-forms",
                    f"{len(e.msgstr_plural)} plural forms, {target} needs {nplurals}",
                    e.key,
                )
            )
        problems.extend(
            entry_problems(
                e,
                path,
                qa_max=qa_max,
                qa_min=qa_min,
                same_language=same_language,
                checks=checks,
                limits=limits,
                glossary=glossary,
            )
        )
    problems.append(
        Problem(
            path,
            1,
            INFO,
            "progress",
            f"{counts['translated']} translated, {counts['fuzzy']} fuzzy, {counts['untranslated']} untranslated",
        )
    )
    return sorted(problems, key=lambda p: (p.line, p.severity != ERROR, p.check))


def without_echoes(problems: list[Problem], units: list[Problem]) -> list[Problem]:
    """``problems`` less the placeholder problems of the units the XLIFF reader already
    faulted for their inline codes: the same fault, seen again in the text the reader made of
    the target, would be reported twice."""
    faulty = {u.key for u in units}
    return [p for p in problems if not (p.check == "placeholders" and p.key in faulty)]


def with_file_lines(problems: list[Problem], data: bytes, path: str) -> list[Problem]:
    """``problems`` of a PO file with its header's problems on the header's own lines (not line 1),
    and a warning when the file is UTF-8 but its header declares another charset: localize reads
    it as UTF-8, msgfmt and a translator's editor as the charset it declares."""
    lines: dict[str, int] = {}
    for field, check in ((b"Language", "header-language"), (b"Plural-Forms", "plural-forms")):
        m = re.search(rb'^"' + field + rb":", data, re.M)
        if m is not None:
            lines[check] = data.count(b"\n", 0, m.start()) + 1
    out = [
        replace(p, line=lines[p.check]) if p.line == 1 and p.key is None and p.check in lines else p for p in problems
    ]
    m = DECLARED_CHARSET.search(data)
    declared = m.group(1).decode("ascii").lower() if m is not None else "utf-8"
    if declared.replace("_", "-") not in ("utf-8", "utf8") and (not data.isascii() or declared == "charset"):
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # read in the charset it declares
        else:
            assert m is not None
            out.append(
                Problem(path, data.count(b"\n", 0, m.start()) + 1, WARNING, "charset",
                        f"the header says charset={m.group(1).decode('ascii')}, but the file is UTF-8 (as localize "
                        "reads it); gettext tools and editors read the charset it says: set charset=UTF-8")
            )  # fmt: skip
    return sorted(out, key=lambda p: (p.line, p.severity != ERROR, p.check))


def check_file(
    data: bytes, path: str, *, limits: Limits | None = None, **kwargs: object
) -> tuple[Catalog | None, list[Problem]]:
    """Parse and check; a syntax error is the only problem when the file does not parse."""
    limits = limits or Limits()
    if len(data) > limits.max_file_bytes:
        return None, [
            Problem(
                path,
                1,
                ERROR,
                "size",
                f"the file has {len(data)} bytes, more than the limit of {limits.max_file_bytes} "
                "([qa] max_file_bytes); split the work or ask your coordinator",
            )
        ]
    if not data.strip():
        return None, [Problem(path, 1, ERROR, "syntax", "the file is empty")]
    units: list[Problem] = []
    try:
        if is_xliff(path, data):  # a kit sent as XLIFF, checked as the gate will check it
            parsed = read_xliff(data, path)
            catalog = parsed.catalog
            units = [Problem(path, u.line, ERROR, "inline-codes", u.message, u.key) for u in parsed.problems]
        else:
            catalog = read_po(data, path)
    except PoSyntaxError as e:
        return None, [Problem(path, e.line or 1, ERROR, "syntax", e.message)]
    problems = units + without_echoes(check_catalog(catalog, path, limits=limits, **kwargs), units)  # type: ignore[arg-type]
    return catalog, problems if is_xliff(path, data) else with_file_lines(problems, data, path)
