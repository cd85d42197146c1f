"""Looking at what a language model predicts: the top tokens for a [MASK], a continuation of a prompt,
the perplexity of one sentence, and of the same words shuffled: the probes of notebook 01.
"""
from __future__ import annotations

import math

import torch

from ..families import require_masked_lm, encoder_of, mlm_logits
from ..loop import model_device
from ..seed import seeded
from .objectives import causal_lm_log_likelihood


@torch.no_grad()
def fill_mask(model, tokenizer, text: str, top_k: int = 5) -> list[list[tuple[str, float]]]:
    """The top-k tokens (with probabilities) a masked LM proposes for each [MASK] in `text`.
    Works for BERT and DistilBERT masked LMs, on any device (the probabilities are Python floats)."""
    require_masked_lm(model)
    if tokenizer.mask_token not in text:
        raise ValueError(f"The text must contain {tokenizer.mask_token}, e.g. 'The state of the "
                         f"{tokenizer.mask_token} is strong.'")
    model.eval()
    enc = tokenizer(text, return_tensors="pt").to(model_device(model))
    hidden = encoder_of(model)(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    logits = mlm_logits(model, hidden)[0]
    where = (enc["input_ids"][0] == tokenizer.mask_token_id).nonzero()[:, 0]
    out = []
    for pos in where:
        probs, ids = logits[pos].softmax(-1).topk(top_k)
        out.append([(tokenizer.convert_ids_to_tokens(int(i)), float(pr)) for pr, i in zip(probs, ids)])
    return out


@torch.no_grad()
def continue_text(model, tokenizer, prompt: str, max_new_tokens: int = 20, sample: bool = False,
                  temperature: float = 0.8, top_k: int = 50, seed: int = 0,
                  add_special_tokens: bool = False, skip_special_tokens: bool = True) -> str:
    """A continuation of `prompt`: greedy (always the most likely next token) or sampled with
    temperature and top-k under a fixed seed (the same text on every run)."""
    model.eval()
    enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=add_special_tokens).to(model_device(model))
    extra = dict(do_sample=True, temperature=temperature, top_k=top_k) if sample else dict(do_sample=False)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    with seeded(seed):
        out = model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                             max_new_tokens=max_new_tokens, pad_token_id=pad, **extra)
    return tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=skip_special_tokens)


@torch.no_grad()
def sentence_perplexity(model, tokenizer, text: str) -> dict[str, float]:
    """Per-token negative log-likelihood and perplexity of one text under a causal LM, computed by
    hand from the logits (the first token is not predicted, so not scored), next to the model's own loss."""
    model.eval()
    enc = tokenizer(text, return_tensors="pt").to(model_device(model))
    out = model(**enc, labels=enc["input_ids"])
    ll = float(causal_lm_log_likelihood(out.logits, enc["input_ids"])[0])
    n = enc["input_ids"].shape[1] - 1
    return {"tokens_scored": n, "log_likelihood": ll, "nll_per_token": -ll / n,
            "perplexity": math.exp(-ll / n), "library_loss": float(out.loss)}


def show_fill_mask(model, tokenizer, texts: list[str], top_k: int = 5, label: str = "") -> None:
    """Print the top-k proposals of a masked LM for the [MASK] of each text, with probabilities."""
    if label:
        print(f"--- {label} ---")
    for text in texts:
        for proposals in fill_mask(model, tokenizer, text, top_k):
            shown = ", ".join(f"{t} ({p:.0%})" if p >= 0.005 else f"{t} (<1%)" for t, p in proposals)
            print(f"{text:45s} -> {shown}")


def shuffle_words(text: str, seed: int = 0) -> str:
    """The same words in a random order (fixed by `seed`): same vocabulary, no grammar."""
    import random

    words = text.split()
    random.Random(seed).shuffle(words)
    return " ".join(words)


def word_order_test(model, tokenizer, sentences: list[str], seed: int = 0) -> dict:
    """Perplexity of each sentence and of its words shuffled (seed + i), printed pair by pair: a model that
    knew only word frequencies would score both alike. Taught in notebook 01, section 2."""
    real, shuffled = [], []
    for i, text in enumerate(sentences):
        mixed = shuffle_words(text, seed=seed + i)
        real.append(sentence_perplexity(model, tokenizer, text)["perplexity"])
        shuffled.append(sentence_perplexity(model, tokenizer, mixed)["perplexity"])
        print(f"{real[-1]:9.1f}  {text}\n{shuffled[-1]:9.1f}  {mixed}\n")
    log_ratio = sum(math.log(s) - math.log(r) for r, s in zip(real, shuffled)) / len(sentences)
    return {"real": real, "shuffled": shuffled, "wins": sum(r < s for r, s in zip(real, shuffled)),
            "ratio": math.exp(log_ratio)}  # geometric mean of shuffled / real
