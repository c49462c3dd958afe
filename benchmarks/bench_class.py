"""A class of hand-ins through nbgrader's exchange and the sandboxed grader (issue 11).

The path of ``make hub`` (deploy/README.md), minus the browser: a scratch course
(a copy of ``exercises/``) releases one exercise to a scratch exchange; ``--count``
hand-ins are put in the exchange's inbound as ``nbgrader submit`` leaves them
(``<student>+<assignment>+<timestamp>+<random>/`` with the notebook,
``timestamp.txt`` and ``submission_secret.txt``); then, timed,

1. ``nbgrader collect`` copies them into the course's ``submitted/``, and
2. ``python tools/course.py grade`` (what ``make grade`` and ``deploy/hub.py grade``
   run) grades each on its own in the bubblewrap sandbox, one worker per core, with
   the instructor's default limits.

The hand-ins are drawn from ``tests/grading_corpus.py``: by default 40 % correct
(the instructor's solution), 20 % partly right (a wrong value or an exception in
one task), 15 % blank (the untouched notebook, an empty one) and 25 % broken (every
other kind in turn: syntax errors, infinite loops, kernel deaths, hostile code,
files that are not notebooks, ...). Every score is checked against the corpus's
expected score (worked out outside the grader, not timed).

Target (issues 8 and 11): 100 hand-ins of one exercise graded in <= 10 minutes on
this 2-core machine, each in its own sandbox::

    python benchmarks/bench_class.py --count 100 [--json out.json]

Needs root and bubblewrap (``make setup``), as grading does.
"""

from __future__ import annotations

import argparse
import base64
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import grading_corpus  # noqa: E402
from tools.course import release  # noqa: E402

LIMIT_S = 600.0  # 100 hand-ins of one exercise in <= 10 minutes
COURSE_ID = "rnn-course"
CORRECT = ["solution"]
PARTIAL = ["nan_return", "wrong_shape", "wrong_dtype", "exception", "always_equal"]
BLANK = ["untouched", "empty_notebook"]
MIX = {"correct": 0.40, "partial": 0.20, "blank": 0.15, "broken": 0.25}


def class_kinds(corpus: dict, count: int) -> list[tuple[str, str]]:
    """``count`` (category, kind) pairs in the proportions of ``MIX``."""
    groups = {
        "correct": [k for k in CORRECT if k in corpus],
        "partial": [k for k in PARTIAL if k in corpus],
        "blank": [k for k in BLANK if k in corpus],
    }
    groups["broken"] = [k for k in corpus if not any(k in g for g in groups.values())]
    sizes = {g: int(round(MIX[g] * count)) for g in MIX}
    sizes["correct"] += count - sum(sizes.values())
    out = []
    for g, n in sizes.items():
        out += [(g, groups[g][i % len(groups[g])]) for i in range(n)]
    return out


def scratch_course(tmp: Path, name: str) -> tuple[Path, Path]:
    """A copy of the course with only ``name``, released, and its own exchange."""
    course = tmp / "course"
    course.mkdir()
    exchange = tmp / "exchange"
    exchange.mkdir(mode=0o777)
    os.chmod(exchange, 0o1777)
    cfg = (ROOT / "exercises" / "nbgrader_config.py").read_text()
    (course / "nbgrader_config.py").write_text(
        cfg + f"\nc.Exchange.root = {str(exchange)!r}\n"
    )
    shutil.copytree(ROOT / "exercises" / "source" / name, course / "source" / name)
    release(course)
    return course, exchange


def nbgrader(course: Path, *args: str) -> float:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    t0 = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--log-level=ERROR"],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise SystemExit(f"nbgrader {args[0]} failed:\n{run.stderr[-3000:]}")
    return time.perf_counter() - t0


def hand_in(exchange: Path, student: str, name: str, nb_name: str, data: bytes):
    """What ``nbgrader submit`` leaves in the inbound (nbgrader 0.9's layout)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f %Z")
    rand = base64.urlsafe_b64encode(os.urandom(9)).decode("ascii")
    d = exchange / COURSE_ID / "inbound" / f"{student}+{name}+{stamp}+{rand}"
    d.mkdir()
    (d / nb_name).write_bytes(data)
    (d / "timestamp.txt").write_text(stamp)
    (d / "submission_secret.txt").write_text(secrets.token_hex(64))


def run(args) -> dict:
    name = args.exercise
    tmp = Path(tempfile.mkdtemp(prefix="bench-class-"))
    try:
        course, exchange = scratch_course(tmp, name)
        nbgrader(course, "release_assignment", name)
        src = next((course / "source" / name).glob("*.ipynb"))
        corpus = grading_corpus.build(
            nbformat.read(src, as_version=4),
            nbformat.read(course / "release" / name / src.name, as_version=4),
            {
                "read_source": str(course / "source" / "*" / "*.ipynb"),
                "read_others": str(course / "submitted" / "*" / name / "*.ipynb"),
                "read_autograded": str(course / "autograded" / "*" / "*" / "*"),
                "read_repo": str(ROOT / "exercises" / "source" / "*" / "*.ipynb"),
                "read_relative": "../../../source/*/*.ipynb",
                "write_course": str(course / "HACKED.txt"),
                "write_repo": str(tmp / "HACKED-repo.txt"),
                "write_source": str(src),
                "write_other": str(course / "submitted" / "s000" / name / src.name),
                "write_tmp": str(tmp / "HACKED-tmp.txt"),
                "delete_config": str(course / "nbgrader_config.py"),
                "gradebook": str(course / "gradebook.db"),
                "marker": f"bench-class-{secrets.token_hex(6)}",
                "port": "9",
            },
        )
        drawn = class_kinds(corpus, args.count)
        students = {}
        for i, (group, kind) in enumerate(drawn):
            student = f"s{i:03d}"
            students[student] = (group, kind)
            hand_in(exchange, student, name, src.name, corpus[kind].data)

        collect_s = nbgrader(course, "collect", name)
        t0 = time.perf_counter()
        grade = subprocess.run(
            [sys.executable, str(ROOT / "tools" / "course.py"), "grade"],
            cwd=course,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            capture_output=True,
            text=True,
        )
        grade_s = time.perf_counter() - t0
        if grade.returncode != 0:
            raise SystemExit(f"grade failed:\n{grade.stderr[-3000:]}")
        with open(course / "grades.csv", newline="") as f:
            rows = {r["student_id"]: r for r in csv.DictReader(f)}

        t1 = time.perf_counter()
        corpus.score()  # expected scores, outside the grader (not timed)
        reference_s = time.perf_counter() - t1
        wrong = {}
        for student, (_group, kind) in students.items():
            row = rows.get(student)
            s = corpus[kind]
            got = (float(row["score"]), float(row["max_score"])) if row else None
            if got != (s.score, s.max_score):
                wrong[student] = f"{kind}: {got} expected {(s.score, s.max_score)}"
        total_s = collect_s + grade_s
        return {
            "exercise": name,
            "n": args.count,
            "cores": os.cpu_count() or 1,
            "mix": {g: sum(1 for x, _ in drawn if x == g) for g in MIX},
            "graded": len(rows),
            "collect_s": collect_s,
            "grade_s": grade_s,
            "wall_s": total_s,
            "per_minute": 60 * args.count / total_s,
            "reference_s": reference_s,
            "wrong_scores": wrong,
            "limit_s": LIMIT_S,
            "met": total_s <= LIMIT_S and len(rows) == args.count,
            "report_tail": grade.stdout.rstrip().splitlines()[-1:],
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--exercise", default="ex03_vanilla_rnn")
    p.add_argument("--count", type=int, default=100)
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args(argv)
    r = run(args)
    mix = ", ".join(f"{v} {k}" for k, v in r["mix"].items())
    print(
        f"{r['n']} hand-ins of {r['exercise']} ({mix}) through the exchange on "
        f"{r['cores']} cores: collect {r['collect_s']:.0f} s + grade "
        f"{r['grade_s']:.0f} s = {r['wall_s']:.0f} s, {r['per_minute']:.1f} "
        f"hand-ins/minute; {r['graded']} graded, {len(r['wrong_scores'])} scores "
        f"differ from the expected; target <= {r['limit_s']:.0f} s: "
        f"{'met' if r['met'] else 'MISSED'}"
    )
    for student, why in r["wrong_scores"].items():
        print(f"  {student}: {why}")
    if args.json:
        args.json.write_text(json.dumps(r, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
