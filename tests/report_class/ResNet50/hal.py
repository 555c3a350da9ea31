def ResNet50(input_shape=(64, 64, 3), classes=6):
    """ResNet-50 as the course builds it: stem, four stages of residual blocks, average pool and softmax.

    Arguments:
    input_shape -- shape of the images of the dataset
    classes -- integer, number of classes

    Returns:
    model -- a keras.Model
    """
    X_input = keras.Input(input_shape)
    n_blocks = [3, 4, 6, 3]
    base_filters = [64, 128, 256, 512]   # bottleneck width per stage
    stem_layers = keras.Sequential([
        layers.ZeroPadding2D((3, 3)),
        layers.Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer=glorot_uniform(seed=0)),
        layers.BatchNormalization(axis=3),
        layers.Activation("relu"),
        layers.MaxPooling2D((3, 3), strides=(2, 2)),
    ])

    X = stem_layers(X_input)
    for k, (width, depth) in enumerate(zip(base_filters, n_blocks)):
        st = 1 if k == 0 else 2
        fl = [width, width, 4 * width]
        X = convolutional_block(X, f=3, filters=fl, s=st)
        for _ in range(depth - 1):
            X = identity_block(X, f=3, filters=fl)

    X = layers.AveragePooling2D((2, 2))(X)
    X = layers.Flatten()(X)
    X = layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))(X)
    return keras.Model(inputs=X_input, outputs=X)