"""Pretraining at small scale: a tiny BERT (masked LM) and a tiny GPT (causal LM) trained from
scratch on the course corpus, and an MLM head trained on top of the frozen pretrained encoder.

The MLM teacher (pretrained MiniLM encoder + a trained MLM head) is a reusable artifact: notebook 04
uses it as a teacher that predicts masked tokens. It is kept in

    kd.cache_dir() / f"mlm_teacher_{profile.name}"     (default: <repo>/.kdcourse_cache/mlm_teacher_cpu)

as a `save_pretrained` folder (weights, config, tokenizer, and `history.json` with the training
curve and the settings used). `load_mlm_teacher(profile)` loads it, and rebuilds it when absent.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import device as dev
from .assets import cache_dir
from .families import check_masked_lm, encoder_of, mlm_head_parameters, mlm_logits
from .loop import Stepper, model_device, warmup_linear
from .objectives import IGNORE_INDEX, causal_lm_loss, mask_tokens
from .profiles import Profile, active_profile


# ------------------------------------------------------------------------------------------------
# Data: the corpus as fixed-length blocks of token ids
# ------------------------------------------------------------------------------------------------
def pack_blocks(texts: list[str], tokenizer, block_size: int, kind: str = "mlm") -> torch.Tensor:
    """Tokenise passages and cut the token stream into blocks of exactly `block_size` ids.

    Passages are joined with [SEP] as an end-of-passage marker, so no token is wasted on padding
    (the way RoBERTa and GPT pack their pretraining text). kind='mlm' wraps each block as
    [CLS] ... [SEP] like BERT's inputs; kind='clm' keeps plain tokens. The last partial block is dropped.
    Returns a LongTensor [num_blocks, block_size].
    """
    if kind not in ("mlm", "clm"):
        raise ValueError(f"kind must be 'mlm' or 'clm', got {kind!r}.")
    inner = block_size - 2 if kind == "mlm" else block_size
    if inner < 2:
        raise ValueError(f"block_size={block_size} is too small; use at least 8.")
    if not texts:
        raise ValueError("No texts to pack: pass a non-empty list of strings, e.g. kd.load_corpus('train').")
    with _quiet_transformers():  # the whole corpus is longer than 512 tokens; that is fine here
        pieces = tokenizer(list(texts), add_special_tokens=False)["input_ids"]
    stream = []
    for ids in pieces:
        stream.extend(ids)
        stream.append(tokenizer.sep_token_id)
    n = len(stream) // inner
    if n == 0:
        raise ValueError(f"The texts hold {len(stream)} tokens: too few for one block of {inner}.")
    blocks = torch.tensor(stream[: n * inner], dtype=torch.long).view(n, inner)
    if kind == "mlm":
        cls = torch.full((n, 1), tokenizer.cls_token_id)
        sep = torch.full((n, 1), tokenizer.sep_token_id)
        blocks = torch.cat([cls, blocks, sep], dim=1)
    return blocks


def fixed_masked_set(blocks: torch.Tensor, tokenizer, seed: int, mlm_probability: float = 0.15) -> dict:
    """One fixed masking of `blocks` (the same for every model): for fair held-out evaluation."""
    corrupted, labels = mask_tokens(blocks, tokenizer, mlm_probability, seed=seed)
    return {"input_ids": corrupted, "attention_mask": torch.ones_like(blocks), "labels": labels}


# ------------------------------------------------------------------------------------------------
# Tiny models, randomly initialised
# ------------------------------------------------------------------------------------------------
def tiny_bert(tokenizer, profile: Profile | None = None, seed: int | None = None):
    """A randomly initialised BertForMaskedLM of profile.pretrain size (hidden, layers)."""
    from transformers import BertConfig, BertForMaskedLM

    p = profile or active_profile()
    c = p.pretrain
    torch.manual_seed(p.seed if seed is None else seed)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=c.hidden_size, num_hidden_layers=c.num_layers,
                        num_attention_heads=max(1, c.hidden_size // 64), intermediate_size=4 * c.hidden_size,
                        max_position_embeddings=c.max_length, pad_token_id=tokenizer.pad_token_id)
    return BertForMaskedLM(config).to(dev.device())


def tiny_gpt(tokenizer, profile: Profile | None = None, seed: int | None = None):
    """A randomly initialised GPT-2-architecture causal LM of the same size as `tiny_bert`.

    It uses the same WordPiece vocabulary, with [SEP] as its end-of-text token.
    """
    from transformers import GPT2Config, GPT2LMHeadModel

    p = profile or active_profile()
    c = p.pretrain
    torch.manual_seed(p.seed if seed is None else seed)
    config = GPT2Config(vocab_size=len(tokenizer), n_embd=c.hidden_size, n_layer=c.num_layers,
                        n_head=max(1, c.hidden_size // 64), n_positions=c.max_length,
                        bos_token_id=tokenizer.sep_token_id, eos_token_id=tokenizer.sep_token_id,
                        pad_token_id=tokenizer.pad_token_id)
    return GPT2LMHeadModel(config).to(dev.device())


# ------------------------------------------------------------------------------------------------
# Losses and metrics
# ------------------------------------------------------------------------------------------------
def _check_bert_mlm(model) -> None:
    """A BertForMaskedLM or DistilBertForMaskedLM passes; anything else is a TypeError with a fix.
    The check itself lives in kdcourse.families (check_masked_lm), next to where each head lives."""
    check_masked_lm(model)


def masked_positions_logits(model, input_ids, attention_mask, labels, hidden: torch.Tensor | None = None):
    """Vocabulary logits at the labelled (masked) positions only: [num_masked, vocab], and their labels.

    The MLM loss ignores every other position, so there is no need to run the 30k-way output layer
    there: this is the loss computed 'only on masked positions', and it is ~7x cheaper.
    `hidden` may be given (encoder outputs already computed) to skip the encoder.
    Works for BERT and DistilBERT masked LMs; the inputs are moved to the model's device.
    """
    check_masked_lm(model)
    device = model_device(model)
    labels = labels.to(device)
    selected = labels != IGNORE_INDEX
    if hidden is None:
        hidden = encoder_of(model)(input_ids=input_ids.to(device),
                                   attention_mask=attention_mask.to(device)).last_hidden_state
    return mlm_logits(model, hidden[selected]), labels[selected]


def mlm_loss(model, input_ids, attention_mask, labels) -> torch.Tensor:
    """Cross-entropy of the original token at masked positions (the MLM objective)."""
    logits, targets = masked_positions_logits(model, input_ids, attention_mask, labels)
    return F.cross_entropy(logits, targets)


def _topk_hits(logits: torch.Tensor, targets: torch.Tensor, ks=(1, 5)) -> dict[int, int]:
    top = logits.topk(max(ks), dim=-1).indices
    return {k: int((top[:, :k] == targets.unsqueeze(1)).any(dim=1).sum()) for k in ks}


@torch.no_grad()
def evaluate_mlm(model, data: dict, batch_size: int = 64) -> dict[str, float]:
    """Held-out masked-token loss, perplexity, top-1 and top-5 accuracy on a fixed masked set."""
    model.eval()
    total, n, hits = 0.0, 0, {1: 0, 5: 0}
    for i in range(0, len(data["input_ids"]), batch_size):
        b = {k: v[i:i + batch_size].to(model_device(model)) for k, v in data.items()}
        logits, targets = masked_positions_logits(model, b["input_ids"], b["attention_mask"], b["labels"])
        total += float(F.cross_entropy(logits, targets, reduction="sum"))
        n += len(targets)
        for k, h in _topk_hits(logits, targets).items():
            hits[k] += h
    loss = total / n
    return {"loss": loss, "perplexity": math.exp(loss), "top1": hits[1] / n, "top5": hits[5] / n,
            "masked_tokens": n}


@torch.no_grad()
def evaluate_clm(model, blocks: torch.Tensor, batch_size: int = 32) -> dict[str, float]:
    """Held-out next-token loss and perplexity of a causal LM on fixed blocks."""
    model.eval()
    total, n = 0.0, 0
    for i in range(0, len(blocks), batch_size):
        b = blocks[i:i + batch_size].to(model_device(model))
        loss = causal_lm_loss(model(input_ids=b).logits.float(), b)
        count = b.shape[0] * (b.shape[1] - 1)
        total += float(loss) * count
        n += count
    loss = total / n
    return {"loss": loss, "perplexity": math.exp(loss), "tokens": n}


# ------------------------------------------------------------------------------------------------
# Training loops
# ------------------------------------------------------------------------------------------------
def _batches(n: int, batch_size: int, steps: int, generator: torch.Generator):
    """`steps` batches of indices: shuffled epochs over range(n), repeated as often as needed."""
    order = torch.empty(0, dtype=torch.long)
    for _ in range(steps):
        if len(order) < batch_size:
            order = torch.cat([order, torch.randperm(n, generator=generator)])
        yield order[:batch_size]
        order = order[batch_size:]


def _train(model, params, step_loss, steps: int, learning_rate: float, evaluate=None, eval_every: int = 50,
           desc: str = "training") -> dict:
    """The shared loop: AdamW, 5 % warm-up + linear decay, gradient clipping, mixed precision on a
    GPU (kd.device), a loss per step and a held-out evaluation every `eval_every` steps (and before
    the first and after the last step)."""
    optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.01)
    step = Stepper(optimizer, params, max_norm=1.0, scheduler=warmup_linear(optimizer, steps, int(steps * 0.05)),
                   on=model_device(model))
    history = {"step": [], "loss": [], "eval_step": [], "eval_loss": [], "seconds": 0.0}
    start = time.perf_counter()

    def _eval(step):
        if evaluate is not None:
            history["eval_step"].append(step)
            history["eval_loss"].append(evaluate()["loss"])
            model.train()

    _eval(0)
    model.train()
    bar = tqdm(range(1, steps + 1), desc=desc)
    for i in bar:
        with dev.autocast(model_device(model)):
            loss = step_loss(i)
        step(loss)
        history["step"].append(i)
        history["loss"].append(loss.item())
        if i % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if i % eval_every == 0 and i != steps:
            _eval(i)
    _eval(steps)
    model.eval()
    history["seconds"] = time.perf_counter() - start
    return history


def train_mlm(model, blocks: torch.Tensor, tokenizer, steps: int, batch_size: int, learning_rate: float,
              eval_data: dict | None = None, eval_every: int = 50, seed: int = 0,
              mlm_probability: float = 0.15) -> dict:
    """Pretrain a BertForMaskedLM with the MLM objective: each step draws `batch_size` blocks and a
    fresh random masking of them (dynamic masking, as RoBERTa does). Returns the loss history.
    Only parameters with requires_grad are trained (freeze some to train the rest)."""
    _check_bert_mlm(model)
    g = torch.Generator().manual_seed(seed)
    batches = _batches(len(blocks), batch_size, steps, g)
    on = model_device(model)
    ones = torch.ones(batch_size, blocks.shape[1], dtype=torch.long, device=on)

    def step_loss(step):
        ids = blocks[next(batches)]
        corrupted, labels = mask_tokens(ids, tokenizer, mlm_probability, generator=g)  # on the CPU: seeded
        return mlm_loss(model, corrupted.to(on), ones[: len(ids)], labels.to(on))

    evaluate = (lambda: evaluate_mlm(model, eval_data)) if eval_data is not None else None
    params = [p for p in model.parameters() if p.requires_grad]
    return _train(model, params, step_loss, steps, learning_rate, evaluate, eval_every, "MLM pretraining")


def train_clm(model, blocks: torch.Tensor, steps: int, batch_size: int, learning_rate: float,
              eval_blocks: torch.Tensor | None = None, eval_every: int = 50, seed: int = 0) -> dict:
    """Pretrain a causal LM with next-token prediction on packed blocks. Returns the loss history."""
    g = torch.Generator().manual_seed(seed)
    batches = _batches(len(blocks), batch_size, steps, g)

    def step_loss(step):
        ids = blocks[next(batches)].to(model_device(model))
        return causal_lm_loss(model(input_ids=ids).logits.float(), ids)

    evaluate = (lambda: evaluate_clm(model, eval_blocks)) if eval_blocks is not None else None
    params = [p for p in model.parameters() if p.requires_grad]
    return _train(model, params, step_loss, steps, learning_rate, evaluate, eval_every, "CLM pretraining")


# ------------------------------------------------------------------------------------------------
# An MLM head on the frozen pretrained encoder
# ------------------------------------------------------------------------------------------------
def freeze_all_but_mlm_head(model) -> list[torch.nn.Parameter]:
    """Freeze the encoder (and the word embeddings, which the head's decoder shares); leave the head's
    transform (dense + LayerNorm) and output bias trainable. Returns the trainable parameters.
    For DistilBERT these are vocab_transform, vocab_layer_norm and vocab_projector's bias."""
    trainable = mlm_head_parameters(model)  # refuses anything but a BERT or DistilBERT masked LM
    for p in model.parameters():
        p.requires_grad_(False)
    for p in trainable:
        p.requires_grad_(True)
    return trainable


@torch.no_grad()
def encode_masked(model, data: dict, batch_size: int = 64, desc: str = "encoding") -> dict:
    """Run the (frozen) encoder once and keep its hidden states at the masked positions only.

    Returns {'hidden': [num_masked, hidden], 'labels': [num_masked], 'sequence': [num_masked]}.
    With the encoder frozen these vectors never change, so the head can be trained on them
    without re-running the six encoder layers at every step. The encoder runs on the model's device;
    the cache is kept on the CPU (it can be large), and the head functions move each batch back.
    """
    check_masked_lm(model)
    model.eval()
    device = model_device(model)
    hidden, labels, sequence = [], [], []
    for i in tqdm(range(0, len(data["input_ids"]), batch_size), desc=desc):
        lab = data["labels"][i:i + batch_size]
        h = encoder_of(model)(input_ids=data["input_ids"][i:i + batch_size].to(device),
                              attention_mask=data["attention_mask"][i:i + batch_size].to(device)).last_hidden_state
        selected = lab != IGNORE_INDEX
        hidden.append(h[selected.to(device)].cpu())
        labels.append(lab[selected])
        sequence.append(selected.nonzero()[:, 0] + i)
    return {"hidden": torch.cat(hidden), "labels": torch.cat(labels), "sequence": torch.cat(sequence)}


@torch.no_grad()
def evaluate_mlm_head(model, encoded: dict, batch_size: int = 2048) -> dict[str, float]:
    """`evaluate_mlm` for a frozen encoder, from hidden states computed once by `encode_masked`."""
    model.eval()
    total, hits = 0.0, {1: 0, 5: 0}
    n = len(encoded["labels"])
    device = model_device(model)
    for i in range(0, n, batch_size):
        logits = mlm_logits(model, encoded["hidden"][i:i + batch_size].to(device))
        targets = encoded["labels"][i:i + batch_size].to(device)
        total += float(F.cross_entropy(logits, targets, reduction="sum"))
        for k, h in _topk_hits(logits, targets).items():
            hits[k] += h
    loss = total / n
    return {"loss": loss, "perplexity": math.exp(loss), "top1": hits[1] / n, "top5": hits[5] / n,
            "masked_tokens": n}


def train_mlm_head(model, train_encoded: dict, steps: int, batch_size: int, learning_rate: float,
                   eval_encoded: dict | None = None, eval_every: int = 50, seed: int = 0) -> dict:
    """Train only the MLM head on cached encoder states (see `encode_masked`).

    Same budget as `train_mlm`: `steps` optimizer steps, each on the masked tokens of `batch_size`
    sequences. The cache holds fewer distinct sequences than the from-scratch model sees, so the
    head revisits them: a handicap for the pretrained side, not an advantage.
    """
    params = freeze_all_but_mlm_head(model)
    num_sequences = int(train_encoded["sequence"].max()) + 1
    g = torch.Generator().manual_seed(seed)
    batches = _batches(num_sequences, batch_size, steps, g)
    device = model_device(model)

    def step_loss(step):
        sequence = train_encoded["sequence"]  # the cache stays where encode_masked put it (the CPU)
        chosen = torch.isin(sequence, next(batches).to(sequence.device))
        logits = mlm_logits(model, train_encoded["hidden"][chosen].to(device))
        return F.cross_entropy(logits, train_encoded["labels"][chosen].to(device))

    evaluate = (lambda: evaluate_mlm_head(model, eval_encoded)) if eval_encoded is not None else None
    return _train(model, params, step_loss, steps, learning_rate, evaluate, eval_every,
                  "MLM head on frozen encoder")


# ------------------------------------------------------------------------------------------------
# The reusable MLM teacher: pretrained encoder + trained MLM head, cached on disk
# ------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def _quiet_transformers():
    """Silence transformers' loading reports inside the block (we print what matters ourselves)."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def load_encoder_with_mlm_head(profile: Profile | None = None):
    """The pretrained encoder with a masked-LM head, and the names of head tensors that were NOT in
    the checkpoint (newly initialised at random: MiniLM ships without an MLM head)."""
    from .models import load_encoder

    with _quiet_transformers():
        model, info = load_encoder(head="mlm", profile=profile, output_loading_info=True)
    missing = sorted(k for k in info["missing_keys"] if k.startswith("cls."))
    model.eval()
    return model, missing


def mlm_teacher_dir(profile: Profile | None = None) -> Path:
    """Folder of the cached MLM teacher: kd.cache_dir() / f'mlm_teacher_{profile.name}'."""
    p = profile or active_profile()
    return cache_dir() / f"mlm_teacher_{p.name}"


def build_mlm_teacher(profile: Profile | None = None, tokenizer=None, eval_data: dict | None = None,
                      save: bool = True):
    """Train an MLM head on top of the frozen pretrained encoder and save the result.

    Budget (profile.pretrain): `steps` steps of `batch_size` sequences, the same as the tiny
    from-scratch BERT, drawn from `head_sequences` training blocks of the course corpus with one
    fixed masking. Saved with save_pretrained to `mlm_teacher_dir(profile)` unless save=False.
    Returns (model, history); history also holds the final held-out metrics when eval_data is given.
    """
    from .data import load_corpus
    from .models import load_tokenizer

    p = profile or active_profile()
    c = p.pretrain
    tokenizer = tokenizer or load_tokenizer(p)
    model, missing = load_encoder_with_mlm_head(p)
    model.to(dev.device())
    blocks = pack_blocks(load_corpus("train", p), tokenizer, c.max_length, kind="mlm")
    g = torch.Generator().manual_seed(p.seed)
    chosen = torch.randperm(len(blocks), generator=g)[: c.head_sequences]
    train_encoded = encode_masked(model, fixed_masked_set(blocks[chosen], tokenizer, seed=p.seed + 1),
                                  desc="encoding training blocks")
    eval_encoded = encode_masked(model, eval_data, desc="encoding held-out blocks") if eval_data else None
    before = evaluate_mlm_head(model, eval_encoded) if eval_encoded is not None else None
    history = train_mlm_head(model, train_encoded, c.steps, c.batch_size, c.head_learning_rate,
                             eval_encoded, c.eval_every, seed=p.seed)
    history["newly_initialised"] = missing
    history["settings"] = {"profile": p.name, "steps": c.steps, "batch_size": c.batch_size,
                           "head_sequences": len(chosen), "max_length": c.max_length,
                           "learning_rate": c.head_learning_rate}
    if eval_encoded is not None:
        history["heldout_before"] = before  # the untrained (random) head: the floor to beat
        history["heldout"] = evaluate_mlm_head(model, eval_encoded)
    if save:
        save_mlm_teacher(model, tokenizer, history, p)
    return model, history


def save_mlm_teacher(model, tokenizer, history: dict, profile: Profile | None = None) -> Path:
    """Write the teacher (weights, config, tokenizer, history.json) to `mlm_teacher_dir(profile)`."""
    folder = mlm_teacher_dir(profile)
    for prm in model.parameters():  # saved for inference: nothing frozen on reload
        prm.requires_grad_(True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "history.json").write_text(json.dumps(history, indent=1))
    return folder


def load_mlm_teacher(profile: Profile | None = None, rebuild: bool = False):
    """The MLM teacher (pretrained encoder + trained MLM head) as a BertForMaskedLM in eval mode.

    Loaded from `kd.cache_dir()/mlm_teacher_<profile>` (written by notebook 01 or by this function);
    when that folder is missing, or rebuild=True, it is rebuilt with `build_mlm_teacher` (minutes on
    a CPU in the `cpu` profile, seconds in `smoke`). The tokenizer to use is kd.load_tokenizer().
    """
    from transformers import AutoModelForMaskedLM

    p = profile or active_profile()
    folder = mlm_teacher_dir(p)
    if rebuild or not (folder / "config.json").exists() or not (folder / "history.json").exists():
        print(f"No MLM teacher in {folder}: building it (encoder frozen, MLM head trained).")
        model, _ = build_mlm_teacher(p)
    else:
        with _quiet_transformers():
            model = AutoModelForMaskedLM.from_pretrained(folder)
    model.to(dev.device()).eval()
    return model


# ------------------------------------------------------------------------------------------------
# Looking at predictions
# ------------------------------------------------------------------------------------------------
@torch.no_grad()
def fill_mask(model, tokenizer, text: str, top_k: int = 5) -> list[list[tuple[str, float]]]:
    """The top-k tokens (with probabilities) a masked LM proposes for each [MASK] in `text`.
    Works for BERT and DistilBERT masked LMs, on any device (the probabilities are Python floats)."""
    check_masked_lm(model)
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
    torch.manual_seed(seed)
    extra = dict(do_sample=True, temperature=temperature, top_k=top_k) if sample else dict(do_sample=False)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out = model.generate(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                         max_new_tokens=max_new_tokens, pad_token_id=pad, **extra)
    return tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=skip_special_tokens)


@torch.no_grad()
def sentence_perplexity(model, tokenizer, text: str) -> dict[str, float]:
    """Per-token negative log-likelihood and perplexity of one text under a causal LM, computed by
    hand from the logits (the first token is not predicted, so not scored), next to the model's own loss."""
    from .objectives import causal_lm_log_likelihood

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
