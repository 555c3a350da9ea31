def identity_block(X, f, filters, training=True, initializer=random_uniform):
    """The identity block: three conv/batch-norm components, the input added back before the last ReLU.

    Arguments:
    X -- input tensor of shape (m, n_H_prev, n_W_prev, n_C_prev), with n_C_prev == F3
    f -- integer, the window size of the middle convolution
    filters -- [F1, F2, F3], the number of filters of the three convolutions
    training -- True: batch norm uses the batch's statistics; False: its moving averages
    initializer -- makes the conv kernels, called as initializer(seed=0)

    Returns:
    X -- output of the block, shape (m, n_H_prev, n_W_prev, F3)
    """
    f1, f2, f3 = filters[0], filters[1], filters[2]
    x_in = X
    # first component
    a = layers.Conv2D(filters=f1, kernel_size=1, padding="valid", kernel_initializer=initializer(seed=0))(X)
    a = layers.BatchNormalization(axis=-1)(a, training=training)
    a = layers.ReLU()(a)
    # second component
    b = layers.Conv2D(filters=f2, kernel_size=f, padding="same", kernel_initializer=initializer(seed=0))(a)
    b = layers.BatchNormalization(axis=-1)(b, training=training)
    b = layers.ReLU()(b)
    # third component, no ReLU before the addition
    c = layers.Conv2D(filters=f3, kernel_size=1, padding="valid", kernel_initializer=initializer(seed=0))(b)
    c = layers.BatchNormalization(axis=-1)(c, training=training)
    X = layers.ReLU()(layers.add([c, x_in]))
    return X