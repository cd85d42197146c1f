"""Distillation with the Hugging Face Trainer (trainer.py), and the same recipe as a command.

`python -m kdcourse.distill --output DIR` (or under torchrun / accelerate launch) runs
`__main__.py`, which calls kdcourse.command.main.
"""
from .trainer import (INDEX_COLUMN, DistillationTrainer, add_index_column, cache_teacher_logits,
                      check_compatible, compare_students, correct_predictions, evaluate_accuracy,
                      general_distillation, latency_by_batch_size, model_row, quantize_int8, seed_verdict,
                      train_student)
