"""Distillation losses: soft targets (Hinton et al., 2015) and hidden-state cosine (DistilBERT).

The soft-target term is KL(p_teacher^T || p_student^T), computed the way PyTorch wants it:
`F.kl_div(student LOG-probabilities, teacher probabilities, reduction="batchmean")`.
- log-probs for the student: kl_div's first argument is a log-distribution; passing
  probabilities silently computes a different, wrong quantity.
- "batchmean": the sum over classes, averaged over the batch, which is the true KL per sample;
  "mean" also divides by the number of classes and shrinks the loss (and its gradient) by that factor.
- No default temperature anywhere in the course: every distillation states the T it uses.
- T^2: softening by T shrinks the soft-target gradients by about 1/T^2; multiplying by T^2 keeps
  their size comparable to the hard-label term whatever temperature you choose.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def _check(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> None:
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"temperature must be a number > 0 (1 = the plain softmax; 2-20 is usual "
                         f"for distillation), got {temperature!r}.")
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"Student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape: check that both "
                         f"models have the same number of classes (or vocabulary) and see the same batch.")


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                     temperature: float) -> torch.Tensor:
    """T^2 * KL(softmax(teacher/T) || softmax(student/T)), averaged over the samples.

    Works for [batch, classes] and for [batch, positions, vocab] (averaged over positions too).
    """
    _check(student_logits, teacher_logits, temperature)
    classes = student_logits.shape[-1]
    s = F.log_softmax(student_logits.reshape(-1, classes) / temperature, dim=-1)
    t = F.softmax(teacher_logits.reshape(-1, classes).detach() / temperature, dim=-1)
    return F.kl_div(s, t, reduction="batchmean") * temperature**2


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      labels: torch.Tensor, temperature: float, alpha: float = 0.5) -> torch.Tensor:
    """alpha * soft_target_loss + (1 - alpha) * cross-entropy with the true labels.

    alpha = 1 learns from the teacher only, alpha = 0 from the labels only. Labels equal to -100
    are ignored by the cross-entropy (as in Hugging Face models): unlabelled examples learn from the
    teacher only, and a batch of nothing but those has the soft term alone.
    """
    if not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha must be in [0, 1] (the weight of the soft targets), got {alpha!r}.")
    rows = student_logits.numel() // student_logits.shape[-1]
    if labels.numel() != rows:
        raise ValueError(f"labels {tuple(labels.shape)} must hold one class index per row of the student "
                         f"logits {tuple(student_logits.shape)}: pass the labels of the same batch.")
    soft = soft_target_loss(student_logits, teacher_logits, temperature)
    if (labels == -100).all():  # only unlabelled rows (a transfer set): no hard term, rather than 0/0 = nan
        return alpha * soft
    hard = F.cross_entropy(student_logits.reshape(-1, student_logits.shape[-1]), labels.reshape(-1),
                           ignore_index=-100)
    return alpha * soft + (1.0 - alpha) * hard


def hidden_cosine_loss(student_hidden: torch.Tensor, teacher_hidden: torch.Tensor,
                       attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """1 - cosine similarity between student and teacher hidden vectors, averaged over real
    (non-padding) tokens: DistilBERT's loss that aligns the directions of the hidden states."""
    if student_hidden.shape != teacher_hidden.shape:
        raise ValueError(f"Student hidden states {tuple(student_hidden.shape)} and teacher hidden states "
                         f"{tuple(teacher_hidden.shape)} must have the same shape: the cosine loss needs "
                         f"the same hidden size (e.g. a student built with make_student).")
    dim = student_hidden.shape[-1]
    s, t = student_hidden.reshape(-1, dim), teacher_hidden.detach().reshape(-1, dim)
    if attention_mask is not None:
        keep = attention_mask.reshape(-1).bool()
        s, t = s[keep], t[keep]
    target = torch.ones(s.shape[0], device=s.device)
    return F.cosine_embedding_loss(s, t, target, reduction="mean")
