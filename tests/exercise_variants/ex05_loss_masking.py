"""Plausible bugs in exercise 5 (loss masking), each caught by a visible test.

The visible example has sequences of different lengths (5, 2, 3) padded to T = 5,
with T, B and V all different, so a per-sequence mean, a wrong denominator and an
off-by-one mask each give a different number, and the feedback names which.
"""

_MCE_HEAD = '''def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean of -log softmax(logits)[targets] over the positions where mask is True."""
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (T, B)
    m = mask.to(logits.dtype)
'''

_MASK_HEAD = '''\
def sequence_mask(lengths: torch.Tensor, T: int) -> torch.Tensor:
    """m[t, b] = t < lengths[b]: a (T, B) bool mask of the valid steps."""
'''

VARIANTS = {
    "per_sequence_mean": {
        "doc": "averages each sequence over its own tokens, then averages the B means",
        "replacements": {
            "masked_cross_entropy": _MCE_HEAD
            + """    per_sequence = (nll * m).sum(dim=0) / m.sum(dim=0)  # (B,)
    return per_sequence.mean()
""",
        },
        "failing": [
            "test_masked_cross_entropy_visible",
            "test_masked_cross_entropy_hidden",
            "test_masked_cross_entropy_unpadded_hidden",
        ],
        "feedback": "you averaged the per-sequence means",
    },
    "divide_by_all_positions": {
        "doc": "masks the numerator but divides by T*B, pads included",
        "replacements": {
            "masked_cross_entropy": _MCE_HEAD
            + """    return (nll * m).sum() / nll.numel()
""",
        },
        "failing": [
            "test_masked_cross_entropy_visible",
            "test_masked_cross_entropy_hidden",
            "test_masked_cross_entropy_unpadded_hidden",
        ],
        "feedback": "you divided by T*B = 15, all positions",
    },
    "unmasked_mean": {
        "doc": "ignores the mask: the mean over every position, pads included",
        "replacements": {
            "masked_cross_entropy": _MCE_HEAD
            + """    return nll.mean()
""",
        },
        "failing": [
            "test_masked_cross_entropy_visible",
            "test_masked_cross_entropy_hidden",
            "test_masked_cross_entropy_unpadded_hidden",
        ],
        "feedback": "you averaged over all T*B positions, pads included",
    },
    "mask_off_by_one": {
        "doc": "sequence_mask uses t <= L_b, one real step too many per sequence",
        "replacements": {
            "sequence_mask": _MASK_HEAD
            + """    return torch.arange(T).unsqueeze(1) <= lengths.unsqueeze(0)
""",
        },
        "failing": ["test_sequence_mask_visible", "test_sequence_mask_hidden"],
        "feedback": "use t < L_b, not t <= L_b",
    },
    "mask_batch_major": {
        "doc": "sequence_mask returns the (B, T) mask, not time-major (T, B)",
        "replacements": {
            "sequence_mask": _MASK_HEAD
            + """    return torch.arange(T).unsqueeze(0) < lengths.unsqueeze(1)
""",
        },
        "failing": ["test_sequence_mask_visible", "test_sequence_mask_hidden"],
        "feedback": "the book is time-major",
    },
}
