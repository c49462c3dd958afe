"""Time-series forecasting with a vanilla RNN: windows, baselines, a many-to-one model.

The running example is daily weather in Seattle (2012–2015) from the
``vega_datasets`` package (BSD-3-Clause; the data come from NOAA), read from the
installed package, so nothing is downloaded.

Reading order, as in the chapter:

* **data**: :func:`seattle_weather`, :func:`day_of_year_features`;
* **splitting**: :func:`split_series` cuts a series into train / valid / test
  blocks *by time*; :class:`Standardizer` learns mean and std on train only;
* **windows**: :func:`make_windows` turns a series ``(N, d)`` into inputs
  ``X`` ``(L, M, d)`` (``L`` = ``lookback``) and targets ``Y`` ``(H, M)``
  (``H`` = ``horizon``), with ``M = N - L - H + 1`` windows;
* **baseline**: :func:`persistence_forecast` ("tomorrow = today");
* **model**: :class:`RNNForecaster` — ``nn.RNN`` (tanh) reads the window, a
  linear head maps the last hidden state to all ``H`` future values at once::

      h_t = tanh(x_t @ W_xh.T + b_xh + h_{t-1} @ W_hh.T + b_hh)   # (B, h)
      Y_hat = W_hy @ h_L.T + b_y[:, None]                        # (H, B)

* **training and scoring**: :func:`fit_forecaster` (the trainer contract of
  :mod:`rnnkit.training`), :func:`predict`, :func:`mae`, :func:`rmse`.

Layout: time-major, like the rest of ``rnnkit``. Windows are ``(L, M, d)``
(time first, one column of the batch per window), targets and forecasts
``(H, M)`` (horizon step first); the model reads ``(L, B, d)`` tensors and
returns ``(H, B)``. Nothing is transposed on the way in.
"""

from __future__ import annotations

import time
from numbers import Integral

import numpy as np
import torch
from torch import nn

from rnnkit import seeding, training
from rnnkit.shapes import (
    check_bool,
    check_finite,
    check_float_array,
    check_ndim_shape,
    check_nonempty,
    check_positive_float,
    check_positive_int,
    check_tensor,
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

    Implements chapter 9, equation ``forecast-day-of-year``.
    """
    import pandas as pd

    if dates is None or isinstance(dates, (str, bytes)):
        raise TypeError(
            f"dates must be a sequence of dates (e.g. df['date']); got {dates!r}"
        )
    s = pd.Series(dates)
    if s.empty:
        raise ValueError("dates must hold at least one date; got none")
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        raise TypeError(
            "dates must be dates or date strings such as '2012-01-01'; got numbers "
            f"(dtype {s.dtype}), which pandas would read as nanosecond timestamps"
        )
    try:
        parsed = pd.to_datetime(s)
    except (ValueError, TypeError) as err:
        raise ValueError(f"dates must be dates or date strings; {err}") from None
    doy = parsed.dt.day_of_year.to_numpy(dtype=np.float64)
    angle = 2.0 * np.pi * (doy - 1.0) / 365.25
    return np.stack([np.sin(angle), np.cos(angle)], axis=1)


# -- splitting and scaling ----------------------------------------------------------
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


def _check_column(name: str, col: object, d: int) -> int:
    """A column index in ``[0, d)`` (``bool`` refused)."""
    if isinstance(col, bool) or not isinstance(col, Integral) or not 0 <= col < d:
        raise ValueError(f"{name} must be a column index in [0, {d}); got {col!r}")
    return int(col)


def split_series(
    series: np.ndarray, valid_fraction: float = 0.25, test_fraction: float = 0.25
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut a series into three consecutive blocks in time: train, valid, test.

    ``series`` is ``(N, ...)`` with time on axis 0. The test block is the last
    ``floor(N * test_fraction)`` rows, the validation block the
    ``floor(N * valid_fraction)`` rows before it, and train is everything
    earlier. Nothing is shuffled: every validation and test row lies *after*
    every training row, as it will when the model is used.
    """
    series = _check_time_axis(series)
    for name, f in (
        ("valid_fraction", valid_fraction),
        ("test_fraction", test_fraction),
    ):
        check_positive_float(name, f)
    check_nonempty("series", series)
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
            f"series must be a numpy array; got {type(series).__name__} "
            "(wrap it with np.asarray)"
        )
    if series.ndim < 1:
        raise ValueError(
            "series must have a time axis, shape (N, ...); "
            f"got a scalar of shape {series.shape}"
        )
    return series


class Standardizer:
    """Per-column standardisation ``z = (x - mean) / std``, statistics from train only.

    Fit on the training block, then apply the *same* ``mean_`` and ``std_``
    (both ``(d,)``) to validation and test: computing them on the whole series
    would let the future leak into the scaling.
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, train: np.ndarray) -> Standardizer:
        """Learn ``mean_`` and ``std_`` (population std) of each column of ``train``.

        ``train`` is ``(N, d)``.
        """
        train = _check_series("train", train)
        if train.shape[0] < 2:
            raise ValueError(
                f"train must have at least 2 rows (N >= 2) to estimate a mean and a "
                f"std; got shape {train.shape}"
            )
        check_nonempty("train", train, ("N", "d"))
        std = train.std(axis=0)
        if (std == 0).any():
            col = int(np.argmax(std == 0))
            raise ValueError(
                f"column {col} of train is constant; "
                "it cannot be standardised (std = 0)"
            )
        self.mean_, self.std_ = train.mean(axis=0), std
        return self

    def _fitted(self) -> tuple[np.ndarray, np.ndarray]:
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("Standardizer is not fitted; call .fit(train) first")
        return self.mean_, self.std_

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``(N, d)`` → ``(N, d)`` standardised with the training statistics.

        Implements chapter 9, equation ``forecast-standardize``.
        """
        mean, std = self._fitted()
        x = _check_series("x", x)
        check_ndim_shape("x", x, (None, mean.size), dims=("N", "d"))
        return (x - mean) / std

    def inverse_transform(self, z: np.ndarray, col: int | None = None) -> np.ndarray:
        """Undo :meth:`transform`.

        With ``col=None``, ``z`` is ``(N, d)``. With ``col=j``, ``z`` is any array
        of values of column ``j`` alone (e.g. forecasts ``(H, M)`` of one target)
        and is mapped back with that column's mean and std.
        """
        mean, std = self._fitted()
        check_float_array("z", z)
        if col is None:
            check_ndim_shape("z", z, (None, mean.size), dims=("N", "d"))
            return z * std + mean
        col = _check_column("col", col, mean.size)
        return z * std[col] + mean[col]


# -- windows ------------------------------------------------------------------------
def make_windows(
    series: np.ndarray, lookback: int, horizon: int = 1, target_col: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Cut every (input, target) pair of a forecasting problem out of one series.

    Window ``m`` reads rows ``m .. m+L-1`` (all ``d`` columns) and must predict
    column ``target_col`` of the next ``H`` rows, ``m+L .. m+L+H-1``. Time comes
    first, windows second (time-major)::

        X[:, m] = series[m : m+L]                       # (L, d)
        Y[:, m] = series[m+L : m+L+H, target_col]       # (H,)

    Args:
        series: float array ``(N, d)``, time on axis 0, no NaNs.
        lookback: ``L >= 1``, the number of past rows the model sees.
        horizon: ``H >= 1``, the number of future rows it predicts.
        target_col: the column to predict, in ``[0, d)``.

    Returns:
        ``X`` ``(L, M, d)`` and ``Y`` ``(H, M)`` with ``M = N - L - H + 1``.

    Raises:
        ValueError: wrong shape, NaNs, ``L`` or ``H`` < 1, a bad ``target_col``,
            or a series shorter than ``L + H``.

    Implements chapter 9, equation ``forecast-windows``.
    """
    series = _check_series("series", series)
    lookback = check_positive_int("lookback", lookback)
    horizon = check_positive_int("horizon", horizon)
    n, d = series.shape
    target_col = _check_column("target_col", target_col, d)
    m = n - lookback - horizon + 1
    if m < 1:
        raise ValueError(
            f"lookback={lookback} + horizon={horizon} needs a series of at least "
            f"{lookback + horizon} rows; got {n}"
        )
    starts = np.arange(m)
    X = series[np.arange(lookback)[:, None] + starts]  # (L, M, d)
    Y = series[lookback + np.arange(horizon)[:, None] + starts, target_col]  # (H, M)
    return X, Y


def _check_windows(X: np.ndarray, Y: np.ndarray | None = None) -> None:
    check_float_array("X", X)
    check_ndim_shape("X", X, (None, None, None), dims=("L", "M", "d"))
    check_nonempty("X", X, ("L", "M", "d"))
    check_finite("X", X)
    if Y is not None:
        check_float_array("Y", Y)
        check_ndim_shape("Y", Y, (None, X.shape[1]), dims=("H", "M"))
        check_nonempty("Y", Y, ("H", "M"))
        check_finite("Y", Y)


# -- baseline -----------------------------------------------------------------------
def persistence_forecast(
    X: np.ndarray, horizon: int = 1, target_col: int = 0
) -> np.ndarray:
    """The naive forecast "every future value equals the last one seen".

    ``X`` ``(L, M, d)`` → ``(H, M)``, every entry of column ``m`` equal to
    ``X[-1, m, target_col]``. Any model worth training must beat it.

    Implements chapter 9, equation ``forecast-persistence``.
    """
    _check_windows(X)
    horizon = check_positive_int("horizon", horizon)
    target_col = _check_column("target_col", target_col, X.shape[2])
    return np.repeat(X[-1, :, target_col][None, :], horizon, axis=0)


# -- model --------------------------------------------------------------------------
class RNNForecaster(nn.Module):
    """Many-to-one forecaster: ``nn.RNN`` (tanh) over the window, a head on ``h_L``.

    Parameters
    ----------
    input_size:
        ``d``, variables per time step.
    hidden_size:
        ``h``, size of the hidden state.
    horizon:
        ``H``, future values predicted at once (1 = single-step).
    seed:
        Seed for the initial weights (``nn.RNN``'s and ``nn.Linear``'s default
        uniform init, drawn inside :func:`rnnkit.seeding.seeded_torch`, so the
        global RNG is left as it was).

    Parameters count ``h*d + h*h + 2*h`` (``nn.RNN`` keeps two biases) plus
    ``H*h + H`` for the head.

    Implements chapter 9, equation ``forecast-rnn``.
    """

    def __init__(
        self, input_size: int, hidden_size: int = 32, horizon: int = 1, *, seed: int = 0
    ) -> None:
        super().__init__()
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.horizon = check_positive_int("horizon", horizon)
        with seeding.seeded_torch(seed):
            self.rnn = nn.RNN(self.input_size, self.hidden_size, nonlinearity="tanh")
            self.head = nn.Linear(self.hidden_size, self.horizon)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """``X`` ``(L, B, d)`` → forecasts ``(H, B)``; row ``k`` is ``k+1`` steps on."""
        check_tensor("X", X, (None, None, self.input_size), dims=("L", "B", "d"))
        check_nonempty("X", X, ("L", "B", "d"))
        _, h_L = self.rnn(X)  # h_L: (1, B, h)
        return self.head(h_L[0]).T  # (B, H) -> (H, B)


def _check_model(model: object) -> RNNForecaster:
    if not isinstance(model, RNNForecaster):
        raise TypeError(
            f"model must be an rnnkit.forecasting.RNNForecaster; "
            f"got {type(model).__name__}"
        )
    return model


def predict(model: RNNForecaster, X: np.ndarray) -> np.ndarray:
    """Forecasts for windows ``X`` ``(L, M, d)`` → ``(H, M)`` float64 numpy array."""
    _check_model(model)
    _check_windows(X)
    model.eval()
    with torch.no_grad():
        return model(torch.from_numpy(X).float()).double().numpy()


def fit_forecaster(
    model: RNNForecaster,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    epochs: int = 30,
    batch_size: int = 64,
    lr: float = 1e-2,
    lr_schedule: str = "constant",
    clip: float | None = 1.0,
    seed: int = 0,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    restore_best: bool = True,
    progress: bool = True,
) -> dict[str, list]:
    """Train ``model`` with Adam on the mean squared error; return the history.

    Keeps the trainer contract of :mod:`rnnkit.training`.

    Args:
        model: an :class:`RNNForecaster`; trained in place.
        X, Y: training windows ``(L, M, d)`` and targets ``(H, M)``.
        epochs: passes over the training windows.
        batch_size: windows per minibatch. The *windows* are shuffled each epoch
            (with ``seed``); that is harmless, since every window is taken from
            the training block, and it decorrelates consecutive minibatches.
        lr: Adam's (base) learning rate.
        lr_schedule: ``"constant"`` (default) or ``"cosine"`` (falls from ``lr``
            to 0 over the run, by update; :func:`rnnkit.training.lr_factor`).
        clip: rescale the gradient to this global norm; ``None`` to not clip.
        seed: seeds the shuffling; the same model init, data and seed give the
            same history (but ``elapsed_s``).
        valid: optional ``(X_valid, Y_valid)``, scored (MSE) after every epoch.
        restore_best: with ``valid``, put back the weights of the epoch with the
            lowest validation loss when training ends (early stopping).
        progress: show a tqdm bar over the epochs (``False``: silent).

    Returns:
        A history (:func:`rnnkit.training.new_history`) with one entry per
        epoch: ``step`` (updates so far), ``elapsed_s`` (training seconds so
        far, validation excluded), ``train_loss`` (mean minibatch MSE of the
        epoch), ``epoch`` (1, 2, ...) and, only when ``valid`` is given,
        ``valid_loss``.

    Raises:
        FloatingPointError: the training loss became NaN or infinite.
    """
    _check_model(model)
    check_float_array("Y", Y)
    _check_windows(X, Y)
    if X.shape[2] != model.input_size or Y.shape[0] != model.horizon:
        raise ValueError(
            f"model expects X (L, M, d={model.input_size}) and "
            f"Y (H={model.horizon}, M); got X {X.shape} and Y {Y.shape}"
        )
    epochs = check_positive_int("epochs", epochs)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_positive_float("lr", lr)
    training.lr_factor(lr_schedule, 0.0)  # checks the name
    clip = training.check_clip(clip)
    restore_best = check_bool("restore_best", restore_best)
    if valid is not None:
        if not (isinstance(valid, tuple) and len(valid) == 2):
            raise TypeError(
                "valid must be a pair (X_valid, Y_valid) of windows, or None; "
                f"got {type(valid).__name__}"
            )
        try:
            _check_windows(*valid)
        except (TypeError, ValueError) as err:
            raise type(err)(f"valid: {err}") from None
        Xv, Yv = (torch.from_numpy(a).float() for a in valid)
    Xt, Yt = torch.from_numpy(X).float(), torch.from_numpy(Y).float()
    g = seeding.torch_generator(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    history = training.new_history(
        "epoch", *(("valid_loss",) if valid is not None else ())
    )
    n_windows = Xt.shape[1]
    total_steps = epochs * -(-n_windows // batch_size)
    step, elapsed = 0, 0.0
    best_loss, best_state = float("inf"), None
    bar = training.progress_bar(
        progress, total=epochs, desc="fit_forecaster", unit="epoch"
    )
    with bar:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            model.train()
            order = torch.randperm(n_windows, generator=g)
            losses = []
            for i in range(0, n_windows, batch_size):
                idx = order[i : i + batch_size]
                loss = loss_fn(model(Xt[:, idx]), Yt[:, idx])
                step += 1
                losses.append(training.check_finite_loss(loss.item(), step))
                for group in opt.param_groups:
                    group["lr"] = lr * training.lr_factor(
                        lr_schedule, (step - 1) / total_steps
                    )
                opt.zero_grad()
                loss.backward()
                if clip is not None:
                    nn.utils.clip_grad_norm_(model.parameters(), clip)
                opt.step()
            elapsed += time.perf_counter() - start
            entry = dict(
                step=step,
                elapsed_s=elapsed,
                train_loss=float(np.mean(losses)),
                epoch=epoch,
            )
            if valid is not None:
                model.eval()
                with torch.no_grad():
                    entry["valid_loss"] = loss_fn(model(Xv), Yv).item()
                if restore_best and entry["valid_loss"] < best_loss:
                    best_loss = entry["valid_loss"]
                    best_state = {
                        k: v.detach().clone() for k, v in model.state_dict().items()
                    }
            training.record(history, **entry)
            bar.update(1)
            bar.set_postfix(
                {k: f"{v:.4f}" for k, v in entry.items() if k.endswith("_loss")}
            )
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


# -- scores -------------------------------------------------------------------------
def _check_pair(y_true: np.ndarray, y_pred: np.ndarray, axis: object) -> None:
    # a score must not let NaN decide: NaN in, NaN out would compare false
    check_finite("y_true", check_float_array("y_true", y_true))
    check_finite("y_pred", check_float_array("y_pred", y_pred))
    check_nonempty("y_true", y_true)
    if axis is not None and (
        isinstance(axis, bool)
        or not isinstance(axis, Integral)
        or not -y_true.ndim <= axis < y_true.ndim
    ):
        raise ValueError(
            f"axis must be None or an axis of y_true (ndim {y_true.ndim}); got {axis!r}"
        )
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "y_true and y_pred must have the same shape; "
            f"got {y_true.shape} and {y_pred.shape}"
        )


def mae(
    y_true: np.ndarray, y_pred: np.ndarray, axis: int | None = None
) -> float | np.ndarray:
    """Mean absolute error, over everything (``axis=None``) or along ``axis``.

    Targets and forecasts are ``(H, M)``: ``axis=1`` averages over the windows
    and gives one MAE per horizon step, ``(H,)``.

    Implements chapter 9, equation ``forecast-mae``.
    """
    _check_pair(y_true, y_pred, axis)
    out = np.abs(y_true - y_pred).mean(axis=axis)
    return float(out) if axis is None else out


def rmse(
    y_true: np.ndarray, y_pred: np.ndarray, axis: int | None = None
) -> float | np.ndarray:
    """Root mean squared error; ``axis=1`` on ``(H, M)`` gives one per step ``(H,)``."""
    _check_pair(y_true, y_pred, axis)
    out = np.sqrt(((y_true - y_pred) ** 2).mean(axis=axis))
    return float(out) if axis is None else out
