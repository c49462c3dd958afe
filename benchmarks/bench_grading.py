"""How fast the sandboxed grader gets through a class (issue 8's target).

Builds a scratch course (a copy of exercises/source), releases it, hands in
``--count`` submissions per exercise drawn in turn from tests/grading_corpus.py
(solutions, untouched notebooks, exceptions, infinite loops, kernel deaths,
hostile code, ...), runs ``python tools/course.py grade`` once, as ``make grade``
does, and prints submissions per minute and seconds per submission. With
``--compare-workers`` it first grades a small class with one worker, to print
the parallel speed-up.

Target (issue 8): 100 submissions of one exercise in <= 10 minutes on two cores:

    python benchmarks/bench_grading.py --exercises ex03_vanilla_rnn --count 100

Needs root and bubblewrap (`make setup`), as grading does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import grading_corpus  # noqa: E402
from tools.course import assignments, read_grades, release  # noqa: E402


def make_class(course: Path, names: list[str], count: int, kinds: list[str]) -> int:
    n = 0
    for name in names:
        src = next((course / "source" / name).glob("*.ipynb"))
        targets = {
            "gradebook": str(course / "gradebook.db"),
            "marker": "bench-grading-orphan",
            "port": "9",
            "read_source": str(course / "source" / "*" / "*.ipynb"),
            "write_course": str(course / "HACKED.txt"),
        }
        corpus = grading_corpus.build(
            nbformat.read(src, as_version=4),
            nbformat.read(course / "release" / name / src.name, as_version=4),
            targets,
        )
        pool = [k for k in kinds if k in corpus] or list(corpus)
        for i in range(count):
            kind = pool[i % len(pool)]
            out = course / "submitted" / f"s{i:03d}-{kind}" / name / src.name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(corpus[kind].data)
            n += 1
    return n


def grade(course: Path, args, workers: int | None) -> tuple[float, str]:
    cmd = [
        sys.executable,
        str(ROOT / "tools" / "course.py"),
        "grade",
        f"--cell-timeout={args.cell_timeout}",
        f"--submission-timeout={args.submission_timeout}",
    ]
    if workers:
        cmd.append(f"--workers={workers}")
    t0 = time.perf_counter()
    run = subprocess.run(
        cmd,
        cwd=course,
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    wall = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"grade failed (exit {run.returncode}):\n{run.stderr[-3000:]}")
    return wall, run.stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--exercises", default="all", help="comma-separated, or 'all'")
    p.add_argument("--count", type=int, default=20, help="hand-ins per exercise")
    p.add_argument("--kinds", default="", help="corpus kinds to use (default: all)")
    p.add_argument("--cell-timeout", type=float, default=30)
    p.add_argument("--submission-timeout", type=float, default=120)
    p.add_argument(
        "--compare-workers",
        type=int,
        default=0,
        metavar="N",
        help="also grade N ordinary hand-ins with 1 worker and with all",
    )
    args = p.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = Path(tmp) / "exercises"
        course.mkdir()
        shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
        shutil.copytree(ROOT / "exercises" / "source", course / "source")
        names = (
            assignments(course)
            if args.exercises == "all"
            else args.exercises.split(",")
        )
        for extra in set(assignments(course)) - set(names):
            shutil.rmtree(course / "source" / extra)
        release(course)
        cores = os.cpu_count() or 1

        if args.compare_workers:
            for w in (1, cores):
                shutil.rmtree(course / "submitted", ignore_errors=True)
                n = make_class(course, names[:1], args.compare_workers, ["solution"])
                wall, _ = grade(course, args, w)
                print(
                    f"{n} solution hand-ins, {w} worker(s): {wall:.1f} s "
                    f"({wall / n:.1f} s each)"
                )
            shutil.rmtree(course / "submitted", ignore_errors=True)

        if args.count <= 0:
            return
        kinds = [k for k in args.kinds.split(",") if k]
        n = make_class(course, names, args.count, kinds)
        wall, report = grade(course, args, None)
        grades = read_grades(course / "grades.csv")
        assert len(grades) == n, f"{len(grades)} graded of {n}"
        print(report.rstrip().splitlines()[-1])
        print(
            f"{n} submissions ({', '.join(names)}) on {cores} cores: {wall:.0f} s, "
            f"{60 * n / wall:.1f} submissions/minute, "
            f"{wall / n * cores:.1f} core-s each"
        )


if __name__ == "__main__":
    main()
