"""Time grading a class with ``python -m course_tools.autograde`` (make grade), on this machine.

    .venv/bin/python benchmarks/grading_time.py                   # every notebook, 6 students each
    .venv/bin/python benchmarks/grading_time.py 04 05 --students 4  # those whose names start so

For each notebook it builds a course in a temporary folder (``course_tools.nbgrader_course``), releases the
notebook with ``nbgrader generate_assignment``, hands in the reference submission (``answered``: every
exercise solved) for each student, and grades the class (``--force``) in each of these ways:

- ``fresh_jobs_1``, ``fresh_jobs_2``: one or two at a time, with a fresh judge and a fresh worker sandbox for each
  submission (``--warm 1``), as the grader did before it kept them warm;
- ``jobs_1``, ``jobs_2``: the same, with each grading thread's judge and worker template kept warm (the default);
- ``cluster_2``: on a Dask LocalCluster of two worker processes (``--cluster local``), kept warm too;
- ``jobs_2_every_cell``: two at a time, warm, with the submissions' ``skip-grading`` tags removed, so that every
  cell runs (the lessons' training too).

It checks full marks every time, and writes each notebook's figures, with the day and the number of students, into
benchmarks/grading_time.json (the notebooks not measured keep theirs):

- per submission: the grader's own measure, from starting (or forking) its worker to the last check (mean);
- per class: the wall clock of the command (the grader's start included), and submissions per hour at that rate;
- once started: submissions per hour from the moment each job has recorded its first submission to the last
  record (the records' times), the rate a large class is graded at, once each job's first submission has paid
  for starting its processes.

Where one submission's time goes, with one job (``grade.breakdown``, means), fresh and warm, goes into
benchmarks/grading_breakdown.json: starting an empty sandbox (bubblewrap and Python, measured alone), starting the
worker (with its imports, or forked from its template), the judge (with its imports, or taking the job), the cells,
and all the checks. The warm means leave out each thread's first submission, which starts them both.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course_tools import grading, nbgrader_course  # noqa: E402  (the repository's helpers, also when not installed)
from course_tools.autograde import sandbox  # noqa: E402
from course_tools.autograde.grade import MARKER  # noqa: E402


def run(course: Path, *args: str) -> None:
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    )
    subprocess.run([sys.executable, "-m", *args], cwd=course, env=env, check=True, capture_output=True)


RUNS = {  # how each figure's class is graded: python -m course_tools.autograde's options
    "fresh_jobs_1": ("--jobs", "1", "--warm", "1"),
    "jobs_1": ("--jobs", "1"),
    "fresh_jobs_2": ("--jobs", "2", "--warm", "1"),
    "jobs_2": ("--jobs", "2"),
    "cluster_2": ("--jobs", "2", "--cluster", "local"),
}


def grade(course: Path, path: Path, students: list[str], options: tuple[str, ...]) -> tuple[dict, dict]:
    """(the class's figures, where one submission's time went: means of each part, over the submissions that
    started no judge, or over all where each did)."""
    start = time.perf_counter()
    run(course, "course_tools.autograde", ".", path.stem, "--force", *options)
    wall = time.perf_counter() - start
    full = sum(grading.points(nbformat.read(path, as_version=4)).values())
    seconds, parts, warm = [], [], []
    for student in students:
        marker = json.loads((course / "autograded" / student / path.stem / MARKER).read_text())
        got = sum(score or 0 for score in marker["scores"].values())
        if got != full:
            raise SystemExit(f"{path.stem}: the reference submission of {student} got {got} of {full} points")
        seconds.append(marker["seconds"])
        timings = marker["timings"]
        checks = sum(value for key, value in timings.items() if key.startswith("checks_s "))
        started = {key: timings[key] for key in ("worker_start_s", "judge_start_s", "cells_s")}
        parts.append(started | {"checks_s": checks})
        warm.append(timings["judge_start_s"] < 1)  # it took its job: its imports were done before
    recorded = sorted((course / "autograded" / student / path.stem / MARKER).stat().st_mtime for student in students)
    jobs = int(options[options.index("--jobs") + 1])
    figures = {
        "per_submission_s": round(statistics.mean(seconds), 1),
        "class_s": round(wall, 1),
        "per_hour": round(len(students) * 3600 / wall),
        "started_per_hour": round((len(students) - jobs) * 3600 / (recorded[-1] - recorded[jobs - 1])),
    }
    if any(warm):
        parts = [part for part, took in zip(parts, warm, strict=True) if took]
    return figures, {key: round(statistics.mean(part[key] for part in parts), 2) for key in parts[0]}


def sandbox_start(times: int = 3) -> float:
    """Seconds to start an empty sandbox and its Python, and see it exit (the median of ``times``)."""
    spent = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(times):
            began = time.perf_counter()
            started = sandbox.start(["this"], Path(scratch) / "empty", sandbox.Limits(), True, Path(scratch) / "log")
            if started.wait():
                raise SystemExit(f"an empty sandbox failed: {(Path(scratch) / 'log').read_text()[-2000:]}")
            spent.append(time.perf_counter() - began)
    return round(statistics.median(spent), 2)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prefixes", nargs="*", help="only the notebooks whose names start so")
    parser.add_argument("--students", type=int, default=6, help="submissions per notebook (default: %(default)s)")
    args = parser.parse_args(argv)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    notebooks = [p for p in notebooks if not args.prefixes or p.name.startswith(tuple(args.prefixes))]
    students = [f"student{i}" for i in range(1, args.students + 1)]
    results, breakdowns, empty = {}, {}, sandbox_start()
    print("| notebook | per hour, 2 jobs: fresh | warm | LocalCluster of 2 | warm ÷ fresh | started | every cell |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp)
        handed_out = {path.name for path in nbgrader_course.init_course(course)[0]}  # notebooks with exercises
        for path in (path for path in notebooks if path.name in handed_out):
            run(course, "nbgrader", "generate_assignment", path.stem)
            release = nbformat.read(course / "release" / path.stem / path.name, as_version=4)
            answered = nbgrader_course.answered(release, nbformat.read(path, as_version=4))
            for student in students:
                folder = course / "submitted" / student / path.stem
                folder.mkdir(parents=True)
                nbformat.write(answered, folder / path.name)
            measured = {name: grade(course, path, students, options) for name, options in RUNS.items()}
            results[path.stem] = {name: figures for name, (figures, _) in measured.items()}
            breakdowns[path.stem] = {
                "sandbox_start_s": empty,
                "fresh": measured["fresh_jobs_1"][1],
                "warm": measured["jobs_1"][1],
                "date": time.strftime("%Y-%m-%d"),
            }
            for cell in answered.cells:
                tags = cell.get("metadata", {}).get("tags", [])
                if grading.SKIP_TAG in tags:
                    tags.remove(grading.SKIP_TAG)
            for student in students:
                nbformat.write(answered, course / "submitted" / student / path.stem / path.name)
            results[path.stem]["jobs_2_every_cell"] = grade(course, path, students, RUNS["jobs_2"])[0]
            row = results[path.stem]
            row["speed_up"] = round(row["jobs_2"]["per_hour"] / row["fresh_jobs_2"]["per_hour"], 1)
            row["started_speed_up"] = round(
                row["jobs_2"]["started_per_hour"] / row["fresh_jobs_2"]["started_per_hour"], 1
            )
            print(
                f"| `{path.stem}` | {row['fresh_jobs_2']['per_hour']} | {row['jobs_2']['per_hour']} "
                f"| {row['cluster_2']['per_hour']} | {row['speed_up']}× | {row['started_speed_up']}× "
                f"| {row['jobs_2_every_cell']['per_hour']} |",
                flush=True,
            )
            row |= {"students": args.students, "date": time.strftime("%Y-%m-%d")}
    for name, found in (("grading_time", results), ("grading_breakdown", breakdowns)):
        out = ROOT / "benchmarks" / f"{name}.json"
        earlier = json.loads(out.read_text()) if out.exists() else {}  # the notebooks not measured now keep theirs
        out.write_text(json.dumps(earlier | found, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
