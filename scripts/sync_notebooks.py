"""Give every notebook the same 'Open in Colab' badge and Colab setup cell.

Both are generated from one place: kdcourse.course.REPOSITORY (the repository URL), kdcourse.course.REF (the
branch or release tag the badge opens and the setup cell installs) and scripts/setup_cell.py (the setup cell's code). Run after changing either, or after adding a notebook:
    python scripts/sync_notebooks.py
The badge is the first line of the first (markdown) cell; the setup cell is the first code cell.
Outputs are kept: the setup cell prints nothing outside Colab.
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from kdcourse.course import REF, REPOSITORY, colab_url  # noqa: E402

BADGE = "[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]({url})"
SETUP_MARKER = "# Setup: on Google Colab this installs the course"


def setup_cell_source() -> str:
    return (ROOT / "scripts" / "setup_cell.py").read_text().strip().replace("{repository}", REPOSITORY).replace("{ref}", REF)


def sync(path: Path) -> bool:
    """Rewrite the badge and setup cell of one notebook; True when something changed."""
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    lines = [l for l in first.source.splitlines() if "colab-badge.svg" not in l]
    first.source = BADGE.format(url=colab_url(path.name)) + "\n\n" + "\n".join(lines).lstrip("\n")
    code = [c for c in nb.cells if c.cell_type == "code"]
    if code and code[0].source.startswith(SETUP_MARKER):
        code[0].source = setup_cell_source()
    else:
        nb.cells.insert(1, nbformat.v4.new_code_cell(setup_cell_source()))
    after = nbformat.writes(nb) + "\n"  # the final newline JupyterLab writes: opening and saving changes nothing
    if after != path.read_text():
        path.write_text(after)
        return True
    return False


if __name__ == "__main__":
    for nb_path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        print(f"{nb_path.name}: {'updated' if sync(nb_path) else 'already in sync'}")
