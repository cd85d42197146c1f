"""The learner's interface, tested in a real browser: JupyterLab started as `make lab` starts it
(headless), driven by Playwright in Debian's chromium (installed by apt, never by `playwright install`).

- notebooks 00 and 05 in the smoke profile: Run All Cells, then no traceback, no unexecuted cell, and
  every plot the committed notebook has;
- a committed notebook opened without running: no progress bar reads "0%", and saving it changes
  nothing (one kernelspec for all, so JupyterLab has nothing to rewrite).

It works on temporary copies of the notebooks, never the committed files, and keeps one screenshot per
notebook in the folder it prints (KDCOURSE_SCREENSHOTS, default /tmp/kdcourse_screenshots).
Run it with `make browser` (part of `make test`).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHOTS = Path(os.environ.get("KDCOURSE_SCREENSHOTS", "/tmp/kdcourse_screenshots"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("CI"):
    raise RuntimeError("CI needs Debian's chromium for the browser test: apt-get install -y chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt install chromium)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on copies of the notebooks, started by `make lab`; yields (base URL, token, folder)."""
    folder = tmp_path_factory.mktemp("notebooks")
    for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(path, folder)
    settings = tmp_path_factory.mktemp("settings") / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)  # render every cell (no windowing), so every output is on the page
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, KDCOURSE_PROFILE="smoke", HF_HUB_OFFLINE="1",
               JUPYTERLAB_SETTINGS_DIR=str(settings.parent.parent),
               JUPYTERLAB_WORKSPACES_DIR=str(tmp_path_factory.mktemp("workspaces")))
    server = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_DIR={folder}",
         f"LAB_ARGS=--no-browser --port={port} --IdentityProvider.token={token}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("JupyterLab did not start: " + server.stdout.read()[-2000:])
    yield url, token, folder
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(scope="module")
def page(lab):
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {SHOTS}")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser.new_page(viewport={"width": 1400, "height": 1000})
        browser.close()


def _open(page, lab, name: str):
    """Open one notebook alone (a reset workspace) and wait until its kernel has started and is idle."""
    url, token, _ = lab
    page.goto(f"{url}/lab/tree/{name}?reset&token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", state="attached", timeout=60_000)
    page.locator(".jp-StatusBar-Widget", has_text=re.compile(r"\|\s*Idle")).first.wait_for(timeout=120_000)


def _menu(page, menu: str, item: str):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{item}$")).click()


def _save(page):
    """File > Save Notebook (a key press could reach the browser's own "save page" dialog instead)."""
    _menu(page, "File", "Save Notebook")
    page.locator(".jp-StatusBar-Widget", has_text="Saving completed").first.wait_for(timeout=30_000)


def _run_all(page, timeout_s: float):
    """Run > Run All Cells, wait until the last code cell has its execution number, then save."""
    _menu(page, "Run", "Run All Cells")
    last = page.locator(".jp-NotebookPanel:visible .jp-CodeCell .jp-InputPrompt").last
    deadline = time.monotonic() + timeout_s
    while not re.search(r"\[\d+\]", last.inner_text()):
        if time.monotonic() > deadline:
            pytest.fail(f"the last cell did not finish in {timeout_s} s")
        page.wait_for_timeout(1000)
    _save(page)


@pytest.mark.parametrize("name", ["00_welcome_and_setup.ipynb", "05_distillation_pitfalls.ipynb"])
def test_run_all_cells_in_smoke(page, lab, name):
    _, _, folder = lab
    _open(page, lab, name)
    _run_all(page, timeout_s=240)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    saved = [c for c in json.loads((folder / name).read_text())["cells"] if c["cell_type"] == "code"]
    committed = [c for c in json.loads((ROOT / "notebooks" / name).read_text())["cells"] if c["cell_type"] == "code"]
    unexecuted = [i for i, c in enumerate(saved) if "".join(c["source"]).strip() and c["execution_count"] is None]
    assert not unexecuted, f"cells not executed: {unexecuted}"
    errors = [o for c in saved for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, errors[0].get("traceback", errors[0])[-3:]
    assert "Traceback" not in page.locator(".jp-NotebookPanel:visible").inner_text()
    plots = lambda cells: sum("image/png" in o.get("data", {}) for c in cells for o in c["outputs"])  # noqa: E731
    assert plots(saved) >= plots(committed) > 0 or plots(committed) == 0  # every plot drawn
    assert page.locator(".jp-NotebookPanel:visible .jp-OutputArea-output img").count() >= plots(committed)


def test_a_committed_notebook_opens_clean(page, lab):
    _, _, folder = lab
    name = "03_distilling_mnist.ipynb"
    before = (folder / name).read_bytes()
    _open(page, lab, name)
    page.wait_for_timeout(3000)
    text = page.locator(".jp-NotebookPanel:visible").inner_text()
    page.screenshot(path=str(SHOTS / f"{name}.unrun.png"))
    assert not re.search(r"(^|\s)0%\|", text), "a stored progress bar reads 0%"
    _save(page)
    assert (folder / name).read_bytes() == before, "opening and saving the notebook rewrote it"
