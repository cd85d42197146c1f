"""One classifier student trained with the profile's distillation budget, alone or from a teacher: the unit of
notebook 04's experiments (every student gets the same data, batches and schedule per seed).
"""
from __future__ import annotations

import torch
from transformers import Trainer

from ..trainer_tools import empty_run_dir, make_collator, text_progress, training_arguments, without_progress_table
from .. import device as dev
from ..profiles import Profile
from ..seed import set_seed
from .trainer import DistillationTrainer


def train_classifier_student(student, train_dataset, tokenizer, profile: Profile, seed: int | None = None,
                             teacher=None, teacher_logits: torch.Tensor | None = None, alpha_cos: float = 0.0,
                             name: str = "student", progress: bool = True, **overrides):
    """Train one classifier student (a sequence classifier) with the profile's budget (`profile.distillation`)
    and return its Trainer.

    teacher=None: the student learns from the labels alone (a plain `transformers.Trainer`,
    cross-entropy). With a teacher: `DistillationTrainer` with the profile's temperature and alpha,
    plus `alpha_cos` for the hidden-state cosine. Every student gets the same data, batch size,
    epochs, schedule and (per seed) the same batch order, so only the training signal differs.
    No evaluation during training: the notebook measures every student on the test split afterwards.
    The run shows one progress bar named after the run (`kd.trainer_tools.text_progress`: no table of losses), or nothing
    with `progress=False` (a loop of runs shows one bar of its own instead);
    `overrides` (e.g. epochs=3) go to `training_arguments`.
    """
    d = profile.distillation
    seed = profile.seed if seed is None else seed
    set_seed(seed)
    kwargs = dict(eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
    kwargs.update(overrides)
    args = training_arguments(empty_run_dir(f"{name}_seed{seed}", profile), d, seed=seed, **kwargs)
    common = dict(model=student, args=args, train_dataset=train_dataset, data_collator=make_collator(tokenizer),
                  processing_class=tokenizer)
    if args.fp16:
        dev.require_fp32_weights(student.parameters(), "train_classifier_student")
    if teacher is None:
        trainer = Trainer(**common)
    else:
        trainer = DistillationTrainer(**common, teacher_model=teacher, temperature=d.temperature, alpha=d.alpha,
                                      alpha_cos=alpha_cos, teacher_logits=teacher_logits)
    if progress:
        text_progress(trainer, f"{name}, seed {seed}")  # one bar, never a table of the losses
    else:
        without_progress_table(trainer)
    trainer.train()
    trainer.model.eval()
    return trainer
