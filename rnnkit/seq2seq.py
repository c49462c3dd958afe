"""An RNN encoder–decoder (seq2seq) in PyTorch, with teacher forcing.

The encoder reads the source ``x_1..x_S`` and keeps only its last hidden state,
the **context** ``c = h_S``. The decoder is a second RNN that starts from
``s_0 = c`` and writes the target one token at a time (chapter 6, equations
``encoder-context`` and ``decoder-step``; row-vector states as everywhere)::

    h_t = tanh(e(x_t) @ W_xh.T + h_{t-1} @ W_hh.T + b_h)             # (B, h)
    s_t = tanh([e(y_{t-1}); c] @ W_xs.T + s_{t-1} @ W_ss.T + b_s)     # (B, h)
    o_t = s_t @ W_so.T + b_o                                          # (B, V)

``[e(y_{t-1}); c]`` feeds the context at every step (``feed_context=True``);
without it the decoder reads ``e(y_{t-1})`` alone and sees ``c`` only through
``s_0``. During training ``y_{t-1}`` is the ground-truth previous token with
probability ``teacher_forcing_ratio`` and the model's own previous prediction
otherwise (chapter 7). The loss is the mean cross-entropy over the *valid*
(unpadded) target positions, :func:`rnnkit.losses.masked_cross_entropy`
(chapter 8).

Layout: all ids are **time-major**, ``(T, B)``, as
:func:`rnnkit.dates.encode_pairs` returns them. Reading order: model, training,
decoding and scoring. The date task the chapters train on, with its one
train/test split, is :mod:`rnnkit.date_task`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from . import training
from .losses import masked_cross_entropy, sequence_mask
from .seeding import seeded_torch, torch_generator
from .shapes import (
    check_bool,
    check_choice,
    check_finite_number,
    check_ids_in_range,
    check_nonempty,
    check_nonnegative_int,
    check_positive_float,
    check_positive_int,
    check_same_batch,
    check_seed,
    check_tensor,
)

__all__ = [
    "Encoder",
    "Decoder",
    "Seq2Seq",
    "train_seq2seq",
    "exact_match_accuracy",
    "greedy_accuracy",
]

#: The recurrent cells of encoder and decoder: the tanh RNN of chapter 6, or a GRU.
CELLS: tuple[str, ...] = ("rnn", "gru")


def _make_rnn(cell: str, input_size: int, hidden_size: int) -> nn.Module:
    check_choice("cell", cell, CELLS)
    if cell == "gru":
        return nn.GRU(input_size, hidden_size)
    return nn.RNN(input_size, hidden_size, nonlinearity="tanh")


def _check_state(name: str, x: object, B: int, h: int) -> torch.Tensor:
    check_tensor(name, x, (B, h), ("B", "h"))
    if not x.dtype.is_floating_point:
        raise TypeError(f"{name} must be a floating-point tensor; got dtype {x.dtype}")
    return x


def _check_id(name: str, i: object, vocab_size: int, what: str) -> int:
    """A token id (``pad_id``, ``bos_id``, ...) in ``[0, vocab_size)``."""
    i = check_nonnegative_int(name, i)
    if i >= vocab_size:
        raise ValueError(
            f"{name} must be an id of the {what} vocabulary, in [0, {vocab_size}); "
            f"got {i}"
        )
    return i


def _check_ratio(r: object) -> float:
    r = check_finite_number("teacher_forcing_ratio", r)
    if not 0.0 <= r <= 1.0:
        raise ValueError(f"teacher_forcing_ratio must lie in [0, 1]; got {r}")
    return r


# -- model ---------------------------------------------------------------------
class Encoder(nn.Module):
    """Embedding + ``nn.RNN`` (tanh) that reads the source into a context ``c``.

    ``cell="gru"`` uses ``nn.GRU`` instead (same shapes).

    ``forward(src (S, B), src_lengths (B,))`` → ``(H (S, B, h), c (B, h))``.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        *,
        pad_id: int = 0,
        cell: str = "rnn",
    ) -> None:
        super().__init__()
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        pad_id = _check_id("pad_id", pad_id, vocab_size, "source")
        self.embedding = nn.Embedding(
            vocab_size, check_positive_int("embed_size", embed_size), padding_idx=pad_id
        )
        self.rnn = _make_rnn(cell, embed_size, hidden_size)

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """All encoder states ``H`` ``(S, B, h)`` and the context ``c = h_S`` (B, h).

        The batch is *packed*, so the RNN stops at each sequence's own length:
        ``c[b]`` is the hidden state after the last real token of sequence
        ``b``, whatever padding follows it, and ``H`` is zero at padded steps.

        Args:
            src: ``(S, B)`` source ids in ``[0, vocab_size)``, padded at the end.
            src_lengths: ``(B,)`` the number of real ids of each source, in
                ``[1, S]``.

        Implements chapter 6, equation ``encoder-context``.
        """
        check_tensor("src", src, (None, None), ("S", "B"), integer=True)
        check_nonempty("src", src, ("S", "B"))
        S, B = src.shape
        check_tensor("src_lengths", src_lengths, (B,), ("B",), integer=True)
        if B and (src_lengths.min() < 1 or src_lengths.max() > S):
            raise ValueError(
                f"src_lengths must lie in [1, S={S}]; got {src_lengths.tolist()}"
            )
        check_ids_in_range("src", src, self.vocab_size)
        packed = pack_padded_sequence(
            self.embedding(src), src_lengths.cpu(), enforce_sorted=False
        )
        out, h_n = self.rnn(packed)
        H, _ = pad_packed_sequence(out, total_length=S)
        return H, h_n[0]


class Decoder(nn.Module):
    """Embedding + ``nn.RNN`` (tanh; ``cell="gru"``: ``nn.GRU``) + a linear layer.

    ``step(y_prev (B,), s (B, h), c (B, h))`` → ``(logits (B, V), s_next (B, h))``
    runs one time step; ``forward(tgt_in (T, B), c (B, h))`` → ``logits (T, B, V)``
    runs all ``T`` steps on given inputs (teacher forcing) from ``s_0 = c``.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        *,
        feed_context: bool = True,
        pad_id: int = 0,
        cell: str = "rnn",
    ) -> None:
        super().__init__()
        self.feed_context = check_bool("feed_context", feed_context)
        self.vocab_size = check_positive_int("vocab_size", vocab_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        pad_id = _check_id("pad_id", pad_id, vocab_size, "target")
        self.embedding = nn.Embedding(
            vocab_size, check_positive_int("embed_size", embed_size), padding_idx=pad_id
        )
        in_size = embed_size + (hidden_size if self.feed_context else 0)
        self.rnn = _make_rnn(cell, in_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def _inputs(self, y: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        e = self.embedding(y)  # (T, B, e)
        if self.feed_context:
            e = torch.cat([e, c.unsqueeze(0).expand(e.shape[0], -1, -1)], dim=-1)
        return e  # (T, B, e + h) or (T, B, e)

    def forward(self, tgt_in: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Logits ``(T, B, V)`` of all steps, reading ``tgt_in`` (teacher forcing).

        Args:
            tgt_in: ``(T, B)`` decoder inputs, ``<bos>`` then the target, ids in
                ``[0, vocab_size)``.
            c: ``(B, h)`` the context; also the initial state ``s_0``.

        Implements chapter 6, equation ``decoder-step``.
        """
        check_tensor("tgt_in", tgt_in, (None, None), ("T", "B"), integer=True)
        check_nonempty("tgt_in", tgt_in, ("T", "B"))
        _check_state("c", c, tgt_in.shape[1], self.hidden_size)
        check_ids_in_range("tgt_in", tgt_in, self.vocab_size)
        S, _ = self.rnn(self._inputs(tgt_in, c), c.unsqueeze(0).contiguous())
        return self.out(S)  # (T, B, V)

    def step(
        self, y_prev: torch.Tensor, s: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """One decoder step: ``(logits o_t (B, V), s_t (B, h))``.

        Args:
            y_prev: ``(B,)`` the previous token ids (``<bos>`` at the first step).
            s: ``(B, h)`` the previous state ``s_{t-1}`` (``c`` at the first step).
            c: ``(B, h)`` the context.

        Implements chapter 6, equation ``decoder-step``.
        """
        check_tensor("y_prev", y_prev, (None,), ("B",), integer=True)
        check_nonempty("y_prev", y_prev, ("B",))
        B = y_prev.shape[0]
        _check_state("s", s, B, self.hidden_size)
        _check_state("c", c, B, self.hidden_size)
        check_ids_in_range("y_prev", y_prev, self.vocab_size)
        return self._step(y_prev, s, c)

    def _step(
        self, y_prev: torch.Tensor, s: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # step without the checks, for loops whose inputs were checked once
        out, s_next = self.rnn(
            self._inputs(y_prev.unsqueeze(0), c), s.unsqueeze(0).contiguous()
        )
        return self.out(out[0]), s_next[0]


class Seq2Seq(nn.Module):
    """Encoder and decoder joined by the context ``c`` (the encoder's final state).

    Parameters
    ----------
    src_vocab_size, tgt_vocab_size:
        Sizes of the two vocabularies.
    embed_size, hidden_size:
        Shared by encoder and decoder.
    feed_context:
        Also give ``c`` to the decoder at every step (default ``True``).
    cell:
        The recurrent cell of both: ``"rnn"`` (tanh, chapter 6) or ``"gru"``.
    bos_id, eos_id, pad_id:
        Target-vocabulary ids of ``<bos>``, ``<eos>``, ``<pad>`` (defaults 2, 3,
        0 as in :class:`rnnkit.vocab.Vocab`).
    seed:
        Seeds the initial weights (:func:`rnnkit.seeding.seeded_torch`; torch's
        global generator is left as it was).
    """

    def __init__(
        self,
        src_vocab_size: int,
        tgt_vocab_size: int,
        *,
        embed_size: int = 32,
        hidden_size: int = 128,
        feed_context: bool = True,
        cell: str = "rnn",
        bos_id: int = 2,
        eos_id: int = 3,
        pad_id: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        src_vocab_size = check_positive_int("src_vocab_size", src_vocab_size)
        tgt_vocab_size = check_positive_int("tgt_vocab_size", tgt_vocab_size)
        feed_context = check_bool("feed_context", feed_context)
        check_choice("cell", cell, CELLS)
        self.cell = cell
        for name, i in (("bos_id", bos_id), ("eos_id", eos_id), ("pad_id", pad_id)):
            _check_id(name, i, tgt_vocab_size, "target")
        _check_id("pad_id", pad_id, src_vocab_size, "source")
        with seeded_torch(seed):
            self.encoder = Encoder(
                src_vocab_size, embed_size, hidden_size, pad_id=pad_id, cell=cell
            )
            self.decoder = Decoder(
                tgt_vocab_size,
                embed_size,
                hidden_size,
                feed_context=feed_context,
                pad_id=pad_id,
                cell=cell,
            )
        self.bos_id, self.eos_id, self.pad_id = bos_id, eos_id, pad_id

    def forward(
        self,
        src: torch.Tensor,
        src_lengths: torch.Tensor,
        tgt_in: torch.Tensor,
        teacher_forcing_ratio: float = 1.0,
        seed: int | torch.Generator = 0,
    ) -> torch.Tensor:
        """Logits ``(T, B, V)`` for the target positions.

        At step ``t > 0`` the decoder reads ``tgt_in[t]`` (the true previous
        token) with probability ``teacher_forcing_ratio``, drawn per sequence
        and step from ``seed``, and otherwise its own argmax prediction of
        step ``t - 1``. Step 0 always reads ``tgt_in[0]`` (``<bos>``).

        Args:
            src: ``(S, B)`` source ids; ``src_lengths`` ``(B,)`` their lengths.
            tgt_in: ``(T, B)`` decoder inputs, ``<bos>`` then the target.
            teacher_forcing_ratio: ``rho`` in ``[0, 1]``; 1 is teacher forcing.
            seed: seeds the coins (an int, or a ``torch.Generator``).

        Implements chapter 6, equations ``encoder-context`` and ``decoder-step``.
        Implements chapter 7, equation ``teacher-forcing``.
        """
        check_tensor("src", src, (None, None), ("S", "B"), integer=True)
        check_tensor("tgt_in", tgt_in, (None, None), ("T", "B"), integer=True)
        check_same_batch("src", src, "tgt_in", tgt_in)
        check_nonempty("tgt_in", tgt_in, ("T", "B"))
        r = _check_ratio(teacher_forcing_ratio)
        _, c = self.encoder(src, src_lengths)
        if r == 1.0:
            return self.decoder(tgt_in, c)
        check_ids_in_range("tgt_in", tgt_in, self.decoder.vocab_size)
        g = torch_generator(seed)
        s, y, logits = c, tgt_in[0], []
        for t in range(tgt_in.shape[0]):
            o, s = self.decoder._step(y, s, c)
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

        After a sequence has produced ``<eos>`` its remaining positions hold
        ``<pad>``.

        Implements chapter 7, equation ``free-running``.
        """
        max_len = check_positive_int("max_len", max_len)
        check_tensor("src", src, (None, None), ("S", "B"), integer=True)
        _, c = self.encoder(src, src_lengths)
        B = src.shape[1]
        y = torch.full((B,), self.bos_id, dtype=torch.long, device=src.device)
        done = torch.zeros(B, dtype=torch.bool, device=src.device)
        s, out = c, []
        for _ in range(max_len):
            o, s = self.decoder._step(y, s, c)
            y = o.argmax(-1)
            out.append(torch.where(done, torch.full_like(y, self.pad_id), y))
            done |= y == self.eos_id
        return torch.stack(out)


# -- training ------------------------------------------------------------------
DATA_KEYS: tuple[str, ...] = ("src", "src_lengths", "tgt_in", "tgt_out", "tgt_lengths")


def _check_data(data: object, name: str = "data") -> int:
    """The dict of :func:`rnnkit.dates.encode_pairs`; returns its number of pairs."""
    if not isinstance(data, Mapping):
        raise TypeError(
            f"{name} must be the dict of tensors of rnnkit.dates.encode_pairs; "
            f"got {type(data).__name__}"
        )
    missing = set(DATA_KEYS) - set(data)
    if missing:
        raise ValueError(
            f"{name} must be the dict of encode_pairs; missing {sorted(missing)}"
        )
    for key in ("src", "tgt_in", "tgt_out"):
        check_tensor(f"{name}[{key!r}]", data[key], (None, None), integer=True)
        check_nonempty(f"{name}[{key!r}]", data[key], ("T", "B"))
    for key in ("src_lengths", "tgt_lengths"):
        check_tensor(f"{name}[{key!r}]", data[key], (None,), ("B",), integer=True)
    src = data["src"]
    for key, axis in (
        ("src_lengths", 0),
        ("tgt_in", 1),
        ("tgt_out", 1),
        ("tgt_lengths", 0),
    ):
        check_same_batch(
            f"{name}['src']", src, f"{name}[{key!r}]", data[key], axis_b=axis
        )
    if data["tgt_in"].shape != data["tgt_out"].shape:
        raise ValueError(
            f"{name}['tgt_in'] and {name}['tgt_out'] must have the same shape (T, B); "
            f"got {tuple(data['tgt_in'].shape)} and {tuple(data['tgt_out'].shape)}"
        )
    return int(src.shape[1])


def _check_model(model: object) -> Seq2Seq:
    if not isinstance(model, Seq2Seq):
        raise TypeError(
            f"model must be an rnnkit.seq2seq.Seq2Seq; got {type(model).__name__}"
        )
    return model


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
    lr_schedule: str = "cosine",
    teacher_forcing_ratio: float = 1.0,
    masked: bool = True,
    clip: float | None = 1.0,
    seed: int = 0,
    progress: bool = True,
) -> dict[str, list]:
    """Train ``model`` in place with Adam on random minibatches of ``data``.

    Parameters
    ----------
    model:
        A :class:`Seq2Seq`.
    data:
        The tensors of :func:`rnnkit.dates.encode_pairs` (``src``,
        ``src_lengths``, ``tgt_in``, ``tgt_out``, ``tgt_lengths``).
    steps, batch_size:
        ``steps`` Adam updates, each on ``batch_size`` pairs drawn with
        replacement.
    lr, lr_schedule:
        Base learning rate and its schedule (:data:`rnnkit.training.LR_SCHEDULES`):
        ``"cosine"`` (default) falls from ``lr`` to 0 along half a cosine over
        the ``steps``, so the last steps polish rather than jump.
    teacher_forcing_ratio:
        ``rho``, passed to :meth:`Seq2Seq.forward` (chapter 7).
    masked:
        ``True``: the masked loss over the real target tokens; ``False``
        deliberately averages over *all* target positions, padding included
        (chapter 8).
    clip:
        Rescale the gradient to this global norm (``None``: do not clip).
    seed:
        Seeds the minibatches and the teacher-forcing coins.
    progress:
        Show a tqdm bar.

    Returns
    -------
    The history of :mod:`rnnkit.training`, one entry per step: ``step``,
    ``elapsed_s`` (seconds since the start) and ``train_loss`` (that step's
    minibatch loss).

    Implements chapter 7, equation ``teacher-forcing``.
    Implements chapter 8, equation ``masked-loss``.
    """
    model = _check_model(model)
    steps = check_positive_int("steps", steps)
    batch_size = check_positive_int("batch_size", batch_size)
    lr = check_positive_float("lr", lr)
    check_choice("lr_schedule", lr_schedule, training.LR_SCHEDULES)
    teacher_forcing_ratio = _check_ratio(teacher_forcing_ratio)
    masked = check_bool("masked", masked)
    clip = training.check_clip(clip)
    seed = check_seed("seed", seed)
    N = _check_data(data)
    check_ids_in_range("data['src']", data["src"], model.encoder.vocab_size)
    for key in ("tgt_in", "tgt_out"):
        check_ids_in_range(f"data[{key!r}]", data[key], model.decoder.vocab_size)
    g = torch_generator(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: training.lr_factor(lr_schedule, i / steps)
    )
    history = training.new_history()
    bar = training.progress_bar(progress, total=steps, desc="train_seq2seq")
    t0 = time.perf_counter()
    model.train()
    try:
        for step in range(1, steps + 1):
            idx = torch.randint(0, N, (min(batch_size, N),), generator=g)
            b = _batch(data, idx)
            logits = model(
                b["src"],
                b["src_lengths"],
                b["tgt_in"],
                teacher_forcing_ratio,
                seed=seed * 100_003 + step,
            )
            T, B = b["tgt_out"].shape
            mask = (
                sequence_mask(b["tgt_lengths"], T)
                if masked
                else torch.ones(T, B, dtype=torch.bool)
            )
            loss = masked_cross_entropy(logits, b["tgt_out"], mask)
            value = training.check_finite_loss(loss.item(), step)
            opt.zero_grad()
            loss.backward()
            if clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            sched.step()
            training.record(
                history,
                step=step,
                elapsed_s=time.perf_counter() - t0,
                train_loss=value,
            )
            bar.update(1)
            bar.set_postfix(loss=f"{value:.3f}", refresh=False)
    finally:
        bar.close()
        model.eval()
    return history


# -- decoding and scoring ------------------------------------------------------
def exact_match_accuracy(
    pred: torch.Tensor, target: torch.Tensor, eos_id: int = 3
) -> float:
    """Share of sequences whose tokens up to the first ``<eos>`` equal the target's.

    ``pred`` (T1, B), ``target`` (T2, B), both up to and including ``<eos>``;
    a prediction without ``<eos>`` never matches.
    """
    check_tensor("pred", pred, (None, None), ("T", "B"), integer=True)
    check_tensor("target", target, (None, pred.shape[1]), ("T", "B"), integer=True)
    check_nonempty("pred", pred, ("T", "B"))
    check_nonempty("target", target, ("T", "B"))
    eos_id = check_nonnegative_int("eos_id", eos_id)

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
    """Exact-match accuracy of :meth:`Seq2Seq.greedy_decode` on all of ``data``.

    ``max_len`` defaults to the longest target plus 2.
    """
    model = _check_model(model)
    _check_data(data)
    T = data["tgt_out"].shape[0]
    max_len = T + 2 if max_len is None else check_positive_int("max_len", max_len)
    pred = model.greedy_decode(data["src"], data["src_lengths"], max_len)
    return exact_match_accuracy(pred, data["tgt_out"], model.eos_id)
