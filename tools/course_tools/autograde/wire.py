"""What crosses between the grader and a submission's worker: plain data only, never pickles or objects.

A message is a JSON header and, when it carries arrays, one ``.npz`` file (read with ``allow_pickle=False``),
each prefixed by its length. A value in a header is JSON, or one of these tagged forms:

- ``{"array": key}``: an array of the npz (``"tensor": true``: the worker passes it on as a backend tensor);
- ``{"tuple": [...]}``, ``{"list": [...]}``, ``{"dict": {...}}``;
- ``{"input": shape, "batch": size}``: a ``keras.Input`` of that shape (and batch size, or None), for a function
  that builds layers;
- ``{"layer_class": name}``: a class of ``keras.layers``, e.g. ``pool_layer=layers.MaxPooling2D``;
- ``{"initializer": config}``: a function that makes a Keras initializer, e.g. ``initializer=glorot_uniform``;
- ``{"model": json, "weights": [keys]}``: a Keras model, as Keras's own config and its weights; without
  ``"weights"``, its structure alone (the model built from it has freshly drawn weights);
- ``{"object": type name}``: anything else a student's function returned, for the check's message.

A model comes back through ``keras.models.model_from_json`` in safe mode, after ``check_model_config`` has
refused anything but Keras's own layers, operations and initializers.
"""

import io
import json
import re
import struct
import zipfile

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import numpy as np

from helpers.checks.core import signature

HEADER_LIMIT = 16 * 2**20
ARRAYS_LIMIT = 512 * 2**20  # ResNet-50's weights at 64x64 are about 100 MB
LAYER_LIMIT = 2000  # ResNet-50 has 177 layers; a model far larger is a loop gone wrong, not worth building
# Four times the largest model a check rebuilds (VGG-16 at 64x64 with 10 classes: 39,928,522 parameters).
PARAMS_LIMIT = 160_000_000
DEPTH_LIMIT = 64  # nesting of a header or a model's config: a functional model's is about 10 deep
# The most any layer of the course has (VGG-16's 4,096 units, 7x7 kernels): a value past them builds weights no
# exercise needs (Dense(14000) after a large Flatten grew the judge to 21 GB).
CONFIG_LIMITS = {"units": 4096, "filters": 4096, "kernel_size": 11, "pool_size": 8, "strides": 8, "padding": 16}
# What a returned model may be built from: the layers, operations, initializers and activations that the course's
# exercises and their correct alternatives use (tests/test_autograde.py grades each of them through the wire), and
# nothing else, whatever Keras adds or keeps in its modules. (module, class name); None: the module is not written.
LAYERS = {
    "Activation", "Add", "Average", "AveragePooling2D", "BatchNormalization", "Concatenate", "Conv2D", "Cropping2D",
    "Dense", "Dropout", "Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Identity", "InputLayer",
    "LeakyReLU", "MaxPooling2D", "Maximum", "Multiply", "ReLU", "Reshape", "Softmax", "Subtract", "ZeroPadding2D",
}
INITIALIZERS = {
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Ones",
    "RandomNormal", "RandomUniform", "TruncatedNormal", "VarianceScaling", "Zeros",
}
OPERATIONS = {  # keras.ops on symbolic tensors, e.g. `X + X_shortcut` or ops.pad in a zero-padding shortcut
    "keras.src.ops.numpy": {
        "Abs", "Add", "Average", "Concatenate", "Divide", "Einsum", "Exp", "ExpandDims", "GetItem", "Log", "Matmul",
        "Maximum", "Mean", "Minimum", "Multiply", "Negative", "Pad", "Power", "Reshape", "Sqrt", "Square", "Squeeze",
        "Stack", "Subtract", "Sum", "Tanh", "Tensordot", "Transpose", "TrueDivide", "Zeros", "ZerosLike", "Dot",
    },
    "keras.src.ops.nn": {
        "AveragePool", "Conv", "Elu", "Gelu", "LeakyRelu", "MaxPool", "Relu", "Relu6", "Selu", "Sigmoid", "Silu",
        "Softmax",
    },
    "keras.src.ops.core": {"Cast"},
}
ALLOWED = (
    {("keras.layers", name) for name in LAYERS}
    | {("keras.initializers", name) for name in INITIALIZERS}
    | {(module, name) for module, names in OPERATIONS.items() for name in names}
    | {("keras.src.activations.activations", "ReLU"), ("keras", "DTypePolicy")}
    | {(module, model) for module in ("keras", "keras.src.models.functional", "keras.src.models.sequential")
       for model in ("Functional", "Sequential")}
    | {(None, name) for name in ("__keras_tensor__", "__slice__", "__ellipsis__", "__tuple__", "__numpy__")}
)
ACTIVATIONS = {"elu", "gelu", "leaky_relu", "linear", "relu", "relu6", "selu", "sigmoid", "silu", "softmax", "swish",
               "tanh"}
ACTIVATION_MODULES = {"keras.activations", "keras.src.activations.activations"}

READABLE_HINT = "build it from Keras's own layers and keras.ops, as the course does."


class WireError(ValueError):
    """A message that is not what the protocol allows: too large, malformed, or naming code."""


def send(stream, header: dict, arrays: dict | None = None) -> None:
    body = json.dumps(header).encode()
    blob = b""
    if arrays:
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        blob = buffer.getvalue()
    stream.write(struct.pack(">QQ", len(body), len(blob)) + body + blob)
    stream.flush()


def receive(stream) -> tuple[dict, dict]:
    """(header, arrays); EOFError when the other side has gone, WireError when it broke the protocol."""
    sizes = _read(stream, 16)
    header_size, blob_size = struct.unpack(">QQ", sizes)
    if header_size > HEADER_LIMIT or blob_size > ARRAYS_LIMIT:
        raise WireError(f"a message of {header_size + blob_size:,} bytes, over the limit")
    try:
        header = json.loads(_read(stream, header_size))
    except (ValueError, RecursionError) as err:  # RecursionError: a document nested thousands deep
        raise WireError(f"a header that is not JSON: {str(err)[:200]}") from None
    if not isinstance(header, dict):
        raise WireError("a header that is not a JSON object")
    _check_depth(header)
    arrays = {}
    if blob_size:
        try:
            with np.load(io.BytesIO(_read(stream, blob_size)), allow_pickle=False) as npz:
                # np.load inflates compressed members: 1.5 MB of npz became gigabytes. Their sizes come first.
                inflated = sum(info.file_size for info in npz.zip.infolist())
                if inflated > ARRAYS_LIMIT:
                    raise WireError(f"arrays of {inflated:,} bytes once inflated, over the limit")
                arrays = {key: npz[key] for key in npz.files}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as err:
            raise WireError(f"arrays that are not a plain npz file: {str(err)[:200]}") from None
    return header, arrays


def _check_depth(value) -> None:
    """WireError for a value nested deeper than DEPTH_LIMIT (decoding it would recurse that deep)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > DEPTH_LIMIT:
            raise WireError(f"a message nested more than {DEPTH_LIMIT} deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _read(stream, size: int) -> bytes:
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the connection")
    return data


class Encoder:
    """Turns values into header JSON, collecting their arrays for the npz.

    Args:
        factories: encode a function that makes an initializer by calling it: the grader's arguments only, never
            what a student's function returned.
        weights: encode a model with its weights; False sends its structure alone.
    """

    def __init__(self, factories: bool = False, weights: bool = True):
        self.arrays: dict[str, np.ndarray] = {}
        self.factories, self.weights = factories, weights

    def _array(self, value) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.asarray(keras.ops.convert_to_numpy(value))
        return key

    def encode(self, value):
        if value is None or type(value) in (bool, int, float, str):
            return value
        if isinstance(value, (tuple, list)):
            return {type(value).__name__: [self.encode(v) for v in value]}
        if isinstance(value, dict) and all(type(k) is str for k in value):
            return {"dict": {k: self.encode(v) for k, v in value.items()}}
        if isinstance(value, keras.KerasTensor):
            return {"input": list(value.shape[1:]), "dtype": value.dtype, "batch": value.shape[0]}
        if isinstance(value, type) and issubclass(value, keras.layers.Layer):
            return {"layer_class": value.__name__}
        if isinstance(value, keras.Model):
            if not self.weights:
                return {"model": value.to_json()}
            return {"model": value.to_json(), "weights": [self._array(w) for w in value.get_weights()]}
        if isinstance(value, (np.ndarray, np.generic)) or keras.ops.is_tensor(value):
            return {"array": self._array(value), "tensor": keras.ops.is_tensor(value)}
        if self.factories and callable(value):  # e.g. initializer=glorot_uniform, as the course's blocks take
            made = value(seed=0)
            if isinstance(made, keras.initializers.Initializer):
                return {"initializer": keras.initializers.serialize(made)}
        return {"object": type(value).__name__}


def decode(value, arrays: dict, make_input=keras.Input):
    """The value a header describes. ``make_input`` makes what ``{"input": ...}`` stands for."""
    if not isinstance(value, dict):
        if isinstance(value, list):
            raise WireError("a bare JSON list")
        return value
    if len(value) == 1 and ("tuple" in value or "list" in value):
        items = [decode(v, arrays, make_input) for v in next(iter(value.values()))]
        return tuple(items) if "tuple" in value else items
    if "dict" in value:
        return {str(k): decode(v, arrays, make_input) for k, v in value["dict"].items()}
    if "array" in value:
        array = _lookup(arrays, value["array"])
        if array.ndim == 0:
            return array[()]  # a NumPy scalar, as np.int64 from a NumPy computation
        return keras.ops.convert_to_tensor(array) if value.get("tensor") else array
    if "input" in value:
        batch = value.get("batch")
        if batch is not None and (type(batch) is not int or not 0 < batch <= 1024):
            raise WireError(f"an input's batch size is {batch!r}, not a number from 1 to 1024")
        return make_input(tuple(value["input"]), dtype=value.get("dtype"), batch_size=batch)
    if "layer_class" in value:
        layer = getattr(keras.layers, str(value["layer_class"]), None)
        if not (isinstance(layer, type) and issubclass(layer, keras.layers.Layer)):
            raise WireError(f"no Keras layer is called {value['layer_class']!r}")
        return layer
    if "initializer" in value:
        check_model_config(value["initializer"])
        return InitializerFactory(value["initializer"])
    if "model" in value:
        return load_model(value, arrays)
    if "object" in value:
        return Returned(str(value["object"]))()
    raise WireError(f"an unknown value: {sorted(value)}")


def _lookup(arrays: dict, key) -> np.ndarray:
    if key not in arrays:
        raise WireError(f"array {key!r} is not in the message")
    return arrays[key]


class InitializerFactory:
    """``initializer(seed=0)`` as the course's blocks call it, making the initializer the check passed.

    Given to Keras uncalled (``kernel_initializer=initializer``), it is called with the kernel's shape: it
    notes that in ``uncalled`` and fills the kernel all the same, so that the check can say so.
    """

    def __init__(self, config):
        self.config = config
        self.uncalled = False
        self.calls: list[str] = []  # how the student's code called it (``core.signature``), e.g. "seed=0"

    def __call__(self, *args, **kwargs):
        made = keras.initializers.deserialize(self.config)
        if args and isinstance(args[0], (tuple, list)):
            self.uncalled = True
            return made(args[0], dtype=kwargs.get("dtype"))
        self.calls.append(signature(args, kwargs))
        return made


def Returned(name: str) -> type:
    """A stand-in class named as the type a student's function returned, e.g. ``dict``."""
    return type(re.sub(r"\W", "_", name)[:60] or "object", (), {})


def check_model_config(config) -> None:
    """WireError unless the config builds a model from ``ALLOWED`` objects alone, within the limits: as deep as
    ``DEPTH_LIMIT``, with at most ``LAYER_LIMIT`` layers and no layer larger than ``CONFIG_LIMITS`` allow."""
    stack, layers = [(config, 0)], 0
    while stack:
        item, depth = stack.pop()
        if depth > DEPTH_LIMIT:
            raise WireError(f"a model config nested more than {DEPTH_LIMIT} deep")
        if isinstance(item, list):
            stack.extend((value, depth + 1) for value in item)
        elif isinstance(item, dict):
            if "class_name" in item:
                _check_object(item)
                layers += item.get("class_name") in LAYERS
                _check_sizes(item.get("config"))
            stack.extend((value, depth + 1) for value in item.values())
    if layers > LAYER_LIMIT:
        raise WireError(f"a model of {layers:,} layers, more than the {LAYER_LIMIT:,} a check builds")


def _check_object(item: dict) -> None:
    module, name, registered = item.get("module"), item.get("class_name"), item.get("registered_name")
    if name == "function":  # an activation given by name, e.g. activation="relu"
        if module in ACTIVATION_MODULES and item.get("config") in ACTIVATIONS and registered in (None, item["config"]):
            return
        raise WireError(f"the model names the function {module}.{item.get('config')}, which is not an activation "
                        "the course uses")
    if (module, name) not in ALLOWED or registered not in (None, name):
        raise WireError(f"the model names {module}.{name}, which is not one of the Keras layers the course uses")


def _check_sizes(config) -> None:
    if not isinstance(config, dict):
        return
    for key, limit in CONFIG_LIMITS.items():
        values, numbers = [config.get(key)], []
        while values:  # kernel_size=[7, 7], padding=[[3, 3], [3, 3]]
            value = values.pop()
            if isinstance(value, list):
                values.extend(value)
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                numbers.append(value)
        if any(abs(number) > limit for number in numbers):
            raise WireError(f"a layer with {key}={config[key]}, more than the course's largest ({limit})")


def load_model(value: dict, arrays: dict) -> keras.Model:
    try:
        config = json.loads(value["model"])
    except (TypeError, ValueError):
        raise WireError("a model whose config is not JSON") from None
    check_model_config(config)
    model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    if isinstance(model, keras.Model) and model.count_params() > PARAMS_LIMIT:
        raise WireError(f"a model of {model.count_params():,} parameters, more than the {PARAMS_LIMIT:,} a check "
                        "can need")
    if "weights" in value:
        model.set_weights([_lookup(arrays, key) for key in value["weights"]])
    return model
