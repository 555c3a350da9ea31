# Two commands do everything (see README.md):
#   make course   set up, then open the course in JupyterLab
#   make test     set up, then run the unit tests and execute every notebook with nbval
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed

.PHONY: setup course test exercises benchmark benchmark-scale

$(READY): requirements.txt pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(READY)

setup: $(READY)

course: setup
	$(BIN)/jupyter lab notebooks/

# pytest exits 5 when it collects nothing; say so plainly rather than fail without a word.
test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m helpers.exercises --check
	$(BIN)/pytest --nbval-lax --nbval-current-env tests notebooks; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$rc

exercises: setup
	$(BIN)/python -m helpers.exercises

benchmark: setup
	$(BIN)/python benchmarks/run.py

benchmark-scale: setup
	$(BIN)/python benchmarks/scale.py
