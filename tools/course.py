"""Course tooling around nbgrader: release exercises, start work, grade hand-ins.

nbgrader does the real work (clearing solutions, hiding tests, autograding,
exporting the gradebook); this module only runs it over every assignment and
adds the two safety checks the course promises:

* a student's copy in ``my-work/`` is **never overwritten** (``start-work``
  copies a notebook only when the destination does not exist yet);
* every hand-in is graded on its own, in a sandbox, in parallel (``grade``,
  engine in ``tools/grader.py``): a malformed or hostile one (missing notebook,
  not a notebook, duplicated cell ids, a kernel that dies or hangs, code that
  reads or writes outside its folder) costs only its own grade, and the report
  says why. ``check_submissions`` lists the malformed ones without grading.

It lives in ``tools/``, outside the student-facing ``rnnkit`` package. Run it
from the ``exercises/`` folder (where ``nbgrader_config.py`` lives), as the
Makefile's ``release``, ``lab`` and ``grade`` targets do::

    python ../tools/course.py release
    python ../tools/course.py start-work --dest ../my-work
    python ../tools/course.py grade

The tests import it as ``tools.course``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

__all__ = [
    "assignments",
    "release",
    "start_work",
    "check_submissions",
    "grade",
    "read_grades",
    "SubmissionError",
]


class SubmissionError(ValueError):
    """A hand-in that cannot be graded, with the reason in the message."""


def _nbgrader(course_dir: Path, *args: str) -> None:
    cmd = [sys.executable, "-m", "nbgrader", *args]
    # nbgrader calls the `alembic` script of its own environment: put that on PATH
    # even when the virtual environment is not activated.
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    subprocess.run(cmd, cwd=course_dir, check=True, env=env)


def assignments(course_dir: str | Path = ".") -> list[str]:
    """Names of the assignments in ``<course_dir>/source``, sorted."""
    src = Path(course_dir) / "source"
    if not src.is_dir():
        raise FileNotFoundError(
            f"no {src}/ folder; run this from the exercises/ folder "
            "(it holds nbgrader_config.py)"
        )
    return sorted(
        p.name for p in src.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))
    )


def release(course_dir: str | Path = ".") -> list[Path]:
    """Generate the student version of every assignment into ``release/``.

    ``release/`` is generated output (solutions removed, hidden tests stripped);
    it is rebuilt from ``source/`` each time and is never a place to work in.
    """
    course = Path(course_dir).resolve()
    out = []
    for name in assignments(course):
        _nbgrader(course, "generate_assignment", name, "--force", "--log-level=ERROR")
        out.extend(sorted((course / "release" / name).glob("*.ipynb")))
    return out


# A chapter's link to its exercise's book page: ``](../exercises/release/<a>/<nb>)``.
_EXERCISE_LINK = re.compile(
    r"\]\(\.\./exercises/release/([^)/\s]+)/([^)#\s]+?)(\.ipynb)?\)"
)


def _copy_chapter(src: Path, dst: Path) -> None:
    """Copy a chapter notebook for a student, its exercise links pointing at the copies.

    In the book a chapter links to ``../exercises/release/<a>/<nb>``; in ``my-work/``
    the student's own copy of that exercise is ``../<a>/<nb>.ipynb`` (JupyterLab
    opens it from the link).
    """
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _EXERCISE_LINK.sub(r"](../\1/\2.ipynb)", cell.source)
    nbformat.write(nb, dst)


def start_work(
    course_dir: str | Path = ".",
    dest: str | Path = "../my-work",
    chapters_dir: str | Path | None = None,
) -> dict[str, list[Path]]:
    """Copy each released notebook to ``dest/<assignment>/`` unless a copy exists.

    The chapters (``chapters_dir``, by default the ``chapters/`` folder next to the
    course) are copied the same way to ``dest/chapters/``: students run and save
    their own copies, and the book's notebooks stay as committed.

    Returns ``{"copied": [...], "kept": [...]}``; an existing file is never
    touched, so a student's answers survive every ``make lab``.
    """
    course = Path(course_dir).resolve()
    target = Path(dest)
    if not target.is_absolute():
        target = (course / target).resolve()
    chapters = Path(chapters_dir) if chapters_dir else course.parent / "chapters"
    copied: list[Path] = []
    kept: list[Path] = []
    released = sorted((course / "release").glob("*/*.ipynb"))
    for nb in released + sorted(chapters.glob("*.ipynb")):
        to = target / nb.parent.name / nb.name
        if to.exists():
            kept.append(to)
            continue
        to.parent.mkdir(parents=True, exist_ok=True)
        if nb.parent == chapters:
            _copy_chapter(nb, to)
        else:
            shutil.copy2(nb, to)
        copied.append(to)
    if not released:
        raise FileNotFoundError(
            f"no released notebooks in {course / 'release'}; run `make release` first"
        )
    return {"copied": copied, "kept": kept}


def check_submissions(course_dir: str | Path = ".") -> list[tuple[str, str]]:
    """Validate ``submitted/<student>/<assignment>/`` before grading.

    Every submitted assignment must contain each notebook its released version
    has, and each must be a readable Jupyter notebook. Returns the
    ``(student, assignment)`` pairs found; raises :class:`SubmissionError`
    listing every problem otherwise.
    """
    import nbformat

    course = Path(course_dir).resolve()
    known = set(assignments(course))
    sub_root = course / "submitted"
    if not sub_root.is_dir():
        raise SubmissionError(
            f"no submissions: {sub_root} does not exist "
            "(expected submitted/<student>/<assignment>/)"
        )
    problems: list[str] = []
    found: list[tuple[str, str]] = []
    for student in sorted(p for p in sub_root.iterdir() if p.is_dir()):
        for adir in sorted(p for p in student.iterdir() if p.is_dir()):
            if adir.name not in known:
                problems.append(
                    f"{student.name}: unknown assignment folder {adir.name!r}; "
                    f"expected one of {sorted(known)}"
                )
                continue
            found.append((student.name, adir.name))
            for nb in sorted((course / "source" / adir.name).glob("*.ipynb")):
                sub = adir / nb.name
                if not sub.exists():
                    problems.append(
                        f"{student.name}/{adir.name}: missing {nb.name} "
                        "(the notebook must keep its name)"
                    )
                    continue
                try:
                    nbformat.read(sub, as_version=4)
                except (
                    json.JSONDecodeError,
                    UnicodeDecodeError,
                    nbformat.reader.NotJSONError,
                ) as err:
                    problems.append(
                        f"{student.name}/{adir.name}/{nb.name}: "
                        f"not a readable notebook ({err})"
                    )
                # nbformat raises several types for a broken notebook
                except Exception as err:
                    problems.append(
                        f"{student.name}/{adir.name}/{nb.name}: "
                        f"not a valid notebook ({type(err).__name__}: {err})"
                    )
    if problems:
        raise SubmissionError(
            "cannot grade these submissions:\n  " + "\n  ".join(problems)
        )
    if not found:
        raise SubmissionError(
            f"no submissions found under {sub_root} "
            "(expected submitted/<student>/<assignment>/)"
        )
    return found


def grade(
    course_dir: str | Path = ".",
    csv_path: str | Path = "grades.csv",
    *,
    cell_timeout: float | None = None,
    submission_timeout: float | None = None,
    workers: int | None = None,
    unsafe_no_sandbox: bool = False,
    progress=None,
) -> Path:
    """Autograde every submission on its own, sandboxed, and write ``csv_path``.

    Every ``submitted/<student>/<assignment>/`` is graded separately (see
    ``tools/grader.py``), as many at once as there are cores; a broken hand-in
    costs only its own grade, with the reason in the CSV's ``reason`` column.
    Raises :class:`SubmissionError` when there is nothing to grade and
    ``grader.GraderError`` when the grader itself cannot run (e.g. no sandbox).
    The per-grading results are kept in ``grade.last_results``.
    """
    grader = _grader()
    course = Path(course_dir).resolve()
    known = assignments(course)
    sub_root = course / "submitted"
    if not sub_root.is_dir():
        raise SubmissionError(
            f"no submissions: {sub_root} does not exist "
            "(expected submitted/<student>/<assignment>/)"
        )
    results = grader.grade_class(
        course,
        known,
        cell_timeout=cell_timeout or grader.DEFAULT_CELL_TIMEOUT,
        submission_timeout=submission_timeout or grader.DEFAULT_SUBMISSION_TIMEOUT,
        workers=workers,
        sandboxed=not unsafe_no_sandbox,
        progress=progress,
    )
    if not results:
        raise SubmissionError(
            f"no submissions found under {sub_root} "
            "(expected submitted/<student>/<assignment>/)"
        )
    out = Path(csv_path)
    if not out.is_absolute():
        out = course / out
    grader.write_csv(results, out)
    grade.last_results = results
    return out


def _grader():
    """tools/grader.py, whether this file runs as a script or as tools.course."""
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    import grader

    return grader


def read_grades(csv_path: str | Path) -> dict[tuple[str, str], tuple[float, float]]:
    """``{(student, assignment): (score, max_score)}`` from nbgrader's CSV export."""
    rows: dict[tuple[str, str], tuple[float, float]] = {}
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            rows[(row["student_id"], row["assignment"])] = (
                float(row["score"]),
                float(row["max_score"]),
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python ../tools/course.py", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("release", help="generate student notebooks into release/")
    sw = sub.add_parser(
        "start-work", help="copy released notebooks to a work folder, never overwriting"
    )
    sw.add_argument("--dest", default="../my-work")
    sw.add_argument("--course-dir", default=".")
    g = sub.add_parser(
        "grade",
        help="autograde submitted/, each hand-in on its own in a sandbox; "
        "print a report and write grades.csv",
    )
    g.add_argument("--csv", default="grades.csv")
    g.add_argument("--cell-timeout", type=float, default=None, help="seconds per cell")
    g.add_argument(
        "--submission-timeout",
        type=float,
        default=None,
        help="seconds per submission (all its cells)",
    )
    g.add_argument("--workers", type=int, default=None, help="default: all cores")
    g.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="run student code without the bubblewrap sandbox (trusted code only)",
    )
    args = parser.parse_args(argv)
    try:
        if args.cmd == "release":
            for nb in release("."):
                print(f"released {nb}")
        elif args.cmd == "start-work":
            result = start_work(args.course_dir, args.dest)
            for p in result["copied"]:
                print(f"copied  {p}")
            for p in result["kept"]:
                print(f"kept    {p} (already there: your work is not overwritten)")
        elif args.cmd == "grade":
            return _grade_command(args)
    except (SubmissionError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _grade_command(args) -> int:
    import time

    grader = _grader()
    t0 = time.monotonic()
    done = []

    def progress(r):
        done.append(r)
        print(
            f"  [{len(done)}] {r.student}/{r.assignment}: {r.score:g}/{r.max_score:g}"
            f" in {r.seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )

    try:
        out = grade(
            ".",
            args.csv,
            cell_timeout=args.cell_timeout,
            submission_timeout=args.submission_timeout,
            workers=args.workers,
            unsafe_no_sandbox=args.unsafe_no_sandbox,
            progress=progress,
        )
    except grader.GraderError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    results = grade.last_results
    print(grader.table(results))
    n = sum(r.graded for r in results)
    print(
        f"{n} submission(s) graded in {time.monotonic() - t0:.0f} s; "
        f"grades in {out}, autograded notebooks in autograded/"
    )
    if args.unsafe_no_sandbox:
        print("WARNING: graded WITHOUT the sandbox (--unsafe-no-sandbox)")
    failed = [r for r in results if r.grader_error]
    if failed:
        print(
            f"error: the grader failed on {len(failed)} submission(s)", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
