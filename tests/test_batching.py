"""rnnkit.batching: time-major (T, B) minibatches with targets shifted by one."""

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
    if t + 1 > n or (n - 1) // t < b:  # not one full (T, B) minibatch: refused
        with pytest.raises(ValueError, match="needs at least"):
            list(random_batches(ids, b, t, seed=seed))
        return
    seen = []
    for X, Y in random_batches(ids, b, t, seed=seed):
        assert X.shape == Y.shape == (t, b)
        assert (Y == X + 1).all()
        assert (np.diff(X, axis=0) == 1).all()  # each column is a contiguous window
        seen.extend(X[0].tolist())
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
            list(sequential_batches(ids, b, t, seed=seed))
        return
    batches = list(sequential_batches(ids, b, t, seed=seed))
    assert batches
    for X, Y in batches:
        assert X.shape == Y.shape == (t, b)
        assert (Y == X + 1).all()
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        assert (X1[0] == X0[-1] + 1).all()  # column b continues column b
    assert len(batches) <= num_batches(n, b, t) + 1


def test_sequential_batches_offset_zero_by_hand():
    got = [
        (X.tolist(), Y.tolist())
        for X, Y in sequential_batches(list(range(23)), 2, 5, offset=0)
    ]
    # 22 usable inputs -> 2 streams of 11: [0..10] and [11..21], one per column;
    # two full windows of 5 steps. Row t holds step t of both streams.
    assert got == [
        (
            [[0, 11], [1, 12], [2, 13], [3, 14], [4, 15]],
            [[1, 12], [2, 13], [3, 14], [4, 15], [5, 16]],
        ),
        (
            [[5, 16], [6, 17], [7, 18], [8, 19], [9, 20]],
            [[6, 17], [7, 18], [8, 19], [9, 20], [10, 21]],
        ),
    ]


def test_same_seed_same_batches_different_seed_different():
    ids = np.arange(500)
    a = [X.tolist() for X, _ in random_batches(ids, 4, 7, seed=1)]
    b = [X.tolist() for X, _ in random_batches(ids, 4, 7, seed=1)]
    c = [X.tolist() for X, _ in random_batches(ids, 4, 7, seed=2)]
    assert a == b and a != c


def test_seed_is_an_int_or_a_shared_generator():
    ids = np.arange(500)

    def firsts(seed):
        return [X[0].tolist() for X, _ in random_batches(ids, 4, 7, seed=seed)]

    assert firsts(np.random.default_rng(3)) == firsts(3)  # an int seeds default_rng
    g = np.random.default_rng(3)
    assert firsts(g) != firsts(g)  # one generator: the second epoch draws on
    # the same seed gives the same offset to sequential_batches
    a = [X.tolist() for X, _ in sequential_batches(ids, 3, 7, seed=5)]
    assert a == [X.tolist() for X, _ in sequential_batches(ids, 3, 7, seed=5)]
    with pytest.raises(TypeError, match=r"seed must be an int; got str"):
        list(random_batches(ids, 4, 7, seed="0"))


def test_draws_are_the_offset_then_the_shuffle():
    # The order of draws the book's numbers rest on: one integer in [0, T) for the
    # offset, then a shuffle of the window starts, from default_rng(seed).
    ids = np.arange(103)
    g = np.random.default_rng(11)
    offset = int(g.integers(0, 5))
    starts = offset + 5 * np.arange((103 - offset - 1) // 5)
    g.shuffle(starts)
    got = [X[0].tolist() for X, _ in random_batches(ids, 4, 5, seed=11)]
    n = len(starts) - len(starts) % 4
    assert got == [starts[i : i + 4].tolist() for i in range(0, n, 4)]
    first = next(sequential_batches(ids, 4, 5, seed=11))[0]
    assert first[0, 0] == int(np.random.default_rng(11).integers(0, 5))


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
    with pytest.raises(ValueError, match=r"batch_size must be a positive int.*got 0"):
        list(random_batches(range(50), 0, 3))
    with pytest.raises(TypeError, match=r"num_steps must be a positive int; got float"):
        list(random_batches(range(50), 2, 3.0))
    with pytest.raises(ValueError, match=r"num_steps must be a positive int.*got 0"):
        num_batches(50, 2, 0)
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
