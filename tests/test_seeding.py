"""Tests for rnnkit.seeding: one ``seed=`` argument, the same numbers every run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.seeding import numpy_rng, seeded_torch, torch_generator


# -- numpy ----------------------------------------------------------------------
def test_numpy_rng_same_int_same_stream_and_same_as_default_rng():
    a, b = numpy_rng(7).normal(size=5), numpy_rng(7).normal(size=5)
    np.testing.assert_array_equal(a, b)
    # the very draws np.random.default_rng gives, so seeds keep the book's numbers
    np.testing.assert_array_equal(a, np.random.default_rng(7).normal(size=5))
    assert not np.array_equal(a, numpy_rng(8).normal(size=5))


def test_numpy_rng_passes_a_generator_through_to_share_one_stream():
    g = np.random.default_rng(0)
    assert numpy_rng(g) is g
    first, second = numpy_rng(g).random(), numpy_rng(g).random()
    ref = np.random.default_rng(0)
    assert (first, second) == (ref.random(), ref.random())  # consecutive draws


def test_numpy_rng_accepts_numpy_integers():
    np.testing.assert_array_equal(
        numpy_rng(np.int64(3)).random(3), np.random.default_rng(3).random(3)
    )


# -- torch ----------------------------------------------------------------------
def test_torch_generator_same_int_same_stream():
    a = torch.rand(4, generator=torch_generator(5))
    b = torch.rand(4, generator=torch_generator(5))
    assert torch.equal(a, b)
    assert torch.equal(a, torch.rand(4, generator=torch.Generator().manual_seed(5)))
    assert not torch.equal(a, torch.rand(4, generator=torch_generator(6)))
    assert torch_generator(5).device.type == "cpu"


def test_torch_generator_passes_a_generator_through():
    g = torch.Generator().manual_seed(1)
    assert torch_generator(g) is g


def test_seeds_do_not_touch_the_global_generators():
    torch.manual_seed(123)
    np.random.seed(123)
    expected_torch, expected_np = torch.rand(1), np.random.random()
    torch.manual_seed(123)
    np.random.seed(123)
    numpy_rng(0).random(10)
    torch.rand(10, generator=torch_generator(0))
    assert torch.equal(torch.rand(1), expected_torch)
    assert np.random.random() == expected_np


# -- bad seeds ------------------------------------------------------------------
@pytest.mark.parametrize("make", [numpy_rng, torch_generator])
@pytest.mark.parametrize("bad", [True, False, 1.0, 1.5, "0", None])
def test_non_int_seeds_are_refused(make, bad):
    # a bool is an int to Python, but True as a seed is always a mistake
    with pytest.raises(TypeError, match=r"seed must be an int; got"):
        make(bad)


@pytest.mark.parametrize("make", [numpy_rng, torch_generator])
def test_negative_seeds_are_refused(make):
    with pytest.raises(ValueError, match=r"seed must be >= 0; got -1"):
        make(-1)


def test_torch_generator_refuses_a_numpy_generator():
    with pytest.raises(TypeError, match=r"seed must be an int; got Generator"):
        torch_generator(np.random.default_rng(0))


# -- seeded_torch ---------------------------------------------------------------
def test_seeded_torch_gives_the_draws_of_manual_seed():
    with seeded_torch(3):
        inside = torch.rand(3)
        layer = torch.nn.Linear(2, 2)
    torch.manual_seed(3)
    assert torch.equal(inside, torch.rand(3))
    assert torch.equal(layer.weight, torch.nn.Linear(2, 2).weight)


def test_seeded_torch_restores_the_global_state():
    torch.manual_seed(99)
    expected = torch.rand(2)
    torch.manual_seed(99)
    with seeded_torch(0):
        torch.rand(100)
    assert torch.equal(torch.rand(2), expected)


def test_seeded_torch_restores_the_global_state_after_an_error():
    torch.manual_seed(99)
    expected = torch.rand(2)
    torch.manual_seed(99)
    with pytest.raises(RuntimeError, match="boom"):
        with seeded_torch(0):
            torch.rand(100)
            raise RuntimeError("boom")
    assert torch.equal(torch.rand(2), expected)


@pytest.mark.parametrize(
    "bad, err", [(True, TypeError), (0.5, TypeError), (-3, ValueError)]
)
def test_seeded_torch_checks_the_seed_before_touching_anything(bad, err):
    torch.manual_seed(1)
    expected = torch.rand(1)
    torch.manual_seed(1)
    with pytest.raises(err, match=r"seed must be"):
        with seeded_torch(bad):
            pass  # pragma: no cover - never entered
    assert torch.equal(torch.rand(1), expected)


def test_torch_seed_beyond_64_bits_is_named():
    with pytest.raises(ValueError, match=r"seed must be <= 2\*\*64 - 1"):
        torch_generator(2**64)
