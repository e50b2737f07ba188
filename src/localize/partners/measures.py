"""What the QA checks measure in a text: its numbers, its width, HTML character references.

Apart from :mod:`.checks` (the checks themselves) so that each stays short.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

from localize.engine.placeholders import strip_placeholders

__all__ = ["ENTITY", "listed", "numbers", "width"]

# group and decimal separators: . , no-break and thin spaces, the Arabic decimal and thousands separators
# and comma (١،٢،٣ as 1,2,3), the Swiss apostrophe (1'000, 1’000)
_NUMBER = re.compile(r"\d+(?:[.,\u00a0\u202f\u2009 \u066b\u066c\u060c'\u2019]\d+)*")
# an HTML character reference: the page shows it as typed (a translation is text, never markup)
ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_DIGIT = re.compile(r"\d")


def numbers(s: str) -> Counter[str]:
    """The numbers in ``s`` (digits of any script, group separators ignored), as digit strings."""
    if _DIGIT.search(s) is None:
        return Counter()
    out: Counter[str] = Counter()
    for m in _NUMBER.finditer(ENTITY.sub(" ", strip_placeholders(s)) if "&" in s else strip_placeholders(s)):
        digits = "".join(str(unicodedata.digit(ch, 0)) for ch in m.group(0) if ch.isdigit())
        out[digits.lstrip("0") or "0"] += 1
    return out


def listed(found: list[str]) -> str:
    """Numbers for a message: the first five, each cut at 20 digits."""
    shown = [n if len(n) <= 20 else n[:20] + "…" for n in found[:5]]
    return ", ".join(shown) + (f" and {len(found) - 5} more" if len(found) > 5 else "")


def width(text: str) -> int:
    """Characters, a wide or full-width one (Chinese, Japanese, Korean) counted twice: such text
    says in 9 characters ("本节包含全套讲义。") what English says in 50."""
    if text.isascii():
        return len(text)
    return len(text) + sum(1 for ch in text if unicodedata.east_asian_width(ch) in "WF")
