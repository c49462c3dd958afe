"""A vanilla RNN language model in PyTorch: the numpy model's maths, with autograd.

The recurrence is the one of the numpy chapter (``rnnkit.rnn_numpy``), with the
same parameter names and row-vector states (chapter 3, equations ``rnn-hidden``
and ``rnn-output``)::

    h_t = phi(x_t @ W_xh.T + h_{t-1} @ W_hh.T + b_h)      # (B, h)
    o_t = h_t @ W_ho.T + b_o                               # (B, V) logits

* :class:`RNNScratch` writes that loop out in Python, one time step per
  iteration (:meth:`RNNScratch.step` is the recurrence, written once), with
  ``nn.Parameter`` s named ``W_xh`` (h, d), ``W_hh`` (h, h) and ``b_h`` (h,).
* :class:`RNNLM` puts an input layer (one-hot, so ``d = V``, or an optional
  ``nn.Embedding``) in front and an output layer ``W_ho`` / ``b_o`` behind. Its
  recurrent layer is either ``cell="scratch"`` (:class:`RNNScratch`) or
  ``cell="torch"`` (``nn.RNN``: the same maths in one fused C++ loop, several
  times faster, but with a second, redundant bias ``bias_hh``).
* :func:`count_parameters` counts a model's scalars;
  :func:`numpy_params` / :func:`load_numpy_params` move weights between a torch
  model (an RNNLM, or an ``nn.RNN`` / RNNScratch with an ``nn.Linear``) and the
  numpy one, so the two can be checked against each other.

Layout: time-major throughout, as everywhere in ``rnnkit``: token ids ``X``
``(T, B)``, as the minibatch iterators of :mod:`rnnkit.batching` yield them,
inputs ``(T, B, d)``, states ``(T, B, h)``, logits ``(T, B, V)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .rnn_numpy import ACTIVATIONS
from .seeding import seeded_torch, torch_generator
from .shapes import (
    check_bool,
    check_choice,
    check_ids_in_range,
    check_nonempty,
    check_positive_int,
    check_tensor,
    describe_shape,
)

__all__ = [
    "CELLS",
    "RNNScratch",
    "RNNLM",
    "as_id_tensor",
    "count_parameters",
    "stacked_rnn_param_count",
    "numpy_params",
    "load_numpy_params",
]

CELLS: tuple[str, ...] = ("scratch", "torch")


def _uniform_(p: torch.Tensor, bound: float, g: torch.Generator) -> None:
    """Fill ``p`` with U(-bound, bound) drawn from ``g`` (on CPU, then copied)."""
    with torch.no_grad():
        u = torch.rand(p.shape, generator=g, dtype=torch.float64)
        p.copy_((2.0 * u - 1.0) * bound)


def _check_float(name: str, x: torch.Tensor, what: str) -> None:
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor ({what}); got dtype {x.dtype}"
        )


def _check_state(
    state: torch.Tensor | None,
    B: int,
    h: int,
    *,
    like: torch.Tensor,
    name: str = "state",
) -> torch.Tensor:
    """Return ``state`` (B, h), or zeros of that shape when ``None``."""
    if state is None:
        return like.new_zeros((B, h))
    check_tensor(name, state, (B, h), ("B", "h"))
    if state.dtype != like.dtype:
        raise TypeError(
            f"{name} must have dtype {like.dtype} like the model's parameters; "
            f"got {state.dtype}"
        )
    return state


# -- the recurrent layer ------------------------------------------------------
class RNNScratch(nn.Module):
    """Vanilla RNN layer written as an explicit loop over time.

    ``h_t = phi(x_t @ W_xh.T + h_{t-1} @ W_hh.T + b_h)`` with ``phi`` = tanh or
    relu, for ``x_t = X[t]``.

    Parameters
    ----------
    input_size:
        ``d``, the size of each input vector ``x_t``.
    hidden_size:
        ``h``, the size of the hidden state.
    activation:
        ``"tanh"`` (default) or ``"relu"``.
    seed:
        Seed (or ``torch.Generator``) for the initial weights
        (:func:`rnnkit.seeding.torch_generator`). Like ``nn.RNN``, every
        parameter starts uniform in ``[-1/sqrt(h), 1/sqrt(h)]``.
    dtype:
        Parameter dtype (``torch.float32`` by default; ``float64`` for checks).

    Attributes
    ----------
    W_xh : (h, d)   input-to-hidden weights
    W_hh : (h, h)   hidden-to-hidden weights
    b_h  : (h,)     hidden bias
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        *,
        activation: str = "tanh",
        seed: int | torch.Generator = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(
                f"dtype must be torch.float32 or torch.float64; got {dtype}"
            )
        d, h = self.input_size, self.hidden_size
        self.W_xh = nn.Parameter(torch.empty(h, d, dtype=dtype))  # (h, d)
        self.W_hh = nn.Parameter(torch.empty(h, h, dtype=dtype))  # (h, h)
        self.b_h = nn.Parameter(torch.empty(h, dtype=dtype))  # (h,)
        g = torch_generator(seed)
        for p in (self.W_xh, self.W_hh, self.b_h):
            _uniform_(p, 1.0 / math.sqrt(h), g)

    def step(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """One time step: ``x_t`` (B, d), ``h_prev`` (B, h) → ``h_t`` (B, h).

        ``h_t = phi(x_t @ W_xh.T + h_prev @ W_hh.T + b_h)``: the torch twin of
        :func:`rnnkit.rnn_numpy.rnn_step_forward`, and the only place the
        recurrence is written in torch.

        Implements chapter 3, equation ``rnn-hidden``.
        """
        d, h = self.input_size, self.hidden_size
        check_tensor("x_t", x_t, (None, d), ("B", "d"))
        _check_float("x_t", x_t, "one-hot or embedded inputs")
        check_nonempty("x_t", x_t, ("B", "d"))
        check_tensor("h_prev", h_prev, (x_t.shape[0], h), ("B", "h"))
        a_t = x_t @ self.W_xh.T + h_prev @ self.W_hh.T + self.b_h  # (B, h)
        return torch.tanh(a_t) if self.activation == "tanh" else torch.relu(a_t)

    def forward(
        self, X: torch.Tensor, h0: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the layer over a sequence, calling :meth:`step` once per time step.

        Parameters
        ----------
        X : (T, B, d) float tensor, time-major inputs, ``T >= 1``.
        h0 : (B, h) initial state, or ``None`` for zeros.

        Returns
        -------
        H : (T, B, h) every hidden state ``h_1 .. h_T``.
        h_T : (B, h) the last one, ``H[-1]``.

        Implements chapter 3, equation ``rnn-hidden``.
        """
        d = self.input_size
        hint = "; for one sequence add a batch axis: X[:, None, :]"
        if isinstance(X, torch.Tensor) and X.ndim == 2:
            raise ValueError(
                f"X must have shape (T, B, d={d}); got {tuple(X.shape)}{hint}"
            )
        check_tensor("X", X, (None, None, d), ("T", "B", "d"))
        _check_float("X", X, "one-hot or embedded inputs")
        T, B, _ = X.shape
        if T == 0:
            raise ValueError("X must hold at least one time step (T >= 1); got T=0")
        h = _check_state(h0, B, self.hidden_size, like=self.W_hh, name="h0")
        outputs = []
        for x_t in X:  # x_t: (B, d)
            h = self.step(x_t, h)  # (B, h)
            outputs.append(h)
        return torch.stack(outputs), h  # (T, B, h), (B, h)


# -- the language model ----------------------------------------------------
def as_id_tensor(X: object, vocab_size: int, name: str = "X") -> torch.Tensor:
    """Validate token ids of shape (T, B) and return them as an ``int64`` tensor.

    Accepts a ``torch.Tensor`` or a numpy array of integers. Raises
    ``TypeError`` for floats (ids are not one-hot vectors) and ``ValueError``
    for a wrong number of axes or ids outside ``[0, vocab_size)``.
    """
    if isinstance(X, np.ndarray):
        if not np.issubdtype(X.dtype, np.integer):
            raise TypeError(
                f"{name} must hold integer token ids; got numpy dtype {X.dtype}"
            )
        X = torch.from_numpy(X.astype(np.int64, copy=False))
    if not isinstance(X, torch.Tensor):
        raise TypeError(
            f"{name} must be a (T, B) tensor of token ids; got {type(X).__name__}"
        )
    if X.dtype == torch.bool or X.is_floating_point() or X.is_complex():
        raise TypeError(
            f"{name} must hold integer token ids (int64); got dtype {X.dtype}. "
            "The model one-hot encodes ids itself; pass ids, not vectors"
        )
    if X.ndim != 2:
        hint = "; for one sequence add a batch axis: X[:, None]" if X.ndim == 1 else ""
        raise ValueError(f"{name} must have shape (T, B); got {tuple(X.shape)}{hint}")
    if X.shape[1] == 0:
        raise ValueError(
            f"{name} is empty: it must hold at least one sequence (B >= 1); "
            f"got shape {tuple(X.shape)}"
        )
    vocab_size = check_positive_int("vocab_size", vocab_size)
    hint = "was the model built for this vocabulary?"
    check_ids_in_range(name, X, vocab_size, hint)
    return X.long()


class RNNLM(nn.Module):
    """Recurrent language model: ids → input vectors → vanilla RNN → next-token logits.

    Parameters
    ----------
    vocab_size:
        ``V``, the number of token ids.
    hidden_size:
        ``h``, the size of the hidden state.
    embed_size:
        ``None`` (default) feeds one-hot vectors, so ``d = V`` (as the
        from-scratch model of Dive into Deep Learning does); an int ``e`` puts an
        ``nn.Embedding(V, e)`` in front instead, so ``d = e``. Looking up row
        ``E[x]`` is ``one_hot(x) @ E``, so this is still the same vanilla RNN,
        with an input matrix ``W_xh @ E.T`` (h, V) of rank <= e; what changes is
        the parametrisation and the start (``E`` is standard normal, so inputs
        weigh more at first than one-hot vectors through ``W_xh`` ~
        U(±1/sqrt(h))). On the letters-only Hamlet benchmark
        (``benchmarks/bench_charlm.py``) it trains markedly faster.
    cell:
        ``"scratch"`` (default): :class:`RNNScratch`, a Python loop over time.
        ``"torch"``: ``nn.RNN``, the same recurrence in fused C++ — much faster
        on CPU. ``nn.RNN`` adds ``bias_hh`` to ``bias_ih``; only their sum
        matters, so it has ``h`` parameters more that do not change what it can
        compute.
    activation:
        ``"tanh"`` (default) or ``"relu"``.
    dropout:
        Probability of zeroing each entry of the hidden states ``H`` on their
        way to the output layer, in training mode only (``model.train()``); the
        recurrence itself is left alone. 0 (default) turns it off.
    seed:
        Seed (or ``torch.Generator``) for the initial weights
        (:func:`rnnkit.seeding.torch_generator`); nothing global is touched.
        Recurrent and output weights start uniform in ``±1/sqrt(h)``, the
        embedding (if any) standard normal, as PyTorch initialises them.
    dtype:
        ``torch.float32`` (default) or ``torch.float64``.

    Attributes
    ----------
    rnn : the recurrent layer (``RNNScratch`` or ``nn.RNN``)
    W_ho : (V, h) output weights (``self.out.weight``)
    b_o : (V,) output bias (``self.out.bias``)
    """

    def __init__(
        self,
        vocab_size: int,
        hidden_size: int,
        *,
        embed_size: int | None = None,
        cell: str = "scratch",
        activation: str = "tanh",
        dropout: float = 0.0,
        seed: int | torch.Generator = 0,
        dtype: torch.dtype = torch.float32,
    ) -> None:
        super().__init__()
        if (
            isinstance(dropout, bool)
            or not isinstance(dropout, (int, float))
            or not 0.0 <= dropout < 1.0  # also refuses NaN
        ):
            raise ValueError(
                f"dropout must be a probability in [0, 1); got {dropout!r}"
            )
        self.dropout = float(dropout)
        self.drop = nn.Dropout(self.dropout)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.embed_size = (
            None if embed_size is None else check_positive_int("embed_size", embed_size)
        )
        self.cell = check_choice("cell", cell, CELLS)
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        if dtype not in (torch.float32, torch.float64):
            raise TypeError(
                f"dtype must be torch.float32 or torch.float64; got {dtype}"
            )
        g = torch_generator(seed)
        V, h, e = self.vocab_size, self.hidden_size, self.embed_size
        self.input_size = V if e is None else e
        # torch's constructors draw a default init from the global RNG: seeded_torch
        # leaves that as it was (every weight is then drawn again from g below)
        with seeded_torch(0):
            self.embedding = None if e is None else nn.Embedding(V, e, dtype=dtype)
            if self.cell == "scratch":
                self.rnn = RNNScratch(
                    self.input_size, h, activation=activation, seed=g, dtype=dtype
                )
            else:
                self.rnn = nn.RNN(
                    self.input_size, h, nonlinearity=activation, dtype=dtype
                )
            self.out = nn.Linear(h, V, dtype=dtype)
        if self.embedding is not None:
            with torch.no_grad():
                self.embedding.weight.copy_(
                    torch.randn(V, e, generator=g, dtype=torch.float64)
                )
        if self.cell == "torch":
            for p in self.rnn.parameters():
                _uniform_(p, 1.0 / math.sqrt(h), g)
        _uniform_(self.out.weight, 1.0 / math.sqrt(h), g)
        _uniform_(self.out.bias, 1.0 / math.sqrt(h), g)

    # the equations' names for the output layer
    @property
    def W_ho(self) -> nn.Parameter:
        """(V, h) output weights."""
        return self.out.weight

    @property
    def b_o(self) -> nn.Parameter:
        """(V,) output bias."""
        return self.out.bias

    @property
    def dtype(self) -> torch.dtype:
        return self.out.weight.dtype

    def begin_state(self, batch_size: int) -> torch.Tensor:
        """Zero initial state of shape (B, h), on the model's device and dtype."""
        B = check_positive_int("batch_size", batch_size)
        return self.out.weight.new_zeros((B, self.hidden_size))

    def inputs(self, X: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Ids (T, B) → input vectors (T, B, d): one-hot (d = V) or embedded."""
        return self._inputs(as_id_tensor(X, self.vocab_size))

    def _inputs(self, X: torch.Tensor) -> torch.Tensor:
        if self.embedding is None:
            return F.one_hot(X, self.vocab_size).to(self.dtype)  # (T, B, V)
        return self.embedding(X)  # (T, B, e)

    def forward(
        self, X: torch.Tensor | np.ndarray, state: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Logits for the next token at every position.

        Parameters
        ----------
        X : (T, B) int64 token ids, time-major, ``T >= 1``.
        state : (B, h) hidden state to start from, or ``None`` for zeros.

        Returns
        -------
        logits : (T, B, V): ``logits[t, b]`` scores the token that follows
            ``X[t, b]``; compare with targets ``Y`` (T, B).
        h_T : (B, h) the final hidden state, to carry into the next minibatch
            (detach it first when training with truncated BPTT).

        Implements chapter 3, equations ``rnn-hidden`` and ``rnn-output``.
        """
        X = as_id_tensor(X, self.vocab_size)
        T, B = X.shape
        if T == 0:
            raise ValueError("X must hold at least one time step (T >= 1); got T=0")
        h0 = _check_state(state, B, self.hidden_size, like=self.out.weight)
        inp = self._inputs(X)  # (T, B, d)
        if self.cell == "scratch":
            H, h_T = self.rnn(inp, h0)  # (T, B, h), (B, h)
        else:
            H, h_n = self.rnn(inp, h0.unsqueeze(0))  # (T, B, h), (1, B, h)
            h_T = h_n.squeeze(0)
        return self.out(self.drop(H)), h_T  # (T, B, V), (B, h)


# -- parameters ---------------------------------------------------------------
def count_parameters(model: nn.Module) -> int:
    """Number of scalar parameters of a torch model, ``sum(p.numel())``.

    For a one-hot :class:`RNNLM` (``d = V``) with ``cell="scratch"`` this is
    ``h*d + h*h + h + V*h + V = h*(d + h + V + 1) + V``, the formula
    :func:`rnnkit.rnn_numpy.param_count`; ``cell="torch"`` adds the ``h``
    entries of ``nn.RNN``'s second bias ``bias_hh``.

    Implements chapter 3, equation ``rnn-param-count``.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters())


def stacked_rnn_param_count(
    d: int,
    h: int,
    num_layers: int = 1,
    *,
    bidirectional: bool = False,
    bias_hh: bool = True,
) -> int:
    """Scalars in the recurrent layers of a stacked and/or bidirectional RNN.

    Layer ``l`` of each direction holds ``W_xh`` ``(h, d_l)``, ``W_hh`` ``(h, h)``
    and a bias ``(h,)``, plus ``nn.RNN``'s second bias ``(h,)`` when ``bias_hh``.
    The first layer reads the input, ``d_1 = d``; every later layer reads the
    states of the layer below, ``d_l = D*h``, with ``D = 2`` directions if
    ``bidirectional`` else 1. The total is
    ``D * sum_l h*(d_l + h + b)`` with ``b = 2`` (``bias_hh``) or 1. With
    ``bias_hh=True`` it is what ``count_parameters(nn.RNN(d, h, num_layers,
    bidirectional=...))`` reports; no output layer is included.

    Implements chapter 10, equation ``stacked-param-count``.
    """
    d, h, num_layers = (
        check_positive_int(n, v)
        for n, v in (("d", d), ("h", h), ("num_layers", num_layers))
    )
    directions = 2 if check_bool("bidirectional", bidirectional) else 1
    biases = 2 if check_bool("bias_hh", bias_hh) else 1
    inputs = [d] + [directions * h] * (num_layers - 1)
    return directions * sum(h * (d_l + h + biases) for d_l in inputs)


_RNN_KINDS = "an rnnkit RNNLM, an RNNScratch or a single-layer nn.RNN"


def _check_nn_rnn(rnn: nn.RNN) -> None:
    """Only the vanilla RNN of the book: one layer, one direction, biases, no proj."""
    if rnn.num_layers != 1 or rnn.bidirectional or rnn.proj_size or not rnn.bias:
        raise ValueError(
            "model must be a single-layer, unidirectional nn.RNN with biases (the "
            f"equations' W_xh, W_hh, b_h); got num_layers={rnn.num_layers}, "
            f"bidirectional={rnn.bidirectional}, bias={rnn.bias}"
        )


def _weight_tensors(
    model: nn.Module, out: nn.Linear | None
) -> dict[str, list[torch.Tensor]]:
    """The parameters under the equations' names (views, no copies).

    Each name maps to the tensors whose *sum* it is: ``b_h`` of an ``nn.RNN``
    is ``bias_ih + bias_hh``; everything else is one tensor.
    """
    if isinstance(model, RNNLM):
        if out is not None:
            raise ValueError(
                "an RNNLM has its own output layer (model.out); pass out=None"
            )
        found = _weight_tensors(model.rnn, model.out)
        if model.embedding is not None:
            found["embedding"] = [model.embedding.weight]
        return found
    if isinstance(model, RNNScratch):
        found = {"W_xh": [model.W_xh], "W_hh": [model.W_hh], "b_h": [model.b_h]}
    elif isinstance(model, nn.RNN):
        _check_nn_rnn(model)
        found = {
            "W_xh": [model.weight_ih_l0],
            "W_hh": [model.weight_hh_l0],
            "b_h": [model.bias_ih_l0, model.bias_hh_l0],
        }
    else:
        raise TypeError(f"model must be {_RNN_KINDS}; got {type(model).__name__}")
    if out is not None:
        if not isinstance(out, nn.Linear):
            raise TypeError(
                f"out must be an nn.Linear(h, V) or None; got {type(out).__name__}"
            )
        h = model.hidden_size
        if out.in_features != h or out.bias is None:
            raise ValueError(
                f"out must be an nn.Linear(h={h}, V) with a bias, reading the hidden "
                f"state; got in_features={out.in_features}, "
                f"bias={out.bias is not None}"
            )
        found["W_ho"], found["b_o"] = [out.weight], [out.bias]
    return found


#: each parameter's axes, for messages: ``W_xh must have shape (h=3, d=5)``
_AXES: dict[str, tuple[str, ...]] = {
    "W_xh": ("h", "d"),
    "W_hh": ("h", "h"),
    "b_h": ("h",),
    "W_ho": ("V", "h"),
    "b_o": ("V",),
    "embedding": ("V", "e"),
}


def numpy_params(
    model: nn.Module, out: nn.Linear | None = None
) -> dict[str, np.ndarray]:
    """Copy the weights out under the equations' names, as float64 numpy arrays.

    ``model`` is an :class:`RNNLM`, or the recurrent layer alone: an
    :class:`RNNScratch` or a single-layer ``nn.RNN``, with optionally its output
    layer ``out = nn.Linear(h, V)``. Keys: ``W_xh`` (h, d), ``W_hh`` (h, h),
    ``b_h`` (h,), then ``W_ho`` (V, h) and ``b_o`` (V,) when there is an output
    layer, and ``embedding`` (V, e) for an RNNLM that has one. For ``nn.RNN``
    (and ``cell="torch"``), ``b_h = bias_ih + bias_hh``: only the sum enters the
    recurrence. The arrays are copies: editing them leaves the model alone.
    """
    tensors = _weight_tensors(model, out)
    with torch.no_grad():
        return {
            k: sum(t.detach().cpu().double() for t in ts).numpy().copy()
            for k, ts in tensors.items()
        }


def load_numpy_params(
    model: nn.Module, params: Mapping[str, np.ndarray], out: nn.Linear | None = None
) -> nn.Module:
    """Copy numpy weights into ``model`` (and ``out``) in place; return ``model``.

    The inverse of :func:`numpy_params`, for the same kinds of model: ``params``
    must have exactly the keys that :func:`numpy_params` returns for this
    ``model`` and ``out``, with those shapes (e.g. the dict of
    ``rnnkit.rnn_numpy.init_params`` for a one-hot RNNLM, or its ``W_xh``,
    ``W_hh``, ``b_h`` for a lone ``nn.RNN``). For ``nn.RNN``, ``b_h`` goes into
    ``bias_ih`` and ``bias_hh`` is set to zero, so it computes the numpy model's
    function exactly.
    """
    tensors = _weight_tensors(model, out)
    if not isinstance(params, Mapping):
        raise TypeError(
            f"params must be a dict of numpy arrays; got {type(params).__name__}"
        )
    missing = [k for k in tensors if k not in params]
    extra = [k for k in params if k not in tensors]
    if missing or extra:
        raise ValueError(
            f"params must have exactly the keys {sorted(tensors)}; "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unexpected {extra}" if extra else "")
        )
    arrays: dict[str, np.ndarray] = {}
    for k, ts in tensors.items():
        a = np.asarray(params[k])
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(
                f"params[{k!r}] must be a floating-point array; got dtype {a.dtype}"
            )
        shape = tuple(ts[0].shape)
        if a.shape != shape:
            raise ValueError(
                f"params[{k!r}] must have shape {describe_shape(shape, _AXES[k])}; "
                f"got {a.shape}"
            )
        arrays[k] = a
    with torch.no_grad():
        for k, ts in tensors.items():
            first, *rest = ts
            first.copy_(torch.as_tensor(arrays[k], dtype=first.dtype))
            for t in rest:  # nn.RNN's bias_hh: the whole b_h is in bias_ih
                t.zero_()
    return model
