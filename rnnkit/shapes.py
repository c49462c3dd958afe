"""Checks of arrays and scalars at a public boundary; errors say what is expected.

Every public function in ``rnnkit`` validates its inputs before numpy sees them,
so a mistake reads ``x must have shape (T, B, d=3); got (5, 3)`` instead of a
broadcasting error three calls deeper. These helpers write those messages in one
voice; any module may import them.

Conventions:

* a wrong *type or dtype* (a list where an array is expected, ``int`` where
  ``float`` is expected) raises :class:`TypeError`;
* a wrong *value* (shape, range, sign, non-finite entries) raises
  :class:`ValueError`;
* each check returns its (unchanged) input, so it can be used inline:
  ``n = check_positive_int("n", n)``.

Example::

    >>> import numpy as np
    >>> check_ndim_shape("x", np.zeros((5, 3)), (None, None, 3), dims=("T", "B", "d"))
    Traceback (most recent call last):
        ...
    ValueError: x must have shape (T, B, d=3); got (5, 3)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral, Real

import numpy as np

__all__ = [
    "describe_shape",
    "check_array",
    "check_float_array",
    "check_int_array",
    "check_ndim_shape",
    "check_finite",
    "check_positive_int",
    "check_positive_float",
    "check_choice",
    "check_tensor",
    "check_seed",
    "check_nonnegative_int",
    "check_ids_in_range",
    "check_finite_number",
    "check_nonnegative_float",
    "check_number_in",
    "check_bool",
    "check_nonempty",
    "check_same_batch",
    "check_float_dtype",
    "as_float_array",
]


def describe_shape(
    expected: Sequence[int | None], dims: Sequence[str] | None = None
) -> str:
    """Write an expected shape the way the book does, e.g. ``(T, B, d=3)``.

    ``expected`` holds one entry per axis: an ``int`` (that size exactly) or
    ``None`` (any size). ``dims`` optionally names the axes; a named axis with a
    fixed size is written ``name=size``, a named free axis just ``name``, an
    unnamed free axis ``*``.

    >>> describe_shape((None, None, 3), ("T", "B", "d"))
    '(T, B, d=3)'
    >>> describe_shape((None, 4))
    '(*, 4)'
    """
    if dims is not None and len(dims) != len(expected):
        raise ValueError(
            f"dims {tuple(dims)} must name each of the {len(expected)} axes "
            f"of {tuple(expected)}"
        )
    parts = []
    for i, size in enumerate(expected):
        label = dims[i] if dims is not None else None
        if size is None:
            parts.append(label if label else "*")
        else:
            parts.append(f"{label}={size}" if label else str(size))
    inner = ", ".join(parts)
    return f"({inner},)" if len(parts) == 1 else f"({inner})"


def check_array(name: str, arr: object) -> np.ndarray:
    """Return ``arr`` if it is a numpy array; else raise ``TypeError`` naming it."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array; got {type(arr).__name__} "
            "(wrap it with np.asarray)"
        )
    return arr


def check_float_array(name: str, arr: object) -> np.ndarray:
    """Return ``arr`` if it is a floating-point numpy array; else raise ``TypeError``.

    Integer arrays are refused rather than converted: ``x`` of token ids passed
    where one-hot vectors are expected is a bug, not a dtype detail.
    """
    check_array(name, arr)
    if not np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"{name} must be a floating-point array (float32 or float64); "
            f"got dtype {arr.dtype} "
            f"(convert with {name}.astype(np.float64) if that is really what you mean)"
        )
    return arr


def check_int_array(name: str, arr: object) -> np.ndarray:
    """Return ``arr`` if it is an integer numpy array (token ids); else ``TypeError``.

    ``bool`` arrays are not integers here.
    """
    check_array(name, arr)
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(
            f"{name} must be an integer array (token ids); got dtype {arr.dtype}"
        )
    return arr


def check_ndim_shape(
    name: str,
    arr: object,
    expected: Sequence[int | None],
    hint: str | None = None,
    *,
    dims: Sequence[str] | None = None,
) -> np.ndarray:
    """Check that ``arr`` is a numpy array whose shape matches ``expected``.

    Args:
        name: the argument's name, used in the message (``"x"``).
        arr: the value to check.
        expected: one entry per axis, an ``int`` (that size exactly) or ``None``
            (any size). The number of axes must match too.
        hint: optional advice appended to the message, e.g. ``"for one
            sequence add a batch axis: x[:, None, :]"``.
        dims: optional axis names for the message, e.g. ``("T", "B", "d")``.

    Returns:
        ``arr``, unchanged.

    Raises:
        TypeError: ``arr`` is not a numpy array.
        ValueError: wrong number of axes or a wrong size, worded as
            ``x must have shape (T, B, d=3); got (5, 3)``.
    """
    check_array(name, arr)
    expected = tuple(expected)
    ok = arr.ndim == len(expected) and all(
        e is None or e == s for e, s in zip(expected, arr.shape)
    )
    if not ok:
        msg = (
            f"{name} must have shape {describe_shape(expected, dims)}; "
            f"got {tuple(arr.shape)}"
        )
        if hint:
            msg += f"; {hint}"
        raise ValueError(msg)
    return arr


def check_finite(name: str, arr: np.ndarray) -> np.ndarray:
    """Raise ``ValueError`` if ``arr`` holds NaN or ±inf: how many, and where first."""
    check_array(name, arr)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} must be finite; found {int(bad.sum())} non-finite value(s), "
            f"the first at index {first}: {arr[first].item()}"
        )
    return arr


def check_positive_int(name: str, v: object) -> int:
    """Return ``v`` as an ``int`` if it is an integer >= 1.

    Raises ``TypeError`` for non-integers (``bool`` and ``3.0`` included) and
    ``ValueError`` for integers < 1.
    """
    if isinstance(v, bool) or not isinstance(v, Integral):
        raise TypeError(f"{name} must be a positive int; got {type(v).__name__} {v!r}")
    if v < 1:
        raise ValueError(f"{name} must be a positive int (>= 1); got {v}")
    return int(v)


def check_positive_float(name: str, v: object) -> float:
    """Return ``v`` as a ``float`` if it is a finite real number > 0.

    Raises ``TypeError`` for non-numbers (``bool`` included) and ``ValueError``
    for zero, negative, NaN or infinite values.
    """
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(
            f"{name} must be a positive number; got {type(v).__name__} {v!r}"
        )
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0; got {v}")
    return float(v)


def check_choice(name: str, value: object, choices: Iterable[object]) -> object:
    """Return ``value`` if it is one of ``choices``; else a ValueError listing them."""
    choices = tuple(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_tensor(
    name: str,
    x: object,
    expected: Sequence[int | None],
    dims: Sequence[str] | None = None,
    *,
    integer: bool = False,
):
    """The torch twin of :func:`check_ndim_shape`: a ``torch.Tensor`` of that shape.

    With ``integer=True`` the tensor must hold integer ids (not floats, not
    bools). Returns ``x`` unchanged.
    """
    import torch  # lazily: the numpy half of the package does not need torch

    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    expected = tuple(expected)
    ok = x.dim() == len(expected) and all(
        e is None or e == s for e, s in zip(expected, x.shape)
    )
    if not ok:
        raise ValueError(
            f"{name} must have shape {describe_shape(expected, dims)}; "
            f"got {tuple(x.shape)}"
        )
    if integer and (
        x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool
    ):
        raise TypeError(f"{name} must hold integer ids; got dtype {x.dtype}")
    return x


def check_nonnegative_int(name: str, v: object) -> int:
    """Return ``v`` as an ``int`` if it is an integer >= 0 (``bool`` refused)."""
    if isinstance(v, bool) or not isinstance(v, Integral):
        raise TypeError(f"{name} must be an int; got {type(v).__name__} {v!r}")
    if v < 0:
        raise ValueError(f"{name} must be >= 0; got {v}")
    return int(v)


def check_seed(name: str, seed: object) -> int:
    """Return ``seed`` as an ``int`` if it is an integer >= 0 (``bool`` refused)."""
    return check_nonnegative_int(name, seed)


def check_ids_in_range(name: str, ids, V: int, hint: str | None = None):
    """Raise ``ValueError`` unless every id in ``ids`` lies in ``[0, V)``.

    ``ids`` is a numpy array or a torch tensor of integers (any shape; checked
    for integer type elsewhere). The message names the smallest and largest id,
    e.g. ``Y must be token ids in [0, V=4); got min 0, max 4``. Returns ``ids``.
    """
    if isinstance(ids, np.ndarray):
        n, integer = ids.size, np.issubdtype(ids.dtype, np.integer)
    elif hasattr(ids, "numel") and hasattr(ids, "is_floating_point"):  # torch
        n = ids.numel()
        integer = not (ids.is_floating_point() or ids.is_complex())
        integer = integer and str(ids.dtype) != "torch.bool"
    else:
        raise TypeError(
            f"{name} must be an array or tensor of token ids; got {type(ids).__name__}"
        )
    if not integer:
        raise TypeError(f"{name} must hold integer token ids; got dtype {ids.dtype}")
    V = check_positive_int("V", V)
    if n:
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= V:
            msg = f"{name} must be token ids in [0, V={V}); got min {lo}, max {hi}"
            raise ValueError(msg + (f"; {hint}" if hint else ""))
    return ids


def check_finite_number(name: str, v: object) -> float:
    """Return ``v`` as a ``float`` if it is a finite real number (``bool`` refused).

    For settings such as tolerances, rates and budgets: a NaN compares false with
    everything, so a NaN setting would silently switch a check off.
    """
    if isinstance(v, bool) or not isinstance(v, Real):
        raise TypeError(f"{name} must be a number; got {type(v).__name__} {v!r}")
    if not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number; got {v}")
    return float(v)


def check_nonnegative_float(name: str, v: object) -> float:
    """Return ``v`` as a ``float`` if it is a finite real number >= 0."""
    v = check_finite_number(name, v)
    if v < 0:
        raise ValueError(f"{name} must be a finite number >= 0; got {v}")
    return v


def check_number_in(
    name: str,
    v: object,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``v`` as a ``float`` if it is a finite number in the given interval.

    ``check_number_in("dropout", p, 0, 1, high_open=True)`` accepts ``[0, 1)``.
    """
    v = check_finite_number(name, v)
    above = v > low if low_open else v >= low
    below = v < high if high_open else v <= high
    if not (above and below):
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}; got {v}")
    return v


def check_bool(name: str, v: object) -> bool:
    """Return ``v`` if it is ``True`` or ``False`` (numpy bools too); else TypeError.

    ``None`` or a string where a flag is expected is a mistake, not ``False``.
    """
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {type(v).__name__} {v!r}")
    return bool(v)


def check_nonempty(name: str, x, dims: Sequence[str] | None = None):
    """Raise ``ValueError`` if an axis of the array or tensor ``x`` has size 0.

    ``T = 0`` time steps or a batch of ``B = 0`` sequences has nothing to compute
    on; the message names the empty axis, e.g. ``X must have at least one entry
    along B; got shape (5, 0)``. Returns ``x``.
    """
    if not hasattr(x, "shape"):
        raise TypeError(f"{name} must be an array or tensor; got {type(x).__name__}")
    shape = tuple(x.shape)
    for i, size in enumerate(shape):
        if size == 0:
            axis = dims[i] if dims is not None and i < len(dims) else f"axis {i}"
            raise ValueError(
                f"{name} must have at least one entry along {axis}; got shape {shape}"
            )
    return x


def check_same_batch(
    name_a: str, a, name_b: str, b, *, axis_a: int = 1, axis_b: int = 1
) -> int:
    """Return the batch size ``B`` shared by ``a`` and ``b``, or raise ValueError.

    ``axis_a`` and ``axis_b`` say where each keeps its batch (1 for time-major
    ``(T, B)``, 0 for lengths ``(B,)``).
    """
    for n, x, axis in ((name_a, a, axis_a), (name_b, b, axis_b)):
        if not hasattr(x, "shape"):
            raise TypeError(f"{n} must be an array or tensor; got {type(x).__name__}")
        if not -len(x.shape) <= axis < len(x.shape):
            raise ValueError(
                f"{n} must have its batch on axis {axis}; got shape {tuple(x.shape)}"
            )
    Ba, Bb = a.shape[axis_a], b.shape[axis_b]
    if Ba != Bb:
        raise ValueError(
            f"{name_a} and {name_b} must hold the same batch of sequences; got "
            f"B={Ba} for {name_a} and B={Bb} for {name_b}"
        )
    return int(Ba)


def check_float_dtype(name: str, dtype: object) -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is a floating-point numpy dtype."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"{name} must be a floating-point dtype such as np.float64; got {dtype!r}"
        ) from None
    if not np.issubdtype(dt, np.floating):
        raise TypeError(f"{name} must be a floating-point dtype; got {dt}")
    return dt


def as_float_array(name: str, x: object) -> np.ndarray:
    """``np.asarray(x, dtype=float64)``, with a TypeError naming ``name`` if it fails.

    For arguments documented as "numbers" (lists welcome): a string or ``None``
    inside is refused with the argument's name, not numpy's wording.
    """
    if isinstance(x, str) or x is None:
        raise TypeError(f"{name} must be numbers (a list or array); got {x!r}")
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be numbers (a list or array); {err}") from None
