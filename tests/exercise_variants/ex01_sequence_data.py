"""Plausible bugs in exercise 1 (vocabulary and sequential minibatches), each
caught by a visible test whose message names the mistake.

The visible tests include ties in the counts, ``min_freq`` at a count that
occurs, an unknown token, and two batchings with T != B, one of which leaves a
short last window to drop.
"""

_VOCAB = '''\
def build_vocab(tokens: list[str], min_freq: int = 1) -> list[str]:
    """idx_to_token: reserved tokens, then tokens by (-count, token)."""
    counts = Counter(tokens)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return RESERVED + [t for t, n in ranked if n >= min_freq and t not in RESERVED]
'''

_BATCHES = '''\
def sequential_batches(ids: np.ndarray, batch_size: int, num_steps: int):
    """Yield (X, Y) pairs of shape (num_steps, batch_size), time-major."""
    ids = np.asarray(ids)
    L = (len(ids) - 1) // batch_size  # ids per stream
    if L < num_steps:
        raise ValueError(f"need at least {batch_size * num_steps + 1} tokens")
    Xs = ids[: L * batch_size].reshape(batch_size, L).T  # (L, B)
    Ys = ids[1 : L * batch_size + 1].reshape(batch_size, L).T
    for t in range(0, (L // num_steps) * num_steps, num_steps):
        yield Xs[t : t + num_steps], Ys[t : t + num_steps]
'''

_BUILD_VOCAB = ["test_build_vocab_visible", "test_build_vocab_hidden"]
_BATCH_TESTS = ["test_sequential_batches_visible", "test_sequential_batches_hidden"]


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


VARIANTS = {
    "ties_by_first_occurrence": {
        "doc": "ranks with Counter.most_common(), so ties keep first-occurrence order",
        "replacements": {
            "build_vocab": _swap(
                _VOCAB,
                "sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))",
                "counts.most_common()",
            ),
        },
        "failing": _BUILD_VOCAB,
        "feedback": "tokens with the same count must be in alphabetical order",
    },
    "min_freq_strict": {
        "doc": "keeps tokens seen more than min_freq times (n > min_freq)",
        "replacements": {
            "build_vocab": _swap(_VOCAB, "n >= min_freq", "n > min_freq"),
        },
        "failing": _BUILD_VOCAB,
        "feedback": "keep every token that occurs at least min_freq times",
    },
    "unknown_is_pad": {
        "doc": "encode maps an unknown token to id 0 (<pad>) instead of <unk>",
        "replacements": {
            "encode": '''\
def encode(tokens: list[str], idx_to_token: list[str]) -> list[int]:
    """Ids of tokens; unknown tokens get the id of '<unk>'."""
    token_to_idx = {tok: i for i, tok in enumerate(idx_to_token)}
    return [token_to_idx.get(tok, 0) for tok in tokens]
''',
        },
        "failing": ["test_encode_visible", "test_encode_hidden"],
        "feedback": "an unknown token gets the id of '<unk>'",
    },
    "streams_not_transposed": {
        "doc": "reshape(L, batch_size): rows of consecutive ids, no stream per column",
        "replacements": {
            "sequential_batches": _swap(
                _swap(
                    _BATCHES,
                    "Xs = ids[: L * batch_size].reshape(batch_size, L).T",
                    "Xs = ids[: L * batch_size].reshape(L, batch_size)",
                ),
                "Ys = ids[1 : L * batch_size + 1].reshape(batch_size, L).T",
                "Ys = ids[1 : L * batch_size + 1].reshape(L, batch_size)",
            ),
        },
        "failing": _BATCH_TESTS,
        "feedback": "each column must be one contiguous stream",
    },
    "last_full_window_lost": {
        "doc": "off by one in the windows: range(0, L - num_steps, ...) loses a window",
        "replacements": {
            "sequential_batches": _swap(
                _BATCHES,
                "range(0, (L // num_steps) * num_steps, num_steps)",
                "range(0, L - num_steps, num_steps)",
            ),
        },
        "failing": _BATCH_TESTS,
        "feedback": "your loop stops one full window early",
    },
    "short_last_window_kept": {
        "doc": "yields the last window even when it is shorter than num_steps",
        "replacements": {
            "sequential_batches": _swap(
                _BATCHES,
                "range(0, (L // num_steps) * num_steps, num_steps)",
                "range(0, L, num_steps)",
            ),
        },
        "failing": _BATCH_TESTS,
        "feedback": "drop the last window, which has only 2 rows",
    },
}
