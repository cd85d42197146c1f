"""The teacher of a causal LM stored compactly: top-k log-probabilities + the tail mass, and the losses
against it. Taught in notebook 06.

The teacher's logits are computed once and stored compactly (`TeacherTopK`, as offline LLM
distillation does): per position the k largest log-probabilities (fp16), their token ids (the
smallest integer type that holds the vocabulary), and the probability of every other token
together, the tail. The teacher's distribution is then k + 1 buckets that still sum to one;
renormalising the top k without the tail (`topk_kd_loss_renormalised`, a pitfall kept to be
measured) makes the teacher look more certain than it is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .lm_losses import check_direction, directed_kl, next_token_loss, shift_for_next_token
from .losses import check_alpha, check_temperature, kl_divergence, masked_mean

TAIL_FLOOR = 1e-30  # the smallest tail mass used in a logarithm: a tail that underflowed to 0 stays finite


def index_dtype(vocab_size: int) -> torch.dtype:
    """The smallest integer type that holds every token id of a vocabulary of `vocab_size`.

    uint8 up to 256 tokens, int16 up to 32,768, uint16 up to 65,536 (SmolLM2's 49,152), else int32."""
    for dtype, size in ((torch.uint8, 2**8), (torch.int16, 2**15), (torch.uint16, 2**16), (torch.int32, 2**31)):
        if vocab_size <= size:
            return dtype
    raise ValueError(f"A vocabulary of {vocab_size:,} tokens does not fit in 32-bit ids.")


@dataclass
class TeacherTopK:
    """The teacher's next-token distributions at `temperature`, stored compactly, one row per block.

    log_probs [blocks, positions, k]: the k largest log-probabilities, largest first (fp16);
    indices   [blocks, positions, k]: their token ids (index_dtype of the vocabulary);
    tail      [blocks, positions]: the probability of all other tokens together (fp32), so that the
              k + 1 buckets still sum to one. Row i holds block i: select rows with `cache[rows]`.
    """

    log_probs: torch.Tensor
    indices: torch.Tensor
    tail: torch.Tensor
    temperature: float
    vocab_size: int

    @property
    def k(self) -> int:
        """How many tokens are kept per position."""
        return self.log_probs.shape[-1]

    def __len__(self) -> int:
        """The number of blocks stored: one row per training block."""
        return self.log_probs.shape[0]

    def __getitem__(self, rows) -> "TeacherTopK":
        """The rows (blocks) `rows`: an index, a slice or a tensor of block indices."""
        if isinstance(rows, int):
            rows = slice(rows, rows + 1)
        return TeacherTopK(self.log_probs[rows], self.indices[rows], self.tail[rows], self.temperature,
                           self.vocab_size)

    def nbytes(self) -> int:
        """Bytes this storage takes: values, ids and tail mass."""
        return sum(t.numel() * t.element_size() for t in (self.log_probs, self.indices, self.tail))

    def kept_mass(self) -> float:
        """The mean probability the top k hold (1 - tail), over all stored positions: what k keeps."""
        return float(1.0 - self.tail.double().mean())

    @staticmethod
    def concatenate(parts: list["TeacherTopK"]) -> "TeacherTopK":
        """One storage from several, rows in order (the batches of `cache_teacher_topk`)."""
        first = parts[0]
        return TeacherTopK(torch.cat([p.log_probs for p in parts]), torch.cat([p.indices for p in parts]),
                           torch.cat([p.tail for p in parts]), first.temperature, first.vocab_size)


def full_logits_bytes(positions: int, vocab_size: int, dtype: torch.dtype = torch.float32) -> int:
    """Bytes that storing every logit of `positions` positions would take: the baseline of top-k storage."""
    return positions * vocab_size * torch.empty(0, dtype=dtype).element_size()


@torch.no_grad()
def compress_topk(teacher_logits: torch.Tensor, k: int, temperature: float,
                  dtype: torch.dtype = torch.float16) -> TeacherTopK:
    """The teacher's distribution softmax(logits / T) at every position as top-k + tail.

    `teacher_logits` [..., vocab] are the logits of the predicting positions (after the shift).
    The tail is computed from the full distribution (logsumexp of the other tokens), not as
    1 - sum(top k) in fp16, so it is exact to fp32 even when it is tiny. `dtype` of the values:
    fp16 as stored by offline distillation; fp32 for exact comparisons in tests."""
    check_temperature(temperature, "language model")
    vocab = teacher_logits.shape[-1]
    if not (isinstance(k, int) and 1 <= k <= vocab):
        raise ValueError(f"k must be an integer from 1 to the vocabulary size {vocab:,}, got {k!r}.")
    log_probs = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    top = log_probs.topk(k, dim=-1)  # sorted: the most likely token first
    if k == vocab:
        tail = torch.zeros(log_probs.shape[:-1], device=log_probs.device)  # nothing is left out
    else:
        others = log_probs.scatter(-1, top.indices, float("-inf"))  # the top k removed
        tail = others.logsumexp(dim=-1).exp()
    return TeacherTopK(top.values.to(dtype), top.indices.to(index_dtype(vocab)), tail.float(), float(temperature),
                       vocab)


def _student_buckets(z: torch.Tensor, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The student's log-probabilities, from its logits `z` at temperature T, gathered into the teacher's k + 1
    buckets [..., k + 1]: the k teacher tokens, then the log of the student's mass on every other token; and
    the normaliser logsumexp(z) [..., 1] (the next-token loss reuses it).

    The rest bucket is log(1 - the top k's mass), from the k gathered values: no second pass over the
    vocabulary, which is what makes a top-k step cost about what a plain step does."""
    normaliser = z.logsumexp(dim=-1, keepdim=True)
    top = z.gather(-1, indices) - normaliser
    if indices.shape[-1] == z.shape[-1]:  # the top k hold the whole vocabulary: the rest bucket is empty
        rest = torch.full(top.shape[:-1], float("-inf"), device=top.device)
    else:  # log(1 - exp(kept)), floored like the teacher's tail where rounding leaves nothing
        rest = (-torch.expm1(top.logsumexp(dim=-1).clamp_max(0.0))).clamp_min(TAIL_FLOOR).log()
    return torch.cat([top, rest.unsqueeze(-1)], dim=-1), normaliser


def _prepare_topk(student_logits, teacher_topk: TeacherTopK, attention_mask, temperature, input_ids=None):
    """Checks shared by the top-k losses; returns the student's predicting logits at T, the tokens they predict,
    the real mask and the teacher's ids."""
    check_temperature(temperature, "language model")
    if not math.isclose(temperature, teacher_topk.temperature):
        raise ValueError(f"The teacher's top-k was stored at temperature {teacher_topk.temperature}, not "
                         f"{temperature}: the tail mass depends on T. Cache the teacher again at T={temperature}.")
    student, targets, real = shift_for_next_token(student_logits, input_ids, attention_mask)
    if student.shape[-1] != teacher_topk.vocab_size:
        raise ValueError(f"The student predicts {student.shape[-1]:,} tokens, the teacher {teacher_topk.vocab_size:,}: "
                         f"the student needs the teacher's tokenizer.")
    if tuple(teacher_topk.log_probs.shape[:-1]) != tuple(student.shape[:-1]):
        raise ValueError(f"Teacher top-k {tuple(teacher_topk.log_probs.shape[:-1])} and student predicting "
                         f"positions {tuple(student.shape[:-1])} differ: select the cache rows of this batch's "
                         f"blocks (cache[rows]) and pass the full blocks to the student.")
    z = student.float() if temperature == 1 else student.float() / temperature  # T = 1: no copy of the logits
    return z, targets, real, teacher_topk.indices.to(z.device).long()


def _teacher_buckets(teacher_topk: TeacherTopK, device) -> torch.Tensor:
    """The stored teacher as k + 1 log-probabilities: its top k, then the log of its tail mass."""
    tail = teacher_topk.tail.to(device)
    if teacher_topk.k < teacher_topk.vocab_size:  # a tail that underflowed to 0 would make reverse KL infinite
        tail = tail.clamp_min(TAIL_FLOOR)
    tail = tail.log()  # -inf when the top k hold the whole vocabulary: an empty bucket, skipped by the KL
    return torch.cat([teacher_topk.log_probs.to(device).float(), tail.unsqueeze(-1)], dim=-1)


def topk_kd_loss(student_logits: torch.Tensor, teacher_topk: TeacherTopK,
                 attention_mask: torch.Tensor | None = None, *, temperature: float,
                 direction: str = "forward") -> torch.Tensor:
    """`token_kd_loss` against the teacher stored as top-k + tail: T^2 * KL over k + 1 buckets.

    The student's distribution is gathered into the same buckets (its probability of each of the
    teacher's k tokens, and its mass on every other token). With k = vocabulary this is exactly
    `token_kd_loss`; with fewer it is a slightly smaller KL that needs a fraction of the storage."""
    check_direction(direction)
    z, _, real, indices = _prepare_topk(student_logits, teacher_topk, attention_mask, temperature)
    student, _ = _student_buckets(z, indices)
    return directed_kl(student, _teacher_buckets(teacher_topk, z.device), real, direction) * temperature**2


def topk_distillation_loss(student_logits: torch.Tensor, input_ids: torch.Tensor, teacher_topk: TeacherTopK, *,
                           alpha: float, temperature: float, direction: str = "forward",
                           attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The loss of a student distilled from the store: alpha * topk_kd_loss + (1 - alpha) * next_token_loss.

    The same value as the two losses computed apart (tested); at T = 1 both terms share one normaliser of
    the student's logits, so a step costs a few % more than a plain next-token step, not half as much again
    (scripts/benchmark_topk_step.py)."""
    check_direction(direction)
    check_alpha(alpha)
    z, targets, real, indices = _prepare_topk(student_logits, teacher_topk, attention_mask, temperature, input_ids)
    student, normaliser = _student_buckets(z, indices)
    loss = directed_kl(student, _teacher_buckets(teacher_topk, z.device), real, direction) * temperature**2
    if alpha == 1.0:
        return loss
    if temperature == 1:  # the next-token loss from the same normaliser: -log p(next token)
        nll = normaliser.squeeze(-1) - z.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return alpha * loss + (1.0 - alpha) * masked_mean(nll, real)
    return alpha * loss + (1.0 - alpha) * next_token_loss(student_logits, input_ids, attention_mask)


def topk_kd_loss_renormalised(student_logits: torch.Tensor, teacher_topk: TeacherTopK,
                              attention_mask: torch.Tensor | None = None, *, temperature: float) -> torch.Tensor:
    """A PITFALL kept to be measured: the teacher's top k renormalised to sum to one, the tail dropped.

    Forward KL of that sharper teacher against the student's log-probabilities of the same k tokens:
    the student is pushed to put all its mass on the top k, more certain than the teacher ever was."""
    z, _, real, indices = _prepare_topk(student_logits, teacher_topk, attention_mask, temperature)
    teacher = teacher_topk.log_probs.to(z.device).float()
    teacher = teacher - teacher.logsumexp(dim=-1, keepdim=True)  # renormalised: the tail is gone
    student = z.gather(-1, indices) - z.logsumexp(dim=-1, keepdim=True)  # its real log-probabilities there
    return kl_divergence(teacher, student, real) * temperature**2


def cache_teacher_topk(teacher, blocks: torch.Tensor, k: int, temperature: float, batch_size: int = 8,
                       desc: str = "caching the teacher's top-k") -> TeacherTopK:
    """Run the teacher once over `blocks` [num_blocks, block_size] and keep its top-k + tail at every
    predicting position: row i of the result belongs to block i, so training reads `cache[rows]`.

    The teacher runs in eval mode on its device; the storage is kept on the CPU (`cache_teacher_stores`, the
    one loop over the blocks of every store)."""
    from .stores import cache_teacher_stores

    return cache_teacher_stores(teacher, blocks, temperature=temperature, topk=(k,), batch_size=batch_size,
                                desc=desc)["top-k", k]
