"""A whole class on JupyterHub, end to end on loopback (issue 11).

The hub is ``deploy/jupyterhub_config.py`` started as ``make hub`` starts it
(``deploy/hub.py``), with a temporary state folder, free ports and four Unix
accounts made for the test (``rnnt_<random>_{t,a,b,c}``, PAM passwords generated
here): one instructor and three students. Everything goes through what a person
would use:

* each user logs in with the hub's login form (PAM), asks the hub for an API token
  and starts their own server through the hub's REST API;
* the instructor generates and releases ex01 to nbgrader's exchange through
  formgrader's API in their own server;
* each student fetches it with the Assignment List's API in *their* server (as
  their Unix user, into their home), edits the notebook through the contents API
  (as JupyterLab saves it) -- one answers everything, one the first two tasks, one
  nothing --, presses Validate (nbgrader runs the notebook in the student's server,
  with the course's kernel, as the student) and submits;
* the instructor collects (formgrader), the hand-ins are graded by the project's
  sandboxed grader (``deploy/hub.py grade``, as root: the sandbox needs it), the
  instructor generates and releases feedback (formgrader) and each student fetches
  their own.

Asserted: the three scores (expected values from the points in the source
notebook's metadata), the grades export (nbgrader's, run as the instructor)
equal to them, each student's feedback showing their own score, and, as each
student's Unix user, that another student's home, fetched notebook, submission
cache and feedback, the instructor's ``source/`` and gradebook, and the
exchange's inbound and feedback listings are all refused, while their own files
are readable (so the check itself works). Last, a student submits under another's
name (``nbgrader submit --student=...``, which the default exchange allows) and
``deploy/hub.py``'s owner check flags that hand-in.

Every account, process, port and folder the test made is removed at the end (the
accounts' processes are killed by uid; the hub stops its servers and proxy).
Needs root, useradd, node with ``deploy/node_modules`` (``make hub-setup``) and
bubblewrap; skipped with the reason elsewhere, a failure under CI=true.
"""

from __future__ import annotations

import csv
import json
import os
import pwd
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))
import hub  # noqa: E402

requests = pytest.importorskip("requests")

ASSIGNMENT = "ex01_sequence_data"
NOTEBOOK = "sequence_data.ipynb"
COURSE = hub.COURSE_ID
WAIT = 180  # seconds for any one thing the hub does (a loaded 2-core machine)


def _need():
    why = hub.missing_prerequisites()
    if why:
        msg = "the class hub cannot run here: " + "; ".join(why)
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


# --------------------------------------------------------------------------
# expected scores, from the instructor's notebook (not from the grader)
# --------------------------------------------------------------------------
SOURCE_NB = nbformat.read(ROOT / "exercises" / "source" / ASSIGNMENT / NOTEBOOK, 4)


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


SOLUTIONS = {
    _meta(c)["grade_id"]: c.source
    for c in SOURCE_NB.cells
    if _meta(c).get("solution") and c.cell_type == "code"
}
POINTS = {
    _meta(c)["grade_id"]: float(_meta(c).get("points", 0))
    for c in SOURCE_NB.cells
    if _meta(c).get("grade")
}
TOTAL = sum(POINTS.values())
# the tests a student sees (and Validate runs): test_<task>_visible
VISIBLE = {s: [g for g in POINTS if g == f"test_{s}_visible"] for s in SOLUTIONS}
# ex01's three tasks are independent: each task's tests call only its function.
PARTIAL_TASKS = list(SOLUTIONS)[:2]
ANSWERS = {"a": list(SOLUTIONS), "b": PARTIAL_TASKS, "c": []}
EXPECTED = {
    who: sum(
        p for g, p in POINTS.items() if any(g.startswith(f"test_{s}_") for s in ts)
    )
    for who, ts in ANSWERS.items()
}


def test_expected_scores_are_distinct():
    # the scenario distinguishes the three students only if their scores differ
    assert EXPECTED["a"] == TOTAL > EXPECTED["b"] > EXPECTED["c"] == 0
    # and Validate's count of failing tests tells them apart only if each task has one
    assert all(VISIBLE.values()), VISIBLE


# --------------------------------------------------------------------------
# the hub and its users
# --------------------------------------------------------------------------
class User:
    def __init__(self, base: str, name: str, password: str):
        self.base, self.name, self.password = base, name, password
        self.session = requests.Session()
        self.token = None

    @property
    def home(self) -> Path:
        return Path(pwd.getpwnam(self.name).pw_dir)

    def login(self) -> None:
        s = self.session
        r = s.get(f"{self.base}/hub/login", timeout=60)
        r.raise_for_status()
        xsrf = r.cookies.get("_xsrf") or s.cookies.get("_xsrf")
        r = s.post(
            f"{self.base}/hub/login",
            data={"username": self.name, "password": self.password, "_xsrf": xsrf},
            allow_redirects=False,
            timeout=60,
        )
        assert r.status_code == 302, f"login of {self.name}: {r.status_code} {r.text}"
        # an API token for this user, asked for with the login cookie
        # (the _xsrf token is bound to the login: the first page seen after login,
        # here the token page a person would open, sets the new one)
        r = s.get(f"{self.base}/hub/token", timeout=60)
        r.raise_for_status()
        xsrf = r.cookies["_xsrf"]
        r = s.post(
            f"{self.base}/hub/api/users/{self.name}/tokens",
            json={"note": "class test", "expires_in": 3600},
            headers={"X-XSRFToken": xsrf},
            timeout=60,
        )
        assert r.status_code == 201, f"token for {self.name}: {r.status_code} {r.text}"
        self.token = r.json()["token"]

    def api(self, method: str, path: str, **kw):
        kw.setdefault("timeout", WAIT)
        headers = {"Authorization": f"token {self.token}", **kw.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, **kw)

    def start_server(self) -> None:
        r = self.api("POST", f"/hub/api/users/{self.name}/server")
        assert r.status_code in (201, 202), (
            f"spawn {self.name}: {r.status_code} {r.text}"
        )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            info = self.api("GET", f"/hub/api/users/{self.name}").json()
            server = info.get("servers", {}).get("")
            if server and server.get("ready"):
                return
            if not server and not info.get("pending"):
                raise AssertionError(f"{self.name}'s server stopped: {info}")
            time.sleep(1)
        raise AssertionError(f"{self.name}'s server not ready after {WAIT} s")

    def server(self, method: str, path: str, **kw):
        """A request to this user's own server, through the proxy."""
        return self.api(method, f"/user/{self.name}/{path.lstrip('/')}", **kw)


def _ok(r, what):
    assert r.status_code in (200, 201), f"{what}: HTTP {r.status_code}: {r.text[:2000]}"
    return r.json() if r.text else None


@pytest.fixture(scope="module")
def klass():
    _need()
    tag = secrets.token_hex(3)
    base = Path(tempfile.mkdtemp(prefix="rnnt-hub-"))
    os.chmod(base, 0o755)  # homes and the exchange below it are reachable
    (base / "home").mkdir(mode=0o755)
    settings = hub.Settings(
        state=base / "state",
        instructors=[f"rnnt_{tag}_t"],
        students=[f"rnnt_{tag}_{x}" for x in "abc"],
        port=hub.free_port(),
        hub_api_port=hub.free_port(),
        proxy_api_port=hub.free_port(),
        home_base=base / "home",
    )
    created, changed, proc, log = [], [], None, None
    try:
        passwords = {}
        for name in settings.instructors + settings.students:
            passwords[name] = hub.create_user(name, settings.home_base)
            created.append(name)
        changed = hub.prepare(settings)
        log = open(base / "hub.log", "wb")  # noqa: SIM115  closed below
        proc = hub.start_hub(settings, log)
        url = f"http://127.0.0.1:{settings.port}"
        deadline = time.monotonic() + WAIT
        while True:
            try:
                if requests.get(f"{url}/hub/api/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    "the hub did not start:\n" + (base / "hub.log").read_text()[-4000:]
                )
            time.sleep(0.5)
        users = {n: User(url, n, passwords[n]) for n in passwords}
        yield settings, users, base
    finally:
        if proc is not None:
            hub.stop_hub(proc)
        if log is not None:
            log.close()
        for name in created:
            hub.remove_user(name)
        hub.restore_modes(changed)
        shutil.rmtree(base, ignore_errors=True)


# python run as a student: which of these paths can it list or read?
PROBE = """
import json, os, sys
out = {}
for p in sys.argv[1:]:
    try:
        if os.path.isdir(p):
            os.listdir(p)
        else:
            open(p, "rb").read(1)
        out[p] = "read"
    except PermissionError:
        out[p] = "denied"
    except FileNotFoundError:
        out[p] = "missing"
print(json.dumps(out))
"""


def _probe(settings, name, paths):
    r = hub.run_as(name, [sys.executable, "-c", PROBE, *map(str, paths)], settings)
    return json.loads(r.stdout)


def test_class_on_the_hub(klass):
    settings, users, base = klass
    t = users[settings.instructors[0]]
    studs = dict(zip("abc", (users[n] for n in settings.students)))

    # -- everyone logs in and starts a server --------------------------------
    for u in users.values():
        u.login()
        u.start_server()
    for u in users.values():
        u.wait_ready()

    # -- the instructor generates and releases ex01 (formgrader's buttons) ----
    fg = f"formgrader/api/assignment/{ASSIGNMENT}"
    res = _ok(t.server("POST", f"{fg}/assign"), "generate")
    assert res["success"], res
    res = _ok(t.server("POST", f"{fg}/release"), "release")
    assert res["success"], res
    outbound = settings.exchange / COURSE / "outbound" / ASSIGNMENT / NOTEBOOK
    assert outbound.is_file()

    # -- each student fetches, answers, submits (the Assignment List) ---------
    form = {"course_id": COURSE, "assignment_id": ASSIGNMENT}
    for who, s in studs.items():
        listed = _ok(
            s.server("GET", "assignments", params={"course_id": COURSE}), "list"
        )
        assert [a["assignment_id"] for a in listed["value"]] == [ASSIGNMENT], listed
        _ok(s.server("POST", "assignments/fetch", data=form), f"fetch by {who}")
        mine = s.home / ASSIGNMENT / NOTEBOOK
        assert mine.is_file() and mine.stat().st_uid == pwd.getpwnam(s.name).pw_uid
        nb_path = f"{ASSIGNMENT}/{NOTEBOOK}"
        path = f"api/contents/{nb_path}"
        model = _ok(s.server("GET", path), "open")
        for cell in model["content"]["cells"]:
            gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if gid in ANSWERS[who]:
                cell["source"] = SOLUTIONS[gid]
        _ok(
            s.server(
                "PUT",
                path,
                json={
                    "type": "notebook",
                    "format": "json",
                    "content": model["content"],
                },
            ),
            f"save by {who}",
        )
        # Validate: nbgrader runs the notebook in the student's own server, with the
        # course's kernel, as the student; only the unanswered tasks' visible tests fail
        res = _ok(
            s.server("POST", "assignments/validate", data={"path": nb_path}),
            f"validate by {who}",
        )
        assert res["success"], res
        failed = res["value"].get("failed", [])
        unanswered = [task for task in SOLUTIONS if task not in ANSWERS[who]]
        assert len(failed) == sum(len(VISIBLE[t]) for t in unanswered), (who, res)
        assert all("NotImplementedError" in f["raw_error"] for f in failed), res
        res = _ok(s.server("POST", "assignments/submit", data=form), f"submit by {who}")
        assert res["success"], res
    inbound = settings.exchange / COURSE / "inbound"
    handins = sorted(p.name for p in inbound.iterdir())
    assert [h.split("+")[0] for h in handins] == sorted(settings.students)
    # <student>+<assignment>+<timestamp>+<random>: not guessable from the inbound's
    # name pattern (the inbound itself is not listable by students, checked below)
    assert all(len(h.split("+")[3]) >= 12 for h in handins), handins
    assert hub.inbound_owners(settings) == []

    # -- collect (formgrader), grade (the project's sandboxed grader) --------
    res = _ok(t.server("POST", f"{fg}/collect"), "collect")
    assert res["success"], res
    csv_path, results = hub.grade(t.name)
    scores = {r.student: (r.score, r.max_score) for r in results}
    for who, s in studs.items():
        assert scores[s.name] == (EXPECTED[who], TOTAL), (who, scores, results)
    assert not any(r.grader_error for r in results)

    # -- feedback: generated and released by the instructor, fetched by each --
    res = _ok(t.server("POST", f"{fg}/generate_feedback"), "generate feedback")
    assert res["success"], res
    res = _ok(t.server("POST", f"{fg}/release_feedback"), "release feedback")
    assert res["success"], res
    feedback = {}
    for who, s in studs.items():
        _ok(s.server("POST", "assignments/fetch_feedback", data=form), "fetch feedback")
        got = sorted((s.home / ASSIGNMENT / "feedback").glob(f"*/{NOTEBOOK[:-6]}.html"))
        assert len(got) == 1, (who, got)
        feedback[who] = got[0]
        # the notebook's total at the top of the feedback page: their own score
        head = f"{NOTEBOOK[:-6]} (Score: {EXPECTED[who]:.1f} / {TOTAL:.1f})"
        assert head in got[0].read_text(), (who, head)

    # -- the grades export (nbgrader's, as the instructor) matches ------------
    course = hub.course_dir(t.name)
    hub.run_as(
        t.name,
        [str(hub.venv_bin() / "nbgrader"), "export", "--to=export.csv"],
        settings,
        cwd=course,
    )
    with open(course / "export.csv", newline="") as f:
        exported = {row["student_id"]: row for row in csv.DictReader(f)}
    with open(csv_path, newline="") as f:  # the grader's own grades.csv
        graded = {row["student_id"]: row for row in csv.DictReader(f)}
    assert sorted(exported) == sorted(graded) == sorted(settings.students)
    for who, s in studs.items():
        for row in (exported[s.name], graded[s.name]):
            assert row["assignment"] == ASSIGNMENT
            got = (float(row["score"]), float(row["max_score"]))
            assert got == (EXPECTED[who], TOTAL), (who, row)

    # -- who can read what, as each student's own Unix user ------------------
    nbgrader_cache = Path(".local/share/jupyter/nbgrader_cache") / COURSE
    for who, s in studs.items():
        own = [s.home / ASSIGNMENT / NOTEBOOK, feedback[who], s.home / nbgrader_cache]
        others = []
        for other_who, o in studs.items():
            if o is s:
                continue
            others += [
                o.home,
                o.home / ASSIGNMENT / NOTEBOOK,
                feedback[other_who],
                o.home / nbgrader_cache,
            ]
        instructor = [
            course / "source",
            course / "source" / ASSIGNMENT / NOTEBOOK,
            course / "gradebook.db",
            course / "submitted",
            course / "autograded",
            t.home,
        ]
        exchange = [inbound, settings.exchange / COURSE / "feedback"]
        seen = _probe(settings, s.name, own + others + instructor + exchange)
        assert all(seen[str(p)] == "read" for p in own), (who, seen)
        refused = {str(p): seen[str(p)] for p in others + instructor + exchange}
        assert set(refused.values()) == {"denied"}, (who, refused)

    # -- a hand-in under another student's name is flagged --------------------
    # nbgrader's exchange takes the student id from the submitter's own config
    # (--student); the folder's Unix owner says who really submitted it.
    b, a = studs["b"], studs["a"]
    hub.run_as(
        b.name,
        [str(hub.venv_bin() / "nbgrader"), "submit", ASSIGNMENT, f"--student={a.name}"],
        settings,
    )
    flagged = hub.inbound_owners(settings)
    assert len(flagged) == 1 and f"submitted by {b.name}, not {a.name}" in flagged[0]
