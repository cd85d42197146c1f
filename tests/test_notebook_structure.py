"""Every notebook follows the course's shape: badge, setup cell, objectives, profile, summary,
exercises, and stored outputs from a complete run with no errors."""
import importlib.util
import json
from pathlib import Path

import pytest

from kdcourse.course import NOTEBOOKS, colab_url

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("sync", ROOT / "scripts" / "sync_notebooks.py")
sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync)

PATHS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_course_map_lists_every_notebook():
    assert {p.name for p in PATHS} <= {name for name, _, _ in NOTEBOOKS}
    assert PATHS, "no notebooks found"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_shape(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    code = [c for c in cells if c["cell_type"] == "code"]
    assert colab_url(path.name) in "".join(cells[0]["source"]), "run scripts/sync_notebooks.py"
    assert "".join(code[0]["source"]).strip() == sync.setup_cell_source(), "run scripts/sync_notebooks.py"
    assert "Learning objectives" in text
    assert "## Summary" in text and "## Exercises" in text
    assert any("kd.profile()" in "".join(c["source"]) for c in code[:3])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_stored_outputs_are_complete(path):
    code = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert all(c["execution_count"] is not None for c in code if "".join(c["source"]).strip()), \
        "re-execute it: make execute NB=" + str(path.relative_to(ROOT))
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors
    outputs = json.dumps([c["outputs"] for c in code])
    assert "Profile 'cpu'" in outputs, "stored outputs must come from the cpu profile"
