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
    F1, F2, F3 = filters
    X_shortcut = X

    X = layers.Conv2D(filters=F1, kernel_size=1, strides=(1, 1), padding='valid', kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation('relu')(X)

    X = layers.Conv2D(filters=F2, kernel_size=f, strides=(1, 1), padding='same', kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation('relu')(X)

    X = layers.Conv2D(filters=F3, kernel_size=1, strides=(1, 1), padding='valid', kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)

    X = layers.Add()([X, X_shortcut])
    X = layers.Activation('relu')(X)
    return X