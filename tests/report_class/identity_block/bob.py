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

    def conv_bn(t, n, size, pad):
        t = layers.Conv2D(n, (size, size), strides=(1, 1), padding=pad,
                          kernel_initializer=initializer(seed=0))(t)
        return layers.BatchNormalization(axis=3)(t, training=training)

    out = conv_bn(X, F1, 1, "valid")
    out = layers.Activation("relu")(out)
    out = conv_bn(out, F2, f, "same")
    out = layers.Activation("relu")(out)
    out = conv_bn(out, F3, 1, "valid")
    X = layers.Activation("relu")(layers.Add()([out, X]))
    return X