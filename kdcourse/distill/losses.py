"""Distillation losses, one home for every notebook: the KL between two distributions, soft targets
(Hinton et al., 2015) for classifiers, and the hidden-state cosine (DistilBERT). Taught in notebook 03;
notebook 04's DistillationTrainer and notebook 06's token-level losses are built on the same pieces.

- `kl_divergence`: KL(p || q) over the last axis, from LOG-probabilities on both sides, averaged over the
  rows that count (the `batchmean`: a mask leaves padding out of the sum and out of the count).
  `F.kl_div(input, target)` takes the student's log-probabilities as `input`; passing probabilities
  silently computes a different, wrong quantity. `reduction="mean"` would also divide by the number of
  classes and shrink the loss (and its gradient) by that factor.
- No default temperature anywhere in the course: every distillation states the T it uses, checked by
  `check_temperature`, as alpha by `check_alpha`.
- T^2: softening by T shrinks the soft-target gradients by about 1/T^2; multiplying by T^2 keeps
  their size comparable to the hard-label term whatever temperature you choose.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# The usual range of the temperature, by kind of task: what a ValueError suggests.
USUAL_TEMPERATURE = {"classifier": "2-20 is usual for classifiers (Hinton et al. 2015; 2-4 for BERT)",
                     "language model": "1-2 is usual for language models"}


def check_temperature(temperature, task: str = "classifier") -> float:
    """The temperature as a float, or a ValueError: it must be a finite number > 0 (a bool is not a number here).
    `task` ('classifier' or 'language model') picks the usual range the message suggests."""
    if task not in USUAL_TEMPERATURE:
        raise ValueError(f"task must be one of {tuple(USUAL_TEMPERATURE)}, got {task!r}.")
    if (isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not math.isfinite(temperature)
            or temperature <= 0):
        raise ValueError(f"temperature must be a number > 0 (1 = the plain softmax; {USUAL_TEMPERATURE[task]}), "
                         f"got {temperature!r}.")
    return float(temperature)


def check_alpha(alpha) -> float:
    """alpha as a float, or a ValueError: the weight of the teacher's term must be a number in [0, 1]."""
    if isinstance(alpha, bool) or not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha must be in [0, 1] (the weight of the teacher's term; 1 - alpha goes to the "
                         f"true labels), got {alpha!r}.")
    return float(alpha)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The mean of `values` where `mask` is True: their sum divided by their number.

    The `batchmean` of a batch with padding: a masked-out row adds nothing to the sum and nothing to the count."""
    mask = mask.to(values.device).bool()  # an attention mask of 0/1 works as well as a bool one
    count = mask.sum()
    if int(count) == 0:
        raise ValueError("No real position in this batch: every token is padding, or every sequence has "
                         "a single token. Check the attention_mask.")
    return torch.where(mask, values, torch.zeros_like(values)).sum() / count


def kl_per_row(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) = sum_j p_j (log p_j - log q_j) over the last axis, from log-probabilities: one value per row.

    A bucket with p_j = 0 adds 0 (the convention 0 log 0 = 0), even where log q_j is -inf."""
    if log_p.shape != log_q.shape:
        raise ValueError(f"The two distributions {tuple(log_p.shape)} and {tuple(log_q.shape)} must have the same "
                         f"shape: the same batch, and the same classes (or vocabulary) for teacher and student.")
    term = F.kl_div(log_q, log_p, reduction="none", log_target=True)  # exp(log_p) * (log_p - log_q)
    return torch.where(log_p.exp() > 0, term, torch.zeros_like(term)).sum(-1)


def kl_divergence(log_p: torch.Tensor, log_q: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """KL(p || q) over the last axis (`kl_per_row`), averaged over every row, or over the rows where `mask`
    is True: the loss every distillation of the course minimises, forward or reverse."""
    per_row = kl_per_row(log_p, log_q)
    if mask is None:
        mask = torch.ones(per_row.shape, dtype=torch.bool, device=per_row.device)
    return masked_mean(per_row, mask)


def soft_target_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float,
                     mask: torch.Tensor | None = None) -> torch.Tensor:
    """T^2 * KL(softmax(teacher/T) || softmax(student/T)), averaged over the samples.

    Works for [batch, classes] and for [batch, positions, vocab]; `mask` [batch] or [batch, positions] leaves
    padding out of the average (a language model's version, with the shift by one, is `token_kd_loss`)."""
    check_temperature(temperature)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"Student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape: check that both "
                         f"models have the same number of classes (or vocabulary) and see the same batch.")
    s = F.log_softmax(student_logits / temperature, dim=-1)
    t = F.log_softmax(teacher_logits.detach() / temperature, dim=-1)
    return kl_divergence(t, s, mask) * temperature**2


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                      labels: torch.Tensor, temperature: float, alpha: float = 0.5) -> torch.Tensor:
    """alpha * soft_target_loss + (1 - alpha) * cross-entropy with the true labels.

    alpha = 1 learns from the teacher only, alpha = 0 from the labels only. Labels equal to -100
    are ignored by the cross-entropy (as in Hugging Face models): unlabelled examples learn from the
    teacher only, and a batch of nothing but those has the soft term alone.
    """
    check_alpha(alpha)
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
