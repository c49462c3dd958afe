"""Tests for rnnkit.baselines on tiny series whose answers are worked out by hand.

Layout: windows ``(L, M, d)``, targets and forecasts ``(H, M)`` (time-major).
"""

import numpy as np
import pytest

from rnnkit.baselines import LinearAR, climatology_forecast, recursive_forecast
from rnnkit.forecasting import make_windows, persistence_forecast

# -- climatology --------------------------------------------------------------------
# Two "years": day 1 saw 1 then 10, day 2 saw 2 then 20, day 3 only 3.
VALUES = np.array([1.0, 2.0, 3.0, 10.0, 20.0])
DOY = np.array([1, 2, 3, 1, 2])


def test_climatology_is_the_mean_of_the_same_day_of_year():
    P = climatology_forecast(VALUES, DOY, np.array([[1, 3], [2, 1]]))
    # day 1: (1 + 10) / 2, day 2: (2 + 20) / 2, day 3: 3 alone
    np.testing.assert_allclose(P, [[5.5, 3.0], [11.0, 5.5]])


def test_climatology_half_width_averages_neighbouring_days_on_a_circle():
    P = climatology_forecast(VALUES, DOY, np.array([[1, 2, 366]]), half_width=1)
    # day 1 reads days 366, 1, 2: (1 + 10 + 2 + 20) / 4
    # day 2 reads days 1, 2, 3: (1 + 10 + 2 + 20 + 3) / 5
    # day 366 reads days 365, 366, 1 (the circle wraps): (1 + 10) / 2
    np.testing.assert_allclose(P, [[8.25, 7.2, 5.5]])


def test_climatology_refuses_a_day_without_training_data():
    with pytest.raises(ValueError, match=r"day_of_year \[100\]"):
        climatology_forecast(VALUES, DOY, np.array([[1, 100]]))
    with pytest.raises(ValueError, match="train_day_of_year"):
        climatology_forecast(VALUES, np.array([1, 2, 3, 1, 367]), np.array([[1]]))
    with pytest.raises(ValueError, match="train_day_of_year"):
        climatology_forecast(VALUES, DOY[:4], np.array([[1]]))
    with pytest.raises(ValueError, match="day_of_year"):
        climatology_forecast(VALUES, DOY, np.array([1, 2]))  # (M,), not (H, M)


# -- linear autoregression ----------------------------------------------------------
def test_linear_ar_one_lag_is_the_least_squares_line():
    # L = 1, d = 1: points (0, 1), (1, 3), (2, 2). Mean x = 1, mean y = 2,
    # slope = sum (x - 1)(y - 2) / sum (x - 1)^2 = (1 + 0 + 0) / 2 = 0.5,
    # intercept = 2 - 0.5 * 1 = 1.5.
    X = np.array([0.0, 1.0, 2.0])[None, :, None]  # (L=1, M=3, d=1)
    Y = np.array([[1.0, 3.0, 2.0]])  # (H=1, M=3)
    ar = LinearAR().fit(X, Y)
    np.testing.assert_allclose(ar.coef_, [[0.5]])
    np.testing.assert_allclose(ar.intercept_, [1.5])
    np.testing.assert_allclose(
        ar.predict(np.array([[[4.0], [-2.0]]]).reshape(1, 2, 1)), [[3.5, 0.5]]
    )


def test_linear_ar_recovers_an_exact_linear_rule_per_step():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 9, 2))  # (L=2, M=9, d=2)
    Y = np.stack(
        [
            3.0 * X[0, :, 0] - X[1, :, 1] + 0.5,  # step 1: oldest col 0, newest col 1
            X[1, :, 0] + 2.0,  # step 2: newest col 0
        ]
    )  # (H=2, M=9)
    ar = LinearAR().fit(X, Y)
    # features in window order, oldest row first: (l0 c0, l0 c1, l1 c0, l1 c1)
    np.testing.assert_allclose(
        ar.coef_, [[3.0, 0.0, 0.0, -1.0], [0.0, 0.0, 1.0, 0.0]], atol=1e-10
    )
    np.testing.assert_allclose(ar.intercept_, [0.5, 2.0], atol=1e-10)
    X_new = rng.normal(size=(2, 4, 2))
    np.testing.assert_allclose(
        ar.predict(X_new),
        [3.0 * X_new[0, :, 0] - X_new[1, :, 1] + 0.5, X_new[1, :, 0] + 2.0],
    )


def test_linear_ar_with_noise_solves_the_normal_equations():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(3, 40, 2)), rng.normal(size=(2, 40))
    A = np.column_stack([X[0], X[1], X[2], np.ones(40)])  # (M, L*d + 1), row by row
    beta = np.linalg.solve(A.T @ A, A.T @ Y.T)  # (L*d + 1, H)
    ar = LinearAR().fit(X, Y)
    np.testing.assert_allclose(ar.coef_, beta[:-1].T, atol=1e-10)
    np.testing.assert_allclose(ar.intercept_, beta[-1], atol=1e-10)


def test_linear_ar_refuses_windows_of_another_shape_and_an_unfitted_predict():
    with pytest.raises(RuntimeError, match="not fitted"):
        LinearAR().predict(np.zeros((2, 3, 1)))
    ar = LinearAR().fit(
        np.random.default_rng(2).normal(size=(2, 5, 1)), np.ones((1, 5))
    )
    with pytest.raises(ValueError, match="X"):
        ar.predict(np.zeros((3, 5, 1)))


# -- recursive forecasts ------------------------------------------------------------
def test_recursive_fibonacci_by_hand():
    # one step = newest + oldest of a window of L = 2: the Fibonacci rule
    X = np.array([[1.0, 2.0], [1.0, 3.0]])[:, :, None]  # windows (1, 1) and (2, 3)
    P = recursive_forecast(lambda W: (W[-1, :, 0] + W[0, :, 0])[None], X, 4)
    np.testing.assert_array_equal(P, [[2.0, 5.0], [3.0, 8.0], [5.0, 13.0], [8.0, 21.0]])


def test_recursive_keeps_exactly_L_rows():
    # one step = the oldest row of a window of L = 3: the window repeats with period 3
    X = np.array([1.0, 2.0, 3.0])[:, None, None]
    seen = []

    def oldest(W):
        seen.append(W.shape)
        return W[0, :, 0][None]

    P = recursive_forecast(oldest, X, 6)
    np.testing.assert_array_equal(P[:, 0], [1.0, 2.0, 3.0, 1.0, 2.0, 3.0])
    assert seen == [(3, 1, 1)] * 6
    np.testing.assert_array_equal(X[:, 0, 0], [1.0, 2.0, 3.0])  # X is not changed


def test_recursive_takes_the_other_columns_from_known():
    # d = 2: column 0 a known calendar value, column 1 the target the model forecasts;
    # the model adds the newest calendar value and the newest target.
    X = np.array([[[1.0, 0.0]]])  # (L=1, M=1, d=2)
    known = np.array([[[10.0, 999.0]], [[20.0, 999.0]], [[30.0, 999.0]]])  # (H=3, 1, 2)
    P = recursive_forecast(
        lambda W: (W[-1, :, 0] + W[-1, :, 1])[None], X, 3, known=known, target_col=1
    )
    # step 1: 1 + 0 = 1; step 2 reads (10, 1): 11; step 3 reads (20, 11): 31.
    # The 999s in the target column of known are never read.
    np.testing.assert_array_equal(P, [[1.0], [11.0], [31.0]])


def test_recursive_step_one_is_the_one_step_forecast_and_linear_ar_agrees():
    t = np.arange(80.0)
    series = np.sin(t / 4)[:, None] + 0.1 * np.cos(t)[:, None]
    X1, Y1 = make_windows(series, lookback=5, horizon=1)
    ar = LinearAR().fit(X1, Y1)
    X7, _ = make_windows(series, lookback=5, horizon=7)
    P = recursive_forecast(ar.predict, X7, 7)
    np.testing.assert_allclose(P[0], ar.predict(X7)[0])
    # with the persistence rule as the one-step model, recursion is persistence
    np.testing.assert_array_equal(
        recursive_forecast(lambda W: W[-1:, :, 0], X7, 7), persistence_forecast(X7, 7)
    )


def test_recursive_refuses_bad_models_and_missing_known():
    X = np.zeros((3, 2, 2))
    with pytest.raises(TypeError, match="one_step"):
        recursive_forecast("model", X[:, :, :1], 2)
    with pytest.raises(ValueError, match="one_step must return"):
        recursive_forecast(lambda W: W[-1, :, 0], X[:, :, :1], 2)  # (M,), not (1, M)
    with pytest.raises(ValueError, match="known"):
        recursive_forecast(lambda W: W[-1:, :, 0], X, 2)
    with pytest.raises(ValueError, match="known"):
        recursive_forecast(lambda W: W[-1:, :, 0], X, 2, known=np.zeros((3, 2, 2)))
    with pytest.raises(ValueError, match="target_col"):
        recursive_forecast(lambda W: W[-1:, :, 0], X[:, :, :1], 2, target_col=1)
