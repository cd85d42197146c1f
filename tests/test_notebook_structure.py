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


spec_bars = importlib.util.spec_from_file_location("bars", ROOT / "scripts" / "finish_progress_bars.py")
bars = importlib.util.module_from_spec(spec_bars)
spec_bars.loader.exec_module(bars)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_stored_outputs_read_well_in_a_static_renderer(path):
    nb = json.loads(path.read_text())
    state = nb.get("metadata", {}).get("widgets", {}).get(bars.WIDGET_STATE, {}).get("state", {})
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(bars.WIDGET_VIEW)
            finished = bars.bar_text(state, view["model_id"]) if view else None
            if finished is not None:  # the text a renderer shows is the bar's final state, never "0%"
                assert out["data"]["text/plain"] == [finished], "run scripts/finish_progress_bars.py " + path.name
    outputs = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    for leak in ("/work/", "/home/", "/root/", "/tmp/", ".venv/", "LOAD REPORT", "\\u001b["):
        assert leak not in outputs, f"{path.name}: stored outputs show {leak!r} (a machine path or a log wall)"


def test_one_kernelspec_for_every_notebook():
    # JupyterLab rewrites a differing kernelspec on open, and a learner's git pull then conflicts
    specs = {json.dumps(json.loads(p.read_text())["metadata"]["kernelspec"], sort_keys=True) for p in PATHS}
    assert specs == {json.dumps({"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
                                sort_keys=True)}


def test_every_kd_name_a_notebook_or_the_readme_uses_exists():
    # the small top-level namespace: a renamed or moved helper breaks here, not in a learner's notebook
    import re

    import kdcourse as kd

    texts = ["".join(c["source"]) for p in PATHS for c in json.loads(p.read_text())["cells"]]
    texts += [(ROOT / name).read_text() for name in ("README.md", "INSTRUCTORS.md")]
    missing = set()
    for text in texts:
        for dotted in re.findall(r"\bkd\.([A-Za-z_][\w.]*\w)", text):
            obj = kd
            for part in dotted.split("."):
                if not hasattr(obj, part):
                    missing.add(dotted)
                    break
                obj = getattr(obj, part)
    assert not missing, sorted(missing)
    assert len(kd.__all__) <= 45  # what every notebook uses; the rest lives in its module
