"""Character language models on Hamlet, same data, same clock: D2L's RNN vs rnnkit's.

Run::

    python benchmarks/bench_charlm.py              # 60 s per model, ~2.5 min in all
    python benchmarks/bench_charlm.py --seconds 20 --no-ngram

Everything runs in one process with ``torch.set_num_threads(1)``, so the
models get the same single CPU core one after the other.

Data (Dive into Deep Learning's): ``letters_only(load_play("hamlet"))``, 28
tokens (26 letters, space, ``<unk>``), overlapping windows of 33 characters at
stride 1 (input 32, target shifted by one); the last 16,000 windows are the
validation set (``d2l_windows`` of ``benchmarks/d2l_split.py``, next to this
script; windows are time-major, ``(T, N)``, one per column). Validation
perplexity = exp(mean cross-entropy over every position of every validation
window, each window read from a zero state) (:func:`rnnkit.lm_eval.window_perplexity`;
the exp is :func:`rnnkit.losses.perplexity`).

Models:

(a) **D2L baseline**, written out below as the book does: parameters ``W_xh``
    (d, h), ``W_hh`` (h, h), ``b_h``, ``W_hq`` (h, V), ``b_q``, initialised
    ``normal * 0.01`` (biases zero), one-hot inputs, 32 hidden units, a Python
    loop over time, plain SGD with lr 1, gradient clipping to norm 1, batches of
    1024 windows shuffled every epoch, zero initial state per window. (D2L
    feeds ``(B, T)`` windows and transposes inside; here they come ``(T, B)``.)
(b) **rnnkit**: :class:`rnnkit.rnn_torch.RNNLM` trained by
    :func:`rnnkit.lm_train.train_lm` with the ``"60s"`` preset — still a vanilla
    tanh RNN, but wider, fed through ``nn.RNN`` and trained with Adam.
(c) **n-grams**: the best :class:`rnnkit.markov.NGramLM` of context length
    k = 1..7, interpolated Kneser-Ney and add-alpha, scored on the same windows;
    position t of a window is conditioned only on the t + 1 characters of its
    own window (as the RNNs are), by the order-min(t + 1, k) model.

Only training time counts against the budget; the clock stops while validating.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
import torch.nn.functional as F

# benchmarks/ is the script's directory, so its modules import by name
from d2l_split import d2l_char_corpus, d2l_train_ids, d2l_windows

from rnnkit.lm_train import train_lm
from rnnkit.losses import perplexity
from rnnkit.presets import char_lm_preset
from rnnkit.rnn_torch import RNNLM, count_parameters
from rnnkit.sampling import sample

NUM_STEPS, NUM_VALID = 32, 16000


# -- (a) Dive into Deep Learning's from-scratch RNN language model -----------------
class D2LRNNLMScratch:
    """The RNN LM of D2L §9.5 (``RNNScratch`` + ``RNNLMScratch``), without d2l."""

    def __init__(
        self, vocab_size: int, num_hiddens: int = 32, sigma: float = 0.01, seed: int = 0
    ):
        g = torch.Generator().manual_seed(seed)
        V, h = vocab_size, num_hiddens
        self.vocab_size, self.num_hiddens = V, h
        self.W_xh = (torch.randn(V, h, generator=g) * sigma).requires_grad_()
        self.W_hh = (torch.randn(h, h, generator=g) * sigma).requires_grad_()
        self.b_h = torch.zeros(h, requires_grad=True)
        self.W_hq = (torch.randn(h, V, generator=g) * sigma).requires_grad_()
        self.b_q = torch.zeros(V, requires_grad=True)

    def parameters(self) -> list[torch.Tensor]:
        return [self.W_xh, self.W_hh, self.b_h, self.W_hq, self.b_q]

    def rnn(
        self, inputs: torch.Tensor, state: torch.Tensor | None = None
    ) -> list[torch.Tensor]:
        if state is None:
            state = torch.zeros((inputs.shape[1], self.num_hiddens))
        outputs = []
        for X in inputs:  # X: (B, V)
            state = torch.tanh(
                torch.matmul(X, self.W_xh) + torch.matmul(state, self.W_hh) + self.b_h
            )
            outputs.append(state)
        return outputs

    def __call__(self, X: torch.Tensor) -> torch.Tensor:
        embs = F.one_hot(X, self.vocab_size).type(torch.float32)  # (T, B, V)
        rnn_outputs = self.rnn(embs)
        outputs = [torch.matmul(H, self.W_hq) + self.b_q for H in rnn_outputs]
        return torch.stack(outputs)  # (T, B, V)

    def loss(self, Y_hat: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(Y_hat.reshape(-1, Y_hat.shape[-1]), Y.reshape(-1))


def d2l_clip_gradients(params: list[torch.Tensor], grad_clip_val: float) -> None:
    norm = torch.sqrt(sum(torch.sum(p.grad**2) for p in params))
    if norm > grad_clip_val:
        for p in params:
            p.grad[:] *= grad_clip_val / norm


def d2l_valid_ppl(
    model: D2LRNNLMScratch, X: torch.Tensor, Y: torch.Tensor, batch_size: int = 1024
) -> float:
    """Window perplexity; X, Y (T, N) windows, one per column."""
    total = 0.0
    with torch.no_grad():
        for i in range(0, X.shape[1], batch_size):
            Y_hat = model(X[:, i : i + batch_size])  # (T, B, V)
            total += F.cross_entropy(
                Y_hat.reshape(-1, Y_hat.shape[-1]),
                Y[:, i : i + batch_size].reshape(-1),
                reduction="sum",
            ).item()
    return perplexity(total / Y.numel())


def run_d2l(
    train_X, train_Y, valid_X, valid_Y, V: int, seconds: float, seed: int = 0
) -> dict:
    model = D2LRNNLMScratch(V, 32, seed=seed)
    params = model.parameters()
    lr, batch_size, clip = 1.0, 1024, 1.0
    Xtr, Ytr = torch.from_numpy(train_X), torch.from_numpy(train_Y)
    Xva, Yva = torch.from_numpy(valid_X), torch.from_numpy(valid_Y)
    g = torch.Generator().manual_seed(seed)
    steps, tokens, elapsed, epoch = 0, 0, 0.0, 0
    while elapsed < seconds:
        # shuffle=True, last batch kept
        perm = torch.randperm(Xtr.shape[1], generator=g)
        for i in range(0, Xtr.shape[1], batch_size):
            t0 = time.perf_counter()
            idx = perm[i : i + batch_size]
            l = model.loss(model(Xtr[:, idx]), Ytr[:, idx])
            for p in params:
                p.grad = None
            l.backward()
            with torch.no_grad():
                d2l_clip_gradients(params, clip)
                for p in params:  # d2l.SGD
                    p -= lr * p.grad
            elapsed += time.perf_counter() - t0
            steps += 1
            tokens += idx.numel() * Xtr.shape[0]
            if elapsed >= seconds:
                break
        epoch += 1
    return {
        "model": "D2L scratch RNN (h=32, SGD lr 1)",
        "params": sum(p.numel() for p in params),
        "steps": steps,
        "tokens": tokens,
        "seconds": elapsed,
        "valid_ppl": d2l_valid_ppl(model, Xva, Yva),
    }


# -- (b) rnnkit ----------------------------------------------------------------------
def run_rnnkit(
    ids, valid_X, valid_Y, V: int, seconds: float, preset: str = "60s", seed: int = 0
) -> dict:
    p = char_lm_preset(preset)
    model = RNNLM(V, **p["model"], seed=seed)
    train = dict(p["train"])
    train.pop("steps", None)
    train.pop("epochs", None)
    hist = train_lm(
        model,
        d2l_train_ids(ids, NUM_STEPS, NUM_VALID),
        (valid_X, valid_Y),
        time_budget_s=seconds,
        eval_every=None,
        progress=False,
        seed=seed,
        **{
            k: v
            for k, v in train.items()
            if k not in ("eval_every", "progress", "seed")
        },
    )
    m, t = p["model"], p["train"]
    desc = (
        f"rnnkit RNNLM h={m['hidden_size']} e={m.get('embed_size')} "
        f"drop={m.get('dropout', 0)} {t['optimizer']} {t['lr']:g} "
        f"{t.get('lr_schedule', 'constant')} B={t['batch_size']} T={t['num_steps']}"
    )
    return {
        "model": desc,
        "params": count_parameters(model),
        "steps": hist["step"][-1],
        "tokens": hist["tokens"][-1],
        "seconds": hist["elapsed_s"][-1],
        "valid_ppl": hist["valid_ppl"][-1],
        "model_obj": model,
    }


def run_fixed_preset(
    ids, valid_X, valid_Y, V: int, preset: str = "fast", seed: int = 0
) -> dict:
    """The notebook's fixed-step preset, timed."""
    p = char_lm_preset(preset)
    model = RNNLM(V, **p["model"], seed=seed)
    t0 = time.perf_counter()
    hist = train_lm(
        model,
        d2l_train_ids(ids, NUM_STEPS, NUM_VALID),
        (valid_X, valid_Y),
        progress=False,
        seed=seed,
        **p["train"],
    )
    wall = time.perf_counter() - t0
    print(
        f"    {len(hist['step'])} validations at steps {hist['step']}: valid ppl "
        + ", ".join(f"{v:.3f}" for v in hist["valid_ppl"])
        + f"; wall time incl. validation {wall:.1f} s",
        flush=True,
    )
    return {
        "model": f"rnnkit preset {preset!r}: fixed {p['train']['steps']} steps",
        "params": count_parameters(model),
        "steps": hist["step"][-1],
        "tokens": hist["tokens"][-1],
        "seconds": hist["elapsed_s"][-1],
        "valid_ppl": hist["valid_ppl"][-1],
    }


# -- (c) n-gram on the same windows ------------------------------------------------
def ngram_target_logprobs(
    lm, ids: np.ndarray, n_train: int, num_valid: int, T: int
) -> np.ndarray:
    """log P(ids[p] | the c = lm.order ids before p) for every validation target p.

    Validation window i = n_train + j (j < num_valid) predicts ids[i + t + 1] at
    position t, so the targets are p = n_train + 1 .. n_train + num_valid + T - 1;
    entry j + t of the result belongs to window j, position t.
    """
    c = lm.order
    first, last = n_train + 1, n_train + num_valid + T
    return np.array(
        [
            math.log(lm.prob(ids[p - c : p].tolist(), int(ids[p])))
            for p in range(first, last)
        ]
    )


def ngram_window_ppl(
    logp: dict[int, np.ndarray], k: int, num_valid: int, T: int
) -> float:
    """Window perplexity of an order-k n-gram that, like the RNN, sees only its window.

    Position t of a window has t + 1 characters of context, so it is scored by
    the order-min(t + 1, k) model (``logp[c]`` from :func:`ngram_target_logprobs`).
    """
    total = sum(logp[min(t + 1, k)][t : t + num_valid].sum() for t in range(T))
    return perplexity(-total / (num_valid * T))


def run_ngram(ids, V: int, max_order: int = 7) -> list[dict]:
    try:
        from rnnkit.markov import NGramLM
    except ImportError:
        return []
    train_ids = d2l_train_ids(ids, NUM_STEPS, NUM_VALID)
    n_train = train_ids.size - NUM_STEPS
    rows = []
    for label, kw in (
        ("Kneser-Ney", {}),
        ("add-alpha (alpha=0.1)", {"smoothing": "add-alpha", "alpha": 0.1}),
    ):
        t0 = time.perf_counter()
        logp = {
            c: ngram_target_logprobs(
                NGramLM(c, V, **kw).fit(train_ids), ids, n_train, NUM_VALID, NUM_STEPS
            )
            for c in range(1, max_order + 1)
        }
        ppl = {
            k: ngram_window_ppl(logp, k, NUM_VALID, NUM_STEPS)
            for k in range(1, max_order + 1)
        }
        print(
            f"  {label}: " + ", ".join(f"k={k}: {p:.3f}" for k, p in ppl.items()),
            flush=True,
        )
        k = min(ppl, key=ppl.get)
        rows.append(
            {
                "model": f"{label} n-gram, best context k={k}",
                "valid_ppl": ppl[k],
                "params": None,
                "steps": 0,
                "tokens": 0,
                "seconds": time.perf_counter() - t0,
            }
        )
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="training budget per RNN (default 60)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preset", default="60s", help="rnnkit preset for the timed run")
    ap.add_argument("--no-ngram", action="store_true", help="skip the n-gram baseline")
    ap.add_argument(
        "--no-fast", action="store_true", help="skip the notebook's fixed-step preset"
    )
    ap.add_argument("--json", help="also write the rows to this JSON file")
    args = ap.parse_args()

    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, torch.get_num_threads() = ", end="")
    print(torch.get_num_threads())
    ids, vocab = d2l_char_corpus("hamlet")
    V = len(vocab)
    train_X, train_Y, valid_X, valid_Y = d2l_windows(ids, NUM_STEPS, NUM_VALID)
    print(
        f"hamlet letters-only: {ids.size} chars, V={V}; {train_X.shape[1]} train / "
        f"{valid_X.shape[1]} valid windows of {NUM_STEPS}+1; budget {args.seconds:g} s "
        "training per RNN"
    )
    rows = []
    print("(a) D2L baseline ...", flush=True)
    rows.append(run_d2l(train_X, train_Y, valid_X, valid_Y, V, args.seconds, args.seed))
    print(f"    valid ppl {rows[-1]['valid_ppl']:.3f}", flush=True)
    print("(b) rnnkit ...", flush=True)
    r = run_rnnkit(ids, valid_X, valid_Y, V, args.seconds, args.preset, args.seed)
    model = r.pop("model_obj")
    rows.append(r)
    print(f"    valid ppl {rows[-1]['valid_ppl']:.3f}", flush=True)
    if not args.no_fast:
        print("    notebook preset 'fast' ...", flush=True)
        rows.append(run_fixed_preset(ids, valid_X, valid_Y, V, "fast", args.seed))
        print(f"    valid ppl {rows[-1]['valid_ppl']:.3f}", flush=True)
    if not args.no_ngram:
        print("(c) n-gram ...", flush=True)
        rows.extend(run_ngram(ids, V))

    base = rows[0]["valid_ppl"]
    print()
    print(f"torch threads: {torch.get_num_threads()}")
    head = (
        f"{'model':<66} {'params':>8} {'steps':>6} {'train s':>7} {'tokens/s':>9} "
        f"{'valid ppl':>9} {'/ D2L':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        tps = r["tokens"] / r["seconds"] if r["tokens"] else float("nan")
        params = f"{r['params']:>8d}" if isinstance(r["params"], int) else f"{'-':>8}"
        tps_s = f"{tps:>9.0f}" if r["tokens"] else f"{'-':>9}"
        steps = f"{r['steps']:>6d}" if r["steps"] else f"{'-':>6}"
        print(
            f"{r['model']:<66} {params} {steps} {r['seconds']:>7.1f} {tps_s} "
            f"{r['valid_ppl']:>9.3f} {r['valid_ppl'] / base:>6.3f}"
        )
    print()
    print(
        "rnnkit sample (temperature 0.5):",
        repr(sample(model, vocab, "to be or not to be ", 80, temperature=0.5)),
    )
    if args.json:
        import json

        with open(args.json, "w") as f:
            json.dump({"budget_s": args.seconds, "V": V, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
