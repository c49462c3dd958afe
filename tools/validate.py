"""Validate an exercise notebook before handing it in; exit non-zero when it fails.

Wraps ``nbgrader validate`` (which runs the notebook top to bottom and checks every
graded test cell), keeps its whole output, and adds two things students need:

* **the reasons first**: one line per failed cell (the first line of its error,
  e.g. ``AssertionError: h_t has shape (3, 2), expected (2, 3)``) before nbgrader's
  long report, and a one-line verdict at the end;
* **an exit status**: 0 only when nbgrader reports success, 1 otherwise (failed or
  changed test cells, or a notebook that could not be run). ``nbgrader validate``
  itself exits 0 either way.

Usage (``make validate NB=...`` runs it)::

    .venv/bin/python tools/validate.py my-work/ex03_vanilla_rnn/vanilla_rnn.ipynb
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "exercises"  # nbgrader_config.py (time limits) is read from here
SUCCESS = "Success! Your notebook passes all the tests."
_ERROR_NAME = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b")


@dataclass
class Validation:
    ok: bool
    reasons: list[str]
    output: str
    returncode: int


def _reasons(output: str) -> list[str]:
    """The first line of each failed cell's error in nbgrader's report."""
    reasons = []
    for block in output.split("The error was:")[1:]:
        block = block.split("=" * 20)[0]
        lines = [ln.strip() for ln in block.splitlines() if ln.strip()]
        if not lines:
            continue
        named = [ln for ln in lines if _ERROR_NAME.match(ln)]
        # with rnnkit.feedback imported, the first line is the reason; otherwise
        # the error's own last line (`SomeError: message`) is the best we have
        reasons.append(
            lines[0] if _ERROR_NAME.match(lines[0]) or not named else named[-1]
        )
    if "CELL(S) HAVE CHANGED" in output:
        reasons.append(
            "test cells were changed (or their type was): restore them from a fresh "
            "copy of the released notebook"
        )
    return reasons


def validate(notebook: str | Path, timeout: float | None = None) -> Validation:
    """Run ``nbgrader validate`` on ``notebook`` and read its verdict."""
    nb = Path(notebook).resolve()
    if not nb.is_file():
        raise FileNotFoundError(f"no notebook at {nb}")
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run(
        # nbgrader cuts report lines at 90 characters: keep them whole
        [
            sys.executable,
            "-m",
            "nbgrader",
            "validate",
            "--Validator.width=100000",
            str(nb),
        ],
        cwd=COURSE,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = proc.stdout + proc.stderr
    ok = proc.returncode == 0 and SUCCESS in proc.stdout
    reasons = [] if ok else _reasons(output)
    if not ok and not reasons:
        reasons = ["nbgrader could not validate the notebook: see its output below"]
    return Validation(ok, reasons, output, proc.returncode)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    args = ap.parse_args(argv)
    failed = 0
    for nb in args.notebooks:
        try:
            result = validate(nb)
        except FileNotFoundError as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        if result.ok:
            print(result.output.rstrip())
            print(f"\nPASSED: {nb}")
            continue
        failed += 1
        print(f"FAILED: {nb}")
        for reason in result.reasons:
            print(f"  - {reason}")
        print("\nnbgrader validate's report:\n")
        print(result.output.rstrip())
        print(f"\nFAILED: {nb} ({len(result.reasons)} problem(s), listed at the top)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
