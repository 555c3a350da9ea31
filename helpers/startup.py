"""Keras and its backend, started once and without TensorFlow's C++ start-up lines.

Every module of ``helpers`` that uses Keras imports this module first (before its third-party imports: ruff
sorts it there, see pyproject.toml). ``import helpers`` alone starts nothing, so the tools that do not train,
``make course``, the exercise generator and nbgrader's export plugin, start in a fraction of a second.
"""

from helpers.notebook import quiet_start

quiet_start()
