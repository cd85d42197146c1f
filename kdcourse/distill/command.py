"""The BERT -> DistilBERT recipe of notebook 04 as a command that scales out unchanged.

    python -m kdcourse.distill --output runs/student                      # one CPU or GPU
    torchrun --nproc_per_node=2 -m kdcourse.distill --output runs/student # 2 processes (DDP)
    accelerate launch --num_processes 8 -m kdcourse.distill --output ...  # 8 GPUs

The code is the same in every case: `transformers.Trainer` reads the launcher's environment
(RANK, WORLD_SIZE, ...), wraps the student in DistributedDataParallel, and gives each process its
own shard of every batch. On CPUs the processes talk through the `gloo` backend, on GPUs `nccl`.
Each process writes rank<N>.json (how many training examples it saw) so you can check that all of
them took part; the main process saves the student and its test metrics.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from ..assets import MissingAssetError
from ..classify import load_sentiment_teacher, sentiment_teacher_dir
from ..trainer_tools import compute_metrics, make_collator, tokenize_dataset, training_arguments
from ..data import load_sentiment
from ..profiles import PROFILE_NAMES, get_profile, profile as active
from ..seed import set_seed
from .losses import check_alpha, check_temperature
from .student import make_student, strided_layers
from .trainer import DistillationTrainer


class _CountingDistillationTrainer(DistillationTrainer):
    """DistillationTrainer that also counts the training examples this process computed a loss on."""

    examples_seen = 0

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if model.training:
            self.examples_seen += int(inputs["labels"].shape[0])
        return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m kdcourse.distill", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--output", required=True, help="folder for the student, metrics and rank<N>.json")
    ap.add_argument("--profile", choices=PROFILE_NAMES, help="default: $KDCOURSE_PROFILE, else cpu/gpu")
    ap.add_argument("--layers", type=int, nargs="+", help="teacher layers copied into the student")
    ap.add_argument("--epochs", type=float)
    ap.add_argument("--temperature", type=float)
    ap.add_argument("--alpha", type=float)
    return ap.parse_args(argv)


def main(argv=None) -> dict:
    """Distil the profile's sentiment teacher into a student; returns the test metrics."""
    args = parse_args(argv)
    p = get_profile(args.profile) if args.profile else active(verbose=False)
    d = p.distillation
    # a value given on the command line is checked, never replaced: --temperature 0 is an error, not the default
    temperature = d.temperature if args.temperature is None else check_temperature(args.temperature)
    alpha = d.alpha if args.alpha is None else check_alpha(args.alpha)
    if args.epochs is not None and not args.epochs > 0:
        raise ValueError(f"--epochs must be a number > 0 (the profile's is {d.epochs}), got {args.epochs}.")
    epochs = d.epochs if args.epochs is None else args.epochs
    output = Path(args.output)
    launched = int(os.environ.get("WORLD_SIZE", "1")) > 1  # under torchrun / accelerate launch
    training_args = training_arguments(
        output / "checkpoints", d, seed=p.seed, epochs=epochs,
        ddp_backend="gloo" if launched and not torch.cuda.is_available() else None, ddp_find_unused_parameters=False, save_strategy="no", load_best_model_at_end=False,
        logging_steps=0.1)
    rank, world = training_args.process_index, training_args.world_size
    if world > 1 and not (sentiment_teacher_dir(p) / "config.json").exists():
        raise MissingAssetError(
            f"No sentiment teacher in {sentiment_teacher_dir(p)}. Build it once in a single process before a "
            f"multi-process run (fine-tuning it inside one would deadlock the processes): "
            f"python -c \"import kdcourse as kd; kd.classify.load_sentiment_teacher(kd.get_profile('{p.name}'))\"")
    with training_args.main_process_first(desc="building the teacher"):  # rank 0 builds it once
        teacher, tokenizer = load_sentiment_teacher(p)
        data = tokenize_dataset(load_sentiment(p), tokenizer, p.finetune.max_length)
    set_seed(p.seed)
    student = make_student(teacher, layers=tuple(args.layers or strided_layers(teacher, d.layer_stride)))
    trainer = _CountingDistillationTrainer(
        model=student, teacher_model=teacher, args=training_args,
        train_dataset=data["train"], eval_dataset=data["validation"],
        data_collator=make_collator(tokenizer), processing_class=tokenizer, compute_metrics=compute_metrics,
        temperature=temperature, alpha=alpha)
    trainer.train()
    metrics = trainer.evaluate(data["test"], metric_key_prefix="test")
    output.mkdir(parents=True, exist_ok=True)
    (output / f"rank{rank}.json").write_text(json.dumps(
        {"rank": rank, "world_size": world, "examples_seen": trainer.examples_seen,
         "train_examples": len(data["train"]), "device": str(training_args.device)}))
    if trainer.is_world_process_zero():
        trainer.save_model(str(output / "student"))
        (output / "metrics.json").write_text(json.dumps(metrics, indent=1))
        print(f"[rank 0 of {world}] student saved to {output / 'student'}; "
              f"test accuracy {metrics['test_accuracy']:.4f}")
    return metrics
