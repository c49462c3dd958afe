"""Grade a class's hand-ins one by one, each in its own sandbox (``course.py grade``).

For every ``submitted/<student>/<assignment>/`` folder the grader

1. builds a private course folder under a fresh temporary directory: the
   instructor's ``source/<assignment>``, a fresh gradebook (copied from one made
   by ``nbgrader generate_assignment`` once per assignment), and a *copy* of
   that one hand-in (regular files only; the submitted files are never opened
   for writing);
2. checks and repairs the copy, naming each problem: not a notebook, duplicated
   cell ids (nbgrader#1083 would stop the whole class), deleted, edited or
   stripped test cells (the instructor's are put back), tampered nbgrader
   metadata (the instructor's is put back), reordered cells;
3. runs ``nbgrader autograde`` there (in a long-lived worker process per
   parallel slot that imported nbgrader once and forks per hand-in), with the
   kernel in a bubblewrap sandbox (``tools/sandbox.py``) and nbgrader's Execute
   step replaced by ``tools/grading_execute.py`` (a kernel death or a timeout
   costs only its cell; output capped in bytes; a time limit per hand-in), all
   under an outer wall-clock limit after which the worker's process group is
   killed (the sandbox dies with it) and a fresh worker takes the next job;
4. reads the scores back and records a one-line reason for anything that is
   not an ordinary score.

As many submissions are graded at once as there are cores. The results go to
``grades.csv`` (nbgrader's export columns plus ``reason``), the autograded
notebooks to ``autograded/<student>/<assignment>/`` and, when the course's
gradebook knows the assignment (after ``make release``), into its gradebook.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

import sandbox  # noqa: E402

COURSE_ID = "rnn-course"
_SAFE = re.compile(r"^[A-Za-z0-9_.@+-]+$")
DEFAULT_CELL_TIMEOUT = 60.0
DEFAULT_SUBMISSION_TIMEOUT = 120.0
# nbgrader's own start-up, sanitising and writing, on top of the notebook's time
OUTER_SLACK = 60.0
MAX_OUTPUT_BYTES = 100_000
# Python's warnings are written to stderr as "<file>:<line>: <Category>Warning: ..."
WARNING_PATTERN = r"\w*Warning: "

CSV_FIELDS = [
    "assignment",
    "duedate",
    "timestamp",
    "student_id",
    "last_name",
    "first_name",
    "email",
    "raw_score",
    "late_submission_penalty",
    "score",
    "max_score",
    "reason",
]


class GraderError(RuntimeError):
    """The grader itself failed (not a student's code): exit status 1."""


class SandboxUnavailable(GraderError):
    """The sandbox cannot start; grading refuses to run student code unsandboxed."""


@dataclass
class Result:
    student: str
    assignment: str
    score: float = 0.0
    max_score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    seconds: float = 0.0
    graded: bool = True  # False: no score recorded (unknown assignment folder)
    grader_error: bool = False  # the grader failed on this one (exit status 1)
    cells: dict = field(default_factory=dict)  # (notebook, grade_id) -> score

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons)


# --------------------------------------------------------------------------
# configuration written into each private course folder
# --------------------------------------------------------------------------
_CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_url = {db_url!r}
c.ClearSolutions.code_stub = {{
    "python": "# YOUR CODE HERE\\nraise NotImplementedError()"}}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
from grading_execute import ResilientExecute
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties, CheckCellMetadata, IgnorePattern, LimitOutput, SaveAutoGrades)
c.Autograde.autograde_preprocessors = [
    ResilientExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
    SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
c.ResilientExecute.timeout = {cell_timeout!r}
c.ResilientExecute.submission_timeout = {submission_timeout!r}
c.ResilientExecute.max_output_bytes = {max_output_bytes!r}
c.ResilientExecute.events_file = {events!r}
c.ResilientExecute.kernel_name = {kernel!r}
c.ResilientExecute.startup_timeout = 60
c.KernelManager.transport = "ipc"
c.KernelManager.ip = {ipc!r}
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = {pattern!r}
c.LimitOutput.max_lines = 1000
"""


def _write_config(
    course: Path, tmp: Path, cell_timeout, submission_timeout, base: str = ""
) -> None:
    """The course's own nbgrader_config.py (``base``), then the grader's settings."""
    (course / "nbgrader_config.py").write_text(
        base
        + "\n\n# ---- set by tools/grader.py for this one hand-in ----\n"
        + _CONFIG.format(
            root=str(course),
            course_id=COURSE_ID,
            db_url="sqlite:///" + str(course / "gradebook.db"),
            cell_timeout=int(cell_timeout),
            submission_timeout=float(submission_timeout),
            max_output_bytes=MAX_OUTPUT_BYTES,
            events=str(tmp / "events.jsonl"),
            kernel=sandbox.KERNEL_NAME,
            pattern=WARNING_PATTERN,
            ipc=str(tmp / "runtime" / "kernel-ipc"),
        )
    )


def _base(course: Path) -> str:
    cfg = course / "nbgrader_config.py"
    return cfg.read_text() if cfg.exists() else ""


def _env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    for d in ("jupyter", "runtime", "config", "data"):
        (tmp / d).mkdir(exist_ok=True)
    env.update(
        JUPYTER_PATH=str(tmp / "jupyter"),
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
        JUPYTER_CONFIG_DIR=str(tmp / "config"),
        JUPYTER_DATA_DIR=str(tmp / "data"),
        JUPYTER_PLATFORM_DIRS="0",
        PYTHONPATH=str(TOOLS),
        OMP_NUM_THREADS="1",
        PATH=str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", ""),
    )
    return env


def _run(cmd, cwd, env, timeout) -> tuple[int | None, str]:
    """Run in its own process group; kill the whole group on timeout."""
    proc = subprocess.Popen(
        cmd,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        return None, out
    finally:
        if proc.poll() is None:  # pragma: no cover
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --------------------------------------------------------------------------
# a long-lived nbgrader process per parallel slot (nbgrader's import alone costs
# seconds of CPU; paid once per slot, not once per submission)
# --------------------------------------------------------------------------
class Worker:
    """``python tools/grader.py worker``: runs ``nbgrader autograde`` jobs in turn.

    Jobs go in on stdin as JSON lines; each reply (the exit status) comes back
    on a separate pipe, so what kernels print cannot garble it. When a job
    overruns its time limit the whole process group is killed (the sandboxed
    kernel dies with it: bubblewrap's --die-with-parent) and the next job gets
    a fresh worker.
    """

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def _start(self) -> None:
        r, w = os.pipe()
        env = dict(os.environ, PYTHONPATH=str(TOOLS), OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "worker", str(w)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(w,),
            start_new_session=True,
            text=True,
            env=env,
        )
        os.close(w)
        self.replies = os.fdopen(r, "r")

    def run(self, job: dict, timeout: float) -> int | None:
        """Exit status of the job, or None when it was killed for overrunning."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        assert self.proc and self.proc.stdin
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
        except OSError:
            self.close()
            return 1
        result: list[str] = []
        reader = threading.Thread(
            target=lambda: result.append(self.replies.readline()), daemon=True
        )
        reader.start()
        reader.join(timeout)
        timed_out = reader.is_alive()
        if timed_out or not result or not result[0].strip():
            self.close()  # overran (None) or the worker itself died (1)
            reader.join(5)
            return None if timed_out else 1
        return int(json.loads(result[0])["rc"])

    def close(self) -> None:
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
            self.replies.close()
            self.proc = None


def worker_main(reply_fd: int) -> int:
    """The worker's loop: nbgrader imported once, each job in a forked child.

    The fork gives every job nbgrader's state fresh (its applications are
    singletons) at the price of a copy-on-write fork instead of an import.
    """
    import nbgrader.apps  # noqa: F401  the expensive part, done once
    from nbgrader.converters import autograde  # noqa: F401

    replies = os.fdopen(reply_fd, "w")
    for line in sys.stdin:
        job = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the child runs one autograde and exits
            rc = 1
            try:
                rc = _autograde_here(job)
            finally:
                os._exit(rc)
        _, status = os.waitpid(pid, 0)
        rc = os.waitstatus_to_exitcode(status)
        replies.write(json.dumps({"rc": rc}) + "\n")
        replies.flush()
    return 0


def _autograde_here(job: dict) -> int:
    from jupyter_core.application import NoStart
    from nbgrader.apps import NbGraderApp

    log = os.open(job["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(job["course"])
    os.environ.update(job["env"])
    try:
        app = NbGraderApp.instance()
        app.initialize(job["argv"])
        app.start()
    except NoStart:  # what jupyter apps raise after running a subcommand
        pass
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001  reported through the log
        import traceback

        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


# --------------------------------------------------------------------------
# templates: one gradebook + release per assignment
# --------------------------------------------------------------------------
def _make_template(course: Path, name: str, root: Path) -> Path:
    tpl = root / "templates" / name
    (tpl / "source").mkdir(parents=True)
    shutil.copytree(course / "source" / name, tpl / "source" / name)
    _write_config(tpl, root / "templates", DEFAULT_CELL_TIMEOUT, 1.0, _base(course))
    cmd = [
        sys.executable,
        "-m",
        "nbgrader",
        "generate_assignment",
        name,
        "--force",
        "--log-level=ERROR",
    ]
    rc, out = _run(cmd, tpl, _env(root / "templates"), 300)
    if rc != 0:
        raise GraderError(
            f"nbgrader generate_assignment {name} failed on the instructor's "
            f"source (exit {rc}):\n{out[-2000:]}"
        )
    return tpl


# --------------------------------------------------------------------------
# checks and repairs of the private copy
# --------------------------------------------------------------------------
def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _gid(cell) -> str | None:
    return _meta(cell).get("grade_id")


def _is_test(meta: dict) -> bool:
    return bool(meta.get("grade")) and not meta.get("solution")


def _repair(sub_path: Path, release_path: Path, reasons: list[str]) -> bool:
    """Check one submitted notebook copy against the release; fix it in place.

    Returns False when it cannot be graded at all (then it is removed, and
    nbgrader scores it as missing: zero).
    """
    import nbformat

    name = sub_path.name
    try:
        raw = sub_path.read_bytes()
        data = json.loads(raw.decode("utf-8"))
        nb = nbformat.from_dict(data)
        if not isinstance(nb.get("cells"), list):
            raise ValueError("no list of cells")
        if nb.get("nbformat") != 4:
            nb = nbformat.convert(nb, 4)
        for cell in nb.cells:
            if not isinstance(cell, dict) or "cell_type" not in cell:
                raise ValueError("a cell without a cell_type")
            cell.setdefault("metadata", nbformat.NotebookNode())
            if isinstance(cell.get("source"), list):
                cell["source"] = "".join(cell["source"])
    except Exception as err:  # noqa: BLE001  any way of not being a notebook
        msg = str(err).splitlines()[0][:80] if str(err) else type(err).__name__
        reasons.append(f"not a notebook: {name} ({msg})")
        sub_path.unlink()
        return False

    found: dict[str, list[str]] = {}  # kind of problem -> cell ids, in order

    def note(kind: str, gid: str) -> None:
        found.setdefault(kind, []).append(gid)

    release = nbformat.read(release_path, as_version=4)
    rel_cells = [c for c in release.cells if _gid(c)]
    rel_by_id = {_gid(c): c for c in rel_cells}
    order = [_gid(c) for c in rel_cells]

    # duplicated ids: keep the first, later copies become plain cells
    seen: set[str] = set()
    for cell in nb.cells:
        gid = _gid(cell)
        if gid is None:
            continue
        if gid in seen:
            note("duplicate cell id", gid)
            del cell.metadata["nbgrader"]
        else:
            seen.add(gid)
    # cells with ids the assignment does not have
    for cell in nb.cells:
        gid = _gid(cell)
        if gid is not None and gid not in rel_by_id:
            note("unknown cell id", gid)
            del cell.metadata["nbgrader"]
    # stripped metadata: a plain cell with a graded/locked cell's exact source
    present = {_gid(c) for c in nb.cells if _gid(c)}
    for gid in order:
        if gid in present:
            continue
        rel = rel_by_id[gid]
        for cell in nb.cells:
            if (
                not _gid(cell)
                and cell.cell_type == rel.cell_type
                and cell.source.strip() == rel.source.strip()
            ):
                cell.metadata["nbgrader"] = json.loads(
                    json.dumps(rel.metadata.nbgrader)
                )
                note("metadata stripped from cell", gid)
                present.add(gid)
                break
    # tampered metadata, edited tests (nbgrader runs the instructor's tests anyway)
    for cell in nb.cells:
        gid = _gid(cell)
        if gid is None:
            continue
        rel = rel_by_id[gid]
        if (
            _meta(cell) != dict(rel.metadata.nbgrader)
            or cell.cell_type != rel.cell_type
        ):
            note("tampered metadata in cell", gid)
            cell.metadata["nbgrader"] = json.loads(json.dumps(rel.metadata.nbgrader))
            cell.cell_type = rel.cell_type
            if rel.cell_type == "code":
                cell.setdefault("outputs", [])
                cell.setdefault("execution_count", None)
        if _is_test(rel.metadata.nbgrader) and cell.source != rel.source:
            note("edited test cell", gid)
    # deleted graded / locked cells: put the instructor's back in place
    restored = False
    for i, gid in enumerate(order):
        if gid in present:
            continue
        if rel_by_id[gid].metadata.nbgrader.get("solution"):
            # the student's answer may be there without its marker: leave it
            note("answer cell", gid)
            continue
        rel = json.loads(json.dumps(rel_by_id[gid]))
        pos = 0
        for prev in reversed(order[:i]):
            idx = [j for j, c in enumerate(nb.cells) if _gid(c) == prev]
            if idx:
                pos = idx[0] + 1
                break
        nb.cells.insert(pos, nbformat.from_dict(rel))
        present.add(gid)
        restored = True
        kind = "test cell" if _is_test(rel["metadata"]["nbgrader"]) else "cell"
        note(f"deleted {kind}", gid)
    if not restored:
        now = [_gid(c) for c in nb.cells if _gid(c) in rel_by_id]
        if now != [g for g in order if g in now]:
            note("cells reordered", "")
    after = {
        "duplicate cell id": "(the first is graded)",
        "unknown cell id": "(ignored)",
        "metadata stripped from cell": "(restored)",
        "tampered metadata in cell": "(the instructor's used)",
        "edited test cell": "(the instructor's run)",
        "deleted cell": "(restored from the release)",
        "answer cell": "deleted or unmarked (graded as the student left it)",
        "deleted test cell": "(the instructor's run)",
        "cells reordered": "(graded in the student's order)",
    }
    for kind, ids in found.items():
        ids = [i for i in ids if i]
        shown = ", ".join(ids[:4]) + (
            f" and {len(ids) - 4} more" if len(ids) > 4 else ""
        )
        plural = "s" if len(ids) > 1 else ""
        reasons.append(f"{kind}{plural} {shown} {after[kind]}".replace("  ", " "))
    for cell in nb.cells:  # drop cell ids that nbformat would reject
        cell.pop("id", None)
    nb.nbformat, nb.nbformat_minor = 4, 4
    nb.metadata = release.metadata
    nbformat.write(nb, sub_path)
    return True


def _copy_submission(src: Path, dst: Path, reasons: list[str]) -> None:
    """Regular files only: a symlink could point at another student's work."""
    dst.mkdir(parents=True)
    for root, dirs, files in os.walk(src, followlinks=False):
        rel = Path(root).relative_to(src)
        for d in dirs:
            p = Path(root) / d
            if p.is_symlink():
                reasons.append(f"ignored link {rel / d}")
            else:
                (dst / rel / d).mkdir(exist_ok=True)
        for f in files:
            p = Path(root) / f
            if p.is_symlink() or not p.is_file():
                reasons.append(f"ignored link or special file {rel / f}")
                continue
            shutil.copyfile(p, dst / rel / f)


# --------------------------------------------------------------------------
# one submission
# --------------------------------------------------------------------------
def _reasons_from_events(path: Path) -> list[str]:
    if not path.exists():
        return []
    out: list[str] = []
    for line in path.read_text().splitlines():
        ev = json.loads(line)
        where = ev.get("cell") or f"#{ev.get('index')}"
        kind = ev["event"]
        if kind == "kernel_died":
            out.append(f"kernel died in cell {where}")
        elif kind == "cell_timeout" and not ev.get("submission_limit"):
            out.append(f"timed out in cell {where} ({ev['seconds']} s)")
        elif kind in ("submission_timeout", "cell_timeout"):
            out.append(f"time limit of the submission reached in cell {where}")
        elif kind == "replay_failed":
            out.append(f"kernel failed again when re-running cell {where}")
        elif kind == "output_truncated":
            out.append(f"output of cell {where} truncated")
    return list(dict.fromkeys(out))


def _scores(db: Path, assignment: str, student: str) -> tuple[float, float, dict]:
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(db), COURSE_ID) as gb:
        sub = gb.find_submission(assignment, student)
        cells = {}
        for nb in sub.notebooks:
            for g in nb.grades:
                cells[(nb.name, g.name)] = (g.auto_score, g.max_score)
        return float(sub.score), float(sub.max_score), cells


def processes_of(uid: int) -> list[int]:
    """The pids of every process running as ``uid`` (from ``/proc``)."""
    pids = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            for line in (p / "status").read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        pids.append(int(p.name))
                    break
        except (OSError, ValueError):
            continue
    return pids


def grade_one(
    course: Path,
    student: str,
    assignment: str,
    template: Path,
    tmp: Path,
    uid: int | None,
    cell_timeout: float,
    submission_timeout: float,
    worker: Worker,
) -> Result:
    t0 = time.monotonic()
    res = Result(student, assignment)
    priv = tmp / "course"
    (priv / "source").mkdir(parents=True)
    shutil.copytree(course / "source" / assignment, priv / "source" / assignment)
    shutil.copyfile(template / "gradebook.db", priv / "gradebook.db")
    _write_config(priv, tmp, cell_timeout, submission_timeout, _base(course))
    sub = priv / "submitted" / student / assignment
    _copy_submission(course / "submitted" / student / assignment, sub, res.reasons)
    notebooks = sorted(p.name for p in (course / "source" / assignment).glob("*.ipynb"))
    gradable = 0
    for nb_name in notebooks:
        p = sub / nb_name
        if not p.is_file():
            res.reasons.append(f"missing {nb_name} (the notebook must keep its name)")
            continue
        gradable += _repair(p, template / "release" / assignment / nb_name, res.reasons)
    if not gradable:  # nothing to run: zero, without asking nbgrader
        res.max_score = _max_score(template / "gradebook.db", assignment)
        res.seconds = time.monotonic() - t0
        return res
    env = _env(tmp)
    cfg = None
    if uid is not None:
        cfg = tmp / "sandbox.json"
        cfg.write_text(
            json.dumps(
                {
                    "uid": uid,
                    "work": str(tmp / "work"),
                    "submission": str(sub),
                    "runtime": str(tmp / "runtime"),
                    "expose": sandbox.exposed_paths(),
                }
            )
        )
    sandbox.write_kernelspec(tmp / "jupyter", cfg)
    job = {
        "course": str(priv),
        "log": str(tmp / "nbgrader.log"),
        "env": {k: env[k] for k in env if k.startswith("JUPYTER")},
        "argv": [
            "autograde",
            assignment,
            f"--student={student}",
            "--force",
            "--log-level=ERROR",
        ],
    }
    rc = worker.run(job, submission_timeout + OUTER_SLACK)
    log = tmp / "nbgrader.log"
    out = log.read_text(errors="replace") if log.exists() else ""
    if os.environ.get("RNNCOURSE_GRADE_DEBUG"):  # nbgrader's own log, for us
        print(f"--- nbgrader {student}/{assignment}: exit {rc}\n{out}", file=sys.stderr)
    res.reasons.extend(_reasons_from_events(tmp / "events.jsonl"))
    try:
        res.score, res.max_score, res.cells = _scores(
            priv / "gradebook.db", assignment, student
        )
    except Exception:  # noqa: BLE001  no submission row: nbgrader stopped early
        res.score = 0.0
        res.max_score = _max_score(template / "gradebook.db", assignment)
    if rc is None:
        res.score = 0.0
        res.reasons.append(
            f"grading stopped after {submission_timeout + OUTER_SLACK:g} s "
            "(outer limit): scored 0"
        )
    elif rc != 0:
        res.score = 0.0
        last = [ln for ln in out.strip().splitlines() if ln.strip()][-1:] or ["?"]
        res.reasons.append(f"nbgrader failed (exit {rc}): {last[0][:120]}: scored 0")
    if uid is not None:
        for _ in range(50):  # the kernel's namespace may still be going down
            left = processes_of(uid)
            if not left:
                break
            time.sleep(0.1)
        names = []
        for pid in left:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:3]
                names.append(b" ".join(cmd).decode(errors="replace")[:60])
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if left:
            res.reasons.append(
                f"{len(left)} process(es) left behind were killed: {'; '.join(names)}"
            )
    res.autograded = priv / "autograded" / student / assignment  # type: ignore[attr-defined]
    res.seconds = time.monotonic() - t0
    return res


def _max_score(db: Path, assignment: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(db), COURSE_ID) as gb:
        return float(gb.find_assignment(assignment).max_score)


# --------------------------------------------------------------------------
# the class
# --------------------------------------------------------------------------
def find_submissions(course: Path, known: list[str]):
    """``[(student, assignment)]`` to grade, ``[Result]`` for folders that cannot be."""
    root = course / "submitted"
    pairs, odd = [], []
    for student in sorted(root.iterdir()):
        if not student.is_dir() or student.is_symlink():
            continue
        for adir in sorted(student.iterdir()):
            if not adir.is_dir() or adir.is_symlink():
                continue
            if not _SAFE.match(student.name):
                odd.append(
                    Result(
                        student.name,
                        adir.name,
                        reasons=[
                            "student folder name has characters nbgrader "
                            "cannot take (letters, digits, _.@+- only)"
                        ],
                        graded=False,
                    )
                )
            elif adir.name in known:
                pairs.append((student.name, adir.name))
            else:
                odd.append(
                    Result(
                        student.name,
                        adir.name,
                        reasons=[
                            f"unknown assignment folder (expected one of {known})"
                        ],
                        graded=False,
                    )
                )
    return pairs, odd


def grade_class(
    course: Path,
    known: list[str],
    *,
    cell_timeout: float = DEFAULT_CELL_TIMEOUT,
    submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT,
    workers: int | None = None,
    sandboxed: bool = True,
    progress=None,
) -> list[Result]:
    pairs, results = find_submissions(course, known)
    if not pairs:
        return results
    if sandboxed:
        why = sandbox.probe()
        if why:
            raise SandboxUnavailable(
                f"cannot start the grading sandbox: {why}. Student code is not run "
                "unsandboxed unless you pass --unsafe-no-sandbox."
            )
    workers = max(1, workers or os.cpu_count() or 1)
    root = Path(tempfile.mkdtemp(prefix="rnncourse-grade-"))
    os.chmod(root, 0o700)
    claim = sandbox.UidClaim(workers) if sandboxed else None
    try:
        names = sorted({a for _, a in pairs})
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            templates = dict(
                zip(names, pool.map(lambda n: _make_template(course, n, root), names))
            )
            slots: queue.Queue = queue.Queue()
            workers_ = [Worker() for _ in range(workers)]
            uids = claim.uids if claim else [None] * workers
            for uid, w in zip(uids, workers_):
                slots.put((uid, w))
            lock = threading.Lock()

            def job(i_pair):
                i, (student, assignment) = i_pair
                uid, worker = slots.get()
                try:
                    tmp = root / f"sub{i:05d}"
                    tmp.mkdir()
                    try:
                        r = grade_one(
                            course,
                            student,
                            assignment,
                            templates[assignment],
                            tmp,
                            uid,
                            cell_timeout,
                            submission_timeout,
                            worker,
                        )
                    except Exception as err:  # noqa: BLE001  a bug of ours
                        r = Result(
                            student,
                            assignment,
                            reasons=[
                                f"GRADER ERROR {type(err).__name__}: {err}: not graded"
                            ],
                            graded=False,
                            grader_error=True,
                        )
                    _publish(course, r)
                    shutil.rmtree(tmp, ignore_errors=True)
                    if progress:
                        with lock:
                            progress(r)
                    return r
                finally:
                    slots.put((uid, worker))

            try:
                results += list(pool.map(job, enumerate(pairs)))
            finally:
                for w in workers_:
                    w.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if claim:
            claim.release()
    _merge_gradebook(course, [r for r in results if r.graded])
    return results


def _publish(course: Path, r: Result) -> None:
    """The autograded notebooks into ``course/autograded/<student>/<assignment>``."""
    src = getattr(r, "autograded", None)
    dst = course / "autograded" / r.student / r.assignment
    if dst.exists():
        shutil.rmtree(dst)
    if src is not None and src.is_dir():
        dst.mkdir(parents=True)
        for nb in src.glob("*.ipynb"):
            shutil.copyfile(nb, dst / nb.name)
    r.autograded = dst  # type: ignore[attr-defined]


def _merge_gradebook(course: Path, results: list[Result]) -> None:
    """Scores into ``course/gradebook.db`` for the assignments it knows."""
    db = course / "gradebook.db"
    if not db.exists():
        return
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook("sqlite:///" + str(db), COURSE_ID) as gb:
        warnings.simplefilter("ignore")  # SQLAlchemy's about nbgrader's own code
        for r in results:
            try:
                gb.find_assignment(r.assignment)
            except MissingEntry:
                continue
            gb.update_or_create_student(r.student)
            sub = gb.update_or_create_submission(r.assignment, r.student)
            for nb in sub.notebooks:
                for g in nb.grades:
                    score = r.cells.get((nb.name, g.name), (0.0, 0.0))[0]
                    g.auto_score = score or 0.0
                    g.needs_manual_grade = False
            gb.db.commit()


def write_csv(results: list[Result], csv_path: Path) -> None:
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS)
        w.writeheader()
        for r in sorted(results, key=lambda r: (r.assignment, r.student)):
            if not r.graded:
                continue
            w.writerow(
                {
                    "assignment": r.assignment,
                    "duedate": "",
                    "timestamp": "",
                    "student_id": r.student,
                    "last_name": "",
                    "first_name": "",
                    "email": "",
                    "raw_score": r.score,
                    "late_submission_penalty": 0.0,
                    "score": r.score,
                    "max_score": r.max_score,
                    "reason": r.reason,
                }
            )


def table(results: list[Result]) -> str:
    """The report: one line per (student, assignment), reasons where any."""
    rows = sorted(results, key=lambda r: (r.student, r.assignment))
    ws = max([7] + [len(r.student) for r in rows])
    wa = max([10] + [len(r.assignment) for r in rows])
    lines = [f"{'student':{ws}s}  {'assignment':{wa}s}  {'score':>13s}  reason"]
    for r in rows:
        score = f"{r.score:5.1f} / {r.max_score:5.1f}" if r.graded else "not graded"
        lines.append(
            f"{r.student:{ws}s}  {r.assignment:{wa}s}  {score:>13s}  {r.reason}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "worker":
        raise SystemExit(worker_main(int(sys.argv[2])))
    print("usage: run `python tools/course.py grade` (this module is its engine)")
    raise SystemExit(2)
