"""The date task of chapters 6–8: one train/test split, one trained model.

Chapters 6, 7 and 8 all learn to rewrite dates (:mod:`rnnkit.dates`). They
split the data the same way, here and only here:

* :func:`split_days`: the calendar days 1900–2099, shuffled by ``seed`` and cut
  in two: ``test_fraction`` of them are *test days*, the rest training days;
* :func:`split_date_pairs`: training pairs on training days only, test pairs on
  test days only, so no test day occurs in training in any spelling, in any
  locale (a source string is not enough: ``"23.06.1987"`` and ``"23 June
  1987"`` are the same day). ``test_locales``/``test_formats`` write the test
  days in spellings that training never used (a held-out locale or format);
* :func:`make_date_task`: that split with its vocabularies (built from the
  training pairs) and its tensors, ready for :func:`rnnkit.seq2seq.train_seq2seq`;
* :func:`train_date_model`: the task with a trained :class:`rnnkit.seq2seq.Seq2Seq`
  and its held-out exact-match accuracy (chapter 6).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from .dates import FORMATS, LOCALES, _pairs_on, build_vocabs, encode_pairs
from .seeding import numpy_rng
from .seq2seq import Seq2Seq, _check_data, greedy_accuracy, train_seq2seq
from .shapes import (
    check_bool,
    check_finite_number,
    check_positive_int,
    check_seed,
)
from .vocab import Vocab

__all__ = [
    "FIRST_DAY",
    "LAST_DAY",
    "DateTask",
    "split_days",
    "split_date_pairs",
    "make_date_task",
    "train_date_model",
]

Pair = tuple[str, str]


#: The first and last day of the task (as in :func:`rnnkit.dates.make_date_pairs`).
FIRST_DAY, LAST_DAY = _dt.date(1900, 1, 1), _dt.date(2099, 12, 31)


def _check_fraction(test_fraction: object) -> float:
    f = check_finite_number("test_fraction", test_fraction)
    if not 0.0 < f < 1.0:
        raise ValueError(f"test_fraction must lie strictly between 0 and 1; got {f}")
    return f


def split_days(
    *, seed: int = 0, test_fraction: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """``(train_days, test_days)``: the calendar days of the task, cut in two.

    All days from :data:`FIRST_DAY` to :data:`LAST_DAY` (as proleptic Gregorian
    ordinals, :meth:`datetime.date.toordinal`) are shuffled by ``seed``; the
    first ``round(test_fraction * n_days)`` are the test days. Both arrays are
    sorted and together hold every day exactly once.

    >>> train_days, test_days = split_days(seed=0, test_fraction=0.1)
    >>> len(train_days) + len(test_days), len(test_days)
    (73049, 7305)
    """
    seed = check_seed("seed", seed)
    f = _check_fraction(test_fraction)
    days = np.arange(FIRST_DAY.toordinal(), LAST_DAY.toordinal() + 1)
    days = numpy_rng(seed).permutation(days)
    n_test = round(f * len(days))
    return np.sort(days[n_test:]), np.sort(days[:n_test])


def _check_names(name: str, names: object) -> tuple[str, ...]:
    if isinstance(names, str) or not isinstance(names, Sequence) or not names:
        raise ValueError(f"{name} must be a non-empty sequence of names; got {names!r}")
    for x in names:
        if not isinstance(x, str):
            raise TypeError(f"{name} must hold str names; found {x!r}")
    return tuple(names)


def split_date_pairs(
    n_train: int,
    n_test: int,
    *,
    seed: int = 0,
    locales: Sequence[str] = LOCALES,
    formats: Sequence[str] = FORMATS,
    reverse: bool = False,
    test_fraction: float = 0.1,
    test_locales: Sequence[str] | None = None,
    test_formats: Sequence[str] | None = None,
) -> tuple[list[Pair], list[Pair]]:
    """``(train_pairs, test_pairs)`` of ``(source, target)`` strings, split by day.

    The days are cut by :func:`split_days` (``seed``, ``test_fraction``).
    ``n_train`` training pairs draw their days from the training days, with
    replacement, and a locale and format each from ``locales`` and
    ``formats`` (random stream ``seed``); ``n_test`` test pairs take distinct
    test days (stream ``seed + 1``), written in ``test_locales`` and
    ``test_formats`` (default: the training ones). No test day occurs in
    training, in any spelling. ``reverse=True`` swaps each pair: the ISO date
    becomes the source, the written date the target (chapter 8).

    >>> train, test = split_date_pairs(50, 20, locales=("en_GB",),
    ...                                formats=("dd.MM.y",))
    >>> len(train), len(test), not {t for _, t in train} & {t for _, t in test}
    (50, 20, True)
    """
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    seed = check_seed("seed", seed)
    reverse = check_bool("reverse", reverse)
    locales = _check_names("locales", locales)
    formats = _check_names("formats", formats)
    test_locales = locales if test_locales is None else test_locales
    test_locales = _check_names("test_locales", test_locales)
    test_formats = formats if test_formats is None else test_formats
    test_formats = _check_names("test_formats", test_formats)
    train_days, test_days = split_days(seed=seed, test_fraction=test_fraction)
    if n_test > len(test_days):
        raise ValueError(
            f"n_test must be at most the {len(test_days)} test days "
            f"(test_fraction={test_fraction}); got {n_test}"
        )
    rng = numpy_rng(seed)
    train_pairs = _pairs_on(rng.choice(train_days, size=n_train), rng, locales, formats)
    rng = numpy_rng(seed + 1)
    test_pairs = _pairs_on(
        rng.choice(test_days, size=n_test, replace=False),
        rng,
        test_locales,
        test_formats,
    )
    if reverse:
        train_pairs = [(t, w) for w, t in train_pairs]
        test_pairs = [(t, w) for w, t in test_pairs]
    return train_pairs, test_pairs


@dataclass
class DateTask:
    """A split of the date task with its vocabularies and tensors.

    ``train`` and ``test`` are the dicts of :func:`rnnkit.dates.encode_pairs`
    (``src`` ``(S, B)``, ``src_lengths``, ``tgt_in`` ``(T, B)``, ``tgt_out``,
    ``tgt_lengths``); both vocabularies come from the training pairs.
    """

    train_pairs: list[Pair]
    test_pairs: list[Pair]
    src_vocab: Vocab
    tgt_vocab: Vocab
    train: dict[str, torch.Tensor]
    test: dict[str, torch.Tensor]

    def __post_init__(self) -> None:
        for name in ("train_pairs", "test_pairs"):
            pairs = getattr(self, name)
            if not isinstance(pairs, list) or not pairs:
                raise ValueError(
                    f"{name} must be a non-empty list of (source, target) pairs; "
                    f"got {pairs!r:.60}"
                )
        for name in ("src_vocab", "tgt_vocab"):
            if not isinstance(getattr(self, name), Vocab):
                raise TypeError(
                    f"{name} must be an rnnkit Vocab; "
                    f"got {type(getattr(self, name)).__name__}"
                )
        for name in ("train", "test"):
            _check_data(getattr(self, name), name)


def make_date_task(
    n_train: int,
    n_test: int,
    *,
    seed: int = 0,
    locales: Sequence[str] = LOCALES,
    formats: Sequence[str] = FORMATS,
    reverse: bool = False,
    test_fraction: float = 0.1,
    test_locales: Sequence[str] | None = None,
    test_formats: Sequence[str] | None = None,
) -> DateTask:
    """:func:`split_date_pairs` (same arguments), its vocabularies and tensors.

    Characters of the test pairs that training never used are ``<unk>``.
    """
    train_pairs, test_pairs = split_date_pairs(
        n_train,
        n_test,
        seed=seed,
        locales=locales,
        formats=formats,
        reverse=reverse,
        test_fraction=test_fraction,
        test_locales=test_locales,
        test_formats=test_formats,
    )
    src_vocab, tgt_vocab = build_vocabs(train_pairs)
    return DateTask(
        train_pairs,
        test_pairs,
        src_vocab,
        tgt_vocab,
        encode_pairs(train_pairs, src_vocab, tgt_vocab),
        encode_pairs(test_pairs, src_vocab, tgt_vocab),
    )


def train_date_model(
    *,
    seed: int = 0,
    n_train: int = 20000,
    n_test: int = 500,
    steps: int = 600,
    batch_size: int = 256,
    lr: float = 5e-3,
    embed_size: int = 32,
    hidden_size: int = 128,
    cell: str = "rnn",
    teacher_forcing_ratio: float = 1.0,
    feed_context: bool = True,
    progress: bool = True,
) -> dict:
    """Make the full date task (all locales and formats) and train a model on it.

    The split is :func:`make_date_task` with ``seed`` (test days never seen
    in training); the :class:`Seq2Seq` (recurrent ``cell`` ``"rnn"``, the tanh
    cell of chapter 6, or ``"gru"``) is initialised and trained with the same
    ``seed`` by :func:`rnnkit.seq2seq.train_seq2seq` (cosine schedule, clip 1.0).

    Returns a dict with ``model``, ``src_vocab``, ``tgt_vocab``,
    ``train_pairs``, ``test_pairs``, ``train``, ``test`` (tensor dicts),
    ``history`` (of ``train_seq2seq``) and ``test_accuracy`` (greedy
    exact-match accuracy on the test pairs).
    """
    task = make_date_task(n_train, n_test, seed=seed)
    model = Seq2Seq(
        len(task.src_vocab),
        len(task.tgt_vocab),
        embed_size=embed_size,
        hidden_size=hidden_size,
        cell=cell,
        feed_context=feed_context,
        seed=seed,
    )
    history = train_seq2seq(
        model,
        task.train,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        teacher_forcing_ratio=teacher_forcing_ratio,
        seed=seed,
        progress=progress,
    )
    return {
        "model": model,
        "src_vocab": task.src_vocab,
        "tgt_vocab": task.tgt_vocab,
        "train_pairs": task.train_pairs,
        "test_pairs": task.test_pairs,
        "train": task.train,
        "test": task.test,
        "history": history,
        "test_accuracy": greedy_accuracy(model, task.test),
    }
