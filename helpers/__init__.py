"""Helpers for the deep convolutional networks course.

One module per concern, in the spirit of d2l's ``d2l`` package:

- ``helpers.notebook``  -- ``start()``: the first call in every notebook (seed, versions), and the quiet
  start-up of the backend
- ``helpers.datasets``  -- the shipped digits and the 6-class 64x64 image set, the course's HDF5
  files, and folders of your own images
- ``helpers.plots``     -- training curves, image grids, confusion matrices, feature maps, cost bars
- ``helpers.progress``  -- a training cell's live line, updated in place, that leaves no timings behind
- ``helpers.costs``     -- parameters and multiplications per layer and per model
- ``helpers.autodiff``  -- gradients of a model's loss on any Keras backend (TensorFlow, JAX, PyTorch)
- ``helpers.checks``    -- the checks that tell you what is wrong with an exercise, and how to fix it
  (a subpackage: shared building blocks, then one module per notebook)
- ``helpers.exercises`` -- makes the exercise notebooks from the solution notebooks
- ``helpers.colab``     -- each notebook's Open in Colab badge and its first cell's set-up there
- ``helpers.workspace`` -- the student's ``work/``: copies of the tutorials and exercises (``make course``)

``import helpers`` comes first in every notebook: it loads Keras and its backend with TensorFlow's C++
start-up lines (absl, oneDNN, CUDA probes on a CPU-only machine) kept off the screen, so that a notebook
opens on the lesson. Any other line written to stderr during start-up is still shown.
"""

from helpers.notebook import quiet_start, start

quiet_start()

__all__ = ["start"]
