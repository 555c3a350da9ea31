"""The instructor's and maintainer's tools for the course; students never install this package.

It works on the repository it lies in (``ROOT``): the solution notebooks are its source, and it writes what
students get from them. It imports the student library ``helpers``; ``helpers`` never imports it
(``tests/test_layout.py``).

- ``grading``         -- the nbgrader metadata of the exercises and their points
- ``exercises``       -- the exercise notebooks, made from the solution notebooks by nbgrader's preprocessors
- ``export``          -- code of ``#| export`` cells copied into ``helpers.scale`` (never graded code)
- ``colab``           -- each notebook's Open in Colab badge and its first cell's set-up there
- ``nbgrader_course`` -- the nbgrader course folder, and nbgrader's per-exercise CSV export
- ``kit``             -- the class kit an instructor hands out: release notebooks, the student library, the data
- ``answers``         -- what a graded class must never receive: each exercise's solution and hidden tests,
  and a scan that finds them in a folder
- ``autograde``       -- grading a class in a sandbox (a subpackage)
- ``lms``             -- Canvas's and Moodle's submission archives in, grades out as their import CSVs
- ``report``          -- what a class got wrong, by kind of mistake, and answers alike: one HTML page
- ``timings``         -- the docs' timing tables, written from the benchmarks' JSON
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: tools/course_tools/ lies two folders down


def source_files(package: Path) -> list[Path]:
    """A package's Python sources: what the grader's sandbox and a class kit get of the student library. No
    bytecode, and nothing an older version left behind (a removed module's __pycache__, whose code could still be
    read and run)."""
    return sorted(path for path in package.rglob("*.py") if "__pycache__" not in path.parts)
