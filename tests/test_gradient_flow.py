"""Tests for rnnkit.gradient_flow: the chain dh_T/dh_t, spectral radii, geometric rates.

References are independent of the module: torch autograd on a forward pass written
here in torch, centred finite differences on a forward loop written here in numpy,
and matrices whose eigenvalues are known by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.gradient_flow import (
    activation_derivative,
    chain_norms_for_radii,
    forward_preactivations,
    geometric_rate,
    jacobian_chain,
    jacobian_chain_norms,
    per_step_bound,
    scale_to_spectral_radius,
    spectral_radius,
    step_jacobians,
)
from rnnkit.rnn_numpy import rnn_forward, rnn_step_forward

torch.set_num_threads(1)

ACTS = ["linear", "tanh", "relu"]
TORCH_PHI = {"linear": lambda a: a, "tanh": torch.tanh, "relu": torch.relu}
NUMPY_PHI = {
    "linear": lambda a: a,
    "tanh": np.tanh,
    "relu": lambda a: np.maximum(a, 0.0),
}


def problem(T=6, B=2, d=3, h=4, seed=0):
    """Small random RNN: x (T, B, d), W_xh (h, d), W_hh (h, h), b_h (h,), h0 (B, h).

    W_hh has entries of size ~0.6: the chain neither vanishes nor explodes over T = 6.
    """
    r = np.random.default_rng(seed)
    return (
        r.normal(size=(T, B, d)),
        r.normal(size=(h, d)),
        0.6 * r.normal(size=(h, h)),
        0.1 * r.normal(size=h),
        r.normal(size=(B, h)),
    )


def torch_states(x, W_xh, W_hh, b_h, h0, activation):
    """h_0, h_1, ..., h_T as a list of torch tensors (B, h), written without rnnkit."""
    phi = TORCH_PHI[activation]
    hs = [h0]
    for x_t in x:
        hs.append(phi(x_t @ W_xh.T + hs[-1] @ W_hh.T + b_h))
    return hs


def autograd_chain(x, W_xh, W_hh, b_h, h0, activation):
    """dh_T/dh_t for t = 0..T-1 by torch.autograd.functional.jacobian: (T, B, h, h)."""
    x, W_xh, W_hh, b_h, h0 = (torch.from_numpy(a) for a in (x, W_xh, W_hh, b_h, h0))
    T, B, _ = x.shape
    hs = torch_states(x, W_xh, W_hh, b_h, h0, activation)
    out = []
    for t in range(T):

        def h_T_from(h_t, t=t):
            return torch_states(x[t:], W_xh, W_hh, b_h, h_t, activation)[-1]

        J = torch.autograd.functional.jacobian(h_T_from, hs[t].detach())  # (B, h, B, h)
        # Sequences do not mix: every off-diagonal batch block must be exactly 0.
        for b in range(B):
            for c in range(B):
                if b != c:
                    assert torch.count_nonzero(J[b, :, c, :]) == 0
        out.append(torch.stack([J[b, :, b, :] for b in range(B)]))
    return torch.stack(out)


def preactivations_by_hand(x, W_xh, W_hh, b_h, h0, activation):
    """A (T, B, h) and the states h_0..h_T, with a plain numpy loop."""
    hs, A = [h0], []
    for x_t in x:
        A.append(x_t @ W_xh.T + hs[-1] @ W_hh.T + b_h)
        hs.append(NUMPY_PHI[activation](A[-1]))
    return np.stack(A), hs


# -- the chain -------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ACTS)
@pytest.mark.parametrize("shape", [(1, 1, 1, 1), (6, 2, 3, 4), (9, 3, 2, 5)])
def test_chain_matches_torch_autograd_jacobian(activation, shape):
    T, B, d, h = shape
    x, W_xh, W_hh, b_h, h0 = problem(T, B, d, h, seed=T + h)
    A, _ = preactivations_by_hand(x, W_xh, W_hh, b_h, h0, activation)
    if activation == "relu":
        assert (
            np.abs(A).min() > 1e-6
        )  # no pre-activation on the kink, where the two could disagree
    ours = jacobian_chain(W_hh, A, activation)
    theirs = autograd_chain(x, W_xh, W_hh, b_h, h0, activation).numpy()
    assert ours.shape == (T, B, h, h)
    # Same products in a different order: float64 round-off only (entries are O(1)).
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-10)


@pytest.mark.parametrize("activation", ACTS)
def test_chain_norms_match_torch_matrix_norms(activation):
    x, W_xh, W_hh, b_h, h0 = problem(T=7, B=3, d=2, h=5, seed=11)
    A, _ = preactivations_by_hand(x, W_xh, W_hh, b_h, h0, activation)
    J = autograd_chain(x, W_xh, W_hh, b_h, h0, activation)
    for norm, ord_ in (("spectral", 2), ("fro", "fro")):
        ours = jacobian_chain_norms(W_hh, A, activation, norm=norm)
        theirs = torch.linalg.matrix_norm(J, ord=ord_).numpy()  # (T, B)
        assert ours.shape == (7, 3)
        np.testing.assert_allclose(
            ours, theirs, rtol=1e-10, atol=0
        )  # float64 round-off


@pytest.mark.parametrize("activation", ["linear", "tanh"])
def test_chain_matches_finite_differences(activation):
    x, W_xh, W_hh, b_h, h0 = problem(T=5, B=1, d=3, h=4, seed=3)
    A, hs = preactivations_by_hand(x, W_xh, W_hh, b_h, h0, activation)
    C = jacobian_chain(W_hh, A, activation)
    eps = 1e-6
    for t in range(5):
        for j in range(4):
            col = []
            for sign in (1, -1):
                h = hs[t].copy()
                h[0, j] += sign * eps
                col.append(
                    preactivations_by_hand(x[t:], W_xh, W_hh, b_h, h, activation)[1][
                        -1
                    ][0]
                )
            fd = (col[0] - col[1]) / (2 * eps)
            # Centred differences with step 1e-6: truncation O(eps^2) ~ 1e-12, round-off
            # ~ 1e-16 / 1e-6 = 1e-10 on O(1) states; 1e-8 leaves a 100x margin.
            np.testing.assert_allclose(C[t, 0, :, j], fd, rtol=0, atol=1e-8)


def test_linear_chain_is_a_matrix_power():
    x, W_xh, W_hh, b_h, h0 = problem(T=8, B=2, d=3, h=4, seed=5)
    A, _ = forward_preactivations(x, W_xh, W_hh, b_h, h0, "linear")
    C = jacobian_chain(W_hh, A, "linear")
    for t in range(8):
        for b in range(2):
            # dh_T/dh_t = W_hh^(T-t): the data do not enter. Entries stay below ~10:
            # round-off.
            np.testing.assert_allclose(
                C[t, b], np.linalg.matrix_power(W_hh, 8 - t), rtol=0, atol=1e-12
            )


def test_step_jacobian_by_hand():
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    A = np.array([[[0.0, 1.0]]])  # T = B = 1
    s = 1 - np.tanh(1.0) ** 2  # tanh'(1); tanh'(0) = 1
    np.testing.assert_allclose(
        step_jacobians(W, A, "tanh")[0, 0], [[1.0, 2.0], [3 * s, 4 * s]], rtol=1e-15
    )
    np.testing.assert_array_equal(
        step_jacobians(W, A, "relu")[0, 0], [[0.0, 0.0], [3.0, 4.0]]
    )
    np.testing.assert_array_equal(step_jacobians(W, A, "linear")[0, 0], W)


def test_activation_derivative_by_hand():
    a = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_allclose(
        activation_derivative(a, "tanh"), 1 - np.tanh(a) ** 2, rtol=1e-15
    )
    np.testing.assert_array_equal(
        activation_derivative(a, "relu"), [0.0, 0.0, 1.0]
    )  # 0 at the kink, as torch
    np.testing.assert_array_equal(activation_derivative(a, "linear"), [1.0, 1.0, 1.0])


@pytest.mark.parametrize("activation", ACTS)
def test_forward_is_rnn_numpy_step_by_step(activation):
    # The recurrence is written once, in rnn_numpy.rnn_step_forward: the states here
    # are exactly its output, and A[t] its output with phi the identity.
    x, W_xh, W_hh, b_h, h0 = problem(T=5, B=2, d=3, h=4, seed=9)
    A, H = forward_preactivations(x, W_xh, W_hh, b_h, h0, activation)
    h_t = h0
    for t in range(5):
        a_t, _ = rnn_step_forward(x[t], h_t, W_xh, W_hh, b_h, "linear")
        h_t, _ = rnn_step_forward(x[t], h_t, W_xh, W_hh, b_h, activation)
        np.testing.assert_array_equal(A[t], a_t)
        np.testing.assert_array_equal(H[t], h_t)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_forward_matches_rnn_numpy(activation):
    x, W_xh, W_hh, b_h, h0 = problem(T=7, B=3, d=2, h=5, seed=2)
    A, H = forward_preactivations(x, W_xh, W_hh, b_h, h0, activation)
    H_ref, _ = rnn_forward(x, h0, W_xh, W_hh, b_h, activation)
    np.testing.assert_allclose(
        H, H_ref, rtol=0, atol=1e-14
    )  # same sums, float64 round-off
    A_ref, _ = preactivations_by_hand(x, W_xh, W_hh, b_h, h0, activation)
    np.testing.assert_allclose(A, A_ref, rtol=0, atol=1e-14)
    A0, _ = forward_preactivations(
        x, W_xh, W_hh, b_h, None, activation
    )  # h0=None means zeros
    np.testing.assert_allclose(A0[0], x[0] @ W_xh.T + b_h, rtol=0, atol=1e-15)


def test_norms_respect_the_per_step_bound():
    x, W_xh, W_hh, b_h, h0 = problem(T=30, B=4, d=3, h=6, seed=7)
    for activation in ACTS:
        A, _ = forward_preactivations(x, W_xh, W_hh, b_h, h0, activation)
        norms = jacobian_chain_norms(W_hh, A, activation)  # (T, B)
        gamma = per_step_bound(W_hh, activation)
        steps_back = 30 - np.arange(30)
        # ||prod of k factors|| <= gamma^k; 1e-12 relative slack for round-off in the
        # SVDs.
        assert (norms <= gamma ** steps_back[:, None] * (1 + 1e-12)).all()


def test_per_step_bound_by_hand():
    W = np.diag([2.0, -3.0])  # singular values 2 and 3
    assert per_step_bound(W, "tanh") == pytest.approx(3.0, rel=1e-15)


# -- spectral radius -------------------------------------------------------------------


def test_spectral_radius_by_hand():
    # [[a, -b], [b, a]] has eigenvalues a +- ib: radius sqrt(3^2 + 4^2) = 5.
    assert spectral_radius(np.array([[3.0, -4.0], [4.0, 3.0]])) == pytest.approx(
        5.0, rel=1e-14
    )
    # Triangular: the eigenvalues are the diagonal, whatever the 100 above it (sigma_max
    # ~ 100).
    W = np.array([[0.5, 100.0], [0.0, -0.8]])
    assert spectral_radius(W) == pytest.approx(0.8, rel=1e-14)
    assert np.linalg.norm(W, 2) > 99  # the radius is not a norm
    # A cyclic permutation: eigenvalues are the cube roots of 1.
    P = np.roll(np.eye(3), 1, axis=0)
    assert spectral_radius(P) == pytest.approx(1.0, rel=1e-14)


def test_scale_to_spectral_radius_by_hand_and_random():
    W = np.array([[3.0, -4.0], [4.0, 3.0]])
    before = W.copy()
    np.testing.assert_allclose(
        scale_to_spectral_radius(W, 2.0), [[1.2, -1.6], [1.6, 1.2]], rtol=1e-14
    )
    np.testing.assert_array_equal(W, before)  # the input is left alone
    R = np.random.default_rng(0).normal(size=(20, 20))
    for rho in (0.5, 1.0, 1.5):
        S = scale_to_spectral_radius(R, rho)
        radius = torch.linalg.eigvals(torch.from_numpy(S)).abs().max().item()
        assert radius == pytest.approx(
            rho, rel=1e-12
        )  # eigenvalue round-off on a 20x20 matrix
        np.testing.assert_allclose(
            S / R, (S / R)[0, 0], rtol=1e-14
        )  # one common factor


def test_linear_rate_is_the_spectral_radius():
    # ||W^k||^(1/k) -> rho(W): with phi the identity, the fitted rate over lags 30..120
    # is rho
    # to within 2 %, the sub-geometric transient of a 16x16 random matrix.
    r = np.random.default_rng(1)
    W = r.normal(size=(16, 16))
    x, W_xh, b_h = r.normal(size=(120, 1, 2)), r.normal(size=(16, 2)), np.zeros(16)
    res = chain_norms_for_radii(x, W_xh, W, b_h, (0.7, 1.3), "linear")
    lags = 120 - np.arange(120)
    for rho, norms in res.items():
        assert norms.shape == (120, 1)
        assert geometric_rate(norms[lags >= 30, 0], lags[lags >= 30]) == pytest.approx(
            rho, rel=0.02
        )
        # One step back (t = T-1) the chain is W itself: its spectral norm.
        assert norms[-1, 0] == pytest.approx(
            np.linalg.norm(scale_to_spectral_radius(W, rho), 2), rel=1e-12
        )


def test_geometric_rate_exact_on_a_geometric_sequence():
    lags = np.arange(1, 40)
    assert geometric_rate(3.0 * 0.7**lags, lags) == pytest.approx(0.7, rel=1e-12)
    assert geometric_rate(1e-3 * 1.5**lags, lags) == pytest.approx(1.5, rel=1e-12)


# -- errors ----------------------------------------------------------------------------


def test_errors_on_W_hh():
    A = np.zeros((3, 1, 2))
    with pytest.raises(
        ValueError,
        match=r"W_hh must have shape \(h=2, h=2\); got \(2, 3\); W_hh maps a state",
    ):
        jacobian_chain(np.zeros((2, 3)), A)
    with pytest.raises(ValueError, match=r"W_hh must have shape \(h, h\); got \(2,\)"):
        jacobian_chain_norms(np.zeros(2), A)
    with pytest.raises(TypeError, match=r"W_hh must be a floating-point array"):
        step_jacobians(np.eye(2, dtype=int), A)
    with pytest.raises(TypeError, match=r"W_hh must be a numpy array"):
        per_step_bound([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"W_hh must be finite; found 1 non-finite"):
        jacobian_chain(np.array([[1.0, np.nan], [0.0, 1.0]]), A)


def test_errors_on_A_and_options():
    W = np.eye(2)
    with pytest.raises(
        ValueError, match=r"A must have shape \(T, B, h=2\); got \(3, 4, 5\)"
    ):
        jacobian_chain(W, np.zeros((3, 4, 5)))
    with pytest.raises(
        ValueError,
        match=r"A must have shape \(T, B, h=2\); got \(3, 2\); for a single sequence",
    ):
        jacobian_chain_norms(W, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"A must hold at least one time step"):
        jacobian_chain(W, np.zeros((0, 1, 2)))
    with pytest.raises(TypeError, match=r"A must be a floating-point array"):
        step_jacobians(W, np.zeros((3, 1, 2), dtype=np.int64))
    with pytest.raises(
        ValueError,
        match=r"activation must be one of .*'linear'.*; got 'sigmoid'",
    ):
        jacobian_chain(W, np.zeros((3, 1, 2)), "sigmoid")
    with pytest.raises(ValueError, match=r"activation must be one of"):
        activation_derivative(np.zeros(3), "gelu")
    with pytest.raises(
        ValueError, match=r"norm must be one of 'spectral', 'fro'; got 'nuc'"
    ):
        jacobian_chain_norms(W, np.zeros((3, 1, 2)), norm="nuc")


def test_errors_in_forward_preactivations():
    x, W_xh, W_hh, b_h, h0 = problem(T=4, B=2, d=3, h=5)
    with pytest.raises(
        ValueError,
        match=r"x must have shape \(T, B, d=3\); got \(4, 3\); for a single sequence",
    ):
        forward_preactivations(x[:, 0], W_xh, W_hh, b_h)
    with pytest.raises(ValueError, match=r"x must hold at least one time step"):
        forward_preactivations(x[:0], W_xh, W_hh, b_h)
    with pytest.raises(
        ValueError, match=r"W_xh must have shape \(h=5, d\); got \(4, 3\)"
    ):
        forward_preactivations(x, W_xh[:4], W_hh, b_h)
    with pytest.raises(ValueError, match=r"b_h must have shape \(h=5,\); got \(4,\)"):
        forward_preactivations(x, W_xh, W_hh, b_h[:4])
    with pytest.raises(
        ValueError, match=r"h0 must have shape \(B=2, h=5\); got \(3, 5\)"
    ):
        forward_preactivations(x, W_xh, W_hh, b_h, np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"activation must be one of"):
        forward_preactivations(x, W_xh, W_hh, b_h, activation="softplus")


def test_errors_on_spectral_radius_and_scaling():
    with pytest.raises(
        ValueError,
        match=r"W must be a non-empty square matrix \(h, h\); got shape \(2, 3\)",
    ):
        spectral_radius(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"W must have shape \(h, h\); got \(4,\)"):
        spectral_radius(np.zeros(4))
    with pytest.raises(TypeError, match=r"W must be a numpy array"):
        spectral_radius([[1.0]])
    with pytest.raises(ValueError, match=r"W must be finite"):
        spectral_radius(np.array([[np.inf]]))
    for nilpotent in (
        np.zeros((3, 3)),
        np.array([[0.0, 1.0], [0.0, 0.0]]),
        np.array([[1.0, 1.0], [-1.0, -1.0]]),
    ):
        with pytest.raises(ValueError, match=r"W has spectral radius 0"):
            scale_to_spectral_radius(nilpotent, 1.0)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match=r"rho must be a finite number > 0"):
            scale_to_spectral_radius(np.eye(2), bad)
    with pytest.raises(TypeError, match=r"rho must be a positive number"):
        scale_to_spectral_radius(np.eye(2), "1")


def test_errors_in_measurement_helpers():
    x, W_xh, W_hh, b_h, _ = problem()
    with pytest.raises(
        ValueError, match=r"radii must hold at least one spectral radius"
    ):
        chain_norms_for_radii(x, W_xh, W_hh, b_h, [])
    with pytest.raises(
        ValueError,
        match=r"must be 1-D of the same length >= 2; got shapes \(3,\) and \(4,\)",
    ):
        geometric_rate(np.ones(3), np.arange(4))
    with pytest.raises(
        ValueError, match=r"norms and lags must be 1-D of the same length >= 2"
    ):
        geometric_rate(np.ones(1), np.arange(1))
    with pytest.raises(ValueError, match=r"norms must be positive and finite"):
        geometric_rate(np.array([1.0, 0.0, 0.5]), np.arange(3))
    with pytest.raises(ValueError, match=r"lags must not all be equal"):
        geometric_rate(np.array([1.0, 2.0]), np.array([3, 3]))
