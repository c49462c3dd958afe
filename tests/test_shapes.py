"""Tests for rnnkit.shapes: each check passes good input through, words its errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnkit.shapes import (
    check_array,
    check_choice,
    check_finite,
    check_float_array,
    check_ids_in_range,
    check_int_array,
    check_ndim_shape,
    check_positive_float,
    check_positive_int,
    check_seed,
    check_tensor,
    describe_shape,
)


@pytest.mark.parametrize(
    "expected,dims,text",
    [
        ((None, None, 3), ("T", "B", "d"), "(T, B, d=3)"),
        ((4,), ("h",), "(h=4,)"),
        ((None,), None, "(*,)"),
        ((2, None), None, "(2, *)"),
        ((), None, "()"),
    ],
)
def test_describe_shape(expected, dims, text):
    assert describe_shape(expected, dims) == text


def test_check_ndim_shape_passes_and_returns_the_same_array():
    x = np.zeros((5, 2, 3))
    assert check_ndim_shape("x", x, (None, None, 3)) is x
    assert check_ndim_shape("x", x, (5, 2, 3), dims=("T", "B", "d")) is x


@pytest.mark.parametrize(
    "arr,expected,dims,hint,match",
    [
        (
            np.zeros((5, 3)),
            (None, None, 3),
            ("T", "B", "d"),
            None,
            r"^x must have shape \(T, B, d=3\); got \(5, 3\)$",
        ),
        (
            np.zeros((5, 2, 4)),
            (None, None, 3),
            ("T", "B", "d"),
            None,
            r"^x must have shape \(T, B, d=3\); got \(5, 2, 4\)$",
        ),
        (
            np.zeros(3),
            (None, None),
            None,
            None,
            r"^x must have shape \(\*, \*\); got \(3,\)$",
        ),
        (
            np.zeros((5, 3)),
            (None, None, 3),
            ("T", "B", "d"),
            "add a batch axis: x[:, None, :]",
            r"got \(5, 3\); add a batch axis: x\[:, None, :\]$",
        ),
    ],
)
def test_check_ndim_shape_messages(arr, expected, dims, hint, match):
    with pytest.raises(ValueError, match=match):
        check_ndim_shape("x", arr, expected, hint, dims=dims)


def test_check_ndim_shape_rejects_non_arrays_and_bad_dims():
    with pytest.raises(TypeError, match=r"x must be a numpy array; got list"):
        check_ndim_shape("x", [[1.0]], (None, None))
    with pytest.raises(ValueError, match=r"dims \('T',\) must name each of the 2 axes"):
        check_ndim_shape("x", np.zeros(3), (None, None), dims=("T",))


def test_dtype_checks():
    f32, i32 = np.zeros(2, np.float32), np.zeros(2, np.int32)
    assert check_float_array("x", f32) is f32
    assert check_int_array("ids", i32) is i32
    assert check_array("x", f32) is f32
    with pytest.raises(
        TypeError,
        match=r"x must be a floating-point array \(float32 .*; got dtype int32",
    ):
        check_float_array("x", i32)
    with pytest.raises(
        TypeError, match=r"x must be a floating-point array.*got dtype bool"
    ):
        check_float_array("x", np.zeros(2, bool))
    with pytest.raises(
        TypeError,
        match=r"ids must be an integer array \(token ids\); got dtype float32",
    ):
        check_int_array("ids", f32)
    with pytest.raises(
        TypeError, match=r"ids must be an integer array.*got dtype bool"
    ):
        check_int_array("ids", np.zeros(2, bool))
    with pytest.raises(TypeError, match=r"ids must be a numpy array; got tuple"):
        check_int_array("ids", (1, 2))


def test_check_finite():
    ok = np.ones(3)
    assert check_finite("g", ok) is ok
    with pytest.raises(
        ValueError,
        match=r"g must be finite; found 2 non-finite .* first at index \(0, 1\): nan",
    ):
        check_finite("g", np.array([[1.0, np.nan], [np.inf, 0.0]]))
    with pytest.raises(ValueError, match=r"first at index \(1,\): -inf"):
        check_finite("g", np.array([0.0, -np.inf]))


def test_check_positive_int():
    assert check_positive_int("n", 3) == 3
    out = check_positive_int("n", np.int64(4))
    assert out == 4 and type(out) is int
    for bad in (0, -2):
        with pytest.raises(
            ValueError, match=rf"n must be a positive int \(>= 1\); got {bad}"
        ):
            check_positive_int("n", bad)
    for bad, tname in (
        (True, "bool"),
        (3.0, "float"),
        ("3", "str"),
        (None, "NoneType"),
    ):
        with pytest.raises(TypeError, match=rf"n must be a positive int; got {tname}"):
            check_positive_int("n", bad)


def test_check_positive_float():
    assert check_positive_float("lr", 0.5) == 0.5
    out = check_positive_float("lr", 2)
    assert out == 2.0 and type(out) is float
    for bad in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match=r"lr must be a finite number > 0"):
            check_positive_float("lr", bad)
    for bad, tname in ((True, "bool"), ("1", "str")):
        with pytest.raises(
            TypeError, match=rf"lr must be a positive number; got {tname}"
        ):
            check_positive_float("lr", bad)


def test_check_choice():
    assert check_choice("activation", "relu", ("tanh", "relu")) == "relu"
    with pytest.raises(
        ValueError, match=r"activation must be one of 'tanh', 'relu'; got 'gelu'"
    ):
        check_choice("activation", "gelu", ["tanh", "relu"])


# -- torch tensors --------------------------------------------------------------
def test_check_tensor_passes_and_returns_the_same_tensor():
    x = torch.zeros(5, 2, 3)
    assert check_tensor("x", x, (None, None, 3), ("T", "B", "d")) is x
    assert check_tensor("x", x, (5, 2, 3)) is x
    ids = torch.zeros(4, 2, dtype=torch.long)
    for dtype in (torch.int64, torch.int32, torch.uint8):
        t = ids.to(dtype)
        assert check_tensor("X", t, (None, None), integer=True) is t
    # without integer=True any dtype is fine
    assert check_tensor("m", ids.bool(), (4, 2)) is not None


@pytest.mark.parametrize(
    "x, expected, dims, match",
    [
        (
            torch.zeros(5, 3),
            (None, None, 3),
            ("T", "B", "d"),
            r"^x must have shape \(T, B, d=3\); got \(5, 3\)$",
        ),
        (
            torch.zeros(5, 2, 4),
            (None, None, 3),
            ("T", "B", "d"),
            r"^x must have shape \(T, B, d=3\); got \(5, 2, 4\)$",
        ),
        (
            torch.zeros(3),
            (None, None),
            None,
            r"^x must have shape \(\*, \*\); got \(3,\)$",
        ),
        (
            torch.zeros(0, 2),
            (1, 2),
            None,
            r"^x must have shape \(1, 2\); got \(0, 2\)$",
        ),
    ],
)
def test_check_tensor_names_the_shape(x, expected, dims, match):
    with pytest.raises(ValueError, match=match):
        check_tensor("x", x, expected, dims)


def test_check_tensor_types():
    with pytest.raises(TypeError, match=r"^x must be a torch.Tensor; got ndarray$"):
        check_tensor("x", np.zeros((2, 3)), (None, None))
    with pytest.raises(TypeError, match=r"x must be a torch.Tensor; got list"):
        check_tensor("x", [[1, 2]], (None, None))
    for dtype in (torch.float32, torch.float64, torch.bool):
        with pytest.raises(
            TypeError, match=rf"^X must hold integer ids; got dtype {dtype}$"
        ):
            check_tensor("X", torch.zeros(4, 2, dtype=dtype), (4, 2), integer=True)


def test_check_tensor_checks_the_shape_before_the_dtype():
    # a float tensor of the wrong shape: the shape is the first thing to fix
    with pytest.raises(ValueError, match=r"X must have shape \(T, B\); got \(4,\)"):
        check_tensor("X", torch.zeros(4), (None, None), ("T", "B"), integer=True)


# -- seeds ------------------------------------------------------------------------
def test_check_seed_returns_a_python_int():
    assert check_seed("seed", 0) == 0
    out = check_seed("seed", np.int64(42))
    assert out == 42 and type(out) is int


@pytest.mark.parametrize(
    "bad, tname",
    [
        (True, "bool"),
        (np.bool_(True), "bool"),
        (1.0, "float"),
        ("0", "str"),
        (None, "NoneType"),
    ],
)
def test_check_seed_refuses_non_ints(bad, tname):
    with pytest.raises(TypeError, match=rf"^seed must be an int; got {tname}"):
        check_seed("seed", bad)


def test_check_seed_refuses_negative_ints():
    with pytest.raises(ValueError, match=r"^seed must be >= 0; got -1$"):
        check_seed("seed", -1)
    with pytest.raises(ValueError, match=r"^init_seed must be >= 0"):
        check_seed("init_seed", -5)


def test_check_tensor_integer_refuses_complex():

    z = torch.zeros(2, dtype=torch.complex64)
    with pytest.raises(TypeError, match="x must hold integer ids"):
        check_tensor("x", z, (None,), integer=True)


@pytest.mark.parametrize("wrap", [np.asarray, torch.tensor])
def test_check_ids_in_range_names_the_extremes_in_numpy_and_torch(wrap):
    ok = wrap([[0, 3], [2, 1]])
    assert check_ids_in_range("Y", ok, 4) is ok
    with pytest.raises(
        ValueError, match=r"Y must be token ids in \[0, V=4\); got min 0, max 4"
    ):
        check_ids_in_range("Y", wrap([[0, 4]]), 4)
    with pytest.raises(ValueError, match=r"got min -1, max 2; fill padding"):
        check_ids_in_range("Y", wrap([-1, 2]), 4, "fill padding")
    assert (
        check_ids_in_range("Y", wrap(np.zeros((0, 3), dtype=np.int64)), 4) is not None
    )
