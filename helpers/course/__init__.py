"""The course's own code, exported from the solution notebooks (``helpers.export``; ``make exercises``).

- ``residual_blocks`` -- notebook 02: ``identity_block``, ``convolutional_block``, ``ResNet50``, ``small_resnet``
- ``training_at_scale`` -- notebook 06: ``augmentation``, ``image_stream``, ``training_callbacks``,
  ``train_on_folder``
"""
