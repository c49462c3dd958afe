"""Plausible bugs in exercise 2 (counted k-gram models), each caught by a visible
test whose message names the mistake.

The visible tests score orders k = 0, 1, 2, use alpha != 1, and include a tie
between orders, so the slips below cannot pass them.
"""

_COUNT = """\
def count_ngrams(ids, k: int, V: int) -> dict[tuple[int, ...], Counter]:
    "{context: Counter of next tokens}, ids left-padded with k start ids V."
    padded = [V] * k + [int(i) for i in ids]
    counts: dict[tuple[int, ...], Counter] = {}
    for t in range(len(padded) - k):
        context = tuple(padded[t : t + k])
        counts.setdefault(context, Counter())[padded[t + k]] += 1
    return counts
"""

_PERPLEXITY = """\
def perplexity(counts: dict, ids, k: int, V: int, alpha: float = 1.0) -> float:
    "exp(mean negative log-likelihood) over all len(ids) positions."
    history = [V] * k
    total = 0.0
    for token in ids:
        context = tuple(history[-k:])
        total += math.log(ngram_prob(counts, context, int(token), V, alpha))
        history.append(int(token))
    return math.exp(-total / len(ids))
"""


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


VARIANTS = {
    "k0_whole_history": {
        "doc": "context = history[-k:], which for k = 0 is the whole history, not ()",
        "replacements": {"perplexity": _PERPLEXITY},
        "failing": ["test_perplexity_visible", "test_perplexity_hidden"],
        "feedback": "with k = 0 every context is the empty tuple ()",
    },
    "no_start_padding": {
        "doc": "count_ngrams does not pad: the first k tokens are never counted",
        "replacements": {
            "count_ngrams": _swap(
                _COUNT,
                "padded = [V] * k + [int(i) for i in ids]",
                "padded = [int(i) for i in ids]",
            ),
        },
        "failing": [
            "test_count_ngrams_visible",
            "test_count_ngrams_hidden",
            "test_perplexity_visible",
            "test_best_order_visible",
            "test_best_order_hidden",
        ],
        "feedback": "pad ids on the left with k=1 copies of the start id",
    },
    "denominator_without_alpha": {
        "doc": "ngram_prob divides by N(c) + V instead of N(c) + alpha * V",
        "replacements": {
            "ngram_prob": """\
def ngram_prob(counts: dict, context: tuple, token: int, V: int, alpha=1.0) -> float:
    "Add-alpha estimate of P(token | context)."
    followers = counts.get(tuple(context), {})
    n_c = sum(followers.values())
    return (followers.get(token, 0) + alpha) / (n_c + V)
""",
        },
        "failing": [
            "test_ngram_prob_visible",
            "test_ngram_prob_hidden",
            "test_perplexity_hidden",
            "test_best_order_hidden",
        ],
        "feedback": "with alpha = 0.5 the denominator is N(c) + alpha * V",
    },
    "sum_not_mean": {
        "doc": "perplexity is exp(-sum log P), not exp(-mean log P)",
        "replacements": {
            "perplexity": _swap(
                _PERPLEXITY.replace(
                    "context = tuple(history[-k:])",
                    "context = tuple(history[len(history) - k :])",
                ),
                "math.exp(-total / len(ids))",
                "math.exp(-total)",
            ),
        },
        "failing": [
            "test_perplexity_visible",
            "test_perplexity_hidden",
            "test_best_order_visible",
            "test_best_order_hidden",
        ],
        "feedback": "did you average the log-probabilities over all T positions?",
    },
    "tie_goes_to_larger_k": {
        "doc": "best_order keeps the last of equal perplexities, the larger k",
        "replacements": {
            "best_order": """\
def best_order(train_ids, valid_ids, V: int, orders=range(6), alpha=1.0):
    "(k, validation perplexity) of the order with the lowest validation perplexity."
    best = None
    for k in sorted(orders):
        ppl = perplexity(count_ngrams(train_ids, k, V), valid_ids, k, V, alpha)
        if best is None or ppl <= best[1]:
            best = (k, ppl)
    return best
""",
        },
        "failing": ["test_best_order_visible", "test_best_order_hidden"],
        "feedback": "on a tie, return the smaller k",
    },
}
