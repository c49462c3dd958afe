"""Losses and the perplexity, each written once, in the book's reading order.

Layout is time-major as everywhere in ``rnnkit``: logits ``(T, B, V)``,
targets and masks ``(T, B)``.

* :func:`perplexity`: ``exp`` of a mean negative log-likelihood — the one place
  every model's perplexity is computed (chapter 2, equation ``perplexity``).
* :func:`softmax_cross_entropy` (numpy): the mean cross-entropy of a softmax
  and its gradient, for the numpy RNN and BPTT (chapter 3, equation
  ``rnn-loss``).
* :func:`binary_cross_entropy` (numpy): one yes/no output per position, e.g.
  "does this sequence contain the marker?" (chapter 5).
* :func:`sequence_mask` and :func:`masked_cross_entropy` (torch): padded
  batches (chapter 8, equations ``seq-mask`` and ``masked-loss``).

**Normalisation, once for all.** Every loss here is a *mean over the valid
positions*: ``sum_{t,b} m[t,b] * l[t,b] / sum_{t,b} m[t,b]`` where ``m`` is the
mask (all ones when there is none). Each real token weighs the same, however
long the sequence it sits in. The numpy and torch versions accept and reject
the same inputs: targets must be ids in ``[0, V)`` everywhere (padded positions
too: fill them with any valid id, such as ``<pad>``), and a mask must hold
bools or exact 0/1 values and select at least one position.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .shapes import (
    check_float_array,
    check_ids_in_range,
    check_int_array,
    check_ndim_shape,
    check_nonempty,
    check_positive_int,
    check_tensor,
)

__all__ = [
    "perplexity",
    "softmax_cross_entropy",
    "binary_cross_entropy",
    "sequence_mask",
    "masked_cross_entropy",
]


# -- perplexity -------------------------------------------------------------------
def perplexity(mean_nll: float) -> float:
    """``exp(mean_nll)``: perplexity from the mean negative log-likelihood in nats.

    ``mean_nll = -(1/N) sum_t log P(x_t | x_<t)``, the cross-entropy loss. A
    model that guesses uniformly over ``V`` tokens has ``mean_nll = log V`` and
    so perplexity ``V``; a model that is always sure and right has 1.

    >>> round(perplexity(math.log(28)), 9)
    28.0

    Implements chapter 2, equation ``perplexity``.
    """
    if isinstance(mean_nll, (torch.Tensor, np.ndarray)):
        n = mean_nll.size if isinstance(mean_nll, np.ndarray) else mean_nll.numel()
        if n != 1:
            raise ValueError(
                "mean_nll must be one number; got an array of shape "
                f"{tuple(mean_nll.shape)}"
            )
        mean_nll = float(mean_nll.item())
    if isinstance(mean_nll, bool) or not isinstance(mean_nll, Real):
        raise TypeError(
            f"mean_nll must be a number (a mean negative log-likelihood); "
            f"got {type(mean_nll).__name__}"
        )
    if not math.isfinite(mean_nll):
        raise ValueError(f"mean_nll must be finite; got {mean_nll}")
    if mean_nll < 0:
        raise ValueError(
            f"mean_nll must be >= 0 (a negative log-likelihood); got {mean_nll}: "
            "did you pass a log-likelihood instead of its negative?"
        )
    try:
        return math.exp(mean_nll)
    except OverflowError:  # above ~709.78 nats: a diverged model
        return math.inf


# -- shared checks: the same rules in numpy and torch --------------------------------
def _as_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else x


def _check_targets(targets: Any, V: int, name: str = "targets") -> None:
    hint = "padded positions included: fill them with any valid id"
    check_ids_in_range(name, targets, V, hint)


def _check_mask_values(mask: Any, name: str = "mask") -> np.ndarray:
    """Return the mask as a float64 numpy array of 0/1; refuse anything else."""
    m = _as_numpy(mask)
    if m.dtype != bool:
        if not np.issubdtype(m.dtype, np.number):
            raise TypeError(f"{name} must hold bools or 0/1; got dtype {m.dtype}")
        if not np.isin(m, (0, 1)).all():
            bad = m[~np.isin(m, (0, 1))].ravel()[0]
            raise ValueError(
                f"{name} must hold bools or exact 0/1 values (a position counts or it "
                f"does not); found {bad!r}"
            )
    m = m.astype(np.float64)
    if m.sum() == 0:
        raise ValueError(
            f"{name} selects no position; the mean over zero positions is undefined"
        )
    return m


# -- numpy losses (used by the numpy RNN and BPTT) -----------------------------------
def softmax_cross_entropy(
    O: np.ndarray, Y: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of ``softmax(O)`` against target ids, and its gradient.

    Args:
        O: ``(T, B, V)`` logits.
        Y: ``(T, B)`` integer targets in ``[0, V)``.
        mask: optional ``(T, B)`` bools or 0/1; only positions with ``mask = 1``
            count, and at least one must.

    Returns:
        ``(loss, dO)``: the mean of ``-log softmax(O)[t, b, Y[t, b]]`` over the
        valid positions, and ``dO = dloss/dO`` ``(T, B, V)``, equal to
        ``(softmax(O) - onehot(Y)) / n_valid`` at valid positions, 0 elsewhere.

    Implements chapter 3, equation ``rnn-loss``.
    Implements chapter 4, equation ``bptt-output``.
    """
    check_float_array("O", O)
    check_ndim_shape("O", O, (None, None, None), dims=("T", "B", "V"))
    T, B, V = O.shape
    if V == 0:
        raise ValueError(f"O must score at least one class (V >= 1); got {O.shape}")
    check_ndim_shape("Y", check_int_array("Y", Y), (T, B), dims=("T", "B"))
    _check_targets(Y, V, "Y")
    if mask is None:
        mask = np.ones((T, B), dtype=bool)
    check_ndim_shape("mask", mask, (T, B), dims=("T", "B"))
    w = _check_mask_values(mask).astype(O.dtype)
    n_valid = w.sum()

    shifted = O - O.max(axis=-1, keepdims=True)  # (T, B, V)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # log softmax
    nll = -np.take_along_axis(logp, Y[..., None], axis=-1)[..., 0]  # (T, B)
    loss = float((nll * w).sum() / n_valid)

    dO = np.exp(logp)  # softmax
    p_true = np.take_along_axis(dO, Y[..., None], axis=-1)
    np.put_along_axis(dO, Y[..., None], p_true - 1.0, axis=-1)
    dO *= (w / n_valid)[..., None]
    return loss, dO


def binary_cross_entropy(
    z: np.ndarray, y: np.ndarray, mask: np.ndarray | None = None
) -> tuple[float, np.ndarray]:
    """Mean binary cross-entropy of ``sigmoid(z)`` against 0/1 labels, and its gradient.

    ``l = -[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))] = log(1 + e^z) - y z``,
    computed as ``logaddexp(0, z) - y * z`` so that large ``|z|`` cannot overflow.
    Use it when each position has one yes/no answer (a sigmoid output), where a
    softmax over ``V`` classes would be cross-entropy instead.

    Args:
        z: logits of any shape, e.g. ``(B,)`` or ``(T, B)``.
        y: labels of the same shape, each 0 or 1.
        mask: optional, same shape, bools or 0/1.

    Returns:
        ``(loss, dz)``: the mean over valid positions and ``dloss/dz =
        (sigmoid(z) - y) / n_valid`` there (0 elsewhere).

    Implements chapter 5, equation ``bce``.
    """
    check_float_array("z", z)
    y = np.asarray(y) if isinstance(y, (list, tuple)) else y
    check_ndim_shape("y", y, z.shape, hint="the shape of z")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must hold labels 0 or 1")
    if mask is None:
        mask = np.ones(z.shape, dtype=bool)
    check_ndim_shape("mask", mask, z.shape)
    w = _check_mask_values(mask).astype(z.dtype)
    n_valid = w.sum()
    yf = y.astype(z.dtype)
    loss = float(((np.logaddexp(0.0, z) - yf * z) * w).sum() / n_valid)
    sigmoid = np.exp(-np.logaddexp(0.0, -z))  # 1 / (1 + e^-z) without overflow
    dz = (sigmoid - yf) * w / n_valid
    return loss, dz


# -- torch: masks and the masked loss ------------------------------------------------
def sequence_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """``m[t, b] = t < lengths[b]``: a ``(T, B)`` bool mask of the valid steps.

    >>> sequence_mask(torch.tensor([3, 1]), 4).T.int().tolist()
    [[1, 1, 1, 0], [1, 0, 0, 0]]

    Implements chapter 8, equation ``seq-mask``.
    """
    check_tensor("lengths", lengths, (None,), ("B",), integer=True)
    check_nonempty("lengths", lengths, ("B",))
    T = check_positive_int("T", T)
    if lengths.numel() and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(
            f"lengths must lie in [0, T={T}]; got min {int(lengths.min())}, "
            f"max {int(lengths.max())}"
        )
    return torch.arange(T, device=lengths.device).unsqueeze(1) < lengths.unsqueeze(0)


def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``sum_{t,b} m[t,b] * (-log softmax(logits[t,b])[targets[t,b]]) / sum m``.

    ``logits`` (T, B, V), ``targets`` (T, B) ids in ``[0, V)``, ``mask`` (T, B)
    bools or 0/1. Padded positions (``m = 0``) contribute nothing, whatever
    their (valid) target id. The same rules as :func:`softmax_cross_entropy`.

    Implements chapter 8, equation ``masked-loss``.
    """
    check_tensor("logits", logits, (None, None, None), ("T", "B", "V"))
    if not logits.dtype.is_floating_point:
        raise TypeError(
            f"logits must be a floating-point tensor; got dtype {logits.dtype}"
        )
    T, B, V = logits.shape
    if V == 0:
        raise ValueError(
            f"logits must score at least one class (V >= 1); got {tuple(logits.shape)}"
        )
    check_tensor("targets", targets, (T, B), ("T", "B"), integer=True)
    check_tensor("mask", mask, (T, B), ("T", "B"))
    _check_targets(targets, V)
    _check_mask_values(mask)
    m = mask.to(logits.dtype)
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, targets.long().unsqueeze(-1)).squeeze(-1)  # (T, B)
    return (nll * m).sum() / m.sum()
