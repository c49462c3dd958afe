"""A student's session in JupyterLab, in headless Chromium, as `make lab` sets it up.

The lab is started with tools/lab.py's command and environment (the student's
nbgrader config from lab/student) on 127.0.0.1, a free port and a token, rooted in a
temporary my-work/ filled by start_work. The student opens exercise 3, runs it, reads
the first failure (the stub's reason first), writes a wrong then a right answer, saves,
presses nbgrader's Validate button and reads that the notebook passes. No browser
console error may occur, no request may leave the machine, and the nbgrader panels
meant for instructors are not there. Every wait is bounded; the server is stopped at
the end. Chromium as in tests/test_browser_book.py (fails under CI when missing).

The non-browser tests at the end check the copies `make lab` makes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tools import check_book, lab
from tools.course import start_work

ASSIGNMENT, NOTEBOOK = "ex03_vanilla_rnn", "vanilla_rnn.ipynb"
RELEASED = lab.COURSE / "release" / ASSIGNMENT / NOTEBOOK
SOURCE = lab.COURSE / "source" / ASSIGNMENT / NOTEBOOK
WAIT_MS = int(
    os.environ.get("RNN_LAB_WAIT_MS", 180_000)
)  # the longest any single step may take (a loaded 2-core machine)


def _tracebacks(log: str) -> list[str]:
    """Each Python traceback in a server log, but a kernel's own shutdown race.

    A kernel that is shut down (the one nbgrader's Validate runs, stopped by
    nbclient once the notebook has run) can print a traceback to the server's log
    as it exits: ipykernel 7.4's control handler flushes stdout after the IOPub
    thread has stopped and closed its event pipes, and zmq raises ENOTSOCK.
    ipykernel #1518 silenced the same race in `_really_send`, not in `schedule`.
    It is the kernel's exit, harmless to the student, so it alone is let through;
    any other traceback, a ZMQError elsewhere included, is returned.
    """
    found = []
    lines = log.splitlines()
    for start, line in enumerate(lines):
        if line.strip() != "Traceback (most recent call last):":
            continue
        end = start + 1  # a traceback ends at its first unindented line
        while end < len(lines) and lines[end].startswith((" ", "\t")):
            end += 1
        block = "\n".join(lines[start : end + 1])
        shutdown_race = (
            "in process_control" in block
            and 'ipykernel/iostream.py", line' in block
            and "in schedule" in block
            and block.endswith("zmq.error.ZMQError: Socket operation on non-socket")
        )
        if not shutdown_race:
            found.append(block)
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _solutions() -> dict[str, str]:
    """Each solution cell of the instructor's notebook, without nbgrader's markers."""
    nb = nbformat.read(SOURCE, as_version=4)
    return {
        c.metadata["nbgrader"]["grade_id"]: "\n".join(
            line for line in c.source.splitlines() if "### " not in line
        )
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def _cell_index(grade_id: str) -> int:
    nb = nbformat.read(RELEASED, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    return ids.index(grade_id)


@contextlib.contextmanager
def _lab_server(tmp: Path, root: Path, *, instructor: bool = False):
    """JupyterLab as tools/lab.py starts it, on a free port, token; stopped after."""
    port, token = _free_port(), secrets.token_hex(16)
    env = lab.lab_env(instructor=instructor)
    for var in (  # the lab's state lives in tmp, not in this user's home
        "JUPYTER_CONFIG_DIR",
        "JUPYTER_DATA_DIR",
        "JUPYTER_RUNTIME_DIR",
        "JUPYTERLAB_SETTINGS_DIR",
        "JUPYTERLAB_WORKSPACES_DIR",
        "IPYTHONDIR",
    ):
        env[var] = str(tmp / var.lower())
    # every cell in the page (JupyterLab renders only those in view by default),
    # so the test can read each cell's prompt and output
    tracker = Path(env["JUPYTERLAB_SETTINGS_DIR"], "@jupyterlab", "notebook-extension")
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    log_path = tmp / "server.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            lab.lab_command(root, port=port, token=token, open_browser=False),
            env=env,
            cwd=lab.COURSE if instructor else lab.ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + WAIT_MS / 1000
        while True:
            try:
                urllib.request.urlopen(f"{base}api/status?token={token}", timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield {"base": base, "token": token, "log": log_path}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if check_book.find_chromium() is None:
        message = f"Chromium not found at {check_book.CHROMIUM}: run `make setup`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    if not RELEASED.exists():
        pytest.fail(f"no {RELEASED}: run `make release` (`make test` does)")
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "my-work"
    start_work(lab.COURSE, work)
    with _lab_server(tmp, work) as srv:
        yield {**srv, "work": work}


def _wait_idle(page) -> None:
    """Until the status bar says the kernel is connected and idle."""
    page.wait_for_function(
        r"""() => Array.from(document.querySelectorAll('#jp-main-statusbar span'))
                   .some(s => /\| Idle$/.test(s.innerText.trim()))""",
        timeout=WAIT_MS,
    )


_PROMPTS = (
    "() => Array.from(document.querySelectorAll("
    "'.jp-Notebook .jp-Cell .jp-InputPrompt')).map(p => p.innerText.trim())"
)


_RUN_DONE = (
    r"""before => {
  const prompts = ("""
    + _PROMPTS
    + r""")();
  const ran = prompts.map(t => parseInt((t.match(/\d+/) || ['0'])[0]));
  return !prompts.some(t => t.includes('*')) && Math.max(...ran) > before;
}"""
)


def _run_all(page) -> None:
    """Run > Run All Cells; return when the run has stopped (done or at an error)."""
    counts = [int(n) for p in page.evaluate(_PROMPTS) for n in re.findall(r"\d+", p)]
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator("li[data-command='runmenu:run-all']").click()
    page.wait_for_function(_RUN_DONE, arg=max(counts, default=0), timeout=WAIT_MS)
    _wait_idle(page)


def _errors(page) -> list[tuple[int, str]]:
    """(cell index, text) of each error output shown in the notebook."""
    return page.evaluate(
        "() => Array.from(document.querySelectorAll('.jp-Notebook .jp-Cell'))"
        ".flatMap((c, i) => Array.from(c.querySelectorAll("
        "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]'))"
        ".map(o => [i, o.innerText]))"
    )


def _write_cell(page, index: int, source: str) -> None:
    editor = page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(source)
    # what the editor shows is what was written (no auto-indent or added brackets)
    shown = editor.inner_text().strip().splitlines()
    assert shown[-1].strip() == source.strip().splitlines()[-1].strip(), shown
    page.keyboard.press("Escape")


def test_a_student_session(server):
    solutions = _solutions()
    step, forward, count = "rnn_step_forward", "rnn_forward", "param_count"
    problems: list[str] = []
    with check_book.browser(allow=(server["base"],)) as context:
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on(
            "console",
            lambda m: (
                problems.append(f"console.error: {m.text}")
                if m.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
        page.on(
            "request",
            lambda r: (
                None
                if check_book.is_local(r.url, (server["base"], "ws://127.0.0.1"))
                else problems.append(f"off the machine: {r.url}")
            ),
        )
        page.goto(
            f"{server['base']}lab/tree/{ASSIGNMENT}/{NOTEBOOK}?token={server['token']}"
        )
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        _wait_idle(page)

        # the student's lab: the Validate button, and no instructor or exchange panels
        menus = page.locator(".lm-MenuBar-itemLabel").all_inner_texts()
        assert "Nbgrader" not in menus, menus
        assert page.locator(".jp-Toolbar-item", has_text="Validate").count() == 1

        # 1. run the handed-out notebook: the first failure names the missing function
        _run_all(page)
        errors = _errors(page)
        assert errors, "running the handed-out notebook showed no failure: " + str(
            page.evaluate(
                "() => Array.from(document.querySelectorAll('.jp-OutputArea-output'))"
                ".map(o => [o.getAttribute('data-mime-type'), o.innerText.slice(0, 80)"
                "])"
            )
        )
        cell, text = errors[0]
        assert cell == _cell_index(f"test_{step}_visible"), errors
        assert text.splitlines()[0].startswith(
            f"NotImplementedError: `{step}` is not written yet"
        ), text

        # 2. two right answers and a wrong one: its visible test says why, first
        _write_cell(page, _cell_index(step), solutions[step])
        _write_cell(page, _cell_index(forward), solutions[forward])
        wrong = (  # forgets the output bias b_o
            "def param_count(d: int, h: int, V: int) -> int:\n"
            "    return h * d + h * h + h + V * h\n"
        )
        _write_cell(page, _cell_index(count), wrong)
        _run_all(page)
        errors = _errors(page)
        assert [c for c, _ in errors] == [_cell_index(f"test_{count}_visible")], errors
        first = errors[0][1].splitlines()[0]
        assert first.startswith(f"AssertionError: {count}("), errors[0][1]

        # 3. the right answer, saved; nbgrader's Validate button says it passes
        _write_cell(page, _cell_index(count), solutions[count])
        page.keyboard.press("Control+s")
        page.wait_for_function(
            "() => !document.querySelector('.jp-mod-current.jp-mod-dirty')"
        )
        saved = nbformat.read(server["work"] / ASSIGNMENT / NOTEBOOK, as_version=4)
        assert "V * h + V" in saved.cells[_cell_index(count)].source
        page.locator(".jp-Toolbar-item", has_text="Validate").click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for()
        page.wait_for_function(
            "() => /passes all the tests|failed|error/i.test("
            "document.querySelector('.jp-Dialog').innerText)",
            timeout=WAIT_MS,
        )
        verdict = dialog.inner_text()
        assert "Success! Your notebook passes all the tests." in verdict, verdict
        page.locator(".jp-Dialog button").last.click()
    assert not problems, "\n".join(problems)
    log = server["log"].read_text()
    for bad in (
        "No nbgrader_config.py file found",
        "exchange directory",
        "Error fetching courses",
    ):
        assert bad not in log, f"the server log says {bad!r}:\n{log}"
    assert not _tracebacks(log), "the server log has a traceback:\n" + log


def test_make_lab_copies_chapters_and_exercises_never_overwriting(tmp_path):
    work = tmp_path / "my-work"
    first = start_work(lab.COURSE, work)
    chapters = sorted(p.name for p in (lab.ROOT / "chapters").glob("*.ipynb"))
    assert sorted(p.name for p in (work / "chapters").glob("*.ipynb")) == chapters
    assert (work / ASSIGNMENT / NOTEBOOK).exists() or not RELEASED.exists()
    mine = work / "chapters" / chapters[0]
    mine.write_text("my run, with outputs")
    second = start_work(lab.COURSE, work)
    assert mine in second["kept"] and not second["copied"]
    assert mine.read_text() == "my run, with outputs"
    assert len(first["copied"]) == len(second["kept"])


def test_the_student_lab_shows_only_validate():
    env = lab.lab_env({"PATH": "/usr/bin"})
    assert env["JUPYTER_CONFIG_PATH"].split(os.pathsep)[0] == str(lab.STUDENT_CONFIG)
    server = json.loads((lab.STUDENT_CONFIG / "jupyter_server_config.json").read_text())
    on = {k for k, v in server["ServerApp"]["jpserver_extensions"].items() if v}
    assert on == {"nbgrader.server_extensions.validate_assignment"}
    page = json.loads(
        (lab.STUDENT_CONFIG / "labconfig" / "page_config.json").read_text()
    )
    off = {k for k, v in page["disabledExtensions"].items() if v}
    for plugin in ("menu", "assignment-list", "course-list", "create-assignment"):
        assert f"@jupyter/nbgrader:{plugin}" in off
    assert (lab.STUDENT_CONFIG / "nbgrader_config.py").exists()
    cmd = lab.lab_command(Path("/tmp/w"), port=1234, token="t", open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in cmd and "--ServerApp.port=1234" in cmd


def test_the_instructors_lab_has_all_of_nbgrader(tmp_path):
    lab.EXCHANGE.mkdir(exist_ok=True)  # as `make lab-instructor` does
    with _lab_server(tmp_path, lab.COURSE, instructor=True) as srv:

        def get(path: str):
            sep = "&" if "?" in path else "?"
            url = f"{srv['base']}{path}{sep}token={srv['token']}"
            with urllib.request.urlopen(url, timeout=WAIT_MS / 1000) as r:
                return r.status, r.read().decode()

        assert get("formgrader")[0] == 200
        status, body = get("formgrader/api/assignments")
        names = {a["name"] for a in json.loads(body)}
        assert ASSIGNMENT in names, names
        for path in ("assignments?course_id=rnn-course", "courses"):
            status, body = get(path)
            assert json.loads(body)["success"] is True, (path, body)
        log = srv["log"].read_text()
    for bad in ("No nbgrader_config.py file found", "ExchangeError"):
        assert bad not in log, (bad, log)
    assert not _tracebacks(log), "the server log has a traceback:\n" + log


# the kernel-exit traceback from a CI run's server log (paths shortened)
_KERNEL_EXIT = """\
[E 2026-12-01 21:54:42.100 ServerApp] Uncaught exception in ZMQStream callback
Traceback (most recent call last):
  File "site-packages/zmq/eventloop/zmqstream.py", line 585, in _log_error
    f.result()
  File "site-packages/ipykernel/kernelbase.py", line 372, in dispatch_control
    await self.process_control(msg)
  File "site-packages/ipykernel/kernelbase.py", line 406, in process_control
    sys.stdout.flush()
  File "site-packages/ipykernel/iostream.py", line 697, in flush
    self.pub_thread.schedule(evt.set)
  File "site-packages/ipykernel/iostream.py", line 343, in schedule
    self._event_pipe.send(b"")
  File "site-packages/zmq/sugar/socket.py", line 713, in send
    return super().send(data, flags=flags, copy=copy, track=track)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "zmq/backend/cython/_zmq.py", line 190, in zmq.backend.cython._zmq._check_rc
zmq.error.ZMQError: Socket operation on non-socket
[I 2026-12-01 21:54:42.866 ServerApp] Starting buffering for 2a7c0dd6
"""

_EXTENSION_ERROR = """\
[E 2026-12-01 21:54:40.000 ServerApp] Uncaught exception GET /assignments
Traceback (most recent call last):
  File "site-packages/nbgrader/exchange/default/exchange.py", line 110, in init_src
    self.ensure_root()
nbgrader.exchange.abc.exchange.ExchangeError: Unwritable directory
[I 2026-12-01 21:54:41.000 ServerApp] 200 GET /api/status
"""


def test_the_log_check_lets_only_the_kernel_exit_race_through():
    assert _tracebacks(_KERNEL_EXIT) == []
    found = _tracebacks(_KERNEL_EXIT + _EXTENSION_ERROR)
    assert len(found) == 1 and found[0].endswith("Unwritable directory"), found
    # the same zmq error raised anywhere but the control handler's flush is found
    elsewhere = _KERNEL_EXIT.replace("in process_control", "in execute_request")
    assert len(_tracebacks(elsewhere)) == 1
    other_error = _KERNEL_EXIT.replace("Socket operation on non-socket", "Bad address")
    assert len(_tracebacks(other_error)) == 1
