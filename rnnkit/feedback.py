"""Feedback for exercises: checks that say *what* is wrong, not just "wrong".

The visible tests of the graded notebooks call these. Each raises
``AssertionError`` with a message a student can act on, e.g.
``h_t has shape (4, 3), expected (2, 3)`` or
``dW_hh is wrong (max error 0.31); dW_xh is right: check the recurrent term``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .shapes import check_finite_number, check_nonnegative_float

__all__ = ["check_array", "check_close", "check_equal", "check_grads"]


def _fmt(v: Any) -> str:
    return (
        np.array2string(np.asarray(v), precision=4, threshold=20)
        if isinstance(v, np.ndarray)
        else repr(v)
    )


def check_equal(name: str, got: Any, expected: Any) -> None:
    """Exact comparison of plain values (ints, strings, lists); names the first diff."""
    if isinstance(expected, (list, tuple)) and isinstance(got, (list, tuple)):
        if len(got) != len(expected):
            raise AssertionError(
                f"{name} has length {len(got)}, expected {len(expected)}"
            )
        for i, (g, e) in enumerate(zip(got, expected)):
            if g != e:
                raise AssertionError(f"{name}[{i}] is {g!r}, expected {e!r}")
        return
    if got != expected:
        raise AssertionError(f"{name} is {_fmt(got)}, expected {_fmt(expected)}")


def check_close(
    name: str,
    got: Any,
    expected: float,
    mistakes: Sequence[tuple[float, str]] = (),
    *,
    rel: float = 1e-9,
) -> None:
    """Compare one number; if it equals a known wrong answer, name the mistake.

    ``mistakes`` pairs a wrong value with a hint, e.g.
    ``[(66.7, "did you average the log-probabilities over all T positions?")]``.
    Both numbers are printed with just enough digits to see that they differ.
    """
    if hasattr(expected, "item") and getattr(expected, "ndim", 1) == 0:
        expected = expected.item()  # a 0-d array or tensor, or a numpy scalar
    expected = check_finite_number("expected", expected)
    rel = check_nonnegative_float("rel", rel)
    if isinstance(mistakes, (str, bytes)) or not isinstance(mistakes, Sequence):
        raise TypeError(
            "mistakes must be a list of (wrong value, hint) pairs; "
            f"got {type(mistakes).__name__}"
        )
    if got is None:
        raise AssertionError(f"{name} is None; did you forget to return it?")
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise AssertionError(
            f"{name} is {got!r}, expected the number {expected:.6g}"
        ) from None
    if math.isclose(got, expected, rel_tol=rel, abs_tol=1e-12):
        return
    digits = next(
        (d for d in range(4, 16) if f"{got:.{d}g}" != f"{expected:.{d}g}"), 16
    )
    message = f"{name} is {got:.{digits}g}, expected {expected:.{digits}g}"
    for value, hint in mistakes:
        if math.isclose(got, value, rel_tol=1e-6):
            raise AssertionError(f"{message}: {hint}")
    raise AssertionError(message)


def check_array(
    name: str, got: Any, expected: Any, *, atol: float = 1e-8, rtol: float = 1e-6
) -> None:
    """Compare an array with its expected value: type, shape, then values.

    Integers must match exactly; floats within ``atol + rtol * |expected|``.
    """
    atol = check_nonnegative_float("atol", atol)
    rtol = check_nonnegative_float("rtol", rtol)
    exp = np.asarray(expected)
    if not (np.issubdtype(exp.dtype, np.number) or exp.dtype == bool):
        raise TypeError(
            f"expected must be numbers (the right answer for {name}); "
            f"got {type(expected).__name__} of dtype {exp.dtype}"
        )
    if not np.isfinite(exp).all():
        raise ValueError(
            f"expected (the right answer for {name}) must be finite: a NaN there "
            "would accept any answer; got NaN or inf"
        )
    if got is None:
        raise AssertionError(f"{name} is None; did you forget to return it?")
    try:
        arr = np.asarray(got)
    except Exception as err:  # e.g. ragged lists
        raise AssertionError(f"{name} could not be read as an array ({err})") from None
    if arr.shape != exp.shape:
        raise AssertionError(f"{name} has shape {arr.shape}, expected {exp.shape}")
    if np.issubdtype(exp.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.integer):
            raise AssertionError(f"{name} has dtype {arr.dtype}, expected integers")
        bad = np.argwhere(arr != exp)
        if bad.size:
            i = tuple(int(k) for k in bad[0])
            raise AssertionError(
                f"{name}{list(i)} is {arr[i]}, expected {exp[i]} "
                f"({len(bad)} entries differ)"
            )
        return
    if not np.all(np.isfinite(arr)):
        raise AssertionError(f"{name} contains NaN or inf")
    err = np.abs(arr.astype(float) - exp)
    tol = atol + rtol * np.abs(exp)
    if np.any(err > tol):
        i = tuple(int(k) for k in np.unravel_index(np.argmax(err - tol), err.shape))
        raise AssertionError(
            f"{name} is wrong: max error {err.max():.3g}; "
            f"e.g. {name}{list(i)} is {arr[i]:.6g}, expected {exp[i]:.6g}"
        )


def check_grads(
    got: Mapping[str, Any],
    expected: Mapping[str, Any],
    *,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    hints: Mapping[str, str] | None = None,
) -> None:
    """Check several gradients at once and name which are right and which wrong.

    ``hints`` maps a gradient's name to advice shown when only it is wrong,
    e.g. ``{"dW_hh": "check the recurrent term"}``.
    """
    for arg, value in (("got", got), ("expected", expected)):
        if not isinstance(value, Mapping):
            raise TypeError(
                f"{arg} must be a dict of gradients {{name: array}}; "
                f"got {type(value).__name__}"
            )
    if not expected:
        raise ValueError("expected must hold at least one gradient to check")
    if hints is not None and not isinstance(hints, Mapping):
        raise TypeError(
            f"hints must be a dict {{gradient name: advice}} or None; "
            f"got {type(hints).__name__}"
        )
    atol = check_nonnegative_float("atol", atol)
    rtol = check_nonnegative_float("rtol", rtol)
    wrong: list[str] = []
    right: list[str] = []
    details: list[str] = []
    for key in expected:
        if key not in got:
            wrong.append(key)
            details.append(f"{key} is missing")
            continue
        try:
            check_array(key, got[key], expected[key], atol=atol, rtol=rtol)
            right.append(key)
        except AssertionError as err:
            wrong.append(key)
            details.append(str(err))
    if wrong:
        msg = f"{', '.join(wrong)} wrong"
        if right:
            msg += f"; {', '.join(right)} right"
        advice = [hints[k] for k in wrong if hints and k in hints]
        if advice:
            msg += ": " + "; ".join(advice)
        raise AssertionError(msg + "\n" + "\n".join(details))
