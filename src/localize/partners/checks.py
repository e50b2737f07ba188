"""The QA gate of returned files: a registry of small checks, run from a list.

Each check is a function with an id, a default severity and a docstring (Babel's
``checkers`` shape). Entry checks see one (source, translation) pair at a time
and yield messages; file checks see the whole catalog. A partner may change a
check's severity or switch it off in ``localize.toml``::

    [[partners]]
    id = "lima"
    checks = { length = "off", numbers = "error" }

Each problem is reported as ``file:line: severity: check: message``. Errors block
an entry (or, for file-level checks, the whole file) from being merged; warnings
and infos are shown to the translator and in the partner's QA report.

Every check runs in time linear in its input (no pattern can backtrack over an
unbounded run), and nothing a translator wrote reaches a terminal unescaped.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from localize.catalogs.glossary import Glossary
from localize.engine.placeholders import (
    PLACEHOLDER,
    TranslationProblem,
    maybe_wide,
    parse_translation,
    strip_placeholders,
    unit_for,
    wide_placeholders,
)
from localize.errors import ConfigError, printable
from localize.model import Entry
from localize.partners.measures import ENTITY, listed, numbers, width

__all__ = [
    "CHECKS",
    "ERROR",
    "FILE_LEVEL",
    "INFO",
    "WARNING",
    "Check",
    "CheckContext",
    "Limits",
    "Problem",
    "Severity",
    "entry_problems",
    "policy",
]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO
FILE_LEVEL = frozenset(("syntax", "size", "header-language", "plural-forms"))

# Every quantifier is bounded: a pattern can only look a fixed distance ahead of where it starts.
_TAG_LIKE = re.compile(
    r"<[ \t\n]{0,16}/?[ \t\n]{0,16}([A-Za-z][A-Za-z0-9:-]{0,63})(?![A-Za-z0-9:-])[^<>]{0,2048}>|<!--|<!\[CDATA\["
)
_DANGEROUS_TAG = re.compile(
    r"<[ \t\n]{0,16}/?[ \t\n]{0,16}(script|style|iframe|object|embed|link|meta|base|form|svg|math|frame|applet)(?![A-Za-z0-9])",
    re.I,
)
_DANGEROUS_NAMES = (
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "link",
    "meta",
    "base",
    "form",
    "svg",
    "math",
    "frame",
    "applet",
)
_HANDLER = re.compile(r"\bon[a-z]{1,32}[ \t\n]{0,16}=", re.I)
_BAD_URL = re.compile(
    r"(?:java|vb)[ \t\n]{0,16}script[ \t\n]{0,16}:|data[ \t\n]{0,16}:[ \t\n]{0,16}[a-z]{1,32}/[a-z0-9.+-]{1,64}", re.I
)
# printf conversions (%n too: it writes memory in C); no space flag and no letter right after, so prose such as "100% chance"
# or "50% of" is not taken for "% c" or "% o"
_PRINTF = re.compile(
    r"%(?:\(\w{1,64}\))?[-+#0]{0,8}(?:[1-9]\d{0,8}|\*)?(?:\.(?:\d{1,9}|\*))?[hlLqjzt]{0,2}[diouxXeEfFgGcrsan%](?![A-Za-z])"
)
_BRACE = re.compile(r"\{[A-Za-z_][\w.]{0,63}\}|\{\d{0,9}\}")
_URL = re.compile(r"https?://[^\s<>\"']{0,2047}[^\s<>\"'.,;:!?)\]]")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_LETTER = re.compile(r"[^\W\d_]")
# C0 controls but tab and newline, DEL, C1 controls; NUL cuts a string short in msgfmt and C
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
NPLURALS = re.compile(r"nplurals\s*=\s*(\d{1,4})(?!\d)")


@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    line: int
    severity: str
    check: str
    message: str
    key: tuple[str | None, str] | None = None

    def __str__(self) -> str:
        return printable(f"{self.path}:{self.line}: {self.severity}: {self.check}: {self.message}")


@dataclass(frozen=True, slots=True)
class Limits:
    """What a returned file may be (``[qa]`` in localize.toml)."""

    max_file_bytes: int = 20 * 1024 * 1024
    max_string_chars: int = 100_000


@dataclass(frozen=True, slots=True)
class CheckContext:
    qa_max: float = 3.0
    qa_min: float = 0.3
    same_language: bool = False
    limits: Limits = field(default_factory=Limits)
    glossary: Glossary | None = None  # the terms of the kit's locale and course (the gate reads them)


EntryCheck = Callable[[str, str, CheckContext], Iterator[str]]


@dataclass(frozen=True, slots=True)
class Check:
    id: str
    severity: Severity
    func: EntryCheck

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()


CHECKS: list[Check] = []


def _check(check_id: str, severity: Severity) -> Callable[[EntryCheck], EntryCheck]:
    def register(func: EntryCheck) -> EntryCheck:
        CHECKS.append(Check(check_id, severity, func))
        return func

    return register


# -- entry checks, in the order they run -------------------------------------------


@_check("length-limit", ERROR)
def _length_limit(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """A translation longer than ``[qa] max_string_chars`` is refused (nothing else is checked)."""
    if len(translation) > ctx.limits.max_string_chars:
        yield (
            f"the translation has {len(translation)} characters, more than the limit of "
            f"{ctx.limits.max_string_chars} ([qa] max_string_chars)"
        )


@_check("control-characters", ERROR)
def _control_characters(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """NUL, escape and other control characters (tab and newline aside) never reach a catalog."""
    m = _CONTROL.search(translation)
    if m and not _CONTROL.search(source):
        yield f"control character U+{ord(m.group(0)):04X} is not allowed; remove it"


_BIDI_OVERRIDE = re.compile("[\u202d\u202e]")
_BIDI_OPEN = {"\u202a": "\u202c", "\u202b": "\u202c", "\u2066": "\u2069", "\u2067": "\u2069", "\u2068": "\u2069"}
_BIDI_CLOSE = {"\u202c", "\u2069"}


def _bidi_unbalanced(text: str) -> str | None:
    """The first embedding or isolate control left open (or closed without an opener), if any."""
    stack: list[str] = []  # the openers still open
    for ch in text:
        if ch in _BIDI_OPEN:
            stack.append(ch)
        elif ch in _BIDI_CLOSE and (not stack or _BIDI_OPEN[stack.pop()] != ch):
            return ch
    return stack[0] if stack else None


@_check("bidi-controls", ERROR)
def _bidi_controls(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """No bidi overrides (U+202D/U+202E) and no embedding or isolate left open: they reorder the rest of the page."""
    m = _BIDI_OVERRIDE.search(translation)
    if m and not _BIDI_OVERRIDE.search(source):
        yield (
            f"bidi override U+{ord(m.group(0)):04X} is not allowed (it reverses the text that follows); "
            "remove it, or use U+200F RIGHT-TO-LEFT MARK / U+200E LEFT-TO-RIGHT MARK"
        )
    bad = _bidi_unbalanced(translation)
    if bad is not None and _bidi_unbalanced(source) is None:
        yield (
            f"bidi control U+{ord(bad):04X} is not balanced (every U+202A/U+202B needs a U+202C, "
            "every U+2066-U+2068 a U+2069, in the same string); balance or remove it"
        )


@_check("placeholders", ERROR)
def _placeholders(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """The unit's markup placeholders, each exactly once, properly nested (no link in a link), none
    invented, none typed in full-width characters (an input method's full-width mode: ＜a1＞), and
    no TeX the source lacks (a page's MathJax would make it markup)."""
    unit = unit_for(source)
    known = {p.name for p in unit.placeholders}
    translation, wide = wide_placeholders(translation, known)  # the rest is checked as meant
    for typed, meant in wide:
        yield f"placeholder {meant} is typed in full-width characters ({typed}): type it as {meant}"
    for m in PLACEHOLDER.finditer(translation):
        if m.group(2) not in known:
            yield f"placeholder {m.group(0)} is not in the source (extra or renamed)"
    try:
        parse_translation(translation, unit)
    except TranslationProblem as e:
        yield str(e)


@_check("markup", ERROR)
def _markup(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """No markup but the source's placeholders: no tags, event handlers or script URLs."""
    rest = strip_placeholders(translation)
    if "<" in rest:
        lowered = rest.lower()
        dangerous = _DANGEROUS_TAG.search(rest) if any(n in lowered for n in _DANGEROUS_NAMES) else None
        tag = _TAG_LIKE.search(rest)
        if dangerous:
            yield f"<{dangerous.group(1).lower()}> is not allowed in a translation"
        elif tag and not _TAG_LIKE.search(strip_placeholders(source)):
            yield f"{tag.group(0)[:40]!r} looks like HTML; only the source's placeholders may be used"
    if "=" in rest and _HANDLER.search(rest) and not _HANDLER.search(source):
        yield "an event handler attribute (on...=) is not allowed in a translation"
    if ":" in translation and _BAD_URL.search(translation) and not _BAD_URL.search(source):
        yield "javascript:, vbscript: and data: URLs are not allowed in a translation"


@_check("variables", ERROR)
def _variables(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """printf (``%s``, ``%(name)d``) and brace (``{name}``) variables as in the source."""
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
            yield f"{kind} variables differ from the source: {detail}"


@_check("urls", ERROR)
def _urls(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """URLs and e-mail addresses of the source, unchanged; none added."""
    for pattern, kind, trigger in ((_URL, "URL", "://"), (_EMAIL, "e-mail address", "@")):
        if trigger not in source and trigger not in translation:
            continue
        want_set, got_set = set(pattern.findall(source)), set(pattern.findall(translation))
        for item in sorted(want_set - got_set):
            yield f"{kind} {item} is missing or changed"
        for item in sorted(got_set - want_set):
            yield f"{kind} {item} is not in the source"


@_check("newlines", ERROR)
def _newlines(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """A newline at either end in both or in neither (``msgfmt -c`` refuses the rest)."""
    if source.startswith("\n") != translation.startswith("\n") or source.endswith("\n") != translation.endswith("\n"):
        yield "the source and the translation must both begin and end with a newline, or neither"


@_check("numbers", WARNING)
def _numbers_check(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """The same numbers (digits of any script; group and decimal separators aside; a placeholder
    typed in full-width characters, an error of its own, is no number)."""
    if maybe_wide(translation):
        translation = wide_placeholders(translation, {p.name for p in unit_for(source).placeholders})[0]
    want, got = numbers(source), numbers(translation)
    if want != got:
        detail = "; ".join(
            f"{what} {listed(sorted(found.elements()))}"
            for what, found in (("missing", want - got), ("not in the source", got - want))
            if found
        )
        yield f"the numbers differ from the source ({detail}; digits compared, separators aside)"


@_check("entities", WARNING)
def _entities(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """HTML character references (``&amp;``, ``&nbsp;``, ``&#160;``) the source does not have:
    a translation is text, so the page would show them as typed."""
    if "&" in translation:
        import html

        for m in ENTITY.finditer(translation):
            if m.group(0) not in source:
                shown = html.unescape(m.group(0))
                char = "a no-break space" if shown == "\u00a0" else repr(shown) if shown != m.group(0) else None
                yield f"{m.group(0)} would show as typed on the page: type " + (
                    f"the character itself ({char})" if char else "the character itself"
                )
                return


@_check("whitespace", WARNING)
def _whitespace(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """Leading and trailing whitespace as in the source."""
    if (source[:1].isspace() != translation[:1].isspace()) or (source[-1:].isspace() != translation[-1:].isspace()):
        yield "leading or trailing whitespace differs from the source"


@_check("same-as-source", WARNING)
def _same_as_source(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """A translation identical to a source with letters (not checked for the source's own language)."""
    if translation == source and not ctx.same_language and _LETTER.search(strip_placeholders(source)):
        yield "the translation is identical to the source"


@_check("length", WARNING)
def _length(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """A translation far longer or shorter than its source (``[qa]`` length ratios)."""
    plain_length = width(strip_placeholders(source).replace(" ", ""))
    if plain_length >= 20:
        ratio = width(strip_placeholders(translation).replace(" ", "")) / plain_length
        if ratio > ctx.qa_max or ratio < ctx.qa_min:
            yield (
                f"the translation is {ratio:.2f} times as long as the source, outside {ctx.qa_min:g} to "
                f"{ctx.qa_max:g} ([qa] min_length_ratio, max_length_ratio; a wide character, as in Chinese, "
                "counts twice)"
            )


@_check("terminology", WARNING)
def _terminology(source: str, translation: str, ctx: CheckContext) -> Iterator[str]:
    """The glossary's terms: a source term's approved translation present (in any inflection),
    no forbidden translation of it, a do-not-translate term kept as in the source."""
    if ctx.glossary is not None and len(ctx.glossary):
        for finding in ctx.glossary.check(source, translation):
            yield finding.message


def _texts(entry: Entry) -> list[tuple[str, str]]:
    """(source, translation) pairs of an entry: one, or one per plural form."""
    if entry.msgid_plural is None:
        return [(entry.msgid, entry.msgstr)] if entry.msgstr else []
    return [(entry.msgid if i == 0 else entry.msgid_plural, form) for i, form in enumerate(entry.msgstr_plural) if form]


def policy(overrides: Mapping[str, str] | None) -> dict[str, Severity | None]:
    """Check id -> severity (None: off), with a partner's overrides applied."""
    policy: dict[str, Severity | None] = {c.id: c.severity for c in CHECKS}
    for check_id, value in (overrides or {}).items():
        if check_id not in policy:
            raise ConfigError(f"unknown check {check_id!r} in a partner's checks; known: {', '.join(policy)}")
        if value == "off":
            policy[check_id] = None
        elif value in Severity.__members__.values():
            policy[check_id] = Severity(value)
        else:
            raise ConfigError(f"check {check_id!r}: severity must be error, warning, info or off, not {value!r}")
    return policy


def entry_problems(
    entry: Entry,
    path: str,
    *,
    qa_max: float = 3.0,
    qa_min: float = 0.3,
    same_language: bool = False,
    checks: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    glossary: Glossary | None = None,
) -> list[Problem]:
    """Problems of one translated entry (empty translations are not checked)."""
    ctx = CheckContext(qa_max, qa_min, same_language, limits or Limits(), glossary)
    severities = policy(checks)
    line = entry.msgstr_lineno or entry.lineno  # where the translator has to look
    unique: dict[tuple[str, str], Problem] = {}
    for source, translation in _texts(entry):
        for check in CHECKS:
            severity = severities[check.id]
            if severity is None:
                continue
            found = False
            for message in check.func(source, translation, ctx):
                found = True
                unique.setdefault((check.id, message), Problem(path, line, severity, check.id, message, entry.key))
            if found and check.id == "length-limit":
                break  # too long to look at further
    return list(unique.values())
