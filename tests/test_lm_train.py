"""Tests for rnnkit.lm_train: perplexity, the D2L windows, the training loop, sampling.

References are computed here, independently of the code under test: uniform
logits give perplexity exactly V; a stream scored in chunks with the state
carried equals one pass over it; greedy sampling equals an argmax loop that
re-reads the whole prefix at every step.

Tolerances: float64 models are compared to 1e-10 relative (round-off of sums
over a few hundred log-probabilities); float32 ones to 1e-5 relative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.d2l_split import d2l_train_ids, d2l_windows
from rnnkit.lm_train import (
    char_lm_preset,
    evaluate_perplexity,
    sample,
    train_lm,
    window_perplexity,
)
from rnnkit.rnn_torch import RNNLM
from rnnkit.vocab import Vocab, tokenize

torch.set_num_threads(1)

F64 = torch.float64

# a periodic "text": after a few tokens the next one is certain
PATTERN = [0, 1, 2, 3, 4, 2, 1]
V_PER = 5


def periodic(n: int, start: int = 0) -> np.ndarray:
    return np.array(
        [PATTERN[(start + i) % len(PATTERN)] for i in range(n)], dtype=np.int64
    )


def periodic_windows(n: int, T: int, start: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """n windows (X, Y) of shape (n, T) cut from the periodic text, Y shifted by one."""
    starts = range(start, start + n * (T + 1), T + 1)
    return np.stack([periodic(T, s) for s in starts]), np.stack(
        [periodic(T, s + 1) for s in starts]
    )


def uniform_model(V: int, h: int = 4, dtype=F64) -> RNNLM:
    model = RNNLM(V, h, cell="torch", dtype=dtype)
    with torch.no_grad():
        model.W_ho.zero_()
        model.b_o.zero_()
    return model


def nll_of_one_pass(model: RNNLM, ids: np.ndarray) -> tuple[float, int]:
    """Summed NLL of predicting ids[1:] from ids[:-1] in a single forward pass."""
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(ids[None, :-1]))  # (T, 1, V)
        logp = F.log_softmax(logits[:, 0].double(), dim=-1)
        return -logp[
            torch.arange(ids.size - 1), torch.from_numpy(ids[1:])
        ].sum().item(), ids.size - 1


# -- perplexity ------------------------------------------------------------------------
@pytest.mark.parametrize("V", [5, 28])
def test_uniform_model_has_perplexity_V(V):
    ids = np.random.default_rng(0).integers(0, V, 500)
    model = uniform_model(V)
    assert evaluate_perplexity(model, ids, batch_size=4, num_steps=9) == pytest.approx(
        V, rel=1e-12
    )
    X, Y = np.random.default_rng(1).integers(0, V, (2, 10, 6))
    assert window_perplexity(model, X, Y, batch_size=3) == pytest.approx(V, rel=1e-12)
    # float32 too, up to float32 round-off of log(V)
    assert evaluate_perplexity(
        uniform_model(V, dtype=torch.float32), ids
    ) == pytest.approx(V, rel=1e-5)


def test_evaluate_perplexity_carries_state_across_chunks():
    V = 6
    model = RNNLM(V, 5, cell="scratch", seed=2, dtype=F64)
    ids = np.random.default_rng(3).integers(0, V, 101)
    # one stream read 7 tokens at a time == one pass over all 100 predictions
    nll, n = nll_of_one_pass(model, ids)
    assert evaluate_perplexity(model, ids, batch_size=1, num_steps=7) == pytest.approx(
        math.exp(nll / n), rel=1e-10
    )
    # B = 3 streams of L = 33 predictions each: stream b reads ids[33b : 33b + 34]
    total = sum(nll_of_one_pass(model, ids[33 * b : 33 * b + 34])[0] for b in range(3))
    assert evaluate_perplexity(model, ids, batch_size=3, num_steps=10) == pytest.approx(
        math.exp(total / 99), rel=1e-10
    )
    # a short text caps B at N - 1
    short = ids[:3]
    assert evaluate_perplexity(model, short, batch_size=16) == pytest.approx(
        math.exp(
            sum(nll_of_one_pass(model, short[i : i + 2])[0] for i in range(2)) / 2
        ),
        rel=1e-10,
    )


def test_window_perplexity_scores_each_window_from_zero_state():
    V = 6
    model = RNNLM(V, 5, cell="torch", seed=4, dtype=F64)
    g = np.random.default_rng(5)
    X, Y = g.integers(0, V, (7, 4)), g.integers(0, V, (7, 4))
    total = 0.0
    with torch.no_grad():
        for x, y in zip(X, Y):
            logits, _ = model(torch.from_numpy(x[None]))
            total -= (
                F.log_softmax(logits[:, 0], -1)[torch.arange(4), torch.from_numpy(y)]
                .sum()
                .item()
            )
    assert window_perplexity(model, X, Y, batch_size=3) == pytest.approx(
        math.exp(total / 28), rel=1e-10
    )


def test_perplexity_leaves_train_mode_and_grads_alone():
    model = RNNLM(5, 4, cell="torch", dropout=0.3)
    model.train()
    evaluate_perplexity(model, periodic(50))
    assert model.training
    assert all(p.grad is None for p in model.parameters())
    model.eval()
    window_perplexity(model, periodic(12).reshape(2, 6), periodic(12, 1).reshape(2, 6))
    assert not model.training


def test_perplexity_validation():
    model = RNNLM(5, 4)
    with pytest.raises(ValueError, match=r"ids must hold at least 2 tokens .*got 1"):
        evaluate_perplexity(model, [3])
    with pytest.raises(ValueError, match=r"outside \[0, V=5\)"):
        evaluate_perplexity(model, [0, 1, 7, 2])
    with pytest.raises(
        TypeError, match=r"corpus ids must be integers; got dtype float64"
    ):
        evaluate_perplexity(model, np.zeros(10))
    with pytest.raises(
        ValueError, match=r"num_steps must be a positive int \(>= 1\); got 0"
    ):
        evaluate_perplexity(model, periodic(10), num_steps=0)
    with pytest.raises(
        ValueError,
        match=r"X and Y must have the same shape \(N, T\); got \(2, 3\) and \(2, 4\)",
    ):
        window_perplexity(model, np.zeros((2, 3), int), np.zeros((2, 4), int))
    with pytest.raises(ValueError, match=r"Y must have shape \(B, T\); got \(6,\)"):
        window_perplexity(model, np.zeros((2, 3), int), np.zeros(6, int))
    with pytest.raises(
        TypeError, match=r"model must be a language model like rnnkit.rnn_torch.RNNLM"
    ):
        evaluate_perplexity(torch.nn.Linear(2, 2), periodic(10))


# -- D2L windows -------------------------------------------------------------------------
def test_d2l_windows_are_overlapping_and_split_at_the_end():
    N, T, nv = 60, 8, 10
    ids = np.arange(N)
    tX, tY, vX, vY = d2l_windows(ids, T, nv)
    n_train = N - T - nv
    assert tX.shape == tY.shape == (n_train, T) and vX.shape == vY.shape == (nv, T)
    for i in (0, 5, n_train - 1):
        np.testing.assert_array_equal(tX[i], np.arange(i, i + T))
        np.testing.assert_array_equal(tY[i], np.arange(i + 1, i + T + 1))
    np.testing.assert_array_equal(vX[0], np.arange(n_train, n_train + T))
    np.testing.assert_array_equal(
        vY[-1], np.arange(N - T, N)
    )  # last window ends at the last id
    np.testing.assert_array_equal(d2l_train_ids(ids, T, nv), np.arange(n_train + T))
    assert tX.dtype == np.int64


def test_d2l_windows_validation():
    with pytest.raises(
        ValueError,
        match=r"20 ids give 12 windows of 9 tokens; expected more than num_valid=12",
    ):
        d2l_windows(np.arange(20), 8, 12)
    with pytest.raises(ValueError, match=r"num_steps must be >= 1; got 0"):
        d2l_windows(np.arange(20), 0, 5)
    with pytest.raises(TypeError, match=r"num_valid must be an int; got float"):
        d2l_train_ids(np.arange(20), 4, 2.0)


# -- training ------------------------------------------------------------------------------
def small_run(seed: int = 0, model_seed: int = 0, **kw):
    model = RNNLM(V_PER, 16, cell="torch", seed=model_seed)
    args = dict(
        batch_size=8,
        num_steps=12,
        optimizer="adam",
        lr=1e-2,
        steps=40,
        eval_every=15,
        progress=False,
    )
    args.update(kw)
    return model, train_lm(model, periodic(700), periodic(200, 3), seed=seed, **args)


def test_training_learns_a_periodic_sequence():
    model, hist = small_run(steps=300, eval_every=100)
    assert hist["step"] == [100, 200, 300]
    assert hist["valid_ppl"][-1] < 1.3 < V_PER  # uniform guessing would give 5
    assert hist["valid_ppl"][-1] < hist["valid_ppl"][0]
    # the windows measure agrees that it has learned
    X, Y = periodic_windows(20, 10)
    assert window_perplexity(model, X, Y) < 1.6


def test_sequential_partition_with_scratch_cell_learns():
    model = RNNLM(V_PER, 16, cell="scratch", seed=1)
    hist = train_lm(
        model,
        periodic(700),
        periodic(200, 3),
        batch_size=4,
        num_steps=10,
        optimizer="adam",
        lr=1e-2,
        partition="sequential",
        steps=150,
        eval_every=None,
        progress=False,
    )
    assert hist["step"] == [150]
    assert hist["valid_ppl"][-1] < 1.5


def test_history_layout():
    _, hist = small_run(steps=40, eval_every=15)
    assert set(hist) == {
        "step",
        "epoch",
        "elapsed_s",
        "tokens",
        "train_ppl",
        "valid_ppl",
        "grad_norm",
    }
    assert hist["step"] == [15, 30, 40]
    assert hist["tokens"] == [15 * 8 * 12, 30 * 8 * 12, 40 * 8 * 12]
    assert all(len(v) == 3 for v in hist.values())
    assert hist["elapsed_s"] == sorted(hist["elapsed_s"]) and hist["elapsed_s"][0] > 0
    # 700 ids, random offset < 12: 57 or 58 windows of 12 → 7 minibatches of 8 per epoch
    assert hist["epoch"][-1] == pytest.approx(40 / 7)
    assert all(1 < p < 2 * V_PER for p in hist["train_ppl"])


def test_same_seed_same_history_different_seed_different():
    _, a = small_run(seed=0)
    _, b = small_run(seed=0)
    _, c = small_run(seed=1)
    for k in a:
        if k != "elapsed_s":
            assert a[k] == b[k], k
    assert a["train_ppl"] != c["train_ppl"]
    # dropout draws come from the seeded (forked) torch RNG: still reproducible
    before = torch.get_rng_state()
    m1 = RNNLM(V_PER, 16, cell="torch", dropout=0.3)
    m2 = RNNLM(V_PER, 16, cell="torch", dropout=0.3)
    kw = dict(
        batch_size=8, num_steps=12, steps=20, eval_every=None, progress=False, seed=5
    )
    h1 = train_lm(m1, periodic(700), periodic(200), **kw)
    h2 = train_lm(m2, periodic(700), periodic(200), **kw)
    assert h1["train_ppl"] == h2["train_ppl"] and h1["valid_ppl"] == h2["valid_ppl"]
    assert torch.equal(torch.get_rng_state(), before), (
        "train_lm must not change the global torch RNG"
    )


def test_grad_norm_is_recorded_before_clipping_and_clipping_limits_the_step():
    model, hist = small_run(steps=5, eval_every=1, optimizer="sgd", lr=1.0, clip=1e-3)
    assert min(hist["grad_norm"]) > 1e-2  # the raw norm, far above the clip threshold
    # with clip=1e-3 and lr=1, plain SGD moves the weights by at most 1e-3 per step
    before = [p.detach().clone() for p in model.parameters()]
    train_lm(
        model,
        periodic(700),
        periodic(200),
        batch_size=8,
        num_steps=12,
        optimizer="sgd",
        lr=1.0,
        clip=1e-3,
        steps=1,
        progress=False,
    )
    moved = torch.sqrt(
        sum(((p - q) ** 2).sum() for p, q in zip(model.parameters(), before))
    )
    assert 0 < moved.item() <= 1e-3 * (1 + 1e-5)


def test_cosine_schedule_halves_the_lr_halfway():
    """SGD with a tiny clip moves the weights by exactly lr_t * clip per step (raw norm >> clip)."""
    kw = dict(
        batch_size=8,
        num_steps=12,
        optimizer="sgd",
        lr=1.0,
        clip=1e-3,
        lr_schedule="cosine",
        eval_every=None,
        progress=False,
        seed=3,
    )
    one, two = RNNLM(V_PER, 16, cell="torch"), RNNLM(V_PER, 16, cell="torch")
    start = [p.detach().clone() for p in one.parameters()]
    train_lm(one, periodic(700), periodic(200), steps=1, **kw)  # step 1 of 1: lr_0 = lr
    train_lm(
        two, periodic(700), periodic(200), steps=2, **kw
    )  # steps 1, 2 of 2: lr, lr * (1 + cos(pi/2)) / 2

    def dist(a, b):
        return torch.sqrt(sum(((p - q) ** 2).sum() for p, q in zip(a, b))).item()

    assert dist(one.parameters(), start) == pytest.approx(1e-3, rel=1e-4)
    assert dist(two.parameters(), one.parameters()) == pytest.approx(0.5e-3, rel=1e-4)


def test_diverging_training_stops_with_a_clear_error():
    model = RNNLM(V_PER, 16, cell="torch", activation="relu")
    with pytest.raises(
        FloatingPointError,
        match=r"the training loss became (nan|inf) at step \d+; lower lr",
    ):
        train_lm(
            model,
            periodic(700),
            periodic(200),
            batch_size=8,
            num_steps=12,
            optimizer="sgd",
            lr=1e6,
            clip=None,
            steps=50,
            progress=False,
        )


def test_epochs_and_time_budget():
    _, hist = small_run(steps=None, epochs=2, eval_every=None)
    assert hist["epoch"] == [2.0]
    _, hist = small_run(steps=None, time_budget_s=0.2, eval_every=None)
    assert hist["elapsed_s"][-1] >= 0.2
    assert len(hist["step"]) == 1


def test_valid_windows_are_accepted():
    X, Y = periodic_windows(20, 10)
    model = RNNLM(V_PER, 8, cell="torch")
    hist = train_lm(
        model,
        periodic(700),
        (X, Y),
        batch_size=8,
        num_steps=12,
        steps=3,
        progress=False,
    )
    assert hist["valid_ppl"][-1] == pytest.approx(
        window_perplexity(model, X, Y), rel=1e-6
    )


def test_train_lm_validation():
    model = RNNLM(V_PER, 4, cell="torch")
    tr, va = periodic(300), periodic(50)
    ok = dict(steps=2, progress=False)
    with pytest.raises(
        ValueError, match=r"give exactly one of epochs, steps, time_budget_s; got none"
    ):
        train_lm(model, tr, va, progress=False)
    with pytest.raises(ValueError, match=r"got \['epochs', 'steps'\]"):
        train_lm(model, tr, va, epochs=1, steps=3)
    with pytest.raises(
        ValueError, match=r"optimizer must be 'sgd' or 'adam'; got 'rmsprop'"
    ):
        train_lm(model, tr, va, optimizer="rmsprop", **ok)
    with pytest.raises(
        ValueError, match=r"partition must be 'random' or 'sequential'; got 'shuffled'"
    ):
        train_lm(model, tr, va, partition="shuffled", **ok)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0; got -0.1"):
        train_lm(model, tr, va, lr=-0.1, **ok)
    with pytest.raises(
        ValueError, match=r"clip must be a number > 0, or None to not clip; got 0"
    ):
        train_lm(model, tr, va, clip=0, **ok)
    with pytest.raises(ValueError, match=r"weight_decay must be a number >= 0; got -1"):
        train_lm(model, tr, va, weight_decay=-1, **ok)
    with pytest.raises(
        ValueError, match=r"time_budget_s must be a number of seconds > 0; got 0"
    ):
        train_lm(model, tr, va, time_budget_s=0, progress=False)
    with pytest.raises(
        ValueError, match=r"steps must be a positive int \(>= 1\); got 0"
    ):
        train_lm(model, tr, va, steps=0)
    with pytest.raises(
        ValueError,
        match=r"train_ids \(300 tokens\) are too short for one minibatch of "
        r"batch_size=32 × num_steps=35",
    ):
        train_lm(model, tr, va, batch_size=32, **ok)
    with pytest.raises(
        ValueError, match=r"train_ids holds token ids outside \[0, V=5\)"
    ):
        train_lm(model, np.arange(300) % 9, va, **ok)
    with pytest.raises(ValueError, match=r"valid X and Y must have the same shape"):
        train_lm(
            model,
            tr,
            (np.zeros((2, 3), int), np.zeros((3, 3), int)),
            batch_size=4,
            num_steps=5,
            **ok,
        )
    with pytest.raises(
        ValueError, match=r"lr_schedule must be 'constant' or 'cosine'; got 'step'"
    ):
        train_lm(model, tr, va, lr_schedule="step", **ok)
    with pytest.raises(TypeError, match=r"seed must be an int; got str"):
        train_lm(model, tr, va, seed="0", **ok)


# -- sampling ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def char_setup():
    vocab = Vocab(tokenize("abcde"), reserved=("<unk>",))  # <unk>=0, then a..e
    text = "abcdeedcba" * 60
    ids = np.array(vocab.encode(tokenize(text)))
    model = RNNLM(len(vocab), 24, cell="torch", seed=0)
    train_lm(
        model,
        ids,
        ids[:200],
        batch_size=8,
        num_steps=20,
        optimizer="adam",
        lr=1e-2,
        steps=200,
        progress=False,
    )
    return model, vocab


def greedy_reference(model: RNNLM, vocab: Vocab, prompt: str, length: int) -> str:
    """Argmax decoding that re-reads the whole prefix at every step (no state carried)."""
    seq = vocab.encode(list(prompt))
    with torch.no_grad():
        for _ in range(length):
            logits, _ = model(torch.tensor([seq]))
            seq.append(int(logits[-1, 0].argmax()))
    return vocab.to_text(seq)


def test_temperature_zero_is_greedy(char_setup):
    model, vocab = char_setup
    out = sample(model, vocab, "abc", 25, temperature=0)
    assert out == greedy_reference(model, vocab, "abc", 25)
    assert out.startswith("abcdeedcba")  # it learned the pattern
    untrained = RNNLM(len(vocab), 8, seed=3)
    assert sample(untrained, vocab, "ed", 15, temperature=0.0) == greedy_reference(
        untrained, vocab, "ed", 15
    )


def test_sampling_is_deterministic_per_seed(char_setup):
    model, vocab = char_setup
    hot = dict(temperature=5.0, length=60)
    a = sample(model, vocab, "ab", seed=0, **hot)
    assert a == sample(model, vocab, "ab", seed=0, **hot)
    assert a != sample(model, vocab, "ab", seed=1, **hot)
    assert (
        a.startswith("ab") and len(a.replace("<unk>", "?")) == 62
    )  # reserved tokens may be drawn too
    assert sample(model, vocab, "ab", 0) == "ab"
    # a low temperature approaches greedy
    assert sample(model, vocab, "abc", 25, temperature=1e-3, seed=4) == sample(
        model, vocab, "abc", 25, temperature=0
    )


def test_sample_word_level():
    vocab = Vocab(tokenize("to be or not to be", "word"), reserved=("<unk>",))
    model = RNNLM(len(vocab), 8, seed=0)
    out = sample(model, vocab, "to be", 4, level="word", temperature=0)
    words = out.split(" ")
    assert words[:2] == ["to", "be"] and len(words) == 6
    assert out == " ".join(greedy_reference_words(model, vocab, ["to", "be"], 4))


def greedy_reference_words(model, vocab, prompt_words, length):
    seq = vocab.encode(prompt_words)
    with torch.no_grad():
        for _ in range(length):
            logits, _ = model(torch.tensor([seq]))
            seq.append(int(logits[-1, 0].argmax()))
    return vocab.decode(seq)


def test_sample_validation(char_setup):
    model, vocab = char_setup
    with pytest.raises(
        ValueError,
        match=r"temperature must be a finite number >= 0 \(0 = greedy\); got -0.5",
    ):
        sample(model, vocab, "ab", 5, temperature=-0.5)
    with pytest.raises(
        ValueError,
        match=r"temperature must be a finite number >= 0 \(0 = greedy\); got nan",
    ):
        sample(model, vocab, "ab", 5, temperature=float("nan"))
    with pytest.raises(
        ValueError,
        match=r"prompt character 'Q' at position 2 is not in the vocabulary of 6 tokens",
    ):
        sample(model, vocab, "abQ", 5)
    with pytest.raises(ValueError, match=r"prompt character ' ' at position 1"):
        sample(model, vocab, "a b", 5)
    with pytest.raises(ValueError, match=r"length must be >= 0; got -1"):
        sample(model, vocab, "ab", -1)
    with pytest.raises(TypeError, match=r"length must be an int >= 0; got float"):
        sample(model, vocab, "ab", 2.0)
    with pytest.raises(ValueError, match=r"prompt must contain at least one token"):
        sample(model, vocab, "", 5)
    with pytest.raises(ValueError, match=r"level must be 'char' or 'word'; got 'byte'"):
        sample(model, vocab, "ab", 5, level="byte")
    with pytest.raises(
        ValueError, match=r"vocab has 3 tokens but the model predicts V=6"
    ):
        sample(model, Vocab(list("ab"), reserved=("<unk>",)), "ab", 5)
    with pytest.raises(TypeError, match=r"prompt must be a str; got list"):
        sample(model, vocab, ["a"], 5)
    with pytest.raises(TypeError, match=r"vocab must be an rnnkit Vocab; got dict"):
        sample(model, {}, "ab", 5)


# -- presets --------------------------------------------------------------------------------------
def test_presets_are_fresh_copies_and_build():
    p = char_lm_preset("fast")
    assert set(p) == {"model", "train"}
    assert p["train"]["steps"] > 0 and "time_budget_s" not in p["train"]
    p["train"]["steps"] = -1
    assert char_lm_preset("fast")["train"]["steps"] > 0
    model = RNNLM(28, **p["model"])
    assert model.activation == "tanh"  # a vanilla RNN, no gates
    with pytest.raises(
        ValueError, match=r"name must be one of 'fast', '60s'; got 'huge'"
    ):
        char_lm_preset("huge")
