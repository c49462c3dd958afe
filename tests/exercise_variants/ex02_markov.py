"""A plausible bug in exercise 2 that the visible tests miss and the hidden tests catch.

``perplexity`` keeps a sliding history and takes the context as ``history[-k:]``.
For k >= 1 that is exactly the last k ids, so every visible test (k = 1 and 2)
passes. For k = 0, ``history[-0:]`` is the *whole* history rather than the
empty tuple, so from the second token on every context is unseen and the
unigram model scores like uniform guessing (perplexity V instead of about 17 on
Hamlet). The hidden perplexity test checks k = 0 against ``NGramLM`` and fails;
``best_order`` still picks the right order (k = 0 is never the best), so its
hidden test passes.
"""

PERPLEXITY = """\
def perplexity(counts: dict, ids, k: int, V: int, alpha: float = 1.0) -> float:
    "exp(mean negative log-likelihood) over all len(ids) positions, with start padding."
    history = [V] * k
    total = 0.0
    for token in ids:
        context = tuple(history[-k:])  # the last k ids ... except when k == 0
        total += math.log(ngram_prob(counts, context, int(token), V, alpha))
        history.append(int(token))
    return math.exp(-total / len(ids))
"""

SOLUTION_REPLACEMENTS: dict[str, str] = {"perplexity": PERPLEXITY}

EXPECTED_FAILING: list[str] = ["test_perplexity_hidden"]
