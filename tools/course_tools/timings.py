"""The timing tables of the README and the docs, written from the benchmarks' JSON files, so that none can drift.

Each table lies in its Markdown file between two marks, which name the file of ``benchmarks/`` it comes from::

    <!-- timings: live_output -->

    | notebook | time | longest silence in any cell |
    ...

    <!-- /timings -->

    python -m course_tools.timings           # rewrite every such table in README.md and docs/*.md
    python -m course_tools.timings --check   # exit 1, naming the tables that differ from their JSON

Only what lies between the marks is written: the sentences around a table are the docs' own.
"""

import argparse
import json
import re
import sys
from pathlib import Path

from course_tools import ROOT

BLOCK = re.compile(r"^(<!-- timings: (\w+) -->\n)(.*?)^(<!-- /timings -->)$", re.DOTALL | re.MULTILINE)
BACKENDS = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}
SCALE_MODELS = {"resnet50": "ours (notebook 02's blocks)", "keras_resnet50": "keras.applications.ResNet50"}


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st."""
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def notebook_times(measured: dict) -> str:
    """Each notebook's seconds on each backend (``benchmarks/run.py --only notebooks``), and their sum."""
    backends = list(next(iter(measured["notebooks"].values())))
    lines = ["| notebook | " + " | ".join(BACKENDS[b] for b in backends) + " |", "|---" * (len(backends) + 1) + "|"]
    for name, seconds in measured["notebooks"].items():
        lines.append(f"| `{Path(name).stem}` | " + " | ".join(f"{seconds[b]:.0f} s" for b in backends) + " |")
    totals = (sum(seconds[b] for seconds in measured["notebooks"].values()) for b in backends)
    lines.append("| in all | " + " | ".join(f"{total:.0f} s" for total in totals) + " |")
    return "\n".join(lines)


def live_output(measured: dict) -> str:
    """Each notebook's time and its longest silence (``benchmarks/live_output.py``), with the cell it was in."""
    lines = ["| notebook | time | longest silence in any cell |", "|---|---|---|"]
    for row in measured["notebooks"]:
        cell = "first" if row["in_cell"] == 0 else ordinal(row["in_cell"] + 1)  # in_cell counts from 0
        silence = f"{row['longest_silence_s']:.1f} s (the {cell} code cell)"
        lines.append(f"| `{row['notebook']}` | {row['seconds']:.0f} s | {silence} |")
    return "\n".join(lines)


def results(measured: dict) -> str:
    """``benchmarks/run.py``'s figures (it prints this table too); a notebook's time may be one figure, from a run
    before it timed each backend."""
    m = measured["machine"]
    lines = [
        "| measure | value |",
        "|---|---|",
        f"| machine | {m['cpu']}, {m['cores']} cores, {m['gpus']} GPU, TF {m['tensorflow']}, Keras {m['keras']} |",
    ]
    for name, seconds in measured.get("notebooks", {}).items():
        shown = ", ".join(f"{b} {s} s" for b, s in seconds.items()) if isinstance(seconds, dict) else f"{seconds} s"
        lines.append(f"| notebook `{name}` | {shown} |")
    if "test_command_s" in measured:
        lines.append(f"| `make test` (set-up done) | {measured['test_command_s']} s |")
    if "throughput" in measured:
        t = measured["throughput"]
        for name in ("ours", "keras.applications"):
            lines.append(
                f"| ResNet-50 training, {name} ({t['input']}, batch {t['batch_size']}) | "
                f"{t[name]['images_per_s']} images/s, {t[name]['training_gflops']} GFLOP/s |"
            )
        lines.append(f"| throughput ratio, ours / keras.applications | {t['ratio']} |")
    if "matmul_gflops" in measured:
        lines.append(f"| fp32 matmul (2048x2048) | {measured['matmul_gflops']} GFLOP/s |")
        if "throughput" in measured:
            share = measured["throughput"]["ours"]["training_gflops"] / measured["matmul_gflops"]
            lines.append(f"| ResNet-50 training efficiency vs matmul | {share:.0%} |")
    for name, r in measured.get("targets", {}).items():
        value = f"{r['seconds']} s ({r['epochs']} epochs, {r['accuracy']:.1%})" if r["seconds"] else "not reached"
        lines.append(f"| time to target: {name} | {value} |")
    return "\n".join(lines)


def scale(measured: dict) -> str:
    """``benchmarks/scale.py``'s summary, one row per model and number of devices, as its own table() prints it."""
    lines = [
        "| model | devices | precision | input, global batch | median step (range) | images/s | GFLOP/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in measured["summary"]:
        lo, hi = row["spread_s"]
        lines.append(
            f"| {SCALE_MODELS[row['model']]} | {row['devices']} × {row['device_names'][0]} | {row['precision']} | "
            f"{row['input']}, {row['global_batch']} | {row['median_step_s']} s ({lo}–{hi}) | "
            f"{row['images_per_s']} | {row['training_gflops']} |"
        )
    return "\n".join(lines)


def grading_time(measured: dict) -> str:
    """Grading a class (``benchmarks/grading_time.py``): its wall clock and rate with a fresh judge and worker sandbox
    for each submission and with them kept warm, at 1 and 2 jobs and on a LocalCluster of 2, and with every cell
    run; the rate once started leaves out each job's first submission, which starts its processes."""
    sizes = {row["students"] for row in measured.values()}
    if len(sizes) != 1:  # the header gives the class's size
        raise ValueError(f"benchmarks/grading_time.json: classes of {sorted(sizes)}; measure every notebook alike")
    n = sizes.pop()
    lines = [
        f"| notebook | class of {n}, 1 job: fresh → warm | class of {n}, 2 jobs: fresh → warm | per hour, 2 jobs: "
        "fresh → warm | per hour once started, 2 jobs: fresh → warm | LocalCluster of 2, warm: class, per hour once "
        f"started | every cell: class of {n}, 2 jobs, warm |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in measured.items():
        one, two = (f"{row[f'fresh_jobs_{j}']['class_s']:.0f} s → {row[f'jobs_{j}']['class_s']:.0f} s" for j in (1, 2))
        hourly = f"{row['fresh_jobs_2']['per_hour']} → {row['jobs_2']['per_hour']} ({row['speed_up']}×)"
        started = (
            f"{row['fresh_jobs_2']['started_per_hour']} → {row['jobs_2']['started_per_hour']} "
            f"({row['started_speed_up']}×)"
        )
        cluster = f"{row['cluster_2']['class_s']:.0f} s, {row['cluster_2']['started_per_hour']}"
        every = row["jobs_2_every_cell"]["class_s"]
        lines.append(f"| `{name}` | {one} | {two} | {hourly} | {started} | {cluster} | {every:.0f} s |")
    return "\n".join(lines)


def grading_breakdown(measured: dict) -> str:
    """Where one submission's grading time goes, with one job, fresh → warm (``benchmarks/grading_time.py``)."""
    parts = ("worker_start_s", "judge_start_s", "cells_s", "checks_s")
    lines = [
        "| notebook | an empty sandbox starts | the worker starts: fresh → warm | the judge starts: fresh → warm "
        "| the cells: fresh → warm | the checks: fresh → warm |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in measured.items():
        shown = [" → ".join(_seconds(row[kind][part]) for kind in ("fresh", "warm")) for part in parts]
        lines.append(f"| `{name}` | {_seconds(row['sandbox_start_s'])} | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def _seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 0.1 else f"{value:.1f} s"  # 0.05 s


TABLES = {
    table.__name__: table
    for table in (notebook_times, live_output, results, scale, grading_time, grading_breakdown)
}


def documents(root: Path) -> list[Path]:
    """The Markdown files whose tables are written: the README and the website's pages."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def regenerate(text: str, root: Path) -> tuple[str, list[str]]:
    """The Markdown with every table between marks written anew from ``root``'s benchmarks, and the names of the
    tables that changed."""
    changed = []

    def table(match: re.Match) -> str:
        opening, name, old, closing = match.groups()
        if name not in TABLES:
            raise ValueError(f"<!-- timings: {name} -->: no such table; known: {', '.join(TABLES)}")
        measured = json.loads((root / "benchmarks" / f"{name}.json").read_text())
        new = f"\n{TABLES[name](measured)}\n\n"  # blank lines: a line right after a table would be one of its rows
        if new != old:
            changed.append(name)
        return opening + new + closing

    return BLOCK.sub(table, text), changed


def stale(root: Path = ROOT, write: bool = False) -> list[str]:
    """``file: table`` for each table that differs from its JSON; with ``write``, each is rewritten."""
    found = []
    for path in documents(root):
        text = path.read_text()
        new, changed = regenerate(text, root)
        found += [f"{path.relative_to(root)}: {name}" for name in changed]
        if write and changed:
            path.write_text(new)
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a table differs")
    args = parser.parse_args(argv)
    found = stale(write=not args.check)
    for table in found:
        print(f"{table}: {'differs from its JSON' if args.check else 'rewritten'}")
    return 1 if args.check and found else 0


if __name__ == "__main__":
    sys.exit(main())
