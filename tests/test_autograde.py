"""Grading decides as the checks do: every check, run in the grader on a student's function that lives in a
worker process, says exactly what it says in the student's own kernel.

For each notebook, one worker runs the solution notebook's cells as grading runs a submission (the check cells
and those tagged ``skip-grading`` left out: each of the others must run without an error), then holds each
correct alternative and each typical mistake of the check tests (``tests/test_checks_*.py``), and a stub.
Each check then judges every one of them twice, here on the function alone and through the worker, and the
two outcomes (passed, or the failure's call, problem and hint) must be the same: the skipped cells change no
verdict. The sandbox and nbgrader are tested end to end in
``test_nbgrader_course.py``; this test runs the worker as a plain process so that it runs everywhere.
"""

import contextlib
import io
import json
import struct
import zipfile
from pathlib import Path

import keras
import nbformat
import numpy as np
import pytest
import test_checks_classic_networks
import test_checks_inception
import test_checks_one_by_one_convolutions
import test_checks_residual_blocks
import test_checks_why_residuals_work
from exercise_checks import NOTEBOOKS, solution

from course_tools.autograde import remote, sandbox, wire, worker
from course_tools.autograde.submission import cells_to_run
from helpers.checks.core import CheckFailed

TESTS = Path(__file__).resolve().parent  # notebook_code, which the worker imports too
MODULES = {
    module.NOTEBOOK: module
    for module in (
        test_checks_classic_networks,
        test_checks_residual_blocks,
        test_checks_why_residuals_work,
        test_checks_one_by_one_convolutions,
        test_checks_inception,
    )
}
STUB = "def stub(*args, **kwargs):\n    raise NotImplementedError()\n"


def variants(module) -> list[tuple[str, str, object]]:
    """(function name, what it is, edits) for the solution, its alternatives and its mistakes."""
    rows = [(name, "the solution", ()) for name in module.CHECKS]
    rows += [(name, style, edits) for name, style, edits in module.ALTERNATIVES]
    rows += [(name, mistake, edits) for name, mistake, edits, _, _ in module.MISTAKES]
    return rows


def outcome(check, function) -> tuple:
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            check(function)
    except CheckFailed as failure:
        return ("failed", failure.what, failure.problem, failure.hint, failure.kind)
    return ("passed", printed.getvalue())


# 04 and 05 take seconds and carry every kind of value (arrays, backend tensors, models, counts): every pass. The
# larger models of 01-03 add minutes: the first pass (TensorFlow, the grader's default backend).
SCOPED = [pytest.param(nb, marks=() if nb.startswith(("04", "05")) else pytest.mark.once) for nb in MODULES]


@pytest.mark.end_to_end
@pytest.mark.parametrize("notebook", SCOPED)
def test_a_check_decides_the_same_in_the_grader_as_in_the_notebook(notebook, tmp_path):
    module = MODULES[notebook]
    rows = variants(module)
    lines = [f"import sys\nsys.path.insert(0, {str(TESTS)!r})\nfrom notebook_code import load_functions", STUB]
    for i, (name, _, edits) in enumerate(rows):
        replace = edits if isinstance(edits, dict) else ({name: list(edits)} if edits else None)
        # The same file under a path of its own ("notebooks/././x.ipynb"): a traceback quotes each variant's line
        # from the source its functions were compiled from (linecache keys them by that path).
        path = f"{NOTEBOOKS}{'/.' * (i + 1)}/{notebook}"
        lines.append(f"variant_{i} = load_functions({path!r}, replace={replace!r})[{name!r}]")
    as_graded = nbformat.read(NOTEBOOKS / notebook, as_version=4)
    cells = [*cells_to_run(as_graded, as_graded), {"index": len(as_graded.cells), "source": "\n".join(lines)}]
    worker = remote.Worker(tmp_path / "work", sandbox.Limits(), sandboxed=False)
    ran = worker.start(cells, timeout=900, output_limit=10_000)
    assert [(entry["index"], entry["error"]) for entry in ran if entry["error"]] == []
    differ = []
    try:
        for i, (name, what, edits) in enumerate(rows):
            check = module.CHECKS[name]
            local = outcome(check, solution(notebook, name, edits))
            graded = outcome(check, remote.StudentFunction(f"variant_{i}", worker, timeout=300))
            if local != graded:
                differ.append(f"{name}, {what}:\n  in the notebook: {local}\n  in the grader:   {graded}")
        for name, check in module.CHECKS.items():
            unsolved = outcome(check, remote.StudentFunction("stub", worker, timeout=60))
            if unsolved[2] != "still raises NotImplementedError.":
                differ.append(f"{name}: the stub is not reported as unsolved")
    finally:
        worker.stop()
    assert not differ, "\n".join(differ)


def test_the_parameter_budget_holds_every_model_a_check_rebuilds_four_times_over():
    vgg16 = keras.applications.VGG16(weights=None, input_shape=(64, 64, 3), classes=10)  # check_vgg16's
    assert 4 * vgg16.count_params() <= wire.PARAMS_LIMIT < 5 * vgg16.count_params()
    dense = {"module": "keras.layers", "class_name": "Dense", "config": {"units": 4096}}
    model = {"module": "keras", "class_name": "Sequential", "config": {"name": "large",
        "layers": [{"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4096]}}]
        + [dense] * 10}}  # fmt: skip
    with pytest.raises(wire.WireError, match="parameters, more than"):
        wire.load_model({"model": json.dumps(model)}, {})


@pytest.mark.versions  # the allow-list holds whatever Keras's version: at the floors too
def test_a_model_naming_other_code_is_refused():
    deep: list = []
    for _ in range(wire.DEPTH_LIMIT + 1):
        deep = [deep]
    for config in (
        {"module": "os", "class_name": "system", "config": {}},
        {"module": "keras.layers", "class_name": "Lambda", "registered_name": "my>Lambda", "config": {}},
        {"module": "keras.layers", "class_name": "Lambda", "config": {}},
        {"module": "keras.layers", "class_name": "TFSMLayer", "config": {"filepath": "saved"}},  # runs a saved graph
        {"module": "keras.src.utils", "class_name": "function", "config": "eval"},
        {"module": "keras.activations", "class_name": "function", "config": "deserialize"},
        {"layers": [{"module": "keras.layers", "class_name": "Dense"}] * (wire.LAYER_LIMIT + 1)},
        {"layers": [{"module": "keras.src.layers.core.dense", "class_name": "Dense"}] * (wire.LAYER_LIMIT + 1)},
        {"module": "keras.layers", "class_name": "Dense", "config": {"units": 14000}},
        {"module": "keras.layers", "class_name": "ZeroPadding2D", "config": {"padding": [[3, 3], [3, 10**6]]}},
        {"config": deep},
    ):
        with pytest.raises(wire.WireError):
            wire.check_model_config(config)
    wire.check_model_config({"module": "keras.layers", "class_name": "Conv2D", "config": {"filters": 2}})


def test_a_message_nested_too_deep_or_inflating_past_the_limit_is_refused():
    body = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"  # json.loads: RecursionError
    nested = json.dumps({"value": json.loads("[" * (wire.DEPTH_LIMIT + 2) + "]" * (wire.DEPTH_LIMIT + 2))}).encode()
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", zipfile.ZIP_DEFLATED) as npz, npz.open("a0.npy", "w", force_zip64=True) as f:
        header = {"descr": "|u1", "fortran_order": False, "shape": (wire.ARRAYS_LIMIT + 1,)}
        np.lib.format.write_array_header_1_0(f, header)
        for _ in range(wire.ARRAYS_LIMIT // 2**20 + 1):
            f.write(bytes(2**20))
    assert len(blob.getvalue()) < 2**20 * 1.5  # a bomb: small on the wire
    for header, arrays in ((body, b""), (nested, b""), (b'{"value": 1}', blob.getvalue())):
        with pytest.raises(wire.WireError):
            wire.receive(io.BytesIO(struct.pack(">QQ", len(header), len(arrays)) + header + arrays))


def test_a_student_s_text_reaches_the_console_escaped():
    from course_tools.autograde.grade import printable

    assert printable("ada\x1b]0;FULL MARKS\x07\x1b[2J: 5/5\r\n") == "ada\\x1b]0;FULL MARKS\\x07\\x1b[2J: 5/5\\r\\n"
    assert printable("Zoë Łukasz 李") == "Zoë Łukasz 李"


def test_a_message_over_the_limit_or_not_json_is_refused():
    header = io.BytesIO()
    wire.send(header, {"value": 1})
    assert wire.receive(io.BytesIO(header.getvalue())) == ({"value": 1}, {})
    for broken in (
        (wire.HEADER_LIMIT + 1).to_bytes(8, "big") + bytes(8),
        (3).to_bytes(8, "big") + bytes(8) + b"{{{",
        (2).to_bytes(8, "big") + bytes(8) + b"[]",
    ):
        with pytest.raises(wire.WireError):
            wire.receive(io.BytesIO(broken))
    with pytest.raises(EOFError):
        wire.receive(io.BytesIO(header.getvalue()[:20]))


def test_only_plain_values_come_back():
    class Always(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__

    encoder = wire.Encoder()
    encoded = encoder.encode({"count": Always(3), "exact": 3, "shape": (1, 2)})
    value = wire.decode(encoded, encoder.arrays)
    assert value["exact"] == 3 and type(value["exact"]) is int and value["shape"] == (1, 2)
    assert type(value["count"]).__name__ == "Always" and not isinstance(value["count"], int)
    assert value["count"] != 3


def test_a_whole_model_comes_back_as_its_structure_and_a_block_with_its_weights():
    def whole(input_shape, classes):
        inputs = keras.Input(input_shape)
        return keras.Model(inputs, keras.layers.Dense(classes)(keras.layers.Flatten()(inputs)))

    def block(x):
        return keras.layers.Conv2D(2, 1, kernel_initializer="ones")(x)

    # (kind, function, its arguments, arrays sent back, parameters): a check reads a block's kernel and bias,
    # and only the layers of a whole model
    for kind, name, args, kwargs, sent, params in (
        ("call_model_function", "whole", [], {"input_shape": (4, 4, 3), "classes": 2}, 0, 4 * 4 * 3 * 2 + 2),
        ("build_model", "block", [(4, 4, 3)], {}, 2, 3 * 2 + 2),
    ):
        request = remote.StudentFunction(name, worker=None, timeout=0).request(kind, name, *args, **kwargs)
        header, arrays = worker.answer({"whole": whole, "block": block}, *request)
        assert len(arrays) == sent, kind
        model = wire.decode(header["value"], arrays)
        assert model.count_params() == params, kind
        if sent:
            kernel = keras.ops.convert_to_numpy(model.layers[-1].kernel)
            np.testing.assert_array_equal(kernel, np.ones((1, 1, 3, 2)), err_msg=kind)
