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
    c1, c2, c3 = filters[0], filters[1], filters[2]
    # shortcut branch
    sc = layers.Conv2D(filters=c3, kernel_size=1, strides=s, padding="valid", kernel_initializer=initializer(seed=0))(X)
    sc = layers.BatchNormalization(axis=-1)(sc, training=training)

    # three convolutions
    h1 = layers.Conv2D(filters=c1, kernel_size=1, strides=s, padding="valid", kernel_initializer=initializer(seed=0))(X)
    h1 = layers.BatchNormalization(axis=-1)(h1, training=training)
    h1 = layers.ReLU()(h1)

    h2 = layers.Conv2D(filters=c2, kernel_size=f, padding="same", kernel_initializer=initializer(seed=0))(h1)
    h2 = layers.BatchNormalization(axis=-1)(h2, training=training)
    h2 = layers.ReLU()(h2)

    h3 = layers.Conv2D(filters=c3, kernel_size=1, padding="valid", kernel_initializer=initializer(seed=0))(h2)
    h3 = layers.BatchNormalization(axis=-1)(h3, training=training)
    X = layers.ReLU()(layers.add([h3, sc]))
    return X