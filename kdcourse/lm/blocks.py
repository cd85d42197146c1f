"""Text as training data for a language model: the corpus packed into fixed-length blocks of token
ids, one fixed masking for fair evaluation, and the random batches a pretraining run draws.

Taught in notebook 01; notebook 04 packs the same blocks for general distillation.
"""
from __future__ import annotations

import torch

from ..models import quiet_loading
from .objectives import mask_tokens


def pack_blocks(texts: list[str], tokenizer, block_size: int, kind: str = "mlm") -> torch.Tensor:
    """Tokenise passages and cut the token stream into blocks of exactly `block_size` ids.

    Passages are joined with [SEP] as an end-of-passage marker (the end-of-text token of a tokenizer
    without [SEP], such as SmolLM2's), so no token is wasted on padding (the way RoBERTa and GPT pack
    their pretraining text). kind='mlm' wraps each block as
    [CLS] ... [SEP] like BERT's inputs; kind='clm' keeps plain tokens. The last partial block is dropped.
    Returns a LongTensor [num_blocks, block_size].
    """
    if kind not in ("mlm", "clm"):
        raise ValueError(f"kind must be 'mlm' or 'clm', got {kind!r}.")
    inner = block_size - 2 if kind == "mlm" else block_size
    if inner < 2:
        raise ValueError(f"block_size={block_size} is too small; use at least 8.")
    if not texts:
        raise ValueError("No texts to pack: pass a non-empty list of strings, e.g. kd.load_corpus('train', P).")
    with quiet_loading():  # the whole corpus is longer than 512 tokens; that is fine here
        pieces = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    separator = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    if separator is None:
        raise ValueError("The tokenizer has neither [SEP] nor an end-of-text token to mark where a passage ends.")
    stream = []
    for ids in pieces:
        stream.extend(ids)
        stream.append(separator)
    n = len(stream) // inner
    if n == 0:
        raise ValueError(f"The texts hold {len(stream)} tokens: too few for one block of {inner}.")
    blocks = torch.tensor(stream[: n * inner], dtype=torch.long).view(n, inner)
    if kind == "mlm":
        cls = torch.full((n, 1), tokenizer.cls_token_id)
        sep = torch.full((n, 1), tokenizer.sep_token_id)
        blocks = torch.cat([cls, blocks, sep], dim=1)
    return blocks


def spread_blocks(texts: dict[str, list[str]], tokenizer, block_size: int, total: int,
                  kind: str = "clm") -> tuple[torch.Tensor, list[str]]:
    """About `total` blocks spread evenly over every text of `texts` (name: passages), each text packed on
    its own: the same number of evenly spaced blocks from each (all of a text's blocks if it has fewer).
    Returns the blocks [n, block_size] and, for each block, the name of its text: a held-out set that
    represents every held-out text, and the groups a verdict resamples (kd.measure.verdict)."""
    per_text = max(1, total // len(texts))
    chosen, names = [], []
    for name, passages in texts.items():
        blocks = pack_blocks(passages, tokenizer, block_size, kind=kind)
        rows = torch.linspace(0, len(blocks) - 1, min(per_text, len(blocks))).round().long()
        chosen.append(blocks[rows])
        names += [name] * len(rows)
    return torch.cat(chosen), names


def fixed_masked_set(blocks: torch.Tensor, tokenizer, seed: int, mlm_probability: float = 0.15) -> dict:
    """One fixed masking of `blocks` (the same for every model): for fair held-out evaluation."""
    corrupted, labels = mask_tokens(blocks, tokenizer, mlm_probability, seed=seed)
    return {"input_ids": corrupted, "attention_mask": torch.ones_like(blocks), "labels": labels}


def random_batches(n: int, batch_size: int, steps: int, generator: torch.Generator):
    """`steps` batches of indices: shuffled epochs over range(n), repeated as often as needed."""
    order = torch.empty(0, dtype=torch.long)
    for _ in range(steps):
        if len(order) < batch_size:
            order = torch.cat([order, torch.randperm(n, generator=generator)])
        yield order[:batch_size]
        order = order[batch_size:]
