"""What a class got wrong, and who may have copied: one HTML page per assignment, opened from the course folder.

    python -m course_tools.report COURSE ASSIGNMENT        # make report COURSE=... ASSIGNMENT=...

writes ``COURSE/report-ASSIGNMENT.html``, one file with its charts inside, to open in a browser with no server.
It reads what ``make grade`` recorded of each submission beside the gradebook (``autograde.grade.MARKER``: its
status, and for each failed check the mistake it named, by kind: ``autograde.submission.mistake``), the gradebook's
scores (a score given by hand counts), and the answer cells of the submitted notebooks. For each exercise:

- how many students passed it, and for the others the mistakes the checks named, grouped by kind, with counts, a bar
  chart and one example message per kind (no student's name);
- pairs of answers that are alike, found by copydetect's winnowing: each answer against the published solution and
  against every other answer, with the release's stub as boilerplate.

Then the students the grader could not grade, and why. Every text a student wrote is escaped (Jinja's autoescape).
"""

import argparse
import base64
import io
import itertools
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import copydetect
import jinja2
import nbformat
import numpy as np
from matplotlib.figure import Figure
from nbgrader.api import Gradebook, MissingEntry

from course_tools import grading
from course_tools.autograde.grade import MARKER, Course
from course_tools.autograde.submission import read_submission

# copydetect's winnowing: fingerprints of 20 characters of normalised code (names become V, comments go), every one
# kept (a window of 1: a larger one picks fingerprints by Python's hash(), which changes from run to run). A pair is
# listed from SIMILAR on, as the larger of the two shares of each answer found in the other (a copy padded with code
# of its own lowers only its own share). Calibrated on three independently written answers per exercise and two
# disguised copies each (names changed, independent lines reordered): honest pairs reached 0.59, copies 0.90 at
# least, and an answer that follows the exercise's template line by line 0.75 against the solution. An answer of
# fewer than FEW tokens (after the stub's) is too short to tell a copy from the one way there is to write it; the
# short exercises' answers all had 104 or fewer, the others 136 or more.
NOISE, WINDOW = 20, 1
SIMILAR = 0.8
FEW = 120
# VGG16's docstring spells out its answer, block by block: an honest answer matches the solution token for token.
SPELLED_OUT = {"VGG16"}
SOLUTION = "the published solution"


@dataclass
class Submission:
    """One student's submission as the report reads it."""

    student: str
    status: str  # make grade's: "graded", "autograded (...)", "not gradable: ...", or "not graded by make grade"
    scores: dict = field(default_factory=dict)  # grade_id -> points (the gradebook's, a hand-given one included)
    mistakes: dict = field(default_factory=dict)  # grade_id -> the mistake its failed check named
    answers: dict = field(default_factory=dict)  # exercise name -> the answer cell's source

    @property
    def graded(self) -> bool:
        return not self.status.startswith("not ")


def read_class(course: Course) -> list[Submission]:
    """Every submission of the assignment that the gradebook holds, with what make grade recorded of it."""
    submissions = []
    with Gradebook(course.db_url) as gradebook:
        for student, path in course.submissions().items():
            marker = _marker(course.graded_folder(student) / MARKER)
            found = Submission(student, marker.get("status", "not graded by make grade"), mistakes=marker["mistakes"])
            try:
                notebook = gradebook.find_submission_notebook(path.stem, course.assignment, student)
                found.scores = {grade.name: grade.score for grade in notebook.grades}
            except MissingEntry:
                found.status = "not graded by make grade"
            try:
                cells = read_submission(path).cells
            except ValueError:
                cells = []
            found.answers = {_grade_id(cell): cell.source for cell in cells if _grade_id(cell)}
            submissions.append(found)
    return submissions


def _marker(path: Path) -> dict:
    try:
        marker = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"mistakes": {}}
    mistakes = marker.get("mistakes") if isinstance(marker.get("mistakes"), dict) else {}
    return {"status": str(marker.get("status", "graded")), "mistakes": mistakes}


def _grade_id(cell) -> str | None:
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    return nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None


@dataclass
class Kind:
    """One kind of mistake in one exercise: how many made it, and one of their messages."""

    name: str
    count: int
    message: str
    hint: str


def mistakes_by_kind(grade_id: str, graded: list[Submission], points: int) -> tuple[int, list[Kind]]:
    """(how many passed, the kinds of mistake of the others, most frequent first)."""
    passed = sum(submission.scores.get(grade_id) == points for submission in graded)
    failed = [s for s in graded if s.scores.get(grade_id) != points]
    named = [s.mistakes.get(grade_id) or {"kind": "not named", "message": "", "hint": ""} for s in failed]
    counts = Counter(mistake["kind"] for mistake in named)
    example = {}
    for mistake in named:
        example.setdefault(mistake["kind"], mistake)  # the first student's, in the order of their ids
    kinds = [
        Kind(kind, count, str(example[kind].get("message", "")), str(example[kind].get("hint", "")))
        for kind, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return passed, kinds


def bar_chart(kinds: list[Kind]) -> str:
    """A horizontal bar chart of the kinds' counts, as a PNG data URI for an <img> in the page."""
    figure = Figure(figsize=(6, 0.4 * len(kinds) + 0.8))
    axes = figure.add_subplot()
    axes.barh([kind.name for kind in kinds][::-1], [kind.count for kind in kinds][::-1], color="#c0504d")
    axes.set_xlabel("students")
    axes.xaxis.get_major_locator().set_params(integer=True)
    figure.tight_layout()
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


@dataclass
class Pair:
    """Two answers alike: ``first`` may be the published solution."""

    first: str
    second: str
    similarity: float
    first_code: str
    second_code: str


def similar_pairs(answers: dict[str, str], solution: str, stub: str) -> tuple[list[Pair], bool]:
    """(pairs from SIMILAR on, most alike first; whether the answers were long enough to compare). ``answers`` maps
    each student to an answer cell; each is compared with ``solution`` and with every other, ``stub`` not counted."""
    boilerplate = np.array(sorted(copydetect.CodeFingerprint("stub.py", NOISE, 1, fp=io.StringIO(stub)).hashes))
    prints = {
        who: copydetect.CodeFingerprint(f"{who}.py", NOISE, WINDOW, boilerplate=boilerplate, fp=io.StringIO(code))
        for who, code in {SOLUTION: solution, **answers}.items()
        if code.strip() != stub.strip()
    }
    if prints[SOLUTION].token_coverage < FEW:
        return [], False
    pairs = []
    for a, b in itertools.combinations(prints, 2):
        if min(prints[a].token_coverage, prints[b].token_coverage) < FEW:
            continue  # an answer left almost as handed out: nothing to compare
        _, shares, _ = copydetect.compare_files(prints[a], prints[b])
        if max(shares) >= SIMILAR:
            pairs.append(Pair(a, b, float(max(shares)), prints[a].raw_code, prints[b].raw_code))
    return sorted(pairs, key=lambda pair: -pair.similarity), True


def published(solution_cell: str) -> str:
    """The solution cell as the self-study course shows it: without nbgrader's marker lines."""
    return re.sub(rf"^\s*({grading.BEGIN}|{grading.END})\s*\n", "", solution_cell, flags=re.M)


def build(course: Course) -> str:
    """The report's HTML."""
    source, release = (nbformat.read(course.notebook(folder), as_version=4) for folder in ("source", "release"))
    stubs = {_grade_id(cell): cell.source for cell in release.cells if _grade_id(cell)}
    submissions = read_class(course)
    graded = [s for s in submissions if s.graded]
    exercises = []
    for exercise in grading.find_exercises(source):
        grade_id = f"check_{exercise.name}"
        passed, kinds = mistakes_by_kind(grade_id, graded, exercise.points)
        answers = {s.student: s.answers[exercise.name] for s in submissions if exercise.name in s.answers}
        solution = published(source.cells[exercise.solution].source)
        stub = stubs.get(exercise.name, "")
        pairs, compared = ([], False) if exercise.name in SPELLED_OUT else similar_pairs(answers, solution, stub)
        exercises.append(
            {
                "name": exercise.name,
                "points": exercise.points,
                "passed": passed,
                "kinds": kinds,
                "chart": bar_chart(kinds) if kinds else None,
                "pairs": pairs,
                "compared": compared,
            }
        )
    template = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined).from_string(TEMPLATE)
    return template.render(
        assignment=course.assignment,
        submitted=len(submissions),
        graded=len(graded),
        exercises=exercises,
        ungraded=[s for s in submissions if not s.graded],
        similar=SIMILAR,
        solution=SOLUTION,
    )


TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ assignment }}: what the class got wrong</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
td, th { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5rem; }
pre { background: #f6f6f6; padding: 0.5rem; overflow-x: auto; font-size: 0.8rem; margin: 0; }
.hint { color: #555; }
</style>
</head>
<body>
<h1>{{ assignment }}</h1>
<p>{{ submitted }} submissions, {{ graded }} graded.</p>
<nav><ul>
{% for exercise in exercises %}<li><a href="#{{ exercise.name }}">{{ exercise.name }}</a></li>{% endfor %}
<li><a href="#not-graded">Not graded</a></li>
</ul></nav>
{% for exercise in exercises %}
<section id="{{ exercise.name }}">
<h2>{{ exercise.name }} ({{ exercise.points }} points)</h2>
<p class="passed">Passed: {{ exercise.passed }} of {{ graded }}.</p>
{% if exercise.kinds %}
<h3>Mistakes the checks named</h3>
<img src="{{ exercise.chart }}" alt="students per kind of mistake in {{ exercise.name }}">
<table class="kinds">
<tr><th>kind</th><th>students</th><th>one of their messages</th></tr>
{% for kind in exercise.kinds %}
<tr><td>{{ kind.name }}</td><td>{{ kind.count }}</td>
<td>{{ kind.message }}{% if kind.hint %}<br><span class="hint">Hint: {{ kind.hint }}</span>{% endif %}</td></tr>
{% endfor %}
</table>
{% endif %}
<h3>Answers alike</h3>
{% if not exercise.compared %}
<p>Not compared: its answers are short, or spelled out by the exercise, and honest students write them alike.</p>
{% elif not exercise.pairs %}
<p class="no-pairs">No pair of answers is {{ "%.0f" | format(similar * 100) }}% alike or more.</p>
{% else %}
{% for pair in exercise.pairs %}
<div class="similar">
<p><b>{{ pair.first }}</b> and <b>{{ pair.second }}</b>: {{ "%.0f" | format(pair.similarity * 100) }}% alike.</p>
<div class="pair"><pre>{{ pair.first_code }}</pre><pre>{{ pair.second_code }}</pre></div>
</div>
{% endfor %}
{% endif %}
</section>
{% endfor %}
<section id="not-graded">
<h2>Not graded</h2>
{% if ungraded %}
<table>
<tr><th>student</th><th>why</th></tr>
{% for submission in ungraded %}<tr><td>{{ submission.student }}</td><td>{{ submission.status }}</td></tr>{% endfor %}
</table>
{% else %}
<p>Every submission was graded.</p>
{% endif %}
</section>
</body>
</html>
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("course", type=Path, help="the nbgrader course folder")
    parser.add_argument("assignment", help="the assignment, e.g. 02_residual_blocks")
    args = parser.parse_args(argv)
    course = Course(args.course.resolve(), args.assignment)
    page = course.root / f"report-{args.assignment}.html"
    page.write_text(build(course))
    print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
