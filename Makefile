# The course companion's entry points. Every target sets up .venv itself first.
#   make book   – set up, then build the HTML book into _build/html   (the main job)
#   make test   – set up, build the book if a source changed, then run every test: unit, nbval over
#                 all notebooks, grading round trip, the book and a student's lab in headless Chromium
#   make lab    – set up, copy the exercises and chapters into my-work/ (never overwriting), open
#                 JupyterLab there (nbgrader's Validate only); make lab-instructor: all of nbgrader
#   make validate NB=my-work/.../x.ipynb – validate before handing in (non-zero exit on failure)
#   make grade  – instructors: grade exercises/submitted/, each hand-in on its own in a sandbox;
#                 print a report, write exercises/grades.csv (options: make grade GRADE_ARGS=--help)
#   make check-book – after `make book`: open every page in headless Chromium, report each, screenshots
#   make hub    – the course on JupyterHub (as root, on 127.0.0.1:8000): one server per student,
#                 nbgrader's exchange, grading in the sandbox (deploy/README.md)
#   make bench  – time every notebook, the book build and the tests, RNN throughput, model quality
#                 against baselines, grading: report in _build/bench.md (BENCH_ARGS=--quick: shorter)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser sandbox hub-setup hub book check-book test lab lab-instructor validate strip release grade bench clean

setup: $(STAMP) browser sandbox hub-setup

# Debian's Chromium for the browser tests and check-book (Playwright drives it through
# executable_path; no browser is downloaded). Installed when missing, which needs root
# (as in CI); where it cannot be, the browser tests fail under CI and skip elsewhere.
browser:
	@command -v chromium >/dev/null || test -x /usr/bin/chromium || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } || \
	  { echo "chromium is missing and could not be installed" >&2; test -z "$$CI"; }

# Debian's bubblewrap (+ util-linux's prlimit/setpriv) runs student code in a sandbox when
# grading (tools/sandbox.py). Installed when missing, which needs root (as in CI); without
# it `make grade` refuses to run student code and the sandbox tests skip (fail under CI).
sandbox:
	@command -v bwrap >/dev/null || \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends bubblewrap; } || \
	  { echo "bubblewrap is missing and could not be installed" >&2; test -z "$$CI"; }

# JupyterHub's proxy (configurable-http-proxy) from npm, as locked in deploy/package-lock.json,
# into deploy/node_modules (`npm ci`; nothing is downloaded when the hub runs). Without node
# and npm the class hub test fails under CI and skips elsewhere.
hub-setup: deploy/node_modules/.package-lock.json
deploy/node_modules/.package-lock.json: deploy/package.json deploy/package-lock.json
	@command -v npm >/dev/null && cd deploy && npm ci --no-audit --no-fund --loglevel=error || \
	  { echo "npm is missing or npm ci failed: no JupyterHub proxy (make hub)" >&2; test -z "$$CI"; }

# pip resolves against constraints.txt (the versions this book was last built with),
# so a rebuild next month installs the same packages. torch is pinned to the CPU 2.13.0 wheel.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[book,test,lab,hub]'
	touch $(STAMP)

# Student copies of the exercises, generated from exercises/source by nbgrader.
release: setup
	cd exercises && ../$(BIN)/python ../tools/course.py release

book: release
	rm -rf _build/html _build/jupyter_execute
	OMP_NUM_THREADS=1 $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	touch $(BOOK_STAMP)
	@echo "Book built: open _build/html/index.html"

# `make test` opens the built book: it rebuilds it only when a source is newer.
BOOK_STAMP   := _build/html/.built
BOOK_SOURCES := _config.yml _toc.yml intro.md tools/book_fixes.py $(shell find chapters \
  exercises/source exercises/index.md rnnkit _static -type f -not -name '*.pyc' \
  -not -path '*/.ipynb_checkpoints/*' 2>/dev/null)
$(BOOK_STAMP): $(STAMP) $(BOOK_SOURCES)
	$(MAKE) book

# Open every built page in headless Chromium (Debian's, no browser download): one line per
# page (requests, errors, formulas, images), screenshots in _build/shots. The same checks
# run in `make test` (tests/test_browser_book.py).
check-book: setup
	$(BIN)/python tools/check_book.py --html _build/html --screenshots _build/shots

# ruff first (style and lint of the package, tests, benchmarks and the chapters' code
# cells, configured in pyproject.toml), then every test; the browser tests read the
# built book and the exercises it released. One pytest worker per core (pytest-xdist);
# --dist loadfile keeps each file (a notebook's cells, a module's grading fixture) on one worker.
test: setup $(BOOK_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n auto --dist loadfile

# Students: copies of the exercises and chapters in my-work/ (never overwriting), and
# JupyterLab on 127.0.0.1 rooted there, with nbgrader's Validate button only (lab/student).
lab: release
	$(BIN)/python tools/lab.py

# Instructors: JupyterLab in exercises/ with all of nbgrader (formgrader, create assignment).
lab-instructor: release
	$(BIN)/python tools/lab.py --instructor

# Contributors: clear the outputs of chapters and exercise sources run in place (they are
# stored without outputs; tests/test_notebooks.py checks).
strip: setup
	$(BIN)/jupyter nbconvert --clear-output --log-level=WARN chapters/*.ipynb exercises/source/*/*.ipynb

# Students, before handing in: make validate NB=my-work/ex03_vanilla_rnn/vanilla_rnn.ipynb
# (nbgrader validate's report, the reasons first; exits non-zero when a test fails).
validate: setup
	$(BIN)/python tools/validate.py $(NB)

grade: setup
	cd exercises && OMP_NUM_THREADS=1 ../$(BIN)/python ../tools/course.py grade $(GRADE_ARGS)

# Measure everything (each notebook, the book build, the tests, numpy and torch RNN
# throughput, model quality against baselines, autograding) into _build/bench.md.
# It takes long; `make bench BENCH_ARGS=--quick` skips the book build and the tests.
bench: release
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/report.py $(BENCH_ARGS)

# The course on JupyterHub, as root, on 127.0.0.1:8000 until Ctrl-C (deploy/hub.py start).
# First create the accounts once: .venv/bin/python deploy/hub.py add-users
# --students alice,bob --instructors teacher (passwords printed; see deploy/README.md).
hub: setup
	$(BIN)/python deploy/hub.py start

clean:
	rm -rf _build exercises/release exercises/autograded exercises/feedback
