"""General distillation: DistilBERT's triple loss on unlabelled text, a masked-LM student imitating a
masked-LM teacher before any task (notebook 04), on the course's loop core (`kd.loop.run_steps`).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ..families import encoder_of
from ..lm.metrics import masked_positions_logits
from ..lm.objectives import mask_tokens
from ..loop import Stepper, run_steps, to_model, warmup_linear
from .losses import hidden_cosine_loss, soft_target_loss
from ..seed import seeded
from .trainer import require_compatible


def general_distillation(student, teacher, blocks: torch.Tensor, tokenizer, steps: int, batch_size: int,
                         learning_rate: float, *, temperature: float, alpha_ce: float = 5.0,
                         alpha_mlm: float = 2.0, alpha_cos: float = 1.0, seed: int = 0,
                         mlm_probability: float = 0.15, progress: bool = True) -> dict:
    """Train a masked-LM `student` to imitate a masked-LM `teacher` on unlabelled text.

    DistilBERT's triple loss (Sanh et al., 2019), with its default weights 5 / 2 / 1:
      alpha_ce  * T^2 KL(teacher || student) on the masked positions' vocabulary distributions
      alpha_mlm * the ordinary MLM cross-entropy with the true tokens
      alpha_cos * (1 - cos) between the last hidden states of student and teacher (real tokens)
    A weight of 0 switches a term off (the ablation). `blocks` holds token ids [N, length]
    (kd.lm.pack_blocks); each step masks a random batch with BERT's 80/10/10 rule. The vocabulary
    heads run on the masked positions only (a 30k-way layer at every position would cost ~7x more;
    DistilBERT's code offers the same restriction). Returns the per-step losses (total and each term)
    and the seconds taken; `seed` fixes the batches, the masking and the dropout.
    """
    if min(alpha_ce, alpha_mlm, alpha_cos) < 0 or alpha_ce + alpha_mlm + alpha_cos == 0:
        raise ValueError(f"Loss weights must be >= 0 and not all 0; got alpha_ce={alpha_ce}, "
                         f"alpha_mlm={alpha_mlm}, alpha_cos={alpha_cos}.")
    require_compatible(student, teacher)
    device = next(student.parameters()).device  # the teacher runs there too, like DistillationTrainer's
    teacher.to(device).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)  # which blocks, which tokens masked
    optimizer = torch.optim.AdamW(student.parameters(), lr=learning_rate, weight_decay=0.01)
    step = Stepper(optimizer, student.parameters(), max_norm=1.0,  # 10 % warm-up, mixed precision on a GPU
                   scheduler=warmup_linear(optimizer, steps, steps // 10), on=device)

    def step_loss(i):
        rows = torch.randint(len(blocks), (batch_size,), generator=generator)
        attention = torch.ones_like(blocks[rows])
        ids, labels = mask_tokens(blocks[rows], tokenizer, mlm_probability, generator=generator)  # CPU: seeded
        ids, labels, attention = to_model((ids, labels, attention), student)
        with torch.no_grad():
            t_hidden = encoder_of(teacher)(input_ids=ids, attention_mask=attention).last_hidden_state
            t_logits, _ = masked_positions_logits(teacher, ids, attention, labels, hidden=t_hidden)
        s_hidden = encoder_of(student)(input_ids=ids, attention_mask=attention).last_hidden_state
        s_logits, targets = masked_positions_logits(student, ids, attention, labels, hidden=s_hidden)
        soft = soft_target_loss(s_logits.float(), t_logits.float(), temperature)  # losses in fp32
        mlm = F.cross_entropy(s_logits.float(), targets)
        cos = hidden_cosine_loss(s_hidden.float(), t_hidden.float(), attention)
        loss = alpha_ce * soft + alpha_mlm * mlm + alpha_cos * cos
        return loss, {"soft": soft.item(), "mlm": mlm.item(), "cos": cos.item()}

    with seeded(seed):  # the student's dropout: same seed, same run, whatever ran before
        return run_steps(student, step_loss, step, steps, "general distillation", progress=progress)
