"""A classifier's answers on a tokenised test split: one correct/incorrect flag per example, and the
accuracy (notebook 04; the flags are what a paired comparison of two students needs).
"""
from __future__ import annotations

import numpy as np
import torch

from ..loop import eval_mode, to_model
from ..models import forward_names
from ..trainer_tools import shortest_first


@torch.no_grad()
def correct_predictions(model: torch.nn.Module, dataset, data_collator, batch_size: int = 64) -> np.ndarray:
    """One boolean per example: did the classifier get it right? (eval mode: dropout off, no_grad).

    Keep these rather than a single accuracy when two models are compared on the same test split:
    `kd.measure.verdict` needs them for a paired comparison.
    """
    from torch.utils.data import DataLoader

    names = forward_names(model)
    columns = [c for c in dataset.column_names if c in names or c in ("label", "labels")]
    by_length, order = shortest_first(dataset.select_columns(columns))  # less padding; answers put back in order
    loader = DataLoader(by_length, batch_size=batch_size, collate_fn=data_collator)
    right = []
    with eval_mode(model):
        for batch in loader:
            labels = batch.pop("labels")
            logits = model(**to_model({k: v for k, v in batch.items() if k in names}, model)).logits
            right.append((logits.argmax(-1).cpu() == labels).numpy())
    answers = np.empty(len(order), dtype=bool)
    answers[order] = np.concatenate(right)
    return answers


def evaluate_accuracy(model: torch.nn.Module, dataset, data_collator, batch_size: int = 64) -> float:
    """Accuracy of a sequence classifier on a tokenised dataset (eval mode: dropout off, no_grad)."""
    return float(correct_predictions(model, dataset, data_collator, batch_size).mean())


def agreement(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> float:
    """Top-1 fidelity: the share of examples where student and teacher predict the same class, right or
    wrong (Stanton et al., 2021, "Does knowledge distillation really work?", measure it beside accuracy;
    taught in notebook 03, section 7)."""
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"logits of shapes {tuple(student_logits.shape)} and {tuple(teacher_logits.shape)}: "
                         f"compute both on the same examples, in the same order.")
    return (student_logits.argmax(-1) == teacher_logits.argmax(-1)).float().mean().item()


def with_class_bias(logits: torch.Tensor, labels: torch.Tensor, cls: int, delta: float) -> tuple[int, float]:
    """Errors, and the share of class `cls` recognised, after adding `delta` to that class's logit: the same
    as raising the bias of its output unit (Hinton et al.'s omitted-digit fix; notebook 03, section 9)."""
    shifted = logits.clone()
    shifted[:, cls] += delta
    pred = shifted.argmax(1)
    is_cls = labels == cls
    return int((pred != labels).sum()), (pred[is_cls] == cls).float().mean().item()
