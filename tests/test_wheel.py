"""`pip install .` gives a working package: the wheel holds every module, finds the course data
explicitly (or says how to), and never writes into site-packages."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

CHECK = r"""
import importlib, os, pkgutil, sys
import kdcourse as kd
assert kd.__file__.startswith(os.environ["SITE"]), kd.__file__  # the wheel's copy, not the checkout
names = [m.name for m in pkgutil.walk_packages(kd.__path__, "kdcourse.") if not m.name.endswith("__main__")]
for name in names:
    importlib.import_module(name)
print("modules", len(names))
try:
    kd.load_mnist("test")
except kd.MissingAssetError as e:
    print("without data:", e)
os.environ["KDCOURSE_DATA"] = os.environ["COURSE_DATA"]
x, y = kd.load_mnist("test").tensors()
print("mnist test", tuple(x.shape))
print("cache", kd.cache_dir())
"""


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"  # a copy: building in place would leave build/ and *.egg-info in the checkout
    shutil.copytree(REPO / "kdcourse", source / "kdcourse", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", source)
    pip = [sys.executable, "-m", "pip"]
    subprocess.run(pip + ["wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(out / "dist"), str(source)],
                   check=True, cwd=out)
    wheel = next((out / "dist").glob("kdcourse-*.whl"))
    subprocess.run(pip + ["install", "-q", "--no-deps", "--no-compile", "--target", str(out / "site"), str(wheel)],
                   check=True, cwd=out)
    return out


def test_the_wheel_works_outside_the_checkout_and_writes_nothing_into_site_packages(wheel_site):
    site, home, elsewhere = wheel_site / "site", wheel_site / "home", wheel_site / "elsewhere"
    home.mkdir()
    elsewhere.mkdir()
    before = sorted(p.relative_to(site) for p in site.rglob("*"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDCOURSE_") and k != "XDG_CACHE_HOME"}
    env.update(PYTHONPATH=str(site), SITE=str(site), HOME=str(home), PYTHONDONTWRITEBYTECODE="1",
               COURSE_DATA=str(REPO / "data"))
    run = subprocess.run([sys.executable, "-c", CHECK], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    out = run.stdout
    packaged = {p.relative_to(REPO / "kdcourse") for p in (REPO / "kdcourse").rglob("*.py")}
    assert f"modules {len(packaged) - 2}" in out  # every module but kdcourse/__init__ and distill/__main__
    assert "without data:" in out and "KDCOURSE_DATA" in out  # a clear error that names the fix
    assert "mnist test (10000, 1, 28, 28)" in out
    assert f"cache {home / '.cache' / 'kdcourse'}" in out  # built artifacts go to the user's cache
    assert sorted(p.relative_to(site) for p in site.rglob("*")) == before  # nothing written there
