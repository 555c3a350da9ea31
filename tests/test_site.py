"""The course's website: built as ``make site`` builds it, every page and link checked, and two pages opened in a
real browser (Debian's chromium, headless, driven by Playwright) served from 127.0.0.1."""

import html
import html.parser
import json
import os
import shutil
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from course_tools import answers, colab, grading
from helpers.workspace import HIDDEN_TESTS

pytestmark = pytest.mark.end_to_end  # Sphinx builds the site in a process of its own, Chromium shows it

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = shutil.which("chromium")
# Chromium's own connections (updates, sync, safe browsing) are refused on a machine without a network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


class Page(html.parser.HTMLParser):
    """What a built page holds: its ids, its links, what it loads (images, scripts, style sheets, icons), its first
    heading, and the number of images in its main part."""

    def __init__(self, path: Path):
        super().__init__()
        self.ids, self.links, self.loads, self.main_images, self.h1 = set(), [], [], 0, None
        self._in_main = self._in_h1 = False
        self.feed(path.read_text())

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        loaded = attrs.get("src") if tag in ("img", "script") else attrs.get("href") if tag == "link" else None
        if loaded:
            self.loads.append(loaded)
        self._in_main |= tag == "main"
        self.main_images += tag == "img" and self._in_main
        if tag == "h1" and self.h1 is None:
            self._in_h1, self.h1 = True, ""

    def handle_endtag(self, tag):
        self._in_main &= tag != "main"
        self._in_h1 &= tag != "h1"

    def handle_data(self, data):
        if self._in_h1:
            self.h1 += data


# Sphinx run as make site runs it, in a process that refuses to import the training stack: make site builds the site
# in an environment without it (.venv-site: requirements-site.txt alone).
SPHINX_WITHOUT_TRAINING_STACK = (
    "import sys\n"
    "class Refuse:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.partition('.')[0] in {'tensorflow', 'keras', 'jax', 'torch', 'nbgrader'}:\n"
    "            raise ImportError(f'the website imported {name}, which make site does not install')\n"
    "sys.meta_path.insert(0, Refuse())\n"
    "from sphinx.cmd.build import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The website, built with the options of ``make site``, into a folder of its own."""
    out = tmp_path_factory.mktemp("site") / "html"
    built = subprocess.run([sys.executable, "-c", SPHINX_WITHOUT_TRAINING_STACK, "-q", "-W", "--keep-going", "-b",
                            "html", "docs", out], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-5000:]
    assert not built.stderr, built.stderr[-5000:]  # no warning either
    return out


def title(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return next(line for line in nb.cells[0].source.splitlines() if line.startswith("# "))[2:]


def stored_figures(path: Path) -> int:
    nb = nbformat.read(path, as_version=4)
    return sum("image/png" in output.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
               for output in cell.outputs)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_a_page_with_its_title_figures_and_own_links(site, path):
    page = Page(site / "notebooks" / f"{path.stem}.html")
    assert page.h1.replace("\u00b6", "").strip() == title(path)
    assert page.main_images == stored_figures(path) > 0, "one image per stored figure, and no other"
    colab_link = colab.colab_url(f"notebooks/{path.name}", colab.repository())
    assert colab_link in page.links
    assert f"{path.stem}.ipynb" in page.links
    has_exercises = bool(grading.find_exercises(nbformat.read(path, as_version=4), path.name))
    assert (f"../exercises/{path.stem}.ipynb" in page.links) == has_exercises  # 06 has no exercise version
    shown, source = (nbformat.read(p, as_version=4) for p in (site / "notebooks" / path.name, path))
    assert [cell.source for cell in shown.cells] == [HIDDEN_TESTS.sub("", cell.source) for cell in source.cells]
    exercise = ROOT / "notebooks" / "exercises" / path.name
    assert (site / "exercises" / path.name).exists() == has_exercises
    assert not has_exercises or (site / "exercises" / path.name).read_bytes() == exercise.read_bytes()


def test_the_home_page_lists_the_notebooks_in_order_with_their_exercises_and_running_times(site):
    page = (site / "index.html").read_text()
    table = page[page.index("<table"):page.index("</table>")]
    measured = {row["notebook"]: row["seconds"] for row in
                json.loads((ROOT / "benchmarks" / "live_output.json").read_text())["notebooks"]}
    where = [table.index(f'href="notebooks/{path.stem}.html"') for path in NOTEBOOKS]
    assert where == sorted(where)
    for path in NOTEBOOKS:
        row = table[table.index(f'href="notebooks/{path.stem}.html"'):].split("</tr>")[0]
        assert f"{round(measured[path.stem])} s" in row
        for exercise in grading.find_exercises(nbformat.read(path, as_version=4), path.name):
            assert exercise.name in row


def test_no_page_and_no_download_shows_a_hidden_test(site):
    """The site is public: the solutions are the self-study course, the hidden tests are grading material."""
    hidden = [str(found) for found in answers.scan(site) if "hidden test" in found.what]
    assert hidden == []
    pages = [html.unescape(path.read_text()) for path in (site / "notebooks").glob("*.html")]  # docs name the marker
    assert len(pages) == len(NOTEBOOKS) and not any("BEGIN HIDDEN TESTS" in page for page in pages)


@pytest.fixture(scope="module")
def pages_read(site) -> dict[Path, Page]:
    """Every built page, read once (not the theme's templates that Sphinx copies into _static/)."""
    return {path: Page(path) for path in site.rglob("*.html") if "_static" not in path.relative_to(site).parts}


def test_no_internal_link_is_broken(site, pages_read):
    broken = []
    for path, page in pages_read.items():
        for link in page.links + page.loads:
            parts = urlsplit(link)
            if parts.scheme or link.startswith("//"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{path.relative_to(site)}: {link}")
            elif parts.fragment and target.suffix == ".html" and parts.fragment not in pages_read[target].ids:
                broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
    assert not broken, broken
    assert len(pages_read) >= len(NOTEBOOKS) + 4  # the notebooks, home, and the three guides


def test_no_page_loads_anything_from_another_host(pages_read):
    remote = [(path.name, loaded) for path, page in pages_read.items() for loaded in page.loads
              if urlsplit(loaded).scheme or loaded.startswith("//")]
    assert not remote, remote


@pytest.fixture(scope="module")
def browser(site):
    """A page in headless chromium, the site served on 127.0.0.1, and what went wrong on the way."""
    if CHROMIUM is None:  # under make test (COURSE_REQUIRE_SYSTEM, .ci/system-packages) a failure, not a skip
        missing = pytest.fail if os.environ.get("COURSE_REQUIRE_SYSTEM") else pytest.skip
        missing("Debian's chromium is not installed (make test installs it as root, or names the command to run)")
    from playwright.sync_api import sync_playwright

    handler = partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    problems = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_page()
        page.on("console", lambda message: problems.append(f"console {message.type}: {message.text}")
                if message.type in ("error", "warning") else None)
        page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
        page.on("request", lambda request: problems.append(f"left the site: {request.url}")
                if urlsplit(request.url).hostname != "127.0.0.1" else None)
        page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
        page.on("response", lambda response: problems.append(f"{response.status}: {response.url}")
                if response.status >= 400 else None)
        yield page, f"http://127.0.0.1:{server.server_address[1]}", problems
        chromium.close()
    server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def images_shown(page) -> list[int]:
    """The rendered width of every image in the page's main part (0 for one that did not load)."""
    return page.eval_on_selector_all("main img", "images => images.map(image => image.naturalWidth)")


def test_the_browser_shows_the_home_page_without_errors(browser):
    page, address, problems = browser
    page.goto(address + "/", wait_until="networkidle")
    assert page.title().startswith("Deep convolutional networks, built layer by layer")
    assert page.locator("main table a").count() == len(NOTEBOOKS)
    assert page.get_by_role("link", name=title(NOTEBOOKS[1])).first.is_visible()
    assert not problems, problems


def test_the_browser_shows_a_notebook_page_with_its_figures_and_math(browser):
    page, address, problems = browser
    page.goto(address + "/notebooks/02_residual_blocks.html", wait_until="networkidle")
    page.wait_for_selector("main mjx-container", state="attached")  # MathJax, served by the site, typeset them
    shown = images_shown(page)
    assert len(shown) == stored_figures(NOTEBOOKS[1]) and all(width > 0 for width in shown), shown
    assert page.get_by_role("link", name="Open in Colab").is_visible()
    assert page.locator("h1").first.inner_text().startswith(title(NOTEBOOKS[1]))
    page.get_by_text("keras.applications:        25,636,712").scroll_into_view_if_needed()  # a stored output
    assert page.get_by_text("keras.applications:        25,636,712").is_visible()
    assert not problems, problems


def test_search_finds_a_word_of_the_course(browser):
    page, address, problems = browser
    page.goto(address + "/search.html?q=bottleneck", wait_until="networkidle")
    page.wait_for_selector("#search-results li")
    found = page.locator("#search-results li a").all_inner_texts()
    assert any(title(path) in found for path in NOTEBOOKS if path.stem.startswith("04")), found
    assert not problems, problems
