"""A real sequence-to-sequence task: dates written out by people → ISO dates.

Each example is a pair of strings, for instance::

    "Monday, March 12, 1601"   →  "1601-03-12"
    "12. März 1601"            →  "1601-03-12"
    "12 mars 1601"             →  "1601-03-12"

The written-out side is produced by :func:`babel.dates.format_date` from the
Unicode CLDR locale data that Babel ships (CLDR data: Unicode licence; Babel:
BSD licence), so the month and weekday names, their abbreviations and the word
order are the ones real software prints. Nothing is downloaded.

Reading order: data (:func:`make_date_pairs`), vocabularies
(:func:`build_vocabs`), tensors (:func:`pad_batch`, :func:`encode_pairs`).
Everything returned is **time-major**: ids of shape ``(T, B)``. The train/test
split the chapters share is :func:`rnnkit.date_task.split_date_pairs`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence

import numpy as np
import torch
from babel.dates import format_date

from .seeding import numpy_rng
from .shapes import check_nonnegative_int, check_positive_int
from .vocab import BOS, EOS, PAD, Vocab, tokenize

__all__ = [
    "LOCALES",
    "FORMATS",
    "make_date_pairs",
    "build_vocabs",
    "pad_batch",
    "encode_pairs",
]

LOCALES: tuple[str, ...] = ("en_US", "en_GB", "de_DE", "fr_FR")
# CLDR widths plus one explicit pattern. "short" is left out on purpose: in
# en_US it prints a two-digit year ("3/12/01"), which no model could undo.
FORMATS: tuple[str, ...] = ("medium", "long", "full", "d MMMM y", "dd.MM.y")


def _date_range(start: _dt.date, end: _dt.date) -> tuple[int, int]:
    if not isinstance(start, _dt.date) or not isinstance(end, _dt.date):
        raise TypeError(
            "start and end must be datetime.date; got "
            f"{type(start).__name__}, {type(end).__name__}"
        )
    if end < start:
        raise ValueError(f"end must not be before start; got start={start}, end={end}")
    return start.toordinal(), end.toordinal()


def make_date_pairs(
    n: int,
    *,
    seed: int | np.random.Generator = 0,
    locales: Sequence[str] = LOCALES,
    formats: Sequence[str] = FORMATS,
    start: _dt.date = _dt.date(1900, 1, 1),
    end: _dt.date = _dt.date(2099, 12, 31),
) -> list[tuple[str, str]]:
    """``n`` pairs ``(written date, ISO date)``, the same for the same arguments.

    Each pair draws a day uniformly from ``[start, end]``, a locale from
    ``locales`` and a Babel/CLDR format from ``formats`` (a width such as
    ``"long"`` or a pattern such as ``"d MMMM y"``), all from
    :func:`rnnkit.seeding.numpy_rng` of ``seed`` (an int, or a generator).

    >>> make_date_pairs(1, seed=0, locales=("en_GB",), formats=("d MMMM y",),
    ...                 start=_dt.date(1601, 3, 12), end=_dt.date(1601, 3, 12))
    [('12 March 1601', '1601-03-12')]
    """
    n = check_positive_int("n", n)
    if isinstance(locales, str) or not locales:
        raise ValueError(
            f"locales must be a non-empty sequence of locale names; got {locales!r}"
        )
    if isinstance(formats, str) or not formats:
        raise ValueError(
            f"formats must be a non-empty sequence of formats; got {formats!r}"
        )
    lo, hi = _date_range(start, end)
    rng = numpy_rng(seed)
    days = rng.integers(lo, hi + 1, size=n)
    return _pairs_on(days, rng, locales, formats)


def _pairs_on(
    days: np.ndarray,
    rng: np.random.Generator,
    locales: Sequence[str],
    formats: Sequence[str],
) -> list[tuple[str, str]]:
    """Each day (an ordinal) written in a locale and format drawn from ``rng``."""
    loc_idx = rng.integers(0, len(locales), size=len(days))
    fmt_idx = rng.integers(0, len(formats), size=len(days))
    pairs = []
    for d, li, fi in zip(days.tolist(), loc_idx.tolist(), fmt_idx.tolist()):
        day = _dt.date.fromordinal(d)
        pairs.append(
            (format_date(day, format=formats[fi], locale=locales[li]), day.isoformat())
        )
    return pairs


def _check_pairs(pairs: object) -> None:
    """A non-empty sequence of ``(source, target)`` string pairs."""
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise TypeError(
            f"pairs must be a list of (source, target) string pairs; "
            f"got {type(pairs).__name__}"
        )
    if not pairs:
        raise ValueError("pairs must hold at least one (src, tgt) pair")
    for i, p in enumerate(pairs):
        if not (isinstance(p, (tuple, list)) and len(p) == 2) or not all(
            isinstance(x, str) for x in p
        ):
            raise TypeError(
                f"pairs must be (source, target) string pairs; pairs[{i}] is {p!r}"
            )


def build_vocabs(pairs: Sequence[tuple[str, str]]) -> tuple[Vocab, Vocab]:
    """Character vocabularies ``(src_vocab, tgt_vocab)`` of the pairs.

    Both have the reserved tokens ``<pad>`` = 0, ``<unk>`` = 1, ``<bos>`` = 2,
    ``<eos>`` = 3 first, then the characters by decreasing frequency.
    """
    _check_pairs(pairs)
    src = Vocab([tokenize(s, "char") for s, _ in pairs])
    tgt = Vocab([tokenize(t, "char") for _, t in pairs])
    return src, tgt


def pad_batch(
    seqs: Sequence[Sequence[int]], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack sequences of ids of different lengths into one time-major tensor.

    Returns ``(ids, lengths)``: ``ids`` of shape ``(T, B)`` with ``T`` the
    longest length, short sequences filled with ``pad_id`` at the end, and
    ``lengths`` of shape ``(B,)``.

    >>> pad_batch([[5, 6, 7], [8]], pad_id=0)[0].T.tolist()
    [[5, 6, 7], [8, 0, 0]]
    """
    if isinstance(seqs, (str, bytes)) or not isinstance(seqs, Sequence):
        raise TypeError(
            f"seqs must be a list of sequences of ids; got {type(seqs).__name__}"
        )
    if not seqs:
        raise ValueError("seqs must hold at least one sequence")
    pad_id = check_nonnegative_int("pad_id", pad_id)
    for b, s in enumerate(seqs):
        if isinstance(s, (str, bytes)) or not isinstance(s, (Sequence, np.ndarray)):
            raise TypeError(
                f"seqs[{b}] must be a sequence of int ids; got {type(s).__name__}"
            )
        for i in s:  # no silent truncation of 1.5 to 1
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0:
                raise TypeError(
                    f"seqs[{b}] must hold int ids >= 0; found {i!r} "
                    f"({type(i).__name__})"
                )
    lengths = [len(s) for s in seqs]
    if min(lengths) == 0:
        raise ValueError(
            "every sequence needs at least one id; "
            f"sequence {lengths.index(0)} is empty"
        )
    ids = torch.full((max(lengths), len(seqs)), pad_id, dtype=torch.long)
    for b, s in enumerate(seqs):
        ids[: len(s), b] = torch.as_tensor(list(s), dtype=torch.long)
    return ids, torch.tensor(lengths, dtype=torch.long)


def encode_pairs(
    pairs: Sequence[tuple[str, str]], src_vocab: Vocab, tgt_vocab: Vocab
) -> dict[str, torch.Tensor]:
    """Turn string pairs into the padded tensors a seq2seq model trains on.

    The source is the characters followed by ``<eos>``. The target is shifted
    for teacher forcing: ``tgt_in`` = ``<bos>`` + characters (what the decoder
    reads), ``tgt_out`` = characters + ``<eos>`` (what it must predict).

    Returns a dict of tensors, batch along axis 1 (axis 0 for lengths):
    ``src`` (S, B), ``src_lengths`` (B,), ``tgt_in`` (T, B), ``tgt_out`` (T, B),
    ``tgt_lengths`` (B,). Padding uses each vocabulary's ``<pad>`` id.
    """
    _check_pairs(pairs)
    for v, name in ((src_vocab, "src_vocab"), (tgt_vocab, "tgt_vocab")):
        if not isinstance(v, Vocab):
            raise TypeError(f"{name} must be an rnnkit Vocab; got {type(v).__name__}")
        missing = [t for t in (PAD, BOS, EOS) if t not in v]
        if missing:
            raise ValueError(
                f"{name} must contain {PAD}, {BOS} and {EOS}; missing {missing}"
            )
    s_eos = src_vocab.token_to_idx[EOS]
    t_bos, t_eos = tgt_vocab.token_to_idx[BOS], tgt_vocab.token_to_idx[EOS]
    src_ids = [src_vocab.encode(tokenize(s, "char")) + [s_eos] for s, _ in pairs]
    tgt_ids = [tgt_vocab.encode(tokenize(t, "char")) for _, t in pairs]
    src, src_lengths = pad_batch(src_ids, src_vocab.pad)
    tgt_in, tgt_lengths = pad_batch([[t_bos] + t for t in tgt_ids], tgt_vocab.pad)
    tgt_out, _ = pad_batch([t + [t_eos] for t in tgt_ids], tgt_vocab.pad)
    return {
        "src": src,
        "src_lengths": src_lengths,
        "tgt_in": tgt_in,
        "tgt_out": tgt_out,
        "tgt_lengths": tgt_lengths,
    }
