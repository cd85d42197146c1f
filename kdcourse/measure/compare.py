"""Comparing models honestly: a table row (accuracy over seeds, size, latency, speed-up), and whether
distillation beat training alone given the seed-to-seed and test-set noise (notebook 04).
"""
from __future__ import annotations

import math

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


def compare_students(alone, distilled, test_size: int | None = None, min_seeds: int = 3) -> dict:
    """Did distillation beat training alone, given both sources of noise? The numbers and a verdict.

    `alone` and `distilled` hold one entry per seed, seed s of both having seen the same batches.
    Each entry is either the per-example correctness from `correct_predictions` (preferred) or an
    accuracy (then pass `test_size`). Two sources of noise are weighed:

    - training: the seed-to-seed spread of the paired differences (`seed_se`, their standard error);
    - the test split, a sample of examples (snippets, images). With per-example correctness the comparison is *paired*:
      both students meet the same examples, so the standard error of the seed-averaged difference
      (`test_se`) is computed from the per-example differences, and is much smaller than that of one
      accuracy (`one_acc_se`, sqrt(p(1-p)/n)). With accuracies only, `one_acc_se` stands in
      (conservatively).

    The two add up: `total_se` = sqrt(seed_se^2 + test_se^2). verdict "helped" needs the mean
    difference above 2 * total_se (roughly: a 95 % interval that excludes zero; with 3 seeds the
    seed part is itself uncertain, so treat a borderline "helped" as borderline); "unclear" is ahead
    but within the noise; "not better"; "too few seeds" below `min_seeds`. All in accuracy points.
    """
    if len(alone) != len(distilled) or len(alone) == 0:
        raise ValueError(f"alone and distilled need one entry per seed each, got {len(alone)} and {len(distilled)}.")
    paired = np.ndim(alone[0]) == 1
    if paired:
        a_right, d_right = np.asarray(alone, dtype=float), np.asarray(distilled, dtype=float)
        if a_right.shape != d_right.shape:
            raise ValueError(f"Per-example correctness of different shapes: {a_right.shape} vs {d_right.shape}; "
                             f"evaluate every student on the same test split.")
        test_size = a_right.shape[1]
        a, d = 100 * a_right.mean(1), 100 * d_right.mean(1)
    elif test_size is None:
        raise ValueError("Pass test_size with accuracies (or pass per-example correctness instead).")
    else:
        a, d = 100 * np.asarray(alone, dtype=float), 100 * np.asarray(distilled, dtype=float)
    diff = d - a
    out = dict(diffs=diff, mean=float(diff.mean()), test_size=test_size, paired=paired,
               one_acc_se=100 * float(np.sqrt(d.mean() / 100 * (1 - d.mean() / 100) / test_size)),
               seed_se=float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan"))
    if paired:
        per_example = (d_right - a_right).mean(0)  # each example's difference, averaged over the seeds
        out["test_se"] = 100 * float(per_example.std(ddof=1) / np.sqrt(test_size))
        out["disagree"] = 100 * float((d_right != a_right).mean())
    else:
        out["test_se"] = out["one_acc_se"]
    out["total_se"] = float(np.sqrt(out["seed_se"] ** 2 + out["test_se"] ** 2))
    if len(diff) < min_seeds:
        out["verdict"] = "too few seeds"
    elif out["mean"] > 2 * out["total_se"]:
        out["verdict"] = "helped"
    elif out["mean"] > 0:
        out["verdict"] = "unclear"
    else:
        out["verdict"] = "not better"
    return out


_VERDICTS = {
    "helped": "distillation helped, by more than the seed-to-seed noise and the test-set error.",
    "unclear": "distillation came out ahead on average, but not by more than the noise: not a clear win.",
    "not better": "distillation did not beat training alone here.",
}


def seed_verdict(alone, distilled, test_size: int | None = None, min_seeds: int = 3) -> str:
    """`compare_students` as an honest sentence, whichever way the numbers go."""
    c = compare_students(alone, distilled, test_size, min_seeds)
    text = (f"Distilled minus alone, per seed: {', '.join(f'{x:+.2f}' for x in c['diffs'])} points "
            f"(mean {c['mean']:+.2f}). One standard error of a single accuracy on {c['test_size']} test "
            f"examples is about {c['one_acc_se']:.2f} points")
    if c["paired"]:
        text += (f"; of the paired difference (the same examples for both, averaged over the seeds), "
                 f"{c['test_se']:.2f} (the two students disagree on {c['disagree']:.1f} % of the examples).")
    else:
        text += "."
    if c["verdict"] == "too few seeds":
        return text + (f" Verdict: only {len(c['diffs'])} seed(s), too few to tell; run with more seeds "
                       f"(the cpu profile).")
    return (text + f" Seed-to-seed standard error of the mean difference: {c['seed_se']:.2f}; both together: "
            f"{c['total_se']:.2f}, so a clear win needs more than {2 * c['total_se']:.2f}. "
            f"Verdict: {_VERDICTS[c['verdict']]}")


def one_seed_verdict(alone: int, distilled: int, teacher: int, spread: float) -> str:
    """Distilled vs alone when each was trained ONCE, judged against `spread`, the seed-to-seed standard
    deviation of one run's errors measured elsewhere: a difference of two single runs varies sqrt(2)
    times more, and a clear verdict needs two of those. The teacher is judged first: it must be clearly
    better than the student alone to have something to transfer (taught in notebook 03, section 8)."""
    margin = 2 * math.sqrt(2) * spread
    if alone - teacher <= margin:
        return (f"The teacher ({teacher} errors) is not clearly better than the student alone ({alone}): the "
                f"margin is under {margin:.0f} errors, the noise of two single runs, so it has little to transfer.")
    head = f"The teacher ({teacher} errors) is clearly better than the student alone ({alone}). "
    closed = 100 * (alone - distilled) / (alone - teacher)
    if alone - distilled > margin:
        return head + (f"Distillation helped beyond the noise ({margin:.0f} errors): {alone} -> {distilled}, "
                       f"{closed:.0f} % of the gap closed.")
    if distilled < alone:
        return head + (f"The distilled student made fewer errors ({alone} -> {distilled}), but by less than "
                       f"{margin:.0f}: within the noise of single runs, no verdict.")
    return head + f"The distilled student did not improve on the student alone ({alone} -> {distilled})."
