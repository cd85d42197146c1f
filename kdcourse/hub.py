"""The Hugging Face hub: is a repository reachable, from the network or from the local cache?

The `gpu` profile loads bert-base-uncased, distilbert-base-uncased, gpt2, SmolLM2-360M-Instruct and
GLUE SST-2 and MRPC from the hub. `hub_has` says whether that can work right now: the file is already in the local cache (the
only place looked at when HF_HUB_OFFLINE=1), or the hub answers within a few seconds.
"""
from __future__ import annotations

import functools
import os

SST2_REPO = "nyu-mll/glue"  # GLUE: SST-2, MRPC and the other tasks, one folder each
# A GLUE task as the hub stores it: one parquet file per split, in the task's folder of nyu-mll/glue.
SST2_FILES = {split: f"sst2/{split}-00000-of-00001.parquet" for split in ("train", "validation", "test")}
MRPC_FILES = {split: f"mrpc/{split}-00000-of-00001.parquet" for split in ("train", "validation", "test")}
HUB_TIMEOUT_S = 3.0


def _is_true(value: str | None) -> bool:
    """An environment flag as huggingface_hub reads it: 1, true, yes or on (any case).

    The same rule as huggingface_hub's, so both agree on what 'offline' means."""
    return (value or "").strip().upper() in ("1", "ON", "YES", "TRUE")


def hub_offline() -> bool:
    """True when HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) is set now, or was when the hub was imported.

    Read at call time, so a notebook or a test can switch it on without restarting Python."""
    from huggingface_hub import constants

    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")
    return _is_true(env) or constants.is_offline_mode()


def hub_cache() -> str:
    """The hub cache folder, as huggingface_hub chooses it but read now: HF_HUB_CACHE, else HF_HOME/hub.

    huggingface_hub and transformers read these once, at import; pass this as `cache_dir=` to agree."""
    from huggingface_hub import constants

    if os.environ.get("HF_HUB_CACHE"):
        return os.path.expanduser(os.environ["HF_HUB_CACHE"])
    if os.environ.get("HF_HOME"):
        return os.path.join(os.path.expanduser(os.environ["HF_HOME"]), "hub")
    return constants.HF_HUB_CACHE


def default_file(repo_id: str, repo_type: str) -> str:
    """The file whose presence stands for a whole repository: SST-2's train split, else config.json.

    Every model repository has a config.json; a dataset has no such file, so it must be named."""
    if repo_type == "dataset":
        if repo_id != SST2_REPO:
            raise ValueError(f"No default file known for dataset {repo_id!r}; pass filename=.")
        return SST2_FILES["train"]
    return "config.json"


def in_cache(repo_id: str, repo_type: str = "model", filename: str | None = None) -> bool:
    """True when `filename` of `repo_id` is in the local hub cache (no network).

    The cache folder is read now (hub_cache), so a test or notebook can point it elsewhere."""
    from huggingface_hub import try_to_load_from_cache

    filename = filename or default_file(repo_id, repo_type)
    found = try_to_load_from_cache(repo_id, filename, cache_dir=hub_cache(), repo_type=repo_type)
    return isinstance(found, str)  # a path; None or _CACHED_NO_EXIST mean "not cached"


@functools.lru_cache(maxsize=None)
def hub_answers(repo_id: str, repo_type: str = "model", filename: str | None = None) -> bool:
    """True when the hub says the file exists within HUB_TIMEOUT_S; any failure counts as False.

    Remembered per file for the session: an unreachable hub costs its timeout once, not per call."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url

    url = hf_hub_url(repo_id, filename or default_file(repo_id, repo_type), repo_type=repo_type)
    try:
        get_hf_file_metadata(url, timeout=HUB_TIMEOUT_S)
        return True
    except Exception:  # offline, DNS, timeout, gated, missing: all mean "cannot load it from the hub"
        return False


def hub_has(repo_id: str, repo_type: str = "model", filename: str | None = None) -> bool:
    """True when `repo_id` can be loaded now: its file is in the local cache, or the hub answers.

    With HF_HUB_OFFLINE=1 only the cache is looked at; the network is never touched."""
    if in_cache(repo_id, repo_type, filename):
        return True
    return not hub_offline() and hub_answers(repo_id, repo_type, filename)


def _load_glue(files: dict[str, str], names: list[str], validation_share: float):
    """One GLUE task as a DatasetDict: train, validation, test, from the hub or its cache.

    GLUE's test labels are hidden (-1), so: GLUE validation -> test, a stratified share of train -> validation."""
    from datasets import ClassLabel, DatasetDict, load_dataset
    from huggingface_hub import hf_hub_download

    paths = {split: hf_hub_download(SST2_REPO, name, repo_type="dataset", cache_dir=hub_cache())
             for split, name in files.items()}
    raw = load_dataset("parquet", data_files=paths).remove_columns("idx")
    train, test = raw["train"], raw["validation"]
    if not isinstance(train.features["label"], ClassLabel):  # stratifying needs a ClassLabel column
        labels = ClassLabel(names=names)
        train, test = train.cast_column("label", labels), test.cast_column("label", labels)
    carved = train.train_test_split(test_size=validation_share, seed=0, stratify_by_column="label")
    return DatasetDict(train=carved["train"], validation=carved["test"], test=test)


def load_sst2():
    """GLUE SST-2 as a DatasetDict (text, label): train, validation (5 % of GLUE's train), test (GLUE's
    validation: its test labels are hidden)."""
    return _load_glue(SST2_FILES, ["negative", "positive"], 0.05).rename_column("sentence", "text")


def load_mrpc():
    """GLUE MRPC, the Microsoft Research Paraphrase Corpus (Dolan and Brockett, 2005), as a DatasetDict
    (sentence1, sentence2, label: 1 when the two sentences say the same thing): train, validation (10 % of
    GLUE's train: its 3,668 pairs leave few), test (GLUE's validation, 408 pairs)."""
    return _load_glue(MRPC_FILES, ["not_equivalent", "equivalent"], 0.10)
