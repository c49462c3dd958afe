"""rnnkit.batching: (B, T) minibatches with targets shifted by one."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnkit.batching import (
    as_ids,
    num_batches,
    random_batches,
    sequential_batches,
    train_valid_split,
)


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 300),
    b=st.integers(1, 6),
    t=st.integers(1, 12),
    seed=st.integers(0, 10**6),
)
def test_random_batches_shapes_shift_and_no_overlap(n, b, t, seed):
    ids = np.arange(n)  # id == position, so shifts are visible
    if t + 1 > n:
        with pytest.raises(ValueError, match="needs at least"):
            list(random_batches(ids, b, t, rng=seed))
        return
    seen = []
    for X, Y in random_batches(ids, b, t, rng=seed):
        assert X.shape == Y.shape == (b, t)
        assert (Y == X + 1).all()
        assert (np.diff(X, axis=1) == 1).all()  # each row is a contiguous window
        seen.extend(X[:, 0].tolist())
    assert len(seen) == len(set(seen))  # windows never repeat within an epoch


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(2, 300),
    b=st.integers(1, 6),
    t=st.integers(1, 12),
    seed=st.integers(0, 10**6),
)
def test_sequential_batches_continue_each_other(n, b, t, seed):
    ids = np.arange(n)
    if (n - 1) // b < t:
        with pytest.raises(ValueError, match="needs at least"):
            list(sequential_batches(ids, b, t, rng=seed))
        return
    batches = list(sequential_batches(ids, b, t, rng=seed))
    assert batches
    for X, Y in batches:
        assert X.shape == Y.shape == (b, t)
        assert (Y == X + 1).all()
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        assert (X1[:, 0] == X0[:, -1] + 1).all()
    assert len(batches) <= num_batches(n, b, t) + 1


def test_sequential_batches_offset_zero_by_hand():
    got = [
        (X.tolist(), Y.tolist())
        for X, Y in sequential_batches(list(range(23)), 2, 5, offset=0)
    ]
    # 22 usable inputs -> 2 streams of 11: [0..10] and [11..21]; two full windows of 5.
    assert got == [
        (
            [[0, 1, 2, 3, 4], [11, 12, 13, 14, 15]],
            [[1, 2, 3, 4, 5], [12, 13, 14, 15, 16]],
        ),
        (
            [[5, 6, 7, 8, 9], [16, 17, 18, 19, 20]],
            [[6, 7, 8, 9, 10], [17, 18, 19, 20, 21]],
        ),
    ]


def test_same_seed_same_batches_different_seed_different():
    ids = np.arange(500)
    a = [X.tolist() for X, _ in random_batches(ids, 4, 7, rng=1)]
    b = [X.tolist() for X, _ in random_batches(ids, 4, 7, rng=1)]
    c = [X.tolist() for X, _ in random_batches(ids, 4, 7, rng=2)]
    assert a == b and a != c


def test_bad_input():
    with pytest.raises(ValueError, match="corpus is empty"):
        list(random_batches([], 2, 3))
    with pytest.raises(TypeError, match="got a str"):
        as_ids("hello")
    with pytest.raises(ValueError, match=r"1-D \(N,\)"):
        as_ids([[1, 2], [3, 4]])
    with pytest.raises(TypeError, match="must be integers"):
        as_ids([0.5, 1.0])
    with pytest.raises(ValueError, match="must be >= 0"):
        as_ids([1, -2])
    with pytest.raises(ValueError, match="num_steps=10 needs at least 11 tokens"):
        list(sequential_batches(range(5), 1, 10))
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        list(random_batches(range(50), 0, 3))
    with pytest.raises(TypeError, match="num_steps must be an int"):
        list(random_batches(range(50), 2, 3.0))
    with pytest.raises(ValueError, match="offset must be an int"):
        list(sequential_batches(range(50), 2, 3, offset=-1))
    with pytest.raises(ValueError, match="after offset 40"):
        list(sequential_batches(range(50), 2, 5, offset=40))


def test_train_valid_split():
    train, valid = train_valid_split(np.arange(100), 0.1)
    assert train.tolist() == list(range(90)) and valid.tolist() == list(range(90, 100))
    with pytest.raises(ValueError, match=r"valid_fraction must be in \(0, 1\)"):
        train_valid_split(np.arange(10), 1.0)
    with pytest.raises(ValueError, match="too short to split"):
        train_valid_split(np.arange(2), 0.1)
