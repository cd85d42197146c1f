"""The MLM teacher of notebook 04: the pretrained encoder, frozen, with a masked-LM head trained on
top (MiniLM ships without one). Built in notebook 01 and cached on disk:

    kd.cache_dir() / "mlm_teacher_<profile>_<settings hash>"

a `save_pretrained` folder (weights, config, tokenizer, and `history.json` with the training curve and
the settings used). The hash covers every setting that shapes the teacher, so a changed profile builds
a new teacher instead of reusing a stale one. `load_mlm_teacher(profile)` loads it, or builds it.
"""
from __future__ import annotations

import dataclasses
import gc
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from .. import device as dev
from ..assets import artifact_dir
from ..families import require_masked_lm, encoder_of, mlm_head_parameters, mlm_logits
from ..loop import eval_mode, model_device, to_model
from ..data import load_corpus
from ..models import from_pretrained, load_encoder, load_tokenizer, quiet_loading
from ..profiles import Profile
from ..seed import seeded
from .blocks import fixed_masked_set, pack_blocks, random_batches
from .metrics import mlm_scores
from .pretrain import train_steps
from .objectives import IGNORE_INDEX


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
    require_masked_lm(model)
    model.eval()  # the encoder is frozen for good: dropout off
    device = model_device(model)
    hidden, labels, sequence = [], [], []
    for i in tqdm(range(0, len(data["input_ids"]), batch_size), desc=desc):
        lab = data["labels"][i:i + batch_size]
        h = encoder_of(model)(**to_model({k: data[k][i:i + batch_size] for k in ("input_ids", "attention_mask")},
                                         model)).last_hidden_state
        selected = lab != IGNORE_INDEX
        hidden.append(h[selected.to(device)].cpu())
        labels.append(lab[selected])
        sequence.append(selected.nonzero()[:, 0] + i)
    return {"hidden": torch.cat(hidden), "labels": torch.cat(labels), "sequence": torch.cat(sequence)}


@torch.no_grad()
def evaluate_mlm_head(model, encoded: dict, batch_size: int = 2048) -> dict[str, float]:
    """`evaluate_mlm` for a frozen encoder, from hidden states computed once by `encode_masked`
    (the same scorer, `mlm_scores`, without re-running the encoder)."""
    device = model_device(model)
    with eval_mode(model):
        return mlm_scores((mlm_logits(model, encoded["hidden"][i:i + batch_size].to(device)),
                           encoded["labels"][i:i + batch_size].to(device))
                          for i in range(0, len(encoded["labels"]), batch_size))


def train_mlm_head(model, train_encoded: dict, steps: int, batch_size: int, learning_rate: float,
                   eval_encoded: dict | None = None, eval_every: int = 50, seed: int = 0,
                   eval_batch_size: int = 2048) -> dict:
    """Train only the MLM head on cached encoder states (see `encode_masked`).

    Same budget as `train_mlm`: `steps` optimizer steps, each on the masked tokens of `batch_size`
    sequences. The cache holds fewer distinct sequences than the from-scratch model sees, so the
    head revisits them: a handicap for the pretrained side, not an advantage. `eval_batch_size` only
    bounds the memory of the held-out scoring (its logits are [eval_batch_size, vocab]).
    """
    freeze_all_but_mlm_head(model)
    num_sequences = int(train_encoded["sequence"].max()) + 1
    g = torch.Generator().manual_seed(seed)
    batches = random_batches(num_sequences, batch_size, steps, g)
    device = model_device(model)

    def step_loss(step):
        sequence = train_encoded["sequence"]  # the cache stays where encode_masked put it (the CPU)
        chosen = torch.isin(sequence, next(batches).to(sequence.device))
        logits = mlm_logits(model, train_encoded["hidden"][chosen].to(device))
        return F.cross_entropy(logits, train_encoded["labels"][chosen].to(device))

    evaluate = ((lambda: evaluate_mlm_head(model, eval_encoded, eval_batch_size)) if eval_encoded is not None
                else None)
    return train_steps(model, step_loss, steps, learning_rate, evaluate, eval_every, seed,
                       "MLM head on frozen encoder")


def load_encoder_with_mlm_head(profile: Profile):
    """The pretrained encoder with a masked-LM head, and the names of head tensors that were NOT in
    the checkpoint (newly initialised at random: MiniLM ships without an MLM head)."""

    with quiet_loading():
        model, info = load_encoder(head="mlm", profile=profile, output_loading_info=True)
    missing = sorted(k for k in info["missing_keys"] if k.startswith("cls."))
    model.eval()
    return model, missing


def mlm_teacher_settings(profile: Profile) -> dict:
    """Every setting that shapes the MLM teacher: the encoder, the seed and the pretraining sizes."""
    from ..models import encoder_source

    return {"encoder": encoder_source(profile), "seed": profile.seed, "pretrain": dataclasses.asdict(profile.pretrain)}


def mlm_teacher_dir(profile: Profile) -> Path:
    """Folder of the cached MLM teacher (`kd.assets.artifact_dir`)."""
    return artifact_dir("mlm_teacher", profile, mlm_teacher_settings(profile))


def train_head_on_frozen_encoder(model, profile: Profile, tokenizer=None,
                                 eval_data: dict | None = None, eval_batch_size: int = 2048) -> dict:
    """Encode `head_sequences` training blocks once with the frozen encoder of `model` (one fixed masking),
    then train only its MLM head for the tiny BERT's budget: `steps` steps of `batch_size` blocks.

    The one recipe behind the MLM teacher and its random-weight control, so the two differ in their
    weights alone. Returns the history; with eval_data it also holds the held-out metrics before
    ('heldout_before', the untrained head) and after ('heldout') training. Taught in notebook 01, section 5.
    """
    c = profile.pretrain
    tokenizer = tokenizer or load_tokenizer(profile)
    blocks = pack_blocks(load_corpus("train", profile), tokenizer, c.max_length, kind="mlm")
    g = torch.Generator().manual_seed(profile.seed)  # which blocks the head sees
    chosen = torch.randperm(len(blocks), generator=g)[: c.head_sequences]
    train_encoded = encode_masked(model, fixed_masked_set(blocks[chosen], tokenizer, seed=profile.seed + 1),
                                  desc="encoding training blocks")
    eval_encoded = encode_masked(model, eval_data, desc="encoding held-out blocks") if eval_data else None
    before = evaluate_mlm_head(model, eval_encoded, eval_batch_size) if eval_encoded is not None else None
    history = train_mlm_head(model, train_encoded, c.steps, c.batch_size, c.head_learning_rate,
                             eval_encoded, c.eval_every, seed=profile.seed, eval_batch_size=eval_batch_size)
    history["head_sequences"] = len(chosen)
    if eval_encoded is not None:
        history["heldout_before"] = before  # the untrained (random) head: the floor to beat
        history["heldout"] = evaluate_mlm_head(model, eval_encoded, eval_batch_size)
    return history


def build_mlm_teacher(profile: Profile, tokenizer=None, eval_data: dict | None = None,
                      save: bool = True):
    """Train an MLM head on top of the frozen pretrained encoder and save the result.

    Budget (profile.pretrain): `steps` steps of `batch_size` sequences, the same as the tiny
    from-scratch BERT, drawn from `head_sequences` training blocks of the course corpus with one
    fixed masking (`train_head_on_frozen_encoder`). Saved with save_pretrained to
    `mlm_teacher_dir(profile)` unless save=False.
    Returns (model, history); history also holds the final held-out metrics when eval_data is given.
    """
    tokenizer = tokenizer or load_tokenizer(profile)
    model, missing = load_encoder_with_mlm_head(profile)
    model.to(dev.device())
    history = train_head_on_frozen_encoder(model, profile, tokenizer, eval_data)
    history["newly_initialised"] = missing
    history["settings"] = {"profile": profile.name, "head_sequences": history.pop("head_sequences"),
                           **mlm_teacher_settings(profile)}
    if save:
        save_mlm_teacher(model, tokenizer, history, profile)
    return model, history


def random_encoder_with_mlm_head(profile: Profile, seed: int | None = None):
    """The encoder's architecture (its very config) with random weights and a random MLM head, in eval mode:
    the control of section 5, as large as the pretrained encoder, nothing learnt. Taught in notebook 01, section 5."""
    from transformers import AutoConfig, AutoModelForMaskedLM

    from ..models import encoder_source

    with quiet_loading():
        config = AutoConfig.from_pretrained(encoder_source(profile))
    with seeded(profile.seed if seed is None else seed):  # its own seed: the caller's random state is left alone
        model = AutoModelForMaskedLM.from_config(config)
    return model.to(dev.device()).eval()


def random_init_control(profile: Profile, tokenizer=None, eval_data: dict | None = None) -> dict:
    """The teacher's recipe (`train_head_on_frozen_encoder`) on a random-weight copy of its encoder: its history
    (with 'parameters'), the model freed. Separates pretraining from size. Taught in notebook 01, section 5."""
    model = random_encoder_with_mlm_head(profile)
    # the same scorer on the same tokens, in smaller batches: it runs while the teacher still holds memory
    history = train_head_on_frozen_encoder(model, profile, tokenizer, eval_data, eval_batch_size=512)
    history["parameters"] = model.num_parameters()
    del model
    gc.collect()  # only its numbers are needed: give its memory back before the next cells
    return history


def save_mlm_teacher(model, tokenizer, history: dict, profile: Profile) -> Path:
    """Write the teacher (weights, config, tokenizer, history.json) to `mlm_teacher_dir(profile)`."""
    folder = mlm_teacher_dir(profile)
    for prm in model.parameters():  # saved for inference: nothing frozen on reload
        prm.requires_grad_(True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "history.json").write_text(json.dumps(history, indent=1))
    return folder


def load_mlm_teacher(profile: Profile, rebuild: bool = False):
    """The MLM teacher (pretrained encoder + trained MLM head) as a BertForMaskedLM in eval mode.

    Loaded from `mlm_teacher_dir(profile)` (written by notebook 01 or by this function);
    when that folder is missing, or rebuild=True, it is rebuilt with `build_mlm_teacher` (minutes on
    a CPU in the `cpu` profile, seconds in `smoke`). The tokenizer to use is kd.load_tokenizer(profile).
    """
    from transformers import AutoModelForMaskedLM

    folder = mlm_teacher_dir(profile)
    if rebuild or not (folder / "config.json").exists() or not (folder / "history.json").exists():
        print(f"No MLM teacher cached for these settings ({folder.name}): building it now, "
              f"{profile.pretrain.steps} steps of its MLM head (the bars below show the time left).")
        start = time.perf_counter()
        model, _ = build_mlm_teacher(profile)
        print(f"Built the MLM teacher in {time.perf_counter() - start:.0f} s.")
    else:
        with quiet_loading():
            model = from_pretrained(AutoModelForMaskedLM, folder)
    model.to(dev.device()).eval()
    return model
