"""rnnkit.markers: the marker task, its models and its trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit.markers import (
    MarkerRNN,
    WindowMLP,
    marker_accuracy,
    marker_batch,
    train_marker_model,
)

V, K = 6, 3  # text vocabulary, markers
TEXT = np.random.default_rng(0).integers(0, V, size=500)  # (N,) ids


# -- marker_batch --------------------------------------------------------------------
def test_marker_batch_layout_marker_first_then_a_slice_of_the_text():
    X, y = marker_batch(TEXT, V, 7, 5, n_markers=K, seed=0)
    assert X.shape == (8, 5) and y.shape == (5,)
    assert X.dtype == torch.int64 and y.dtype == torch.int64
    assert ((y >= 0) & (y < K)).all()
    assert (X[0] == V + y).all()
    text = "".join(map(str, TEXT))  # V < 10: one digit per id
    for b in range(5):
        piece = "".join(str(int(i)) for i in X[1:, b])
        assert len(piece) == 7 and piece in text  # consecutive tokens of the text


def test_marker_batch_is_seeded_and_a_generator_shares_one_stream():
    a = marker_batch(TEXT, V, 4, 6, n_markers=K, seed=3)
    b = marker_batch(TEXT, V, 4, 6, n_markers=K, seed=3)
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    gen = torch.Generator().manual_seed(3)
    first = marker_batch(TEXT, V, 4, 6, n_markers=K, seed=gen)
    second = marker_batch(TEXT, V, 4, 6, n_markers=K, seed=gen)
    assert torch.equal(first[0], a[0])  # the same start as the int seed
    assert not torch.equal(first[0], second[0])  # and then the stream moves on


def test_marker_batch_draws_every_marker_about_equally_often():
    _, y = marker_batch(TEXT, V, 2, 6000, n_markers=K, seed=1)
    counts = np.bincount(y.numpy(), minlength=K)
    assert (np.abs(counts - 2000) < 150).all()  # ~4.5 sd of a binomial(6000, 1/3)


def test_marker_batch_accepts_a_torch_text_and_a_lag_up_to_len_minus_one():
    X, _ = marker_batch(torch.from_numpy(TEXT[:10]), V, 9, 3, n_markers=K)
    assert torch.equal(X[1:, 0], torch.from_numpy(TEXT[:9]))  # the only start


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(lag=10), ValueError, "text must hold at least lag + 1 = 11"),
        (dict(lag=0), ValueError, "lag"),
        (dict(n_markers=1), ValueError, "n_markers must be >= 2"),
        (dict(vocab_size=3), ValueError, "text must be token ids in [0, V=3)"),
        (dict(text=TEXT[:10].astype(float)), TypeError, "text"),
        (dict(text=TEXT[:10].reshape(2, 5)), ValueError, "text must have shape (N,)"),
        (dict(seed=-1), ValueError, "seed"),
    ],
)
def test_marker_batch_names_the_bad_argument(kwargs, error, words):
    args = dict(text=TEXT[:10], vocab_size=V, lag=3, batch_size=2, n_markers=K)
    args.update(kwargs)
    with pytest.raises(error) as info:
        marker_batch(**args)
    assert words in str(info.value)


# -- the models ----------------------------------------------------------------------
def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("cell, gates", [("rnn", 1), ("gru", 3), ("lstm", 4)])
def test_marker_rnn_scores_from_the_last_state_and_counts_its_weights(cell, gates):
    h, d = 5, V + K
    model = MarkerRNN(V, K, h, cell=cell, seed=0)
    X, _ = marker_batch(TEXT, V, 4, 3, n_markers=K)
    assert model(X).shape == (3, K)
    # each gate: W_ih (h, d), W_hh (h, h), two biases (h,); read-out (K, h) + (K,)
    assert _count(model) == gates * h * (d + h + 2) + K * (h + 1)
    # the same seed, the same weights
    again = MarkerRNN(V, K, h, cell=cell, seed=0)
    assert all(
        torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters())
    )


def test_marker_rnn_reads_the_sequence_in_order():
    model = MarkerRNN(V, K, 5, cell="gru", seed=0)
    X, _ = marker_batch(TEXT, V, 4, 2, n_markers=K)
    assert not torch.allclose(model(X), model(X.flip(0)))


def test_marker_rnn_initialisations():
    W = MarkerRNN(V, K, 6, init="orthogonal").rnn.weight_hh_l0.detach()
    torch.testing.assert_close(W.T @ W, torch.eye(6), rtol=0, atol=1e-5)
    irnn = MarkerRNN(V, K, 6, nonlinearity="relu", init="identity").rnn
    assert torch.equal(irnn.weight_hh_l0, torch.eye(6))
    assert not irnn.bias_ih_l0.any() and not irnn.bias_hh_l0.any()
    assert irnn.nonlinearity == "relu"


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_keep_bias_raises_only_the_keep_gate_bias(cell):
    h = 4
    plain = MarkerRNN(V, K, h, cell=cell, seed=2).rnn.bias_ih_l0.detach()
    kept = MarkerRNN(V, K, h, cell=cell, keep_bias=3.0, seed=2).rnn.bias_ih_l0.detach()
    diff = kept - plain
    # torch's gate order: GRU (r, z, n), LSTM (i, f, g, o); the second block keeps
    expected = torch.zeros_like(diff)
    expected[h : 2 * h] = 3.0
    torch.testing.assert_close(diff, expected, rtol=0, atol=1e-6)


def test_a_gru_with_its_update_gate_shut_keeps_its_state():
    # z = sigmoid(50) = 1 in float32: h_t = h_{t-1} = 0, so the scores are the
    # read-out's bias for any input
    model = MarkerRNN(V, K, 4, cell="gru", keep_bias=50.0)
    X, _ = marker_batch(TEXT, V, 6, 3, n_markers=K)
    torch.testing.assert_close(
        model(X), model.out.bias.detach().expand(3, K), rtol=0, atol=1e-6
    )


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(cell="gru", nonlinearity="relu"), "nonlinearity applies to cell='rnn'"),
        (dict(cell="lstm", init="orthogonal"), "init='orthogonal' is for cell='rnn'"),
        (dict(keep_bias=1.0), "keep_bias is for the gated cells"),
        (dict(cell="transformer"), "cell"),
    ],
)
def test_marker_rnn_refuses_options_that_do_not_fit_the_cell(kwargs, words):
    with pytest.raises(ValueError) as info:
        MarkerRNN(V, K, 4, **kwargs)
    assert words in str(info.value)


def test_models_refuse_ids_outside_their_symbols_and_non_id_input():
    for model in (MarkerRNN(V, K, 4), WindowMLP(V, K, 3, 4)):
        with pytest.raises(ValueError, match="X must be token ids in"):
            model(torch.full((3, 2), V + K))
        with pytest.raises(TypeError, match="X must hold integer token ids"):
            model(torch.zeros(3, 2))
        with pytest.raises(ValueError, match=r"X\[:, None\]"):
            model(torch.zeros(3, dtype=torch.long))


def test_window_mlp_sees_exactly_its_window():
    W = 3
    model = WindowMLP(V, K, W, 8, seed=0)
    X, _ = marker_batch(TEXT, V, 6, 4, n_markers=K, seed=0)  # (7, 4)
    before = X.clone()
    before[:-W] = (before[:-W] + 1) % V  # change everything before the window
    torch.testing.assert_close(model(X), model(before), rtol=0, atol=0)
    inside = X.clone()
    inside[-W] = V + (inside[-W] + 1) % K  # the oldest symbol inside the window
    assert not torch.allclose(model(X), model(inside))
    assert _count(model) == W * (V + K) * 8 + 8 + K * 8 + K


def test_window_mlp_pads_a_short_sequence_with_zero_vectors():
    model = WindowMLP(V, K, 4, 5, seed=0)
    X = torch.tensor([[V + 1], [2]])  # (T=2, B=1): shorter than the window
    x = torch.zeros(4 * (V + K))  # slots 0, 1 empty; then marker 1, then token 2
    x[2 * (V + K) + V + 1] = 1
    x[3 * (V + K) + 2] = 1
    expected = model.out(torch.tanh(model.hidden(x)))
    torch.testing.assert_close(model(X)[0], expected)


# -- training and accuracy -----------------------------------------------------------
def _trained(model, lag, updates=150):
    return train_marker_model(
        model, TEXT, V, lag, updates=updates, batch_size=32, n_markers=K, lr=0.02
    )


def test_train_marker_model_keeps_the_trainer_contract_and_is_seeded():
    hist = _trained(MarkerRNN(V, K, 4), 3, updates=5)
    assert set(hist) == {"step", "elapsed_s", "train_loss"}
    assert hist["step"] == [1, 2, 3, 4, 5]
    assert all(np.isfinite(hist["train_loss"]))
    assert (
        hist["train_loss"] == _trained(MarkerRNN(V, K, 4), 3, updates=5)["train_loss"]
    )
    other = train_marker_model(
        MarkerRNN(V, K, 4), TEXT, V, 3, updates=5, n_markers=K, seed=1
    )
    assert other["train_loss"] != hist["train_loss"]


def test_an_rnn_and_a_wide_enough_window_learn_a_short_marker():
    rnn = MarkerRNN(V, K, 8, cell="gru", seed=0)
    _trained(rnn, 3)
    assert marker_accuracy(rnn, TEXT, V, 3, n_markers=K) > 0.95
    mlp = WindowMLP(V, K, 4, 8, seed=0)  # window 4 holds the marker at lag 3
    _trained(mlp, 3)
    assert marker_accuracy(mlp, TEXT, V, 3, n_markers=K) > 0.95


def test_a_window_too_short_is_at_chance():
    mlp = WindowMLP(V, K, 3, 8, seed=0)  # lag 3: the marker is one step outside
    _trained(mlp, 3)
    acc = marker_accuracy(mlp, TEXT, V, 3, n_markers=K)
    assert abs(acc - 1 / K) < 0.05  # 2,000 sequences: sd of a guesser about 1 %


class _Oracle(nn.Module):
    """Reads the marker from X[0]; answers marker 0 when told to be wrong."""

    n_markers = K

    def __init__(self, always_zero: bool = False):
        super().__init__()
        self.always_zero = always_zero

    def forward(self, X):
        y = torch.zeros_like(X[0]) if self.always_zero else X[0] - V
        return nn.functional.one_hot(y, K).float()


def test_marker_accuracy_counts_the_markers_named():
    assert marker_accuracy(_Oracle(), TEXT, V, 5, n_markers=K) == 1.0
    _, y = marker_batch(TEXT, V, 5, 300, n_markers=K, seed=7)
    acc = marker_accuracy(
        _Oracle(True), TEXT, V, 5, n_sequences=300, n_markers=K, seed=7
    )
    assert acc == pytest.approx((y == 0).float().mean().item())


def test_marker_accuracy_restores_the_training_mode():
    model = MarkerRNN(V, K, 4)
    model.train()
    marker_accuracy(model, TEXT, V, 2, n_sequences=10, n_markers=K)
    assert model.training


def test_n_markers_must_match_the_model():
    with pytest.raises(ValueError, match="n_markers must match the model's"):
        marker_accuracy(MarkerRNN(V, K, 4), TEXT, V, 2, n_markers=K + 1)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train_marker_model("rnn", TEXT, V, 2)


def test_training_stops_at_a_non_finite_loss():
    model = MarkerRNN(V, K, 4)
    with torch.no_grad():
        model.out.bias.fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="step 1"):
        train_marker_model(model, TEXT, V, 2, updates=3, n_markers=K)
