"""Distillation with the Hugging Face Trainer: `DistillationTrainer` (taught in notebook 04).

Many tutorials import a `DistillationTrainer` from transformers; there is none. This one is a
`transformers.Trainer` subclass that changes one thing, the loss:

    loss = alpha * T^2 * KL(teacher_T || student_T)      soft targets (kdcourse.distill.losses)
         + (1 - alpha) * cross-entropy(student, labels)  hard labels
         + alpha_cos * (1 - cos(student_h, teacher_h))   optional: DistilBERT's hidden-state cosine

Everything else (batching, optimiser, schedule, logging, evaluation) is the Trainer's.
The teacher is frozen (requires_grad False), in eval() mode (no dropout: its targets must not be
noisy) and runs under torch.no_grad() on the student's device.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from transformers import Trainer

from .. import device as dev
from .losses import check_alpha, check_temperature, distillation_loss, hidden_cosine_loss
from ..models import forward_names

INDEX_COLUMN = "kd_index"


def add_index_column(dataset, name: str = INDEX_COLUMN):
    """The dataset with a column `name` = 0, 1, 2, ...: each example's row number.

    Cached teacher logits are looked up by this number, so they stay aligned with their examples
    however the Trainer shuffles the batches.
    """
    if name in dataset.column_names:
        dataset = dataset.remove_columns(name)
    return dataset.add_column(name, list(range(len(dataset))))


def _config_value(model, name):
    return getattr(getattr(model, "config", None), name, None)


def require_compatible(student: torch.nn.Module, teacher: torch.nn.Module) -> None:
    """A ValueError when teacher and student cannot be distilled one into the other.

    Both must share the vocabulary (the same token ids must mean the same tokens: use the same
    tokenizer) and, for classifiers, the number of labels (the soft targets are over the classes).
    """
    sv, tv = _config_value(student, "vocab_size"), _config_value(teacher, "vocab_size")
    if sv is not None and tv is not None and sv != tv:
        raise ValueError(f"Teacher and student vocabularies differ: teacher vocab_size={tv}, student "
                         f"vocab_size={sv}. Distillation needs one tokenizer for both; build the student "
                         f"with kd.distill.make_student(teacher, ...) or from the teacher's tokenizer.")
    heads = [m for m in (student, teacher) if "ForSequenceClassification" in type(m).__name__]
    if len(heads) == 2:
        sl, tl = student.config.num_labels, teacher.config.num_labels
        if sl != tl:
            raise ValueError(f"Teacher and student label counts differ: teacher num_labels={tl}, student "
                             f"num_labels={sl}. The soft targets are a distribution over the teacher's "
                             f"classes: give the student num_labels={tl}.")


class DistillationTrainer(Trainer):
    """A `transformers.Trainer` that trains `model` (the student) to imitate `teacher_model`.

    temperature: T of the soft targets (2-4 usual for BERT; 1 = the plain softmax). No default: a
        distillation run states its temperature (the course's are in the profile, `distillation`).
    alpha: weight of the soft-target term; (1 - alpha) goes to the hard labels.
    alpha_cos: weight of the cosine loss between hidden states (0 = off).
    layer_map: (student_index, teacher_index) pairs into the models' `hidden_states` tuples
        (0 = embeddings output, i = output of layer i) aligned by the cosine loss. Default: the last
        hidden state of each, as DistilBERT does.
    teacher_logits: optional tensor [N, classes] from cache_teacher_logits; the batches must then carry
        the `index_column` (add_index_column), and the teacher is only run when a hidden-state
        term needs it.

    The trainer keeps `teacher_seconds`: the time spent in teacher forward passes, to measure what
    caching saves. During evaluation the loss is the student's plain cross-entropy, so evaluation
    losses compare across students whatever their training loss was.
    """

    # compute_loss returns a per-batch mean: let the Trainer divide it for gradient accumulation.
    loss_is_scaled_for_ga = False

    def __init__(self, *args, teacher_model: torch.nn.Module, temperature: float,
                 alpha: float = 0.5, alpha_cos: float = 0.0, layer_map=None,
                 teacher_logits: torch.Tensor | None = None, index_column: str = INDEX_COLUMN, **kwargs):
        temperature, alpha = check_temperature(temperature), check_alpha(alpha)  # refused before any setup
        if not (isinstance(alpha_cos, (int, float)) and alpha_cos >= 0):
            raise ValueError(f"alpha_cos must be >= 0 (0 switches the cosine loss off), got {alpha_cos!r}.")
        super().__init__(*args, **kwargs)
        if self.args.fp16:
            dev.require_fp32_weights(self.model.parameters(), "DistillationTrainer (the student)")
        if teacher_model is None:
            raise ValueError("teacher_model is required: the model whose outputs the student learns from.")
        require_compatible(self.model, teacher_model)
        self.teacher = teacher_model
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.temperature, self.alpha, self.alpha_cos = float(temperature), float(alpha), float(alpha_cos)
        self.layer_map = [(-1, -1)] if layer_map is None else [tuple(pair) for pair in layer_map]
        self.teacher_logits = teacher_logits
        self.index_column = index_column
        self.teacher_seconds = 0.0
        self._student_names = forward_names(self.model)
        self._teacher_names = forward_names(self.teacher)

    def _set_signature_columns_if_needed(self) -> None:
        # Keep the index column: the Trainer would drop it (the student's forward does not take it).
        super()._set_signature_columns_if_needed()
        if self.index_column not in self._signature_columns:
            self._signature_columns.append(self.index_column)

    def _teacher_outputs(self, inputs: dict, device: torch.device, need_hidden: bool):
        """The teacher's outputs for this batch (frozen, eval mode, no_grad, on the student's device)."""
        if next(self.teacher.parameters()).device != device:
            self.teacher.to(device)
        self.teacher.eval()  # a caller may have switched it back to train(): dropout must stay off
        teacher_inputs = {k: v for k, v in inputs.items() if k in self._teacher_names and k != "labels"}
        dev.synchronize(device)  # GPU calls return before the work is done: time whole passes
        start = time.perf_counter()
        with torch.no_grad():
            out = self.teacher(**teacher_inputs, output_hidden_states=need_hidden)
        dev.synchronize(device)
        self.teacher_seconds += time.perf_counter() - start
        return out

    def compute_loss(self, model, inputs, return_outputs: bool = False, num_items_in_batch=None):
        """The distillation loss of one batch (`num_items_in_batch` is accepted and not needed:
        every term is a per-batch mean)."""
        inputs = dict(inputs)
        index = inputs.pop(self.index_column, None)
        labels = inputs.pop("labels", None)
        student_inputs = {k: v for k, v in inputs.items() if k in self._student_names}
        need_hidden = self.alpha_cos > 0 and model.training
        outputs = model(**student_inputs, output_hidden_states=need_hidden)
        logits = outputs.logits

        if labels is None:
            raise ValueError("The batch has no 'labels': the hard-label term needs them (keep the label "
                             "column; the Trainer renames 'label' to 'labels').")
        if not model.training:  # evaluation: the student's own cross-entropy
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            return (loss, outputs) if return_outputs else loss

        teacher_out = None
        if self.teacher_logits is not None:
            if index is None:
                raise ValueError(f"teacher_logits were given but the batch has no {self.index_column!r} "
                                 f"column: build the dataset with kd.distill.add_index_column(...).")
            teacher_logits = self.teacher_logits[index.cpu()].to(logits.device)
        else:
            teacher_out = self._teacher_outputs(inputs, logits.device, need_hidden)
            teacher_logits = teacher_out.logits

        if logits.dim() == 3:  # token-level logits (a masked LM): distil on the labelled positions only
            mask = labels != -100
            loss = distillation_loss(logits[mask], teacher_logits[mask], labels[mask],
                                     temperature=self.temperature, alpha=self.alpha)
        else:
            loss = distillation_loss(logits, teacher_logits, labels,
                                     temperature=self.temperature, alpha=self.alpha)

        if self.alpha_cos > 0:
            if teacher_out is None:
                teacher_out = self._teacher_outputs(inputs, logits.device, need_hidden=True)
            attention = inputs.get("attention_mask")
            cos = sum(hidden_cosine_loss(outputs.hidden_states[s], teacher_out.hidden_states[t], attention)
                      for s, t in self.layer_map) / len(self.layer_map)
            loss = loss + self.alpha_cos * cos
        return (loss, outputs) if return_outputs else loss
