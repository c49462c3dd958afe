"""The graded exercises, round trip through nbgrader itself, offline.

For every assignment in exercises/source, in a scratch copy of the course, the
exercises are released with nbgrader once, then every hand-in below is graded by
ONE call of ``tools.course.grade`` (so the grading overhead is paid once):

* student ``solution``: the released notebooks with the instructor's solution
  filled in, for every assignment: full marks; a cell appended to it reports the
  kernel's CPU time, which must stay within 20 s (the solution notebook, hidden
  tests included, runs in 20 s on one core);
* student ``untouched``: the released notebooks as handed out: zero;
* one student per buggy variant, named ``<exNN>_<variant>`` (e.g.
  ``ex04_bias_mean``): the solution with the variant's replacement cells from
  ``tests/exercise_variants/<assignment>.py``. It must fail exactly the test
  cells the variant lists in ``failing`` (read from the autograded notebook's
  error outputs), lose exactly their points, and the output of a failing cell
  must contain the variant's ``feedback``, the message that names the bug.

A variant file holds ``VARIANTS = {name: {"doc", "replacements", "failing",
"feedback"}}`` with at least three variants; an assignment without one fails
``test_variant_file``.

The release is also checked against the source: no line of a solution region
(``### BEGIN SOLUTION``) or a hidden-test region (``### BEGIN HIDDEN TESTS``)
appears in a released notebook, unless the same line also stands outside those
regions in the source (e.g. an import the visible tests need too).

The course tool is ``tools/course.py`` (the instructor's command line, outside the
student-facing package); pytest puts the repository root on ``sys.path`` for the
``tests`` package, so it imports as ``tools.course``.
"""

from __future__ import annotations

import csv
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbconvert.preprocessors import CoalesceStreamsPreprocessor

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
VARIANT_DIR = ROOT / "tests" / "exercise_variants"
MIN_VARIANTS = 3
CPU_LIMIT_S = 20.0
CPU_MARK = "KERNEL_CPU_SECONDS"
TIMING_CELL = (
    "# Appended by tests/test_grading.py: the kernel's CPU time so far (all threads).\n"
    "import time as _time_for_grading\n"
    f"print('{CPU_MARK}', _time_for_grading.process_time())"
)
REGION = re.compile(
    r"### BEGIN (SOLUTION|HIDDEN TESTS)\n(.*?)### END \1", flags=re.DOTALL
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _load_variants(name: str) -> tuple[dict | None, str]:
    """(VARIANTS, "") or (None, why they cannot be used)."""
    path = VARIANT_DIR / f"{name}.py"
    if not path.exists():
        return None, (
            f"{path.relative_to(ROOT)} is missing: every assignment needs at least "
            f"{MIN_VARIANTS} buggy variants (VARIANTS = {{name: {{'doc', "
            "'replacements', 'failing', 'feedback'}})"
        )
    try:
        module = importlib.import_module(f"tests.exercise_variants.{name}")
    except Exception as err:  # a broken variant file is reported, not a crash
        return None, f"{path.relative_to(ROOT)} does not import: {err!r}"
    variants = getattr(module, "VARIANTS", None)
    if not isinstance(variants, dict):
        return None, f"{path.relative_to(ROOT)} defines no dict VARIANTS"
    return variants, ""


VARIANTS = {name: _load_variants(name) for name in ASSIGNMENTS}
VARIANT_CASES = [
    (name, vname) for name in ASSIGNMENTS for vname in (VARIANTS[name][0] or {})
]


def _student(name: str, vname: str) -> str:
    return f"{name.split('_')[0]}_{vname}"


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
        if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]
    }


def _source_notebooks(course: Path, name: str) -> dict[str, nbformat.NotebookNode]:
    return {
        p.name: nbformat.read(p, as_version=4)
        for p in sorted((course / "source" / name).glob("*.ipynb"))
    }


def _test_points(source_nb) -> dict[str, float]:
    """Points of the autograded test cells (grade=True, not a solution cell)."""
    return {
        gid: float(c.metadata["nbgrader"].get("points", 0))
        for gid, c in _cells_by_id(source_nb).items()
        if c.metadata["nbgrader"].get("grade")
        and not c.metadata["nbgrader"].get("solution")
    }


def _solution_ids(source_nb) -> set[str]:
    return {
        gid
        for gid, c in _cells_by_id(source_nb).items()
        if c.metadata["nbgrader"].get("solution")
    }


def _variant_problems(name: str, sources: dict) -> list[str]:
    """What is wrong with an assignment's variant file (empty: usable)."""
    variants, why = VARIANTS[name]
    if variants is None:
        return [why]
    problems = []
    if len(variants) < MIN_VARIANTS:
        problems.append(f"{len(variants)} variants, expected at least {MIN_VARIANTS}")
    solution_ids = set().union(*(_solution_ids(nb) for nb in sources.values()))
    test_ids = set().union(*(_test_points(nb) for nb in sources.values()))
    solution_src = {
        gid: c.source
        for nb in sources.values()
        for gid, c in _cells_by_id(nb).items()
        if gid in solution_ids
    }
    for vname, v in variants.items():
        where = f"variant {vname!r}"
        missing = {"doc", "replacements", "failing", "feedback"} - set(v)
        if missing:
            problems.append(f"{where} lacks {sorted(missing)}")
            continue
        if not v["replacements"]:
            problems.append(f"{where} replaces no cell")
        for gid, code in v["replacements"].items():
            if gid not in solution_ids:
                problems.append(
                    f"{where} replaces {gid!r}, not a solution cell "
                    f"(solution cells: {sorted(solution_ids)})"
                )
            elif code.strip() == solution_src[gid].strip():
                problems.append(f"{where}: the replacement of {gid!r} is the solution")
        if not v["failing"]:
            problems.append(f"{where} fails no test cell")
        for gid in v["failing"]:
            if gid not in test_ids:
                problems.append(
                    f"{where} lists {gid!r} as failing; the autograded test "
                    f"cells are {sorted(test_ids)}"
                )
        if not (isinstance(v["feedback"], str) and v["feedback"].strip()):
            problems.append(f"{where} has no feedback substring")
    return problems


def _fill(released, sources_cells, replacements=None):
    """A copy of the released notebook with the solution (and replacements) in."""
    nb = nbformat.from_dict(json.loads(json.dumps(released)))
    for gid, cell in _cells_by_id(nb).items():
        if cell.metadata["nbgrader"].get("solution"):
            cell.source = sources_cells[gid].source
        if replacements and gid in replacements:
            cell.source = replacements[gid]
    return nb


def _read_outputs(nb_path: Path) -> nbformat.NotebookNode:
    """An executed notebook, consecutive stream outputs merged into one: a single
    print can arrive split (seen: "KERNEL_CPU_SECONDS", then " 1.59\n")."""
    nb = nbformat.read(nb_path, as_version=4)
    return CoalesceStreamsPreprocessor().preprocess(nb, {})[0]


def _cell_outputs(nb_path: Path) -> dict[str, tuple[bool, str]]:
    """{grade_id: (raised an error, all its output text)} of an autograded notebook."""
    nb = _read_outputs(nb_path)
    out = {}
    for gid, cell in _cells_by_id(nb).items():
        failed, texts = False, []
        for o in cell.get("outputs", []):
            if o.get("output_type") == "error":
                failed = True
                texts.append(f"{o.get('ename')}: {o.get('evalue')}")
                texts.extend(o.get("traceback", []))
            elif "text" in o:
                texts.append(o["text"])
        out[gid] = (failed, ANSI.sub("", "\n".join(texts)))
    return out


def _reasons(csv_path: Path) -> dict[tuple[str, str], str]:
    """The grader's ``reason`` column (why a hand-in scored what it did), if any."""
    with open(csv_path, newline="") as f:
        return {
            (row["student_id"], row["assignment"]): row.get("reason") or ""
            for row in csv.DictReader(f)
        }


def _kernel_cpu_seconds(nb_path: Path) -> float | None:
    nb = _read_outputs(nb_path)
    for cell in nb.cells:
        for o in cell.get("outputs", []):
            m = re.search(rf"{CPU_MARK} ([0-9.eE+-]+)", o.get("text", ""))
            if m:
                return float(m.group(1))
    return None


@pytest.fixture(scope="module")
def released_course(tmp_path_factory):
    course = _copy_course(tmp_path_factory.mktemp("course"))
    release(course)
    return course


@pytest.fixture(scope="module")
def graded(released_course):
    """Submit every hand-in, grade them all with one call, read the results."""
    course = released_course
    expected: dict[tuple[str, str], float] = {}
    problems: dict[str, list[str]] = {}

    def submit(student, name, nb_name, nb):
        out = course / "submitted" / student / name / nb_name
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out)

    for name in ASSIGNMENTS:
        sources = _source_notebooks(course, name)
        problems[name] = _variant_problems(name, sources)
        variants = VARIANTS[name][0] if not problems[name] else {}
        total = 0.0
        for nb_name, source in sources.items():
            released = nbformat.read(course / "release" / name / nb_name, as_version=4)
            src_cells = _cells_by_id(source)
            points = _test_points(source)
            total += sum(points.values())
            solution = _fill(released, src_cells)
            solution.cells.append(nbformat.v4.new_code_cell(TIMING_CELL))
            submit("solution", name, nb_name, solution)
            submit("untouched", name, nb_name, released)
            for vname, v in variants.items():
                student = _student(name, vname)
                nb = _fill(released, src_cells, v["replacements"])
                submit(student, name, nb_name, nb)
                lost = sum(points.get(g, 0.0) for g in v["failing"])
                key = (student, name)
                expected[key] = expected.get(key, 0.0) + sum(points.values()) - lost
        expected[("solution", name)] = total
        expected[("untouched", name)] = 0.0

    # One core for the kernels, as the 20 s requirement says (torch and BLAS
    # threads would only add CPU time, which the timing cell counts as well).
    saved = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        csv_path = grade(course, course / "grades.csv")
    finally:
        if saved is None:
            os.environ.pop("OMP_NUM_THREADS")
        else:
            os.environ["OMP_NUM_THREADS"] = saved
    return {
        "course": course,
        "grades": read_grades(csv_path),
        "reasons": _reasons(csv_path),
        "expected": expected,
        "problems": problems,
    }


def _autograded(graded: dict, student: str, name: str) -> list[Path]:
    folder = graded["course"] / "autograded" / student / name
    nbs = sorted(folder.glob("*.ipynb"))
    assert nbs, (
        f"no autograded notebook in {folder}: tools.course.grade must leave "
        "nbgrader's autograded/<student>/<assignment>/ notebooks (with outputs); "
        f"the grader says: {graded['reasons'].get((student, name)) or 'nothing'}"
    )
    return nbs


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_variant_file(graded, name):
    problems = graded["problems"][name]
    assert not problems, f"{name}: " + "\n  ".join(problems)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_scores_full_marks(graded, name):
    score, max_score = graded["grades"][("solution", name)]
    assert max_score == graded["expected"][("solution", name)] > 0
    failed = {
        gid: text[-2000:]
        for nb in _autograded(graded, "solution", name)
        for gid, (err, text) in _cell_outputs(nb).items()
        if err
    }
    assert score == max_score, (
        f"{name}: the solution scores {score} of {max_score}; it fails {failed}; "
        f"the grader says: {graded['reasons'].get(('solution', name)) or 'nothing'}"
    )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_untouched_release_scores_zero(graded, name):
    assert graded["grades"][("untouched", name)][0] == 0


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_solution_runs_within_20s_of_cpu(graded, name):
    """The whole solution notebook (hidden tests too) in <= 20 s of kernel CPU."""
    for nb in _autograded(graded, "solution", name):
        cpu = _kernel_cpu_seconds(nb)
        assert cpu is not None, f"{nb.name}: the appended timing cell printed nothing"
        assert cpu <= CPU_LIMIT_S, (
            f"{name}/{nb.name}: the solution notebook took {cpu:.1f} s of kernel CPU "
            f"time, more than {CPU_LIMIT_S:.0f} s (OMP_NUM_THREADS=1)"
        )


@pytest.mark.parametrize(("name", "vname"), VARIANT_CASES)
def test_variant_loses_its_failing_cells_and_names_the_bug(graded, name, vname):
    if graded["problems"][name]:
        pytest.fail(f"{name}: variant file unusable, see test_variant_file")
    v = VARIANTS[name][0][vname]
    student = _student(name, vname)
    outputs = {}
    for nb in _autograded(graded, student, name):
        outputs.update(_cell_outputs(nb))
    failed = {gid for gid, (err, _) in outputs.items() if err}
    tests = set().union(
        *(_test_points(nb) for nb in _source_notebooks(graded["course"], name).values())
    )
    assert failed & tests == set(v["failing"]), (
        f"{name} variant {vname!r} ({v['doc']}): expected to fail "
        f"{sorted(v['failing'])}, failed {sorted(failed & tests)}"
        + "".join(f"\n--- {gid}:\n{outputs[gid][1][-1500:]}" for gid in sorted(failed))
    )
    score, max_score = graded["grades"][(student, name)]
    assert score == graded["expected"][(student, name)] < max_score, (
        f"{name} variant {vname!r}: {score} of {max_score}, expected "
        f"{graded['expected'][(student, name)]}; the grader says: "
        f"{graded['reasons'].get((student, name)) or 'nothing'}"
    )
    messages = [outputs[gid][1] for gid in v["failing"]]
    assert any(v["feedback"] in m for m in messages), (
        f"{name} variant {vname!r}: no failing cell's output names the bug "
        f"({v['feedback']!r}); the outputs:\n" + "\n---\n".join(messages)
    )


def _region_lines(text: str) -> tuple[set[str], set[str]]:
    """(stripped lines inside solution/hidden regions, stripped lines outside)."""
    inside: set[str] = set()
    for m in REGION.finditer(text):
        inside.update(line.strip() for line in m.group(2).splitlines())
    outside_text = REGION.sub("", text)
    outside = {line.strip() for line in outside_text.splitlines()}
    return inside, outside


def _nontrivial(line: str) -> bool:
    # A short line (`else:`, `return out`, `pass`, a lone bracket) gives nothing away.
    return len(line) >= 16 and not line.startswith("#")


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_has_no_solution_or_hidden_test_line(released_course, name):
    course = released_course
    for nb_name, source in _source_notebooks(course, name).items():
        released = nbformat.read(course / "release" / name / nb_name, as_version=4)
        src_code = "\n".join(c.source for c in source.cells if c.cell_type == "code")
        rel_code = "\n".join(c.source for c in released.cells)
        inside, outside = _region_lines(src_code + "\n")
        secret = {line for line in inside - outside if _nontrivial(line)}
        assert secret, f"{name}/{nb_name}: no solution or hidden-test region found"
        released_lines = {line.strip() for line in rel_code.splitlines()}
        leaked = sorted(secret & released_lines)
        assert not leaked, f"{name}/{nb_name}: the release shows {leaked}"
        assert "BEGIN SOLUTION" not in rel_code
        assert "BEGIN HIDDEN TESTS" not in rel_code
        assert "raise NotImplementedError()" in rel_code


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


def test_chapter_copies_link_to_the_students_exercise_copies(tmp_path):
    """In my-work/chapters a link to an exercise opens the student's own copy."""
    course = _copy_course(tmp_path)
    release(course)
    work = tmp_path / "my-work"
    start_work(course, work, chapters_dir=ROOT / "chapters")
    links = []
    for chapter in sorted((work / "chapters").glob("*.ipynb")):
        text = "".join(c.source for c in nbformat.read(chapter, as_version=4).cells)
        assert "exercises/release" not in text, chapter.name
        links += re.findall(r"\]\((\.\./ex\d\d_[^)]+)\)", text)
    assert len(links) >= 7, links  # chapters 1-4, 8 and 9 link to their exercises
    for link in links:
        assert (work / "chapters" / link).is_file(), link


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
