"""Tests for rnnkit.dates and rnnkit.date_task.

The Babel/CLDR date pairs, their padded tensors, and the one train/test split
of chapters 6-8.
"""

import datetime as dt

import numpy as np
import pytest
import torch

from rnnkit.date_task import (
    DateTask,
    make_date_task,
    split_date_pairs,
    train_date_model,
)
from rnnkit.dates import build_vocabs, encode_pairs, make_date_pairs, pad_batch
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
KW = dict(locales=("en_GB",), formats=("dd.MM.y",))  # few spellings: overlaps happen


def test_split_is_the_chapters_recipe():
    # training pairs from seed, test pairs from seed + 1 minus seen sources
    train, test = split_date_pairs(3000, 400, seed=2, **KW)
    assert train == make_date_pairs(3000, seed=2, **KW)
    seen = {s for s, _ in train}
    candidates = make_date_pairs(400, seed=3, **KW)
    assert test == [p for p in candidates if p[0] not in seen]
    assert 0 < len(test) < 400  # some test dates did occur in training, and left
    assert not {s for s, _ in test} & seen
    assert split_date_pairs(3000, 400, seed=2, **KW) == (train, test)


def test_split_reverse_swaps_source_and_target_before_holding_out():
    kw = dict(locales=("en_GB",), formats=("d MMMM y",))
    train, test = split_date_pairs(3000, 400, seed=0, reverse=True, **kw)
    fwd_train, _ = split_date_pairs(3000, 400, seed=0, **kw)
    assert train == [(iso, words) for words, iso in fwd_train]
    assert dt.date.fromisoformat(train[0][0])  # the source is the ISO date
    assert not {s for s, _ in test} & {s for s, _ in train}
    assert 0 < len(test) < 400


def test_split_errors():
    with pytest.raises(ValueError, match="n_test must be a positive int"):
        split_date_pairs(10, 0)
    with pytest.raises(TypeError, match="seed must be an int"):
        split_date_pairs(10, 5, seed=None)


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
