"""Training beyond a notebook (notebook 06): many devices, long runs, a batch job.

- ``distribute``        -- the engine for the backend and the devices found (``tf.distribute``, ``keras.distribution``),
  described by ``Plan.of``, and the precision policy
- ``training``          -- what a long run needs beyond Keras: checks before a run, caches, the data order of a
  resumed run, the models it builds (``keras.applications.ResNet50``, ``small_convnet``), the several-machines loop
- ``settings``          -- ``RunSettings``: what a run is, for ``train_on_folder`` and the command's options alike
- ``training_at_scale`` -- notebook 06's pipeline, callbacks and ``train_on_folder``, exported from its
  ``#| export`` cells (``course_tools.export``)
- ``train``             -- the command: ``python -m helpers.scale.train --help``

Nothing here is built from an exercise's answer.
"""
