"""A class of broken and hostile hand-ins, graded in ONE run of the grade command.

tests/grading_corpus.py builds 37 kinds of submission from an exercise's release
notebook (one student per kind, each handing in every exercise graded here:
``GRADER_CORPUS_EXERCISES``, default exercises 3 and 4; the bench grades all
nine); ``python tools/course.py grade`` grades them all in a scratch copy of the
course, as ``make grade`` does. For every (student, exercise) the test asserts

* the score: the instructor's points, less the graded cells that a harmless
  reference notebook loses when plain nbclient runs it outside the grader
  (``grading_corpus.Corpus.score``; never a score from the grader);
* the reason line (``kernel died in cell …``, ``duplicate cell id …``, ``not a
  notebook``, ``timed out in cell …``; empty for an ordinary score);
* the submitted file is byte-identical afterwards;

and, for the whole run: the command exits 0, no file in the course folder
changed except what grading writes (grades.csv, gradebook.db, autograded/), no
file appeared in the repository root, no process of the sandbox users or the
orphan marker is left, and nothing connected to the grader's loopback port.
``test_the_corpus_is_built_for_every_exercise`` builds (does not grade) the
corpus of all nine exercises.

Short limits keep it within a few minutes on two cores: 20 s per cell, 120 s per
submission. Needs root and bubblewrap (``make setup`` installs it); skipped
with the reason otherwise (not in CI).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import nbformat
import pytest

from tests import grading_corpus
from tools.course import read_grades, release

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = os.environ.get(
    "GRADER_CORPUS_EXERCISES", "ex03_vanilla_rnn,ex04_bptt"
).split(",")
sys.path.insert(0, str(ROOT / "tools"))
import sandbox  # noqa: E402

# The class is skipped where the sandbox cannot start (not root, no bubblewrap),
# except in CI, where `make setup` installs it and the test must run.
WHY_NO_SANDBOX = sandbox.probe()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if WHY_NO_SANDBOX is not None and not os.environ.get("CI"):
        pytest.skip(f"grading sandbox unavailable: {WHY_NO_SANDBOX}")
    base = tmp_path_factory.mktemp("grading_class")
    course = base / "exercises"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    for name in EXERCISES:
        shutil.copytree(ROOT / "exercises" / "source" / name, course / "source" / name)
    release(course)

    marker = f"rnncourse-orphan-{uuid.uuid4().hex[:12]}"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.settimeout(0)
    repo_probe = ROOT / f"HACKED-{marker}.txt"

    expected, corpora = {}, {}
    for name in EXERCISES:
        src_path = next((course / "source" / name).glob("*.ipynb"))
        nb_name = src_path.name
        sub = course / "submitted"
        targets = grading_corpus.probe_targets(
            course, name, nb_name, ROOT, marker, listener.getsockname()[1]
        )
        corpus = grading_corpus.build(
            nbformat.read(src_path, as_version=4),
            nbformat.read(course / "release" / name / nb_name, as_version=4),
            targets,
        )
        for kind, s in corpus.items():
            out = sub / kind / name / nb_name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(s.data)
            expected[(kind, name)] = s
        corpora[name] = corpus
    # the expected scores: the harmless references, run outside the grader
    with concurrent.futures.ThreadPoolExecutor(len(corpora)) as pool:
        list(pool.map(lambda c: c.score(workers=1), corpora.values()))

    before = grading_corpus.tree_hashes(course)
    run = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "course.py"),
            "grade",
            "--cell-timeout=20",
            "--submission-timeout=120",
        ],
        cwd=course,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    after = grading_corpus.tree_hashes(course)
    if os.environ.get("GRADER_CORPUS_REPORT"):  # keep the instructor's report
        Path(os.environ["GRADER_CORPUS_REPORT"]).write_text(run.stdout + run.stderr)
    try:
        conn, _ = listener.accept()
        reached = True
        conn.close()
    except OSError:
        reached = False
    listener.close()
    leftovers = grading_corpus.processes_matching(marker, kill=True)
    tmp_probe = Path(f"/tmp/HACKED-{marker}.txt")
    found_outside = [p for p in (repo_probe, tmp_probe) if p.exists()]
    for p in found_outside:
        p.unlink()
    return {
        "course": course,
        "run": run,
        "expected": expected,
        "corpora": corpora,
        "before": before,
        "after": after,
        "reached": reached,
        "leftovers": leftovers,
        "outside": found_outside,
    }


def test_the_command_grades_the_whole_class(graded):
    run = graded["run"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    grades = read_grades(graded["course"] / "grades.csv")
    assert set(grades) == set(graded["expected"])


def _reasons(course: Path) -> dict:
    import csv

    with open(course / "grades.csv", newline="") as f:
        return {
            (row["student_id"], row["assignment"]): row["reason"]
            for row in csv.DictReader(f)
        }


def _kinds() -> list[str]:
    # the corpus' kinds, read from a throwaway build on the real release notebook
    src = ROOT / "exercises" / "source" / EXERCISES[0]
    nb = nbformat.read(next(src.glob("*.ipynb")), as_version=4)
    dummy = {k: "x" for k in ("gradebook", "marker")} | {"port": "1"}
    return list(grading_corpus.build(nb, nb, dummy))


@pytest.mark.parametrize("name", EXERCISES)
@pytest.mark.parametrize("kind", _kinds())
def test_score_and_reason(graded, kind, name):
    s = graded["expected"][(kind, name)]
    course = graded["course"]
    score, max_score = read_grades(course / "grades.csv")[(kind, name)]
    reason = _reasons(course)[(kind, name)]
    assert (score, max_score) == (s.score, s.max_score), (
        f"{kind} ({s.doc}): scored {score}/{max_score}, expected "
        f"{s.score}/{s.max_score} (losing {s.lost}, as reference {s.expect!r}); "
        f"reason: {reason!r}"
    )
    if s.reason:
        assert s.reason in reason, f"{kind}: reason {reason!r} lacks {s.reason!r}"
    else:
        assert reason == "", f"{kind}: unexpected reason {reason!r}"


def test_wrong_values_are_caught_by_the_exercise_tests(graded):
    # issue 8: the tests compare type, shape and values, so a NaN, a transposed
    # array or integers where floats are due lose points (in the reference run)
    for name, corpus in graded["corpora"].items():
        assert corpus.undetected() == [], f"{name}: not caught {corpus.undetected()}"


def _released(name: str, tmp_path_factory) -> Path:
    """The release notebook of one exercise: exercises/release/ when it is at least
    as new as the source (make test builds it with the book), else released here."""
    src = next((ROOT / "exercises" / "source" / name).glob("*.ipynb"))
    rel = ROOT / "exercises" / "release" / name / src.name
    if rel.exists() and rel.stat().st_mtime >= src.stat().st_mtime:
        return rel
    course = tmp_path_factory.mktemp("release") / "exercises"
    shutil.copytree(ROOT / "exercises" / "source" / name, course / "source" / name)
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    release(course)
    return course / "release" / name / src.name


ALL_EXERCISES = sorted(p.name for p in (ROOT / "exercises" / "source").iterdir())


@pytest.mark.parametrize("name", ALL_EXERCISES)
def test_the_corpus_is_built_for_every_exercise(name, tmp_path_factory):
    # Building only (no grading, no sandbox): every kind, from the exercise's own
    # release notebook, with a reference behind every score that is not structural.
    src = next((ROOT / "exercises" / "source" / name).glob("*.ipynb"))
    source = nbformat.read(src, as_version=4)
    targets = {"gradebook": "g.db", "marker": "m", "port": "9", "read_x": "r/*"}
    corpus = grading_corpus.build(
        source,
        nbformat.read(_released(name, tmp_path_factory), as_version=4),
        targets | {"write_x": "w.txt", "delete_x": "d.txt"},
    )
    assert sorted(corpus) == sorted(_kinds())
    assert len(corpus) >= 25
    points = sum(
        float(c.metadata["nbgrader"]["points"])
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )
    for kind, s in corpus.items():
        assert s.max_score == points > 0
        assert s.expect in (grading_corpus.FULL, grading_corpus.ZERO) or (
            s.expect in corpus.references
        ), f"{kind}: no reference {s.expect!r}"
        if kind in ("not_a_notebook", "json_not_notebook"):
            continue
        nb = nbformat.reads(s.data.decode(), as_version=4)
        nbformat.validate(nb)
        if kind not in ("untouched", "empty_notebook", "stripped_metadata"):
            code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
            assert "raise NotImplementedError()" not in code, f"{kind}: a stub left"
    for ref, nb in corpus.references.items():
        nbformat.validate(nb)
        # a reference runs unsandboxed: none of the hostile code may be in it
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for hostile in ("os._exit", "sqlite3", "subprocess", "socket", "while True"):
            assert hostile not in code, f"reference {ref} contains {hostile}"


def test_submitted_files_are_unchanged(graded):
    before, after = graded["before"], graded["after"]
    for path, digest in before.items():
        if path.startswith("submitted/"):
            assert after.get(path) == digest, f"{path} was changed or deleted"


def test_nothing_outside_the_sandbox_changed(graded):
    before, after = graded["before"], graded["after"]
    written = ("grades.csv", "gradebook.db", "autograded/")
    changed = sorted(
        p
        for p in set(before) | set(after)
        if before.get(p) != after.get(p) and not p.startswith(written)
    )
    assert changed == [], f"files changed outside the grader's outputs: {changed}"
    assert graded["outside"] == [], f"files written outside: {graded['outside']}"


def test_no_process_is_left_and_no_network_was_reached(graded):
    assert graded["leftovers"] == []
    assert not graded["reached"], "a sandboxed kernel reached the host's loopback"


def test_autograded_notebooks_have_capped_output(graded):
    course = graded["course"]
    for kind in ("huge_output_line", "huge_output_lines"):
        for name in EXERCISES:
            for nb in (course / "autograded" / kind / name).glob("*.ipynb"):
                assert nb.stat().st_size < 2_000_000, f"{nb} is {nb.stat().st_size} B"


def test_grading_refuses_to_run_without_the_sandbox(tmp_path):
    course = tmp_path / "exercises"
    shutil.copytree(
        ROOT / "exercises" / "source" / EXERCISES[0], course / "source" / EXERCISES[0]
    )
    nb = next((course / "source" / EXERCISES[0]).glob("*.ipynb"))
    sub = course / "submitted" / "ann" / EXERCISES[0] / nb.name
    sub.parent.mkdir(parents=True)
    shutil.copy(nb, sub)
    empty = tmp_path / "bin"  # a PATH without bwrap, prlimit, setpriv
    empty.mkdir()
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "course.py"), "grade"],
        cwd=course,
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": str(empty)},
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "cannot start the grading sandbox" in run.stderr
    assert "bwrap" in run.stderr and "--unsafe-no-sandbox" in run.stderr
    assert not (course / "grades.csv").exists()
    assert not (course / "autograded").exists()


def test_a_hand_in_that_overruns_the_outer_limit_is_killed(tmp_path):
    # The outer wall-clock limit: a job that never answers (here nbgrader's config
    # file itself sleeps) is abandoned after the limit and its worker's process
    # group killed, so the next hand-in gets a fresh worker.
    import grader

    (tmp_path / "nbgrader_config.py").write_text("import time\ntime.sleep(600)\n")
    job = {"course": str(tmp_path), "log": str(tmp_path / "log"), "env": {}}
    worker = grader.Worker()
    try:
        assert worker.run({**job, "argv": ["autograde", "x"]}, timeout=5) is None
        assert worker.proc is None
    finally:
        worker.close()
    in_there = []  # the forked nbgrader ran with its working directory there
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and Path(os.readlink(proc / "cwd")) == tmp_path:
                in_there.append(proc.name)
        except OSError:
            continue
    assert in_there == []
