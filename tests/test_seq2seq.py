"""Tests for rnnkit.seq2seq: the encoder's padding, teacher forcing, decoding, training.

The mask and the masked loss are tested in test_losses.py; the date split in
test_dates.py.
"""

import math

import pytest
import torch

from rnnkit.dates import build_vocabs, encode_pairs, make_date_pairs
from rnnkit.seq2seq import (
    Decoder,
    Encoder,
    Seq2Seq,
    exact_match_accuracy,
    greedy_accuracy,
    train_seq2seq,
)
from rnnkit.training import HISTORY_KEYS

TOL = 1e-6  # float32 round-off on sums of a few dozen terms


def small_model(**kw):
    return Seq2Seq(12, 9, embed_size=4, hidden_size=6, seed=0, **kw)


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


def test_encoder_validates_its_inputs():
    enc = Encoder(12, 4, 6)
    src, lengths = torch.tensor([[4, 5], [6, 7], [8, 0]]), torch.tensor([3, 2])
    assert enc(src, lengths)[1].shape == (2, 6)
    with pytest.raises(TypeError, match="src must hold integer ids"):
        enc(src.float(), lengths)
    with pytest.raises(ValueError, match=r"src must have shape \(S, B\); got \(3,\)"):
        enc(src[:, 0], lengths)
    with pytest.raises(ValueError, match=r"src_lengths must have shape \(B=2,\)"):
        enc(src, lengths[:1])
    with pytest.raises(ValueError, match=r"src_lengths must lie in \[1, S=3\]"):
        enc(src, torch.tensor([4, 2]))
    with pytest.raises(ValueError, match=r"src_lengths must lie in \[1, S=3\]"):
        enc(src, torch.tensor([3, 0]))
    with pytest.raises(ValueError, match=r"src must be token ids in \[0, V=12\)"):
        enc(src + 5, lengths)
    with pytest.raises(TypeError, match="src must be a torch.Tensor"):
        enc(src.tolist(), lengths)


def test_decoder_validates_its_inputs():
    dec = Decoder(9, 4, 6)
    tgt_in, c = torch.tensor([[2, 2], [5, 6]]), torch.zeros(2, 6)
    assert dec(tgt_in, c).shape == (2, 2, 9)
    with pytest.raises(
        ValueError, match=r"c must have shape \(B=2, h=6\); got \(2, 5\)"
    ):
        dec(tgt_in, torch.zeros(2, 5))
    with pytest.raises(
        ValueError, match=r"c must have shape \(B=2, h=6\); got \(3, 6\)"
    ):
        dec(tgt_in, torch.zeros(3, 6))
    with pytest.raises(TypeError, match="c must be a floating-point tensor"):
        dec(tgt_in, torch.zeros(2, 6, dtype=torch.long))
    with pytest.raises(TypeError, match="tgt_in must hold integer ids"):
        dec(tgt_in.float(), c)
    with pytest.raises(ValueError, match=r"tgt_in must be token ids in \[0, V=9\)"):
        dec(tgt_in + 4, c)
    o, s = dec.step(tgt_in[0], c, c)
    assert o.shape == (2, 9) and s.shape == (2, 6)
    with pytest.raises(ValueError, match=r"y_prev must have shape \(B,\)"):
        dec.step(tgt_in, c, c)
    with pytest.raises(ValueError, match=r"s must have shape \(B=2, h=6\)"):
        dec.step(tgt_in[0], c[:1], c)
    with pytest.raises(ValueError, match=r"y_prev must be token ids in \[0, V=9\)"):
        dec.step(torch.tensor([9, 0]), c, c)


def test_decoder_steps_equal_the_teacher_forced_pass():
    for feed_context in (True, False):
        dec = small_model(feed_context=feed_context).decoder
        tgt_in = torch.tensor([[2, 2], [5, 6], [7, 8], [4, 4]])
        c = torch.randn(2, 6, generator=torch.Generator().manual_seed(0))
        s, steps = c, []
        for t in range(tgt_in.shape[0]):
            o, s = dec.step(tgt_in[t], s, c)
            steps.append(o)
        assert torch.allclose(torch.stack(steps), dec(tgt_in, c), atol=TOL)


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
    for ratio in (0.5, 1.0):  # the step-by-step loop checks its inputs too
        with pytest.raises(ValueError, match=r"tgt_in must be token ids in \[0, V=9\)"):
            model(src, src_len, tgt_in + 9, teacher_forcing_ratio=ratio)


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


def _date_data(n=200):
    pairs = make_date_pairs(n, seed=0)
    sv, tv = build_vocabs(pairs)
    return encode_pairs(pairs, sv, tv), len(sv), len(tv)


def _date_model(sv, tv):
    return Seq2Seq(sv, tv, embed_size=8, hidden_size=32, seed=0)


def test_training_lowers_the_loss_and_returns_its_history():
    data, sv, tv = _date_data()
    model = _date_model(sv, tv)
    hist = train_seq2seq(
        model, data, steps=60, batch_size=32, lr=1e-2, seed=0, progress=False
    )
    # the trainer contract of rnnkit.training: equal-length lists, one per step
    assert list(hist) == list(HISTORY_KEYS)
    assert all(len(v) == 60 for v in hist.values())
    assert hist["step"] == list(range(1, 61))
    assert all(b >= a for a, b in zip(hist["elapsed_s"], hist["elapsed_s"][1:]))
    loss = hist["train_loss"]
    assert loss[0] > 2.0 and sum(loss[-10:]) / 10 < 0.7 * loss[0]
    assert not model.training  # left in eval mode
    assert 0.0 <= greedy_accuracy(model, data) <= 1.0
    with pytest.raises(ValueError, match=r"missing \['tgt_out'\]"):
        train_seq2seq(model, {k: v for k, v in data.items() if k != "tgt_out"}, steps=1)


def test_training_is_reproducible_per_seed_and_options_change_it():
    data, sv, tv = _date_data(100)

    def losses(**kw):
        opts = dict(steps=5, batch_size=16, lr=1e-2, seed=0, progress=False) | kw
        return train_seq2seq(_date_model(sv, tv), data, **opts)["train_loss"]

    ref = losses()
    assert losses() == ref
    for kw in (
        dict(seed=1),
        dict(lr_schedule="constant"),
        dict(clip=1e-3),
        dict(teacher_forcing_ratio=0.5),
    ):
        other = losses(**kw)
        assert other[-1] != ref[-1], kw
    assert losses(seed=1)[0] != ref[0]  # another seed draws other minibatches
    assert len(losses(clip=None)) == 5  # no clipping at all is allowed too


def test_training_without_the_mask_counts_the_padding():
    pairs = [(iso, words) for words, iso in make_date_pairs(100, seed=0)]
    sv, tv = build_vocabs(pairs)
    data = encode_pairs(pairs, sv, tv)  # written-out targets: lengths differ
    assert data["tgt_lengths"].min() < data["tgt_lengths"].max()

    def losses(masked):
        model = _date_model(len(sv), len(tv))
        opts = dict(steps=3, batch_size=16, seed=0, progress=False)
        return train_seq2seq(model, data, masked=masked, **opts)["train_loss"]

    assert losses(True)[0] != losses(False)[0]


def test_training_follows_the_named_learning_rate_schedule(monkeypatch):
    from rnnkit import training

    calls = []

    def spy(schedule, fraction):
        calls.append((schedule, fraction))
        return 1.0

    data, sv, tv = _date_data(50)
    monkeypatch.setattr(training, "lr_factor", spy)
    train_seq2seq(_date_model(sv, tv), data, steps=4, batch_size=8, progress=False)
    # one factor per update, at fractions 0, 1/4, 2/4, 3/4 of the run, and 4/4 after
    assert [f for _, f in calls] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert {s for s, _ in calls} == {"cosine"}  # the default, as before


def test_training_option_errors():
    data, sv, tv = _date_data(50)
    model = _date_model(sv, tv)
    kw = dict(steps=1, progress=False)
    with pytest.raises(ValueError, match="lr_schedule must be one of"):
        train_seq2seq(model, data, lr_schedule="linear", **kw)
    with pytest.raises(ValueError, match="clip must be a finite number > 0"):
        train_seq2seq(model, data, clip=0.0, **kw)
    with pytest.raises(TypeError, match="clip must be a number"):
        train_seq2seq(model, data, clip="1", **kw)
    with pytest.raises(TypeError, match="seed must be an int"):
        train_seq2seq(model, data, seed=1.5, **kw)
    with pytest.raises(TypeError, match="progress must be True"):
        train_seq2seq(model, data, steps=1, progress=None)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        train_seq2seq(model, data, lr=0.0, **kw)


def test_training_stops_at_a_non_finite_loss():
    data, sv, tv = _date_data(50)
    model = _date_model(sv, tv)
    with torch.no_grad():
        model.decoder.out.bias[0] = math.nan
    with pytest.raises(FloatingPointError, match="at step 1"):
        train_seq2seq(model, data, steps=3, batch_size=8, progress=False)
