"""Tests for rnnkit.lm_train.train_lm: it learns, keeps the trainer contract of
rnnkit.training (history, seed, clip, schedule, progress) and refuses bad options.

Perplexity is tested in test_lm_eval.py, sampling in test_sampling.py, the
presets in test_presets.py and the D2L windows in test_d2l_split.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rnnkit.lm_eval import window_perplexity
from rnnkit.lm_train import train_lm
from rnnkit.rnn_torch import RNNLM
from tests.lm_data import V_PER, periodic, periodic_windows

torch.set_num_threads(1)


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
    # the trainer contract's keys first (rnnkit.training.HISTORY_KEYS), then its own
    assert list(hist) == [
        "step",
        "elapsed_s",
        "train_loss",
        "epoch",
        "tokens",
        "train_ppl",
        "valid_ppl",
        "grad_norm",
        "lr",
    ]
    assert hist["step"] == [15, 30, 40]
    assert hist["tokens"] == [15 * 8 * 12, 30 * 8 * 12, 40 * 8 * 12]
    assert all(len(v) == 3 for v in hist.values())
    assert hist["elapsed_s"] == sorted(hist["elapsed_s"]) and hist["elapsed_s"][0] > 0
    # 700 ids, random offset < 12: 57 or 58 windows of 12 → 7 minibatches of 8 per epoch
    assert hist["epoch"][-1] == pytest.approx(40 / 7)
    assert all(1 < p < 2 * V_PER for p in hist["train_ppl"])
    for loss, ppl in zip(hist["train_loss"], hist["train_ppl"]):
        assert ppl == pytest.approx(math.exp(loss), rel=1e-12)
    assert hist["lr"] == [1e-2] * 3  # constant schedule


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
    """SGD with a tiny clip moves the weights by exactly lr_t * clip per step.

    (The raw gradient norm is far above the clip, so every step is clipped.)
    """
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
    # the history records the learning rate of the last update
    hist = train_lm(
        RNNLM(V_PER, 16, cell="torch"), periodic(700), periodic(200), steps=4, **kw
    )
    assert hist["lr"] == [pytest.approx((1 + math.cos(math.pi * 3 / 4)) / 2)]


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
    with pytest.raises(ValueError, match=r"optimizer must be one of .*got 'rmsprop'"):
        train_lm(model, tr, va, optimizer="rmsprop", **ok)
    with pytest.raises(ValueError, match=r"partition must be one of .*got 'shuffled'"):
        train_lm(model, tr, va, partition="shuffled", **ok)
    with pytest.raises(ValueError, match=r"lr must be a finite number > 0; got -0.1"):
        train_lm(model, tr, va, lr=-0.1, **ok)
    with pytest.raises(ValueError, match=r"clip must be .*> 0, or None .*; got 0"):
        train_lm(model, tr, va, clip=0, **ok)
    with pytest.raises(ValueError, match=r"weight_decay must be a number >= 0; got -1"):
        train_lm(model, tr, va, weight_decay=-1, **ok)
    with pytest.raises(ValueError, match=r"time_budget_s must be .*> 0; got 0"):
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
    with pytest.raises(ValueError, match=r"train_ids must be token ids in \[0, V=5\)"):
        train_lm(model, np.arange(300) % 9, va, **ok)
    with pytest.raises(ValueError, match=r"valid X and Y must have the same shape"):
        train_lm(
            model,
            tr,
            (np.zeros((3, 2), int), np.zeros((3, 3), int)),
            batch_size=4,
            num_steps=5,
            **ok,
        )
    with pytest.raises(ValueError, match=r"lr_schedule must be one of .*got 'step'"):
        train_lm(model, tr, va, lr_schedule="step", **ok)
    with pytest.raises(TypeError, match=r"seed must be an int; got str"):
        train_lm(model, tr, va, seed="0", **ok)
    with pytest.raises(TypeError, match=r"progress must be True .* or False; got int"):
        train_lm(model, tr, va, batch_size=4, num_steps=5, steps=2, progress=1)


def test_progress_bar_does_not_change_the_run(capsys):
    _, quiet = small_run(steps=6, eval_every=3)
    _, shown = small_run(steps=6, eval_every=3, progress=True)
    assert quiet["train_loss"] == shown["train_loss"]
    assert "train_lm" in capsys.readouterr().err  # tqdm writes to stderr
