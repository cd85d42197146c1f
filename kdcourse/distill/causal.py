"""A causal student distilled from a causal teacher: the teacher's own generations (sequence-level),
held-out scores, and the training loop of every student of notebook 06.
"""
from __future__ import annotations

import math

import torch
from tqdm.auto import tqdm

from ..lm.blocks import random_batches
from ..lm.pretrain import train_steps
from ..loop import eval_mode, model_device, release_memory, teacher_precision, to_model
from .lm_losses import next_token_loss, shift_for_next_token, token_kd_loss
from .losses import check_alpha, check_temperature, kl_per_row
from .sampled import TeacherSamples, sampled_distillation_loss
from .topk import TeacherTopK, _student_buckets, _teacher_buckets, topk_distillation_loss

CALIBRATION_BINS = 10  # equal-width bins of confidence for the expected calibration error (Guo et al., 2017)


@torch.no_grad()
def teacher_generations(teacher, prompts: torch.Tensor, new_tokens: int, seed: int, batch_size: int = 16,
                        sample: bool = True, temperature: float = 1.0,
                        desc: str = "teacher generations") -> torch.Tensor:
    """The teacher's own continuations of `prompts` [N, prompt_length]: blocks [N, prompt_length + new_tokens]
    of prompt + exactly `new_tokens` generated tokens, for sequence-level distillation (Kim & Rush, 2016).

    Sampled at `temperature` (or greedy with sample=False) under `seed`, so the same call (batch_size
    included: random numbers are drawn batch by batch) gives the same text; every continuation has the full
    length (the end-of-text token does not stop it), so the result packs like corpus blocks. Generate once and
    keep the result: it is the student's training set."""
    from ..seed import seeded

    check_temperature(temperature, "language model")
    if prompts.dim() != 2:
        raise ValueError(f"prompts must be [num_prompts, prompt_length] token ids, got {tuple(prompts.shape)}.")
    pad = teacher.generation_config.pad_token_id
    pad = pad if pad is not None else teacher.generation_config.eos_token_id
    extra = dict(do_sample=True, temperature=temperature, top_k=0) if sample else dict(do_sample=False)
    out = []
    with eval_mode(teacher), teacher_precision(teacher), seeded(seed):
        for i in tqdm(range(0, len(prompts), batch_size), desc=desc):
            ids = to_model(prompts[i:i + batch_size], teacher)
            generated = teacher.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=new_tokens,
                                         min_new_tokens=new_tokens, pad_token_id=pad, **extra)
            out.append(generated.cpu())
    release_memory()
    return torch.cat(out)


@torch.no_grad()
def evaluate_next_token(model, blocks: torch.Tensor, teacher_topk: TeacherTopK | None = None,
                        batch_size: int = 16) -> dict[str, float]:
    """Held-out next-token loss and perplexity of a causal LM on packed blocks (eval mode); the mean
    entropy of its next-token distributions (nats: how spread out its guesses are, the quantity that
    separates mean-seeking from mode-seeking students); and, given the teacher's top-k of the same
    blocks, the agreement (the share of positions where the model's most likely next token is the teacher's)
    and the forward and reverse KL to the stored teacher (nats per token, over its k + 1 buckets).
    Calibration (notebook 07): "confidence", the mean probability of its most likely next token, "accuracy", how
    often that token is the real next one, "overconfidence", their difference (above 0: surer than it is right), and
    "ece", the expected calibration error over `CALIBRATION_BINS` bins of confidence (Guo et al., 2017): the
    positions' weighted mean of |accuracy - confidence| within each bin.
    Every mean but the ece is also given block by block ("per_block" for the loss, "per_block_<name>" for the
    others): the paired scores `kd.measure.verdict` compares."""
    if teacher_topk is not None and len(teacher_topk) != len(blocks):
        raise ValueError(f"The teacher's top-k holds {len(teacher_topk)} blocks, not {len(blocks)}: cache it "
                         f"over these very blocks.")
    on = model_device(model)
    names = ["loss", "entropy", "confidence", "accuracy", "overconfidence"] + (
        ["agreement", "kl", "reverse_kl"] if teacher_topk is not None else [])
    per_block = {name: [] for name in names}
    bins = torch.zeros(3, CALIBRATION_BINS, dtype=torch.float64)  # positions, confidence and correct, per bin
    with eval_mode(model):
        for i in range(0, len(blocks), batch_size):
            ids = to_model(blocks[i:i + batch_size], model)
            logits = model(input_ids=ids).logits
            predicting, targets, _ = shift_for_next_token(logits, ids)
            log_p = torch.log_softmax(predicting.float(), dim=-1)
            nll = -log_p.gather(-1, targets.unsqueeze(-1)).squeeze(-1)  # the next-token loss at every position
            scores = {"loss": nll, "entropy": -(log_p.exp() * log_p).sum(-1)}  # [blocks, positions] each
            top_log_p, top = log_p.max(dim=-1)
            scores["confidence"], scores["accuracy"] = top_log_p.exp(), (top == targets).float()
            scores["overconfidence"] = scores["confidence"] - scores["accuracy"]
            which = (scores["confidence"] * CALIBRATION_BINS).long().clamp_max(CALIBRATION_BINS - 1).flatten().cpu()
            for row, values in enumerate((torch.ones_like(nll), scores["confidence"], scores["accuracy"])):
                bins[row].index_add_(0, which, values.flatten().double().cpu())
            if teacher_topk is not None:
                stored = teacher_topk[i:i + batch_size]
                student, _ = _student_buckets(predicting.float() / stored.temperature, stored.indices.to(on).long())
                teacher = _teacher_buckets(stored, on)
                scores["agreement"] = (predicting.argmax(dim=-1) == stored.indices[..., 0].to(on).long()).float()
                scores["kl"], scores["reverse_kl"] = kl_per_row(teacher, student), kl_per_row(student, teacher)
            for name, values in scores.items():  # every block has the same number of positions
                per_block[name] += values.mean(1).tolist()
    result = {name: sum(v) / len(v) for name, v in per_block.items()}
    result["ece"] = float((bins[1] - bins[2]).abs().sum() / bins[0].sum())  # sum over bins of n_b |conf_b - acc_b| / n
    result |= {"perplexity": math.exp(result["loss"]), "tokens": len(blocks) * (blocks.shape[1] - 1),
               "per_block": per_block.pop("loss")} | {f"per_block_{name}": v for name, v in per_block.items()}
    return result


def train_causal_student(student, blocks: torch.Tensor, *, steps: int, batch_size: int, learning_rate: float,
                         seed: int, teacher=None, temperature: float | None = None, direction: str = "forward",
                         alpha: float = 1.0, eval_blocks: torch.Tensor | None = None, eval_every: int = 50,
                         desc: str | None = None) -> dict:
    """Train a causal student on packed `blocks` for `steps` steps; returns the loss history.

    teacher=None: the plain next-token loss. teacher=a TeacherTopK cached over these blocks: token-level
    KD from the stored top-k + tail. teacher=a TeacherSamples drawn over these blocks: KD from the stored
    draws (forward KL only). teacher=a model: token-level KD from its full logits, computed online at every
    step (for comparing with the stores). `alpha` weighs the KD term and 1 - alpha
    the plain next-token loss (1: the teacher alone). The same `seed` draws the same batches and dropout
    whatever the loss, so two runs with one seed differ only in what they learn from.
    Runs on the loop core (AdamW, 5 % warm-up + linear decay, clipping at 1.0; kd.lm.train_steps)."""
    if teacher is not None:
        check_temperature(temperature, "language model")  # the one the teacher was cached at; there is no default
    check_alpha(alpha)
    stored = isinstance(teacher, (TeacherTopK, TeacherSamples))
    if stored and len(teacher) != len(blocks):
        raise ValueError(f"The teacher's store holds {len(teacher)} blocks, the training set {len(blocks)}: "
                         f"cache the teacher over these very blocks (row i = block i).")
    if isinstance(teacher, TeacherSamples) and direction != "forward":
        raise ValueError("A store of drawn tokens supports the forward KL only: a reverse KL needs the teacher's "
                         "probability of every token the student favours. Use a TeacherTopK, or the teacher itself.")
    g = torch.Generator().manual_seed(seed)
    batches = random_batches(len(blocks), batch_size, steps, g)
    if teacher is not None and not stored:
        teacher.eval()  # a frozen teacher: dropout off, never trained

    def step_loss(step):
        rows = next(batches)
        ids = to_model(blocks[rows], student)
        logits = student(input_ids=ids).logits
        if teacher is None:
            return next_token_loss(logits, ids)
        if isinstance(teacher, TeacherTopK):  # both terms in one pass over the vocabulary
            return topk_distillation_loss(logits, ids, teacher[rows], alpha=alpha, temperature=temperature,
                                          direction=direction)
        if isinstance(teacher, TeacherSamples):  # the same, against the drawn tokens
            return sampled_distillation_loss(logits, ids, teacher[rows], alpha=alpha, temperature=temperature)
        with torch.no_grad():
            teacher_logits = teacher(input_ids=ids).logits
        teacher_term = token_kd_loss(logits, teacher_logits, temperature=temperature, direction=direction)
        if alpha == 1.0:
            return teacher_term
        return alpha * teacher_term + (1.0 - alpha) * next_token_loss(logits, ids)

    evaluate = (lambda: evaluate_next_token(student, eval_blocks)) if eval_blocks is not None else None
    name = desc or ("next-token loss" if teacher is None else f"token KD ({direction} KL)")
    return train_steps(student, step_loss, steps, learning_rate, evaluate, eval_every, seed, name)


def compute_matched_steps(steps: int, teacher, student, cached_blocks: int, batch_size: int) -> int:
    """How many steps of the plain loss cost what `steps` distilled steps plus the teacher's one pass over
    `cached_blocks` cost: the fair baseline of notebook 03, for a language model (notebook 06).

    Counted in FLOPs, about 2 per parameter and token for a forward pass and 6 for a training step (Kaplan
    et al., 2020); the tokens per block cancel. The top-k step's own extra over a plain step (a few %,
    scripts/benchmark_topk_step.py) is left out."""
    teacher_pass = 2 * teacher.num_parameters() * cached_blocks
    plain_step = 6 * student.num_parameters() * batch_size
    return steps + round(teacher_pass / plain_step)


def lm_settings_search() -> dict:
    """The search that chose notebook 06's k and alpha on validation speeches (data/lm_settings_search.json,
    written by scripts/choose_lm_settings.py): its settings, every row, and the choice."""
    import json

    from ..assets import data_file

    return json.loads(data_file("lm_settings_search.json").read_text())
