"""Plausible bugs in exercise 8 (encoder-decoder), each caught by a visible test.

The visible tests use T=6, B=3, V=11, e=7, h=5 (pairwise distinct) with targets of
different lengths; the greedy test uses weights built so that the argmax path is
known (two sequences end with <eos> at different steps, one loops to max_len).
"""

_LOSS_HEAD = '''def teacher_forced_loss(params, c, tgt_in, tgt_out, tgt_lengths):
    """Mean cross-entropy over the real tokens of tgt_out (teacher forcing)."""
    logits = decoder_forward(params, c, tgt_in, teacher_forcing_ratio=1.0)
    T = tgt_out.shape[0]
    mask = (torch.arange(T)[:, None] < tgt_lengths[None, :]).to(logits.dtype)
    logp = F.log_softmax(logits, dim=-1)
'''

_GREEDY_HEAD = '''def greedy_decode(
    params, c, max_len, *, bos_id=BOS, eos_id=EOS, pad_id=PAD
):
    """Free-running decoding: (max_len, B) ids, <pad> after <eos>."""
    B = c.shape[0]
    y = torch.full((B,), bos_id, dtype=torch.long)
    done = torch.zeros(B, dtype=torch.bool)
    s, out = c, []
    with torch.no_grad():
        for _ in range(max_len):
            o, s = decoder_step(y, s, c, params)
            y = o.argmax(-1)
'''

_LOSS_TESTS = ["test_teacher_forced_loss_visible", "test_teacher_forced_loss_hidden"]

VARIANTS = {
    "unmasked_mean": {
        "doc": "averages the loss over all T*B positions, pads included",
        "replacements": {
            "teacher_forced_loss": _LOSS_HEAD
            + """    nll = -logp.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
    return nll.mean()
""",
        },
        "failing": _LOSS_TESTS,
        "feedback": "you averaged over all T*B = 18 positions, pads included",
    },
    "per_sequence_mean": {
        "doc": "averages each sequence over its own tokens, then the B means",
        "replacements": {
            "teacher_forced_loss": _LOSS_HEAD
            + """    nll = -logp.gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)
    return ((nll * mask).sum(0) / mask.sum(0)).mean()
""",
        },
        "failing": _LOSS_TESTS,
        "feedback": "you averaged the per-sequence means",
    },
    "targets_not_shifted": {
        "doc": "scores the logits against tgt_in (the inputs) instead of tgt_out",
        "replacements": {
            "teacher_forced_loss": _LOSS_HEAD
            + """    nll = -logp.gather(-1, tgt_in.unsqueeze(-1)).squeeze(-1)
    return (nll * mask).sum() / mask.sum()
""",
        },
        "failing": _LOSS_TESTS,
        "feedback": "the targets are tgt_out (the next tokens), not tgt_in",
    },
    "always_ground_truth": {
        "doc": "decoder_forward ignores the ratio and always feeds tgt_in",
        "replacements": {
            "decoder_forward": '''def decoder_forward(
    params, c, tgt_in, teacher_forcing_ratio=1.0, seed=0
):
    """Logits (T, B, V) of all steps, from s_0 = c."""
    s, logits = c, []
    for t in range(tgt_in.shape[0]):
        o, s = decoder_step(tgt_in[t], s, c, params)
        logits.append(o)
    return torch.stack(logits)
''',
        },
        "failing": ["test_decoder_forward_visible", "test_decoder_forward_hidden"],
        "feedback": "never the ground truth tgt_in",
    },
    "eos_does_not_stop": {
        "doc": "greedy_decode keeps writing tokens after a sequence's <eos>",
        "replacements": {
            "greedy_decode": _GREEDY_HEAD
            + """            out.append(y)
    return torch.stack(out)
""",
        },
        "failing": ["test_greedy_decode_visible", "test_greedy_decode_hidden"],
        "feedback": "every position after it must hold <pad>",
    },
    "context_first": {
        "doc": "decoder_step concatenates [c, E[y_prev]] instead of [E[y_prev], c]",
        "replacements": {
            "decoder_step": '''def decoder_step(y_prev, s_prev, c, params):
    """One decoder step: (logits o_t (B, V), s_t (B, h))."""
    x = torch.cat([c, params["E"][y_prev]], dim=-1)
    a = x @ params["W_xs"].T + s_prev @ params["W_ss"].T + params["b_s"]
    s_t = torch.tanh(a)
    return s_t @ params["W_so"].T + params["b_o"], s_t
''',
        },
        "failing": [
            "test_decoder_step_visible",
            "test_decoder_step_hidden",
            "test_decoder_forward_visible",
            "test_decoder_forward_hidden",
            "test_teacher_forced_loss_visible",
            "test_teacher_forced_loss_hidden",
            "test_greedy_decode_visible",
            "test_greedy_decode_hidden",
        ],
        "feedback": "you put the context first",
    },
}
