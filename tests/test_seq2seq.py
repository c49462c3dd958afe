"""Tests for rnnkit.seq2seq: masks, the masked loss, the encoder's padding, teacher forcing, decoding."""

import math

import pytest
import torch
import torch.nn.functional as F

from rnnkit.dates import build_vocabs, encode_pairs, make_date_pairs
from rnnkit.seq2seq import (
    Seq2Seq,
    exact_match_accuracy,
    greedy_accuracy,
    masked_cross_entropy,
    sequence_mask,
    train_seq2seq,
)

TOL = 1e-6  # float32 round-off on sums of a few dozen terms


def small_model(**kw):
    return Seq2Seq(12, 9, embed_size=4, hidden_size=6, seed=0, **kw)


def test_sequence_mask_by_hand():
    m = sequence_mask(torch.tensor([3, 1, 0]), 4)
    assert m.dtype == torch.bool and m.shape == (4, 3)
    assert m.T.int().tolist() == [[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    with pytest.raises(
        ValueError, match=r"lengths must lie in \[0, T=2\]; got min 0, max 3"
    ):
        sequence_mask(torch.tensor([3, 0]), 2)
    with pytest.raises(TypeError, match="lengths must hold integer ids"):
        sequence_mask(torch.tensor([1.0]), 2)


def test_masked_cross_entropy_uniform_logits_is_log_V():
    logits = torch.zeros(
        3, 2, 5
    )  # every class equally likely → -log(1/5) per valid position
    loss = masked_cross_entropy(
        logits, torch.zeros(3, 2, dtype=torch.long), torch.ones(3, 2)
    )
    assert abs(loss.item() - math.log(5)) < TOL


def test_masked_cross_entropy_equals_ignore_index_and_unpadded_losses():
    g = torch.Generator().manual_seed(0)
    T, B, V, pad = 5, 3, 7, 0
    lengths = torch.tensor([5, 2, 3])
    logits = torch.randn(T, B, V, generator=g)
    targets = torch.randint(1, V, (T, B), generator=g)
    mask = sequence_mask(lengths, T)
    targets[~mask] = pad
    ours = masked_cross_entropy(logits, targets, mask)
    ref = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1), ignore_index=pad)
    assert abs(ours.item() - ref.item()) < TOL
    # the same number from each sequence on its own, unpadded, summed and divided by the token count
    total = sum(
        F.cross_entropy(logits[:L, b], targets[:L, b], reduction="sum")
        for b, L in enumerate(lengths.tolist())
    )
    assert abs(ours.item() - total.item() / lengths.sum().item()) < TOL
    # and padding positions really are ignored: change their logits, the loss stays
    logits2 = logits.clone()
    logits2[~mask] = 100.0
    assert abs(masked_cross_entropy(logits2, targets, mask).item() - ours.item()) < TOL
    # without the mask the loss is a different number
    assert (
        abs(
            masked_cross_entropy(logits, targets, torch.ones(T, B)).item() - ours.item()
        )
        > 0.01
    )


def test_masked_cross_entropy_errors():
    with pytest.raises(ValueError, match="mask selects no position"):
        masked_cross_entropy(
            torch.zeros(2, 1, 3), torch.zeros(2, 1, dtype=torch.long), torch.zeros(2, 1)
        )
    with pytest.raises(
        ValueError, match=r"targets must have shape \(T=2, B=1\); got \(1, 2\)"
    ):
        masked_cross_entropy(
            torch.zeros(2, 1, 3), torch.zeros(1, 2, dtype=torch.long), torch.ones(2, 1)
        )
    with pytest.raises(ValueError, match=r"logits must have shape \(T, B, V\)"):
        masked_cross_entropy(
            torch.zeros(2, 3), torch.zeros(2, 1, dtype=torch.long), torch.ones(2, 1)
        )


def test_padding_does_not_change_the_encoders_final_state():
    enc = small_model().encoder
    seq = torch.tensor([4, 5, 6])
    _, c_alone = enc(seq[:, None], torch.tensor([3]))
    padded = torch.tensor(
        [[4, 7], [5, 8], [6, 9], [0, 10], [0, 11]]
    )  # col 0 = seq + two pads
    H, c = enc(padded, torch.tensor([3, 5]))
    assert torch.allclose(c[0], c_alone[0], atol=TOL)
    assert torch.equal(H[3:, 0], torch.zeros(2, 6))  # no outputs at padded steps
    # whereas simply running the RNN over the pads changes the state
    _, h_pads = enc.rnn(enc.embedding(padded[:, :1]))
    assert (h_pads[0, 0] - c_alone[0]).abs().max() > 1e-3


def _record_decoder_inputs(model):
    seen = []
    hook = model.decoder.embedding.register_forward_hook(
        lambda m, args, out: seen.append(args[0].clone())
    )
    return seen, hook


def test_teacher_forcing_ratio_one_feeds_the_ground_truth():
    model = small_model()
    src, src_len = torch.tensor([[4, 5], [6, 7], [8, 0]]), torch.tensor([3, 2])
    tgt_in = torch.tensor([[2, 2], [5, 6], [7, 8], [4, 4]])
    seen, hook = _record_decoder_inputs(model)
    logits = model(src, src_len, tgt_in, teacher_forcing_ratio=1.0)
    hook.remove()
    assert logits.shape == (4, 2, 9)
    assert torch.equal(torch.cat([s.reshape(-1, 2) for s in seen]), tgt_in)
    # the step-by-step loop computes the same logits as the one-call teacher-forced pass
    seen2, hook = _record_decoder_inputs(model)
    logits_free = model(src, src_len, tgt_in, teacher_forcing_ratio=0.0)
    hook.remove()
    fed = torch.cat([s.reshape(-1, 2) for s in seen2])
    assert torch.equal(fed[0], tgt_in[0])  # <bos>
    assert torch.equal(
        fed[1:], logits_free[:-1].argmax(-1)
    )  # its own previous predictions
    assert not torch.equal(fed, tgt_in)


def test_teacher_forcing_ratio_half_mixes_and_is_seeded():
    model = small_model()
    src, src_len = (
        torch.randint(1, 12, (4, 64), generator=torch.Generator().manual_seed(1)),
        torch.full((64,), 4),
    )
    tgt_in = torch.randint(4, 9, (6, 64), generator=torch.Generator().manual_seed(2))

    def fed(seed):
        seen, hook = _record_decoder_inputs(model)
        model(src, src_len, tgt_in, teacher_forcing_ratio=0.5, seed=seed)
        hook.remove()
        return torch.cat([s.reshape(-1, 64) for s in seen])

    a = fed(0)
    truth = (a[1:] == tgt_in[1:]).float().mean().item()
    assert (
        0.4 < truth < 0.8
    )  # half by coin plus the chance a prediction happens to be right
    assert torch.equal(a, fed(0)) and not torch.equal(a, fed(1))
    with pytest.raises(
        ValueError, match=r"teacher_forcing_ratio must lie in \[0, 1\]; got 1.5"
    ):
        model(src, src_len, tgt_in, teacher_forcing_ratio=1.5)


def test_greedy_decode_pads_after_eos():
    model = small_model()
    with torch.no_grad():  # make the decoder always say <eos> (id 3)
        model.decoder.out.weight.zero_()
        model.decoder.out.bias.zero_()
        model.decoder.out.bias[3] = 10.0
    out = model.greedy_decode(torch.tensor([[4], [5]]), torch.tensor([2]), max_len=4)
    assert out[:, 0].tolist() == [3, 0, 0, 0]


def test_exact_match_accuracy_by_hand():
    target = torch.tensor(
        [[5, 5, 5], [6, 6, 3], [3, 3, 0]]
    )  # third sequence is shorter
    pred = torch.tensor(
        [[5, 5, 5], [6, 7, 3], [3, 3, 9], [0, 0, 9]]
    )  # 1 right, 2 wrong token, 3 right then junk
    assert exact_match_accuracy(pred, target, eos_id=3) == pytest.approx(2 / 3)
    assert (
        exact_match_accuracy(
            torch.tensor([[5], [6]]), torch.tensor([[5], [6]]), eos_id=3
        )
        == 0.0
    )  # no <eos>
    with pytest.raises(ValueError, match=r"target must have shape \(T, B=3\)"):
        exact_match_accuracy(pred, target[:, :2])


def test_model_init_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b = small_model(), small_model()
    assert torch.rand(1).item() == before.item()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_training_lowers_the_loss_and_returns_its_history():
    pairs = make_date_pairs(200, seed=0)
    sv, tv = build_vocabs(pairs)
    data = encode_pairs(pairs, sv, tv)
    model = Seq2Seq(len(sv), len(tv), embed_size=8, hidden_size=32, seed=0)
    hist = train_seq2seq(model, data, steps=60, batch_size=32, lr=1e-2, seed=0)
    assert len(hist["loss"]) == 60 and hist["step"][-1] == 60
    assert (
        hist["loss"][0] > 2.0 and sum(hist["loss"][-10:]) / 10 < 0.7 * hist["loss"][0]
    )
    assert 0.0 <= greedy_accuracy(model, data) <= 1.0
    with pytest.raises(ValueError, match=r"missing \['tgt_out'\]"):
        train_seq2seq(model, {k: v for k, v in data.items() if k != "tgt_out"}, steps=1)
