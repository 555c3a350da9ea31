"""Grading a class end to end: the real sandbox (bubblewrap), the real nbgrader gradebook and CLI.

A temporary course is made from notebooks 02, 04 and 05 and released with ``nbgrader generate_assignment``, as
``make release`` does. Every student builds on the release version, as a student would. 04's cells take
seconds, so every scenario is graded there; 05 is there for the one scenario that needs a long cell, and 02 for
exercises whose answers are models (ResNet-50 and its blocks), with the attack that once scored full marks there:
answers imported from the package.

Honest students, each graded right:
- alice: everything correct (04, 05); fay: correct in another style; sam: correct, and writes to stderr;
- bob: one typical mistake in each exercise; carol: one exercise left unsolved;
- dave: a wrong answer under a locked check cell he edited to print a pass, and a check cell he deleted;
- erin: a file that is not notebook JSON; frank: an exercise whose code never finishes;
- gary: the release notebook as it was handed out, unsolved;
- in 02, alice again (everything correct) and carol (the convolutional block left unsolved).

Then one student per kind of attack in ``ATTACKS``, each with nothing answered (but ``ANSWERED``): every one must
score 0 (or, answered, what its answers deserve) and
leave the others' grades, the submitted files and ``helpers/`` as they were, and no process behind. Some take over
the worker's side of the wire and send the grader hostile data (a forbidden layer, a deep nest, an npz bomb, fields
of the wrong type, a closed pipe, late answers, escape codes); one more hands in a notebook whose cell metadata is
not nbgrader's. The run must still exit 0, and print nothing a student wrote raw.

``python -m course_tools.autograde`` (``make grade``) grades each assignment with two jobs; then nbgrader's own
``generate_feedback`` and ``export`` run on the result, as after ``nbgrader autograde``.
"""

import contextlib
import csv
import hashlib
import html
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from course_tools import colab, exercises, grading, nbgrader_course
from course_tools.autograde import grade, sandbox, submission, warm

ROOT = Path(__file__).resolve().parent.parent
NB02, NB04, NB05 = "02_residual_blocks", "04_one_by_one_convolutions", "05_inception"
NOTEBOOKS = (NB02, NB04, NB05)
# 04's cells take seconds: shorter limits than the course's make frank's endless call, and the attacker who
# never stops, cost this test less.
OPTIONS = {NB04: ["--timeout", "60", "--call-timeout", "20", "--budget", "45"]}
# Under make test (COURSE_REQUIRE_SYSTEM, .ci/system-packages) bubblewrap is there: a sandbox that cannot run fails
# these tests, with its reason, rather than skips them; except on any OS but Linux, which has no bubblewrap.
pytestmark = NEEDS_SANDBOX = pytest.mark.skipif(
    sandbox.available() is not None and not (os.environ.get("COURSE_REQUIRE_SYSTEM") and sys.platform == "linux"),
    reason=str(sandbox.available()),
)

# Typical mistakes, planted into the solution code of an exercise: (old, new) text edits.
MISTAKES = {
    "pointwise_conv": [("+ bias", "")],
    "bottleneck": [('padding="same", ', "")],
    "conv_multiplications": [("* in_channels", "")],
}
# The hint each check gives for a mistake above (as the check tests in this folder pin them).
HINTS = {"pointwise_conv": "add the bias", "bottleneck": "'same' padding keeps", "conv_multiplications": "in_channels"}
NEVER_FINISHES = "    import time\n\n    while True:  # waits for something that never happens\n        time.sleep(1)\n"
ANOTHER_STYLE = {
    "pointwise_conv": (
        "def pointwise_conv(x, kernel, bias):\n    return ops.einsum('bhwc,cd->bhwd', x, kernel) + bias\n"
    ),
    "bottleneck": (
        "def bottleneck(x, reduce_filters, filters, kernel_size=5):\n"
        "    squeeze = layers.Conv2D(reduce_filters, (1, 1), activation='relu', name='squeeze')\n"
        "    spread = layers.Conv2D(filters, kernel_size, padding='same', activation='relu', name='spread')\n"
        "    return spread(squeeze(x))\n"
    ),
    "conv_multiplications": (
        "def conv_multiplications(output_shape, kernel_size, in_channels):\n"
        "    total = 1\n    for n in (*output_shape, kernel_size, kernel_size, in_channels):\n"
        "        total *= int(n)\n    return total\n"
    ),
}
NOISY = "import logging, sys, warnings\nprint('debugging', file=sys.stderr)\nlogging.warning('a warning')\n"
SLEEPER = "4242"  # the attackers' detached processes sleep this long: none may be left after grading
# A process that outlives its kernel and keeps trying to write full marks into the gradebook.
FORGER = (
    "import sqlite3, sys, time\n"
    "for _ in range(int(sys.argv[2])):\n"
    "    time.sleep(1)\n"
    "    try:\n"
    "        db = sqlite3.connect(sys.argv[1])\n"
    "        db.execute('update grade set auto_score = 99')\n"
    "        db.commit()\n"
    "    except Exception:\n"
    "        pass\n"
)
# How an attacker takes the functions a notebook it can read defines: every code cell with a definition, run.
READ_DEFINITIONS = (
    "import json\n"
    "def _define(path):\n"
    "    for cell in json.load(open(path))['cells']:\n"
    "        if cell['cell_type'] == 'code' and 'def ' in ''.join(cell['source']):\n"
    "            try:\n                exec(''.join(cell['source']), globals())\n"
    "            except Exception:\n                pass\n"
)
# How an attacker takes answers from any module it can import: every module of the student library and of the
# instructor's package, searched for the exercise's functions. helpers.course.residual_blocks once held notebook 02's
# answers, and a submission that imported them scored full marks.
TAKE_FROM_PACKAGES = (
    "import importlib, pkgutil\n"
    "for _top in ('helpers', 'course_tools'):\n"
    "    try:\n        _package = importlib.import_module(_top)\n"
    "    except ImportError as _err:\n        print('cannot import', _top, _err)\n        continue\n"
    "    for _info in pkgutil.walk_packages(_package.__path__, _top + '.'):\n"
    "        try:\n            _module = importlib.import_module(_info.name)\n"
    "        except Exception:\n            continue\n"
    "        for _name in {names}:\n"
    "            if callable(getattr(_module, _name, None)):\n"
    "                globals()[_name] = getattr(_module, _name)\n"
    "                print('took', _name, 'from', _info.name)\n"
)
# How an attacker takes over the worker's side of the wire: the student's code runs in the worker's own process, whose
# module runs as __main__ (importing course_tools.autograde.worker would give a copy that nothing calls), so it takes
# that module's globals from the stack, and the wire module they share.
PATCH_WORKER = (
    "import inspect, io, json, os, struct, sys, time, zipfile\n"
    "import numpy as np\n"
    "_g = next(f.frame.f_globals for f in inspect.stack() if 'KINDS' in f.frame.f_globals)\n"
    "class _Worker:\n"
    "    def __getattr__(self, name):\n        return _g[name]\n"
    "    def __setattr__(self, name, value):\n        _g[name] = value\n"
    "_w = _Worker()\n"
    "_send = _w.wire.send\n"
)
NB02_EXERCISES = ("identity_block", "convolutional_block", "ResNet50")
IMPORT_02 = "from helpers.course.residual_blocks import identity_block, convolutional_block, ResNet50\n"
# Each attack: (where its code goes: "first" is the end of the first code cell, "end" a new last cell, else the
# solution cell of that exercise, replaced), its code. {course}, {root}, {port} are filled in.
ATTACKS = {
    "patch_checks": ("first", (
        "import helpers.checks.one_by_one_convolutions as _m\n"
        "for _name in [n for n in dir(_m) if n.startswith('check_')]:\n"
        "    setattr(_m, _name, lambda *a, **k: print('✔ all checks passed.'))\n"
        "check_pointwise_conv = check_bottleneck = check_conv_multiplications = lambda *a, **k: None\n"
    )),
    "patch_building_blocks": ("first", (
        "from helpers.checks import core, tables\n"
        "core.check_close = core.check_count = core.passed = tables.compare_models = lambda *a, **k: None\n"
        "core.check_array = lambda what, got, *a, **k: got\ncore.CheckFailed.__init__ = lambda self, *a, **k: None\n"
    )),
    "input_transformer": ("first", "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"),
    "ast_transformer": ("first", (
        "import ast\n\nclass _Nothing(ast.NodeTransformer):\n"
        "    def visit_Module(self, node):\n        return ast.Module([ast.Pass()], [])\n\n"
        "get_ipython().ast_transformers.append(_Nothing())\n"
    )),
    "solution_notebooks": ("end", (
        f"{READ_DEFINITIONS}"
        "for _path in ['{root}/notebooks/{nb}.ipynb', '{course}/source/{nb}/{nb}.ipynb']:\n"
        "    try:\n        _define(_path)\n"
        "    except Exception as _err:\n        print('cannot read', _path, type(_err).__name__)\n"
    )),
    # Every notebook under the folders where a course or a home could be (a search of the whole file system, the
    # Python installation included, outlasts the time limit and then proves nothing).
    "other_students": ("end", (
        f"import glob, os\n{READ_DEFINITIONS}"
        "_paths = glob.glob('{course}/submitted/*/{nb}/*.ipynb')\n"
        "for _base in ['{course}', '{root}', os.path.dirname('{root}'), '/home', '/tmp', os.getcwd()]:\n"
        "    _paths += glob.glob(_base + '/**/*.ipynb', recursive=True)\n"
        "for _path in _paths:\n"
        "    try:\n        _define(_path)\n    except Exception:\n        pass\n"
    )),
    "gradebook": ("first", (
        "import sqlite3, subprocess, sys\n"
        f"subprocess.Popen([sys.executable, '-c', {FORGER!r}, '{{course}}/gradebook.db', '{{sleeper}}'],\n"
        "                 start_new_session=True)\n"
        "try:\n    sqlite3.connect('{course}/gradebook.db').execute('update grade set auto_score = 99')\n"
        "except Exception as _err:\n    print('no gradebook:', _err)\n"
    )),
    "always_equal": ("conv_multiplications", (
        "class _Always(int):\n    def __eq__(self, other):\n        return True\n\n"
        "    def __ne__(self, other):\n        return False\n\n    __hash__ = int.__hash__\n\n"
        "def conv_multiplications(output_shape, kernel_size, in_channels):\n    return _Always(0)\n"
    )),
    "stack_reader": ("conv_multiplications", (
        "import inspect\n\ndef conv_multiplications(output_shape, kernel_size, in_channels):\n"
        "    for frame in inspect.stack():\n"
        "        for name in ('expected', 'cost'):\n"
        "            value = frame.frame.f_locals.get(name)\n"
        "            if value is not None:\n                return getattr(value, 'mults', value)\n"
        "    return 0\n"
    )),
    "import_answers": ("first", TAKE_FROM_PACKAGES.replace("{names}", "('pointwise_conv', 'bottleneck', "
                                                              "'conv_multiplications')")),
    "patch_numpy": ("first", "np.allclose = np.array_equal = lambda *a, **k: True\nnp.asarray = np.array\n"),
    "harm_files": ("first", (
        "import glob, os\nimport helpers.checks\n"
        "_targets = glob.glob(os.path.dirname(helpers.checks.__file__) + '/*.py')\n"
        "_targets += glob.glob('{course}/submitted/*/{nb}/*.ipynb') + ['{course}/gradebook.db']\n"
        "for _path in _targets:\n    try:\n        open(_path, 'w').write('')\n"
        "    except OSError as _err:\n        print(_err)\n"
    )),
    "kill_grader": ("first", (
        "import os, signal\nfor _pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    if _pid != os.getpid():\n        try:\n            os.kill(_pid, signal.SIGKILL)\n"
        "        except OSError:\n            pass\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )),
    "flood": ("first", (
        "import subprocess\nprint('x' * 60_000_000)\n"
        "_sleepers = [subprocess.Popen(['sleep', '{sleeper}'], start_new_session=True) for _ in range(50)]\n"
        "try:\n    _big = bytearray(16 * 2**30)\nexcept MemoryError:\n    print('no 16 GB')\n"
    )),
    "network": ("first", (
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3).sendall(b'leak')\n"
        "except OSError as _err:\n    print('no network:', _err)\n"
    )),
    "script_output": ("first", (
        "from IPython.display import HTML, Javascript, display\n"
        "display(HTML('<script>document.title = \"FULL MARKS\"</script>'), Javascript('alert(\"FULL MARKS\")'))\n"
    )),
    "secrets": ("first", (
        "for _path in ['{course}/source/{nb}/{nb}.ipynb', '{root}/notebooks/{nb}.ipynb', '{course}/gradebook.db']:\n"
        "    try:\n        print(open(_path, errors='replace').read())\n"
        "    except OSError as _err:\n        print(_err)\n"
    )),
    "forged_answers": ("first", (
        f"{PATCH_WORKER}"
        "_w.answer = lambda namespace, request, arrays: ({{'value': 120422400}}, {{}})\n"
    )),
    # What the worker sends back is hostile data. Each of these patches the worker from the student's own code and
    # sends the grader something it must refuse as the student's mistake, without harm to the rest of the class.
    "forbidden_layer": ("first", (
        f"{PATCH_WORKER}"
        "_layer = {{'module': 'keras.layers', 'class_name': 'TFSMLayer', 'registered_name': None,\n"
        "          'config': {{'filepath': '/tmp/saved', 'call_endpoint': 'serve'}}}}\n"
        "_many = {{'layers': [{{'module': 'keras.src.layers.core.dense', 'class_name': 'Dense'}}] * 20000}}\n"
        "_w.answer = lambda namespace, request, arrays: ({{'value': {{'model': json.dumps([_layer, _many])}}}}, {{}})\n"
    )),
    "deep_nest": ("first", (
        f"{PATCH_WORKER}"
        "def _deep(stream, header, arrays=None):\n"
        "    if 'ran' in header:\n        return _send(stream, header, arrays)\n"
        "    body = b'{{\"value\": ' + b'[' * 200000 + b']' * 200000 + b'}}'\n"
        "    stream.write(struct.pack('>QQ', len(body), 0) + body)\n    stream.flush()\n"
        "_w.wire.send = _deep\n"
    )),
    "npz_bomb": ("first", (  # 600 MB of zeros in about 600 kB: np.load would inflate them in the grader
        f"{PATCH_WORKER}"
        "def _bomb(stream, header, arrays=None):\n"
        "    if 'ran' in header:\n        return _send(stream, header, arrays)\n"
        "    blob = io.BytesIO()\n"
        "    with zipfile.ZipFile(blob, 'w', zipfile.ZIP_DEFLATED) as npz,"
        " npz.open('a0.npy', 'w', force_zip64=True) as f:\n"
        "        header = {{'descr': '|u1', 'fortran_order': False, 'shape': (600 * 2**20,)}}\n"
        "        np.lib.format.write_array_header_1_0(f, header)\n"
        "        for _ in range(600):\n            f.write(bytes(2**20))\n"
        "    body = json.dumps({{'value': {{'array': 'a0'}}}}).encode()\n"
        "    stream.write(struct.pack('>QQ', len(body), len(blob.getvalue())) + body + blob.getvalue())\n"
        "    stream.flush()\n"
        "_w.wire.send = _bomb\n"
    )),
    "wrong_types": ("first", (
        f"{PATCH_WORKER}"
        "_w.answer = lambda namespace, request, arrays: ({{'value': {{'dict': 5}}, 'uncalled': 7}}, {{}})\n"
    )),
    "closed_pipe": ("first", (  # its answers closed, its process alive: the grader must not wait for its end
        f"{PATCH_WORKER}"
        "def _gone(stream, header, arrays=None):\n"
        "    os.close(int(sys.argv[1]))\n"
        "    while True:\n        time.sleep(1)\n"
        "_w.wire.send = _gone\n"
    )),
    "slow_answers": ("first", (  # every call answered, but just before the call's own limit
        f"{PATCH_WORKER}"
        "_answer = _w.answer\n"
        "def _slow(namespace, request, arrays):\n    time.sleep(16)\n    return _answer(namespace, request, arrays)\n"
        "_w.answer = _slow\n"
    )),
    "escape_codes": ("first", (  # a title, a cleared screen and a forged line, if printed raw on the grader's console
        f"{PATCH_WORKER}"
        "_name = '\\x1b]0;FULL MARKS\\x07\\x1b[2J[9/9] everyone: 5/5'\n"
        "_model = {{'module': 'keras.layers', 'class_name': 'Dense', 'config': {{'units': 2, 'name': _name}}}}\n"
        "_header = {{'refused': _name, 'value': {{'model': json.dumps(_model)}}}}\n"
        "_w.answer = lambda namespace, request, arrays: (_header, {{}})\n"
    )),
    # It answers honestly, records every call, and once a hidden test has called (the arrays of pointwise_conv's
    # hidden test have a shape no visible check uses) fails every call with its record, for the feedback to show.
    "recorded_calls": ("first", (
        f"{PATCH_WORKER}"
        "_seen, _answer = [], _w.answer\n"
        "def _recorder(namespace, request, arrays):\n"
        "    _seen.append(str([tuple(v.shape) for v in arrays.values()]))\n"
        "    if any('(2, 3, 4, 5)' in seen for seen in _seen):\n"
        "        return {{'failed': {{'what': 'recorded', 'problem': ' '.join(_seen)}}}}, {{}}\n"
        "    return _answer(namespace, request, arrays)\n"
        "_w.answer = _recorder\n"
    )),
    "check_crash": ("first", (  # an answer that no check expects: a check that crashes on it is the student's zero
        f"{PATCH_WORKER}"
        "_w.answer = lambda namespace, request, arrays: ({{'value': {{'dict': {{'a': {{'object': 'x'}}}}}}}}, {{}})\n"
    )),
    "disk_filler": ("first", (
        "_written = 0\n"
        "try:\n"
        "    for _i in range(40):\n"
        "        with open(f'filler_{{_i}}', 'wb') as _f:\n            _f.write(bytes(60 * 2**20))\n"
        "        _written += 60\n"
        "except OSError as _err:\n    print('written', _written, 'MB, then', _err)\n"
    )),
    # It waits rather than spins: the grader stops it by the clock either way, and a spinning loop took one of
    # CI's two cores from the other tests for the whole time limit.
    "never_stops": ("first", (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    time.sleep(1)\n"
    )),
}


JUDGE_MEMORY_MB = 2048  # a judge's peak resident set, whatever a submission sends it (measured: see the test)
ANSWERED = {"recorded_calls"}  # attacks handed in with every exercise answered: the rest answer none


def run(course: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m <args>`` in the course folder, with this repository's helpers, as make does it."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # nbgrader calls alembic
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=course, env=env, capture_output=True, text=True, timeout=1500
    )


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    return run(course, "nbgrader", *args)


def hand_in(course: Path, student: str, name: str, mistakes=(), unsolved=(), cells=None, answered=True) -> Path:
    """Write ``student``'s submission of notebook ``name``: the release version, answered (or not).

    mistakes: exercises answered with their typical mistake; unsolved: exercises left as handed out;
    cells: {grade_id: new source, or None to delete the cell; "first" or "end": code added there}.
    """
    release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
    solution = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    nb = nbgrader_course.answered(release, solution) if answered else release
    for cell, handed_out in zip(nb.cells, release.cells):
        exercise = cell.metadata.get("nbgrader", {}).get("grade_id")
        if exercise in unsolved:
            cell.source = handed_out.source
        for old, new in MISTAKES[exercise] if exercise in mistakes else []:
            assert old in cell.source, (exercise, old)
            cell.source = cell.source.replace(old, new)
    for grade_id, source in (cells or {}).items():
        if grade_id == "first":
            first = next(cell for cell in nb.cells if cell.cell_type == "code")
            first.source += "\n" + source
            continue
        if grade_id == "end":
            nb.cells.append(nbformat.v4.new_code_cell(source))
            continue
        index = next(
            i for i, cell in enumerate(nb.cells) if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id
        )
        if source is None:
            del nb.cells[index]
        else:
            nb.cells[index].source = source
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder / f"{name}.ipynb"


def digests(folder: Path, pattern: str = "*") -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob(pattern)
        if p.is_file()
    }


def sleepers() -> list[str]:
    found = subprocess.run(["pgrep", "-af", SLEEPER], capture_output=True, text=True).stdout.splitlines()
    return [line for line in found if "pgrep" not in line]


@pytest.fixture(scope="module")
def listener():
    """A TCP port on this machine's loopback; the list of what connected to it."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.5)
    reached, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                reached.append(server.accept()[0].recv(100))
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    yield server.getsockname()[1], reached
    stop.set()
    server.close()


def make_course(root: Path, notebooks=NOTEBOOKS) -> Path:
    """A course with ``notebooks`` (by default 04 and 05) released, as make release does it."""
    solutions = root / "notebooks"
    solutions.mkdir()
    for name in notebooks:
        (solutions / f"{name}.ipynb").write_bytes((ROOT / "notebooks" / f"{name}.ipynb").read_bytes())
    course = root / "course"
    nbgrader_course.init_course(course, solutions)
    for name in notebooks:
        result = nbgrader(course, "generate_assignment", name)
        assert result.returncode == 0, result.stderr
    return course


def hand_in_class(course: Path, port: int) -> None:
    hand_in(course, "alice", NB04)
    hand_in(course, "alice", NB05)
    hand_in(course, "fay", NB04, cells=ANOTHER_STYLE)
    hand_in(course, "sam", NB04, cells={"first": NOISY, "end": "warnings.warn('still here')\n"})
    hand_in(course, "bob", NB04, mistakes=tuple(MISTAKES))
    hand_in(course, "carol", NB04, unsolved=("pointwise_conv",))
    passed = 'print("✔ bottleneck: all checks passed.")'
    hand_in(course, "dave", NB04, mistakes=("bottleneck",),
            cells={"check_bottleneck": passed, "check_conv_multiplications": None})
    (course / "submitted" / "erin" / NB04).mkdir(parents=True)
    release_04 = (course / "release" / NB04 / f"{NB04}.ipynb").read_text()
    (course / "submitted" / "erin" / NB04 / f"{NB04}.ipynb").write_text(release_04[: len(release_04) // 2])
    notebook = hand_in(course, "frank", NB04)
    nb = nbformat.read(notebook, as_version=4)
    cell = next(cell for cell in nb.cells if cell.metadata.get("nbgrader", {}).get("grade_id") == "bottleneck")
    cell.source = cell.source.replace(
        "    x = layers.Conv2D(reduce", NEVER_FINISHES + "    x = layers.Conv2D(reduce", 1
    )
    nbformat.write(nb, notebook)
    hand_in(course, "gary", NB04, answered=False)
    fill = {"course": course, "root": ROOT, "nb": NB04, "port": port, "sleeper": SLEEPER}
    for attack, (where, code) in ATTACKS.items():
        hand_in(course, f"attack_{attack}", NB04, cells={where: code.format(**fill)}, answered=attack in ANSWERED)
    malformed = hand_in(course, "attack_malformed_metadata", NB04, answered=True)  # all correct, but for its JSON
    nb = json.loads(malformed.read_text())
    for cell in nb["cells"]:
        cell["metadata"]["nbgrader"] = "locked"  # a string where nbgrader keeps a dict
    malformed.write_text(json.dumps(nb))
    hand_in(course, "alice", NB02)
    hand_in(course, "carol", NB02, unsolved=("convolutional_block",))
    take = TAKE_FROM_PACKAGES.replace("{names}", repr(NB02_EXERCISES))
    hand_in(course, "attack_import_answers", NB02, answered=False,
            cells={"first": take, **dict.fromkeys(NB02_EXERCISES, IMPORT_02)})


@pytest.fixture(scope="module")
def graded(tmp_path_factory, listener):
    """A class, graded: (course folder, grading runs per notebook, digests of submitted/, helpers/ and the course
    folder before grading, and of the course folder after)."""
    course = make_course(tmp_path_factory.mktemp("class"))
    hand_in_class(course, listener[0])
    before = digests(course / "submitted"), digests(ROOT / "helpers", "*.py"), digests(course)
    runs = {name: run(course, "course_tools.autograde", ".", name, "--jobs", "2", *OPTIONS.get(name, []))
            for name in NOTEBOOKS}
    before += (digests(course),)  # as grading left it, before nbgrader's feedback and export
    for name in NOTEBOOKS:
        result = nbgrader(course, "generate_feedback", name)
        assert result.returncode == 0, result.stderr
    for args in (
        ["--to", "grades.csv"],
        ["--exporter", "course_tools.nbgrader_course.ExerciseCsvExport", "--to", "exercises.csv"],
    ):
        result = nbgrader(course, "export", *args)
        assert result.returncode == 0, result.stderr
    return course, runs, before


def scores(course: Path) -> dict:
    with open(course / "exercises.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    got = {}
    for row in rows:
        got.setdefault((row["student_id"], row["notebook"]), {})[row["exercise"]] = float(row["score"])
    return got


def test_the_release_is_what_the_exercise_generator_writes(graded):
    course, _, _ = graded
    for name in NOTEBOOKS:
        release = nbformat.read(course / "release" / name / f"{name}.ipynb", as_version=4)
        ours = exercises.make_exercise(
            nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4), f"{name}.ipynb"
        )
        ours = nbformat.v4.new_notebook(cells=ours.cells[1:])  # without the exercise version's banner
        colab.unstamp(ours)  # the release opens from a class kit only, and this course has no kit's address
        assert [(c.cell_type, c.source) for c in release.cells] == [(c.cell_type, c.source) for c in ours.cells]
        text = "".join(c.source for c in release.cells)
        assert "BEGIN HIDDEN TESTS" not in text and "google.colab" not in text and "colab-badge" not in text


def test_every_honest_student_is_graded_right_and_every_attack_scores_zero(graded):
    course, runs, _ = graded
    for result in runs.values():
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    points = {
        name: grading.points(nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)) for name in NOTEBOOKS
    }
    full = {name: dict(exercises) for name, exercises in points.items()}
    zero = {name: dict.fromkeys(exercises, 0) for name, exercises in points.items()}
    students = ["alice", "fay", "sam", "bob", "carol", "dave", "erin", "frank", "gary", "attack_malformed_metadata"]
    students += [f"attack_{attack}" for attack in ATTACKS]
    expected = {(student, name): zero[name] for student in students for name in NOTEBOOKS}  # not handed in
    expected |= {
        ("alice", NB02): full[NB02],
        ("carol", NB02): {**full[NB02], "convolutional_block": 0, "ResNet50": 0},  # ResNet-50 is made of the blocks
        ("alice", NB04): full[NB04],
        ("alice", NB05): full[NB05],
        ("fay", NB04): full[NB04],
        ("sam", NB04): full[NB04],
        ("carol", NB04): {**full[NB04], "pointwise_conv": 0},
        # The edited check cell is restored and catches the mistake under it; the deleted one is graded all
        # the same, from the instructor's version.
        ("dave", NB04): {**full[NB04], "bottleneck": 0},
        ("frank", NB04): {**full[NB04], "bottleneck": 0},
        # answered, and each answer shown as it came, until a hidden test has called: pointwise_conv's alone
        ("attack_recorded_calls", NB04): {**full[NB04], "pointwise_conv": 0},
    }
    got = scores(course)
    assert {key: got[key] for key in expected if key[0].startswith("attack")} == {
        key: value for key, value in expected.items() if key[0].startswith("attack")
    }, "an attack earned points it did not deserve"
    assert got == expected


def test_the_progress_line_counts_what_is_done_and_says_what_is_left(graded):
    _, runs, _ = graded
    lines = runs[NB04].stdout.splitlines()
    total = len(ATTACKS) + 10
    assert lines[0] == f"{NB04}: {total} to grade, 0 unchanged since graded, 2 at a time"
    assert [line.split("]")[0] for line in lines[1:]] == [f"[{i}/{total}" for i in range(1, total + 1)]
    assert all(" elapsed · ETA " in line for line in lines[1:])
    assert any(line.split("] ")[1].startswith("erin: 0/5 (not gradable") for line in lines[1:])
    assert any("attack_malformed_metadata: 0/5 (not gradable: " in line for line in lines)
    for result in runs.values():  # nothing a student wrote reaches the console raw, nor does a judge's output
        shown = (result.stdout + result.stderr).replace("\n", "")
        assert all(ch.isprintable() for ch in shown), [ch for ch in shown if not ch.isprintable()][:5]


def test_grading_harms_nothing_and_leaves_no_process(graded, listener):
    course, _, (submitted, package, folder, graded_folder) = graded
    written = {path for path in set(folder) | set(graded_folder) if folder.get(path) != graded_folder.get(path)}
    allowed = re.compile(r"autograded/|gradebook\.db$|judges-\w+\.log$")
    assert sorted(path for path in written if not allowed.match(path)) == [], "grading wrote outside autograded/"
    assert digests(course / "submitted") == submitted
    assert digests(ROOT / "helpers", "*.py") == package
    assert sleepers() == [], "a submission's process outlived its grading"
    assert listener[1] == [], "a submission reached this machine's network"
    db = (course / "grades.csv").read_text()
    assert "99" not in db.split("\n", 1)[1]


def test_feedback_shows_the_check_s_hints_and_nothing_it_must_not(graded):
    course, _, _ = graded
    feedback = lambda student: (course / "feedback" / student / NB04 / f"{NB04}.html").read_text()  # noqa: E731
    bob = html.unescape(feedback("bob"))
    for exercise, hint in HINTS.items():
        assert hint in bob, exercise
    assert HINTS["bottleneck"] in html.unescape(feedback("dave")), "the locked check cell dave edited was restored"
    assert "did not answer within 20 s" in html.unescape(feedback("frank"))
    shown = feedback("attack_script_output")  # its code is shown, escaped; its outputs are not run
    assert not re.search(r"<script[^>]*>[^<]*FULL MARKS", shown), "a student's script runs in the feedback"
    secrets = feedback("attack_secrets")
    assert "BEGIN HIDDEN TESTS" not in secrets and "default_rng(7)" not in secrets
    assert "No such file or directory" in html.unescape(secrets)
    assert len(feedback("attack_flood")) < 2_000_000
    # 16 s a call, under the call's 20 s: two calls, then a third cut at what is left of the submission's 45 s
    assert re.search(r"did not answer within 1[0-4] s", html.unescape(feedback("attack_slow_answers")))
    assert "No space left on device" in html.unescape(feedback("attack_disk_filler"))
    refused = html.unescape(feedback("attack_forbidden_layer"))
    assert "which is not one of the Keras layers the course uses" in refused  # TFSMLayer, or keras.src's Dense
    assert "once inflated, over the limit" in html.unescape(feedback("attack_npz_bomb"))
    assert "a header that is not JSON" in html.unescape(feedback("attack_deep_nest"))  # nested past recursion
    assert "closed its answers and went on running" in html.unescape(feedback("attack_closed_pipe"))
    assert "returned something the grader cannot read (AttributeError)" in html.unescape(feedback("attack_wrong_types"))
    crashed = html.unescape(feedback("attack_check_crash"))  # the check crashed on its answer, not on the solution's
    assert "bottleneck: the check could not go on with what your function gave back" in crashed
    recorded = html.unescape(feedback("attack_recorded_calls"))
    assert "(5, 7), (7,)" not in recorded, "what a hidden test asked reached the feedback"  # its kernel, its bias
    assert "pointwise_conv: passes the checks you were given, but not the hidden tests" in recorded


def test_the_csv_says_why_an_exercise_has_no_points(graded):
    course, _, _ = graded
    with open(course / "exercises.csv", newline="") as handle:
        rows = {(row["student_id"], row["exercise"]): row for row in csv.DictReader(handle) if row["notebook"] == NB04}
    status = {key: row["status"] for key, row in rows.items()}
    mistake = {key: row["mistake"] for key, row in rows.items()}
    assert {mistake["alice", name] for name in MISTAKES} == {""}
    assert mistake["bob", "bottleneck"] == "padding"  # a layer's setting: the check's own name for it
    assert mistake["bob", "pointwise_conv"] == "known:add_the_bias_every_output"  # a typical mistake, by its hint
    assert mistake["bob", "conv_multiplications"] == "known:each_output_value_also_sums"
    assert rows["bob", "bottleneck"]["message"].startswith("bottleneck(a tensor of shape (m, 28, 28, 192), reduce")
    assert mistake["carol", "pointwise_conv"] == "not_attempted"
    assert mistake["attack_recorded_calls", "pointwise_conv"] == "hidden_tests"
    assert mistake["attack_check_crash", "bottleneck"] == "check_crash"
    assert status["alice", "bottleneck"] == "autograded"
    assert status["erin", "bottleneck"].startswith("not gradable: not a notebook that can be read")
    assert status["attack_malformed_metadata", "bottleneck"].startswith("not gradable: its notebook could not be")
    assert status["attack_kill_grader", "bottleneck"].startswith("autograded (its cells did not run: ")
    assert status["attack_secrets", "pointwise_conv"] == "autograded"


def test_every_judge_stays_within_its_bounds(graded):
    """Each submission's judge, however hostile the submission, under the memory bound and within the submission's
    wall-clock limit. The figures go into the closing note of the issue that set them."""
    course, _, _ = graded
    markers = [json.loads(path.read_text()) for path in (course / "autograded").glob(f"*/*/{grade.MARKER}")]
    judged = [marker for marker in markers if not marker["status"].startswith("not gradable")]
    assert len(judged) > len(ATTACKS), "the judges' own records"
    limit = {name: submission.Settings() for name in NOTEBOOKS}
    for name, options in OPTIONS.items():
        timeout, call_timeout, budget = (float(value) for value in options[1::2])
        limit[name] = submission.Settings(timeout=timeout, call_timeout=call_timeout, budget=budget)
    print("judge's peak memory, MB:", max(marker["judge_memory_mb"] for marker in judged))
    print("longest submission, s:", max(marker["seconds"] for marker in markers))
    assert max(marker["judge_memory_mb"] for marker in judged) < JUDGE_MEMORY_MB
    alice = json.loads((course / "autograded" / "alice" / NB04 / grade.MARKER).read_text())["timings"]
    assert {"worker_start_s", "judge_start_s", "cells_s"} | {f"checks_s {name}" for name in MISTAKES} == set(alice)
    assert all(0 <= seconds < 120 for seconds in alice.values()), alice  # where its time went (grade.breakdown)
    for path in (course / "autograded").glob(f"*/*/{grade.MARKER}"):
        settings = limit[path.parent.name]
        restarted = settings.restarts * settings.timeout  # a restarted worker runs the cells again
        assert json.loads(path.read_text())["seconds"] <= settings.wall_clock + restarted + 30


def test_a_judge_out_of_cpu_or_time_costs_its_own_submission_only(graded, tmp_path):
    course, _, _ = graded
    source, source_02 = (nbformat.read(course / "source" / nb / f"{nb}.ipynb", as_version=4) for nb in (NB04, NB02))
    alice, alice_02 = (course / "submitted" / "alice" / nb / f"{nb}.ipynb" for nb in (NB04, NB02))
    log = tmp_path / "judges.log"
    # A judge's CPU time counts from the submission's job: 02's checks take about 4 s of it, ResNet-50's among them
    settings = submission.Settings(judging=1)
    out_of_cpu = grade.judge_submission("alice", alice_02, source_02, settings, tmp_path / "a", log)
    assert out_of_cpu.status == "not gradable: its judging process used more than 1 s of CPU time"
    # Its judge still starting Keras when the submission's wall-clock time is up
    settings = submission.Settings()
    out_of_time = grade._judge_submission("alice", alice, source, settings, tmp_path / "b", log, time.monotonic() + 2)
    limit = settings.timeout + settings.budget + settings.judging
    assert out_of_time.status == f"not gradable: it took longer than the {limit:.0f} s a submission may take"
    assert set(out_of_cpu.scores.values()) == set(out_of_time.scores.values()) == {0}
    kept = grading_processes()  # this process's own: another test's class may be grading beside it
    assert kept, "the template this thread keeps warm"
    warm.JUDGES.stop_all()  # what this thread kept warm, as grade_class stops it at the end of a class
    warm.TEMPLATES.stop_all()
    assert sleepers() == []
    # A killed sandbox's judge or template dies with it, a moment later (bwrap's parent-death signal)
    assert psutil.wait_procs(kept, timeout=10)[1] == [], "a judge or template outlived its grading"


def grading_processes() -> list[psutil.Process]:
    """This process's judges and worker templates, their sandboxes' processes included."""
    found = []
    for process in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if any("course_tools.autograde" in part for part in process.cmdline()):
                found.append(process)
    return found


def test_an_unchanged_submission_is_not_graded_again(graded, tmp_path):
    course, _, _ = graded
    again = run(course, "course_tools.autograde", ".", NB04, "--jobs", "2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert again.stdout.splitlines() == [f"{NB04}: 0 to grade, {len(ATTACKS) + 10} unchanged since graded, 2 at a time"]


def test_one_job_grades_as_two(graded, tmp_path, listener):
    """The same submissions, handed in to a second course and graded one at a time, each on a fresh judge and in a
    fresh sandbox (``--warm 1``), score as the class did on judges and worker templates kept warm."""
    class_course, _, _ = graded
    course = make_course(tmp_path, notebooks=(NB04,))
    students = ("alice", "bob", "carol", "attack_patch_checks", "attack_kill_grader")
    for student in students:
        shutil.copytree(class_course / "submitted" / student / NB04, course / "submitted" / student / NB04)
    result = run(course, "course_tools.autograde", ".", NB04, "--jobs", "1", "--warm", "1", *OPTIONS[NB04])
    assert result.returncode == 0, result.stderr[-3000:]
    export = ["export", "--exporter", "course_tools.nbgrader_course.ExerciseCsvExport", "--to", "exercises.csv"]
    assert nbgrader(course, *export).returncode == 0
    one_job, two_jobs = scores(course), scores(class_course)
    assert {s: one_job[s, NB04] for s in students} == {s: two_jobs[s, NB04] for s in students}
