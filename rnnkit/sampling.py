"""Writing text with a language model: one sampling function for every model.

An autoregressive model is also a generator: read a prompt, draw the next token
from the model's distribution, append it, repeat. :func:`sample` does this for
both kinds of language model in the book:

* an n-gram model, :class:`rnnkit.markov.NGramLM` (chapter 2): the next token is
  drawn from ``model.next_distribution(last k ids)``; the window slides;
* a torch language model such as :class:`rnnkit.rnn_torch.RNNLM` (chapter 3):
  any ``nn.Module`` with a ``vocab_size`` whose ``forward(X (T, B), state)``
  returns ``(logits (T, B, V), state)``. It reads the prompt time-major as ids
  ``(P, 1)``, then feeds every drawn token back in as ``(1, 1)``, carrying the
  state.

**Temperature** ``tau`` reshapes the distribution before each draw: with
``o`` the model's scores (the logits of a network, ``log P`` of an n-gram
model), the token is drawn from ``softmax(o / tau)``, i.e. ``P(w)^(1/tau)``
renormalised. ``tau = 1`` is the model's own distribution, ``tau < 1`` sharpens
it, and ``tau = 0`` takes the argmax (greedy decoding, which draws no random
numbers). Draws use :func:`rnnkit.seeding.numpy_rng` ``(seed)``.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from .markov import NGramLM
from .seeding import numpy_rng
from .shapes import check_choice, check_nonnegative_int
from .vocab import Vocab, tokenize

__all__ = ["sample"]

LEVELS = ("char", "word")


def _check_model(model: object) -> str:
    """``"ngram"`` or ``"torch"``: which kind of language model ``model`` is."""
    if isinstance(model, NGramLM):
        return "ngram"
    import torch.nn as nn  # lazily: sampling an n-gram model needs no torch

    if isinstance(model, nn.Module) and hasattr(model, "vocab_size"):
        return "torch"
    raise TypeError(
        "model must be an rnnkit.markov.NGramLM or a torch language model like "
        "rnnkit.rnn_torch.RNNLM (an nn.Module with vocab_size); got "
        f"{type(model).__name__}"
    )


def _check_temperature(temperature: object) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, Real):
        raise TypeError(
            f"temperature must be a number >= 0; got {type(temperature).__name__}"
        )
    if not (math.isfinite(temperature) and temperature >= 0):
        raise ValueError(
            f"temperature must be a finite number >= 0 (0 = greedy); got {temperature}"
        )
    return float(temperature)


def _draw(scores: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """One token id from ``softmax(scores / temperature)``; argmax at 0.

    ``scores`` ``(V,)`` are float64 log-probabilities up to a constant: logits,
    or ``log P``.
    """
    if temperature == 0:
        return int(np.argmax(scores))
    z = scores / temperature
    p = np.exp(z - z.max())
    return int(rng.choice(len(p), p=p / p.sum()))


def _continue_ngram(
    model: NGramLM,
    ids: list[int],
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> list[int]:
    history = list(ids)
    k = model.order
    out: list[int] = []
    for _ in range(length):
        p = model.next_distribution(history[-k:] if k else [])  # (V,)
        with np.errstate(divide="ignore"):  # a zero probability scores -inf
            w = _draw(np.log(p), temperature, rng)
        out.append(w)
        history.append(w)
    return out


def _continue_torch(
    model: Any,
    ids: list[int],
    length: int,
    temperature: float,
    rng: np.random.Generator,
) -> list[int]:
    import torch

    from .lm_eval import _model_device  # lazily: n-gram sampling needs no torch

    device = _model_device(model)
    was_training = model.training
    model.eval()
    out: list[int] = []
    try:
        with torch.no_grad():
            X = torch.tensor(ids, dtype=torch.long, device=device)[:, None]  # (P, 1)
            logits, state = model(X)  # (P, 1, V), state after the prompt
            for i in range(length):
                w = _draw(logits[-1, 0].double().cpu().numpy(), temperature, rng)
                out.append(w)
                if i + 1 < length:
                    x = torch.tensor([[w]], dtype=torch.long, device=device)  # (1, 1)
                    logits, state = model(x, state)
    finally:
        model.train(was_training)
    return out


def sample(
    model: NGramLM | Any,
    vocab: Vocab,
    prompt: str,
    length: int,
    *,
    temperature: float = 1.0,
    seed: int | np.random.Generator = 0,
    level: str = "char",
) -> str:
    """Continue ``prompt`` by ``length`` tokens drawn from a language model.

    Args:
        model: a fitted :class:`rnnkit.markov.NGramLM`, or a torch language
            model like :class:`rnnkit.rnn_torch.RNNLM` (an ``nn.Module`` with
            ``vocab_size`` taking ids ``(T, B)`` and a state).
        vocab: the :class:`rnnkit.vocab.Vocab` the model was trained with
            (``len(vocab) == model.vocab_size``).
        prompt: text to continue, tokenised with ``level``. Every token must be
            in ``vocab`` (and not a reserved one). An n-gram model accepts an
            empty prompt and then starts like a sequence does, from start
            padding; a network needs at least one token to warm its state up.
        length: number of new tokens, ``>= 0``.
        temperature: draw from ``softmax(o / temperature)`` (see the module):
            1 samples the model's distribution, lower values sharpen it, 0 is
            greedy argmax decoding and ignores ``seed``.
        seed: an int or a ``np.random.Generator`` (one stream shared across
            calls); the same seed gives the same text.
        level: ``"char"`` or ``"word"``, as in :func:`rnnkit.vocab.tokenize`.

    Returns:
        The prompt's tokens followed by the new ones, joined with ``""`` for
        ``level="char"`` and ``" "`` for ``level="word"``.

    Implements chapter 2, equation ``markov-sampling``.
    """
    kind = _check_model(model)
    if not isinstance(vocab, Vocab):
        raise TypeError(f"vocab must be an rnnkit Vocab; got {type(vocab).__name__}")
    if len(vocab) != model.vocab_size:
        raise ValueError(
            f"vocab has {len(vocab)} tokens but the model predicts V={model.vocab_size}"
        )
    if not isinstance(prompt, str):
        raise TypeError(f"prompt must be a str; got {type(prompt).__name__}")
    length = check_nonnegative_int("length", length)
    temperature = _check_temperature(temperature)
    check_choice("level", level, LEVELS)
    rng = numpy_rng(seed)
    tokens = tokenize(prompt, level)
    if not tokens and kind == "torch":
        raise ValueError(
            "prompt must contain at least one token to warm the model up; "
            "got an empty prompt"
        )
    what = "character" if level == "char" else "word"
    for pos, tok in enumerate(tokens):
        if tok not in vocab or tok in vocab.reserved:
            raise ValueError(
                f"prompt {what} {tok!r} at position {pos} is not in the vocabulary "
                f"of {len(vocab)} tokens; preprocess the prompt like the training "
                "text (e.g. rnnkit.corpus.letters_only)"
            )
    ids = vocab.encode(tokens, strict=True)
    go_on = _continue_ngram if kind == "ngram" else _continue_torch
    new = go_on(model, ids, length, temperature, rng)
    sep = "" if level == "char" else " "
    return sep.join(tokens + vocab.decode(new))
