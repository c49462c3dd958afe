"""The instructor's and the build's tools; not part of the student-facing ``rnnkit``.

* ``course.py`` — release, start work on and grade the nbgrader exercises
  (run from ``exercises/``: ``python ../tools/course.py release``);
* ``check_book.py`` — open every page of the built book in headless Chromium.

A package only so that the tests can ``from tools.course import ...`` (pytest
puts the repository root on ``sys.path`` for the ``tests`` package).
"""
