"""Execute notebooks in place, as `make execute` does, and record in each one the peak memory of its run.

    python scripts/execute_notebook.py notebooks/02_finetuning_bert.ipynb
    python scripts/execute_notebook.py notebooks/02_finetuning_bert.ipynb --time-log run.log   # record only

The peak is the largest resident set of any process the run waited for (the kernel, in practice), read from
getrusage(RUSAGE_CHILDREN) as GNU time reports it; one notebook per process, so runs do not mix. It goes into the
notebook's metadata (`kdcourse.peak_memory_gib`), where notebook 00's course map and the README's totals read it
(`kd.course.notebook_peak_memory`). `--time-log` records the "Maximum resident set size" of a run that was timed
with `/usr/bin/time -v` instead of running it again.
"""
from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
from pathlib import Path

MARK = "kdcourse"  # the notebook-metadata key, as in scripts/record_sources.py


def record_peak(path: Path, peak_bytes: int) -> float:
    """Write the run's peak memory (GiB, 2 decimals) into the notebook's metadata; returns it."""
    nb = json.loads(path.read_text())
    gib = round(peak_bytes / 2**30, 2)
    nb["metadata"].setdefault(MARK, {})["peak_memory_gib"] = gib
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")  # as nbformat writes it
    return gib


def peak_from_time_log(log: Path) -> int:
    """Bytes of the "Maximum resident set size (kbytes)" line that `/usr/bin/time -v` writes."""
    found = re.findall(r"Maximum resident set size \(kbytes\): (\d+)", log.read_text())
    if len(found) != 1:
        raise SystemExit(f"{log}: expected one 'Maximum resident set size' line of /usr/bin/time -v, found {len(found)}.")
    return int(found[0]) * 1024


def execute(path: Path, out: Path | None = None, env: dict | None = None) -> int:
    """Run every cell of the notebook, in place or into `out` (scripts/thread_check.py), in this environment or
    `env`; returns the peak resident set of the run, in bytes."""
    where = ["--output", str(out.resolve())] if out else ["--inplace"]
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", *where,
                    "--ExecutePreprocessor.timeout=-1", str(path.resolve())], check=True, env=env)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS reports bytes, Linux kilobytes


if __name__ == "__main__":
    args = sys.argv[1:]
    if "--time-log" in args:
        i = args.index("--time-log")
        log, args = Path(args[i + 1]), args[:i] + args[i + 2:]
        if len(args) != 1:
            raise SystemExit("--time-log records one notebook: name it once.")
        print(f"{args[0]}: peak memory {record_peak(Path(args[0]), peak_from_time_log(log))} GiB recorded")
    else:
        if len(args) != 1:
            raise SystemExit("Execute one notebook per call, so that its peak memory is its own.")
        print(f"{args[0]}: peak memory {record_peak(Path(args[0]), execute(Path(args[0])))} GiB recorded")
