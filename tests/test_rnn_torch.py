"""Tests for rnnkit.rnn_torch against independent references: nn.RNN, a numpy loop
written here, rnnkit.rnn_numpy, and finite differences.

Tolerances and why:

* float64 forward passes computed two ways (scratch loop vs nn.RNN, torch vs
  numpy): 1e-12 absolute on values of size O(1). The sums are the same but
  taken in another order, so they differ by float64 round-off only.
* autograd vs numpy's hand-written backward, float64: 1e-10 absolute (the
  gradients are O(1) sums over T*B terms).
* ``torch.autograd.gradcheck``: its defaults (finite-difference step 1e-6,
  atol 1e-5, rtol 1e-3) in float64.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit.rnn_torch import (
    RNNLM,
    RNNScratch,
    count_parameters,
    load_numpy_params,
    numpy_params,
    stacked_rnn_param_count,
)

torch.set_num_threads(1)

F64 = torch.float64


def numpy_rnn(
    x: np.ndarray, h0: np.ndarray, W_xh, W_hh, b_h, activation: str = "tanh"
) -> np.ndarray:
    """Reference recurrence written out independently: x (T, B, d) → H (T, B, h)."""
    phi = np.tanh if activation == "tanh" else (lambda a: np.maximum(a, 0.0))
    h, H = h0, []
    for t in range(x.shape[0]):
        h = phi(x[t] @ W_xh.T + h @ W_hh.T + b_h)
        H.append(h)
    return np.stack(H)


def random_params(d: int, h: int, V: int, seed: int = 0) -> dict[str, np.ndarray]:
    g = np.random.default_rng(seed)
    return {
        "W_xh": g.normal(0, 0.5, (h, d)),
        "W_hh": g.normal(0, 0.5, (h, h)),
        "b_h": g.normal(0, 0.5, (h,)),
        "W_ho": g.normal(0, 0.5, (V, h)),
        "b_o": g.normal(0, 0.5, (V,)),
    }


# -- RNNScratch ------------------------------------------------------------------
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_scratch_matches_nn_rnn_with_the_same_weights(activation):
    T, B, d, h = 7, 3, 5, 4
    cell = RNNScratch(d, h, activation=activation, seed=1, dtype=F64)
    ref = nn.RNN(d, h, nonlinearity=activation, dtype=F64)
    with torch.no_grad():
        ref.weight_ih_l0.copy_(cell.W_xh)
        ref.weight_hh_l0.copy_(cell.W_hh)
        ref.bias_ih_l0.copy_(cell.b_h)
        ref.bias_hh_l0.zero_()
    g = torch.Generator().manual_seed(0)
    X = torch.randn(T, B, d, generator=g, dtype=F64)
    h0 = torch.randn(B, h, generator=g, dtype=F64)
    H, h_T = cell(X, h0)
    H_ref, h_n = ref(X, h0[None])
    assert H.shape == (T, B, h) and h_T.shape == (B, h)
    torch.testing.assert_close(H, H_ref, atol=1e-12, rtol=0)
    torch.testing.assert_close(h_T, h_n[0], atol=1e-12, rtol=0)
    if activation == "relu":
        assert (H == 0).any() and (H > 0).any(), (
            "test inputs should exercise both sides of relu"
        )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_scratch_matches_a_numpy_loop(activation):
    T, B, d, h = 6, 2, 3, 5
    cell = RNNScratch(d, h, activation=activation, seed=3, dtype=F64)
    x = np.random.default_rng(1).normal(size=(T, B, d))
    h0 = np.random.default_rng(2).normal(size=(B, h))
    H, _ = cell(torch.from_numpy(x), torch.from_numpy(h0))
    P = {k: getattr(cell, k).detach().numpy() for k in ("W_xh", "W_hh", "b_h")}
    np.testing.assert_allclose(
        H.detach().numpy(),
        numpy_rnn(x, h0, **P, activation=activation),
        atol=1e-12,
        rtol=0,
    )


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_scratch_matches_rnnkit_rnn_numpy(activation):
    rnn_numpy = pytest.importorskip("rnnkit.rnn_numpy")
    T, B, d, h = 5, 3, 4, 6
    cell = RNNScratch(d, h, activation=activation, seed=5, dtype=F64)
    x = np.random.default_rng(4).normal(size=(T, B, d))
    h0 = np.zeros((B, h))
    P = {k: getattr(cell, k).detach().numpy().copy() for k in ("W_xh", "W_hh", "b_h")}
    H_np, _ = rnn_numpy.rnn_forward(x, h0, P["W_xh"], P["W_hh"], P["b_h"], activation)
    H, h_T = cell(torch.from_numpy(x))  # h0=None means zeros
    np.testing.assert_allclose(H.detach().numpy(), H_np, atol=1e-12, rtol=0)
    np.testing.assert_allclose(h_T.detach().numpy(), H_np[-1], atol=1e-12, rtol=0)


def test_scratch_gradients_pass_gradcheck():
    cell = RNNScratch(3, 4, seed=0, dtype=F64)
    g = torch.Generator().manual_seed(1)
    X = torch.randn(4, 2, 3, generator=g, dtype=F64, requires_grad=True)
    h0 = torch.randn(2, 4, generator=g, dtype=F64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda X, h0: cell(X, h0)[0], (X, h0))
    W = [cell.W_xh, cell.W_hh, cell.b_h]
    assert torch.autograd.gradcheck(
        lambda a, b, c: torch.func.functional_call(
            cell, {"W_xh": a, "W_hh": b, "b_h": c}, (X.detach(), h0.detach())
        )[0],
        tuple(w.detach().clone().requires_grad_() for w in W),
    )


def test_scratch_init_is_torch_like_and_seeded_without_touching_global_rng():
    h = 16
    before = torch.get_rng_state()
    a = RNNScratch(8, h, seed=7)
    b = RNNScratch(8, h, seed=7)
    c = RNNScratch(8, h, seed=8)
    assert torch.equal(torch.get_rng_state(), before), (
        "construction must not use the global RNG"
    )
    bound = 1 / math.sqrt(h)
    for p in (a.W_xh, a.W_hh, a.b_h):
        assert p.abs().max() <= bound
        assert p.abs().max() > 0.8 * bound  # spread over the range, not all tiny
    assert torch.equal(a.W_hh, b.W_hh)
    assert not torch.equal(a.W_hh, c.W_hh)
    assert dict(a.named_parameters()).keys() == {"W_xh", "W_hh", "b_h"}
    assert a.W_xh.shape == (h, 8) and a.W_hh.shape == (h, h) and a.b_h.shape == (h,)


def test_scratch_validation_errors():
    cell = RNNScratch(3, 4)
    with pytest.raises(
        ValueError,
        match=r"X must have shape \(T, B, d=3\); got \(5, 3\); for one sequence",
    ):
        cell(torch.zeros(5, 3))
    with pytest.raises(
        ValueError, match=r"X must have shape \(T, B, d=3\); got \(5, 2, 4\)"
    ):
        cell(torch.zeros(5, 2, 4))
    with pytest.raises(
        TypeError, match=r"X must be a floating-point tensor .*got dtype torch.int64"
    ):
        cell(torch.zeros(5, 2, 3, dtype=torch.long))
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor"):
        cell(np.zeros((5, 2, 3)))
    with pytest.raises(
        ValueError, match=r"h0 must have shape \(B=2, h=4\).*got \(3, 4\)"
    ):
        cell(torch.zeros(5, 2, 3), torch.zeros(3, 4))
    with pytest.raises(
        ValueError, match=r"activation must be one of 'tanh', 'relu'; got 'sigmoid'"
    ):
        RNNScratch(3, 4, activation="sigmoid")
    with pytest.raises(
        ValueError, match=r"hidden_size must be a positive int \(>= 1\); got 0"
    ):
        RNNScratch(3, 0)
    with pytest.raises(
        TypeError, match=r"input_size must be a positive int; got float"
    ):
        RNNScratch(3.0, 4)
    with pytest.raises(TypeError, match=r"seed must be an int; got str"):
        RNNScratch(3, 4, seed="0")
    with pytest.raises(ValueError, match=r"X must hold at least one time step"):
        cell(torch.zeros(0, 2, 3))  # as rnn_numpy.rnn_forward: T = 0 is no sequence


def test_scratch_step_is_the_recurrence_and_checks_its_inputs():
    cell = RNNScratch(3, 4, seed=2, dtype=F64)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(5, 2, 3, generator=g, dtype=F64)
    H, h_T = cell(X)
    h = torch.zeros(2, 4, dtype=F64)
    for t in range(5):  # forward is step in a loop
        h = cell.step(X[t], h)
        torch.testing.assert_close(h, H[t], atol=0, rtol=0)
    with pytest.raises(
        ValueError, match=r"x_t must have shape \(B, d=3\); got \(2, 4\)"
    ):
        cell.step(torch.zeros(2, 4, dtype=F64), h)
    with pytest.raises(ValueError, match=r"x_t must have shape \(B, d=3\); got \(3,\)"):
        cell.step(torch.zeros(3, dtype=F64), h)
    with pytest.raises(
        ValueError, match=r"h_prev must have shape \(B=3, h=4\); got \(2, 4\)"
    ):
        cell.step(torch.zeros(3, 3, dtype=F64), h)
    with pytest.raises(TypeError, match=r"x_t must be a floating-point tensor"):
        cell.step(torch.zeros(2, 3, dtype=torch.long), h)
    with pytest.raises(TypeError, match=r"h_prev must be a torch.Tensor"):
        cell.step(torch.zeros(2, 3, dtype=F64), np.zeros((2, 4)))


# -- RNNLM ---------------------------------------------------------------------
def numpy_lm_logits(
    X_ids: np.ndarray, P: dict[str, np.ndarray], V: int, activation: str = "tanh"
) -> np.ndarray:
    """Reference LM forward: ids (T, B) → logits (T, B, V), one-hot inputs."""
    x = np.eye(V)[X_ids]  # (T, B, V)
    H = numpy_rnn(
        x,
        np.zeros((X_ids.shape[1], P["W_hh"].shape[0])),
        P["W_xh"],
        P["W_hh"],
        P["b_h"],
        activation,
    )
    return H @ P["W_ho"].T + P["b_o"]


@pytest.mark.parametrize("cell", ["scratch", "torch"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_rnnlm_forward_matches_numpy_reference(cell, activation):
    V, h, B, T = 6, 5, 3, 7
    P = random_params(V, h, V, seed=2)
    model = load_numpy_params(
        RNNLM(V, h, cell=cell, activation=activation, dtype=F64), P
    )
    X = np.random.default_rng(0).integers(0, V, (T, B))
    logits, h_T = model(torch.from_numpy(X))
    assert logits.shape == (T, B, V) and h_T.shape == (B, h)
    np.testing.assert_allclose(
        logits.detach().numpy(),
        numpy_lm_logits(X, P, V, activation),
        atol=1e-12,
        rtol=0,
    )


def test_rnnlm_state_carries_like_one_long_pass():
    """Two halves with the state handed over equal one pass over the whole sequence."""
    V, h = 5, 4
    P = random_params(V, h, V, seed=3)
    for cell in ("scratch", "torch"):
        model = load_numpy_params(RNNLM(V, h, cell=cell, dtype=F64), P)
        X = torch.from_numpy(np.random.default_rng(1).integers(0, V, (10, 2)))
        whole, h_whole = model(X)
        first, s = model(X[:6])
        second, h_end = model(X[6:], s)
        torch.testing.assert_close(
            torch.cat([first, second]), whole, atol=1e-12, rtol=0
        )
        torch.testing.assert_close(h_end, h_whole, atol=1e-12, rtol=0)
    np.testing.assert_allclose(
        whole.detach().numpy(), numpy_lm_logits(X.numpy(), P, V), atol=1e-12, rtol=0
    )


def test_autograd_matches_rnn_numpy_backward():
    rnn_numpy = pytest.importorskip("rnnkit.rnn_numpy")
    V, h, B, T = 6, 5, 3, 8
    P = random_params(V, h, V, seed=4)
    g = np.random.default_rng(5)
    X, Y = g.integers(0, V, (T, B)), g.integers(0, V, (T, B))
    loss_np, grads_np, hT_np = rnn_numpy.lm_loss_and_grads(P, X, Y)
    for cell in ("scratch", "torch"):
        model = load_numpy_params(RNNLM(V, h, cell=cell, dtype=F64), P)
        logits, h_T = model(torch.from_numpy(X))
        loss = nn.functional.cross_entropy(
            logits.reshape(-1, V), torch.from_numpy(Y).reshape(-1)
        )
        loss.backward()
        assert abs(loss.item() - loss_np) < 1e-12
        np.testing.assert_allclose(h_T.detach().numpy(), hT_np, atol=1e-12, rtol=0)
        r = model.rnn
        got = {
            "W_xh": (r.W_xh if cell == "scratch" else r.weight_ih_l0).grad,
            "W_hh": (r.W_hh if cell == "scratch" else r.weight_hh_l0).grad,
            "b_h": (r.b_h if cell == "scratch" else r.bias_ih_l0).grad,
            "W_ho": model.W_ho.grad,
            "b_o": model.b_o.grad,
        }
        for k, v in got.items():
            np.testing.assert_allclose(
                v.numpy(), grads_np[k], atol=1e-10, rtol=0, err_msg=f"{cell}: d{k}"
            )


def test_embedding_model_shapes_and_state():
    V, h, e = 9, 6, 4
    for cell in ("scratch", "torch"):
        model = RNNLM(V, h, embed_size=e, cell=cell)
        assert model.rnn.input_size == e
        X = torch.tensor([[0, 1], [2, 3], [8, 8]])  # (T, B) = (3, 2)
        logits, h_T = model(X, model.begin_state(2))
        assert logits.shape == (3, 2, V) and h_T.shape == (2, h)
        assert model.inputs(X).shape == (3, 2, e)
        torch.testing.assert_close(model.inputs(X)[2, 0], model.embedding.weight[8])
        assert logits.dtype == torch.float32
    assert torch.equal(model.begin_state(4), torch.zeros(4, h))


def test_rnnlm_accepts_numpy_ids_and_is_seeded():
    V, h = 7, 5
    X = np.random.default_rng(0).integers(0, V, (4, 3))
    before = torch.get_rng_state()
    for cell in ("scratch", "torch"):
        RNNLM(V, h, cell=cell, embed_size=3)
    assert torch.equal(torch.get_rng_state(), before), (
        "building a model must not use the global RNG"
    )
    a, b, c = RNNLM(V, h, seed=1), RNNLM(V, h, seed=1), RNNLM(V, h, seed=2)
    la, _ = a(X)
    lb, _ = b(torch.from_numpy(X))
    lc, _ = c(X)
    assert torch.equal(la, lb)
    assert not torch.allclose(la, lc)


def test_dropout_only_in_training_mode():
    V, h = 7, 16
    model = RNNLM(V, h, cell="torch", dropout=0.5)
    X = torch.zeros(5, 2, dtype=torch.long)
    model.eval()
    assert torch.equal(model(X)[0], model(X)[0])
    model.train()
    torch.manual_seed(0)
    assert not torch.equal(model(X)[0], model(X)[0])


# -- weights in and out -----------------------------------------------------------
@pytest.mark.parametrize("cell", ["scratch", "torch"])
def test_numpy_params_round_trip(cell):
    V, h = 6, 4
    P = random_params(V, h, V, seed=6)
    model = load_numpy_params(RNNLM(V, h, cell=cell, dtype=F64), P)
    out = numpy_params(model)
    assert out.keys() == P.keys()
    for k in P:
        assert out[k].dtype == np.float64
        np.testing.assert_array_equal(out[k], P[k])
    if cell == "torch":
        assert torch.count_nonzero(model.rnn.bias_hh_l0) == 0
    out["W_hh"][0, 0] += 1.0  # a copy: editing it leaves the model alone
    assert numpy_params(model)["W_hh"][0, 0] == P["W_hh"][0, 0]


def test_torch_cell_export_folds_the_two_biases():
    V, h = 6, 5
    src = RNNLM(V, h, cell="torch", seed=3, dtype=F64)  # bias_hh nonzero after init
    assert torch.count_nonzero(src.rnn.bias_hh_l0) > 0
    P = numpy_params(src)
    np.testing.assert_allclose(
        P["b_h"],
        (src.rnn.bias_ih_l0 + src.rnn.bias_hh_l0).detach().numpy(),
        atol=1e-15,
        rtol=0,
    )
    dst = load_numpy_params(RNNLM(V, h, cell="scratch", dtype=F64), P)
    X = torch.from_numpy(np.random.default_rng(0).integers(0, V, (9, 2)))
    torch.testing.assert_close(dst(X)[0], src(X)[0], atol=1e-12, rtol=0)


def test_rnn_numpy_init_params_load():
    rnn_numpy = pytest.importorskip("rnnkit.rnn_numpy")
    V, h = 8, 5
    P = rnn_numpy.init_params(V, h, V, seed=0)
    model = load_numpy_params(RNNLM(V, h, dtype=F64), P)
    X = np.random.default_rng(2).integers(0, V, (6, 3))
    np.testing.assert_allclose(
        model(X)[0].detach().numpy(), numpy_lm_logits(X, P, V), atol=1e-12, rtol=0
    )


def test_embedding_params_round_trip():
    V, h, e = 6, 4, 3
    P = random_params(e, h, V, seed=1)
    P["embedding"] = np.random.default_rng(0).normal(size=(V, e))
    model = load_numpy_params(RNNLM(V, h, embed_size=e, dtype=F64), P)
    out = numpy_params(model)
    for k in P:
        np.testing.assert_array_equal(out[k], P[k])


def test_count_parameters():
    V, h = 28, 32
    # one-hot input, so d = V: W_xh h*d, W_hh h*h, b_h h, W_ho V*h, b_o V
    assert (
        count_parameters(RNNLM(V, h, cell="scratch")) == h * (V + h + V + 1) + V == 2876
    )
    # nn.RNN keeps two biases, bias_ih and bias_hh, that only enter as their sum: h more
    assert count_parameters(RNNLM(V, h, cell="torch")) == h * (V + h + V + 1) + V + h
    # with an embedding (V, e): d = e, plus V*e embedding entries
    e = 10
    assert (
        count_parameters(RNNLM(V, h, embed_size=e)) == h * (e + h + V + 1) + V + V * e
    )
    rnn_numpy = pytest.importorskip("rnnkit.rnn_numpy")
    assert count_parameters(RNNLM(V, h)) == rnn_numpy.param_count(V, h, V)


def test_stacked_rnn_param_count():
    d, h = 3, 4
    # one layer, one direction, one bias: W_xh 4*3 + W_hh 4*4 + b_h 4 = 32
    assert stacked_rnn_param_count(d, h, bias_hh=False) == 32
    assert stacked_rnn_param_count(d, h) == 36  # + nn.RNN's bias_hh
    # two layers: the second reads h = 4 states: 4*4 + 4*4 + 4 + 4 = 40 more
    assert stacked_rnn_param_count(d, h, 2) == 36 + 40
    # bidirectional, two layers: layer 1 twice (2*36); layer 2 reads 2h = 8 states,
    # 4*8 + 4*4 + 4 + 4 = 56 per direction
    assert stacked_rnn_param_count(d, h, 2, bidirectional=True) == 2 * 36 + 2 * 56
    assert stacked_rnn_param_count(d, h, 2, bidirectional=True, bias_hh=False) == 168
    # PyTorch's own layers agree
    for layers, bidir in ((1, False), (2, False), (3, False), (1, True), (2, True)):
        rnn = nn.RNN(5, 7, num_layers=layers, bidirectional=bidir)
        assert count_parameters(rnn) == stacked_rnn_param_count(
            5, 7, layers, bidirectional=bidir
        )
    with pytest.raises(ValueError, match="num_layers"):
        stacked_rnn_param_count(d, h, 0)
    with pytest.raises(TypeError, match="bidirectional"):
        stacked_rnn_param_count(d, h, 2, bidirectional="yes")


@pytest.mark.parametrize("layer", ["scratch", "nn.RNN"])
def test_layer_and_linear_round_trip_and_match_numpy(layer):
    """A lone recurrent layer (+ nn.Linear) takes and gives the numpy model's dict."""
    d, h, V, T, B = 4, 5, 6, 7, 3
    P = random_params(d, h, V, seed=7)
    rnn = RNNScratch(d, h, dtype=F64) if layer == "scratch" else nn.RNN(d, h, dtype=F64)
    out = nn.Linear(h, V, dtype=F64)
    assert load_numpy_params(rnn, P, out) is rnn
    got = numpy_params(rnn, out)
    assert got.keys() == P.keys()
    for k in P:
        np.testing.assert_array_equal(got[k], P[k])
    if layer == "nn.RNN":
        assert torch.count_nonzero(rnn.bias_hh_l0) == 0
    x = np.random.default_rng(0).normal(size=(T, B, d))
    H = rnn(torch.from_numpy(x))[0]
    np.testing.assert_allclose(
        out(H).detach().numpy(),
        numpy_rnn(x, np.zeros((B, h)), P["W_xh"], P["W_hh"], P["b_h"]) @ P["W_ho"].T
        + P["b_o"],
        atol=1e-12,
        rtol=0,
    )
    # without out: the recurrent weights only
    rec = {k: P[k] for k in ("W_xh", "W_hh", "b_h")}
    assert numpy_params(load_numpy_params(rnn, rec)).keys() == rec.keys()


def test_nn_rnn_export_folds_the_two_biases():
    rnn = nn.RNN(3, 4, dtype=F64)  # default init: bias_hh nonzero
    assert torch.count_nonzero(rnn.bias_hh_l0) > 0
    np.testing.assert_array_equal(
        numpy_params(rnn)["b_h"], (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()
    )


def test_numpy_params_refuses_other_layers():
    with pytest.raises(ValueError, match=r"single-layer, .*got num_layers=2"):
        numpy_params(nn.RNN(3, 4, num_layers=2))
    with pytest.raises(ValueError, match=r"bidirectional=True"):
        numpy_params(nn.RNN(3, 4, bidirectional=True))
    with pytest.raises(ValueError, match=r"bias=False"):
        load_numpy_params(nn.RNN(3, 4, bias=False), {})
    with pytest.raises(ValueError, match=r"out must be an nn.Linear\(h=4, V\)"):
        numpy_params(RNNScratch(3, 4), nn.Linear(5, 2))
    with pytest.raises(TypeError, match=r"out must be an nn.Linear\(h, V\) or None"):
        numpy_params(RNNScratch(3, 4), nn.RNN(4, 2))
    with pytest.raises(ValueError, match=r"RNNLM has its own output layer"):
        numpy_params(RNNLM(5, 4), nn.Linear(4, 5))
    with pytest.raises(ValueError, match=r"missing \['W_ho', 'b_o'\]"):
        rec = {k: v for k, v in random_params(3, 4, 2).items() if k[-1] == "h"}
        load_numpy_params(RNNScratch(3, 4), rec, nn.Linear(4, 2))


# -- validation --------------------------------------------------------------------
def test_rnnlm_input_validation():
    V, h = 5, 3
    model = RNNLM(V, h)
    with pytest.raises(
        ValueError,
        match=r"X must have shape \(T, B\); got \(4,\); .*batch axis: X\[:, None\]",
    ):
        model(torch.zeros(4, dtype=torch.long))
    with pytest.raises(
        ValueError, match=r"X must have shape \(T, B\); got \(2, 3, 5\)"
    ):
        model(torch.zeros(2, 3, 5, dtype=torch.long))
    with pytest.raises(
        TypeError,
        match=r"X must hold integer token ids \(int64\); got dtype torch.float32",
    ):
        model(torch.zeros(2, 3))
    with pytest.raises(
        TypeError, match=r"X must hold integer token ids; got numpy dtype float64"
    ):
        model(np.zeros((2, 3)))
    with pytest.raises(
        TypeError, match=r"X must be a \(T, B\) tensor of token ids; got list"
    ):
        model([[1, 2]])
    with pytest.raises(ValueError, match=r"in \[0, V=5\); got min 0, max 5"):
        model(torch.tensor([[0], [5]]))
    with pytest.raises(ValueError, match=r"in \[0, V=5\); got min -1, max 2"):
        model(torch.tensor([[-1], [2]]))
    with pytest.raises(ValueError, match=r"X must hold at least one time step"):
        model(torch.zeros(0, 2, dtype=torch.long))
    with pytest.raises(
        ValueError, match=r"state must have shape \(B=2, h=3\).*got \(1, 2, 3\)"
    ):
        model(torch.zeros(4, 2, dtype=torch.long), torch.zeros(1, 2, 3))
    with pytest.raises(
        ValueError, match=r"state must have shape \(B=2, h=3\).*got \(3, 3\)"
    ):
        model(torch.zeros(4, 2, dtype=torch.long), torch.zeros(3, 3))
    with pytest.raises(TypeError, match=r"state must have dtype torch.float32"):
        model(torch.zeros(4, 2, dtype=torch.long), torch.zeros(2, 3, dtype=F64))


def test_rnnlm_constructor_validation():
    with pytest.raises(
        ValueError, match=r"cell must be one of 'scratch', 'torch'; got 'gru'"
    ):
        RNNLM(5, 3, cell="gru")
    with pytest.raises(
        ValueError, match=r"vocab_size must be a positive int \(>= 1\); got 0"
    ):
        RNNLM(0, 3)
    with pytest.raises(ValueError, match=r"embed_size must be a positive int"):
        RNNLM(5, 3, embed_size=-2)
    with pytest.raises(TypeError, match=r"seed must be an int; got float"):
        RNNLM(5, 3, seed=1.5)
    with pytest.raises(
        ValueError, match=r"dropout must be a probability in \[0, 1\); got 1.0"
    ):
        RNNLM(5, 3, dropout=1.0)
    with pytest.raises(
        TypeError, match=r"dtype must be torch.float32 or torch.float64"
    ):
        RNNLM(5, 3, dtype=torch.float16)
    with pytest.raises(
        ValueError, match=r"batch_size must be a positive int \(>= 1\); got 0"
    ):
        RNNLM(5, 3).begin_state(0)


def test_load_numpy_params_validation():
    V, h = 5, 3
    model = RNNLM(V, h)
    P = random_params(V, h, V)
    with pytest.raises(
        ValueError, match=r"params must have exactly the keys .*missing \['b_o'\]"
    ):
        load_numpy_params(model, {k: v for k, v in P.items() if k != "b_o"})
    with pytest.raises(ValueError, match=r"unexpected \['W_hq'\]"):
        load_numpy_params(model, {**P, "W_hq": P["W_ho"]})
    with pytest.raises(
        ValueError, match=r"params\['W_hh'\] must have shape \(h=3, h=3\); got \(4, 4\)"
    ):
        load_numpy_params(model, {**P, "W_hh": np.zeros((4, 4))})
    with pytest.raises(
        ValueError, match=r"params\['W_xh'\] must have shape \(h=3, d=5\); got \(5, 3\)"
    ):
        load_numpy_params(model, {**P, "W_xh": P["W_xh"].T})
    with pytest.raises(
        TypeError,
        match=r"params\['b_h'\] must be a floating-point array; got dtype int64",
    ):
        load_numpy_params(model, {**P, "b_h": np.zeros(h, dtype=np.int64)})
    with pytest.raises(
        TypeError, match=r"params must be a dict of numpy arrays; got list"
    ):
        load_numpy_params(model, [P])
    with pytest.raises(TypeError, match=r"model must be an rnnkit RNNLM, .*; got GRU"):
        numpy_params(nn.GRU(3, 3))
    with pytest.raises(TypeError, match=r"model must be a torch.nn.Module; got dict"):
        count_parameters({})
