"""Tests for rnnkit.markov: hand-counted examples, properties, every error path.

Expected numbers are counted by hand in the test (written as fractions), never taken
from the code. Tolerances: 1e-12 is float64 round-off on sums of a few dozen terms.
Sampling from an NGramLM is tested with rnnkit.sampling (tests/test_sampling.py).
"""

import math
from fractions import Fraction as F

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnkit.losses
from rnnkit.markov import NGramLM, perplexity_table, possible_contexts

ROUND_OFF = 1e-12  # float64 round-off on sums/products of a few dozen terms

# The running example: V = 3, start id B = 3. As bigrams (order 1, one start pad):
# (B,0) (0,1) (1,0) (0,1) (1,0) (0,2)
IDS = [0, 1, 0, 1, 0, 2]


def fr(*fractions):
    """Fractions -> float64 array, for numpy comparisons."""
    return np.array([float(f) for f in fractions])


def add_alpha(k=1, alpha=1.0, ids=IDS, V=3):
    return NGramLM(k, V, alpha=alpha, smoothing="add-alpha").fit(ids)


# ------------------------------------------------------------- hand-counted: add-alpha


def test_add_alpha_bigram_probabilities_by_hand():
    m = add_alpha()
    # after 0: N(0,1)=2, N(0,2)=1, N(0)=3; (N + 1) / (3 + 1*3)
    assert m.prob([0], 0) == pytest.approx(float(F(0 + 1, 3 + 3)), abs=ROUND_OFF)
    assert m.prob([0], 1) == pytest.approx(float(F(2 + 1, 3 + 3)), abs=ROUND_OFF)
    assert m.prob([0], 2) == pytest.approx(float(F(1 + 1, 3 + 3)), abs=ROUND_OFF)
    # after 1: N(1,0)=2, N(1)=2; (N + 1) / (2 + 3)
    np.testing.assert_allclose(
        m.next_distribution([1]), fr(F(3, 5), F(1, 5), F(1, 5)), atol=ROUND_OFF
    )
    # after 2: never seen -> uniform
    np.testing.assert_allclose(
        m.next_distribution([2]), fr(*[F(1, 3)] * 3), atol=ROUND_OFF
    )
    # start of a sequence (empty context): N(B,0)=1, N(B)=1; (N + 1) / (1 + 3)
    np.testing.assert_allclose(
        m.next_distribution([]), fr(F(2, 4), F(1, 4), F(1, 4)), atol=ROUND_OFF
    )
    # only the last k=1 ids of a longer context matter
    assert m.prob([2, 2, 1], 0) == pytest.approx(3 / 5, abs=ROUND_OFF)


def test_add_alpha_log_likelihood_and_perplexity_by_hand():
    m = add_alpha()
    # P(0|B) P(1|0) P(0|1) P(1|0) P(0|1) P(2|0)
    p = F(1, 2) * F(1, 2) * F(3, 5) * F(1, 2) * F(3, 5) * F(1, 3)
    assert m.log_likelihood(IDS) == pytest.approx(math.log(p), abs=ROUND_OFF)
    assert m.perplexity(IDS) == pytest.approx(float(p) ** (-1 / 6), rel=ROUND_OFF)


def test_perplexity_is_computed_by_losses_perplexity(monkeypatch):
    # The one place exp(mean NLL) is computed: NGramLM hands it the mean NLL in nats.
    seen = []
    real = rnnkit.losses.perplexity

    def spy(mean_nll):
        seen.append(mean_nll)
        return real(mean_nll)

    monkeypatch.setattr(rnnkit.losses, "perplexity", spy)
    m = add_alpha()
    ppl = m.perplexity(IDS)
    assert seen == [pytest.approx(-m.log_likelihood(IDS) / 6, rel=ROUND_OFF)]
    assert ppl == real(seen[0])


def test_unigram_with_lidstone_alpha_by_hand():
    m = NGramLM(0, 3, alpha=0.5, smoothing="add-alpha").fit([0, 0, 1])
    # (N(w) + 0.5) / (3 + 0.5 * 3)
    np.testing.assert_allclose(
        m.next_distribution([2, 1]), fr(F(5, 9), F(3, 9), F(1, 9)), atol=ROUND_OFF
    )


def test_order_two_pads_the_start_and_scores_short_sequences():
    # padded: B B 0 1 2 -> trigrams (B,B,0) (B,0,1) (0,1,2), V = 3, alpha = 1
    m = NGramLM(2, 3, smoothing="add-alpha").fit([0, 1, 2])
    assert m.prob([], 0) == pytest.approx(
        F(1 + 1, 1 + 3), abs=ROUND_OFF
    )  # context (B,B)
    assert m.prob([0], 1) == pytest.approx(
        F(1 + 1, 1 + 3), abs=ROUND_OFF
    )  # context (B,0)
    assert m.prob([1, 0, 1], 2) == pytest.approx(
        F(2, 4), abs=ROUND_OFF
    )  # context (0,1)
    assert m.prob([2, 0], 1) == pytest.approx(
        F(1, 3), abs=ROUND_OFF
    )  # unseen context (2,0)
    # a sequence shorter than order + 1 is still scored, from start padding
    assert m.log_likelihood([0]) == pytest.approx(math.log(2 / 4), abs=ROUND_OFF)


def test_num_contexts_and_possible_contexts_by_hand():
    assert add_alpha(k=0).num_contexts == 1  # the empty context
    assert add_alpha(k=1).num_contexts == 3  # B, 0, 1
    # padded B B 0 1 0 1 0 2: contexts (B,B) (B,0) (0,1) (1,0)
    assert add_alpha(k=2).num_contexts == 4
    assert NGramLM(2, 3).fit(IDS).num_contexts == 4  # same contexts under Kneser-Ney
    assert possible_contexts(0, 27) == 1
    assert possible_contexts(3, 27) == 19683
    assert possible_contexts(np.int64(2), 5) == 25


# ----------------------------------------------------------- hand-counted: Kneser-Ney


def test_kneser_ney_bigram_probabilities_by_hand():
    m = NGramLM(1, 3, discount=0.5).fit(IDS)
    # Unigram continuation counts: distinct bigrams (B,0) (0,1) (1,0) (0,2) ->
    # cc(0)=2, cc(1)=1, cc(2)=1, total 4, 3 types;
    # P0(w) = (cc - 1/2 + 1/2 * 3 * 1/3) / 4
    half = F(1, 2)
    p0 = [
        (2 - half + half * 3 * F(1, 3)) / 4,
        (1 - half + half) / 4,
        (1 - half + half) / 4,
    ]
    assert p0 == [F(1, 2), F(1, 4), F(1, 4)]
    np.testing.assert_allclose(
        m.next_distribution([2]), fr(*p0), atol=ROUND_OFF
    )  # unseen context backs off
    # after 0: N(0,1)=2, N(0,2)=1, N(0)=3, 2 types; (max(N - 1/2, 0) + 1/2 * 2 * P0) / 3
    after0 = [
        (0 + F(1, 2) * 2 * p0[0]) / 3,
        (F(3, 2) + F(1, 2) * 2 * p0[1]) / 3,
        (F(1, 2) + F(1, 2) * 2 * p0[2]) / 3,
    ]
    assert after0 == [F(1, 6), F(7, 12), F(1, 4)]  # the arithmetic, spelled out
    np.testing.assert_allclose(m.next_distribution([0]), fr(*after0), atol=ROUND_OFF)
    assert m.prob([0], 1) == pytest.approx(7 / 12, abs=ROUND_OFF)
    # start: N(B,0)=1, 1 type -> (1/2 + 1/2 * P0(0)) = 3/4, others 1/2 * P0 = 1/8
    np.testing.assert_allclose(
        m.next_distribution([]), fr(F(3, 4), F(1, 8), F(1, 8)), atol=ROUND_OFF
    )


def test_kneser_ney_estimated_discounts_by_hand():
    m = NGramLM(1, 3).fit(IDS)
    # order 1 bigram counts 1,2,2,1 -> n1=2, n2=2 -> D = 2/(2 + 2*2) = 1/3
    # order 0 continuation counts 2,1,1 -> n1=2, n2=1 -> D = 2/(2 + 2*1) = 1/2
    assert m.discounts == pytest.approx((1 / 2, 1 / 3), abs=ROUND_OFF)


# ------------------------------------------------------------------------ properties

SMOOTHING_KW = [
    dict(smoothing="add-alpha"),
    dict(smoothing="add-alpha", alpha=0.01),
    dict(),
    dict(discount=0.9),
]


@settings(max_examples=60, deadline=None)
@given(
    V=st.integers(1, 6),
    order=st.integers(0, 4),
    kw=st.sampled_from(SMOOTHING_KW),
    data=st.data(),
)
def test_every_next_distribution_sums_to_one(V, order, kw, data):
    ids = data.draw(st.lists(st.integers(0, V - 1), min_size=1, max_size=40))
    context = data.draw(st.lists(st.integers(0, V - 1), max_size=6))
    m = NGramLM(order, V, **kw).fit(ids)
    p = m.next_distribution(context)
    assert p.shape == (V,)
    assert abs(p.sum() - 1) < ROUND_OFF
    assert (p > 0).all()  # both smoothings leave no token impossible
    # the scalar path (used for scoring) agrees with the vectorised one
    np.testing.assert_allclose([m.prob(context, w) for w in range(V)], p, rtol=1e-10)
    # the log-likelihood is the chain rule over prefixes
    expected = sum(math.log(m.prob(ids[:t], ids[t])) for t in range(len(ids)))
    assert m.log_likelihood(ids) == pytest.approx(expected, rel=1e-10)


@pytest.mark.parametrize("kw", SMOOTHING_KW)
def test_all_tokens_equally_frequent_unigram_has_perplexity_V(kw):
    ids = [0, 1, 2, 3] * 5
    assert NGramLM(0, 4, **kw).fit(ids).perplexity(ids) == pytest.approx(
        4, rel=ROUND_OFF
    )


def test_huge_alpha_is_uniform_and_has_perplexity_V():
    m = NGramLM(0, 5, alpha=1e12, smoothing="add-alpha").fit([0, 0, 0, 1])
    # counts of at most 4 against 5e12 pseudo-counts move p by < 1e-12
    assert m.perplexity([0, 4, 4, 2]) == pytest.approx(5, rel=1e-9)


@pytest.mark.parametrize("kw", [dict(smoothing="add-alpha", alpha=0.01), dict()])
def test_training_perplexity_does_not_increase_with_order_on_a_repetitive_sequence(kw):
    ids = [0, 1, 0, 2] * 50
    ppl = [NGramLM(k, 3, **kw).fit(ids).perplexity(ids) for k in range(5)]
    # Beyond k=2 the pattern is already certain; each extra order adds one
    # start-padded context seen only once, which costs ~1e-4 in perplexity under
    # add-alpha (hence 1e-3).
    assert all(b <= a * (1 + 1e-3) for a, b in zip(ppl, ppl[1:])), ppl
    assert ppl[0] > ppl[1] > ppl[2], ppl
    assert ppl[0] == pytest.approx(
        2**1.5, rel=0.02
    )  # P = 1/2, 1/4, 1/4 -> 2**H = 2**1.5
    assert ppl[2] < 1.05  # order 2 sees the whole pattern


def test_add_alpha_validation_perplexity_is_finite_for_unseen_contexts():
    m = NGramLM(2, 3, smoothing="add-alpha").fit([0, 1, 0, 1])
    # trigrams seen: (B,B,0) (B,0,1) (0,1,0) (1,0,1). Scoring 2 2 1 2 0:
    # (B,B)->2: (0+1)/(1+3); then contexts (B,2) (2,2) (2,1) (1,2) are unseen:
    # 1/3 each
    ppl = m.perplexity([2, 2, 1, 2, 0])
    assert math.isfinite(ppl)
    assert ppl == pytest.approx(
        float(F(1, 4) * F(1, 3) ** 4) ** (-1 / 5), rel=ROUND_OFF
    )


@pytest.mark.parametrize("order", [1, 2, 3])
def test_deterministic_cycle_has_perplexity_near_one(order):
    ids = [0, 1, 2] * 100
    tiny = NGramLM(order, 3, alpha=1e-6, smoothing="add-alpha").fit(ids)
    # each context is followed by one token ~100 times: p >= 1 - 3e-6/100 except
    # at the start
    assert tiny.perplexity(ids) < 1.001
    # Kneser-Ney with D <= 1 loses at most D/100 per step:
    # ppl < exp(0.01 + start) < 1.02
    assert NGramLM(order, 3).fit(ids).perplexity(ids) < 1.02


def test_perplexity_table_rows():
    train, valid = [0, 1, 2, 3] * 5, [3, 2, 1, 0]
    rows = perplexity_table(train, valid, [0, 1], 4, smoothing="add-alpha")
    assert [r["order"] for r in rows] == [0, 1]
    assert rows[0]["valid_ppl"] == pytest.approx(
        4, rel=ROUND_OFF
    )  # equal counts -> uniform
    assert rows[0]["num_contexts"] == 1 and rows[0]["possible_contexts"] == 1
    assert (
        rows[1]["num_contexts"] == 5 and rows[1]["possible_contexts"] == 4
    )  # B, 0, 1, 2, 3
    assert rows[1]["train_ppl"] < rows[0]["train_ppl"]


def test_numpy_input_is_accepted():
    ids = np.array(IDS, dtype=np.int32)
    assert add_alpha(ids=ids).prob(np.array([1], dtype=np.uint8), 0) == pytest.approx(
        3 / 5, abs=ROUND_OFF
    )


# ------------------------------------------------------------------------ error paths


@pytest.mark.parametrize(
    "args, kw, exc, match",
    [
        ((-1, 3), {}, ValueError, r"order must be >= 0; got -1"),
        ((1.5, 3), {}, TypeError, r"order must be an int; got float"),
        ((True, 3), {}, TypeError, r"order must be an int"),
        ((1, 0), {}, ValueError, r"vocab_size must be a positive int.*got 0"),
        ((1, "3"), {}, TypeError, r"vocab_size must be a positive int; got str"),
        (
            (1, 3),
            dict(alpha=0, smoothing="add-alpha"),
            ValueError,
            r"alpha must be a finite number > 0; got 0",
        ),
        (
            (1, 3),
            dict(alpha=-1.0, smoothing="add-alpha"),
            ValueError,
            r"alpha must be a finite number > 0",
        ),
        (
            (1, 3),
            dict(alpha=float("nan"), smoothing="add-alpha"),
            ValueError,
            r"alpha must be a finite",
        ),
        (
            (1, 3),
            dict(alpha="1", smoothing="add-alpha"),
            TypeError,
            r"alpha must be a positive number; got str",
        ),
        (
            (1, 3),
            dict(alpha=0.1),
            ValueError,
            r"alpha is only used by smoothing='add-alpha'",
        ),
        (
            (1, 3),
            dict(smoothing="laplace"),
            ValueError,
            r"smoothing must be one of .*'laplace'",
        ),
        (
            (1, 3),
            dict(smoothing="add-alpha", discount=0.5),
            ValueError,
            r"discount is only used by",
        ),
        (
            (1, 3),
            dict(discount=0.0),
            ValueError,
            r"discount must be a float in \(0, 1\]",
        ),
        (
            (1, 3),
            dict(discount=1.5),
            ValueError,
            r"discount must be a float in \(0, 1\]",
        ),
    ],
)
def test_constructor_errors(args, kw, exc, match):
    with pytest.raises(exc, match=match):
        NGramLM(*args, **kw)


@pytest.mark.parametrize(
    "ids, exc, match",
    [
        (
            [],
            ValueError,
            r"ids must contain at least one token id; got an empty sequence",
        ),
        ([0, 31], ValueError, r"token id 31 out of range for vocab_size=28"),
        ([-1, 0], ValueError, r"token id -1 out of range for vocab_size=28"),
        ([[0, 1], [1, 0]], ValueError, r"ids must have shape \(T,\); got \(2, 2\)"),
        ([0.0, 1.0], TypeError, r"ids must be an integer array.*got dtype float64"),
        ("abc", ValueError, r"ids must have shape \(T,\); got \(\)"),
    ],
)
def test_fit_and_scoring_reject_bad_ids(ids, exc, match):
    with pytest.raises(exc, match=match):
        NGramLM(1, 28).fit(ids)
    fitted = NGramLM(1, 28).fit([0, 1, 2])
    with pytest.raises(exc, match=match):
        fitted.log_likelihood(ids)
    with pytest.raises(exc, match=match):
        fitted.perplexity(ids)


@pytest.mark.parametrize(
    "use",
    [
        lambda m: m.prob([0], 1),
        lambda m: m.next_distribution([0]),
        lambda m: m.log_likelihood([0, 1]),
        lambda m: m.perplexity([0, 1]),
        lambda m: m.num_contexts,
    ],
)
def test_using_before_fit_says_call_fit_first(use):
    with pytest.raises(RuntimeError, match=r"call fit\(\) first"):
        use(NGramLM(1, 3))


def test_bad_contexts_and_tokens():
    m = add_alpha()
    with pytest.raises(
        ValueError, match=r"token id 3 out of range for vocab_size=3 .* in token"
    ):
        m.prob([0], 3)
    with pytest.raises(
        ValueError, match=r"token id 9 out of range for vocab_size=3 .* in context"
    ):
        m.next_distribution([0, 9])
    with pytest.raises(ValueError, match=r"context must have shape \(T,\)"):
        m.next_distribution([[0], [1]])
    assert not hasattr(m, "sample")  # one sampling function: rnnkit.sampling.sample


def test_possible_contexts_errors():
    with pytest.raises(ValueError, match=r"order must be >= 0; got -2"):
        possible_contexts(-2, 3)
    with pytest.raises(ValueError, match=r"vocab_size must be a positive int.*got 0"):
        possible_contexts(2, 0)
