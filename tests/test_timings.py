"""The timing tables of the README and the docs are the benchmarks' JSON files, written out by
``course_tools.timings``: a new measurement that is not written into them fails here."""

import json
import shutil

from course_tools import ROOT, timings


def test_every_timing_table_is_written_from_its_json():
    assert timings.stale() == [], "run `python -m course_tools.timings` after a benchmark"


def test_each_benchmark_has_a_table_in_the_docs():
    marked = {match[2] for path in timings.documents(ROOT) for match in timings.BLOCK.finditer(path.read_text())}
    assert marked == set(timings.TABLES)


def test_a_changed_figure_is_reported_and_rewritten(tmp_path):
    for folder, pattern in (("benchmarks", "*.json"), ("docs", "*.md")):
        (tmp_path / folder).mkdir()
        for path in (ROOT / folder).glob(pattern):
            shutil.copy(path, tmp_path / folder / path.name)
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    measured = json.loads((tmp_path / "benchmarks" / "live_output.json").read_text())
    row = next(row for row in measured["notebooks"] if row["notebook"] == "06_training_at_scale")
    row |= {"seconds": 158.4, "longest_silence_s": 8.9, "in_cell": 0}
    (tmp_path / "benchmarks" / "live_output.json").write_text(json.dumps(measured))

    assert timings.stale(tmp_path) == ["docs/maintainers.md: live_output"]
    assert timings.stale(tmp_path, write=True) == ["docs/maintainers.md: live_output"]
    assert timings.stale(tmp_path) == []
    written = (tmp_path / "docs" / "maintainers.md").read_text()
    assert "| `06_training_at_scale` | 158 s | 8.9 s (the first code cell) |" in written


def test_the_check_exits_1_naming_the_stale_table(monkeypatch, capsys):
    assert timings.main(["--check"]) == 0
    monkeypatch.setattr(timings, "stale", lambda write: ["README.md: notebook_times"])
    assert timings.main(["--check"]) == 1
    assert "README.md: notebook_times: differs from its JSON" in capsys.readouterr().out


def test_the_docs_claim_on_warm_grading_holds_in_its_json():
    """docs/instructors.md: kept warm, 2 jobs grade at least twice as many submissions per hour once started as
    with a fresh judge and sandbox for each submission, for every notebook."""
    assert "at least twice as many submissions per hour once started" in (ROOT / "docs" / "instructors.md").read_text()
    measured = json.loads((ROOT / "benchmarks" / "grading_time.json").read_text())
    assert {name: row["started_speed_up"] >= 2 for name, row in measured.items()} == dict.fromkeys(measured, True)
