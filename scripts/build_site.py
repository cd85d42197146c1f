"""Build the course website: every committed notebook as a page with its stored outputs (never re-executed),
the README as the front page, INSTRUCTORS.md, and an index of every notebook's exercises. `make site` runs it.

    python scripts/build_site.py [--out build/site] [--ref main]

The pages are assembled in build/site-src (the site/ configuration, the README, the notebooks as committed,
with their Colab badge turned into a plain link, and a generated exercises page), then Sphinx with myst-nb
and sphinx-book-theme writes static HTML to --out. `solutions/` stays out. The result needs no network, at
build or view time: publish the folder on any static host (GitHub Pages, Netlify, an S3 bucket, a course
server) or open build/site/index.html from disk. `--ref` is the branch or release tag that the pages'
"Open in Colab" links open (e.g. v0.2.0, so that a class is not moved by later commits).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kdcourse.course import NOTEBOOKS, REF, REPOSITORY, colab_url  # noqa: E402

BADGE = re.compile(r"\[!\[Open in Colab\]\([^)]*\)\]\([^)]*\)")  # an image fetched from colab.research.google.com
EXERCISE = re.compile(r"^\d+\. \*\*(.+?)\*\*", re.M)  # "3. **A teacher online.** ..." in an Exercises cell


def notebook_title(nb: dict) -> str:
    """The first level-1 heading of a notebook: its page title."""
    for cell in nb["cells"]:
        match = re.search(r"^# (.+)$", "".join(cell["source"]), re.M)
        if cell["cell_type"] == "markdown" and match:
            return match.group(1).strip()
    raise ValueError("a notebook of the course has no '# title' heading")


def exercises(nb: dict) -> list[str]:
    """The titles of a notebook's exercises (the numbered items under its '## Exercises' heading), and of its
    self-checks."""
    found = []
    for cell in nb["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] != "markdown":
            continue
        if "## Exercises" in text:
            found += [t.rstrip(".") for t in EXERCISE.findall(text.split("## Exercises", 1)[1])]
        match = re.match(r"\*\*(Self-check[^*]*)\*\*", text)
        if match:
            found.append(match.group(1).rstrip("."))
    return found


def stage(src: Path, ref: str) -> None:
    """Write the Sphinx sources of the site to `src`."""
    if src.exists():
        shutil.rmtree(src)
    shutil.copytree(ROOT / "site", src)
    (src / "notebooks").mkdir()
    index_lines = []
    for entry in NOTEBOOKS:
        nb = json.loads((ROOT / "notebooks" / entry.file).read_text())
        first = nb["cells"][0]
        first["source"] = BADGE.sub(f"[Open in Colab]({colab_url(entry.file, ref)})", "".join(first["source"]))
        (src / "notebooks" / entry.file).write_text(json.dumps(nb, indent=1, ensure_ascii=False))
        index_lines.append((entry.file, notebook_title(nb), exercises(nb)))
    page = ["# Exercises", "",
            "Every notebook ends with exercises, from warm-up to stretch; a *self-check* is checked by "
            "`kdcourse.exercises` when you run its cell (a pass, or a hint that names the mistake). Solutions are "
            "withheld for instructors (see the instructors' guide).", ""]
    for file, title, items in index_lines:
        page += [f"## [{title}](notebooks/{file}#exercises)", ""] + [f"- {item}" for item in items] + [""]
    (src / "exercises.md").write_text("\n".join(page))
    readme = (ROOT / "README.md").read_text()
    toctree = ["", "```{toctree}", ":hidden:", ":caption: The course", ""]
    toctree += [f"notebooks/{file.removesuffix('.ipynb')}" for file, _, _ in index_lines]
    toctree += ["exercises", "INSTRUCTORS", "```", ""]
    (src / "index.md").write_text(readme + "\n".join(toctree))
    shutil.copy(ROOT / "INSTRUCTORS.md", src / "INSTRUCTORS.md")
    shutil.copy(ROOT / "LICENSE", src / "LICENSE")


def build(out: Path, ref: str) -> Path:
    """Stage the sources and run Sphinx; returns the folder of the built site (its index.html is the front page)."""
    src = ROOT / "build" / "site-src"
    stage(src, ref)
    env = {"KDCOURSE_SITE_REPOSITORY": REPOSITORY, "KDCOURSE_SITE_REF": ref, "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-W", "--keep-going",
               str(src), str(out)]
    subprocess.run(command, check=True, env={**os.environ, **env})
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--ref", default=REF, help="branch or release tag the Colab links open (default: %(default)s)")
    args = parser.parse_args()
    site = build(args.out.resolve(), args.ref)
    print(f"The course website is in {site.relative_to(ROOT) if site.is_relative_to(ROOT) else site}: "
          f"open its index.html, or publish the folder on any static host.")
