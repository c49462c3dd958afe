"""Perplexity of a trained language model on held-out text, measured two ways.

**Perplexity** is the lesson's headline number. A language model assigns the
true next token ``x_t`` a probability ``P(x_t | x_<t)``; its average negative
log-likelihood (NLL, the cross-entropy loss in nats) is

    NLL = -(1/N) sum_t log P(x_t | x_<t),        ppl = exp(NLL)

(chapter 2, equation ``perplexity``; the ``exp`` is taken by
:func:`rnnkit.losses.perplexity`, and only there). Perplexity is "the number of
tokens the model is choosing between": a model that guesses uniformly over
``V`` tokens has ``NLL = log V`` and so ``ppl = V`` (28 for the letters-only
character vocabulary), a model that is always sure and right has ``ppl = 1``.

Two ways to read held-out text, one function each:

* :func:`evaluate_perplexity` reads one id array as ``B`` long streams and
  carries the hidden state from chunk to chunk (every token sees all the text
  before it in its stream): the measure of the chapters;
* :func:`window_perplexity` scores a set of fixed windows, each from a zero
  state: the measure of Dive into Deep Learning's character model, used by
  ``benchmarks/bench_charlm.py`` so that results compare.

Models take ids ``(T, B)`` and return logits ``(T, B, V)``, time-major (see
:class:`rnnkit.rnn_torch.RNNLM`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .batching import as_ids
from .losses import perplexity
from .rnn_torch import as_id_tensor
from .shapes import check_positive_int

__all__ = ["window_perplexity", "evaluate_perplexity"]


def _model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def _check_model(model: object) -> nn.Module:
    """A language model: an ``nn.Module`` with ``vocab_size``, like ``RNNLM``."""
    if not isinstance(model, nn.Module) or not hasattr(model, "vocab_size"):
        raise TypeError(
            "model must be a language model like rnnkit.rnn_torch.RNNLM (an "
            f"nn.Module with vocab_size); got {type(model).__name__}"
        )
    return model


def _summed_nll(logits: torch.Tensor, Y: torch.Tensor) -> float:
    """Summed NLL ``-sum log softmax(logits)[Y]``: logits (T, B, V), Y (T, B)."""
    V = logits.shape[-1]
    return F.cross_entropy(logits.reshape(-1, V), Y.reshape(-1), reduction="sum").item()


def window_perplexity(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    Y: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 1024,
) -> float:
    """Perplexity over fixed windows, each read from a zero state.

    ``X`` and ``Y`` are ``(T, N)`` ids, time-major like every batch: column
    ``n`` is window ``n``, and ``Y`` holds the next tokens (as from
    ``benchmarks/d2l_split.d2l_windows``). The perplexity is that of the mean
    NLL over every position of every window; windows are read
    ``batch_size`` at a time. No gradients; the model's train/eval mode is
    restored. Uniform guessing over ``V`` tokens gives ``V``.

    Implements chapter 2, equation ``perplexity``.
    """
    model = _check_model(model)
    V = model.vocab_size
    X = as_id_tensor(X, V, "X")
    Y = as_id_tensor(Y, V, "Y")
    if X.shape != Y.shape:
        raise ValueError(
            f"X and Y must have the same shape (T, N); got {tuple(X.shape)} and "
            f"{tuple(Y.shape)}"
        )
    if X.numel() == 0:
        raise ValueError(
            "X is empty; expected at least one window of at least one token"
        )
    batch_size = check_positive_int("batch_size", batch_size)
    device = _model_device(model)
    was_training = model.training
    model.eval()
    total = 0.0
    try:
        with torch.no_grad():
            for i in range(0, X.shape[1], batch_size):
                xb = X[:, i : i + batch_size].to(device)  # (T, B)
                yb = Y[:, i : i + batch_size].to(device)
                logits, _ = model(xb)  # (T, B, V)
                total += _summed_nll(logits, yb)
    finally:
        model.train(was_training)
    return perplexity(total / X.numel())


def evaluate_perplexity(
    model: nn.Module,
    ids: Sequence[int] | np.ndarray,
    *,
    batch_size: int = 16,
    num_steps: int = 64,
) -> float:
    """Perplexity of ``model`` on a held-out id array, reading it as long streams.

    The ``N`` ids are cut into ``B = min(batch_size, N - 1)`` contiguous
    streams of ``L = (N - 1) // B`` predictions each (stream ``b`` reads
    ``ids[b*L : (b+1)*L + 1]``), read ``num_steps`` at a time with the hidden
    state carried across chunks, so each token is predicted from all of its
    stream before it. Every next-token prediction of the streams is scored;
    the last ``(N - 1) mod B`` tokens are left out. No gradients; the model's
    train/eval mode is restored.

    Uniform guessing over ``V`` tokens gives exactly ``V``; a perfect model 1.

    Implements chapter 2, equation ``perplexity``.
    """
    model = _check_model(model)
    arr = as_ids(ids)
    if arr.size < 2:
        raise ValueError(
            f"ids must hold at least 2 tokens (an input and its target); got {arr.size}"
        )
    batch_size = check_positive_int("batch_size", batch_size)
    num_steps = check_positive_int("num_steps", num_steps)
    V = model.vocab_size
    B = min(batch_size, arr.size - 1)
    L = (arr.size - 1) // B  # predictions per stream
    pos = np.arange(L)[:, None] + L * np.arange(B)[None, :]  # (L, B): stream b, step t
    Xs = as_id_tensor(arr[pos], V, "ids")  # (L, B)
    Ys = as_id_tensor(arr[pos + 1], V, "ids")  # (L, B): the next token
    device = _model_device(model)
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    try:
        with torch.no_grad():
            for i in range(0, L, num_steps):
                xb = Xs[i : i + num_steps].to(device)  # (T, B)
                yb = Ys[i : i + num_steps].to(device)
                logits, state = model(xb, state)  # (T, B, V), (B, h)
                total += _summed_nll(logits, yb)
    finally:
        model.train(was_training)
    return perplexity(total / (B * L))
