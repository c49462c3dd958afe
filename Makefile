# The course companion's entry points. Every target sets up .venv itself first.
#   make book   – set up, then build the HTML book into _build/html   (the main job)
#   make test   – set up, then run every test: unit, nbval over all notebooks, grading round trip
#   make lab    – set up, copy student exercises into my-work/ (never overwriting), open JupyterLab
#   make grade  – instructors: autograde exercises/submitted/ and export grades.csv
#   make check-book – after `make book`: open every page in headless Chromium, fail on any network request
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup book check-book test lab release grade bench clean

setup: $(STAMP)

# pip resolves against constraints.txt (the versions this book was last built with),
# so a rebuild next month installs the same packages. torch is pinned to the CPU 2.13.0 wheel.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[book,test,lab]'
	touch $(STAMP)

# Student copies of the exercises, generated from exercises/source by nbgrader.
release: setup
	cd exercises && ../$(BIN)/python ../tools/course.py release

book: release
	rm -rf _build/html _build/jupyter_execute
	OMP_NUM_THREADS=1 $(BIN)/jupyter-book build . --warningiserror --nitpick --keep-going
	@echo "Book built: open _build/html/index.html"

# Open every built page in headless Chromium (Debian's, no browser download): no request
# may leave the machine, maths must be typeset, images must load. Screenshots in _build/shots.
check-book:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium)
	$(BIN)/python tools/check_book.py --html _build/html --screenshots _build/shots

# ruff first (style and lint of the package, tests, benchmarks and the chapters' code
# cells, configured in pyproject.toml), then every test.
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest

lab: release
	cd exercises && ../$(BIN)/python ../tools/course.py start-work --dest ../my-work
	OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 $(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root)

grade: setup
	cd exercises && ../$(BIN)/python ../tools/course.py grade

bench: setup
	$(BIN)/python benchmarks/bench_charlm.py
	$(BIN)/python benchmarks/bench_numpy_bptt.py

clean:
	rm -rf _build exercises/release exercises/autograded exercises/feedback
