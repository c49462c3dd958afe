"""Forecasting baselines that a trained RNN must beat, and the recursive strategy.

Chapter 9 compares its RNN forecasters with three models that need no
gradient descent, each scored on the same test windows:

* **persistence** (:func:`rnnkit.forecasting.persistence_forecast`): every
  future value equals the last one seen;
* **climatology** (:func:`climatology_forecast`): the training years' mean of
  the target on the same day of the year;
* **linear autoregression** (:class:`LinearAR`): a linear map from the whole
  window to the ``H`` future values, fitted by least squares on exactly the
  windows and features the RNN is trained on::

      Y_hat[:, m] = W @ X[:, m].reshape(-1) + b        # W (H, L*d), b (H,)

It also provides the **recursive** multi-step strategy,
:func:`recursive_forecast`: a one-step model is run ``H`` times, each forecast
fed back as the newest row of the window (the *direct* strategy is a model with
``H`` outputs, such as ``RNNForecaster(..., horizon=H)``).

Layout, as in :mod:`rnnkit.forecasting`: windows ``(L, M, d)`` (time first,
one column per window), targets and forecasts ``(H, M)`` (row ``k-1`` is the
forecast ``k`` steps on).
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

import numpy as np

from rnnkit.shapes import (
    check_finite,
    check_float_array,
    check_int_array,
    check_ndim_shape,
    check_nonempty,
    check_nonnegative_int,
    check_positive_int,
)

__all__ = ["climatology_forecast", "LinearAR", "recursive_forecast"]


def _check_windows(name: str, X: object) -> np.ndarray:
    check_float_array(name, X)
    check_ndim_shape(name, X, (None, None, None), dims=("L", "M", "d"))
    check_nonempty(name, X, ("L", "M", "d"))
    return check_finite(name, X)


def _check_day_of_year(name: str, doy: object) -> np.ndarray:
    check_int_array(name, doy)
    check_nonempty(name, doy)
    if doy.min() < 1 or doy.max() > 366:
        raise ValueError(
            f"{name} must hold days of the year in [1, 366]; "
            f"got values from {doy.min()} to {doy.max()}"
        )
    return doy


# -- climatology --------------------------------------------------------------------
def climatology_forecast(
    train_values: np.ndarray,
    train_day_of_year: np.ndarray,
    day_of_year: np.ndarray,
    half_width: int = 0,
) -> np.ndarray:
    """The training years' mean of the target for each day of the year asked for.

    Args:
        train_values: the target on the training days, ``(N,)``.
        train_day_of_year: the day of the year (1 to 366) of each training day,
            ``(N,)`` integers, e.g. ``df["date"].dt.day_of_year``.
        day_of_year: the day of the year of each day to forecast, ``(H, M)``
            integers (the target days of ``H`` steps ahead of ``M`` windows).
        half_width: average over the training days within ``half_width`` days of
            the same day of the year (on a circle of 366 days), not only that day;
            ``0`` (default) is the plain day-of-year mean.

    Returns:
        Forecasts ``(H, M)``, floats.

    Raises:
        ValueError: a day to forecast with no training day to average.

    Implements chapter 9, equation ``forecast-climatology``.
    """
    check_float_array("train_values", train_values)
    check_ndim_shape("train_values", train_values, (None,), dims=("N",))
    check_nonempty("train_values", train_values)
    check_finite("train_values", train_values)
    _check_day_of_year("train_day_of_year", train_day_of_year)
    check_ndim_shape(
        "train_day_of_year", train_day_of_year, (train_values.shape[0],), dims=("N",)
    )
    check_int_array("day_of_year", day_of_year)
    check_ndim_shape("day_of_year", day_of_year, (None, None), dims=("H", "M"))
    _check_day_of_year("day_of_year", day_of_year)
    half_width = check_nonnegative_int("half_width", half_width)
    sums = np.bincount(train_day_of_year - 1, weights=train_values, minlength=366)
    counts = np.bincount(train_day_of_year - 1, minlength=366).astype(np.float64)
    if half_width:
        offsets = np.arange(-half_width, half_width + 1)
        idx = (np.arange(366)[:, None] + offsets) % 366  # (366, 2w+1)
        sums, counts = sums[idx].sum(axis=1), counts[idx].sum(axis=1)
    need = np.unique(day_of_year)
    missing = need[counts[need - 1] == 0]
    if missing.size:
        raise ValueError(
            f"day_of_year {missing[:5].tolist()} has no training day within "
            f"half_width={half_width} days to average"
        )
    return sums[day_of_year - 1] / counts[day_of_year - 1]


# -- linear autoregression ----------------------------------------------------------
class LinearAR:
    """Linear autoregression on whole windows, fitted by least squares.

    ``fit(X, Y)`` solves ``min ||[X_flat, 1] @ [W.T; b] - Y.T||^2`` with
    ``X_flat`` ``(M, L*d)`` (window ``m`` read row by row, oldest first). With
    ``H > 1`` outputs it is the *direct* multi-step linear model: one
    independent least-squares fit per step ahead. Attributes after ``fit``:
    ``coef_`` ``(H, L*d)`` and ``intercept_`` ``(H,)``.

    Implements chapter 9, equation ``forecast-linear-ar``.
    """

    def __init__(self) -> None:
        self.coef_: np.ndarray | None = None
        self.intercept_: np.ndarray | None = None
        self.window_shape_: tuple[int, int] | None = None

    def fit(self, X: np.ndarray, Y: np.ndarray) -> LinearAR:
        """Fit on windows ``X`` ``(L, M, d)``, targets ``Y`` ``(H, M)``; return self."""
        _check_windows("X", X)
        check_float_array("Y", Y)
        check_ndim_shape("Y", Y, (None, X.shape[1]), dims=("H", "M"))
        check_nonempty("Y", Y, ("H", "M"))
        check_finite("Y", Y)
        L, M, d = X.shape
        design = np.column_stack([X.transpose(1, 0, 2).reshape(M, L * d), np.ones(M)])
        sol = np.linalg.lstsq(design, Y.T, rcond=None)[0]  # (L*d + 1, H)
        self.coef_, self.intercept_ = sol[:-1].T.copy(), sol[-1].copy()
        self.window_shape_ = (L, d)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Forecasts ``(H, M)`` for windows ``X`` ``(L, M, d)`` of the fitted L, d."""
        if self.coef_ is None or self.window_shape_ is None:
            raise RuntimeError("LinearAR is not fitted; call .fit(X, Y) first")
        _check_windows("X", X)
        L, d = self.window_shape_
        check_ndim_shape("X", X, (L, None, d), dims=("L", "M", "d"))
        M = X.shape[1]
        flat = X.transpose(1, 0, 2).reshape(M, L * d)
        return self.coef_ @ flat.T + self.intercept_[:, None]


# -- recursive multi-step -----------------------------------------------------------
def recursive_forecast(
    one_step: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    horizon: int,
    *,
    known: np.ndarray | None = None,
    target_col: int = 0,
) -> np.ndarray:
    """``H``-step forecasts from a one-step model, each forecast fed back as input.

    Step ``k``: ``one_step`` maps the current windows ``(L, M, d)`` to ``(1, M)``;
    the window then drops its oldest row and appends a new one whose
    ``target_col`` is that forecast. ``X`` itself is not changed.

    Args:
        one_step: a model, windows ``(L, M, d)`` → next value ``(1, M)``.
        X: the windows ``(L, M, d)``.
        horizon: ``H >= 1``, the steps to forecast.
        known: with ``d > 1`` inputs, the other columns of the ``H`` future rows
            must be known in advance (calendar features, say): ``known`` is
            ``(H, M, d)``, row ``k-1`` the ``k``-th future row of every window;
            its ``target_col`` is ignored (the model's own forecast goes there).
            Leave ``None`` for ``d = 1``.
        target_col: the column the model forecasts, in ``[0, d)``.

    Returns:
        Forecasts ``(H, M)``.

    Implements chapter 9, equation ``forecast-recursive``.
    """
    if not callable(one_step):
        raise TypeError(
            "one_step must be a callable model, windows (L, M, d) -> (1, M); "
            f"got {type(one_step).__name__}"
        )
    _check_windows("X", X)
    horizon = check_positive_int("horizon", horizon)
    L, M, d = X.shape
    if isinstance(target_col, bool) or not isinstance(target_col, Integral):
        raise TypeError(f"target_col must be an int; got {target_col!r}")
    if not 0 <= target_col < d:
        raise ValueError(f"target_col must be in [0, {d}); got {target_col}")
    if known is None:
        if d > 1:
            raise ValueError(
                f"X has d={d} columns: pass known, (H={horizon}, M={M}, d={d}), "
                "the future values of the columns the model does not forecast"
            )
    else:
        check_float_array("known", known)
        check_ndim_shape("known", known, (horizon, M, d), dims=("H", "M", "d"))
        check_finite("known", known)
    window = np.array(X, dtype=np.float64, copy=True)
    out = np.empty((horizon, M))
    for k in range(horizon):
        step = np.asarray(one_step(window), dtype=np.float64)
        if step.shape != (1, M):
            raise ValueError(
                f"one_step must return forecasts (1, M={M}); got shape {step.shape}"
            )
        out[k] = step[0]
        new = (
            np.array(known[k], dtype=np.float64)
            if known is not None
            else np.empty((M, d))
        )
        new[:, target_col] = step[0]
        window = np.concatenate([window[1:], new[None]], axis=0)
    return out
