"""Make a release of the course: a commit whose notebooks open and install the release tag, the tag on it, and a
commit back to main, so that a class pinned to the tag is not moved by later work.

    python scripts/release.py 0.2.0 [--date 2026-12-05]

It refuses uncommitted changes, a version that is not above the current one, a tag that exists, notebooks that
wait for a re-execution (notebooks/REEXECUTE.md: a release ships every notebook with the outputs of its sources),
and a CHANGELOG.md whose "## Unreleased" section is empty. Then it

1. renames CHANGELOG.md's "## Unreleased" to "## <version> (<date>)" and opens a new, empty "## Unreleased";
2. writes the version into pyproject.toml and kdcourse/__init__.py, and REF = "v<version>" into kdcourse/course.py;
3. syncs the notebooks (scripts/sync_notebooks.py: their badges open the tag, their setup cells install it),
   commits "Release v<version>" and tags that commit (an annotated tag whose message is the changelog section);
4. sets REF back to "main", syncs again and commits "Back to main after v<version>".

Then push both commits and the tag (`git push --follow-tags`) and build the site for the tag
(`make site SITE_REF=v<version>`).
"""
from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNRELEASED = "## Unreleased"


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], check=True, capture_output=True, text=True).stdout.strip()


def fail(message: str) -> None:
    sys.exit(f"release: {message}")


def parse(version: str) -> tuple[int, ...]:
    if not re.fullmatch(r"\d+\.\d+\.\d+", version):
        fail(f"a version is MAJOR.MINOR.PATCH, e.g. 0.2.0; got {version!r}.")
    return tuple(int(x) for x in version.split("."))


def current_version() -> str:
    return re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def unreleased_notes(changelog: str) -> str:
    """The text of the "## Unreleased" section (up to the next "## " heading)."""
    if UNRELEASED not in changelog:
        fail(f'CHANGELOG.md has no "{UNRELEASED}" section: add one with what this release changes.')
    body = changelog.split(UNRELEASED, 1)[1]
    return re.split(r"^## ", body, maxsplit=1, flags=re.M)[0].strip()


def replace_once(path: Path, pattern: str, new: str) -> None:
    text = path.read_text()
    changed, count = re.subn(pattern, new, text, count=1, flags=re.M)
    if count != 1:
        fail(f"{path.relative_to(ROOT)}: {pattern!r} not found.")
    path.write_text(changed)


def set_ref(ref: str) -> None:
    replace_once(ROOT / "kdcourse" / "course.py", r'^REF = "[^"]*"', f'REF = "{ref}"')
    subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_notebooks.py")], check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="MAJOR.MINOR.PATCH, above the current version")
    parser.add_argument("--date", default=datetime.date.today().isoformat(), help="release date (default: today)")
    args = parser.parse_args()
    tag = f"v{args.version}"
    released = git("tag", "--list", "v*")  # before the first release, the current version itself may be released
    if parse(args.version) < parse(current_version()) or (released and parse(args.version) == parse(current_version())):
        fail(f"{args.version} is not above the current version {current_version()}.")
    if git("status", "--porcelain"):
        fail("commit or stash your changes first: a release is made from a clean tree.")
    if git("tag", "--list", tag):
        fail(f"the tag {tag} exists already.")
    waiting = re.findall(r"^\| (\d\d_\w+\.ipynb) \|", (ROOT / "notebooks" / "REEXECUTE.md").read_text(), re.M)
    if waiting:
        fail(f"notebooks wait for a re-execution (notebooks/REEXECUTE.md): {', '.join(waiting)}.")
    changelog_path = ROOT / "CHANGELOG.md"
    changelog = changelog_path.read_text()
    notes = unreleased_notes(changelog)
    if not notes:
        fail(f'the "{UNRELEASED}" section of CHANGELOG.md is empty: say what this release changes.')

    changelog_path.write_text(changelog.replace(UNRELEASED, f"{UNRELEASED}\n\n## {args.version} ({args.date})", 1))
    replace_once(ROOT / "pyproject.toml", r'^version = "[^"]*"', f'version = "{args.version}"')
    replace_once(ROOT / "kdcourse" / "__init__.py", r'^__version__ = "[^"]*"', f'__version__ = "{args.version}"')
    set_ref(tag)
    git("add", "-A")
    git("commit", "-q", "-m", f"Release {tag}")
    git("tag", "-a", tag, "-m", f"kdcourse {args.version} ({args.date})\n\n{notes}")
    set_ref("main")
    git("add", "-A")
    git("commit", "-q", "-m", f"Back to main after {tag}")
    print(f"Tagged {tag}; its notebooks open and install {tag}, main's open main again. "
          f"Push with: git push --follow-tags")


if __name__ == "__main__":
    main()
