"""Figures in the notebooks' prose are true and stay true.

Every number of two or more digits in a markdown cell must be one of:
- printed in a stored output of the same section (between two `## ` headings), so a re-run that changes it breaks
  this test, and a figure borrowed from another part of the notebook does not pass for this one;
- written in the same section's code (a setting such as a learning rate or a layer's filter count);
- a published fact listed below with its source (a year, a paper's input size, a lecture's example);
- the running time that ends each introduction, which must be the one in benchmarks/live_output.json.
The introduction, the summary and "Next" run no code of their own: a figure there must restate one that the prose of
a section gives (and so one that section's code or outputs hold), or be a published fact.
A figure typed by hand from a run, such as a time or an accuracy, is none of these and fails.
"""

import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
_spec = importlib.util.spec_from_file_location("live_output", ROOT / "benchmarks" / "live_output.py")
live_output = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(live_output)
MEASURED = json.loads((ROOT / "benchmarks" / "live_output.json").read_text())

NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?%?")
CODE_SPAN = re.compile(r"`[^`]*`|\$[^$]*\$")  # code and maths: checked against the code, not the runs

# Published figures the prose quotes, by notebook; each with where it comes from.
FACTS = {
    "*": {
        "1998": "LeCun et al., Gradient-based learning applied to document recognition",
        "2012": "Krizhevsky et al., ImageNet classification with deep CNNs",
        "2013": "Lin et al., Network in network",
        "2014": "Simonyan & Zisserman (VGG) and Szegedy et al. (GoogLeNet)",
        "2015": "He et al., Deep residual learning",
        "224": "the ImageNet input size of VGG, GoogLeNet and ResNet",
        "227": "AlexNet's input size (227x227 makes its first layer's arithmetic work)",
        "1,000": "ImageNet's classes",
        "1,080": "the course's training set size",
        "255": "the largest 8-bit pixel value",
        "50": "ResNet-50, named by He et al. 2015",
    },
    "01_classic_networks": {
        "60": "LeNet-5's about 60 thousand parameters (LeCun et al. 1998; the course's lecture) and AlexNet's "
        "60 million (Krizhevsky et al. 2012, abstract)",
        "138": "VGG-16's 138 million parameters (Simonyan & Zisserman 2014, Table 2)",
        "1,516": "the trainable parameters of LeNet-5's partially connected C3 (LeCun et al. 1998, section II.B)",
        "1,797": "the images of scikit-learn's bundled digits (sklearn.datasets.load_digits documentation)",
        "4,096": "the units of AlexNet's and VGG-16's hidden dense layers (Krizhevsky et al. 2012; "
        "Simonyan & Zisserman 2014)",
        "12": "the 7x12 bitmaps of LeNet-5's output units (LeCun et al. 1998, section II.B)",
        "10": "CIFAR-10, the data set of AlexNet's ReLU experiment (Krizhevsky et al. 2012, section 3.1)",
        "16": "VGG-16's 16 weight layers (Simonyan & Zisserman 2014, Table 1, configuration D)",
    },
    "02_residual_blocks": {
        "16": "ResNet-50's 16 bottleneck blocks (He et al. 2015, Table 1)",
        "48": "ResNet-50's 16 bottleneck blocks of 3 convolutions (He et al. 2015, Table 1)",
        "0.99": "the default momentum of keras.layers.BatchNormalization (Keras API documentation)",
    },
    "03_why_residuals_work": {
        "10": "CIFAR-10, the data set of He et al. 2015, section 4.2",
        "0.1": "the learning rate of He et al. 2015 on CIFAR-10 (section 4.2)",
        "0.0001": "the weight decay of He et al. 2015 on CIFAR-10 (section 4.2)",
        "64,000": "the iterations of He et al. 2015 on CIFAR-10 (section 4.2: 64k)",
        "64": "the 16, 32 and 64 filters of He et al. 2015 on CIFAR-10 (section 4.2), and the 6-class set's 64x64 "
        "images (data/README.md)",
    },
    "06_training_at_scale": {
        "64": "the 6-class set's image size, 64x64x3 (data/README.md)",
        "256": "the mini-batch of He et al. 2015 on ImageNet (section 3.4)",
        "0.9": "the SGD momentum of He et al. 2015 (section 3.4)",
        "0.99": "the default momentum of keras.layers.BatchNormalization (Keras API documentation)",
        "7.0": "NVIDIA compute capability 7.0 (Volta), the first with tensor cores (CUDA programming guide)",
        "20585": "keras-team/keras issue #20585, MultiWorkerMirroredStrategy under Keras 3",
    },
    "05_inception": {
        "1.5": "GoogLeNet's budget of 1.5 billion multiply-adds at inference (Szegedy et al. 2014, section 1)",
        "22": "GoogLeNet's 22 layers with parameters (Szegedy et al. 2014, section 5)",
    },
}


def figures(text: str) -> list[str]:
    text = CODE_SPAN.sub(" ", text)
    found = (n.rstrip(",") for n in NUMBER.findall(text))
    return [n for n in found if len(re.sub(r"\D", "", n)) >= 2 and not re.fullmatch(r"0\d", n)]  # 0N: notebook numbers


OVERVIEWS = ("## Summary", "## Next")  # with the introduction: the parts that restate the sections' figures
SHAPE_TIMES = re.compile(r"(?<=\d)x(?=\d)")  # 28x28x6 in an output: the figures 28, 28 and 6


def cell_sources(cell) -> str:
    """What a figure may come from in a code cell: its code and its stored outputs."""
    parts = [cell.source]
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return SHAPE_TIMES.sub(" x ", "\n".join(parts))


def sections(notebook) -> list[dict]:
    """The notebook cut at its `## ` headings: each section's prose (cell index, text) and its code's sources.

    A markdown cell that holds a heading is cut there: the text above it belongs to the section before.
    """
    found = [{"heading": "", "prose": [], "sources": []}]
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            found[-1]["sources"].append(cell_sources(cell))
            continue
        if cell.cell_type != "markdown":
            continue
        text = []
        for line in cell.source.splitlines():
            if line.startswith("## "):
                found[-1]["prose"].append((index, "\n".join(text)))
                found.append({"heading": line, "prose": [], "sources": []})
                text = []
            else:
                text.append(line)
        found[-1]["prose"].append((index, "\n".join(text)))
    return found


def known_figures(text: str) -> set[str]:
    return set(figures(text)) | set(NUMBER.findall(text))


def unsourced(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    facts = FACTS["*"] | FACTS.get(path.stem, {})
    parts = sections(notebook)
    is_overview = [i == 0 or part["heading"].startswith(OVERVIEWS) for i, part in enumerate(parts)]
    missing, restatable = [], set()
    checked = []
    for part, overview in zip(parts, is_overview, strict=True):
        known = known_figures("\n".join(part["sources"]))
        for index, text in part["prose"]:
            for figure in figures(live_output.RUNNING_TIME.sub("", text)):  # checked below, on its own
                if overview:
                    checked.append((index, figure))
                elif figure in known or figure in facts:
                    restatable.add(figure)
                else:
                    missing.append((index, figure))
    missing += [(index, figure) for index, figure in checked if figure not in restatable and figure not in facts]
    return [f"cell {index}: {figure}" for index, figure in sorted(missing, key=lambda found: found[0])]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_in_the_prose_comes_from_a_run_the_code_or_a_source(path):
    assert unsourced(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_each_introduction_gives_the_measured_running_time(path):
    assert (MEASURED["backend"], MEASURED["cpus"]) == ("tensorflow", 2), "the paragraph says 2 cores, TensorFlow"
    seconds = {row["notebook"]: row["seconds"] for row in MEASURED["notebooks"]}[path.stem]
    intro = nbformat.read(path, as_version=4).cells[0].source
    assert len(live_output.RUNNING_TIME.findall(intro)) == 1
    assert live_output.running_time(seconds) + live_output.RUNNING_TIME_NOTE in intro


def test_a_figure_typed_by_hand_is_caught(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("It reached 96.7% in 48 seconds, with 418,296 parameters at 224x224."),
        nbformat.v4.new_code_cell("print(f'{418096:,}')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="418,096\n")]),
    ])
    path = tmp_path / "x.ipynb"
    nbformat.write(notebook, path)
    assert unsourced(path) == ["cell 0: 96.7%", "cell 0: 48", "cell 0: 418,296"]


def test_a_figure_from_another_section_is_caught(tmp_path):
    """A figure printed in one section does not vouch for the same figure in another section's prose, and a summary
    may restate only what a section's prose gives."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    printed = [nbformat.v4.new_output("stream", name="stdout", text="61,706 parameters\n")]
    notebook = nbformat.v4.new_notebook(cells=[
        md("# 01 · Title\n\nThe network you build has 61,706 parameters."),
        md("## 1 · LeNet-5\n\nIt has 61,706 parameters and does 418,096 multiplications."),
        code("print(f'{61706:,} parameters')", outputs=printed),
        md("## 2 · Costs"),
        code("print(f'{418096:,}')", outputs=[nbformat.v4.new_output("stream", name="stdout", text="418,096\n")]),
        md("## Summary\n\n- 61,706 parameters, 418,096 multiplications; AlexNet has 62,378,344."),
    ])
    path = tmp_path / "x.ipynb"
    nbformat.write(notebook, path)
    assert unsourced(path) == ["cell 1: 418,096", "cell 5: 418,096", "cell 5: 62,378,344"]


def test_a_wrong_figure_planted_in_a_notebook_is_caught(tmp_path):
    """VGG-16's parameter count, printed in section 3 of notebook 01, typed into section 1's prose about LeNet-5."""
    notebook = nbformat.read(ROOT / "notebooks" / "01_classic_networks.ipynb", as_version=4)
    index, cell = next((i, c) for i, c in enumerate(notebook.cells) if "four fifths of the 61,706" in c.source)
    cell.source = cell.source.replace("four fifths of the 61,706", "four fifths of the 138,357,544")
    path = tmp_path / "01_classic_networks.ipynb"
    nbformat.write(notebook, path)
    assert unsourced(path) == [f"cell {index}: 138,357,544"]
