"""Set up, start and grade the course's JupyterHub (``make hub``); run as root.

Subcommands (``python deploy/hub.py --help``)::

    add-users --students a,b,c --instructors t
        Unix accounts with generated passwords (printed once), on the roster
    start
        set up (below), then run JupyterHub on 127.0.0.1:8000 until Ctrl-C
    grade
        after the instructor's Collect: grade the hand-ins in the sandbox (root)
    remove-users
        delete the roster's accounts and homes

Setting up means: the exchange folder (mode 1777, the course's folder in it owned by
the instructor), the instructor's course folder ``~/rnn-course`` (``source/`` copied
from ``exercises/source`` and the course's ``nbgrader_config.py``; never overwritten),
and, where the course's Python lives under a folder other users cannot enter (e.g. a
pyenv build under ``/root``), search permission (``o+x``, not read) on that folder so
each user's server can run it.

Everything lives under ``--state`` (default ``/srv/rnncourse``): ``roster.json``,
``exchange/``, ``hub/`` (JupyterHub's database and cookie secret). The loopback test
(``tests/test_class_hub.py``) uses these functions with a temporary state folder.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
COURSE_ID = "rnn-course"
COURSE_DIR = "rnn-course"  # in the instructor's home
DEFAULT_STATE = Path("/srv/rnncourse")
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"


def venv_bin() -> Path:
    """The course environment's bin/ (this interpreter's)."""
    return Path(sys.executable).parent


@dataclass
class Settings:
    state: Path = DEFAULT_STATE
    students: list[str] = field(default_factory=list)
    instructors: list[str] = field(default_factory=list)
    ip: str = "127.0.0.1"
    port: int = 8000
    hub_api_port: int = 8081
    proxy_api_port: int = 8001
    home_base: Path = Path("/home")

    @property
    def exchange(self) -> Path:
        return self.state / "exchange"

    @property
    def roster(self) -> Path:
        return self.state / "roster.json"

    def hub_env(self) -> dict[str, str]:
        """The environment ``jupyterhub_config.py`` reads."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k in ("LANG", "LC_ALL", "TZ", "CI") or k.startswith("LC_")
        }
        env.update(
            PATH=os.pathsep.join(
                [str(venv_bin()), "/usr/local/bin", "/usr/bin", "/bin"]
            ),
            HOME=str(self.state / "hub"),
            RNNCOURSE_STATE=str(self.state),
            RNNCOURSE_EXCHANGE=str(self.exchange),
            RNNCOURSE_VENV_BIN=str(venv_bin()),
            RNNCOURSE_STUDENTS=",".join(self.students),
            RNNCOURSE_INSTRUCTORS=",".join(self.instructors),
            RNNCOURSE_COURSE_DIR=COURSE_DIR,
            RNNCOURSE_HUB_IP=self.ip,
            RNNCOURSE_HUB_PORT=str(self.port),
            RNNCOURSE_HUB_API_PORT=str(self.hub_api_port),
            RNNCOURSE_PROXY_API_PORT=str(self.proxy_api_port),
        )
        return env

    def save_roster(self) -> None:
        self.state.mkdir(parents=True, exist_ok=True)
        self.roster.write_text(
            json.dumps(
                {
                    "students": self.students,
                    "instructors": self.instructors,
                    "home_base": str(self.home_base),
                },
                indent=1,
            )
        )
        os.chmod(self.roster, 0o600)

    def load_roster(self) -> None:
        if not self.roster.exists():
            raise SystemExit(
                f"no roster at {self.roster}: create the accounts first, e.g.\n"
                "  .venv/bin/python deploy/hub.py add-users "
                "--students alice,bob --instructors teacher"
            )
        data = json.loads(self.roster.read_text())
        self.students = data["students"]
        self.instructors = data["instructors"]
        self.home_base = Path(data["home_base"])


# ---------------------------------------------------------------------------
# prerequisites and permissions
# ---------------------------------------------------------------------------
def missing_prerequisites() -> list[str]:
    """Why the hub cannot run here (empty: it can)."""
    why = []
    if os.geteuid() != 0:
        why.append("not root (the hub starts each user's server as that user)")
    for tool in ("useradd", "userdel", "chpasswd"):
        if not shutil.which(tool):
            why.append(f"no {tool} (passwd package)")
    if not shutil.which("node"):
        why.append("no node (Node.js runs configurable-http-proxy)")
    if not PROXY.exists():
        why.append(f"no {PROXY} (run `make hub-setup`: npm ci in deploy/)")
    if not (venv_bin() / "jupyterhub").exists():
        why.append("jupyterhub is not installed in the venv (pip install '.[hub]')")
    if not shutil.which("bwrap"):
        why.append("no bwrap (bubblewrap: the grading sandbox)")
    return why


def make_traversable(paths: list[Path] | None = None) -> list[tuple[Path, int]]:
    """Give ``o+x`` (search, not read) to folders above the course's Python.

    Returns ``[(folder, old_mode)]`` for every folder changed, so a test can undo it.
    """
    if paths is None:
        paths = [
            Path(os.path.realpath(sys.executable)),
            Path(sys.base_prefix),
            Path(sys.prefix),
            ROOT,
        ]
    changed: list[tuple[Path, int]] = []
    seen: set[Path] = set()
    for p in paths:
        for d in [p, *p.parents] if p.is_dir() else list(p.parents):
            if d in seen:
                continue
            seen.add(d)
            mode = stat.S_IMODE(d.stat().st_mode)
            if not mode & stat.S_IXOTH:
                os.chmod(d, mode | stat.S_IXOTH)
                changed.append((d, mode))
    return changed


def restore_modes(changed: list[tuple[Path, int]]) -> None:
    for d, mode in reversed(changed):
        os.chmod(d, mode)


# ---------------------------------------------------------------------------
# Unix accounts
# ---------------------------------------------------------------------------
def create_user(name: str, home_base: Path, password: str | None = None) -> str:
    """A Unix account with a private home (0700) and a password; returns it."""
    password = password or secrets.token_urlsafe(18)
    home = home_base / name
    subprocess.run(
        [
            "useradd",
            "--create-home",
            "--home-dir",
            str(home),
            "--shell",
            "/bin/bash",
            "--user-group",
            name,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    os.chmod(home, 0o700)
    subprocess.run(
        ["chpasswd"],
        input=f"{name}:{password}\n",
        check=True,
        text=True,
        capture_output=True,
    )
    return password


def kill_user_processes(uid: int, grace: float = 5.0) -> list[int]:
    """SIGTERM, then SIGKILL, every process running as ``uid``; returns the pids."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tools.grader import processes_of  # the grader's /proc scan

    pids = processes_of(uid)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in processes_of(uid):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + grace
        while processes_of(uid) and time.monotonic() < deadline:
            time.sleep(0.1)
    return pids


def remove_user(name: str) -> None:
    """Stop the account's processes, delete it, its home and its group."""
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return
    kill_user_processes(pw.pw_uid)
    subprocess.run(["userdel", "--remove", name], capture_output=True, text=True)
    shutil.rmtree(pw.pw_dir, ignore_errors=True)
    subprocess.run(["groupdel", name], capture_output=True, text=True)


def user_env(name: str, settings: Settings) -> dict[str, str]:
    """What a user's shell on the hub has: for running nbgrader as that user."""
    pw = pwd.getpwnam(name)
    role = "instructor" if name in settings.instructors else "student"
    return {
        "HOME": pw.pw_dir,
        "USER": name,
        "LOGNAME": name,
        "SHELL": "/bin/bash",
        "PATH": os.pathsep.join(
            [str(venv_bin()), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "RNNCOURSE_EXCHANGE": str(settings.exchange),
        "RNNCOURSE_COURSE_DIR": COURSE_DIR,
        "JUPYTER_CONFIG_PATH": os.pathsep.join(
            [str(DEPLOY / "jupyter" / role), str(DEPLOY)]
        ),
    }


def run_as(
    name: str,
    cmd: list[str],
    settings: Settings,
    cwd: str | Path | None = None,
    timeout: float = 300,
    check: bool = True,
) -> subprocess.CompletedProcess:
    """Run ``cmd`` as the Unix user ``name`` (its uid, gid, no other group)."""
    pw = pwd.getpwnam(name)
    return subprocess.run(
        cmd,
        user=pw.pw_uid,
        group=pw.pw_gid,
        extra_groups=[],
        cwd=cwd or pw.pw_dir,
        env=user_env(name, settings),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


# ---------------------------------------------------------------------------
# exchange and course folders
# ---------------------------------------------------------------------------
def setup_exchange(settings: Settings) -> Path:
    """The exchange root (1777) and the course's folder in it (the instructor's)."""
    ex = settings.exchange
    ex.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(ex.parent, stat.S_IMODE(ex.parent.stat().st_mode) | 0o755)
    ex.mkdir(exist_ok=True)
    os.chmod(ex, 0o1777)
    course = ex / COURSE_ID
    course.mkdir(exist_ok=True)
    if settings.instructors:
        pw = pwd.getpwnam(settings.instructors[0])
        os.chown(course, pw.pw_uid, pw.pw_gid)
    os.chmod(course, 0o755)
    return ex


def course_dir(instructor: str) -> Path:
    return Path(pwd.getpwnam(instructor).pw_dir) / COURSE_DIR


def setup_course(instructor: str, assignments: list[str] | None = None) -> Path:
    """``~instructor/rnn-course``: the course's config and ``source/`` (kept)."""
    course = course_dir(instructor)
    pw = pwd.getpwnam(instructor)
    src = ROOT / "exercises" / "source"
    names = assignments or sorted(p.name for p in src.iterdir() if p.is_dir())
    course.mkdir(exist_ok=True)
    cfg = course / "nbgrader_config.py"
    if not cfg.exists():
        shutil.copyfile(ROOT / "exercises" / "nbgrader_config.py", cfg)
    for name in names:
        if not (course / "source" / name).exists():
            shutil.copytree(
                src / name,
                course / "source" / name,
                ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
            )
    for dirpath, _dirs, filenames in os.walk(course):
        for n in [dirpath, *(os.path.join(dirpath, f) for f in filenames)]:
            os.chown(n, pw.pw_uid, pw.pw_gid)
    os.chmod(course, 0o700)
    return course


def release_all(settings: Settings) -> list[str]:
    """As the instructor: generate and release every assignment not yet released."""
    instructor = settings.instructors[0]
    course = course_dir(instructor)
    out = settings.exchange / COURSE_ID / "outbound"
    done = []
    for name in sorted(p.name for p in (course / "source").iterdir() if p.is_dir()):
        if (out / name).exists():
            continue
        nbg = [str(venv_bin() / "nbgrader")]
        run_as(
            instructor,
            [*nbg, "generate_assignment", name, "--force"],
            settings,
            cwd=course,
        )
        run_as(instructor, [*nbg, "release_assignment", name], settings, cwd=course)
        done.append(name)
    return done


# ---------------------------------------------------------------------------
# grading: the project's sandboxed grader on the instructor's course folder
# ---------------------------------------------------------------------------
def grade(instructor: str, csv_name: str = "grades.csv", **grade_args):
    """Grade ``~instructor/rnn-course/submitted`` with ``tools/course.py``'s grader.

    Runs as root (the sandbox switches to unprivileged sandbox uids), then gives the
    outputs back to the instructor: ``autograded/`` (with each hand-in's
    ``timestamp.txt`` and ``submission_secret.txt``, which nbgrader's Generate and
    Release Feedback need to name the student's feedback file), ``gradebook.db`` and
    the CSV. Returns ``(csv_path, results)``.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tools import course as course_tool

    course = course_dir(instructor)
    pw = pwd.getpwnam(instructor)
    csv_path = course_tool.grade(course, csv_name, **grade_args)
    results = course_tool.grade.last_results
    for r in results:
        sub = course / "submitted" / r.student / r.assignment
        auto = course / "autograded" / r.student / r.assignment
        if auto.is_dir():
            for extra in ("timestamp.txt", "submission_secret.txt"):
                if (sub / extra).is_file() and not (sub / extra).is_symlink():
                    shutil.copyfile(sub / extra, auto / extra)
    for top in (course / "autograded", course / "gradebook.db", Path(csv_path)):
        if not top.exists():
            continue
        paths = [top] if top.is_file() else [top, *top.rglob("*")]
        for p in paths:
            os.chown(p, pw.pw_uid, pw.pw_gid, follow_symlinks=False)
    return Path(csv_path), results


def inbound_owners(settings: Settings) -> list[str]:
    """Hand-ins in the inbound whose Unix owner is not the student they name.

    nbgrader's default exchange names a hand-in after ``CourseDirectory.student_id``,
    which a student can set in their own config; the folder's owner is the account
    that really submitted it.
    """
    inbound = settings.exchange / COURSE_ID / "inbound"
    wrong = []
    if not inbound.is_dir():
        return wrong
    for d in inbound.iterdir():
        student = d.name.split("+", 1)[0]
        try:
            owner = pwd.getpwuid(d.lstat().st_uid).pw_name
        except KeyError:
            owner = str(d.lstat().st_uid)
        if owner != student:
            wrong.append(f"{d.name}: submitted by {owner}, not {student}")
    return wrong


# ---------------------------------------------------------------------------
# the hub process
# ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(settings: Settings) -> list[tuple[Path, int]]:
    """Everything the hub needs on disk; returns the folder modes changed."""
    (settings.state / "hub").mkdir(parents=True, exist_ok=True)
    os.chmod(settings.state / "hub", 0o700)
    changed = make_traversable()
    setup_exchange(settings)
    for instructor in settings.instructors:
        setup_course(instructor)
    return changed


def hub_command() -> list[str]:
    return [str(venv_bin() / "jupyterhub"), "-f", str(DEPLOY / "jupyterhub_config.py")]


def start_hub(settings: Settings, log) -> subprocess.Popen:
    """JupyterHub in its own session (the proxy and users' servers are its children)."""
    return subprocess.Popen(
        hub_command(),
        cwd=settings.state / "hub",
        env=settings.hub_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_hub(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM (the hub stops users' servers and the proxy), then SIGKILL the rest."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="deploy/hub.py", description=__doc__.split("\n")[0]
    )
    p.add_argument("--state", type=Path, default=DEFAULT_STATE)
    sub = p.add_subparsers(dest="cmd", required=True)
    au = sub.add_parser("add-users", help="create Unix accounts, print their passwords")
    au.add_argument("--students", default="")
    au.add_argument("--instructors", default="")
    au.add_argument("--home-base", type=Path, default=Path("/home"))
    st = sub.add_parser("start", help="set up, then run JupyterHub until Ctrl-C")
    st.add_argument("--port", type=int, default=8000)
    g = sub.add_parser("grade", help="grade the instructor's collected hand-ins")
    g.add_argument("--workers", type=int, default=None)
    sub.add_parser("remove-users", help="delete the roster's accounts and homes")
    args = p.parse_args(argv)
    settings = Settings(state=args.state)

    if args.cmd == "add-users":
        settings.students = [n for n in args.students.split(",") if n]
        settings.instructors = [n for n in args.instructors.split(",") if n]
        settings.home_base = args.home_base
        if not settings.instructors:
            p.error("name at least one instructor (--instructors)")
        for name in settings.instructors + settings.students:
            try:
                pwd.getpwnam(name)
                print(f"{name}: exists, password unchanged")
            except KeyError:
                print(f"{name}: {create_user(name, settings.home_base)}")
        settings.save_roster()
        print(f"roster: {settings.roster}")
        return 0

    settings.load_roster()
    if args.cmd == "start":
        why = missing_prerequisites()
        if why:
            print("cannot start the hub:\n  " + "\n  ".join(why), file=sys.stderr)
            return 2
        settings.port = args.port
        for folder, _ in prepare(settings):
            print(f"gave other users search permission (o+x) on {folder}")
        for name in release_all(settings):
            print(f"released {name} to {settings.exchange}")
        print(f"JupyterHub on http://{settings.ip}:{settings.port}/ (Ctrl-C stops it)")
        sys.stdout.flush()  # execve does not flush Python's buffers
        os.chdir(settings.state / "hub")
        os.execve(hub_command()[0], hub_command(), settings.hub_env())
    if args.cmd == "grade":
        for line in inbound_owners(settings):
            print(f"warning: {line}", file=sys.stderr)
        csv_path, results = grade(settings.instructors[0], workers=args.workers)
        sys.path.insert(0, str(ROOT / "tools"))
        import grader

        print(grader.table(results))
        print(f"grades in {csv_path}; now Generate and Release Feedback in formgrader")
        return 1 if any(r.grader_error for r in results) else 0
    if args.cmd == "remove-users":
        for name in settings.students + settings.instructors:
            remove_user(name)
            print(f"removed {name}")
        settings.roster.unlink()
        return 0
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
