"""The floors in requirements.txt, requirements-instructor.txt and requirements-site.txt are the versions CI tests:
constraints/floors.txt pins every one of them."""

import re
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from helpers.notebook import MINIMUM_KERAS

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = ("requirements.txt", "requirements-instructor.txt", "requirements-site.txt")


def lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def floors() -> dict[str, Version]:
    """Each package of the requirement files and the version its ``>=`` names."""
    found = {}
    for name in REQUIREMENTS:
        for line in lines(ROOT / name):
            if line.startswith("-"):  # -r another file, -e the instructor's package
                continue
            requirement = Requirement(line)
            lowest = [spec.version for spec in requirement.specifier if spec.operator == ">="]
            assert len(lowest) == 1, f"{name}: {line!r} needs exactly one floor (>=)"
            found[requirement.name] = Version(lowest[0])
    return found


def pins() -> dict[str, Version]:
    """Each package of constraints/floors.txt and the version its ``==`` names."""
    found = {}
    for line in lines(ROOT / "constraints" / "floors.txt"):
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line)
        assert match, f"constraints/floors.txt: {line!r} is not of the form name==version"
        found[match[1]] = Version(match[2])
    return found


def test_every_floor_is_pinned_in_the_constraints_file():
    required, pinned = floors(), pins()
    assert sorted(required) == sorted(pinned), "the requirement files and constraints/floors.txt differ in packages"
    disagree = {name: (str(required[name]), str(pinned[name])) for name in required if required[name] != pinned[name]}
    assert not disagree, f"floor in a requirement file vs pin in constraints/floors.txt: {disagree}"


def test_start_asks_for_the_keras_floor():
    assert Version(MINIMUM_KERAS) == floors()["keras"]
