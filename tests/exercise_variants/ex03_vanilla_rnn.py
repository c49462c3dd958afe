"""A plausible bug in exercise 3 that the visible tests miss and the hidden tests catch.

``param_count`` sizes ``W_xh`` as ``(h, V)`` instead of ``(h, d)``: the student
remembers that the character model feeds one-hot vectors and takes the input
size to be the vocabulary size. The visible tests use that model, where
``d = V``, so they pass; the hidden test counts real arrays for sizes with
``d != V`` and fails. ``rnn_step_forward`` and ``rnn_forward`` are left correct.
"""

SOLUTION_REPLACEMENTS: dict[str, str] = {
    "param_count": '''def param_count(d: int, h: int, V: int) -> int:
    """The scalars in W_xh (h, d), W_hh (h, h), b_h (h,), W_ho (V, h), b_o (V,)."""
    return h * V + h * h + h + V * h + V
''',
}

EXPECTED_FAILING: list[str] = ["test_param_count_hidden"]
