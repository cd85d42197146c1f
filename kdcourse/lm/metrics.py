"""How well a language model predicts held-out text: the masked-LM loss on masked positions only,
and loss, perplexity and top-k accuracy for masked and causal LMs.

Taught in notebook 01; notebook 04 scores its general-distillation students with them.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..families import require_masked_lm, encoder_of, mlm_logits
from ..loop import eval_mode, model_device, to_model
from .objectives import IGNORE_INDEX, causal_lm_loss


def masked_positions_logits(model, input_ids, attention_mask, labels, hidden: torch.Tensor | None = None):
    """Vocabulary logits at the labelled (masked) positions only: [num_masked, vocab], and their labels.

    The MLM loss ignores every other position, so there is no need to run the 30k-way output layer
    there: this is the loss computed 'only on masked positions', and it is ~7x cheaper.
    `hidden` may be given (encoder outputs already computed) to skip the encoder.
    Works for BERT and DistilBERT masked LMs; the inputs are moved to the model's device.
    """
    require_masked_lm(model)
    device = model_device(model)
    labels = labels.to(device)
    selected = labels != IGNORE_INDEX
    if hidden is None:
        hidden = encoder_of(model)(**to_model({"input_ids": input_ids, "attention_mask": attention_mask},
                                              model)).last_hidden_state
    return mlm_logits(model, hidden[selected]), labels[selected]


def mlm_loss(model, input_ids, attention_mask, labels) -> torch.Tensor:
    """Cross-entropy of the original token at masked positions (the MLM objective)."""
    logits, targets = masked_positions_logits(model, input_ids, attention_mask, labels)
    return F.cross_entropy(logits, targets)


def mlm_scores(batches) -> dict[str, float]:
    """Loss, perplexity, top-1 and top-5 accuracy from (logits, targets) pairs of masked positions:
    the one scorer behind `evaluate_mlm` and the MLM head's evaluation on cached encoder states."""
    total, n, hits = 0.0, 0, {1: 0, 5: 0}
    for logits, targets in batches:
        total += float(F.cross_entropy(logits, targets, reduction="sum"))
        n += len(targets)
        top = logits.topk(5, dim=-1).indices
        for k in hits:
            hits[k] += int((top[:, :k] == targets.unsqueeze(1)).any(dim=1).sum())
    loss = total / n
    return {"loss": loss, "perplexity": math.exp(loss), "top1": hits[1] / n, "top5": hits[5] / n,
            "masked_tokens": n}


@torch.no_grad()
def evaluate_mlm(model, data: dict, batch_size: int = 64) -> dict[str, float]:
    """Held-out masked-token loss, perplexity, top-1 and top-5 accuracy on a fixed masked set
    (eval mode: dropout off)."""
    batches = ({k: v[i:i + batch_size] for k, v in data.items()} for i in range(0, len(data["input_ids"]), batch_size))
    with eval_mode(model):
        return mlm_scores(masked_positions_logits(model, b["input_ids"], b["attention_mask"], b["labels"])
                          for b in batches)


@torch.no_grad()
def evaluate_clm(model, blocks: torch.Tensor, batch_size: int = 32) -> dict[str, float]:
    """Held-out next-token loss and perplexity of a causal LM on fixed blocks (eval mode)."""
    total, n = 0.0, 0
    with eval_mode(model):
        for i in range(0, len(blocks), batch_size):
            b = to_model(blocks[i:i + batch_size], model)
            loss = causal_lm_loss(model(input_ids=b).logits.float(), b)
            count = b.shape[0] * (b.shape[1] - 1)
            total += float(loss) * count
            n += count
    loss = total / n
    return {"loss": loss, "perplexity": math.exp(loss), "tokens": n}


def mlm_results_table(results: dict[str, dict]) -> str:
    """One line per model (name -> `evaluate_mlm`-style dict): top-1, top-5 and perplexity on the same
    held-out masked tokens, as printed text. Taught in notebook 01, section 5."""
    n = {r["masked_tokens"] for r in results.values()}
    if len(n) != 1:
        raise ValueError(f"The models were scored on different numbers of masked tokens ({sorted(n)}): "
                         f"score every model on the same fixed masked set (kd.lm.fixed_masked_set).")
    width = max(len(name) for name in results) + 2
    lines = [f"{'':{width}s}{'top-1':>7s} {'top-5':>7s} {'perplexity':>11s}   ({n.pop():,} held-out masked tokens)"]
    lines += [f"{name:{width}s}{r['top1']:7.1%} {r['top5']:7.1%} {r['perplexity']:11,.1f}"
              for name, r in results.items()]
    return "\n".join(lines)
