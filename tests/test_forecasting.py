"""Tests for rnnkit.forecasting on tiny hand-written series, expected arrays in full.

Layout: windows ``(L, M, d)``, targets and forecasts ``(H, M)`` (time-major).
"""

import numpy as np
import pytest
import torch

from rnnkit.forecasting import (
    RNNForecaster,
    Standardizer,
    day_of_year_features,
    fit_forecaster,
    mae,
    make_windows,
    persistence_forecast,
    predict,
    rmse,
    seattle_weather,
    split_series,
)

# A tiny two-variable series: column 0 = 0, 1, ..., 5; column 1 = 10 * column 0.
TINY = np.array(
    [[0.0, 0.0], [1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0], [5.0, 50.0]]
)


# -- windows -----------------------------------------------------------------------
def test_windows_by_hand_single_step():
    X, Y = make_windows(TINY, lookback=3, horizon=1, target_col=0)
    # X[l, m] is row m + l of the series: time down, windows across.
    expected_X = np.array(
        [
            [[0, 0], [1, 10], [2, 20]],
            [[1, 10], [2, 20], [3, 30]],
            [[2, 20], [3, 30], [4, 40]],
        ],
        dtype=float,
    )
    assert X.shape == (3, 3, 2)  # (L, M, d)
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_array_equal(X[:, 2], TINY[2:5])  # window 2 reads rows 2..4
    np.testing.assert_array_equal(Y, np.array([[3.0, 4.0, 5.0]]))  # (H=1, M=3)


def test_windows_by_hand_multi_step_other_target():
    X, Y = make_windows(TINY, lookback=2, horizon=3, target_col=1)
    assert X.shape == (2, 2, 2)  # (L=2, M=6-2-3+1, d=2)
    # column m holds the H=3 targets of window m: rows m+2 .. m+4 of column 1
    np.testing.assert_array_equal(
        Y, np.array([[20.0, 30.0], [30.0, 40.0], [40.0, 50.0]])
    )
    np.testing.assert_array_equal(X[:, 1], np.array([[1.0, 10.0], [2.0, 20.0]]))


def test_windows_exact_fit_gives_one_window():
    X, Y = make_windows(TINY, lookback=5, horizon=1)
    assert X.shape == (5, 1, 2) and Y.tolist() == [[5.0]]


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(lookback=6, horizon=1), ValueError, r"at least 7 rows; got 6"),
        (dict(lookback=10, horizon=1), ValueError, r"lookback=10 \+ horizon=1"),
        (
            dict(lookback=2, horizon=0),
            ValueError,
            r"horizon must be a positive int \(>= 1\); got 0",
        ),
        (dict(lookback=0, horizon=1), ValueError, r"lookback must be a positive int"),
        (
            dict(lookback=2.0, horizon=1),
            TypeError,
            r"lookback must be a positive int; got float",
        ),
        (
            dict(lookback=2, horizon=1, target_col=2),
            ValueError,
            r"target_col must be a column index in \[0, 2\)",
        ),
    ],
)
def test_windows_bad_arguments(kwargs, err, match):
    with pytest.raises(err, match=match):
        make_windows(TINY, **kwargs)


def test_windows_refuse_nans_wrong_ndim_and_ints():
    bad = TINY.copy()
    bad[3, 1] = np.nan
    with pytest.raises(
        ValueError, match=r"series must be finite; .* the first at index \(3, 1\)"
    ):
        make_windows(bad, 2, 1)
    with pytest.raises(
        ValueError,
        match=r"series must have shape \(N, d\); got \(6,\).*series\[:, None\]",
    ):
        make_windows(TINY[:, 0], 2, 1)
    with pytest.raises(
        ValueError, match=r"series must have shape \(N, d\); got \(1, 6, 2\)"
    ):
        make_windows(TINY[None], 2, 1)
    with pytest.raises(TypeError, match=r"floating-point"):
        make_windows(np.arange(12).reshape(6, 2), 2, 1)
    with pytest.raises(TypeError, match=r"numpy array"):
        make_windows(TINY.tolist(), 2, 1)


# -- split and scaling -------------------------------------------------------------
def test_split_is_chronological():
    series = np.arange(20, dtype=float)[:, None]
    train, valid, test = split_series(series, valid_fraction=0.25, test_fraction=0.2)
    assert train[:, 0].tolist() == list(range(0, 11))  # 20 - 5 - 4 = 11 rows
    assert valid[:, 0].tolist() == list(range(11, 16))
    assert test[:, 0].tolist() == list(range(16, 20))
    assert train.max() < valid.min() and valid.max() < test.min()


def test_split_errors():
    with pytest.raises(ValueError, match=r"must be < 1 to leave rows for training"):
        split_series(TINY, 0.5, 0.5)
    with pytest.raises(ValueError, match=r"too short to split"):
        split_series(TINY[:2], 0.25, 0.25)
    with pytest.raises(ValueError, match=r"valid_fraction must be a finite number > 0"):
        split_series(TINY, 0.0, 0.25)
    with pytest.raises(TypeError, match=r"numpy array"):
        split_series([1.0, 2.0, 3.0])


def test_standardizer_uses_train_statistics_only():
    train = np.array([[1.0, 10.0], [3.0, 30.0]])  # mean (2, 20), population std (1, 10)
    later = np.array([[100.0, 1000.0]])
    sc = Standardizer().fit(train)
    np.testing.assert_allclose(sc.mean_, [2.0, 20.0])
    np.testing.assert_allclose(sc.std_, [1.0, 10.0])
    np.testing.assert_allclose(sc.transform(train), [[-1.0, -1.0], [1.0, 1.0]])
    np.testing.assert_allclose(
        sc.transform(later), [[98.0, 98.0]]
    )  # not refitted on `later`
    # Round trip, to float64 round-off.
    np.testing.assert_allclose(
        sc.inverse_transform(sc.transform(later)), later, rtol=1e-12
    )
    # One column back from forecasts of that column alone: z = 0.5 in column 1 -> 25.
    np.testing.assert_allclose(
        sc.inverse_transform(np.array([[0.5, -1.0]]), col=1), [[25.0, 10.0]]
    )


def test_standardizer_errors():
    with pytest.raises(RuntimeError, match=r"not fitted"):
        Standardizer().transform(TINY)
    with pytest.raises(ValueError, match=r"column 1 of train is constant"):
        Standardizer().fit(np.array([[1.0, 5.0], [2.0, 5.0]]))
    sc = Standardizer().fit(TINY)
    with pytest.raises(ValueError, match=r"x must have shape \(N, d=2\); got \(6, 1\)"):
        sc.transform(TINY[:, :1])
    with pytest.raises(ValueError, match=r"col must be a column index in \[0, 2\)"):
        sc.inverse_transform(np.zeros((3, 1)), col=5)


# -- baseline and scores -----------------------------------------------------------
def test_persistence_by_hand():
    X, _ = make_windows(TINY, lookback=2, horizon=1)
    # windows end at rows 1, 2, 3, 4: "tomorrow = today" repeats those values
    np.testing.assert_array_equal(
        persistence_forecast(X, horizon=3, target_col=1),  # (H=3, M=4)
        [[10.0, 20.0, 30.0, 40.0]] * 3,
    )
    np.testing.assert_array_equal(persistence_forecast(X), [[1.0, 2.0, 3.0, 4.0]])


def test_mae_rmse_by_hand():
    y = np.zeros((2, 3))  # (H=2, M=3)
    p = np.array([[1.0, -3.0, 2.0], [3.0, 1.0, 8.0]])
    assert mae(y, p) == pytest.approx(18.0 / 6)
    assert rmse(y, p) == pytest.approx(np.sqrt(88.0 / 6))
    # one score per horizon step: average over the windows (axis 1)
    np.testing.assert_allclose(mae(y, p, axis=1), [2.0, 4.0])
    np.testing.assert_allclose(rmse(y, p, axis=1), np.sqrt([14.0 / 3, 74.0 / 3]))
    with pytest.raises(ValueError, match=r"same shape; got \(2, 2\) and \(2,\)"):
        mae(y[:, :2], p[0, :2])


# -- model and training ------------------------------------------------------------
def test_forecaster_shape_and_param_count():
    d, h, H = 3, 5, 7
    model = RNNForecaster(d, h, H, seed=0)
    out = model(torch.zeros(10, 4, d))  # (L, B, d)
    assert out.shape == (H, 4)  # (H, B)
    expected = h * d + h * h + 2 * h + H * h + H  # nn.RNN has two biases; linear head
    assert sum(p.numel() for p in model.parameters()) == expected == 92
    with pytest.raises(ValueError, match=r"X must have shape \(L, B, d=3\)"):
        model(torch.zeros(10, 4, 2))
    with pytest.raises(TypeError, match=r"X must be a torch.Tensor"):
        model(np.zeros((10, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"horizon must be a positive int"):
        RNNForecaster(3, 5, 0)
    with pytest.raises(TypeError, match=r"seed must be an int"):
        RNNForecaster(3, 5, seed=1.0)


def test_forecaster_rows_are_horizon_steps():
    # Row k of the output is the head's k-th unit applied to h_L, for every window.
    model = RNNForecaster(2, 4, horizon=3, seed=0)
    X = torch.randn(6, 5, 2, generator=torch.Generator().manual_seed(0))
    _, h_L = model.rnn(X)
    by_hand = h_L[0] @ model.head.weight.T + model.head.bias  # (B, H)
    torch.testing.assert_close(model(X), by_hand.T)


def test_forecaster_init_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = (
        RNNForecaster(2, 4, seed=1),
        RNNForecaster(2, 4, seed=1),
        RNNForecaster(2, 4, seed=2),
    )
    assert torch.rand(1).item() == before.item()
    assert torch.equal(a.rnn.weight_hh_l0, b.rnn.weight_hh_l0)
    assert not torch.equal(a.rnn.weight_hh_l0, c.rnn.weight_hh_l0)


def _sine_windows(horizon=1):
    t = np.arange(200, dtype=float)
    series = np.sin(2 * np.pi * t / 20)[:, None]
    return make_windows(series, lookback=10, horizon=horizon)


def test_predict_matches_the_model_window_by_window():
    X, _ = _sine_windows(horizon=1)
    model = RNNForecaster(1, 4, horizon=2, seed=0)
    P = predict(model, X)
    assert P.shape == (2, X.shape[1]) and P.dtype == np.float64
    one = model(torch.from_numpy(X[:, 7:8]).float()).detach().double().numpy()
    np.testing.assert_allclose(P[:, 7:8], one, rtol=1e-6)


def test_training_lowers_loss_and_beats_persistence():
    torch.set_num_threads(1)
    X, Y = _sine_windows(horizon=2)
    model = RNNForecaster(1, 8, horizon=2, seed=0)
    hist = fit_forecaster(model, X, Y, epochs=15, lr=1e-2, seed=0, progress=False)
    assert len(hist["train_loss"]) == 15
    assert hist["train_loss"][-1] < 0.1 * hist["train_loss"][0]
    # A sine wave is predictable; persistence has MAE ~0.3 two steps ahead here.
    assert mae(Y, predict(model, X)) < 0.5 * mae(Y, persistence_forecast(X, 2))


def test_history_follows_the_trainer_contract():
    X, Y = _sine_windows()  # 190 windows: 3 minibatches of 64 per epoch
    hist = fit_forecaster(
        RNNForecaster(1, 4, seed=0), X, Y, epochs=4, seed=0, progress=False
    )
    # no validation set: no valid_loss key at all, not an empty list
    assert list(hist) == ["step", "elapsed_s", "train_loss", "epoch"]
    assert {len(v) for v in hist.values()} == {4}
    assert hist["step"] == [3, 6, 9, 12] and hist["epoch"] == [1, 2, 3, 4]
    assert all(b > a > 0 for a, b in zip(hist["elapsed_s"], hist["elapsed_s"][1:]))
    hist = fit_forecaster(
        RNNForecaster(1, 4, seed=0),
        X,
        Y,
        epochs=2,
        valid=(X[:, :20], Y[:, :20]),
        progress=False,
    )
    assert list(hist) == ["step", "elapsed_s", "train_loss", "epoch", "valid_loss"]
    assert {len(v) for v in hist.values()} == {2}


def test_same_seed_same_history():
    X, Y = _sine_windows()
    runs = [
        fit_forecaster(
            RNNForecaster(1, 4, seed=0),
            X,
            Y,
            epochs=3,
            seed=s,
            valid=(X[:, :20], Y[:, :20]),
            progress=False,
        )
        for s in (0, 0, 1)
    ]
    for r in runs:
        del r["elapsed_s"]  # wall-clock time is the one entry that may differ
    assert runs[0] == runs[1]
    # other seed, other minibatch order
    assert runs[0]["train_loss"] != runs[2]["train_loss"]
    assert len(runs[0]["valid_loss"]) == 3


def test_progress_bar_shows_epochs_on_stderr(capsys):
    X, Y = _sine_windows()
    fit_forecaster(RNNForecaster(1, 4, seed=0), X, Y, epochs=2, progress=True)
    assert "2/2" in capsys.readouterr().err
    fit_forecaster(RNNForecaster(1, 4, seed=0), X, Y, epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    with pytest.raises(TypeError, match=r"progress must be True .* or False"):
        fit_forecaster(RNNForecaster(1, 4), X, Y, epochs=1, progress=print)


def test_lr_schedule_and_clip_options():
    X, Y = _sine_windows()

    def run(**kw):
        model = RNNForecaster(1, 4, seed=0)
        # one minibatch per epoch: entry k is the loss before update k + 1
        kw = {"epochs": 3, "batch_size": X.shape[1], "progress": False, **kw}
        return fit_forecaster(model, X, Y, **kw)["train_loss"]

    constant, cosine = run(), run(lr_schedule="cosine")
    # update 1 uses the full rate under both schedules; update 2 a smaller one
    assert cosine[:2] == constant[:2] and cosine[2] != constant[2]
    assert run(clip=None) != run(clip=1e-3)
    with pytest.raises(ValueError, match=r"lr_schedule must be one of"):
        run(lr_schedule="linear")
    with pytest.raises(ValueError, match=r"clip must be a finite number > 0"):
        run(clip=0.0)


def test_non_finite_loss_stops_with_the_step():
    X, Y = _sine_windows()
    Y = Y.copy()
    Y[0, 100] = 1e300  # finite in float64, inf once the trainer casts to float32
    with pytest.raises(FloatingPointError, match=r"at step \d+"):
        fit_forecaster(RNNForecaster(1, 4), X, Y, epochs=1, progress=False)


def test_restore_best_keeps_lowest_valid_loss_weights():
    X, Y = _sine_windows()
    model = RNNForecaster(1, 4, seed=0)
    valid = (X[:, -40:], Y[:, -40:])
    hist = fit_forecaster(
        model, X, Y, epochs=6, lr=0.05, seed=0, valid=valid, progress=False
    )
    final = float(np.mean((predict(model, valid[0]) - valid[1]) ** 2))
    # float32 round-off
    assert final == pytest.approx(min(hist["valid_loss"]), rel=1e-5)


def test_fit_checks_shapes():
    X, Y = _sine_windows()
    with pytest.raises(
        ValueError, match=r"model expects X \(L, M, d=2\) and Y \(H=1, M\)"
    ):
        fit_forecaster(RNNForecaster(2, 4), X, Y, epochs=1)
    with pytest.raises(ValueError, match=r"Y must have shape \(H, M=190\)"):
        fit_forecaster(RNNForecaster(1, 4), X, Y[:, :-1], epochs=1)
    with pytest.raises(ValueError, match=r"X must have shape \(L, M, d\)"):
        fit_forecaster(RNNForecaster(1, 4), X[:, :, 0], Y, epochs=1)


# -- data --------------------------------------------------------------------------
def test_seattle_weather_is_local_and_complete():
    df = seattle_weather()
    assert len(df) == 1461
    assert (
        str(df["date"].iloc[0].date()) == "2012-01-01"
        and str(df["date"].iloc[-1].date()) == "2015-12-31"
    )
    assert {"temp_max", "temp_min", "precipitation", "wind"} <= set(df.columns)
    assert not df[["temp_max", "temp_min", "precipitation", "wind"]].isna().any().any()


def test_day_of_year_features_wrap_around():
    f = day_of_year_features(["2014-01-01", "2014-12-31", "2014-07-02"])
    assert f.shape == (3, 2)
    np.testing.assert_allclose(f[0], [0.0, 1.0], atol=1e-12)
    assert (
        np.linalg.norm(f[0] - f[1]) < 0.05
    )  # New Year's Eve sits next to New Year's Day
    assert f[2, 1] < -0.99  # midsummer is opposite
