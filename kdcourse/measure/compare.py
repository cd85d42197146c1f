"""A row of notebook 04's comparison table: accuracy over seeds, size, latency and speed-up. Whether one
student beat another is `kd.measure.verdict`'s question.
"""
from __future__ import annotations

import numpy as np
import torch

from .seeds import mean_std
from .size import count_parameters, size_on_disk_mb


def model_row(name: str, model: torch.nn.Module, accuracies, latency: dict, teacher_row: dict | None = None,
              params: int | None = None, disk_mb: float | None = None, note: str = "") -> dict:
    """One row of the comparison table: accuracy (mean and std over seeds, in %), % of the teacher's
    accuracy kept, parameters, size on disk, CPU latency and the speed-up over the teacher.

    `params` overrides the count: a quantised model keeps its int8 weights outside `parameters()`, so
    pass the float model's count for it (same number of weights, fewer bytes each). `disk_mb` overrides
    the size on disk (an ONNX model's is its file's, `OnnxClassifier.size_mb`).
    """
    mean, std = mean_std(100 * np.asarray(accuracies, dtype=float))
    row = {"model": name, "seeds": len(accuracies), "test acc %": mean, "± std": std}
    row["% of teacher"] = 100 * mean / teacher_row["test acc %"] if teacher_row else 100.0
    row["params (M)"] = (count_parameters(model) if params is None else params) / 1e6
    row["disk (MB)"] = size_on_disk_mb(model) if disk_mb is None else disk_mb
    row.update({f"{k} ms": v for k, v in latency.items()})
    for b in sorted({int(k.split("@")[1]) for k in latency}):
        key = f"p50@{b} ms"
        row[f"speed-up @{b}"] = teacher_row[key] / row[key] if teacher_row else 1.0
    row["note"] = note
    return row
