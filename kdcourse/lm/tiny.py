"""Tiny language models with random weights: a BERT (masked LM) and a GPT-2 (causal LM) of the same
size, built from the profile's `pretrain` settings, for pretraining from scratch in notebook 01.

Each builder draws its weights under its own seed (`kd.seed.seeded`): the same seed gives the same
model, and the notebook's random state is left as it was.
"""
from __future__ import annotations

from .. import device as dev
from ..profiles import Profile
from ..seed import seeded


def tiny_bert(tokenizer, profile: Profile, seed: int | None = None):
    """A randomly initialised BertForMaskedLM of profile.pretrain size (hidden, layers), weights from `seed`
    (default: the profile's)."""
    from transformers import BertConfig, BertForMaskedLM

    c = profile.pretrain
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=c.hidden_size, num_hidden_layers=c.num_layers,
                        num_attention_heads=max(1, c.hidden_size // 64), intermediate_size=4 * c.hidden_size,
                        max_position_embeddings=c.max_length, pad_token_id=tokenizer.pad_token_id)
    with seeded(profile.seed if seed is None else seed):
        model = BertForMaskedLM(config)
    return model.to(dev.device())


def tiny_gpt(tokenizer, profile: Profile, seed: int | None = None):
    """A randomly initialised GPT-2-architecture causal LM of the same size as `tiny_bert`.

    It uses the same WordPiece vocabulary, with [SEP] as its end-of-text token.
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    c = profile.pretrain
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=c.hidden_size, n_layer=c.num_layers,
                        n_head=max(1, c.hidden_size // 64), n_positions=c.max_length,
                        bos_token_id=tokenizer.sep_token_id, eos_token_id=tokenizer.sep_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    with seeded(profile.seed if seed is None else seed):
        model = GPT2LMHeadModel(config)
    return model.to(dev.device())
