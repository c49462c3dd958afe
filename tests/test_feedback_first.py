"""Feedback first: in a Jupyter kernel, a failed check's reason is the first line.

Runs cells in a real IPython kernel (as JupyterLab and nbgrader do) after the import
every exercise starts with, and reads the error output the kernel sends.
"""

from __future__ import annotations

import re

import pytest
from jupyter_client.manager import start_new_kernel

from rnnkit import feedback

ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def kernel():
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def run(kc, code: str) -> dict | None:
    """Execute ``code``; return the error output ({ename, evalue, lines}) or None."""
    msg_id = kc.execute(code)
    error = None
    while True:
        msg = kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        content = msg["content"]
        if msg["msg_type"] == "error":
            text = ANSI.sub("", "\n".join(content["traceback"]))
            error = {
                "ename": content["ename"],
                "evalue": content["evalue"],
                "lines": text.splitlines(),
            }
        elif msg["msg_type"] == "status" and content["execution_state"] == "idle":
            return error


@pytest.fixture(scope="module")
def shell(kernel):
    assert run(kernel, "import numpy as np\nfrom rnnkit.feedback import *") is None
    assert (
        run(kernel, "def rnn_step_forward(x):\n    raise NotImplementedError()") is None
    )
    return kernel


def test_a_failed_check_shows_its_reason_on_the_first_line(shell):
    err = run(shell, "h = np.zeros((3, 2))\ncheck_array('h_t', h, np.zeros((2, 3)))")
    assert err["lines"][0] == "AssertionError: h_t has shape (3, 2), expected (2, 3)"
    # the traceback follows, ending at the test's own line, without the helper
    assert any("check_array('h_t', h" in line for line in err["lines"])
    assert not any("feedback.py" in line for line in err["lines"]), err["lines"]


def test_a_multi_line_message_leads_with_its_first_line(shell):
    err = run(
        shell,
        "check_grads({'dW': np.ones(2), 'db': np.zeros(1)},"
        " {'dW': np.zeros(2), 'db': np.zeros(1)}, hints={'dW': 'check dW'})",
    )
    assert err["lines"][0] == "AssertionError: dW wrong; db right: check dW"
    assert "dW is wrong" in err["evalue"]  # the details stay in the message


def test_an_unwritten_function_is_named_with_how_to_start(shell):
    err = run(shell, "rnn_step_forward(np.zeros(3))")
    first = err["lines"][0]
    assert first.startswith("NotImplementedError: `rnn_step_forward` is not written")
    assert "replace `raise NotImplementedError()`" in first
    assert err["evalue"] == first.removeprefix("NotImplementedError: ")


def test_an_unwritten_cell_answer_says_so(shell):
    err = run(shell, "answer = None\nraise NotImplementedError()")
    assert err["lines"][0].startswith(
        "NotImplementedError: This cell's answer is not written yet"
    )


def test_other_messages_and_bare_asserts(shell):
    err = run(shell, "raise NotImplementedError('torch backend only')")
    assert err["lines"][0] == "NotImplementedError: torch backend only"
    err = run(shell, "x = 1\nassert x == 2")
    assert err["lines"][0] == "AssertionError at line 2: assert x == 2"
    # other exceptions keep IPython's usual traceback
    err = run(shell, "1 / 0")
    assert err["ename"] == "ZeroDivisionError"
    assert not err["lines"][0].startswith("ZeroDivisionError")


def test_outside_ipython_nothing_is_installed():
    assert feedback.show_reason_first() is False
