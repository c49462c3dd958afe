"""tools/validate.py: nbgrader validate, the reasons first, an honest exit status."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from tools import validate

ASSIGNMENT, NOTEBOOK = "ex03_vanilla_rnn", "vanilla_rnn.ipynb"
RELEASED = validate.COURSE / "release" / ASSIGNMENT / NOTEBOOK
SOURCE = validate.COURSE / "source" / ASSIGNMENT / NOTEBOOK


@pytest.fixture
def handed_out(tmp_path):
    if not RELEASED.exists():
        pytest.fail(f"no {RELEASED}: run `make release` (`make test` does)")
    nb = tmp_path / NOTEBOOK
    shutil.copy(RELEASED, nb)
    return nb


def test_a_failing_notebook_exits_non_zero_with_the_reasons_first(handed_out, capsys):
    assert validate.main([str(handed_out)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"FAILED: {handed_out}"
    assert out[1].startswith(
        "  - NotImplementedError: `rnn_step_forward` is not written yet"
    )
    text = "\n".join(out)
    assert "VALIDATION FAILED ON" in text  # nbgrader's own report is kept
    assert out[-1].startswith(f"FAILED: {handed_out}")


def test_a_correct_notebook_passes_with_exit_zero(handed_out, capsys):
    source = nbformat.read(SOURCE, as_version=4)
    answers = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(handed_out, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    nbformat.write(nb, handed_out)
    assert validate.main([str(handed_out)]) == 0
    out = capsys.readouterr().out
    assert validate.SUCCESS in out and f"PASSED: {handed_out}" in out


def test_reasons_are_read_from_the_report():
    report = (
        "VALIDATION FAILED ON 2 CELL(S)!\n" + "=" * 90 + "\nThe following cell failed:"
        "\n\n    check(x)\n\nThe error was:\n\n"
        "    AssertionError: x is 3, expected 4\n    ----\n    Traceback ...\n\n"
        + "="
        * 90
        + "\nThe following cell failed:\n\n    f()\n\nThe error was:\n\n"
        "    ---------\n    ValueError    Traceback\n    ValueError: bad shape\n"
    )
    assert validate._reasons(report) == [
        "AssertionError: x is 3, expected 4",
        "ValueError: bad shape",
    ]
