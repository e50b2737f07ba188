"""A lossless prefilter for near-match scoring: character counts bound the similarity.

``fuzz.ratio(a, b)`` is 200·LCS(a, b)/(|a|+|b|), and a common subsequence uses each character
at most as often as the string that has fewer of it: LCS <= Σ_c min(count_a(c), count_b(c)).
Counting characters in bins (several characters share one) only raises that sum, so it stays an
upper bound of LCS. A candidate whose bound is below the cutoff cannot reach it and is not
scored; every other one is scored by rapidfuzz as before, so the matches are exactly those of
scoring the whole length window (tests/test_memory_lookup.py checks it on hostile text).

On the fleet of 2,500 courses of ``benchmarks/scale.py``, the filter leaves about 5 % of the
pairs of a window to score. It pays numpy's import and a count of every source of a chunk, so
it serves only chunks of at least :data:`MIN_ROWS` sources and windows of at least
:data:`MIN_WINDOW`: a small memory is scored whole, as before, and never imports numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["BINS", "MIN_ROWS", "MIN_WINDOW", "CharCounts"]

BINS = 64
MIN_ROWS = 4096  # sources in a memory (the universe of shared scores) before windows are filtered
MIN_WINDOW = 64  # sources in a window before it is filtered
_BLOCK = 4096  # sources counted at once (bounds the counting's temporary arrays)
_QUERIES: dict[str, Any] = {}  # query -> its binned counts (the same for every chunk)


def _ascii_bins() -> list[int]:
    """The bin of each ASCII character: a letter of either case its own, digits in four,
    the space its own, the rest of ASCII in seven."""
    out = []
    for cp in range(128):
        ch = chr(cp)
        if "a" <= ch <= "z":
            out.append(cp - ord("a"))
        elif "A" <= ch <= "Z":
            out.append(26 + cp - ord("A"))
        elif ch.isdigit():
            out.append(52 + cp % 4)
        elif ch == " ":
            out.append(56)
        else:
            out.append(57 + cp % 7)
    return out


class CharCounts:
    """The binned character counts of ``msgids`` (one row each, in their order)."""

    def __init__(self, msgids: list[str]) -> None:
        import numpy as np

        self._np = np
        self._table = np.array(_ascii_bins(), dtype=np.int64)
        self.lengths = np.fromiter((len(m) for m in msgids), dtype=np.int64, count=len(msgids))
        longest = int(self.lengths.max()) if len(msgids) else 0
        dtype = np.uint16 if longest <= 0xFFFF else np.uint32  # a count never wraps
        self.counts = np.zeros((len(msgids), BINS), dtype=dtype)
        for start in range(0, len(msgids), _BLOCK):
            block = msgids[start : start + _BLOCK]
            self.counts[start : start + len(block)] = self._count(block, self.lengths[start : start + len(block)])

    def _bins(self, text: str) -> npt.NDArray[np.int64]:
        np = self._np
        points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
        return np.where(points < 128, self._table[points & 127], points & (BINS - 1))  # type: ignore[no-any-return]

    def _count(self, block: list[str], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        np = self._np
        rows = np.repeat(np.arange(len(block), dtype=np.int64), lengths)
        flat = np.bincount(rows * BINS + self._bins("".join(block)), minlength=len(block) * BINS)
        return flat.reshape(len(block), BINS)  # type: ignore[no-any-return]

    def keep(self, query: str, cutoff: float, lo: int, hi: int) -> list[int]:
        """The rows in ``[lo, hi)`` whose bound reaches ``cutoff`` (0-100): the only ones that can."""
        np = self._np
        mine = _QUERIES.get(query)
        if mine is None:  # a query is asked of every chunk of the memory: counted once
            if len(_QUERIES) >= 4096:
                _QUERIES.clear()
            mine = _QUERIES[query] = np.bincount(self._bins(query), minlength=BINS)
        shared = np.minimum(self.counts[lo:hi], mine).sum(axis=1, dtype=np.int64)
        total = (self.lengths[lo:hi] + len(query)).astype(np.float64)
        # a margin far above float error: a pair rapidfuzz would score at the cutoff is never dropped
        reach = 200.0 * shared >= cutoff * total - 1e-6 * (total + 1.0)
        return [lo + i for i in np.flatnonzero(reach).tolist()]
