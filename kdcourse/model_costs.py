"""FLOPs, parameters and training memory of the course's models, counted on PyTorch's `meta` device (shapes only,
no memory, no time): the arithmetic behind kd.budget's time and memory estimates (notebook 00's course map)."""
from __future__ import annotations

import functools
from types import SimpleNamespace

from .profiles import SMOLLM2_TEACHER


def encoder_config(hub_id: str, layers: int | None = None, hidden: int | None = None):
    """The BERT configuration of a profile's encoder: all-MiniLM-L6-v2 ('offline') or bert-base, at `layers`
    layers and `hidden` width when given (a tiny BERT of notebook 01)."""
    from transformers import BertConfig

    if hub_id == "offline":  # all-MiniLM-L6-v2
        c = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
    else:  # bert-base-uncased (the rehearsal's tiny copy is costed as the real thing)
        c = BertConfig()
    if hidden is not None:
        c = BertConfig(hidden_size=hidden, num_attention_heads=max(1, hidden // 64), intermediate_size=4 * hidden)
    if layers is not None:
        c.num_hidden_layers = layers
    return c


def meta_model(kind: str, hub_id: str, length: int = 8, layers: int | None = None, hidden: int | None = None):
    """The model of `kind` ('encoder', 'tiny_gpt', 'causal_lm') on PyTorch's meta device: shapes, no memory."""
    import torch
    from transformers import BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    with torch.device("meta"):
        if kind == "encoder":
            return BertModel(encoder_config(hub_id, layers, hidden))
        if kind == "tiny_gpt":
            return GPT2LMHeadModel(GPT2Config(n_embd=hidden, n_layer=layers, n_head=max(1, hidden // 64),
                                              vocab_size=30522, n_positions=max(length, 8), bos_token_id=0,
                                              eos_token_id=0))
        if hub_id == "offline":  # SmolLM2-135M
            return LlamaForCausalLM(LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=layers or 30,
                                                num_attention_heads=9, num_key_value_heads=3, vocab_size=49152,
                                                tie_word_embeddings=True))
        if hub_id == SMOLLM2_TEACHER:  # SmolLM2-360M
            return LlamaForCausalLM(LlamaConfig(hidden_size=960, intermediate_size=2560, num_hidden_layers=layers or 32,
                                                num_attention_heads=15, num_key_value_heads=5, vocab_size=49152,
                                                tie_word_embeddings=True))
        return GPT2LMHeadModel(GPT2Config())


@functools.lru_cache(maxsize=None)
def forward_flops(kind: str, hub_id: str, batch: int, length: int, layers: int | None = None,
                   hidden: int | None = None) -> float:
    """FLOPs of one forward pass on [batch, length] tokens, counted on the meta device."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    model = meta_model(kind, hub_id, length, layers, hidden)
    ids = torch.zeros(batch, length, dtype=torch.long, device="meta")
    with FlopCounterMode(display=False) as counter:
        model(input_ids=ids)
    return float(counter.get_total_flops())


@functools.lru_cache(maxsize=None)
def shape(kind: str, hub_id: str, layers: int | None = None, hidden: int | None = None) -> SimpleNamespace:
    """Parameters (tied embeddings counted once), layers, width, heads and vocabulary of a model."""
    model = meta_model(kind, hub_id, 8, layers, hidden)
    c = model.config
    return SimpleNamespace(params=float(sum(p.numel() for p in model.parameters())), layers=c.num_hidden_layers,
                           hidden=c.hidden_size, heads=c.num_attention_heads, vocab=c.vocab_size)


def per_token(kind: str, hub_id: str, length: int, **dims) -> float:
    """FLOPs of one forward pass per token of a [1, length] sequence."""
    return forward_flops(kind, hub_id, 1, length, **dims) / length


def training_memory(model: SimpleNamespace, batch: int, length: int, trained: float | None = None,
                     frozen: float = 0.0, vocab_positions: float = 0.0) -> float:
    """Bytes on the GPU while `model` trains on [batch, length] tokens under autocast: fp32 weights, gradients
    and AdamW's two moments of the `trained` parameters (16 bytes each; all of them by default), the rest and
    `frozen` other models (a teacher) as fp32 weights (4), an fp16 copy of every weight (2); activations as
    Korthikanti et al. (2022, table 2) count them for a transformer layer in 16-bit without recomputation,
    s*b*h*(34 + 5*a*s/h) bytes; and the vocabulary logits of `vocab_positions` positions per sequence (fp16
    logits, fp32 log-softmax and its gradient: 10 bytes a logit)."""
    trained = model.params if trained is None else trained
    weights = 16 * trained + 4 * (model.params - trained + frozen) + 2 * (model.params + frozen)
    activations = batch * length * model.layers * (34 * model.hidden + 5 * model.heads * length)
    return weights + activations + 10 * batch * vocab_positions * model.vocab


def vocab_head(hidden: int, vocab: int = 30522) -> float:
    """FLOPs per token of an MLM head: its transform (hidden x hidden) and its decoder (hidden x vocab)."""
    return 2 * hidden * (vocab + hidden)
