"""The functions a notebook defines, for the tests and the benchmarks (``benchmarks/run.py``) to call."""

import ast
import linecache
from pathlib import Path

import nbformat

from course_tools import grading


def load_functions(notebook: str | Path, replace: dict | None = None) -> dict:
    """Run a notebook's imports and function definitions, and nothing else; return the namespace.

    Tests and benchmarks use it to call the very functions a notebook defines, with planted mistakes too;
    the course's own code never reads a notebook at run time (``course_tools.export`` exports what it reuses).

    Args:
        replace: ``{function name: [(old, new), ...]}`` text edits made to that function's source
            first, e.g. to plant a typical mistake. An ``old`` that is not found raises ValueError.
    """
    replace = {name: list(edits) for name, edits in (replace or {}).items()}
    nb = nbformat.read(notebook, as_version=4)
    namespace: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        code = grading.cell_python(cell.source)
        try:
            tree = ast.parse(code)
        except SyntaxError:  # a cell that is not Python even for IPython: it defines nothing
            continue
        for node in tree.body:
            if not isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
                continue
            decorators = getattr(node, "decorator_list", [])  # the node's own segment starts at `def`/`class`
            source = "".join(f"@{ast.get_source_segment(code, d)}\n" for d in decorators)
            source += ast.get_source_segment(code, node)
            for old, new in replace.pop(getattr(node, "name", None), []):
                if old not in source:
                    raise ValueError(f"{old!r} is not in the source of {node.name} in {notebook}")
                source = source.replace(old, new)
            filename = f"{notebook}#{getattr(node, 'name', 'import')}"  # a traceback shows lines of this source
            linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
            exec(compile(source, filename, "exec"), namespace)  # noqa: S102 -- our own notebooks
    if replace:
        raise ValueError(f"{notebook} defines no {', '.join(replace)}")
    return namespace
