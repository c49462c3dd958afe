"""A plausible bug in exercise 5 that the visible tests miss and the hidden tests catch.

``masked_cross_entropy`` averages each sequence over its own real tokens and
then averages those per-sequence means, so a short sequence weighs as much as
a long one. When every sequence has the same length, as in the visible example
(three real tokens each, then one pad step), that equals the token-weighted
mean, so the visible test passes, padding and gradient check included. Both
hidden tests use sequences of different lengths and fail: the comparison with
``rnnkit.losses.masked_cross_entropy`` (whose feedback names the mistake) and
the comparison with the unpadded sequences' summed losses over the total count.
``sequence_mask`` is left correct.
"""

SOLUTION_REPLACEMENTS: dict[str, str] = {
    "masked_cross_entropy": '''def masked_cross_entropy(
    logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean of -log softmax(logits)[targets] over the positions where mask is True."""
    logp = F.log_softmax(logits, dim=-1)
    nll = -logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # (T, B)
    m = mask.to(logits.dtype)
    per_sequence = (nll * m).sum(dim=0) / m.sum(dim=0)  # mean of each sequence, (B,)
    return per_sequence.mean()
''',
}

EXPECTED_FAILING: list[str] = [
    "test_masked_cross_entropy_hidden",
    "test_masked_cross_entropy_unpadded_hidden",
]
