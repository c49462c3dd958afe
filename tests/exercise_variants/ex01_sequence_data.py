"""A plausible bug in exercise 1 that the visible tests miss and the hidden tests catch.

``build_vocab`` ranks tokens with ``Counter.most_common()``, which breaks ties
by first occurrence instead of alphabetically. The visible test has no ties
("abbccc"), so it passes; the hidden test with ties ("zzyyxxw" must give
x, y, z, w) fails. ``encode`` and ``sequential_batches`` (time-major, (T, B)
minibatches) are left correct.
"""

BUILD_VOCAB = '''\
def build_vocab(tokens: list[str], min_freq: int = 1) -> list[str]:
    """idx_to_token: reserved tokens, then tokens by (-count, token)."""
    counts = Counter(tokens)
    ranked = counts.most_common()  # most frequent first
    return RESERVED + [t for t, n in ranked if n >= min_freq and t not in RESERVED]
'''

SOLUTION_REPLACEMENTS: dict[str, str] = {"build_vocab": BUILD_VOCAB}

EXPECTED_FAILING: list[str] = ["test_build_vocab_hidden"]
