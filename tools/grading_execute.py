"""nbgrader's Execute step, made to survive a student's notebook.

Used by ``course.py grade`` in place of ``nbgrader.preprocessors.Execute`` (the
per-submission ``nbgrader_config.py`` names it). Differences:

* **kernel death** (``os._exit``, IPython's ``exit()``, a crash, the memory
  limit): the cell gets an error output saying so, a fresh kernel re-runs the
  cells before it, and grading continues with the next cell — points earned
  elsewhere are kept;
* **cell timeout**: the cell gets an error output, the kernel is replaced the
  same way (an interrupt may be ignored by the student's code);
* **submission time limit**: once ``submission_timeout`` seconds have passed,
  the remaining cells are not run and get an error output saying so;
* **output cap in bytes** per cell (nbgrader's LimitOutput counts lines only,
  a single 50 MB line would be kept), applied while the output arrives.

Every such event is appended, as one JSON line, to ``events_file`` so that the
grader can print a one-line reason per student.
"""

from __future__ import annotations

import copy
import json
import time

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Float, Integer, Unicode


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(
        output_type="error",
        ename=ename,
        evalue=evalue,
        traceback=[f"{ename}: {evalue}"],
    )


class ResilientExecute(Execute):
    interrupt_on_timeout = Bool(False).tag(config=True)
    submission_timeout = Float(
        120.0, help="seconds for the whole notebook, restarts included"
    ).tag(config=True)
    max_output_bytes = Integer(
        100_000, help="bytes of output kept per cell (-1: no limit)"
    ).tag(config=True)
    events_file = Unicode("", help="JSON-lines file for grading events").tag(
        config=True
    )

    def _event(self, kind: str, cell: NotebookNode | None, **extra) -> None:
        if not self.events_file:
            return
        gid = None
        if cell is not None:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        rec = {"event": kind, "cell": gid, "index": self._current_index, **extra}
        with open(self.events_file, "a") as f:
            f.write(json.dumps(rec) + "\n")

    # ---- output cap, applied while messages arrive -------------------------
    def output(self, outs, msg, display_id, cell_index):
        if self._replaying:  # re-running earlier cells: their outputs are kept
            return None
        if self.max_output_bytes < 0:
            return super().output(outs, msg, display_id, cell_index)
        used = self._output_bytes.get(cell_index, 0)
        if used >= self.max_output_bytes:
            self._truncate_note(outs, cell_index)
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is None:
            return out
        if out.get("output_type") == "stream":
            size = len(out["text"])
        else:
            size = len(json.dumps(out))
        if used + size > self.max_output_bytes:
            if out.get("output_type") == "stream":
                out["text"] = out["text"][: max(self.max_output_bytes - used, 0)]
            elif out in outs:
                outs.remove(out)
            self._output_bytes[cell_index] = self.max_output_bytes
            self._truncate_note(outs, cell_index)
            return out
        self._output_bytes[cell_index] = used + size
        return out

    def _truncate_note(self, outs, cell_index: int) -> None:
        if cell_index in self._truncated:
            return
        self._truncated.add(cell_index)
        outs.append(
            NotebookNode(
                output_type="stream",
                name="stdout",
                text=f"\n... output truncated at {self.max_output_bytes} bytes "
                "by the grader ...\n",
            )
        )
        self._event("output_truncated", self.nb.cells[cell_index])

    # ---- the loop -----------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        from nbclient import NotebookClient

        NotebookClient.__init__(self, nb, km)
        self.reset_execution_trackers()
        self._check_assign_resources(resources)
        self._output_bytes: dict[int, int] = {}
        self._truncated: set[int] = set()
        self._skip: set[int] = set()  # cells that killed or hung a kernel
        self._replaying = False
        self._current_index = None
        deadline = time.monotonic() + self.submission_timeout
        cells = self.nb.cells
        start = 0
        while any(c.cell_type == "code" for c in cells[start:]):
            start = self._run_from(start, resources, deadline)
        self.set_widgets_metadata()
        return self.nb, self.resources

    def _cell_limit(self, cell) -> int | None:
        """Per-cell limit; the instructor's own set-up cells (locked, not graded,
        so they do not call the student's code) get the submission's time: a
        loaded machine importing torch must not cost the student anything."""
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked") and not meta.get("grade") and not meta.get("solution"):
            return None
        return self.timeout

    def _skip_rest(self, start: int, reason: str) -> int:
        first = True
        for cell in self.nb.cells[start:]:
            if cell.cell_type != "code":
                continue
            if first:
                self._current_index = self.nb.cells.index(cell)
                self._event("submission_timeout", cell, seconds=self.submission_timeout)
                first = False
            cell.outputs = [_error("GradingTimeLimit", reason)]
        return len(self.nb.cells)

    def _run_from(self, start: int, resources, deadline: float) -> int:
        """Start a kernel, replay cells before ``start``, run on; next start."""
        cells = self.nb.cells
        limit_msg = (
            f"not run: this notebook used up its {self.submission_timeout:g} s "
            "grading time limit"
        )
        with self.setup_kernel():
            info_msg = self.wait_for_reply(self.kc.kernel_info())
            self.nb.metadata["language_info"] = info_msg["content"]["language_info"]
            previous = None
            for index in range(start):  # replay, outputs thrown away
                cell = cells[index]
                if cell.cell_type != "code" or index in self._skip:
                    continue
                if time.monotonic() > deadline:
                    return self._skip_rest(start, limit_msg)
                self._replaying = True
                saved = self.timeout  # it ran in time before: only the deadline
                self.timeout = max(1, int(deadline - time.monotonic()))
                try:
                    self.execute_cell(copy.deepcopy(cell), index, store_history=False)
                except (DeadKernelError, CellTimeoutError):
                    # this cell ran before, so the one before it probably ended
                    # the kernel on its way out (IPython's exit()): leave that
                    # one out of the replay and try again
                    culprit = previous if previous is not None else index
                    self._skip.add(culprit)
                    self._current_index = culprit
                    self._event("replay_failed", cells[culprit])
                    return start
                finally:
                    self._replaying = False
                    self.timeout = saved
                previous = index
            for index in range(start, len(cells)):
                cell = cells[index]
                self._current_index = index
                if cell.cell_type != "code":
                    continue
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return self._skip_rest(index, limit_msg)
                saved = self.timeout
                limit = self._cell_limit(cell)
                self.timeout = max(1, int(min(limit or remaining, remaining)))
                try:
                    self.preprocess_cell(cell, resources, index)
                except DeadKernelError:
                    self._skip.add(index)
                    cell.outputs.append(
                        _error(
                            "KernelDied",
                            "the kernel died while running this cell (os._exit, "
                            "exit(), a crash or the memory limit); the grader "
                            "restarted it and went on with the next cell",
                        )
                    )
                    self._event("kernel_died", cell)
                    return index + 1
                except CellTimeoutError:
                    self._skip.add(index)
                    timed_out_by_limit = self.timeout < saved
                    cell.outputs.append(
                        _error(
                            "CellTimeoutError",
                            f"this cell ran longer than {self.timeout} s and was "
                            "stopped; the grader restarted the kernel and went on",
                        )
                    )
                    self._event(
                        "cell_timeout",
                        cell,
                        seconds=self.timeout,
                        submission_limit=timed_out_by_limit,
                    )
                    if timed_out_by_limit:
                        return self._skip_rest(index + 1, limit_msg)
                    return index + 1
                finally:
                    self.timeout = saved
        return len(cells)
