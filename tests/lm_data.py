"""A periodic "text" for the language-model tests: after a few tokens the next one
is certain, so a model that learns it reaches a perplexity near 1."""

from __future__ import annotations

import numpy as np

PATTERN = [0, 1, 2, 3, 4, 2, 1]
V_PER = 5


def periodic(n: int, start: int = 0) -> np.ndarray:
    """``n`` ids of the pattern, from position ``start``: ``(n,)`` int64."""
    return np.array(
        [PATTERN[(start + i) % len(PATTERN)] for i in range(n)], dtype=np.int64
    )


def periodic_windows(n: int, T: int, start: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """``n`` windows ``(X, Y)`` of shape ``(T, n)``, one per column; Y shifted by 1."""
    starts = range(start, start + n * (T + 1), T + 1)
    X = np.stack([periodic(T, s) for s in starts], axis=1)
    Y = np.stack([periodic(T, s + 1) for s in starts], axis=1)
    return X, Y
