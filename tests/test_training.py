"""Tests for rnnkit.training, the contract the three trainers share."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnkit.training import (
    HISTORY_KEYS,
    LR_SCHEDULES,
    check_clip,
    check_finite_loss,
    lr_factor,
    new_history,
    progress_bar,
    record,
)


# -- learning-rate schedules ----------------------------------------------------
@pytest.mark.parametrize("fraction", [0.0, 0.1, 0.5, 0.99, 1.0])
def test_constant_schedule_is_one_throughout(fraction):
    assert lr_factor("constant", fraction) == 1.0


@pytest.mark.parametrize(
    "fraction, factor",
    [
        (0.0, 1.0),
        (0.25, (1 + math.sqrt(0.5)) / 2),  # cos(pi / 4) = sqrt(1/2)
        (0.5, 0.5),
        (0.75, (1 - math.sqrt(0.5)) / 2),
        (1.0, 0.0),
    ],
)
def test_cosine_schedule_values(fraction, factor):
    assert lr_factor("cosine", fraction) == pytest.approx(factor, abs=1e-15)


def test_cosine_schedule_falls_monotonically_and_clamps_the_fraction():
    factors = [lr_factor("cosine", f) for f in np.linspace(0, 1, 101)]
    assert all(b < a for a, b in zip(factors, factors[1:]))
    # before the start and after the end the factor stays at its end value
    assert lr_factor("cosine", -0.5) == 1.0 and lr_factor("cosine", 1.5) == 0.0


def test_unknown_schedule_names_the_choices():
    assert LR_SCHEDULES == ("constant", "cosine")
    with pytest.raises(ValueError, match=r"lr_schedule must be one of .*'cosine'"):
        lr_factor("linear", 0.5)


# -- history --------------------------------------------------------------------
def test_new_history_has_the_shared_keys_first():
    assert HISTORY_KEYS == ("step", "elapsed_s", "train_loss")
    h = new_history("valid_ppl")
    assert list(h) == ["step", "elapsed_s", "train_loss", "valid_ppl"]
    assert all(v == [] for v in h.values())
    assert new_history()["step"] is not new_history()["step"]  # fresh lists


def test_record_appends_one_entry_to_every_list():
    h = new_history("valid_loss")
    record(h, step=10, elapsed_s=0.5, train_loss=2.0, valid_loss=2.5)
    record(h, valid_loss=2.25, train_loss=1.5, elapsed_s=1.0, step=20)  # any order
    assert h == {
        "step": [10, 20],
        "elapsed_s": [0.5, 1.0],
        "train_loss": [2.0, 1.5],
        "valid_loss": [2.5, 2.25],
    }


def test_record_refuses_missing_or_unexpected_keys_and_appends_nothing():
    h = new_history("valid_loss")
    with pytest.raises(ValueError, match=r"missing \['valid_loss'\], unexpected \[\]"):
        record(h, step=1, elapsed_s=0.1, train_loss=1.0)
    with pytest.raises(ValueError, match=r"missing \[\], unexpected \['valid_ppl'\]"):
        record(h, step=1, elapsed_s=0.1, train_loss=1.0, valid_loss=1.0, valid_ppl=3.0)
    # the lists stay equal in length: a refused record leaves no partial entry
    assert all(v == [] for v in h.values())


# -- stopping at a non-finite loss ----------------------------------------------
def test_check_finite_loss_passes_finite_values_through():
    assert check_finite_loss(1.25, step=3) == 1.25
    assert check_finite_loss(0.0, step=0) == 0.0


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_check_finite_loss_names_the_step(bad):
    with pytest.raises(FloatingPointError, match=rf"became {bad} at step 17;"):
        check_finite_loss(bad, step=17)
    with pytest.raises(FloatingPointError, match=r"clip=1\.0"):  # says what to do
        check_finite_loss(bad, step=17)


# -- clipping option --------------------------------------------------------------
def test_check_clip_accepts_positive_numbers_and_none():
    assert check_clip(None) is None
    assert check_clip(1) == 1.0 and isinstance(check_clip(1), float)
    assert check_clip(np.float32(0.5)) == 0.5


@pytest.mark.parametrize("bad", [True, "1.0", [1.0]])
def test_check_clip_refuses_non_numbers(bad):
    with pytest.raises(TypeError, match=r"clip must be a number > 0, or None"):
        check_clip(bad)


@pytest.mark.parametrize("bad", [0, 0.0, -1.0, float("nan"), float("inf")])
def test_check_clip_refuses_non_positive_or_non_finite(bad):
    with pytest.raises(ValueError, match=rf"clip must be a finite number > 0.*{bad}"):
        check_clip(bad)


# -- progress bar -----------------------------------------------------------------
def test_progress_bar_shows_only_when_asked(capsys):
    with progress_bar(True, total=3, desc="train", unit="step") as bar:
        bar.update(3)
    err = capsys.readouterr().err
    assert "train" in err and "3/3" in err
    with progress_bar(False, total=3, desc="train") as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("bad", [1, 0, None, "yes", print])
def test_progress_bar_wants_a_bool(bad):
    # a callback (the old forecaster API) or a truthy int is a mistake, not a bar
    with pytest.raises(TypeError, match=r"progress must be True .* or False; got"):
        progress_bar(bad, total=3, desc="train")


def test_lr_factor_refuses_a_nan_fraction():
    with pytest.raises(ValueError, match="fraction must be a finite number"):
        lr_factor("cosine", float("nan"))
