"""Submissions in from Canvas and Moodle, grades out to them (``course_tools.lms``), with the real nbgrader.

Each archive is laid out as the LMS writes it (the layouts ``course_tools.lms`` cites: Canvas's
lib/content_zipper.rb, Moodle's mod/assign downloader), each roster as the LMS exports it, and every file of an
archive must come out either collected or in the report. Grades go into nbgrader's gradebook through its API (no
grading runs), and come out with the columns each LMS's import reads, and the roster's ids as they were.
"""

import csv
import os
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

from course_tools import lms, nbgrader_course

ROOT = Path(__file__).resolve().parent.parent
NAME = "02_residual_blocks"
NOTEBOOK = f"{NAME}.ipynb"


def notebook(text: str) -> bytes:
    """A small notebook that says whose it is, to tell which file was collected."""
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)])).encode()


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:  # both LMSs write a byte-order mark
        csv.writer(handle).writerows(rows)
    return path


def lms_command(*args) -> subprocess.CompletedProcess:
    """``python -m course_tools.lms ARGS``, as make collect and make export run it: in a process of its own, since
    nbgrader's applications configure the logging of the process they run in, which pytest's capture must not share."""
    return subprocess.run(
        [sys.executable, "-m", "course_tools.lms", *map(str, args)], capture_output=True, text=True, timeout=300
    )


def with_alembic(patch: pytest.MonkeyPatch) -> None:
    """nbgrader makes a new gradebook with alembic, one of this Python's scripts (lms.main puts them first too)."""
    patch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))


@pytest.fixture(scope="module")
def new_gradebook(tmp_path_factory) -> bytes:
    """An empty gradebook, made once: nbgrader runs alembic in a process of its own for it, which takes seconds."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    with pytest.MonkeyPatch.context() as patch:
        with_alembic(patch)
        Gradebook(f"sqlite:///{path}").close()
    return path.read_bytes()


@pytest.fixture
def course(tmp_path, monkeypatch, new_gradebook) -> Path:
    """A course folder with 02 as its assignment, as ``make release`` begins it, and an empty gradebook."""
    with_alembic(monkeypatch)  # for this process and the commands it starts; undone after the test
    solutions = tmp_path / "notebooks"
    solutions.mkdir()
    (solutions / NOTEBOOK).write_bytes((ROOT / "notebooks" / NOTEBOOK).read_bytes())
    nbgrader_course.init_course(tmp_path / "course", solutions)
    (tmp_path / "course" / "gradebook.db").write_bytes(new_gradebook)
    return tmp_path / "course"


# Canvas's gradebook export: the student columns, the assignment as "title (id)", Canvas's own score columns, the
# "Points Possible" row; a student who handed in nothing (1239).
CANVAS_ROSTER = [
    [*lms.CANVAS_STUDENT, f"{NAME} (4501)", "Current Score", "Final Score"],
    ["    Points Possible", "", "", "", "", "10.00", "(read only)", "(read only)"],
    ["Lovelace, Ada", "1234", "S-1", "ada@uni.example", "CNN 101", "", "", ""],
    ["Hopper, Grace", "1235", "S-2", "grace@uni.example", "CNN 101", "", "", ""],
    ["Turing, Alan", "1236", "S-3", "alan@uni.example", "CNN 102", "", "", ""],
    ["Noether, Emmy", "1237", "S-4", "emmy@uni.example", "CNN 102", "", "", ""],
    ["Babbage, Charles", "1238", "S-5", "charles@uni.example", "CNN 102", "", "", ""],
    ["Hamilton, Margaret", "1239", "S-6", "margaret@uni.example", "CNN 101", "", "", ""],
]
# Canvas's "Download Submissions": <name>_[LATE_]<user id>_<file id>_<file name>, all at the archive's top.
CANVAS_FILES = {
    f"lovelaceada_1234_5001_{NOTEBOOK}": "ada",
    "lovelaceada_1234_5002_notes.pdf": "ada's notes",
    f"hoppergrace_LATE_1235_5003_{NAME} (1).ipynb": "grace",  # late, and the browser's copy of the name
    f"turingalan_1236_5004_{NAME}.ipynb": "alan",
    "turingalan_1236_5005_Untitled.ipynb": "alan's scratch",  # a second notebook
    "noetheremmy_1237_5006_Untitled.ipynb": "emmy",  # her only notebook, under another name
    "babbagecharles_1238_5007_a.ipynb": "charles a",  # two notebooks, neither named as the assignment's
    "babbagecharles_1238_5008_b.ipynb": "charles b",
    f"strangerdanger_9999_5009_{NAME}.ipynb": "not on the roster",
    f"anon_x1y2z_5010_{NAME}.ipynb": "anonymous grading",
    "readme.txt": "no student's name",
}


def test_canvas_archive_into_submitted(course, tmp_path):
    roster = write_csv(tmp_path / "gradebook.csv", CANVAS_ROSTER)
    files = {name: notebook(text) if name.endswith(".ipynb") else text.encode() for name, text in CANVAS_FILES.items()}
    archive = write_zip(tmp_path / "submissions.zip", files)
    done = lms_command("collect", course, NAME, archive, "--lms", "canvas", "--roster", roster)
    assert done.returncode == 0, done.stderr

    # the Canvas user ID as the student id; no timestamp.txt: Canvas's archive holds no submission time
    submitted = {p.relative_to(course / "submitted").as_posix(): p for p in course.rglob("submitted/**/*.*")}
    assert sorted(submitted) == [f"{student}/{NAME}/{NOTEBOOK}" for student in ("1234", "1235", "1236", "1237")]
    whose = {name.split("/")[0]: nbformat.read(p, as_version=4).cells[0].source for name, p in submitted.items()}
    assert whose == {"1234": "ada", "1235": "grace", "1236": "alan", "1237": "emmy"}

    out = done.stdout
    notes = {
        "lovelaceada_1234_5002_notes.pdf [Ada Lovelace (1234)]: not collected: not a notebook",
        f"hoppergrace_LATE_1235_5003_{NAME} (1).ipynb [Grace Hopper (1235)]: collected as {NOTEBOOK}; "
        "late: Canvas marks it LATE",
        "turingalan_1236_5005_Untitled.ipynb [Alan Turing (1236)]: not collected: another notebook of the same "
        f"student, whose {NOTEBOOK} is turingalan_1236_5004_{NOTEBOOK}",
        f"noetheremmy_1237_5006_Untitled.ipynb [Emmy Noether (1237)]: collected as {NOTEBOOK}",
        f"strangerdanger_9999_5009_{NOTEBOOK}: not collected: matches nobody: Canvas id 9999 is not on the roster",
        f"anon_x1y2z_5010_{NOTEBOOK}: not collected: matches nobody: anonymous grading is on",
        "readme.txt: not collected: matches nobody: not named as Canvas names a student's file",
    }
    for note in notes:
        assert note in out
    for file in ("babbagecharles_1238_5007_a.ipynb", "babbagecharles_1238_5008_b.ipynb"):
        assert (
            f"{file} [Charles Babbage (1238)]: not collected: 2 notebooks, none named {NOTEBOOK}: copy the right one "
            f"to submitted/1238/{NAME}/{NOTEBOOK}"
        ) in out
    assert "collected 4 notebooks of the roster's 6 students" in out
    assert "nothing handed in by 1: Margaret Hamilton (1239)" in out
    reported = {line.strip().split(" [")[0].split(": ")[0] for line in out.splitlines() if line.startswith("  ")}
    assert set(CANVAS_FILES) - reported == {f"lovelaceada_1234_5001_{NOTEBOOK}", f"turingalan_1236_5004_{NOTEBOOK}"}

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        names = {s.id: (s.first_name, s.last_name) for s in gradebook.students}
    assert names["1234"] == ("Ada", "Lovelace") and names["1239"] == ("Margaret", "Hamilton") and len(names) == 6


# The assignment's grading worksheet: "Participant <id>", the name, the email address, the submission's time as
# English Moodle writes it, "-" where there is none.
MOODLE_ROSTER = [
    ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade", "Grade can be changed",
     lms.MOODLE_SUBMITTED, "Last modified (grade)", "Feedback comments"],
    ["Participant 501", "Ada Lovelace", "ada@uni.example", "Submitted for grading", "", "10.00", "Yes",
     "Monday, 5 February 2024, 3:15 PM", "-", ""],
    ["Participant 502", "Grace Brewster Hopper", "grace@uni.example", "Submitted for grading", "", "10.00", "Yes",
     "Tuesday, 6 February 2024, 11:59 PM", "-", ""],
    ["Participant 503", "Alan Turing", "alan@uni.example", "No submission", "", "10.00", "Yes", "-", "-", ""],
]  # fmt: skip
# Moodle's folder per student and plugin: 4.2 and later, 3.1 to 4.1 (a trailing "_"), and the flat files of
# "Download submissions in folders" turned off.
MOODLE_LAYOUTS = {
    "4.2": "{name}_{id}_assignsubmission_{plugin}/{file}",
    "3.1": "{name}_{id}_assignsubmission_{plugin}_/{file}",
    "flat": "{name}_{id}_assignsubmission_{plugin}_{file}",
}


@pytest.mark.parametrize("layout", sorted(MOODLE_LAYOUTS))
def test_moodle_archive_into_submitted(course, tmp_path, layout):
    roster = write_csv(tmp_path / "worksheet.csv", MOODLE_ROSTER)
    entries = [
        ("Ada Lovelace", 501, "file", NOTEBOOK, "ada"),
        ("Ada Lovelace", 501, "onlinetext", "onlinetext.html", "ada's text"),
        ("Grace Brewster Hopper", 502, "file", f"{NAME} (1).ipynb", "grace's copy"),
        ("Grace Brewster Hopper", 502, "file", NOTEBOOK, "grace"),
        ("Someone Else", 999, "file", NOTEBOOK, "not on the worksheet"),
    ]
    archive = write_zip(
        tmp_path / "CNN101-Residual blocks-77.zip",
        {
            MOODLE_LAYOUTS[layout].format(name=name, id=id, plugin=plugin, file=file): notebook(text)
            for name, id, plugin, file, text in entries
        },
    )
    done = lms_command(
        "collect", course, NAME, archive, "--lms", "moodle", "--roster", roster, "--timezone", "Europe/Berlin"
    )
    assert done.returncode == 0, done.stderr

    folders = {p.parent.parent.name: p.parent for p in (course / "submitted").glob(f"*/{NAME}/{NOTEBOOK}")}
    assert sorted(folders) == ["ada@uni.example", "grace@uni.example"]  # the email address, not the participant id
    assert nbformat.read(folders["grace@uni.example"] / NOTEBOOK, as_version=4).cells[0].source == "grace"
    # 3:15 PM in Berlin, in UTC as nbgrader keeps it; the archive's file times (the download's) play no part
    assert (folders["ada@uni.example"] / "timestamp.txt").read_text() == "2024-02-05 14:15:00"
    assert (folders["grace@uni.example"] / "timestamp.txt").read_text() == "2024-02-06 22:59:00"

    out = done.stdout
    name = MOODLE_LAYOUTS[layout].format
    for note in (
        f"{name(name='Ada Lovelace', id=501, plugin='onlinetext', file='onlinetext.html')} "
        "[Ada Lovelace (ada@uni.example)]: not collected: not a notebook",
        f"{name(name='Grace Brewster Hopper', id=502, plugin='file', file=f'{NAME} (1).ipynb')} [Grace Brewster Hopper "
        f"(grace@uni.example)]: not collected: another notebook of the same student",
        f"{name(name='Someone Else', id=999, plugin='file', file=NOTEBOOK)}: not collected: matches nobody: "
        "Moodle id 999 is not on the roster",
        "nothing handed in by 1: Alan Turing (alan@uni.example)",
    ):
        assert note in out

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        grace = gradebook.find_student("grace@uni.example")
        assert (grace.first_name, grace.last_name, grace.email) == ("Grace Brewster", "Hopper", "grace@uni.example")


def test_collect_refuses_a_roster_of_the_other_lms(course, tmp_path):
    roster = write_csv(tmp_path / "worksheet.csv", MOODLE_ROSTER)
    archive = write_zip(tmp_path / "submissions.zip", {})
    refused = lms_command("collect", course, NAME, archive, "--lms", "canvas", "--roster", roster)
    assert refused.returncode != 0
    assert "no column 'Student', 'ID', 'SIS User ID', 'SIS Login ID', 'Section'" in refused.stderr, refused.stderr
    assert not (course / "downloaded").exists()


def test_a_second_download_needs_force(course, tmp_path):
    roster = write_csv(tmp_path / "gradebook.csv", CANVAS_ROSTER)

    def collect(text: str, *args: str) -> subprocess.CompletedProcess:
        archive = write_zip(tmp_path / f"{text}.zip", {f"lovelaceada_1234_5001_{NOTEBOOK}": notebook(text)})
        return lms_command("collect", course, NAME, archive, "--lms", "canvas", "--roster", roster, *args)

    assert collect("first").returncode == 0
    refused = collect("second")
    assert refused.returncode != 0 and "first.zip: --force replaces it" in refused.stderr, refused.stderr
    assert collect("second", "--force").returncode == 0
    collected = course / "submitted" / "1234" / NAME / NOTEBOOK
    assert nbformat.read(collected, as_version=4).cells[0].source == "second"
    assert [p.name for p in (course / "downloaded" / NAME / "archive").iterdir()] == ["second.zip"]


def graded(course: Path, scores: dict[str, float | None], names: dict[str, tuple[str, str, str | None]]) -> None:
    """The gradebook as grading leaves it: the assignment (two checks, 4 + 6 points), each student, and a score
    for each one in ``scores`` (None: a check that waits to be graded by hand)."""
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use, as in nbgrader autograde
        gradebook.add_assignment(NAME)
        gradebook.add_notebook(NAME, NAME)
        for check, points in (("check_identity_block", 4), ("check_ResNet50", 6)):
            gradebook.add_grade_cell(check, NAME, NAME, max_score=points, cell_type="code")
        for student, (first, last, email) in names.items():
            gradebook.update_or_create_student(student, first_name=first, last_name=last, email=email)
        for student, score in scores.items():
            gradebook.add_submission(NAME, student)
            identity, resnet = (
                gradebook.find_grade(c, NAME, NAME, student) for c in ("check_identity_block", "check_ResNet50")
            )
            identity.auto_score, resnet.auto_score = 4, score
            identity.needs_manual_grade, resnet.needs_manual_grade = False, score is None
        gradebook.db.commit()


def read_rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_canvas_export(course, tmp_path):
    roster = write_csv(tmp_path / "gradebook.csv", CANVAS_ROSTER)
    people = lms.read_roster(roster, "canvas")
    graded(
        course,
        {"1234": 6, "1235": 2.5, "1236": None},
        {p.student_id: (p.first_name, p.last_name, None) for p in people},
    )
    out = tmp_path / "canvas.csv"
    done = lms_command("export", course, "--lms", "canvas", "--roster", roster, "--to", out)
    assert done.returncode == 0, done.stderr

    rows = read_rows(out)
    # the columns Canvas's gradebook import reads, the assignment by its Canvas id, and nbgrader's points
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{NAME} (4501)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "10"]
    assert [row[:5] for row in rows[2:]] == [row[:5] for row in CANVAS_ROSTER[2:]]  # the roster's ids, as they were
    # 1236 waits to be graded by hand and 1237-1239 handed in nothing: empty cells leave Canvas's grades alone
    assert [row[5] for row in rows[2:]] == ["10", "6.5", "", "", "", ""]


def test_moodle_export(course, tmp_path):
    roster = write_csv(tmp_path / "worksheet.csv", MOODLE_ROSTER)
    people = lms.read_roster(roster, "moodle")
    names = {p.student_id: (p.first_name, p.last_name, p.email) for p in people}
    graded(course, {"ada@uni.example": 6, "grace@uni.example": 0}, names)
    out = tmp_path / "moodle.csv"
    done = lms_command("export", course, "--lms", "moodle", "--to", out)
    assert done.returncode == 0, done.stderr

    rows = read_rows(out)
    assert rows[0] == ["First name", "Last name", "Email address", NAME]  # Moodle's own export's first columns
    assert sorted(rows[1:]) == [
        ["Ada", "Lovelace", "ada@uni.example", "10"],
        ["Alan", "Turing", "alan@uni.example", ""],
        ["Grace Brewster", "Hopper", "grace@uni.example", "4"],
    ]
    assert {row[2] for row in rows[1:]} == {row[2] for row in MOODLE_ROSTER[1:]}  # the worksheet's ids round trip


def test_nbgrader_export_command(course, tmp_path):
    """The plugin as nbgrader's own command line runs it, roster and all."""
    roster = write_csv(tmp_path / "gradebook.csv", CANVAS_ROSTER)
    graded(course, {"1234": 6}, {"1234": ("Ada", "Lovelace", None)})
    command = ["export", "--exporter", "course_tools.lms.CanvasExport", f"--CanvasExport.roster={roster}"]
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *command, "--to", "canvas.csv"], cwd=course, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert read_rows(course / "canvas.csv")[2] == [*CANVAS_ROSTER[2][:5], "10"]
