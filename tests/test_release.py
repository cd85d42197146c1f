"""scripts/release.py in a throwaway repository shaped like the course: the release commit names the tag, the tag
carries the changelog section, main names main again; and every refusal names what to fix."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SYNC_STUB = """from pathlib import Path
import re
root = Path(__file__).resolve().parent.parent
ref = re.search(r'^REF = "([^"]*)"', (root / "kdcourse" / "course.py").read_text(), re.M).group(1)
(root / "notebooks" / "00_x.ipynb").write_text(ref)  # what the badges and setup cells would name
"""


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    files = {"pyproject.toml": '[project]\nname = "kdcourse"\nversion = "0.1.0"\n',
             "kdcourse/__init__.py": '__version__ = "0.1.0"\n',
             "kdcourse/course.py": 'REPOSITORY = "x"\nREF = "main"\n',
             "notebooks/REEXECUTE.md": "| notebook | why | when |\n|---|---|---|\n",
             "notebooks/00_x.ipynb": "main",
             "CHANGELOG.md": "# Changelog\n\n## Unreleased\n\n- Notebook 07.\n",
             "scripts/sync_notebooks.py": SYNC_STUB}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    shutil.copy(ROOT / "scripts" / "release.py", tmp_path / "scripts" / "release.py")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "start")
    git(tmp_path, "config", "user.name", "t")
    git(tmp_path, "config", "user.email", "t@t")
    return tmp_path


def release(repo, *args):
    return subprocess.run([sys.executable, str(repo / "scripts" / "release.py"), *args], capture_output=True, text=True)


def test_a_release_tags_a_commit_that_names_the_tag_and_main_names_main_again(repo):
    run = release(repo, "0.1.0", "--date", "2026-12-05")
    assert run.returncode == 0, run.stderr
    assert git(repo, "show", "v0.1.0:notebooks/00_x.ipynb") == "v0.1.0"  # the tag's notebooks open and install it
    assert 'REF = "v0.1.0"' in git(repo, "show", "v0.1.0:kdcourse/course.py")
    assert (repo / "notebooks" / "00_x.ipynb").read_text() == "main" and 'REF = "main"' in (repo / "kdcourse" / "course.py").read_text()
    assert git(repo, "log", "--format=%s", "-3").splitlines() == ["Back to main after v0.1.0", "Release v0.1.0", "start"]
    changelog = (repo / "CHANGELOG.md").read_text()
    assert "## Unreleased\n\n## 0.1.0 (2026-12-05)\n\n- Notebook 07." in changelog
    assert "- Notebook 07." in git(repo, "tag", "-l", "--format=%(contents)", "v0.1.0")
    assert git(repo, "status", "--porcelain") == ""
    again = release(repo, "0.1.0")
    assert again.returncode != 0 and "not above the current version 0.1.0" in again.stderr


@pytest.mark.parametrize("change, message", [
    (lambda r: (r / "notebooks" / "REEXECUTE.md").write_text("| 04_bert_to_distilbert.ipynb | x | y |\n"), "wait for a re-execution"),
    (lambda r: (r / "CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n\n## 0.0.1\n- old\n"), "is empty"),
    (lambda r: (r / "CHANGELOG.md").write_text("# Changelog\n"), "no \"## Unreleased\" section"),
])
def test_a_release_is_refused_with_the_reason(repo, change, message):
    change(repo)
    git(repo, "commit", "-qam", "prepare")
    run = release(repo, "0.1.0")
    assert run.returncode != 0 and message in run.stderr and not git(repo, "tag")


def test_a_dirty_tree_or_a_bad_version_is_refused(repo):
    run = release(repo, "0.1")
    assert run.returncode != 0 and "MAJOR.MINOR.PATCH" in run.stderr
    (repo / "CHANGELOG.md").write_text("# Changelog\n\n## Unreleased\n\n- more\n")
    run = release(repo, "0.1.0")
    assert run.returncode != 0 and "clean tree" in run.stderr and not git(repo, "tag")
