"""JupyterHub for the course: one server per student, nbgrader's exchange between them.

Started by ``make hub`` (``deploy/hub.py start``), as root, on 127.0.0.1 only. What
it sets up (every value can be changed through the environment ``deploy/hub.py``
passes; the defaults are those of ``make hub``):

* **Authentication**: PAM (``pamela``), i.e. the machine's Unix accounts and their
  passwords. ``deploy/hub.py add-users`` creates the accounts with generated
  passwords; only the users on the course roster (``RNNCOURSE_STUDENTS``,
  ``RNNCOURSE_INSTRUCTORS``) may log in.
* **Spawner**: JupyterHub's LocalProcessSpawner. The hub runs as root and starts
  each user's ``jupyterhub-singleuser`` (JupyterLab) as that Unix user, from this
  repository's ``.venv`` (the course's Python and kernel), with the home folder
  (mode 0700) as its root. An instructor's server starts in ``~/rnn-course`` (the
  nbgrader course folder: ``source/``, ``gradebook.db``) with all of nbgrader's
  extensions; a student's has only the Assignment List and Validate
  (``deploy/jupyter/student``).
* **Proxy**: configurable-http-proxy from npm, installed into ``deploy/node_modules``
  by ``npm ci`` at setup time (``deploy/package.json``, ``package-lock.json``).
* **nbgrader's exchange**: ``RNNCOURSE_EXCHANGE`` (``deploy/nbgrader_config.py``
  reads it), mode 1777 as nbgrader asks (world-writable; the sticky bit keeps a
  student from renaming the course's folder in it).

LocalProcessSpawner enforces no memory or CPU limit per student; on one server use
The Littlest JupyterHub's systemd spawner, on Kubernetes the Helm chart's limits
(``deploy/README.md``).
"""

import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

DEPLOY = Path(__file__).resolve().parent
ROOT = DEPLOY.parent
VENV_BIN = Path(os.environ.get("RNNCOURSE_VENV_BIN", Path(sys.executable).parent))
STATE = Path(os.environ.get("RNNCOURSE_STATE", "/srv/rnncourse"))
EXCHANGE = os.environ.get("RNNCOURSE_EXCHANGE", str(STATE / "exchange"))
COURSE_DIR = os.environ.get("RNNCOURSE_COURSE_DIR", "rnn-course")


def _names(var):
    return {n.strip() for n in os.environ.get(var, "").split(",") if n.strip()}


STUDENTS = _names("RNNCOURSE_STUDENTS")
INSTRUCTORS = _names("RNNCOURSE_INSTRUCTORS")

# -- network: everything on loopback ---------------------------------------------
c.JupyterHub.ip = os.environ.get("RNNCOURSE_HUB_IP", "127.0.0.1")
c.JupyterHub.port = int(os.environ.get("RNNCOURSE_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("RNNCOURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{}".format(
    os.environ.get("RNNCOURSE_PROXY_API_PORT", "8001")
)
c.ConfigurableHTTPProxy.command = [
    str(DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy")
]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "hub" / "proxy.pid")
c.ConfigurableHTTPProxy.should_start = True
c.Spawner.ip = "127.0.0.1"

# -- the hub's own state: database, cookie secret ---------------------------------
c.JupyterHub.db_url = "sqlite:///" + str(STATE / "hub" / "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = str(STATE / "hub" / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "hub" / "jupyterhub.pid")
# Stopping the hub stops every user's server and the proxy (nothing is left behind).
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True

# -- who may log in ---------------------------------------------------------------
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = STUDENTS | INSTRUCTORS
c.PAMAuthenticator.open_sessions = False
# No hub admins: an admin may open any student's server (as that student). The
# instructor's rights come from the course folder in their home; grading needs root
# (deploy/hub.py grade), not hub rights.
c.Authenticator.admin_users = set()

# -- each user's server: the course's Python, as that Unix user -------------------
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
# The machine may be busy (a class logging in at once): be patient with a start.
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {
    "PATH": os.pathsep.join([str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
    "RNNCOURSE_EXCHANGE": EXCHANGE,
    "RNNCOURSE_COURSE_DIR": COURSE_DIR,
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def _per_role(spawner):
    """Students and instructors get different nbgrader extensions and start folders."""
    role = "instructor" if spawner.user.name in INSTRUCTORS else "student"
    spawner.environment["JUPYTER_CONFIG_PATH"] = os.pathsep.join(
        [str(DEPLOY / "jupyter" / role), str(DEPLOY)]
    )
    spawner.environment["RNNCOURSE_ROLE"] = role
    if role == "instructor":
        spawner.notebook_dir = "~/" + COURSE_DIR


c.Spawner.pre_spawn_hook = _per_role
