def ResNet50(input_shape=(64, 64, 3), classes=6):
    """ResNet-50 as the course builds it: stem, four stages of residual blocks, average pool and softmax.

    Arguments:
    input_shape -- shape of the images of the dataset
    classes -- integer, number of classes

    Returns:
    model -- a keras.Model
    """
    X_input = keras.Input(input_shape)
    widths = [64, 128, 256, 512]
    depths = [3, 4, 6, 3]
    stem = keras.Sequential([
        layers.ZeroPadding2D((3, 3)),
        layers.Conv2D(64, (7, 7), strides=(2, 2), kernel_initializer=glorot_uniform(seed=0)),
        layers.BatchNormalization(axis=3),
        layers.Activation("relu"),
        layers.MaxPooling2D((3, 3), strides=(2, 2)),
    ])
    X = stem(X_input)
    for stage_idx, (w, d) in enumerate(zip(widths, depths)):
        f_list = [w, w, 4 * w]
        stride = 1 if stage_idx == 0 else 2
        X = convolutional_block(X, f=3, filters=f_list, s=stride)
        for _ in range(d - 1):
            X = identity_block(X, f=3, filters=f_list)
    X = layers.AveragePooling2D((2, 2))(X)
    X = layers.Flatten()(X)
    X = layers.Dense(classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))(X)
    return keras.Model(inputs=X_input, outputs=X)