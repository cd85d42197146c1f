"""The teacher of a causal LM stored as tokens drawn from its distribution, and the loss against it: the
sparse store beside the top-k one (`topk`), taught in notebook 07 (storing a teacher: top-k against sampled tokens).

Anshumann et al. (ACL 2025, "Sparse Logit Sampling: Accelerating Knowledge Distillation in LLMs") point out
that keeping the teacher's k most likely tokens gives a biased target: whatever is done with the rest, the
student learns nothing about how the teacher spreads its probability there, and a top-k target renormalised
without its tail is more certain than the teacher. Their alternative, importance sampling, in its simplest
form (the proposal is the teacher's own distribution): at each position draw k tokens from the teacher's
distribution (with replacement) and store each distinct token with how often it was drawn. The counts divided
by k are a sparse distribution whose expectation over the draws *is* the teacher's: the student's gradient,
softmax(student) - counts / k, is unbiased, however small k is. (Their general method draws from another
proposal and stores each token's importance weight instead of its count.)

    TeacherSamples            per position: up to k distinct token ids and their counts (k draws in all)
    sample_teacher            the draws from teacher logits (seeded, the same on every device)
    sampled_kd_loss           T^2 * KL(counts / k || student), averaged over the real positions
    sampled_distillation_loss alpha * that + (1 - alpha) * the next-token loss, one pass over the vocabulary
    cache_teacher_samples     the teacher run once over training blocks; row i belongs to block i
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .lm_losses import next_token_loss, shift_for_next_token
from .losses import check_alpha, check_temperature, masked_mean
from .topk import index_dtype


def count_dtype(draws: int) -> torch.dtype:
    """The smallest integer type that holds a count of up to `draws`: uint8 up to 255 draws, else int16."""
    if draws <= 255:
        return torch.uint8
    if draws < 2**15:
        return torch.int16
    raise ValueError(f"{draws:,} draws per position do not fit in 16-bit counts: use fewer than 32,768.")


@dataclass
class TeacherSamples:
    """The teacher's next-token distributions at `temperature`, stored as `draws` tokens drawn from each.

    indices [blocks, positions, draws]: the distinct tokens drawn, first in the slots (index_dtype);
    counts  [blocks, positions, draws]: how often each was drawn (count_dtype); a slot with count 0 is empty,
              so the counts of a position always sum to `draws`. Row i holds block i: `samples[rows]`.
    """

    indices: torch.Tensor
    counts: torch.Tensor
    temperature: float
    vocab_size: int

    @property
    def draws(self) -> int:
        """How many tokens were drawn per position (the k of the store)."""
        return self.indices.shape[-1]

    def __len__(self) -> int:
        """The number of blocks stored."""
        return self.indices.shape[0]

    def __getitem__(self, rows) -> "TeacherSamples":
        """The rows (blocks) `rows`: an index, a slice or a tensor of block indices."""
        if isinstance(rows, int):
            rows = slice(rows, rows + 1)
        return TeacherSamples(self.indices[rows], self.counts[rows], self.temperature, self.vocab_size)

    def nbytes(self) -> int:
        """Bytes this storage takes: ids and counts (no probabilities: the counts are the target)."""
        return sum(t.numel() * t.element_size() for t in (self.indices, self.counts))

    def distinct(self) -> float:
        """The mean number of distinct tokens per position: fewer than `draws` when the teacher is sure."""
        return float((self.counts > 0).sum(-1).double().mean())

    def target(self) -> torch.Tensor:
        """The stored distribution as weights [..., draws]: count / draws (0 in empty slots)."""
        return self.counts.float() / self.draws

    @staticmethod
    def concatenate(parts: list["TeacherSamples"]) -> "TeacherSamples":
        """One storage from several, rows in order (the batches of `cache_teacher_samples`)."""
        first = parts[0]
        return TeacherSamples(torch.cat([p.indices for p in parts]), torch.cat([p.counts for p in parts]),
                              first.temperature, first.vocab_size)


@torch.no_grad()
def sample_teacher(teacher_logits: torch.Tensor, draws: int, temperature: float,
                   generator: torch.Generator | None = None) -> TeacherSamples:
    """Draw `draws` tokens, with replacement, from softmax(teacher_logits / T) at every position, and keep each
    distinct token with its count.

    `teacher_logits` [..., vocab] are the logits of the predicting positions (after the shift). The random
    numbers come from `generator` on the CPU (a seeded one makes the store reproducible) and pick tokens by the
    inverse of the cumulative distribution, so a seed gives the same random numbers on a CPU and on a GPU."""
    check_temperature(temperature, "language model")
    vocab = teacher_logits.shape[-1]
    if not (isinstance(draws, int) and draws >= 1):
        raise ValueError(f"draws must be a positive integer (the tokens drawn per position), got {draws!r}.")
    probs = F.softmax(teacher_logits.float() / temperature, dim=-1)
    cumulative = probs.cumsum(-1)
    uniform = torch.rand(*probs.shape[:-1], draws, generator=generator).to(probs.device)
    uniform = uniform * cumulative[..., -1:]  # the last cumulative value is 1 up to rounding
    drawn = torch.searchsorted(cumulative, uniform).clamp_max(vocab - 1).sort(-1).values
    first = torch.ones_like(drawn, dtype=torch.bool)
    first[..., 1:] = drawn[..., 1:] != drawn[..., :-1]  # the first slot of each distinct token
    slot = first.long().cumsum(-1) - 1  # distinct token j of a position goes to slot j
    counts = torch.zeros_like(drawn).scatter_add_(-1, slot, torch.ones_like(drawn))
    indices = torch.zeros_like(drawn).scatter_(-1, slot, drawn)  # a token's duplicates write the same id
    return TeacherSamples(indices.to(index_dtype(vocab)), counts.to(count_dtype(draws)), float(temperature), vocab)


def _prepare_samples(student_logits, samples: TeacherSamples, attention_mask, temperature, input_ids=None):
    """Checks of the sampled losses; returns the student's predicting logits at T, the tokens they predict, the
    real mask, the drawn ids and their weights count / draws."""
    check_temperature(temperature, "language model")
    if not math.isclose(temperature, samples.temperature):
        raise ValueError(f"The teacher's tokens were drawn at temperature {samples.temperature}, not {temperature}: "
                         f"draw them again at T={temperature}.")
    student, targets, real = shift_for_next_token(student_logits, input_ids, attention_mask)
    if student.shape[-1] != samples.vocab_size:
        raise ValueError(f"The student predicts {student.shape[-1]:,} tokens, the teacher {samples.vocab_size:,}: "
                         f"the student needs the teacher's tokenizer.")
    if tuple(samples.indices.shape[:-1]) != tuple(student.shape[:-1]):
        raise ValueError(f"Teacher samples {tuple(samples.indices.shape[:-1])} and student predicting positions "
                         f"{tuple(student.shape[:-1])} differ: select the rows of this batch's blocks "
                         f"(samples[rows]) and pass the full blocks to the student.")
    z = student.float() if temperature == 1 else student.float() / temperature
    return z, targets, real, samples.indices.to(z.device).long(), samples.target().to(z.device)


def _sampled_kl(z: torch.Tensor, indices: torch.Tensor, weights: torch.Tensor):
    """KL(weights || student) per position over the drawn tokens, and the student's normaliser logsumexp(z)."""
    normaliser = z.logsumexp(dim=-1, keepdim=True)
    student = z.gather(-1, indices) - normaliser
    kl = torch.where(weights > 0, weights * (weights.clamp_min(1e-12).log() - student), torch.zeros_like(student))
    return kl.sum(-1), normaliser


def sampled_kd_loss(student_logits: torch.Tensor, samples: TeacherSamples,
                    attention_mask: torch.Tensor | None = None, *, temperature: float) -> torch.Tensor:
    """T^2 * KL(counts / draws || student) at every real predicting position, averaged over them.

    Its gradient with respect to the student's logits (divided by T) is softmax(student) - counts / draws, whose
    expectation over the teacher's draws is `token_kd_loss`'s: an unbiased estimate of the full-logit gradient.
    Forward KL only: a reverse KL needs the teacher's probability of the student's tokens, which a sample lacks."""
    z, _, real, indices, weights = _prepare_samples(student_logits, samples, attention_mask, temperature)
    kl, _ = _sampled_kl(z, indices, weights)
    return masked_mean(kl, real) * temperature**2


def sampled_distillation_loss(student_logits: torch.Tensor, input_ids: torch.Tensor, samples: TeacherSamples, *,
                              alpha: float, temperature: float,
                              attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """alpha * sampled_kd_loss + (1 - alpha) * next_token_loss: the same value as the two losses computed apart
    (tested); at T = 1 both terms share one normaliser of the student's logits, as the top-k step does."""
    check_alpha(alpha)
    z, targets, real, indices, weights = _prepare_samples(student_logits, samples, attention_mask, temperature,
                                                          input_ids)
    kl, normaliser = _sampled_kl(z, indices, weights)
    loss = masked_mean(kl, real) * temperature**2
    if alpha == 1.0:
        return loss
    if temperature == 1:  # -log p(next token) from the same normaliser
        nll = normaliser.squeeze(-1) - z.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        return alpha * loss + (1.0 - alpha) * masked_mean(nll, real)
    return alpha * loss + (1.0 - alpha) * next_token_loss(student_logits, input_ids, attention_mask)


def cache_teacher_samples(teacher, blocks: torch.Tensor, draws: int, temperature: float, seed: int = 0,
                          batch_size: int = 8, desc: str = "drawing the teacher's tokens") -> TeacherSamples:
    """Run the teacher once over `blocks` [num_blocks, block_size] and keep `draws` tokens drawn from its
    distribution at every predicting position (seeded): row i of the result belongs to block i.

    The teacher runs in eval mode on its device; the storage is kept on the CPU (`cache_teacher_stores`, the
    one loop over the blocks of every store)."""
    from .stores import cache_teacher_stores

    return cache_teacher_stores(teacher, blocks, temperature=temperature, draws=(draws,), seed=seed,
                                batch_size=batch_size, desc=desc)["sampled", draws]
