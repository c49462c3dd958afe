"""k-th order Markov (n-gram) language models over integer token ids.

The baseline for the chapter "autoregressive models and the Markov assumption".
An autoregressive model factorises a sequence as

    P(x_1, ..., x_T) = prod_t P(x_t | x_1, ..., x_{t-1})

and a k-th order Markov model keeps only the last k tokens of the history:

    P(x_t | x_1, ..., x_{t-1}) ~= P(x_t | x_{t-k}, ..., x_{t-1}).

The context c = (x_{t-k}, ..., x_{t-1}) is a tuple of k ids; k = 0 is the unigram
model. The model is a table of counts N(c, w): how often token w followed context c
in the training ids. Everything here works on any ids in [0, V).

Start of a sequence: the first k tokens have fewer than k predecessors, so the
sequence is left-padded with k copies of a reserved start id, ``start_id = V``
(one past the last token id). Fitting and scoring pad the same way, so every
position t = 0 .. T-1 is scored, each order scores exactly the same T tokens, and a
sequence of any length >= 1 can be scored. The start id only ever appears in
contexts; the model never predicts it, and callers never pass it.

Reading order: data (checks, padding, counting) -> parameters (``NGramLM``,
``fit``) -> forward (``prob``, ``next_distribution``) -> loss
(``log_likelihood``, ``perplexity``) -> sampling (``sample``) -> the
``perplexity_table`` that notebooks plot.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np

__all__ = ["NGramLM", "possible_contexts", "perplexity_table"]

SMOOTHINGS = ("kneser-ney", "add-alpha")

# Per context: (followers {token w: count}, total count, number of distinct followers).
_Stats = tuple[dict[int, int], int, int]


# ----------------------------------------------------------------------------- data


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(
            f"{name} must be an int >= {minimum}; got {type(value).__name__} {value!r}"
        )
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value}")
    return int(value)


def _check_ids(
    ids, vocab_size: int, name: str = "ids", allow_empty: bool = False
) -> list[int]:
    """Return ``ids`` as a list of Python ints after checking it is 1-D, integer, in [0, V)."""
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of token ids; got an array of shape {arr.shape}"
        )
    if arr.size == 0:
        if allow_empty:
            return []
        raise ValueError(
            f"{name} must contain at least one token id; got an empty sequence"
        )
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token ids; got dtype {arr.dtype}")
    bad = np.flatnonzero((arr < 0) | (arr >= vocab_size))
    if bad.size:
        raise ValueError(
            f"token id {arr[bad[0]]} out of range for vocab_size={vocab_size} "
            f"(expected ids in [0, {vocab_size - 1}]; found in {name} at position {bad[0]})"
        )
    return arr.tolist()


def possible_contexts(order: int, vocab_size: int) -> int:
    """Number of possible contexts of a k-th order model, V**k (start padding not counted).

    Compare with ``NGramLM.num_contexts``: the table that could exist grows as V**k,
    the contexts that a finite text actually shows grow far slower, and most of the
    possible ones are never seen -- the reason plain counting stops working at large k.
    """
    order = _check_int("order", order, 0)
    vocab_size = _check_int("vocab_size", vocab_size, 1)
    return vocab_size**order


def _count_ngrams(padded: list[int], n: int) -> Counter:
    """Counts of the n-grams (tuples of n ids) that end at every scored position.

    ``padded`` is the sequence with n-1 start ids in front, so it has T + n - 1
    entries and yields exactly T n-grams.
    """
    return Counter(zip(*(padded[i : len(padded) - n + 1 + i] for i in range(n))))


def _group_by_context(
    ngram_counts: dict[tuple[int, ...], int],
) -> dict[tuple[int, ...], _Stats]:
    """{(c..., w): N} -> {c: (followers {w: N(c, w)}, N(c), number of distinct w)}."""
    followers: dict[tuple[int, ...], dict[int, int]] = {}
    for gram, count in ngram_counts.items():
        followers.setdefault(gram[:-1], {})[gram[-1]] = count
    return {c: (f, sum(f.values()), len(f)) for c, f in followers.items()}


def _estimate_discount(ngram_counts: dict[tuple[int, ...], int]) -> float:
    """Ney's estimate D = n1 / (n1 + 2 n2) from the counts-of-counts; 0.5 when n1 or n2 is 0."""
    counts_of_counts = Counter(ngram_counts.values())
    n1, n2 = counts_of_counts.get(1, 0), counts_of_counts.get(2, 0)
    if n1 == 0 or n2 == 0:
        return 0.5
    return n1 / (n1 + 2 * n2)


# ----------------------------------------------------------------------- parameters


class NGramLM:
    """k-th order Markov language model over token ids in [0, V), estimated by counting.

    Parameters
    ----------
    order : int >= 0
        k, the context length. 0 is the unigram model P(w).
    vocab_size : int >= 1
        V. Token ids are 0 .. V-1; ``start_id = V`` is reserved for start padding.
    alpha : float > 0, default 1.0
        Pseudo-count of add-alpha smoothing (only used with ``smoothing="add-alpha"``;
        any other value with Kneser-Ney is an error rather than silently ignored).
    smoothing : {"kneser-ney", "add-alpha"}, default "kneser-ney"
        How counts become probabilities. With N(c, w) the count of w after c and
        N(c) = sum_w N(c, w):

        ``"add-alpha"`` (Laplace for alpha = 1, Lidstone otherwise) pretends every
        token was seen alpha extra times after every context::

            P(w | c) = (N(c, w) + alpha) / (N(c) + alpha * V)

        An unseen context gets the uniform 1/V. Simple, but every context --
        however rarely seen -- hands the same alpha * V of mass to the unseen
        tokens and never uses what shorter contexts know, so validation perplexity
        gets worse quickly as k grows.

        ``"kneser-ney"`` (interpolated Kneser-Ney) subtracts a discount D from every
        seen count and gives the freed mass to the model of order k-1, with c' the
        context c without its oldest token::

            P(w | c) = max(N(c, w) - D, 0) / N(c)
                       + D * n_types(c) / N(c) * P(w | c')

        where n_types(c) is the number of distinct tokens seen after c. An unseen
        context backs off entirely, P(w | c) = P(w | c'). Below the top order N is
        replaced by the continuation count (the number of distinct tokens seen
        just before the n-gram (c', w)), which asks "how many contexts does w
        complete" rather than "how often does w occur". The recursion ends in the
        uniform 1/V, so every token has positive probability. It is the standard
        strong n-gram baseline, and a fair one for an RNN to beat.
    discount : float in (0, 1] or None, default None
        Kneser-Ney's D for every order. None estimates one D per order from the
        counts-of-counts, D = n1 / (n1 + 2 n2) (Ney et al. 1994; 0.5 if n1 or n2 is
        0). Only used with ``smoothing="kneser-ney"``.

    Attributes after ``fit``: ``num_contexts`` (distinct contexts of length k seen)
    and ``discounts`` (the D used at orders 0..k; empty for add-alpha).
    """

    def __init__(
        self,
        order: int,
        vocab_size: int,
        *,
        alpha: float = 1.0,
        smoothing: str = "kneser-ney",
        discount: float | None = None,
    ):
        self.order = _check_int("order", order, 0)
        self.vocab_size = _check_int("vocab_size", vocab_size, 1)
        if smoothing not in SMOOTHINGS:
            raise ValueError(
                f"smoothing must be one of {SMOOTHINGS}; got {smoothing!r}"
            )
        if isinstance(alpha, bool) or not isinstance(alpha, Real):
            raise TypeError(
                f"alpha must be a float > 0; got {type(alpha).__name__} {alpha!r}"
            )
        if not (math.isfinite(alpha) and alpha > 0):
            raise ValueError(f"alpha must be a finite float > 0; got {alpha}")
        if smoothing != "add-alpha" and alpha != 1.0:
            raise ValueError(
                f"alpha is only used by smoothing='add-alpha'; got alpha={alpha} with smoothing={smoothing!r}"
            )
        if discount is not None:
            if smoothing != "kneser-ney":
                raise ValueError(
                    f"discount is only used by smoothing='kneser-ney'; got smoothing={smoothing!r}"
                )
            if (
                isinstance(discount, bool)
                or not isinstance(discount, Real)
                or not 0 < discount <= 1
            ):
                raise ValueError(
                    f"discount must be a float in (0, 1] or None; got {discount!r}"
                )
        self.alpha = float(alpha)
        self.smoothing = smoothing
        self.discount = None if discount is None else float(discount)
        self.start_id = self.vocab_size
        self._levels: list[dict[tuple[int, ...], _Stats]] | None = (
            None  # index j: contexts of length j
        )
        self.discounts: tuple[float, ...] = ()

    def __repr__(self) -> str:
        fitted = "fitted" if self._levels is not None else "not fitted"
        return f"NGramLM(order={self.order}, vocab_size={self.vocab_size}, smoothing={self.smoothing!r}, {fitted})"

    def fit(self, ids: Sequence[int] | np.ndarray) -> NGramLM:
        """Count N(c, w) over ``ids`` (shape (T,), ints in [0, V)), left-padded with k start ids.

        Refitting replaces the old counts. Returns ``self`` so that
        ``NGramLM(2, V).fit(train).perplexity(valid)`` reads as one line.
        """
        seq = _check_ids(ids, self.vocab_size)
        k = self.order
        top = _count_ngrams(
            [self.start_id] * k + seq, k + 1
        )  # (k+1)-grams at all T positions
        if self.smoothing == "add-alpha":
            self._levels = [{}] * k + [_group_by_context(top)]
            self.discounts = ()
            return self
        # Kneser-Ney: raw counts at the top order, continuation counts below. Every
        # lower n-gram at a scored position is a suffix of the (k+1)-gram there, so
        # the distinct (j+1)-grams are the suffixes of the distinct (j+2)-grams, and
        # N1+(. c' w) counts how many distinct (j+2)-grams end in (c', w).
        counts = [top]
        for _ in range(k):
            counts.append(Counter(gram[1:] for gram in counts[-1]))
        counts.reverse()  # counts[j]: (j+1)-grams, i.e. contexts of length j
        self._levels = [_group_by_context(c) for c in counts]
        if self.discount is None:
            self.discounts = tuple(_estimate_discount(c) for c in counts)
        else:
            self.discounts = (self.discount,) * (k + 1)
        return self

    def _require_fit(self) -> list[dict[tuple[int, ...], _Stats]]:
        if self._levels is None:
            raise RuntimeError("this NGramLM is not fitted yet; call fit() first")
        return self._levels

    @property
    def num_contexts(self) -> int:
        """Distinct contexts of length k seen in training (those with start padding included)."""
        return len(self._require_fit()[self.order])

    # ------------------------------------------------------------------ forward

    def _context_key(self, context: Sequence[int]) -> tuple[int, ...]:
        """Last k ids of ``context``, left-padded with start ids if it is shorter than k."""
        ctx = _check_ids(context, self.vocab_size, name="context", allow_empty=True)
        k = self.order
        ctx = ctx[-k:] if k else []
        return (self.start_id,) * (k - len(ctx)) + tuple(ctx)

    def _prob_key(self, key: tuple[int, ...], w: int) -> float:
        """P(w | key) for a padded context ``key`` of exactly k ids; no checks."""
        levels = self._levels
        k = self.order
        if self.smoothing == "add-alpha":
            stats = levels[k].get(key)
            n_cw, n_c = (stats[0].get(w, 0), stats[1]) if stats else (0, 0)
            return (n_cw + self.alpha) / (n_c + self.alpha * self.vocab_size)
        p = 1.0 / self.vocab_size
        for j in range(k + 1):  # from the unigram up to order k
            stats = levels[j].get(key[k - j :])
            if stats is None:
                break  # every longer context is unseen too: back off fully
            followers, n_c, n_types = stats
            d = self.discounts[j]
            p = (max(followers.get(w, 0) - d, 0.0) + d * n_types * p) / n_c
        return p

    def prob(self, context: Sequence[int], token: int) -> float:
        """P(token | context). Only the last k ids of ``context`` matter; a shorter
        context is taken to be the start of a sequence (left-padded with start ids).
        """
        self._require_fit()
        (w,) = _check_ids([token], self.vocab_size, name="token")
        return self._prob_key(self._context_key(context), w)

    def next_distribution(self, context: Sequence[int]) -> np.ndarray:
        """P(. | context) as a float64 array of shape (V,) that sums to 1."""
        levels = self._require_fit()
        key = self._context_key(context)
        k, V = self.order, self.vocab_size
        if self.smoothing == "add-alpha":
            p = np.full(V, self.alpha)
            stats = levels[k].get(key)
            if stats:
                p[list(stats[0])] += list(stats[0].values())
            return p / p.sum()
        p = np.full(V, 1.0 / V)
        for j in range(k + 1):
            stats = levels[j].get(key[k - j :])
            if stats is None:
                break
            followers, n_c, n_types = stats
            d = self.discounts[j]
            direct = np.zeros(V)
            direct[list(followers)] = np.maximum(
                np.fromiter(followers.values(), float, n_types) - d, 0.0
            )
            p = (direct + d * n_types * p) / n_c
        return p

    # --------------------------------------------------------------------- loss

    def log_likelihood(self, ids: Sequence[int] | np.ndarray) -> float:
        """sum_t log P(x_t | x_{t-k}..x_{t-1}) in nats over all T positions of ``ids`` (shape (T,)).

        The first k positions are conditioned on start padding, as in ``fit``.
        """
        self._require_fit()
        seq = _check_ids(ids, self.vocab_size)
        k = self.order
        padded = (self.start_id,) * k + tuple(seq)
        prob = self._prob_key
        return float(
            sum(
                math.log(prob(padded[t : t + k], padded[t + k]))
                for t in range(len(seq))
            )
        )

    def perplexity(self, ids: Sequence[int] | np.ndarray) -> float:
        """exp(-mean_t log P(x_t | context)): V for a uniform model, 1 for a certain one."""
        return math.exp(-self.log_likelihood(ids) / len(ids))

    # ----------------------------------------------------------------- sampling

    def sample(
        self,
        length: int,
        *,
        prompt: Sequence[int] = (),
        rng: np.random.Generator | int = 0,
    ) -> list[int]:
        """Draw ``length`` new token ids, x_t ~ P(. | last k ids of prompt + sample so far).

        An empty prompt starts from start padding, i.e. like the start of the
        training ids. Returns only the new ids (not the prompt). ``rng`` is a
        ``np.random.Generator`` or an int seed; the same seed gives the same ids.
        """
        self._require_fit()
        length = _check_int("length", length, 0)
        history = _check_ids(prompt, self.vocab_size, name="prompt", allow_empty=True)
        if isinstance(rng, (bool, np.bool_)) or not isinstance(
            rng, (np.random.Generator, Integral)
        ):
            raise TypeError(
                f"rng must be a np.random.Generator or an int seed; got {type(rng).__name__}"
            )
        gen = (
            rng
            if isinstance(rng, np.random.Generator)
            else np.random.default_rng(int(rng))
        )
        out: list[int] = []
        for u in gen.random(length):
            cdf = np.cumsum(
                self.next_distribution(history[-self.order :] if self.order else [])
            )
            w = min(
                int(np.searchsorted(cdf, u * cdf[-1], side="right")),
                self.vocab_size - 1,
            )
            out.append(w)
            history.append(w)
        return out


# ----------------------------------------------------------------- for notebooks


def perplexity_table(
    train_ids: Sequence[int] | np.ndarray,
    valid_ids: Sequence[int] | np.ndarray,
    orders: Sequence[int],
    vocab_size: int,
    **kw,
) -> list[dict]:
    """Fit one ``NGramLM(order, vocab_size, **kw)`` per order on ``train_ids`` and measure it.

    Returns one dict per order, in the given order, with keys ``order``,
    ``train_ppl``, ``valid_ppl``, ``num_contexts`` and ``possible_contexts``
    (V**k) -- ready for ``pandas.DataFrame`` or a plot of perplexity against k.
    """
    rows = []
    for order in orders:
        model = NGramLM(order, vocab_size, **kw).fit(train_ids)
        rows.append(
            {
                "order": model.order,
                "train_ppl": model.perplexity(train_ids),
                "valid_ppl": model.perplexity(valid_ids),
                "num_contexts": model.num_contexts,
                "possible_contexts": possible_contexts(model.order, vocab_size),
            }
        )
    return rows
