"""Gradient clipping by global norm, for a dict of numpy gradients.

Exploding gradients in BPTT show up as a huge norm of the whole gradient; the
usual cure rescales *all* gradients together, so the update keeps its direction
but its length is capped::

    n = sqrt(sum_k ||g_k||^2)            # global norm over every array
    if n > max_norm:  g_k <- g_k * (max_norm / n)   for every k

This is ``torch.nn.utils.clip_grad_norm_`` for numpy (torch adds 1e-6 to ``n``;
we do not, so the clipped norm is ``max_norm`` up to round-off). min-char-rnn's
``np.clip(g, -5, 5)`` is a different cure: it clips each entry and so changes the
direction.
"""

from __future__ import annotations

import numpy as np

from rnnkit.shapes import check_float_array, check_positive_float

__all__ = ["global_norm", "clip_grad_norm"]


def global_norm(grads: dict[str, np.ndarray]) -> float:
    """``sqrt(sum_k ||grads[k]||^2)``, the Euclidean norm of all arrays as one vector.

    Implements chapter 4, equation ``clip-norm``.
    """
    if not isinstance(grads, dict):
        raise TypeError(
            f"grads must be a dict of numpy arrays; got {type(grads).__name__}"
        )
    for k, g in grads.items():
        check_float_array(f"grads[{k!r}]", g)
    arrays = [np.asarray(g, dtype=np.float64) for g in grads.values() if g.size]
    if not arrays:
        return 0.0
    # Usually: one dot product per array (a single pass, in BLAS). Its squares overflow
    # only for entries above ~1e154 and lose precision only below ~1e-154, so a sum
    # outside (1e-290, inf) -- or NaN -- takes the careful way below instead.
    total = sum(float(np.vdot(g, g)) for g in arrays)
    if 1e-290 < total < np.inf:
        return float(np.sqrt(total))
    # Divide by the largest magnitude first so squaring cannot overflow for large finite
    # values.
    m = max(float(np.max(np.abs(g))) for g in arrays)
    if m == 0.0 or not np.isfinite(m):
        return m
    return m * float(np.sqrt(sum(float(np.sum(np.square(g / m))) for g in arrays)))


def clip_grad_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Rescale ``grads`` in place so that their global norm is at most ``max_norm``.

    Args:
        grads: dict of floating-point arrays (e.g. from ``lm_loss_and_grads``);
            modified in place when clipping happens.
        max_norm: finite number > 0.

    Returns:
        The global norm *before* clipping (plot it to see gradients explode).

    Raises:
        ValueError: ``max_norm`` is not > 0, or a gradient holds NaN/inf
            (rescaling cannot repair that; lower the learning rate instead).

    Implements chapter 4, equation ``clip-norm``.
    """
    max_norm = check_positive_float("max_norm", max_norm)
    norm = global_norm(grads)
    if not np.isfinite(norm):
        bad = [k for k, g in grads.items() if not np.isfinite(g).all()]
        raise ValueError(
            f"gradients must be finite to be clipped; non-finite values in {bad}"
        )
    if norm > max_norm:
        scale = max_norm / norm
        for g in grads.values():
            g *= scale
    return norm
