"""Refresh a notebook's stored profile block after a change to a part of the profile that notebook never reads.

Every notebook prints the whole profile at its top, so a new setting for notebook 03 (`P.mnist`) makes the
stored block of notebook 06 differ from the current profile, although 06 ran with exactly the settings it reads.
Re-executing 06 for that would cost half an hour and change nothing else. This script rewrites the block to
what the setup cell prints today, and only when every setting that differs belongs to a part of the profile
that no code cell of the notebook names (`P.mnist`, `.mnist`, ...); otherwise it refuses and says to
re-execute. `make execute` remains the way to refresh everything else.

    python scripts/refresh_profile_blocks.py notebooks/01_pretraining_objectives.ipynb notebooks/06_*.ipynb
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kdcourse import profiles  # noqa: E402

FIELD = re.compile(r"^  (\w+)")  # "  mnist            train_size=..." starts a field; deeper indents continue it


def fields(block: str) -> dict[str, str]:
    """The printed profile block as {field name: its lines}."""
    out, name = {}, None
    for line in block.splitlines()[1:]:  # the first line is "Profile 'cpu': <description>"
        match = FIELD.match(line)
        if match and not line.startswith(" " * 18):
            name = match.group(1)
            out[name] = line
        elif name is not None:
            out[name] += "\n" + line
    return out


def refresh(path: Path) -> str:
    """Rewrite the stored profile block of `path` if only parts the notebook never reads changed; returns what
    was done. Raises SystemExit naming the part when the notebook reads one that changed."""
    nb = json.loads(path.read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("text", ""))
            if not text.startswith("Profile '"):
                continue
            stored, _, rest = text.partition("\n  run on")
            current = str(profiles.get_profile(text.split("'")[1]))
            if stored == current:
                return f"{path.name}: the stored profile block is current"
            old, new = fields(stored), fields(current)
            changed = sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))
            read = [k for k in changed if re.search(rf"\.{k}\b", code)]
            if read or stored.splitlines()[0] != current.splitlines()[0]:
                raise SystemExit(f"{path.name} reads {', '.join(read) or 'the profile description'}, which changed: "
                                 f"re-execute it (make execute NB=notebooks/{path.name}).")
            output["text"] = (current + "\n  run on" + rest).splitlines(keepends=True)  # as nbformat stores it
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
            return f"{path.name}: profile block refreshed ({', '.join(changed)} changed; the notebook never reads them)"
    return f"{path.name}: no stored profile block"


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(refresh(Path(name).resolve()))
