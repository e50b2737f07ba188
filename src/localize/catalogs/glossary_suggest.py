"""Candidate glossary terms from a course's own text (``localize glossary suggest``).

A light, dependency-free term extractor for English sources, in the manner of the
C-value method (Frantzi, Ananiadou and Mima, 2000) without a part-of-speech tagger:

* every live entry's source is cut into chunks at punctuation, numbers, placeholders
  and abbreviations (a short word with a period inside a sentence: *Finger Ex. due*),
  less the speaker label that starts a transcript's paragraph (*MICHAEL SHORT:*) and its
  notes of sounds (*[LAUGHTER]*);
  a candidate is a run of one to four words of a chunk that neither starts nor ends
  with a stop word (function words, common verbs, the fillers of spoken English in
  transcripts, and the words of a web page's furniture: ``http``, ``pdf``, ``click``), whose only inner stop word is ``of``
  (*center of mass*), and with no one-letter word (variables: *x*, *f*) and no
  two-letter abbreviation (*Ch 2*; not *CS*, nor *de* in *de Broglie*);
* candidates are counted once per entry and grouped by their inflection-free form
  (the English S-stemmer of :mod:`.terms`: *eigenvalues* is *eigenvalue*); each is
  shown in its most common spelling, lower-cased unless it is capitalised inside a
  sentence too (a name, an acronym; a capitalised name with such a word keeps all its
  capitals: *Computer Science*);
* the score is ``log2(words + 1) × (f − mean f of the longer candidates containing it)``:
  frequent and long candidates first, and a word that mostly occurs inside a longer
  candidate (*harmonic* in *harmonic oscillator*) sinks below it;
* a single word is not proposed when it is general academic or course-site vocabulary
  (:data:`GENERAL`: *lecture*, *solution*, *theorem*) or when most of its occurrences modify
  the next word of a kept longer candidate (*quantum* in *quantum mechanics*: English puts
  the head of a noun phrase last, so such a word is mostly an adjective or a modifier);
* a candidate found in at least two entries is kept; multi-word capitalised names
  (*Fourier Transform*, *Walter Lewin*) are marked ``name``; terms the glossary already
  has (any inflection) are left out.

Precision against translate-toolkit's ``poterminology`` on labelled corpus samples is in
BENCHMARKS.md (``benchmarks/terms.py``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from localize.catalogs.glossary import Glossary
from localize.catalogs.terms import stemmer_for
from localize.engine.placeholders import PLACEHOLDER
from localize.model import Catalog

__all__ = ["GENERAL", "STOP_WORDS", "Suggestion", "suggest_terms"]

MAX_WORDS = 4
MIN_ENTRIES = 2


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = _words(
    """
    a about above after again against all also am an and any are aren't as at be because been before being below
    between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down during each
    either etc even ever every few for from further get gets getting given gives go goes going got had hadn't has
    hasn't have haven't having he her here hers herself him himself his how however i if in into is isn't it it's
    its itself just least less let like made make makes many may me might more most much must my myself need needs
    neither new next no nor not now of off often on once one only or other others otherwise our ours ourselves out
    over own per please rather really said same see seen several shall she should shouldn't since so some such than
    that that's the their theirs them themselves then there there's these they this those though through thus to
    too toward towards under until up upon us use used uses using very via was wasn't way we were weren't what
    when where whether which while who whom whose why will with within without would wouldn't yet you your yours
    yourself yourselves
    first second third last also always never sometimes usually already still again else instead
    http https www com edu org html htm pdf mp4 mp3 kb mb gb zip file files click download downloads link links
    page pages site website view views see
    include includes included including provide provides provided learn learning help helps check checks solve
    solving support supports understand understanding find finds show shows shown explain explains discuss
    discusses describe describes introduce introduces cover covers covered begin begins end ends
    assume assumes assumed choose chooses chose chosen write writes written wrote feel feels accomplish handed
    i'm i've i'd i'll you're you've you'll we're we've we'll they're they've they'll he's she's let's here's
    what's who's isn't don't won't we'd you'd
    yeah yep yes okay ok um uh hmm gonna wanna kind sort lot lots bit thing things stuff something anything
    everything nothing somebody anybody everybody someone anyone everyone guy guys folks actually basically
    pretty quite right say says saying want wants wanted think thinks thought know knows knew look looks
    looking take takes taking took start starts started put puts come comes came give gives gave happen
    happens happened
    """
)
# general academic and course-site words: proposed inside a longer term (*problem set*), never alone
GENERAL = _words(
    """
    ability answer answers assignment assignments basic basics calculus calendar chalkboard chemistry class classes
    clip clips concept concepts content contents course courses cover covers date day days due effect engineering
    equation equations exam exams example examples home include included includes info information instructor
    instructors introduction lecture lectures material materials math mathematics mechanics note notes overview
    part parts physics problem problems proof proofs question questions quiz quizzes reading readings resource
    resources review science section sections session sessions set sets solution solutions student students study
    summary syllabus test tests theorem theorems time times topic topics unit units video videos week weeks
    people little good different around whole one ones two three four five six seven eight nine ten twelve twenty
    hundred thousand million billion
    """
)
_INNER = frozenset({"of"})
_CHUNK = re.compile(
    r"[^\s.,;:!?()\[\]{}\"“”«»—–/|=+*<>&#@%$^~`\\]+(?:\s+[^\s.,;:!?()\[\]{}\"“”«»—–/|=+*<>&#@%$^~`\\]+)*"
)
_WORD = re.compile(r"^[^\W\d_]+(?:[-'’][^\W\d_]+)*$")
# a short word with a period inside a sentence (Finger Ex. due, Fig. 3, Ch. 2): a cut word, never
# part of a term (its full form, Finger Exercises, is found where it is written out)
# a lecture transcript's paragraph starts with its speaker in capitals (MICHAEL SHORT:, AUDIENCE:)
# (in bold, too: <strong1>PROFESSOR SHORT: </strong1>), and notes the sounds: [INAUDIBLE], [LAUGHTER]
_SPEAKER = re.compile(r"^\s*(?:<[A-Za-z][A-Za-z-]*\d+>\s*)?[A-Z][A-Z.'’-]*(?: [A-Z][A-Z.'’-]*){0,3}:\s")
_SOUND = re.compile(r"\[[A-Z][A-Z ]*\]")
_ABBREVIATION = re.compile(r"\b[^\W\d_]{1,4}\.(?=\s+[^\W_A-Z])")


@dataclass(frozen=True, slots=True)
class Suggestion:
    term: str
    entries: int  # how many entries of the course use it (any inflection)
    score: float
    name: bool = False  # a capitalised multi-word name
    example: str = ""  # the source of one entry using it (the shortest)


def _chunks(text: str) -> Iterable[list[str]]:
    """Runs of words between punctuation, numbers, placeholders and abbreviations; without a
    transcript's speaker label."""
    text = _SOUND.sub(" | ", _SPEAKER.sub("", text, count=1))
    for chunk in _CHUNK.findall(_ABBREVIATION.sub(" | ", PLACEHOLDER.sub(" | ", text))):
        run: list[str] = []
        for token in chunk.split():
            token = token.strip("'’-")
            if _WORD.match(token):
                run.append(token)
            else:
                if run:
                    yield run
                run = []
        if run:
            yield run


def _short(word: str) -> bool:
    """One letter (a variable: x, f), or a capital and a small letter (Ch 2, Ex 3: an abbreviation;
    not an acronym, CS, nor a particle of a name, de Broglie): never in a term."""
    return len(word) < 2 or (len(word) == 2 and word[0].isupper() and word[1].islower())


def _candidates(run: list[str]) -> Iterable[tuple[int, list[str]]]:
    lower = [w.casefold().replace("’", "'") for w in run]  # let’s is let's
    for i in range(len(run)):
        if lower[i] in STOP_WORDS or _short(run[i]):
            continue
        for j in range(i + 1, min(i + MAX_WORDS, len(run)) + 1):
            last = lower[j - 1]
            if _short(run[j - 1]) or (last in STOP_WORDS and last not in _INNER):
                break
            if last in _INNER:
                continue
            yield i, run[i:j]


def _is_name(words: list[str]) -> bool:
    return len(words) > 1 and all(w[0].isupper() or w.casefold() in _INNER for w in words)


def suggest_terms(
    catalog: Catalog, *, glossary: Glossary | None = None, limit: int = 50, min_entries: int = MIN_ENTRIES
) -> list[Suggestion]:
    """Candidate terms of ``catalog``'s live entries, best first (see the module's docstring)."""
    stemmer = stemmer_for("en")
    freq: Counter[tuple[str, ...]] = Counter()
    spellings: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    inside: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)  # spellings not at a chunk's start
    example: dict[tuple[str, ...], str] = {}
    named: set[str] = set()  # words capitalised inside a sentence that is not a title
    pairs: Counter[tuple[str, str]] = Counter()  # (word, next word) stems, for the modifier rule
    single: Counter[str] = Counter()  # occurrences of each word stem
    for e in catalog.entries:
        if e.obsolete:
            continue
        seen: set[tuple[str, ...]] = set()
        for run in _chunks(e.msgid):
            stems = [stemmer.stem(w) for w in run]
            if any(w.islower() and w not in STOP_WORDS for w in run):  # not a Title Case heading
                named.update(w.casefold() for w in run[1:] if w[:1].isupper())
            single.update(stems)
            pairs.update(itertools.pairwise(stems))
            for start, words in _candidates(run):
                key = tuple(stemmer.stem(w) for w in words)
                spelling = " ".join(words)
                spellings[key][spelling] += 1
                if start > 0:
                    inside[key][spelling] += 1
                if key not in seen:
                    seen.add(key)
                    freq[key] += 1
                    if key not in example or len(e.msgid) < len(example[key]):
                        example[key] = e.msgid
    kept = {k: f for k, f in freq.items() if f >= min_entries}
    longer: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for key, f in kept.items():
        n = len(key)
        for i in range(n):
            for j in range(i + 1, n + 1):
                if (i, j) != (0, n) and key[i:j] in kept:
                    longer[key[i:j]].append(f)
    known = {tuple(stemmer.stems(g.term)) for g in glossary.groups()} if glossary is not None else set()
    out: list[Suggestion] = []
    modifies: Counter[str] = Counter()
    for (a, b), n in pairs.items():
        if (a, b) in kept:
            modifies[a] += n
    for key, f in kept.items():
        if key in known:
            continue
        if modifies[key[-1]] * 2 > single[key[-1]]:  # ends with a modifier: a fragment (*finite square*)
            continue
        if len(key) == 1 and key[0] in GENERAL:
            continue
        nested = longer.get(key, [])
        score = math.log2(len(key) + 1) * (f - (sum(nested) / len(nested) if nested else 0.0))
        if score <= 0:
            continue
        out.append(_suggestion(key, f, score, spellings[key], named, example[key]))
    out.sort(key=lambda s: (-s.score, -s.entries, s.term.casefold()))
    return out[:limit]


def _suggestion(
    key: tuple[str, ...], f: int, score: float, spellings: Counter[str], named: set[str], example: str
) -> Suggestion:
    # the most common spelling (ties: alphabetical), lower-cased but for acronyms, words with an
    # inner capital (OpenCourseWare) and words the course capitalises inside ordinary sentences
    best = min(spellings, key=lambda s: (-spellings[s], s))
    words = best.split()
    if not (_is_name(words) and any(w.casefold() in named for w in words)):  # a name keeps its capitals
        words = [w if w.casefold() in named or any(c.isupper() for c in w[1:]) else w.lower() for w in words]
    return Suggestion(" ".join(words), f, round(score, 2), _is_name(words), example)
