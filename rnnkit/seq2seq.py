"""An RNN encoder–decoder (seq2seq) in PyTorch, with teacher forcing and a masked loss.

The encoder reads the source ``x_1..x_S`` and keeps only its last hidden state,
the **context** ``c = h_S``. The decoder is a second RNN that starts from
``s_0 = c`` and writes the target one token at a time::

    h_t = tanh(W_xh e(x_t) + W_hh h_{t-1} + b_h)                    # encoder, (B, h)
    s_t = tanh(W_xs [e(y_{t-1}); c] + W_ss s_{t-1} + b_s)           # decoder, (B, h)
    o_t = W_so s_t + b_o                                            # logits,  (B, V)

``[e(y_{t-1}); c]`` feeds the context at every step (``feed_context=True``);
without it the decoder reads ``e(y_{t-1})`` alone and sees ``c`` only through
``s_0``. During training ``y_{t-1}`` is the ground-truth previous token with
probability ``teacher_forcing_ratio`` and the model's own previous prediction
otherwise. The loss is the mean cross-entropy over the *valid* (unpadded)
target positions, :func:`masked_cross_entropy`.

Layout: all ids are **time-major**, ``(T, B)``, as :func:`rnnkit.dates.encode_pairs`
returns them. Reading order: masks, model, loss, training, decoding and scoring.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from .shapes import check_positive_float, check_positive_int, describe_shape

__all__ = [
    "sequence_mask",
    "Encoder",
    "Decoder",
    "Seq2Seq",
    "masked_cross_entropy",
    "train_seq2seq",
    "exact_match_accuracy",
    "greedy_accuracy",
    "train_date_model",
]


def _check_tensor(
    name: str, x: object, expected, dims, *, integer: bool = False
) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(x).__name__}")
    ok = x.dim() == len(expected) and all(
        e is None or e == s for e, s in zip(expected, x.shape)
    )
    if not ok:
        raise ValueError(
            f"{name} must have shape {describe_shape(expected, dims)}; got {tuple(x.shape)}"
        )
    if integer and (x.dtype.is_floating_point or x.dtype == torch.bool):
        raise TypeError(f"{name} must hold integer ids; got dtype {x.dtype}")
    return x


def _generator(seed: int) -> torch.Generator:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int; got {type(seed).__name__}")
    return torch.Generator().manual_seed(seed)


# -- masks ---------------------------------------------------------------------
def sequence_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """``m[t, b] = t < lengths[b]``: a ``(T, B)`` bool mask of the valid steps.

    >>> sequence_mask(torch.tensor([3, 1]), 4).T.int().tolist()
    [[1, 1, 1, 0], [1, 0, 0, 0]]
    """
    _check_tensor("lengths", lengths, (None,), ("B",), integer=True)
    T = check_positive_int("T", T)
    if lengths.numel() and (lengths.min() < 0 or lengths.max() > T):
        raise ValueError(
            f"lengths must lie in [0, T={T}]; got min {int(lengths.min())}, max {int(lengths.max())}"
        )
    return torch.arange(T).unsqueeze(1) < lengths.unsqueeze(0)


# -- model ---------------------------------------------------------------------
class Encoder(nn.Module):
    """Embedding + ``nn.RNN`` (tanh). ``forward(src (S, B), lengths (B,))`` → ``(H (S, B, h), c (B, h))``.

    The batch is *packed*, so the RNN stops at each sequence's own length:
    ``c[b]`` is the hidden state after the last real token of sequence ``b``,
    whatever padding follows it. ``H`` is zero at padded steps.
    """

    def __init__(
        self, vocab_size: int, embed_size: int, hidden_size: int, *, pad_id: int = 0
    ) -> None:
        super().__init__()
        self.embedding = nn.Embedding(
            check_positive_int("vocab_size", vocab_size),
            check_positive_int("embed_size", embed_size),
            padding_idx=pad_id,
        )
        self.rnn = nn.RNN(
            embed_size,
            check_positive_int("hidden_size", hidden_size),
            nonlinearity="tanh",
        )

    def forward(
        self, src: torch.Tensor, lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _check_tensor("src", src, (None, None), ("S", "B"), integer=True)
        _check_tensor("src_lengths", lengths, (src.shape[1],), ("B",), integer=True)
        if lengths.min() < 1 or lengths.max() > src.shape[0]:
            raise ValueError(
                f"src_lengths must lie in [1, S={src.shape[0]}]; got {lengths.tolist()}"
            )
        packed = pack_padded_sequence(
            self.embedding(src), lengths.cpu(), enforce_sorted=False
        )
        out, h_n = self.rnn(packed)
        H, _ = nn.utils.rnn.pad_packed_sequence(out, total_length=src.shape[0])
        return H, h_n[0]


class Decoder(nn.Module):
    """Embedding + ``nn.RNN`` (tanh) + a linear output layer.

    ``step(y_prev (B,), s (B, h), c (B, h))`` → ``(logits (B, V), s_next (B, h))``
    runs one time step; ``forward(tgt_in (T, B), c)`` runs all ``T`` steps on
    given inputs (teacher forcing) starting from ``s_0 = c``.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        *,
        feed_context: bool = True,
        pad_id: int = 0,
    ) -> None:
        super().__init__()
        self.feed_context = bool(feed_context)
        self.embedding = nn.Embedding(
            check_positive_int("vocab_size", vocab_size),
            check_positive_int("embed_size", embed_size),
            padding_idx=pad_id,
        )
        in_size = embed_size + (hidden_size if self.feed_context else 0)
        self.rnn = nn.RNN(
            in_size, check_positive_int("hidden_size", hidden_size), nonlinearity="tanh"
        )
        self.out = nn.Linear(hidden_size, vocab_size)

    def _inputs(self, y: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.embedding(y)  # (T, B, e)
        if self.feed_context:
            e = torch.cat([e, c.unsqueeze(0).expand(e.shape[0], -1, -1)], dim=-1)
        return e

    def forward(self, tgt_in: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        S, _ = self.rnn(self._inputs(tgt_in, c), c.unsqueeze(0).contiguous())
        return self.out(S)  # (T, B, V)

    def step(
        self, y_prev: torch.Tensor, s: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        out, s_next = self.rnn(
            self._inputs(y_prev.unsqueeze(0), c), s.unsqueeze(0).contiguous()
        )
        return self.out(out[0]), s_next[0]


class Seq2Seq(nn.Module):
    """Encoder and decoder joined by the context vector ``c`` (the encoder's final state).

    Parameters
    ----------
    src_vocab_size, tgt_vocab_size:
        Sizes of the two vocabularies.
    embed_size, hidden_size:
        Shared by encoder and decoder.
    feed_context:
        Also give ``c`` to the decoder at every step (default ``True``).
    bos_id, eos_id, pad_id:
        Target-vocabulary ids of ``<bos>``, ``<eos>``, ``<pad>`` (defaults 2, 3, 0
        as in :class:`rnnkit.vocab.Vocab`).
    seed:
        Seeds the initial weights (``torch.manual_seed`` is not touched outside).
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        *,
        embed_size: int = 32,
        hidden_size: int = 128,
        feed_context: bool = True,
        bos_id: int = 2,
        eos_id: int = 3,
        pad_id: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        state = torch.random.get_rng_state()
        torch.manual_seed(_generator(seed).initial_seed())
        try:
            self.encoder = Encoder(
                src_vocab_size, embed_size, hidden_size, pad_id=pad_id
            )
            self.decoder = Decoder(
                tgt_vocab_size,
                embed_size,
                hidden_size,
                feed_context=feed_context,
                pad_id=pad_id,
            )
        finally:
            torch.random.set_rng_state(state)
        self.bos_id, self.eos_id, self.pad_id = bos_id, eos_id, pad_id

    def forward(
        self,
        src: torch.Tensor,
        src_lengths: torch.Tensor,
        tgt_in: torch.Tensor,
        teacher_forcing_ratio: float = 1.0,
        seed: int = 0,
    ) -> torch.Tensor:
        """Logits ``(T, B, V)`` for the target positions.

        At step ``t > 0`` the decoder reads ``tgt_in[t]`` (the true previous
        token) with probability ``teacher_forcing_ratio``, drawn per sequence
        and step from ``seed``, and otherwise its own argmax prediction of
        step ``t - 1``. Step 0 always reads ``tgt_in[0]`` (``<bos>``).
        """
        _check_tensor(
            "tgt_in",
            tgt_in,
            (None, src.shape[1] if isinstance(src, torch.Tensor) else None),
            ("T", "B"),
            integer=True,
        )
        r = float(teacher_forcing_ratio)
        if not 0.0 <= r <= 1.0:
            raise ValueError(
                f"teacher_forcing_ratio must lie in [0, 1]; got {teacher_forcing_ratio}"
            )
        _, c = self.encoder(src, src_lengths)
        if r == 1.0:
            return self.decoder(tgt_in, c)
        g = _generator(seed)
        s, y, logits = c, tgt_in[0], []
        for t in range(tgt_in.shape[0]):
            o, s = self.decoder.step(y, s, c)
            logits.append(o)
            if t + 1 < tgt_in.shape[0]:
                truth = torch.rand(y.shape[0], generator=g) < r
                y = torch.where(truth, tgt_in[t + 1], o.argmax(-1))
        return torch.stack(logits)

    @torch.no_grad()
    def greedy_decode(
        self, src: torch.Tensor, src_lengths: torch.Tensor, max_len: int
    ) -> torch.Tensor:
        """Free-running decoding: ``(max_len, B)`` ids, each step's argmax fed back.

        After a sequence has produced ``<eos>`` its remaining positions hold ``<pad>``.
        """
        max_len = check_positive_int("max_len", max_len)
        _, c = self.encoder(src, src_lengths)
        B = src.shape[1]
        y = torch.full((B,), self.bos_id, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        s, out = c, []
        for _ in range(max_len):
            o, s = self.decoder.step(y, s, c)
            y = o.argmax(-1)
            out.append(torch.where(done, torch.full_like(y, self.pad_id), y))
            done |= y == self.eos_id
        return torch.stack(out)


# -- loss ----------------------------------------------------------------------
def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """``sum_t,b m[t,b] * (-log softmax(logits[t,b])[targets[t,b]]) / sum_t,b m[t,b]``.

    ``logits`` (T, B, V), ``targets`` (T, B) ids, ``mask`` (T, B) bools or 0/1.
    Padded positions (``m = 0``) contribute nothing, whatever their target id.
    """
    _check_tensor("logits", logits, (None, None, None), ("T", "B", "V"))
    T, B, V = logits.shape
    _check_tensor("targets", targets, (T, B), ("T", "B"), integer=True)
    _check_tensor("mask", mask, (T, B), ("T", "B"))
    m = mask.to(logits.dtype)
    n = m.sum()
    if n <= 0:
        raise ValueError("mask selects no position; at least one target must be valid")
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, targets.clamp(0, V - 1).unsqueeze(-1)).squeeze(-1)  # (T, B)
    return (nll * m).sum() / n


# -- training ------------------------------------------------------------------
def _batch(
    data: Mapping[str, torch.Tensor], idx: torch.Tensor
) -> dict[str, torch.Tensor]:
    b = {
        "src_lengths": data["src_lengths"][idx],
        "tgt_lengths": data["tgt_lengths"][idx],
    }
    S, T = int(b["src_lengths"].max()), int(b["tgt_lengths"].max())
    b["src"] = data["src"][:S, idx]
    b["tgt_in"], b["tgt_out"] = data["tgt_in"][:T, idx], data["tgt_out"][:T, idx]
    return b


def train_seq2seq(
    model: Seq2Seq,
    data: Mapping[str, torch.Tensor],
    *,
    steps: int = 1000,
    batch_size: int = 64,
    lr: float = 3e-3,
    teacher_forcing_ratio: float = 1.0,
    masked: bool = True,
    clip: float = 1.0,
    cosine: bool = True,
    seed: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> dict[str, list]:
    """Train ``model`` with Adam on random minibatches of ``data`` (from :func:`rnnkit.dates.encode_pairs`).

    With ``cosine=True`` the learning rate falls from ``lr`` to 0 along half a
    cosine over the ``steps`` (the last steps polish rather than jump).
    ``masked=False`` deliberately averages the loss over *all* target positions,
    padding included (for the masking chapter). Gradients are clipped to norm
    ``clip``. Returns ``{"step": [...], "loss": [...], "seconds": float}``.
    """
    steps, batch_size = (
        check_positive_int("steps", steps),
        check_positive_int("batch_size", batch_size),
    )
    lr = check_positive_float("lr", lr)
    missing = {"src", "src_lengths", "tgt_in", "tgt_out", "tgt_lengths"} - set(data)
    if missing:
        raise ValueError(
            f"data must be the dict of encode_pairs; missing {sorted(missing)}"
        )
    g = _generator(seed)
    N = data["src"].shape[1]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: 0.5 * (1 + math.cos(math.pi * i / steps)) if cosine else 1.0
    )
    hist: dict[str, list] = {"step": [], "loss": []}
    t0 = time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        b = _batch(data, torch.randint(0, N, (min(batch_size, N),), generator=g))
        logits = model(
            b["src"],
            b["src_lengths"],
            b["tgt_in"],
            teacher_forcing_ratio,
            seed=seed * 100_003 + step,
        )
        T = b["tgt_out"].shape[0]
        mask = (
            sequence_mask(b["tgt_lengths"], T)
            if masked
            else torch.ones(T, len(b["tgt_lengths"]), dtype=torch.bool)
        )
        loss = masked_cross_entropy(logits, b["tgt_out"], mask)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        hist["step"].append(step)
        hist["loss"].append(loss.item())
        if progress is not None:
            progress(step, loss.item())
    model.eval()
    hist["seconds"] = time.perf_counter() - t0
    return hist


# -- decoding and scoring ------------------------------------------------------
def exact_match_accuracy(
    pred: torch.Tensor, target: torch.Tensor, eos_id: int = 3
) -> float:
    """Share of sequences whose predicted tokens, up to and including the first
    ``<eos>``, equal the target's. ``pred`` (T1, B), ``target`` (T2, B); a
    prediction without ``<eos>`` never matches.
    """
    _check_tensor("pred", pred, (None, None), ("T", "B"), integer=True)
    _check_tensor("target", target, (None, pred.shape[1]), ("T", "B"), integer=True)

    def upto_eos(col: list[int]) -> tuple[int, ...] | None:
        return tuple(col[: col.index(eos_id) + 1]) if eos_id in col else None

    P, Y = pred.T.tolist(), target.T.tolist()
    hits = [
        upto_eos(p) is not None and upto_eos(p) == upto_eos(y) for p, y in zip(P, Y)
    ]
    return sum(hits) / len(hits)


def greedy_accuracy(
    model: Seq2Seq, data: Mapping[str, torch.Tensor], max_len: int | None = None
) -> float:
    """Exact-match accuracy of :meth:`Seq2Seq.greedy_decode` on all of ``data``."""
    T = data["tgt_out"].shape[0]
    pred = model.greedy_decode(data["src"], data["src_lengths"], max_len or T + 2)
    return exact_match_accuracy(pred, data["tgt_out"], model.eos_id)


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
) -> dict:
    """Generate the date task (:mod:`rnnkit.dates`) and train a :class:`Seq2Seq` on it.

    Train and test pairs come from different seeds (``seed`` and ``seed + 1``)
    and test pairs whose source string occurs in training are dropped, so the
    test set is held out. Returns a dict with ``model``, ``src_vocab``,
    ``tgt_vocab``, ``train_pairs``, ``test_pairs``, ``train``, ``test`` (tensor
    dicts), ``history`` and ``test_accuracy``.
    """
    from .dates import build_vocabs, encode_pairs, make_date_pairs

    train_pairs = make_date_pairs(n_train, seed=seed)
    seen = {s for s, _ in train_pairs}
    test_pairs = [p for p in make_date_pairs(n_test, seed=seed + 1) if p[0] not in seen]
    src_vocab, tgt_vocab = build_vocabs(train_pairs)
    train, test = (
        encode_pairs(train_pairs, src_vocab, tgt_vocab),
        encode_pairs(test_pairs, src_vocab, tgt_vocab),
    )
    model = Seq2Seq(
        len(src_vocab),
        len(tgt_vocab),
        hidden_size=hidden_size,
        feed_context=feed_context,
        seed=seed,
    )
    hist = train_seq2seq(
        model,
        train,
        steps=steps,
        batch_size=batch_size,
        lr=lr,
        teacher_forcing_ratio=teacher_forcing_ratio,
        seed=seed,
    )
    return {
        "model": model,
        "src_vocab": src_vocab,
        "tgt_vocab": tgt_vocab,
        "train_pairs": train_pairs,
        "test_pairs": test_pairs,
        "train": train,
        "test": test,
        "history": hist,
        "test_accuracy": greedy_accuracy(model, test),
    }
