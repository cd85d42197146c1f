"""Will the course install on Colab without breaking Colab? A dry run of requirements-colab.txt over Colab's packages.

Colab's GPU image already has torch, numpy, pandas, transformers and about 700 other packages; the list of the image
the course was checked against is kept in data/colab/ (from googlecolab/backend-info, see data/provenance.json).
`pip install -r requirements-colab.txt` there keeps what already satisfies the course and changes the rest. This
script asks pip what it would install, resolving wheels only for Colab's Python and Linux, with every package of
the image held at the image's version except those the course pins itself and the changes accepted in
data/colab/accepted_changes.txt (each with its reason). It fails when pip cannot do it that way, or when the
packages it changes are not exactly the accepted ones: a new upgrade of a package Colab ships (protobuf, pyarrow,
torch) is decided by a person, not by the resolver. It needs the package index: pip fetches what it reads to
resolve (metadata, or the wheel where the index serves no metadata on its own), and installs nothing.

    python scripts/colab_check.py            # make colab-check: prints each change; exit status 1 on a surprise
    python scripts/colab_check.py --overlay DIR   # also installs Colab's numpy and pandas (and the course's
                                                  # protobuf for Colab) into DIR, to run the tests on them
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import canonicalize_name  # PEP 503: 'scikit_learn' and 'Scikit-Learn' are one package

ROOT = Path(__file__).resolve().parent.parent
FREEZE = ROOT / "data" / "colab" / "pip-freeze.gpu.2026-08-19.txt"
ACCEPTED = ROOT / "data" / "colab" / "accepted_changes.txt"
REQUIREMENTS = ROOT / "requirements-colab.txt"
PYTHON = "3.13"  # the image's Python (os-info-gpu.txt of the same commit: Python 3.13.15)
PLATFORMS = ["manylinux_2_35_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]


def read_pins(path: Path) -> dict[str, str]:
    """name -> version of every `name==version` line (URL installs skipped)."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        if "==" in line and " @ " not in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name)] = version.strip()
    return pins


def stand_in_wheel(name: str, version: str, folder: Path) -> None:
    """An empty wheel of `name` `version` without dependencies: a package Colab built itself (torch 2.11.0+cu128
    from PyTorch's index, not PyPI's build with other CUDA packages), as it is on Colab: installed, needs met."""
    import zipfile

    info = f"{name.replace('-', '_')}-{version}.dist-info"
    files = {f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: kdcourse\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
             f"{info}/RECORD": ""}
    with zipfile.ZipFile(folder / f"{name.replace('-', '_')}-{version}-py3-none-any.whl", "w") as wheel:
        for path, text in files.items():
            wheel.writestr(path, text)


def read_accepted(path: Path = ACCEPTED) -> dict[str, str]:
    """name -> reason of each accepted change (`name  # reason`)."""
    accepted = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, reason = line.partition("#")
            accepted[canonicalize_name(name.strip())] = reason.strip()
    return accepted


def dry_run(constraints: dict[str, str], workdir: Path) -> dict[str, str]:
    """What pip would install for requirements-colab.txt on Colab's Python and Linux: name -> version."""
    (workdir / "constraints.txt").write_text("".join(f"{n}=={v}\n" for n, v in sorted(constraints.items())))
    (workdir / "built").mkdir()
    for name, version in constraints.items():
        if "+" in version:  # a local build (torch 2.11.0+cu128): not on the index
            stand_in_wheel(name, version, workdir / "built")
    report = workdir / "report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
               "--only-binary=:all:", "--python-version", PYTHON, "--implementation", "cp",
               *[a for p in PLATFORMS for a in ("--platform", p)], "--target", str(workdir / "target"),
               "--report", str(report), "--find-links", str(workdir / "built"),
               "-r", str(REQUIREMENTS), "-c", str(workdir / "constraints.txt")]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        said = "\n".join(line for line in (done.stdout + done.stderr).splitlines() if not line.startswith("WARNING"))
        raise SystemExit(f"pip cannot install requirements-colab.txt over Colab's packages held at their versions:\n"
                         f"{said[-3000:]}\nEither a pin of the course conflicts with Colab, or a "
                         f"package Colab ships must change: decide, then pin or add it to {ACCEPTED.name}.")
    installs = json.loads(report.read_text())["install"]
    return {canonicalize_name(i["metadata"]["name"]): i["metadata"]["version"] for i in installs}


def install_overlay(folder: Path, colab: dict[str, str], course: dict[str, str]) -> None:
    """Colab's numpy and pandas (and pytz, which pandas 2 needs), with the protobuf the course installs on Colab,
    into `folder`: put first on PYTHONPATH, they replace CI's own versions for one test run."""
    wanted = [f"{n}=={colab[n]}" for n in ("numpy", "pandas", "pytz")] + [f"protobuf=={course['protobuf']}"]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(folder), *wanted],
                   check=True)
    probe = "import numpy, pandas, google.protobuf as p; print(numpy.__version__, pandas.__version__, p.__version__)"
    seen = subprocess.run([sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(folder)},
                          capture_output=True, text=True, check=True).stdout.split()
    if seen != [colab["numpy"], colab["pandas"], course["protobuf"]]:
        raise SystemExit(f"The overlay in {folder} is not what Python imports first: numpy, pandas, protobuf = {seen}.")
    print(f"Installed into {folder.name}/ for the tests, and imported first from it: {', '.join(wanted)}")


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--overlay", type=Path, help="also install Colab's numpy and pandas into this folder")
    args = parser.parse_args()
    colab, accepted, course = read_pins(FREEZE), read_accepted(), read_pins(REQUIREMENTS)
    held = {n: v for n, v in colab.items() if n not in accepted and n not in course}
    with tempfile.TemporaryDirectory() as tmp:
        resolved = dry_run(held, Path(tmp))
    changed = {n: (colab[n], v) for n, v in resolved.items() if n in colab and colab[n] != v}
    added = sorted(n for n in resolved if n not in colab)
    print(f"Colab image of {FREEZE.stem.split('.')[-1]} (Python {PYTHON}): requirements-colab.txt changes "
          f"{len(changed)} of its packages and adds {len(added)}.")
    for n, (old, new) in sorted(changed.items()):
        print(f"  {n:22s} {old:>12s} -> {new:<12s} {accepted.get(n, 'NOT ACCEPTED')}")
    print(f"  added: {', '.join(f'{n}=={resolved[n]}' for n in added)}")
    surprises = sorted(set(changed) - set(accepted))
    stale = sorted(set(accepted) - set(changed))
    if surprises or stale:
        print(f"Not as accepted in {ACCEPTED.relative_to(ROOT)}: changed but not accepted {surprises}; accepted but "
              f"not changed {stale}. Decide each (pin it, or accept it with a reason) and update the list.")
        return 1
    print("Every change is an accepted one.")
    if args.overlay:
        install_overlay(args.overlay, colab, course)
    return 0


if __name__ == "__main__":
    sys.exit(main())
