"""The course's own code, exported from the solution notebooks (``helpers.export``; ``make exercises``).

- ``residual_blocks`` -- notebook 02: ``identity_block``, ``convolutional_block``, ``ResNet50``, ``small_resnet``
"""
