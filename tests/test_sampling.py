"""Tests for rnnkit.sampling.sample: one sampling function for n-grams and RNNs.

References are computed here, independently of the code under test: greedy
decoding of a network equals an argmax loop that re-reads the whole prefix at
every step (so carrying the state is checked too); a cycle learned by an n-gram
model is reproduced exactly; draw frequencies match probabilities worked out by
hand (n-gram) or read off the model's logits (network), at temperature 1 and
below. Frequency tolerances are 6 binomial standard deviations.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.batching import random_batches
from rnnkit.markov import NGramLM
from rnnkit.rnn_torch import RNNLM
from rnnkit.sampling import sample
from rnnkit.vocab import Vocab, tokenize

torch.set_num_threads(1)


def binomial_tolerance(p: float, n: int) -> float:
    return 6 * (p * (1 - p) / n) ** 0.5


# -- torch language models ---------------------------------------------------------
@pytest.fixture(scope="module")
def char_setup():
    """A small RNNLM that has learned the text "abcdeedcba" repeated."""
    vocab = Vocab(tokenize("abcde"), reserved=("<unk>",))  # <unk>=0, then a..e
    ids = np.array(vocab.encode(tokenize("abcdeedcba" * 60)))
    model = RNNLM(len(vocab), 24, cell="torch", seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    step, epoch = 0, 0
    while step < 200:
        for X, Y in random_batches(ids, 8, 20, seed=epoch):  # (T, B) each
            logits, _ = model(torch.from_numpy(X))  # (T, B, V)
            loss = F.cross_entropy(
                logits.reshape(-1, len(vocab)), torch.from_numpy(Y).reshape(-1)
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
        epoch += 1
    return model, vocab


def greedy_reference(model: RNNLM, vocab: Vocab, tokens: list[str], length: int):
    """Argmax decoding that re-reads the whole prefix at every step (no state kept)."""
    seq = vocab.encode(tokens)
    with torch.no_grad():
        for _ in range(length):
            logits, _ = model(torch.tensor(seq)[:, None])  # (P, 1) -> (P, 1, V)
            seq.append(int(logits[-1, 0].argmax()))
    return vocab.decode(seq)


def test_temperature_zero_is_greedy(char_setup):
    model, vocab = char_setup
    out = sample(model, vocab, "abc", 25, temperature=0)
    assert out == "".join(greedy_reference(model, vocab, list("abc"), 25))
    assert out.startswith("abcdeedcba")  # it learned the pattern
    untrained = RNNLM(len(vocab), 8, seed=3)
    assert sample(untrained, vocab, "ed", 15, temperature=0.0) == "".join(
        greedy_reference(untrained, vocab, list("ed"), 15)
    )


def test_sampling_is_deterministic_per_seed(char_setup):
    model, vocab = char_setup
    hot = dict(temperature=5.0, length=60)
    a = sample(model, vocab, "ab", seed=0, **hot)
    assert a == sample(model, vocab, "ab", seed=0, **hot)
    assert a != sample(model, vocab, "ab", seed=1, **hot)
    assert a == sample(model, vocab, "ab", seed=np.random.default_rng(0), **hot)
    assert (
        a.startswith("ab") and len(a.replace("<unk>", "?")) == 62
    )  # reserved tokens may be drawn too
    assert sample(model, vocab, "ab", 0) == "ab"
    # a low temperature approaches greedy
    assert sample(model, vocab, "abc", 25, temperature=1e-3, seed=4) == sample(
        model, vocab, "abc", 25, temperature=0
    )


def test_a_shared_generator_draws_on():
    vocab = Vocab(tokenize("abcde"), reserved=("<unk>",))
    model = RNNLM(len(vocab), 8, seed=1)
    g = np.random.default_rng(5)
    first = sample(model, vocab, "ab", 40, temperature=3.0, seed=g)
    second = sample(model, vocab, "ab", 40, temperature=3.0, seed=g)
    assert first != second
    assert first == sample(model, vocab, "ab", 40, temperature=3.0, seed=5)


@pytest.mark.parametrize("tau", [1.0, 0.5])
def test_rnn_draws_follow_softmax_of_logits_over_tau(tau):
    vocab = Vocab(tokenize("abcde"), reserved=("<unk>",))
    model = RNNLM(len(vocab), 8, seed=2, dtype=torch.float64)
    with torch.no_grad():
        model.b_o.copy_(torch.tensor([0.0, 1.0, -1.0, 0.5, 0.0, 2.0]))
        logits, _ = model(torch.tensor(vocab.encode(list("abd")))[:, None])
    p = torch.softmax(logits[-1, 0] / tau, dim=-1).numpy()  # (V,)
    g, n = np.random.default_rng(0), 3000
    draws = [
        sample(model, vocab, "abd", 1, temperature=tau, seed=g)[-1] for _ in range(n)
    ]
    for i, tok in enumerate(vocab.idx_to_token[1:], start=1):  # <unk> prints 5 chars
        freq = draws.count(tok) / n
        assert abs(freq - p[i]) < binomial_tolerance(p[i], n), (tok, freq, p[i])


def test_sample_word_level():
    vocab = Vocab(tokenize("to be or not to be", "word"), reserved=("<unk>",))
    model = RNNLM(len(vocab), 8, seed=0)
    out = sample(model, vocab, "to be", 4, level="word", temperature=0)
    words = out.split(" ")
    assert words[:2] == ["to", "be"] and len(words) == 6
    assert words == greedy_reference(model, vocab, ["to", "be"], 4)


def test_model_mode_is_restored(char_setup):
    model, vocab = char_setup
    model.train()
    sample(model, vocab, "ab", 5)
    assert model.training
    model.eval()
    sample(model, vocab, "ab", 5)
    assert not model.training


# -- n-gram models -----------------------------------------------------------------
ABC = Vocab(list("abc"), reserved=())  # a=0, b=1, c=2


def test_ngram_same_seed_same_sample_and_generator_accepted():
    vocab = Vocab(list("abcde"), reserved=())
    m = NGramLM(2, 5).fit([0, 1, 2, 3, 4, 1, 1, 3, 0, 2] * 3)
    a = sample(m, vocab, "", 50, seed=7)
    assert a == sample(m, vocab, "", 50, seed=7)
    assert a == sample(m, vocab, "", 50, seed=np.random.default_rng(7))
    assert a != sample(m, vocab, "", 50, seed=8)  # 50 draws from a non-degenerate model
    assert len(a) == 50
    assert sample(m, vocab, "", 0) == "" and sample(m, vocab, "cab", 0) == "cab"


def test_ngram_samples_from_a_cycle_reproduce_the_cycle():
    m = NGramLM(1, 3, alpha=1e-9, smoothing="add-alpha").fit([0, 1, 2] * 50)
    assert sample(m, ABC, "a", 30) == "a" + "bca" * 10
    assert sample(m, ABC, "ccb", 6) == "ccb" + "cabcab"  # only the last id matters
    # from start padding: (B) was followed by a
    assert sample(m, ABC, "", 6) == "abcabc"
    assert sample(m, ABC, "", 6, temperature=0) == "abcabc"  # greedy agrees


@pytest.mark.parametrize("tau, p_a", [(1.0, 2 / 3), (0.5, 4 / 5)])
def test_ngram_frequencies_match_hand_probabilities(tau, p_a):
    vocab = Vocab(list("aab"), reserved=())  # a=0, b=1
    m = NGramLM(0, 2, smoothing="add-alpha").fit([0, 0, 0, 1])
    # P(a) = (3+1)/(4+2) = 2/3, P(b) = 1/3; at tau = 0.5: (2/3)^2 : (1/3)^2 = 4 : 1
    n = 20000
    draws = sample(m, vocab, "", n, seed=3, temperature=tau)
    assert abs(draws.count("a") / n - p_a) < binomial_tolerance(p_a, n)
    assert sample(m, vocab, "b", 10, temperature=0) == "b" + "a" * 10


def test_ngram_word_level():
    words = tokenize("to be or not to be", "word")
    vocab = Vocab(words, reserved=())
    m = NGramLM(1, len(vocab), alpha=1e-9, smoothing="add-alpha").fit(
        vocab.encode(words)
    )
    assert sample(m, vocab, "or", 3, level="word", temperature=0) == "or not to be"


def test_ngram_unfitted_and_bad_prompt():
    with pytest.raises(RuntimeError, match=r"call fit\(\) first"):
        sample(NGramLM(1, 3), ABC, "ab", 5)
    m = NGramLM(1, 3).fit([0, 1, 2])
    with pytest.raises(ValueError, match=r"prompt character 'd' at position 1"):
        sample(m, ABC, "ad", 4)
    with pytest.raises(
        ValueError, match=r"vocab has 3 tokens but the model predicts V=4"
    ):
        sample(NGramLM(1, 4).fit([0, 3]), ABC, "a", 4)


# -- validation --------------------------------------------------------------------
def test_sample_validation(char_setup):
    model, vocab = char_setup
    with pytest.raises(
        ValueError,
        match=r"temperature must be a finite number >= 0 \(0 = greedy\); got -0.5",
    ):
        sample(model, vocab, "ab", 5, temperature=-0.5)
    with pytest.raises(ValueError, match=r"temperature must be a finite .*got nan"):
        sample(model, vocab, "ab", 5, temperature=float("nan"))
    with pytest.raises(TypeError, match=r"temperature must be a number >= 0; got str"):
        sample(model, vocab, "ab", 5, temperature="1")
    with pytest.raises(
        ValueError,
        match=r"prompt character 'Q' at position 2 is not in the vocabulary of 6",
    ):
        sample(model, vocab, "abQ", 5)
    with pytest.raises(ValueError, match=r"prompt character ' ' at position 1"):
        sample(model, vocab, "a b", 5)
    with pytest.raises(ValueError, match=r"length must be >= 0; got -1"):
        sample(model, vocab, "ab", -1)
    with pytest.raises(TypeError, match=r"length must be an int; got float"):
        sample(model, vocab, "ab", 2.0)
    with pytest.raises(ValueError, match=r"prompt must contain at least one token"):
        sample(model, vocab, "", 5)
    with pytest.raises(ValueError, match=r"level must be one of .*; got 'byte'"):
        sample(model, vocab, "ab", 5, level="byte")
    with pytest.raises(
        ValueError, match=r"vocab has 3 tokens but the model predicts V=6"
    ):
        sample(model, Vocab(list("ab"), reserved=("<unk>",)), "ab", 5)
    with pytest.raises(TypeError, match=r"prompt must be a str; got list"):
        sample(model, vocab, ["a"], 5)
    with pytest.raises(TypeError, match=r"vocab must be an rnnkit Vocab; got dict"):
        sample(model, {}, "ab", 5)
    with pytest.raises(TypeError, match=r"seed must be an int; got str"):
        sample(model, vocab, "ab", 5, seed="0")
    for bad in (torch.nn.Linear(2, 2), "model"):
        with pytest.raises(
            TypeError,
            match=r"model must be an rnnkit.markov.NGramLM or a torch language model",
        ):
            sample(bad, vocab, "ab", 5)
