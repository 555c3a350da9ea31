"""The class report (``make report``, ``course_tools.report``) of a class graded for real, read in Chromium.

The class hands in 02 (the residual blocks), whose answers are long enough to compare. Every answer is a whole cell
in ``report_class/<exercise>/<student>.py``, written independently in a style of its own, except hal's, which are
ned's with every name changed and independent lines reordered:

- ida, ned: correct; hal: correct, copied from ned; bob: correct blocks, a stage of ResNet-50 one block short;
- dan: the blocks written the way the exercise's template goes, each with a typical mistake, ResNet-50 left as
  handed out; carol: nothing answered; erin: a file that is not a notebook.

The page must count each kind of mistake right, flag ned and hal in each exercise and no other pair, and list erin.
"""

import os
import shutil
from pathlib import Path

import pytest
from test_nbgrader_course import NEEDS_SANDBOX, hand_in, make_course, run

pytestmark = [pytest.mark.end_to_end, NEEDS_SANDBOX]  # as tests/test_nbgrader_course.py

NB02 = "02_residual_blocks"
ANSWERS = Path(__file__).resolve().parent / "report_class"
EXERCISES = ("identity_block", "convolutional_block", "ResNet50")
# Typical mistakes planted into an answer: {(student, exercise): (old, new)}.
MISTAKES = {
    ("bob", "ResNet50"): ('"blocks": 6', '"blocks": 5'),
    ("dan", "identity_block"): ("    X = layers.Add()([X, X_shortcut])\n    X = layers.Activation('relu')(X)\n",
                                "    X = layers.Add()([X, X_shortcut])\n"),
    ("dan", "convolutional_block"): (
        "    X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)\n", ""
    ),
}  # fmt: skip
CHROMIUM = shutil.which("chromium")


def answers(student: str) -> dict:
    """The student's answer cells, by exercise, with their planted mistakes."""
    cells = {}
    for exercise in EXERCISES:
        path = ANSWERS / exercise / f"{student}.py"
        if not path.exists():
            continue
        cells[exercise] = path.read_text()
        if (student, exercise) in MISTAKES:
            old, new = MISTAKES[student, exercise]
            assert old in cells[exercise], (student, exercise)
            cells[exercise] = cells[exercise].replace(old, new)
    return cells


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    course = make_course(tmp_path_factory.mktemp("report"), notebooks=(NB02,))
    for student in ("ida", "ned", "hal", "bob", "dan"):
        hand_in(course, student, NB02, unsolved=EXERCISES, cells=answers(student))
    hand_in(course, "carol", NB02, answered=False)
    (course / "submitted" / "erin" / NB02).mkdir(parents=True)
    (course / "submitted" / "erin" / NB02 / f"{NB02}.ipynb").write_text('{"cells": [')
    graded = run(course, "course_tools.autograde", ".", NB02, "--jobs", "2")
    assert graded.returncode == 0, graded.stderr[-3000:]
    made = run(course, "course_tools.report", ".", NB02)
    assert made.returncode == 0, made.stderr[-3000:]
    return course / f"report-{NB02}.html"


@pytest.fixture(scope="module")
def page(report):
    if CHROMIUM is None:  # under make test (COURSE_REQUIRE_SYSTEM, .ci/system-packages) a failure, not a skip
        missing = pytest.fail if os.environ.get("COURSE_REQUIRE_SYSTEM") else pytest.skip
        missing("Debian's chromium is not installed (make test installs it as root, or names the command to run)")
    from playwright.sync_api import sync_playwright
    from test_site import CHROMIUM_ARGS

    problems = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        shown = chromium.new_page()
        shown.on("console", lambda message: problems.append(f"console {message.type}: {message.text}"))
        shown.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        shown.on("request", lambda request: None if request.url.startswith(("file:", "data:")) else
                 problems.append(f"left the file: {request.url}"))  # fmt: skip
        shown.goto(report.as_uri(), wait_until="load")
        yield shown, problems
        chromium.close()


def kinds(page, exercise: str) -> dict:
    """{kind: students} of the exercise's table of mistakes, as the browser shows it."""
    rows = page.locator(f"#{exercise} table.kinds tr").all_inner_texts()[1:]
    return {row.split("\t")[0]: int(row.split("\t")[1]) for row in rows}


def test_the_report_counts_each_kind_of_mistake_the_checks_named(page):
    shown, problems = page
    assert shown.title() == f"{NB02}: what the class got wrong"
    assert shown.get_by_text("7 submissions, 6 graded.").is_visible()
    assert shown.locator("#identity_block .passed").inner_text() == "Passed: 4 of 6."
    assert kinds(shown, "identity_block") == {"no_relu_after_add": 1, "not_attempted": 1}
    assert shown.locator("#convolutional_block .passed").inner_text() == "Passed: 4 of 6."
    assert kinds(shown, "convolutional_block") == {"shortcut_without_batch_norm": 1, "not_attempted": 1}
    assert shown.locator("#ResNet50 .passed").inner_text() == "Passed: 3 of 6."
    assert kinds(shown, "ResNet50") == {"not_attempted": 2, "missing_blocks": 1}
    example = shown.locator("#ResNet50 table.kinds").inner_text()
    assert "one residual block missing" in example and "bob" not in example  # a message, and no name
    charts = shown.eval_on_selector_all("section img", "images => images.map(image => image.naturalWidth)")
    assert len(charts) == 3 and all(width > 0 for width in charts)
    assert not problems, problems


def test_the_report_flags_the_copy_and_nothing_else(page):
    shown, _ = page
    for exercise in EXERCISES:
        flagged = shown.locator(f"#{exercise} .similar b").all_inner_texts()
        assert sorted(flagged) == ["hal", "ned"], (exercise, flagged)
        score = shown.locator(f"#{exercise} .similar p").inner_text()
        print(exercise, score)  # the closing note quotes these
    assert shown.locator("#identity_block .pair pre").first.is_visible()


def test_the_report_lists_who_could_not_be_graded(page):
    shown, _ = page
    row = shown.locator("#not-graded tr", has_text="erin").inner_text()
    assert "not gradable: not a notebook that can be read" in row
