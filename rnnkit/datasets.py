"""Ready-made corpora the chapters share, so every chapter measures on the same split.

:func:`char_corpus` is the running example of the language-model chapters
(Markov models, the vanilla RNN, BPTT): one play as lower-case letters and
spaces, a character vocabulary, and a contiguous train/validation split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnkit.batching import as_ids, train_valid_split
from rnnkit.corpus import letters_only, load_play
from rnnkit.shapes import check_ids_in_range
from rnnkit.vocab import UNK, Vocab, tokenize

__all__ = ["CharCorpus", "char_corpus"]


@dataclass(frozen=True)
class CharCorpus:
    """A character-level corpus: vocabulary plus train and validation ids ``(N,)``."""

    vocab: Vocab
    train_ids: np.ndarray
    valid_ids: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.vocab, Vocab):
            raise TypeError(
                f"vocab must be an rnnkit Vocab; got {type(self.vocab).__name__}"
            )
        for name in ("train_ids", "valid_ids"):
            ids = as_ids(getattr(self, name), name)
            check_ids_in_range(name, ids, len(self.vocab))

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)


def char_corpus(play: str = "hamlet", *, valid_fraction: float = 0.1) -> CharCorpus:
    """Letters-and-spaces text of ``play`` as ids, last ``valid_fraction`` held out.

    The vocabulary is ``<unk>`` plus the 27 symbols (26 letters and space): 28
    tokens, the same alphabet as Dive into Deep Learning's character models.
    """
    chars = tokenize(letters_only(load_play(play)), "char")
    vocab = Vocab(chars, reserved=(UNK,))
    ids = np.asarray(vocab.encode(chars), dtype=np.int64)
    train_ids, valid_ids = train_valid_split(ids, valid_fraction)
    return CharCorpus(vocab, train_ids, valid_ids)
