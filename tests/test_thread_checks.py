"""The thread-check records (notebooks/thread_checks/, written by scripts/thread_check.py) that notebook prose cites:
each must still describe its notebook's stored outputs, the numbers the prose quotes from a rerun must be in its
record, and the script must read every form in which `kd.measure` prints a verdict."""
import importlib.util
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import kdcourse as kd

ROOT = Path(__file__).resolve().parent.parent
RECORDS = sorted((ROOT / "notebooks" / "thread_checks").glob("*.md"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
ALONE = [[1.0, 0.0] * 200] * 3  # three seeds, 400 examples: right on every other one
BETTER = [[1.0, 1.0] * 200] * 3  # right where ALONE is wrong, on every seed


def load_script():
    spec = importlib.util.spec_from_file_location("thread_check", ROOT / "scripts" / "thread_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def printing(*texts: str, table: str | None = None) -> dict:
    """A notebook whose cells printed `texts` (one cell each) and, in a last cell, displayed `table`."""
    cells = [{"cell_type": "code", "outputs": [{"output_type": "stream", "name": "stdout", "text": t}]} for t in texts]
    if table is not None:
        shown = {"output_type": "execute_result", "data": {"text/plain": table}}
        cells.append({"cell_type": "code", "outputs": [shown]})
    return {"cells": cells}


def test_every_printed_form_of_a_verdict_is_read_whole():
    script = load_script()
    long_names = ("the 80-80 student trained alone on the clean training images, seed after seed",
                  "the 80-80 student distilled from the CNN teacher at T = 4 and alpha 0.9, on the same images")
    better = kd.measure.verdict(ALONE, BETTER, names=long_names)
    one_seed = kd.measure.verdict(ALONE[:1], BETTER[:1])
    noise = kd.measure.verdict(ALONE, [ALONE[0], ALONE[1][:-2] + [0.0, 1.0], ALONE[2]])  # one example moved, one seed
    assert "95 % interval" not in str(better).splitlines()[0]  # wrapped before its interval: the hard case
    table = pd.DataFrame([kd.measure.verdict(ALONE, BETTER).row(), noise.row()]).to_string()  # as 04 shows them
    found = script.verdicts(printing(f"{better}\nsome other line\n", f"{noise}\n{one_seed}\n", table=table))
    assert [(v.get("comparison"), v.get("verdict")) for v in found[:3]] == [
        (f"{long_names[1]} - {long_names[0]}", "better"), ("b - a", "noise"), ("b - a", "one seed")]
    assert found[0]["interval"] == f"[{better.fmt.format(better.low)}, {better.fmt.format(better.high)}]"
    assert [v["line"].split()[-1] for v in found[3:]] == ["verdict", "better", "noise"]  # the table: header, rows


def test_a_share_whose_interval_stops_holding_100_percent_changed_its_verdict():
    script = load_script()
    share = "the student closed {} % of the gap between alone and the teacher (95 % interval {} % to {} %)."
    stored, moved, crossed = share.format(90, 79, 102), share.format(88, 77, 101), share.format(68, 53, 85)
    assert script.meaning(stored) == script.meaning(moved)  # only the numbers moved
    assert script.meaning(stored) != script.meaning(crossed)  # now the teacher is ahead beyond the noise
    no_floor = "x closed 5 % of the gap between a and b (95 % interval no lower bound to 17 %)."
    assert "holds no gain: True, the whole gap: False" in script.meaning(no_floor)


def test_a_record_says_what_changed_and_goes_stale_when_the_notebook_is_re_executed(tmp_path):
    script = load_script()
    stored = script.verdicts(printing(str(kd.measure.verdict(ALONE, BETTER)),
                                      "grid, by the course's verdict: 15 noise"))
    again = script.verdicts(printing(str(kd.measure.verdict(ALONE, ALONE[:2] + BETTER[:1])),  # one seed of 3: noise
                                     "grid, by the course's verdict: 11 noise, 4 better"))
    script.RECORDS = tmp_path
    text = script.record(tmp_path / "99_demo.ipynb", stored, again, threads=(2, 1), how="a test").read_text()
    assert "**0 of 1 verdicts are the same**, and in 0 of the 1 other lines" in text
    assert text.count("| **no** |") == 2
    assert script.stored_column(text) == script.as_rows(stored)
    assert script.stored_column(text) != script.as_rows(again)
    with pytest.raises(SystemExit, match="do not line up"):
        script.record(tmp_path / "99_demo.ipynb", stored, again[:1], threads=(2, 1), how="a test")


def test_a_bar_in_a_printed_line_does_not_break_the_records_table(tmp_path):
    script = load_script()
    runs = script.verdicts(printing("a | b, by the course's verdict: 3 noise"))
    script.RECORDS = tmp_path
    text = script.record(tmp_path / "99_demo.ipynb", runs, runs, threads=(2, 1), how="a test").read_text()
    assert script.stored_column(text) == script.as_rows(runs) == [("a | b, by the course's verdict: 3 noise", "", "")]


@pytest.mark.parametrize("record", RECORDS, ids=[r.stem for r in RECORDS])
def test_each_record_still_describes_its_notebooks_stored_verdicts(record):
    script = load_script()
    notebook = ROOT / "notebooks" / (record.stem + ".ipynb")
    assert notebook.exists(), f"{record.name} is the record of a notebook that is gone: delete it."
    now = script.as_rows(script.verdicts(json.loads(notebook.read_text())))
    assert script.stored_column(record.read_text()) == now, (
        f"{notebook.name}'s stored verdicts are no longer those of {record.relative_to(ROOT)}: it was re-executed "
        f"since. Run `make thread-check NB={notebook.relative_to(ROOT)}` again (or delete the record and the prose "
        f"that cites it).")


def prose(notebook: Path) -> str:
    cells = json.loads(notebook.read_text())["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem[:2] for n in NOTEBOOKS])
def test_what_the_prose_quotes_from_a_rerun_is_in_its_record(notebook):
    """A number the prose quotes from the one-thread rerun is not printed by the notebook: it must be in the
    record the prose cites (a sentence that mentions the rerun names its numbers from there)."""
    text = prose(notebook)
    record = ROOT / "notebooks" / "thread_checks" / (notebook.stem + ".md")
    cited = re.findall(r"notebooks/thread_checks/([\w.-]+\.md)", text)
    assert all(name == record.name for name in cited), f"{notebook.name} cites another notebook's record: {cited}"
    quoting = [s for s in re.split(r"(?<=[.;])\s", " ".join(text.split()))
               if "rerun" in s and ("one-thread" in s or "one thread" in s)]
    if cited or quoting:
        assert record.exists(), f"{notebook.name}'s prose quotes a rerun with one thread, but {record.name} is missing"
    if not record.exists():
        return
    kept = record.read_text()
    for sentence in quoting:
        for number in re.findall(r"[+-]\d+\.\d+|\d+ %", sentence):
            assert number in kept, f"{notebook.name} quotes {number} from the rerun, not in {record.name}: {sentence}"
