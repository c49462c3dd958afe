"""Time-series forecasting with a vanilla RNN: windows, baselines, a many-to-one model.

The running example is daily weather in Seattle (2012–2015) from the
``vega_datasets`` package (BSD-3-Clause; the data come from NOAA), read from the
installed package, so nothing is downloaded.

Reading order, as in the chapter:

* **data**: :func:`seattle_weather`, :func:`day_of_year_features`;
* **splitting**: :func:`split_series` cuts a series into train / valid / test
  blocks *by time*; :class:`Standardizer` learns mean and std on train only;
* **windows**: :func:`make_windows` turns a series ``(N, d)`` into inputs
  ``X`` ``(M, L, d)`` (``L`` = ``lookback``) and targets ``Y`` ``(M, H)``
  (``H`` = ``horizon``), with ``M = N - L - H + 1``;
* **baseline**: :func:`persistence_forecast` ("tomorrow = today");
* **model**: :class:`RNNForecaster` — ``nn.RNN`` (tanh) reads the window, a
  linear head maps the last hidden state to all ``H`` future values at once::

      h_t = tanh(W_xh x_t + b_xh + W_hh h_{t-1} + b_hh)     # (B, h)
      y_hat = W_hy h_L + b_y                               # (B, H)

* **training and scoring**: :func:`fit_forecaster` (seeded, returns its
  history), :func:`predict`, :func:`mae`, :func:`rmse`.

Layout: windows are **batch-first** numpy arrays ``(M, L, d)``, as
:func:`make_windows` returns them; the model itself reads **time-major**
tensors ``(L, B, d)`` like every other model in ``rnnkit``. :func:`predict` and
:func:`fit_forecaster` do the transpose.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

import numpy as np
import torch
from torch import nn

from rnnkit.shapes import (
    check_finite,
    check_float_array,
    check_ndim_shape,
    check_positive_float,
    check_positive_int,
)

__all__ = [
    "seattle_weather",
    "day_of_year_features",
    "split_series",
    "Standardizer",
    "make_windows",
    "persistence_forecast",
    "RNNForecaster",
    "fit_forecaster",
    "predict",
    "mae",
    "rmse",
]


# -- data ---------------------------------------------------------------------------
def seattle_weather():
    """Daily Seattle weather, 2012-01-01 to 2015-12-31, as a ``pandas.DataFrame``.

    1461 rows, one per day, sorted by date, with columns ``date``,
    ``precipitation`` (mm), ``temp_max`` and ``temp_min`` (°C), ``wind`` (m/s)
    and ``weather`` (a label such as ``"rain"``). Read from the CSV shipped in
    the installed ``vega_datasets`` package (BSD-3-Clause; source: NOAA); no
    network access.
    """
    from vega_datasets import local_data

    df = local_data.seattle_weather()
    df = df.sort_values("date").reset_index(drop=True)
    if len(df) != 1461 or not df["date"].is_monotonic_increasing:
        raise RuntimeError(
            f"unexpected seattle-weather data: {len(df)} rows (expected 1461 days)"
        )
    return df


def day_of_year_features(dates) -> np.ndarray:
    """Encode the season of each date as a point on a circle: ``(N, 2)`` of sin, cos.

    ``dates`` is anything ``pandas.to_datetime`` accepts (e.g. ``df["date"]``).
    31 December and 1 January end up next to each other, which a raw day number
    (365 vs 1) would not give.
    """
    import pandas as pd

    doy = pd.to_datetime(pd.Series(dates)).dt.day_of_year.to_numpy(dtype=np.float64)
    angle = 2.0 * np.pi * (doy - 1.0) / 365.25
    return np.stack([np.sin(angle), np.cos(angle)], axis=1)


# -- splitting and scaling -------------------------------------------------------------
def _check_series(name: str, series: object) -> np.ndarray:
    """A float, finite ``(N, d)`` array."""
    check_float_array(name, series)
    check_ndim_shape(
        name,
        series,
        (None, None),
        dims=("N", "d"),
        hint=f"for one variable add a feature axis: {name}[:, None]",
    )
    return check_finite(name, series)


def split_series(
    series: np.ndarray, valid_fraction: float = 0.25, test_fraction: float = 0.25
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a series into three consecutive blocks in time: train, valid, test.

    ``series`` is ``(N, ...)`` with time on axis 0. The test block is the last
    ``floor(N * test_fraction)`` rows, the validation block the
    ``floor(N * valid_fraction)`` rows before it, and train is everything earlier.
    Nothing is shuffled: every validation and test row lies *after* every training
    row, as it will when the model is used.
    """
    series = _check_time_axis(series)
    for name, f in (
        ("valid_fraction", valid_fraction),
        ("test_fraction", test_fraction),
    ):
        check_positive_float(name, f)
    if valid_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"valid_fraction + test_fraction must be < 1 to leave rows for training; "
            f"got {valid_fraction} + {test_fraction}"
        )
    n = series.shape[0]
    n_test, n_valid = int(n * test_fraction), int(n * valid_fraction)
    n_train = n - n_valid - n_test
    if min(n_train, n_valid, n_test) < 1:
        raise ValueError(
            f"a series of {n} rows is too short to split into train/valid/test "
            f"({n_train}/{n_valid}/{n_test} rows)"
        )
    return (
        series[:n_train],
        series[n_train : n_train + n_valid],
        series[n_train + n_valid :],
    )


def _check_time_axis(series: object) -> np.ndarray:
    """A numpy array with at least one axis (time on axis 0)."""
    if not isinstance(series, np.ndarray):
        raise TypeError(
            f"series must be a numpy array; got {type(series).__name__} (wrap it with np.asarray)"
        )
    if series.ndim < 1:
        raise ValueError(
            f"series must have a time axis, shape (N, ...); got a scalar of shape {series.shape}"
        )
    return series


class Standardizer:
    """Per-column standardisation ``z = (x - mean) / std`` with statistics from train only.

    Fit on the training block, then apply the *same* ``mean_`` and ``std_``
    (both ``(d,)``) to validation and test: computing them on the whole series
    would let the future leak into the scaling.
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, train: np.ndarray) -> Standardizer:
        """Learn ``mean_`` and ``std_`` (population std) of each column of ``train`` ``(N, d)``."""
        train = _check_series("train", train)
        std = train.std(axis=0)
        if (std == 0).any():
            col = int(np.argmax(std == 0))
            raise ValueError(
                f"column {col} of train is constant; it cannot be standardised (std = 0)"
            )
        self.mean_, self.std_ = train.mean(axis=0), std
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("Standardizer is not fitted; call .fit(train) first")
        return self.mean_, self.std_

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``(N, d)`` → ``(N, d)`` standardised with the training statistics."""
        mean, std = self._fitted()
        x = _check_series("x", x)
        check_ndim_shape("x", x, (None, mean.size), dims=("N", "d"))
        return (x - mean) / std

    def inverse_transform(self, z: np.ndarray, col: int | None = None) -> np.ndarray:
        """Undo :meth:`transform`.

        With ``col=None``, ``z`` is ``(N, d)``. With ``col=j``, ``z`` is any array
        of values of column ``j`` alone (e.g. forecasts ``(M, H)`` of one target)
        and is mapped back with that column's mean and std.
        """
        mean, std = self._fitted()
        check_float_array("z", z)
        if col is None:
            check_ndim_shape("z", z, (None, mean.size), dims=("N", "d"))
            return z * std + mean
        if (
            isinstance(col, bool)
            or not isinstance(col, Integral)
            or not 0 <= col < mean.size
        ):
            raise ValueError(
                f"col must be a column index in [0, {mean.size}); got {col!r}"
            )
        return z * std[col] + mean[col]


# -- windows ----------------------------------------------------------------------------
def make_windows(
    series: np.ndarray, lookback: int, horizon: int = 1, target_col: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Cut every (input, target) pair of a forecasting problem out of one series.

    Window ``m`` reads rows ``m .. m+L-1`` (all ``d`` columns) and must predict
    column ``target_col`` of the next ``H`` rows, ``m+L .. m+L+H-1``::

        X[m] = series[m : m+L]                       # (L, d)
        Y[m] = series[m+L : m+L+H, target_col]       # (H,)

    Args:
        series: float array ``(N, d)``, time on axis 0, no NaNs.
        lookback: ``L >= 1``, the number of past rows the model sees.
        horizon: ``H >= 1``, the number of future rows it predicts.
        target_col: the column to predict, in ``[0, d)``.

    Returns:
        ``X`` ``(M, L, d)`` and ``Y`` ``(M, H)`` with ``M = N - L - H + 1``.

    Raises:
        ValueError: wrong shape, NaNs, ``L`` or ``H`` < 1, a bad ``target_col``, or a
            series shorter than ``L + H``.
    """
    series = _check_series("series", series)
    lookback = check_positive_int("lookback", lookback)
    horizon = check_positive_int("horizon", horizon)
    n, d = series.shape
    if (
        isinstance(target_col, bool)
        or not isinstance(target_col, Integral)
        or not 0 <= target_col < d
    ):
        raise ValueError(
            f"target_col must be a column index in [0, {d}); got {target_col!r}"
        )
    m = n - lookback - horizon + 1
    if m < 1:
        raise ValueError(
            f"lookback={lookback} + horizon={horizon} needs a series of at least "
            f"{lookback + horizon} rows; got {n}"
        )
    starts = np.arange(m)
    X = series[starts[:, None] + np.arange(lookback)]  # (M, L, d)
    Y = series[starts[:, None] + lookback + np.arange(horizon), target_col]  # (M, H)
    return X, Y


def _check_windows(X: np.ndarray, Y: np.ndarray | None = None) -> None:
    check_float_array("X", X)
    check_ndim_shape("X", X, (None, None, None), dims=("M", "L", "d"))
    check_finite("X", X)
    if Y is not None:
        check_float_array("Y", Y)
        check_ndim_shape("Y", Y, (X.shape[0], None), dims=("M", "H"))
        check_finite("Y", Y)


# -- baseline ---------------------------------------------------------------------------
def persistence_forecast(
    X: np.ndarray, horizon: int = 1, target_col: int = 0
) -> np.ndarray:
    """The naive forecast "every future value equals the last one seen".

    ``X`` ``(M, L, d)`` → ``(M, H)``, every entry of row ``m`` equal to
    ``X[m, -1, target_col]``. Any model worth training must beat it.
    """
    _check_windows(X)
    horizon = check_positive_int("horizon", horizon)
    d = X.shape[2]
    if (
        isinstance(target_col, bool)
        or not isinstance(target_col, Integral)
        or not 0 <= target_col < d
    ):
        raise ValueError(
            f"target_col must be a column index in [0, {d}); got {target_col!r}"
        )
    return np.repeat(X[:, -1, target_col][:, None], horizon, axis=1)


# -- model ------------------------------------------------------------------------------
class RNNForecaster(nn.Module):
    """Many-to-one forecaster: ``nn.RNN`` (tanh) over the window, linear head on ``h_L``.

    Parameters
    ----------
    input_size:
        ``d``, variables per time step.
    hidden_size:
        ``h``, size of the hidden state.
    horizon:
        ``H``, future values predicted at once (1 = single-step).
    seed:
        Seed for the initial weights (``nn.RNN``'s default uniform init, drawn
        from a private generator state; the global RNG is left as it was).

    Parameters count ``h*d + h*h + 2*h`` (``nn.RNN`` keeps two biases) plus
    ``H*h + H`` for the head.
    """

    def __init__(
        self, input_size: int, hidden_size: int = 32, horizon: int = 1, *, seed: int = 0
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.horizon = check_positive_int("horizon", horizon)
        if isinstance(seed, bool) or not isinstance(seed, Integral):
            raise TypeError(f"seed must be an int; got {type(seed).__name__}")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(seed))
            self.rnn = nn.RNN(self.input_size, self.hidden_size, nonlinearity="tanh")
            self.head = nn.Linear(self.hidden_size, self.horizon)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``X`` ``(L, B, d)`` time-major → forecasts ``(B, H)``."""
        if X.dim() != 3 or X.shape[2] != self.input_size:
            raise ValueError(
                f"X must have shape (L, B, d={self.input_size}) (time-major); got {tuple(X.shape)}"
            )
        _, h_L = self.rnn(X)  # h_L: (1, B, h)
        return self.head(h_L[0])  # (B, H)


def _to_time_major(X: np.ndarray) -> torch.Tensor:
    """``(M, L, d)`` numpy → ``(L, M, d)`` float32 tensor."""
    return torch.from_numpy(np.ascontiguousarray(X.transpose(1, 0, 2))).float()


def predict(model: RNNForecaster, X: np.ndarray) -> np.ndarray:
    """Forecasts for windows ``X`` ``(M, L, d)`` → ``(M, H)`` float64 numpy array."""
    _check_windows(X)
    model.eval()
    with torch.no_grad():
        return model(_to_time_major(X)).double().numpy()


def fit_forecaster(
    model: RNNForecaster,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-2,
    clip: float = 1.0,
    seed: int = 0,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    restore_best: bool = True,
    progress: Callable[[int, dict], None] | None = None,
) -> dict[str, list[float]]:
    """Train ``model`` with Adam on the mean squared error; return the history.

    Args:
        model: an :class:`RNNForecaster`; trained in place.
        X, Y: training windows ``(M, L, d)`` and targets ``(M, H)``.
        epochs: passes over the training windows.
        batch_size: windows per minibatch. The *windows* are shuffled each epoch
            (with ``seed``); that is harmless, since every window is taken from the
            training block, and it decorrelates consecutive minibatches.
        lr: Adam learning rate.
        clip: gradient-norm clipping threshold.
        seed: seeds the shuffling; the same model init, data and seed give the same history.
        valid: optional ``(X_valid, Y_valid)``, scored (MSE) after every epoch.
        restore_best: with ``valid``, put back the weights of the epoch with the
            lowest validation loss when training ends (early stopping).
        progress: optional ``progress(epoch, history)`` called after every epoch.

    Returns:
        ``{"train_loss": [...], "valid_loss": [...]}``, one entry per epoch; train
        loss is the mean minibatch MSE of the epoch, ``valid_loss`` is empty
        without ``valid``.
    """
    _check_windows(X, Y)
    if X.shape[2] != model.input_size or Y.shape[1] != model.horizon:
        raise ValueError(
            f"model expects X (M, L, d={model.input_size}) and Y (M, H={model.horizon}); "
            f"got X {X.shape} and Y {Y.shape}"
        )
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_positive_float("lr", lr)
    clip = check_positive_float("clip", clip)
    if valid is not None:
        _check_windows(*valid)
        Xv, Yv = _to_time_major(valid[0]), torch.from_numpy(valid[1]).float()
    Xt, Yt = _to_time_major(X), torch.from_numpy(Y).float()  # (L, M, d), (M, H)
    g = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    history: dict[str, list[float]] = {"train_loss": [], "valid_loss": []}
    best_loss, best_state = float("inf"), None
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(Xt.shape[1], generator=g)
        losses = []
        for i in range(0, len(order), batch_size):
            idx = order[i : i + batch_size]
            loss = loss_fn(model(Xt[:, idx]), Yt[idx])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            losses.append(loss.item())
        history["train_loss"].append(float(np.mean(losses)))
        if valid is not None:
            model.eval()
            with torch.no_grad():
                history["valid_loss"].append(loss_fn(model(Xv), Yv).item())
            if restore_best and history["valid_loss"][-1] < best_loss:
                best_loss = history["valid_loss"][-1]
                best_state = {
                    k: v.detach().clone() for k, v in model.state_dict().items()
                }
        if progress is not None:
            progress(epoch, history)
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


# -- scores -----------------------------------------------------------------------------
def _check_pair(y_true: np.ndarray, y_pred: np.ndarray) -> None:
    check_float_array("y_true", y_true)
    check_float_array("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got {y_true.shape} and {y_pred.shape}"
        )


def mae(
    y_true: np.ndarray, y_pred: np.ndarray, axis: int | None = None
) -> float | np.ndarray:
    """Mean absolute error; ``axis=0`` on ``(M, H)`` gives one MAE per horizon step ``(H,)``."""
    _check_pair(y_true, y_pred)
    out = np.abs(y_true - y_pred).mean(axis=axis)
    return float(out) if axis is None else out


def rmse(
    y_true: np.ndarray, y_pred: np.ndarray, axis: int | None = None
) -> float | np.ndarray:
    """Root mean squared error; ``axis=0`` on ``(M, H)`` gives ``(H,)``."""
    _check_pair(y_true, y_pred)
    out = np.sqrt(((y_true - y_pred) ** 2).mean(axis=axis))
    return float(out) if axis is None else out
