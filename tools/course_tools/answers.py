"""What a graded class must never receive, and a scan that finds it in a folder.

The answers are the solution notebooks' own: each exercise's solution (the body of the function its solution cell
defines, between ``### BEGIN SOLUTION`` and ``### END SOLUTION``) and each line of its hidden tests. The scan
compares every function of every Python file and notebook in a folder with each solution, on the syntax tree:
docstrings dropped and every variable, argument and function name replaced by its order of appearance, so that
renaming, reformatting or another docstring hides nothing. It also looks for every hidden-test line in every text
file. ``make kit`` refuses to hand out a kit in which it finds anything; ``tests/test_kit.py`` runs it on the kit
and on the student library, and plants an answer to show that it finds one.

    python -m course_tools.answers FOLDER    # exit 1 and name each answer found in FOLDER
"""

import ast
import html
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_tools import ROOT, grading
from helpers.workspace import HIDDEN_TESTS

NOTEBOOKS = ROOT / "notebooks"
TEXT = {".py", ".ipynb", ".md", ".txt", ".toml", ".cfg", ".json", ".html", ".csv", ".yml", ".yaml"}
MIN_HIDDEN_LINE = 12  # shorter hidden-test lines (a closing bracket, `assert (`) are in any Python file


@dataclass(frozen=True)
class Found:
    path: Path  # relative to the folder scanned
    what: str  # e.g. "the solution of identity_block (02_residual_blocks) in function `block`"

    def __str__(self) -> str:
        return f"{self.path}: {self.what}"


def shape(body: list[ast.stmt]) -> str:
    """A function body as the scan compares it: no docstring, names numbered in order of appearance."""
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    names: dict[str, str] = {}

    def numbered(name: str) -> str:
        return names.setdefault(name, f"v{len(names)}")

    module = ast.Module(body=body, type_ignores=[])
    for node in ast.walk(module):
        if isinstance(node, ast.Name):
            node.id = numbered(node.id)
        elif isinstance(node, ast.arg):
            node.arg = numbered(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            node.name = numbered(node.name)
    return ast.dump(module, annotate_fields=False, include_attributes=False)


def functions(source: str) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function defined in ``source``, nested ones included; none where it is not Python."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))]


def solutions(notebooks_dir: Path = NOTEBOOKS) -> dict[str, str]:
    """The shape of each exercise's solution, keyed by ``name (notebook)``."""
    found = {}
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for exercise in grading.find_exercises(nb, path.name):
            source = grading.cell_python(nb.cells[exercise.solution].source)
            for function in functions(source):
                if function.name == exercise.name:
                    found[f"{exercise.name} ({path.stem})"] = shape(function.body)
    return found


def hidden_test_lines(notebooks_dir: Path = NOTEBOOKS) -> set[str]:
    """Each line of the solution notebooks' hidden tests that could only come from them, stripped."""
    lines = set()
    for path in sorted(notebooks_dir.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            for block in HIDDEN_TESTS.findall(cell.source) if cell.cell_type == "code" else []:
                lines.update(line.strip() for line in block.splitlines()[1:-1] if len(line.strip()) >= MIN_HIDDEN_LINE)
    return lines


def python_sources(path: Path) -> list[str]:
    """The Python in a file: a module's source, or each code cell of a notebook."""
    if path.suffix == ".py":
        return [path.read_text(errors="replace")]
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError):
        return []
    return [grading.cell_python(cell.source) for cell in nb.cells if cell.cell_type == "code"]


def readable_text(path: Path) -> str:
    """A file's text as a reader sees it: a notebook's cells and text outputs decoded, JSON strings unescaped, HTML
    entities and tags undone (highlighted code is split into spans)."""
    raw = path.read_text(errors="replace")
    parts = [raw]
    if path.suffix == ".ipynb":
        try:
            nb = nbformat.reads(raw, as_version=4)
        except (ValueError, AttributeError):
            nb = None
        for cell in nb.cells if nb else []:
            parts.append(cell.source)
            for output in cell.get("outputs", []):
                parts += [str(output.get("text", "")), str(output.get("data", {}).get("text/plain", ""))]
    elif path.suffix == ".json":
        parts.append(raw.encode().decode("unicode_escape", errors="replace"))
    elif path.suffix == ".html":
        parts.append(html.unescape(re.sub(r"<[^>]+>", "", raw)))
    return "\n".join(parts)


def scan(folder: Path, notebooks_dir: Path = NOTEBOOKS) -> list[Found]:
    """Every solution and hidden-test line of the course found in ``folder`` (its ``.git`` left out), each with its
    path in ``folder``."""
    wanted = {body: name for name, body in solutions(notebooks_dir).items()}
    hidden = hidden_test_lines(notebooks_dir)
    found = []
    folder = Path(folder)
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.parts):
        where = path.relative_to(folder)
        if path.suffix in (".py", ".ipynb"):
            for source in python_sources(path):
                for function in functions(source):
                    name = wanted.get(shape(function.body))
                    if name:
                        found.append(Found(where, f"the solution of {name}, as function `{function.name}`"))
        if path.suffix in TEXT:
            text = readable_text(path)
            found += [Found(where, f"a line of a hidden test: {line!r}") for line in sorted(hidden) if line in text]
    return found


def main(argv=None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not Path(args[0]).is_dir():
        print("usage: python -m course_tools.answers FOLDER", file=sys.stderr)
        return 2
    found = scan(Path(args[0]))
    for item in found:
        print(item)
    print(f"{len(found)} answers found in {args[0]}" if found else f"no answer found in {args[0]}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
