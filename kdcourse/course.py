"""The course map: notebooks in teaching order, what each is registered with, and how long each one took when
last executed."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from .assets import REPO_ROOT

# The one place the course's public repository is named: the Colab badges and the setup cells of
# every notebook are generated from it by `python scripts/sync_notebooks.py`.
REPOSITORY = "https://github.com/kdcourse/kdcourse"
# The branch or release tag the notebooks belong to: their badges open it and their setup cells install it.
# `python scripts/release.py VERSION` sets it to the tag for the release commit, and back to main after it.
REF = "main"


def colab_url(filename: str, ref: str = REF) -> str:
    """The 'Open in Colab' address of notebooks/<filename> in REPOSITORY, at a branch or a release tag (a class
    pinned to a tag is not moved by later commits)."""
    path = REPOSITORY.split("github.com/", 1)[1]
    return f"https://colab.research.google.com/github/{path}/blob/{ref}/notebooks/{filename}"

@dataclass(frozen=True)
class Notebook:
    """One notebook of the course map, and what it is registered with (README, "Adding a notebook")."""
    file: str  # notebooks/<file>
    title: str
    topic: str
    parts: tuple[str, ...] = ()  # the Profile parts that size it (fields of kd.profiles.Profile it reads as P.<part>)
    hub: tuple[str, ...] = ()  # Profile fields naming what its gpu profile loads from the hub: a rehearsal stand-in each


NOTEBOOKS = [
    Notebook("00_welcome_and_setup.ipynb", "Welcome and setup", "profiles, assets, an environment check",
             hub=("sentiment",)),
    Notebook("01_pretraining_objectives.ipynb", "Pretraining objectives", "what MLM and CLM optimise, on real text",
             parts=("pretrain",), hub=("encoder", "causal_lm")),
    Notebook("02_finetuning_bert.ipynb", "Fine-tuning BERT", "transfer learning for sentiment and sentence pairs, measured",
             parts=("finetune", "pairs"), hub=("encoder", "sentiment", "pair_task")),
    Notebook("03_distilling_mnist.ipynb", "Distilling an MNIST CNN", "soft targets, temperature, dark knowledge",
             parts=("mnist",)),
    Notebook("04_bert_to_distilbert.ipynb", "BERT -> DistilBERT", "a student half the depth, honest speed-ups",
             parts=("distillation", "finetune", "pretrain"), hub=("encoder", "student_encoder", "sentiment")),
    Notebook("05_distillation_pitfalls.ipynb", "Distillation pitfalls", "nine bugs popular snippets ship, measured",
             parts=("mnist",), hub=("encoder", "causal_lm")),
    Notebook("06_distilling_a_language_model.ipynb", "Distilling a language model",
             "token-level, top-k, reverse KL, sequence-level, on-policy (TRL)", parts=("lm_distillation",),
             hub=("lm_teacher",)),
    Notebook("07_storing_a_teacher.ipynb", "Storing a teacher",
             "top-k or sampled logits: what a store keeps, and how much of the gain its students keep",
             parts=("lm_distillation", "lm_stores"), hub=("lm_teacher",)),
]


def _stamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def notebook_runtime(filename: str) -> float | None:
    """Seconds the stored outputs of notebooks/<filename> took to compute, from the execution
    timestamps Jupyter records in each cell; None when the notebook is absent or has none."""
    path = REPO_ROOT / "notebooks" / filename
    if not path.exists():
        return None
    total, found = 0.0, False
    for cell in json.loads(path.read_text())["cells"]:
        ex = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            total += (_stamp(ex["shell.execute_reply"]) - _stamp(ex["iopub.execute_input"])).total_seconds()
            found = True
    return total if found else None


def notebook_peak_memory(filename: str) -> float | None:
    """GiB of memory the stored run of notebooks/<filename> peaked at, as `make execute` recorded it in the
    notebook's metadata (scripts/execute_notebook.py); None when absent or run before peaks were recorded."""
    path = REPO_ROOT / "notebooks" / filename
    if not path.exists():
        return None
    return json.loads(path.read_text())["metadata"].get("kdcourse", {}).get("peak_memory_gib")


def course_totals() -> dict:
    """What a full `cpu` run of the course needs, from the stored runs: minutes summed over the notebooks, the
    largest recorded peak of memory and its notebook, and the notebooks whose peak is not recorded yet. The
    README states these numbers; a test keeps them equal."""
    minutes = sum((notebook_runtime(nb.file) or 0.0) for nb in NOTEBOOKS) / 60
    peaks = {nb.file: notebook_peak_memory(nb.file) for nb in NOTEBOOKS}
    recorded = {name: gib for name, gib in peaks.items() if gib is not None}
    largest = max(recorded, key=recorded.get) if recorded else None
    return {"minutes": minutes, "peak_gib": recorded.get(largest), "peak_notebook": largest,
            "unrecorded": [name for name, gib in peaks.items() if gib is None]}


def course_table(estimate_for: tuple[str, ...] = ("gpu", "gpu-offline"), device: str = "Colab T4") -> list[dict]:
    """One row per notebook: file, title, topic, the measured runtime of its stored (cpu-profile)
    outputs and their peak memory (where recorded), and the estimated minutes of each profile in `estimate_for`
    on `device` (kd.budget)."""
    from .budget import estimate_minutes
    from .profiles import get_profile

    estimates = {name: estimate_minutes(get_profile(name), device) for name in estimate_for}
    rows = []
    for nb in NOTEBOOKS:
        filename = nb.file
        seconds = notebook_runtime(filename)
        row = {"notebook": filename, "title": nb.title, "topic": nb.topic,
               "stored cpu run (min, measured)": None if seconds is None else round(seconds / 60, 1),
               "its peak memory (GiB)": notebook_peak_memory(filename)}
        row.update({f"{name} on a {device} (min, estimated)": round(est[filename], 1)
                    for name, est in estimates.items()})
        rows.append(row)
    return rows
