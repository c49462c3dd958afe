"""Start JupyterLab for a student (`make lab`) or an instructor (`make lab-instructor`).

Student (the default): copies the released exercises and the chapters into
``my-work/`` (never overwriting: see ``tools/course.py start_work``), then starts
JupyterLab on 127.0.0.1 with ``my-work/`` as its root, so the student runs and
saves only their own copies and the repository's notebooks stay as committed.
``lab/student/`` is put first on ``JUPYTER_CONFIG_PATH``: nbgrader finds its
``nbgrader_config.py`` there, and only nbgrader's Validate button is on (no
assignment or course list, no exchange, no formgrader or create-assignment).

Instructor (``--instructor``): JupyterLab in ``exercises/`` (where the course's
``nbgrader_config.py`` is) with every nbgrader extension, formgrader included, and a
local exchange (``lab/instructor``).

``tests/test_lab_browser.py`` starts the student's lab with :func:`lab_command` and
:func:`lab_env`, exactly as ``make lab`` does, on a free port with a token.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "exercises"
STUDENT_CONFIG = ROOT / "lab" / "student"
INSTRUCTOR_CONFIG = ROOT / "lab" / "instructor"
WORK = ROOT / "my-work"
EXCHANGE = COURSE / "exchange"  # lab/instructor/nbgrader_config.py points nbgrader here


def lab_env(base: dict[str, str] | None = None, *, instructor: bool = False) -> dict:
    """The environment JupyterLab runs in: one thread per kernel, and the config
    folder ``lab/student`` (or ``lab/instructor``) ahead of every other."""
    env = dict(os.environ if base is None else base)
    env["OMP_NUM_THREADS"] = "1"
    env["OPENBLAS_NUM_THREADS"] = "1"
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    config = INSTRUCTOR_CONFIG if instructor else STUDENT_CONFIG
    paths = [str(config), *filter(None, [env.get("JUPYTER_CONFIG_PATH")])]
    env["JUPYTER_CONFIG_PATH"] = os.pathsep.join(paths)
    return env


def lab_command(
    root_dir: str | Path,
    *,
    port: int | None = None,
    token: str | None = None,
    open_browser: bool = True,
) -> list[str]:
    """The ``jupyter lab`` command line, listening on 127.0.0.1 only."""
    cmd = [
        str(Path(sys.executable).parent / "jupyter-lab"),
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.ip=127.0.0.1",
    ]
    if port is not None:
        cmd += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if token is not None:
        cmd.append(f"--IdentityProvider.token={token}")
    if not open_browser:
        cmd.append("--no-browser")
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    return cmd


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--instructor", action="store_true")
    ap.add_argument("--work", type=Path, default=WORK, help="the student's folder")
    args = ap.parse_args(argv)
    if args.instructor:
        EXCHANGE.mkdir(exist_ok=True)  # nbgrader's Assignment List wants it to exist
        root, cwd = COURSE, COURSE
    else:
        sys.path.insert(0, str(ROOT))
        from tools.course import start_work

        result = start_work(COURSE, args.work.resolve())
        for p in result["copied"]:
            print(f"copied  {p}")
        if result["kept"]:
            print(f"kept    {len(result['kept'])} notebooks already in {args.work}")
        root, cwd = args.work.resolve(), ROOT
    cmd = lab_command(root)
    os.chdir(cwd)
    os.execve(cmd[0], cmd, lab_env(instructor=args.instructor))
    return 0  # not reached


if __name__ == "__main__":
    raise SystemExit(main())
