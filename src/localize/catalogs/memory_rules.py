"""Edits of a translation memory: ``tm delete`` and ``tm obsolete``, kept in the workspace.

The memory of a locale is computed from the catalogs of record (and the imported
compendium), which an edit of the memory must not change. So an edit is a rule,
recorded in ``memory/LL.rules.json`` and applied every time the memory is loaded
(:func:`localize.catalogs.memory.memory_units`):

* ``delete`` leaves the matching units out of everything: fill, ``tm list``, export;
* ``obsolete`` keeps them listed (marked obsolete) but never offers them.

A rule matches a source exactly (msgctxt and msgid) and, when it names a ``msgstr``,
only that translation of it, so one bad translation can go while the others stay. A
translation produced again later by a partner is still covered by the rule. The file is
the record: a damaged one is an error, never silently emptied; it is written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from localize.catalogs.workspace import Workspace
from localize.errors import CatalogChanged, CatalogError, CatalogNotFoundError, ConfigError, PreconditionFailed
from localize.locales import check_locale

__all__ = ["ACTIONS", "DELETE", "OBSOLETE", "MemoryRule", "add_rule", "apply_rules", "load_rules", "rules_key"]

DELETE, OBSOLETE = "delete", "obsolete"
ACTIONS = (DELETE, OBSOLETE)


class _Unit(Protocol):
    @property
    def msgctxt(self) -> str | None: ...
    @property
    def msgid(self) -> str: ...
    @property
    def msgstr(self) -> str: ...


U = TypeVar("U", bound=_Unit)


@dataclass(frozen=True, slots=True)
class MemoryRule:
    action: str  # DELETE or OBSOLETE
    msgctxt: str | None
    msgid: str
    msgstr: str | None = None  # None: every translation of the source
    at: str = ""  # when the rule was recorded (ISO 8601)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ConfigError(f"a memory edit is {' or '.join(ACTIONS)}, not {self.action!r}")

    def matches(self, unit: _Unit) -> bool:
        return (
            unit.msgctxt == self.msgctxt
            and unit.msgid == self.msgid
            and (self.msgstr is None or unit.msgstr == self.msgstr)
        )

    def as_dict(self) -> dict[str, str | None]:
        return {
            "action": self.action,
            "msgctxt": self.msgctxt,
            "msgid": self.msgid,
            "msgstr": self.msgstr,
            "at": self.at,
        }


def rules_key(locale: str) -> str:
    return f"memory/{check_locale(locale)}.rules.json"


def load_rules(workspace: Workspace, locale: str) -> list[MemoryRule]:
    """The memory edits of ``locale`` (none when there is no rules file)."""
    return _rules_with_etag(workspace, locale)[0]


def _rules_with_etag(workspace: Workspace, locale: str) -> tuple[list[MemoryRule], str | None]:
    """The edits and the ETag of the file they were read from (None: no file)."""
    key = rules_key(locale)
    try:
        data, etag = workspace.storage.read_with_etag(key)
    except FileNotFoundError:
        return [], None
    return _parse(workspace, key, data), etag


def _parse(workspace: Workspace, key: str, data: bytes) -> list[MemoryRule]:
    try:
        raw = json.loads(data)
        return [
            MemoryRule(
                str(r["action"]),
                None if r.get("msgctxt") is None else str(r["msgctxt"]),
                str(r["msgid"]),
                None if r.get("msgstr") is None else str(r["msgstr"]),
                str(r.get("at", "")),
            )
            for r in raw["rules"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError, ConfigError) as e:
        raise CatalogError(
            f"damaged memory edits ({type(e).__name__}: {e}); fix or remove the file", path=workspace.describe(key)
        ) from e


def apply_rules(units: Iterable[U], rules: list[MemoryRule]) -> list[U]:
    """``units`` without the deleted ones, the obsolete ones marked (``obsolete=True``)."""
    if not rules:
        return list(units)
    out: list[U] = []
    for u in units:
        hits = {r.action for r in rules if r.matches(u)}
        if DELETE in hits:
            continue
        out.append(replace(u, obsolete=True) if OBSOLETE in hits else u)  # type: ignore[type-var]
    return out


def add_rule(workspace: Workspace, locale: str, rule: MemoryRule, units: Iterable[_Unit]) -> int:
    """Record ``rule`` among the edits of ``locale`` and return how many of ``units`` (the
    memory as it is now) it matches; a rule that matches nothing is refused and nothing is
    written."""
    locale = check_locale(locale)
    matched = sum(1 for u in units if rule.matches(u))
    key = rules_key(locale)
    if not matched:
        what = "this source" if rule.msgstr is None else "this source and translation"
        context = f" in context {rule.msgctxt!r}" if rule.msgctxt is not None else " without a context"
        raise CatalogNotFoundError(
            f"no unit of the {locale} memory has {what}{context}; see: localize tm list --locale {locale}",
            path=workspace.describe(key),
        )
    if not rule.at:
        rule = replace(rule, at=datetime.now(UTC).isoformat(timespec="seconds"))
    for _ in range(20):  # compare-and-swap: two edits at once both stay
        rules, etag = _rules_with_etag(workspace, locale)
        body = {"rules": [r.as_dict() for r in (*rules, rule)]}
        data = (json.dumps(body, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        try:
            if etag is None:
                workspace.storage.put(key, data, content_type="application/json", if_none_match=True)
            else:
                workspace.storage.put(key, data, content_type="application/json", if_match=etag)
        except PreconditionFailed:
            continue
        return matched
    raise CatalogChanged(
        "other runs kept changing the memory edits; nothing was written: run again", path=workspace.describe(key)
    )
