"""Tested settings for the letters-only character language model of chapter 3.

A preset is a pair of keyword dicts: ``"model"`` for
:class:`rnnkit.rnn_torch.RNNLM` and ``"train"`` for
:func:`rnnkit.lm_train.train_lm`::

    p = char_lm_preset("fast")
    model = RNNLM(len(vocab), **p["model"])
    history = train_lm(model, train_ids, valid_ids, **p["train"])

Both presets are vanilla tanh RNNs; the embedding is a factorised ``W_xh``
(see :class:`rnnkit.rnn_torch.RNNLM`). They were measured with
``benchmarks/bench_charlm.py`` (letters-only Hamlet, D2L's windows,
``torch.set_num_threads(1)`` on a 2-core CPU); see that script for the numbers.
"""

from __future__ import annotations

import copy

from .shapes import check_choice

__all__ = ["PRESET_NAMES", "char_lm_preset"]

_PRESETS: dict[str, dict[str, dict]] = {
    # fixed steps, so a notebook run is deterministic: ~15-20 s of training
    "fast": {
        "model": {"hidden_size": 256, "embed_size": 64, "cell": "torch"},
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
        "model": {
            "hidden_size": 320,
            "embed_size": 64,
            "dropout": 0.1,
            "cell": "torch",
        },
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
    """Settings for the character model, as ``{"model": ..., "train": ...}``.

    ``"fast"``: 2000 fixed steps (deterministic), for a notebook's ~30 s budget.
    ``"60s"``: a wider model (h=320) with dropout 0.1, to be given
    ``time_budget_s``.

    A fresh copy each call, so editing it changes nothing here.
    """
    check_choice("name", name, _PRESETS)
    return copy.deepcopy(_PRESETS[name])
