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
    f1, f2, f3 = filters[0], filters[1], filters[2]
    # main path
    a = layers.Conv2D(filters=f1, kernel_size=1, strides=s, padding="valid", kernel_initializer=initializer(seed=0))(X)
    a = layers.BatchNormalization(axis=-1)(a, training=training)
    a = layers.ReLU()(a)
    b = layers.Conv2D(filters=f2, kernel_size=f, padding="same", kernel_initializer=initializer(seed=0))(a)
    b = layers.BatchNormalization(axis=-1)(b, training=training)
    b = layers.ReLU()(b)
    c = layers.Conv2D(filters=f3, kernel_size=1, padding="valid", kernel_initializer=initializer(seed=0))(b)
    c = layers.BatchNormalization(axis=-1)(c, training=training)
    # projection shortcut
    proj = layers.Conv2D(filters=f3, kernel_size=1, strides=s, padding="valid", kernel_initializer=initializer(seed=0))(X)
    proj = layers.BatchNormalization(axis=-1)(proj, training=training)
    X = layers.ReLU()(layers.add([c, proj]))
    return X