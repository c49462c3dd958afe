"""Counting what is in a corpus: n-gram frequencies and Zipf's law.

Zipf's law says that the ``r``-th most frequent word has frequency roughly
proportional to ``r^(-a)`` with ``a`` near 1, i.e. a straight line of slope
``-a`` on log–log axes. :func:`zipf_slope` fits that line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from .shapes import as_float_array, check_nonnegative_int, check_positive_int

__all__ = ["ngram_counts", "zipf_slope"]


def ngram_counts(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    """Counts of every run of ``n`` consecutive tokens.

    ``n=1`` counts unigrams, ``n=2`` bigrams, and so on.
    """
    if isinstance(tokens, str):
        raise TypeError(
            "tokens must be a list of tokens, not one str; call tokenize(text) first"
        )
    if not isinstance(tokens, Sequence):
        raise TypeError(f"tokens must be a list of tokens; got {type(tokens).__name__}")
    n = check_positive_int("n", n)
    if len(tokens) < n:
        raise ValueError(
            f"need at least n={n} tokens to count {n}-grams; got {len(tokens)}"
        )
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def zipf_slope(
    freqs: Sequence[int] | np.ndarray, *, ranks: tuple[int, int] | None = None
) -> float:
    """Least-squares slope of log(frequency) against log(rank).

    ``freqs`` are counts sorted from most to least frequent. ``ranks=(lo, hi)``
    restricts the fit to ranks ``lo..hi`` (1-based, inclusive), e.g. to skip the
    very frequent head and the noisy tail of hapaxes.
    """
    f = as_float_array("freqs", freqs)
    if f.ndim != 1 or f.size < 2:
        raise ValueError(
            f"freqs must be a 1-D list of at least 2 counts; got shape {f.shape}"
        )
    if np.any(f <= 0):
        raise ValueError("freqs must all be positive counts")
    if np.any(np.diff(f) > 0):
        raise ValueError("freqs must be sorted from most to least frequent")
    r = np.arange(1, f.size + 1, dtype=float)
    if ranks is not None:
        if not (isinstance(ranks, (tuple, list)) and len(ranks) == 2):
            raise TypeError(
                f"ranks must be a pair (lo, hi) of ints or None; got {ranks!r}"
            )
        lo = check_nonnegative_int("ranks[0]", ranks[0])
        hi = check_nonnegative_int("ranks[1]", ranks[1])
        if not 1 <= lo < hi <= f.size:
            raise ValueError(
                f"ranks must satisfy 1 <= lo < hi <= {f.size}; got {ranks}"
            )
        r, f = r[lo - 1 : hi], f[lo - 1 : hi]
    slope, _ = np.polyfit(np.log(r), np.log(f), 1)
    return float(slope)
