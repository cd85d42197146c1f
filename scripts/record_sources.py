"""Record, in each executed code cell, a hash of the source that produced its stored outputs.

`make execute` runs it after executing a notebook. A test then compares every stored output's hash with the
cell's current source: a cell edited after the run that stored its output fails CI, unless its notebook is on
notebooks/REEXECUTE.md, the list of notebooks waiting for a planned re-execution.

    python scripts/record_sources.py notebooks/03_distilling_mnist.ipynb
"""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

MARK = "kdcourse"  # the cell-metadata key: {"source_sha256": ...}


def source_sha(source: str) -> str:
    """The first 16 hex digits of the SHA-256 of a cell's source text."""
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def record(path: Path) -> int:
    """Stamp every code cell that has outputs with its source's hash; returns how many were stamped."""
    nb = json.loads(path.read_text())
    stamped = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and cell.get("outputs"):
            cell["metadata"].setdefault(MARK, {})["source_sha256"] = source_sha("".join(cell["source"]))
            stamped += 1
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")  # as nbformat writes it
    return stamped


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {record(Path(name))} cells stamped with the source that ran")
