"""The date task of chapters 6–8: one train/test split, one trained model.

Chapters 6, 7 and 8 all learn to rewrite dates (:mod:`rnnkit.dates`). They
split the data the same way, here and only here:

* :func:`split_date_pairs`: training pairs from ``seed``, test pairs from
  ``seed + 1``, minus every test pair whose *source* string occurs in training,
  so no test source was seen in training;
* :func:`make_date_task`: that split with its vocabularies (built from the
  training pairs) and its tensors, ready for :func:`rnnkit.seq2seq.train_seq2seq`;
* :func:`train_date_model`: the task with a trained :class:`rnnkit.seq2seq.Seq2Seq`
  and its held-out exact-match accuracy (chapter 6).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from .dates import FORMATS, LOCALES, build_vocabs, encode_pairs, make_date_pairs
from .seq2seq import Seq2Seq, _check_data, greedy_accuracy, train_seq2seq
from .shapes import check_bool, check_positive_int, check_seed
from .vocab import Vocab

__all__ = ["DateTask", "split_date_pairs", "make_date_task", "train_date_model"]

Pair = tuple[str, str]


def split_date_pairs(
    n_train: int,
    n_test: int,
    *,
    seed: int = 0,
    locales: Sequence[str] = LOCALES,
    formats: Sequence[str] = FORMATS,
    reverse: bool = False,
) -> tuple[list[Pair], list[Pair]]:
    """``(train_pairs, test_pairs)`` of ``(source, target)`` strings.

    ``n_train`` pairs from :func:`rnnkit.dates.make_date_pairs` with ``seed``
    and ``n_test`` with ``seed + 1`` (same ``locales`` and ``formats``); test
    pairs whose source occurs among the training sources are dropped, so the
    test set may hold fewer than ``n_test`` pairs. ``reverse=True`` swaps each
    pair first: the ISO date becomes the source, the written date the target
    (chapter 8).

    >>> train, test = split_date_pairs(50, 20, locales=("en_GB",),
    ...                                formats=("dd.MM.y",))
    >>> len(train), not {s for s, _ in train} & {s for s, _ in test}
    (50, True)
    """
    n_train = check_positive_int("n_train", n_train)
    n_test = check_positive_int("n_test", n_test)
    seed = check_seed("seed", seed)
    reverse = check_bool("reverse", reverse)
    kw = dict(locales=locales, formats=formats)

    def pairs(n: int, s: int) -> list[Pair]:
        ps = make_date_pairs(n, seed=s, **kw)
        return [(t, w) for w, t in ps] if reverse else ps

    train_pairs = pairs(n_train, seed)
    seen = {s for s, _ in train_pairs}
    test_pairs = [p for p in pairs(n_test, seed + 1) if p[0] not in seen]
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
) -> DateTask:
    """:func:`split_date_pairs` (same arguments), its vocabularies and tensors."""
    train_pairs, test_pairs = split_date_pairs(
        n_train, n_test, seed=seed, locales=locales, formats=formats, reverse=reverse
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
    hidden_size: int = 128,
    teacher_forcing_ratio: float = 1.0,
    feed_context: bool = True,
    progress: bool = True,
) -> dict:
    """Make the full date task (all locales and formats) and train a model on it.

    The split is :func:`make_date_task` with ``seed``; the :class:`Seq2Seq`
    (``embed_size`` 32) is initialised and trained with the same ``seed`` by
    :func:`rnnkit.seq2seq.train_seq2seq` (cosine schedule, clip 1.0).

    Returns a dict with ``model``, ``src_vocab``, ``tgt_vocab``,
    ``train_pairs``, ``test_pairs``, ``train``, ``test`` (tensor dicts),
    ``history`` (of ``train_seq2seq``) and ``test_accuracy`` (greedy
    exact-match accuracy on the test pairs).
    """
    task = make_date_task(n_train, n_test, seed=seed)
    model = Seq2Seq(
        len(task.src_vocab),
        len(task.tgt_vocab),
        hidden_size=hidden_size,
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
