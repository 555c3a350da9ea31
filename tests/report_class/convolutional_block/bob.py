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

    def conv_bn(t, n, size, stride, pad):
        t = layers.Conv2D(n, (size, size), strides=(stride, stride), padding=pad,
                          kernel_initializer=initializer(seed=0))(t)
        return layers.BatchNormalization(axis=3)(t, training=training)

    main = layers.Activation("relu")(conv_bn(X, F1, 1, s, "valid"))
    main = layers.Activation("relu")(conv_bn(main, F2, f, 1, "same"))
    main = conv_bn(main, F3, 1, 1, "valid")
    side = conv_bn(X, F3, 1, s, "valid")
    X = layers.Activation("relu")(layers.Add()([main, side]))
    return X