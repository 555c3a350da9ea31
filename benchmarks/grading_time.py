"""Time nbgrader's autograde of one correct submission of each notebook, on this machine.

    .venv/bin/python benchmarks/grading_time.py            # every notebook
    .venv/bin/python benchmarks/grading_time.py 02 05      # those whose names start so

It builds a course in a temporary folder (``helpers.nbgrader_course``), releases each notebook with
``nbgrader generate_assignment``, hands in the reference submission (``answered``: every exercise
solved) and times ``nbgrader autograde`` for it, wall clock, kernel start included. It checks that the
submission got full marks, prints a table for the README and writes benchmarks/grading_time.json.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from helpers import nbgrader_course  # noqa: E402  (the repository's helpers, also when not installed)


def nbgrader(course: Path, *args: str) -> None:
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, check=True, capture_output=True)


def main(prefixes: list[str]) -> int:
    notebooks = [
        p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if not prefixes or p.name.startswith(tuple(prefixes))
    ]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        handed_out = {path.name for path in nbgrader_course.init_course(course)[0]}  # notebooks with exercises
        for path in (path for path in notebooks if path.name in handed_out):
            name = path.stem
            nbgrader(course, "generate_assignment", name)
            release = nbformat.read(course / "release" / name / path.name, as_version=4)
            folder = course / "submitted" / "reference" / name
            folder.mkdir(parents=True)
            nbformat.write(nbgrader_course.answered(release, nbformat.read(path, as_version=4)), folder / path.name)
            start = time.perf_counter()
            nbgrader(course, "autograde", name)
            seconds = time.perf_counter() - start
            with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
                submission = gradebook.find_submission(name, "reference")
                score, max_score = submission.score, submission.max_score
            if score != max_score:
                print(f"{name}: the reference submission got {score} of {max_score} points", file=sys.stderr)
                return 1
            results[name] = {"seconds": round(seconds, 1), "points": max_score}
            print(f"| `{name}` | {max_score:g} | {seconds:.1f} s |", flush=True)
    (ROOT / "benchmarks" / "grading_time.json").write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
