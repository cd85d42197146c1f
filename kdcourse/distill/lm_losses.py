"""Token-level distillation of a causal language model: the losses. Taught in notebook 06.

A causal LM predicts, at every position, a distribution over the next token. Token-level distillation
trains the student to match the teacher's distribution at every real position of teacher-forced text
(both models read the same tokens; neither generates):

    loss = T^2 * (sum over real positions of KL at temperature T) / (number of real positions)

- The shift by one happens in one place, `shift_for_next_token`: the logits at position i predict
  token i+1, so the last position (whose next token is not in the block) is dropped, and a position
  counts only when it and the token it predicts are both real, never padding.
- The mean is over real positions (`kl_divergence` with a mask): the token-level `batchmean` of
  notebook 03. Padding adds nothing to the sum and nothing to the count.
- direction="forward" is KL(teacher || student), the classic soft-target loss: mean-seeking, the
  student must cover every token the teacher finds plausible. direction="reverse" is
  KL(student || teacher), MiniLLM's choice (Gu et al., 2024): mode-seeking, the student may leave
  some of the teacher's tokens out but is punished hard for mass where the teacher has little.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .losses import check_temperature, kl_divergence, masked_mean

DIRECTIONS = ("forward", "reverse")


def check_direction(direction) -> None:
    """The KL direction must be 'forward' (KL(teacher || student)) or 'reverse' (KL(student || teacher))."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'forward' (KL(teacher || student), the classic soft targets) "
                         f"or 'reverse' (KL(student || teacher), MiniLLM), got {direction!r}.")


def directed_kl(student_log_probs: torch.Tensor, teacher_log_probs: torch.Tensor, real: torch.Tensor,
                direction: str) -> torch.Tensor:
    """Forward KL(teacher || student) or reverse KL(student || teacher), averaged over the real positions."""
    if direction == "forward":
        return kl_divergence(teacher_log_probs, student_log_probs, real)
    return kl_divergence(student_log_probs, teacher_log_probs, real)


def shift_for_next_token(logits: torch.Tensor, input_ids: torch.Tensor | None = None,
                         attention_mask: torch.Tensor | None = None):
    """The shift by one, in one place for every loss of notebook 06: the logits at position i predict token i+1.

    Returns (logits[:, :-1], input_ids[:, 1:] or None, real [B, T-1]): the predicting positions, the
    tokens they predict, and True where both the position and its next token are real (attention_mask
    1 at i and i+1; all True without a mask). Every loss of this module goes through here.
    """
    if logits.dim() != 3:
        raise ValueError(f"Expected logits [batch, time, vocab], got {tuple(logits.shape)}.")
    if logits.shape[1] < 2:
        raise ValueError("A sequence needs at least 2 tokens: the last position predicts nothing we can check.")
    for name, t in (("input_ids", input_ids), ("attention_mask", attention_mask)):
        if t is not None and tuple(t.shape) != tuple(logits.shape[:2]):
            raise ValueError(f"{name} {tuple(t.shape)} must be [batch, time] = {tuple(logits.shape[:2])}, "
                             f"the logits' first two dimensions: pass the batch the logits were computed on.")
    if attention_mask is None:
        real = torch.ones(logits.shape[0], logits.shape[1] - 1, dtype=torch.bool, device=logits.device)
    else:
        mask = attention_mask.to(logits.device).bool()
        real = mask[:, :-1] & mask[:, 1:]
    targets = None if input_ids is None else input_ids[:, 1:].to(logits.device)
    return logits[:, :-1], targets, real


def next_token_loss(logits: torch.Tensor, input_ids: torch.Tensor,
                    attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The plain causal-LM loss: mean cross-entropy of each real next token (the student without a teacher).

    On packed blocks it equals kd.lm.causal_lm_loss and a Hugging Face model's own `loss`."""
    predicting, targets, real = shift_for_next_token(logits, input_ids, attention_mask)
    nll = F.cross_entropy(predicting.float().reshape(-1, predicting.shape[-1]), targets.reshape(-1),
                          reduction="none").view_as(targets)
    return masked_mean(nll, real)


def token_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                  attention_mask: torch.Tensor | None = None, *, temperature: float,
                  direction: str = "forward") -> torch.Tensor:
    """T^2 * KL between teacher and student next-token distributions at temperature T, averaged over
    the real positions (padding masked). Both logits are [batch, time, vocab] from the same tokens.

    direction='forward': KL(teacher || student); 'reverse': KL(student || teacher) (MiniLLM)."""
    check_temperature(temperature, "language model")
    check_direction(direction)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"Student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape: the student needs the "
                         f"teacher's tokenizer (the same vocabulary) and the same batch.")
    student, _, real = shift_for_next_token(student_logits, attention_mask=attention_mask)
    teacher, _, _ = shift_for_next_token(teacher_logits.detach(), attention_mask=attention_mask)
    s = F.log_softmax(student.float() / temperature, dim=-1)
    t = F.log_softmax(teacher.float() / temperature, dim=-1)
    return directed_kl(s, t, real, direction) * temperature**2
