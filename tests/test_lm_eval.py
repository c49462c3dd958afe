"""Tests for rnnkit.lm_eval: perplexity of a model on held-out text, two ways.

References are computed here, independently of the code under test: uniform
logits give perplexity exactly V; a stream scored in chunks with the state
carried equals one pass over it; windows scored together equal windows scored
one by one.

Tolerances: float64 models are compared to 1e-10 relative (round-off of sums
over a few hundred log-probabilities); float32 ones to 1e-5 relative.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnnkit.lm_eval import evaluate_perplexity, window_perplexity
from rnnkit.rnn_torch import RNNLM
from tests.lm_data import periodic

torch.set_num_threads(1)

F64 = torch.float64


def uniform_model(V: int, h: int = 4, dtype=F64) -> RNNLM:
    model = RNNLM(V, h, cell="torch", dtype=dtype)
    with torch.no_grad():
        model.W_ho.zero_()
        model.b_o.zero_()
    return model


def nll_of_one_pass(model: RNNLM, ids: np.ndarray) -> tuple[float, int]:
    """Summed NLL of predicting ids[1:] from ids[:-1] in a single forward pass."""
    with torch.no_grad():
        logits, _ = model(torch.from_numpy(ids[:-1, None]))  # (T, 1, V)
        logp = F.log_softmax(logits[:, 0].double(), dim=-1)
        targets = torch.from_numpy(ids[1:])
        return -logp[torch.arange(ids.size - 1), targets].sum().item(), ids.size - 1


@pytest.mark.parametrize("V", [5, 28])
def test_uniform_model_has_perplexity_V(V):
    ids = np.random.default_rng(0).integers(0, V, 500)
    model = uniform_model(V)
    ppl = evaluate_perplexity(model, ids, batch_size=4, num_steps=9)
    assert ppl == pytest.approx(V, rel=1e-12)
    X, Y = np.random.default_rng(1).integers(0, V, (2, 6, 10))  # (T, N) windows
    assert window_perplexity(model, X, Y, batch_size=3) == pytest.approx(V, rel=1e-12)
    # float32 too, up to float32 round-off of log(V)
    model32 = uniform_model(V, dtype=torch.float32)
    assert evaluate_perplexity(model32, ids) == pytest.approx(V, rel=1e-5)


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
    pairs = sum(nll_of_one_pass(model, short[i : i + 2])[0] for i in range(2))
    assert evaluate_perplexity(model, short, batch_size=16) == pytest.approx(
        math.exp(pairs / 2), rel=1e-10
    )


def test_window_perplexity_scores_each_window_from_zero_state():
    V = 6
    model = RNNLM(V, 5, cell="torch", seed=4, dtype=F64)
    g = np.random.default_rng(5)
    X, Y = g.integers(0, V, (4, 7)), g.integers(0, V, (4, 7))  # 7 windows of 4
    total = 0.0
    with torch.no_grad():
        for n in range(7):
            logits, _ = model(torch.from_numpy(X[:, n : n + 1]))  # (4, 1, V)
            logp = F.log_softmax(logits[:, 0], -1)
            total -= logp[torch.arange(4), torch.from_numpy(Y[:, n])].sum().item()
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
    window_perplexity(model, periodic(12).reshape(6, 2), periodic(12, 1).reshape(6, 2))
    assert not model.training


def test_perplexity_validation():
    model = RNNLM(5, 4)
    with pytest.raises(ValueError, match=r"ids must hold at least 2 tokens .*got 1"):
        evaluate_perplexity(model, [3])
    with pytest.raises(ValueError, match=r"token ids in \[0, V=5\)"):
        evaluate_perplexity(model, [0, 1, 7, 2])
    with pytest.raises(TypeError, match=r"corpus ids must be integers"):
        evaluate_perplexity(model, np.zeros(10))
    with pytest.raises(ValueError, match=r"num_steps must be a positive int"):
        evaluate_perplexity(model, periodic(10), num_steps=0)
    with pytest.raises(
        ValueError, match=r"X and Y must have the same shape \(T, N\); got \(3, 2\)"
    ):
        window_perplexity(model, np.zeros((3, 2), int), np.zeros((4, 2), int))
    with pytest.raises(ValueError, match=r"Y must have shape \(T, B\); got \(6,\)"):
        window_perplexity(model, np.zeros((3, 2), int), np.zeros(6, int))
    with pytest.raises(ValueError, match=r"X is empty"):
        window_perplexity(model, np.zeros((3, 0), int), np.zeros((3, 0), int))
    with pytest.raises(TypeError, match=r"model must be a language model like .*RNNLM"):
        evaluate_perplexity(torch.nn.Linear(2, 2), periodic(10))
