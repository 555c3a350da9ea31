"""Figures in the notebooks' prose are true and stay true.

Every number of two or more digits in a markdown cell must be one of:
- printed in a stored output of the same notebook (so a re-run that changes it breaks this test);
- written in the notebook's code (a setting such as a learning rate or a layer's filter count);
- a published fact listed below with its source (a year, a paper's input size, a lecture's example);
- the running time that ends each introduction, which must be the one in benchmarks/live_output.json.
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
    },
    "02_residual_blocks": {
        "48": "ResNet-50's 16 bottleneck blocks of 3 convolutions (He et al. 2015, Table 1)",
        "0.99": "the default momentum of keras.layers.BatchNormalization (Keras API documentation)",
    },
    "03_why_residuals_work": {
        "10": "CIFAR-10, the data set of He et al. 2015, section 4.2",
        "0.1": "the learning rate of He et al. 2015 on CIFAR-10 (section 4.2)",
        "0.0001": "the weight decay of He et al. 2015 on CIFAR-10 (section 4.2)",
        "64,000": "the iterations of He et al. 2015 on CIFAR-10 (section 4.2: 64k)",
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
    },
}


def figures(text: str) -> list[str]:
    text = CODE_SPAN.sub(" ", text)
    found = (n.rstrip(",") for n in NUMBER.findall(text))
    return [n for n in found if len(re.sub(r"\D", "", n)) >= 2 and not re.fullmatch(r"0\d", n)]  # 0N: notebook numbers


def sources(notebook) -> str:
    """Everything a figure may come from: stored outputs and code."""
    parts = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def unsourced(path: Path) -> list[str]:
    notebook = nbformat.read(path, as_version=4)
    facts = FACTS["*"] | FACTS.get(path.stem, {})
    known = set(figures(sources(notebook))) | set(NUMBER.findall(sources(notebook)))
    missing = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        for figure in figures(live_output.RUNNING_TIME.sub("", cell.source)):  # checked below, on its own
            if figure not in known and figure not in facts:
                missing.append(f"cell {index}: {figure}")
    return missing


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
