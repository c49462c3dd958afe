"""The sandboxed grader against issue 8's targets: every kind of broken hand-in on
every exercise, and 100 submissions of one exercise in <= 10 minutes.

Two runs of the instructor's command (``python tools/course.py grade``, as ``make
grade`` runs it), each on a scratch course (a copy of exercises/source, released
with nbgrader):

1. **kinds**: tests/grading_corpus.py's 37 kinds of broken or hostile hand-in,
   built from *every* exercise's release notebook, one student per kind handing
   in every exercise, all graded in ONE run. The expected scores are computed
   without the grader (``grading_corpus.Corpus.score``: the instructor's points,
   less what a harmless reference notebook loses when plain nbclient runs it).
   A kind is *handled* on an exercise when the grader's score is the expected
   one, its reason line says what the corpus expects (nothing for an ordinary
   score) and the submitted file is byte-identical afterwards. Also checked once
   for the whole run: no file of the course changed but grading's outputs, no
   file written to the repository or /tmp, no orphan process, no connection to
   the host's loopback.
2. **class**: ``--count`` (100) submissions of ``--class-exercise``, drawn in
   turn from the kinds (so about 3 infinite loops, 3 hung functions, 3 kernel
   deaths, ... per 100: a worst case, not a typical class), graded in one run;
   seconds, submissions per minute, and the target (<= 600 s) met or missed.

    python benchmarks/bench_grading.py                  # both (make bench runs it)
    python benchmarks/bench_grading.py --skip-kinds --class-exercise ex07_char_lm
    python benchmarks/bench_grading.py --exercises ex01_sequence_data --count 0

Limits as make grade's defaults would be too slow for a bench of timeouts: 30 s
per cell, 120 s per submission (options). Needs root and bubblewrap (``make
setup``), as grading does. Prints a report; ``--json PATH`` writes the figures
(benchmarks/report.py reads them).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import grading_corpus  # noqa: E402
from tools.course import assignments, release  # noqa: E402

CLASS_LIMIT_S = 600.0  # issue 8: 100 submissions of one exercise in <= 10 minutes
GRADING_OUTPUTS = ("grades.csv", "gradebook.db", "autograded/")


def scratch_course(tmp: Path, names: list[str] | None) -> tuple[Path, list[str]]:
    course = tmp / "exercises"
    course.mkdir()
    shutil.copy(ROOT / "exercises" / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "exercises" / "source", course / "source")
    names = names or assignments(course)
    for extra in set(assignments(course)) - set(names):
        shutil.rmtree(course / "source" / extra)
    release(course)
    return course, names


def build(course: Path, name: str, marker: str, port: int) -> grading_corpus.Corpus:
    """The corpus of one exercise, aimed at this course (as the test does)."""
    src = next((course / "source" / name).glob("*.ipynb"))
    targets = grading_corpus.probe_targets(course, name, src.name, ROOT, marker, port)
    return grading_corpus.build(
        nbformat.read(src, as_version=4),
        nbformat.read(course / "release" / name / src.name, as_version=4),
        targets,
    )


def grade(course: Path, args) -> tuple[float, str]:
    cmd = [
        sys.executable,
        str(ROOT / "tools" / "course.py"),
        "grade",
        f"--cell-timeout={args.cell_timeout}",
        f"--submission-timeout={args.submission_timeout}",
    ]
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


def read_rows(course: Path) -> dict[tuple[str, str], dict]:
    with open(course / "grades.csv", newline="") as f:
        return {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}


def score_all(corpora: dict[str, grading_corpus.Corpus], workers: int) -> float:
    """Run every exercise's references (outside the grader), ``workers`` at once."""
    jobs = [(c, ref) for c in corpora.values() for ref in sorted(c.references)]
    t0 = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        lost = list(
            pool.map(
                lambda j: grading_corpus.reference_lost(j[0].references[j[1]]), jobs
            )
        )
    for (c, ref), got in zip(jobs, lost):
        c.reference_lost[ref] = got
    for c in corpora.values():  # fills in each submission from reference_lost
        c.score_from_references()
    return time.perf_counter() - t0


def check(s: grading_corpus.Submission, row: dict | None, unchanged: bool) -> str:
    """'' when the grader handled this hand-in as expected, else what went wrong."""
    if row is None:
        return "no line in grades.csv"
    got = (float(row["score"]), float(row["max_score"]))
    problems = []
    if got != (s.score, s.max_score):
        problems.append(
            f"scored {got[0]:g}/{got[1]:g}, expected {s.score:g}/{s.max_score:g}"
        )
    if s.reason and s.reason not in row["reason"]:
        problems.append(f"reason lacks {s.reason!r}")
    if not s.reason and row["reason"]:
        problems.append("unexpected reason")
    if not unchanged:
        problems.append("submitted file changed")
    if problems and row["reason"]:
        problems.append(f"reason: {row['reason'][:120]!r}")
    return "; ".join(problems)


def run_kinds(args, names: list[str] | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-grading-kinds-") as tmp:
        course, names = scratch_course(Path(tmp), names)
        marker = f"bench-grading-{uuid.uuid4().hex[:12]}"
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0)
        corpora = {
            n: build(course, n, marker, listener.getsockname()[1]) for n in names
        }
        ref_s = score_all(corpora, args.workers)
        for name, corpus in corpora.items():
            nb_name = next((course / "source" / name).glob("*.ipynb")).name
            for kind, s in corpus.items():
                out = course / "submitted" / kind / name / nb_name
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(s.data)
        before = grading_corpus.tree_hashes(course)
        wall, report = grade(course, args)
        after = grading_corpus.tree_hashes(course)
        rows = read_rows(course)
        try:
            listener.accept()[0].close()
            reached = True
        except OSError:
            reached = False
        listener.close()
        outside = [
            str(p)
            for p in (ROOT / f"HACKED-{marker}.txt", Path(f"/tmp/HACKED-{marker}.txt"))
            if p.exists()
        ]
        for p in outside:
            Path(p).unlink()
        changed = sorted(
            p
            for p in set(before) | set(after)
            if before.get(p) != after.get(p) and not p.startswith(GRADING_OUTPUTS)
        )
        per_exercise = {}
        for name, corpus in corpora.items():
            nb_name = next((course / "source" / name).glob("*.ipynb")).name
            failed = {}
            for kind, s in corpus.items():
                path = f"submitted/{kind}/{name}/{nb_name}"
                why = check(
                    s, rows.get((kind, name)), before.get(path) == after.get(path)
                )
                if why:
                    failed[kind] = why
            per_exercise[name] = {
                "handled": len(corpus) - len(failed),
                "total": len(corpus),
                "not_handled": failed,
                "undetected_wrong_values": corpus.undetected(),
            }
        return {
            "submissions": sum(len(c) for c in corpora.values()),
            "wall_s": wall,
            "reference_s": ref_s,
            "exercises": per_exercise,
            "whole_run": {
                "changed_outside_outputs": changed,
                "written_outside": outside,
                "orphans": grading_corpus.processes_matching(marker, kill=True),
                "network_reached": reached,
            },
            "report_tail": report.rstrip().splitlines()[-1:],
        }


def run_class(args) -> dict:
    name = args.class_exercise
    with tempfile.TemporaryDirectory(prefix="bench-grading-class-") as tmp:
        course, _ = scratch_course(Path(tmp), [name])
        marker = f"bench-grading-{uuid.uuid4().hex[:12]}"
        corpus = build(course, name, marker, 9)  # port 9: nothing listens there
        kinds = [k for k in args.kinds.split(",") if k] or list(corpus)
        nb_name = next((course / "source" / name).glob("*.ipynb")).name
        for i in range(args.count):
            kind = kinds[i % len(kinds)]
            out = course / "submitted" / f"s{i:03d}-{kind}" / name / nb_name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(corpus[kind].data)
        wall, report = grade(course, args)
        graded = len(read_rows(course))
        grading_corpus.processes_matching(marker, kill=True)
    return {
        "exercise": name,
        "n": args.count,
        "graded": graded,
        "kinds": "all" if not args.kinds else args.kinds,
        "wall_s": wall,
        "per_minute": 60 * args.count / wall,
        "limit_s": CLASS_LIMIT_S,
        "met": wall <= CLASS_LIMIT_S and graded == args.count,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--exercises", default="all", help="comma-separated, or 'all'")
    p.add_argument("--skip-kinds", action="store_true", help="only the class run")
    p.add_argument("--class-exercise", default="ex03_vanilla_rnn")
    p.add_argument("--count", type=int, default=100, help="class size (0: none)")
    p.add_argument("--kinds", default="", help="class: corpus kinds to draw from")
    p.add_argument("--cell-timeout", type=float, default=30)
    p.add_argument("--submission-timeout", type=float, default=120)
    p.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="reference runs"
    )
    p.add_argument("--json", type=Path, help="write the figures here")
    args = p.parse_args()
    cores = os.cpu_count() or 1
    out: dict = {"cores": cores}
    print(
        f"{cores} cores, OMP_NUM_THREADS=1, limits {args.cell_timeout:g} s per cell, "
        f"{args.submission_timeout:g} s per submission"
    )

    if not args.skip_kinds:
        names = None if args.exercises == "all" else args.exercises.split(",")
        k = out["kinds"] = run_kinds(args, names)
        print(
            f"\nEvery kind on every exercise: {k['submissions']} submissions in one "
            f"run, {k['wall_s']:.0f} s ({60 * k['submissions'] / k['wall_s']:.1f} "
            f"per minute); references (outside the grader) {k['reference_s']:.0f} s"
        )
        for name, e in k["exercises"].items():
            print(f"  {name:28s} {e['handled']:2d} / {e['total']} kinds handled")
            for kind, why in e["not_handled"].items():
                print(f"      {kind}: {why}")
            if e["undetected_wrong_values"]:
                print(
                    "      (wrong values its tests miss: "
                    f"{e['undetected_wrong_values']})"
                )
        for what, found in k["whole_run"].items():
            print(f"  {what}: {found or 'none'}")

    if args.count > 0:
        c = out["class"] = run_class(args)
        print(
            f"\n{c['n']} submissions of {c['exercise']} ({c['graded']} graded; kinds "
            f"{c['kinds']} in turn), one run on {cores} cores: {c['wall_s']:.0f} s, "
            f"{c['per_minute']:.1f} submissions/minute; target <= "
            f"{c['limit_s']:.0f} s: {'met' if c['met'] else 'MISSED'}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
