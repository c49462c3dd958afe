"""Plausible bugs in exercise 6 (vanishing and exploding gradients), each caught by a
visible test whose message names it.

The visible tests use T=4, B=3, h=5 (pairwise distinct), a non-symmetric W_hh and
one pre-activation exactly at relu's kink, so a transposed Jacobian, tanh' taken of
the pre-activation, the spectral norm in place of the radius and relu'(0) = 1 all
fail visibly. Later functions reuse earlier ones (step_jacobians uses
activation_derivative, jacobian_chain_norms uses step_jacobians, linear_chain_rate
uses jacobian_chain_norms, predict_regime uses spectral_radius), so a bug also fails
the tests downstream of it, as listed in ``failing``.
"""

VARIANTS = {
    "tanh_slope_of_preactivation": {
        "doc": "tanh'(a) written as 1 - a**2, the state formula 1 - h**2 applied to a",
        "replacements": {
            "activation_derivative": '''def activation_derivative(A, activation="tanh"):
    """phi'(A) elementwise: 1 - tanh(A)^2, [A > 0] (relu) or 1 (linear)."""
    if activation == "tanh":
        return 1.0 - A**2
    if activation == "relu":
        return (A > 0).astype(float)
    return np.ones_like(A, dtype=float)
''',
        },
        "failing": [
            "test_activation_derivative_visible",
            "test_activation_derivative_hidden",
            "test_step_jacobians_visible",
            "test_step_jacobians_hidden",
            "test_jacobian_chain_norms_visible",
            "test_jacobian_chain_norms_hidden",
        ],
        "feedback": "you wrote 1 - a^2",
    },
    "jacobian_transposed": {
        "doc": "the step Jacobian built from W_hh.T, as in the row-vector forward pass",
        "replacements": {
            "step_jacobians": '''def step_jacobians(W_hh, A, activation="tanh"):
    """Every one-step Jacobian J[t] = dh_{t+1}/dh_t, (T, B, h, h)."""
    D = activation_derivative(A, activation)  # (T, B, h)
    return D[..., :, None] * W_hh.T
''',
        },
        "failing": [
            "test_step_jacobians_visible",
            "test_step_jacobians_hidden",
            "test_jacobian_chain_norms_visible",
            "test_jacobian_chain_norms_hidden",
        ],
        "feedback": "use W_hh, not W_hh.T",
    },
    "relu_slope_at_zero": {
        "doc": "relu'(0) taken as 1 (a >= 0), unlike torch and rnnkit",
        "replacements": {
            "activation_derivative": '''def activation_derivative(A, activation="tanh"):
    """phi'(A) elementwise: 1 - tanh(A)^2, [A >= 0] (relu) or 1 (linear)."""
    if activation == "tanh":
        return 1.0 - np.tanh(A) ** 2
    if activation == "relu":
        return (A >= 0).astype(float)
    return np.ones_like(A, dtype=float)
''',
        },
        "failing": [
            "test_activation_derivative_visible",
            "test_activation_derivative_hidden",
            "test_step_jacobians_visible",
        ],
        "feedback": "use a > 0, not a >= 0",
    },
    "product_of_norms": {
        "doc": "the chain norm as the product of the step Jacobians' norms (the bound)",
        "replacements": {
            "jacobian_chain_norms": '''def jacobian_chain_norms(
    W_hh, A, activation="tanh", *, norm="spectral"
):
    """||dh_T/dh_t|| for t = 0, ..., T-1, shape (T, B)."""
    J = step_jacobians(W_hh, A, activation)
    if norm == "spectral":
        step = np.linalg.svd(J, compute_uv=False)[..., 0]      # (T, B)
    else:
        step = np.sqrt((J * J).sum(axis=(2, 3)))
    return np.cumprod(step[::-1], axis=0)[::-1]
''',
        },
        "failing": [
            "test_jacobian_chain_norms_visible",
            "test_jacobian_chain_norms_hidden",
            "test_predict_regime_visible",
            "test_predict_regime_hidden",
        ],
        "feedback": "you multiplied the norms of the step Jacobians",
    },
    "spectral_norm_not_radius": {
        "doc": "spectral_radius returns np.linalg.norm(W, 2), the spectral norm",
        "replacements": {
            "spectral_radius": '''def spectral_radius(W):
    """rho(W), the largest ... singular value?"""
    return float(np.linalg.norm(W, 2))


def scale_to_spectral_radius(W, rho):
    """A copy of W times rho / spectral_radius(W)."""
    r = spectral_radius(W)
    if r == 0.0:
        raise ValueError("W has spectral radius 0: no scaling gives it another")
    return W * (rho / r)
''',
        },
        "failing": [
            "test_spectral_radius_visible",
            "test_spectral_radius_hidden",
            "test_predict_regime_visible",
            "test_predict_regime_hidden",
        ],
        "feedback": "that is the spectral norm sigma_max",
    },
    "rate_from_last_entry": {
        "doc": "linear_chain_rate reads the norm one step back (entry -1), not k back",
        "replacements": {
            "predict_regime": '''def predict_regime(W_hh, tol=1e-6):
    """'vanish' if rho(W_hh) < 1 - tol, 'explode' if rho > 1 + tol, else 'neither'."""
    rho = spectral_radius(W_hh)
    if rho < 1 - tol:
        return "vanish"
    if rho > 1 + tol:
        return "explode"
    return "neither"


def linear_chain_rate(W_hh, k):
    """||W_hh^k||^(1/k): the factor per step of a linear RNN's chain over k steps."""
    if k < 1:
        raise ValueError(f"k must be at least 1; got {k}")
    norms = jacobian_chain_norms(W_hh, np.zeros((k, 1, W_hh.shape[0])), "linear")
    return float(norms[-1, 0] ** (1.0 / k))
''',
        },
        "failing": ["test_predict_regime_visible", "test_predict_regime_hidden"],
        "feedback": "entry 0 of jacobian_chain_norms is the one k steps back",
    },
}
