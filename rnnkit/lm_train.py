"""Train a recurrent language model: :func:`train_lm`.

The trainer of chapter 3, following the contract of :mod:`rnnkit.training`
(options ``lr``, ``lr_schedule``, ``clip``, ``seed``, ``progress``; a history of
equal-length lists; a clear stop at a non-finite loss). It minimises the mean
cross-entropy of the next token (chapter 3, equation ``rnn-loss``) with
minibatch gradient descent on ``(T, B)`` windows cut by :mod:`rnnkit.batching`,
and measures validation perplexity with :mod:`rnnkit.lm_eval`.

Related modules: :mod:`rnnkit.lm_eval` (perplexity on held-out text),
:mod:`rnnkit.presets` (tested settings for the character model),
:mod:`rnnkit.sampling` (generating text from a trained model).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .batching import as_ids, random_batches, sequential_batches
from .lm_eval import _check_model, _model_device, evaluate_perplexity, window_perplexity
from .losses import perplexity
from .rnn_torch import as_id_tensor
from .seeding import numpy_rng, seeded_torch
from .shapes import (
    check_choice,
    check_finite_number,
    check_positive_float,
    check_positive_int,
    check_seed,
)
from .training import (
    LR_SCHEDULES,
    check_clip,
    check_finite_loss,
    lr_factor,
    new_history,
    progress_bar,
    record,
)

__all__ = ["OPTIMIZERS", "PARTITIONS", "train_lm"]

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
PARTITIONS: tuple[str, ...] = ("random", "sequential")
#: the trainer's own history keys, after ``step``, ``elapsed_s``, ``train_loss``
_OWN_KEYS: tuple[str, ...] = (
    "epoch",
    "tokens",
    "train_ppl",
    "valid_ppl",
    "grad_norm",
    "lr",
)


def _valid_fn(
    model: nn.Module, valid: object, batch_size: int, num_steps: int
) -> Callable[[], float]:
    """Turn ``valid`` (ids, or a pair of windows) into a no-argument measurement."""
    if isinstance(valid, tuple):
        if len(valid) != 2:
            raise ValueError(
                "valid as a tuple must be (X, Y) windows of shape (T, N); got "
                f"{len(valid)} items"
            )
        X, Y = (
            as_id_tensor(a, model.vocab_size, n)
            for a, n in zip(valid, ("valid X", "valid Y"))
        )
        if X.shape != Y.shape:
            raise ValueError(
                "valid X and Y must have the same shape (T, N); got "
                f"{tuple(X.shape)} and {tuple(Y.shape)}"
            )
        return lambda: window_perplexity(model, X, Y)
    arr = as_ids(valid, "valid_ids")
    as_id_tensor(arr[:, None], model.vocab_size, "valid_ids")
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

    Each step takes a minibatch ``(X, Y)`` of ``(T, B)`` ids, computes the mean
    cross-entropy of ``softmax(model(X))`` against ``Y`` over its ``T * B``
    positions, and updates the weights.

    Parameters
    ----------
    model:
        e.g. :class:`rnnkit.rnn_torch.RNNLM`; ``model(X (T, B), state)`` →
        ``(logits (T, B, V), h_T)``. Trained in place.
    train_ids:
        1-D training ids, cut into ``(T, B)`` minibatches by
        :func:`rnnkit.batching.random_batches` or ``sequential_batches``.
    valid_ids:
        1-D held-out ids, measured by :func:`rnnkit.lm_eval.evaluate_perplexity`
        (same ``batch_size`` and ``num_steps``), **or** a pair ``(X, Y)`` of
        ``(T, N)`` windows measured by :func:`rnnkit.lm_eval.window_perplexity`
        (each window from a zero state).
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
        Seeds the batching (:func:`rnnkit.seeding.numpy_rng`) and, through
        :func:`rnnkit.seeding.seeded_torch`, torch's global generator for the
        run (dropout), leaving it as it was afterwards. The model's initial
        weights have their own seed. Same seed and ``steps`` → identical
        history (but ``elapsed_s``).
    eval_every:
        Validate every this many steps (and always after the last); ``None``
        validates only at the end.
    progress:
        ``True`` shows a ``tqdm`` progress bar, ``False`` is silent.
    lr_schedule:
        ``"constant"`` (default), or ``"cosine"``: the learning rate falls from
        ``lr`` to 0 along half a cosine over the run (measured in steps,
        training time or epochs, whichever ends it), see
        :func:`rnnkit.training.lr_factor`.

    Returns
    -------
    The history of :func:`rnnkit.training.new_history`: a dict of equal-length
    lists, one entry per validation: ``step`` (updates so far), ``elapsed_s``
    (training seconds), ``train_loss`` (mean training NLL since the previous
    entry), ``epoch`` (epochs so far, fractional), ``tokens`` (training tokens
    so far), ``train_ppl`` (perplexity of ``train_loss``), ``valid_ppl``,
    ``grad_norm`` (mean pre-clip global gradient norm since the previous
    entry) and ``lr`` (the learning rate of the last update).

    Implements chapter 3, equation ``rnn-loss``.
    """
    model = _check_model(model)
    train_arr = as_ids(train_ids, "train_ids")
    as_id_tensor(train_arr[:, None], model.vocab_size, "train_ids")
    batch_size = check_positive_int("batch_size", batch_size)
    num_steps = check_positive_int("num_steps", num_steps)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_choice("partition", partition, PARTITIONS)
    check_choice("lr_schedule", lr_schedule, LR_SCHEDULES)
    lr = check_positive_float(
        "lr", (1.0 if optimizer == "sgd" else 2e-3) if lr is None else lr
    )
    clip = check_clip(clip)
    if check_finite_number("weight_decay", weight_decay) < 0:
        raise ValueError(f"weight_decay must be a number >= 0; got {weight_decay!r}")
    weight_decay = float(weight_decay)
    stops = {"epochs": epochs, "steps": steps, "time_budget_s": time_budget_s}
    given = [k for k, v in stops.items() if v is not None]
    if len(given) != 1:
        raise ValueError(
            f"give exactly one of epochs, steps, time_budget_s; got {given or 'none'}"
        )
    if epochs is not None:
        epochs = check_positive_int("epochs", epochs)
    if steps is not None:
        steps = check_positive_int("steps", steps)
    if time_budget_s is not None:
        time_budget_s = check_positive_float("time_budget_s", time_budget_s)
    if eval_every is not None:
        eval_every = check_positive_int("eval_every", eval_every)
    seed = check_seed("seed", seed)
    # fail early (before any training) if there is not enough text for one minibatch
    batches = random_batches if partition == "random" else sequential_batches
    try:
        first = next(iter(batches(train_arr, batch_size, num_steps, seed=0)), None)
    except ValueError:  # the iterators refuse a corpus too short for one batch
        first = None
    if first is None:
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
    rng = numpy_rng(seed)
    history = new_history(*_OWN_KEYS)
    if time_budget_s is not None:
        bar_total, unit = round(time_budget_s), "s"
    else:
        bar_total, unit = steps, "step"
    bar = progress_bar(progress, total=bar_total, desc="train_lm", unit=unit)

    step, tokens, elapsed, epoch_pos = 0, 0, 0.0, 0.0
    loss_sum, norm_sum, n_since = 0.0, 0.0, 0

    def add_record() -> None:
        nonlocal loss_sum, norm_sum, n_since
        train_loss = loss_sum / n_since if n_since else float("nan")
        record(
            history,
            step=step,
            elapsed_s=elapsed,
            train_loss=train_loss,
            epoch=epoch_pos,
            tokens=tokens,
            train_ppl=perplexity(train_loss) if n_since else float("nan"),
            valid_ppl=measure(),
            grad_norm=norm_sum / n_since if n_since else float("nan"),
            lr=opt.param_groups[0]["lr"],
        )
        loss_sum, norm_sum, n_since = 0.0, 0.0, 0
        bar.set_postfix(
            train_ppl=f"{history['train_ppl'][-1]:.2f}",
            valid_ppl=f"{history['valid_ppl'][-1]:.2f}",
        )

    def fraction_done() -> float:
        """How much of the run is done: by steps, by training time or by epochs."""
        if steps is not None:
            return step / steps
        if time_budget_s is not None:
            return elapsed / time_budget_s
        return epoch_pos / epochs

    def done() -> bool:
        if steps is not None:
            return step >= steps
        if time_budget_s is not None:
            return elapsed >= time_budget_s
        return False

    was_training = model.training
    model.train()
    try:
        with seeded_torch(seed):
            epoch = 0
            while not done() and (epochs is None or epoch < epochs):
                minibatches = list(batches(train_arr, batch_size, num_steps, seed=rng))
                state = None
                for i, (Xb, Yb) in enumerate(minibatches):
                    t0 = time.perf_counter()
                    X = torch.from_numpy(Xb).to(device)  # (T, B)
                    Y = torch.from_numpy(Yb).to(device)  # (T, B)
                    if partition == "sequential" and state is not None:
                        # truncated BPTT: no gradient into the previous minibatch
                        state = state.detach()
                    start = state if partition == "sequential" else None
                    logits, h_T = model(X, start)  # (T, B, V), (B, h)
                    loss = F.cross_entropy(logits.reshape(-1, V), Y.reshape(-1))
                    loss_value = check_finite_loss(loss.item(), step + 1)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    max_norm = clip if clip is not None else math.inf
                    norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
                    for group in opt.param_groups:
                        group["lr"] = lr * lr_factor(lr_schedule, fraction_done())
                    opt.step()
                    state = h_T
                    dt = time.perf_counter() - t0
                    step += 1
                    tokens += X.numel()
                    elapsed += dt
                    epoch_pos = epoch + (i + 1) / len(minibatches)
                    loss_sum += loss_value
                    norm_sum += norm
                    n_since += 1
                    bar.update(dt if time_budget_s is not None else 1)
                    if done():
                        break
                    if eval_every is not None and step % eval_every == 0:
                        add_record()
                epoch += 1
            if n_since or not history["step"]:
                add_record()
    finally:
        model.train(was_training)
        bar.close()
    return history
