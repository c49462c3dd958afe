"""Tests for rnnkit.dates: the Babel/CLDR date pairs and their padded tensors."""

import datetime as dt

import pytest
import torch

from rnnkit.dates import build_vocabs, encode_pairs, make_date_pairs, pad_batch

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
