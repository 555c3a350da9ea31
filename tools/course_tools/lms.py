"""Submissions in from Canvas or Moodle, grades out to them.

    python -m course_tools.lms collect ../grading 02_residual_blocks submissions.zip --lms canvas --roster gradebook.csv
    python -m course_tools.lms export ../grading --lms canvas --roster gradebook.csv --to canvas-grades.csv

``collect`` puts the LMS's "download all submissions" archive into ``submitted/<student>/<assignment>/`` with
nbgrader's own ``zip_collect`` and this LMS's collector plugin (``CanvasCollector``, ``MoodleCollector``), adds the
roster's students to the gradebook with their names, and lists every file it did not collect as it was named: files
that match nobody, a second notebook of one student, a notebook under another name, anything that is not a notebook.
``export`` runs nbgrader's ``export`` with ``CanvasExport`` or ``MoodleExport``, which write the CSV that the LMS's
grade import reads; ``nbgrader export --exporter course_tools.lms.CanvasExport`` does the same.

The nbgrader student id is Canvas's user ID (the number in Canvas's file names and the "ID" column of its gradebook
export). In Moodle it is the student's email address: the participant number in Moodle's file names is drawn anew
for each assignment, and the assignment's grading worksheet, the roster here, maps it to the student.
"""

import argparse
import contextlib
import csv
import os
import re
import shutil
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import ExportApp, ZipCollectApp
from nbgrader.plugins import ExportPlugin, FileNameCollectorPlugin
from nbgrader.utils import find_all_notebooks
from traitlets import Unicode

# Canvas's gradebook export (Grades > Export) starts with these columns, and its gradebook import wants them
# (instructure/canvas-lms, app/models/gradebook_importer.rb: "Student", "ID", then the SIS ids, then "Section").
CANVAS_STUDENT = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# Moodle's grading worksheet (the assignment's "Download grading worksheet"): "Participant 123456", the name, and the
# identity fields the site shows (the email address by default); the submission's time as userdate() writes it in
# English (langconfig's strftimedaydatetime, '%A, %d %B %Y, %I:%M %p', day and hour without a leading zero).
MOODLE_WORKSHEET = ("Identifier", "Full name", "Email address")
MOODLE_SUBMITTED, MOODLE_TIME = "Last modified (submission)", "%A, %d %B %Y, %I:%M %p"
MOODLE_GRADES = ("First name", "Last name", "Email address")  # the first columns of Moodle's own grade export
ROSTERS = {
    "canvas": "Canvas's gradebook export (Grades > Export > Export Entire Gradebook)",
    "moodle": "the assignment's grading worksheet (View all submissions > Download grading worksheet)",
}
# The endings a copy of a file gets: a browser's " (1)", Canvas's "-1" for a file handed in again, Jupyter's "-Copy1".
COPY = r"(?: \(\d+\)|-\d+|-Copy\d*)?"


@dataclass(frozen=True)
class Person:
    """A student on an LMS's roster."""

    student_id: str  # nbgrader's: Canvas's user ID; in Moodle, the email address
    key: str  # the number the LMS's archive names the student by
    first_name: str
    last_name: str
    email: str | None
    submitted: str | None  # Moodle's "Last modified (submission)", as the worksheet writes it
    row: dict  # the roster's own columns, written back as they are

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.student_id})".strip()


@dataclass(frozen=True)
class HandedIn:
    """A notebook of the archive that names a student of the roster."""

    path: str  # as zip_collect passes it
    file: str  # as the LMS named it in the archive
    match: re.Match  # of the collector's named_regexp

    @property
    def name(self) -> str:
        return Path(self.match["file_id"]).name


@dataclass(frozen=True)
class Outcome:
    """What collecting did with one file of the archive."""

    file: str  # as the LMS named it in the archive
    student: Person | None
    collected: bool
    note: str  # why it was not collected, or what to know of it; "" when it went in as it was


def read_table(path: Path) -> tuple[list[str], list[dict]]:
    # utf-8-sig: both LMSs' exports may open with a byte-order mark
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def read_roster(path: Path, lms: str) -> list[Person]:
    """The students of ``path``, the LMS's roster: Canvas's gradebook export, or Moodle's grading worksheet."""
    header, rows = read_table(Path(path))
    missing = [column for column in (CANVAS_STUDENT if lms == "canvas" else MOODLE_WORKSHEET) if column not in header]
    if missing:
        raise ValueError(f"{path}: no column {', '.join(map(repr, missing))}: expected {ROSTERS[lms]}")
    people = []
    for row in rows:
        if lms == "canvas":
            key = row["ID"].strip()
            if not key.isdigit():  # the "Points Possible" row, and the posting policy's
                continue
            last, _, first = row["Student"].partition(", ")  # Canvas's sortable name
            people.append(Person(key, key, first.strip(), last.strip(), None, None, row))
            continue
        number = re.search(r"(\d+)\s*$", row["Identifier"])
        if not number:
            continue
        email = row["Email address"].strip()
        if not email:
            raise ValueError(
                f"{path}: {row['Identifier']} has no email address, the student's id here: the worksheet shows it "
                "unless the site hides it, or blind marking does"
            )
        first, _, last = row["Full name"].strip().rpartition(" ")
        submitted = row.get(MOODLE_SUBMITTED, "").strip()
        people.append(Person(email, number[1], first, last, email, submitted if submitted != "-" else None, row))
    return people


def collect_path(app: ZipCollectApp, step: str) -> str:
    """A folder of ``zip_collect``'s, built as nbgrader builds it (the same string, to match the files it passes)."""
    structure = os.path.join(app.coursedir.root, app.collect_directory_structure)
    return structure.format(
        downloaded=app.downloaded_directory, assignment_id=app.coursedir.assignment_id, collect_step=step
    )


class LmsCollector(FileNameCollectorPlugin):
    """``zip_collect`` plugin: matches the files of an LMS's archive to its roster's students.

    It sees the whole archive before it answers for one file, so that it can choose between two notebooks of one
    student, collect a lone notebook under another name as the assignment's, and keep a record of every file
    (``outcomes``).
    """

    lms = ""  # "canvas" or "moodle"
    roster = Unicode("", help=f"the LMS's roster: {ROSTERS['canvas']}, or {ROSTERS['moodle']}").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.outcomes: list[Outcome] = []
        self._answers: dict[str, dict] | None = None

    def collect(self, submitted_file: str) -> dict | None:
        if self._answers is None:
            self._answers = self._plan()
        return self._answers.get(submitted_file)

    def _plan(self) -> dict[str, dict]:
        app = self.parent
        if not self.roster:
            raise ValueError(f"{type(self).__name__} needs --{type(self).__name__}.roster=<{ROSTERS[self.lms]}>")
        people = {person.key: person for person in read_roster(Path(self.roster), self.lms)}
        source = app.coursedir.format_path(app.coursedir.source_directory, ".", app.coursedir.assignment_id)
        notebooks = find_all_notebooks(source)
        if len(notebooks) != 1:
            raise ValueError(f"{source}: an assignment of one notebook expected, found {notebooks}")
        notebook = notebooks[0]
        extracted = collect_path(app, app.extracted_directory)
        handed_in = defaultdict(list)  # student id: [HandedIn]
        for folder, _, names in os.walk(extracted):
            for name in names:
                path = os.path.join(folder, name)
                parts = Path(os.path.relpath(path, extracted)).parts
                file = "/".join(parts[1:] if len(parts) > 1 else parts)  # under the archive's own folder
                match = re.fullmatch(self.named_regexp, file)
                person = people.get(match["student_id"]) if match else None
                if person is None:
                    lms = self.lms.capitalize()
                    why = self._nobody(file) if not match else f"{lms} id {match['student_id']} is not on the roster"
                    self.outcomes.append(Outcome(file, None, False, f"matches nobody: {why}"))
                elif not self._is_notebook(match):
                    self.outcomes.append(Outcome(file, person, False, "not a notebook"))
                else:
                    handed_in[person.student_id].append(HandedIn(path, file, match))
        answers = {}
        for found in handed_in.values():
            person = people[found[0].match["student_id"]]
            chosen = self._choose(found, notebook)
            for one in found:
                if chosen is None:
                    folder = f"submitted/{person.student_id}/{app.coursedir.assignment_id}/{notebook}"
                    note = f"{len(found)} notebooks, none named {notebook}: copy the right one to {folder}"
                elif one is not chosen:
                    note = f"another notebook of the same student, whose {notebook} is {chosen.file}"
                else:
                    timestamp, notes = self._timestamp(person, one.match)
                    if one.name != notebook:
                        notes = [f"collected as {notebook}", *notes]
                    answers[one.path] = {"student_id": person.student_id, "file_id": notebook, "timestamp": timestamp}
                    self.outcomes.append(Outcome(one.file, person, True, "; ".join(notes)))
                    continue
                self.outcomes.append(Outcome(one.file, person, False, note))
        self.outcomes.sort(key=lambda outcome: outcome.file)
        for outcome in self.outcomes:
            if outcome.note:
                self.log.warning("%s", describe(outcome))
        return answers

    def _choose(self, found: list[HandedIn], notebook: str) -> HandedIn | None:
        """The student's notebook to collect: the only one; else the one named as the assignment's, else one named
        as its copy (the latest upload first); else none."""
        if len(found) == 1:
            return found[0]
        named = [f for f in found if re.fullmatch(re.escape(Path(notebook).stem) + COPY + r"\.ipynb", f.name, re.I)]
        exact = [f for f in named if f.name == notebook]
        return max(exact or named, key=lambda f: self._order(f.match)) if named else None

    def _nobody(self, file: str) -> str:
        return f"not named as {self.lms.capitalize()} names a student's file"

    def _is_notebook(self, match: re.Match) -> bool:
        return match["file_id"].endswith(".ipynb")

    def _order(self, match: re.Match) -> int:
        return 0

    def _timestamp(self, person: Person, match: re.Match) -> tuple[str | None, list[str]]:
        """The submission's time for nbgrader's timestamp.txt (None: unknown), and what the report says of it."""
        return None, []


class CanvasCollector(LmsCollector):
    """``zip_collect`` plugin for Canvas's "Download Submissions" archive, with Canvas's gradebook export as roster.

    Canvas names each file ``<name>_[LATE_]<user id>_<file id>_<file name>`` (instructure/canvas-lms,
    lib/content_zipper.rb: ``get_filename`` and ``add_upload_submission``; the name is the sortable name, lower
    case, word characters only). Its archive holds no submission time: ``LATE`` is all it says, and the report shows
    it; Canvas keeps the times, and its late policy, itself.
    """

    lms = "canvas"
    named_regexp = Unicode(
        r"(?!(?:LATE_)?anon_)(?P<name>[^/]*?)_(?:(?P<late>LATE)_)?(?P<student_id>\d+)_(?P<order>\d+)_(?P<file_id>.+)",
        help="Canvas's file names; student_id: the Canvas user ID, order: the file's id (a later upload, a larger id)",
    ).tag(config=True)

    def _nobody(self, file: str) -> str:
        if re.match(r"(LATE_)?anon_", file):
            return "anonymous grading is on: Canvas names no student (download again once it is off)"
        return super()._nobody(file)

    def _order(self, match: re.Match) -> int:
        return int(match["order"])

    def _timestamp(self, person: Person, match: re.Match) -> tuple[str | None, list[str]]:
        return None, ["late: Canvas marks it LATE"] if match["late"] else []


class MoodleCollector(LmsCollector):
    """``zip_collect`` plugin for Moodle's "Download all submissions" archive, with the assignment's grading
    worksheet as roster.

    Moodle puts each student's files in a folder ``<Full name>_<participant id>_assignsubmission_file`` (Moodle 4.2
    and later: mod/assign/classes/downloader.php), ``..._assignsubmission_file_`` (3.1 to 4.1,
    ``download_submissions`` in mod/assign/locallib.php), or, with "Download submissions in folders" off, names them
    ``<Full name>_<participant id>_assignsubmission_file_<file name>``. The archive's file times are the time of the
    download (core_files' zip_writer writes the current time), so the submission's time comes from the worksheet's
    "Last modified (submission)", read in ``timezone``.
    """

    lms = "moodle"
    named_regexp = Unicode(
        r"(?P<name>[^/_]*)_(?P<student_id>\d+)_assignsubmission_(?P<plugin>[a-z]+)(?:_?/|_)(?P<file_id>.+)",
        help="Moodle's file names; student_id: the participant id, plugin: file (uploads) or onlinetext",
    ).tag(config=True)
    timezone = Unicode(
        "",
        help="the time zone of the worksheet's times (the Moodle user's, e.g. Europe/Berlin); default: this machine's",
    ).tag(config=True)

    def _is_notebook(self, match: re.Match) -> bool:
        return match["plugin"] == "file" and super()._is_notebook(match)

    def _timestamp(self, person: Person, match: re.Match) -> tuple[str | None, list[str]]:
        if person.submitted is None:
            return None, ["no submission time in the worksheet"]
        try:
            local = datetime.strptime(person.submitted, MOODLE_TIME)
        except ValueError:
            return None, [f"submission time {person.submitted!r} not read: not in English Moodle's form"]
        zone = ZoneInfo(self.timezone) if self.timezone else None
        return (local.replace(tzinfo=zone) if zone else local.astimezone()).isoformat(), []


def _assignments(plugin: ExportPlugin, gradebook: Gradebook) -> list:
    return [a for a in gradebook.assignments if not plugin.assignment or a.name in plugin.assignment]


def _points(plugin: ExportPlugin, gradebook: Gradebook, assignment: str, student_id: str) -> str:
    """The student's score as nbgrader's own export gives it (late penalty deducted), or "" where there is none: no
    submission, or one that waits to be graded by hand. An empty cell leaves the LMS's grade as it is."""
    try:
        submission = gradebook.find_submission(assignment, student_id)
    except MissingEntry:
        return ""
    if submission.needs_manual_grade:
        plugin.log.warning("%s: %s waits to be graded by hand: its cell is left empty", assignment, student_id)
        return ""
    return f"{round(max(0.0, submission.score - submission.late_submission_penalty), 2):g}"


def _unlisted(plugin: ExportPlugin, gradebook: Gradebook, listed: set[str]) -> None:
    for student in gradebook.students:
        if student.id not in listed and (not plugin.student or student.id in plugin.student):
            plugin.log.warning("%s is in the gradebook but not on the roster: not exported", student.id)


class CanvasExport(ExportPlugin):
    """``nbgrader export`` plugin: the CSV that Canvas's gradebook import reads (Grades > Import).

    ``nbgrader export --exporter course_tools.lms.CanvasExport --CanvasExport.roster=gradebook.csv --to canvas.csv``

    One row per student of the roster (Canvas's gradebook export), with its "Student", "ID", "SIS User ID",
    "SIS Login ID" and "Section" as they are; then one column per assignment, named as the roster's column for it
    (``02_residual_blocks (12345)``: Canvas matches the assignment by that id), else by the assignment's name (Canvas
    matches a title, or makes a new assignment); and a "Points Possible" row with nbgrader's maximum scores.
    """

    roster = Unicode("", help=f"{ROSTERS['canvas']}: its students and their ids are written back").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        if not self.roster:
            raise ValueError("CanvasExport needs --CanvasExport.roster=<Canvas's gradebook export>")
        header, _ = read_table(Path(self.roster))
        people = [p for p in read_roster(Path(self.roster), "canvas") if not self.student or p.key in self.student]
        _unlisted(self, gradebook, {p.student_id for p in people})
        assignments = _assignments(self, gradebook)
        columns = [
            next((h for h in header if re.fullmatch(re.escape(a.name) + r" \(\d+\)", h)), a.name) for a in assignments
        ]
        dest = self.to or "canvas-grades.csv"
        self.log.info("Exporting grades for Canvas to %s", dest)
        with open(dest, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*CANVAS_STUDENT, *columns])
            blank = [""] * (len(CANVAS_STUDENT) - 1)
            writer.writerow(["    Points Possible", *blank, *(f"{a.max_score:g}" for a in assignments)])
            for person in people:
                scores = [_points(self, gradebook, a.name, person.student_id) for a in assignments]
                writer.writerow([person.row[c] for c in CANVAS_STUDENT] + scores)


class MoodleExport(ExportPlugin):
    """``nbgrader export`` plugin: the CSV that Moodle's grade import reads (Grades > Import > CSV file).

    ``nbgrader export --exporter course_tools.lms.MoodleExport --to moodle.csv``

    One row per student: "First name", "Last name", "Email address" (the first columns of Moodle's own export), then
    one column per assignment named after it. On import, map "Email address" to the email address (Identify user by)
    and each assignment's column to its grade item.
    """

    def export(self, gradebook: Gradebook) -> None:
        students = [s for s in gradebook.students if not self.student or s.id in self.student]
        assignments = _assignments(self, gradebook)
        dest = self.to or "moodle-grades.csv"
        self.log.info("Exporting grades for Moodle to %s", dest)
        with open(dest, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([*MOODLE_GRADES, *(a.name for a in assignments)])
            for student in students:
                scores = [_points(self, gradebook, a.name, student.id) for a in assignments]
                names = [student.first_name or "", student.last_name or ""]
                writer.writerow([*names, student.email or student.id, *scores])


COLLECTORS = {"canvas": CanvasCollector, "moodle": MoodleCollector}
EXPORTERS = {"canvas": CanvasExport, "moodle": MoodleExport}


def collect(
    course: Path, assignment: str, archive: Path, lms: str, roster: Path, timezone: str = "", force: bool = False
) -> tuple[list[Outcome], list[Person], Path]:
    """Collect ``archive`` into ``course``'s submitted/ with nbgrader's zip_collect; add the roster's students to the
    gradebook. Returns what happened to each file, the roster's students, and the folder the archive went to."""
    people = read_roster(roster, lms)  # a wrong roster, or time zone, stops here, before anything is written
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ValueError, KeyError):
            raise ValueError(f"no time zone {timezone!r}: give its IANA name, e.g. Europe/Berlin") from None
    archive, name = archive.resolve(), COLLECTORS[lms].__name__
    argv = [assignment, f"--collector=course_tools.lms.{name}", f"--{name}.roster={roster.resolve()}"]
    if timezone:
        argv.append(f"--{name}.timezone={timezone}")
    argv += ["--log-level=ERROR"] + (["--force"] if force else [])  # the report below says what its warnings would
    with contextlib.chdir(course):  # nbgrader reads the course's nbgrader_config.py from where it runs
        app = ZipCollectApp()
        app.initialize(argv)
        folder = Path(collect_path(app, app.archive_directory))
        others = [path for path in folder.glob("*") if path.name != archive.name] if folder.exists() else []
        if others and not force:  # another download's files would be collected again
            raise SystemExit(f"{folder} holds {', '.join(p.name for p in others)}: --force replaces it")
        for path in others:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(archive, folder / archive.name)
        app.start()
        with Gradebook(app.coursedir.db_url) as gradebook:
            for person in people:
                gradebook.update_or_create_student(
                    person.student_id, first_name=person.first_name, last_name=person.last_name, email=person.email
                )
    return app.collector_plugin_inst.outcomes, people, Path(collect_path(app, app.extracted_directory))


def describe(outcome: Outcome) -> str:
    """One file's line in the report, e.g. ``name_LATE_12_34_x.ipynb [Ada Lovelace (12)]: collected as ...``."""
    student = f" [{outcome.student}]" if outcome.student else ""
    return f"{outcome.file}{student}: {'' if outcome.collected else 'not collected: '}{outcome.note}"


def report(outcomes: list[Outcome], people: list[Person], submitted: Path, extracted: Path) -> list[str]:
    """What ``collect`` prints: what went in, every file to check, who handed in nothing."""
    collected = [o for o in outcomes if o.collected]
    lines = [f"collected {len(collected)} notebooks of the roster's {len(people)} students into {submitted}"]
    check = [o for o in outcomes if o.note]
    if check:
        lines.append(f"to check (the files are under {extracted}):")
        lines += [f"  {describe(o)}" for o in check]
    handed_in = {o.student.student_id for o in outcomes if o.student}
    missing = [str(p) for p in people if p.student_id not in handed_in]
    if missing:
        lines.append(f"nothing handed in by {len(missing)}: {', '.join(missing)}")
    return lines


def export(course: Path, lms: str, to: Path, roster: Path | None = None) -> None:
    """Write the gradebook's grades to ``to`` as the LMS's grade import reads them."""
    exporter = EXPORTERS[lms]
    argv = ["--exporter", f"course_tools.lms.{exporter.__name__}", "--to", str(to.resolve()), "--log-level=WARN"]
    if roster:
        argv.append(f"--{exporter.__name__}.roster={roster.resolve()}")
    with contextlib.chdir(course):
        app = ExportApp()
        app.initialize(argv)
        app.start()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Submissions in from Canvas or Moodle; grades out to them.")
    commands = parser.add_subparsers(dest="command", required=True)
    inward = commands.add_parser("collect", help="an LMS's 'download all submissions' archive into submitted/")
    inward.add_argument("course", type=Path, help="the nbgrader course folder")
    inward.add_argument("assignment", help="the assignment (the notebook's name), e.g. 02_residual_blocks")
    inward.add_argument("archive", type=Path, help="the zip file the LMS gave")
    outward = commands.add_parser("export", help="the gradebook's grades as a CSV the LMS imports")
    outward.add_argument("course", type=Path, help="the nbgrader course folder")
    outward.add_argument("--to", type=Path, required=True, help="the CSV to write")
    for command in (inward, outward):
        command.add_argument("--lms", choices=sorted(COLLECTORS), required=True)
        command.add_argument(
            "--roster", type=Path, help=f"{ROSTERS['canvas']}; for collect from Moodle, {ROSTERS['moodle']}"
        )
    inward.add_argument("--timezone", default="", help="Moodle: the worksheet's time zone (default: this machine's)")
    inward.add_argument("--force", action="store_true", help="replace an earlier download and what it collected")
    args = parser.parse_args(argv)
    # nbgrader makes a new gradebook with alembic, which this Python's environment has beside it
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    if not (args.course / "nbgrader_config.py").exists():
        parser.error(f"{args.course} is not an nbgrader course folder: make release makes one")
    if args.roster is None and (args.command == "collect" or args.lms == "canvas"):
        parser.error(f"--roster is needed: {ROSTERS[args.lms]}")
    if args.command == "export":
        export(args.course, args.lms, args.to, args.roster)
        print(f"wrote {args.to}: import it into {args.lms.capitalize()} (docs/instructors.md)")
        return 0
    try:
        outcomes, people, extracted = collect(
            args.course, args.assignment, args.archive, args.lms, args.roster, args.timezone, args.force
        )
    except ValueError as error:
        raise SystemExit(str(error)) from None
    print("\n".join(report(outcomes, people, args.course / "submitted", extracted)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
