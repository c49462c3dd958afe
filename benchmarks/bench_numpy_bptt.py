"""Throughput of numpy BPTT: min-char-rnn (one token at a time) vs rnnkit (batched).

Setup (character-level, as in min-char-rnn): V = 65 token ids drawn at random
(throughput does not depend on the text), hidden size h = 100, windows of
T = 25 steps, tanh, one training step = forward + BPTT + gradient clipping +
Adagrad update, hidden state carried between windows (truncated BPTT).

(a) baseline: Karpathy's min-char-rnn ``lossFun`` written out below, batch 1,
    column vectors, one ``np.dot`` per token;
(b) rnnkit: ``lm_loss_and_grads`` on ``(T, B)`` windows of B parallel streams,
    ``clip_grad_norm``, the same Adagrad, for B in 1, 32, 128.

Reported: tokens/s (T * B per step), median over repeats, and the ratio to the
baseline (median over repeats of the ratio within a repeat; the configurations
run in turn in each repeat so background load hits them alike). BLAS runs on
one thread unless --threads says otherwise.

    python benchmarks/bench_numpy_bptt.py [--repeats 15] [--seconds 0.2] \
        [--threads 1] [--train-seconds 20]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument(
    "--repeats",
    type=int,
    default=15,
    help="timed repeats per configuration (median reported)",
)
parser.add_argument(
    "--seconds", type=float, default=0.2, help="approximate length of one repeat"
)
parser.add_argument("--threads", type=int, default=1, help="BLAS threads")
parser.add_argument("--batches", type=int, nargs="+", default=[1, 32, 128])
parser.add_argument(
    "--train-seconds",
    type=float,
    default=20.0,
    help="wall time each model trains on Hamlet in the equal-time comparison "
    "(0 skips it)",
)
args = parser.parse_args()

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
from rnnkit.losses import perplexity  # noqa: E402
from rnnkit.rnn_numpy import init_params, lm_loss_and_grads  # noqa: E402

V, H, T = 65, 100, 25
LEARNING_RATE = 1e-1


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


def make_baseline(corpus, params, return_weights=False):
    """Closure running one min-char-rnn training step per call (Why = W_ho, copied)."""
    Wxh, Whh, Why = (params[k].copy() for k in ("W_xh", "W_hh", "W_ho"))
    bh, by = params["b_h"][:, None].copy(), params["b_o"][:, None].copy()
    weights = [Wxh, Whh, Why, bh, by]
    mems = [np.zeros_like(w) for w in weights]
    state = {"p": 0, "h": np.zeros((H, 1))}

    def step():
        p = state["p"]
        if p + T + 1 >= len(corpus):
            p, state["h"] = 0, np.zeros((H, 1))
        inputs, targets = corpus[p : p + T], corpus[p + 1 : p + T + 1]
        loss, *grads, state["h"] = min_char_rnn_loss(
            inputs, targets, state["h"], *weights
        )
        for w, g, mem in zip(weights, grads, mems):  # Adagrad
            mem += g * g
            w += -LEARNING_RATE * g / np.sqrt(mem + 1e-8)
        state["p"] = p + T
        return loss

    return (step, weights) if return_weights else step


# ----------------------------------------------------------------- (b) rnnkit batched


def make_batched(corpus, params, B, return_params=False):
    """Closure running one rnnkit training step on a (T, B) window per call."""
    L = (len(corpus) - 1) // B
    pos = np.arange(L)[:, None] + L * np.arange(B)[None, :]  # (L, B): stream b, step t
    X_all, Y_all = corpus[pos], corpus[pos + 1]  # column b is stream b
    params = {k: v.copy() for k, v in params.items()}
    mems = {k: np.zeros_like(v) for k, v in params.items()}
    state = {"p": 0, "h": np.zeros((B, H))}

    def step():
        p = state["p"]
        if p + T > L:
            p, state["h"] = 0, np.zeros((B, H))
        loss, grads, state["h"] = lm_loss_and_grads(
            params, X_all[p : p + T], Y_all[p : p + T], state["h"]
        )
        clip_grad_norm(grads, 5.0)
        for k, w in params.items():  # Adagrad
            mems[k] += grads[k] * grads[k]
            w += -LEARNING_RATE * grads[k] / np.sqrt(mems[k] + 1e-8)
        state["p"] = p + T
        return loss

    return (step, params) if return_params else step


# ----------------------------------------------------------------- equal wall time


def valid_perplexity(params, ids):
    """Perplexity of ``ids`` read as one stream, the state carried across windows."""
    h = np.zeros((1, params["W_hh"].shape[0]))
    total, n = 0.0, 0
    for p in range(0, len(ids) - 1, T):
        X, Y = ids[p : p + T], ids[p + 1 : p + T + 1]
        X = X[: len(Y)]
        loss, _, h = lm_loss_and_grads(params, X[:, None], Y[:, None], h)
        total, n = total + loss * len(Y), n + len(Y)
    return perplexity(total / n)


def train_for(step, seconds):
    """Call ``step`` until ``seconds`` of wall time have passed; return the count."""
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        step()
        n += 1
    return n


def equal_wall_time(seconds, B):
    """Train min-char-rnn and rnnkit (batch B) for equal time; compare on Hamlet."""
    from rnnkit.datasets import char_corpus

    corpus = char_corpus()
    Vc = corpus.vocab_size
    params = init_params(Vc, H, Vc, seed=1, scale=0.01)
    base_step, base_weights = make_baseline(
        corpus.train_ids, params, return_weights=True
    )
    ours_step, ours_params = make_batched(
        corpus.train_ids, params, B, return_params=True
    )
    n_base = train_for(base_step, seconds)
    n_ours = train_for(ours_step, seconds)
    Wxh, Whh, Why, bh, by = base_weights
    base_params = {
        "W_xh": Wxh,
        "W_hh": Whh,
        "W_ho": Why,
        "b_h": bh[:, 0],
        "b_o": by[:, 0],
    }
    ppl_base = valid_perplexity(base_params, corpus.valid_ids)
    ppl_ours = valid_perplexity(ours_params, corpus.valid_ids)
    print(
        f"\nequal wall time on Hamlet letters (rnnkit.datasets.char_corpus, V={Vc}, "
        f"{len(corpus.valid_ids):,} validation characters), {seconds:.0f} s each, "
        "same init and Adagrad lr:"
    )
    head = f"{'implementation':<36}{'B':>5}{'steps':>8}{'tokens seen':>13}"
    print(f"{head}{'valid ppl':>11}")
    for label, b, n, ppl in (
        ("(a) min-char-rnn, token at a time", 1, n_base, ppl_base),
        ("(b) rnnkit batched numpy", B, n_ours, ppl_ours),
    ):
        print(f"{label:<36}{b:>5}{n:>8}{n * T * b:>13,}{ppl:>11.3f}")
    verdict = "lower" if ppl_ours < ppl_base else "NOT lower"
    print(f"rnnkit's validation perplexity is {verdict} than the baseline's", end="")
    print(" at equal wall time")


# ----------------------------------------------------------------- timing


def calibrate(step, seconds):
    """Warm up, then return how many steps take about ``seconds``."""
    for _ in range(3):
        step()
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < 0.1:
        step()
        n += 1
    return max(3, int(n * seconds / (time.perf_counter() - t0)))


def time_round_robin(configs, repeats, seconds):
    """tokens/s of every config per repeat, the configs in turn within each repeat.

    Interleaving spreads any background load on the machine over all configurations
    alike, so their ratios stay meaningful even when absolute numbers wobble.
    """
    n_steps = {name: calibrate(step, seconds) for name, (step, _) in configs.items()}
    rates = {name: [] for name in configs}
    for _ in range(repeats):
        for name, (step, tokens_per_step) in configs.items():
            t0 = time.perf_counter()
            for _ in range(n_steps[name]):
                step()
            rates[name].append(
                n_steps[name] * tokens_per_step / (time.perf_counter() - t0)
            )
    return {name: np.array(r) for name, r in rates.items()}


def check_same_model(corpus, params):
    """Both implementations give the same loss and gradients on one window."""
    X, Y = corpus[:T], corpus[1 : T + 1]
    loss_a, *g_a, _ = min_char_rnn_loss(
        X,
        Y,
        np.zeros((H, 1)),
        params["W_xh"],
        params["W_hh"],
        params["W_ho"],
        params["b_h"][:, None],
        params["b_o"][:, None],
    )
    loss_b, g_b, _ = lm_loss_and_grads(params, X[:, None], Y[:, None])
    # min-char-rnn sums the loss over the T steps, rnnkit averages: scale by T.
    pairs = zip(g_a, (g_b[k] for k in ("W_xh", "W_hh", "W_ho", "b_h", "b_o")))
    diff = max(
        np.abs(a.ravel() - T * b.ravel()).max() / np.abs(a).max() for a, b in pairs
    )
    assert abs(loss_a - T * loss_b) < 1e-9 * loss_a and diff < 1e-10, (
        loss_a,
        T * loss_b,
        diff,
    )
    return loss_a, diff


def main():
    rng = np.random.default_rng(0)
    corpus = rng.integers(0, V, size=200_000)
    # min-char-rnn's init: 0.01 * randn, zero biases
    params = init_params(V, H, V, seed=1, scale=0.01)

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        blas = f"{blas.get('name')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001 - older numpy: the BLAS name is only informative
        blas = "unknown"
    print(
        f"numpy {np.__version__} (BLAS: {blas}), python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print(f"threads: {args.threads}, via {THREADS_HOW}")
    print(
        f"setup: V={V} random ids, h={H}, T={T}, tanh; "
        "step = forward + BPTT + clip + Adagrad"
    )
    loss0, diff = check_same_model(corpus, params)
    print(
        f"check: same loss ({loss0:.6f} summed over T) and gradients "
        f"(max rel diff {diff:.1e}) in both"
    )
    print(f"timing: median of {args.repeats} repeats of ~{args.seconds}s each\n")

    configs = {"base": (make_baseline(corpus, params), T)}
    for B in args.batches:
        configs[B] = (make_batched(corpus, params, B), T * B)
    rates = time_round_robin(configs, args.repeats, args.seconds)
    base = rates["base"]

    header = (
        f"{'implementation':<36}{'B':>5}{'tokens/s (median)':>19}{'min..max':>22}"
        f"{'vs baseline':>13}"
    )
    print(header)
    print("-" * len(header))
    for name, r in rates.items():
        label, B = (
            ("(a) min-char-rnn, token at a time", 1)
            if name == "base"
            else ("(b) rnnkit batched numpy", name)
        )
        # Ratio: median over repeats of (this config / baseline in the same repeat).
        ratio = float(np.median(r / base))
        spread = f"{r.min():,.0f}..{r.max():,.0f}"
        print(f"{label:<36}{B:>5}{np.median(r):>19,.0f}{spread:>22}{ratio:>12.1f}x")
    best = max(args.batches, key=lambda b: np.median(rates[b]))
    ratio = float(np.median(rates[best] / base))
    verdict = "meets" if ratio >= 10 else "MISSES"
    print(
        f"\nbest: B={best} at {ratio:.1f}x the baseline's tokens/s "
        f"({verdict} the >= 10x target)"
    )
    if args.train_seconds > 0:
        equal_wall_time(args.train_seconds, best)


if __name__ == "__main__":
    main()
