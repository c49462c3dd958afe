"""A vanilla RNN language model written out in numpy: forward, loss and BPTT.

The model, with the names the book uses (time-major, batch ``B``)::

    h_t = phi(x_t W_xh^T + h_{t-1} W_hh^T + b_h)   # (B, h), phi = tanh or relu
    o_t = h_t W_ho^T + b_o                          # (B, V) logits
    L   = mean over valid (t, b) of -log softmax(o_t)[y_t]

Parameters live in a dict with the torch layouts, so weights copy straight into
``nn.RNN`` (``weight_ih_l0 = W_xh``, ``weight_hh_l0 = W_hh``, ``bias_ih_l0 =
b_h``, ``bias_hh_l0 = 0``) and ``nn.Linear(h, V)`` (``weight = W_ho``, ``bias =
b_o``)::

    W_xh (h, d)   W_hh (h, h)   b_h (h,)   W_ho (V, h)   b_o (V,)

As in CS231n's ``rnn_layers.py``, each piece has a step function and a sequence
function that loops over time reusing the step; every forward returns a cache
that its backward consumes. The recurrence is written once, in
:func:`rnn_step_forward`; :func:`rnn_forward` and
:func:`rnnkit.gradient_flow.forward_preactivations` call it. The loss is
:func:`rnnkit.losses.softmax_cross_entropy`.

For one-hot inputs given as token ids, :func:`rnn_forward_ids` and
:func:`rnn_backward_ids` compute the same numbers several times faster (an
embedding lookup instead of products with one-hots, a scatter-add gradient, the
weight gradients as one matmul each, preallocated arrays); they write the
recurrence a second time, arranged for speed, and are tested against the
step-by-step functions. :func:`lm_loss_and_grads` runs them.

Besides ``nn.RNN``'s ``"tanh"`` and ``"relu"``, every function here accepts
``activation="linear"`` (``phi`` the identity), with which chapter 5 studies
the recurrence without a non-linearity; the torch models offer only the first
two (:data:`ACTIVATIONS`).

Truncated BPTT: to carry the state across windows, pass the ``h_T`` returned by
:func:`lm_loss_and_grads` (or ``H[-1]``) as the next window's ``h0``. In numpy no
gradient can flow back through it: the next window treats ``h0`` as a constant
input, which is exactly what ``h.detach()`` does in torch.

Reading order: data (one-hot), parameters, forward, backward, the fast path for
ids, all together.
"""

from __future__ import annotations

from numbers import Real

import numpy as np

from rnnkit.losses import softmax_cross_entropy
from rnnkit.seeding import numpy_rng
from rnnkit.shapes import (
    check_bool,
    check_choice,
    check_float_array,
    check_float_dtype,
    check_ids_in_range,
    check_int_array,
    check_ndim_shape,
    check_nonempty,
    check_positive_int,
)

__all__ = [
    "ACTIVATIONS",
    "NUMPY_ACTIVATIONS",
    "one_hot",
    "init_params",
    "param_count",
    "param_shapes",
    "rnn_step_forward",
    "rnn_forward",
    "output_forward",
    "output_backward",
    "rnn_step_backward",
    "rnn_backward",
    "rnn_forward_ids",
    "rnn_backward_ids",
    "lm_loss_and_grads",
]

#: The non-linearities ``phi`` of torch's ``nn.RNN``; ``rnnkit.rnn_torch`` offers these.
ACTIVATIONS = ("tanh", "relu")
#: What the numpy functions accept: :data:`ACTIVATIONS` and ``"linear"``, ``phi``
#: the identity (chapter 5's recurrence without a non-linearity).
NUMPY_ACTIVATIONS = (*ACTIVATIONS, "linear")
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_ho", "b_o")


# -- data -------------------------------------------------------------------------


def one_hot(ids: np.ndarray, V: int, *, dtype=np.float64) -> np.ndarray:
    """One-hot encode token ids: ``(T, B)`` ints -> ``(T, B, V)`` floats.

    Any shape of ``ids`` works; ``V`` is appended as the last axis. Raises
    ``ValueError`` if an id lies outside ``[0, V)``.
    """
    check_int_array("ids", ids)
    V = check_positive_int("V", V)
    dtype = check_float_dtype("dtype", dtype)
    check_ids_in_range("ids", ids, V)
    out = np.zeros(ids.shape + (V,), dtype=dtype)
    np.put_along_axis(out, ids[..., None], 1.0, axis=-1)
    return out


# -- parameters -------------------------------------------------------------------


def init_params(
    d: int,
    h: int,
    V: int,
    *,
    seed: int | np.random.Generator = 0,
    scale: float | None = None,
    dtype=np.float64,
) -> dict[str, np.ndarray]:
    """Initial parameters ``W_xh (h, d), W_hh (h, h), b_h (h,), W_ho (V, h), b_o (V,)``.

    ``scale=None`` (default) follows torch: every entry, biases included, is drawn
    from ``Uniform(-1/sqrt(h), 1/sqrt(h))``, which is what ``nn.RNN(d, h)`` and
    ``nn.Linear(h, V)`` do. A number ``scale`` follows min-char-rnn instead:
    weights ``~ Normal(0, scale**2)`` (Karpathy uses 0.01) and zero biases.

    ``seed`` is an int or a ``np.random.Generator`` (:func:`rnnkit.seeding.numpy_rng`);
    the same seed gives the same parameters. The arrays are drawn in the order
    ``W_xh, W_hh, b_h, W_ho, b_o``.
    """
    d, h, V = (check_positive_int(n, v) for n, v in (("d", d), ("h", h), ("V", V)))
    dtype = check_float_dtype("dtype", dtype)
    g = numpy_rng(seed)
    shapes = {"W_xh": (h, d), "W_hh": (h, h), "b_h": (h,), "W_ho": (V, h), "b_o": (V,)}
    if scale is None:
        bound = 1.0 / np.sqrt(h)
        return {k: g.uniform(-bound, bound, s).astype(dtype) for k, s in shapes.items()}
    if isinstance(scale, bool) or not isinstance(scale, Real):
        raise TypeError(f"scale must be a number >= 0 or None; got {scale!r}")
    if not np.isfinite(scale) or scale < 0:
        raise ValueError(
            "scale must be a finite number >= 0 (the weights' std) or None; "
            f"got {scale}"
        )
    return {
        k: (g.normal(0.0, scale, s) if k.startswith("W") else np.zeros(s)).astype(dtype)
        for k, s in shapes.items()
    }


def param_count(d: int, h: int, V: int) -> int:
    """Number of scalars in the parameters: ``h*d + h*h + h + V*h + V``.

    That is ``h*(d+h+V+1) + V``. ``nn.RNN`` holds ``h`` more (its second bias
    ``bias_hh_l0``, redundant with ``bias_ih_l0``, which we do not keep).

    Implements chapter 3, equation ``rnn-param-count``.
    """
    d, h, V = (check_positive_int(n, v) for n, v in (("d", d), ("h", h), ("V", V)))
    return h * (d + h + V + 1) + V


def param_shapes(params: dict[str, np.ndarray]) -> tuple[int, int, int]:
    """Validate a parameter dict and return its sizes ``(d, h, V)``."""
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict with keys {PARAM_NAMES}; "
            f"got {type(params).__name__}"
        )
    missing = [k for k in PARAM_NAMES if k not in params]
    if missing:
        raise ValueError(f"params must have keys {PARAM_NAMES}; missing {missing}")
    d, h = _check_rnn_weights(params["W_xh"], params["W_hh"], params["b_h"])
    V = _check_output_weights(params["W_ho"], params["b_o"], h)
    return d, h, V


def _check_rnn_weights(W_xh, W_hh, b_h) -> tuple[int, int]:
    check_ndim_shape(
        "W_xh", check_float_array("W_xh", W_xh), (None, None), dims=("h", "d")
    )
    check_nonempty("W_xh", W_xh, ("h", "d"))
    h, d = W_xh.shape
    check_ndim_shape("W_hh", check_float_array("W_hh", W_hh), (h, h), dims=("h", "h"))
    check_ndim_shape("b_h", check_float_array("b_h", b_h), (h,), dims=("h",))
    return d, h


def _check_output_weights(W_ho, b_o, h: int) -> int:
    check_ndim_shape(
        "W_ho", check_float_array("W_ho", W_ho), (None, h), dims=("V", "h")
    )
    V = W_ho.shape[0]
    check_ndim_shape("b_o", check_float_array("b_o", b_o), (V,), dims=("V",))
    return V


# -- forward ----------------------------------------------------------------------


def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h, activation: str = "tanh"):
    """One time step: ``h_t = phi(x_t W_xh^T + h_prev W_hh^T + b_h)``.

    The step-by-step recurrence: :func:`rnn_forward` and
    :func:`rnnkit.gradient_flow.forward_preactivations` call this function
    (:func:`rnn_forward_ids` is the fast version for token ids, tested against it).

    Args:
        x_t: ``(B, d)`` inputs at step t.
        h_prev: ``(B, h)`` hidden state from step t-1.
        W_xh: ``(h, d)``; W_hh: ``(h, h)``; b_h: ``(h,)``.
        activation: ``"tanh"``, ``"relu"`` or ``"linear"`` (``phi`` the identity).

    Returns:
        ``(h_t, cache)``: ``h_t`` of shape ``(B, h)`` and the cache for
        :func:`rnn_step_backward`, the tuple
        ``(x_t, h_prev, h_t, W_xh, W_hh, activation)``.

    Implements chapter 3, equation ``rnn-hidden``.
    """
    d, h = _check_rnn_weights(W_xh, W_hh, b_h)
    check_ndim_shape("x_t", check_float_array("x_t", x_t), (None, d), dims=("B", "d"))
    B = x_t.shape[0]
    check_ndim_shape(
        "h_prev", check_float_array("h_prev", h_prev), (B, h), dims=("B", "h")
    )
    check_choice("activation", activation, NUMPY_ACTIVATIONS)

    a_t = x_t @ W_xh.T + h_prev @ W_hh.T + b_h  # (B, h) pre-activation
    # phi in place: a_t is a fresh array, so it becomes h_t without another allocation.
    if activation == "tanh":
        h_t = np.tanh(a_t, out=a_t)
    elif activation == "relu":
        h_t = np.maximum(a_t, 0.0, out=a_t)
    else:
        h_t = a_t
    # phi'(a_t) is a function of h_t for every activation, so a_t need not be kept.
    return h_t, (x_t, h_prev, h_t, W_xh, W_hh, activation)


def rnn_forward(x, h0, W_xh, W_hh, b_h, activation: str = "tanh"):
    """Run the RNN over a sequence: :func:`rnn_step_forward` once per time step.

    Args:
        x: ``(T, B, d)`` inputs, T >= 1 (for one sequence use ``x[:, None, :]``).
        h0: ``(B, h)`` initial hidden state (zeros for a fresh start).
        W_xh: ``(h, d)``; W_hh: ``(h, h)``; b_h: ``(h,)``.
        activation: ``"tanh"``, ``"relu"`` or ``"linear"``.

    Returns:
        ``(H, cache)``: ``H[t] = h_t`` of shape ``(T, B, h)`` (``h0`` is not
        included) and the cache for :func:`rnn_backward`, the dict
        ``{"steps": [the T step caches], "shape": (T, B, d, h)}``.

    Raises:
        ValueError: ``x`` holds no time step (T = 0), as ``RNNScratch`` does.

    Implements chapter 4, equation ``bptt-forward``.
    """
    d, h = _check_rnn_weights(W_xh, W_hh, b_h)
    check_float_array("x", x)
    hint = "for a single sequence add a batch axis: x[:, None, :]"
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
    check_ndim_shape("h0", check_float_array("h0", h0), (B, h), dims=("B", "h"))
    check_choice("activation", activation, NUMPY_ACTIVATIONS)

    H = np.empty((T, B, h), dtype=np.result_type(x, h0, W_xh, W_hh, b_h))
    steps = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnn_step_forward(x[t], h_t, W_xh, W_hh, b_h, activation)
        H[t] = h_t
        steps.append(step_cache)
    return H, {"steps": steps, "shape": (T, B, d, h)}


def output_forward(H, W_ho, b_o):
    """Logits for every step: ``O[t] = H[t] W_ho^T + b_o``.

    Args:
        H: ``(T, B, h)`` hidden states; W_ho: ``(V, h)``; b_o: ``(V,)``.

    Returns:
        ``(O, cache)`` with ``O`` of shape ``(T, B, V)``.

    Implements chapter 3, equation ``rnn-output``.
    Implements chapter 4, equation ``bptt-forward``.
    """
    check_ndim_shape(
        "W_ho", check_float_array("W_ho", W_ho), (None, None), dims=("V", "h")
    )
    check_nonempty("W_ho", W_ho, ("V", "h"))
    V, h = W_ho.shape
    _check_output_weights(W_ho, b_o, h)
    check_ndim_shape(
        "H", check_float_array("H", H), (None, None, h), dims=("T", "B", "h")
    )
    check_nonempty("H", H, ("T", "B", "h"))
    T, B, _ = H.shape
    O = (H.reshape(T * B, h) @ W_ho.T + b_o).reshape(T, B, V)  # one (T*B, h) matmul
    return O, (H, W_ho)


# -- backward ---------------------------------------------------------------------


def _unpack_cache(cache: object, n: int, made_by: str) -> tuple:
    if not (isinstance(cache, tuple) and len(cache) == n):
        raise TypeError(
            f"cache must be the {n}-tuple that {made_by} returns; got "
            f"{type(cache).__name__}"
            + (f" of length {len(cache)}" if isinstance(cache, (tuple, list)) else "")
        )
    return cache


def output_backward(dO, cache):
    """Backward of :func:`output_forward`.

    Args:
        dO: ``(T, B, V)`` upstream gradient on the logits.
        cache: from :func:`output_forward`.

    Returns:
        ``(dH (T, B, h), dW_ho (V, h), db_o (V,))``; ``dH[t]`` is the gradient
        reaching ``h_t`` through its own output only, ``W_ho^T dl_t/do_t``.

    Implements chapter 4, equations ``bptt-dh`` and ``bptt-dw``.
    """
    H, W_ho = _unpack_cache(cache, 2, "output_forward")
    T, B, h = H.shape
    V = W_ho.shape[0]
    check_ndim_shape("dO", check_float_array("dO", dO), (T, B, V), dims=("T", "B", "V"))
    dO2, H2 = dO.reshape(T * B, V), H.reshape(T * B, h)  # every (t, b) as one row
    dH = (dO2 @ W_ho).reshape(T, B, h)  # (T, B, h)
    dW_ho = dO2.T @ H2  # (V, h): sum over t and b, W_ho is shared
    db_o = dO2.sum(axis=0)  # (V,)
    return dH, dW_ho, db_o


def rnn_step_backward(dh_t, cache):
    """Backward of one step: from ``dL/dh_t`` to the step's inputs and weights.

    Args:
        dh_t: ``(B, h)`` total gradient of the loss with respect to ``h_t``.
        cache: from :func:`rnn_step_forward`.

    Returns:
        ``(dx_t (B, d), dh_prev (B, h), dW_xh (h, d), dW_hh (h, h), db_h (h,))``,
        the parameter gradients being this step's contribution only.

    Implements chapter 4, equations ``bptt-dh`` and ``bptt-dw``.
    """
    x_t, h_prev, h_t, W_xh, W_hh, activation = _unpack_cache(
        cache, 6, "rnn_step_forward"
    )
    check_ndim_shape(
        "dh_t", check_float_array("dh_t", dh_t), h_t.shape, dims=("B", "h")
    )
    # delta_t = dL/da_t = phi'(a_t) * dh_t, with phi' written in terms of h_t:
    # tanh' = 1 - h_t^2, relu' = [h_t > 0], linear' = 1
    if activation == "tanh":
        da = dh_t * (1.0 - h_t * h_t)  # (B, h)
    elif activation == "relu":
        da = dh_t * (h_t > 0)
    else:
        da = dh_t
    dx_t = da @ W_xh  # (B, d)
    dh_prev = da @ W_hh  # (B, h): W_hh^T delta_t, one row per sequence
    dW_xh = da.T @ x_t  # (h, d): delta_t x_t^T, summed over the batch
    dW_hh = da.T @ h_prev  # (h, h): delta_t h_{t-1}^T
    db_h = da.sum(axis=0)  # (h,)
    return dx_t, dh_prev, dW_xh, dW_hh, db_h


def rnn_backward(dH, cache, *, return_per_step: bool = False) -> dict[str, np.ndarray]:
    """Backpropagation through time over a whole sequence.

    Args:
        dH: ``(T, B, h)`` upstream gradient on every ``h_t`` (``dH[t] =
            dL/dh_t`` through the output at step t only, not through later
            steps), e.g. the ``dH`` of :func:`output_backward`.
        cache: from :func:`rnn_forward`.
        return_per_step: also return what each step contributed.

    Returns:
        dict with ``dx (T, B, d)``, ``dh0 (B, h)``, ``dW_xh (h, d)``,
        ``dW_hh (h, h)``, ``db_h (h,)``. With ``return_per_step``, also
        ``dW_hh_per_step (T, h, h)`` (step t's term; they sum to ``dW_hh``)
        and ``dh_norms (T,)``, the Frobenius norm over the batch of the total
        ``dL/dh_t``, the quantity that vanishes or explodes going back in time.

    Implements chapter 4, equations ``bptt-shared``, ``bptt-dh`` and ``bptt-dw``.
    Implements chapter 5, equation ``vg-backward``.
    """
    if not (isinstance(cache, dict) and {"steps", "shape"} <= set(cache)):
        raise TypeError(
            "cache must be the dict that rnn_forward returns (keys 'steps' and "
            f"'shape'); got {type(cache).__name__}"
        )
    return_per_step = check_bool("return_per_step", return_per_step)
    steps = cache["steps"]
    T, B, d, h = cache["shape"]
    check_ndim_shape("dH", check_float_array("dH", dH), (T, B, h), dims=("T", "B", "h"))
    dtype = np.result_type(dH, steps[0][2])
    dx = np.empty((T, B, d), dtype=dtype)
    dW_xh = np.zeros((h, d), dtype=dtype)
    dW_hh = np.zeros((h, h), dtype=dtype)
    db_h = np.zeros(h, dtype=dtype)
    if return_per_step:
        dW_hh_per_step = np.empty((T, h, h), dtype=dtype)
        dh_norms = np.empty(T, dtype=dtype)

    # dL/dh_{t+1} through h_{t+1}; nothing comes after step T-1
    dh_next = np.zeros((B, h), dtype=dtype)
    for t in reversed(range(T)):
        # dL/dh_t = via the output at t (dH[t]) + via the future (dh_next)
        dh_t = dH[t] + dh_next
        dx[t], dh_next, dW_xh_t, dW_hh_t, db_h_t = rnn_step_backward(dh_t, steps[t])
        # The same W_xh, W_hh, b_h serve every step, so their gradients add up over t.
        dW_xh += dW_xh_t
        dW_hh += dW_hh_t
        db_h += db_h_t
        if return_per_step:
            dW_hh_per_step[t] = dW_hh_t
            dh_norms[t] = np.linalg.norm(dh_t)
    grads = {"dx": dx, "dh0": dh_next, "dW_xh": dW_xh, "dW_hh": dW_hh, "db_h": db_h}
    if return_per_step:
        grads["dW_hh_per_step"] = dW_hh_per_step
        grads["dh_norms"] = dh_norms
    return grads


# -- one-hot inputs given as ids: the fast path ------------------------------------
#
# rnn_forward / rnn_backward above are the book's step-by-step version: one call of
# the step function per time step, a cache tuple per step, one-hot inputs as dense
# (T, B, V) arrays. The functions below compute the same numbers for one-hot inputs
# (tested against them) and are what lm_loss_and_grads runs. Three changes make them
# fast, each a general lesson in numpy:
#
# 1. An embedding lookup instead of a product with one-hots. For a one-hot x_t whose
#    1 sits at position i, x_t W_xh^T is column i of W_xh: W_xh[:, ids] picks it with
#    no multiply-adds (the dense product spends 2 B V h FLOPs per step on zeros), and
#    its gradient is a scatter-add of the deltas into the columns that were read.
# 2. Only the recurrence stays in the Python loop. The input term does not depend on
#    the state, so it is looked up for all T steps at once; the weight gradients are
#    sums over t of per-step products (bptt-shared), so each is ONE matmul over all
#    T*B rows after the loop instead of T small ones. The loop does one
#    (B, h) @ (h, h) product per step, and phi'(a_t) for that step on a (B, h) scratch
#    array (one (T, B, h) array of all of them would only be more memory to stream).
# 3. Preallocated arrays, written with ``out=`` and in place: the states live in one
#    (T + 1, B, h) array (h_0 in row 0), the deltas overwrite dH, the softmax
#    overwrites the logits. With a ``workspace`` dict these arrays are also kept
#    from one call to the next. That matters more than it looks: a fresh array of
#    a few MB is handed out by the operating system page by page, each first write
#    a page fault, and numpy's allocator gives large arrays back when they are
#    freed, so a training loop that allocates its (T, B, V) arrays every step pays
#    the faults every step (this is what made B = 128 slower than B = 32).


def _buffer(workspace: dict | None, name: str, shape: tuple, dtype) -> np.ndarray:
    """An uninitialised array; from ``workspace[name]`` when it fits, kept there."""
    if workspace is None:
        return np.empty(shape, dtype=dtype)
    buf = workspace.get(name)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = workspace[name] = np.empty(shape, dtype=dtype)
    return buf


def _check_workspace(workspace) -> None:
    if workspace is not None and not isinstance(workspace, dict):
        raise TypeError(
            "workspace must be None or a dict to keep arrays in between calls "
            f"(start with {{}}); got {type(workspace).__name__}"
        )


def rnn_forward_ids(
    ids, h0, W_xh, W_hh, b_h, activation: str = "tanh", *, workspace=None
):
    """:func:`rnn_forward` on one-hot inputs given by their ids, without the one-hots.

    ``rnn_forward_ids(ids, ...)`` equals ``rnn_forward(one_hot(ids, d), ...)`` up
    to float round-off (the bias is added in another order), in
    ``O(T B h^2)`` instead of ``O(T B h (h + d))`` work: the input term
    ``x_t W_xh^T`` of a one-hot ``x_t`` is the lookup ``W_xh[:, ids[t]]^T``
    (an embedding, as ``nn.Embedding`` does it).

    Args:
        ids: ``(T, B)`` integer token ids in ``[0, d)``, T >= 1.
        h0: ``(B, h)`` initial hidden state.
        W_xh: ``(h, d)``; W_hh: ``(h, h)``; b_h: ``(h,)``.
        activation: ``"tanh"``, ``"relu"`` or ``"linear"``.
        workspace: ``None``, or a dict (empty at first) passed to every call:
            the arrays are then kept in it and reused, and ``H`` and the cache
            are overwritten by the next call with the same workspace.

    Returns:
        ``(H, cache)``: ``H`` of shape ``(T, B, h)`` (a view of the cache's
        states) and the cache for :func:`rnn_backward_ids`, the dict
        ``{"ids", "states" (T + 1, B, h) with h0 in row 0, "W_hh",
        "activation", "shape": (T, B, d, h)}``.

    Implements chapter 3, equation ``rnn-hidden``.
    """
    d, h = _check_rnn_weights(W_xh, W_hh, b_h)
    check_ndim_shape("ids", check_int_array("ids", ids), (None, None), dims=("T", "B"))
    T, B = ids.shape
    if T == 0:
        raise ValueError("ids must hold at least one time step (T >= 1); got T=0")
    check_ids_in_range("ids", ids, d)
    check_ndim_shape("h0", check_float_array("h0", h0), (B, h), dims=("B", "h"))
    check_choice("activation", activation, NUMPY_ACTIVATIONS)
    _check_workspace(workspace)

    dtype = np.result_type(h0, W_xh, W_hh, b_h)
    states = _buffer(workspace, "states", (T + 1, B, h), dtype)  # states[t+1] = h_t
    states[0] = h0
    # The embedding lookup for all steps at once, written where h_t will be: row
    # ids[t, b] of the (d, h) table W_xh^T + b_h, i.e. x_t W_xh^T + b_h.
    # (mode="clip": the ids were checked above; with the default mode="raise",
    # np.take writes into a temporary first in case an id is out of range.)
    table = W_xh.T + b_h
    np.take(table, ids, axis=0, out=states[1:], mode="clip")
    # W_hh^T copied into its own (h, h) array: BLAS multiplies by a transposed
    # view (W_hh.T) about a third slower in these small (B, h) @ (h, h) products.
    W_hh_T = np.ascontiguousarray(W_hh.T)
    hW = _buffer(workspace, "hW", (B, h), dtype)
    for t in range(T):
        h_t = states[t + 1]  # holds x_t W_xh^T + b_h
        np.matmul(states[t], W_hh_T, out=hW)  # h_{t-1} W_hh^T
        h_t += hW  # the pre-activation a_t, in place
        if activation == "tanh":
            np.tanh(h_t, out=h_t)
        elif activation == "relu":
            np.maximum(h_t, 0.0, out=h_t)
    cache = {
        "ids": ids,
        "states": states,
        "W_hh": W_hh,
        "activation": activation,
        "shape": (T, B, d, h),
        "workspace": workspace,
    }
    return states[1:], cache


def rnn_backward_ids(dH, cache) -> dict[str, np.ndarray]:
    """Backward of :func:`rnn_forward_ids`: BPTT with a scatter-add for ``W_xh``.

    The same recursion as :func:`rnn_backward` (tested to give the same
    ``dh0``, ``dW_xh``, ``dW_hh``, ``db_h`` on the one-hot inputs), arranged so
    that only ``delta_t = phi'(a_t) * (dH[t] + delta_{t+1} W_hh)`` is computed
    step by step. Then, with ``Delta`` the ``(T B, h)`` matrix of all deltas:

    * ``dW_hh = Delta^T [h_0; ...; h_{T-1}]``, one matmul for all steps;
    * ``dW_xh[:, i]`` = the sum of the rows of ``Delta`` whose input id is ``i``,
      a scatter-add (``np.add.at(dW_xh.T, ids.ravel(), Delta)`` says it in one
      line; sorting the ids and summing runs with ``np.add.reduceat`` gives the
      same and is several times faster in numpy);
    * ``db_h`` = the column sums of ``Delta``, which are the row sums of
      ``dW_xh`` (each row of ``Delta`` was added to exactly one of its columns).

    Args:
        dH: ``(T, B, h)`` upstream gradient on every ``h_t`` through its own
            output, as for :func:`rnn_backward`. Not modified.
        cache: from :func:`rnn_forward_ids`.

    Returns:
        dict with ``dh0 (B, h)``, ``dW_xh (h, d)``, ``dW_hh (h, h)``,
        ``db_h (h,)`` (no ``dx``: token ids have no gradient).

    Implements chapter 4, equations ``bptt-shared``, ``bptt-dh`` and ``bptt-dw``.
    """
    if not isinstance(cache, dict) or "states" not in cache:
        raise TypeError(
            "cache must be the dict returned by rnn_forward_ids; "
            f"got {type(cache).__name__}"
        )
    T, B, d, h = cache["shape"]
    check_ndim_shape("dH", check_float_array("dH", dH), (T, B, h), dims=("T", "B", "h"))
    dtype = np.result_type(dH, cache["states"])
    delta = _buffer(cache["workspace"], "delta", (T, B, h), dtype)
    delta[...] = dH
    return _bptt_ids_inplace(delta, cache)


def _bptt_ids_inplace(delta, cache) -> dict[str, np.ndarray]:
    """:func:`rnn_backward_ids` overwriting ``delta`` (holding dH) with the deltas."""
    T, B, d, h = cache["shape"]
    states, W_hh, activation = cache["states"], cache["W_hh"], cache["activation"]
    ws = cache["workspace"]
    H = states[1:]
    dh_next = np.zeros((B, h), dtype=delta.dtype)  # dL/dh_{t+1} via h_{t+1}
    dphi = np.empty((B, h), dtype=H.dtype)  # phi'(a_t), one step at a time
    for t in reversed(range(T)):
        delta_t = delta[t]
        delta_t += dh_next  # dL/dh_t = dH[t] + the gradient from the future
        # delta_t = phi'(a_t) * dL/dh_t, phi' from h_t: tanh' = 1 - h^2, relu' = [h > 0]
        if activation == "tanh":
            np.multiply(H[t], H[t], out=dphi)
            np.subtract(1.0, dphi, out=dphi)
            delta_t *= dphi
        elif activation == "relu":
            delta_t *= H[t] > 0
        np.matmul(delta_t, W_hh, out=dh_next)  # dL/dh_{t-1} = delta_t W_hh
    Delta = delta.reshape(T * B, h)
    dW_hh = Delta.T @ states[:-1].reshape(T * B, h)  # sum_t delta_t^T h_{t-1}
    dW_xh = _scatter_add_rows(cache["ids"].ravel(), Delta, d, ws).T  # (h, d)
    # Every delta went into exactly one column of dW_xh, and into b_h: so db_h is
    # the sum of dW_xh's d columns, not another pass over all T B rows of Delta.
    db_h = dW_xh.sum(axis=1)
    return {
        "dh0": dh_next,
        "dW_xh": np.ascontiguousarray(dW_xh),
        "dW_hh": dW_hh,
        "db_h": db_h,
    }


def _scatter_add_rows(ids, rows, n, workspace=None):
    """``out[i] = sum of rows[k] with ids[k] == i``, shape ``(n, rows.shape[1])``.

    ``np.add.at(out, ids, rows)`` in meaning; sorted runs and ``np.add.reduceat``
    in practice, because ``np.add.at`` loops element by element.
    """
    out = np.zeros((n, rows.shape[1]), dtype=rows.dtype)
    order = np.argsort(ids, kind="stable")  # the rows of id 0 first, then id 1, ...
    sorted_rows = np.take(  # mode="clip": no temporary, order is a permutation
        rows,
        order,
        axis=0,
        out=_buffer(workspace, "sorted", rows.shape, rows.dtype),
        mode="clip",
    )
    counts = np.bincount(ids, minlength=n)  # id i's rows: counts[i] of them
    present = counts > 0  # (reduceat cannot sum an empty run)
    starts = (np.cumsum(counts) - counts)[present]  # where each present id's run starts
    out[present] = np.add.reduceat(sorted_rows, starts)
    return out


def _output_softmax_xent(H, W_ho, b_o, Y_ids, mask, workspace):
    """Output layer, loss and their backward, fused: ``(loss, dH, dW_ho, db_o)``.

    The numbers of :func:`output_forward`, :func:`rnnkit.losses.softmax_cross_entropy`
    and :func:`output_backward` (tested), with the logits overwritten in place by
    the softmax and then by ``dO`` (one exp per logit, no further temporaries of
    their size); ``dH`` is written into the workspace's ``"delta"`` array. The
    logits are kept transposed, ``(V, T B)``: the softmax's max and sum over the
    vocabulary then run across rows, which numpy vectorises along the long
    ``T B`` axis, instead of along rows of only ``V`` numbers.
    """
    T, B, h = H.shape
    V, N = W_ho.shape[0], T * B
    dtype = np.result_type(H, W_ho, b_o)
    H2 = H.reshape(N, h)
    OT = _buffer(workspace, "logits", (V, N), dtype)  # O transposed
    np.matmul(W_ho, H2.T, out=OT)
    OT += b_o[:, None]
    if mask is None:
        y, cols = Y_ids.ravel(), np.arange(N)
        OT -= OT.max(axis=0)  # shifted: exp cannot overflow
        o_y = OT[y, cols]  # the shifted logit of each target
        np.exp(OT, out=OT)
        z = OT.sum(axis=0)  # softmax = exp(O) / z, position by position
        loss = float((np.log(z).sum() - o_y.sum()) / N)  # mean of log z - o_y
        OT *= 1.0 / (N * z)  # dO = (softmax - onehot(y)) / N
        OT[y, cols] -= 1.0 / N
        dOT = OT
    else:  # padded positions: the library's masked loss, with its checks
        loss, dO = softmax_cross_entropy(OT.T.reshape(T, B, V), Y_ids, mask)
        dOT = dO.reshape(N, V).T
    dW_ho = dOT @ H2  # (V, h)
    db_o = dOT.sum(axis=1)
    dH = _buffer(workspace, "delta", (T, B, h), dtype)
    np.matmul(dOT.T, W_ho, out=dH.reshape(N, h))
    return loss, dH, dW_ho, db_o


# -- all together -----------------------------------------------------------------


def lm_loss_and_grads(
    params,
    X_ids,
    Y_ids,
    h0=None,
    activation: str = "tanh",
    *,
    mask=None,
    workspace=None,
):
    """Loss and gradients of the RNN language model on one ``(T, B)`` window of ids.

    One-hot inputs (so ``d`` must equal ``V``), :func:`rnn_forward`,
    :func:`output_forward`, :func:`rnnkit.losses.softmax_cross_entropy`, then
    the backward passes. The one-hots are never built: the RNN runs as
    :func:`rnn_forward_ids` / :func:`rnn_backward_ids`, which give the same
    numbers as :func:`rnn_forward` / :func:`rnn_backward` on ``one_hot(X_ids,
    V)`` (up to round-off) several times faster, and the output layer, the
    softmax and their backward work in place on one ``(T B, V)`` array.

    Args:
        params: dict ``W_xh (h, V)``, ``W_hh (h, h)``, ``b_h (h,)``,
            ``W_ho (V, h)``, ``b_o (V,)``.
        X_ids: ``(T, B)`` input token ids in ``[0, V)``.
        Y_ids: ``(T, B)`` target ids (usually ``X_ids`` shifted by one in the
            corpus).
        h0: ``(B, h)`` initial state, or ``None`` for zeros. For truncated BPTT
            pass the previous window's ``h_T``; no gradient flows into it.
        activation: ``"tanh"``, ``"relu"`` or ``"linear"``.
        mask: optional ``(T, B)`` mask, see
            :func:`rnnkit.losses.softmax_cross_entropy`.
        workspace: ``None``, or a dict (empty at first) passed to every call of
            a training loop: the large per-window arrays (states, logits,
            deltas) are then allocated once and reused, which saves a page
            fault per 4 kB of them at every call. The returned values are
            never in it.

    Returns:
        ``(loss, grads, h_T)``: the mean loss (float), ``grads`` with the same
        keys and shapes as ``params``, and the last hidden state ``(B, h)``.
    """
    d, h, V = param_shapes(params)
    if d != V:
        raise ValueError(
            "lm_loss_and_grads feeds one-hot tokens, so W_xh must have shape "
            f"(h, d=V={V}); got d={d}"
        )
    check_ndim_shape(
        "X_ids", check_int_array("X_ids", X_ids), (None, None), dims=("T", "B")
    )
    check_nonempty("X_ids", X_ids, ("T", "B"))
    T, B = X_ids.shape
    check_ndim_shape("Y_ids", check_int_array("Y_ids", Y_ids), (T, B), dims=("T", "B"))
    check_ids_in_range("X_ids", X_ids, V)
    check_ids_in_range(
        "Y_ids", Y_ids, V, "padded positions included: fill them with any valid id"
    )
    _check_workspace(workspace)
    dtype = params["W_xh"].dtype
    if h0 is None:
        h0 = np.zeros((B, h), dtype=dtype)
    # The ids index W_xh directly (an embedding lookup): the same numbers as
    # rnn_forward(one_hot(X_ids, V), ...), without the (T, B, V) one-hots.
    H, rnn_cache = rnn_forward_ids(
        X_ids,
        h0,
        params["W_xh"],
        params["W_hh"],
        params["b_h"],
        activation,
        workspace=workspace,
    )
    # output_forward, softmax_cross_entropy and output_backward, fused and in place
    loss, dH, dW_ho, db_o = _output_softmax_xent(
        H, params["W_ho"], params["b_o"], Y_ids, mask, workspace
    )
    g = _bptt_ids_inplace(dH, rnn_cache)  # overwrites dH with the deltas
    grads = {
        "W_xh": g["dW_xh"],
        "W_hh": g["dW_hh"],
        "b_h": g["db_h"],
        "W_ho": dW_ho,
        "b_o": db_o,
    }
    return loss, grads, H[-1].copy()
