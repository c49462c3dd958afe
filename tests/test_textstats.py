"""rnnkit.textstats: n-gram counts and the Zipf slope."""

import numpy as np
import pytest

from rnnkit.textstats import ngram_counts, zipf_slope


def test_ngram_counts_by_hand():
    c = ngram_counts(list("abab"), 2)
    assert c == {("a", "b"): 2, ("b", "a"): 1}
    assert sum(ngram_counts(list("hello"), 3).values()) == 3


def test_zipf_slope_recovers_a_power_law():
    r = np.arange(1, 2001)
    freqs = np.floor(1e6 * r**-1.0)  # exact 1/r law, rounded to counts
    assert zipf_slope(freqs) == pytest.approx(-1.0, abs=0.01)
    assert zipf_slope(np.floor(1e6 * r**-0.5), ranks=(10, 1000)) == pytest.approx(
        -0.5, abs=0.01
    )


def test_errors():
    with pytest.raises(ValueError, match=r"n must be a positive int \(>= 1\); got 0"):
        ngram_counts(["a"], 0)
    with pytest.raises(TypeError, match=r"n must be a positive int; got float"):
        ngram_counts(["a"], 1.0)
    with pytest.raises(ValueError, match="need at least n=3"):
        ngram_counts(["a", "b"], 3)
    with pytest.raises(TypeError, match="call tokenize"):
        ngram_counts("abc", 1)
    with pytest.raises(ValueError, match="sorted from most to least"):
        zipf_slope([1, 5, 2])
    with pytest.raises(ValueError, match="positive counts"):
        zipf_slope([5, 0])
    with pytest.raises(ValueError, match="at least 2 counts"):
        zipf_slope([5])
    with pytest.raises(ValueError, match="ranks must satisfy"):
        zipf_slope([5, 4, 3], ranks=(0, 2))
