"""Quality checks on a translated catalog: the QA gate of returned files.

Each problem is reported as ``file:line: severity: check: message``. Errors block
an entry (or, for file-level checks, the whole file) from being merged; warnings
and infos are shown to the translator and in the partner's QA report.

File-level checks: syntax, header-language, plural-forms.
Entry-level checks: edited-source, placeholders, markup, variables, urls,
newlines (errors); numbers, whitespace, same-as-source, length (warnings).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from localize.errors import ConfigError, PoSyntaxError
from localize.model import Catalog, Entry, Placeholder, Unit, UnitKind
from localize.po import read_po
from localize.segments import TranslationProblem, parse_translation

__all__ = ["ERROR", "FILE_LEVEL", "INFO", "WARNING", "Problem", "check_catalog", "check_file", "entry_problems"]

ERROR, WARNING, INFO = "error", "warning", "info"
FILE_LEVEL = frozenset(("syntax", "header-language", "plural-forms"))

_PLACEHOLDER = re.compile(r"<(/?)([A-Za-z][A-Za-z-]*\d+)(/?)>")
_TAG_LIKE = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9:-]*)\b[^<>]*>|<!--|<!\[CDATA\[", re.I)
_DANGEROUS_TAG = re.compile(
    r"<\s*/?\s*(script|style|iframe|object|embed|link|meta|base|form|svg|math|frame|applet)\b", re.I
)
_HANDLER = re.compile(r"\bon[a-z]+\s*=", re.I)
_BAD_URL = re.compile(r"(?:java|vb)\s*script\s*:|data\s*:\s*[a-z]+/[a-z0-9.+-]+", re.I)
# printf conversions; no space flag and no letter right after, so prose such as "100% chance"
# or "50% of" is not taken for "% c" or "% o"
_PRINTF = re.compile(r"%(?:\(\w+\))?[-+#0]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlLqjzt]*[diouxXeEfFgGcrsa%](?![A-Za-z])")
_BRACE = re.compile(r"\{[A-Za-z_][\w.]*\}|\{\d*\}")
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f ]\d+)*")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    severity: str
    check: str
    message: str
    key: tuple[str | None, str] | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.check}: {self.message}"


def _unit_for(msgid: str) -> Unit:
    """The placeholders a msgid carries, as a Unit that parse_translation understands."""
    placeholders: dict[str, Placeholder] = {}
    for m in _PLACEHOLDER.finditer(msgid):
        name = m.group(2)
        if m.group(3):
            placeholders[name] = Placeholder(name, 0, 0)
        elif not m.group(1) and name not in placeholders:
            placeholders[name] = Placeholder(name, 0, 0, 0, 0)
    return Unit(UnitKind.TEXT, msgid, None, 0, 0, tuple(placeholders.values()))


def _numbers(s: str) -> Counter[str]:
    """The numbers in ``s`` (digits of any script, group separators ignored)."""
    if _DIGIT.search(s) is None:
        return Counter()
    out: Counter[str] = Counter()
    for m in _NUMBER.finditer(_PLACEHOLDER.sub(" ", s)):
        digits = "".join(ch for ch in m.group(0) if ch.isdigit())
        out[str(int(digits))] += 1  # int() reads Arabic-Indic and other digits too
    return out


def _texts(entry: Entry) -> list[tuple[str, str]]:
    """(source, translation) pairs of an entry: one, or one per plural form."""
    if entry.msgid_plural is None:
        return [(entry.msgid, entry.msgstr)] if entry.msgstr else []
    return [(entry.msgid if i == 0 else entry.msgid_plural, form) for i, form in enumerate(entry.msgstr_plural) if form]


def entry_problems(
    entry: Entry, path: str, *, qa_max: float = 3.0, qa_min: float = 0.3, same_language: bool = False
) -> list[Problem]:
    """Problems of one translated entry (empty translations are not checked)."""
    out: list[Problem] = []

    line = entry.msgstr_lineno or entry.lineno  # where the translator has to look

    def add(severity: str, check: str, message: str) -> None:
        out.append(Problem(path, line, severity, check, message, entry.key))

    for source, translation in _texts(entry):
        # placeholders: the unit's markup, each exactly once, properly nested
        unit = _unit_for(source)
        known = {p.name for p in unit.placeholders}
        for m in _PLACEHOLDER.finditer(translation):
            if m.group(2) not in known:
                add(ERROR, "placeholders", f"placeholder {m.group(0)} is not in the source (extra or renamed)")
        try:
            parse_translation(translation, unit)
        except TranslationProblem as e:
            add(ERROR, "placeholders", str(e))
        # markup that is not a placeholder (each check only where its trigger character is present)
        rest = _PLACEHOLDER.sub(" ", translation) if "<" in translation else translation
        plain_source_spaced = _PLACEHOLDER.sub(" ", source) if "<" in source else source
        if "<" in rest:
            dangerous = _DANGEROUS_TAG.search(rest)
            tag = _TAG_LIKE.search(rest)
            if dangerous:
                add(ERROR, "markup", f"<{dangerous.group(1).lower()}> is not allowed in a translation")
            elif tag and not _TAG_LIKE.search(plain_source_spaced):
                add(
                    ERROR,
                    "markup",
                    f"{tag.group(0)[:40]!r} looks like HTML; only the source's placeholders may be used",
                )
        if "=" in rest and _HANDLER.search(rest) and not _HANDLER.search(source):
            add(ERROR, "markup", "an event handler attribute (on...=) is not allowed in a translation")
        if ":" in translation and _BAD_URL.search(translation) and not _BAD_URL.search(source):
            add(ERROR, "markup", "javascript:, vbscript: and data: URLs are not allowed in a translation")
        # printf and brace variables
        for pattern, kind, trigger in ((_PRINTF, "printf", "%"), (_BRACE, "brace", "{")):
            if trigger not in source and trigger not in translation:
                continue
            want, got = Counter(pattern.findall(source)), Counter(pattern.findall(translation))
            if want != got:
                missing = sorted((want - got).elements())
                extra = sorted((got - want).elements())
                detail = "; ".join(
                    x
                    for x in (
                        f"missing {' '.join(missing)}" if missing else "",
                        f"extra {' '.join(extra)}" if extra else "",
                    )
                    if x
                )
                add(ERROR, "variables", f"{kind} variables differ from the source: {detail}")
        # URLs and e-mail addresses must survive unchanged
        for pattern, kind, trigger in ((_URL, "URL", "://"), (_EMAIL, "e-mail address", "@")):
            if trigger not in source and trigger not in translation:
                continue
            want_set, got_set = set(pattern.findall(source)), set(pattern.findall(translation))
            for item in sorted(want_set - got_set):
                add(ERROR, "urls", f"{kind} {item} is missing or changed")
            for item in sorted(got_set - want_set):
                add(ERROR, "urls", f"{kind} {item} is not in the source")
        # newlines at the ends (msgfmt -c refuses these)
        if source.startswith("\n") != translation.startswith("\n") or source.endswith("\n") != translation.endswith(
            "\n"
        ):
            add(ERROR, "newlines", "the source and the translation must both begin and end with a newline, or neither")
        if _numbers(source) != _numbers(translation):
            add(WARNING, "numbers", "the numbers differ from the source")
        if (source[:1].isspace() != translation[:1].isspace()) or (source[-1:].isspace() != translation[-1:].isspace()):
            add(WARNING, "whitespace", "leading or trailing whitespace differs from the source")
        if translation == source and _LETTER.search(plain_source_spaced) and not same_language:
            add(WARNING, "same-as-source", "the translation is identical to the source")
        plain_length = len(plain_source_spaced.replace(" ", ""))
        if plain_length >= 20:
            ratio = len(rest.replace(" ", "")) / plain_length
            if ratio > qa_max or ratio < qa_min:
                add(WARNING, "length", f"the translation is {ratio:.1f} times as long as the source")
    unique: dict[tuple[str, str], Problem] = {}
    for problem in out:
        unique.setdefault((problem.check, problem.message), problem)
    return list(unique.values())


def check_catalog(
    catalog: Catalog,
    path: str,
    *,
    locale: str | None = None,
    template: Catalog | None = None,
    qa_max: float = 3.0,
    qa_min: float = 0.3,
    source_locale: str = "en",
) -> list[Problem]:
    """Every problem of a parsed catalog, sorted by line."""
    from localize.catalogs import check_locale, plural_forms

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
            Problem(path, 1, ERROR, "header-language", f"the kit's locale {expected_raw!r} is not a locale code")
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
            if "_" not in expected and canonical.split("_")[0] == expected:
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
        nplurals = int(re.search(r"nplurals\s*=\s*(\d+)", want).group(1))  # type: ignore[union-attr]
        have = catalog.header("Plural-Forms")
        found = re.search(r"nplurals\s*=\s*(\d+)", have or "")
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
    known = template.index() if template is not None else None
    same_language = bool(target) and (target or "").split("_")[0] == source_locale.split("_")[0]
    counts: Counter[str] = Counter()
    for e in catalog.entries:
        if e.obsolete:
            continue
        counts[
            "translated"
            if e.translated
            else "fuzzy"
            if e.fuzzy and (e.msgstr or any(e.msgstr_plural))
            else "untranslated"
        ] += 1
        if known is not None and e.key not in known:
            ctx = "" if e.msgctxt is None else f" (msgctxt {e.msgctxt!r})"
            problems.append(
                Problem(
                    path,
                    e.msgid_lineno or e.lineno,
                    ERROR,
                    "edited-source",
                    f"msgid {e.msgid[:50]!r}{ctx} is not in the template: restore the original msgid",
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
        problems.extend(entry_problems(e, path, qa_max=qa_max, qa_min=qa_min, same_language=same_language))
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


def check_file(data: bytes, path: str, **kwargs: object) -> tuple[Catalog | None, list[Problem]]:
    """Parse and check; a syntax error is the only problem when the file does not parse."""
    if not data.strip():
        return None, [Problem(path, 1, ERROR, "syntax", "the file is empty")]
    try:
        catalog = read_po(data, path)
    except PoSyntaxError as e:
        return None, [Problem(path, e.line or 1, ERROR, "syntax", e.message)]
    return catalog, check_catalog(catalog, path, **kwargs)  # type: ignore[arg-type]
