"""Helpers for the deep convolutional networks course.

One module per concern, in the spirit of d2l's ``d2l`` package. What a student's notebook imports:

- ``helpers.notebook``  -- ``start()``: the first call in every notebook (seed, versions, a one-line stop)
- ``helpers.startup``   -- Keras and its backend, started without TensorFlow's C++ start-up lines
- ``helpers.datasets``  -- the shipped digits and the 6-class 64x64 image set, the course's HDF5
  files, and folders of your own images
- ``helpers.plots``     -- training curves, image grids, confusion matrices, feature maps, cost bars
- ``helpers.progress``  -- a training cell's live line, updated in place, that leaves no timings behind
- ``helpers.tracing``   -- ``prebuild``: a training step that TensorFlow traces once, not twice
- ``helpers.costs``     -- parameters and multiplications per layer and per model
- ``helpers.autodiff``  -- gradients of a model's loss on any Keras backend (TensorFlow, JAX, PyTorch)
- ``helpers.checks``    -- the checks that tell you what is wrong with an exercise, and how to fix it
  (a subpackage: shared building blocks, then one module per notebook)
- ``helpers.distribute`` and ``helpers.training`` -- devices, and what a long run needs beyond Keras (notebook 06)
- ``helpers.course``    -- the course's own code, exported from notebooks 02 and 06 (``helpers.export``)
- ``helpers.colab``     -- each notebook's Open in Colab badge and its first cell's set-up there

What the instructor's tools need:

- ``helpers.exercises``       -- makes the exercise notebooks from the solution notebooks
- ``helpers.grading``         -- the nbgrader metadata of the exercises and their points
- ``helpers.nbgrader_course`` -- the nbgrader course folder, and nbgrader's per-exercise CSV export
- ``helpers.autograde``       -- grading a class in a sandbox (a subpackage)

The command line: ``helpers.train`` (training as a batch job), ``helpers.lab`` and ``helpers.workspace``
(``make course``: JupyterLab on the student's ``work/``).

``import helpers`` starts nothing: Keras and its backend start when the first module that uses them is
imported, with TensorFlow's C++ start-up lines (absl, oneDNN, CUDA probes on a CPU-only machine) kept off the
screen, so that a notebook opens on the lesson and the tools that do not train start at once. Any other line
written to stderr during start-up is still shown.
"""

from helpers.notebook import start

__all__ = ["start"]
