"""The course website (`make site`, built into build/site) in a real browser: Debian's chromium driven by
Playwright, the site served by a plain static file server, as any host would serve it.

- every notebook page renders, with every figure its committed notebook stores, each one loaded;
- the maths renders (MathJax, served from the site);
- the search box finds a word that only notebook 06 uses;
- no page requests anything outside the site (no CDN, fonts or scripts from elsewhere);
- the exercises index links every notebook's exercises, and `solutions/` is not published.

Run `make site` first (`make test` does); the test fails if the site is missing.
"""
from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "build" / "site"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt install chromium)")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def site():
    """The built site on a local static server; yields its base URL."""
    if not (SITE / "index.html").exists():
        pytest.fail("no website in build/site: run `make site` first")
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # no line per request in the test's output
            pass

    handler = functools.partial(Quiet, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(site):
    """(a new page, the list every request outside the site is appended to)."""
    from playwright.sync_api import sync_playwright

    outside = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        context = chromium.new_context(viewport={"width": 1300, "height": 900})
        context.route("**/*", lambda r: _route(r, site, outside))  # refuse anything not from the site, and note it
        yield context.new_page(), outside
        chromium.close()


def _route(route, site, outside):
    """Let a request for the site through; abort any other one and remember its address."""
    url = route.request.url
    if url.startswith(("data:", "blob:")) or urlparse(url).netloc == urlparse(site).netloc:
        return route.continue_()
    outside.append(url)
    return route.abort()


def _figures(path: Path) -> int:
    nb = json.loads(path.read_text())
    return sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_page_renders_with_its_figures(browser, site, path):
    page, outside = browser
    outside.clear()
    page.goto(f"{site}/notebooks/{path.stem}.html", wait_until="load")
    title = json.loads(path.read_text())["cells"][0]["source"]
    heading = next(line[2:].strip() for line in title if line.startswith("# "))
    assert heading.split(":")[0] in page.locator("article h1").first.inner_text()
    images = page.locator("div.cell_output img")
    assert images.count() == _figures(path), f"{path.name}: {images.count()} figures on the page"
    broken = page.evaluate("() => [...document.querySelectorAll('div.cell_output img')]"
                           ".filter(i => !(i.complete && i.naturalWidth > 0)).length")
    assert broken == 0, f"{path.name}: {broken} figures did not load"
    assert page.locator("div.cell_output").count() > 0 and "Traceback" not in page.locator("article").inner_text()
    colab = page.locator("a[href*='colab.research.google.com']")
    assert colab.count() > 0 and f"/notebooks/{path.name}" in colab.first.get_attribute("href")
    download = page.locator(f"a[href$='_sources/notebooks/{path.name}']")  # the theme's download button
    assert download.count() > 0
    notebook = page.request.get(f"{site}/_sources/notebooks/{path.name}")
    assert notebook.ok and len(notebook.json()["cells"]) == len(json.loads(path.read_text())["cells"])
    assert not outside, f"requests outside the site: {sorted(set(outside))[:5]}"


def test_the_maths_renders_from_the_site(browser, site):
    page, outside = browser
    outside.clear()
    page.goto(f"{site}/notebooks/03_distilling_mnist.html", wait_until="load")
    page.wait_for_selector("mjx-container", timeout=30_000)  # MathJax typeset the formulas
    assert page.locator("mjx-container").count() >= 5
    assert "\\frac" not in page.locator("article").inner_text()  # no raw TeX left
    assert not outside, f"requests outside the site: {sorted(set(outside))[:5]}"


def test_search_finds_a_word_from_notebook_06(browser, site):
    page, outside = browser
    outside.clear()
    page.goto(f"{site}/search.html?q=SmolLM2", wait_until="load")
    hit = page.locator("#search-results a[href*='06_distilling_a_language_model']")
    hit.first.wait_for(timeout=30_000)
    assert not outside, f"requests outside the site: {sorted(set(outside))[:5]}"


def test_front_page_exercises_and_no_solutions(browser, site):
    page, outside = browser
    outside.clear()
    page.goto(f"{site}/index.html", wait_until="load")
    assert "moving knowledge between models" in page.locator("article h1").first.inner_text()
    page.goto(f"{site}/exercises.html", wait_until="load")
    links = page.locator("article a[href*='notebooks/']")
    assert {urlparse(links.nth(i).get_attribute("href")).path.split("/")[-1] for i in range(links.count())} == {
        f"{p.stem}.html" for p in NOTEBOOKS}
    assert links.first.get_attribute("href").endswith("#exercises")
    page.goto(f"{site}/INSTRUCTORS.html", wait_until="load")
    assert page.locator("article h1").count() == 1
    assert not list(SITE.rglob("*solution*")), "solutions/ must stay out of the website"
    assert not outside, f"requests outside the site: {sorted(set(outside))[:5]}"
