"""Token-level distillation of a causal language model: the loss, the teacher's logits stored compactly,
and a small training function for the student. Taught in notebook 06.

A causal LM predicts, at every position, a distribution over the next token. Token-level distillation
trains the student to match the teacher's distribution at every real position of teacher-forced text
(both models read the same tokens; neither generates):

    loss = T^2 * (sum over real positions of KL at temperature T) / (number of real positions)

- The shift by one happens in one place, `shift_for_next_token`: the logits at position i predict
  token i+1, so the last position (whose next token is not in the block) is dropped, and a position
  counts only when it and the token it predicts are both real, never padding.
- The mean is over real positions: the token-level `batchmean` of notebook 03. Padding adds nothing
  to the sum and nothing to the count.
- direction="forward" is KL(teacher || student), the classic soft-target loss: mean-seeking, the
  student must cover every token the teacher finds plausible. direction="reverse" is
  KL(student || teacher), MiniLLM's choice (Gu et al., 2024): mode-seeking, the student may leave
  some of the teacher's tokens out but is punished hard for mass where the teacher has little.
- The teacher's logits are computed once and stored compactly (`TeacherTopK`, as offline LLM
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
from tqdm.auto import tqdm

from ..loop import eval_mode, model_device, release_memory
from .blocks import random_batches
from .pretrain import train_steps

DIRECTIONS = ("forward", "reverse")
TAIL_FLOOR = 1e-30  # the smallest tail mass used in a logarithm: a tail that underflowed to 0 stays finite


def _check_temperature(temperature) -> None:
    """A temperature must be a number > 0; there is no default, every run states the T it uses."""
    if isinstance(temperature, bool) or not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"temperature must be a number > 0 (1 = the plain softmax; 1-2 is usual for "
                         f"language models), got {temperature!r}.")


def _check_direction(direction) -> None:
    """The KL direction must be 'forward' (KL(teacher || student)) or 'reverse' (KL(student || teacher))."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be 'forward' (KL(teacher || student), the classic soft targets) "
                         f"or 'reverse' (KL(student || teacher), MiniLLM), got {direction!r}.")


# ------------------------------------------------------------------------------------------------
# The shift by one and the mean over real tokens
# ------------------------------------------------------------------------------------------------
def shift_for_next_token(logits: torch.Tensor, input_ids: torch.Tensor | None = None,
                         attention_mask: torch.Tensor | None = None):
    """The one place where the shift by one happens: the logits at position i predict token i+1.

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


def masked_token_mean(values: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """The mean of `values` over the real positions only: their sum divided by their number.

    The token-level `batchmean`: a padded position adds nothing to the sum and nothing to the count."""
    real = real.to(values.device)
    count = real.sum()
    if int(count) == 0:
        raise ValueError("No real position in this batch: every token is padding, or every sequence has "
                         "a single token. Check the attention_mask.")
    return torch.where(real, values, torch.zeros_like(values)).sum() / count


def kl_from_log_probs(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """KL(p || q) = sum_j p_j (log p_j - log q_j) over the last dimension, from log-probabilities.

    A bucket with p_j = 0 adds 0 (the convention 0 log 0 = 0), even where log q_j is -inf."""
    p = log_p.exp()
    term = p * (log_p - log_q)
    return torch.where(p > 0, term, torch.zeros_like(term)).sum(-1)


def _kl(student_log_probs: torch.Tensor, teacher_log_probs: torch.Tensor, direction: str) -> torch.Tensor:
    """Forward KL(teacher || student) or reverse KL(student || teacher), per position."""
    if direction == "forward":
        return kl_from_log_probs(teacher_log_probs, student_log_probs)
    return kl_from_log_probs(student_log_probs, teacher_log_probs)


# ------------------------------------------------------------------------------------------------
# Losses on full logits
# ------------------------------------------------------------------------------------------------
def next_token_loss(logits: torch.Tensor, input_ids: torch.Tensor,
                    attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """The plain causal-LM loss: mean cross-entropy of each real next token (the student without a teacher).

    On packed blocks it equals kd.lm.causal_lm_loss and a Hugging Face model's own `loss`."""
    predicting, targets, real = shift_for_next_token(logits, input_ids, attention_mask)
    nll = F.cross_entropy(predicting.float().reshape(-1, predicting.shape[-1]), targets.reshape(-1),
                          reduction="none").view_as(targets)
    return masked_token_mean(nll, real)


def token_kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                  attention_mask: torch.Tensor | None = None, *, temperature: float,
                  direction: str = "forward") -> torch.Tensor:
    """T^2 * KL between teacher and student next-token distributions at temperature T, averaged over
    the real positions (padding masked). Both logits are [batch, time, vocab] from the same tokens.

    direction='forward': KL(teacher || student); 'reverse': KL(student || teacher) (MiniLLM)."""
    _check_temperature(temperature)
    _check_direction(direction)
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(f"Student logits {tuple(student_logits.shape)} and teacher logits "
                         f"{tuple(teacher_logits.shape)} must have the same shape: the student needs the "
                         f"teacher's tokenizer (the same vocabulary) and the same batch.")
    student, _, real = shift_for_next_token(student_logits, attention_mask=attention_mask)
    teacher, _, _ = shift_for_next_token(teacher_logits.detach(), attention_mask=attention_mask)
    s = F.log_softmax(student.float() / temperature, dim=-1)
    t = F.log_softmax(teacher.float() / temperature, dim=-1)
    return masked_token_mean(_kl(s, t, direction), real) * temperature**2


# ------------------------------------------------------------------------------------------------
# The teacher's distribution, stored compactly: top-k log-probabilities + the tail mass
# ------------------------------------------------------------------------------------------------
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
    _check_temperature(temperature)
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


def _student_buckets(student_log_probs: torch.Tensor, indices: torch.Tensor, vocab: int) -> torch.Tensor:
    """The student's log-probabilities gathered into the teacher's k + 1 buckets [..., k + 1]:
    the k teacher tokens, then the log of the student's mass on every other token."""
    top = student_log_probs.gather(-1, indices)
    if indices.shape[-1] == vocab:  # the top k hold the whole vocabulary: the rest bucket is empty
        rest = torch.full(top.shape[:-1], float("-inf"), device=top.device)
    else:
        rest = student_log_probs.scatter(-1, indices, float("-inf")).logsumexp(dim=-1)
    return torch.cat([top, rest.unsqueeze(-1)], dim=-1)


def _prepare_topk(student_logits, teacher_topk: TeacherTopK, attention_mask, temperature):
    """Checks shared by the top-k losses; returns the student's log-probs at T, the real mask and the ids."""
    _check_temperature(temperature)
    if not math.isclose(temperature, teacher_topk.temperature):
        raise ValueError(f"The teacher's top-k was stored at temperature {teacher_topk.temperature}, not "
                         f"{temperature}: the tail mass depends on T. Cache the teacher again at T={temperature}.")
    student, _, real = shift_for_next_token(student_logits, attention_mask=attention_mask)
    if student.shape[-1] != teacher_topk.vocab_size:
        raise ValueError(f"The student predicts {student.shape[-1]:,} tokens, the teacher {teacher_topk.vocab_size:,}: "
                         f"the student needs the teacher's tokenizer.")
    if tuple(teacher_topk.log_probs.shape[:-1]) != tuple(student.shape[:-1]):
        raise ValueError(f"Teacher top-k {tuple(teacher_topk.log_probs.shape[:-1])} and student predicting "
                         f"positions {tuple(student.shape[:-1])} differ: select the cache rows of this batch's "
                         f"blocks (cache[rows]) and pass the full blocks to the student.")
    s = F.log_softmax(student.float() / temperature, dim=-1)
    return s, real, teacher_topk.indices.to(s.device).long()


def topk_kd_loss(student_logits: torch.Tensor, teacher_topk: TeacherTopK,
                 attention_mask: torch.Tensor | None = None, *, temperature: float,
                 direction: str = "forward") -> torch.Tensor:
    """`token_kd_loss` against the teacher stored as top-k + tail: T^2 * KL over k + 1 buckets.

    The student's distribution is gathered into the same buckets (its probability of each of the
    teacher's k tokens, and its mass on every other token). With k = vocabulary this is exactly
    `token_kd_loss`; with fewer it is a slightly smaller KL that needs a fraction of the storage."""
    _check_direction(direction)
    s, real, indices = _prepare_topk(student_logits, teacher_topk, attention_mask, temperature)
    student = _student_buckets(s, indices, teacher_topk.vocab_size)
    tail = teacher_topk.tail.to(s.device)
    if teacher_topk.k < teacher_topk.vocab_size:  # a tail that underflowed to 0 would make reverse KL infinite
        tail = tail.clamp_min(TAIL_FLOOR)
    tail = tail.log()  # -inf when the top k hold the whole vocabulary: an empty bucket, skipped by the KL
    teacher = torch.cat([teacher_topk.log_probs.to(s.device).float(), tail.unsqueeze(-1)], dim=-1)
    return masked_token_mean(_kl(student, teacher, direction), real) * temperature**2


def topk_kd_loss_renormalised(student_logits: torch.Tensor, teacher_topk: TeacherTopK,
                              attention_mask: torch.Tensor | None = None, *, temperature: float) -> torch.Tensor:
    """A PITFALL kept to be measured: the teacher's top k renormalised to sum to one, the tail dropped.

    Forward KL of that sharper teacher against the student's log-probabilities of the same k tokens:
    the student is pushed to put all its mass on the top k, more certain than the teacher ever was."""
    s, real, indices = _prepare_topk(student_logits, teacher_topk, attention_mask, temperature)
    teacher = teacher_topk.log_probs.to(s.device).float()
    teacher = teacher - teacher.logsumexp(dim=-1, keepdim=True)  # renormalised: the tail is gone
    return masked_token_mean(kl_from_log_probs(teacher, s.gather(-1, indices)), real) * temperature**2


@torch.no_grad()
def cache_teacher_topk(teacher, blocks: torch.Tensor, k: int, temperature: float, batch_size: int = 8,
                       desc: str = "caching the teacher's top-k") -> TeacherTopK:
    """Run the teacher once over `blocks` [num_blocks, block_size] and keep its top-k + tail at every
    predicting position: row i of the result belongs to block i, so training reads `cache[rows]`.

    The teacher runs in eval mode on its device; the storage is kept on the CPU."""
    if blocks.dim() != 2 or blocks.shape[1] < 2:
        raise ValueError(f"blocks must be [num_blocks, block_size >= 2] token ids, got {tuple(blocks.shape)}.")
    on = model_device(teacher)
    parts = []
    with eval_mode(teacher):
        for i in tqdm(range(0, len(blocks), batch_size), desc=desc):
            ids = blocks[i:i + batch_size].to(on)
            predicting, _, _ = shift_for_next_token(teacher(input_ids=ids).logits)
            part = compress_topk(predicting, k, temperature)
            parts.append(TeacherTopK(part.log_probs.cpu(), part.indices.cpu(), part.tail.cpu(), part.temperature,
                                     part.vocab_size))
    release_memory()  # the teacher's full logits, batch after batch, are gone
    return TeacherTopK.concatenate(parts)


@torch.no_grad()
def teacher_generations(teacher, prompts: torch.Tensor, new_tokens: int, seed: int, batch_size: int = 16,
                        sample: bool = True, temperature: float = 1.0,
                        desc: str = "teacher generations") -> torch.Tensor:
    """The teacher's own continuations of `prompts` [N, prompt_length]: blocks [N, prompt_length + new_tokens]
    of prompt + exactly `new_tokens` generated tokens, for sequence-level distillation (Kim & Rush, 2016).

    Sampled at `temperature` (or greedy with sample=False) under `seed`, so the same call (batch_size
    included: random numbers are drawn batch by batch) gives the same text; every continuation has the full length (the end-of-text token does not stop it), so the result
    packs like corpus blocks. Generate once and keep the result: it is the student's training set."""
    from ..seed import seeded

    _check_temperature(temperature)
    if prompts.dim() != 2:
        raise ValueError(f"prompts must be [num_prompts, prompt_length] token ids, got {tuple(prompts.shape)}.")
    on = model_device(teacher)
    pad = teacher.generation_config.pad_token_id
    pad = pad if pad is not None else teacher.generation_config.eos_token_id
    extra = dict(do_sample=True, temperature=temperature, top_k=0) if sample else dict(do_sample=False)
    out = []
    with eval_mode(teacher), seeded(seed):
        for i in tqdm(range(0, len(prompts), batch_size), desc=desc):
            ids = prompts[i:i + batch_size].to(on)
            generated = teacher.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                                         min_new_tokens=new_tokens, pad_token_id=pad, **extra)
            out.append(generated.cpu())
    release_memory()
    return torch.cat(out)


# ------------------------------------------------------------------------------------------------
# Evaluating and training a causal student
# ------------------------------------------------------------------------------------------------
@torch.no_grad()
def evaluate_next_token(model, blocks: torch.Tensor, teacher_topk: TeacherTopK | None = None,
                        batch_size: int = 16) -> dict[str, float]:
    """Held-out next-token loss and perplexity of a causal LM on packed blocks (eval mode); the mean
    entropy of its next-token distributions (nats: how spread out its guesses are, the quantity that
    separates mean-seeking from mode-seeking students); and, given the teacher's top-k of the same
    blocks, the agreement: the share of positions where the model's most likely next token is the teacher's."""
    if teacher_topk is not None and len(teacher_topk) != len(blocks):
        raise ValueError(f"The teacher's top-k holds {len(teacher_topk)} blocks, not {len(blocks)}: cache it "
                         f"over these very blocks.")
    on = model_device(model)
    total, spread, agree, n = 0.0, 0.0, 0, 0
    with eval_mode(model):
        for i in range(0, len(blocks), batch_size):
            ids = blocks[i:i + batch_size].to(on)
            logits = model(input_ids=ids).logits
            count = ids.shape[0] * (ids.shape[1] - 1)
            total += float(next_token_loss(logits, ids)) * count
            n += count
            predicting, _, _ = shift_for_next_token(logits)
            log_p = torch.log_softmax(predicting.float(), dim=-1)
            spread += float(-(log_p.exp() * log_p).sum(-1).sum())
            if teacher_topk is not None:
                teacher_top1 = teacher_topk.indices[i:i + batch_size, :, 0].to(on).long()
                agree += int((predicting.argmax(dim=-1) == teacher_top1).sum())
    loss = total / n
    result = {"loss": loss, "perplexity": math.exp(loss), "entropy": spread / n, "tokens": n}
    if teacher_topk is not None:
        result["agreement"] = agree / n
    return result


def train_causal_student(student, blocks: torch.Tensor, *, steps: int, batch_size: int, learning_rate: float,
                         seed: int, teacher=None, temperature: float | None = None, direction: str = "forward",
                         alpha: float = 1.0, eval_blocks: torch.Tensor | None = None, eval_every: int = 50,
                         desc: str | None = None) -> dict:
    """Train a causal student on packed `blocks` for `steps` steps; returns the loss history.

    teacher=None: the plain next-token loss. teacher=a TeacherTopK cached over these blocks: token-level
    KD from the stored top-k + tail. teacher=a model: token-level KD from its full logits, computed
    online at every step (for comparing with the stored top-k). `alpha` weighs the KD term and 1 - alpha
    the plain next-token loss (1: the teacher alone). The same `seed` draws the same batches and dropout
    whatever the loss, so two runs with one seed differ only in what they learn from.
    Runs on the loop core (AdamW, 5 % warm-up + linear decay, clipping at 1.0; kd.lm.train_steps)."""
    if teacher is not None and temperature is None:
        raise ValueError("Distilling needs a temperature: pass temperature= (the one the teacher was cached at).")
    if not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
        raise ValueError(f"alpha must be in [0, 1] (the weight of the teacher's term), got {alpha!r}.")
    if isinstance(teacher, TeacherTopK) and len(teacher) != len(blocks):
        raise ValueError(f"The teacher's top-k holds {len(teacher)} blocks, the training set {len(blocks)}: "
                         f"cache the teacher over these very blocks (row i = block i).")
    g = torch.Generator().manual_seed(seed)
    batches = random_batches(len(blocks), batch_size, steps, g)
    on = model_device(student)
    if teacher is not None and not isinstance(teacher, TeacherTopK):
        teacher.eval()  # a frozen teacher: dropout off, never trained

    def step_loss(step):
        rows = next(batches)
        ids = blocks[rows].to(on)
        logits = student(input_ids=ids).logits
        if teacher is None:
            return next_token_loss(logits, ids)
        if isinstance(teacher, TeacherTopK):
            teacher_term = topk_kd_loss(logits, teacher[rows], temperature=temperature, direction=direction)
        else:
            with torch.no_grad():
                teacher_logits = teacher(input_ids=ids).logits
            teacher_term = token_kd_loss(logits, teacher_logits, temperature=temperature, direction=direction)
        if alpha == 1.0:
            return teacher_term
        return alpha * teacher_term + (1.0 - alpha) * next_token_loss(logits, ids)

    evaluate = (lambda: evaluate_next_token(student, eval_blocks)) if eval_blocks is not None else None
    name = desc or ("next-token loss" if teacher is None else f"token KD ({direction} KL)")
    return train_steps(student, step_loss, steps, learning_rate, evaluate, eval_every, seed, name)
