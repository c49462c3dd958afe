"""The data split of the Dive into Deep Learning comparison (``bench_charlm.py``).

Dive into Deep Learning's character models read overlapping windows of
``T + 1`` characters at stride 1 and hold out the last windows for validation.
To compare with its published recipe, the benchmark uses exactly that split;
the chapters use the simpler contiguous split of
:func:`rnnkit.datasets.char_corpus`. This module lives next to the benchmark:
``python benchmarks/bench_charlm.py`` finds it on the script's own path.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rnnkit.batching import as_ids
from rnnkit.datasets import char_corpus
from rnnkit.shapes import check_positive_int
from rnnkit.vocab import Vocab

__all__ = ["d2l_char_corpus", "d2l_windows", "d2l_train_ids"]


def d2l_char_corpus(play: str = "hamlet") -> tuple[np.ndarray, Vocab]:
    """All letters-only character ids of a play, and their 28-token vocabulary.

    The corpus of :func:`rnnkit.datasets.char_corpus` (Dive into Deep
    Learning's preprocessing: lower-case letters and single spaces; vocabulary
    ``<unk>`` then the 27 symbols by decreasing frequency), but as one array,
    for :func:`d2l_windows` to split its own way.

    Returns ``(ids (N,) int64, vocab)``.
    """
    c = char_corpus(play)
    return np.concatenate([c.train_ids, c.valid_ids]), c.vocab


def _check_windows_args(ids: object, num_steps: int, num_valid: int) -> np.ndarray:
    arr = as_ids(ids)
    check_positive_int("num_steps", num_steps)
    check_positive_int("num_valid", num_valid)
    n_windows = arr.size - num_steps
    if n_windows < num_valid + 1:
        raise ValueError(
            f"{arr.size} ids give {max(n_windows, 0)} windows of {num_steps + 1} "
            f"tokens; expected more than num_valid={num_valid} so that some are left "
            "for training"
        )
    return arr


def d2l_windows(
    ids: Sequence[int] | np.ndarray, num_steps: int = 32, num_valid: int = 16000
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Overlapping windows at stride 1, the last ``num_valid`` held out.

    Window ``i`` is ``ids[i : i + T + 1]`` (``T = num_steps``): input
    ``ids[i : i + T]``, target ``ids[i + 1 : i + T + 1]`` (shifted by one), for
    ``i = 0 .. N - T - 1``. The first windows are for training, the last
    ``num_valid`` for validation — Dive into Deep Learning's split.

    Returns ``(train_X, train_Y, valid_X, valid_Y)``, int64 arrays of shape
    ``(T, N_train)`` and ``(T, num_valid)``, time-major like every batch in
    ``rnnkit``: column ``i`` is window ``i``. The training windows read the
    text ``ids[: N_train + T]`` (see :func:`d2l_train_ids`).
    """
    arr = _check_windows_args(ids, num_steps, num_valid)
    n_windows = arr.size - num_steps
    n_train = n_windows - num_valid
    # row t of W is arr[t : t + n_windows], so W[t, i] = arr[i + t]: (T + 1, windows)
    W = np.lib.stride_tricks.sliding_window_view(arr, n_windows)
    X, Y = W[:-1], W[1:]  # views
    return tuple(
        np.ascontiguousarray(a)
        for a in (X[:, :n_train], Y[:, :n_train], X[:, n_train:], Y[:, n_train:])
    )


def d2l_train_ids(
    ids: Sequence[int] | np.ndarray, num_steps: int = 32, num_valid: int = 16000
) -> np.ndarray:
    """The stretch of ``ids`` that the training windows of :func:`d2l_windows` cover.

    ``ids[: N_train + T]``: exactly the inputs and targets of the training
    windows, as one stream, for ``train_lm``'s own minibatching. A model
    trained on it has seen the same characters as one trained on the windows.
    """
    arr = _check_windows_args(ids, num_steps, num_valid)
    n_train = arr.size - num_steps - num_valid
    return arr[: n_train + num_steps]
