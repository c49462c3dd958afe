"""Train, measure and sample a recurrent language model.

Reading order: data (D2L-style windows) → loss (perplexity) → training loop →
sampling → presets.

**Perplexity** is the lesson's headline number. A language model assigns the
true next token ``x_t`` a probability ``P(x_t | x_<t)``; its average negative
log-likelihood (NLL, the cross-entropy loss in nats) is

    NLL = -(1/N) sum_t log P(x_t | x_<t),        ppl = exp(NLL).

Perplexity is "the number of tokens the model is choosing between": a model
that guesses uniformly over ``V`` tokens has ``NLL = log V`` and so ``ppl = V``
(28 for the letters-only character vocabulary), a model that is always sure and
right has ``ppl = 1``.

Two ways to measure it on held-out text, both here:

* :func:`evaluate_perplexity` reads one id array as ``B`` long streams and
  carries the hidden state from chunk to chunk (every token sees all the text
  before it in its stream);
* :func:`window_perplexity` scores a set of fixed windows, each from a zero
  state — the measure of Dive into Deep Learning's character model, whose data
  split :func:`rnnkit.d2l_split.d2l_windows` reproduces so that results compare.

Models take ids ``(B, T)`` batch-first and return logits ``(T, B, V)``
time-major (see :class:`rnnkit.rnn_torch.RNNLM`).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .batching import as_ids, random_batches, sequential_batches
from .rnn_torch import as_id_tensor
from .shapes import check_positive_int
from .vocab import Vocab, tokenize

__all__ = [
    "window_perplexity",
    "evaluate_perplexity",
    "train_lm",
    "sample",
    "char_lm_preset",
    "PRESET_NAMES",
]


# -- loss: perplexity -----------------------------------------------------------
def _model_device(model: nn.Module) -> torch.device:
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def _check_model(model: object) -> nn.Module:
    if not isinstance(model, nn.Module) or not hasattr(model, "vocab_size"):
        raise TypeError(
            f"model must be a language model like rnnkit.rnn_torch.RNNLM (an nn.Module with vocab_size); "
            f"got {type(model).__name__}"
        )
    return model


def window_perplexity(
    model: nn.Module,
    X: np.ndarray | torch.Tensor,
    Y: np.ndarray | torch.Tensor,
    *,
    batch_size: int = 1024,
) -> float:
    """Perplexity over fixed windows, each read from a zero state.

    ``ppl = exp(mean NLL)`` over every position of every window: ``X`` and
    ``Y`` are ``(N, T)`` ids with ``Y`` the next tokens (as from
    :func:`rnnkit.d2l_split.d2l_windows`). No gradients; the model's train/eval mode is restored.
    Uniform guessing over ``V`` tokens gives ``V``.
    """
    model = _check_model(model)
    V = model.vocab_size
    X = as_id_tensor(X, V, "X")
    Y = as_id_tensor(Y, V, "Y")
    if X.shape != Y.shape:
        raise ValueError(
            f"X and Y must have the same shape (N, T); got {tuple(X.shape)} and {tuple(Y.shape)}"
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
            for i in range(0, X.shape[0], batch_size):
                xb, yb = (
                    X[i : i + batch_size].to(device),
                    Y[i : i + batch_size].to(device),
                )
                logits, _ = model(xb)  # (T, B, V)
                total += F.cross_entropy(
                    logits.reshape(-1, V), yb.T.reshape(-1), reduction="sum"
                ).item()
    finally:
        model.train(was_training)
    return math.exp(total / X.numel())


def evaluate_perplexity(
    model: nn.Module,
    ids: Sequence[int] | np.ndarray,
    *,
    batch_size: int = 16,
    num_steps: int = 64,
) -> float:
    """Perplexity ``exp(mean NLL)`` of ``model`` on a held-out id array.

    The ``N`` ids are cut into ``B = min(batch_size, N - 1)`` contiguous
    streams of equal length, read ``num_steps`` at a time with the hidden state
    carried across chunks (so each token is predicted from all of its stream
    before it). Every next-token prediction of the streams is scored; the last
    ``(N - 1) mod B`` tokens are left out. No gradients.

    Uniform guessing over ``V`` tokens gives exactly ``V``; a perfect model 1.
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
    Xs = torch.from_numpy(arr[: B * L].reshape(B, L))
    Ys = torch.from_numpy(arr[1 : B * L + 1].reshape(B, L))
    as_id_tensor(Xs, V, "ids")
    as_id_tensor(Ys, V, "ids")
    device = _model_device(model)
    was_training = model.training
    model.eval()
    total, state = 0.0, None
    try:
        with torch.no_grad():
            for i in range(0, L, num_steps):
                xb, yb = (
                    Xs[:, i : i + num_steps].to(device),
                    Ys[:, i : i + num_steps].to(device),
                )
                logits, state = model(xb, state)  # (T, B, V), (B, h)
                total += F.cross_entropy(
                    logits.reshape(-1, V), yb.T.reshape(-1), reduction="sum"
                ).item()
    finally:
        model.train(was_training)
    return math.exp(total / (B * L))


# -- training -------------------------------------------------------------------
def _valid_fn(model: nn.Module, valid: object, batch_size: int, num_steps: int):
    """Turn ``valid`` (ids, or a pair of windows) into a no-argument measuring function."""
    if isinstance(valid, tuple):
        if len(valid) != 2:
            raise ValueError(
                f"valid as a tuple must be (X, Y) windows of shape (N, T); got {len(valid)} items"
            )
        X, Y = (
            as_id_tensor(a, model.vocab_size, n)
            for a, n in zip(valid, ("valid X", "valid Y"))
        )
        if X.shape != Y.shape:
            raise ValueError(
                f"valid X and Y must have the same shape (N, T); got {tuple(X.shape)} and {tuple(Y.shape)}"
            )
        return lambda: window_perplexity(model, X, Y)
    arr = as_ids(valid)
    as_id_tensor(arr[None, :], model.vocab_size, "valid_ids")
    return lambda: evaluate_perplexity(
        model, arr, batch_size=batch_size, num_steps=num_steps
    )


def train_lm(
    model: nn.Module,
    train_ids: Sequence[int] | np.ndarray,
    valid_ids: Sequence[int] | np.ndarray | tuple[np.ndarray, np.ndarray],
    *,
    batch_size: int = 32,
    num_steps: int = 35,
    lr: float | None = None,
    optimizer: str = "sgd",
    clip: float | None = 1.0,
    weight_decay: float = 0.0,
    epochs: int | None = None,
    steps: int | None = None,
    time_budget_s: float | None = None,
    partition: str = "random",
    seed: int = 0,
    eval_every: int | None = 100,
    progress: bool = True,
    lr_schedule: str = "constant",
) -> dict[str, list]:
    """Train a language model with minibatch gradient descent; return its history.

    Parameters
    ----------
    model:
        e.g. :class:`rnnkit.rnn_torch.RNNLM`; ``model(X (B, T), state)`` →
        ``(logits (T, B, V), h_T)``. Trained in place.
    train_ids:
        1-D training ids, cut into ``(B, T)`` minibatches by
        :func:`rnnkit.batching.random_batches` or ``sequential_batches``.
    valid_ids:
        1-D held-out ids, measured by :func:`evaluate_perplexity` (same
        ``batch_size`` and ``num_steps``), **or** a pair ``(X, Y)`` of
        ``(N, T)`` windows measured by :func:`window_perplexity` (each window from
        a zero state, e.g. the validation windows of :func:`rnnkit.d2l_split.d2l_windows`).
    batch_size, num_steps:
        ``B`` subsequences of ``T`` tokens per minibatch.
    lr:
        Learning rate; ``None`` means 1.0 for ``"sgd"`` and 2e-3 for ``"adam"``.
    optimizer:
        ``"sgd"`` (plain, as in the from-scratch chapter) or ``"adam"``.
    clip:
        Rescale the gradient so its global norm is at most ``clip``
        (``torch.nn.utils.clip_grad_norm_``); ``None`` to not clip.
    weight_decay:
        L2 penalty for ``"sgd"``, decoupled weight decay (AdamW) for ``"adam"``;
        0 (default) is plain SGD / Adam.
    epochs, steps, time_budget_s:
        When to stop; give exactly one. ``steps`` (parameter updates) is
        deterministic; ``time_budget_s`` counts training time only (the clock
        is paused while validating) and ends after the step that crosses it.
    partition:
        ``"random"``: shuffled windows, zero state for each minibatch.
        ``"sequential"``: minibatches continue each other; the state is carried
        over, detached (truncated BPTT), and reset at each epoch.
    seed:
        Seeds the batching rng (``np.random.default_rng(seed)``) and, inside a
        forked torch RNG (the global one is left as it was),
        ``torch.manual_seed(seed)``. The model's initial weights have their own
        seed. Same seed and ``steps`` → identical history (but ``elapsed_s``).
    eval_every:
        Validate every this many steps (and always after the last); ``None``
        validates only at the end.
    progress:
        Show a ``tqdm`` progress bar.
    lr_schedule:
        ``"constant"`` (default), or ``"cosine"``: the learning rate falls from
        ``lr`` to 0 along half a cosine over the run (measured in steps, training
        time or epochs, whichever ends it). Annealing lets the last updates
        settle into a minimum instead of rattling around it.

    Returns
    -------
    dict of equal-length lists, one entry per validation:
    ``step`` (updates so far), ``epoch`` (epochs so far, fractional),
    ``elapsed_s`` (training seconds), ``tokens`` (training tokens so far),
    ``train_ppl`` (exp of the mean training loss since the previous entry),
    ``valid_ppl``, ``grad_norm`` (mean pre-clip global gradient norm since the
    previous entry).
    """
    model = _check_model(model)
    train_arr = as_ids(train_ids)
    as_id_tensor(train_arr[None, :], model.vocab_size, "train_ids")
    batch_size = check_positive_int("batch_size", batch_size)
    num_steps = check_positive_int("num_steps", num_steps)
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"optimizer must be 'sgd' or 'adam'; got {optimizer!r}")
    if partition not in ("random", "sequential"):
        raise ValueError(
            f"partition must be 'random' or 'sequential'; got {partition!r}"
        )
    if lr is None:
        lr = 1.0 if optimizer == "sgd" else 2e-3
    if (
        isinstance(lr, bool)
        or not isinstance(lr, (int, float))
        or not (math.isfinite(lr) and lr > 0)
    ):
        raise ValueError(f"lr must be a finite number > 0; got {lr!r}")
    if clip is not None and (
        isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0
    ):
        raise ValueError(
            f"clip must be a number > 0, or None to not clip; got {clip!r}"
        )
    stops = {"epochs": epochs, "steps": steps, "time_budget_s": time_budget_s}
    given = [k for k, v in stops.items() if v is not None]
    if len(given) != 1:
        raise ValueError(
            f"give exactly one of epochs, steps, time_budget_s; got {given or 'none'}"
        )
    if (
        isinstance(weight_decay, bool)
        or not isinstance(weight_decay, (int, float))
        or not weight_decay >= 0
    ):
        raise ValueError(f"weight_decay must be a number >= 0; got {weight_decay!r}")
    if epochs is not None:
        epochs = check_positive_int("epochs", epochs)
    if steps is not None:
        steps = check_positive_int("steps", steps)
    if time_budget_s is not None and (
        isinstance(time_budget_s, bool)
        or not isinstance(time_budget_s, (int, float))
        or not time_budget_s > 0
    ):
        raise ValueError(
            f"time_budget_s must be a number of seconds > 0; got {time_budget_s!r}"
        )
    if eval_every is not None:
        eval_every = check_positive_int("eval_every", eval_every)
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(
            f"lr_schedule must be 'constant' or 'cosine'; got {lr_schedule!r}"
        )
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    # fail early (before any training) if there is not enough text for one minibatch
    batches = random_batches if partition == "random" else sequential_batches
    if next(iter(batches(train_arr, batch_size, num_steps, rng=0)), None) is None:
        raise ValueError(
            f"train_ids ({train_arr.size} tokens) are too short for one minibatch of "
            f"batch_size={batch_size} × num_steps={num_steps}"
        )
    measure = _valid_fn(model, valid_ids, batch_size, num_steps)

    V = model.vocab_size
    device = _model_device(model)
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    rng = np.random.default_rng(int(seed))
    history: dict[str, list] = {
        k: []
        for k in (
            "step",
            "epoch",
            "elapsed_s",
            "tokens",
            "train_ppl",
            "valid_ppl",
            "grad_norm",
        )
    }
    if progress:
        bar_total = (
            steps
            if steps is not None
            else (round(time_budget_s) if time_budget_s is not None else None)
        )
        bar = tqdm(
            total=bar_total,
            unit="s" if time_budget_s is not None else "step",
            desc="train_lm",
        )
    else:
        bar = None

    step, tokens, elapsed, epoch_pos = 0, 0, 0.0, 0.0
    loss_sum, norm_sum, n_since = 0.0, 0.0, 0

    def record() -> None:
        nonlocal loss_sum, norm_sum, n_since
        history["step"].append(step)
        history["epoch"].append(epoch_pos)
        history["elapsed_s"].append(elapsed)
        history["tokens"].append(tokens)
        history["train_ppl"].append(
            math.exp(loss_sum / n_since) if n_since else float("nan")
        )
        history["valid_ppl"].append(measure())
        history["grad_norm"].append(norm_sum / n_since if n_since else float("nan"))
        loss_sum, norm_sum, n_since = 0.0, 0.0, 0
        if bar is not None:
            bar.set_postfix(
                train_ppl=f"{history['train_ppl'][-1]:.2f}",
                valid_ppl=f"{history['valid_ppl'][-1]:.2f}",
            )

    def progress_fraction() -> float:
        """How much of the run is done, in [0, 1]: by steps, by training time or by epochs."""
        if steps is not None:
            return step / steps
        if time_budget_s is not None:
            return min(elapsed / time_budget_s, 1.0)
        return min(epoch_pos / epochs, 1.0)

    def done() -> bool:
        if steps is not None:
            return step >= steps
        if time_budget_s is not None:
            return elapsed >= time_budget_s
        return False

    was_training = model.training
    model.train()
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            epoch = 0
            while not done() and (epochs is None or epoch < epochs):
                minibatches = list(batches(train_arr, batch_size, num_steps, rng=rng))
                state = None
                for i, (Xb, Yb) in enumerate(minibatches):
                    t0 = time.perf_counter()
                    X = torch.from_numpy(Xb).to(device)  # (B, T)
                    Y = torch.from_numpy(Yb).to(device)  # (B, T)
                    if partition == "sequential" and state is not None:
                        state = (
                            state.detach()
                        )  # truncated BPTT: no gradient into the previous minibatch
                    logits, h_T = model(
                        X, state if partition == "sequential" else None
                    )  # (T, B, V)
                    loss = F.cross_entropy(logits.reshape(-1, V), Y.T.reshape(-1))
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"the training loss became {loss.item()} at step {step + 1}; "
                            "lower lr, or clip the gradient (clip=1.0)"
                        )
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    max_norm = clip if clip is not None else float("inf")
                    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
                    if lr_schedule == "cosine":
                        for group in opt.param_groups:
                            group["lr"] = (
                                lr
                                * 0.5
                                * (1.0 + math.cos(math.pi * progress_fraction()))
                            )
                    opt.step()
                    state = h_T
                    dt = time.perf_counter() - t0
                    step += 1
                    tokens += X.numel()
                    elapsed += dt
                    epoch_pos = epoch + (i + 1) / len(minibatches)
                    loss_sum += loss.item()
                    norm_sum += norm
                    n_since += 1
                    if bar is not None:
                        bar.update(dt if time_budget_s is not None else 1)
                    if done():
                        break
                    if eval_every is not None and step % eval_every == 0:
                        record()
                epoch += 1
            if n_since or not history["step"]:
                record()
    finally:
        model.train(was_training)
        if bar is not None:
            bar.close()
    return history


# -- sampling ---------------------------------------------------------------------
def sample(
    model: nn.Module,
    vocab: Vocab,
    prompt: str,
    length: int,
    *,
    temperature: float = 1.0,
    seed: int | np.random.Generator = 0,
    level: str = "char",
) -> str:
    """Continue ``prompt`` by ``length`` tokens drawn from the model.

    The model first reads the prompt (warm-up: its state then summarises the
    prompt), then repeatedly draws the next token from
    ``softmax(logits / temperature)`` and feeds it back in.

    ``temperature`` 1 samples the model's distribution; lower values sharpen it
    towards the most likely token, and ``temperature=0`` takes the argmax
    (greedy decoding, deterministic). ``seed`` (an int or a
    ``np.random.Generator``) makes the draws reproducible.

    Returns the prompt followed by the new tokens, joined with ``""`` for
    ``level="char"`` and ``" "`` for ``level="word"``.
    """
    model = _check_model(model)
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be an rnnkit Vocab; got {type(vocab).__name__}")
    if len(vocab) != model.vocab_size:
        raise ValueError(
            f"vocab has {len(vocab)} tokens but the model predicts V={model.vocab_size}"
        )
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str; got {type(prompt).__name__}")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)):
        raise TypeError(f"length must be an int >= 0; got {type(length).__name__}")
    if length < 0:
        raise ValueError(f"length must be >= 0; got {length}")
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
        raise TypeError(
            f"temperature must be a number >= 0; got {type(temperature).__name__}"
        )
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 = greedy); got {temperature}"
        )
    if level not in ("char", "word"):
        raise ValueError(f"level must be 'char' or 'word'; got {level!r}")
    if isinstance(seed, bool) or not isinstance(
        seed, (int, np.integer, np.random.Generator)
    ):
        raise TypeError(
            f"seed must be an int or a np.random.Generator; got {type(seed).__name__}"
        )
    rng = (
        seed
        if isinstance(seed, np.random.Generator)
        else np.random.default_rng(int(seed))
    )
    tokens = tokenize(prompt, level)
    if not tokens:
        raise ValueError(
            "prompt must contain at least one token to warm the model up; got an empty prompt"
        )
    what = "character" if level == "char" else "word"
    for pos, tok in enumerate(tokens):
        if tok not in vocab or tok in vocab.reserved:
            raise ValueError(
                f"prompt {what} {tok!r} at position {pos} is not in the vocabulary of {len(vocab)} tokens; "
                "preprocess the prompt like the training text (e.g. rnnkit.corpus.letters_only)"
            )
    ids = vocab.encode(tokens, strict=True)
    device = _model_device(model)
    was_training = model.training
    model.eval()
    out: list[int] = []
    try:
        with torch.no_grad():
            logits, state = model(
                torch.tensor([ids], dtype=torch.long, device=device)
            )  # (P, 1, V)
            last = logits[-1, 0]  # (V,)
            for _ in range(length):
                if temperature == 0:
                    nxt = int(torch.argmax(last))
                else:
                    z = last.double().cpu().numpy() / temperature
                    p = np.exp(z - z.max())
                    nxt = int(rng.choice(len(p), p=p / p.sum()))
                out.append(nxt)
                logits, state = model(
                    torch.tensor([[nxt]], dtype=torch.long, device=device), state
                )
                last = logits[-1, 0]
    finally:
        model.train(was_training)
    sep = "" if level == "char" else " "
    return sep.join(tokens + vocab.decode(out))


# -- presets ----------------------------------------------------------------------
# Measured with benchmarks/bench_charlm.py (letters-only Hamlet, D2L's windows,
# torch.set_num_threads(1) on a 2-core CPU); see that script for the numbers.
# Both are vanilla tanh RNNs; the embedding is a factorised W_xh (see RNNLM).
_PRESETS: dict[str, dict[str, dict]] = {
    # fixed steps, so a notebook run is deterministic: ~15-20 s of training
    "fast": {
        "model": {"hidden_size": 256, "embed_dim": 64, "cell": "torch"},
        "train": {
            "batch_size": 32,
            "num_steps": 32,
            "optimizer": "adam",
            "lr": 8e-3,
            "lr_schedule": "cosine",
            "clip": 1.0,
            "partition": "random",
            "steps": 2000,
            "eval_every": 500,
        },
    },
    # for a time budget (pass time_budget_s, e.g. 60): wider, and a little dropout
    "60s": {
        "model": {"hidden_size": 320, "embed_dim": 64, "dropout": 0.1, "cell": "torch"},
        "train": {
            "batch_size": 32,
            "num_steps": 32,
            "optimizer": "adam",
            "lr": 6e-3,
            "lr_schedule": "cosine",
            "clip": 1.0,
            "partition": "random",
        },
    },
}
PRESET_NAMES: tuple[str, ...] = tuple(_PRESETS)


def char_lm_preset(name: str = "fast") -> dict[str, dict]:
    """Settings for the letters-only character model, as ``{"model": ..., "train": ...}``.

    ``"fast"``: 2000 fixed steps (deterministic), for a notebook's ~30 s budget.
    ``"60s"``: a wider model (h=320) with dropout 0.1, to be given ``time_budget_s``.

    Use as ``model = RNNLM(len(vocab), **p["model"])`` and
    ``train_lm(model, train_ids, valid, **p["train"])``. A fresh copy each call,
    so editing it changes nothing here.
    """
    if name not in _PRESETS:
        raise ValueError(
            f"name must be one of {', '.join(repr(n) for n in _PRESETS)}; got {name!r}"
        )
    return copy.deepcopy(_PRESETS[name])
