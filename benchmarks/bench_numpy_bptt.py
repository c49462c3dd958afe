"""Throughput of numpy BPTT: min-char-rnn (one token at a time) vs rnnkit (batched).

Setup (character-level, as in min-char-rnn): V = 65 token ids drawn at random
(throughput does not depend on the text), hidden size h = 100, windows of
T = 25 steps, tanh, one training step = forward + BPTT + gradient clipping +
Adagrad update, hidden state carried between windows (truncated BPTT).

(a) baseline: Karpathy's min-char-rnn ``lossFun`` written out below, batch 1,
    column vectors, one ``np.dot`` per token;
(b) the book's step-by-step functions on one-hot inputs (``rnn_forward`` on
    ``one_hot(X)``, ``output_forward``, ``softmax_cross_entropy``,
    ``output_backward``, ``rnn_backward``): what ``lm_loss_and_grads`` ran
    before it had a fast path;
(c) ``lm_loss_and_grads`` without a workspace: embedding lookup instead of
    one-hots, scatter-add gradient, the weight gradients as one matmul each,
    the softmax in place; its large arrays are allocated afresh every call;
(d) ``lm_loss_and_grads(..., workspace=ws)``: the same, its arrays kept
    between calls (no page faults on fresh memory at every step);
(e) (d)'s ``lm_loss_and_grads`` alone, at B = ``--model-batch``, without
    clipping and update: the model's forward and backward pass, where all the
    FLOPs are (its "x base" compares it with a whole min-char-rnn step; the
    targets are judged on (d)).

Each configuration runs in turn in every repeat, so background load on a shared
machine hits them alike; reported are medians over repeats and, for ratios, the
median over repeats of the ratio within a repeat. Time is measured two ways:
wall clock, and the CPU time of this process (what a busy machine does not
steal; on an idle machine the two agree). BLAS runs on one thread.

Efficiency: the model needs 6 h (h + V) FLOPs per token in matrix products
(forward: h_{t-1} W_hh^T, 2h^2, and the logits, 2hV; backward: dH = dO W_ho
and dW_ho, 4hV, delta_t W_hh and dW_hh, 4h^2; the embedding lookup and its
scatter-add need no multiply, and elementwise work -- tanh, softmax, the
update -- is not counted), so achieved GFLOP/s = tokens/s times that, with the
whole training step (clipping and Adagrad included) in the time. The machine's
single-core rate is measured in this process, in the same round robin, as the
median rate of a float64 (1024, 1024) @ (1024, 1024) product (2 * 1024^3
FLOPs); the target is >= 60 % of it. float64 throughout: min-char-rnn's dtype
and the gradient checks'; in float32 the matmul rate doubles too, and the
share of it stays about the same (the small per-step products gain least).

Where the time of a step goes (``--profile``: the step's pieces, rnnkit's own
functions, timed apart at (d)'s best B, one thread): about 70 % in the matrix
products alone at the same shapes, which run at 80-100 % of the square-matmul
rate (the per-step (B, h) @ (h, h) products at full rate up to B ~ 100, where
OpenBLAS leaves its small-matrix kernel: larger B gains nothing); tanh ~6 %,
the scatter-add ~4 %, clipping and the update ~1 %, and the rest in the
softmax's and BPTT's elementwise passes and Python's per-step calls. So numpy,
one operation at a time, stays near 60 % of the matmul rate at this size: the
fresh-clone ``make bench`` run of stop 16 (AMD EPYC, 2 cores, load ~0.7)
measured 60 % for the training step (d) at B = 96 (30.9 of 51.3 GFLOP/s,
12.3x the loop); a --quick run on the same machine while it was busier, 54 %.

Hidden size (context, not a target; the targets are judged at h = 100, the
issue's setting): the FLOPs grow as h (h + V) per token, but most of the rest
of a step grows only as h or V per token (tanh and its derivative, the
scatter-add: O(h); the softmax and its gradient: O(V); Python's per-step
overhead: O(1), shared by the B tokens of a step), so its share of the time
shrinks as h grows. Clipping and Adagrad, O(h (h + V)) per step, hence 1/(T B)
of that per token, keep about the same share at every h (~1 % measured at
h = 100 with --profile; not measured apart at larger h). So the ~40 % of the
matmul rate that (d) misses at h = 100 goes mostly to numpy's work on small
arrays around the products, not to the products themselves.
``--hidden-sizes`` runs (d) at its best B and (a) at each h (FLOPs counted
alike, 6 h (h + V) per token; the matmul rate measured again in the same round
robin; ratios against (a) at the same h). The stop-16 run: 63 %, 69 %, 77 % of
the matmul rate at h = 100, 256, 512 (B = 96; 31.8, 34.8, 39.0 of 50.7
GFLOP/s), and 12.6x, 9.0x, 9.3x the one-token loop at the same h: the ratio
does not grow with h, as the loop's per-token Python and small-array overhead
is spread over more FLOPs too (an earlier run at load ~3: 51 %, 63 %, 72 % and
11.8x, 9.9x, 9.4x; the trend in the share holds, the ratios wobble).

Equal time: min-char-rnn (batch 1) and rnnkit batched (batch ``--train-batch``),
both Adagrad from the same initialisation, are trained on Hamlet's letters
(``rnnkit.datasets.char_corpus``) for the same CPU seconds. Each model's
learning rate is tuned for its batch by the same small sweep (``--lrs``, half
the budget each, trained on the first 90 % of the training text and scored on
its last 10 %; the validation text is not looked at), then the winner is
retrained from scratch on all of it for the full budget. Both are scored by
validation perplexity, the state carried through the validation text.
(Karpathy's lr 0.1 is in the sweep; with Adagrad the batched model's best lr
comes out *lower*, not sqrt(B) times higher: Adagrad divides each step by the
root of the summed squared gradients, so the step size is set by lr alone, and
an averaged gradient keeps its sign from step to step, so steps of lr in every
coordinate add up.)

    python benchmarks/bench_numpy_bptt.py [--repeats 15] [--seconds 0.2] \
        [--threads 1] [--train-seconds 20] [--hidden-sizes 100 256 512] \
        [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument(
    "--repeats", type=int, default=15, help="timed repeats (median reported)"
)
parser.add_argument(
    "--seconds", type=float, default=0.2, help="approximate length of one repeat"
)
parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
parser.add_argument("--batches", type=int, nargs="+", default=[32, 64, 96, 128, 256])
parser.add_argument(
    "--model-batch", type=int, default=64, help="B of (e), the model's pass alone"
)
parser.add_argument(
    "--train-seconds",
    type=float,
    default=20.0,
    help="CPU seconds each model trains on Hamlet in the equal-time comparison "
    "(0 skips it)",
)
parser.add_argument(
    "--train-batch", type=int, default=32, help="B of the equal-time batched model"
)
parser.add_argument(
    "--lrs",
    type=float,
    nargs="+",
    default=[0.02, 0.05, 0.1, 0.2],
    help="Adagrad learning rates swept for each model in the equal-time comparison",
)
parser.add_argument(
    "--hidden-sizes",
    type=int,
    nargs="*",
    default=[100, 256, 512],
    help="hidden sizes of the context sweep, (d) and (a) at each, at (d)'s best B "
    "(none skips it)",
)
parser.add_argument(
    "--profile",
    action="store_true",
    help="also time the pieces of one (d) step at its best B (where the time goes)",
)
parser.add_argument(
    "--quick", action="store_true", help="5 repeats, 6 s training: a smoke run"
)
parser.add_argument("--json", help="also write the figures to this JSON file")
args = parser.parse_args()
if args.quick:
    args.repeats, args.train_seconds = 5, min(args.train_seconds, 6.0)

# Pin BLAS threads: with threadpoolctl after importing numpy, else with environment
# variables, which only work if set before numpy is imported (hence this order).
try:
    import threadpoolctl
except ImportError:
    threadpoolctl = None
    for var in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
    ):
        os.environ[var] = str(args.threads)
    THREADS_HOW = (
        f"environment variables OMP/OPENBLAS/MKL/VECLIB_*_THREADS={args.threads} "
        "set before importing numpy"
    )

import numpy as np  # noqa: E402

if threadpoolctl is not None:
    threadpoolctl.threadpool_limits(args.threads)
    THREADS_HOW = f"threadpoolctl.threadpool_limits({args.threads})"

from rnnkit.clipping import clip_grad_norm  # noqa: E402
from rnnkit.losses import perplexity, softmax_cross_entropy  # noqa: E402
from rnnkit.rnn_numpy import (  # noqa: E402
    init_params,
    lm_loss_and_grads,
    one_hot,
    output_backward,
    output_forward,
    rnn_backward,
    rnn_forward,
)

V, H, T = 65, 100, 25
BASE_LR = 1e-1  # min-char-rnn's
FLOPS_PER_TOKEN = 6 * H * (H + V)  # matmul FLOPs the model needs, see the docstring
PEAK_N = 1024
TARGET_RATIO, TARGET_SHARE = 10.0, 0.60


# ----------------------------------------------------------------- (a) min-char-rnn


def min_char_rnn_loss(inputs, targets, hprev, Wxh, Whh, Why, bh, by):
    """Karpathy's lossFun: forward + BPTT a token at a time, columns (V, 1), (H, 1)."""
    xs, hs, ys, ps = {}, {}, {}, {}
    hs[-1] = np.copy(hprev)
    loss = 0.0
    for t in range(len(inputs)):
        xs[t] = np.zeros((Wxh.shape[1], 1))
        xs[t][inputs[t]] = 1
        hs[t] = np.tanh(np.dot(Wxh, xs[t]) + np.dot(Whh, hs[t - 1]) + bh)
        ys[t] = np.dot(Why, hs[t]) + by
        ps[t] = np.exp(ys[t]) / np.sum(np.exp(ys[t]))
        loss += -np.log(ps[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dhnext = np.zeros_like(hs[0])
    for t in reversed(range(len(inputs))):
        dy = np.copy(ps[t])
        dy[targets[t]] -= 1
        dWhy += np.dot(dy, hs[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - hs[t] * hs[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, xs[t].T)
        dWhh += np.dot(dhraw, hs[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    for dparam in (dWxh, dWhh, dWhy, dbh, dby):
        np.clip(dparam, -5, 5, out=dparam)
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[len(inputs) - 1]


def make_baseline(corpus, params, lr=BASE_LR):
    """``(step, weights)``: one min-char-rnn training step per call (Why = W_ho)."""
    Wxh, Whh, Why = (params[k].copy() for k in ("W_xh", "W_hh", "W_ho"))
    bh, by = params["b_h"][:, None].copy(), params["b_o"][:, None].copy()
    weights = [Wxh, Whh, Why, bh, by]
    mems = [np.zeros_like(w) for w in weights]
    h = Whh.shape[0]
    state = {"p": 0, "h": np.zeros((h, 1))}

    def step():
        p = state["p"]
        if p + T + 1 >= len(corpus):
            p, state["h"] = 0, np.zeros((h, 1))
        inputs, targets = corpus[p : p + T], corpus[p + 1 : p + T + 1]
        loss, *grads, state["h"] = min_char_rnn_loss(
            inputs, targets, state["h"], *weights
        )
        for w, g, mem in zip(weights, grads, mems):  # Adagrad
            mem += g * g
            w += -lr * g / np.sqrt(mem + 1e-8)
        state["p"] = p + T
        return loss

    return step, weights


def as_params(weights):
    """min-char-rnn's column-vector weights as an rnnkit parameter dict."""
    Wxh, Whh, Why, bh, by = weights
    return {"W_xh": Wxh, "W_hh": Whh, "W_ho": Why, "b_h": bh[:, 0], "b_o": by[:, 0]}


# ----------------------------------------------------------------- (b)-(d) rnnkit


def loss_and_grads_step_by_step(params, X, Y, h0):
    """(b): the book's functions on one-hot inputs, as lm_loss_and_grads once was."""
    Vp = params["W_ho"].shape[0]
    Hs, cache = rnn_forward(
        one_hot(X, Vp), h0, params["W_xh"], params["W_hh"], params["b_h"]
    )
    O, out_cache = output_forward(Hs, params["W_ho"], params["b_o"])
    loss, dO = softmax_cross_entropy(O, Y)
    dH, dW_ho, db_o = output_backward(dO, out_cache)
    g = rnn_backward(dH, cache)
    grads = {
        "W_xh": g["dW_xh"],
        "W_hh": g["dW_hh"],
        "b_h": g["db_h"],
        "W_ho": dW_ho,
        "b_o": db_o,
    }
    return loss, grads, Hs[-1].copy()


def adagrad_in_place(params, grads, mems, scratch, lr):
    """min-char-rnn's Adagrad update on dicts of arrays, written in place."""
    for k, w in params.items():
        g, mem, step_k = grads[k], mems[k], scratch[k]
        mem += np.square(g, out=step_k)  # mem += g^2
        np.add(mem, 1e-8, out=step_k)
        np.sqrt(step_k, out=step_k)
        np.divide(g, step_k, out=step_k)  # g / sqrt(mem + 1e-8)
        step_k *= -lr
        w += step_k


def make_batched(corpus, params, B, lr=BASE_LR, how="workspace"):
    """``(step, params)``: one rnnkit training step on a (T, B) window per call.

    ``how``: ``"step-by-step"`` (b), ``"fresh"`` (c) or ``"workspace"`` (d).
    """
    L = (len(corpus) - 1) // B
    pos = np.arange(L)[:, None] + L * np.arange(B)[None, :]  # (L, B): stream b, step t
    X_all, Y_all = corpus[pos], corpus[pos + 1]  # column b is stream b
    params = {k: v.copy() for k, v in params.items()}
    mems = {k: np.zeros_like(v) for k, v in params.items()}
    scratch = {k: np.empty_like(v) for k, v in params.items()}  # the update's temporary
    h = params["W_hh"].shape[0]
    state = {"p": 0, "h": np.zeros((B, h))}
    workspace = {} if how == "workspace" else None

    def step():
        p = state["p"]
        if p + T > L:
            p, state["h"] = 0, np.zeros((B, h))
        X, Y = X_all[p : p + T], Y_all[p : p + T]
        if how == "step-by-step":
            loss, grads, state["h"] = loss_and_grads_step_by_step(
                params, X, Y, state["h"]
            )
        else:
            loss, grads, state["h"] = lm_loss_and_grads(
                params, X, Y, state["h"], workspace=workspace
            )
        clip_grad_norm(grads, 5.0)
        adagrad_in_place(params, grads, mems, scratch, lr)
        state["p"] = p + T
        return loss

    return step, params


def make_model_pass(corpus, params, B):
    """(e): ``lm_loss_and_grads`` with a workspace on successive (T, B) windows."""
    L = (len(corpus) - 1) // B
    pos = np.arange(L)[:, None] + L * np.arange(B)[None, :]
    X_all, Y_all = corpus[pos], corpus[pos + 1]
    state = {"p": 0, "h": np.zeros((B, params["W_hh"].shape[0]))}
    workspace = {}

    def step():
        p = state["p"] if state["p"] + T <= L else 0
        X, Y = X_all[p : p + T], Y_all[p : p + T]
        loss, _, state["h"] = lm_loss_and_grads(
            params, X, Y, state["h"], workspace=workspace
        )
        state["p"] = p + T
        return loss

    return step


# ----------------------------------------------------------------- timing


def make_peak():
    """One float64 (N, N) @ (N, N) product per call: the machine's matmul rate."""
    rng = np.random.default_rng(0)
    a, b = rng.random((PEAK_N, PEAK_N)), rng.random((PEAK_N, PEAK_N))
    c = np.empty_like(a)
    return lambda: np.matmul(a, b, out=c)


def calibrate(step, seconds):
    """Warm up, then return how many steps take about ``seconds`` of CPU time."""
    for _ in range(2):
        step()
    t0, n = time.process_time(), 0
    while time.process_time() - t0 < 0.05 or n < 2:
        step()
        n += 1
    return max(2, int(n * seconds / (time.process_time() - t0)))


def time_round_robin(configs, repeats, seconds):
    """Work units per second of every config per repeat, the configs in turn.

    ``configs``: ``{name: (step, units_per_step)}``. Returns
    ``{name: {"wall": array, "cpu": array}}`` of rates, one entry per repeat.
    Interleaving spreads background load over all configurations alike, so
    their ratios stay meaningful even when absolute numbers wobble.
    """
    n_steps = {name: calibrate(step, seconds) for name, (step, _) in configs.items()}
    rates = {name: {"wall": [], "cpu": []} for name in configs}
    for _ in range(repeats):
        for name, (step, units) in configs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            for _ in range(n_steps[name]):
                step()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            rates[name]["wall"].append(n_steps[name] * units / wall)
            rates[name]["cpu"].append(n_steps[name] * units / max(cpu, 1e-9))
    return {name: {k: np.array(v) for k, v in r.items()} for name, r in rates.items()}


def check_same_model(corpus, params):
    """min-char-rnn, the step-by-step path and lm_loss_and_grads agree on a window."""
    X, Y = corpus[:T], corpus[1 : T + 1]
    loss_a, *g_a, _ = min_char_rnn_loss(
        X, Y, np.zeros((H, 1)), *(params[k] for k in ("W_xh", "W_hh", "W_ho")),
        params["b_h"][:, None], params["b_o"][:, None],
    )  # fmt: skip
    names = ("W_xh", "W_hh", "W_ho", "b_h", "b_o")
    worst = 0.0
    for fn in (loss_and_grads_step_by_step, lm_loss_and_grads):
        loss_b, g_b, _ = fn(params, X[:, None], Y[:, None], np.zeros((1, H)))
        # min-char-rnn sums the loss over the T steps, rnnkit averages: scale by T.
        diff = max(
            np.abs(a.ravel() - T * g_b[k].ravel()).max() / np.abs(a).max()
            for a, k in zip(g_a, names)
        )
        assert abs(loss_a - T * loss_b) < 1e-9 * loss_a and diff < 1e-10, (fn, diff)
        worst = max(worst, diff)
    return loss_a, worst


# ----------------------------------------------------------------- hidden sizes


def hidden_sweep(corpus, B, sizes, repeats, seconds):
    """(d) at batch ``B`` and (a) at every hidden size in ``sizes``, with the peak.

    One round robin (the matmul rate measured in it, as in the main table);
    FLOPs counted the same way, 6 h (h + V) per token at each h. Returns the peak
    rates and one row per h with (d)'s tokens/s, GFLOP/s, share of the matmul
    rate and its ratio to (a) at the same h.
    """
    configs = {"peak": (make_peak(), 2 * PEAK_N**3)}
    for h in sizes:
        p = init_params(V, h, V, seed=1, scale=0.01)
        configs[f"base{h}"] = (make_baseline(corpus, p)[0], T)
        configs[f"ws{h}"] = (make_batched(corpus, p, B)[0], T * B)
    rates = time_round_robin(configs, repeats, seconds)
    peak = {k: float(np.median(v)) / 1e9 for k, v in rates["peak"].items()}
    rows = []
    for h in sizes:
        ours, base = rates[f"ws{h}"], rates[f"base{h}"]
        row = {"h": h, "batch": B, "flops_per_token": 6 * h * (h + V)}
        for clock in ("wall", "cpu"):
            tps = float(np.median(ours[clock]))
            row[f"tokens_per_s_{clock}"] = tps
            row[f"base_tokens_per_s_{clock}"] = float(np.median(base[clock]))
            row[f"ratio_{clock}"] = float(np.median(ours[clock] / base[clock]))
            row[f"gflops_{clock}"] = tps * row["flops_per_token"] / 1e9
            row[f"share_{clock}"] = row[f"gflops_{clock}"] / peak[clock]
        rows.append(row)
    return {"peak_gflops": peak, "rows": rows}


def profile_step(corpus, params, B, repeats, seconds):
    """Where one (d) step's time goes: its pieces timed apart, in one round robin.

    The pieces are rnnkit's own functions on one (T, B) window (the forward, the
    output layer with softmax, loss and their backward, BPTT, clipping with the
    Adagrad update), then three parts of them alone at the same shapes: the six kinds
    of matrix product the model needs (2T per-step products, four over all T B
    rows), tanh (T calls on (B, h)) and the scatter-add. Returns microseconds per
    call of each, median over repeats (CPU time), and the whole step's.
    """
    from rnnkit import rnn_numpy as rn  # the pieces lm_loss_and_grads runs

    step, _ = make_batched(corpus, params, B)
    X, Y = corpus[: T * B].reshape(B, T).T, corpus[1 : T * B + 1].reshape(B, T).T
    h0, ws = np.zeros((B, H)), {}
    W_xh, W_hh, b_h, W_ho, b_o = (params[k] for k in rn.PARAM_NAMES)
    Hs, cache = rn.rnn_forward_ids(X, h0, W_xh, W_hh, b_h, workspace=ws)
    _, dH, *_ = rn._output_softmax_xent(Hs, W_ho, b_o, Y, None, ws)
    dH = dH.copy()  # the workspace's delta array is overwritten by BPTT
    grads = rn.rnn_backward_ids(dH, cache)
    full_grads = {"W_xh": grads["dW_xh"], "W_hh": grads["dW_hh"], "b_h": grads["db_h"]}
    full_grads |= {"W_ho": W_ho.copy(), "b_o": b_o.copy()}
    q = {k: v.copy() for k, v in params.items()}
    mems = {k: np.ones_like(v) for k, v in params.items()}
    scratch = {k: np.empty_like(v) for k, v in params.items()}

    def clip_and_update():
        g = {k: v.copy() for k, v in full_grads.items()}
        clip_grad_norm(g, 5.0)
        adagrad_in_place(q, g, mems, scratch, 1e-12)  # a tiny lr: q barely moves

    rows_h, N = np.ascontiguousarray(Hs.reshape(T * B, H)), T * B
    OT, dO = np.empty((V, N)), np.full((V, N), 1e-3)
    hW, out_h = np.empty((B, H)), np.empty((N, H))
    W_hh_T = np.ascontiguousarray(W_hh.T)

    def matmuls():  # the shapes of the products in lm_loss_and_grads, in its order
        for t in range(T):
            np.matmul(Hs[t], W_hh_T, out=hW)  # forward, per step
        np.matmul(W_ho, rows_h.T, out=OT)  # logits
        _ = dO @ rows_h  # dW_ho
        np.matmul(dO.T, W_ho, out=out_h)  # dH
        for t in range(T):
            np.matmul(Hs[t], W_hh, out=hW)  # backward, per step
        _ = rows_h.T @ out_h  # dW_hh

    a = Hs.copy()
    ids = X.ravel()

    def tanh_steps():
        for t in range(T):
            np.tanh(a[t], out=hW)

    pieces = {
        "whole step (d): lm_loss_and_grads + clip + Adagrad": step,
        "  forward: lookup, T steps of h W_hh^T + tanh": lambda: rn.rnn_forward_ids(
            X, h0, W_xh, W_hh, b_h, workspace=ws
        ),
        "  output layer, softmax, loss and their backward": lambda: (
            rn._output_softmax_xent(Hs, W_ho, b_o, Y, None, ws)
        ),
        "  BPTT: T steps, dW_hh, scatter-add (and a copy of dH)": lambda: (
            rn.rnn_backward_ids(dH, cache)
        ),
        "  clipping and the Adagrad update": clip_and_update,
        "of which: the matrix products alone, same shapes": matmuls,
        "of which: tanh alone, T calls on (B, h)": tanh_steps,
        "of which: the scatter-add alone": lambda: rn._scatter_add_rows(
            ids, dH.reshape(N, H), V, ws
        ),
    }
    rates = time_round_robin(
        {k: (f, 1) for k, f in pieces.items()}, repeats, seconds
    )  # calls per second
    return {k: 1e6 / float(np.median(r["cpu"])) for k, r in rates.items()}


# ----------------------------------------------------------------- equal time


def valid_perplexity(params, ids):
    """Perplexity of ``ids`` read as one stream, the state carried across windows."""
    h = np.zeros((1, params["W_hh"].shape[0]))
    total, n = 0.0, 0
    ws = {}
    for p in range(0, len(ids) - 1, T):
        X, Y = ids[p : p + T], ids[p + 1 : p + T + 1]
        X = X[: len(Y)]
        loss, _, h = lm_loss_and_grads(params, X[:, None], Y[:, None], h, workspace=ws)
        total, n = total + loss * len(Y), n + len(Y)
    return perplexity(total / n)


def train_for(step, cpu_seconds):
    """Call ``step`` until ``cpu_seconds`` of this process's CPU time have passed."""
    t0, n = time.process_time(), 0
    while time.process_time() - t0 < cpu_seconds:
        step()
        n += 1
    return n


def equal_time(seconds, B, lrs):
    """Train min-char-rnn and rnnkit (batch B), each lr swept, for equal CPU time."""
    from rnnkit.datasets import char_corpus

    corpus = char_corpus()
    Vc = corpus.vocab_size
    params = init_params(Vc, H, Vc, seed=1, scale=0.01)
    train = corpus.train_ids
    cut = len(train) - len(train) // 10
    sweep_seconds = seconds / 2

    def base(ids, lr):
        step, weights = make_baseline(ids, params, lr=lr)
        return step, lambda: as_params(weights)

    def ours(ids, lr):
        step, p = make_batched(ids, params, B, lr=lr)
        return step, lambda: p

    out = {"seconds": seconds, "batch": B, "sweep_seconds": sweep_seconds}
    for name, make in (("base", base), ("ours", ours)):
        sweep = {}
        for lr in lrs:  # tuned on the training text's last 10 %, trained on the rest
            step, get = make(train[:cut], lr)
            train_for(step, sweep_seconds)
            sweep[lr] = valid_perplexity(get(), train[cut:])
        lr = min(sweep, key=sweep.get)
        step, get = make(train, lr)
        n = train_for(step, seconds)
        out[f"{name}_sweep"] = {str(k): v for k, v in sweep.items()}
        out[f"{name}_lr"] = lr
        out[f"{name}_steps"] = n
        out[f"{name}_tokens"] = n * T * (1 if name == "base" else B)
        out[f"{name}_ppl"] = valid_perplexity(get(), corpus.valid_ids)
    return {
        **out,
        "V": Vc,
        "valid_chars": int(len(corpus.valid_ids)),
    }


# ----------------------------------------------------------------- main


def main():
    rng = np.random.default_rng(0)
    corpus = rng.integers(0, V, size=200_000)
    params = init_params(V, H, V, seed=1, scale=0.01)  # min-char-rnn's init

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - older numpy: the BLAS name is only informative
        blas = "unknown"
    print(
        f"numpy {np.__version__} (BLAS: {blas}), python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs; threads: {args.threads}, via {THREADS_HOW}"
    )
    print(
        f"setup: V={V} random ids, h={H}, T={T}, tanh, float64; "
        "step = forward + BPTT + clip + Adagrad"
    )
    loss0, diff = check_same_model(corpus, params)
    print(
        f"check: same loss ({loss0:.6f} summed over T) and gradients in all three "
        f"(max rel diff {diff:.1e})"
    )
    print(f"timing: median of {args.repeats} repeats of ~{args.seconds}s each\n")

    configs = {"peak": (make_peak(), 2 * PEAK_N**3)}
    configs["base"] = (make_baseline(corpus, params)[0], T)
    labels = {"base": ("(a) min-char-rnn, token at a time", 1)}
    for B in sorted({32, max(args.batches)}):
        configs[f"sbs{B}"] = (
            make_batched(corpus, params, B, how="step-by-step")[0],
            T * B,
        )
        labels[f"sbs{B}"] = ("(b) step-by-step on one-hots", B)
    Bmax = max(args.batches)
    configs[f"fresh{Bmax}"] = (
        make_batched(corpus, params, Bmax, how="fresh")[0],
        T * Bmax,
    )
    labels[f"fresh{Bmax}"] = ("(c) lm_loss_and_grads, no workspace", Bmax)
    for B in args.batches:
        configs[f"ws{B}"] = (make_batched(corpus, params, B)[0], T * B)
        labels[f"ws{B}"] = ("(d) lm_loss_and_grads(workspace=)", B)
    Bm = args.model_batch
    configs[f"pass{Bm}"] = (make_model_pass(corpus, params, Bm), T * Bm)
    labels[f"pass{Bm}"] = ("(e) (d) without clip and update", Bm)
    rates = time_round_robin(configs, args.repeats, args.seconds)
    peak = {k: float(np.median(v)) / 1e9 for k, v in rates.pop("peak").items()}
    base = rates["base"]

    rows = []
    for name, r in rates.items():
        label, B = labels[name]
        row = {"name": name, "label": label, "batch": B}
        for clock in ("wall", "cpu"):
            tps = float(np.median(r[clock]))
            row[f"tokens_per_s_{clock}"] = tps
            row[f"ratio_{clock}"] = float(np.median(r[clock] / base[clock]))
            row[f"gflops_{clock}"] = tps * FLOPS_PER_TOKEN / 1e9
            row[f"share_{clock}"] = row[f"gflops_{clock}"] / peak[clock]
        row["spread_cpu"] = (float(r["cpu"].min()), float(r["cpu"].max()))
        rows.append(row)

    header = (
        f"{'implementation':<38}{'B':>5}{'tok/s wall':>12}{'tok/s CPU':>12}"
        f"{'x base':>8}{'GFLOP/s':>9}{'of peak':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['label']:<38}{row['batch']:>5}{row['tokens_per_s_wall']:>12,.0f}"
            f"{row['tokens_per_s_cpu']:>12,.0f}{row['ratio_cpu']:>7.1f}x"
            f"{row['gflops_cpu']:>9.1f}{row['share_cpu']:>9.0%}"
        )
    print(
        f"{'single-core float64 matmul (1024^3)':<43}{'':>24}"
        f"{peak['cpu']:>9.1f}{1:>9.0%}   (wall: {peak['wall']:.1f})"
    )
    best = max(
        (r for r in rows if r["name"].startswith("ws")), key=lambda r: r["ratio_cpu"]
    )
    ratio_met = best["ratio_cpu"] >= TARGET_RATIO
    share_met = best["share_cpu"] >= TARGET_SHARE
    print(
        f"\nbest: B={best['batch']} at {best['ratio_cpu']:.1f}x the baseline's "
        "tokens/s "
        f"(wall clock: {best['ratio_wall']:.1f}x; target >= {TARGET_RATIO:g}x: "
        f"{'met' if ratio_met else 'MISSED'}), {best['gflops_cpu']:.1f} GFLOP/s = "
        f"{best['share_cpu']:.0%} of the measured matmul rate (target >= "
        f"{TARGET_SHARE:.0%}: {'met' if share_met else 'MISSED'})"
    )
    result = {
        "setup": {"V": V, "h": H, "T": T, "flops_per_token": FLOPS_PER_TOKEN},
        "threads": args.threads,
        "repeats": args.repeats,
        "peak_gflops": peak,
        "rows": rows,
        "best": best,
        "targets": {"ratio": TARGET_RATIO, "share": TARGET_SHARE},
    }
    if args.hidden_sizes:
        t0 = time.perf_counter()
        sweep = hidden_sweep(
            corpus, best["batch"], args.hidden_sizes, args.repeats, args.seconds
        )
        sweep["wall_s"] = time.perf_counter() - t0
        result["hidden_sweep"] = sweep
        print(
            f"\ncontext, not a target: (d) at B={best['batch']} against (a) at the "
            "same hidden size h, FLOPs 6h(h+V) per token at each h; matmul rate "
            f"measured again in this sweep: {sweep['peak_gflops']['cpu']:.1f} GFLOP/s "
            f"({sweep['wall_s']:.0f} s wall)"
        )
        head = (
            f"{'h':>5}{'FLOP/token':>12}{'(d) tok/s':>12}{'(a) tok/s':>11}"
            f"{'x base':>8}{'GFLOP/s':>9}{'of peak':>9}"
        )
        print(head)
        print("-" * len(head))
        for row in sweep["rows"]:
            print(
                f"{row['h']:>5}{row['flops_per_token']:>12,}"
                f"{row['tokens_per_s_cpu']:>12,.0f}"
                f"{row['base_tokens_per_s_cpu']:>11,.0f}{row['ratio_cpu']:>7.1f}x"
                f"{row['gflops_cpu']:>9.1f}{row['share_cpu']:>9.0%}"
            )
    if args.profile:
        prof = profile_step(corpus, params, best["batch"], args.repeats, args.seconds)
        result["profile_us"] = prof
        whole = next(iter(prof.values()))
        print(
            f"\nwhere the time of one (d) step goes, B={best['batch']} (CPU us per "
            "call, median; pieces timed apart, so they need not add up exactly):"
        )
        for name, us in prof.items():
            print(f"  {name:<58}{us:>9,.0f}{us / whole:>7.0%}")
    if args.train_seconds > 0:
        e = equal_time(args.train_seconds, args.train_batch, args.lrs)
        result["equal_time"] = e
        print(
            f"\nequal time on Hamlet letters (V={e['V']}, {e['valid_chars']:,} "
            f"validation characters), {e['seconds']:g} CPU s each; lr tuned per "
            f"model by a sweep ({e['sweep_seconds']:g} s each, perplexity on the "
            "training text's last 10 %):"
        )
        for name in ("base", "ours"):
            sweep = ", ".join(f"{k}: {v:.3f}" for k, v in e[f"{name}_sweep"].items())
            print(f"  {name}: {sweep} -> lr {e[f'{name}_lr']:g}")
        head = f"{'implementation':<36}{'B':>5}{'lr':>6}{'steps':>8}{'tokens':>11}"
        print(f"{head}{'valid ppl':>11}")
        for label, b, lr, n, tok, ppl in (
            ("(a) min-char-rnn", 1, e["base_lr"], e["base_steps"], e["base_tokens"],
             e["base_ppl"]),
            ("(d) rnnkit batched", e["batch"], e["ours_lr"], e["ours_steps"],
             e["ours_tokens"], e["ours_ppl"]),
        ):  # fmt: skip
            print(f"{label:<36}{b:>5}{lr:>6g}{n:>8}{tok:>11,}{ppl:>11.3f}")
        verdict = "lower" if e["ours_ppl"] < e["base_ppl"] else "NOT lower"
        print(f"rnnkit's validation perplexity is {verdict} at equal time")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
