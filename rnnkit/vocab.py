"""Tokens and vocabularies: text → tokens → integer ids, and back.

A :class:`Vocab` maps each distinct token to an id. Ids are assigned in a fixed,
documented order so that two runs give the same numbers:

1. the reserved tokens, in the order given (by default ``<pad>`` = 0,
   ``<unk>`` = 1, ``<bos>`` = 2, ``<eos>`` = 3);
2. the corpus tokens by decreasing frequency, ties broken alphabetically.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np

from .shapes import check_bool, check_positive_int

__all__ = ["PAD", "UNK", "BOS", "EOS", "RESERVED", "tokenize", "Vocab"]

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<bos>", "<eos>"
RESERVED: tuple[str, ...] = (PAD, UNK, BOS, EOS)

_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*|[0-9]+|[^\sA-Za-z0-9]")


def tokenize(text: str, level: Literal["char", "word"] = "char") -> list[str]:
    """Split ``text`` into character or word tokens.

    ``"char"`` keeps every character (spaces and newlines included), so
    ``"".join(tokens) == text``. ``"word"`` lower-cases and keeps words
    (with inner apostrophes, ``"'tis"`` → ``"tis"``, ``"o'er"`` → ``"o'er"``),
    numbers and single punctuation marks; white space is dropped.

    >>> tokenize("To be!", "word")
    ['to', 'be', '!']

    Implements chapter 1, equation ``text-pipeline``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    if level == "char":
        return list(text)
    if level == "word":
        return _WORD.findall(text.lower())
    raise ValueError(f"level must be 'char' or 'word'; got {level!r}")


class Vocab:
    """Bidirectional token ↔ id map with reserved tokens.

    Parameters
    ----------
    tokens:
        The corpus tokens (any iterable of ``str``; a list of lists is flattened).
    min_freq:
        Tokens seen fewer times are left out (they encode as ``<unk>``).
    reserved:
        Special tokens placed first, in this order. Pass ``()`` for a bare
        vocabulary (then unknown tokens raise instead of mapping to ``<unk>``).
    """

    def __init__(
        self,
        tokens: Iterable[str] | Iterable[Sequence[str]] = (),
        *,
        min_freq: int = 1,
        reserved: Sequence[str] = RESERVED,
    ) -> None:
        if isinstance(tokens, str):
            raise TypeError(
                "tokens must be a list of tokens, not one str; "
                "call tokenize(text) first"
            )
        if tokens is None:
            raise TypeError(
                "tokens must be a list of tokens (or lists of tokens); got None"
            )
        min_freq = check_positive_int("min_freq", min_freq)
        if isinstance(reserved, str):
            raise TypeError(
                f"reserved must be a list of tokens such as ({reserved!r},), not one "
                "str (it would be split into characters)"
            )
        if reserved is None or not all(isinstance(t, str) for t in reserved):
            raise TypeError(f"reserved must be a list of str tokens; got {reserved!r}")
        if len(set(reserved)) != len(reserved):
            raise ValueError(f"reserved tokens must be distinct; got {list(reserved)}")
        flat: list[str] = []
        for tok in tokens:
            if isinstance(tok, str):
                flat.append(tok)
            elif isinstance(tok, Sequence):
                flat.extend(tok)
            else:
                raise TypeError(
                    f"tokens must be str (or lists of str); got {type(tok).__name__}"
                )
        for tok in flat:
            if not isinstance(tok, str):
                raise TypeError(f"every token must be a str; got {type(tok).__name__}")
        self.counts: Counter[str] = Counter(flat)
        ranked = sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        self.idx_to_token: list[str] = list(reserved) + [
            tok for tok, n in ranked if n >= min_freq and tok not in reserved
        ]
        self.token_to_idx: dict[str, int] = {
            t: i for i, t in enumerate(self.idx_to_token)
        }
        self.reserved: tuple[str, ...] = tuple(reserved)

    # -- size and lookup -------------------------------------------------
    def __len__(self) -> int:
        return len(self.idx_to_token)

    def __contains__(self, token: object) -> bool:
        return token in self.token_to_idx

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.idx_to_token[:8])
        return (
            f"Vocab(size={len(self)}, first=[{head}{', ...' if len(self) > 8 else ''}])"
        )

    @property
    def unk(self) -> int | None:
        """Id of ``<unk>``, or ``None`` when the vocabulary has no ``<unk>``."""
        return self.token_to_idx.get(UNK)

    @property
    def pad(self) -> int | None:
        """Id of ``<pad>``, or ``None`` when absent."""
        return self.token_to_idx.get(PAD)

    def token_freqs(self) -> list[tuple[str, int]]:
        """Corpus tokens with their counts, most frequent first (ties alphabetical)."""
        return sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))

    # -- encode / decode -------------------------------------------------
    def encode(self, tokens: Iterable[str], *, strict: bool = False) -> list[int]:
        """Ids of ``tokens``.

        An unknown token maps to ``<unk>``; with ``strict=True``, or when the
        vocabulary has no ``<unk>``, it raises ``KeyError`` naming the token.

        Implements chapter 1, equation ``text-pipeline``.
        """
        if isinstance(tokens, str) and len(tokens) != 1:
            raise TypeError("encode takes a list of tokens; call tokenize(text) first")
        if tokens is None:
            raise TypeError("tokens must be a list of tokens; got None")
        strict = check_bool("strict", strict)
        ids: list[int] = []
        unk = None if strict else self.unk
        for pos, tok in enumerate(tokens):
            idx = self.token_to_idx.get(tok)
            if idx is None:
                if unk is None:
                    raise KeyError(
                        f"unknown token {tok!r} at position {pos}; it is not in this "
                        f"vocabulary of {len(self)} tokens"
                        + ("" if strict else " and there is no <unk> to map it to")
                    )
                idx = unk
            ids.append(idx)
        return ids

    def decode(self, ids: Iterable[int] | np.ndarray) -> list[str]:
        """Tokens of ``ids``; ``IndexError`` for an id outside ``[0, len(vocab))``."""
        if ids is None or isinstance(ids, str):
            raise TypeError(f"ids must be a list or array of int ids; got {ids!r}")
        out: list[str] = []
        for pos, i in enumerate(
            np.asarray(ids).reshape(-1).tolist() if isinstance(ids, np.ndarray) else ids
        ):
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise TypeError(
                    f"ids must be integers; got {type(i).__name__} at position {pos}"
                )
            if not 0 <= i < len(self):
                raise IndexError(
                    f"ids must be ids of this vocabulary: id {i} at position {pos} "
                    f"is outside [0, {len(self)})"
                )
            out.append(self.idx_to_token[i])
        return out

    def to_text(self, ids: Iterable[int] | np.ndarray, sep: str = "") -> str:
        """``decode`` then join: ``sep=""`` for characters, ``" "`` for words."""
        if not isinstance(sep, str):
            raise TypeError(f"sep must be a str; got {type(sep).__name__}")
        return sep.join(self.decode(ids))
