"""Does a notebook's every verdict survive a rerun with another thread count? The course's rule: a verdict
("distilled is better than alone, beyond the noise") stands only if it does; otherwise the prose words it as noise.

    python scripts/thread_check.py notebooks/03_distilling_mnist.ipynb            # rerun with 1 thread, then record
    python scripts/thread_check.py notebooks/03_distilling_mnist.ipynb --rerun R  # record an earlier rerun R

The rerun executes the stored notebook into another file (the stored one is untouched) in the `cpu` profile with
OMP_NUM_THREADS=1 (the stored outputs say how many threads they used, 2 so far), an empty artifact cache (so its
teachers are trained again) and its own folder for Trainer runs. The record, notebooks/thread_checks/NN_topic.md,
sets every verdict of the stored run beside the rerun's: the comparison, its difference and interval, and the
verdict word; and every other printed line that reports a verdict or a share of a gap closed. Prose may cite it;
tests/test_thread_checks.py fails when the notebook's stored verdicts are no longer the record's (re-executed
since: check it again).
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import re
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "notebooks" / "thread_checks"
THREADS = 1  # the rerun's thread count: the stored runs use more, and one thread sums in another order
# "distilled - alone: +0.53 points, 95 % interval [+0.03, +1.03] (3 seed(s), ...). Verdict: distilled is better
# than alone, beyond the noise." -- or, with one seed: "b - a: +0.50 points (one seed: ...). Verdict: none, ..."
HEAD = re.compile(r"^(?P<name>.+? - .+?): (?P<diff>[+-]\d\S*) ")
INTERVAL = re.compile(r"95 % interval \[(?P<low>\S+), (?P<high>\S+)\]")
WORD = re.compile(r"Verdict: (?:.+ is (?P<word>better|worse|higher|lower) than .+, beyond the noise|"
                  r"(?P<noise>within the noise)|(?P<none>none, one run is not enough))")
# "the distilled student closed 30 % of the gap ... (95 % interval 2 % to 48 %)": `kd.measure.share_of_gap`
SHARE = re.compile(r"95 % interval (?P<low>-?\d+ %|no lower bound) to (?P<high>-?\d+ %|no upper bound)")
STORED_THREADS = re.compile(r"run on\s+\S+ \((\d+) threads?\)")  # the profile block every notebook prints


def sentences(text: str) -> list[str]:
    """A stream's printed lines, with each wrapped sentence joined: `kd.measure` wraps at 110 characters and
    indents every continuation line by 4 spaces."""
    joined: list[str] = []
    for line in text.splitlines():
        if line.startswith("    ") and joined:
            joined[-1] += " " + line.strip()
        else:
            joined.append(line.strip())
    return joined


def table_rows(text: str) -> list[str]:
    """The rows of a printed table whose last column is "verdict" (a DataFrame of `Verdict.row()`s), header first,
    spaces squeezed; [] for any other text."""
    lines = [line for line in text.splitlines() if line.strip()]
    return [" ".join(line.split()) for line in lines] if lines and lines[0].split()[-1:] == ["verdict"] else []


def verdicts(nb: dict) -> list[dict]:
    """Every verdict a notebook's stored outputs print, in order, as {"cell", "comparison", "difference",
    "interval", "verdict"}; and every other line that reports verdicts (e.g. "15 noise": a grid judged cell by cell,
    or a row of a table of verdicts) or a share of a gap closed, as {"cell", "line"}."""
    found = []
    for index, cell in enumerate(nb["cells"]):
        for output in cell.get("outputs", []):
            text = "".join(output["text"] if output.get("output_type") == "stream"
                           else output.get("data", {}).get("text/plain", ""))
            for block in re.split(r"\n\s*\n", text):  # a printed table stands apart, between blank lines
                rows = table_rows(block)
                found += [{"cell": index, "line": row} for row in rows]
                for line in [] if rows else sentences(block):
                    head, interval, word = HEAD.match(line), INTERVAL.search(line), WORD.search(line)
                    if head and word:
                        found.append({"cell": index, "comparison": head["name"], "difference": head["diff"],
                                      "interval": f"[{interval['low']}, {interval['high']}]" if interval else "",
                                      "verdict": word["word"] or ("noise" if word["noise"] else "one seed")})
                    elif "verdict" in line.lower() or SHARE.search(line):
                        found.append({"cell": index, "line": line})
    return found


def meaning(line: str) -> str:
    """A line with its numbers masked, so that two runs' lines compare by what they say; a share's interval
    becomes whether it holds 0 % (no gain shown) and 100 % (the teacher's level), which is its verdict."""
    def ends(match: re.Match) -> str:
        low, high = (-math.inf if match["low"] == "no lower bound" else float(match["low"][:-2]),
                     math.inf if match["high"] == "no upper bound" else float(match["high"][:-2]))
        return f"an interval that holds no gain: {low <= 0 <= high}, the whole gap: {low <= 100 <= high}"
    return re.sub(r"[+-]?\d[\d.,]*", "#", SHARE.sub(ends, line))


def as_rows(found: list[dict]) -> list[tuple[str, str, str]]:
    """A run's verdicts and lines as the record's columns write them: (comparison, "difference [interval]",
    verdict), and (line, "", "") for a line."""
    return [(v["comparison"], f"{v['difference']} {v['interval']}".strip(), v["verdict"]) if "comparison" in v
            else (v["line"], "", "") for v in found]


def cell_text(text: str) -> str:
    return text.replace("|", "\\|")  # a '|' would end a markdown table's cell


def stored_column(record_text: str) -> list[tuple[str, str, str]]:
    """The stored run's side of a record, as `as_rows` gives it."""
    rows = [re.split(r"(?<!\\) \| ", line[2:]) for line in record_text.splitlines() if line.startswith("| ")]
    return [tuple(part.strip().replace("\\|", "|") for part in row[1:4]) for row in rows[1:]]  # rows[0]: header


def record(path: Path, stored: list[dict], again: list[dict], threads: tuple[int, int], how: str) -> Path:
    """Write notebooks/thread_checks/<notebook>.md: the two runs' verdicts side by side."""
    def shape(runs):  # what is compared, in order; another line's words may change: that is reported, not refused
        return [v.get("comparison", "a line") for v in runs]

    if shape(stored) != shape(again):
        raise SystemExit(f"The rerun's verdicts do not line up with the stored run's ({len(again)} against "
                         f"{len(stored)}): is it a rerun of this very notebook, with the same code?")
    rows = [f"| cell | comparison | stored run, {threads[0]} threads: difference [95 % interval] | verdict | "
            f"rerun, {threads[1]} thread: difference [95 % interval] | verdict | same |",
            "|---|---|---|---|---|---|---|"]
    verdicts_same = lines_same = lines = 0
    for a, b in zip(stored, again):
        (name, a_diff, a_word), (_, b_diff, b_word) = as_rows([a])[0], as_rows([b])[0]
        if "comparison" in a:
            same = "yes" if a_word == b_word else "**no**"
            verdicts_same += a_word == b_word
        else:  # a whole line: the same when only its numbers moved (a share: while its interval's verdict holds)
            lines += 1
            same = "numbers only" if meaning(a["line"]) == meaning(b["line"]) else "**no**"
            lines_same += same != "**no**"
            b_diff = b["line"]
        rows.append(f"| {a['cell']} | {cell_text(name)} | {cell_text(a_diff)} | {a_word} | {cell_text(b_diff)} | "
                    f"{b_word} | {same} |")
    count = len(stored) - lines
    summary = f"**{verdicts_same} of {count} verdicts are the same**"
    if lines:
        summary += (f", and in {lines_same} of the {lines} other lines that report verdicts or a share of a gap only "
                    f"the numbers moved (a share's interval still holds, or still excludes, 0 % and 100 %)")
    text = (f"# {path.name}: its verdicts at another thread count\n\n"
            f"The stored run (`cpu` profile, {threads[0]} threads) against a rerun (`cpu` profile, {threads[1]} "
            f"thread): {how}. Written by `scripts/thread_check.py`; `tests/test_thread_checks.py` checks that the "
            f"stored column is still the notebook's. The cell column counts from 0, as the notebook's JSON does.\n\n"
            f"{summary}. A verdict that changed is fragile: the notebook's prose must say so, or word it as "
            f"noise.\n\n" + "\n".join(rows) + "\n")
    RECORDS.mkdir(exist_ok=True)
    target = RECORDS / (path.stem + ".md")
    target.write_text(text)
    return target


def printed_threads(nb: dict) -> int:
    """The thread count a run printed in its profile block."""
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            match = STORED_THREADS.search("".join(output.get("text", "")))
            if match:
                return int(match[1])
    raise SystemExit("The notebook printed no profile block ('run on cpu (N threads)'): which run is this?")


def rerun(path: Path, out: Path) -> tuple[float, float]:
    """Execute the notebook into `out` with one thread, an empty artifact cache and a fresh Trainer folder;
    returns (minutes, peak GiB), the peak measured as `make execute` measures it."""
    from execute_notebook import execute  # scripts/ is on the path when this file runs as a script

    scratch = Path(tempfile.mkdtemp(prefix="kdcourse_thread_check_"))
    env = dict(os.environ, KDCOURSE_PROFILE="cpu", HF_HUB_OFFLINE="1", OMP_NUM_THREADS=str(THREADS),
               KDCOURSE_CACHE=str(scratch / "cache"), KDCOURSE_RUNS=str(scratch / "runs"))
    start = time.perf_counter()
    peak = execute(path, out, env)
    minutes = (time.perf_counter() - start) / 60
    shutil.rmtree(scratch)  # the retrained teachers and checkpoints: the executed copy is what is kept
    return minutes, peak / 2**30


def cpu_name() -> str:
    """The processor and its core count, for the record."""
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{model}, {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--rerun", type=Path, help="an executed copy to record, instead of running one")
    parser.add_argument("--how", default="", help="added to the record: what else to know about the rerun")
    args = parser.parse_args()
    stored_nb = json.loads(args.notebook.read_text())
    if args.rerun:
        out, how = args.rerun, args.how or "an earlier rerun"
    else:
        out = Path(tempfile.mkdtemp(prefix="kdcourse_thread_check_")) / args.notebook.name
        minutes, peak = rerun(args.notebook, out)
        how = (f"{datetime.date.today()}, {cpu_name()}, an empty artifact cache (nothing reused from an earlier run), "
               f"{minutes:.0f} minutes, peak memory {peak:.2f} GiB")
        how = f"{how}; {args.how}" if args.how else how
        print(f"the rerun: {out}")
    again_nb = json.loads(out.read_text())
    threads = (printed_threads(stored_nb), printed_threads(again_nb))
    if threads[1] != THREADS:
        raise SystemExit(f"The rerun printed {threads[1]} threads, not {THREADS}: set OMP_NUM_THREADS={THREADS}.")
    target = record(args.notebook, verdicts(stored_nb), verdicts(again_nb), threads, how)
    print(f"{target.relative_to(ROOT)} written")


if __name__ == "__main__":
    main()
