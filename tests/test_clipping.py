"""Tests for rnnkit.clipping: the true global norm; clipping keeps the direction."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.clipping import clip_grad_norm, global_norm

torch.set_num_threads(1)


def random_grads(scale, seed=0):
    r = np.random.default_rng(seed)
    return {
        "W_xh": scale * r.normal(size=(4, 3)),
        "W_hh": scale * r.normal(size=(4, 4)),
        "b_h": scale * r.normal(size=4),
    }


def true_norm(grads):
    return float(
        np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values()))
    )


def test_returns_the_global_norm_by_hand():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}  # sqrt(9 + 16) = 5
    assert clip_grad_norm(grads, 10.0) == pytest.approx(5.0, rel=1e-15)
    assert global_norm(grads) == pytest.approx(5.0, rel=1e-15)


def test_norm_matches_torch():
    grads = random_grads(3.0)
    tensors = [torch.from_numpy(g.copy()) for g in grads.values()]
    for p in tensors:
        p.grad = p.clone()
    torch_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm=1.0).item()
    assert clip_grad_norm(grads, 1.0) == pytest.approx(
        torch_norm, rel=1e-12
    )  # float64 round-off
    for g, p in zip(grads.values(), tensors):
        # torch divides by (norm + 1e-6): with a norm ~20, 5e-8 relative difference.
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-7)


def test_clips_to_max_norm_in_place_keeping_the_direction():
    grads = random_grads(10.0)
    before = {k: g.copy() for k, g in grads.items()}
    ids = {k: id(g) for k, g in grads.items()}
    n_before = true_norm(before)
    assert n_before > 5.0
    returned = clip_grad_norm(grads, 5.0)
    assert returned == pytest.approx(n_before, rel=1e-12)
    assert true_norm(grads) == pytest.approx(5.0, rel=1e-12)  # float64 round-off
    for k in grads:
        assert id(grads[k]) == ids[k]
        np.testing.assert_allclose(grads[k], before[k] * (5.0 / n_before), rtol=1e-12)


@pytest.mark.parametrize("max_norm_factor", [1.0, 2.0])
def test_no_op_when_the_norm_is_not_larger(max_norm_factor):
    grads = random_grads(0.1)
    before = {k: g.copy() for k, g in grads.items()}
    n = true_norm(grads)
    assert clip_grad_norm(grads, n * max_norm_factor) == pytest.approx(n, rel=1e-12)
    assert all(np.array_equal(grads[k], before[k]) for k in grads)


def test_float32_large_values_and_empty():
    g32 = {"w": np.array([3.0, 4.0], dtype=np.float32)}
    assert clip_grad_norm(g32, 1.0) == pytest.approx(5.0, rel=1e-7)
    assert g32["w"].dtype == np.float32
    np.testing.assert_allclose(g32["w"], [0.6, 0.8], rtol=1e-6)  # float32 round-off
    huge = {"w": np.array([1e200, 1e200])}  # squaring would overflow to inf
    assert clip_grad_norm(huge, 1.0) == pytest.approx(np.sqrt(2) * 1e200, rel=1e-12)
    np.testing.assert_allclose(huge["w"], [2**-0.5, 2**-0.5], rtol=1e-12)
    tiny = {"w": np.array([3e-200, 4e-200])}  # squaring would underflow to 0
    assert global_norm(tiny) == pytest.approx(5e-200, rel=1e-12)
    assert clip_grad_norm({}, 1.0) == 0.0


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf")])
def test_rejects_max_norm_that_is_not_positive(bad):
    with pytest.raises(ValueError, match=r"max_norm must be a finite number > 0"):
        clip_grad_norm(random_grads(1.0), bad)


def test_rejects_bad_grads():
    with pytest.raises(TypeError, match=r"max_norm must be a positive number; got str"):
        clip_grad_norm(random_grads(1.0), "5")
    with pytest.raises(
        TypeError, match=r"grads must be a dict of numpy arrays; got list"
    ):
        clip_grad_norm([np.zeros(2)], 1.0)
    with pytest.raises(TypeError, match=r"grads\['b'\] must be a floating-point array"):
        clip_grad_norm({"a": np.zeros(2), "b": np.zeros(2, int)}, 1.0)
    with pytest.raises(
        ValueError,
        match=r"gradients must be finite to be clipped; non-finite values in \['b'\]",
    ):
        clip_grad_norm({"a": np.ones(2), "b": np.array([1.0, np.nan])}, 1.0)
