# Two commands do everything (see README.md):
#   make course   set up, then open the course in JupyterLab
#   make test     set up, then run the unit tests and execute every notebook with nbval
# and one builds the course's website: make site (into _build/html/, from the notebooks' stored outputs).
# Instructors: make release, make kit, make grade (docs/instructors.md). They install the instructor's tools (tools/,
# the package course_tools, with nbgrader), which make course never installs: students get the helpers package only.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
READY := $(VENV)/.installed
INSTRUCTOR := $(VENV)/.instructor
SITE_TOOLS := $(VENV)/.site
# CONSTRAINTS=constraints/floors.txt installs the lowest versions requirements.txt admits (CI uses VENV=.venv-floors).
CONSTRAINTS ?=

# The Keras backend: make course BACKEND=jax, make test BACKEND=torch (default: $$KERAS_BACKEND, else tensorflow).
# Set-up adds what the backend needs to the venv. On Linux, PyPI's torch is a CUDA build of several GB; for the
# CPU build: make test BACKEND=torch TORCH="torch --index-url https://download.pytorch.org/whl/cpu"
BACKEND ?= $(or $(KERAS_BACKEND),tensorflow)
JAX ?= jax[cpu]
TORCH ?= torch
BACKEND_PACKAGES := $(or $(if $(filter jax,$(BACKEND)),$(JAX)),$(if $(filter torch,$(BACKEND)),$(TORCH)))
$(if $(filter $(BACKEND),tensorflow jax torch),,$(error BACKEND must be tensorflow, jax or torch, not '$(BACKEND)'))
export KERAS_BACKEND := $(BACKEND)
# JAX compiles each new operation (every shape a layer's initialiser draws, every training step) once per process;
# its persistent compilation cache keeps the compiled code for later processes and runs: building ResNet-50 on JAX
# took 12.5 s, 1.4 s from the cache. It lies outside the clone, shared by every clone and run; JAX keys each
# entry on its own version, the device and the computation. The grader's sandbox does not pass it on.
export JAX_COMPILATION_CACHE_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/deep-cnn-course/jax
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS ?= 0
export JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES ?= -1

# jsonschema checks the "iri" format with rfc3987-syntax where it is installed (jupyter-events asks for it through
# jsonschema[format-nongpl]), and that package compiles its grammar whenever it is imported: `import nbformat` took
# 3.8 s with it, 0.5 s without, in every process that imports it (pytest, nbval, nbgrader, the grader, JupyterLab).
# Nothing here checks that format, and jsonschema leaves it unchecked without the package: every install of a
# requirements file ($(call install,FILE)) takes it out again.
SLOW_TO_IMPORT := rfc3987-syntax
# uv installs into the venv (the venv's pip installs uv itself). It keeps every package it unpacked in its cache,
# outside the clone (~/.cache/uv), and links them into each new venv: with that cache warm, a fresh .venv with all
# three backends, nbgrader and the website's tools took 45 s (63 s with it empty), against 202 s with pip (2 cores,
# 2026-12-02).
# --compile-bytecode writes the .pyc files pip would have: without them `import keras` took 19 s instead of 6-8 s.
# uv reads no pip.conf; PIP_FIND_LINKS, where set, is passed on (CI's CPU wheel of PyTorch lies there).
UV_PACKAGE ?= uv>=0.13.9,<1
UV_INSTALL = $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode \
	$(if $(PIP_FIND_LINKS),--find-links $(PIP_FIND_LINKS))
install = $(UV_INSTALL) $(1) $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) && \
	$(BIN)/uv pip uninstall --quiet --python $(BIN)/python $(SLOW_TO_IMPORT)

.PHONY: setup instructor course system-packages test unit exercises site release kit grade report benchmark benchmark-scale

# Debian and Ubuntu ship venv's ensurepip in a package of its own (python3.X-venv): without it `python3 -m venv` stops
# half-way, with a message that names no make target.
VENV_CHECK = $(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || $(PYTHON) -c 'import sys; sys.exit(f"make: " \
	f"{sys.executable} cannot make a virtual environment: it lacks ensurepip, which Debian and Ubuntu install " \
	f"with sudo apt-get install -y python3.{sys.version_info[1]}-venv (then run make again)")'
$(READY): requirements.txt pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed, found " + sys.version'
	@$(VENV_CHECK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(UV_PACKAGE)"
	$(call install,-r requirements.txt -e .)
	touch $(READY)

$(VENV)/.backend-$(BACKEND): $(READY)
	$(if $(BACKEND_PACKAGES),$(UV_INSTALL) $(BACKEND_PACKAGES))
	touch $@

setup: $(READY) $(VENV)/.backend-$(BACKEND)

# The instructor's tools (tools/: exercise generation, the nbgrader course, the grader, class kits), nbgrader and the
# test runners (requirements-instructor.txt says why they are separate).
$(INSTRUCTOR): $(READY) requirements-instructor.txt
	$(call install,-r requirements-instructor.txt)
	touch $(INSTRUCTOR)

instructor: $(INSTRUCTOR) $(VENV)/.backend-$(BACKEND)

# Sphinx, MyST-NB and the browser test's Playwright, for the website (requirements-site.txt says why).
$(SITE_TOOLS): $(READY) requirements-site.txt
	$(call install,-r requirements-site.txt)
	touch $(SITE_TOOLS)

# The website, from the stored outputs (nothing is executed): open _build/html/index.html, or serve it with
# python -m http.server -d _build/html. A warning (a broken cross-reference, say) fails the build. It is built in an
# environment of its own, with requirements-site.txt alone: docs/conf.py reads helpers and course_tools from the
# clone, and nothing of the website imports Keras, a backend or nbgrader (tests/test_site.py builds it so).
SITE_VENV := .venv-site
$(SITE_VENV)/.installed: requirements-site.txt $(CONSTRAINTS)
	@$(VENV_CHECK)
	$(PYTHON) -m venv $(SITE_VENV)
	$(SITE_VENV)/bin/python -m pip install --quiet "$(UV_PACKAGE)"
	$(SITE_VENV)/bin/uv pip install --quiet --python $(SITE_VENV)/bin/python --compile-bytecode \
		-r requirements-site.txt $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	touch $@

site: $(SITE_VENV)/.installed
	$(SITE_VENV)/bin/sphinx-build -q -W --keep-going -b html docs _build/html

# Copies the exercises you do not have yet into work/ (git-ignored), then opens JupyterLab there.
# ARGS go to JupyterLab as they are, e.g. make course ARGS="--port=8890 --no-browser".
course: setup
	$(BIN)/python -m helpers.lab $(ARGS)

# pytest runs the tests in JOBS processes (default: one per core; JOBS=0: in pytest's own process), each notebook,
# test module or test class in one of them (so that a notebook's cells run in order and a module's fixtures are
# made once), the slowest first (conftest.py), and prints the 15 slowest tests. PYTEST_ARGS go to pytest as they
# are, e.g. make test PYTEST_ARGS="-m backend" (what .ci/run does on JAX and PyTorch: conftest.py says which pass
# runs what).
# pytest exits 5 when it collects nothing: CI fails then too, with a line that says why. -rs lists every skipped test
# with its reason.
JOBS ?= auto
PYTEST := $(BIN)/pytest -n $(JOBS) --dist loadscope --no-loadscope-reorder --durations=15 -rs
# Graphviz, bubblewrap and Chromium, before the set-up: .ci/system-packages installs the missing ones as root or stops
# with the command to run. Then COURSE_REQUIRE_SYSTEM=1 makes a test that needs one of them fail rather than skip.
system-packages:
	@.ci/system-packages

test: system-packages instructor $(SITE_TOOLS)
	$(BIN)/ruff check .
	COURSE_REQUIRE_SYSTEM=1 $(PYTEST) --nbval-lax --nbval-current-env tests notebooks $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; fi; exit $$rc

# The contributor's inner loop: the unit tests on one backend, without the notebooks, the `once` tests and the
# end-to-end ones (a whole program started or a network trained: pyproject.toml's markers say which).
unit: instructor $(SITE_TOOLS)
	$(PYTEST) tests -m "not once and not end_to_end" $(PYTEST_ARGS)

# Marks the solution notebooks (nbgrader metadata, Colab badge and first cell), then writes their exercise versions
# and the modules of helpers/scale/ exported from their `#| export` cells.
exercises: instructor
	$(BIN)/python -m course_tools.exercises --mark
	$(BIN)/python -m course_tools.exercises

# An instructor's two commands (docs/instructors.md). COURSE is the nbgrader course folder, ASSIGNMENT a
# notebook's name, e.g. make release COURSE=../grading ASSIGNMENT=02_residual_blocks.
# release: makes or updates the course folder, then writes that notebook's release version (release/ASSIGNMENT/).
# grade: grades every submitted/*/ASSIGNMENT/ in a sandbox, JOBS at a time (default: one per core), into the
# gradebook; ARGS go to python -m course_tools.autograde, e.g. ARGS=--force to grade every submission again.
COURSE_ARGS = $(if $(and $(COURSE),$(ASSIGNMENT)),,$(error make $@ needs COURSE=<folder> ASSIGNMENT=<notebook name>))
# kit: the class kit to hand out (course_tools.kit): the release of each of ASSIGNMENTS, the notebooks without
# exercises, the student library, the data and a README, in KIT; KIT_URL, where you publish it (a GitHub
# repository), is recorded in COURSE once and gives every notebook its Colab badge and set-up. E.g.
#   make kit COURSE=../grading KIT=../kit ASSIGNMENTS="01_classic_networks 02_residual_blocks" KIT_URL=https://github.com/you/kit
KIT_ARGS = $(if $(and $(COURSE),$(KIT),$(ASSIGNMENTS)),,$(error make kit needs COURSE=<folder> KIT=<folder> ASSIGNMENTS="<notebook names>"))
release: instructor
	$(COURSE_ARGS)$(BIN)/python -m course_tools.nbgrader_course $(COURSE)
	cd $(COURSE) && PATH="$(abspath $(BIN)):$$PATH" python -m nbgrader generate_assignment $(ASSIGNMENT) --force

kit: instructor
	$(KIT_ARGS)$(BIN)/python -m course_tools.kit $(COURSE) $(KIT) $(ASSIGNMENTS) $(if $(KIT_URL),--url $(KIT_URL))

grade: instructor
	$(COURSE_ARGS)$(BIN)/python -m course_tools.autograde $(COURSE) $(ASSIGNMENT) --jobs $(JOBS) $(ARGS)

# What the class got wrong, and which answers are alike (course_tools.report): COURSE/report-ASSIGNMENT.html, one page
# to open in a browser, from what make grade recorded.
report: instructor
	$(COURSE_ARGS)$(BIN)/python -m course_tools.report $(COURSE) $(ASSIGNMENT)

# From the LMS and back (course_tools.lms; LMS is canvas or moodle). collect: the LMS's "download all submissions" zip,
# ARCHIVE, into COURSE's submitted/ with nbgrader's zip_collect, matched by ROSTER (Canvas: its gradebook export; Moodle:
# the assignment's grading worksheet); it lists every file it did not collect as it was. export: the gradebook's grades
# as the CSV the LMS imports, in TO (Canvas: ROSTER too). ARGS go to python -m course_tools.lms. E.g.
#   make collect COURSE=../grading ASSIGNMENT=02_residual_blocks ARCHIVE=submissions.zip LMS=canvas ROSTER=gradebook.csv
#   make export COURSE=../grading LMS=canvas ROSTER=gradebook.csv TO=canvas-grades.csv
COLLECT_ARGS = $(if $(and $(COURSE),$(ASSIGNMENT),$(ARCHIVE),$(LMS),$(ROSTER)),,$(error make collect needs COURSE=<folder> \
	ASSIGNMENT=<notebook name> ARCHIVE=<zip> LMS=canvas|moodle ROSTER=<csv>))
EXPORT_ARGS = $(if $(and $(COURSE),$(LMS),$(TO)),,$(error make export needs COURSE=<folder> LMS=canvas|moodle TO=<csv>))
.PHONY: collect export
collect: instructor
	$(COLLECT_ARGS)$(BIN)/python -m course_tools.lms collect "$(COURSE)" $(ASSIGNMENT) "$(ARCHIVE)" --lms $(LMS) \
		--roster "$(ROSTER)" $(ARGS)

export: instructor
	$(EXPORT_ARGS)$(BIN)/python -m course_tools.lms export "$(COURSE)" --lms $(LMS) --to "$(TO)" \
		$(if $(ROSTER),--roster "$(ROSTER)") $(ARGS)

benchmark: setup
	$(BIN)/python benchmarks/run.py

benchmark-scale: setup
	$(BIN)/python benchmarks/scale.py
