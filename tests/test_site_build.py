"""The website's sources (scripts/build_site.py, `make site`): what goes in, what stays out, and the Colab links
pinned to the ref an instructor asks for. The built site itself is tested in chromium (tests/browser/test_site.py)."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
build_site = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_site)
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_the_sources_hold_every_notebook_the_readme_and_an_exercises_index(tmp_path):
    src = tmp_path / "src"
    build_site.stage(src, "v9.9.9")
    assert sorted(p.name for p in (src / "notebooks").glob("*.ipynb")) == NOTEBOOKS
    assert not list(src.rglob("*solution*"))  # the withheld answers stay out
    index = (src / "index.md").read_text()
    assert index.startswith((ROOT / "README.md").read_text()) and "{toctree}" in index
    assert all(f"notebooks/{name.removesuffix('.ipynb')}" in index for name in NOTEBOOKS)
    exercises = (src / "exercises.md").read_text()
    assert all(f"(notebooks/{name}#exercises)" in exercises for name in NOTEBOOKS)
    assert "A teacher online" in exercises and "Soft or hard, with more patience" in exercises  # 03's exercises
    for name in NOTEBOOKS:
        first = "".join(json.loads((src / "notebooks" / name).read_text())["cells"][0]["source"])
        assert "colab-badge.svg" not in first  # an image from another site: a plain link instead
        assert f"[Open in Colab](https://colab.research.google.com/github/kdcourse/kdcourse/blob/v9.9.9/notebooks/{name})" in first
    committed = json.loads((ROOT / "notebooks" / NOTEBOOKS[3]).read_text())
    staged = json.loads((src / "notebooks" / NOTEBOOKS[3]).read_text())
    assert staged["cells"][1:] == committed["cells"][1:]  # the stored outputs as committed, never re-executed
