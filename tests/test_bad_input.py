"""Issue 12, case by case: bad input gets a clear error, never a silent answer.

Each test makes one argument wrong the way a careless user would and asserts
the error's type *and* that its message names the argument and what was
expected. The property test (tests/test_api_property.py) walks the whole API;
these pin the cases the issue lists.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest
import torch
from torch import nn

from rnnkit import (
    batching,
    corpus,
    datasets,
    dates,
    feedback,
    forecasting,
    gradcheck,
    lm_train,
    losses,
    rnn_numpy,
    rnn_torch,
    seeding,
    seq2seq,
    training,
    vocab,
)

NAN, INF = math.nan, math.inf


# -- exercise checks and gradient checks never let NaN decide -------------------------
def test_check_array_refuses_nan_in_expected_instead_of_passing_any_answer():
    wrong = np.array([5.0, 1.0])
    with pytest.raises(ValueError, match=r"expected .* must be finite"):
        feedback.check_array("h_t", wrong, np.array([NAN, 1.0]))


@pytest.mark.parametrize("tol", ["atol", "rtol"])
@pytest.mark.parametrize("value", [NAN, INF, -1.0])
def test_check_array_refuses_a_broken_tolerance(tol, value):
    wrong, right = np.array([5.0, 1.0]), np.array([1.0, 1.0])
    with pytest.raises(ValueError, match=rf"{tol} must be a finite number"):
        feedback.check_array("h_t", wrong, right, **{tol: value})


def test_check_array_still_fails_a_wrong_answer():
    with pytest.raises(AssertionError, match="h_t is wrong"):
        feedback.check_array("h_t", np.array([5.0, 1.0]), np.array([1.0, 1.0]))


def test_check_grads_refuses_nan_in_expected():
    got = {"dW_hh": np.ones(2), "db_h": np.ones(2)}
    expected = {"dW_hh": np.array([NAN, 1.0]), "db_h": np.ones(2)}
    with pytest.raises(ValueError, match=r"expected \(the right answer for dW_hh\)"):
        feedback.check_grads(got, expected)


def test_check_close_refuses_a_nan_expected_and_rel():
    with pytest.raises(ValueError, match="expected must be a finite number"):
        feedback.check_close("ppl", 3.0, NAN)
    with pytest.raises(ValueError, match="rel must be a finite number"):
        feedback.check_close("ppl", 3.0, 2.0, rel=NAN)
    with pytest.raises(TypeError, match="expected must be a number; got str"):
        feedback.check_close("ppl", 3.0, "2")


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_relative_error_of_a_non_finite_gradient_is_inf_so_a_threshold_fails(bad):
    a = np.array([1.0, 2.0, 3.0])
    b = a.copy()
    b[1] = bad
    err = gradcheck.relative_error(a, b)
    assert err == INF
    assert err > 1e-4  # a NaN here would have compared False: "gradient fine"
    assert gradcheck.relative_error(b, a) == INF


def test_numerical_gradient_refuses_a_non_finite_x_or_f():
    x = np.array([1.0, NAN])
    with pytest.raises(ValueError, match="x must be finite"):
        gradcheck.numerical_gradient(lambda: float(x.sum()), x)
    y = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match="f must return a finite number"):
        gradcheck.numerical_gradient(lambda: NAN, y)


# -- one masked loss, the same rules in numpy and torch -------------------------------
def _loss_inputs(target=1, mask_value=1.0):
    T, B, V = 3, 2, 4
    logits = np.random.default_rng(0).standard_normal((T, B, V))
    Y = np.ones((T, B), dtype=np.int64)
    Y[0, 0] = target
    mask = np.ones((T, B))
    mask[2, 1] = mask_value
    return logits, Y, mask


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize(
    "target,mask_value,match",
    [
        (7, 1.0, r"must be token ids in \[0, V=4\); got min 1, max 7"),
        (-1, 1.0, r"must be token ids in \[0, V=4\); got min -1"),
        (1, 0.5, r"mask must hold bools or exact 0/1 values .*0\.5"),
        (1, 2.0, r"mask must hold bools or exact 0/1 values .*2"),
        (1, -1.0, r"mask must hold bools or exact 0/1 values .*-1"),
        (1, NAN, r"mask must hold bools or exact 0/1 values .*nan"),
    ],
)
def test_masked_loss_refuses_the_same_inputs_in_numpy_and_torch(
    backend, target, mask_value, match
):
    logits, Y, mask = _loss_inputs(target, mask_value)
    with pytest.raises(ValueError, match=match):
        if backend == "numpy":
            losses.softmax_cross_entropy(logits, Y, mask)
        else:
            losses.masked_cross_entropy(
                torch.from_numpy(logits), torch.from_numpy(Y), torch.from_numpy(mask)
            )


def test_seq2seq_has_no_private_masked_loss():
    source = inspect.getsource(seq2seq)  # the loss is rnnkit.losses', written once
    assert "log_softmax" not in source and "def masked" not in source


# -- seq2seq training ------------------------------------------------------------------
_PAIRS = [("1 Jan 2000", "2000-01-01"), ("2 Feb 2001", "2001-02-02")] * 4


def _date_data():
    src_v, tgt_v = dates.build_vocabs(_PAIRS)
    data = dates.encode_pairs(_PAIRS, src_v, tgt_v)
    model = seq2seq.Seq2Seq(len(src_v), len(tgt_v), embed_size=3, hidden_size=4)
    return model, data


@pytest.mark.parametrize("clip", [0, -1, NAN, INF])
def test_train_seq2seq_refuses_a_clip_that_is_not_a_positive_number(clip):
    model, data = _date_data()
    with pytest.raises(ValueError, match=r"clip must be a finite number > 0"):
        seq2seq.train_seq2seq(model, data, steps=1, clip=clip, progress=False)


def test_train_seq2seq_refuses_a_source_batch_that_differs_from_the_targets():
    model, data = _date_data()
    data["src"] = data["src"][:, :7]  # 7 sources beside 8 targets
    with pytest.raises(ValueError, match=r"data\['src'\] and .* B=7 .* B=8"):
        seq2seq.train_seq2seq(model, data, steps=1, progress=False)


def test_seq2seq_forward_refuses_a_source_batch_that_differs_from_tgt_in():
    model, data = _date_data()
    with pytest.raises(ValueError, match=r"src and tgt_in .* B=7 for src and B=8"):
        model(data["src"][:, :7], data["src_lengths"][:7], data["tgt_in"])


def test_train_seq2seq_refuses_a_model_that_is_not_a_seq2seq():
    _, data = _date_data()
    with pytest.raises(TypeError, match="model must be an rnnkit.seq2seq.Seq2Seq"):
        seq2seq.train_seq2seq(nn.Linear(2, 2), data, steps=1, progress=False)


# -- data ------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["*", "ham*", "[h]amlet", "../comedy/*"])
def test_load_play_reads_a_name_not_a_glob(name):
    with pytest.raises(ValueError, match=r"unknown play .*name must be one of"):
        corpus.load_play(name)


def test_char_corpus_validates_its_fields():
    v = vocab.Vocab(list("abcab"), reserved=(vocab.UNK,))  # 4 tokens
    ok = np.array([1, 2, 3])
    assert datasets.CharCorpus(v, ok, ok).vocab_size == 4
    with pytest.raises(ValueError, match=r"train_ids must be token ids in \[0, V=4\)"):
        datasets.CharCorpus(v, np.array([0, 9]), ok)
    with pytest.raises(TypeError, match=r"corpus ids must be integers \(valid_ids\)"):
        datasets.CharCorpus(v, ok, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"valid_ids must be corpus ids, 1-D"):
        datasets.CharCorpus(v, ok, ok[:, None])
    with pytest.raises(TypeError, match="vocab must be an rnnkit Vocab; got str"):
        datasets.CharCorpus("abc", ok, ok)


@pytest.mark.parametrize("dates_", [[1, 2, 3], np.array([1.5, 2.5]), [True, False]])
def test_day_of_year_features_refuses_numbers_read_as_timestamps(dates_):
    with pytest.raises(TypeError, match="dates must be dates or date strings"):
        forecasting.day_of_year_features(dates_)


def test_day_of_year_features_refuses_none_empty_and_unparsable():
    with pytest.raises(TypeError, match="dates must be a sequence of dates"):
        forecasting.day_of_year_features(None)
    with pytest.raises(ValueError, match="dates must hold at least one date"):
        forecasting.day_of_year_features([])
    with pytest.raises(ValueError, match="dates must be dates or date strings"):
        forecasting.day_of_year_features(["2012-01-01", "tomorrow-ish"])


@pytest.mark.parametrize("rows", [0, 1])
def test_standardizer_fit_refuses_too_few_rows_instead_of_storing_nan(rows):
    s = forecasting.Standardizer()
    with pytest.raises(ValueError, match=r"train must have at least 2 rows"):
        s.fit(np.ones((rows, 2)))
    assert s.mean_ is None


def test_random_batches_refuses_a_batch_larger_than_the_data_like_sequential():
    ids = np.arange(20) % 5  # 19 predictions: 6 windows of T=3
    for batches in (batching.random_batches, batching.sequential_batches):
        with pytest.raises(ValueError, match=r"batch_size=8 × num_steps=3 needs at"):
            batches(ids, 8, 3)  # at the call, not at the first next()


def test_random_batches_without_drop_last_still_yields_the_short_batch():
    ids = np.arange(20) % 5
    (X, Y), *rest = batching.random_batches(ids, 8, 3, drop_last=False)
    assert X.shape[0] == 3 and 1 <= X.shape[1] <= 6 and not rest


def test_pad_batch_refuses_fractional_ids_instead_of_truncating():
    with pytest.raises(TypeError, match=r"seqs\[1\] must hold int ids >= 0; found 1.5"):
        dates.pad_batch([[5, 6], [1.5, 2]])
    with pytest.raises(TypeError, match="pad_id must be an int; got float"):
        dates.pad_batch([[5, 6], [1]], pad_id=0.5)


def test_vocab_refuses_reserved_given_as_one_string():
    with pytest.raises(TypeError, match=r"reserved must be a list of tokens such as"):
        vocab.Vocab(list("abc"), reserved="<unk>")
    assert vocab.Vocab(list("abc"), reserved=("<unk>",)).idx_to_token[0] == "<unk>"


# -- shapes are checked before torch sees them -----------------------------------------
def test_rnn_scratch_step_refuses_a_one_dimensional_state():
    cell = rnn_torch.RNNScratch(3, 4)
    with pytest.raises(ValueError, match=r"h_prev must have shape \(B=2, h=4\); got"):
        cell.step(torch.randn(2, 3), torch.zeros(4))  # (h,) would broadcast


def test_rnn_scratch_step_names_a_wrong_input_size():
    cell = rnn_torch.RNNScratch(3, 4)
    with pytest.raises(
        ValueError, match=r"x_t must have shape \(B, d=3\); got \(2, 5\)"
    ):
        cell.step(torch.randn(2, 5), torch.zeros(2, 4))


def test_decoder_forward_and_step_check_shapes_before_torch():
    dec = seq2seq.Decoder(6, 3, 4)
    tgt_in = torch.tensor([[1, 2], [3, 4]])
    with pytest.raises(
        ValueError, match=r"c must have shape \(B=2, h=4\); got \(2, 5\)"
    ):
        dec(tgt_in, torch.zeros(2, 5))
    with pytest.raises(
        ValueError, match=r"y_prev must have shape \(B,\); got \(2, 2\)"
    ):
        dec.step(tgt_in, torch.zeros(2, 4), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"y_prev must be token ids in \[0, V=6\)"):
        dec.step(torch.tensor([1, 6]), torch.zeros(2, 4), torch.zeros(2, 4))


def test_rnnlm_inputs_checks_ids_before_torch():
    lm = rnn_torch.RNNLM(5, 4)
    with pytest.raises(TypeError, match="X must hold integer token ids"):
        lm.inputs(torch.zeros(3, 2))
    with pytest.raises(ValueError, match=r"X must be token ids in \[0, V=5\).*max 5"):
        lm.inputs(torch.tensor([[0, 5]]))
    with pytest.raises(ValueError, match=r"X must have shape \(T, B\); got \(3,\)"):
        lm.inputs(torch.tensor([0, 1, 2]))


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda: rnn_torch.RNNLM(5, 4)(torch.zeros(0, 2, dtype=torch.long)),
            r"X must hold at least one time step \(T >= 1\)",
        ),
        (
            lambda: rnn_torch.RNNLM(5, 4)(torch.zeros(3, 0, dtype=torch.long)),
            r"X is empty: it must hold at least one sequence \(B >= 1\)",
        ),
        (
            lambda: seq2seq.Decoder(6, 3, 4)(
                torch.zeros(0, 2, dtype=torch.long), torch.zeros(2, 4)
            ),
            r"tgt_in must have at least one entry along T",
        ),
        (
            lambda: seq2seq.exact_match_accuracy(
                torch.zeros(3, 0, dtype=torch.long), torch.zeros(3, 0, dtype=torch.long)
            ),
            r"pred must have at least one entry along B",
        ),
        (
            lambda: losses.sequence_mask(torch.zeros(0, dtype=torch.long), 3),
            r"lengths must have at least one entry along B",
        ),
        (
            lambda: forecasting.RNNForecaster(2)(torch.zeros(0, 3, 2)),
            r"X must have at least one entry along L",
        ),
        (
            lambda: rnn_numpy.output_forward(
                np.zeros((0, 2, 4)), np.ones((5, 4)), np.ones(5)
            ),
            r"H must have at least one entry along T",
        ),
    ],
)
def test_zero_time_steps_or_an_empty_batch_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_broken_cache_names_what_should_have_made_it():
    with pytest.raises(TypeError, match="cache must be the 6-tuple that rnn_step_fo"):
        rnn_numpy.rnn_step_backward(np.ones((2, 4)), (1, 2))
    with pytest.raises(TypeError, match="cache must be the 2-tuple that output_fo"):
        rnn_numpy.output_backward(np.ones((3, 2, 5)), None)
    with pytest.raises(TypeError, match="cache must be the dict that rnn_forward"):
        rnn_numpy.rnn_backward(np.ones((3, 2, 4)), {})


# -- seeds and numbers -----------------------------------------------------------------
@pytest.mark.parametrize("seed", ["1", 1.5, None, True, -1])
def test_a_seed_of_the_wrong_kind_is_named(seed):
    for make in (seeding.numpy_rng, seeding.torch_generator):
        with pytest.raises((TypeError, ValueError), match="seed must be "):
            make(seed)
    with pytest.raises((TypeError, ValueError), match="seed must be "):
        batching.sequential_batches(np.arange(30) % 5, 2, 3, seed=seed, offset=1)


@pytest.mark.parametrize(
    "call,match",
    [
        (
            lambda v: batching.train_valid_split(np.arange(10), v),
            "valid_fraction must be a number",
        ),
        (lambda v: training.lr_factor("cosine", v), "fraction must be a number"),
        (lambda v: training.check_finite_loss(v, 3), "loss must be a number"),
        (lambda v: training.check_finite_loss(1.0, v), "step must be an int"),
        (
            lambda v: feedback.check_array("h", np.ones(2), np.ones(2), atol=v),
            "atol must be a number",
        ),
        (
            lambda v: seq2seq.Seq2Seq(6, 7)(
                torch.ones(2, 1, dtype=torch.long),
                torch.tensor([2]),
                torch.ones(2, 1, dtype=torch.long),
                teacher_forcing_ratio=v,
            ),
            "teacher_forcing_ratio must be a number",
        ),
        (
            lambda v: rnn_torch.as_id_tensor(torch.zeros(2, 2, dtype=torch.long), v),
            "vocab_size must be a positive int",
        ),
        (lambda v: rnn_numpy.one_hot(np.array([0]), v), "V must be a positive int"),
    ],
)
@pytest.mark.parametrize("bad", [None, "0.5"])
def test_none_or_a_str_where_a_number_is_expected_is_named(call, match, bad):
    with pytest.raises(TypeError, match=match):
        call(bad)


def test_train_lm_refuses_an_infinite_budget_instead_of_hanging():
    lm = rnn_torch.RNNLM(5, 4)
    ids = np.arange(200) % 5
    with pytest.raises(ValueError, match=r"time_budget_s must be a finite number > 0"):
        lm_train.train_lm(lm, ids, ids, steps=None, time_budget_s=INF, progress=False)
    with pytest.raises(ValueError, match="give exactly one of epochs, steps"):
        lm_train.train_lm(lm, ids, ids, progress=False)


# -- every trainer stops at the first non-finite loss, naming the step -----------------
class _NaNLM(nn.Module):
    """A language model whose logits are NaN: the loss is NaN at the first step."""

    vocab_size = 5

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))

    def forward(self, X, state=None):
        T, B = X.shape
        return torch.full((T, B, 5), NAN) * self.w, torch.zeros(B, 1)


def test_train_lm_stops_at_the_first_non_finite_loss():
    ids = np.arange(200) % 5
    with pytest.raises(FloatingPointError, match="loss became nan at step 1"):
        lm_train.train_lm(
            _NaNLM(), ids, ids, steps=5, batch_size=2, num_steps=3, progress=False
        )


def test_train_seq2seq_stops_at_the_first_non_finite_loss():
    model, data = _date_data()
    with torch.no_grad():
        model.decoder.out.bias.fill_(NAN)
    with pytest.raises(FloatingPointError, match="loss became nan at step 1"):
        seq2seq.train_seq2seq(model, data, steps=3, batch_size=2, progress=False)


def test_fit_forecaster_stops_at_the_first_non_finite_loss():
    t = np.arange(40.0)
    X, Y = forecasting.make_windows(np.stack([np.sin(t), np.cos(t)], 1), 4, 1)
    model = forecasting.RNNForecaster(2, 4)
    with torch.no_grad():
        model.head.bias.fill_(INF)
    with pytest.raises(FloatingPointError, match="loss became inf at step 1"):
        forecasting.fit_forecaster(model, X, Y, epochs=2, progress=False)
