"""A plausible bug in exercise 1 that the visible tests miss and the hidden tests catch.

``build_vocab`` ranks tokens with ``Counter.most_common()``, which breaks ties
by first occurrence instead of alphabetically. The visible test has no ties
("abbccc"), so it passes; the hidden test with ties ("zzyyxxw" must give
x, y, z, w) fails. ``encode`` and ``sequential_partition`` are left correct.
"""

SOLUTION_REPLACEMENTS: dict[str, str] = {
    "build_vocab": '''def build_vocab(tokens: list[str], min_freq: int = 1) -> list[str]:
    """idx_to_token: reserved tokens, then tokens by (-count, token) with count >= min_freq."""
    counts = Counter(tokens)
    return RESERVED + [tok for tok, n in counts.most_common() if n >= min_freq and tok not in RESERVED]
''',
}

EXPECTED_FAILING: list[str] = ["test_build_vocab_hidden"]
