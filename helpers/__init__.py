"""Helpers for the deep convolutional networks course.

One module per concern, in the spirit of d2l's ``d2l`` package:

- ``helpers.notebook``  -- ``start()``: the first call in every notebook (seed, quiet logs, versions)
- ``helpers.datasets``  -- the shipped digits and the 6-class 64x64 image set, the course's HDF5
  files, and folders of your own images
- ``helpers.plots``     -- training curves, image grids, confusion matrices, feature maps, cost bars
- ``helpers.costs``     -- parameters and multiplications per layer and per model
- ``helpers.checks``    -- the checks that tell you what is wrong with an exercise, and how to fix it
- ``helpers.exercises`` -- makes the exercise notebooks from the solution notebooks

Importing this package sets ``TF_CPP_MIN_LOG_LEVEL`` so that TensorFlow, imported later, keeps its
C++ start-up chatter to itself.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from helpers.notebook import start  # noqa: E402  (after the environment variable, on purpose)

__all__ = ["start"]
