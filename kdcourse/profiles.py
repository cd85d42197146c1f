"""The three run profiles of the course: one code path, three sizes.

`profile()` reads KDCOURSE_PROFILE once and returns a frozen config. Notebooks never branch on the
profile name; they read sizes and asset names from it, so `smoke` (CI), `cpu` (a laptop) and `gpu`
(Colab) run the very same cells.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

PROFILE_NAMES = ("smoke", "cpu", "gpu")


@dataclass(frozen=True)
class MnistConfig:
    """Notebook 03: MNIST teacher/student sizes (None = the full split)."""
    train_size: int | None
    test_size: int | None
    teacher_epochs: int  # the CNN teacher (trained with +-2 pixel jitter)
    student_epochs: int  # each student run of the main comparison (alone vs distilled, per seed)
    sweep_epochs: int  # each run of the temperature x alpha sweep (shorter: it has many runs)
    hinton_epochs: int  # each run of the Hinton et al. (2015) MLP reproduction
    batch_size: int
    seeds: tuple[int, ...]


@dataclass(frozen=True)
class PretrainConfig:
    """Notebook 01: pretraining objectives on the course corpus."""
    corpus_chars: int | None  # characters of corpus text used (None = all)
    max_length: int  # tokens per block (tiny BERT, tiny GPT and the MLM head)
    steps: int  # optimizer steps, the same budget for tiny BERT, tiny GPT and the MLM head
    batch_size: int  # blocks per step
    hidden_size: int = 128  # tiny BERT / tiny GPT width
    num_layers: int = 2  # tiny BERT / tiny GPT depth
    learning_rate: float = 1e-3  # tiny models from scratch
    head_learning_rate: float = 1e-3  # MLM head on the frozen pretrained encoder
    head_sequences: int = 1024  # training blocks encoded once for the MLM head
    eval_sequences: int = 256  # held-out blocks for curves and accuracy
    eval_every: int = 50  # steps between held-out evaluations
    generate_tokens: int = 30  # new tokens per continuation of the pretrained causal LM


@dataclass(frozen=True)
class FinetuneConfig:
    """Notebook 02: fine-tuning the encoder for sentiment."""
    train_size: int | None
    eval_size: int | None  # validation and test each (None = the full split)
    max_length: int
    epochs: float
    batch_size: int
    learning_rate: float  # full fine-tuning and random init
    head_learning_rate: float  # the linear head on a frozen encoder
    lr_demo_size: int  # training snippets of the "learning rate copied from bert-base" demo (1 epoch)


@dataclass(frozen=True)
class DistilConfig:
    """Notebook 04: BERT -> DistilBERT."""
    student_layers: tuple[int, ...]
    epochs: float
    batch_size: int
    learning_rate: float
    temperature: float
    alpha: float  # weight of the soft targets; 1 - alpha goes to the hard labels
    general_steps: int  # steps of general (corpus) distillation
    train_size: int | None = None  # training snippets the students see (None = the whole train split)
    seeds: tuple[int, ...] = (0,)  # seeds of the "alone vs distilled" comparison
    alpha_cos: float = 1.0  # weight of the hidden-state cosine loss in the "+ cosine" student
    general_batch_size: int = 16  # corpus blocks per general-distillation step
    general_learning_rate: float = 1e-4
    latency_runs: int = 30  # timed forward passes per latency measurement (batch 1; a third at batch 32)


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    seed: int
    encoder: str  # hub id, or "offline" for the packaged all-MiniLM-L6-v2
    student_encoder: str  # hub id of a ready-made student ("" = build with make_student)
    causal_lm: str  # hub id, or "offline" for the packaged SmolLM2-135M
    sentiment: str  # "sst2" (hub) or "rotten_tomatoes" (data/)
    mnist: MnistConfig
    pretrain: PretrainConfig
    finetune: FinetuneConfig
    distil: DistilConfig
    notes: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        lines = [f"Profile '{self.name}': {self.description}"]
        for f in dataclasses.fields(self):
            if f.name in ("name", "description", "notes"):
                continue
            value = getattr(self, f.name)
            if dataclasses.is_dataclass(value):
                inner = ", ".join(f"{k}={v}" for k, v in dataclasses.asdict(value).items())
                lines.append(f"  {f.name:16s} {inner}")
            else:
                lines.append(f"  {f.name:16s} {value}")
        return "\n".join(lines)


PROFILES = {
    "smoke": Profile(
        name="smoke",
        description="CI: tiny subsets that prove every cell runs; numbers mean nothing.",
        seed=0,
        encoder="offline",
        student_encoder="",
        causal_lm="offline",
        sentiment="rotten_tomatoes",
        mnist=MnistConfig(train_size=2000, test_size=500, teacher_epochs=1, student_epochs=1,
                          sweep_epochs=1, hinton_epochs=1,
                          batch_size=128, seeds=(0,)),
        pretrain=PretrainConfig(corpus_chars=60_000, max_length=32, steps=20, batch_size=16, hidden_size=64,
                                num_layers=1, head_sequences=64, eval_sequences=32, eval_every=10,
                                generate_tokens=8),
        finetune=FinetuneConfig(train_size=128, eval_size=64, max_length=32, epochs=1,
                                batch_size=16, learning_rate=1e-4, head_learning_rate=1e-2,
                                lr_demo_size=64),
        distil=DistilConfig(student_layers=(0, 2, 4), epochs=1, batch_size=16, learning_rate=1e-4,
                            temperature=2.0, alpha=0.5, general_steps=3, train_size=64, seeds=(0, 1),
                            general_batch_size=4, latency_runs=5),
    ),
    "cpu": Profile(
        name="cpu",
        description="A laptop CPU: real data and pretrained weights, minutes per notebook.",
        seed=0,
        encoder="offline",
        student_encoder="",
        causal_lm="offline",
        sentiment="rotten_tomatoes",
        mnist=MnistConfig(train_size=None, test_size=None, teacher_epochs=5, student_epochs=15,
                          sweep_epochs=5, hinton_epochs=10,
                          batch_size=128, seeds=(0, 1, 2)),
        pretrain=PretrainConfig(corpus_chars=None, max_length=64, steps=500, batch_size=16, hidden_size=128,
                                num_layers=2, head_sequences=8000, eval_sequences=256, eval_every=50),
        finetune=FinetuneConfig(train_size=None, eval_size=None, max_length=64, epochs=2,
                                batch_size=32, learning_rate=1e-4, head_learning_rate=1e-2,
                                lr_demo_size=2000),
        distil=DistilConfig(student_layers=(0, 2, 4), epochs=1, batch_size=32, learning_rate=1e-4,
                            temperature=2.0, alpha=0.5, general_steps=100, train_size=None, seeds=(0, 1, 2),
                            general_batch_size=16, latency_runs=30),
    ),
    "gpu": Profile(
        name="gpu",
        description="A CUDA GPU (e.g. Colab): full-size models and data from the Hugging Face hub, "
                    "falling back to the offline assets when the hub is unreachable.",
        seed=0,
        encoder="bert-base-uncased",
        student_encoder="distilbert-base-uncased",
        causal_lm="gpt2",
        sentiment="sst2",
        mnist=MnistConfig(train_size=None, test_size=None, teacher_epochs=10, student_epochs=30,
                          sweep_epochs=10, hinton_epochs=30,
                          batch_size=256, seeds=(0, 1, 2, 3, 4)),
        pretrain=PretrainConfig(corpus_chars=None, max_length=128, steps=3000, batch_size=64, hidden_size=256,
                                num_layers=4, learning_rate=5e-4, head_sequences=8192, eval_sequences=1024,
                                eval_every=250),
        finetune=FinetuneConfig(train_size=None, eval_size=None, max_length=128, epochs=3,
                                batch_size=32, learning_rate=2e-5, head_learning_rate=1e-2,
                                lr_demo_size=4000),
        distil=DistilConfig(student_layers=(0, 2, 4, 6, 8, 10), epochs=3, batch_size=32,
                            learning_rate=5e-5, temperature=2.0, alpha=0.5, general_steps=3000,
                            train_size=None, seeds=(0, 1, 2), general_batch_size=32, latency_runs=30),
    ),
}


def default_profile_name() -> str:
    """`gpu` when CUDA is available, else `cpu`."""
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def get_profile(name: str) -> Profile:
    """The profile called `name`; a ValueError listing the valid names otherwise."""
    key = name.strip().lower()
    if key not in PROFILES:
        raise ValueError(f"Unknown profile {name!r}. Valid profiles: {', '.join(PROFILE_NAMES)}. "
                         f"Set KDCOURSE_PROFILE to one of them (or unset it for the default).")
    return PROFILES[key]


_ACTIVE: Profile | None = None


def profile(name: str | None = None, verbose: bool = True) -> Profile:
    """The profile in use: `name`, else KDCOURSE_PROFILE, else the default. Printed when verbose."""
    global _ACTIVE
    chosen = name or os.environ.get("KDCOURSE_PROFILE") or default_profile_name()
    p = get_profile(chosen)
    if name is None:
        _ACTIVE = p
    if verbose:
        print(p)
    return p


def active_profile() -> Profile:
    """The profile last chosen with `profile()`, or the environment's, without printing."""
    return _ACTIVE if _ACTIVE is not None else profile(verbose=False)
