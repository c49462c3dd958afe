"""The graded exercises, round trip through nbgrader itself, offline.

For every assignment in exercises/source, in a scratch copy of the course:
release it with nbgrader, then autograde three hand-ins and export the gradebook:

* ``solution``  – the released notebook with the instructor's solution filled in:
  full marks;
* ``untouched`` – the released notebook as handed out: zero;
* ``partial``   – the solution with a plausible bug
  (tests/exercise_variants/<assignment>.py) that passes every visible test: it
  loses exactly the points of the hidden tests it fails.

The course tool is ``tools/course.py`` (the instructor's command line, outside the
student-facing package); pytest puts the repository root on ``sys.path`` for the
``tests`` package, so it imports as ``tools.course``.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tools.course import (
    SubmissionError,
    assignments,
    check_submissions,
    grade,
    read_grades,
    release,
    start_work,
)

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = assignments(ROOT / "exercises")


def _copy_course(dst: Path) -> Path:
    course = dst / "exercises"
    course.mkdir()
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    return course


def _cells_by_id(nb) -> dict:
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if "nbgrader" in c.metadata
    }


def _variants(name: str):
    return importlib.import_module(f"tests.exercise_variants.{name}")


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = _copy_course(tmp_path_factory.mktemp("course"))
    release(course)
    expected: dict[tuple[str, str], float] = {}
    for name in ASSIGNMENTS:
        for nb_path in sorted((course / "source" / name).glob("*.ipynb")):
            source = nbformat.read(nb_path, as_version=4)
            released = nbformat.read(
                course / "release" / name / nb_path.name, as_version=4
            )
            src_cells = _cells_by_id(source)
            points = {
                gid: c.metadata["nbgrader"].get("points", 0)
                for gid, c in src_cells.items()
                if c.metadata["nbgrader"].get("grade")
            }
            variant = _variants(name)
            for student in ("solution", "untouched", "partial"):
                nb = nbformat.from_dict(json.loads(json.dumps(released)))
                if student != "untouched":
                    for gid, cell in _cells_by_id(nb).items():
                        if cell.metadata["nbgrader"].get("solution"):
                            cell.source = src_cells[gid].source
                if student == "partial":
                    cells = _cells_by_id(nb)
                    for gid, code in variant.SOLUTION_REPLACEMENTS.items():
                        assert cells[gid].metadata["nbgrader"].get("solution"), (
                            f"{gid} is not a solution cell"
                        )
                        cells[gid].source = code
                out = course / "submitted" / student / name / nb_path.name
                out.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, out)
            total = float(sum(points.values()))
            lost = float(sum(points[g] for g in _variants(name).EXPECTED_FAILING))
            assert 0 < lost < total, (
                f"{name}: the partial variant must lose some but not all points"
            )
            expected[("solution", name)] = expected.get(("solution", name), 0.0) + total
            expected[("untouched", name)] = 0.0
            expected[("partial", name)] = (
                expected.get(("partial", name), 0.0) + total - lost
            )
    csv_path = grade(course, course / "grades.csv")
    return read_grades(csv_path), expected


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_scores_full_marks(graded, name):
    grades, expected = graded
    score, max_score = grades[("solution", name)]
    assert max_score == expected[("solution", name)] > 0
    assert score == max_score


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_release_scores_zero(graded, name):
    grades, _ = graded
    assert grades[("untouched", name)][0] == 0


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_passing_visible_but_failing_hidden_loses_those_points(graded, name):
    grades, expected = graded
    assert grades[("partial", name)][0] == expected[("partial", name)]


def test_release_strips_solutions_and_hidden_tests(tmp_path):
    course = _copy_course(tmp_path)
    release(course)
    for name in ASSIGNMENTS:
        for nb_path in (course / "release" / name).glob("*.ipynb"):
            text = nb_path.read_text()
            assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
            assert "raise NotImplementedError()" in text


def test_start_work_never_overwrites(tmp_path):
    course = _copy_course(tmp_path)
    release(course)
    first = start_work(course, tmp_path / "my-work")
    assert first["copied"] and not first["kept"]
    mine = first["copied"][0]
    mine.write_text("my answers")
    second = start_work(course, tmp_path / "my-work")
    assert not second["copied"] and mine in second["kept"]
    assert mine.read_text() == "my answers"


def test_malformed_submissions_are_named(tmp_path):
    course = _copy_course(tmp_path)
    name = ASSIGNMENTS[0]
    nb_name = next((course / "source" / name).glob("*.ipynb")).name
    (course / "submitted" / "ann" / name).mkdir(parents=True)
    (course / "submitted" / "ann" / name / nb_name).write_text("{ this is not json")
    (course / "submitted" / "bob" / name).mkdir(parents=True)
    (course / "submitted" / "cat" / "ex99_unknown").mkdir(parents=True)
    with pytest.raises(SubmissionError) as err:
        check_submissions(course)
    msg = str(err.value)
    assert f"ann/{name}/{nb_name}: not a" in msg
    assert f"bob/{name}: missing {nb_name}" in msg
    assert "unknown assignment folder 'ex99_unknown'" in msg


def test_no_submissions_is_an_error(tmp_path):
    course = _copy_course(tmp_path)
    with pytest.raises(SubmissionError, match="does not exist"):
        check_submissions(course)


def test_command_line_runs_as_a_script_from_the_exercises_folder(tmp_path):
    # The Makefile runs `cd exercises && python ../tools/course.py <command>`.
    course = _copy_course(tmp_path)
    script = ROOT / "tools" / "course.py"
    run = subprocess.run(
        [sys.executable, str(script), "grade"],
        cwd=course,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2, run.stderr
    assert "error: no submissions" in run.stderr and "does not exist" in run.stderr
    usage = subprocess.run(
        [sys.executable, str(script), "--help"], capture_output=True, text=True
    )
    assert usage.returncode == 0
    assert "release" in usage.stdout and "start-work" in usage.stdout
