"""Tests for benchmarks/d2l_split.py, the data split of the D2L comparison.

The module lives next to the benchmark that uses it; benchmarks run as scripts,
so it is imported here with benchmarks/ on the path, as the script sees it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from d2l_split import d2l_train_ids, d2l_windows  # noqa: E402


def test_d2l_windows_are_overlapping_and_split_at_the_end():
    N, T, nv = 60, 8, 10
    ids = np.arange(N)
    tX, tY, vX, vY = d2l_windows(ids, T, nv)
    n_train = N - T - nv
    assert tX.shape == tY.shape == (T, n_train) and vX.shape == vY.shape == (T, nv)
    for i in (0, 5, n_train - 1):  # column i is window i
        np.testing.assert_array_equal(tX[:, i], np.arange(i, i + T))
        np.testing.assert_array_equal(tY[:, i], np.arange(i + 1, i + T + 1))
    np.testing.assert_array_equal(vX[:, 0], np.arange(n_train, n_train + T))
    # the last window ends at the last id
    np.testing.assert_array_equal(vY[:, -1], np.arange(N - T, N))
    np.testing.assert_array_equal(d2l_train_ids(ids, T, nv), np.arange(n_train + T))
    assert tX.dtype == np.int64


def test_d2l_windows_validation():
    with pytest.raises(
        ValueError,
        match=r"20 ids give 12 windows of 9 tokens; expected more than num_valid=12",
    ):
        d2l_windows(np.arange(20), 8, 12)
    with pytest.raises(ValueError, match=r"num_steps must be a positive int"):
        d2l_windows(np.arange(20), 0, 5)
    with pytest.raises(TypeError, match=r"num_valid must be a positive int; got float"):
        d2l_train_ids(np.arange(20), 4, 2.0)
