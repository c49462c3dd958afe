"""Plausible bugs in exercise 4 (BPTT), each caught by a visible test.

The visible gradient checks use batches of B = 3 rows with T, B, d and h all
different, so a bias gradient averaged over the batch (which B = 1 could not
tell from the sum) fails a visible test that says so. ``rnn_backward``'s visible
test first checks ``rnn_step_backward`` again, so a bug in the step fails both
tasks' tests.
"""

_STEP = '''\
def rnn_step_backward(dh_t, cache):
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
    db_h = da.sum(axis=0)                # (h,)
    return dx_t, dh_prev, dW_xh, dW_hh, db_h
'''

_BACKWARD = '''\
def rnn_backward(dH, cache):
    """Backpropagation through time for the RNN (tanh or relu)."""
    T, B, d, h = cache["shape"]
    dx = np.zeros((T, B, d))
    dW_xh, dW_hh, db_h = np.zeros((h, d)), np.zeros((h, h)), np.zeros(h)
    dh_next = np.zeros((B, h))
    for t in reversed(range(T)):
        g = rnn_step_backward(dH[t] + dh_next, cache["steps"][t])
        dx[t], dh_next, dW_xh_t, dW_hh_t, db_h_t = g
        dW_xh += dW_xh_t
        dW_hh += dW_hh_t
        db_h += db_h_t
    return {"dx": dx, "dh0": dh_next, "dW_xh": dW_xh, "dW_hh": dW_hh, "db_h": db_h}
'''

_STEP_AND_BPTT = [
    "test_rnn_step_backward_visible",
    "test_rnn_step_backward_hidden",
    "test_rnn_backward_visible",
    "test_rnn_backward_hidden",
]
_BPTT = ["test_rnn_backward_visible", "test_rnn_backward_hidden"]


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


VARIANTS = {
    "bias_mean": {
        "doc": "db_h averaged over the batch (da.mean(axis=0)) instead of summed",
        "replacements": {
            "rnn_step_backward": _swap(
                _STEP, "db_h = da.sum(axis=0)", "db_h = da.mean(axis=0)"
            ),
        },
        "failing": _STEP_AND_BPTT,
        "feedback": "db_h is 3 times too small: you averaged it over the batch",
    },
    "dW_hh_with_h_t": {
        "doc": "dW_hh pairs da_t with the new state h_t instead of h_prev",
        "replacements": {
            "rnn_step_backward": _swap(
                _STEP, "dW_hh = da.T @ h_prev", "dW_hh = da.T @ h_t   "
            ),
        },
        "failing": _STEP_AND_BPTT,
        "feedback": "dW_hh pairs da_t with h_prev, the state before the step",
    },
    "no_gradient_from_the_future": {
        "doc": "each step gets only dH[t]: dh_next from step t+1 is never added",
        "replacements": {
            "rnn_backward": _swap(
                _BACKWARD,
                "rnn_step_backward(dH[t] + dh_next,",
                "rnn_step_backward(dH[t],",
            ),
        },
        "failing": _BPTT,
        "feedback": "the total gradient reaching h_t, dH[t] + dh_next",
    },
    "weights_overwritten": {
        "doc": "each step's weight gradients replace the total instead of adding to it",
        "replacements": {
            "rnn_backward": _swap(
                _swap(
                    _swap(_BACKWARD, "dW_xh += dW_xh_t", "dW_xh = dW_xh_t"),
                    "dW_hh += dW_hh_t",
                    "dW_hh = dW_hh_t",
                ),
                "db_h += db_h_t",
                "db_h = db_h_t",
            ),
        },
        "failing": _BPTT,
        "feedback": "the weights are shared by all steps: add every step's share",
    },
    "clip_each_array": {
        "doc": "clips every array by its own norm instead of the global norm",
        "replacements": {
            "clip_grad_norm": '''\
def clip_grad_norm(grads: dict, max_norm: float) -> float:
    """Rescale the arrays in grads in place to norm <= max_norm; return the norm."""
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    for g in grads.values():
        own = float(np.sqrt(np.sum(g * g)))
        if own > max_norm:
            g *= max_norm / own
    return norm
''',
        },
        "failing": ["test_clip_grad_norm_visible", "test_clip_grad_norm_hidden"],
        "feedback": "you clipped each array by its own norm",
    },
}
