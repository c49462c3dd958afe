"""nbgrader in the instructor's JupyterLab (`make lab-instructor`), beside the course's.

The lab starts in exercises/, whose nbgrader_config.py is the course's (it wins where
both set something); this file, found on JUPYTER_CONFIG_PATH (tools/lab.py), only gives
the single-machine course a local exchange, so the Assignment List does not look for
/usr/local/share/nbgrader/exchange (which a user cannot create).
"""

from pathlib import Path

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.Exchange.root = str(Path(__file__).resolve().parents[2] / "exercises" / "exchange")
