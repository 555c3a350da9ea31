"""`make course`: JupyterLab starts as root or not, with or without a screen, with the user's options."""

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

from helpers.lab import has_screen, lab_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("is_root", "screen", "added"),
    [(False, True, []), (True, True, ["--allow-root"]), (False, False, ["--no-browser"]),
     (True, False, ["--allow-root", "--no-browser"])],
)
def test_the_command_adds_what_this_machine_needs(is_root, screen, added):
    command = lab_command(["--port=8890"], is_root=is_root, screen=screen)
    assert command[1:4] == ["lab", f"--ServerApp.root_dir={ROOT}", "--LabApp.default_url=/lab/tree/work"]
    assert command[4:] == [*added, "--port=8890"]


def test_the_users_own_options_are_not_doubled():
    command = lab_command(["--allow-root", "--no-browser"], is_root=True, screen=False)
    assert command[4:] == ["--allow-root", "--no-browser"]


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


def test_make_course_starts_a_server_that_answers(tmp_path):
    """Run `make course` as the README says (set-up taken as done), see JupyterLab answer, then stop it."""
    port, token = free_port(), "course-test"
    url = f"http://127.0.0.1:{port}/lab/tree/work?token="  # JupyterLab masks a token it was given
    venv = Path(sys.prefix)
    environment = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    log = tmp_path / "lab.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            ["make", "-s", "-o", str(venv / ".installed"), f"VENV={venv}", "course",
             f"ARGS=--port={port} --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}"],
            cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline, status, served = time.monotonic() + 90, None, []
        while (status is None or url not in log.read_text()) and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5) as reply:
                    status = reply.status
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as reply:
                    served = [item["name"] for item in json.load(reply)["content"]]
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert status == 200, log.read_text()
    assert {"notebooks", "work"} <= set(served), served  # the tutorials next to the student's own copies
    assert "No screen here" in log.read_text()
    assert url in log.read_text()
