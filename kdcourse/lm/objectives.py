"""The two pretraining objectives as plain tensor code: masked LM (BERT) and causal LM (GPT).

- `mask_tokens` builds an MLM training example with BERT's 80/10/10 rule (Devlin et al., 2019).
- `next_token_log_probs`, `causal_lm_log_likelihood` and `causal_lm_loss` compute the causal-LM
  objective  sum_{i>=2} log P(x_i | x_<i) = log P(x_2..x_T | x_1)  by hand from a model's logits
  (the first token has nothing before it, so it is not scored: log P(x) would add log P(x_1)).
- `attention_pattern` gives the bidirectional (BERT) and causal (GPT) attention masks as matrices.

Everything here works on tensors, so the notebook can check it against the library's own numbers.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

IGNORE_INDEX = -100  # PyTorch's cross_entropy skips targets equal to this value


# ------------------------------------------------------------------------------------------------
# Masked language modelling
# ------------------------------------------------------------------------------------------------
def _special_ids(tokenizer) -> list[int]:
    """Ids that must never be masked: [CLS], [SEP], [PAD], [MASK], [UNK] and the like."""
    return sorted(set(int(i) for i in tokenizer.all_special_ids))


def special_tokens_mask(input_ids: torch.Tensor, tokenizer) -> torch.Tensor:
    """True where `input_ids` holds a special token (including padding): positions MLM leaves alone."""
    return torch.isin(input_ids, torch.tensor(_special_ids(tokenizer), device=input_ids.device))


def mask_tokens(input_ids: torch.Tensor, tokenizer, mlm_probability: float = 0.15,
                generator: torch.Generator | None = None, seed: int | None = None,
                attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Corrupt a batch for masked-LM training with BERT's 80/10/10 rule.

    Each ordinary token is *selected* with probability `mlm_probability` (special tokens and
    padding never are). A selected token is replaced by [MASK] 80 % of the time, by a random
    ordinary token 10 % of the time, and left unchanged 10 % of the time. Why not always [MASK]?
    [MASK] never occurs when the model is used later, so the model must also learn to predict
    a token it can see (kept) and to distrust what it sees (random).

    Returns (corrupted_ids, labels): labels hold the original id at selected positions and -100
    everywhere else, so the loss is computed on the selected positions only.
    Reproducible: pass a `torch.Generator` or a `seed` (otherwise the global RNG is used).
    """
    if not isinstance(input_ids, torch.Tensor) or input_ids.dtype not in (torch.int64, torch.int32):
        raise TypeError("input_ids must be an integer torch.Tensor of token ids, e.g. "
                        "tokenizer(texts, return_tensors='pt')['input_ids'].")
    if not 0.0 <= mlm_probability <= 1.0:
        raise ValueError(f"mlm_probability must be between 0 and 1 (BERT uses 0.15), got {mlm_probability}.")
    if tokenizer.mask_token_id is None:
        raise ValueError("This tokenizer has no [MASK] token, so it cannot be used for masked LM; "
                         "use a BERT-style (WordPiece) tokenizer such as kd.load_tokenizer(P).")
    if generator is not None and seed is not None:
        raise ValueError("Pass either a generator or a seed, not both.")
    if seed is not None:
        generator = torch.Generator().manual_seed(seed)

    ids = input_ids.long()
    protected = special_tokens_mask(ids, tokenizer)
    if attention_mask is not None:
        protected |= attention_mask == 0
    # Draw every random number on the CPU with the generator, so results do not depend on the device.
    shape = ids.shape
    selected = (torch.rand(shape, generator=generator) < mlm_probability).to(ids.device) & ~protected
    # Among the selected: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> random token, u >= 0.9 -> unchanged.
    u = torch.rand(shape, generator=generator).to(ids.device)
    to_mask = selected & (u < 0.8)
    to_random = selected & (u >= 0.8) & (u < 0.9)

    special = set(_special_ids(tokenizer))
    ordinary = torch.tensor([i for i in range(len(tokenizer)) if i not in special], device=ids.device)
    random_ids = ordinary[torch.randint(len(ordinary), shape, generator=generator).to(ids.device)]

    corrupted = ids.clone()
    corrupted[to_mask] = tokenizer.mask_token_id
    corrupted[to_random] = random_ids[to_random]
    labels = torch.where(selected, ids, torch.full_like(ids, IGNORE_INDEX))
    return corrupted, labels


def masking_counts(input_ids: torch.Tensor, corrupted_ids: torch.Tensor, labels: torch.Tensor,
                   tokenizer) -> dict[str, int]:
    """Count what `mask_tokens` did, to verify the 80/10/10 rule.

    eligible: ordinary tokens (could be selected); selected: positions with a label;
    masked / random / kept: selected positions that became [MASK], another token, or stayed.
    A random replacement may by chance draw the original token; it is then counted as kept,
    exactly as the model sees it. special_touched must be 0.
    """
    protected = special_tokens_mask(input_ids, tokenizer)
    selected = labels != IGNORE_INDEX
    masked = selected & (corrupted_ids == tokenizer.mask_token_id)
    kept = selected & (corrupted_ids == input_ids)
    return {
        "eligible": int((~protected).sum()),
        "selected": int(selected.sum()),
        "masked": int(masked.sum()),
        "random": int((selected & ~masked & ~kept).sum()),
        "kept": int(kept.sum()),
        "special_touched": int((protected & (selected | (corrupted_ids != input_ids))).sum()),
    }


def masking_kinds(input_ids: torch.Tensor, corrupted_ids: torch.Tensor, labels: torch.Tensor,
                  tokenizer) -> torch.Tensor:
    """Per position, what masking did: 0 special/padding, 1 not selected, 2 [MASK], 3 random, 4 kept.

    The codes index kd.plots.lm.MASKING_COLORS, for drawing with kd.plots.plot_masking.
    """
    kinds = torch.ones_like(input_ids)
    selected = labels != IGNORE_INDEX
    kinds[special_tokens_mask(input_ids, tokenizer)] = 0
    kinds[selected & (corrupted_ids == tokenizer.mask_token_id)] = 2
    kinds[selected & (corrupted_ids != tokenizer.mask_token_id) & (corrupted_ids != input_ids)] = 3
    kinds[selected & (corrupted_ids == input_ids)] = 4
    return kinds


# ------------------------------------------------------------------------------------------------
# Causal language modelling
# ------------------------------------------------------------------------------------------------
def next_token_log_probs(logits: torch.Tensor, input_ids: torch.Tensor,
                         attention_mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """log P(x_i | x_<i) for every position i >= 1, by hand.

    The logits at position i-1 predict token i, so: drop the last position of the logits, drop
    the first token of the targets (shift by one), take log_softmax over the vocabulary, and
    pick (gather) the log-probability of the token that actually came next.
    Returns (log_probs [B, T-1], valid [B, T-1]); padded targets are marked invalid and set to 0.
    """
    if logits.dim() != 3 or input_ids.shape != logits.shape[:2]:
        raise ValueError(f"Expected logits [batch, time, vocab] and input_ids [batch, time]; got "
                         f"{tuple(logits.shape)} and {tuple(input_ids.shape)}.")
    if input_ids.shape[1] < 2:
        raise ValueError("A sequence needs at least 2 tokens: the first token is never predicted.")
    log_probs = F.log_softmax(logits[:, :-1].float(), dim=-1)          # predictions for 1..T-1
    targets = input_ids[:, 1:]                                         # the tokens that came next
    picked = log_probs.gather(-1, targets.unsqueeze(-1)).squeeze(-1)   # [B, T-1]
    valid = torch.ones_like(targets, dtype=torch.bool)
    if attention_mask is not None:
        valid = attention_mask[:, 1:].bool()
    return picked.masked_fill(~valid, 0.0), valid


def causal_lm_log_likelihood(logits: torch.Tensor, input_ids: torch.Tensor,
                             attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """sum_{i>=2} log P(x_i | x_<i) = log P(x_2..x_T | x_1) for each sequence: a tensor [B] in nats.
    The first token is not scored (nothing predicts it), so this is log P(x) minus log P(x_1)."""
    picked, _ = next_token_log_probs(logits, input_ids, attention_mask)
    return picked.sum(dim=1)


def causal_lm_loss(logits: torch.Tensor, input_ids: torch.Tensor,
                   attention_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean negative log-likelihood per predicted token over the whole batch.

    This is what a Hugging Face causal LM returns as `loss` when given labels=input_ids (with
    padding labelled -100): the same number, computed by hand.
    """
    picked, valid = next_token_log_probs(logits, input_ids, attention_mask)
    return -picked.sum() / valid.sum()


def perplexity(mean_nll: float | torch.Tensor) -> float:
    """exp(mean negative log-likelihood per token): the effective number of equally likely choices."""
    return math.exp(float(mean_nll))


# ------------------------------------------------------------------------------------------------
# Attention patterns
# ------------------------------------------------------------------------------------------------
def attention_pattern(kind: str, attention_mask: torch.Tensor) -> torch.Tensor:
    """Which positions may attend to which, for one sequence: a bool matrix [query, key].

    kind='bidirectional' (BERT): every real token sees every real token, left and right.
    kind='causal' (GPT): token i sees tokens 0..i only, so it cannot peek at what it must predict.
    Padding (attention_mask == 0) is never attended to in either case.
    """
    if attention_mask.dim() != 1:
        raise ValueError("Pass the attention_mask of ONE sequence (a 1-D tensor), "
                         "e.g. enc['attention_mask'][0].")
    keys = attention_mask.bool()
    n = keys.numel()
    allowed = keys.unsqueeze(0).expand(n, n).clone()
    if kind == "causal":
        allowed &= torch.ones(n, n, dtype=torch.bool).tril()
    elif kind != "bidirectional":
        raise ValueError(f"kind must be 'bidirectional' or 'causal', got {kind!r}.")
    return allowed
