"""A plausible bug in exercise 4 that the visible tests miss and the hidden tests catch.

``rnn_step_backward`` *averages* the bias gradient over the batch,
``db_h = da.mean(axis=0)``, instead of summing it (the loss is a mean, so
averaging "feels" right; but the 1/B is already inside ``dh_t``). With one
sequence (B=1) mean and sum agree, and the visible gradient checks use B=1 (for
tanh and relu); the visible B=2 test checks shapes only, and the shape is right.
The hidden tests compare with ``rnnkit`` for B > 1 and fail for both the step and
the sequence backward, which reuses the step. ``clip_grad_norm`` is left correct.
"""

SOLUTION_REPLACEMENTS: dict[str, str] = {
    "rnn_step_backward": '''def rnn_step_backward(dh_t, cache):
    """Backward of one RNN step (tanh or relu)."""
    x_t, h_prev, h_t, W_xh, W_hh, activation = cache
    if activation == "tanh":
        da = dh_t * (1.0 - h_t * h_t)    # (B, h)
    else:
        da = dh_t * (h_t > 0)
    dx_t = da @ W_xh                     # (B, d)
    dh_prev = da @ W_hh                  # (B, h)
    dW_xh = da.T @ x_t                   # (h, d)
    dW_hh = da.T @ h_prev                # (h, h)
    db_h = da.mean(axis=0)               # (h,)
    return dx_t, dh_prev, dW_xh, dW_hh, db_h
''',
}

EXPECTED_FAILING: list[str] = [
    "test_rnn_step_backward_hidden",
    "test_rnn_backward_hidden",
]
