"""Tests for rnnkit.rnn_numpy against independent references: torch, finite differences.

Tolerances and why:

* numpy vs torch (forward and autograd), float64: 1e-12 absolute on values of
  size O(1) and 1e-10 relative error on gradients. Both sides compute the same
  sums in a different order, so they differ by float64 round-off only (~1e-16
  per operation, a few dozen operations deep).
* numpy vs finite differences, float64: relative error <= 1e-8. Plain centred
  differences (step eps) carry an O(eps^2) truncation error that reaches ~1e-9
  absolute when gradients are ~10, so we extrapolate two of them (Richardson,
  see ``fd_grad``), leaving round-off of about ``1e-16 * |L| / eps ~ 1e-12``
  absolute. No finite difference resolves a 1e-5-sized entry to 1e-8 relative,
  so entries with ``|a| + |b| < 1e-3`` are compared absolutely (to 1e-11) via
  ``relative_error(..., floor=1e-3)``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import rnnkit.rnn_numpy
from rnnkit.gradcheck import numerical_gradient, relative_error
from rnnkit.losses import softmax_cross_entropy
from rnnkit.rnn_numpy import (
    NUMPY_ACTIVATIONS,
    init_params,
    lm_loss_and_grads,
    one_hot,
    output_backward,
    output_forward,
    param_count,
    param_shapes,
    rnn_backward,
    rnn_backward_ids,
    rnn_forward,
    rnn_forward_ids,
    rnn_step_backward,
    rnn_step_forward,
)

torch.set_num_threads(1)

FD_TOL = 1e-8  # vs finite differences (see module docstring)
FD_FLOOR = 1e-3  # entries smaller than this are compared absolutely
TORCH_TOL = 1e-10  # vs torch autograd: float64 round-off
PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)

shapes = st.fixed_dictionaries(
    {
        "T": st.integers(1, 5),
        "B": st.integers(1, 3),
        "d": st.integers(1, 4),
        "h": st.integers(1, 4),
        "V": st.integers(2, 5),
        "seed": st.integers(0, 2**32 - 1),
    }
)


# -- references ------------------------------------------------------------------------


def fd_grad(f, x, eps):
    """Richardson-extrapolated centred difference: (4 D(eps/2) - D(eps)) / 3.

    D(eps) = f' + c eps^2 + O(eps^4), so the combination cancels the eps^2 term.
    """
    return (4 * numerical_gradient(f, x, eps / 2) - numerical_gradient(f, x, eps)) / 3


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def torch_nn_rnn(x, h0, W_xh, W_hh, b_h, activation):
    """H from torch.nn.RNN with our weights copied in (bias_hh = 0)."""
    d, h = W_xh.shape[1], W_xh.shape[0]
    rnn = torch.nn.RNN(d, h, nonlinearity=activation, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(t(W_xh))
        rnn.weight_hh_l0.copy_(t(W_hh))
        rnn.bias_ih_l0.copy_(t(b_h))
        rnn.bias_hh_l0.zero_()
        H, _ = rnn(t(x), t(h0)[None])
    return H.numpy()


def torch_loop(x, h0, W_xh, W_hh, b_h, activation):
    """Direct re-implementation with torch tensors; each step gets its own copy of W_hh.

    Returns (H, per-step W_hh leaves, per-step h tensors) so autograd gives the
    per-step contributions to dW_hh and dL/dh_t.
    """
    phi = {"tanh": torch.tanh, "relu": torch.relu, "linear": lambda a: a}[activation]
    W_hh_steps, hs = [], []
    h = h0
    for step in range(x.shape[0]):
        W = W_hh.detach().clone().requires_grad_(True)
        h = phi(x[step] @ W_xh.T + h @ W.T + b_h)
        h.retain_grad()
        W_hh_steps.append(W)
        hs.append(h)
    return torch.stack(hs), W_hh_steps, hs


def preactivation_margin(x, h0, W_xh, W_hh, b_h):
    """min |a_t| over all steps for a relu RNN, computed without rnnkit."""
    h, margin = h0, np.inf
    for x_t in x:
        a = x_t @ W_xh.T + h @ W_hh.T + b_h
        margin = min(margin, np.abs(a).min())
        h = np.maximum(a, 0)
    return margin


def problem(T, B, d, h, seed, **_):
    r = np.random.default_rng(seed)
    p = init_params(d, h, 2, seed=r)
    return (
        r.normal(size=(T, B, d)),
        r.normal(size=(B, h)),
        p["W_xh"],
        p["W_hh"],
        p["b_h"],
        r.normal(size=(T, B, h)),
    )


# -- parameters ------------------------------------------------------------------------


@pytest.mark.parametrize("d,h,V", [(1, 1, 2), (3, 4, 5), (65, 100, 65), (7, 2, 11)])
def test_param_count_matches_the_arrays(d, h, V):
    params = init_params(d, h, V)
    assert param_count(d, h, V) == sum(p.size for p in params.values())
    assert param_shapes(params) == (d, h, V)


@pytest.mark.parametrize("d,h,V", [(1, 1, 2), (3, 4, 5), (65, 100, 65)])
def test_param_count_is_torch_minus_its_second_bias(d, h, V):
    torch_total = sum(p.numel() for p in torch.nn.RNN(d, h).parameters())
    torch_total += sum(p.numel() for p in torch.nn.Linear(h, V).parameters())
    # nn.RNN keeps two biases, bias_ih_l0 and bias_hh_l0 (h each); they only ever appear
    # summed, so rnnkit keeps one (b_h) and has exactly h parameters fewer.
    assert param_count(d, h, V) == torch_total - h


def test_init_params_default_is_torch_uniform_and_seeded():
    p = init_params(5, 50, 7, seed=3)
    for k, v in p.items():
        assert v.dtype == np.float64
        assert np.abs(v).max() <= 1 / np.sqrt(50), k
        assert np.abs(v).max() > 0.9 / np.sqrt(50), (
            k
        )  # fills the interval, not a tiny corner
    again = init_params(5, 50, 7, seed=np.random.default_rng(3))
    assert all(np.array_equal(p[k], again[k]) for k in p)
    assert not np.array_equal(p["W_hh"], init_params(5, 50, 7, seed=4)["W_hh"])


def test_init_params_draws_in_a_fixed_order():
    # The book's numbers rest on these draws: W_xh, W_hh, b_h, W_ho, b_o in turn,
    # from np.random.default_rng(seed), each uniform in +-1/sqrt(h).
    r, bound = np.random.default_rng(7), 1 / np.sqrt(3)
    expected = [
        r.uniform(-bound, bound, s) for s in ((3, 2), (3, 3), (3,), (4, 3), (4,))
    ]
    p = init_params(2, 3, 4, seed=7)
    assert list(p) == ["W_xh", "W_hh", "b_h", "W_ho", "b_o"]
    for got, want in zip(p.values(), expected):
        np.testing.assert_array_equal(got, want)


def test_init_params_with_scale_is_min_char_rnn_normal():
    p = init_params(40, 200, 30, scale=0.01, dtype=np.float32)
    assert all(v.dtype == np.float32 for v in p.values())
    assert not p["b_h"].any() and not p["b_o"].any()
    # 40 000 draws: the sample std is within ~1% of 0.01; 5% leaves room.
    assert p["W_hh"].std() == pytest.approx(0.01, rel=0.05)


def test_one_hot_by_hand():
    out = one_hot(np.array([[2, 0]]), 3)
    np.testing.assert_array_equal(out, [[[0, 0, 1], [1, 0, 0]]])


# -- forward ---------------------------------------------------------------------------


def test_step_forward_by_hand():
    # d = h = 1: h_t = phi(2 * 0.5 + 1 * 0.3 + 0.1) = phi(1.4);
    # with relu and a negative input, 0.
    x, hp, W_xh, W_hh, b = (
        np.array([[2.0]]),
        np.array([[1.0]]),
        np.array([[0.5]]),
        np.array([[0.3]]),
        np.array([0.1]),
    )
    h_t, _ = rnn_step_forward(x, hp, W_xh, W_hh, b)
    assert h_t[0, 0] == pytest.approx(np.tanh(1.4), abs=1e-15)
    h_t, _ = rnn_step_forward(-x, hp, W_xh, W_hh, b, activation="relu")
    assert h_t[0, 0] == 0.0


@pytest.mark.parametrize("activation", ["tanh", "relu"])
@pytest.mark.parametrize("T,B,d,h", [(1, 1, 1, 1), (7, 3, 4, 5), (25, 2, 65, 16)])
def test_forward_matches_torch(activation, T, B, d, h):
    x, h0, W_xh, W_hh, b_h, _ = problem(T, B, d, h, seed=T + d)
    H, _ = rnn_forward(x, h0, W_xh, W_hh, b_h, activation)
    np.testing.assert_allclose(
        H, torch_nn_rnn(x, h0, W_xh, W_hh, b_h, activation), rtol=0, atol=1e-12
    )
    H_loop, _, _ = torch_loop(*map(t, (x, h0, W_xh, W_hh, b_h)), activation)
    np.testing.assert_allclose(H, H_loop.detach().numpy(), rtol=0, atol=1e-12)


def test_linear_activation_is_phi_the_identity():
    # "linear" (numpy only, for chapter 5): h_t = x_t W_xh^T + h_{t-1} W_hh^T + b_h.
    x, h0, W_xh, W_hh, b_h, _ = problem(5, 2, 3, 4, seed=2)
    H, _ = rnn_forward(x, h0, W_xh, W_hh, b_h, "linear")
    H_loop, _, _ = torch_loop(*map(t, (x, h0, W_xh, W_hh, b_h)), "linear")
    np.testing.assert_allclose(H, H_loop.detach().numpy(), rtol=0, atol=1e-12)
    assert NUMPY_ACTIVATIONS == ("tanh", "relu", "linear")


@pytest.mark.parametrize("activation", NUMPY_ACTIVATIONS)
def test_sequence_functions_call_the_step_functions(monkeypatch, activation):
    # The recurrence is written once, in rnn_step_forward (and its backward once, in
    # rnn_step_backward): the sequence functions must go through them, step by step.
    calls = {"forward": 0, "backward": 0}
    step_forward, step_backward = rnn_step_forward, rnn_step_backward

    def counting_forward(*args):
        calls["forward"] += 1
        return step_forward(*args)

    def counting_backward(*args):
        calls["backward"] += 1
        return step_backward(*args)

    monkeypatch.setattr(rnnkit.rnn_numpy, "rnn_step_forward", counting_forward)
    monkeypatch.setattr(rnnkit.rnn_numpy, "rnn_step_backward", counting_backward)
    x, h0, W_xh, W_hh, b_h, G = problem(7, 2, 3, 4, seed=4)
    H, cache = rnn_forward(x, h0, W_xh, W_hh, b_h, activation)
    rnn_backward(G, cache)
    assert calls == {"forward": 7, "backward": 7}
    h_t = h0
    for step in range(7):  # and H is exactly what the step computes
        h_t, _ = step_forward(x[step], h_t, W_xh, W_hh, b_h, activation)
        np.testing.assert_array_equal(H[step], h_t)


def test_truncated_windows_reproduce_the_full_sequence():
    x, h0, W_xh, W_hh, b_h, _ = problem(10, 2, 3, 4, seed=1)
    H_full, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
    H1, _ = rnn_forward(x[:6], h0, W_xh, W_hh, b_h)
    H2, _ = rnn_forward(x[6:], H1[-1], W_xh, W_hh, b_h)
    np.testing.assert_allclose(np.concatenate([H1, H2]), H_full, rtol=0, atol=1e-15)


def test_output_and_loss_match_torch():
    r = np.random.default_rng(0)
    H, W_ho, b_o = r.normal(size=(4, 3, 5)), r.normal(size=(6, 5)), r.normal(size=6)
    Y = r.integers(0, 6, (4, 3))
    mask = r.random((4, 3)) < 0.7
    mask[0, 0] = True
    O, oc = output_forward(H, W_ho, b_o)
    loss, dO = softmax_cross_entropy(O, Y, mask)
    dH, dW_ho, db_o = output_backward(dO, oc)

    tH, tW, tb = (t(a).requires_grad_(True) for a in (H, W_ho, b_o))
    tO = torch.nn.functional.linear(tH, tW, tb)
    per_pos = torch.nn.functional.cross_entropy(
        tO.reshape(-1, 6), t(Y).reshape(-1), reduction="none"
    )
    tloss = per_pos[t(mask).reshape(-1)].mean()
    tloss.backward()
    np.testing.assert_allclose(O, tO.detach().numpy(), rtol=0, atol=1e-12)
    assert loss == pytest.approx(tloss.item(), rel=1e-14, abs=0)
    for ours, theirs in ((dH, tH), (dW_ho, tW), (db_o, tb)):
        assert relative_error(ours, theirs.grad.numpy()) <= TORCH_TOL


def test_masked_loss_equals_loss_on_the_valid_positions_only():
    r = np.random.default_rng(1)
    O, Y = r.normal(size=(5, 2, 4)), r.integers(0, 4, (5, 2))
    mask = np.ones((5, 2), bool)
    mask[3:, 1] = False  # sequence 1 is 3 long, padded to 5
    loss, dO = softmax_cross_entropy(O, Y, mask)
    # The valid positions as one (8, 1) batch.
    loss_valid, _ = softmax_cross_entropy(O[mask][:, None], Y[mask][:, None])
    assert loss == pytest.approx(loss_valid, rel=1e-14)
    assert not dO[3:, 1].any()


# -- backward vs finite differences ----------------------------------------------------


@PROPERTY
@given(shapes, st.sampled_from(NUMPY_ACTIVATIONS))
def test_rnn_backward_matches_finite_differences(s, activation):
    x, h0, W_xh, W_hh, b_h, G = problem(**s)
    if activation == "relu":
        # A kink within the finite-difference step (<= 3e-4 times a sensitivity of ~3)
        # would make the numeric derivative meaningless; keep every |a_t| >= 1e-2.
        assume(preactivation_margin(x, h0, W_xh, W_hh, b_h) >= 1e-2)
    H, cache = rnn_forward(x, h0, W_xh, W_hh, b_h, activation)
    grads = rnn_backward(G, cache)

    def loss():  # L = sum_t <G_t, h_t>, so dL/dh_t through the output at t is G_t
        return float(np.sum(rnn_forward(x, h0, W_xh, W_hh, b_h, activation)[0] * G))

    eps = 3e-4 if activation == "relu" else 1e-3
    for name, arr in (
        ("dx", x),
        ("dh0", h0),
        ("dW_xh", W_xh),
        ("dW_hh", W_hh),
        ("db_h", b_h),
    ):
        err = relative_error(grads[name], fd_grad(loss, arr, eps), floor=FD_FLOOR)
        assert err <= FD_TOL, (name, err)


@pytest.mark.parametrize("activation", NUMPY_ACTIVATIONS)
def test_step_backward_matches_finite_differences(activation):
    r = np.random.default_rng(5)
    x, hp = r.normal(size=(3, 4)), r.normal(size=(3, 2))
    W_xh, W_hh, b_h, G = (
        r.normal(size=(2, 4)),
        r.normal(size=(2, 2)),
        r.normal(size=2),
        r.normal(size=(3, 2)),
    )
    h_t, cache = rnn_step_forward(x, hp, W_xh, W_hh, b_h, activation)
    if activation == "relu":
        assert (
            np.abs(x @ W_xh.T + hp @ W_hh.T + b_h).min() > 1e-2
        )  # no kink near this seed
    out = rnn_step_backward(G, cache)

    def loss():
        return float(
            np.sum(rnn_step_forward(x, hp, W_xh, W_hh, b_h, activation)[0] * G)
        )

    for grad, arr in zip(out, (x, hp, W_xh, W_hh, b_h)):
        assert relative_error(grad, fd_grad(loss, arr, 1e-3), floor=FD_FLOOR) <= FD_TOL


def lm_problem(s):
    """A random LM problem for one drawn shape: params, X, Y (T, B) ids, h0 (B, h)."""
    T, B, h, V = s["T"], s["B"], s["h"], s["V"]
    r = np.random.default_rng(s["seed"])
    params = init_params(V, h, V, seed=r)
    X, Y, h0 = r.integers(0, V, (T, B)), r.integers(0, V, (T, B)), r.normal(size=(B, h))
    return params, X, Y, h0


@PROPERTY
@given(shapes, st.sampled_from(["tanh", "relu"]))
def test_lm_grads_match_finite_differences(s, activation):
    params, X, Y, h0 = lm_problem(s)
    V = s["V"]
    if activation == "relu":
        assume(
            preactivation_margin(
                one_hot(X, V), h0, params["W_xh"], params["W_hh"], params["b_h"]
            )
            >= 1e-2
        )
    _, grads, _ = lm_loss_and_grads(params, X, Y, h0, activation)
    for name, p in params.items():
        num = fd_grad(
            lambda: lm_loss_and_grads(params, X, Y, h0, activation)[0], p, 3e-4
        )
        err = relative_error(grads[name], num, floor=FD_FLOOR)
        assert err <= FD_TOL, (name, err)


# -- backward vs torch autograd --------------------------------------------------------


@PROPERTY
@given(shapes, st.sampled_from(["tanh", "relu"]))
def test_lm_loss_and_grads_match_torch_autograd(s, activation):
    params, X, Y, h0 = lm_problem(s)
    V, h = s["V"], s["h"]
    loss, grads, h_T = lm_loss_and_grads(params, X, Y, h0, activation)

    rnn = torch.nn.RNN(V, h, nonlinearity=activation, dtype=torch.float64)
    lin = torch.nn.Linear(h, V, dtype=torch.float64)
    with torch.no_grad():
        for tp, k in (
            (rnn.weight_ih_l0, "W_xh"),
            (rnn.weight_hh_l0, "W_hh"),
            (rnn.bias_ih_l0, "b_h"),
            (lin.weight, "W_ho"),
            (lin.bias, "b_o"),
        ):
            tp.copy_(t(params[k]))
        rnn.bias_hh_l0.zero_()
    x = torch.nn.functional.one_hot(t(X), V).double()
    H, hT = rnn(x, t(h0)[None])
    tloss = torch.nn.functional.cross_entropy(lin(H).reshape(-1, V), t(Y).reshape(-1))
    tloss.backward()

    assert loss == pytest.approx(tloss.item(), rel=1e-13)
    np.testing.assert_allclose(h_T, hT[0].detach().numpy(), rtol=0, atol=1e-12)
    theirs = {
        "W_xh": rnn.weight_ih_l0,
        "W_hh": rnn.weight_hh_l0,
        "b_h": rnn.bias_ih_l0,
        "W_ho": lin.weight,
        "b_o": lin.bias,
    }
    assert set(grads) == set(params)
    for k, tp in theirs.items():
        assert relative_error(grads[k], tp.grad.numpy()) <= TORCH_TOL, k


@pytest.mark.parametrize("activation", NUMPY_ACTIVATIONS)
def test_rnn_backward_per_step_terms_match_torch(activation):
    x, h0, W_xh, W_hh, b_h, G = problem(6, 3, 4, 5, seed=11)
    H, cache = rnn_forward(x, h0, W_xh, W_hh, b_h, activation)
    grads = rnn_backward(G, cache, return_per_step=True)

    tx, th0, tW_xh, tW_hh, tb = (
        t(a).requires_grad_(True) for a in (x, h0, W_xh, W_hh, b_h)
    )
    tH, W_steps, hs = torch_loop(tx, th0, tW_xh, tW_hh, tb, activation)
    (tH * t(G)).sum().backward()

    assert grads["dW_hh_per_step"].shape == (6, 5, 5)
    for step in range(6):  # step t's own copy of W_hh collects exactly step t's term
        assert (
            relative_error(grads["dW_hh_per_step"][step], W_steps[step].grad.numpy())
            <= TORCH_TOL
        )
        assert grads["dh_norms"][step] == pytest.approx(
            hs[step].grad.norm().item(), rel=1e-12
        )
    np.testing.assert_allclose(
        grads["dW_hh_per_step"].sum(0), grads["dW_hh"], rtol=1e-12, atol=1e-14
    )
    for name, leaf in (("dx", tx), ("dh0", th0), ("dW_xh", tW_xh), ("db_h", tb)):
        assert relative_error(grads[name], leaf.grad.numpy()) <= TORCH_TOL, name


# -- validation ------------------------------------------------------------------------


def valid(T=5, B=2, d=3, h=4):
    x, h0, W_xh, W_hh, b_h, G = problem(T, B, d, h, seed=0)
    return x, h0, W_xh, W_hh, b_h


@pytest.mark.parametrize(
    "change,exc,match",
    [
        (
            lambda a: {"x": a["x"][:, 0]},
            ValueError,
            r"x must have shape \(T, B, d=3\); got \(5, 3\); for a single",
        ),
        (
            lambda a: {"x": a["x"][..., :2]},
            ValueError,
            r"x must have shape \(T, B, d=3\); got \(5, 2, 2\)",
        ),
        (
            lambda a: {"x": a["x"].astype(int)},
            TypeError,
            r"x must be a floating-point array.*int64",
        ),
        (
            lambda a: {"x": a["x"].tolist()},
            TypeError,
            r"x must be a numpy array; got list",
        ),
        (
            lambda a: {"x": a["x"][:0]},
            ValueError,
            r"at least one time step \(T >= 1\); got T=0",
        ),
        (
            lambda a: {"h0": np.zeros((3, 4))},
            ValueError,
            r"h0 must have shape \(B=2, h=4\); got \(3, 4\)",
        ),
        (
            lambda a: {"h0": np.zeros((2, 4), int)},
            TypeError,
            r"h0 must be a floating-point array",
        ),
        (
            lambda a: {"W_xh": a["W_xh"][0]},
            ValueError,
            r"W_xh must have shape \(h, d\); got \(3,\)",
        ),
        (
            lambda a: {"W_hh": a["W_hh"][:3]},
            ValueError,
            r"W_hh must have shape \(h=4, h=4\); got \(3, 4\)",
        ),
        (
            lambda a: {"b_h": a["b_h"][:2]},
            ValueError,
            r"b_h must have shape \(h=4,\); got \(2,\)",
        ),
        (
            lambda a: {"activation": "sigmoid"},
            ValueError,
            r"activation must be one of .*; got 'sigmoid'",
        ),
    ],
)
def test_rnn_forward_rejects(change, exc, match):
    a = dict(zip(("x", "h0", "W_xh", "W_hh", "b_h"), valid()), activation="tanh")
    a.update(change(a))
    with pytest.raises(exc, match=match):
        rnn_forward(**a)


def test_rnn_step_functions_reject():
    x, h0, W_xh, W_hh, b_h = valid()
    with pytest.raises(
        ValueError, match=r"x_t must have shape \(B, d=3\); got \(5, 2, 3\)"
    ):
        rnn_step_forward(x, h0, W_xh, W_hh, b_h)
    with pytest.raises(
        ValueError, match=r"h_prev must have shape \(B=2, h=4\); got \(1, 4\)"
    ):
        rnn_step_forward(x[0], h0[:1], W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"activation must be one of"):
        rnn_step_forward(x[0], h0, W_xh, W_hh, b_h, activation="Tanh")
    _, cache = rnn_step_forward(x[0], h0, W_xh, W_hh, b_h)
    with pytest.raises(
        ValueError, match=r"dh_t must have shape \(B=2, h=4\); got \(2, 3\)"
    ):
        rnn_step_backward(np.zeros((2, 3)), cache)
    with pytest.raises(TypeError, match=r"dh_t must be a floating-point array"):
        rnn_step_backward(np.zeros((2, 4), int), cache)


def test_rnn_backward_rejects_wrong_dH():
    x, h0, W_xh, W_hh, b_h = valid()
    _, cache = rnn_forward(x, h0, W_xh, W_hh, b_h)
    with pytest.raises(
        ValueError, match=r"dH must have shape \(T=5, B=2, h=4\); got \(4, 2, 4\)"
    ):
        rnn_backward(np.zeros((4, 2, 4)), cache)
    with pytest.raises(TypeError, match=r"dH must be a floating-point array"):
        rnn_backward(np.zeros((5, 2, 4), np.int32), cache)


def test_output_functions_reject():
    H = np.zeros((5, 2, 4))
    with pytest.raises(
        ValueError, match=r"H must have shape \(T, B, h=3\); got \(5, 2, 4\)"
    ):
        output_forward(H, np.zeros((6, 3)), np.zeros(6))
    with pytest.raises(ValueError, match=r"b_o must have shape \(V=6,\); got \(5,\)"):
        output_forward(H, np.zeros((6, 4)), np.zeros(5))
    _, cache = output_forward(H, np.zeros((6, 4)), np.zeros(6))
    with pytest.raises(
        ValueError, match=r"dO must have shape \(T=5, B=2, V=6\); got \(5, 2, 4\)"
    ):
        output_backward(H, cache)


@pytest.mark.parametrize(
    "O,Y,mask,exc,match",
    [
        (
            np.zeros((2, 3)),
            np.zeros((2, 3), int),
            None,
            ValueError,
            r"O must have shape \(T, B, V\); got \(2, 3\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3)),
            None,
            TypeError,
            r"Y must be an integer array",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((3, 2), int),
            None,
            ValueError,
            r"Y must have shape \(T=2, B=3\); got \(3, 2\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.full((2, 3), 4),
            None,
            ValueError,
            r"Y must be token ids in \[0, V=4\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.full((2, 3), -1),
            None,
            ValueError,
            r"Y must be token ids in \[0, V=4\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3), int),
            np.ones((2, 2), bool),
            ValueError,
            r"mask must have shape \(T=2, B=3\); got \(2, 2\)",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3), int),
            np.full((2, 3), 2),
            ValueError,
            r"mask must hold bools or (exact )?0/1",
        ),
        (
            np.zeros((2, 3, 4)),
            np.zeros((2, 3), int),
            np.zeros((2, 3), bool),
            ValueError,
            r"mask selects no position",
        ),
        (
            np.zeros((2, 3, 4), int),
            np.zeros((2, 3), int),
            None,
            TypeError,
            r"O must be a floating-point array",
        ),
    ],
)
def test_softmax_cross_entropy_rejects(O, Y, mask, exc, match):
    with pytest.raises(exc, match=match):
        softmax_cross_entropy(O, Y, mask)


def test_one_hot_init_and_count_reject():
    with pytest.raises(
        ValueError, match=r"ids must be token ids in \[0, V=3\); got min \d+, max 3"
    ):
        one_hot(np.array([[0, 3]]), 3)
    with pytest.raises(TypeError, match=r"ids must be an integer array"):
        one_hot(np.array([[0.0]]), 3)
    with pytest.raises(ValueError, match=r"V must be a positive int \(>= 1\); got 0"):
        one_hot(np.array([[0]]), 0)
    with pytest.raises(TypeError, match=r"h must be a positive int; got float 1.5"):
        init_params(2, 1.5, 3)
    with pytest.raises(
        TypeError, match=r"dtype must be a floating-point dtype; got int64"
    ):
        init_params(2, 2, 3, dtype=np.int64)
    with pytest.raises(ValueError, match=r"scale must be a finite number >= 0"):
        init_params(2, 2, 3, scale=-0.1)
    with pytest.raises(ValueError, match=r"d must be a positive int \(>= 1\); got 0"):
        param_count(0, 2, 3)
    with pytest.raises(TypeError, match=r"V must be a positive int; got bool"):
        param_count(1, 2, True)


def test_lm_loss_and_grads_rejects():
    params = init_params(5, 3, 5)
    X = np.zeros((4, 2), int)
    with pytest.raises(TypeError, match=r"params must be a dict"):
        lm_loss_and_grads(list(params.values()), X, X)
    with pytest.raises(ValueError, match=r"missing \['b_o'\]"):
        lm_loss_and_grads({k: v for k, v in params.items() if k != "b_o"}, X, X)
    with pytest.raises(ValueError, match=r"W_xh must have shape \(h, d=V=4\); got d=5"):
        lm_loss_and_grads(init_params(5, 3, 4), X, X)
    with pytest.raises(
        ValueError, match=r"W_ho must have shape \(V, h=3\); got \(5, 2\)"
    ):
        lm_loss_and_grads({**params, "W_ho": np.zeros((5, 2))}, X, X)
    with pytest.raises(TypeError, match=r"X_ids must be an integer array"):
        lm_loss_and_grads(params, X.astype(float), X)
    with pytest.raises(
        ValueError, match=r"Y_ids must have shape \(T=4, B=2\); got \(2, 4\)"
    ):
        lm_loss_and_grads(params, X, X.T)
    with pytest.raises(
        ValueError, match=r"X_ids must be token ids in \[0, V=5\); got min \d+, max 7"
    ):
        lm_loss_and_grads(params, X + 7, X)
    with pytest.raises(
        ValueError, match=r"h0 must have shape \(B=2, h=3\); got \(1, 3\)"
    ):
        lm_loss_and_grads(params, X, X, np.zeros((1, 3)))


# -- the fast path: one-hot inputs as ids ----------------------------------------------
# rnn_forward_ids / rnn_backward_ids and lm_loss_and_grads (which runs them, with the
# output layer and the softmax fused in place) must give the numbers of the book's
# step-by-step functions on one-hot inputs. Those are checked above against torch and
# finite differences, so they are the reference here. Both sides sum the same terms in
# another order (the bias is added before the recurrence term, the per-step weight
# gradients are summed by one matmul), so they agree to float64 round-off, the same
# situation as numpy vs torch: TORCH_TOL (small entries that are sums of terms of both
# signs lose a few digits, hence not 1e-15).
ROUNDOFF = TORCH_TOL


def step_by_step_lm(params, X, Y, h0, activation, mask=None):
    """lm_loss_and_grads as composed from the book's functions, one-hots and all."""
    V = params["W_ho"].shape[0]
    H, cache = rnn_forward(
        one_hot(X, V), h0, params["W_xh"], params["W_hh"], params["b_h"], activation
    )
    O, out_cache = output_forward(H, params["W_ho"], params["b_o"])
    loss, dO = softmax_cross_entropy(O, Y, mask)
    dH, dW_ho, db_o = output_backward(dO, out_cache)
    g = rnn_backward(dH, cache)
    grads = {"W_xh": g["dW_xh"], "W_hh": g["dW_hh"], "b_h": g["db_h"]}
    return loss, {**grads, "W_ho": dW_ho, "b_o": db_o}, H[-1]


def ids_problem(T=6, B=4, d=7, h=5, seed=0):
    """ids with repeats (the scatter-add must sum them) and unused ids (zero rows)."""
    r = np.random.default_rng(seed)
    p = init_params(d, h, 2, seed=r)
    ids = r.integers(0, d - 2, (T, B))  # ids d-2 and d-1 never occur
    ids[:, 0] = 0  # one id throughout sequence 0: many repeats
    return (
        ids,
        r.normal(size=(B, h)),
        p["W_xh"],
        p["W_hh"],
        p["b_h"],
        r.normal(size=(T, B, h)),
    )


@pytest.mark.parametrize("activation", NUMPY_ACTIVATIONS)
@pytest.mark.parametrize("T,B,d,h", [(6, 4, 7, 5), (1, 1, 3, 2), (9, 2, 4, 8)])
def test_forward_ids_equals_forward_on_one_hots(activation, T, B, d, h):
    ids, h0, W_xh, W_hh, b_h, G = ids_problem(T, B, d, h)
    H_ref, cache_ref = rnn_forward(one_hot(ids, d), h0, W_xh, W_hh, b_h, activation)
    H, cache = rnn_forward_ids(ids, h0, W_xh, W_hh, b_h, activation)
    np.testing.assert_allclose(H, H_ref, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(cache["states"][0], h0)

    ref = rnn_backward(G, cache_ref)
    G_before = G.copy()
    got = rnn_backward_ids(G, cache)
    np.testing.assert_array_equal(G, G_before)  # dH is not modified
    assert set(got) == {"dh0", "dW_xh", "dW_hh", "db_h"}
    for k, v in got.items():
        assert v.shape == ref[k].shape, k
        assert relative_error(v, ref[k]) <= ROUNDOFF, k
    assert not got["dW_xh"][:, d - 2 :].any()  # columns of unused ids get nothing


def test_scatter_add_gradient_sums_repeated_ids():
    # By hand: T=1, two sequences both reading id 1, W_hh = 0 and phi linear, so
    # delta = dH and column 1 of dW_xh is the SUM of both rows (a fancy-indexed +=
    # would keep only one of them).
    W_xh, W_hh, b_h = np.zeros((2, 3)), np.zeros((2, 2)), np.zeros(2)
    ids = np.array([[1, 1]])
    _, cache = rnn_forward_ids(ids, np.zeros((2, 2)), W_xh, W_hh, b_h, "linear")
    dH = np.array([[[1.0, 2.0], [10.0, 20.0]]])
    g = rnn_backward_ids(dH, cache)
    np.testing.assert_array_equal(g["dW_xh"], [[0.0, 11.0, 0.0], [0.0, 22.0, 0.0]])
    np.testing.assert_array_equal(g["db_h"], [11.0, 22.0])


@pytest.mark.parametrize("activation", NUMPY_ACTIVATIONS)
@pytest.mark.parametrize("masked", [False, True])
def test_lm_loss_and_grads_equals_the_step_by_step_path(activation, masked):
    r = np.random.default_rng(5)
    T, B, h, V = 7, 3, 6, 11
    params = init_params(V, h, V, seed=r)
    X, Y, h0 = r.integers(0, V, (T, B)), r.integers(0, V, (T, B)), r.normal(size=(B, h))
    mask = None
    if masked:
        mask = np.ones((T, B), bool)
        mask[4:, 1] = False  # sequence 1 is 4 long
    ref_loss, ref, ref_hT = step_by_step_lm(params, X, Y, h0, activation, mask)
    loss, grads, h_T = lm_loss_and_grads(params, X, Y, h0, activation, mask=mask)
    assert loss == pytest.approx(ref_loss, rel=ROUNDOFF)
    np.testing.assert_allclose(h_T, ref_hT, rtol=0, atol=1e-15)
    for k in params:
        assert grads[k].shape == params[k].shape, k
        assert relative_error(grads[k], ref[k]) <= ROUNDOFF, k


def test_workspace_reuses_arrays_and_never_aliases_what_it_returns():
    r = np.random.default_rng(6)
    params = init_params(5, 4, 5, seed=r)
    windows = [(r.integers(0, 5, (6, 3)), r.integers(0, 5, (6, 3))) for _ in range(3)]
    fresh = [lm_loss_and_grads(params, X, Y) for X, Y in windows]
    ws = {}
    kept = [lm_loss_and_grads(params, X, Y, workspace=ws) for X, Y in windows]
    arrays = {k: id(v) for k, v in ws.items()}
    lm_loss_and_grads(params, *windows[0], workspace=ws)
    assert arrays and {k: id(v) for k, v in ws.items()} == arrays  # reused, not new
    X, Y = r.integers(0, 5, (2, 7)), r.integers(0, 5, (2, 7))  # another shape: fine
    assert lm_loss_and_grads(params, X, Y, workspace=ws)[0] == pytest.approx(
        lm_loss_and_grads(params, X, Y)[0], rel=1e-15
    )
    for (loss_a, g_a, h_a), (loss_b, g_b, h_b) in zip(fresh, kept):
        # every earlier result is intact although the workspace was used again since
        assert loss_a == loss_b
        np.testing.assert_array_equal(h_a, h_b)
        for k in g_a:
            np.testing.assert_array_equal(g_a[k], g_b[k])


def test_lm_loss_and_grads_keeps_float32():
    params = {k: v.astype(np.float32) for k, v in init_params(5, 4, 5).items()}
    X = np.arange(6).reshape(3, 2) % 5
    loss, grads, h_T = lm_loss_and_grads(params, X, X, workspace={})
    assert h_T.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads.values())


def test_ids_functions_reject():
    ids, h0, W_xh, W_hh, b_h, G = ids_problem()
    with pytest.raises(TypeError, match=r"ids must be an integer array"):
        rnn_forward_ids(ids.astype(float), h0, W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"ids must be token ids in \[0, V=7\)"):
        rnn_forward_ids(ids + 7, h0, W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"T >= 1"):
        rnn_forward_ids(ids[:0], h0, W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"h0 must have shape \(B=4, h=5\)"):
        rnn_forward_ids(ids, h0[:1], W_xh, W_hh, b_h)
    with pytest.raises(TypeError, match=r"workspace must be None or a dict"):
        rnn_forward_ids(ids, h0, W_xh, W_hh, b_h, workspace=[])
    _, cache = rnn_forward_ids(ids, h0, W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"dH must have shape \(T=6, B=4, h=5\)"):
        rnn_backward_ids(G[1:], cache)
    with pytest.raises(TypeError, match=r"cache must be the dict returned by"):
        rnn_backward_ids(G, rnn_forward(one_hot(ids, 7), h0, W_xh, W_hh, b_h)[1])
    params = init_params(5, 3, 5)
    X = np.zeros((4, 2), int)
    with pytest.raises(ValueError, match=r"Y_ids must be token ids in \[0, V=5\)"):
        lm_loss_and_grads(params, X, X + 5)
    with pytest.raises(TypeError, match=r"workspace must be None or a dict"):
        lm_loss_and_grads(params, X, X, workspace="ws")
