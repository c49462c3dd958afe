"""Run a student's Jupyter kernel in a bubblewrap sandbox (used by ``course.py grade``).

The grader writes, for every submission, a kernelspec whose ``argv`` is this
script::

    python tools/sandbox.py kernel --config <sandbox.json> {connection_file} ...

and this script (running as the grader, outside the sandbox) then

1. makes a private working copy of the hand-in (the student's own files, plus
   the non-notebook files of ``source/<assignment>``) and gives it to the
   sandbox user;
2. replaces itself by ``bwrap`` (Debian's bubblewrap), which starts ipykernel

   * in new PID, network, IPC and UTS namespaces: no network (only its own
     loopback), no other process visible, and every process the student's code
     starts dies with the kernel (the namespace's init goes, the kernel takes
     everything with it);
   * on a root file system made of the read-only system folders, the Python
     environment and the course package only: no ``source/``, no gradebook, no
     other student, no repository. The working copy is mounted read-write where
     nbgrader expects the notebook's folder, ``/tmp`` is a small private tmpfs;
   * as a separate unprivileged user (one per parallel grader, no
     capabilities, ``no_new_privs``), with limits on address space, processes,
     file size and core dumps (``prlimit``);
   * with a clean environment.

The kernel talks to the grader through ZMQ ``ipc`` sockets in a per-submission
runtime folder bound into the sandbox (TCP on 127.0.0.1 would not cross the
network namespace).

``probe()`` starts a trivial command with the same options, so the grader can
refuse to run when the sandbox cannot start.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

# Limits for the student's kernel (each process); the grader may override them.
DEFAULT_LIMITS = {
    "memory_bytes": 2 * 1024**3,  # RLIMIT_AS
    "max_processes": 128,  # RLIMIT_NPROC of the sandbox user (threads count)
    "max_file_bytes": 256 * 1024**2,  # RLIMIT_FSIZE
    "tmp_bytes": 64 * 1024**2,  # size of the private /tmp
}
# Sandbox users: one uid per parallel grader, so process limits are not shared.
# Not in /etc/passwd; chosen above the usual ranges of regular and system users.
BASE_UID = 62000
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
KERNEL_NAME = "rnncourse-sandbox"
# IPython's exit() asks the front end to stop the kernel, which then goes down a
# moment later, in whichever cell is running: nondeterministic scores. Nobody is
# there to ask when grading, so exit() is ignored.
KERNEL_ARGS = ["--IPKernelApp.exec_lines=get_ipython().ask_exit = lambda: None"]
TOOLS = ("bwrap", "prlimit", "setpriv")


UID_RANGE = 1000  # uids BASE_UID ... BASE_UID + UID_RANGE - 1
LOCK_DIR = Path("/tmp/rnncourse-sandbox-uids")


class UidClaim:
    """Sandbox uids held for one grading run (a lock file each).

    Two grading runs on one machine (two instructors, or two test sessions) must
    not share a uid: process limits are per uid, and leftovers are found by uid.
    """

    def __init__(self, count: int) -> None:
        import fcntl

        LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
        self.uids: list[int] = []
        self._files = []
        for uid in range(BASE_UID, BASE_UID + UID_RANGE):
            if len(self.uids) == count:
                break
            f = open(LOCK_DIR / str(uid), "w")  # noqa: SIM115  held until release
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                f.close()
                continue
            self.uids.append(uid)
            self._files.append(f)
        if len(self.uids) < count:
            self.release()
            raise RuntimeError(f"no {count} free sandbox uids in {LOCK_DIR}")

    def release(self) -> None:
        for f in self._files:
            f.close()
        self._files = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()


def exposed_paths() -> list[str]:
    """Read-only folders the kernel needs: system, Python and the course package."""
    paths = [p for p in SYSTEM_DIRS if os.path.lexists(p)]
    py = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    py.append(str(Path(os.path.realpath(sys.executable)).parent.parent))
    try:  # the course package, wherever it is installed (editable: the repo)
        import importlib.util

        spec = importlib.util.find_spec("rnnkit")
        if spec and spec.origin:
            py.append(str(Path(spec.origin).resolve().parent))
    except ImportError:
        pass
    for p in py:
        if p and os.path.isdir(p) and p not in paths:
            paths.append(p)
    return paths


def _parent_dirs(paths: list[str]) -> list[str]:
    """``--dir`` for every ancestor, world-searchable (bwrap makes them 0700)."""
    parents: set[str] = set()
    for p in paths:
        for parent in Path(p).parents:
            if str(parent) != "/":
                parents.add(str(parent))
    args: list[str] = []
    for d in sorted(parents, key=lambda d: (d.count("/"), d)):
        args += ["--perms", "0755", "--dir", d]
    return args


def _bind_system(paths: list[str]) -> list[str]:
    args: list[str] = []
    for p in paths:
        if os.path.islink(p) and p in SYSTEM_DIRS:
            args += ["--symlink", os.readlink(p), p]
        else:
            real = os.path.realpath(p)
            args += ["--ro-bind", real, p]
            if real != p:
                args += ["--ro-bind", real, real]
    return args


def bwrap_argv(
    cfg: dict, mount_at: str, command: list[str], *, drop_user: bool = True
) -> list[str]:
    """The full command line that runs ``command`` in the sandbox."""
    limits = {**DEFAULT_LIMITS, **cfg.get("limits", {})}
    uid = str(cfg["uid"])
    env = {
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "IPYTHONDIR": "/tmp/ipython",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    argv = [
        "bwrap",
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
        # The private /tmp first: a course checked out under /tmp (as CI may do) has
        # its venv and package bound on top of it below, not hidden by it.
        "--perms",
        "1777",
        "--size",
        str(limits["tmp_bytes"]),
        "--tmpfs",
        "/tmp",
        *_parent_dirs(cfg["expose"] + [os.path.realpath(p) for p in cfg["expose"]]),
        *_bind_system(cfg["expose"]),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    argv += _parent_dirs([mount_at, cfg.get("runtime") or "/"])
    if cfg.get("work"):
        argv += ["--bind", cfg["work"], mount_at, "--chdir", mount_at]
    if cfg.get("runtime"):
        argv += ["--bind", cfg["runtime"], cfg["runtime"]]
    argv += ["--clearenv"]
    for k, v in env.items():
        argv += ["--setenv", k, v]
    argv += [
        "--",
        "prlimit",
        f"--as={limits['memory_bytes']}",
        f"--nproc={limits['max_processes']}",
        f"--fsize={limits['max_file_bytes']}",
        "--core=0",
        "--",
    ]
    if drop_user:
        argv += [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
            "--",
        ]
    return argv + command


def sandbox_missing() -> str | None:
    """Why the sandbox cannot run here (a missing tool), or None."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return (
            f"{', '.join(missing)} not found; install Debian's bubblewrap "
            "(apt-get install bubblewrap) — `make setup` does it"
        )
    if os.geteuid() != 0:
        return (
            "the sandbox switches the kernel to a separate user and needs root "
            f"(running as uid {os.geteuid()})"
        )
    return None


def probe(uid: int = BASE_UID + UID_RANGE) -> str | None:
    """Start ``python -c`` in the sandbox; None if it works, else the reason."""
    why = sandbox_missing()
    if why:
        return why
    cfg = {"uid": uid, "expose": exposed_paths()}
    code = "import os, rnnkit; assert os.getuid() != 0; print('ok')"
    argv = bwrap_argv(cfg, "/", [sys.executable, "-c", code])
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap did not start: {err}"
    if run.returncode != 0 or run.stdout.strip() != "ok":
        tail = (run.stderr or run.stdout).strip().splitlines()[-3:]
        return f"bubblewrap did not start (exit {run.returncode}): {' '.join(tail)}"
    return None


def write_kernelspec(jupyter_dir: Path, cfg_path: Path | None) -> Path:
    """A kernelspec ``rnncourse-sandbox`` in ``jupyter_dir/kernels``.

    With ``cfg_path`` None the kernel runs unsandboxed (``--unsafe-no-sandbox``).
    """
    if cfg_path is None:
        argv = [
            sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            *KERNEL_ARGS,
        ]
    else:
        argv = [
            sys.executable,
            str(Path(__file__).resolve()),
            "kernel",
            "--config",
            str(cfg_path),
            "{connection_file}",
        ]
    spec = {
        "argv": argv,
        "display_name": "Python 3 (grading sandbox)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    out = jupyter_dir / "kernels" / KERNEL_NAME / "kernel.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(spec, indent=1))
    return out


def _chown_tree(path: Path, uid: int) -> None:
    os.chown(path, uid, uid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, uid)


def prepare_work(cfg: dict, notebook_dir: Path) -> None:
    """Fresh private copy: nbgrader's folder without notebooks + the hand-in's."""
    work = Path(cfg["work"])
    if work.exists():
        shutil.rmtree(work)
    shutil.copytree(notebook_dir, work, ignore=shutil.ignore_patterns("*.ipynb"))
    submission = Path(cfg["submission"])
    for nb in submission.glob("*.ipynb"):
        if nb.is_file() and not nb.is_symlink():
            shutil.copyfile(nb, work / nb.name)
    os.chmod(work, 0o700)
    _chown_tree(work, cfg["uid"])


def kernel_main(argv: list[str]) -> int:
    """Kernelspec entry point: prepare the copy, then exec bwrap + ipykernel."""
    parser = argparse.ArgumentParser(prog="sandbox.py kernel")
    parser.add_argument("--config", required=True)
    parser.add_argument("connection_file")
    args, extra = parser.parse_known_args(argv)
    cfg = json.loads(Path(args.config).read_text())
    uid = cfg["uid"]
    notebook_dir = Path.cwd()
    prepare_work(cfg, notebook_dir)
    runtime = Path(cfg["runtime"])
    os.chown(runtime, uid, uid)
    os.chmod(runtime, 0o700)
    conn = runtime / ("sandbox-" + Path(args.connection_file).name)
    shutil.copyfile(args.connection_file, conn)
    os.chown(conn, uid, uid)
    os.chmod(conn, 0o600)
    command = [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn), *extra]
    command += KERNEL_ARGS
    full = bwrap_argv(cfg, str(notebook_dir), command)
    os.execvp(full[0], full)
    return 127  # not reached


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "kernel":
        raise SystemExit(kernel_main(sys.argv[2:]))
    if len(sys.argv) > 1 and sys.argv[1] == "probe":
        why = probe()
        print("sandbox ok" if why is None else f"sandbox unavailable: {why}")
        raise SystemExit(0 if why is None else 1)
    print(__doc__)
    raise SystemExit(2)
