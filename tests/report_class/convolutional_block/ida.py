def convolutional_block(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    """The convolutional block: like the identity block, with stride s and a 1x1 conv + batch norm shortcut.

    Arguments:
    X -- input tensor of shape (m, n_H_prev, n_W_prev, n_C_prev)
    f -- integer, the window size of the middle convolution
    filters -- [F1, F2, F3], the number of filters of the three convolutions
    s -- integer, the stride of the first convolution and of the shortcut's convolution
    training -- True: batch norm uses the batch's statistics; False: its moving averages
    initializer -- makes the conv kernels, called as initializer(seed=0)

    Returns:
    X -- output of the block, shape (m, ceil(n_H_prev / s), ceil(n_W_prev / s), F3)
    """
    F1, F2, F3 = filters
    shortcut = X
    specs = [(F1, 1, s, "valid"), (F2, f, 1, "same"), (F3, 1, 1, "valid")]
    for i, (n_filters, size, stride, pad) in enumerate(specs):
        X = layers.Conv2D(n_filters, kernel_size=size, strides=stride, padding=pad,
                          kernel_initializer=initializer(seed=0))(X)
        X = layers.BatchNormalization(axis=3)(X, training=training)
        if i < 2:
            X = layers.Activation("relu")(X)
    shortcut = layers.Conv2D(F3, kernel_size=1, strides=s, padding="valid",
                             kernel_initializer=initializer(seed=0))(shortcut)
    shortcut = layers.BatchNormalization(axis=3)(shortcut, training=training)
    X = layers.Add()([X, shortcut])
    X = layers.Activation("relu")(X)
    return X