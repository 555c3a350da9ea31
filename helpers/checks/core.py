"""What every check is made of: the failure a student sees, the success line, calling the student's code.

A check either prints ``✔ bottleneck: all checks passed.`` or stops with one red line and a hint::

    ✘ bottleneck: layer 2 (conv2d_1): expected padding='same', got padding='valid'.
      Hint: 'same' padding keeps height and width; 'valid' shrinks them by kernel size - 1.
"""

import traceback
import types

import keras
import numpy as np

# An error raised by the code of these modules is a tensor operation that failed on concrete values; its
# wording differs from backend to backend (TensorFlow's carries op and device names), so a student sees the
# line of their code that failed instead. Keras's own symbolic checks (layers, shapes) keep their message.
BACKEND_MODULES = ("tensorflow", "jax", "jaxlib", "torch") + tuple(
    f"keras.src.backend.{name}" for name in ("tensorflow", "jax", "torch", "numpy", "openvino")
)


class CheckFailed(AssertionError):
    """A check found a mistake. Jupyter shows just the message and the hint, without a traceback."""

    def __init__(self, what: str, problem: str, hint: str = ""):
        self.what, self.problem, self.hint = what, problem, hint
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.what}: {self.problem}" + (f"\n  Hint: {self.hint}" if self.hint else "")

    def _render_traceback_(self) -> list[str]:  # IPython calls this instead of printing a traceback
        return [f"\x1b[31m✘ {self}\x1b[0m"]


def passed(what: str) -> None:
    """Print the uniform success line."""
    print(f"✔ {what}: all checks passed.")


def call_student(what: str, fn, *args, **kwargs):
    """Call a student's function; turn whatever it raises into a CheckFailed that says what happened
    and at which line of the student's own code."""
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(
            what,
            "still raises NotImplementedError.",
            "replace `raise NotImplementedError()` under `# YOUR CODE HERE` with your code, "
            "run that cell, then run this check again.",
        ) from None
    except CheckFailed:
        raise
    except Exception as err:  # noqa: BLE001 -- any error of the student's is reported, not hidden
        raise CheckFailed(what, *_describe(err, student_line(fn, err))) from err


def build_model(what: str, fn, input_shape, *args, **kwargs) -> keras.Model:
    """Call ``fn(keras.Input(input_shape), *args, **kwargs)`` and wrap its output in a model."""
    inputs = keras.Input(input_shape)
    outputs = call_student(what, fn, inputs, *args, **kwargs)
    if outputs is None:
        raise CheckFailed(what, "returned None.", "end your function with `return` and the output tensor.")
    if not isinstance(outputs, keras.KerasTensor):
        raise CheckFailed(
            what,
            f"returned a {type(outputs).__name__}, expected the output tensor of your last layer.",
            "call each layer on a tensor, e.g. `X = layers.ReLU()(X)`, and return X.",
        )
    return keras.Model(inputs, outputs)


def with_line_hints(what: str, fn, line_hints: dict, call, *args, **kwargs):
    """``call(what, *args, **kwargs)``, e.g. ``build_model(what, fn, ...)``; when the student's code fails at
    a line that contains a key of ``line_hints`` (e.g. ``"add"`` or ``"concatenate"``, any case), that
    key's hint replaces the general one: the line says which step failed, without reading the error's text."""
    try:
        return call(what, *args, **kwargs)
    except CheckFailed as failure:
        frame = student_line(fn, failure.__cause__) if failure.__cause__ is not None else None
        line = frame.line.lower() if frame is not None else ""
        hint = next((hint for key, hint in line_hints.items() if key in line), None)
        if hint is None:
            raise
        raise CheckFailed(what, failure.problem, hint) from failure.__cause__


def call_model_function(what: str, fn, *args, **kwargs) -> keras.Model:
    """Call a student's function that builds a whole model, e.g. ``LeNet5(input_shape=(28, 28, 3))``;
    check that it returned a ``keras.Model``."""
    model = call_student(what, fn, *args, **kwargs)
    if not isinstance(model, keras.Model):
        raise CheckFailed(
            what,
            f"returned a {type(model).__name__}, expected a keras.Model.",
            "end your function with `return keras.Model(inputs, outputs)`.",
        )
    return model


def check_array(what: str, got, shape: tuple, dtype_kind: str = "f") -> np.ndarray:
    """Check the type and shape of a returned array or tensor; return it as a NumPy array."""
    if got is None:
        raise CheckFailed(what, "returned None.", "end your function with `return` and the result.")
    if not hasattr(got, "shape") or not hasattr(got, "dtype"):
        raise CheckFailed(
            what, f"returned a {type(got).__name__}, expected an array or tensor.", "return the result of keras.ops."
        )
    array = keras.ops.convert_to_numpy(got)
    if tuple(array.shape) != tuple(shape):
        raise CheckFailed(
            what,
            f"returned shape {tuple(array.shape)}, expected {tuple(shape)}.",
            "check which axis you contract over and that you keep the batch and spatial axes.",
        )
    if array.dtype.kind not in dtype_kind:
        raise CheckFailed(what, f"returned dtype {array.dtype}.", "keep the computation in floating point.")
    return array


def check_close(what: str, got, expected, *, mistakes=None, atol: float = 1e-4, rtol: float = 1e-4) -> None:
    """Compare values; when they differ, say which typical mistake they match, if any.

    Args:
        mistakes: ``{hint: values that mistake would give}``; the first match becomes the hint.
    """
    got, expected = np.asarray(got), np.asarray(expected)
    if got.shape == expected.shape and np.allclose(got, expected, atol=atol, rtol=rtol):
        return
    for hint, wrong in (mistakes or {}).items():
        wrong = np.asarray(wrong)
        if got.shape == wrong.shape and np.allclose(got, wrong, atol=atol, rtol=rtol):
            raise CheckFailed(what, "returned wrong values.", hint)
    if got.shape != expected.shape:
        raise CheckFailed(what, f"returned shape {got.shape}, expected {expected.shape}.")
    diff = np.abs(got - expected)
    index = np.unravel_index(np.argmax(diff), diff.shape)
    raise CheckFailed(
        what,
        f"returned wrong values: at index {tuple(int(i) for i in index)} got {got[index]:.6g}, "
        f"expected {expected[index]:.6g}.",
        "test your function on a tiny input you can work out by hand.",
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


def _describe(err: Exception, frame) -> tuple[str, str]:
    """(problem, hint) for an exception raised while running the student's code."""
    where = f" (in {frame.name}: `{frame.line}`)" if frame else ""
    if _raised_by_backend(err):
        problem = f"an operation failed{where}." if frame else f"an operation failed ({type(err).__name__})."
        return problem, "check the shapes and types of the tensors at that line: print their .shape before it."
    return f"raised {type(err).__name__}: {_first_line(err)}{where}", (
        "run your function on its own in a new cell to see the full traceback."
    )


def _raised_by_backend(err: Exception) -> bool:
    """Whether ``err`` comes from a backend's tensor operation: its type, or the code that raised it, is one
    of ``BACKEND_MODULES``'."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return any(
        name == root or name.startswith(root + ".")
        for name in (type(err).__module__, module)
        for root in BACKEND_MODULES
    )


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else "(no message)"


def check_count(what: str, call: str, got, expected: int, mistakes: dict, otherwise: str) -> None:
    """Check a whole number a student's counting function returned, e.g. multiplications.

    Args:
        call: how the function was called, e.g. ``"branch_mults(28, 28, 192, 5, 32)"``, for the message.
        mistakes: ``{hint: the number that mistake gives}``; the first match becomes the hint.
        otherwise: the hint when no typical mistake gives ``got``.
    """
    if got is None:
        raise CheckFailed(what, f"{call} returned None.", "end your function with `return` and the count.")
    if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
        raise CheckFailed(
            what,
            f"{call} returned a {type(got).__name__}, expected an int.",
            "multiply integers; avoid `/` and floats.",
        )
    if got != expected:
        hint = next((hint for hint, wrong in mistakes.items() if wrong == got and wrong != expected), otherwise)
        raise CheckFailed(what, f"{call} returned {got:,}, expected {expected:,}.", hint)
