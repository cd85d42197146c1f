"""Every notebook follows the course's shape: badge, setup cell, objectives, profile, summary,
exercises, and stored outputs from a complete run with no errors."""
import importlib.util
import json
import re
from pathlib import Path

import pytest

from kdcourse.course import NOTEBOOKS, colab_url

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("sync", ROOT / "scripts" / "sync_notebooks.py")
sync = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sync)

PATHS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_course_map_lists_every_notebook_and_no_other():
    assert PATHS, "no notebooks found"
    assert [p.name for p in PATHS] == [nb.file for nb in NOTEBOOKS], "kd.course.NOTEBOOKS and notebooks/ differ"


# the loaders a notebook calls -> the Profile field naming what they load from the hub in the gpu profile
HUB_LOADERS = {"kd.load_sentiment(": "sentiment", "kd.data.load_pairs(": "pair_task", "kd.load_tokenizer(": "encoder", "kd.load_encoder(": "encoder",
               "kd.classify.": "encoder", "kd.lm.load_mlm_teacher(": "encoder", "kd.lm.build_mlm_teacher(": "encoder",
               "kd.lm.load_encoder_with_mlm_head(": "encoder", "kd.load_causal_lm(": "causal_lm",
               "kd.models.load_lm_teacher(": "lm_teacher"}


def registration_gaps(path, notebooks=NOTEBOOKS) -> list[str]:
    """Every place a notebook must be registered (README, "Adding a notebook") that does not know `path`."""
    import dataclasses
    import re

    from kdcourse import budget, profiles, rehearsal
    from kdcourse.hub import SST2_REPO

    entry = next((nb for nb in notebooks if nb.file == path.name), None)
    if entry is None:
        return [f"{path.name}: no entry in kd.course.NOTEBOOKS (kdcourse/course.py): add its title, topic, profile "
                f"parts and hub assets"]
    gaps = []
    fields = {f.name for f in dataclasses.fields(profiles.Profile)}
    parts = {f for f in fields if dataclasses.is_dataclass(getattr(profiles.get_profile("cpu"), f))}
    code = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    for part in sorted(set(entry.parts) | (set(re.findall(r"\bP\.(\w+)", code)) & parts)):
        if part not in parts:
            gaps.append(f"{path.name}: no profile part {part!r}: add a config dataclass and a Profile field "
                        f"(kdcourse/profile_parts.py and kdcourse/profiles.py), the cpu base and each profile's changes")
        elif part not in entry.parts:
            gaps.append(f"{path.name}: reads P.{part} but kd.course.NOTEBOOKS does not list {part!r} in its parts")
    readme = (ROOT / "README.md").read_text()
    if f"`{path.stem}`" not in readme:
        gaps.append(f"{path.name}: not in the README's table of notebooks (a row `{path.stem}`)")
    loads = {field for call, field in HUB_LOADERS.items() if call in code} | {
        f for f in ("encoder", "student_encoder", "causal_lm", "lm_teacher") if f"P.{f}" in code}
    for field in sorted(loads - set(entry.hub)):
        gaps.append(f"{path.name}: loads the profile's {field!r} (from the hub in gpu) but kd.course.NOTEBOOKS does "
                    f"not list it in hub")
    if path.name not in budget.NOTEBOOK_WORK:
        gaps.append(f"{path.name}: no phases in kd.budget.NOTEBOOK_WORK (kdcourse/workloads.py): 00's course map "
                    f"needs its work to estimate a T4's minutes")
    gpu = profiles.get_profile("gpu")
    for field in entry.hub:
        if field not in fields:
            gaps.append(f"{path.name}: hub asset field {field!r} is not a Profile field")
            continue
        hub_id = SST2_REPO if getattr(gpu, field) in ("sst2", "mrpc") else getattr(gpu, field)  # GLUE's tasks
        if hub_id not in rehearsal.HUB_IDS:
            gaps.append(f"{path.name}: the gpu profile loads {hub_id!r} ({field}) but the rehearsal writes no stand-in "
                        f"for it: add one to kd.rehearsal.HUB_IDS and its writer (kdcourse/rehearsal.py)")
    return gaps


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_every_notebook_is_registered_everywhere(path):
    assert not registration_gaps(path), "\n".join(registration_gaps(path))


def test_a_notebook_missing_from_a_registry_is_named_with_the_place(tmp_path, monkeypatch):
    import dataclasses

    from kdcourse import rehearsal
    from kdcourse.course import Notebook

    new = tmp_path / "07_new_topic.ipynb"
    new.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["C = P.sparse_store\n", "D = P.mnist\n",
                                                                          "lm, tok = kd.load_causal_lm(P)"]}]}))
    assert "no entry in kd.course.NOTEBOOKS" in registration_gaps(new)[0]
    entry = Notebook(new.name, "New", "a topic", parts=("sparse_store",), hub=("lm_teacher",))
    gaps = "\n".join(registration_gaps(new, [*NOTEBOOKS, entry]))
    assert "no profile part 'sparse_store'" in gaps and "kd.budget.NOTEBOOK_WORK" in gaps
    assert "reads P.mnist but kd.course.NOTEBOOKS does not list 'mnist'" in gaps
    assert "rehearsal" not in gaps  # SmolLM2-360M-Instruct has a stand-in
    assert "not in the README's table of notebooks (a row `07_new_topic`)" in gaps
    assert "loads the profile's 'causal_lm' (from the hub in gpu) but kd.course.NOTEBOOKS does not list it" in gaps
    entry = dataclasses.replace(entry, hub=("encoder", "no_such_field"))
    assert "'no_such_field' is not a Profile field" in "\n".join(registration_gaps(new, [*NOTEBOOKS, entry]))
    monkeypatch.setattr(rehearsal, "HUB_IDS", ())
    assert "loads 'bert-base-uncased' (encoder) but the rehearsal writes no stand-in" in "\n".join(
        registration_gaps(new, [*NOTEBOOKS, entry]))


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
    def readable(out):  # what a reader sees: images are base64, where "/tmp/" can occur by chance
        return {**out, "data": {k: v for k, v in out.get("data", {}).items() if not k.startswith("image/")}}
    outputs = json.dumps([[readable(o) for o in c.get("outputs", [])] for c in nb["cells"]])
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


def waiting_for_reexecution() -> set[str]:
    """The notebooks on notebooks/REEXECUTE.md: stored outputs older than their sources, a re-execution planned."""
    import re

    return set(re.findall(r"^\| (\d\d_\w+\.ipynb) \|", (ROOT / "notebooks" / "REEXECUTE.md").read_text(), re.M))


# What a stored output may hold so that it reads without scrolling on GitHub, nbviewer and the course website.
MAX_TABLE_ROWS, MAX_TABLE_COLUMNS, MAX_LINE = 25, 10, 200


def output_walls(cell: dict) -> list[str]:
    """The walls in one cell's stored outputs: an HTML table of more than MAX_TABLE_ROWS rows or MAX_TABLE_COLUMNS
    columns (the Trainer's progress table, a wide DataFrame), a line of text longer than MAX_LINE characters."""
    found = []
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        for table in re.findall(r"<table.*?</table>", "".join(data.get("text/html", "")), re.S):
            rows = len(re.findall(r"<tr\b", table)) - 1  # the header row does not count
            first = re.search(r"<tr\b.*?</tr>", table, re.S)
            columns = len(re.findall(r"<t[hd]\b", first.group(0))) if first else 0
            if rows > MAX_TABLE_ROWS or columns > MAX_TABLE_COLUMNS:
                found.append(f"a table of {rows} rows and {columns} columns")
        text = "".join(output.get("text", "")) or ("" if "text/html" in data else "".join(data.get("text/plain", "")))
        width = max((len(line) for line in text.splitlines()), default=0)
        if width > MAX_LINE:
            found.append(f"a line of {width} characters")
    return found


def stale_outputs(path) -> list[str]:
    """Cells whose stored outputs were made by another source than the one shown, a profile block that is not
    the profile's current one (`make execute` records each executed cell's source hash), and stored outputs with
    walls (`output_walls`): all of them wait for a re-execution."""
    import importlib.util as iu

    from kdcourse import profiles

    spec = iu.spec_from_file_location("record_sources", ROOT / "scripts" / "record_sources.py")
    record = iu.module_from_spec(spec)
    spec.loader.exec_module(record)
    found = []
    for i, cell in enumerate(json.loads(path.read_text())["cells"]):
        if cell["cell_type"] != "code" or not cell.get("outputs"):
            continue
        source = "".join(cell["source"])
        if cell["metadata"].get(record.MARK, {}).get("source_sha256") != record.source_sha(source):
            found.append(f"cell {i}: its stored output was made by another source (first line: {source.splitlines()[0]!r})")
        text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
        if text.startswith("Profile '"):
            name = text.split("'")[1]
            stored = text.split("\n  run on")[0]
            if stored != str(profiles.get_profile(name)):
                found.append(f"cell {i}: the stored profile block is not the current {name!r} profile")
        found += [f"cell {i}: {wall} in its stored outputs" for wall in output_walls(cell)]
    return found


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_stored_outputs_come_from_the_sources_shown(path):
    stale = stale_outputs(path)
    if path.name in waiting_for_reexecution():
        assert stale, f"{path.name} is up to date: remove it from notebooks/REEXECUTE.md"
    else:
        assert not stale, (f"{path.name}: re-execute it (make execute NB=notebooks/{path.name}) or list it, with the "
                           f"reason and the planned re-execution, in notebooks/REEXECUTE.md:\n" + "\n".join(stale))


def test_an_edited_cell_and_an_old_profile_block_are_found(tmp_path):
    import dataclasses

    from kdcourse import profiles

    nb = json.loads(PATHS[0].read_text())
    path = tmp_path / PATHS[0].name
    path.write_text(json.dumps(nb))
    block = [i for i, c in enumerate(nb["cells"]) if "".join("".join(o.get("text", "")) for o in c.get("outputs", []))
             .startswith("Profile '")]
    assert not [s for s in stale_outputs(path) if "profile block" in s] or PATHS[0].name in waiting_for_reexecution()
    code = next(c for c in nb["cells"] if c["cell_type"] == "code" and c.get("outputs") and c["metadata"].get("kdcourse"))
    code["source"] = ["# edited after the run\n"] + code["source"]
    old = dataclasses.replace(profiles.get_profile("cpu"), seed=1)
    for o in nb["cells"][block[0]]["outputs"]:
        o["text"] = str(old) + "\n  run on           cpu (2 threads), precision fp32\n"
    path.write_text(json.dumps(nb))
    stale = "\n".join(stale_outputs(path))
    assert "another source (first line: '# edited after the run')" in stale
    assert "the stored profile block is not the current 'cpu' profile" in stale


def test_a_profile_block_is_refreshed_only_when_the_notebook_reads_none_of_what_changed(tmp_path):
    import dataclasses
    import importlib.util as iu

    from kdcourse import profiles

    spec = iu.spec_from_file_location("refresh_profile_blocks", ROOT / "scripts" / "refresh_profile_blocks.py")
    script = iu.module_from_spec(spec)
    spec.loader.exec_module(script)
    source = ROOT / "notebooks" / "06_distilling_a_language_model.ipynb"  # reads P.lm_distillation, never P.mnist
    cpu = profiles.get_profile("cpu")
    for part, changed, refreshed in (("mnist", dataclasses.replace(cpu.mnist, copies=99), True),
                                     ("lm_distillation", dataclasses.replace(cpu.lm_distillation, steps=9), False)):
        nb = json.loads(source.read_text())
        cell = next(c for c in nb["cells"] if "".join("".join(o.get("text", "")) for o in c.get("outputs", []))
                    .startswith("Profile '"))
        old = str(dataclasses.replace(cpu, **{part: changed}))
        cell["outputs"][0]["text"] = (old + "\n  run on           cpu (2 threads), precision fp32\n").splitlines(True)
        path = tmp_path / source.name
        path.write_text(json.dumps(nb))
        if refreshed:
            assert "refreshed (mnist changed" in script.refresh(path)
            assert not [s for s in stale_outputs(path) if "profile block" in s]
            stored = next("".join(o["text"]) for c in json.loads(path.read_text())["cells"] for o in c.get("outputs", [])
                          if "".join(o.get("text", "")).startswith("Profile '"))
            assert stored == str(cpu) + "\n  run on           cpu (2 threads), precision fp32\n"  # the run's line kept
        else:
            with pytest.raises(SystemExit, match="reads lm_distillation, which changed: re-execute it"):
                script.refresh(path)


def test_walls_in_stored_outputs_are_found():
    rows = "".join(f"<tr><td>{i}</td><td>0.5</td></tr>" for i in range(40))
    trainer_table = {"outputs": [{"data": {"text/html": f"<table><tr><th>Step</th><th>Training Loss</th></tr>{rows}</table>",
                                           "text/plain": "<IPython.core.display.HTML object>"}}]}
    wide = {"outputs": [{"data": {"text/html": "<table><tr>" + "<th>x</th>" * 12 + "</tr><tr>" + "<td>1</td>" * 12
                                  + "</tr></table>"}}]}
    line = {"outputs": [{"output_type": "stream", "text": ["short\n", "x" * 250 + "\n"]}]}
    assert output_walls(trainer_table) == ["a table of 40 rows and 2 columns"]
    assert output_walls(wide) == ["a table of 1 rows and 12 columns"]
    assert output_walls(line) == ["a line of 250 characters"]
    assert output_walls({"outputs": [{"output_type": "stream", "text": ["fine\n"]}]}) == []


def test_readme_totals_are_the_course_maps():
    """The README's time and memory for the whole course are the stored runs' (kd.course.course_totals)."""
    from kdcourse.course import course_totals

    totals, readme = course_totals(), (ROOT / "README.md").read_text()
    minutes = f"took **{round(totals['minutes'])} minutes** on 2 cores"
    assert minutes in readme, f"the README's total must read '{minutes}' (the stored runs, summed)"
    if totals["peak_notebook"] is not None:
        peak = f"**{totals['peak_gib']:.2f} GiB** (notebook {totals['peak_notebook'][:2]})"
        assert peak in readme, f"the README's largest recorded peak must read '{peak}'"
    unrecorded = ", ".join(name[:2] for name in totals["unrecorded"]) or "none"
    assert f"recorded no peak yet: {unrecorded}." in readme, f"the README must list '{unrecorded}' as unrecorded"
