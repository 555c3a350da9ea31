def ResNet50(input_shape=(64, 64, 3), classes=6):
    """ResNet-50 as the course builds it: stem, four stages of residual blocks, average pool and softmax.

    Arguments:
    input_shape -- shape of the images of the dataset
    classes -- integer, number of classes

    Returns:
    model -- a keras.Model
    """
    X_input = keras.Input(input_shape)
    stages = [
        {"filters": [64, 64, 256], "blocks": 3, "stride": 1},
        {"filters": [128, 128, 512], "blocks": 4, "stride": 2},
        {"filters": [256, 256, 1024], "blocks": 6, "stride": 2},
        {"filters": [512, 512, 2048], "blocks": 3, "stride": 2},
    ]
    X = layers.ZeroPadding2D(padding=3)(X_input)
    X = layers.Conv2D(filters=64, kernel_size=7, strides=2, kernel_initializer=glorot_uniform(seed=0))(X)
    X = layers.BatchNormalization(axis=-1)(X)
    X = layers.ReLU()(X)
    X = layers.MaxPool2D(pool_size=3, strides=2)(X)
    for stage in stages:
        X = convolutional_block(X, 3, stage["filters"], s=stage["stride"])
        for i in range(1, stage["blocks"]):
            X = identity_block(X, 3, stage["filters"])
    X = layers.AveragePooling2D(pool_size=2)(X)
    X = layers.Flatten()(X)
    X = layers.Dense(units=classes, activation="softmax", kernel_initializer=glorot_uniform(seed=0))(X)
    return keras.Model(inputs=X_input, outputs=X)