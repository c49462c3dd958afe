"""The contract every trainer in ``rnnkit`` keeps, and the small pieces they share.

The three trainers — :func:`rnnkit.lm_train.train_lm` (language model),
:func:`rnnkit.seq2seq.train_seq2seq` (encoder–decoder) and
:func:`rnnkit.forecasting.fit_forecaster` (forecaster) — train a model in
place and agree on:

* **keyword options** with one meaning each: ``lr`` (learning rate),
  ``lr_schedule`` (a name from :data:`LR_SCHEDULES`), ``clip`` (rescale the
  gradient to this global norm; ``None`` to not clip), ``seed`` (an int: the same
  seed, data and initial weights give the same history), ``progress`` (``True``
  shows a tqdm bar, ``False`` is silent);
* **the returned history**: a ``dict`` of equal-length lists, one entry per
  record (a validation point or an epoch), always holding ``step`` (updates so
  far), ``elapsed_s`` (training seconds so far, validation excluded) and
  ``train_loss`` (mean training loss since the previous record), plus keys of
  the trainer's own (``valid_ppl``, ``valid_loss``, ...);
* **a non-finite loss stops training** with a ``FloatingPointError`` naming the
  step (:func:`check_finite_loss`): a NaN never trains on silently.
"""

from __future__ import annotations

import math
from numbers import Real

from tqdm.auto import tqdm

from .shapes import (
    check_choice,
    check_finite_number,
    check_nonnegative_int,
)

__all__ = [
    "LR_SCHEDULES",
    "HISTORY_KEYS",
    "lr_factor",
    "progress_bar",
    "new_history",
    "record",
    "check_finite_loss",
    "check_clip",
]

LR_SCHEDULES: tuple[str, ...] = ("constant", "cosine")
HISTORY_KEYS: tuple[str, ...] = ("step", "elapsed_s", "train_loss")


def lr_factor(lr_schedule: str, fraction: float) -> float:
    """The multiplier of the base learning rate when ``fraction`` of the run is done.

    ``"constant"``: 1 throughout. ``"cosine"``: falls from 1 to 0 along half a
    cosine, ``(1 + cos(pi * fraction)) / 2``, so the last updates settle into a
    minimum instead of rattling around it.

    >>> lr_factor("cosine", 0.5)
    0.5
    """
    check_choice("lr_schedule", lr_schedule, LR_SCHEDULES)
    # clamped to [0, 1]: a run may overshoot its budget by part of a step
    f = min(max(check_finite_number("fraction", fraction), 0.0), 1.0)
    return 1.0 if lr_schedule == "constant" else 0.5 * (1.0 + math.cos(math.pi * f))


def progress_bar(progress: bool, *, total: float | None, desc: str, unit: str = "step"):
    """A tqdm bar that shows only when ``progress`` is true (``tqdm(disable=...)``)."""
    if not isinstance(progress, bool):
        raise TypeError(
            f"progress must be True (show a progress bar) or False; "
            f"got {type(progress).__name__}"
        )
    if total is not None and check_finite_number("total", total) < 0:
        raise ValueError(f"total must be a number >= 0 or None; got {total}")
    for name, text in (("desc", desc), ("unit", unit)):
        if not isinstance(text, str):
            raise TypeError(f"{name} must be a str; got {type(text).__name__}")
    return tqdm(total=total, desc=desc, unit=unit, disable=not progress)


def new_history(*extra_keys: str) -> dict[str, list]:
    """An empty history with :data:`HISTORY_KEYS` and then ``extra_keys``."""
    for k in extra_keys:
        if not isinstance(k, str):
            raise TypeError(f"extra_keys must be str names; got {k!r}")
    return {k: [] for k in (*HISTORY_KEYS, *extra_keys)}


def record(history: dict[str, list], **values: float) -> None:
    """Append one entry to every list of ``history``; every key must be given."""
    if not isinstance(history, dict):
        raise TypeError(
            f"history must be a dict of lists (new_history()); "
            f"got {type(history).__name__}"
        )
    if set(values) != set(history):
        missing, extra = set(history) - set(values), set(values) - set(history)
        raise ValueError(
            f"record needs exactly the history's keys; missing {sorted(missing)}, "
            f"unexpected {sorted(extra)}"
        )
    for k, v in values.items():
        history[k].append(v)


def check_finite_loss(loss: float, step: int) -> float:
    """Return ``loss``, or stop training with a message naming the step."""
    step = check_nonnegative_int("step", step)
    if isinstance(loss, bool) or not isinstance(loss, Real):
        raise TypeError(f"loss must be a number; got {type(loss).__name__} {loss!r}")
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"the training loss became {loss} at step {step}; lower lr, or clip the "
            "gradient (clip=1.0)"
        )
    return loss


def check_clip(clip: object) -> float | None:
    """Return ``clip`` as a float > 0, or ``None`` (do not clip)."""
    if clip is None:
        return None
    if isinstance(clip, bool) or not isinstance(clip, Real):
        raise TypeError(
            f"clip must be a number > 0, or None to not clip; got {type(clip).__name__}"
        )
    if not (math.isfinite(clip) and clip > 0):
        raise ValueError(
            f"clip must be a finite number > 0, or None to not clip; got {clip}"
        )
    return float(clip)
