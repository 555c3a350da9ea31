"""How long each notebook takes in a real kernel, and the longest any of its cells goes without showing anything new.

    .venv/bin/python benchmarks/live_output.py              # every solution notebook, on the backend in use
    .venv/bin/python benchmarks/live_output.py --write      # and store this run's outputs in the notebooks
    .venv/bin/python benchmarks/live_output.py 03_why_residuals_work 05_inception

A running cell shows something new with every output the kernel sends: a printed line, a display, or an update
of a display in place (a progress line). A cell's longest silence is the longest gap between its start, those
outputs and its end. The notebooks run one after another, each in a fresh kernel (nbclient, as nbconvert does),
and the figures go to benchmarks/live_output.json. With --write, each notebook's introduction also gets this run's
time (RUNNING_TIME; tests/test_prose.py checks it against the JSON file).
"""

import argparse
import json
import os
import platform
import re
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SHOWN = {"stream", "display_data", "update_display_data", "execute_result", "error"}
LONG_CELL_S = 20  # cells at least this long are listed one by one
# The paragraph that ends each notebook's introduction (its first cell), and the figure in it.
RUNNING_TIME = re.compile(r"\*\*Running time:\*\* about (\d+) s")
RUNNING_TIME_NOTE = (" on 2 CPU cores with TensorFlow, measured with `benchmarks/live_output.py`. Colab has not been "
                     "measured; its free CPU runtime has 2 cores too.")


def running_time(seconds: float) -> str:
    """The figure as the introduction gives it: to the nearest 5 s."""
    return f"**Running time:** about {5 * round(seconds / 5)} s"


def stamp_running_time(nb, seconds: float) -> None:
    """Put ``seconds`` into the notebook's introduction, adding the paragraph where it has none yet."""
    intro = nb.cells[0]
    if RUNNING_TIME.search(intro.source):
        intro.source = RUNNING_TIME.sub(running_time(seconds), intro.source)
    else:
        intro.source = intro.source.rstrip() + "\n\n" + running_time(seconds) + RUNNING_TIME_NOTE


class TimedClient(NotebookClient):
    """nbclient's own executor, noting when each cell starts and ends and when each of its outputs arrives."""

    def __init__(self, nb, **kwargs):
        super().__init__(nb, on_cell_execute=self._started, on_cell_executed=self._ended, **kwargs)
        self.times: dict[int, list[float]] = {}

    def _started(self, cell, cell_index):
        self.times[cell_index] = [time.monotonic()]

    def _ended(self, cell, cell_index, execute_reply):
        self.times[cell_index].append(time.monotonic())

    def process_message(self, msg, cell, cell_index):
        if msg["msg_type"] in SHOWN and cell_index in self.times:
            self.times[cell_index].append(time.monotonic())
        return super().process_message(msg, cell, cell_index)


def measure(path: Path, write: bool) -> dict:
    nb = nbformat.read(path, as_version=4)
    client = TimedClient(nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    began = time.monotonic()
    client.execute()
    seconds = time.monotonic() - began
    if write:
        stamp_running_time(nb, seconds)
        nbformat.write(nb, path)
    cells = []
    code_cells = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    for index, times in sorted(client.times.items()):
        times.sort()
        silence = max(later - earlier for earlier, later in zip(times, times[1:]))
        cells.append({"cell": code_cells.index(index), "seconds": round(times[-1] - times[0], 1),
                      "longest_silence_s": round(silence, 1)})
    quietest = max(cells, key=lambda cell: cell["longest_silence_s"])
    return {
        "notebook": path.stem,
        "seconds": round(seconds, 1),
        "longest_silence_s": quietest["longest_silence_s"],
        "in_cell": quietest["cell"],
        "long_cells": [cell for cell in cells if cell["seconds"] >= LONG_CELL_S],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help="notebook names (default: every solution notebook)")
    parser.add_argument("--write", action="store_true", help="store this run's outputs in the notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "live_output.json")
    args = parser.parse_args()
    paths = [NOTEBOOKS / f"{name}.ipynb" for name in args.notebooks] or sorted(NOTEBOOKS.glob("*.ipynb"))
    results = []
    for path in paths:
        results.append(measure(path, args.write))
        row = results[-1]
        print(f"{row['notebook']}: {row['seconds']:.0f} s, longest silence {row['longest_silence_s']:.1f} s "
              f"(cell {row['in_cell']})", flush=True)
        for cell in row["long_cells"]:
            print(f"  cell {cell['cell']}: {cell['seconds']:.0f} s, longest silence {cell['longest_silence_s']:.1f} s")
    record = {"backend": os.environ.get("KERAS_BACKEND", "tensorflow"), "cpus": os.cpu_count(),
              "python": platform.python_version(), "notebooks": results}
    if args.notebooks and args.out.exists():  # some notebooks again: the others keep their figures
        earlier = json.loads(args.out.read_text())
        if {k: earlier.get(k) for k in ("backend", "cpus")} == {k: record[k] for k in ("backend", "cpus")}:
            ran = {row["notebook"] for row in results}
            kept = [row for row in earlier["notebooks"] if row["notebook"] not in ran]
            record["notebooks"] = sorted(kept + results, key=lambda row: row["notebook"])
    args.out.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
