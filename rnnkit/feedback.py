"""Feedback for exercises: checks that say *what* is wrong, not just "wrong".

The visible tests of the graded notebooks call these. Each raises
``AssertionError`` with a message a student can act on, e.g.
``h_t has shape (4, 3), expected (2, 3)`` or
``dW_hh is wrong (max error 0.31); dW_xh is right: check the recurrent term``.

Feedback first: imported in a Jupyter kernel (every exercise imports it in its first
code cell), this module asks IPython to show a failed check's reason as the first
line of the error, above a traceback without these helpers' frames (they set
``__tracebackhide__``), and to say which function is still missing when a cell runs
into a handed-out ``raise NotImplementedError()`` stub. See :func:`show_reason_first`.
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


def _number_kind(v: Any) -> str | None:
    """'bool', 'integer', 'float' or 'complex' for Python and numpy scalars."""
    if isinstance(v, (bool, np.bool_)):  # before int: bool is a subclass of int
        return "bool"
    if isinstance(v, (int, np.integer)):
        return "integer"
    if isinstance(v, (float, np.floating)):
        return "float"
    if isinstance(v, (complex, np.complexfloating)):
        return "complex"
    return None


def _type_name(v: Any) -> str:
    t = type(v)
    return (
        t.__qualname__
        if t.__module__ == "builtins"
        else f"{t.__module__}.{t.__qualname__}"
    )


def _equal_diff(name: str, got: Any, expected: Any) -> str | None:
    """The first difference between ``got`` and ``expected`` (type first), or None."""
    kind = _number_kind(expected)
    if kind is not None:  # numbers: the same kind; numpy's scalar types count as it
        if _number_kind(got) != kind:
            article = "an" if kind == "integer" else "a"
            return (
                f"{name} is {_fmt(got)} of type {_type_name(got)}, expected {article} "
                f"{kind} ({_type_name(expected)}) {_fmt(expected)}"
            )
    elif isinstance(expected, (list, tuple, str, Mapping)) or expected is None:
        kinds = (list, tuple, str, Mapping, type(None))
        want = next(k for k in kinds if isinstance(expected, k))
        if not isinstance(got, want):
            return (
                f"{name} is {_fmt(got)} of type {_type_name(got)}, expected "
                f"{_type_name(expected)} {_fmt(expected)}"
            )
        if isinstance(expected, (list, tuple)):
            if len(got) != len(expected):
                return f"{name} has length {len(got)}, expected {len(expected)}"
            for i, (g, e) in enumerate(zip(got, expected)):
                diff = _equal_diff(f"{name}[{i}]", g, e)
                if diff:
                    return diff
            return None
        if isinstance(expected, Mapping):
            missing = [k for k in expected if k not in got]
            extra = [k for k in got if k not in expected]
            if missing or extra:
                return f"{name} lacks keys {missing[:5]} and has extra keys {extra[:5]}"
            for k in expected:
                diff = _equal_diff(f"{name}[{k!r}]", got[k], expected[k])
                if diff:
                    return diff
            return None
    elif not isinstance(got, type(expected)):
        return (
            f"{name} is {_fmt(got)} of type {_type_name(got)}, expected "
            f"{_type_name(expected)} {_fmt(expected)}"
        )
    try:
        same = bool(got == expected)
    except (TypeError, ValueError):  # e.g. arrays: compare them with check_array
        same = False
    if not same:
        return f"{name} is {_fmt(got)}, expected {_fmt(expected)}"
    return None


def check_equal(name: str, got: Any, expected: Any) -> None:
    """Exact comparison of plain values (numbers, strings, lists, tuples, dicts):
    type first, then value; names the first difference.

    The type is part of the answer: a float (``3.0``), a bool or a numpy array
    where an integer is expected fails, as does a tuple where a list is expected
    (element by element, recursively; dicts by keys, then values). numpy's scalar
    types count as the Python kind they stand for (``np.int64(3)`` is an
    integer, ``np.float64`` a float, ``np.bool_`` a bool): they are what numpy
    code naturally returns. Other objects must be instances of the expected
    value's type, so an object that claims to equal everything fails.
    """
    __tracebackhide__ = True  # a failure points at the test's line, not this one
    diff = _equal_diff(name, got, expected)
    if diff:
        raise AssertionError(diff)


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
    __tracebackhide__ = True
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
    __tracebackhide__ = True
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
    __tracebackhide__ = True
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


# --- Feedback first, in IPython ------------------------------------------------------
_STUB_HINT = (
    "{what} is not written yet: replace `raise NotImplementedError()` in {where} "
    "with your code, run that cell, then run this one again"
)
_RED, _PLAIN = "\x1b[1;31m", "\x1b[0m"


def _visible_frames(tb):
    """``tb`` without the frames of helpers that set ``__tracebackhide__``.

    The first entry (IPython's own ``run_code``, which tracebacks skip anyway) and
    the innermost visible frame always stay.
    """
    import types

    entries = []
    first, tb = tb, tb.tb_next
    while tb is not None:
        if not tb.tb_frame.f_locals.get("__tracebackhide__"):
            entries.append(tb)
        tb = tb.tb_next
    new = None
    for entry in reversed(entries):
        new = types.TracebackType(new, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return types.TracebackType(new, first.tb_frame, first.tb_lasti, first.tb_lineno)


def _innermost(tb):
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def _stub_hint(tb) -> str:
    """Which function (or cell) still raises the handed-out ``NotImplementedError``."""
    name = _innermost(tb).tb_frame.f_code.co_name
    if name == "<module>":
        return (
            "This cell's answer is not written yet: replace "
            "`raise NotImplementedError()` with your code and run the cell again"
        )
    return _STUB_HINT.format(what=f"`{name}`", where="the cell that defines it")


def failure_reason(etype: type, value: BaseException, tb=None) -> str:
    """The one line a student should read first: ``AssertionError: <message>``.

    For a bare ``raise NotImplementedError()`` (the stub of a solution cell), the
    exception is given a message naming the function still to write.
    """
    if issubclass(etype, NotImplementedError) and not str(value) and tb is not None:
        value.args = (_stub_hint(tb),)
    text = str(value).strip().splitlines()
    if text:
        return f"{etype.__name__}: {text[0]}"
    if tb is not None:  # a bare `assert`: show the line that failed
        import linecache

        last = _innermost(tb)
        code = last.tb_frame.f_code
        line = linecache.getline(code.co_filename, last.tb_lineno).strip()
        if line:
            return f"{etype.__name__} at line {last.tb_lineno}: {line}"
    return etype.__name__


def _reason_first_handler(shell, etype, value, tb, tb_offset=None):
    tb = _visible_frames(tb) if tb is not None else tb
    line = failure_reason(etype, value, tb)
    stb = shell.InteractiveTB.structured_traceback(
        etype, value, tb, tb_offset=tb_offset
    )
    stb = [f"{_RED}{line}{_PLAIN}", *stb]
    shell._showtraceback(etype, value, stb)
    return stb


def show_reason_first(shell=None) -> bool:
    """Make IPython show a failed check's reason first (see the module docstring).

    Installs an IPython custom exception handler for ``AssertionError`` and
    ``NotImplementedError`` on ``shell`` (the running one by default). Returns
    False, changing nothing, outside IPython. Importing this module calls it.
    """
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    shell.set_custom_exc((AssertionError, NotImplementedError), _reason_first_handler)
    return True


show_reason_first()
