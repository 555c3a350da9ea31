"""Grade every submission of one assignment of an nbgrader course, in parallel and in a sandbox:

    python -m course_tools.autograde COURSE ASSIGNMENT [--jobs N] [--force] [--cluster ADDRESS]

then nbgrader's own ``generate_feedback`` and ``export`` in COURSE, as after ``nbgrader autograde``.
"""

import argparse
import os
import sys
from importlib import metadata
from pathlib import Path

from packaging.version import Version

from course_tools.autograde import grade, sandbox, submission

SAFE_KERAS = "3.13.2"  # keras-team/keras#22035


def jobs(text: str) -> int:
    if text == "auto":
        return os.cpu_count() or 1
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of submissions at a time, or auto, not {text!r}")
    return int(text)


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of submissions, 1 or more, not {text!r}")
    return int(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.autograde", description=__doc__.split("\n\n")[0])
    parser.add_argument("course", type=Path, help="the nbgrader course folder (make release makes it)")
    parser.add_argument("assignment", help="the assignment, e.g. 04_one_by_one_convolutions")
    parser.add_argument(
        "--jobs", type=jobs, default="auto", help="submissions graded at a time (default: one per core)"
    )
    parser.add_argument("--force", action="store_true", help="grade again the submissions graded since they changed")
    parser.add_argument(
        "--timeout",
        type=float,
        default=submission.Settings.timeout,
        help="seconds for all the cells of one submission (default: %(default)s)",
    )
    parser.add_argument(
        "--call-timeout",
        type=float,
        default=submission.Settings.call_timeout,
        help="seconds for each call of a student's function by a check (default: %(default)s)",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=submission.Settings.budget,
        help="seconds for all the calls of all the checks of one submission (default: %(default)s)",
    )
    parser.add_argument(
        "--warm",
        type=positive,
        default=submission.Settings.warm,
        metavar="N",
        help="submissions each warm judge and worker template serve before fresh ones replace them; 1: fresh ones "
        "for each submission (default: %(default)s)",
    )
    parser.add_argument(
        "--no-sandbox", action="store_true", help="run students' code without bubblewrap: only for code you trust"
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="grade on a Dask cluster: its scheduler's address (tcp://host:8786), or local for a LocalCluster of "
        "--jobs worker processes (docs/instructors.md)",
    )
    args = parser.parse_args(argv)
    keras = metadata.version("keras")
    if Version(keras) < Version(SAFE_KERAS):  # the judge rebuilds students' models with Keras's safe mode
        print(f"python -m course_tools.autograde: grading needs Keras {SAFE_KERAS} or newer, whose safe mode refuses "
              f"TFSMLayer (a layer that runs a saved graph); this Python has {keras}: pip install -U keras",
              file=sys.stderr)
        return 2
    missing = sandbox.requirements() or (None if args.no_sandbox else sandbox.available())
    if missing:
        print(
            f"python -m course_tools.autograde: {missing} (--no-sandbox grades without it, for code you trust)",
            file=sys.stderr,
        )
        return 2
    settings = submission.Settings(
        timeout=args.timeout,
        call_timeout=args.call_timeout,
        budget=args.budget,
        warm=args.warm,
        sandboxed=not args.no_sandbox,
    )
    course = grade.Course(args.course.resolve(), args.assignment)
    try:
        grade.grade_class(course, args.jobs, settings, force=args.force, cluster=args.cluster)
    except KeyboardInterrupt:
        print("interrupted: run the same command again to grade the rest", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
