"""Sphinx settings for the course's website. `make site` builds it into _build/html/ from the notebooks' stored
outputs, executing nothing (the README says why Sphinx with MyST-NB)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent / "tools")]  # helpers and course_tools, also where not installed

from course_tools import colab  # noqa: E402

project = "Deep convolutional networks, built layer by layer"
author = "the course's authors"
extensions = ["myst_nb", "sphinx-mathjax-offline", "course_tools.site"]  # course_tools: the instructor's tools
nb_execution_mode = "off"  # the stored outputs of a real TensorFlow run, shown as they are
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3  # links to a section: maintainers.md#backends-and-versions
exclude_patterns = ["_build", "_extra"]
html_extra_path = ["_extra"]  # the notebooks to download (course_tools.site copies them there)
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"  # without one, every browser asks for /favicon.ico, which is not there
html_title = "Deep CNNs, layer by layer"
html_theme = "sphinx_book_theme"
html_theme_options = {
    "repository_url": colab.repository(HERE.parent),
    "repository_branch": colab.BRANCH,
    "use_repository_button": True,
    "use_download_button": False,  # each notebook page links its own downloads (course_tools.site)
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
html_context = {"default_mode": "auto"}  # light or dark, as the reader's system is
suppress_warnings = ["mystnb.unknown_mime_type"]
