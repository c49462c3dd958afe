"""Tests for rnnkit.presets: the character model's settings build and train."""

from __future__ import annotations

import inspect

import pytest

from rnnkit.lm_train import train_lm
from rnnkit.presets import PRESET_NAMES, char_lm_preset
from rnnkit.rnn_torch import RNNLM


def test_presets_are_fresh_copies_and_build():
    p = char_lm_preset("fast")
    assert set(p) == {"model", "train"}
    assert p["train"]["steps"] > 0 and "time_budget_s" not in p["train"]
    p["train"]["steps"] = -1
    assert char_lm_preset("fast")["train"]["steps"] > 0
    model = RNNLM(28, **p["model"])
    assert model.activation == "tanh"  # a vanilla RNN, no gates
    assert model.embed_size == 64
    with pytest.raises(
        ValueError, match=r"name must be one of 'fast', '60s'; got 'huge'"
    ):
        char_lm_preset("huge")


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_names_only_real_options(name):
    p = char_lm_preset(name)
    RNNLM(28, **p["model"])  # the model keywords exist
    assert set(p["train"]) <= set(inspect.signature(train_lm).parameters)
