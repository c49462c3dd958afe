"""How a gradient travels back through time in a vanilla RNN, in numpy.

With the names of the book (time-major, batch ``B``, ``A[t]`` and ``H[t]`` the
pre-activation and state *after* reading ``x[t]``; ``h_0`` is the initial state)::

    a_t = W_xh x_t + W_hh h_{t-1} + b_h,      h_t = phi(a_t)   # (B, h)

one step back multiplies a gradient by the transpose of the step Jacobian::

    dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh                        # (h, h)

so the gradient a loss at the last step ``T`` sends to an earlier state goes
through the product::

    dh_T/dh_t = prod_{s=t+1}^{T} diag(phi'(a_s)) W_hh           (T - t factors)

whose norm is at most ``(max|phi'| * sigma_max(W_hh)) ** (T - t)``: it shrinks
geometrically when that factor is below 1, and for ``phi`` the identity it
grows or shrinks like ``rho(W_hh) ** (T - t)`` in the long run, ``rho`` being
the spectral radius. This module computes those products step by step,
without autograd, so the chapter on vanishing gradients can measure them. The
forward pass is :func:`rnnkit.rnn_numpy.rnn_step_forward`, called once per step;
``"linear"`` (``phi`` the identity) is one of its activations.

Reading order: activations and the forward pass that records ``a_t``, one
step's Jacobian, the chain of products and its norms, the spectral radius and
rescaling, then the measurement over several radii.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rnnkit.rnn_numpy import NUMPY_ACTIVATIONS, rnn_step_forward
from rnnkit.shapes import (
    as_float_array,
    check_choice,
    check_finite,
    check_float_array,
    check_ndim_shape,
    check_nonempty,
    check_positive_float,
)

__all__ = [
    "ACTIVATIONS",
    "NORMS",
    "activation_derivative",
    "forward_preactivations",
    "step_jacobians",
    "jacobian_chain",
    "jacobian_chain_norms",
    "per_step_bound",
    "spectral_radius",
    "scale_to_spectral_radius",
    "chain_norms_for_radii",
    "geometric_rate",
]

#: ``"tanh"``, ``"relu"`` and ``"linear"`` (``phi`` the identity), as in rnn_numpy.
ACTIVATIONS = NUMPY_ACTIVATIONS
NORMS = ("spectral", "fro")

# max |phi'| over all pre-activations, for the bound of per_step_bound
_MAX_SLOPE = {"linear": 1.0, "tanh": 1.0, "relu": 1.0}


# -- activations and forward -----------------------------------------------------


def activation_derivative(A: np.ndarray, activation: str = "tanh") -> np.ndarray:
    """``phi'(A)`` elementwise, any shape.

    ``1 - tanh(A)^2`` (tanh), ``[A > 0]`` (relu) or ``1`` (linear). The relu
    derivative at exactly 0 is taken as 0, as torch does.

    Implements chapter 5, equation ``step-jacobian``.
    """
    check_float_array("A", A)
    check_choice("activation", activation, ACTIVATIONS)
    if activation == "linear":
        return np.ones_like(A)
    if activation == "tanh":
        return 1.0 - np.tanh(A) ** 2
    return (A > 0).astype(A.dtype)


def _check_W_hh(W_hh: object) -> int:
    check_ndim_shape(
        "W_hh", check_float_array("W_hh", W_hh), (None, None), dims=("h", "h")
    )
    h = W_hh.shape[0]
    check_ndim_shape(
        "W_hh",
        W_hh,
        (h, h),
        dims=("h", "h"),
        hint="W_hh maps a state to a state, so it is square",
    )
    check_finite("W_hh", W_hh)
    return h


def forward_preactivations(
    x: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_h: np.ndarray,
    h0: np.ndarray | None = None,
    activation: str = "tanh",
) -> tuple[np.ndarray, np.ndarray]:
    """Run the RNN over ``x`` and keep the pre-activations, which the Jacobians need.

    Each step is :func:`rnnkit.rnn_numpy.rnn_step_forward`, the one definition of
    the recurrence: called with ``"linear"`` it returns the pre-activation
    ``a_t``, called with ``activation`` the state ``h_t = phi(a_t)``. With
    ``"linear"`` the Jacobians no longer depend on the data.

    Args:
        x: ``(T, B, d)`` inputs, ``T >= 1``.
        W_xh: ``(h, d)``; W_hh: ``(h, h)``; b_h: ``(h,)``.
        h0: ``(B, h)`` initial state; ``None`` for zeros.
        activation: ``"linear"``, ``"tanh"`` or ``"relu"``.

    Returns:
        ``(A, H)``, both ``(T, B, h)``: ``A[t] = a_{t+1}`` and ``H[t] = h_{t+1}``.
    """
    h = _check_W_hh(W_hh)
    check_ndim_shape(
        "W_xh", check_float_array("W_xh", W_xh), (h, None), dims=("h", "d")
    )
    d = W_xh.shape[1]
    check_ndim_shape("b_h", check_float_array("b_h", b_h), (h,), dims=("h",))
    hint = "for a single sequence add a batch axis: x[:, None, :]"
    check_float_array("x", x)
    check_ndim_shape(
        "x",
        x,
        (None, None, d),
        dims=("T", "B", "d"),
        hint=hint if x.ndim == 2 else None,
    )
    T, B, _ = x.shape
    if T == 0:
        raise ValueError("x must hold at least one time step (T >= 1); got T=0")
    check_nonempty("x", x, ("T", "B", "d"))
    check_choice("activation", activation, ACTIVATIONS)
    dtype = np.result_type(x, W_xh, W_hh, b_h)
    if h0 is None:
        h0 = np.zeros((B, h), dtype=dtype)
    check_ndim_shape("h0", check_float_array("h0", h0), (B, h), dims=("B", "h"))
    for name, arr in (("x", x), ("W_xh", W_xh), ("b_h", b_h), ("h0", h0)):
        check_finite(name, arr)

    A = np.empty((T, B, h), dtype=dtype)
    H = np.empty((T, B, h), dtype=dtype)
    h_t = h0
    for t in range(T):
        # a_{t+1}: the step with phi the identity; then h_{t+1} = phi(a_{t+1})
        A[t], _ = rnn_step_forward(x[t], h_t, W_xh, W_hh, b_h, "linear")
        h_t, _ = rnn_step_forward(x[t], h_t, W_xh, W_hh, b_h, activation)
        H[t] = h_t
    return A, H


# -- Jacobians --------------------------------------------------------------------


def _check_A(A: object, h: int) -> np.ndarray:
    check_float_array("A", A)
    check_ndim_shape(
        "A",
        A,
        (None, None, h),
        dims=("T", "B", "h"),
        hint="for a single sequence add a batch axis: A[:, None, :]"
        if A.ndim == 2
        else None,
    )
    if A.shape[0] == 0:
        raise ValueError("A must hold at least one time step (T >= 1); got T=0")
    check_nonempty("A", A, ("T", "B", "h"))
    if np.isnan(A).any():  # inf is fine: phi' has a limit there; NaN has none
        first = tuple(int(i) for i in np.argwhere(np.isnan(A))[0])
        raise ValueError(f"A must not hold NaN; found NaN at index {first}")
    return A


def step_jacobians(
    W_hh: np.ndarray, A: np.ndarray, activation: str = "tanh"
) -> np.ndarray:
    """Every one-step Jacobian ``J[t] = dh_{t+1}/dh_t = diag(phi'(A[t])) W_hh``.

    Args:
        W_hh: ``(h, h)``.
        A: ``(T, B, h)`` pre-activations, ``A[t] = a_{t+1}`` (from
            :func:`forward_preactivations`).
        activation: ``"linear"``, ``"tanh"`` or ``"relu"``.

    Returns:
        ``(T, B, h, h)``; ``J[t, b, i, j] = d h_{t+1, b, i} / d h_{t, b, j}``.

    Implements chapter 5, equation ``step-jacobian``.
    """
    h = _check_W_hh(W_hh)
    _check_A(A, h)
    D = activation_derivative(A, activation)  # (T, B, h)
    return D[..., :, None] * W_hh  # row i scaled by phi'(a_i)


def _chain(W_hh: np.ndarray, A: np.ndarray, activation: str):
    """Yield ``(t, C_t)`` for t = T-1 down to 0, ``C_t = dh_T/dh_t`` (B, h, h)."""
    D = activation_derivative(A, activation)  # (T, B, h)
    T, B, h = A.shape
    C = np.broadcast_to(np.eye(h, dtype=np.result_type(A, W_hh)), (B, h, h))  # I
    for t in reversed(range(T)):
        # dh_T/dh_t = dh_T/dh_{t+1} . dh_{t+1}/dh_t = C_{t+1} diag(phi'(a_{t+1})) W_hh
        C = (C * D[t][:, None, :]) @ W_hh  # (B, h, h)
        yield t, C


def jacobian_chain(
    W_hh: np.ndarray, A: np.ndarray, activation: str = "tanh"
) -> np.ndarray:
    """The products ``C[t] = dh_T/dh_t`` for ``t = 0, ..., T-1`` (``h_0``: initial).

    Computed backwards, one step at a time, as BPTT does:
    ``C[T-1] = J[T-1]`` and ``C[t] = C[t+1] J[t]`` with ``J`` from
    :func:`step_jacobians`. ``C[t]`` has ``T - t`` factors.

    Args:
        W_hh: ``(h, h)``.
        A: ``(T, B, h)`` pre-activations, ``A[t] = a_{t+1}``.
        activation: ``"linear"``, ``"tanh"`` or ``"relu"``.

    Returns:
        ``(T, B, h, h)``; ``C[t, b, i, j] = d h_{T, b, i} / d h_{t, b, j}``.
        Memory is ``T * B * h * h`` floats; for long sequences use
        :func:`jacobian_chain_norms`, which keeps one product at a time.

    Implements chapter 5, equation ``jacobian-chain``.
    """
    h = _check_W_hh(W_hh)
    _check_A(A, h)
    check_choice("activation", activation, ACTIVATIONS)
    T, B, _ = A.shape
    out = np.empty((T, B, h, h), dtype=np.result_type(A, W_hh))
    for t, C in _chain(W_hh, A, activation):
        out[t] = C
    return out


def jacobian_chain_norms(
    W_hh: np.ndarray, A: np.ndarray, activation: str = "tanh", *, norm: str = "spectral"
) -> np.ndarray:
    """``||dh_T/dh_t||`` for ``t = 0, ..., T-1``: how much of a gradient reaches step t.

    Entry ``t`` is ``T - t`` steps back from the end (so entry ``T - 1`` is one
    step back and entry 0, the initial state, ``T`` steps back).

    Args:
        W_hh: ``(h, h)``.
        A: ``(T, B, h)`` pre-activations, ``A[t] = a_{t+1}``.
        activation: ``"linear"``, ``"tanh"`` or ``"relu"``.
        norm: ``"spectral"`` (the largest singular value: the most a unit
            gradient on ``h_T`` can become at ``h_t``; default) or ``"fro"``.

    Returns:
        ``(T, B)`` norms, one per step and sequence.

    Implements chapter 5, equation ``jacobian-chain``.
    """
    h = _check_W_hh(W_hh)
    _check_A(A, h)
    check_choice("activation", activation, ACTIVATIONS)
    check_choice("norm", norm, NORMS)
    T, B, _ = A.shape
    out = np.empty((T, B), dtype=np.result_type(A, W_hh))
    for t, C in _chain(W_hh, A, activation):
        if norm == "spectral":
            out[t] = np.linalg.svd(C, compute_uv=False)[:, 0]
        else:
            out[t] = np.sqrt(np.einsum("bij,bij->b", C, C))
    return out


def per_step_bound(W_hh: np.ndarray, activation: str = "tanh") -> float:
    """``gamma = max|phi'| * sigma_max(W_hh)``: a step back scales a gradient by <= it.

    Since the spectral norm of a product is at most the product of the norms,
    ``||dh_T/dh_t|| <= gamma ** (T - t)`` (spectral norm) for any data.
    For all three activations ``max|phi'| = 1``.

    Implements chapter 5, equation ``gradient-bound``.
    """
    _check_W_hh(W_hh)
    check_choice("activation", activation, ACTIVATIONS)
    return _MAX_SLOPE[activation] * float(np.linalg.norm(W_hh, 2))


# -- spectral radius --------------------------------------------------------------


def spectral_radius(W: np.ndarray) -> float:
    """``rho(W) = max_i |lambda_i(W)|``, the largest eigenvalue modulus of square ``W``.

    It is at most ``sigma_max(W)``, and equal to it for symmetric or orthogonal
    ``W``; ``||W^k||^(1/k) -> rho(W)`` as ``k`` grows, which is why it decides
    whether a linear recurrence shrinks or blows up in the long run.

    Implements chapter 5, equation ``spectral-radius``.
    """
    check_ndim_shape("W", check_float_array("W", W), (None, None), dims=("h", "h"))
    if W.shape[0] != W.shape[1] or W.shape[0] == 0:
        raise ValueError(
            f"W must be a non-empty square matrix (h, h); got shape {W.shape}"
        )
    check_finite("W", W)
    return float(np.abs(np.linalg.eigvals(W)).max())


def scale_to_spectral_radius(W: np.ndarray, rho: float) -> np.ndarray:
    """A copy of ``W`` times ``rho / spectral_radius(W)``: spectral radius ``rho``.

    Scaling a matrix scales every eigenvalue, so the eigenvectors (and the
    "shape" of the matrix) stay the same. Raises ``ValueError`` when ``W`` has
    spectral radius 0 (e.g. the zero matrix or a nilpotent one), or one below
    ``1e-6 * sigma_max(W)``, which floating point cannot tell from 0: no
    scaling can give it another.
    """
    rho = check_positive_float("rho", rho)
    r = spectral_radius(W)
    # Eigenvalues that are exactly 0 come out of floating point as round-off, up to
    # about sqrt(machine epsilon) * ||W|| for a 2x2 nilpotent block; below
    # 1e-6 * ||W|| we call them 0.
    if r <= 1e-6 * float(np.linalg.norm(W, 2)) or r == 0.0:
        raise ValueError(
            f"W has spectral radius 0 (up to round-off: {r:.1e}), so no scaling gives "
            f"it radius {rho}; start from a matrix with a non-zero eigenvalue"
        )
    return W * (rho / r)


# -- measurement ------------------------------------------------------------------


def chain_norms_for_radii(
    x: np.ndarray,
    W_xh: np.ndarray,
    W_hh: np.ndarray,
    b_h: np.ndarray,
    radii: Iterable[float],
    activation: str = "tanh",
    *,
    h0: np.ndarray | None = None,
    norm: str = "spectral",
) -> dict[float, np.ndarray]:
    """For each ``rho`` in ``radii``: rescale ``W_hh``, run ``x``, measure the chain.

    The same inputs, ``W_xh``, ``b_h`` and direction of ``W_hh`` for every
    radius, so the radius is the only thing that changes.

    Args:
        x: ``(T, B, d)`` inputs.
        W_xh: ``(h, d)``; W_hh: ``(h, h)``, non-zero spectral radius; b_h: ``(h,)``.
        radii: positive numbers, at least one.
        activation, h0, norm: as in :func:`forward_preactivations` and
            :func:`jacobian_chain_norms`.

    Returns:
        ``{rho: norms}`` with ``norms`` of shape ``(T, B)``: ``norms[t] =
        ||dh_T/dh_t||``, ``T - t`` steps back.
    """
    if isinstance(radii, str) or not isinstance(radii, Iterable):
        raise TypeError(
            f"radii must be a list of positive numbers; got {type(radii).__name__}"
        )
    radii = list(radii)
    if not radii:
        raise ValueError("radii must hold at least one spectral radius; got none")
    for i, rho in enumerate(radii):
        check_positive_float(f"radii[{i}]", rho)
    _check_W_hh(W_hh)
    out = {}
    for rho in radii:
        W = scale_to_spectral_radius(W_hh, rho)
        A, _ = forward_preactivations(x, W_xh, W, b_h, h0, activation)
        out[float(rho)] = jacobian_chain_norms(W, A, activation, norm=norm)
    return out


def geometric_rate(norms: np.ndarray, lags: np.ndarray) -> float:
    """The factor per step of a geometric trend ``norms ~ c * r ** lags``.

    ``r = exp(slope)``, ``slope`` the least-squares slope of ``log(norms)``
    against ``lags``. A rate below 1 means the norm shrinks by that factor per
    step back, above 1 that it grows. For the norms of the linear chain,
    ``||W^k||``, it estimates ``lim ||W^k||^(1/k)``, the spectral radius.

    Args:
        norms: ``(n,)`` positive, finite numbers, ``n >= 2``.
        lags: ``(n,)`` step distances (``T - t``), not all equal.

    Implements chapter 5, equation ``spectral-radius``.
    """
    norms, lags = as_float_array("norms", norms), as_float_array("lags", lags)
    check_finite("lags", lags)
    if norms.ndim != 1 or norms.shape != lags.shape or norms.size < 2:
        raise ValueError(
            "norms and lags must be 1-D of the same length >= 2; "
            f"got shapes {norms.shape} and {lags.shape}"
        )
    if not (np.isfinite(norms).all() and (norms > 0).all()):
        raise ValueError(
            "norms must be positive and finite to fit a line to their logarithm; "
            f"got min {norms.min()}, max {norms.max()}"
        )
    if np.ptp(lags) == 0:
        raise ValueError(
            "lags must not all be equal: a slope needs at least two different lags"
        )
    return float(np.exp(np.polyfit(lags, np.log(norms), 1)[0]))
