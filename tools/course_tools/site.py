"""What the course's website adds to Sphinx and MyST-NB.

- The pages of the notebooks come from copies of ``notebooks/*.ipynb`` made at each build (``docs/notebooks/``,
  git-ignored): Sphinx reads only files under its source folder, and a copy keeps the notebooks' links to each
  other working. The solution and exercise notebooks are also copied next to the pages, to be downloaded. No copy
  holds a hidden test: those are grading material, and the site is public.
- Each notebook page opens with its links: Open in Colab, the notebook, its exercise version. They replace the
  notebook's own Colab badge, an image on Google's server that a page viewed offline could not load.
- ``{course-notebooks}``: the home page's table of the notebooks, in order, with their exercises and the running
  time measured by ``benchmarks/live_output.py``.
"""

import json
import shutil
from pathlib import Path

import nbformat
from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from course_tools import ROOT, colab, grading
from helpers.workspace import without_hidden_tests

NOTEBOOKS = ROOT / "notebooks"
EXERCISES = NOTEBOOKS / "exercises"


def solution_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))  # as course_tools.exercises lists them


def copy_notebooks(app, config) -> None:
    """Each build starts from the notebooks as they are: pages from copies in the source folder, and the
    files to download in the folder of extra files (``html_extra_path``)."""
    source, extra = Path(app.srcdir), Path(app.srcdir) / "_extra"
    for folder in (source / "notebooks", extra):
        shutil.rmtree(folder, ignore_errors=True)
    for target in (source / "notebooks", extra / "notebooks", extra / "exercises"):
        target.mkdir(parents=True)
    for path in solution_notebooks():
        shown = without_hidden_tests(nbformat.read(path, as_version=4))
        for target in (source / "notebooks", extra / "notebooks"):
            nbformat.write(shown, target / path.name)
        if (EXERCISES / path.name).exists():  # a notebook without exercises has no exercise version
            shutil.copy2(EXERCISES / path.name, extra / "exercises" / path.name)


def page_links(app, doctree) -> None:
    """Replace a notebook page's Colab badge with its three links."""
    docname = app.env.docname
    if not docname.startswith("notebooks/"):
        return
    name = docname.removeprefix("notebooks/")
    badge = next(
        (image for image in doctree.findall(nodes.image) if image["uri"] == colab.BADGE_IMAGE), None
    )
    if badge is None:
        raise ValueError(f"notebooks/{name}.ipynb has no Open in Colab badge: run `make exercises`")
    address = app.config.html_theme_options["repository_url"]  # conf.py read it from pyproject.toml
    links = nodes.paragraph(classes=["course-links"])
    shown = [
        ("Open in Colab", colab.colab_url(f"notebooks/{name}.ipynb", address)),
        ("Download this notebook", f"{name}.ipynb"),
    ]
    if (EXERCISES / f"{name}.ipynb").exists():
        shown.append(("Download its exercise version", f"../exercises/{name}.ipynb"))
    for number, (text, uri) in enumerate(shown):
        if number:
            links += nodes.Text(" · ")
        links += nodes.reference("", text, refuri=uri)
    paragraph = badge.parent.parent  # paragraph > reference > image
    paragraph.replace_self(links)


class CourseNotebooks(SphinxDirective):
    """The notebooks in order: title (a link to its page), exercises, running time."""

    def run(self):
        measured = json.loads((ROOT / "benchmarks" / "live_output.json").read_text())
        seconds = {row["notebook"]: row["seconds"] for row in measured["notebooks"]}
        rows = ["| notebook | exercises | running time |", "|---|---|---|"]
        for path in solution_notebooks():
            nb = nbformat.read(path, as_version=4)
            title = next(line for line in nb.cells[0].source.splitlines() if line.startswith("# "))[2:]
            exercises = ", ".join(f"`{exercise.name}`" for exercise in grading.find_exercises(nb, path.name))
            rows.append(
                f"| [{title}](notebooks/{path.stem}.ipynb) | {exercises or 'none'} | {round(seconds[path.stem])} s |"
            )
        self.env.note_dependency(str(ROOT / "benchmarks" / "live_output.json"))
        return self.parse_text_to_nodes("\n".join(rows))


def setup(app):
    app.connect("config-inited", copy_notebooks)
    app.connect("doctree-read", page_links)
    app.add_directive("course-notebooks", CourseNotebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
