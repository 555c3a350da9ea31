"""What the grader keeps warm between submissions (``course_tools.autograde.warm``): a worker forked from a template
finds nothing of the worker before it, and a template or judge stopped by a submission costs only that submission."""

import os
import signal
from pathlib import Path

import pytest
from test_nbgrader_course import NEEDS_SANDBOX

from course_tools.autograde import remote, submission, warm

pytestmark = [pytest.mark.end_to_end, NEEDS_SANDBOX]

LEAVE_TRACES = (
    "import os, subprocess\n"
    "for _folder in ('.', '/tmp', '/dev/shm'):\n"
    "    os.makedirs(_folder + '/locked/inner', exist_ok=True)\n"
    "    open(_folder + '/locked/inner/trace', 'w').write('left')\n"
    "    os.chmod(_folder + '/locked', 0)\n"
    "_sleeper = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
    "print(subprocess.run(['ipcmk', '--shmem', '4096'], capture_output=True, text=True).stdout)\n"
)
LOOK_FOR_TRACES = (
    "import os, subprocess\n"
    "_segments = subprocess.run(['ipcs', '--shmems'], capture_output=True, text=True).stdout.splitlines()\n"
    "print([line for line in _segments if line.startswith('0x')])\n"
    "print(sorted(os.listdir('.')), os.listdir('/tmp'), os.listdir('/dev/shm'))\n"
    "print([open(f'/proc/{p}/cmdline').read() for p in os.listdir('/proc') if p.isdigit() and 'sleep' in "
    "open(f'/proc/{p}/cmdline').read()])\n"
)


def run_worker(template: warm.WorkerTemplate, source: str, tmp_path: Path) -> str:
    """What ``source`` printed, run as a cell in a worker that ``template`` forked."""
    requests, answers, process = template.fork(tmp_path / "worker.log")
    worker = remote.Worker.attached(requests, answers, process, budget=60, spent=0)
    try:
        ran = worker.run_cells([{"index": 0, "source": source}], timeout=60, output_limit=10_000)
    finally:
        signal.pidfd_send_signal(process, signal.SIGKILL)
        worker.release()
    assert ran[0]["error"] is None, ran
    return "".join(output.get("text", "") for output in ran[0]["outputs"])


@pytest.fixture
def template():
    made = warm.WorkerTemplate(submission.Settings())
    yield made
    made.remove()


def test_a_forked_worker_finds_nothing_of_the_one_before(template, tmp_path):
    assert "Shared memory id" in run_worker(template, LEAVE_TRACES, tmp_path)
    seen = run_worker(template, LOOK_FOR_TRACES, tmp_path)
    shared_memory, folders, processes = seen.splitlines()
    assert shared_memory == "[]" and "locked" not in folders and processes == "[]", seen


def test_a_template_stopped_by_a_submission_is_replaced(template, tmp_path):
    """A worker may kill its template (they share a user id): the next submission gets a fresh template, from
    ``Warm.for_job``, and nothing else is lost."""
    templates = warm.Warm(warm.WorkerTemplate)
    settings = submission.Settings()
    first = templates.for_job(settings)
    requests, answers, process = first.fork(tmp_path / "worker.log")
    worker = remote.Worker.attached(requests, answers, process, budget=60, spent=0)
    cell = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\n"  # its parent: the template
    try:
        worker.run_cells([{"index": 0, "source": cell}], timeout=60, output_limit=10_000)
    except remote.WorkerGone:
        pass  # the sandbox went with its template
    first.process.wait(30)
    second = templates.for_job(settings)
    try:
        assert second is not first
        assert run_worker(second, "print('fresh')", tmp_path) == "fresh\n"
    finally:
        templates.stop_all()
    assert not os.path.exists(first.folder)
