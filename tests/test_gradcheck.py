"""Tests for rnnkit.gradcheck on functions whose gradients are known in closed form."""

from __future__ import annotations

import numpy as np
import pytest

from rnnkit.gradcheck import grad_check_params, numerical_gradient, relative_error
from rnnkit.rnn_numpy import init_params, lm_loss_and_grads


def test_numerical_gradient_of_sin_is_cos():
    x = np.random.default_rng(0).normal(size=(3, 4))
    c = np.arange(12.0).reshape(3, 4)
    num = numerical_gradient(lambda: float(np.sum(c * np.sin(x))), x)
    # eps = 1e-5: truncation eps^2/6 * |c| ~ 2e-10, round-off 1e-16 * |f| / eps ~ 1e-10.
    np.testing.assert_allclose(num, c * np.cos(x), rtol=0, atol=1e-9)


def test_numerical_gradient_is_exact_up_to_round_off_on_a_quadratic():
    r = np.random.default_rng(1)
    A = r.normal(size=(5, 5))
    A = A + A.T
    x = r.normal(size=5)
    # The centred difference has no truncation error for a quadratic (f''' = 0), so only
    # round-off remains: ~1e-16 * |f| / eps ~ 1e-10.
    num = numerical_gradient(lambda: 0.5 * float(x @ A @ x), x, eps=1e-5)
    np.testing.assert_allclose(num, A @ x, rtol=0, atol=1e-9)


def test_numerical_gradient_restores_x_exactly_even_if_f_raises():
    x = 1e-3 * np.random.default_rng(5).normal(size=(10, 20))
    before = x.copy()
    # (v - eps) + eps != v for a few of these small entries, so undoing the step
    # arithmetically instead of copying the old value back would be caught.
    assert np.any((x - 1e-5) + 1e-5 != x)
    numerical_gradient(lambda: float(np.sum(x**3)), x)
    assert np.array_equal(x, before)

    calls = []

    def f():
        calls.append(1)
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(np.sum(x))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert np.array_equal(x, before)


def test_numerical_gradient_through_a_view_and_in_float32():
    base = np.random.default_rng(2).normal(size=(4, 6))
    view = base[:, ::2]  # non-contiguous: perturbing it must perturb base
    num = numerical_gradient(lambda: float(np.sum(base**2)), view)
    np.testing.assert_allclose(num, 2 * view, rtol=0, atol=1e-8)
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    # float32 round-off ~6e-8 * |f| / eps(1e-2): 1e-3 is what float32 allows.
    np.testing.assert_allclose(
        numerical_gradient(lambda: float(np.sum(x32**2)), x32, eps=1e-2),
        [2, 4],
        atol=1e-3,
    )


def test_numerical_gradient_rejects():
    x = np.zeros(3)
    with pytest.raises(TypeError, match=r"f must be a callable"):
        numerical_gradient(1.0, x)
    with pytest.raises(TypeError, match=r"x must be a floating-point array"):
        numerical_gradient(lambda: 0.0, np.zeros(3, int))
    with pytest.raises(ValueError, match=r"eps must be a finite number > 0; got 0"):
        numerical_gradient(lambda: 0.0, x, eps=0)
    x.flags.writeable = False
    with pytest.raises(ValueError, match=r"x must be writeable"):
        numerical_gradient(lambda: 0.0, x)


def test_relative_error_by_hand():
    assert relative_error(np.array([1.0, 2.0]), np.array([1.0, 2.2])) == pytest.approx(
        0.2 / 4.2, rel=1e-12
    )
    assert relative_error(
        np.array([1.0, -3.0]), np.array([1.5, -3.0])
    ) == pytest.approx(0.5 / 2.5, rel=1e-12)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    # Below the floor the difference is divided by the floor: 1e-9 / 1e-8.
    assert relative_error(np.array([0.0]), np.array([1e-9])) == pytest.approx(
        0.1, rel=1e-12
    )
    assert relative_error(
        np.array([0.0]), np.array([1e-9]), floor=1e-3
    ) == pytest.approx(1e-6, rel=1e-12)
    a, b = np.array([3.0, -1.0]), np.array([2.0, -1.5])
    assert relative_error(a, b) == relative_error(b, a)
    assert relative_error(np.zeros((0, 2)), np.zeros((0, 2))) == 0.0


def test_relative_error_rejects():
    with pytest.raises(
        ValueError, match=r"a and b must have the same shape; got \(2,\) and \(3,\)"
    ):
        relative_error(np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError, match=r"floor must be a finite number > 0"):
        relative_error(np.zeros(2), np.zeros(2), floor=0.0)


def quadratic_problem():
    r = np.random.default_rng(3)
    params = {"W": r.normal(size=(3, 2)), "b": r.normal(size=4)}

    def loss(p):
        return float(np.sum(p["W"] ** 2) + 3.0 * np.sum(p["b"]))

    return params, loss, {"W": 2 * params["W"], "b": np.full(4, 3.0)}


def test_grad_check_params_accepts_right_and_flags_wrong_gradients():
    params, loss, grads = quadratic_problem()
    before = {k: v.copy() for k, v in params.items()}
    errors = grad_check_params(loss, params, grads)
    assert set(errors) == {"W", "b"}
    assert max(errors.values()) <= 1e-9  # quadratic: round-off only (~1e-11 relative)
    assert all(np.array_equal(params[k], before[k]) for k in params)

    wrong = {"W": grads["W"] * 1.001, "b": grads["b"]}
    errors = grad_check_params(loss, params, wrong)
    assert errors["W"] == pytest.approx(0.001 / 2.001, rel=1e-4)
    assert errors["b"] <= 1e-9


def test_grad_check_params_on_the_rnn_language_model():
    # Plain centred differences with the default eps = 1e-5: errors are mostly ~1e-10
    # and at worst ~1e-7 on small entries (truncation + round-off), so the chapter's
    # rule of thumb "< 1e-6 is right" holds; a wrong gradient is >= 1e-3.
    r = np.random.default_rng(4)
    params = init_params(5, 4, 5, seed=r)
    X, Y, h0 = r.integers(0, 5, (6, 3)), r.integers(0, 5, (6, 3)), r.normal(size=(3, 4))
    _, grads, _ = lm_loss_and_grads(params, X, Y, h0)
    errors = grad_check_params(
        lambda p: lm_loss_and_grads(p, X, Y, h0)[0], params, grads
    )
    assert max(errors.values()) <= 1e-6, errors


def test_grad_check_params_rejects():
    params, loss, grads = quadratic_problem()
    with pytest.raises(TypeError, match=r"must both be dicts"):
        grad_check_params(loss, list(params.values()), grads)
    with pytest.raises(
        ValueError,
        match=r"analytic_grads must have the keys of params \['W', 'b'\]; got \['W'\]",
    ):
        grad_check_params(loss, params, {"W": grads["W"]})
    with pytest.raises(
        ValueError, match=r"analytic_grads\['b'\] must have shape \(4,\); got \(3,\)"
    ):
        grad_check_params(loss, params, {"W": grads["W"], "b": np.zeros(3)})
