"""Minibatches for language modelling: one long id sequence → ``(T, B)`` blocks.

A language model learns to predict token ``t+1`` from tokens ``..t``. So each
minibatch is a pair ``(X, Y)`` of integer arrays of shape ``(T, B)``,
time-major like every sequence in ``rnnkit``: ``T`` steps (``num_steps``) of
``B`` subsequences (``batch_size``), one per column, where ``Y`` is ``X``
shifted by one position in the corpus (``Y[t, b]`` follows ``X[t, b]``).

Two ways to cut the corpus (both start at a random offset so every epoch sees
slightly different windows):

* **random partitioning**: windows are shuffled, so consecutive minibatches
  are unrelated; the hidden state must be reset for every minibatch.
* **sequential partitioning**: column ``b`` of minibatch ``i+1`` continues
  column ``b`` of minibatch ``i`` in the corpus, so the hidden state can be
  carried over (detached) between minibatches — truncated BPTT.

A minibatch goes into a model as it is: ``RNNLM(X)`` reads ``(T, B)`` ids.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .seeding import numpy_rng
from .shapes import (
    check_bool,
    check_nonnegative_int,
    check_number_in,
    check_positive_int,
)

__all__ = [
    "as_ids",
    "random_batches",
    "sequential_batches",
    "num_batches",
    "train_valid_split",
]


def as_ids(ids: Sequence[int] | np.ndarray, name: str = "ids") -> np.ndarray:
    """Validate a corpus of token ids and return it as a 1-D ``int64`` array.

    ``name`` is the argument's name in error messages (``"train_ids"``).
    """
    if isinstance(ids, str):
        raise TypeError(
            f"{name}: expected token ids (ints), got a str; encode it with a Vocab "
            "first"
        )
    if ids is None:
        raise TypeError(f"{name} must be token ids (a 1-D array of ints); got None")
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be corpus ids, 1-D (N,); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(
            f"corpus is empty ({name}); expected at least num_steps + 1 token ids"
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"corpus ids must be integers ({name}); got dtype {arr.dtype}")
    if arr.min() < 0:
        raise ValueError(f"token ids in {name} must be >= 0; found {int(arr.min())}")
    return arr.astype(np.int64, copy=False)


def _check_window_fits(n: int, num_steps: int) -> None:
    """One window of inputs plus its shifted targets must fit in the corpus."""
    if num_steps + 1 > n:
        raise ValueError(
            f"num_steps={num_steps} needs at least {num_steps + 1} tokens (inputs "
            f"plus the shifted target); the corpus has {n}"
        )


def random_batches(
    ids: Sequence[int] | np.ndarray,
    batch_size: int,
    num_steps: int,
    *,
    seed: int | np.random.Generator = 0,
    drop_last: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X, Y)`` minibatches of shape ``(T, B)`` from shuffled windows.

    The corpus is cut, after a random offset in ``[0, T)``, into
    non-overlapping windows of ``T`` tokens; window order is shuffled, each
    window is one column, and ``Y[t, b] == X[t + 1, b]`` in corpus terms. With
    ``drop_last`` a final minibatch smaller than ``B`` is skipped (so every
    minibatch is ``(T, B)``). ``seed`` (an int or a ``np.random.Generator``)
    draws the offset and the shuffle.

    Implements chapter 1, equation ``text-pipeline``.
    """
    arr = as_ids(ids)
    batch_size = check_positive_int("batch_size", batch_size)
    num_steps = check_positive_int("num_steps", num_steps)
    drop_last = check_bool("drop_last", drop_last)
    _check_window_fits(arr.size, num_steps)
    g = numpy_rng(seed)
    if drop_last and (arr.size - 1) // num_steps < batch_size:
        raise ValueError(
            f"batch_size={batch_size} × num_steps={num_steps} needs at least "
            f"{batch_size * num_steps + 1} tokens for one full minibatch; the corpus "
            f"has {arr.size} (use a smaller batch_size, or drop_last=False)"
        )
    return _random_batches(arr, batch_size, num_steps, g, drop_last)


def _random_batches(
    arr: np.ndarray,
    batch_size: int,
    num_steps: int,
    g: np.random.Generator,
    drop_last: bool,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    offset = int(g.integers(0, num_steps))
    if arr.size - offset < num_steps + 1:
        offset = 0
    if drop_last and (arr.size - offset - 1) // num_steps < batch_size:
        offset = 0  # a random offset must not leave too few windows for one batch
    n_windows = (arr.size - offset - 1) // num_steps
    starts = offset + num_steps * np.arange(n_windows)
    g.shuffle(starts)
    stop = n_windows - n_windows % batch_size if drop_last else n_windows
    for i in range(0, stop, batch_size):
        s = starts[i : i + batch_size]  # (B,) window starts
        idx = np.arange(num_steps)[:, None] + s[None, :]  # (T, B)
        yield arr[idx], arr[idx + 1]


def sequential_batches(
    ids: Sequence[int] | np.ndarray,
    batch_size: int,
    num_steps: int,
    *,
    seed: int | np.random.Generator = 0,
    offset: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X, Y)`` minibatches of shape ``(T, B)`` that continue each other.

    After an offset (drawn with ``seed`` in ``[0, T)`` unless ``offset`` is
    given), the corpus is split into ``B`` equal contiguous streams of
    ``L = (N - offset - 1) // B`` tokens, one per column; minibatch ``i`` holds
    steps ``[i*T, (i+1)*T)`` of every stream, so ``X_{i+1}[0, b]`` follows
    ``X_i[T-1, b]`` in the corpus. A last, shorter window is dropped.

    Implements chapter 1, equation ``text-pipeline``.
    """
    arr = as_ids(ids)
    batch_size = check_positive_int("batch_size", batch_size)
    num_steps = check_positive_int("num_steps", num_steps)
    _check_window_fits(arr.size, num_steps)
    g = numpy_rng(seed)  # checks the seed even when offset is given
    if offset is None:
        offset = int(g.integers(0, num_steps))
        if (arr.size - offset - 1) // batch_size < num_steps:
            offset = 0  # a random offset must not make a short corpus unusable
    elif (
        isinstance(offset, bool)
        or not isinstance(offset, (int, np.integer))
        or not 0 <= offset < arr.size - 1
    ):
        raise ValueError(
            f"offset must be an int in [0, {arr.size - 1}); got {offset!r}"
        )
    L = (arr.size - offset - 1) // batch_size  # tokens per stream
    if L < num_steps:
        raise ValueError(
            f"batch_size={batch_size} × num_steps={num_steps} needs at least "
            f"{batch_size * num_steps + 1} tokens after offset {offset}; the corpus "
            f"has {arr.size}"
        )
    return _sequential_batches(arr, batch_size, num_steps, offset, L)


def _sequential_batches(
    arr: np.ndarray, batch_size: int, num_steps: int, offset: int, L: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    # Stream b is the b-th run of L tokens; make it column b: (B, L) -> (L, B).
    Xs = np.ascontiguousarray(arr[offset : offset + L * batch_size].reshape(-1, L).T)
    Ys = np.ascontiguousarray(
        arr[offset + 1 : offset + 1 + L * batch_size].reshape(-1, L).T
    )
    for t in range(0, (L // num_steps) * num_steps, num_steps):
        yield Xs[t : t + num_steps], Ys[t : t + num_steps]  # (T, B) each


def num_batches(n_tokens: int, batch_size: int, num_steps: int) -> int:
    """Upper bound on the minibatches per epoch of either iterator.

    Exact at offset 0.
    """
    n_tokens = check_nonnegative_int("n_tokens", n_tokens)
    batch_size = check_positive_int("batch_size", batch_size)
    num_steps = check_positive_int("num_steps", num_steps)
    if num_steps + 1 > n_tokens:
        raise ValueError(
            f"n_tokens={n_tokens} is too few: num_steps={num_steps} needs at least "
            f"{num_steps + 1} tokens (inputs plus the shifted target)"
        )
    return ((n_tokens - 1) // num_steps) // batch_size


def train_valid_split(
    ids: Sequence[int] | np.ndarray, valid_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Split a corpus into a leading training part and a trailing validation part.

    The split is contiguous (not shuffled): for text, shuffling characters
    would leak context across the split.
    """
    arr = as_ids(ids)
    valid_fraction = check_number_in(
        "valid_fraction", valid_fraction, 0.0, 1.0, low_open=True, high_open=True
    )
    cut = int(round(arr.size * (1.0 - valid_fraction)))
    if cut < 1 or cut >= arr.size:
        raise ValueError(
            f"a corpus of {arr.size} tokens is too short to split at {valid_fraction}"
        )
    return arr[:cut], arr[cut:]
