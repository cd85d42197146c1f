"""scripts/execute_notebook.py records a run's peak memory where the course map reads it."""
import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("execute_notebook", ROOT / "scripts" / "execute_notebook.py")
execute_notebook = importlib.util.module_from_spec(spec)
spec.loader.exec_module(execute_notebook)


def test_peak_memory_goes_from_a_time_log_into_the_metadata_the_course_map_reads(tmp_path, monkeypatch):
    from kdcourse import course

    (tmp_path / "notebooks").mkdir()
    nb = tmp_path / "notebooks" / "02_finetuning_bert.ipynb"
    nb.write_text(json.dumps({"cells": [], "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4,
                              "nbformat_minor": 5}))
    log = tmp_path / "time.log"
    log.write_text("\tUser time (seconds): 10.0\n\tMaximum resident set size (kbytes): 3638580\n\tExit status: 0\n")
    assert execute_notebook.peak_from_time_log(log) == 3638580 * 1024
    assert execute_notebook.record_peak(nb, execute_notebook.peak_from_time_log(log)) == 3.47
    monkeypatch.setattr(course, "REPO_ROOT", tmp_path)
    assert course.notebook_peak_memory("02_finetuning_bert.ipynb") == 3.47
    assert json.loads(nb.read_text())["metadata"]["kernelspec"] == {"name": "python3"}  # the rest kept
    assert course.notebook_peak_memory("03_distilling_mnist.ipynb") is None  # absent
    totals = course.course_totals()
    assert totals["peak_notebook"] == "02_finetuning_bert.ipynb" and totals["peak_gib"] == 3.47
    assert "03_distilling_mnist.ipynb" in totals["unrecorded"]
    log.write_text("nothing timed here\n")
    with pytest.raises(SystemExit, match="Maximum resident set size"):
        execute_notebook.peak_from_time_log(log)
