"""`make course`: JupyterLab starts as root or not, with or without a screen, with the user's options, serving only
the student's own folder, where saving changes no tracked file, and never twice."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from helpers.lab import has_screen, lab_command, port_of
from helpers.workspace import WORK

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("is_root", "screen", "added"),
    [(False, True, []), (True, True, ["--allow-root"]), (False, False, ["--no-browser"]),
     (True, False, ["--allow-root", "--no-browser"])],
)
def test_the_command_adds_what_this_machine_needs(is_root, screen, added):
    command = lab_command(["--port=8890"], is_root=is_root, screen=screen)
    assert command[1:3] == ["lab", f"--ServerApp.root_dir={WORK}"]
    assert command[3:] == [*added, "--port=8890"]


def test_the_users_own_options_are_not_doubled():
    command = lab_command(["--allow-root", "--no-browser"], is_root=True, screen=False)
    assert command[3:] == ["--allow-root", "--no-browser"]


@pytest.mark.parametrize(
    ("args", "port"),
    [([], 8888), (["--port=8890"], 8890), (["--no-browser", "--port", "8891"], 8891),
     (["--ServerApp.port=8892"], 8892)],
)
def test_the_port_the_user_chose_is_the_one_named(args, port):
    assert port_of(args) == port


@pytest.mark.parametrize(
    ("environ", "platform", "screen"),
    [({}, "linux", False), ({"DISPLAY": ":0"}, "linux", True), ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
     ({}, "darwin", True), ({}, "win32", True)],
)
def test_a_screen_is_found_where_there_is_one(environ, platform, screen):
    assert has_screen(environ, platform) is screen


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tracked_changes() -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout


def api(port: int, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/{path}?token={token}", method="PUT" if body else "GET",
        data=json.dumps(body).encode() if body else None, headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return json.load(reply)


def test_make_course_serves_only_the_students_copies_and_starts_once(tmp_path):
    """Run `make course` as the README says (set-up taken as done), on a work folder of its own (COURSE_WORK: never
    the student's work/, which a running `make course` may be serving), save every notebook it serves through
    JupyterLab's own contents API, see that no tracked file changed, and that a second `make course` says where
    the first one is instead of starting another server."""
    port, token, work = free_port(), "course-test", tmp_path / "work"
    url = f"http://127.0.0.1:{port}/lab?token="  # JupyterLab masks a token it was given
    venv = Path(sys.prefix)
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    environment["COURSE_WORK"] = str(work)
    course = ["make", "-s", "-o", str(venv / ".installed"), f"VENV={venv}", "course",
              f"ARGS=--port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"]
    before = tracked_changes()
    log = tmp_path / "lab.log"
    with log.open("w") as output:
        server = subprocess.Popen(course, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        deadline, served = time.monotonic() + 90, None
        while (served is None or url not in log.read_text()) and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                served = api(port, token, "contents")["content"]
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert served is not None, log.read_text()
        notebooks = sorted(item["name"] for item in served if item["type"] == "notebook")
        assert notebooks == sorted(path.name for path in work.glob("*.ipynb"))
        assert {"01_classic_networks.ipynb", "01_classic_networks_exercise.ipynb"} <= set(notebooks)
        assert not [item["name"] for item in served if item["type"] == "directory"]  # no plumbing, no solutions
        for name in notebooks:  # what a student's Ctrl+S does
            content = api(port, token, f"contents/{name}")["content"]
            api(port, token, f"contents/{name}", {"type": "notebook", "format": "json", "content": content})
        second = subprocess.run(course, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert tracked_changes() == before
    assert "No screen here" in log.read_text() and f"ssh -L {port}:127.0.0.1:{port}" in log.read_text()
    assert second.returncode == 0 and "The course is already open" in second.stdout, second.stdout + second.stderr
    assert f":{port}/" in second.stdout
