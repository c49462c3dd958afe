"""Broken and hostile hand-ins, generated from any exercise's release notebook.

``build(source_nb, release_nb, targets)`` returns a :class:`Corpus`, ``{kind:
Submission}``: the bytes of each submitted notebook and what an honest grader
must make of it. ``Corpus.score()`` then fills in every expected score, without
the grader: ``tests/test_grader_sandbox.py`` grades them all in one run of
``course.py grade``; ``benchmarks/bench_grading.py`` does so for every exercise.

Works for any exercise that follows the course's nbgrader pattern (answer cells,
each followed by its graded test cells); nothing about a particular exercise is
written here. Every kind breaks the **last** answer cell ``L`` (only its own
tests come after it) or, for the wrong-value kinds, the **first** answer ``F``
(so that a wrong value reaches every later task that uses it).

Where the expected score comes from (never from the code under test):

* ``FULL`` (the instructor's points: the submission is right, or the grader must
  undo what was done to it) and ``ZERO`` (nothing to grade) are structural;
* every other kind names a **reference**: a harmless notebook, the instructor's
  source notebook (all tests, hidden ones too) with the same answer broken in
  the same way, executed by plain nbclient in an ordinary kernel, outside the
  grader and its sandbox. A graded cell is lost there when it has an error
  output or stderr output other than a Python warning (nbgrader's scoring, with
  the grader's documented warning exception). A hand-in whose last cell kills
  or hangs the kernel must score what the reference without that cell scores
  (``without_last``); one whose function misbehaves (hangs, kills, reads
  stdin, returns an object equal to everything, ...) what the reference whose
  function raises scores (``last_raises``); the wrong-value kinds what their own
  answers score against the instructor's tests.

Kinds that need something from the outside world (a path to steal from, a file
to overwrite, a port to reach) read it from ``targets`` (a dict of strings, see
the test), so the test can check afterwards that nothing was reached.
"""

from __future__ import annotations

import ast
import concurrent.futures
import hashlib
import json
import os
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

FULL, ZERO = "full", "zero"
# the references (harmless notebooks run outside the grader), see the module doc
WITHOUT_LAST, LAST_RAISES, REORDERED = "without_last", "last_raises", "reordered"
VALUE_KINDS = ("nan_return", "wrong_shape", "wrong_dtype")
# Python's warnings on stderr, which the grader (README "Grading") does not score
WARNING = re.compile(r"\w*Warning: ")


@dataclass
class Submission:
    kind: str
    doc: str
    data: bytes  # the submitted .ipynb file
    expect: str  # FULL, ZERO or the name of a reference notebook
    reason: str  # substring of the reason line; "" = no reason expected
    score: float | None = None  # filled in by Corpus.score()
    max_score: float = 0.0
    lost: list[str] = field(default_factory=list)  # graded cells expected lost


class Exercise:
    """What the corpus needs to know about one exercise."""

    def __init__(self, source_nb, release_nb):
        self.source = source_nb
        self.release = release_nb
        meta = [(c, c.metadata.get("nbgrader", {})) for c in source_nb.cells]
        self.points = {
            m["grade_id"]: float(m.get("points", 0)) for c, m in meta if m.get("grade")
        }
        self.order = [m.get("grade_id") for c, m in meta]
        self.solutions = [
            m["grade_id"]
            for c, m in meta
            if m.get("solution") and c.cell_type == "code"
        ]
        if not self.solutions:
            raise ValueError("the source notebook has no answer (solution) cell")
        self.answer = {
            m["grade_id"]: c.source for c, m in meta if m.get("grade_id")
        }  # the instructor's version of every graded/locked cell
        self.total = sum(self.points.values())
        self.first, self.last = self.solutions[0], self.solutions[-1]
        i = self.order.index(self.last)
        self.last_tests = [g for g in self.order[i + 1 :] if g in self.points]
        if not self.last_tests:
            raise ValueError(f"no graded test cell after the last answer {self.last}")
        self.visible = self.last_tests[0]
        hidden = [g for g in self.last_tests if "hidden" in g]
        self.hidden = (hidden or self.last_tests)[-1]

    def names(self, sol: str, *, classes: bool = True) -> list[str]:
        """The functions (and classes) an answer cell defines at its top level."""
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef)
        kinds += (ast.ClassDef,) if classes else ()
        tree = ast.parse(self.answer[sol])
        found = [n.name for n in tree.body if isinstance(n, kinds)]
        if not found:
            raise ValueError(f"answer cell {sol} defines no function")
        return found

    def score(self, lost) -> float:
        return self.total - sum(self.points[g] for g in lost)

    # -- notebooks --------------------------------------------------------
    def _with(self, base, answers: dict[str, str]):
        nb = nbformat.from_dict(json.loads(json.dumps(base)))
        for cell in nb.cells:
            gid = _gid(cell)
            if gid in self.solutions:
                cell.source = answers.get(gid, self.answer[gid])
        return nb

    def solved(self, answers: dict[str, str] | None = None):
        """The release notebook with every answer filled in (``answers`` first)."""
        return self._with(self.release, answers or {})

    def reference(self, answers: dict[str, str] | None = None):
        """The instructor's source notebook (all tests) with ``answers`` in."""
        return self._with(self.source, answers or {})

    def untouched(self):
        return nbformat.from_dict(json.loads(json.dumps(self.release)))


def _copy_cell(cell):
    """A copy with a fresh cell id (nbformat would rename a duplicate id)."""
    new = nbformat.from_dict(json.loads(json.dumps(cell)))
    new["id"] = uuid.uuid4().hex[:8]
    return new


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _cell(nb, gid):
    for cell in nb.cells:
        if _gid(cell) == gid:
            return cell
    raise KeyError(gid)


def _index(nb, gid):
    return [_gid(c) for c in nb.cells].index(gid)


def _bytes(nb) -> bytes:
    return nbformat.writes(nb).encode()


def _indent(body: str) -> str:
    return "\n".join("    " + line for line in body.splitlines())


def _raising(ex: Exercise, sol: str, body: str) -> str:
    """The answer, then every function/class it defines redone as ``body``."""
    redone = "".join(
        f"\n\ndef {name}(*args, **kwargs):\n{_indent(body)}\n" for name in ex.names(sol)
    )
    return ex.answer[sol] + redone


def _wrap(ex: Exercise, sol: str, transform: str) -> str:
    """The answer, then its first function applying ``transform`` to its array."""
    f = ex.names(sol, classes=False)[0]
    return (
        ex.answer[sol]
        + f"""

_orig_{f} = {f}


def _first_array(out, change):
    import numpy as _np

    if isinstance(out, tuple):
        return (change(_np.asarray(out[0])),) + tuple(out[1:])
    return change(_np.asarray(out))


def {f}(*args, **kwargs):
    return _first_array(_orig_{f}(*args, **kwargs), lambda a: {transform})
"""
    )


def _before_last(ex: Exercise, code: str) -> dict[str, str]:
    """Answers where ``code`` runs first in the last answer cell."""
    return {ex.last: code + "\n" + ex.answer[ex.last]}


def _after_last(ex: Exercise, code: str) -> dict[str, str]:
    return {ex.last: ex.answer[ex.last] + "\n" + code}


class Corpus(dict):
    """``{kind: Submission}`` and the reference notebooks behind the scores."""

    def __init__(self, ex: Exercise, subs: dict, references: dict):
        super().__init__(subs)
        self.exercise = ex
        self.references = references  # name -> harmless notebook (source-based)
        self.reference_lost: dict[str, list[str]] = {}

    def score(self, workers: int | None = None, cell_timeout: float = 300) -> None:
        """Run the references (in parallel) and fill in every expected score."""
        names = sorted(self.references)
        with concurrent.futures.ThreadPoolExecutor(workers or os.cpu_count()) as pool:
            lost = pool.map(
                lambda n: reference_lost(self.references[n], cell_timeout), names
            )
            self.reference_lost = dict(zip(names, lost))
        self.score_from_references()

    def score_from_references(self) -> None:
        """Fill in every expected score from ``reference_lost`` (already run)."""
        for s in self.values():
            s.score, s.lost = self.expected(s)
            s.reason = s.reason.format(first_lost=(s.lost or ["?"])[0])

    def expected(self, s: Submission) -> tuple[float, list[str]]:
        ex = self.exercise
        if s.expect == FULL:
            return ex.total, []
        if s.expect == ZERO:
            return 0.0, sorted(ex.points, key=ex.order.index)
        lost = self.reference_lost[s.expect]
        return ex.score(lost), lost

    def undetected(self) -> list[str]:
        """Wrong-value kinds the exercise's own tests do not notice (lose 0)."""
        return [k for k in VALUE_KINDS if not self.reference_lost.get(k)]


def reference_lost(nb, cell_timeout: float = 300) -> list[str]:
    """Execute a harmless notebook with nbclient, unsandboxed, in a scratch folder
    and an ordinary kernel; return the graded cells it loses, in order."""
    from nbclient import NotebookClient

    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    with tempfile.TemporaryDirectory(prefix="corpus-reference-") as cwd:
        client = NotebookClient(
            nb,
            timeout=cell_timeout,
            allow_errors=True,
            kernel_name="python3",
            resources={"metadata": {"path": cwd}},
        )
        client.execute(env=env, cwd=cwd)
    lost = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        for out in cell.get("outputs", []):
            if out.output_type == "error" or (
                out.output_type == "stream"
                and out.name == "stderr"
                and not WARNING.search(out.text)
            ):
                lost.append(meta["grade_id"])
                break
    return lost


def tree_hashes(root) -> dict[str, str]:
    """SHA-256 of every regular file under ``root``, by relative path."""
    root = Path(root)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


def processes_matching(marker: str, *, kill: bool = False) -> list[str]:
    """Processes whose command line holds ``marker`` (the orphan kind's), as
    ``"<pid> uid=<uid> <command>"``; with ``kill``, each is then killed.

    (The sandbox users' own leftovers are found and named by the grader itself,
    in the reason line; another grading run may be using other sandbox uids.)
    """
    found = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit() or int(p.name) == os.getpid():
            continue
        try:
            cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            uid = int((p / "status").read_text().split("Uid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
        if marker in cmd:
            found.append(f"{p.name} uid={uid} {cmd[:100]}")
            if kill:
                try:
                    os.kill(int(p.name), 9)  # leave the machine clean
                except OSError:
                    pass
    return found


def probe_targets(
    course, name: str, nb_name: str, repo, marker: str, port: int
) -> dict[str, str]:
    """The paths and names the hostile kinds aim at, for ``build``'s ``targets``.

    ``course``: the course folder being graded (``source/``, ``submitted/``,
    ``gradebook.db``); ``repo``: the repository; ``marker``: a unique word the
    probes write or run under (so what they leave can be found); ``port``: a
    listening loopback port the network probe tries to reach.
    """
    course, repo = Path(course), Path(repo)
    sub = course / "submitted"
    return {
        "read_source": str(course / "source" / "*" / "*.ipynb"),
        "read_others": str(sub / "*" / name / "*.ipynb"),
        "read_autograded": str(course / "autograded" / "*" / name / "*.ipynb"),
        "read_repo": str(repo / "exercises" / "source" / "*" / "*.ipynb"),
        "read_relative": "../../../source/*/*.ipynb",
        "read_relative_sub": "../../../submitted/*/*/*.ipynb",
        "write_course": str(course / f"HACKED-{marker}.txt"),
        "write_repo": str(repo / f"HACKED-{marker}.txt"),
        "write_source": str(course / "source" / name / nb_name),
        "write_own": str(sub / "write_outside" / name / nb_name),
        "write_other": str(sub / "solution" / name / nb_name),
        "write_tmp": f"/tmp/HACKED-{marker}.txt",
        "delete_config": str(course / "nbgrader_config.py"),
        "delete_other": str(sub / "untouched" / name / nb_name),
        "gradebook": str(course / "gradebook.db"),
        "marker": marker,
        "port": str(port),
    }


def build(source_nb, release_nb, targets: dict[str, str]) -> Corpus:
    """Every kind of hand-in for one exercise. ``targets``: see module doc."""
    ex = Exercise(source_nb, release_nb)
    L = ex.last
    f_last = ex.names(L, classes=False)[0]
    kinds: dict[str, tuple[str, object, str, str]] = {}
    refs = {
        WITHOUT_LAST: ex.reference({L: ""}),
        LAST_RAISES: ex.reference(
            {L: _raising(ex, L, "raise ValueError('wrong answer')")}
        ),
    }

    def add(kind, doc, nb_or_bytes, expect, reason=""):
        if type(nb_or_bytes) is dict:  # answers: the submission and its reference
            refs[kind] = ex.reference(nb_or_bytes)
            nb_or_bytes = ex.solved(nb_or_bytes)
        kinds[kind] = (doc, nb_or_bytes, expect, reason)

    def broken(body):
        return ex.solved({L: _raising(ex, L, body)})

    add("solution", "the instructor's solution", ex.solved(), FULL)
    add("untouched", "the release notebook as handed out", ex.untouched(), ZERO)
    add(
        "syntax_error",
        "a syntax error in the last answer cell",
        ex.solved({L: ex.answer[L] + "\n\ndef broken(:\n    pass\n"}),
        WITHOUT_LAST,
    )
    add(
        "exception",
        "the last function raises",
        broken("raise ValueError('oops')"),
        LAST_RAISES,
    )
    add(
        "infinite_loop",
        "the last answer cell never finishes (and ignores KeyboardInterrupt)",
        ex.solved(
            _before_last(
                ex,
                "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n"
                "    except BaseException:\n        pass",
            )
        ),
        WITHOUT_LAST,
        f"timed out in cell {L}",
    )
    add(
        "slow_solution",
        "the last function takes forever, so its tests time out",
        broken("import time\ntime.sleep(3600)"),
        LAST_RAISES,
        "timed out in cell {first_lost}",
    )
    add(
        "sys_exit",
        "sys.exit() in the last answer cell",
        ex.solved(_before_last(ex, "import sys\nsys.exit(3)")),
        WITHOUT_LAST,
    )
    add(
        "os_exit",
        "os._exit() in the last answer cell kills the kernel",
        ex.solved(_before_last(ex, "import os\nos._exit(0)")),
        WITHOUT_LAST,
        f"kernel died in cell {L}",
    )
    add(
        "os_exit_in_test",
        "the last function calls os._exit(), killing the kernel in its tests",
        broken("import os\nos._exit(1)"),
        LAST_RAISES,
        "kernel died in cell {first_lost}",
    )
    add(
        "ipython_exit",
        "IPython's exit() in the last answer cell (ignored when grading: "
        "nothing is lost)",
        ex.solved(_before_last(ex, "exit()")),
        FULL,
    )
    add(
        "segfault",
        "the last answer cell crashes the interpreter (reads address 0)",
        ex.solved(_before_last(ex, "import ctypes\nctypes.string_at(0)")),
        WITHOUT_LAST,
        f"kernel died in cell {L}",
    )

    nb = ex.solved()
    del nb.cells[_index(nb, L)]
    add(
        "deleted_answer",
        "the last answer cell deleted",
        nb,
        WITHOUT_LAST,
        f"answer cell {L} deleted or unmarked",
    )

    nb = ex.solved()
    del nb.cells[_index(nb, ex.hidden)]
    add(
        "deleted_test",
        "the last task's (hidden-)test placeholder deleted (solution right)",
        nb,
        FULL,
        f"deleted test cell {ex.hidden}",
    )

    nb = ex.solved()
    i = _index(nb, L)
    nb.cells.insert(i + 1, _copy_cell(nb.cells[i]))
    add(
        "duplicate_answer",
        "the last answer cell duplicated (same grade_id, nbgrader#1083)",
        nb,
        FULL,
        f"duplicate cell id {L}",
    )

    nb = ex.solved()
    i = _index(nb, ex.visible)
    nb.cells.insert(i + 1, _copy_cell(nb.cells[i]))
    add(
        "duplicate_test",
        "a test cell duplicated (same grade_id)",
        nb,
        FULL,
        f"duplicate cell id {ex.visible}",
    )

    nb = broken("raise ValueError('oops')")
    for gid in ex.last_tests:
        _cell(nb, gid).source = "print('all tests pass')"
    add(
        "edited_tests",
        "wrong last answer, its test cells edited to pass",
        nb,
        LAST_RAISES,
        f"edited test cells {', '.join(ex.last_tests)}"
        if len(ex.last_tests) > 1
        else f"edited test cell {ex.visible}",
    )

    def swapped(nb):
        i, j = _index(nb, L), _index(nb, ex.visible)
        nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]
        return nb

    refs[REORDERED] = swapped(ex.reference())
    add(
        "reordered",
        "the last task's first test moved above its answer cell",
        swapped(ex.solved()),
        REORDERED,
        "cells reordered",
    )

    nb = ex.solved()
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
    add(
        "stripped_metadata",
        "every cell's nbgrader metadata removed (solution right)",
        nb,
        FULL,
        "metadata stripped from cell",
    )

    nb = broken("raise ValueError('oops')")
    for cell in nb.cells:
        m = cell.metadata.get("nbgrader", {})
        if m.get("grade"):
            m["points"] = 100
        if "checksum" in m:
            m["checksum"] = "0" * 32
    add(
        "tampered_metadata",
        "wrong last answer; points and checksums edited",
        nb,
        LAST_RAISES,
        "tampered metadata in cell",
    )

    add(
        "empty_notebook",
        "a valid notebook without cells",
        nbformat.v4.new_notebook(metadata=release_nb.metadata),
        ZERO,
        "deleted",
    )
    add(
        "not_a_notebook",
        "a text file named .ipynb",
        b"these are my answers: 42\n",
        ZERO,
        "not a notebook",
    )
    add(
        "json_not_notebook",
        "valid JSON, not a notebook",
        b'{"answers": [1, 2, 3]}',
        ZERO,
        "not a notebook",
    )
    add(
        "huge_output_lines",
        "the last answer cell prints 20,000 lines (solution right)",
        ex.solved(_after_last(ex, "for _i in range(20_000):\n    print('line', _i)")),
        FULL,
        f"output of cell {L} truncated",
    )
    add(
        "huge_output_line",
        "the last answer cell prints one 50 MB line (solution right)",
        ex.solved(_after_last(ex, "print('x' * 50_000_000)")),
        FULL,
        f"output of cell {L} truncated",
    )
    for kind, doc, transform in (
        ("nan_return", "the first function returns NaN", "a * float('nan')"),
        ("wrong_shape", "the first function returns its array transposed", "a.T"),
        (
            "wrong_dtype",
            "the first function's array is cast to integers",
            "a.astype(int)",
        ),
    ):
        answers = {ex.first: _wrap(ex, ex.first, transform)}
        add(kind, doc, answers, kind)  # scored by its own reference run
    add(
        "input_call",
        "input() in the last function",
        broken("return input('value? ')"),
        LAST_RAISES,
    )
    add(
        "stderr_warning",
        "a correct last function that also issues a warning",
        ex.solved(
            _after_last(
                ex,
                f"""
import warnings as _warnings

_quiet_{f_last} = {f_last}


def {f_last}(*args, **kwargs):
    _warnings.warn("this function is slow", RuntimeWarning, stacklevel=2)
    return _quiet_{f_last}(*args, **kwargs)
""",
            )
        ),
        FULL,
    )
    add(
        "always_equal",
        "the last function returns an object equal to everything",
        broken(
            "class _Yes:\n"
            "    def __eq__(self, other): return True\n"
            "    def __ne__(self, other): return False\n"
            "    def __float__(self): return float('nan')\n"
            "    def __int__(self): return -1\n"
            "    def __round__(self, n=None): return self\n"
            "    def __array__(self, *a, **k):\n"
            "        import numpy\n"
            "        return numpy.array(float('nan'))\n"
            "return _Yes()"
        ),
        LAST_RAISES,  # the tests compare type, shape and values: nothing passes
    )
    paths = json.dumps([targets[k] for k in sorted(targets) if k.startswith("read_")])
    fallback = "".join(
        f"    def {name}(*args, **kwargs):\n"
        "        raise FileNotFoundError('nothing outside my folder is visible')\n"
        for name in ex.names(L)
    )
    add(
        "read_outside",
        "copies the last answer from the instructor's source or another "
        "student's hand-in, if it can read them",
        ex.solved(
            {
                L: f"import glob, json\n_stolen = None\nfor _p in {paths}:\n"
                "    for _q in glob.glob(_p):\n"
                "        try:\n"
                "            _cells = json.load(open(_q))['cells']\n"
                "        except Exception:\n"
                "            continue\n"
                "        for _c in _cells:\n"
                "            _m = _c.get('metadata', {}).get('nbgrader', {})\n"
                "            _src = ''.join(_c.get('source', ''))\n"
                f"            if _m.get('grade_id') == {L!r} and "
                "'NotImplementedError' not in _src:\n"
                "                _stolen = _src\n"
                "if _stolen:\n"
                "    exec(_stolen)\n"
                "else:\n" + fallback
            }
        ),
        LAST_RAISES,
    )
    writes = json.dumps([targets[k] for k in sorted(targets) if k.startswith("write_")])
    deletes = json.dumps(
        [targets[k] for k in sorted(targets) if k.startswith("delete_")]
    )
    add(
        "write_outside",
        "tries to write and delete files outside its folder (solution right)",
        ex.solved(
            _after_last(
                ex,
                f"import os\nfor _p in {writes}:\n"
                "    try:\n"
                "        with open(_p, 'w') as _f:\n"
                "            _f.write('written by a student')\n"
                "    except OSError:\n"
                "        pass\n"
                f"for _p in {deletes}:\n"
                "    try:\n"
                "        os.remove(_p)\n"
                "    except OSError:\n"
                "        pass\n"
                "open('my_own_file.txt', 'w').write('fine: my own folder')",
            )
        ),
        FULL,
    )
    add(
        "edit_gradebook",
        "wrong answer; tries to give itself full marks in any gradebook it finds",
        broken(
            "import glob, sqlite3\n"
            f"for _p in glob.glob({targets['gradebook']!r}) + "
            "glob.glob('../../../gradebook.db') + "
            "glob.glob('/tmp/*/*/*/gradebook.db'):\n"
            "    try:\n"
            "        _c = sqlite3.connect(_p)\n"
            "        _c.execute('UPDATE grade SET manual_score = 100')\n"
            "        _c.commit()\n"
            "    except Exception:\n"
            "        pass\n"
            "raise ValueError('wrong answer')"
        ),
        LAST_RAISES,
    )
    add(
        "memory_hog",
        "the last answer cell allocates 8 GiB",
        ex.solved(
            _before_last(ex, "import numpy as _np\n_big = _np.ones(2**30)  # 8 GiB")
        ),
        WITHOUT_LAST,
    )
    add(
        "orphan_process",
        "starts detached processes that would outlive grading (solution right)",
        ex.solved(
            _after_last(
                ex,
                "import subprocess, sys\n"
                f"_code = 'import time; time.sleep(600)  # {targets['marker']}'\n"
                "subprocess.Popen([sys.executable, '-c', _code], "
                "start_new_session=True,\n"
                "                 stdout=subprocess.DEVNULL, "
                "stderr=subprocess.DEVNULL)\n"
                "subprocess.Popen(['sh', '-c', "
                f"'(nohup {{0}} -c \"{targets['marker']}=1; import time; "
                "time.sleep(600)\" >/dev/null 2>&1 &) &'.format(sys.executable)])",
            )
        ),
        FULL,
    )
    add(
        "process_flood",
        "starts processes until refused (solution right)",
        ex.solved(
            _after_last(
                ex,
                "import subprocess\n_procs = []\ntry:\n    for _i in range(1000):\n"
                "        _procs.append(subprocess.Popen(['sleep', '600']))\n"
                "except OSError:\n    pass\nfor _p in _procs:\n    _p.kill()\n"
                "    _p.wait()\nprint(len(_procs), 'processes started')",
            )
        ),
        FULL,
    )
    add(
        "network",
        "the last function works only if it can reach the grader's loopback",
        broken(
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {targets['port']}), timeout=3)"
            ".close()\nraise ValueError('reached the network')"
        ),
        LAST_RAISES,
    )

    subs = {}
    for kind, (doc, nb, expect, reason) in kinds.items():
        data = nb if isinstance(nb, bytes) else _bytes(nb)
        subs[kind] = Submission(kind, doc, data, expect, reason, max_score=ex.total)
    return Corpus(ex, subs, refs)
