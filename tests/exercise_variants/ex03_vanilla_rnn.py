"""Plausible bugs in exercise 3 (the vanilla RNN forward pass), each caught by a
visible test whose message names the mistake.

The visible tests use T = 5, B = 2, d = 4, h = 3 and, for ``param_count``, models
with d != V, so confusing the input size with the vocabulary size, or the time
axis with the hidden size, cannot pass. ``rnn_forward``'s visible test first
checks ``rnn_step_forward`` again, so a bug in the step fails both tasks' tests.
"""

_STEP = '''\
def rnn_step_forward(x_t, h_prev, W_xh, W_hh, b_h, activation="tanh"):
    """One RNN step: h_t = phi(x_t W_xh^T + h_prev W_hh^T + b_h)."""
    a_t = x_t @ W_xh.T + h_prev @ W_hh.T + b_h
    h_t = np.tanh(a_t) if activation == "tanh" else np.maximum(a_t, 0.0)
    return h_t, (x_t, h_prev, h_t, W_xh, W_hh, activation)
'''

_FORWARD = '''\
def rnn_forward(x, h0, W_xh, W_hh, b_h, activation="tanh"):
    """Run the RNN over a sequence, one rnn_step_forward per time step."""
    T, B, d = x.shape
    h = W_hh.shape[0]
    H = np.empty((T, B, h), dtype=np.result_type(x, h0, W_xh))
    steps = []
    h_t = h0
    for t in range(T):
        h_t, step_cache = rnn_step_forward(x[t], h_t, W_xh, W_hh, b_h, activation)
        H[t] = h_t
        steps.append(step_cache)
    return H, {"steps": steps, "shape": (T, B, d, h)}
'''

_FORWARD_TESTS = ["test_rnn_forward_visible", "test_rnn_forward_hidden"]


def _swap(text: str, old: str, new: str) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


VARIANTS = {
    "input_size_is_V": {
        "doc": "param_count sizes W_xh as (h, V): the one-hot habit, d taken to be V",
        "replacements": {
            "param_count": '''\
def param_count(d: int, h: int, V: int) -> int:
    """Scalars in W_xh (h, d), W_hh (h, h), b_h (h,), W_ho (V, h), b_o (V,)."""
    return h * V + h * h + h + V * h + V
''',
        },
        "failing": ["test_param_count_visible", "test_param_count_hidden"],
        "feedback": "W_xh has shape (h, d): d is the input size",
    },
    "W_hh_not_transposed": {
        "doc": "the recurrent term is h_prev @ W_hh, not h_prev @ W_hh.T",
        "replacements": {
            "rnn_step_forward": _swap(_STEP, "h_prev @ W_hh.T", "h_prev @ W_hh"),
        },
        "failing": ["test_rnn_step_forward_visible", "test_rnn_step_forward_hidden"]
        + _FORWARD_TESTS,
        "feedback": "h_prev must be multiplied by W_hh.T, not W_hh",
    },
    "state_not_carried": {
        "doc": "every step starts from h0: the new state is not passed on",
        "replacements": {
            "rnn_forward": _swap(
                _FORWARD,
                "h_t, step_cache = rnn_step_forward(x[t], h_t,",
                "h_t, step_cache = rnn_step_forward(x[t], h0,",
            ),
        },
        "failing": _FORWARD_TESTS,
        "feedback": "every step starts from h0",
    },
    "activation_not_passed": {
        "doc": "rnn_forward calls the step without activation, so relu runs as tanh",
        "replacements": {
            "rnn_forward": _swap(
                _FORWARD, "W_hh, b_h, activation)\n", "W_hh, b_h)  # tanh\n"
            ),
        },
        "failing": _FORWARD_TESTS,
        "feedback": "pass activation on to rnn_step_forward",
    },
    "H_includes_h0": {
        "doc": "H stacks h0 and the T new states, T + 1 rows in all",
        "replacements": {
            "rnn_forward": _swap(
                _FORWARD,
                "    return H, {",
                "    H = np.concatenate([h0[None], H])\n    return H, {",
            ),
        },
        "failing": _FORWARD_TESTS,
        "feedback": "H must not include h0",
    },
}
