"""Every public callable of rnnkit refuses bad arguments with a clear error.

The test walks the public API from each module's ``__all__`` (functions,
classes, and the public methods of those classes), so a callable added later is
covered without editing this file -- except for one line: :data:`EXAMPLES`
holds a *valid* call of every callable, and a callable without one fails
:func:`test_every_public_callable_has_an_example` ("add an example for X").

From a valid call, hypothesis makes one argument wrong at a time (wrong number
of axes, an empty axis, NaN/inf, floats for ids, ids out of range, ``None``, a
``str``, negative or zero counts, unknown options, ...) and the call must raise
``ValueError`` or ``TypeError`` whose message names the parameter: not an
``IndexError`` or a ``RuntimeError`` from deep inside numpy or torch, and not a
silent answer. The few wrong-looking values that are legitimately accepted
(a negative logit, a NaN carried through a model's maths) are listed in
:data:`ACCEPTS`, each with its reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import importlib.util
import inspect
import math
import os
import pkgutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

matplotlib.use("Agg")

import rnnkit  # noqa: E402
from rnnkit import (  # noqa: E402
    batching,
    clipping,
    corpus,
    datasets,
    date_task,
    dates,
    equations,
    feedback,
    forecasting,
    gradcheck,
    gradient_flow,
    lm_eval,
    lm_train,
    losses,
    markers,
    markov,
    plots,
    presets,
    rnn_numpy,
    rnn_torch,
    sampling,
    seeding,
    seq2seq,
    shapes,
    textstats,
    training,
    vocab,
)

ROOT = Path(__file__).resolve().parents[1]


# -- the public API ---------------------------------------------------------------
def public_callables() -> dict[str, Callable]:
    """``{"module.name" or "module.Class.method": object}`` from every ``__all__``."""
    found: dict[str, Callable] = {}
    for info in sorted(pkgutil.iter_modules(rnnkit.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"rnnkit.{info.name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue  # constants
            found[f"{info.name}.{name}"] = obj
            if inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if not attr.startswith("_") and inspect.isfunction(member):
                        found[f"{info.name}.{name}.{attr}"] = member
    return found


# -- valid calls --------------------------------------------------------------------
def _ids(n: int = 40, V: int = 5) -> np.ndarray:
    return (np.arange(n) * 3 + 1) % V


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def _vocab() -> vocab.Vocab:
    return vocab.Vocab(list("abcab"), reserved=(vocab.PAD, vocab.UNK))


def _ngram() -> markov.NGramLM:
    return markov.NGramLM(1, 4).fit(np.array([0, 1, 2, 3, 1, 2]))


def _rnnlm() -> rnn_torch.RNNLM:
    return rnn_torch.RNNLM(5, 4, embed_size=3, cell="torch", seed=0)


def _series() -> np.ndarray:
    t = np.arange(30.0)
    return np.stack([np.sin(t / 3), np.cos(t / 5)], axis=1)


def _windows() -> tuple[np.ndarray, np.ndarray]:
    return forecasting.make_windows(_series(), 4, 2)


def _np_params(d: int = 3, h: int = 4, V: int = 5) -> dict[str, np.ndarray]:
    return rnn_numpy.init_params(d, h, V, seed=0)


_PAIRS = [("1 Jan 2000", "2000-01-01"), ("2 Feb 2001", "2001-02-02")]


def _date_data() -> tuple[dict, vocab.Vocab, vocab.Vocab]:
    src_v, tgt_v = dates.build_vocabs(_PAIRS)
    return dates.encode_pairs(_PAIRS, src_v, tgt_v), src_v, tgt_v


def _seq2seq(data_vocabs=None) -> seq2seq.Seq2Seq:
    _, src_v, tgt_v = _date_data()
    return seq2seq.Seq2Seq(len(src_v), len(tgt_v), embed_size=3, hidden_size=4)


def _text_file() -> str:
    fd, path = tempfile.mkstemp(suffix=".txt")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("to be or not to be\n")
    return path


def _torch_ids(T: int, B: int, V: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, (T, B), generator=torch.Generator().manual_seed(seed))


def _step_cache():
    p = _np_params()
    x = _rng().standard_normal((2, 3))
    h = np.zeros((2, 4))
    return rnn_numpy.rnn_step_forward(x, h, p["W_xh"], p["W_hh"], p["b_h"])[1]


def _seq_cache():
    p = _np_params()
    x = _rng().standard_normal((3, 2, 3))
    return rnn_numpy.rnn_forward(x, np.zeros((2, 4)), p["W_xh"], p["W_hh"], p["b_h"])


def _forward_pre():
    p = _np_params()
    x = _rng().standard_normal((3, 2, 3))
    return x, p


def _gradcheck_call():
    x = _rng().standard_normal(3)
    return gradcheck.numerical_gradient, dict(
        f=lambda: float((x**2).sum()), x=x, eps=1e-5
    )


def _grad_check_params_call():
    params = {"w": _rng().standard_normal(3)}
    grads = {"w": 2 * params["w"]}
    return gradcheck.grad_check_params, dict(
        loss_fn=lambda p: float((p["w"] ** 2).sum()),
        params=params,
        analytic_grads=grads,
        eps=1e-5,
    )


def _fitted_standardizer() -> forecasting.Standardizer:
    return forecasting.Standardizer().fit(_series())


def _A() -> np.ndarray:
    return _rng().standard_normal((3, 2, 4))


def _W() -> np.ndarray:
    return _rng().standard_normal((4, 4)) / 2


#: name -> () -> (callable, {parameter: valid value}); ``*args`` under its name.
EXAMPLES: dict[str, Callable[[], tuple[Callable, dict]]] = {
    # batching
    "batching.as_ids": lambda: (batching.as_ids, dict(ids=_ids())),
    "batching.random_batches": lambda: (
        batching.random_batches,
        dict(ids=_ids(), batch_size=2, num_steps=3, seed=0, drop_last=True),
    ),
    "batching.sequential_batches": lambda: (
        batching.sequential_batches,
        dict(ids=_ids(), batch_size=2, num_steps=3, seed=0, offset=1),
    ),
    "batching.num_batches": lambda: (
        batching.num_batches,
        dict(n_tokens=40, batch_size=2, num_steps=3),
    ),
    "batching.train_valid_split": lambda: (
        batching.train_valid_split,
        dict(ids=_ids(), valid_fraction=0.2),
    ),
    # clipping
    "clipping.global_norm": lambda: (
        clipping.global_norm,
        dict(grads={"W": np.ones((2, 3)), "b": np.ones(2)}),
    ),
    "clipping.clip_grad_norm": lambda: (
        clipping.clip_grad_norm,
        dict(grads={"W": np.ones((2, 3)), "b": np.ones(2)}, max_norm=1.0),
    ),
    # corpus
    "corpus.plays_dir": lambda: (corpus.plays_dir, {}),
    "corpus.list_plays": lambda: (corpus.list_plays, {}),
    "corpus.play_path": lambda: (corpus.play_path, dict(name="hamlet")),
    "corpus.strip_play_markdown": lambda: (
        corpus.strip_play_markdown,
        dict(markdown="# T\n\n**A**  \nTo be.  \n"),
    ),
    "corpus.load_play": lambda: (corpus.load_play, dict(name="macbeth")),
    "corpus.load_text": lambda: (corpus.load_text, dict(path=_text_file())),
    "corpus.letters_only": lambda: (corpus.letters_only, dict(text="To be!")),
    # datasets
    "datasets.CharCorpus": lambda: (
        datasets.CharCorpus,
        dict(
            vocab=_vocab(),
            train_ids=np.array([2, 3, 2, 4]),
            valid_ids=np.array([3, 2]),
        ),
    ),
    "datasets.char_corpus": lambda: (
        datasets.char_corpus,
        dict(play="macbeth", valid_fraction=0.1),
    ),
    # date_task
    "date_task.DateTask": lambda: (
        date_task.DateTask,
        dict(
            train_pairs=list(_PAIRS),
            test_pairs=list(_PAIRS),
            src_vocab=_date_data()[1],
            tgt_vocab=_date_data()[2],
            train=_date_data()[0],
            test=_date_data()[0],
        ),
    ),
    "date_task.split_days": lambda: (
        date_task.split_days,
        dict(seed=0, test_fraction=0.1),
    ),
    "date_task.split_date_pairs": lambda: (
        date_task.split_date_pairs,
        dict(
            n_train=6,
            n_test=3,
            seed=0,
            locales=("en_GB",),
            formats=("dd.MM.y",),
            reverse=False,
            test_fraction=0.1,
            test_locales=("de_DE",),
            test_formats=("d MMMM y",),
        ),
    ),
    "date_task.make_date_task": lambda: (
        date_task.make_date_task,
        dict(
            n_train=6,
            n_test=3,
            seed=0,
            locales=("en_GB",),
            formats=("dd.MM.y",),
            reverse=False,
            test_fraction=0.1,
            test_locales=("de_DE",),
            test_formats=("d MMMM y",),
        ),
    ),
    "date_task.train_date_model": lambda: (
        date_task.train_date_model,
        dict(
            seed=0,
            n_train=12,
            n_test=4,
            steps=2,
            batch_size=4,
            lr=5e-3,
            embed_size=3,
            hidden_size=4,
            cell="rnn",
            teacher_forcing_ratio=1.0,
            feed_context=True,
            progress=False,
        ),
    ),
    # dates
    "dates.make_date_pairs": lambda: (
        dates.make_date_pairs,
        dict(
            n=3,
            seed=0,
            locales=("en_GB",),
            formats=("dd.MM.y",),
            start=dt.date(2000, 1, 1),
            end=dt.date(2000, 12, 31),
        ),
    ),
    "dates.build_vocabs": lambda: (dates.build_vocabs, dict(pairs=list(_PAIRS))),
    "dates.pad_batch": lambda: (dates.pad_batch, dict(seqs=[[5, 6, 7], [8]], pad_id=0)),
    "dates.encode_pairs": lambda: (
        dates.encode_pairs,
        dict(pairs=list(_PAIRS), src_vocab=_date_data()[1], tgt_vocab=_date_data()[2]),
    ),
    # equations
    "equations.implementations": lambda: (equations.implementations, {}),
    "equations.chapter_equations": lambda: (
        equations.chapter_equations,
        dict(chapters_dir=str(ROOT / "chapters")),
    ),
    # feedback
    "feedback.check_array": lambda: (
        feedback.check_array,
        dict(name="h_t", got=np.ones(3), expected=np.ones(3), atol=1e-8, rtol=1e-6),
    ),
    "feedback.check_close": lambda: (
        feedback.check_close,
        dict(name="ppl", got=2.0, expected=2.0, mistakes=[(3.0, "hint")], rel=1e-9),
    ),
    "feedback.check_equal": lambda: (
        feedback.check_equal,
        dict(name="ids", got=[1, 2], expected=[1, 2]),
    ),
    "feedback.check_grads": lambda: (
        feedback.check_grads,
        dict(
            got={"dW": np.ones(2)},
            expected={"dW": np.ones(2)},
            atol=1e-8,
            rtol=1e-6,
            hints={"dW": "check the recurrent term"},
        ),
    ),
    # forecasting
    "forecasting.seattle_weather": lambda: (forecasting.seattle_weather, {}),
    "forecasting.day_of_year_features": lambda: (
        forecasting.day_of_year_features,
        dict(dates=["2012-01-01", "2012-06-30"]),
    ),
    "forecasting.split_series": lambda: (
        forecasting.split_series,
        dict(series=_series(), valid_fraction=0.25, test_fraction=0.25),
    ),
    "forecasting.Standardizer": lambda: (forecasting.Standardizer, {}),
    "forecasting.Standardizer.fit": lambda: (
        forecasting.Standardizer().fit,
        dict(train=_series()),
    ),
    "forecasting.Standardizer.transform": lambda: (
        _fitted_standardizer().transform,
        dict(x=_series()),
    ),
    "forecasting.Standardizer.inverse_transform": lambda: (
        _fitted_standardizer().inverse_transform,
        dict(z=np.ones((3, 5)), col=1),
    ),
    "forecasting.make_windows": lambda: (
        forecasting.make_windows,
        dict(series=_series(), lookback=4, horizon=2, target_col=1),
    ),
    "forecasting.persistence_forecast": lambda: (
        forecasting.persistence_forecast,
        dict(X=_windows()[0], horizon=2, target_col=1),
    ),
    "forecasting.RNNForecaster": lambda: (
        forecasting.RNNForecaster,
        dict(input_size=2, hidden_size=4, horizon=2, seed=0),
    ),
    "forecasting.RNNForecaster.forward": lambda: (
        forecasting.RNNForecaster(2, 4, 2).forward,
        dict(X=torch.from_numpy(_windows()[0]).float()),
    ),
    "forecasting.fit_forecaster": lambda: (
        forecasting.fit_forecaster,
        dict(
            model=forecasting.RNNForecaster(2, 4, 2),
            X=_windows()[0],
            Y=_windows()[1],
            epochs=1,
            batch_size=8,
            lr=1e-2,
            lr_schedule="cosine",
            clip=1.0,
            seed=0,
            valid=_windows(),
            restore_best=True,
            progress=False,
        ),
    ),
    "forecasting.predict": lambda: (
        forecasting.predict,
        dict(model=forecasting.RNNForecaster(2, 4, 2), X=_windows()[0]),
    ),
    "forecasting.mae": lambda: (
        forecasting.mae,
        dict(y_true=np.ones((2, 5)), y_pred=np.zeros((2, 5)), axis=1),
    ),
    "forecasting.rmse": lambda: (
        forecasting.rmse,
        dict(y_true=np.ones((2, 5)), y_pred=np.zeros((2, 5)), axis=1),
    ),
    # gradcheck
    "gradcheck.numerical_gradient": _gradcheck_call,
    "gradcheck.relative_error": lambda: (
        gradcheck.relative_error,
        dict(a=np.ones(3), b=np.ones(3) * 1.01, floor=1e-8),
    ),
    "gradcheck.grad_check_params": _grad_check_params_call,
    # gradient_flow
    "gradient_flow.activation_derivative": lambda: (
        gradient_flow.activation_derivative,
        dict(A=_A(), activation="tanh"),
    ),
    "gradient_flow.forward_preactivations": lambda: (
        gradient_flow.forward_preactivations,
        dict(
            x=_forward_pre()[0],
            W_xh=_np_params()["W_xh"],
            W_hh=_np_params()["W_hh"],
            b_h=_np_params()["b_h"],
            h0=np.zeros((2, 4)),
            activation="tanh",
        ),
    ),
    "gradient_flow.step_jacobians": lambda: (
        gradient_flow.step_jacobians,
        dict(W_hh=_W(), A=_A(), activation="tanh"),
    ),
    "gradient_flow.jacobian_chain": lambda: (
        gradient_flow.jacobian_chain,
        dict(W_hh=_W(), A=_A(), activation="relu"),
    ),
    "gradient_flow.jacobian_chain_norms": lambda: (
        gradient_flow.jacobian_chain_norms,
        dict(W_hh=_W(), A=_A(), activation="tanh", norm="fro"),
    ),
    "gradient_flow.per_step_bound": lambda: (
        gradient_flow.per_step_bound,
        dict(W_hh=_W(), activation="tanh"),
    ),
    "gradient_flow.spectral_radius": lambda: (
        gradient_flow.spectral_radius,
        dict(W=_W()),
    ),
    "gradient_flow.scale_to_spectral_radius": lambda: (
        gradient_flow.scale_to_spectral_radius,
        dict(W=_W(), rho=0.9),
    ),
    "gradient_flow.chain_norms_for_radii": lambda: (
        gradient_flow.chain_norms_for_radii,
        dict(
            x=_forward_pre()[0],
            W_xh=_np_params()["W_xh"],
            W_hh=_W(),
            b_h=_np_params()["b_h"],
            radii=[0.5, 1.5],
            activation="tanh",
            h0=np.zeros((2, 4)),
            norm="spectral",
        ),
    ),
    "gradient_flow.geometric_rate": lambda: (
        gradient_flow.geometric_rate,
        dict(norms=np.array([1.0, 0.5, 0.25]), lags=np.array([1.0, 2.0, 3.0])),
    ),
    # lm_eval, lm_train
    "lm_eval.window_perplexity": lambda: (
        lm_eval.window_perplexity,
        dict(
            model=_rnnlm(),
            X=_torch_ids(3, 4, 5),
            Y=_torch_ids(3, 4, 5, 1),
            batch_size=2,
        ),
    ),
    "lm_eval.evaluate_perplexity": lambda: (
        lm_eval.evaluate_perplexity,
        dict(model=_rnnlm(), ids=_ids(20), batch_size=2, num_steps=3),
    ),
    "lm_train.train_lm": lambda: (
        lm_train.train_lm,
        dict(
            model=_rnnlm(),
            train_ids=_ids(60),
            valid_ids=_ids(20),
            batch_size=2,
            num_steps=3,
            lr=0.1,
            optimizer="sgd",
            clip=1.0,
            weight_decay=0.0,
            epochs=None,
            steps=2,
            time_budget_s=None,
            partition="sequential",
            seed=0,
            eval_every=1,
            progress=False,
            lr_schedule="cosine",
        ),
    ),
    # losses
    "losses.perplexity": lambda: (losses.perplexity, dict(mean_nll=1.0)),
    "losses.softmax_cross_entropy": lambda: (
        losses.softmax_cross_entropy,
        dict(
            O=_rng().standard_normal((3, 2, 4)),
            Y=np.array([[0, 1], [2, 3], [1, 1]]),
            mask=np.array([[1, 1], [1, 0], [0, 0]], dtype=bool),
        ),
    ),
    "losses.binary_cross_entropy": lambda: (
        losses.binary_cross_entropy,
        dict(
            z=_rng().standard_normal((3, 2)),
            y=np.array([[0, 1], [1, 1], [0, 0]]),
            mask=np.array([[1, 1], [1, 0], [0, 0]], dtype=bool),
        ),
    ),
    "losses.sequence_mask": lambda: (
        losses.sequence_mask,
        dict(lengths=torch.tensor([3, 1]), T=4),
    ),
    "losses.masked_cross_entropy": lambda: (
        losses.masked_cross_entropy,
        dict(
            logits=torch.randn(4, 2, 5, generator=torch.Generator().manual_seed(0)),
            targets=_torch_ids(4, 2, 5),
            mask=losses.sequence_mask(torch.tensor([4, 2]), 4),
        ),
    ),
    # markers
    "markers.marker_batch": lambda: (
        markers.marker_batch,
        dict(text=_ids(40), vocab_size=5, lag=3, batch_size=2, n_markers=3, seed=0),
    ),
    "markers.MarkerRNN": lambda: (
        markers.MarkerRNN,
        dict(vocab_size=5, n_markers=3, hidden_size=4, cell="gru", seed=0),
    ),
    "markers.MarkerRNN.forward": lambda: (
        markers.MarkerRNN(5, 3, 4, cell="lstm").forward,
        dict(X=_torch_ids(4, 2, 8)),
    ),
    "markers.WindowMLP": lambda: (
        markers.WindowMLP,
        dict(vocab_size=5, n_markers=3, window=2, hidden_size=4, seed=0),
    ),
    "markers.WindowMLP.forward": lambda: (
        markers.WindowMLP(5, 3, 2, 4).forward,
        dict(X=_torch_ids(4, 2, 8)),
    ),
    "markers.train_marker_model": lambda: (
        markers.train_marker_model,
        dict(
            model=markers.MarkerRNN(5, 3, 4),
            text=_ids(40),
            vocab_size=5,
            lag=3,
            updates=2,
            batch_size=2,
            n_markers=3,
            lr=0.01,
            clip=1.0,
            seed=0,
            progress=False,
        ),
    ),
    "markers.marker_accuracy": lambda: (
        markers.marker_accuracy,
        dict(
            model=markers.WindowMLP(5, 3, 2, 4),
            text=_ids(40),
            vocab_size=5,
            lag=3,
            n_sequences=5,
            n_markers=3,
            seed=0,
        ),
    ),
    # markov
    "markov.NGramLM": lambda: (
        markov.NGramLM,
        dict(order=1, vocab_size=4, alpha=1.0, smoothing="kneser-ney", discount=0.5),
    ),
    "markov.NGramLM.fit": lambda: (
        markov.NGramLM(1, 4).fit,
        dict(ids=np.array([0, 1, 2, 3, 1])),
    ),
    "markov.NGramLM.prob": lambda: (_ngram().prob, dict(context=[1], token=2)),
    "markov.NGramLM.next_distribution": lambda: (
        _ngram().next_distribution,
        dict(context=[1]),
    ),
    "markov.NGramLM.log_likelihood": lambda: (
        _ngram().log_likelihood,
        dict(ids=np.array([1, 2, 3])),
    ),
    "markov.NGramLM.perplexity": lambda: (
        _ngram().perplexity,
        dict(ids=np.array([1, 2, 3])),
    ),
    "markov.possible_contexts": lambda: (
        markov.possible_contexts,
        dict(order=2, vocab_size=5),
    ),
    "markov.perplexity_table": lambda: (
        markov.perplexity_table,
        dict(
            train_ids=_ids(30, 4),
            valid_ids=_ids(10, 4),
            orders=[0, 1],
            vocab_size=4,
        ),
    ),
    # plots
    "plots.plot_zipf": lambda: (
        plots.plot_zipf,
        dict(freq_lists=[[5, 3, 1]], labels=["words"], ax=None),
    ),
    "plots.draw_unrolled_rnn": lambda: (
        plots.draw_unrolled_rnn,
        dict(T=3, ax=None, backward=True),
    ),
    "plots.draw_io_styles": lambda: (plots.draw_io_styles, dict(axes=None)),
    # presets
    "presets.char_lm_preset": lambda: (presets.char_lm_preset, dict(name="fast")),
    # rnn_numpy
    "rnn_numpy.one_hot": lambda: (
        rnn_numpy.one_hot,
        dict(ids=np.array([[0, 4], [2, 1]]), V=5, dtype=np.float64),
    ),
    "rnn_numpy.init_params": lambda: (
        rnn_numpy.init_params,
        dict(d=3, h=4, V=5, seed=0, scale=0.01, dtype=np.float64),
    ),
    "rnn_numpy.param_count": lambda: (rnn_numpy.param_count, dict(d=3, h=4, V=5)),
    "rnn_numpy.param_shapes": lambda: (
        rnn_numpy.param_shapes,
        dict(params=_np_params()),
    ),
    "rnn_numpy.rnn_step_forward": lambda: (
        rnn_numpy.rnn_step_forward,
        dict(
            x_t=_rng().standard_normal((2, 3)),
            h_prev=np.zeros((2, 4)),
            W_xh=_np_params()["W_xh"],
            W_hh=_np_params()["W_hh"],
            b_h=_np_params()["b_h"],
            activation="tanh",
        ),
    ),
    "rnn_numpy.rnn_forward": lambda: (
        rnn_numpy.rnn_forward,
        dict(
            x=_forward_pre()[0],
            h0=np.zeros((2, 4)),
            W_xh=_np_params()["W_xh"],
            W_hh=_np_params()["W_hh"],
            b_h=_np_params()["b_h"],
            activation="relu",
        ),
    ),
    "rnn_numpy.output_forward": lambda: (
        rnn_numpy.output_forward,
        dict(
            H=_rng().standard_normal((3, 2, 4)),
            W_ho=_np_params()["W_ho"],
            b_o=_np_params()["b_o"],
        ),
    ),
    "rnn_numpy.output_backward": lambda: (
        rnn_numpy.output_backward,
        dict(
            dO=np.ones((3, 2, 5)),
            cache=rnn_numpy.output_forward(
                np.ones((3, 2, 4)), _np_params()["W_ho"], _np_params()["b_o"]
            )[1],
        ),
    ),
    "rnn_numpy.rnn_step_backward": lambda: (
        rnn_numpy.rnn_step_backward,
        dict(dh_t=np.ones((2, 4)), cache=_step_cache()),
    ),
    "rnn_numpy.rnn_backward": lambda: (
        rnn_numpy.rnn_backward,
        dict(dH=np.ones((3, 2, 4)), cache=_seq_cache()[1], return_per_step=True),
    ),
    "rnn_numpy.rnn_forward_ids": lambda: (
        rnn_numpy.rnn_forward_ids,
        dict(
            ids=np.array([[0, 1], [2, 0], [1, 1]]),
            h0=np.zeros((2, 4)),
            W_xh=_np_params()["W_xh"],
            W_hh=_np_params()["W_hh"],
            b_h=_np_params()["b_h"],
            activation="tanh",
        ),
    ),
    "rnn_numpy.rnn_backward_ids": lambda: (
        rnn_numpy.rnn_backward_ids,
        dict(
            dH=np.ones((3, 2, 4)),
            cache=rnn_numpy.rnn_forward_ids(
                np.array([[0, 1], [2, 0], [1, 1]]),
                np.zeros((2, 4)),
                *(_np_params()[k] for k in ("W_xh", "W_hh", "b_h")),
            )[1],
        ),
    ),
    "rnn_numpy.lm_loss_and_grads": lambda: (
        rnn_numpy.lm_loss_and_grads,
        dict(
            params=_np_params(5, 4, 5),
            X_ids=np.array([[0, 1], [2, 3], [4, 0]]),
            Y_ids=np.array([[1, 2], [3, 4], [0, 1]]),
            h0=np.zeros((2, 4)),
            activation="tanh",
            mask=np.array([[1, 1], [1, 1], [1, 0]], dtype=bool),
        ),
    ),
    # rnn_torch
    "rnn_torch.RNNScratch": lambda: (
        rnn_torch.RNNScratch,
        dict(
            input_size=3, hidden_size=4, activation="tanh", seed=0, dtype=torch.float64
        ),
    ),
    "rnn_torch.RNNScratch.step": lambda: (
        rnn_torch.RNNScratch(3, 4).step,
        dict(x_t=torch.randn(2, 3), h_prev=torch.zeros(2, 4)),
    ),
    "rnn_torch.RNNScratch.forward": lambda: (
        rnn_torch.RNNScratch(3, 4).forward,
        dict(X=torch.randn(3, 2, 3), h0=torch.zeros(2, 4)),
    ),
    "rnn_torch.RNNLM": lambda: (
        rnn_torch.RNNLM,
        dict(
            vocab_size=5,
            hidden_size=4,
            embed_size=3,
            cell="scratch",
            activation="tanh",
            dropout=0.1,
            seed=0,
            dtype=torch.float32,
        ),
    ),
    "rnn_torch.RNNLM.begin_state": lambda: (
        _rnnlm().begin_state,
        dict(batch_size=2),
    ),
    "rnn_torch.RNNLM.inputs": lambda: (_rnnlm().inputs, dict(X=_torch_ids(3, 2, 5))),
    "rnn_torch.RNNLM.forward": lambda: (
        _rnnlm().forward,
        dict(X=_torch_ids(3, 2, 5), state=torch.zeros(2, 4)),
    ),
    "rnn_torch.as_id_tensor": lambda: (
        rnn_torch.as_id_tensor,
        dict(X=_torch_ids(3, 2, 5), vocab_size=5, name="X"),
    ),
    "rnn_torch.count_parameters": lambda: (
        rnn_torch.count_parameters,
        dict(model=_rnnlm()),
    ),
    "rnn_torch.stacked_rnn_param_count": lambda: (
        rnn_torch.stacked_rnn_param_count,
        dict(d=3, h=4, num_layers=2, bidirectional=True, bias_hh=False),
    ),
    "rnn_torch.numpy_params": lambda: (
        rnn_torch.numpy_params,
        dict(model=rnn_torch.RNNScratch(3, 4), out=nn.Linear(4, 5)),
    ),
    "rnn_torch.load_numpy_params": lambda: (
        rnn_torch.load_numpy_params,
        dict(
            model=rnn_torch.RNNScratch(3, 4), params=_np_params(), out=nn.Linear(4, 5)
        ),
    ),
    # sampling, seeding
    "sampling.sample": lambda: (
        sampling.sample,
        dict(
            model=markov.NGramLM(1, 4).fit(np.array([2, 3, 2, 2])),
            vocab=vocab.Vocab(list("abab"), reserved=(vocab.PAD, vocab.UNK)),
            prompt="ab",
            length=3,
            temperature=0.5,
            seed=0,
            level="char",
        ),
    ),
    "seeding.numpy_rng": lambda: (seeding.numpy_rng, dict(seed=3)),
    "seeding.torch_generator": lambda: (seeding.torch_generator, dict(seed=3)),
    "seeding.seeded_torch": lambda: (seeding.seeded_torch, dict(seed=3)),
    # seq2seq
    "seq2seq.Encoder": lambda: (
        seq2seq.Encoder,
        dict(vocab_size=6, embed_size=3, hidden_size=4, pad_id=0, cell="gru"),
    ),
    "seq2seq.Encoder.forward": lambda: (
        seq2seq.Encoder(6, 3, 4).forward,
        dict(src=_torch_ids(5, 2, 6), src_lengths=torch.tensor([5, 3])),
    ),
    "seq2seq.Decoder": lambda: (
        seq2seq.Decoder,
        dict(
            vocab_size=6,
            embed_size=3,
            hidden_size=4,
            feed_context=True,
            pad_id=0,
            cell="rnn",
        ),
    ),
    "seq2seq.Decoder.forward": lambda: (
        seq2seq.Decoder(6, 3, 4).forward,
        dict(tgt_in=_torch_ids(4, 2, 6), c=torch.zeros(2, 4)),
    ),
    "seq2seq.Decoder.step": lambda: (
        seq2seq.Decoder(6, 3, 4).step,
        dict(y_prev=torch.tensor([1, 2]), s=torch.zeros(2, 4), c=torch.zeros(2, 4)),
    ),
    "seq2seq.Seq2Seq": lambda: (
        seq2seq.Seq2Seq,
        dict(
            src_vocab_size=6,
            tgt_vocab_size=7,
            embed_size=3,
            hidden_size=4,
            feed_context=False,
            cell="gru",
            bos_id=2,
            eos_id=3,
            pad_id=0,
            seed=0,
        ),
    ),
    "seq2seq.Seq2Seq.forward": lambda: (
        seq2seq.Seq2Seq(6, 7, embed_size=3, hidden_size=4).forward,
        dict(
            src=_torch_ids(5, 2, 6),
            src_lengths=torch.tensor([5, 3]),
            tgt_in=_torch_ids(4, 2, 7),
            teacher_forcing_ratio=0.5,
            seed=0,
        ),
    ),
    "seq2seq.Seq2Seq.greedy_decode": lambda: (
        seq2seq.Seq2Seq(6, 7, embed_size=3, hidden_size=4).greedy_decode,
        dict(src=_torch_ids(5, 2, 6), src_lengths=torch.tensor([5, 3]), max_len=4),
    ),
    "seq2seq.train_seq2seq": lambda: (
        seq2seq.train_seq2seq,
        dict(
            model=_seq2seq(),
            data=_date_data()[0],
            steps=2,
            batch_size=2,
            lr=3e-3,
            lr_schedule="cosine",
            teacher_forcing_ratio=0.5,
            masked=True,
            clip=1.0,
            seed=0,
            progress=False,
        ),
    ),
    "seq2seq.exact_match_accuracy": lambda: (
        seq2seq.exact_match_accuracy,
        dict(pred=_torch_ids(4, 3, 5), target=_torch_ids(4, 3, 5, 1), eos_id=3),
    ),
    "seq2seq.greedy_accuracy": lambda: (
        seq2seq.greedy_accuracy,
        dict(model=_seq2seq(), data=_date_data()[0], max_len=4),
    ),
    # shapes
    "shapes.describe_shape": lambda: (
        shapes.describe_shape,
        dict(expected=(None, 3), dims=("B", "d")),
    ),
    "shapes.check_array": lambda: (
        shapes.check_array,
        dict(name="the_arg", arr=np.ones(2)),
    ),
    "shapes.check_float_array": lambda: (
        shapes.check_float_array,
        dict(name="the_arg", arr=np.ones(2)),
    ),
    "shapes.check_int_array": lambda: (
        shapes.check_int_array,
        dict(name="the_arg", arr=np.arange(2)),
    ),
    "shapes.check_ndim_shape": lambda: (
        shapes.check_ndim_shape,
        dict(
            name="the_arg", arr=np.ones((3, 2)), expected=(None, 2), hint="h", dims=None
        ),
    ),
    "shapes.check_finite": lambda: (
        shapes.check_finite,
        dict(name="the_arg", arr=np.ones(2)),
    ),
    "shapes.check_positive_int": lambda: (
        shapes.check_positive_int,
        dict(name="the_arg", v=3),
    ),
    "shapes.check_positive_float": lambda: (
        shapes.check_positive_float,
        dict(name="the_arg", v=0.5),
    ),
    "shapes.check_choice": lambda: (
        shapes.check_choice,
        dict(name="the_arg", value="a", choices=("a", "b")),
    ),
    "shapes.check_tensor": lambda: (
        shapes.check_tensor,
        dict(
            name="the_arg",
            x=torch.ones(3, 2),
            expected=(None, 2),
            dims=None,
            integer=False,
        ),
    ),
    "shapes.check_seed": lambda: (shapes.check_seed, dict(name="the_arg", seed=3)),
    "shapes.check_nonnegative_int": lambda: (
        shapes.check_nonnegative_int,
        dict(name="the_arg", v=3),
    ),
    "shapes.check_ids_in_range": lambda: (
        shapes.check_ids_in_range,
        dict(name="the_arg", ids=np.array([0, 4]), V=5, hint=None),
    ),
    "shapes.check_finite_number": lambda: (
        shapes.check_finite_number,
        dict(name="the_arg", v=0.5),
    ),
    "shapes.check_nonnegative_float": lambda: (
        shapes.check_nonnegative_float,
        dict(name="the_arg", v=0.5),
    ),
    "shapes.check_number_in": lambda: (
        shapes.check_number_in,
        dict(name="the_arg", v=0.5, low=0.0, high=1.0, low_open=True, high_open=False),
    ),
    "shapes.check_bool": lambda: (shapes.check_bool, dict(name="the_arg", v=True)),
    "shapes.check_nonempty": lambda: (
        shapes.check_nonempty,
        dict(name="the_arg", x=np.ones((2, 3)), dims=("B", "d")),
    ),
    "shapes.check_same_batch": lambda: (
        shapes.check_same_batch,
        dict(
            name_a="the_arg",
            a=np.ones((3, 2)),
            name_b="other",
            b=np.ones((4, 2)),
            axis_a=1,
            axis_b=1,
        ),
    ),
    "shapes.check_float_dtype": lambda: (
        shapes.check_float_dtype,
        dict(name="the_arg", dtype=np.float32),
    ),
    "shapes.as_float_array": lambda: (
        shapes.as_float_array,
        dict(name="the_arg", x=[1.0, 2.0]),
    ),
    # textstats, training
    "textstats.ngram_counts": lambda: (
        textstats.ngram_counts,
        dict(tokens=list("abcab"), n=2),
    ),
    "textstats.zipf_slope": lambda: (
        textstats.zipf_slope,
        dict(freqs=[9, 5, 3, 2, 1], ranks=(1, 4)),
    ),
    "training.lr_factor": lambda: (
        training.lr_factor,
        dict(lr_schedule="cosine", fraction=0.5),
    ),
    "training.progress_bar": lambda: (
        training.progress_bar,
        dict(progress=False, total=10, desc="x", unit="step"),
    ),
    "training.new_history": lambda: (
        training.new_history,
        {"extra_keys": ("valid_ppl",)},
    ),
    "training.record": lambda: (
        training.record,
        {
            "history": training.new_history(),
            "values": dict(step=1, elapsed_s=0.5, train_loss=2.0),
        },
    ),
    "training.check_finite_loss": lambda: (
        training.check_finite_loss,
        dict(loss=1.5, step=3),
    ),
    "training.check_clip": lambda: (training.check_clip, dict(clip=1.0)),
    # vocab
    "vocab.tokenize": lambda: (vocab.tokenize, dict(text="To be", level="word")),
    "vocab.Vocab": lambda: (
        vocab.Vocab,
        dict(tokens=list("abcab"), min_freq=1, reserved=(vocab.PAD, vocab.UNK)),
    ),
    "vocab.Vocab.token_freqs": lambda: (_vocab().token_freqs, {}),
    "vocab.Vocab.encode": lambda: (
        _vocab().encode,
        dict(tokens=["a", "b"], strict=False),
    ),
    "vocab.Vocab.decode": lambda: (_vocab().decode, dict(ids=[2, 3])),
    "vocab.Vocab.to_text": lambda: (_vocab().to_text, dict(ids=[2, 3], sep="")),
}

if importlib.util.find_spec("rnnkit.markers") is not None:  # chapter 5's marker task
    from rnnkit import markers

    def _marker_text() -> np.ndarray:
        return (np.arange(60) * 3) % 7

    def _marker_X() -> torch.Tensor:
        return markers.marker_batch(_marker_text(), 7, 3, 4)[0]

    EXAMPLES.update(
        {
            "markers.marker_batch": lambda: (
                markers.marker_batch,
                dict(
                    text=_marker_text(),
                    vocab_size=7,
                    lag=3,
                    batch_size=4,
                    n_markers=4,
                    seed=0,
                ),
            ),
            "markers.MarkerRNN": lambda: (
                markers.MarkerRNN,
                dict(vocab_size=7, n_markers=4, hidden_size=4, cell="gru", seed=0),
            ),
            "markers.MarkerRNN.forward": lambda: (
                markers.MarkerRNN(7, 4, 4).forward,
                dict(X=_marker_X()),
            ),
            "markers.WindowMLP": lambda: (
                markers.WindowMLP,
                dict(vocab_size=7, n_markers=4, window=3, hidden_size=4, seed=0),
            ),
            "markers.WindowMLP.forward": lambda: (
                markers.WindowMLP(7, 4, 3, 4).forward,
                dict(X=_marker_X()),
            ),
            "markers.train_marker_model": lambda: (
                markers.train_marker_model,
                dict(
                    model=markers.MarkerRNN(7, 4, 4),
                    text=_marker_text(),
                    vocab_size=7,
                    lag=3,
                    updates=2,
                    batch_size=4,
                    n_markers=4,
                    lr=3e-3,
                    clip=1.0,
                    seed=0,
                    progress=False,
                ),
            ),
            "markers.marker_accuracy": lambda: (
                markers.marker_accuracy,
                dict(
                    model=markers.MarkerRNN(7, 4, 4),
                    text=_marker_text(),
                    vocab_size=7,
                    lag=3,
                    n_sequences=8,
                    n_markers=4,
                    seed=1000,
                ),
            ),
        }
    )
if importlib.util.find_spec("rnnkit.baselines") is not None:  # chapter 9's baselines
    from rnnkit import baselines

    def _linear_ar():
        return baselines.LinearAR().fit(*_windows())

    EXAMPLES.update(
        {
            "baselines.climatology_forecast": lambda: (
                baselines.climatology_forecast,
                dict(
                    train_values=np.arange(10.0),
                    train_day_of_year=np.arange(1, 11) % 5 + 1,
                    day_of_year=np.array([[1, 2], [3, 4]]),
                    half_width=1,
                ),
            ),
            "baselines.LinearAR": lambda: (baselines.LinearAR, {}),
            "baselines.LinearAR.fit": lambda: (
                baselines.LinearAR().fit,
                dict(X=_windows()[0], Y=_windows()[1]),
            ),
            "baselines.LinearAR.predict": lambda: (
                _linear_ar().predict,
                dict(X=_windows()[0]),
            ),
            "baselines.recursive_forecast": lambda: (
                baselines.recursive_forecast,
                dict(
                    one_step=lambda X: X[-1:, :, 0],
                    X=forecasting.make_windows(_series()[:, :1].copy(), 4, 1)[0],
                    horizon=3,
                    known=None,
                    target_col=0,
                ),
            ),
        }
    )
if hasattr(date_task, "split_days"):  # the split by calendar day
    EXAMPLES["date_task.split_days"] = lambda: (
        date_task.split_days,
        dict(seed=0, test_fraction=0.1),
    )


# -- calling ------------------------------------------------------------------------
def call(func: Callable, args: dict):
    """Call ``func`` with ``args`` by parameter name and run what it returns.

    A context manager is entered and left, an iterator advanced once, so a check
    that only runs lazily still counts.
    """
    pos, kw = [], {}
    for p in inspect.signature(func).parameters.values():
        if p.name not in args:
            continue
        if p.kind is p.VAR_POSITIONAL:
            pos.extend(args[p.name])
        elif p.kind is p.VAR_KEYWORD:
            kw.update(args[p.name])
        elif p.kind is p.POSITIONAL_ONLY:
            pos.append(args[p.name])
        else:
            kw[p.name] = args[p.name]
    try:
        with np.errstate(all="ignore"):  # NaN through a model's maths is allowed
            out = func(*pos, **kw)
        if isinstance(out, contextlib.AbstractContextManager) and not isinstance(
            out, os.PathLike
        ):
            with out:
                pass
        elif hasattr(out, "__next__"):
            next(out, None)
        return out
    finally:
        import matplotlib.pyplot as plt

        plt.close("all")


# -- bad arguments ------------------------------------------------------------------
_NAN, _INF = math.nan, math.inf


def _axis(data, arr) -> int:
    return data.draw(st.integers(0, max(arr.ndim - 1, 0)), label="axis")


def _index(data, arr) -> tuple[int, ...]:
    return tuple(data.draw(st.integers(0, n - 1), label="index") for n in arr.shape)


def _put(arr, data, value):
    out = arr.clone() if isinstance(arr, torch.Tensor) else arr.copy()
    out[_index(data, arr)] = value
    return out


def _empty(arr, data):
    ax = _axis(data, arr)
    sl = tuple(slice(0, 0) if i == ax else slice(None) for i in range(arr.ndim))
    return arr[sl]


def _as_float_ids(arr):
    return arr.double() + 0.5 if isinstance(arr, torch.Tensor) else arr + 0.5


def bad_kinds(valid) -> dict[str, Callable]:
    """``{kind: make(data) -> bad value}`` for a parameter with this valid value."""
    kinds: dict[str, Callable] = {}
    if valid is not None:
        kinds["None"] = lambda data: None
    if not isinstance(valid, str):
        kinds["str"] = lambda data: data.draw(st.sampled_from(["oops", "3", ""]))
    if isinstance(valid, bool):
        return kinds
    if isinstance(valid, int):
        kinds["negative"] = lambda data: data.draw(st.integers(-(10**6), -1))
        kinds["float"] = lambda data: data.draw(
            st.floats(0.1, 99.9).filter(lambda f: not f.is_integer())
        )
        kinds["nan"] = lambda data: _NAN
        if valid > 0:
            kinds["zero"] = lambda data: 0
    elif isinstance(valid, float):
        kinds["nan"] = lambda data: _NAN
        kinds["inf"] = lambda data: data.draw(st.sampled_from([_INF, -_INF]))
        kinds["negative"] = lambda data: data.draw(st.floats(-1e6, -1e-3))
        if valid > 0:
            kinds["zero"] = lambda data: 0.0
    elif isinstance(valid, str):
        kinds["unknown"] = lambda data: data.draw(
            st.sampled_from(["no-such-option", "", "*"]).filter(lambda s: s != valid)
        )
    elif isinstance(valid, (np.ndarray, torch.Tensor)) and valid.ndim >= 1:
        floating = (
            valid.is_floating_point()
            if isinstance(valid, torch.Tensor)
            else np.issubdtype(valid.dtype, np.floating)
        )
        integer = not floating and valid.dtype not in (torch.bool, np.bool_)
        kinds["ndim+1"] = lambda data: valid[None]
        kinds["ndim-1"] = lambda data: valid[0]
        if valid.shape[0] > 0:
            kinds["empty"] = lambda data: _empty(valid, data)
        size = valid.numel() if isinstance(valid, torch.Tensor) else valid.size
        if floating and size:
            kinds["nan"] = lambda data: _put(valid, data, _NAN)
            kinds["inf"] = lambda data: _put(
                valid, data, data.draw(st.sampled_from([_INF, -_INF]))
            )
        if integer:
            kinds["float-ids"] = lambda data: _as_float_ids(valid)
            kinds["out-of-range"] = lambda data: _put(
                valid,
                data,
                data.draw(st.one_of(st.integers(-50, -1), st.integers(1000, 10**6))),
            )
    elif isinstance(valid, (list, tuple)):
        kinds["empty"] = lambda data: type(valid)()
        if valid and all(isinstance(v, int) and not isinstance(v, bool) for v in valid):
            kinds["float-items"] = lambda data: [v + 0.5 for v in valid]
            kinds["negative-items"] = lambda data: [-1 - v for v in valid]
    elif isinstance(valid, dict):
        kinds["empty"] = lambda data: {}
    return kinds


# -- what is legitimately accepted --------------------------------------------------
#: Arguments not made wrong here: the label a check writes into its message, the
#: checks' own plumbing (expected shapes, axis names, choices), ``*args``/``**kw``.
SKIP = {
    ("shapes.*", "name"),
    ("shapes.*", "name_a"),
    ("shapes.*", "name_b"),
    ("shapes.*", "expected"),
    ("shapes.*", "dims"),
    ("shapes.*", "hint"),
    ("shapes.*", "choices"),
    ("shapes.*", "V"),
    ("shapes.*", "integer"),
    ("shapes.*", "low"),
    ("shapes.*", "high"),
    ("shapes.*", "low_open"),
    ("shapes.*", "high_open"),
    ("shapes.*", "axis_a"),
    ("shapes.*", "axis_b"),
    ("feedback.*", "name"),
    ("rnn_torch.as_id_tensor", "name"),
}

_NAN_IN_MODELS = (
    "models carry NaN and inf through the maths (chapter 5's exploding "
    "gradients); every trainer stops at the first non-finite loss"
)
#: (callable pattern, parameter pattern, kind) -> why that value is not wrong.
ACCEPTS: dict[tuple[str, str, str], str] = {
    **{
        (c, "*", k): _NAN_IN_MODELS
        for c in (
            "rnn_numpy.*",
            "rnn_torch.RNNScratch.*",
            "rnn_torch.RNNLM.forward",
            "seq2seq.Decoder.*",
            "forecasting.RNNForecaster.forward",
            "losses.softmax_cross_entropy",
            "losses.binary_cross_entropy",
            "losses.masked_cross_entropy",
            "gradient_flow.activation_derivative",
            "forecasting.Standardizer.inverse_transform",
        )
        for k in ("nan", "inf")
    },
    ("gradient_flow.*", "A", "inf"): "phi' has a limit at inf (A of a long run)",
    ("forecasting.split_series", "series", "nan"): "a split only slices rows",
    ("forecasting.split_series", "series", "inf"): "a split only slices rows",
    ("gradcheck.relative_error", "*", "nan"): "returns inf, so err > tol fails",
    ("gradcheck.relative_error", "*", "inf"): "returns inf, so err > tol fails",
    # zero is a valid value of these
    ("*", "seed", "zero"): "seed 0 is a seed",
    ("*", "order", "zero"): "order 0 is the unigram model",
    ("markov.NGramLM.prob", "token", "zero"): "id 0 is a token",
    ("seq2seq.*", "*_id", "zero"): "id 0 is a token",
    ("*", "teacher_forcing_ratio", "zero"): "0 = always the model's own tokens",
    ("rnn_torch.RNNLM", "dropout", "zero"): "no dropout",
    ("sampling.sample", "length", "zero"): "nothing to add",
    ("sampling.sample", "temperature", "zero"): "greedy decoding",
    ("losses.perplexity", "mean_nll", "zero"): "a perfect model",
    ("forecasting.*", "*col", "zero"): "column 0",
    ("forecasting.*", "axis", "*"): "numpy axes, -1 included",
    ("rnn_numpy.init_params", "scale", "zero"): "zero weights, documented",
    ("training.check_finite_loss", "step", "zero"): "before the first step",
    ("training.check_finite_loss", "loss", "*"): "any finite loss passes",
    ("training.lr_factor", "fraction", "*"): "clamped to [0, 1], documented",
    ("training.progress_bar", "total", "*"): "tqdm takes any total or None",
    ("shapes.check_nonnegative_int", "v", "zero"): "0 is >= 0",
    ("shapes.check_nonnegative_float", "v", "zero"): "0 is >= 0",
    ("shapes.check_number_in", "v", "zero"): "0 may lie in the interval",
    ("feedback.*", "*tol", "zero"): "exact comparison",
    ("feedback.check_close", "rel", "zero"): "exact comparison",
    ("batching.sequential_batches", "offset", "zero"): "offset 0",
    # arrays of any shape, or where an empty axis is meaningful
    ("rnn_numpy.one_hot", "ids", "*"): "ids of any shape; empty gives empty",
    ("baselines.climatology_forecast", "day_of_year", "ndim*"): "any shape",
    ("baselines.climatology_forecast", "half_width", "zero"): "0: that day alone",
    ("gradient_flow.activation_derivative", "A", "*"): "elementwise, any shape",
    ("forecasting.Standardizer.inverse_transform", "z", "*"): "any shape with col",
    ("forecasting.Standardizer.transform", "x", "empty"): "zero rows map to zero",
    ("gradcheck.numerical_gradient", "x", "*"): "any shape; f reads its own x",
    ("rnn_torch.*", "X", "empty"): "T = 0 ids give T = 0 inputs",
    ("shapes.*", "*", "ndim+1"): "the check is not about the shape",
    ("shapes.*", "*", "ndim-1"): "the check is not about the shape",
    ("shapes.*", "*", "empty"): "the check is not about emptiness",
    ("shapes.check_array", "arr", "*"): "any numpy array",
    ("shapes.check_float_array", "arr", "*"): "any float array",
    ("shapes.check_int_array", "arr", "*"): "any int array",
    ("shapes.check_ndim_shape", "arr", "*"): "shape only",
    ("shapes.check_tensor", "x", "*"): "shape and dtype only",
    ("shapes.check_finite", "arr", "*"): "finiteness only",
    ("seq2seq.exact_match_accuracy", "*", "out-of-range"): "compares ids, knows no V",
    ("batching.*", "ids", "out-of-range"): "no V known: a large id is an id",
    ("shapes.*", "*", "nan"): "the check is not about finiteness",
    ("shapes.*", "*", "inf"): "the check is not about finiteness",
    ("shapes.check_finite_number", "v", "*"): "any finite number",
    ("sampling.sample", "prompt", "unknown"): "an n-gram model starts from padding",
    ("vocab.Vocab.encode", "tokens", "str"): "a one-character str is one token",
    # empty containers and free text
    ("clipping.*", "grads", "empty"): "no gradient has norm 0",
    ("vocab.*", "*", "empty"): "an empty list of tokens or ids is fine",
    ("vocab.Vocab", "reserved", "empty"): "a bare vocabulary, documented",
    ("markov.NGramLM.*", "context", "empty"): "start padding, documented",
    ("feedback.check_close", "mistakes", "empty"): "no known mistakes",
    ("feedback.check_grads", "hints", "empty"): "no hints",
    ("training.new_history", "*", "*"): "any str keys",
    ("*", "text", "unknown"): "any text",
    ("corpus.strip_play_markdown", "markdown", "unknown"): "any text",
    ("training.progress_bar", "*", "unknown"): "any label",
    ("vocab.Vocab.to_text", "sep", "unknown"): "any separator",
    ("textstats.zipf_slope", "freqs", "float-items"): "relative frequencies",
    # None that means something
    ("*", "clip", "None"): "None = do not clip",
    ("lm_train.train_lm", "eval_every", "None"): "validate only at the end",
    ("*", "dtype", "None"): "numpy's default float64",
}

#: callable pattern -> an exception other than ValueError/TypeError that is its
#: documented answer (the message is checked all the same, except for feedback's
#: verdicts, which name the student's variable).
OTHER_ERRORS: dict[str, type[BaseException]] = {
    "feedback.*": AssertionError,
    "training.check_finite_loss": FloatingPointError,
    "vocab.Vocab.decode": IndexError,
    "vocab.Vocab.to_text": IndexError,
    "corpus.load_text": FileNotFoundError,
}

_SHAPE_KINDS = {"ndim+1", "ndim-1", "empty"}


def _match(table, qual: str, param: str = "", kind: str = ""):
    from fnmatch import fnmatchcase

    for key, value in (
        table.items() if isinstance(table, dict) else ((k, True) for k in table)
    ):
        key = key if isinstance(key, tuple) else (key,)
        parts = (qual, param, kind)[: len(key)]
        if all(fnmatchcase(p, k) for p, k in zip(parts, key)):
            return value
    return None


def mutable_params(qual: str, func: Callable, args: dict) -> list[str]:
    """The parameters made wrong: all but ``*args``, ``**kw`` and :data:`SKIP`."""
    params = inspect.signature(func).parameters
    return [
        name
        for name in args
        if params[name].kind
        not in (params[name].VAR_POSITIONAL, params[name].VAR_KEYWORD)
        and not _match(SKIP, qual, name)
    ]


def kinds_for(qual: str, func: Callable, param: str, valid) -> dict[str, Callable]:
    kinds = bad_kinds(valid)
    default = inspect.signature(func).parameters[param].default
    if default is None:
        kinds.pop("None", None)  # None is this parameter's own default
    return kinds


def check_outcome(qual, func, args, param, kind, bad) -> None:
    """Call with ``param`` made ``bad``; assert a clear error or a listed reason."""
    args = dict(args)
    args[param] = bad
    accepted = _match(ACCEPTS, qual, param, kind)
    other = _match(OTHER_ERRORS, qual)
    try:
        call(func, args)
    except (ValueError, TypeError) as err:
        if accepted:
            return  # refusing a value that could pass is fine too
        message = str(err)
    except Exception as err:  # noqa: BLE001 - the type is what is tested
        if other is not None and isinstance(err, other):
            if other is AssertionError:
                return
            message = str(err)
        else:
            raise AssertionError(
                f"{qual}({param}=<{kind}>) raised {type(err).__name__} from inside: "
                f"{err}; expected a ValueError or TypeError naming {param!r}"
            ) from err
    else:
        assert accepted, (
            f"{qual}({param}=<{kind}> {bad!r:.60}) was accepted silently; refuse it "
            "with a ValueError/TypeError naming the argument, or list why it is "
            "valid in ACCEPTS"
        )
        return
    expected = "the_arg" if qual.startswith("shapes.") else param
    names = {expected, "other"} if expected == "the_arg" else {expected}
    if kind in _SHAPE_KINDS:  # a shape mismatch may name the other argument
        names |= {
            n for n, v in args.items() if isinstance(v, (np.ndarray, torch.Tensor))
        }
    assert any(n in message for n in names), (
        f"{qual}({param}=<{kind}>) raised a message that does not name "
        f"{expected!r}: {message}"
    )


# -- the tests ----------------------------------------------------------------------
PUBLIC = public_callables()
#: slow examples (they read a corpus, draw a figure or train) get fewer draws
SLOW = {
    "datasets.char_corpus",
    "date_task.train_date_model",
    "date_task.make_date_task",
    "forecasting.seattle_weather",
    "forecasting.fit_forecaster",
    "lm_train.train_lm",
    "seq2seq.train_seq2seq",
    "plots.plot_zipf",
    "plots.draw_unrolled_rnn",
    "plots.draw_io_styles",
    "equations.implementations",
    "equations.chapter_equations",
    "corpus.load_play",
    "corpus.list_plays",
}


def test_every_public_callable_has_an_example():
    missing = [q for q in PUBLIC if q not in EXAMPLES]
    assert not missing, "".join(
        f"add an example for rnnkit.{q} to EXAMPLES in {Path(__file__).name}\n"
        for q in missing
    )
    stale = [q for q in EXAMPLES if q not in PUBLIC]
    assert not stale, f"EXAMPLES lists callables that are not public: {stale}"


@pytest.mark.parametrize("qual", sorted(q for q in PUBLIC if q in EXAMPLES))
def test_the_example_is_a_valid_call(qual):
    func, args = EXAMPLES[qual]()
    call(func, args)


@pytest.mark.parametrize(
    "qual",
    sorted(q for q in PUBLIC if q in EXAMPLES and mutable_params(q, *EXAMPLES[q]())),
)
def test_one_bad_argument_gets_a_clear_error(qual):
    n = 3 if qual in SLOW else 12

    @settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def run(data):
        func, args = EXAMPLES[qual]()
        param = data.draw(st.sampled_from(mutable_params(qual, func, args)), "param")
        kinds = kinds_for(qual, func, param, args[param])
        if not kinds:
            return
        kind = data.draw(st.sampled_from(sorted(kinds)), "kind")
        bad = kinds[kind](data)
        check_outcome(qual, func, args, param, kind, bad)

    run()
