"""The bugs that popular distillation snippets ship, kept on purpose so notebook 05 can measure them.

Each function here is WRONG in exactly one way, says how in its docstring, and names the kdcourse
function that does the same job right. Never use them for real training. Taught in notebook 05.
"""
from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from .loop import Stepper
from .distill.losses import distillation_loss


def kl_with_probabilities(student_logits, teacher_logits, temperature: float) -> torch.Tensor:
    """BUG: gives F.kl_div the student's probabilities where it expects LOG-probabilities.
    F.kl_div(input, target) computes sum target * (log target - input), so `input` must be a
    log-distribution. Right: kdcourse.soft_target_loss."""
    s = F.softmax(student_logits / temperature, dim=-1)
    t = F.softmax(teacher_logits / temperature, dim=-1)
    return F.kl_div(s, t, reduction="batchmean") * temperature**2


def kl_with_mean_reduction(student_logits, teacher_logits, temperature: float) -> torch.Tensor:
    """BUG: reduction="mean" averages over batch AND classes, so the KL is divided by the number of
    classes (10 for MNIST, 30,522 for a BERT vocabulary). PyTorch warns about it at run time; the
    warning is silenced here so the notebook shows the number instead. Right: kdcourse.soft_target_loss."""
    s = F.log_softmax(student_logits / temperature, dim=-1)
    t = F.softmax(teacher_logits / temperature, dim=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return F.kl_div(s, t, reduction="mean") * temperature**2


def kl_without_t_squared(student_logits, teacher_logits, temperature: float) -> torch.Tensor:
    """BUG: no T^2 factor, so the soft-target gradients shrink like 1/T^2 and the hard-label term
    drowns them at high temperature. Right: kdcourse.soft_target_loss."""
    s = F.log_softmax(student_logits / temperature, dim=-1)
    t = F.softmax(teacher_logits / temperature, dim=-1)
    return F.kl_div(s, t, reduction="batchmean")


def logit_gradient_norm(loss_fn, temperature: float, seed: int = 0, classes: int = 10) -> float:
    """Mean norm of d loss / d student_logits for random logits: how hard the loss pushes the student."""
    g = torch.Generator().manual_seed(seed)
    student = (torch.randn(256, classes, generator=g) * 3).requires_grad_()
    teacher = torch.randn(256, classes, generator=g) * 3
    loss_fn(student, teacher, temperature).backward()
    return float(student.grad.norm(dim=-1).mean() * len(student))


def fit_with_positional_teacher_logits(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor],
                                       teacher_logits: torch.Tensor, epochs: int, batch_size: int = 128,
                                       lr: float = 1e-3, temperature: float = 4.0, alpha: float = 0.9,
                                       seed: int = 0) -> nn.Module:
    """BUG: the teacher's logits were computed once, in dataset order, but the images arrive
    shuffled, and the loop picks the logits of batch k by POSITION (rows k*B ... k*B+B-1), so each
    image is paired with another image's soft targets. Right: kdcourse.fit(teacher_logits=...),
    which indexes images, labels and logits with the same shuffled indices."""
    x, y = train
    generator = torch.Generator().manual_seed(seed)
    step = Stepper(torch.optim.Adam(model.parameters(), lr=lr))  # the loop core's step, as in kd.fit
    model.train()
    for _ in tqdm(range(epochs), desc="misaligned logits"):
        order = torch.randperm(len(x), generator=generator)  # the shuffled loader
        for start in range(0, len(x), batch_size):
            idx = order[start:start + batch_size]
            logits_of_other_images = teacher_logits[start:start + len(idx)]  # the bug
            step(distillation_loss(model(x[idx]), logits_of_other_images, y[idx], temperature, alpha))
    model.eval()
    return model


def freeze_like_the_teacher(model: nn.Module) -> nn.Module:
    """BUG: a copy-pasted `for p in model.parameters(): p.requires_grad = False`, meant for the
    teacher, applied to the student. Nothing can learn. Right: freeze only the teacher (the
    DistillationTrainer does it for you) and check `count_parameters(student, trainable_only=True)`."""
    for p in model.parameters():
        p.requires_grad = False
    return model
