"""The student library of the deep convolutional networks course: what a notebook imports.

One module per concern, in the spirit of d2l's ``d2l`` package:

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
- ``helpers.scale``     -- training beyond a notebook (notebook 06): devices and strategies, a run that survives an
  interruption, the training command ``python -m helpers.scale.train`` (a subpackage)
- ``helpers.workspace`` and ``helpers.lab`` -- ``make course``: the student's ``work/`` and JupyterLab on it

It holds no exercise's solution and no hidden test, and imports nothing of the instructor's tools (the package
``course_tools``, in ``tools/``, which students never install): a class kit hands it out as it is.

``import helpers`` starts nothing: Keras and its backend start when the first module that uses them is
imported, with TensorFlow's C++ start-up lines (absl, oneDNN, CUDA probes on a CPU-only machine) kept off the
screen, so that a notebook opens on the lesson and the tools that do not train start at once. Any other line
written to stderr during start-up is still shown.
"""

from helpers.notebook import start

__all__ = ["start"]
