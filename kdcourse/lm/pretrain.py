"""Pretraining from scratch: the masked-LM and causal-LM objectives trained on packed blocks with the
course's loop core (`kd.loop.run_steps`: AdamW, 5 % warm-up + linear decay, clipping, mixed precision
on a GPU, a held-out evaluation every `eval_every` steps).

Taught in notebook 01 (the tiny BERT against the tiny GPT on the same tokens).
"""
from __future__ import annotations

import torch

from ..families import require_masked_lm
from ..loop import Stepper, model_device, run_steps, to_model, warmup_linear
from ..seed import seeded
from .blocks import random_batches
from .metrics import evaluate_clm, evaluate_mlm, mlm_loss
from .objectives import causal_lm_loss, mask_tokens


def train_steps(model, step_loss, steps: int, learning_rate: float, evaluate, eval_every: int, seed: int,
                desc: str) -> dict:
    """AdamW on the trainable parameters, 5 % warm-up + linear decay, clipping at 1.0, through the
    loop core; dropout is drawn from `seed` (kd.seed.seeded), so a run does not depend on what ran before."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    step = Stepper(optimizer, params, max_norm=1.0, scheduler=warmup_linear(optimizer, steps, int(steps * 0.05)),
                   on=model_device(model))
    with seeded(seed):
        return run_steps(model, step_loss, step, steps, desc, evaluate, eval_every)


def train_mlm(model, blocks: torch.Tensor, tokenizer, steps: int, batch_size: int, learning_rate: float,
              eval_data: dict | None = None, eval_every: int = 50, seed: int = 0,
              mlm_probability: float = 0.15) -> dict:
    """Pretrain a BertForMaskedLM with the MLM objective: each step draws `batch_size` blocks and a
    fresh random masking of them (dynamic masking, as RoBERTa does). Returns the loss history.
    Only parameters with requires_grad are trained (freeze some to train the rest). `seed` fixes the
    batches, the masking and the dropout."""
    require_masked_lm(model)
    g = torch.Generator().manual_seed(seed)
    batches = random_batches(len(blocks), batch_size, steps, g)
    on = model_device(model)
    ones = torch.ones(batch_size, blocks.shape[1], dtype=torch.long, device=on)

    def step_loss(step):
        ids = blocks[next(batches)]
        corrupted, labels = mask_tokens(ids, tokenizer, mlm_probability, generator=g)  # on the CPU: seeded
        return mlm_loss(model, to_model(corrupted, model), ones[: len(ids)], to_model(labels, model))

    evaluate = (lambda: evaluate_mlm(model, eval_data)) if eval_data is not None else None
    return train_steps(model, step_loss, steps, learning_rate, evaluate, eval_every, seed, "MLM pretraining")


def train_clm(model, blocks: torch.Tensor, steps: int, batch_size: int, learning_rate: float,
              eval_blocks: torch.Tensor | None = None, eval_every: int = 50, seed: int = 0) -> dict:
    """Pretrain a causal LM with next-token prediction on packed blocks. Returns the loss history.
    `seed` fixes the batches and the dropout."""
    g = torch.Generator().manual_seed(seed)
    batches = random_batches(len(blocks), batch_size, steps, g)

    def step_loss(step):
        ids = to_model(blocks[next(batches)], model)
        return causal_lm_loss(model(input_ids=ids).logits.float(), ids)

    evaluate = (lambda: evaluate_clm(model, eval_blocks)) if eval_blocks is not None else None
    return train_steps(model, step_loss, steps, learning_rate, evaluate, eval_every, seed, "CLM pretraining")
