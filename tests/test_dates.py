"""Tests for rnnkit.dates and rnnkit.date_task.

The Babel/CLDR date pairs, their padded tensors, and the one train/test split
of chapters 6-8.
"""

import datetime as dt

import numpy as np
import pytest
import torch
from babel.dates import format_date

from rnnkit.date_task import (
    DateTask,
    make_date_task,
    split_date_pairs,
    split_days,
    train_date_model,
)
from rnnkit.dates import (
    FORMATS,
    LOCALES,
    build_vocabs,
    encode_pairs,
    make_date_pairs,
    pad_batch,
)
from rnnkit.training import HISTORY_KEYS

DAY = dict(start=dt.date(1601, 3, 12), end=dt.date(1601, 3, 12))


@pytest.mark.parametrize(
    "locale, fmt, expected",
    [
        ("en_GB", "d MMMM y", "12 March 1601"),
        (
            "en_US",
            "full",
            "Monday, March 12, 1601",
        ),  # 12 March 1601 (Gregorian, proleptic) was a Monday
        ("de_DE", "long", "12. März 1601"),
        ("fr_FR", "long", "12 mars 1601"),
        ("en_GB", "dd.MM.y", "12.03.1601"),
    ],
)
def test_one_fixed_date_written_by_hand(locale, fmt, expected):
    assert make_date_pairs(1, seed=0, locales=(locale,), formats=(fmt,), **DAY) == [
        (expected, "1601-03-12")
    ]


def test_pairs_are_deterministic_per_seed_and_targets_are_iso():
    a, b, c = (
        make_date_pairs(50, seed=3),
        make_date_pairs(50, seed=3),
        make_date_pairs(50, seed=4),
    )
    assert a == b and a != c
    for src, tgt in a:
        d = dt.date.fromisoformat(tgt)
        assert dt.date(1900, 1, 1) <= d <= dt.date(2099, 12, 31)
        assert str(d.year) in src  # every format keeps the four-digit year


def test_make_date_pairs_takes_a_seed_or_a_generator():
    a = make_date_pairs(5, seed=7)
    assert make_date_pairs(5, seed=np.random.default_rng(7)) == a
    g = np.random.default_rng(7)  # a shared stream: the second call draws on
    assert make_date_pairs(5, seed=g) == a and make_date_pairs(5, seed=g) != a
    with pytest.raises(TypeError, match="seed must be an int"):
        make_date_pairs(5, seed=1.5)


def test_make_date_pairs_errors():
    with pytest.raises(ValueError, match="n must be"):
        make_date_pairs(0)
    with pytest.raises(ValueError, match="locales must be a non-empty sequence"):
        make_date_pairs(3, locales="en_US")
    with pytest.raises(ValueError, match="end must not be before start"):
        make_date_pairs(3, start=dt.date(2000, 1, 2), end=dt.date(2000, 1, 1))


def test_pad_batch_by_hand():
    ids, lengths = pad_batch([[5, 6, 7], [8], [9, 4]], pad_id=0)
    assert ids.shape == (3, 3)  # (T, B): time-major
    assert ids.T.tolist() == [[5, 6, 7], [8, 0, 0], [9, 4, 0]]
    assert lengths.tolist() == [3, 1, 2]
    with pytest.raises(ValueError, match="sequence 1 is empty"):
        pad_batch([[1], []])
    with pytest.raises(ValueError, match="at least one sequence"):
        pad_batch([])


def test_encode_pairs_shifts_target_with_bos_and_eos():
    pairs = [("12 mai 1601", "1601-05-12"), ("1.2.1999", "1999-02-01")]
    sv, tv = build_vocabs(pairs)
    assert sv.idx_to_token[:4] == ["<pad>", "<unk>", "<bos>", "<eos>"]
    d = encode_pairs(pairs, sv, tv)
    assert d["src"].shape == (12, 2) and d["src_lengths"].tolist() == [
        12,
        9,
    ]  # 11 and 8 chars + <eos>
    assert (
        sv.to_text(d["src"][:11, 0].tolist()) == "12 mai 1601" and d["src"][11, 0] == 3
    )
    assert d["src"][9:, 1].tolist() == [0, 0, 0]  # padded with <pad> = 0
    assert d["tgt_in"][0].tolist() == [2, 2]  # <bos>
    assert tv.to_text(d["tgt_in"][1:, 0].tolist()) == "1601-05-12"
    assert tv.to_text(d["tgt_out"][:10, 0].tolist()) == "1601-05-12" and d["tgt_out"][
        10
    ].tolist() == [3, 3]
    assert torch.equal(d["tgt_in"][1:], d["tgt_out"][:-1])  # the shift by one step
    assert d["tgt_lengths"].tolist() == [11, 11]


def test_encode_pairs_needs_the_reserved_tokens():
    from rnnkit.vocab import Vocab

    sv, tv = build_vocabs([("1.2.1999", "1999-02-01")])
    with pytest.raises(
        ValueError, match=r"tgt_vocab must contain .*missing \['<bos>', '<eos>'\]"
    ):
        encode_pairs(
            [("1.2.1999", "1999-02-01")],
            sv,
            Vocab(list("1999-02-01"), reserved=("<pad>",)),
        )


# -- the date task: one split for chapters 6-8 ----------------------------------------
KW = dict(locales=("en_GB",), formats=("dd.MM.y",))
ALL_DAYS = (dt.date(1900, 1, 1).toordinal(), dt.date(2099, 12, 31).toordinal())


def spellings(day: dt.date, locales=LOCALES, formats=FORMATS) -> set[str]:
    return {format_date(day, format=f, locale=loc) for loc in locales for f in formats}


def test_split_days_cuts_every_day_once():
    train_days, test_days = split_days(seed=0, test_fraction=0.1)
    n_days = ALL_DAYS[1] - ALL_DAYS[0] + 1
    assert n_days == 73049  # 200 years, 49 of them leap years (2000 is one)
    assert len(test_days) == 7305 and len(train_days) == n_days - 7305
    assert not set(train_days.tolist()) & set(test_days.tolist())
    assert sorted(train_days.tolist() + test_days.tolist()) == list(
        range(ALL_DAYS[0], ALL_DAYS[1] + 1)
    )
    again, other = split_days(seed=0)[1], split_days(seed=1)[1]
    assert np.array_equal(again, test_days) and not np.array_equal(other, test_days)
    # a shuffle, not a block of consecutive days
    assert np.diff(test_days).max() > 1 and test_days[0] < ALL_DAYS[0] + 100


def test_split_is_disjoint_by_calendar_day_in_every_spelling():
    train, test = split_date_pairs(20000, 500, seed=0)
    assert len(train) == 20000 and len(test) == 500
    # each source spells its target's day (checked against Babel directly)
    for src, tgt in train[:300] + test:
        assert src in spellings(dt.date.fromisoformat(tgt))
    train_days = {dt.date.fromisoformat(t) for _, t in train}
    test_days = [dt.date.fromisoformat(t) for _, t in test]
    assert len(set(test_days)) == 500  # 500 distinct days
    assert not train_days & set(test_days)  # no test day is a training day ...
    train_sources = {s for s, _ in train}
    for day in test_days:  # ... in any locale or format
        assert not spellings(day) & train_sources
    # the test days are the held-out days of split_days, the training days the rest
    held_out = set(split_days(seed=0)[1].tolist())
    assert {d.toordinal() for d in test_days} <= held_out
    assert not {d.toordinal() for d in train_days} & held_out


def test_the_old_split_by_source_string_leaked_days():
    # what the split replaced: test sources unseen, yet many test days were seen
    train = make_date_pairs(20000, seed=0)
    seen_src, seen_day = {s for s, _ in train}, {t for _, t in train}
    test = [p for p in make_date_pairs(500, seed=1) if p[0] not in seen_src]
    leaked = sum(t in seen_day for _, t in test) / len(test)
    assert 0.15 < leaked < 0.35  # about 1 - exp(-20000/73049) = 24 %


def test_split_is_deterministic_and_the_test_set_does_not_depend_on_n_train():
    a = split_date_pairs(300, 40, seed=2, **KW)
    assert a == split_date_pairs(300, 40, seed=2, **KW)
    assert a != split_date_pairs(300, 40, seed=3, **KW)
    # chapter 6 and the benchmark share the held-out days whatever they train on
    assert split_date_pairs(5000, 40, seed=2, **KW)[1] == a[1]


def test_held_out_locale_writes_test_days_in_spellings_training_never_used():
    train, test = split_date_pairs(2000, 200, seed=0, test_locales=("nl_NL",))
    for src, tgt in test:
        day = dt.date.fromisoformat(tgt)
        assert src in spellings(day, locales=("nl_NL",))
    assert any("juni" in s or "mei" in s for s, _ in test)  # Dutch month names
    assert not {t for _, t in test} & {t for _, t in train}
    # the same days as the ordinary test set, only spelled otherwise
    _, plain = split_date_pairs(2000, 200, seed=0)
    assert [t for _, t in test] == [t for _, t in plain]
    _, fmt = split_date_pairs(2000, 50, seed=0, test_formats=("d/M/y",))
    assert all("/" in s for s, _ in fmt)


def test_split_reverse_swaps_source_and_target():
    kw = dict(locales=("en_GB",), formats=("d MMMM y",))
    train, test = split_date_pairs(3000, 400, seed=0, reverse=True, **kw)
    fwd_train, fwd_test = split_date_pairs(3000, 400, seed=0, **kw)
    assert train == [(iso, words) for words, iso in fwd_train]
    assert test == [(iso, words) for words, iso in fwd_test]
    assert dt.date.fromisoformat(train[0][0])  # the source is the ISO date
    assert not {s for s, _ in test} & {s for s, _ in train}


def test_split_errors():
    with pytest.raises(ValueError, match="n_test must be a positive int"):
        split_date_pairs(10, 0)
    with pytest.raises(TypeError, match="seed must be an int"):
        split_date_pairs(10, 5, seed=None)
    with pytest.raises(ValueError, match="n_test must be at most the 73 test days"):
        split_date_pairs(10, 74, test_fraction=0.001)
    for f in (0, 1.0, -0.5):
        with pytest.raises(ValueError, match="test_fraction must lie strictly"):
            split_date_pairs(10, 5, test_fraction=f)
    with pytest.raises(ValueError, match="test_locales must be a non-empty sequence"):
        split_date_pairs(10, 5, test_locales="nl_NL")


def test_make_date_task_holds_the_split_its_vocabularies_and_tensors():
    task = make_date_task(300, 50, seed=0, **KW)
    assert isinstance(task, DateTask)
    train, test = split_date_pairs(300, 50, seed=0, **KW)
    assert task.train_pairs == train and task.test_pairs == test
    sv, tv = build_vocabs(train)  # vocabularies from the training pairs only
    assert task.src_vocab.idx_to_token == sv.idx_to_token
    assert task.tgt_vocab.idx_to_token == tv.idx_to_token
    assert torch.equal(task.test["src"], encode_pairs(test, sv, tv)["src"])
    assert task.train["src"].shape[1] == 300
    assert task.test["tgt_out"].shape[1] == len(test)


def test_train_date_model_returns_the_task_the_model_and_its_history():
    opts = dict(steps=5, batch_size=16, hidden_size=8, progress=False)
    run = train_date_model(seed=0, n_train=200, n_test=40, **opts)
    task = make_date_task(200, 40, seed=0)
    assert run["train_pairs"] == task.train_pairs
    assert run["test_pairs"] == task.test_pairs
    assert list(run["history"]) == list(HISTORY_KEYS)
    assert run["history"]["step"] == [1, 2, 3, 4, 5]
    assert 0.0 <= run["test_accuracy"] <= 1.0
    assert run["model"].encoder.hidden_size == 8 and not run["model"].training
    assert run["model"].cell == "rnn"
    assert not {t for _, t in run["test_pairs"]} & {t for _, t in run["train_pairs"]}


def test_seq2seq_gru_cell_keeps_the_shapes_and_the_packing():
    from torch import nn

    from rnnkit.seq2seq import Seq2Seq

    pairs = [("23.06.1987", "1987-06-23"), ("1 June 2001", "2001-06-01")]
    sv, tv = build_vocabs(pairs)
    d = encode_pairs(pairs, sv, tv)
    m = Seq2Seq(len(sv), len(tv), embed_size=5, hidden_size=7, cell="gru", seed=0)
    assert isinstance(m.encoder.rnn, nn.GRU) and isinstance(m.decoder.rnn, nn.GRU)
    assert m(d["src"], d["src_lengths"], d["tgt_in"]).shape == (11, 2, len(tv))
    _, c = m.encoder(d["src"], d["src_lengths"])
    L = int(d["src_lengths"][0])  # the shorter source, alone: the same context
    _, c0 = m.encoder(d["src"][:L, :1], d["src_lengths"][:1])
    assert c.shape == (2, 7) and torch.allclose(c0[0], c[0], atol=1e-6)
    assert isinstance(Seq2Seq(len(sv), len(tv), seed=0).encoder.rnn, nn.RNN)
    with pytest.raises(ValueError, match="cell"):
        Seq2Seq(len(sv), len(tv), cell="lstm")
