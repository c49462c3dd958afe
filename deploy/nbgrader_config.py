"""nbgrader's global settings on the hub: the course id and the exchange.

Every user's server finds this file on ``JUPYTER_CONFIG_PATH`` (set per user by
``jupyterhub_config.py``), so a student's Assignment List (fetch, submit, fetch
feedback) and an instructor's formgrader (release, collect, release feedback) meet
in the same exchange. The instructor's course folder (``~/rnn-course``) has the
course's own ``nbgrader_config.py`` (a copy of ``exercises/nbgrader_config.py``),
which sets where ``source/`` and the gradebook are.

The exchange is nbgrader's default one (a shared folder; see deploy/README.md):
``<exchange>/rnn-course/outbound`` (released assignments, readable by everyone),
``inbound`` (hand-ins: writable by everyone, listable by the instructor only) and
``feedback`` (not listable; each file named by a hash of the hand-in's secret).
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-course"
c.Exchange.root = os.environ.get("RNNCOURSE_EXCHANGE", "/srv/rnncourse/exchange")
# Hand-ins are named <student>+<assignment>+<timestamp>+<random>: the random part
# keeps another student from guessing the folder's name in the unlistable inbound.
c.ExchangeSubmit.add_random_string = True
# Validate (and nbgrader's own runs) stop a cell after 5 minutes.
c.Execute.timeout = 300
c.ExecutePreprocessor.timeout = 300
