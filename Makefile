# Two commands do everything (see README.md):
#   make course   set up, then open the course in JupyterLab
#   make test     set up, then run the unit tests and execute every notebook with nbval
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed
INSTRUCTOR := $(VENV)/.instructor

.PHONY: setup instructor course test exercises benchmark benchmark-scale

$(READY): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(READY)

setup: $(READY)

# nbgrader, for grading and for making the exercise notebooks (requirements-instructor.txt says why it is separate).
$(INSTRUCTOR): $(READY) requirements-instructor.txt
	$(BIN)/python -m pip install --quiet -r requirements-instructor.txt
	touch $(INSTRUCTOR)

instructor: $(INSTRUCTOR)

# Copies the exercises you do not have yet into work/ (git-ignored), then opens JupyterLab there.
# ARGS go to JupyterLab as they are, e.g. make course ARGS="--port=8890 --no-browser".
course: setup
	$(BIN)/python -m helpers.lab $(ARGS)

# pytest exits 5 when it collects nothing: CI fails then too, with a line that says why.
test: instructor
	$(BIN)/ruff check .
	$(BIN)/python -m helpers.exercises --check
	$(BIN)/pytest --nbval-lax --nbval-current-env tests notebooks; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; fi; exit $$rc

exercises: instructor
	$(BIN)/python -m helpers.exercises

benchmark: setup
	$(BIN)/python benchmarks/run.py

benchmark-scale: setup
	$(BIN)/python benchmarks/scale.py
