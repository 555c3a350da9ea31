"""Who uses what: the student library (helpers) never reaches into the instructor's tools (course_tools), runs
without them, and holds no exercise's answer."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import course_tools
from course_tools import answers

ROOT = Path(__file__).resolve().parent.parent
STUDENT_LIBRARY = ROOT / "helpers"


def imported(path: Path) -> set[str]:
    """The modules a Python file imports, wherever in the file (a function's own import included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
    return found


def test_the_student_library_imports_nothing_of_the_instructors_tools():
    reaching = {
        str(path.relative_to(ROOT)): sorted(name for name in imported(path) if name.split(".")[0] == "course_tools")
        for path in STUDENT_LIBRARY.rglob("*.py")
    }
    assert {path: names for path, names in reaching.items() if names} == {}


def test_every_module_of_the_student_library_imports_where_the_instructors_tools_are_not_installed():
    """As in a class kit: each module of helpers imported in a fresh interpreter that cannot import course_tools."""
    code = (
        "import importlib, pkgutil, sys\n"
        "sys.modules['course_tools'] = None  # import course_tools now raises ImportError\n"
        "import helpers\n"
        "names = [info.name for info in pkgutil.walk_packages(helpers.__path__, 'helpers.')]\n"
        "for name in names:\n    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout.split()[-1]) == len([p for p in STUDENT_LIBRARY.rglob("*.py")]) - 1  # all but helpers/


def test_the_student_library_holds_no_answer():
    assert answers.scan(STUDENT_LIBRARY) == []


def test_the_grader_s_sandbox_gets_the_student_library_s_sources_alone(tmp_path):
    """Not its folder: a module removed from the course leaves its bytecode behind in a clone (helpers/course/
    __pycache__ held notebook 02's answers), and code read from bytecode runs as well as any."""
    from course_tools.autograde import sandbox

    stale = tmp_path / "helpers" / "course" / "__pycache__"
    stale.mkdir(parents=True)
    (stale / "residual_blocks.cpython-311.pyc").write_bytes(b"stale")
    (tmp_path / "helpers" / "plots.py").write_text("")
    assert course_tools.source_files(tmp_path / "helpers") == [tmp_path / "helpers" / "plots.py"]
    bound = [path for path in sandbox.read_only_paths() if STUDENT_LIBRARY in (path, *path.parents)]
    assert bound == course_tools.source_files(STUDENT_LIBRARY)
