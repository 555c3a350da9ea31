"""The checks of the exercises: each passes quietly on a correct answer, whatever its style, or names
the first thing that is wrong, where it is, and how to fix it.

- ``core``   -- the failure a student sees (``CheckFailed``), the success line, calling the student's code
- ``graph``  -- one walk over a Keras model's graph, on public API: the layer table in canonical order
- ``tables`` -- comparing a layer table with the expected one: missing, extra and wrong layers
- one module per notebook, named after it: ``classic_networks``, ``residual_blocks``,
  ``why_residuals_work``, ``one_by_one_convolutions``, ``inception``
"""
