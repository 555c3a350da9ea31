"""pytest settings shared by the unit tests and nbval's notebook runs, and which passes of CI run which test."""

import functools
import os
from pathlib import Path

import nbval.kernel
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# pytest-xdist runs one worker per core (the Makefile's JOBS), and each backend's pool of compute threads has a
# thread per core: the workers' threads then take turns on the same cores. Each worker, its kernels and the
# processes its tests start get their share: PyTorch's OpenMP threads and TensorFlow's intra-op pool. On 2 cores,
# notebooks 01 and 02 run at once took 41 s on TensorFlow, 35 to 37 s with one thread each (2026-12-04); on
# PyTorch 128 s and 107 s (2026-12-03). JAX has no such setting that helped: with XLA's one-thread flags the two
# took 55 to 60 s, as without them. A value you set yourself is kept.
if (workers := int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))) > 1:
    for variable in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ.setdefault(variable, str(max(1, (os.cpu_count() or 1) // workers)))

# Once in seven notebook passes (2026-12-04) a notebook's kernel died before it answered, the mark of a race that
# jupyter_client knows (jupyter/jupyter_client#154): the kernel binds ports its manager picked and let go of a
# moment before, and another process (a second kernel, a TensorFlow worker of test_scale) can take one in between.
# nbval then starts the kernel again, on new ports, up to twice; a kernel that cannot start fails all three times.
def _start_again_on_new_ports(start_new_kernel):
    @functools.wraps(start_new_kernel)
    def start(*args, **kwargs):
        for attempt in range(3):
            try:
                return start_new_kernel(*args, **kwargs)
            except RuntimeError:
                if attempt == 2:
                    raise

    return start


nbval.kernel.start_new_kernel = _start_again_on_new_ports(nbval.kernel.start_new_kernel)

# What a test's result can depend on decides which passes of .ci/run run it (the markers are declared in
# pyproject.toml; .ci/run selects them with -m):
#   backend  -- the Keras backend in use: the TensorFlow, JAX and PyTorch passes (the floors pass runs only those
#               also marked floors, below). The notebooks, the checks, and any test that runs Keras code in its own
#               process.
#   versions -- the libraries' versions but not the backend (data files, h5py, NumPy, Keras's own counts):
#               the first pass and the floors pass.
#   once     -- neither: the repository's own files and tools, or tests that start processes on backends they
#               choose themselves: the first pass only.
# Every test module is listed; a test marked with a scope of its own keeps it.
SCOPES = {
    "test_autodiff": "backend",
    "test_autograde": "backend",
    "test_checks": "backend",
    "test_checks_classic_networks": "backend",
    "test_checks_inception": "backend",
    "test_checks_one_by_one_convolutions": "backend",
    "test_checks_residual_blocks": "backend",
    "test_checks_why_residuals_work": "backend",
    "test_notebook": "backend",
    "test_tracing": "backend",
    "test_train": "backend",
    "test_costs": "versions",
    "test_datasets": "versions",
    "test_errors": "versions",
    "test_cluster": "versions",
    "test_colab": "once",
    "test_exercises": "once",
    "test_grading": "once",
    "test_kit": "once",
    "test_layout": "once",
    "test_lab": "once",
    "test_lms": "versions",
    "test_nbgrader_course": "versions",
    "test_plots": "once",
    "test_progress": "backend",
    "test_prose": "once",
    "test_report": "versions",
    "test_scale": "once",
    "test_site": "versions",
    "test_timings": "once",
    "test_versions": "once",
    "test_warm": "versions",
    "test_workspace": "once",
}
SCOPE_MARKERS = {"backend", "versions", "once"}
# The floors pass (TensorFlow at the lowest versions requirements.txt admits) runs what an older library can
# break, marked `floors`: the notebooks, the checks (test_checks*) and every `versions` test. The other `backend`
# tests (the training command, the grader's worker, fresh kernels) make the notebooks' Keras calls in another
# harness, and every backend runs them at the newest versions.
FLOORS = ("test_checks",)  # module names that start so

# pytest-xdist hands out test modules and notebooks in the order collected (--no-loadscope-reorder, see the
# Makefile). The slowest go first, so that none of them is left to run alone at the end while the other cores
# idle; the order comes from the times of each module's and notebook's tests (--durations=0, TensorFlow, 2 cores).
SLOWEST_FIRST = [
    "test_scale",
    "test_nbgrader_course",
    "test_report",
    "test_cluster",
    "test_kit",
    "test_autograde",
    "03_why_residuals_work",
    "06_training_at_scale",
    "test_train",
    "05_inception",
    "02_residual_blocks",
    "01_classic_networks",
]
# Modules whose tests share no costly fixture, each test handed out on its own: otherwise a module is one unit, and
# test_scale's five runs of the training command queued on one worker (381 s of a 542 s run with 3 workers).
SPREAD = {"test_scale", "test_autograde"}


def pytest_collectstart(collector):
    # TensorFlow's C++ log lines carry timestamps; nbval must not compare stderr.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        scopes = SCOPE_MARKERS & {mark.name for mark in item.iter_markers()}
        if not scopes:
            if path.suffix == ".ipynb":
                scopes = {"backend"}
            elif path.stem in SCOPES:
                scopes = {SCOPES[path.stem]}
            else:
                raise pytest.UsageError(f"{path.name}: give its tests a scope in SCOPES in conftest.py")
            item.add_marker(getattr(pytest.mark, *scopes))
        if "versions" in scopes or (path.suffix == ".ipynb" or path.stem.startswith(FLOORS)) and "backend" in scopes:
            item.add_marker(pytest.mark.floors)
    rank = {stem: index for index, stem in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(str(item.fspath)).stem, len(rank)))  # stable: cells stay in order


def pytest_xdist_make_scheduler(config, log):
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SpreadScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            spread = Path(nodeid.split("::", 1)[0]).stem in SPREAD
            return nodeid if spread else super()._split_scope(nodeid)

    return SpreadScheduling(config, log)
