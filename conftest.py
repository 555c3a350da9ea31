"""pytest settings shared by the unit tests and nbval's notebook runs."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def pytest_collectstart(collector):
    # TensorFlow's C++ log lines carry timestamps; nbval must not compare stderr.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
