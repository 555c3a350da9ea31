"""What every check is made of: the failure a student sees, the success line, calling the student's code.

A check either prints ``✔ bottleneck: all checks passed.`` or stops with one red line and a hint::

    ✘ bottleneck: layer 2 (Conv2D): expected padding='same', got padding='valid'.
      Hint: 'same' padding keeps height and width; 'valid' shrinks them by kernel size - 1.
"""

import re
import traceback
import types

import helpers.startup  # noqa: F401  (first: Keras starts without TensorFlow's start-up lines)

import keras
import numpy as np

# An error raised by the code of these modules is a tensor operation that failed on concrete values; its
# wording differs from backend to backend (TensorFlow's carries op and device names), so a student sees the
# line of their code that failed instead. Keras's own symbolic checks (layers, shapes) keep their message.
BACKEND_MODULES = ("tensorflow", "jax", "jaxlib", "torch") + tuple(
    f"keras.src.backend.{name}" for name in ("tensorflow", "jax", "torch", "numpy", "openvino")
)
# The likely cause when a Keras layer or operation fails, by what it is (see ``operation_hint``).
WINDOW_HINT = (
    "the tensor this {kind} gets does not fit its window: most likely a stride or pool size upstream shrinks "
    "height and width too much (or the layer gets a tensor of another rank). Compare each layer's output shape "
    "with the description above the exercise."
)
PAD_HINT = (
    "ops.pad takes one [before, after] pair per axis of the tensor: four for (batch, height, width, channels); "
    "[[0, 0], [0, 0], [0, 0], [0, n]] adds n zero channels and nothing else."
)
OPERATION_HINT = (
    "print the shape of the tensor you pass to {kind} (`print(X.shape)`) just before that line, and compare it "
    "with the description above the exercise."
)
DEEP_HINT = (
    "the model is far deeper than the description: a loop runs far more often than it should. Check the "
    "arguments of each call, and their order."
)
BIAS_ONLY_ADDS = (  # for the counting exercises
    "this exercise counts multiplications only: a bias is added to each output value, not multiplied, so it "
    "adds none."
)
OVERFLOW = (  # for the counting exercises: a large layer's count passes 2**31
    "the product overflowed a 32-bit integer (np.int32, or an int32 tensor), which wraps around past "
    "2,147,483,647: multiply Python ints, e.g. int(height) * int(width) * ..."
)
REUSE_HINT = (
    "a network calls this block many times in one model, where every layer name must be unique: leave out "
    "name=..., or make each name from the block's arguments."
)
NUMPY_HINT = (
    "use keras.ops (ops.pad, ops.matmul, ...): it runs on a symbolic keras.Input and on every backend's tensors, as "
    "a layer's computation must; a NumPy function needs actual numbers."
)
OWN_CODE_HINT = "run your function on its own in a new cell to see the full traceback."
UNKNOWN_SIZES = ("n_H", "n_W", "n_C")


class CheckFailed(AssertionError):
    """A check found a mistake. Jupyter shows just the message and the hint, without a traceback.

    ``operation`` is the kind of the Keras layer or operation that raised, when the student's code failed in
    one (``"Add"``): ``with_hints`` reads it, and it travels as plain text where the code ran elsewhere.
    ``kind`` names the mistake for an instructor's report of a whole class, the same whatever the sizes in the
    message: ``"missing_layer"``, ``"filters"`` (a setting), ``"known:each_output_value_also_sums"``.
    """

    def __init__(
        self, what: str, problem: str, hint: str = "", operation: str | None = None, *, kind: str
    ):
        self.what, self.problem, self.hint, self.operation, self.kind = what, problem, hint, operation, kind
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.what}: {self.problem}" + (f"\n  Hint: {self.hint}" if self.hint else "")

    def _render_traceback_(self) -> list[str]:  # IPython calls this instead of printing a traceback
        return [f"\x1b[31m✘ {self}\x1b[0m"]


def passed(what: str) -> None:
    """Print the uniform success line."""
    print(f"✔ {what}: all checks passed.")


class RemoteFunction:
    """A student's function that runs in another process, where the check cannot see it (``course_tools.autograde``):
    the check hands it each call, the other process answers with plain data, and the check judges the answer in
    its own process. ``answer(kind, what, ...)`` does what ``kind`` (``"call_student"``, ``"build_model"`` or
    ``"call_model_function"``), the function of this module of that name, would do with the function itself."""

    def answer(self, kind: str, what: str, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not say how it answers")


def signature(args: tuple, kwargs: dict) -> str:
    """The arguments of a call as written, e.g. ``"seed=0"`` or ``"0"``: how a student called a function the
    check handed over (the course's ``initializer``)."""
    return ", ".join([*map(repr, args), *(f"{key}={value!r}" for key, value in sorted(kwargs.items()))])


def call_student(what: str, fn, *args, **kwargs):
    """Call a student's function; turn whatever it raises into a CheckFailed that says what happened
    and at which line of the student's own code."""
    if isinstance(fn, RemoteFunction):
        return fn.answer("call_student", what, *args, **kwargs)
    filtering = keras.config.is_traceback_filtering_enabled()
    # Unfiltered, an error inside a layer keeps its own message (Keras would wrap it as "Exception encountered
    # when calling ...", the reason further down) and the frames that say which layer raised it.
    keras.config.disable_traceback_filtering()
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            what,
            "still raises NotImplementedError.",
            "replace `raise NotImplementedError()` under `# YOUR CODE HERE` with your code, "
            "run that cell, then run this check again.", kind="not_attempted",
        ) from None
    except CheckFailed:
        raise
    except Exception as err:  # noqa: BLE001 -- any error of the student's is reported, not hidden
        if isinstance(err, TypeError) and err.__traceback__.tb_next is None:  # raised by the call: other arguments
            raise CheckFailed(
                what, f"cannot be called so: {err}.",
                "keep the signature the exercise gives, its defaults included: the check calls your function with "
                "the arguments it names.", kind="signature",
            ) from None
        operation = failed_operation(err)
        kind = type(operation).__name__ if operation is not None else None
        raise CheckFailed(what, *_describe(err, student_line(fn, err)), operation=kind, kind="raises_error") from err
    finally:
        if filtering:
            keras.config.enable_traceback_filtering()


def called(what: str, tensor=None, **arguments) -> str:
    """How a check calls the student's function, for the messages of each case, e.g.
    ``identity_block(a tensor of shape (m, 6, 6, 6), f=5, filters=(2, 3, 6))``.

    Args:
        tensor: the shape of the input tensor without the batch axis; None for height or width left open.
    """
    shown = [f"{key}={_shown(value)}" for key, value in arguments.items()]
    if tensor is not None:
        sizes = [UNKNOWN_SIZES[i] if n is None else str(n) for i, n in enumerate(tensor)]
        shown.insert(0, f"a tensor of shape (m, {', '.join(sizes)})")
    return f"{what}({', '.join(shown)})"


def _shown(value) -> str:
    if isinstance(value, type) and issubclass(value, keras.layers.Layer):
        return f"layers.{value.__name__}"  # e.g. pool_layer=layers.MaxPooling2D
    return repr(value)


def keras_named(name: str, kind: str) -> bool:
    """Whether ``name`` is one Keras made up for a layer or operation of class ``kind``: its snake case, then
    ``_1``, ``_2`` ... as more are made (``conv2d_60``), which says nothing to a student."""
    snake = re.sub("([a-z])([A-Z])", r"\1_\2", re.sub("(.)([A-Z][a-z]+)", r"\1_\2", kind)).lower()
    return re.fullmatch(rf"{re.escape(snake)}(_\d+)?", name) is not None


def build_model(what: str, fn, input_shape, *args, **kwargs) -> keras.Model:
    """Call ``fn(keras.Input(input_shape), *args, **kwargs)`` and wrap its output in a model."""
    if isinstance(fn, RemoteFunction):
        return fn.answer("build_model", what, input_shape, *args, **kwargs)
    inputs = keras.Input(input_shape)
    outputs = call_student(what, fn, inputs, *args, **kwargs)
    if outputs is None:
        raise CheckFailed(
            what, "returned None.", "end your function with `return` and the output tensor.",
            kind="returned_none",
        )
    if isinstance(outputs, (list, tuple)):
        raise CheckFailed(
            what, f"returned a {type(outputs).__name__} of {len(outputs)}, expected one tensor.",
            "combine them into the one tensor the exercise asks for (e.g. layers.Concatenate or layers.Add), and "
            "return that.", kind="returned_several",
        )  # fmt: skip
    if not isinstance(outputs, keras.KerasTensor):
        raise CheckFailed(
            what,
            f"returned a {type(outputs).__name__}, expected the output tensor of your last layer.",
            "call each layer on a tensor, e.g. `X = layers.ReLU()(X)`, and return X.", kind="not_a_tensor",
        )
    try:
        return keras.Model(inputs, outputs)
    except RecursionError:  # Keras walks the graph recursively: some thousand layers deep is too deep
        raise CheckFailed(
            what, "returned a tensor too deep for Keras to make a model of.", DEEP_HINT, kind="too_deep"
        ) from None
    except Exception as err:  # noqa: BLE001 -- e.g. an output computed from a keras.Input of the student's own
        raise CheckFailed(
            what,
            f"returned a tensor Keras cannot make a model of: {_reason(err, None)}",
            "Keras gives its reason above; the usual ones are two layers of one name (leave out name=, or make "
            "each name unique) and an output computed from a keras.Input of your own instead of from the tensor "
            "your function is given.", kind="not_from_input",
        ) from err


def build_twice(what: str, fn, input_shape, *args, **kwargs) -> keras.Model:
    """``build_model`` with ``fn`` applied twice in a row, as a network that reuses a block does: a layer name
    written out then appears twice in one model, which Keras refuses."""
    if isinstance(fn, RemoteFunction):
        return fn.answer("build_twice", what, input_shape, *args, **kwargs)

    def twice(X, *a, **k):
        return call_student(what, fn, call_student(what, fn, X, *a, **k), *a, **k)

    return build_model(what, twice, input_shape, *args, **kwargs)


def check_reusable(what: str, fn, input_shape, *args, **kwargs) -> None:
    """A block a network calls many times must build twice in one model (``build_twice``)."""
    try:
        build_twice(what, fn, input_shape, *args, **kwargs)
    except CheckFailed as failure:
        raise CheckFailed(
            f"{what}, applied twice in one model", failure.problem, REUSE_HINT, kind="not_reusable"
        ) from None


def with_hints(what: str, hints: dict, call, *args, **kwargs):
    """``call(what, *args, **kwargs)``, e.g. ``build_model(what, fn, ...)``; when the student's code fails inside
    a Keras layer or operation of a kind in ``hints`` (``"Add"``, which ``+`` on tensors is too, or
    ``"Concatenate"``), that kind's hint replaces the general one: which step failed, without reading the
    error's text."""
    try:
        return call(what, *args, **kwargs)
    except CheckFailed as failure:
        hint = hints.get(failure.operation)
        if hint is None:
            raise
        raise CheckFailed(
            failure.what, failure.problem, hint, failure.operation, kind=failure.kind
        ) from failure.__cause__


def call_model_function(what: str, fn, *args, **kwargs) -> keras.Model:
    """Call a student's function that builds a whole model, e.g. ``LeNet5(input_shape=(28, 28, 3))``;
    check that it returned a ``keras.Model``. The model is there to be read layer by layer: in the grader its
    weights are not sent back, and the copy a check gets has weights of its own drawing."""
    if isinstance(fn, RemoteFunction):
        return fn.answer("call_model_function", what, *args, **kwargs)
    model = call_student(what, fn, *args, **kwargs)
    if not isinstance(model, keras.Model):
        raise CheckFailed(
            what,
            f"returned a {type(model).__name__}, expected a keras.Model.",
            "end your function with `return keras.Model(inputs, outputs)`.", kind="not_a_model",
        )
    if getattr(model, "inputs", None) is None:  # a subclassed model, or a Sequential one never given an input
        raise CheckFailed(
            what,
            f"returned a {type(model).__name__} without inputs, which cannot be read layer by layer.",
            "build it from an input: `inputs = keras.Input(input_shape)`, then the layers, then "
            "`return keras.Model(inputs, outputs)`.", kind="model_without_inputs",
        )
    given = kwargs.get("input_shape")
    built = getattr(model, "input_shape", None)
    if given is not None and isinstance(built, tuple) and tuple(built[1:]) != tuple(given):
        raise CheckFailed(
            what, f"builds its model on inputs of shape {tuple(built[1:])}, not on the input_shape it was given.",
            "make the model's input from the argument: `inputs = keras.Input(input_shape)`.",
            kind="input_shape_ignored",
        )  # fmt: skip
    return model


def build_and_compare(build, input_shape: tuple, compare, scale: int = 4) -> None:
    """``compare(build(input_shape), input_shape)``: ``build`` calls the student's model function, ``compare``
    raises CheckFailed at the first layer that departs from the description.

    When the model cannot be built, a stride or window upstream has most likely shrunk height and width below
    a later window; it is then built on a ``scale`` times larger input, so that ``compare`` names the layer
    that departs from the description rather than the later one that crashed.
    """
    try:
        model = build(input_shape)
    except CheckFailed as failure:
        larger = (input_shape[0] * scale, input_shape[1] * scale, *input_shape[2:])
        try:
            model = build(larger)
        except CheckFailed:
            raise failure from failure.__cause__
        try:
            compare(model, larger)
        except CheckFailed as departure:
            size = "x".join(map(str, input_shape))
            raise CheckFailed(
                failure.what,
                f"{departure.problem} Compared on {'x'.join(map(str, larger))}, as on {size} the model cannot be "
                f"built: {failure.problem}",
                departure.hint, kind=departure.kind,
            ) from failure.__cause__
        raise failure from failure.__cause__
    compare(model, input_shape)


def check_array(what: str, got, shape: tuple, dtype_kind: str = "f") -> np.ndarray:
    """Check the type and shape of a returned array or tensor; return it as a NumPy array."""
    if got is None:
        raise CheckFailed(
            what, "returned None.", "end your function with `return` and the result.",
            kind="returned_none",
        )
    if not hasattr(got, "shape") or not hasattr(got, "dtype"):
        raise CheckFailed(
            what, f"returned a {type(got).__name__}, expected an array or tensor.", "return the result of keras.ops.",
            kind="not_an_array",
        )
    try:
        array = keras.ops.convert_to_numpy(got)
    except Exception:  # noqa: BLE001 -- e.g. a symbolic KerasTensor, which has no values
        raise CheckFailed(
            what,
            f"returned a {type(got).__name__}, which has no values.",
            "compute on the arrays your function is given, with keras.ops; no keras.Input or layers here.",
            kind="symbolic_tensor",
        ) from None
    if tuple(array.shape) != tuple(shape):
        raise CheckFailed(
            what,
            f"returned shape {tuple(array.shape)}, expected {tuple(shape)}.",
            "check which axis you contract over and that you keep the batch and spatial axes.", kind="wrong_shape",
        )
    if array.dtype.kind not in dtype_kind:
        raise CheckFailed(
            what, f"returned dtype {array.dtype}.", "keep the computation in floating point.",
            kind="wrong_dtype",
        )
    return array


def check_close(what: str, got, expected, *, mistakes=None, atol: float = 1e-4, rtol: float = 1e-4) -> None:
    """Compare values; when they differ, say which typical mistake they match, if any.

    Args:
        mistakes: ``{hint: values that mistake would give}``, or a list of such values where it can come out
            in several ways; the first match becomes the hint.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape == expected.shape and np.allclose(got, expected, atol=atol, rtol=rtol):
        return
    for hint, values in (mistakes or {}).items():
        for wrong in map(np.asarray, _alternatives(values)):
            if got.shape == wrong.shape and np.allclose(got, wrong, atol=atol, rtol=rtol):
                raise CheckFailed(what, "returned wrong values.", hint, kind=mistake_kind(hint))
    if got.shape != expected.shape:
        raise CheckFailed(what, f"returned shape {got.shape}, expected {expected.shape}.", kind="wrong_shape")
    diff = np.abs(got - expected)
    index = np.unravel_index(np.argmax(diff), diff.shape)
    raise CheckFailed(
        what,
        f"returned wrong values: at index {tuple(int(i) for i in index)} got {got[index]:.6g}, "
        f"expected {expected[index]:.6g}.",
        "test your function on a tiny input you can work out by hand.", kind="wrong_values",
    )


def student_files(fn) -> set[str]:
    """The files the student's code lives in: that of ``fn`` and of every function defined beside it
    (a notebook gives each cell a file of its own, and ``ResNet50`` calls ``identity_block`` from another cell)."""
    fn = getattr(fn, "func", fn)  # functools.partial
    code = getattr(fn, "__code__", None)
    if code is None:
        return set()
    module = getattr(fn, "__module__", None)
    neighbours = [
        value.__code__.co_filename
        for value in getattr(fn, "__globals__", {}).values()
        if isinstance(value, types.FunctionType) and value.__module__ == module
    ]
    return {code.co_filename, *neighbours}


def student_line(fn, err: BaseException):
    """The deepest frame of ``err``'s traceback that runs the student's own code, or None."""
    files = student_files(fn)
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename in files and f.line]
    return frames[-1] if frames else None


def failed_operation(err: BaseException):
    """The innermost Keras layer or operation that was running when ``err`` was raised (the ``self`` of its
    frames, with ``x + y`` on Keras tensors an ``Add``), or None."""
    found, tb = None, err.__traceback__
    while tb is not None:
        candidate = tb.tb_frame.f_locals.get("self")
        if isinstance(candidate, keras.Operation):
            found = candidate
        tb = tb.tb_next
    return found


def operation_hint(operation) -> str:
    """The likely cause when a layer or operation fails: a window the tensor does not fit, pairs for ops.pad."""
    kind = type(operation).__name__
    if kind == "Pad":
        return PAD_HINT
    if hasattr(operation, "kernel_size") or hasattr(operation, "pool_size"):
        return WINDOW_HINT.format(kind=kind)
    return OPERATION_HINT.format(kind=kind)


def _describe(err: Exception, frame) -> tuple[str, str]:
    """(problem, hint) for an exception raised while running the student's code."""
    where = f" (in {frame.name}: `{frame.line}`)" if frame else ""
    operation = failed_operation(err)
    if isinstance(err, RecursionError) and operation is not None:  # Keras's graph walk, not the student's code
        return f"raised RecursionError: {_reason(err, None)}{where}", DEEP_HINT
    if _raised_in(err, BACKEND_MODULES):
        problem = f"an operation failed{where}." if frame else f"an operation failed ({type(err).__name__})."
        return problem, "check the shapes and types of the tensors at that line: print their .shape before it."
    if _passed_through(err, "numpy"):  # e.g. np.pad on a symbolic tensor, which Keras refuses to turn into numbers
        return f"raised {type(err).__name__} in NumPy: {_reason(err, None)}{where}", NUMPY_HINT
    hint = operation_hint(operation) if operation is not None else OWN_CODE_HINT
    return f"raised {type(err).__name__}: {_reason(err, operation)}{where}", hint


def _passed_through(err: Exception, root: str) -> bool:
    """Whether the code of module ``root`` (or of its submodules) was running when ``err`` was raised."""
    tb = err.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__", "")
        if name == root or name.startswith(root + "."):
            return True
        tb = tb.tb_next
    return False


def _raised_in(err: Exception, roots: tuple) -> bool:
    """Whether ``err`` comes from one of the modules ``roots`` (and their submodules): its type, or the code that
    raised it, e.g. a backend's tensor operation (``BACKEND_MODULES``)."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return any(
        name == root or name.startswith(root + ".")
        for name in (type(err).__module__, module)
        for root in roots
    )


def _reason(err: Exception, operation) -> str:
    """The first line of the message, where Keras states the reason; the failing layer's name there, if Keras
    made it up (``layer 'conv2d_2'``), replaced by its kind."""
    text = str(err).strip().splitlines()
    reason = text[0] if text else "(no message)"
    if operation is not None and keras_named(operation.name, type(operation).__name__):
        reason = re.sub(rf"\b{re.escape(operation.name)}\b", type(operation).__name__, reason)
    return reason


def check_count(what: str, call: str, got, expected: int, mistakes: dict, otherwise: str) -> None:
    """Check a whole number a student's counting function returned, e.g. multiplications.

    Args:
        call: how the function was called, e.g. ``"branch_mults(28, 28, 192, 5, 32)"``, for the message.
        mistakes: ``{hint: the number that mistake gives}``, or a list of numbers where it can come out in
            several ways; the first match becomes the hint.
        otherwise: the hint when no typical mistake gives ``got``.
    """
    if got is None:
        raise CheckFailed(
            what, f"{call} returned None.", "end your function with `return` and the count.",
            kind="returned_none",
        )
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        raise CheckFailed(
            what,
            f"{call} returned a {type(got).__name__}, expected an int.",
            "multiply integers; avoid `/` and floats.", kind="not_an_int",
        )
    if got != expected:
        mistakes = {**mistakes, OVERFLOW: (expected + 2**31) % 2**32 - 2**31}
        hint = next((hint for hint, wrong in mistakes.items() if got in _alternatives(wrong)), otherwise)
        raise CheckFailed(
            what, f"{call} returned {got:,}, expected {expected:,}.", hint,
            kind=mistake_kind(hint) if hint != otherwise else "wrong_count",
        )


def mistake_kind(hint: str) -> str:
    """The kind of a typical mistake that a check recognised by its values (``check_close``, ``check_count``):
    ``"known:"`` and the first words of its hint, which name it, e.g. ``"known:count_multiplications_only_not"``."""
    return "known:" + "_".join(re.findall(r"[a-z0-9]+", hint.lower())[:5])


def _alternatives(wrong) -> list:
    """The values of a typical mistake: one, or a list of the ways it can come out."""
    return wrong if isinstance(wrong, list) else [wrong]
