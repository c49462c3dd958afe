"""Numeric gradient checking: is a hand-written backward pass right?

Compare an analytic gradient with centred finite differences::

    df/dx_i ≈ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

whose error is O(eps^2) from truncation plus about ``machine_eps * |f| / eps``
from round-off; in float64 ``eps = 1e-5`` balances the two, leaving agreement to
about 1e-10 relative on well-scaled problems. In float32 round-off dominates and
gradient checks are not meaningful: check in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from rnnkit.shapes import (
    as_float_array,
    check_finite,
    check_float_array,
    check_positive_float,
)

__all__ = ["numerical_gradient", "relative_error", "grad_check_params"]


def numerical_gradient(
    f: Callable[[], float], x: np.ndarray, eps: float = 1e-5
) -> np.ndarray:
    """Centred-difference gradient of ``f()`` with respect to the array ``x``.

    ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` for every entry ``i``.

    ``f`` takes no arguments and reads ``x`` (a closure), so it can be any loss
    that depends on ``x`` among other things. Each entry of ``x`` is perturbed
    **in place** by ``±eps`` and restored exactly afterwards, even if ``f`` raises.

    Args:
        f: callable returning a scalar.
        x: floating-point array that ``f`` reads; modified during the call only.
        eps: finite-difference step, > 0.

    Returns:
        Array of ``x``'s shape: the estimate of ``df/dx``.

    Implements chapter 4, equation ``finite-difference``.
    """
    if not callable(f):
        raise TypeError(
            f"f must be a callable taking no arguments; got {type(f).__name__}"
        )
    check_float_array("x", x)
    eps = check_positive_float("eps", eps)
    check_finite("x", x)
    if not x.flags.writeable:
        raise ValueError("x must be writeable: numerical_gradient perturbs it in place")
    grad = np.zeros(x.shape, dtype=np.float64)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        try:
            x[idx] = old + eps
            f_plus = float(f())
            x[idx] = old - eps
            f_minus = float(f())
        finally:
            x[idx] = old
        if not (math.isfinite(f_plus) and math.isfinite(f_minus)):
            raise ValueError(
                f"f must return a finite number; got {f_plus} and {f_minus} with "
                f"x{list(idx)} moved by ±eps={eps}"
            )
        grad[idx] = (f_plus - f_minus) / (2.0 * eps)
    return grad


def relative_error(a: np.ndarray, b: np.ndarray, *, floor: float = 1e-8) -> float:
    """Largest elementwise relative difference, CS231n style.

    ``max_i |a_i - b_i| / max(floor, |a_i| + |b_i|)``. Dividing by the sum of
    magnitudes makes it symmetric and scale-free; the ``floor`` (CS231n's 1e-8)
    stops entries where both are (near) zero from dividing by zero, so there the
    measure becomes an absolute difference scaled by ``1/floor``. Empty arrays
    give 0.0. Rough reading in float64: < 1e-7 fine, > 1e-4 wrong.

    A NaN or infinite entry in ``a`` or ``b`` gives ``inf``, never NaN: NaN
    compares false with every threshold, so ``err > 1e-4`` would report a
    broken gradient as fine.

    Implements chapter 4, equation ``relative-error``.
    """
    a = as_float_array("a", a)
    b = as_float_array("b", b)
    if a.shape != b.shape:
        raise ValueError(
            f"a and b must have the same shape; got {a.shape} and {b.shape}"
        )
    floor = check_positive_float("floor", floor)
    if a.size == 0:
        return 0.0
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return math.inf
    return float(np.max(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))))


def grad_check_params(
    loss_fn: Callable[[dict[str, np.ndarray]], float],
    params: dict[str, np.ndarray],
    analytic_grads: dict[str, np.ndarray],
    eps: float = 1e-5,
) -> dict[str, float]:
    """Relative error (see :func:`relative_error`) of each analytic gradient.

    Args:
        loss_fn: ``loss_fn(params) -> float``; called with ``params`` while
            one entry of one array is perturbed in place.
        params: dict of floating-point arrays.
        analytic_grads: dict with the same keys and shapes (the gradient you
            want to check).
        eps: finite-difference step.

    Returns:
        ``{name: relative error}`` for every key of ``params``. ``params`` is
        left as it was.
    """
    if not callable(loss_fn):
        raise TypeError(
            f"loss_fn must be a callable loss_fn(params) -> float; "
            f"got {type(loss_fn).__name__}"
        )
    if not isinstance(params, dict) or not isinstance(analytic_grads, dict):
        raise TypeError("params and analytic_grads must both be dicts of arrays")
    if set(params) != set(analytic_grads):
        raise ValueError(
            f"analytic_grads must have the keys of params {sorted(params)}; "
            f"got {sorted(analytic_grads)}"
        )
    errors = {}
    for name, p in params.items():
        check_float_array(f"params[{name!r}]", p)
        g = np.asarray(analytic_grads[name])
        if g.shape != p.shape:
            raise ValueError(
                f"analytic_grads[{name!r}] must have shape {p.shape}; got {g.shape}"
            )
        num = numerical_gradient(lambda: loss_fn(params), p, eps)
        errors[name] = relative_error(g, num)
    return errors
