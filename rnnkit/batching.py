"""Minibatches for language modelling: one long id sequence → ``(B, T)`` blocks.

A language model learns to predict token ``t+1`` from tokens ``..t``. So each
minibatch is a pair ``(X, Y)`` of integer arrays of shape ``(B, T)`` —
``B`` subsequences (batch) of ``T`` steps (``num_steps``) — where ``Y`` is ``X``
shifted left by one position in the corpus.

Two ways to cut the corpus (both start at a random offset so every epoch sees
slightly different windows):

* **random partitioning**: windows are shuffled, so consecutive minibatches
  are unrelated; the hidden state must be reset for every minibatch.
* **sequential partitioning**: row ``b`` of minibatch ``i+1`` continues row
  ``b`` of minibatch ``i`` in the corpus, so the hidden state can be carried
  over (detached) between minibatches — truncated BPTT.

Models in ``rnnkit`` work time-major, ``(T, B, d)``; transpose ``X.T`` there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

__all__ = [
    "as_ids",
    "random_batches",
    "sequential_batches",
    "num_batches",
    "train_valid_split",
]


def as_ids(ids: Sequence[int] | np.ndarray) -> np.ndarray:
    """Validate a corpus of token ids and return it as a 1-D ``int64`` array."""
    if isinstance(ids, str):
        raise TypeError(
            "expected token ids (ints), got a str; encode it with a Vocab first"
        )
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"corpus ids must be 1-D (N,); got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("corpus is empty; expected at least num_steps + 1 token ids")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"corpus ids must be integers; got dtype {arr.dtype}")
    if arr.min() < 0:
        raise ValueError(f"token ids must be >= 0; found {int(arr.min())}")
    return arr.astype(np.int64, copy=False)


def _check_sizes(n: int, batch_size: int, num_steps: int) -> None:
    for name, v in (("batch_size", batch_size), ("num_steps", num_steps)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise TypeError(f"{name} must be an int; got {type(v).__name__}")
        if v < 1:
            raise ValueError(f"{name} must be >= 1; got {v}")
    if num_steps + 1 > n:
        raise ValueError(
            f"num_steps={num_steps} needs at least {num_steps + 1} tokens (inputs plus the "
            f"shifted target); the corpus has {n}"
        )


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    return (
        seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    )


def random_batches(
    ids: Sequence[int] | np.ndarray,
    batch_size: int,
    num_steps: int,
    *,
    rng: int | np.random.Generator = 0,
    drop_last: bool = True,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X, Y)`` minibatches of shape ``(B, T)`` from shuffled windows.

    The corpus is cut, after a random offset in ``[0, T)``, into
    non-overlapping windows of ``T`` tokens; window order is shuffled and
    ``Y[b, t] == X[b, t + 1]`` in corpus terms. With ``drop_last`` a final
    minibatch smaller than ``B`` is skipped (so every minibatch is ``(B, T)``).
    """
    arr = as_ids(ids)
    _check_sizes(arr.size, batch_size, num_steps)
    g = _rng(rng)
    offset = int(g.integers(0, num_steps))
    if arr.size - offset < num_steps + 1:
        offset = 0
    n_windows = (arr.size - offset - 1) // num_steps
    starts = offset + num_steps * np.arange(n_windows)
    g.shuffle(starts)
    stop = n_windows - n_windows % batch_size if drop_last else n_windows
    for i in range(0, stop, batch_size):
        s = starts[i : i + batch_size]
        idx = s[:, None] + np.arange(num_steps)[None, :]  # (B, T)
        yield arr[idx], arr[idx + 1]


def sequential_batches(
    ids: Sequence[int] | np.ndarray,
    batch_size: int,
    num_steps: int,
    *,
    rng: int | np.random.Generator = 0,
    offset: int | None = None,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(X, Y)`` minibatches of shape ``(B, T)`` that continue each other.

    After an offset (random in ``[0, T)`` unless ``offset`` is given), the
    corpus is split into ``B`` equal contiguous streams of
    ``(N - offset - 1) // B`` tokens; minibatch ``i`` holds steps
    ``[i*T, (i+1)*T)`` of every stream, so ``X_{i+1}[b, 0]`` follows
    ``X_i[b, T-1]`` in the corpus. A last, shorter window is dropped.
    """
    arr = as_ids(ids)
    _check_sizes(arr.size, batch_size, num_steps)
    if offset is None:
        offset = int(_rng(rng).integers(0, num_steps))
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
    usable = ((arr.size - offset - 1) // batch_size) * batch_size
    if usable // batch_size < num_steps:
        raise ValueError(
            f"batch_size={batch_size} × num_steps={num_steps} needs at least "
            f"{batch_size * num_steps + 1} tokens after offset {offset}; the corpus has {arr.size}"
        )
    Xs = arr[offset : offset + usable].reshape(batch_size, -1)
    Ys = arr[offset + 1 : offset + 1 + usable].reshape(batch_size, -1)
    for i in range(0, (Xs.shape[1] // num_steps) * num_steps, num_steps):
        yield Xs[:, i : i + num_steps], Ys[:, i : i + num_steps]


def num_batches(n_tokens: int, batch_size: int, num_steps: int) -> int:
    """Upper bound on the minibatches per epoch of either iterator (exact at offset 0)."""
    _check_sizes(n_tokens, batch_size, num_steps)
    return ((n_tokens - 1) // num_steps) // batch_size


def train_valid_split(
    ids: Sequence[int] | np.ndarray, valid_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Split a corpus into a leading training part and a trailing validation part.

    The split is contiguous (not shuffled): for text, shuffling characters
    would leak context across the split.
    """
    arr = as_ids(ids)
    if not 0.0 < valid_fraction < 1.0:
        raise ValueError(f"valid_fraction must be in (0, 1); got {valid_fraction}")
    cut = int(round(arr.size * (1.0 - valid_fraction)))
    if cut < 1 or cut >= arr.size:
        raise ValueError(
            f"a corpus of {arr.size} tokens is too short to split at {valid_fraction}"
        )
    return arr[:cut], arr[cut:]
