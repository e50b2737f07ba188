"""Finding terms in text, tolerant of inflection.

Text is split into word tokens (placeholders and punctuation aside), case-folded,
normalised per language and stemmed with the Snowball stemmer of its language
(English, Spanish, Portuguese, French, Arabic and the others Snowball has): a term
occurs where its stems appear as consecutive tokens, so "eigenvalues" finds
"eigenvalue" and "valores propios" finds "valor propio".

English (the source) is reduced by its inflection only: plurals and possessives (the
"S-stemmer": ``eigenvalues`` → ``eigenvalue``, ``matrices`` → ``matrix``), since a full
stemmer joins words a glossary keeps apart (``sampling``/``samples``, ``general``/
``generate``).

Arabic is stemmed by a light stemmer in the manner of Larkey's Light10 (no maintained
Python package does it; Snowball's Arabic stemmer keeps ``و`` and attached prepositions
before the article): normalised (diacritics and tatweel removed; alef forms, alef
maqsura and taa marbuta unified), then the conjunction (و ف), an attached preposition
(ب ل ك) and the article (ال) are removed from the front and up to two common suffixes
(ها ان ات ون ين يه ه ي) from the end, always leaving at least three letters.

Two stems also count as the same word when both have at least five letters and differ
only in their last one (``matriz``/``matric``-es) and, when looking for an approved
translation, when one is the other with at most two more letters and the shorter has at
least four (Snowball leaves Spanish ``examen``/``exam``-enes and ``angular``/``angul``-ares
apart). For Arabic the stem is the consonant
skeleton (long vowels ا و ي after the first letter removed), which joins the common
broken plurals (شرط/شروط, دالة/دوال, مضروب/مضاريب) and duals in construct (مؤثرا).
An approved translation is looked for loosely (:func:`find`): the prefix rule above, and one
word may sit inside a multi-word term, as in Arabic ``حالات الطاقة الذاتية`` for *energy
eigenstates*; source terms and forbidden translations are matched strictly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from localize.engine.placeholders import strip_placeholders

__all__ = ["Stemmer", "contains_tokens", "find", "stemmer_for", "tokens"]

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"})
_AR_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ه", "ي")
_EN_KEEP = ("ss", "us", "is", "ous", "ics")
_SNOWBALL = {
    "ca": "catalan",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "eu": "basque",
    "fa": "persian",
    "fi": "finnish",
    "fr": "french",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "nb": "norwegian",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


class Stemmer:
    """Normalise and stem the words of one language (identity where Snowball has none)."""

    def __init__(self, language: str) -> None:
        self.language = re.split(r"[-_@.]", language, maxsplit=1)[0].lower()
        name = _SNOWBALL.get(self.language)
        self._snowball: Any = None
        self._cache: dict[str, str] = {}
        if name is not None:
            import snowballstemmer

            self._snowball = snowballstemmer.stemmer(name)

    def normalise(self, word: str) -> str:
        word = unicodedata.normalize("NFKC", word).casefold()
        if self.language == "ar":
            word = _ARABIC_MARKS.sub("", word)
        return word

    def stem(self, word: str) -> str:
        found = self._cache.get(word)
        if found is None:
            found = self.normalise(word)
            if self.language == "ar":
                found = _arabic_light(found.translate(_ARABIC_FOLD))
            elif self.language == "en":
                found = _english_s(found)
            elif self._snowball is not None:
                found = str(self._snowball.stemWord(found))
            found = _strip_accents(found)
            if len(self._cache) < 200_000:
                self._cache[word] = found
        return found

    def stems(self, text: str) -> list[str]:
        return [self.stem(w) for w in tokens(text)]


@lru_cache(maxsize=64)
def stemmer_for(language: str) -> Stemmer:
    return Stemmer(language)


def _english_s(word: str) -> str:
    """Harman's S-stemmer with possessives and -ices: the inflection of English nouns."""
    word = word.removesuffix("'s").removesuffix("’s")
    if len(word) > 4 and word.endswith("ices"):
        return word[:-4] + "ix"
    if len(word) > 3 and word.endswith("ies") and not word.endswith(("eies", "aies")):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
        return word[:-1] if word[-3] not in "sxzh" else word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(_EN_KEEP):
        return word[:-1]
    return word


def _arabic_light(word: str) -> str:
    """Light10-style Arabic stemming of a normalised word (see the module's docstring)."""
    if len(word) > 3 and word[0] in "وف":
        word = word[1:]
    if len(word) > 4 and word[0] in "بلك" and word[1:3] == "ال":
        word = word[3:]
    elif (len(word) > 4 and word.startswith("لل")) or (len(word) > 4 and word.startswith("ال")):
        word = word[2:]
    elif len(word) > 3 and word[0] in "بلك":
        word = word[1:]
    for _ in range(2):
        for suffix in _AR_SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                break
        else:
            break
    skeleton = word[:1] + "".join(c for c in word[1:] if c not in "اوي")
    return skeleton if len(skeleton) >= 2 else word


def tokens(text: str) -> list[str]:
    """The words of ``text`` (placeholders and punctuation aside)."""
    return _WORD.findall(strip_placeholders(text))


def _same(a: str, b: str, loose: bool) -> bool:
    if a == b:
        return True
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    if loose and len(short) >= 4 and len(long) - len(short) <= 2 and long.startswith(short):
        return True
    n = len(short)
    return n >= 5 and len(long) == n and short[:-1] == long[:-1]


def find(stems: Sequence[str], term: Sequence[str], *, loose: bool = False) -> list[tuple[int, int]]:
    """(start, end) token spans where the stems of ``term`` occur in ``stems`` in order.

    ``loose`` (to find an approved translation, where a miss raises a false alarm) also
    takes a stem that is the other plus up to two letters, and one other word between two
    words of the term; otherwise (a source term, a forbidden translation: a match raises
    the alarm) the words must follow each other and differ at most in their last letter."""
    n = len(term)
    gap = 1 if loose else 0
    out: list[tuple[int, int]] = []
    if n == 0:
        return out
    for i in range(len(stems)):
        if not _same(stems[i], term[0], loose):
            continue
        j = i
        for k in range(1, n):
            nxt = next(
                (j + d for d in range(1, gap + 2) if j + d < len(stems) and _same(stems[j + d], term[k], loose)), None
            )
            if nxt is None:
                break
            j = nxt
        else:
            out.append((i, j + 1))
    return out


def contains_tokens(text: str, words: str) -> bool:
    """``words`` occur in ``text`` as whole words, case-folded but not stemmed (names, codes)."""
    have = [w.casefold() for w in tokens(text)]
    want = [w.casefold() for w in tokens(words)]
    n = len(want)
    return n > 0 and any(have[i : i + n] == want for i in range(len(have) - n + 1))
