"""Plausible bugs in exercise 9 (forecasting without leakage), each caught by a visible
test whose message names it.

The three kinds of leakage the exercise is about (a scaler fitted on all the data,
windows that straddle the split, targets inside the inputs) are caught by the visible
tests of prepare_windows and make_windows, which read back the rows every window and
target came from (column 1 of their series is the day number). prepare_windows reuses
split_series, Standardizer and make_windows, so a bug in one of those also fails its
test (the message then says to fix the earlier task first), as listed in ``failing``.
"""

_PREPARE_HEAD = '''def prepare_windows(
    series, lookback, horizon=1, valid_fraction=0.25, test_fraction=0.25, target_col=0
):
    """(scaler, (X_train, Y_train), (X_valid, Y_valid), (X_test, Y_test))."""
'''

VARIANTS = {
    "scaler_on_all_data": {
        "doc": "the scaler is fitted on the whole series before splitting",
        "replacements": {
            "prepare_windows": _PREPARE_HEAD
            + """    scaler = Standardizer().fit(series)
    train, valid, test = split_series(series, valid_fraction, test_fraction)
    pairs = [
        make_windows(scaler.transform(b), lookback, horizon, target_col)
        for b in (train, valid, test)
    ]
    return (scaler, *pairs)
""",
        },
        "failing": ["test_prepare_windows_visible", "test_prepare_windows_hidden"],
        "feedback": "the scaler was fitted on all the data",
    },
    "windows_straddle_split": {
        "doc": "windows cut from the whole series, then split by the fractions",
        "replacements": {
            "prepare_windows": _PREPARE_HEAD
            + """    train, _, _ = split_series(series, valid_fraction, test_fraction)
    scaler = Standardizer().fit(train)
    X, Y = make_windows(scaler.transform(series), lookback, horizon, target_col)
    M = X.shape[1]
    n_te, n_va = int(M * test_fraction), int(M * valid_fraction)
    n_tr = M - n_va - n_te
    cuts = [(0, n_tr), (n_tr, n_tr + n_va), (n_tr + n_va, M)]
    return (scaler, *[(X[:, a:b], Y[:, a:b]) for a, b in cuts])
""",
        },
        "failing": ["test_prepare_windows_visible", "test_prepare_windows_hidden"],
        "feedback": "windows straddle the split",
    },
    "targets_inside_inputs": {
        "doc": "targets start at row m+L-1, the window's own last input row",
        "replacements": {
            "make_windows": '''def make_windows(
    series, lookback, horizon=1, target_col=0
):
    """X (L, M, d) and Y (H, M)."""
    n = series.shape[0]
    m = n - lookback - horizon + 1
    if m < 1:
        raise ValueError(f"a series of {n} rows is too short")
    X = np.stack([series[i : i + lookback] for i in range(m)], axis=1)
    Y = np.stack(
        [series[i + lookback - 1 : i + lookback - 1 + horizon, target_col]
         for i in range(m)],
        axis=1,
    )
    return X, Y
''',
        },
        "failing": [
            "test_make_windows_visible",
            "test_make_windows_hidden",
            "test_prepare_windows_visible",
            "test_prepare_windows_hidden",
        ],
        "feedback": "the targets are inside the inputs",
    },
    "transform_own_statistics": {
        "doc": "transform standardises each block with its own mean and std",
        "replacements": {
            "Standardizer": '''class Standardizer:
    """Per-column z = (x - mean) / std."""

    def __init__(self):
        self.mean_ = None
        self.std_ = None

    def fit(self, train):
        std = train.std(axis=0)
        if (std == 0).any():
            raise ValueError("a column of train is constant")
        self.mean_, self.std_ = train.mean(axis=0), std
        return self

    def transform(self, x):
        return (x - x.mean(axis=0)) / x.std(axis=0)

    def inverse_transform(self, z, col=None):
        if col is None:
            return z * self.std_ + self.mean_
        return z * self.std_[col] + self.mean_[col]
''',
        },
        "failing": [
            "test_Standardizer_visible",
            "test_Standardizer_hidden",
            "test_prepare_windows_visible",
            "test_prepare_windows_hidden",
        ],
        "feedback": "with ITS OWN mean and std",
    },
    "split_shuffled": {
        "doc": "split_series shuffles the rows first (the usual i.i.d. recipe)",
        "replacements": {
            "split_series": '''def split_series(
    series, valid_fraction=0.25, test_fraction=0.25
):
    """(train, valid, test) of a shuffled copy."""
    n = series.shape[0]
    shuffled = series[np.random.default_rng(0).permutation(n)]
    n_test, n_valid = int(n * test_fraction), int(n * valid_fraction)
    n_train = n - n_valid - n_test
    return (
        shuffled[:n_train],
        shuffled[n_train : n_train + n_valid],
        shuffled[n_train + n_valid :],
    )
''',
        },
        "failing": [
            "test_split_series_visible",
            "test_split_series_hidden",
            "test_prepare_windows_visible",
            "test_prepare_windows_hidden",
        ],
        "feedback": "the blocks are not consecutive in time",
    },
    "persistence_shifted": {
        "doc": "persistence repeats X[-2], the row before the last (shifted by one)",
        "replacements": {
            "baselines": '''def persistence_forecast(X, horizon=1, target_col=0):
    """(H, M): the last value seen, repeated."""
    return np.repeat(X[-2, :, target_col][None, :], horizon, axis=0)


def seasonal_naive_forecast(X, season, horizon=1, target_col=0):
    """(H, M): step k repeats row L - season + (k - 1) % season."""
    L = X.shape[0]
    if not 1 <= season <= L:
        raise ValueError(f"season must be in [1, L={L}]; got {season}")
    rows = L - season + np.arange(horizon) % season
    return X[rows, :, target_col]
''',
        },
        "failing": ["test_baselines_visible", "test_baselines_hidden"],
        "feedback": "persistence is shifted by one",
    },
    "recursive_window_grows": {
        "doc": "each forecast is appended, but the oldest row never dropped",
        "replacements": {
            "recursive_forecast": '''def recursive_forecast(one_step, X, horizon):
    """(H, M) forecasts, each fed back into the window."""
    window = X.copy()
    out = np.empty((horizon, X.shape[1]))
    for k in range(horizon):
        out[k] = one_step(window)[0]
        window = np.concatenate([window, out[k][None, :, None]], axis=0)
    return out
''',
        },
        "failing": [
            "test_recursive_forecast_visible",
            "test_recursive_forecast_hidden",
        ],
        "feedback": "drop the oldest row when you append a forecast",
    },
}
