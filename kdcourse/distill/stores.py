"""Several stores of one teacher filled from a single pass: the top-k + tail store of notebook 06 and the
sampled store (`sampled`) at several sizes, for comparing them (notebook 07). The teacher's forward pass is the
expensive part of a store; the compressions are cheap, so one pass serves them all. `store_report` says what a
store keeps of the teacher before any student trains on it.
"""
from __future__ import annotations

import torch
from tqdm.auto import tqdm

from ..loop import eval_mode, release_memory, teacher_precision, to_model
from .lm_losses import shift_for_next_token
from .sampled import TeacherSamples, sample_teacher
from .topk import TeacherTopK, compress_topk


@torch.no_grad()
def cache_teacher_stores(teacher, blocks: torch.Tensor, *, temperature: float, topk=(), draws=(), seed: int = 0,
                         batch_size: int = 8, desc: str = "storing the teacher") -> dict:
    """Run the teacher once over `blocks` and fill every store asked for: {("top-k", k): TeacherTopK for k in
    `topk`} and {("sampled", d): TeacherSamples for d in `draws`}, row i of each belonging to block i.

    Each store is what its own cache function gives (`cache_teacher_topk`, `cache_teacher_samples` with the same
    `seed`): every sampled store draws from its own generator seeded with `seed`, so adding a store to the list
    changes none of the others."""
    if blocks.dim() != 2 or blocks.shape[1] < 2:
        raise ValueError(f"blocks must be [num_blocks, block_size >= 2] token ids, got {tuple(blocks.shape)}.")
    if not topk and not draws:
        raise ValueError("Ask for at least one store: topk=(k, ...) and/or draws=(d, ...).")
    generators = {d: torch.Generator().manual_seed(seed) for d in draws}
    parts = {("top-k", k): [] for k in topk} | {("sampled", d): [] for d in draws}
    with eval_mode(teacher), teacher_precision(teacher):
        for i in tqdm(range(0, len(blocks), batch_size), desc=desc):
            predicting, _, _ = shift_for_next_token(teacher(input_ids=to_model(blocks[i:i + batch_size], teacher)).logits)
            for k in topk:
                part = compress_topk(predicting, k, temperature)
                parts["top-k", k].append(TeacherTopK(part.log_probs.cpu(), part.indices.cpu(), part.tail.cpu(),
                                                     part.temperature, part.vocab_size))
            for d in draws:
                part = sample_teacher(predicting, d, temperature, generators[d])
                parts["sampled", d].append(TeacherSamples(part.indices.cpu(), part.counts.cpu(), part.temperature,
                                                          part.vocab_size))
    release_memory()
    return {key: (TeacherTopK if key[0] == "top-k" else TeacherSamples).concatenate(p) for key, p in parts.items()}


SCHEMES = ("top-k + tail", "top-k renormalised", "sampled")


@torch.no_grad()
def store_report(teacher_logits: torch.Tensor, k: int, scheme: str, temperature: float,
                 generator: torch.Generator | None = None) -> dict:
    """What a store of size k keeps of the teacher's next-token distributions, before any training: the means over
    the positions of `teacher_logits` [..., vocab] (predicting positions only) of

    - bytes: the store's bytes per position (ids, values or counts, and the tail where there is one);
    - tokens: the distinct tokens it holds per position (k for top-k; fewer for k draws where the teacher is sure);
    - kept: the teacher's probability on the stored tokens;
    - kl: KL(stored target || teacher) in nats, how far the target the student learns is from the teacher (for
      "top-k + tail" it is 0: its k + 1 buckets hold the teacher's own masses, and it says nothing inside the tail);
    - top1_excess: the target's probability of the teacher's most likely token minus the teacher's, in
      probability points: above 0, a target more confident than the teacher (the bias of renormalising);
    - entropy_gap: the target's entropy minus the teacher's, in nats (below 0: more certain).

    `scheme`: "top-k + tail" (notebook 06's store), "top-k renormalised" (the top k rescaled to sum to one, the
    tail dropped) or "sampled" (k tokens drawn from the teacher, with their counts; `generator` seeds the draws)."""
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown scheme {scheme!r}; choose one of {', '.join(SCHEMES)}.")
    logits = teacher_logits.reshape(-1, teacher_logits.shape[-1]).float()
    log_p = torch.log_softmax(logits / temperature, dim=-1)
    p = log_p.exp()
    teacher_entropy = -(p * log_p).sum(-1)
    top1 = p.argmax(-1, keepdim=True)
    if scheme == "sampled":
        store = sample_teacher(logits, k, temperature, generator)
        ids, q = store.indices.long(), store.target()
        nbytes = store.nbytes()
    else:
        store = compress_topk(logits, k, temperature)
        ids, q = store.indices.long(), store.log_probs.float().exp()
        nbytes = store.nbytes()
        if scheme == "top-k renormalised":
            q = q / q.sum(-1, keepdim=True)
            nbytes -= store.tail.numel() * store.tail.element_size()  # no tail is stored
    held = q > 0
    p_ids = p.gather(-1, ids)
    kept = torch.where(held, p_ids, torch.zeros_like(p_ids)).sum(-1)
    log_ratio = torch.where(held, q.clamp_min(1e-30).log() - log_p.gather(-1, ids), torch.zeros_like(q))
    kl = (q * log_ratio).sum(-1)
    entropy = -torch.where(held, q * q.clamp_min(1e-30).log(), torch.zeros_like(q)).sum(-1)
    target_top1 = torch.where(ids == top1, q, torch.zeros_like(q)).sum(-1)
    if scheme == "top-k + tail":
        tail = store.tail.float()
        kl = torch.zeros_like(kl)  # the buckets are the teacher's own masses
        entropy = entropy - torch.where(tail > 0, tail * tail.clamp_min(1e-30).log(), torch.zeros_like(tail))
    positions = logits.shape[0]
    return {"bytes": nbytes / positions, "tokens": float(held.sum(-1).double().mean()), "kept": float(kept.mean()),
            "kl": float(kl.mean()), "top1_excess": float((target_top1 - p.gather(-1, top1).squeeze(-1)).mean()),
            "entropy_gap": float((entropy - teacher_entropy).mean())}


def choose_store(validation_loss: dict, sizes: dict, plain: float, full: float, keep: float = 0.9):
    """The store to recommend, chosen on validation blocks only (never on the held-out ones it is then judged on):
    the smallest whose students keep at least `keep` of the full logits' gain on validation, the share
    (plain - loss) / (plain - full) of mean validation losses. `validation_loss` and `sizes` map each store's name,
    e.g. "sampled, k=256", to its students' mean validation loss and its size (in any one unit: bytes, MB).

    Returns: the chosen name (None where no store keeps that much, or where the full logits gain nothing on
    validation); and each store's share."""
    if set(validation_loss) != set(sizes):
        raise ValueError(f"validation_loss and sizes name different stores: {sorted(validation_loss)} against "
                         f"{sorted(sizes)}.")
    if not 0 < keep <= 1:
        raise ValueError(f"keep is a share of the gain, above 0 and at most 1, got {keep!r}.")
    gain = plain - full
    shares = {key: (plain - loss) / gain if gain > 0 else float("nan") for key, loss in validation_loss.items()}
    kept = [key for key, share in shares.items() if gain > 0 and share >= keep]
    return min(kept, key=lambda key: sizes[key], default=None), shares
