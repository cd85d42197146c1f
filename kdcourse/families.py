"""Where each architecture keeps its layers, embeddings and masked-LM head.

Building a student (kdcourse.distill.student) or training a masked LM (kdcourse.lm, general
distillation) means finding these parts inside a Hugging Face model, and each family names them
differently. They are written down once, in FAMILIES; names are those of `model.named_parameters()`
without the base model's prefix (`bert.`, `distilbert.`, `model.`, `transformer.`):

    family      config.model_type           layers               embeddings    final norm  masked-LM head, in order
    BERT        bert, roberta, xlm-roberta  encoder.layer.N      embeddings    -           cls
    DistilBERT  distilbert                  transformer.layer.N  embeddings    -           vocab_transform,
                                                                                           activation,
                                                                                           vocab_layer_norm,
                                                                                           vocab_projector
    Llama       llama (SmolLM2, ...)        layers.N             embed_tokens  norm        - (a causal LM)
    GPT-2       gpt2                        h.N                  wte, wpe      ln_f        - (a causal LM)

Every layer count is `config.num_hidden_layers` (DistilBERT's `n_layers` and GPT-2's `n_layer` are
aliases of it). Any other model is refused with a TypeError naming these families; to support one
more, add a row to FAMILIES.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Family:
    """One architecture family: how to recognise it (config.model_type) and where its parts live."""

    name: str
    examples: str                  # model classes a learner will meet, for error messages
    model_types: tuple[str, ...]   # the config.model_type values of the family
    layers: str                    # the list of transformer layers: "<layers>.0.", "<layers>.1.", ...
    embeddings: tuple[str, ...]    # the embedding modules (word, position, ...)
    final_norm: str | None = None  # a norm after the last layer (causal LMs): part of the encoder
    masked_lm: str | None = None   # the masked-LM class whose head `mlm_logits` runs
    mlm_head: tuple[str, ...] = ()  # that class's head modules, in the order its forward applies them


FAMILIES = (
    Family("BERT", "BertModel, BertFor*, RoBERTa", ("bert", "roberta", "xlm-roberta"),
           layers="encoder.layer", embeddings=("embeddings",),
           masked_lm="BertForMaskedLM", mlm_head=("cls",)),
    Family("DistilBERT", "DistilBertModel, DistilBertFor*", ("distilbert",),
           layers="transformer.layer", embeddings=("embeddings",),
           masked_lm="DistilBertForMaskedLM",
           mlm_head=("vocab_transform", "activation", "vocab_layer_norm", "vocab_projector")),
    Family("Llama", "LlamaForCausalLM, e.g. SmolLM2", ("llama",),
           layers="layers", embeddings=("embed_tokens",), final_norm="norm"),
    Family("GPT-2", "GPT2Model, GPT2LMHeadModel", ("gpt2",),
           layers="h", embeddings=("wte", "wpe"), final_norm="ln_f"),
)

SUPPORTED = "; ".join(f"{f.name} ({f.examples})" for f in FAMILIES)


def _layer_regex(*stacks: str) -> re.Pattern:
    """'(^|.)' + a layer list + '.N.': group 2 is the list's name, group 3 the layer number N.
    Anchored at a dot so that e.g. 'h' matches 'transformer.h.0.' and nothing inside another name."""
    return re.compile(r"(^|\.)(" + "|".join(re.escape(s) for s in stacks) + r")\.(\d+)\.")


# The layer number in a parameter name of any supported family (used when no model is at hand).
ANY_LAYER = _layer_regex(*(f.layers for f in FAMILIES))


def family_of(model) -> Family:
    """The row of FAMILIES that `model` belongs to, recognised by its config.model_type.
    Every tool asks here first, so an unsupported model always fails with the same clear message."""
    config = getattr(model, "config", None)
    model_type = getattr(config, "model_type", None)
    for family in FAMILIES:
        if model_type in family.model_types:
            return family
    why = "it has no Hugging Face `.config`" if config is None else f"its config.model_type is {model_type!r}"
    raise TypeError(f"{type(model).__name__} is not a supported model: {why}. Supported families: {SUPPORTED}. "
                    f"Use a model of one of these, or add a row for its family to FAMILIES in kdcourse/families.py.")


def layer_pattern(model) -> re.Pattern:
    """A regex finding the layer number in `model`'s parameter names: group 3 of it in
    'bert.encoder.layer.4.attention...' is '4'. make_student renumbers layers with it."""
    return _layer_regex(family_of(model).layers)


def is_embedding(name: str, model) -> bool:
    """Whether parameter `name` of `model` belongs to the embeddings (word, position, ...).
    parameter_breakdown counts these apart: they do not shrink when layers are removed."""
    return any(re.search(rf"(^|\.){re.escape(e)}\.", name) for e in family_of(model).embeddings)


def is_encoder(name: str, model) -> bool:
    """Whether parameter `name` is part of the bare transformer: embeddings, layers or final norm.
    This is what transplant_encoder copies; poolers and heads (classifier, MLM, LM) are not."""
    family = family_of(model)
    inside = name.removeprefix(f"{model.base_model_prefix}.")
    in_final_norm = family.final_norm is not None and inside.startswith(f"{family.final_norm}.")
    return is_embedding(name, model) or bool(layer_pattern(model).search(name)) or in_final_norm


def encoder_of(model) -> torch.nn.Module:
    """The bare transformer inside `model` (BertModel, DistilBertModel, LlamaModel, GPT2Model).
    Its forward returns last_hidden_state without running any head; a bare model is its own encoder."""
    family_of(model)
    return model.base_model


def require_masked_lm(model) -> Family:
    """The family of `model` if it is a BertForMaskedLM or DistilBertForMaskedLM, else a TypeError.
    The masked-LM tools run the head on their own (mlm_logits), so they must know where it is."""
    import transformers

    for family in FAMILIES:
        if family.masked_lm and isinstance(model, getattr(transformers, family.masked_lm)):
            return family
    known = " or ".join(f.masked_lm for f in FAMILIES if f.masked_lm)
    raise TypeError(f"Expected a masked LM ({known}), got {type(model).__name__}. Build one with "
                    f"kd.lm.tiny_bert(tokenizer, P), kd.load_encoder(head='mlm', profile=P) or "
                    f"AutoModelForMaskedLM.from_pretrained('distilbert-base-uncased').")


def mlm_logits(model, hidden: torch.Tensor) -> torch.Tensor:
    """Vocabulary logits [..., vocab] from last hidden states [..., hidden], running the MLM head only.
    A loss can then pay for the large output layer at the masked positions alone."""
    for name in require_masked_lm(model).mlm_head:
        hidden = getattr(model, name)(hidden)
    return hidden


def mlm_head_parameters(model) -> list[torch.nn.Parameter]:
    """The MLM head's own parameters: its transform (dense + LayerNorm) and its output bias.
    The output weight is left out: it is the word-embedding table itself (tied), part of the encoder."""
    if require_masked_lm(model).name == "DistilBERT":
        return [*model.vocab_transform.parameters(), *model.vocab_layer_norm.parameters(), model.vocab_projector.bias]
    head = model.cls.predictions
    return [*head.transform.parameters(), head.bias]
