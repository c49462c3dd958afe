"""The marker task of chapter 5: remember the first symbol for ``lag`` steps.

Each sequence starts with one of ``n_markers`` marker symbols, followed by
``lag`` tokens cut from a text at a random position; after reading all
``lag + 1`` symbols a model must say which marker came first. The text carries
no information about the marker, so a model that forgot it can do no better
than guessing, ``1 / n_markers``. The text's ids are ``0 .. vocab_size - 1``;
marker ``k`` has id ``vocab_size + k``, so a model reads ``vocab_size +
n_markers`` symbols.

* :func:`marker_batch` draws a batch: ids ``X`` ``(lag + 1, B)``, markers ``y``
  ``(B,)``;
* :class:`MarkerRNN` reads one-hot ids with ``nn.RNN``, ``nn.GRU`` or
  ``nn.LSTM`` and scores the markers from its last state;
* :class:`WindowMLP` is the feedforward baseline: it sees only the last
  ``window`` symbols, so a marker further back is invisible to it;
* :func:`train_marker_model` trains any of them with Adam on fresh batches,
  keeping the trainer contract of :mod:`rnnkit.training`;
* :func:`marker_accuracy` measures the fraction of markers recalled on fresh
  sequences (from held-out text).
"""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .seeding import seeded_torch, torch_generator
from .shapes import (
    check_bool,
    check_choice,
    check_finite_number,
    check_ids_in_range,
    check_int_array,
    check_ndim_shape,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from .training import check_clip, check_finite_loss, new_history, progress_bar, record

__all__ = [
    "CELLS",
    "marker_batch",
    "MarkerRNN",
    "WindowMLP",
    "train_marker_model",
    "marker_accuracy",
]

#: recurrent cells :class:`MarkerRNN` can use: torch's ``nn.RNN``, ``nn.GRU``,
#: ``nn.LSTM``
CELLS: tuple[str, ...] = ("rnn", "gru", "lstm")
_INITS = ("default", "orthogonal", "identity")


def _check_text(text: object, vocab_size: int, min_len: int) -> torch.Tensor:
    """``text``: 1-D integer ids in ``[0, vocab_size)``, at least ``min_len`` long."""
    if isinstance(text, torch.Tensor):
        if (
            text.dtype.is_floating_point
            or text.dtype.is_complex
            or (text.dtype == torch.bool)
        ):
            raise TypeError(f"text must hold integer token ids; got dtype {text.dtype}")
        if text.dim() != 1:
            raise ValueError(f"text must have shape (N,); got {tuple(text.shape)}")
        ids = text.long()
    else:
        check_int_array("text", text)
        check_ndim_shape("text", text, (None,), dims=("N",))
        ids = torch.from_numpy(text.astype(np.int64, copy=False))
    if len(ids) < min_len:
        raise ValueError(
            f"text must hold at least lag + 1 = {min_len} tokens to cut a sequence "
            f"from; got {len(ids)}"
        )
    check_ids_in_range("text", ids, vocab_size, "is vocab_size the text's?")
    return ids


def marker_batch(
    text: np.ndarray | torch.Tensor,
    vocab_size: int,
    lag: int,
    batch_size: int,
    *,
    n_markers: int = 4,
    seed: int | torch.Generator = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of the marker task: a marker, then ``lag`` tokens of ``text``.

    Args:
        text: token ids ``(N,)`` in ``[0, vocab_size)`` (numpy or torch), with
            ``N > lag``; each sequence copies ``lag`` consecutive tokens of it,
            from a random start.
        vocab_size: ``V``, the size of the text's vocabulary; marker ``k`` has
            id ``V + k``.
        lag: ``L >= 1``, the number of steps the marker must be carried.
        batch_size: ``B``, the number of sequences.
        n_markers: ``K >= 2``, the number of markers.
        seed: an int, or a ``torch.Generator`` to share one stream between
            batches (the starts are drawn first, then the markers).

    Returns:
        ``X`` ``(L + 1, B)`` int64 ids, ``X[0] = V + y``, ``X[1:]`` from
        ``text``; ``y`` ``(B,)`` int64 marker indices in ``[0, K)``.
    """
    vocab_size = check_positive_int("vocab_size", vocab_size)
    lag = check_positive_int("lag", lag)
    batch_size = check_positive_int("batch_size", batch_size)
    n_markers = _check_n_markers(n_markers)
    if not isinstance(seed, torch.Generator):
        check_seed("seed", seed)
    ids = _check_text(text, vocab_size, lag + 1)
    gen = torch_generator(seed)
    starts = torch.randint(0, len(ids) - lag, (batch_size,), generator=gen)  # (B,)
    letters = ids[starts[None, :] + torch.arange(lag)[:, None]]  # (L, B)
    y = torch.randint(0, n_markers, (batch_size,), generator=gen)  # (B,)
    return torch.cat([(vocab_size + y)[None], letters]), y


def _check_n_markers(n_markers: object) -> int:
    n_markers = check_positive_int("n_markers", n_markers)
    if n_markers < 2:
        raise ValueError("n_markers must be >= 2 (one marker is no task); got 1")
    return n_markers


def _check_ids(X: object, n_symbols: int) -> torch.Tensor:
    """``X``: ``(T, B)`` integer ids in ``[0, n_symbols)``, T, B >= 1."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(
            f"X must be a (T, B) torch.Tensor of token ids; got {type(X).__name__}"
        )
    if X.dtype.is_floating_point or X.dtype.is_complex or X.dtype == torch.bool:
        raise TypeError(
            f"X must hold integer token ids (int64); got dtype {X.dtype}; "
            "the model one-hot encodes ids itself"
        )
    if X.dim() != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        hint = "; for one sequence add a batch axis: X[:, None]" if X.dim() == 1 else ""
        raise ValueError(
            f"X must have shape (T, B) with T, B >= 1; got {tuple(X.shape)}{hint}"
        )
    check_ids_in_range("X", X, n_symbols, "text ids then marker ids (V + k)")
    return X.long()


class MarkerRNN(nn.Module):
    """One-hot ids ``(T, B)`` -> a recurrent cell -> scores of the markers ``(B, K)``.

    The cell reads one-hot vectors of size ``V + K`` (``vocab_size +
    n_markers``); a linear read-out maps the last hidden state ``h_T`` ``(B, h)``
    to ``K`` scores.

    Args:
        vocab_size: ``V``, the text's vocabulary size.
        n_markers: ``K >= 2``.
        hidden_size: ``h``.
        cell: ``"rnn"`` (``nn.RNN``), ``"gru"`` (``nn.GRU``) or ``"lstm"``
            (``nn.LSTM``).
        nonlinearity: ``"tanh"`` or ``"relu"``; only for ``cell="rnn"``.
        init: ``"default"`` (torch's: every weight uniform in
            ``±1/sqrt(h)``), ``"orthogonal"`` (``W_hh`` orthogonal; for
            ``"rnn"`` only) or ``"identity"`` (``W_hh = I`` and zero recurrent
            biases, the IRNN with ``nonlinearity="relu"``; ``"rnn"`` only).
        keep_bias: added to the bias of the gate that keeps the previous state,
            the LSTM's forget gate ``f`` or the GRU's update gate ``z`` (gated
            cells only). At ``b`` a unit starts by keeping about ``sigmoid(b)``
            of its state per step: 0 leaves torch's initialisation, 1 is the
            usual LSTM forget-gate bias, 3 keeps 95 % per step.
        seed: the weights are drawn with torch's global generator seeded with
            ``seed`` (:func:`rnnkit.seeding.seeded_torch`), read-out included.
    """

    def __init__(
        self,
        vocab_size: int,
        n_markers: int = 4,
        hidden_size: int = 32,
        *,
        cell: str = "rnn",
        nonlinearity: str = "tanh",
        init: str = "default",
        keep_bias: float = 0.0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.n_markers = _check_n_markers(n_markers)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.cell = check_choice("cell", cell, CELLS)
        check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        check_choice("init", init, _INITS)
        keep_bias = check_finite_number("keep_bias", keep_bias)
        seed = check_seed("seed", seed)
        if cell == "rnn" and keep_bias != 0:
            raise ValueError(
                f"keep_bias is for the gated cells ('gru', 'lstm'), which have a gate "
                f"that keeps the state; got keep_bias={keep_bias} with cell='rnn'"
            )
        if cell != "rnn" and nonlinearity != "tanh":
            raise ValueError(
                f"nonlinearity applies to cell='rnn' only; got nonlinearity="
                f"{nonlinearity!r} with cell={cell!r}"
            )
        if cell != "rnn" and init != "default":
            raise ValueError(
                f"init={init!r} is for cell='rnn' only (the gated cells have several "
                f"W_hh blocks); got cell={cell!r}"
            )
        d = self.vocab_size + self.n_markers
        with seeded_torch(seed):
            if cell == "rnn":
                self.rnn = nn.RNN(d, hidden_size, nonlinearity=nonlinearity)
            else:
                self.rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell](d, hidden_size)
            self.out = nn.Linear(hidden_size, self.n_markers)
            with torch.no_grad():
                if init == "orthogonal":
                    nn.init.orthogonal_(self.rnn.weight_hh_l0)
                elif init == "identity":
                    self.rnn.weight_hh_l0.copy_(torch.eye(hidden_size))
                    self.rnn.bias_ih_l0.zero_()
                    self.rnn.bias_hh_l0.zero_()
                if keep_bias:  # torch's gate order: GRU (r, z, n), LSTM (i, f, g, o)
                    self.rnn.bias_ih_l0[hidden_size : 2 * hidden_size] += keep_bias

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Scores ``(B, K)`` of the markers from ids ``X`` ``(T, B)``."""
        X = _check_ids(X, self.vocab_size + self.n_markers)
        x = F.one_hot(X, self.vocab_size + self.n_markers).float()  # (T, B, V+K)
        H, _ = self.rnn(x)  # (T, B, h)
        return self.out(H[-1])  # (B, K)


class WindowMLP(nn.Module):
    """The feedforward baseline: the last ``window`` symbols -> an MLP -> ``(B, K)``.

    The model concatenates the one-hot vectors of the last ``W`` symbols of
    each sequence, ``(B, W (V + K))``, and applies ``Linear -> tanh -> Linear``.
    A sequence shorter than ``W`` is padded in front with zero vectors. Anything
    more than ``W - 1`` steps before the last symbol is never seen, and every
    extra step of window costs ``(V + K) h`` more weights.

    Args:
        vocab_size: ``V``; n_markers: ``K >= 2``; window: ``W``;
        hidden_size: ``h``, the hidden layer's width;
        seed: the weights are drawn with torch's global generator seeded.
    """

    def __init__(
        self,
        vocab_size: int,
        n_markers: int = 4,
        window: int = 8,
        hidden_size: int = 32,
        *,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.n_markers = _check_n_markers(n_markers)
        self.window = check_positive_int("window", window)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        seed = check_seed("seed", seed)
        d = self.vocab_size + self.n_markers
        with seeded_torch(seed):
            self.hidden = nn.Linear(self.window * d, self.hidden_size)
            self.out = nn.Linear(self.hidden_size, self.n_markers)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """Scores ``(B, K)`` of the markers from ids ``X`` ``(T, B)``."""
        d = self.vocab_size + self.n_markers
        X = _check_ids(X, d)
        x = F.one_hot(X[-self.window :], d).float()  # (min(T, W), B, d)
        if x.shape[0] < self.window:  # zeros before the start of the sequence
            pad = x.new_zeros(self.window - x.shape[0], x.shape[1], d)
            x = torch.cat([pad, x])
        x = x.permute(1, 0, 2).reshape(x.shape[1], -1)  # (B, W d), oldest first
        return self.out(torch.tanh(self.hidden(x)))


def _check_model(model: object, n_markers: int) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"model must be a torch.nn.Module mapping ids (T, B) to scores (B, K); "
            f"got {type(model).__name__}"
        )
    k = getattr(model, "n_markers", n_markers)
    if k != n_markers:
        raise ValueError(
            f"n_markers must match the model's: the model scores {k} markers; "
            f"got n_markers={n_markers}"
        )
    return model


def train_marker_model(
    model: nn.Module,
    text: np.ndarray | torch.Tensor,
    vocab_size: int,
    lag: int,
    *,
    updates: int = 200,
    batch_size: int = 64,
    n_markers: int = 4,
    lr: float = 3e-3,
    clip: float | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, list]:
    """Train ``model`` in place with Adam on fresh marker batches of one lag.

    Each of the ``updates`` steps draws a new batch (:func:`marker_batch`, one
    stream seeded with ``seed``), computes the cross-entropy of the scores
    ``(B, K)`` against the markers, optionally clips the gradient to global norm
    ``clip``, and steps. The options and the history follow
    :mod:`rnnkit.training`.

    Args:
        model: maps ids ``(lag + 1, B)`` to scores ``(B, K)`` (a
            :class:`MarkerRNN` or :class:`WindowMLP`).
        text: training token ids ``(N,)``, ``N > lag``.
        vocab_size, lag, batch_size, n_markers: as in :func:`marker_batch`.
        updates: the number of Adam steps (the budget).
        lr, clip, seed, progress: the trainer options of :mod:`rnnkit.training`.

    Returns:
        the history: ``step``, ``elapsed_s`` and ``train_loss``, one entry per
        update (the loss of that update's batch).
    """
    n_markers = _check_n_markers(n_markers)
    _check_model(model, n_markers)
    vocab_size = check_positive_int("vocab_size", vocab_size)
    lag = check_positive_int("lag", lag)
    _check_text(text, vocab_size, lag + 1)
    updates = check_positive_int("updates", updates)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_positive_float("lr", lr)
    clip = check_clip(clip)
    seed = check_seed("seed", seed)
    check_bool("progress", progress)

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch_generator(seed)
    history = new_history()
    model.train()
    elapsed, start = 0.0, time.perf_counter()
    with progress_bar(progress, total=updates, desc=f"lag {lag}") as bar:
        for step in range(1, updates + 1):
            X, y = marker_batch(
                text, vocab_size, lag, batch_size, n_markers=n_markers, seed=gen
            )
            loss = F.cross_entropy(model(X), y)
            check_finite_loss(loss.item(), step)
            opt.zero_grad()
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            elapsed = time.perf_counter() - start
            record(history, step=step, elapsed_s=elapsed, train_loss=loss.item())
            bar.update(1)
    return history


@torch.no_grad()
def marker_accuracy(
    model: nn.Module,
    text: np.ndarray | torch.Tensor,
    vocab_size: int,
    lag: int,
    *,
    n_sequences: int = 2000,
    n_markers: int = 4,
    seed: int = 1000,
) -> float:
    """The fraction of ``n_sequences`` fresh sequences whose marker ``model`` names.

    One batch of :func:`marker_batch` (``seed``) from ``text``, usually the
    held-out part of the corpus; the model's answer is its highest score.
    Guessing scores ``1 / n_markers``; with ``n`` sequences its standard
    deviation is ``sqrt(p (1 - p) / n)``.
    """
    n_markers = _check_n_markers(n_markers)
    _check_model(model, n_markers)
    X, y = marker_batch(
        text,
        vocab_size,
        lag,
        check_positive_int("n_sequences", n_sequences),
        n_markers=n_markers,
        seed=check_seed("seed", seed),
    )
    was_training = model.training
    model.eval()
    try:
        return (model(X).argmax(1) == y).float().mean().item()
    finally:
        model.train(was_training)
