"""nbgrader in an instructor's server on the hub: the course folder in their home.

formgrader reads nbgrader's config from JUPYTER_CONFIG_PATH (not from the folder
the server shows), so this file loads the course's own ``nbgrader_config.py`` from
``~/rnn-course`` (a copy of ``exercises/nbgrader_config.py``: it sets the course
root and the gradebook next to itself). The exchange is set in
``deploy/nbgrader_config.py``.
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

_course = os.path.join(
    os.path.expanduser("~"), os.environ.get("RNNCOURSE_COURSE_DIR", "rnn-course")
)
load_subconfig(os.path.join(_course, "nbgrader_config.py"))  # noqa: F821
