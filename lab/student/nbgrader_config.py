"""nbgrader in the student's JupyterLab (`make lab`): only the Validate button.

`make lab` puts this folder on JUPYTER_CONFIG_PATH (see tools/lab.py), so JupyterLab
and nbgrader find this file wherever the lab starts. The student's work comes from
`make lab` into my-work/ (no exchange: nothing is fetched or submitted through
nbgrader), so the exchange, the assignment and course lists and the instructor's
tools (formgrader, create assignment) are switched off in this folder's
jupyter_server_config.json and labconfig/page_config.json. Instructors:
`make lab-instructor` starts JupyterLab in exercises/ with all of nbgrader.
"""

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-course"
# Validate runs the notebook top to bottom, each cell with a time limit.
c.Execute.timeout = 300
c.ExecutePreprocessor.timeout = 300
