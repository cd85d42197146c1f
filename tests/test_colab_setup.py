"""The Colab setup cell, executed as Colab would: a stub `google.colab` module, the repository cloned from a
file:// address into a temporary root, the install in a throwaway virtual environment (CI's own is untouched).
The throwaway environment sees CI's packages (as Colab has torch preinstalled), so pip installs only the course."""
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec_source = (ROOT / "scripts" / "setup_cell.py").read_text()
STUB = "import sys, types; sys.modules['google.colab'] = types.ModuleType('google.colab')\n"


@pytest.fixture(scope="module")
def colab(tmp_path_factory):
    if not (ROOT / ".git").exists():
        pytest.skip("needs the course's git repository to clone")
    base = tmp_path_factory.mktemp("colab")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "preinstalled.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # CI's packages, like Colab's
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KDCOURSE", "PYTHONPATH"))}
    branch = subprocess.run(["git", "-C", str(ROOT), "branch", "--show-current"], capture_output=True, text=True).stdout.strip()
    if not branch:
        pytest.skip("needs a checked-out branch to clone (a detached HEAD has none)")
    env.update(KDCOURSE_REPO=f"file://{ROOT}", KDCOURSE_ROOT=str(base / "kdcourse"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    cell = STUB + spec_source.replace("{repository}", "unused: KDCOURSE_REPO is set").replace("{ref}", branch)

    def run_cell():
        return subprocess.run([python, "-c", cell], env=env, capture_output=True, text=True, timeout=600, cwd=base)

    return python, env, base / "kdcourse", run_cell, branch


def test_the_setup_cell_clones_and_installs_the_course_with_its_offline_weights(colab):
    python, env, root, run_cell, branch = colab
    run = run_cell()
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Installed the course from file://" in run.stdout and "offline weights" in run.stdout
    assert f" at {branch}, with" in run.stdout  # the branch or tag the notebook names, not the repository's default
    assert (root / ".installed").exists() and (root / ".git").is_dir()
    check = textwrap.dedent("""
        import kdcourse, kdcourse.assets as a
        print(kdcourse.__file__)
        print(a.package_file(a.MINILM).exists(), a.package_file(a.SMOLLM2).exists())
    """)
    found = subprocess.run([python, "-c", check], env=env, capture_output=True, text=True, cwd=python.parent)
    assert found.returncode == 0, found.stderr[-2000:]
    where, weights = found.stdout.split("\n")[:2]
    assert where.startswith(str(root)), where  # the clone, installed editable, not CI's checkout
    assert weights == "True True"  # the gpu profile's fallback has its weights on every runtime


def test_running_it_again_installs_nothing(colab):
    *_, run_cell, _ = colab
    run = run_cell()
    assert run.returncode == 0 and "Installed" not in run.stdout


def test_outside_colab_it_does_nothing(tmp_path):
    env = dict(os.environ, KDCOURSE_ROOT=str(tmp_path / "never"))
    run = subprocess.run([sys.executable, "-c", spec_source], env=env, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout == "" and not (tmp_path / "never").exists()
