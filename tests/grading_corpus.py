"""Broken and hostile hand-ins, generated from an exercise's release notebook.

``build(source_nb, release_nb, targets)`` returns ``{kind: Submission}``: the
bytes of the submitted notebook and what an honest grader must make of it —
the score (computed here from the instructor's points, never by the grader)
and a substring of the grader's reason line ("" = an ordinary score, no
reason). ``tests/test_grader_sandbox.py`` grades them all in one run of
``course.py grade``; ``benchmarks/bench_grading.py`` uses them for timing.

The exercises follow the course's nbgrader pattern: solution cells, then their
visible and hidden test cells named ``test_<solution id>_visible`` /
``test_<solution id>_hidden``. Two facts about exercises 3 and 4 are used for
the expected scores, and stated here rather than derived by running anything:

* the **last** task's tests use only the last solution, so breaking the last
  solution costs exactly the points of its tests (``LAST``);
* the second task's tests also exercise the first solution (rnn_forward calls
  rnn_step_forward, rnn_backward calls rnn_step_backward), so a wrong first
  solution costs the points of the first two tasks' tests (``FIRST``).

Kinds that need something from the outside world (a path to steal from, a
file to overwrite, a port to reach) read it from ``targets`` (a dict of
strings, see ``Targets``), so the test can check afterwards that nothing was
reached.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass

import nbformat

FULL, ZERO, LAST, FIRST = "full", "zero", "last", "first"


@dataclass
class Submission:
    kind: str
    doc: str
    data: bytes  # the submitted .ipynb file
    lose: str  # FULL (nothing lost), ZERO, LAST or FIRST
    reason: str  # substring of the reason line; "" = no reason expected
    score: float = 0.0
    max_score: float = 0.0


class Exercise:
    """What the corpus needs to know about one exercise."""

    def __init__(self, source_nb, release_nb):
        self.source = source_nb
        self.release = release_nb
        meta = [(c, c.metadata.get("nbgrader", {})) for c in source_nb.cells]
        self.points = {
            m["grade_id"]: float(m.get("points", 0)) for c, m in meta if m.get("grade")
        }
        self.solutions = [
            m["grade_id"]
            for c, m in meta
            if m.get("solution") and c.cell_type == "code"
        ]
        self.answer = {
            m["grade_id"]: c.source for c, m in meta if m.get("grade_id")
        }  # the instructor's version of every graded/locked cell
        self.total = sum(self.points.values())
        self.first, self.second, self.last = (
            self.solutions[0],
            self.solutions[1],
            self.solutions[-1],
        )

    def tests_of(self, sol: str) -> list[str]:
        tests = [g for g in self.points if g.startswith(f"test_{sol}_")]
        assert tests, f"no test cells named test_{sol}_* in the source"
        return tests

    def score(self, lose: str) -> float:
        if lose == FULL:
            return self.total
        if lose == ZERO:
            return 0.0
        if lose == LAST:
            return self.total - sum(self.points[g] for g in self.tests_of(self.last))
        if lose == FIRST:
            lost = self.tests_of(self.first) + self.tests_of(self.second)
            return self.total - sum(self.points[g] for g in lost)
        if lose.startswith("minus:"):
            return self.total - self.points[lose.split(":", 1)[1]]
        raise ValueError(lose)

    def func(self, sol: str) -> str:
        m = re.search(r"^def (\w+)\(", self.answer[sol], re.M)
        assert m, f"solution cell {sol} defines no function"
        return m.group(1)

    # -- notebooks --------------------------------------------------------
    def solved(self):
        """The release notebook with every solution filled in."""
        nb = nbformat.from_dict(json.loads(json.dumps(self.release)))
        for cell in nb.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in self.solutions:
                cell.source = self.answer[gid]
        return nb

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


def _wrap(ex: Exercise, sol: str, transform: str) -> str:
    """The solution, then a wrapper applying ``transform`` to its first array."""
    f = ex.func(sol)
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


def _with_last(ex: Exercise, code: str, *, before: bool = True):
    """Solved notebook whose last solution cell has ``code`` added."""
    nb = ex.solved()
    cell = _cell(nb, ex.last)
    cell.source = (code + "\n" + cell.source) if before else (cell.source + "\n" + code)
    return nb


def _broken_last(ex: Exercise, body: str):
    """Solved notebook whose last function does ``body`` instead."""
    nb = ex.solved()
    m = re.search(r"^def .*?:\n(\s+\"\"\"[\s\S]*?\"\"\"\n)?", ex.answer[ex.last], re.M)
    header = m.group(0)
    _cell(nb, ex.last).source = header + "\n".join(
        "    " + line for line in body.splitlines()
    )
    return nb


def build(source_nb, release_nb, targets: dict[str, str]) -> dict[str, Submission]:
    """Every kind of hand-in for one exercise. ``targets``: see module doc."""
    ex = Exercise(source_nb, release_nb)
    f_last = ex.func(ex.last)
    kinds: dict[str, tuple[str, object, str, str]] = {}

    def add(kind, doc, nb_or_bytes, lose, reason=""):
        kinds[kind] = (doc, nb_or_bytes, lose, reason)

    add("solution", "the instructor's solution", ex.solved(), FULL)
    add("untouched", "the release notebook as handed out", ex.untouched(), ZERO)
    add(
        "syntax_error",
        "a syntax error in the last answer",
        _broken_last(ex, "return (1 +"),
        LAST,
    )
    add(
        "exception",
        "the last function raises",
        _broken_last(ex, "raise ValueError('oops')"),
        LAST,
    )
    add(
        "infinite_loop",
        "the last answer cell never finishes (and ignores KeyboardInterrupt)",
        _with_last(
            ex,
            "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n"
            "    except BaseException:\n        pass",
        ),
        LAST,
        f"timed out in cell {ex.last}",
    )
    add(
        "slow_solution",
        "the last function takes forever, so its tests time out",
        _broken_last(ex, "import time\ntime.sleep(3600)"),
        LAST,
        f"timed out in cell test_{ex.last}_",
    )
    add(
        "sys_exit",
        "sys.exit() in the last answer cell",
        _with_last(ex, "import sys\nsys.exit(3)"),
        LAST,
    )
    add(
        "os_exit",
        "os._exit() in the last answer cell kills the kernel",
        _with_last(ex, "import os\nos._exit(0)"),
        LAST,
        f"kernel died in cell {ex.last}",
    )
    add(
        "os_exit_in_test",
        "the last function calls os._exit(), killing the kernel in its tests",
        _broken_last(ex, "import os\nos._exit(1)"),
        LAST,
        f"kernel died in cell test_{ex.last}_",
    )
    add(
        "ipython_exit",
        "IPython's exit() in the last answer cell (ignored when grading: "
        "nothing is lost)",
        _with_last(ex, "exit()"),
        FULL,
    )
    add(
        "segfault",
        "the last answer cell crashes the interpreter (reads address 0)",
        _with_last(ex, "import ctypes\nctypes.string_at(0)"),
        LAST,
        f"kernel died in cell {ex.last}",
    )

    nb = ex.solved()
    del nb.cells[_index(nb, ex.last)]
    add(
        "deleted_answer",
        "the last answer cell deleted",
        nb,
        LAST,
        f"answer cell {ex.last} deleted or unmarked",
    )

    hidden = f"test_{ex.last}_hidden"
    nb = ex.solved()
    del nb.cells[_index(nb, hidden)]
    add(
        "deleted_test",
        "the last hidden-test placeholder deleted (solution right)",
        nb,
        FULL,
        f"deleted test cell {hidden}",
    )

    nb = ex.solved()
    i = _index(nb, ex.last)
    nb.cells.insert(i + 1, _copy_cell(nb.cells[i]))
    add(
        "duplicate_answer",
        "the last answer cell duplicated (same grade_id, nbgrader#1083)",
        nb,
        FULL,
        f"duplicate cell id {ex.last}",
    )

    visible = f"test_{ex.last}_visible"
    nb = ex.solved()
    i = _index(nb, visible)
    nb.cells.insert(i + 1, _copy_cell(nb.cells[i]))
    add(
        "duplicate_test",
        "a test cell duplicated (same grade_id)",
        nb,
        FULL,
        f"duplicate cell id {visible}",
    )

    nb = _broken_last(ex, "raise ValueError('oops')")
    _cell(nb, visible).source = "print('all tests pass')"
    _cell(nb, hidden).source = "pass"
    add(
        "edited_tests",
        "wrong last answer, its test cells edited to pass",
        nb,
        LAST,
        f"edited test cells {visible}, {hidden}",
    )

    nb = ex.solved()
    i, j = _index(nb, ex.last), _index(nb, visible)
    nb.cells[i], nb.cells[j] = nb.cells[j], nb.cells[i]
    add(
        "reordered",
        "the last visible test moved above its answer cell",
        nb,
        f"minus:{visible}",
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

    nb = _broken_last(ex, "raise ValueError('oops')")
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
        LAST,
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
        _with_last(ex, "for _i in range(20_000):\n    print('line', _i)"),
        FULL,
        f"output of cell {ex.last} truncated",
    )
    add(
        "huge_output_line",
        "the last answer cell prints one 50 MB line (solution right)",
        _with_last(ex, "print('x' * 50_000_000)"),
        FULL,
        f"output of cell {ex.last} truncated",
    )
    add(
        "nan_return",
        "the first function returns NaN",
        _replace(ex, ex.first, _wrap(ex, ex.first, "a * float('nan')")),
        FIRST,
    )
    add(
        "wrong_shape",
        "the first function returns its array transposed",
        _replace(ex, ex.first, _wrap(ex, ex.first, "a.T")),
        FIRST,
    )
    add(
        "wrong_dtype",
        "the first function's array is cast to integers",
        _replace(ex, ex.first, _wrap(ex, ex.first, "a.astype(int)")),
        FIRST,
    )
    add(
        "input_call",
        "input() in the last function",
        _broken_last(ex, "return input('value? ')"),
        LAST,
    )
    add(
        "stderr_warning",
        "a correct last function that also issues a warning",
        _replace(
            ex,
            ex.last,
            ex.answer[ex.last]
            + f"""

import warnings as _warnings

_quiet_{f_last} = {f_last}


def {f_last}(*args, **kwargs):
    _warnings.warn("this function is slow", RuntimeWarning, stacklevel=2)
    return _quiet_{f_last}(*args, **kwargs)
""",
        ),
        FULL,
    )
    add(
        "always_equal",
        "the last function returns an object equal to everything",
        _broken_last(
            ex,
            "class _Yes:\n"
            "    def __eq__(self, other): return True\n"
            "    def __ne__(self, other): return False\n"
            "    def __float__(self): return float('nan')\n"
            "    def __int__(self): return -1\n"
            "    def __round__(self, n=None): return self\n"
            "    def __array__(self, *a, **k):\n"
            "        import numpy\n"
            "        return numpy.array(float('nan'))\n"
            "return _Yes()",
        ),
        LAST,
    )
    paths = json.dumps([targets[k] for k in sorted(targets) if k.startswith("read_")])
    nb = ex.solved()
    _cell(nb, ex.last).source = (
        f"import glob, json\n_stolen = None\nfor _p in {paths}:\n"
        "    for _q in glob.glob(_p):\n"
        "        try:\n"
        "            _cells = json.load(open(_q))['cells']\n"
        "        except Exception:\n"
        "            continue\n"
        "        for _c in _cells:\n"
        "            _m = _c.get('metadata', {}).get('nbgrader', {})\n"
        "            _src = ''.join(_c.get('source', ''))\n"
        f"            if _m.get('grade_id') == {ex.last!r} and "
        "'NotImplementedError' not in _src:\n"
        "                _stolen = _src\n"
        "if _stolen:\n"
        "    exec(_stolen)\n"
        "else:\n"
        f"    def {f_last}(*args, **kwargs):\n"
        "        raise FileNotFoundError('nothing outside my folder is visible')\n"
    )
    add(
        "read_outside",
        "copies the last answer from the instructor's source or another "
        "student's hand-in, if it can read them",
        nb,
        LAST,
    )
    writes = json.dumps([targets[k] for k in sorted(targets) if k.startswith("write_")])
    deletes = json.dumps(
        [targets[k] for k in sorted(targets) if k.startswith("delete_")]
    )
    add(
        "write_outside",
        "tries to write and delete files outside its folder (solution right)",
        _with_last(
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
        ),
        FULL,
    )
    add(
        "edit_gradebook",
        "wrong answer; tries to give itself full marks in any gradebook it finds",
        _broken_last(
            ex,
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
            "raise ValueError('wrong answer')",
        ),
        LAST,
    )
    add(
        "memory_hog",
        "the last answer cell allocates 8 GiB",
        _with_last(ex, "import numpy as _np\n_big = _np.ones(2**30)  # 8 GiB"),
        LAST,
    )
    add(
        "orphan_process",
        "starts detached processes that would outlive grading (solution right)",
        _with_last(
            ex,
            "import subprocess, sys\n"
            f"_code = 'import time; time.sleep(600)  # {targets['marker']}'\n"
            "subprocess.Popen([sys.executable, '-c', _code], start_new_session=True,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "subprocess.Popen(['sh', '-c', "
            f"'(nohup {{0}} -c \"{targets['marker']}=1; import time; "
            "time.sleep(600)\" >/dev/null 2>&1 &) &'.format(sys.executable)])",
        ),
        FULL,
    )
    add(
        "process_flood",
        "starts processes until refused (solution right)",
        _with_last(
            ex,
            "import subprocess\n_procs = []\ntry:\n    for _i in range(1000):\n"
            "        _procs.append(subprocess.Popen(['sleep', '600']))\n"
            "except OSError:\n    pass\nfor _p in _procs:\n    _p.kill()\n"
            "    _p.wait()\nprint(len(_procs), 'processes started')",
        ),
        FULL,
    )
    add(
        "network",
        "the last function works only if it can reach the grader's loopback",
        _broken_last(
            ex,
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {targets['port']}), timeout=3)"
            ".close()\nreturn None",
        ),
        LAST,
    )

    out = {}
    for kind, (doc, nb, lose, reason) in kinds.items():
        data = nb if isinstance(nb, bytes) else _bytes(nb)
        out[kind] = Submission(kind, doc, data, lose, reason, ex.score(lose), ex.total)
    return out


def _replace(ex: Exercise, sol: str, code: str):
    nb = ex.solved()
    _cell(nb, sol).source = code
    return nb
