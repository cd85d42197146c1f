"""The one training-loop core of the course: an optimiser step, the warm-up schedule, an eval-mode
block, and a step loop with progress and history, so device, precision, schedule and records live
in one place.

Taught in notebook 03 (`kd.fit` is built on `Stepper`) and used by every hand-written loop: the
tiny-LM pretraining of notebook 01 (`run_steps`), general distillation in notebook 04 (`run_steps`)
and the pitfall demos of notebook 05 (`Stepper`). The Hugging Face `Trainer` (notebooks 02 and 04)
does the same internally, with the same precision rule (`kd.device.trainer_precision`).
"""
from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import time
from collections.abc import Mapping

import torch
from tqdm.auto import tqdm

from . import device as dev


def release_memory() -> None:
    """Hand the memory that Python and PyTorch have freed back to the operating system. glibc keeps freed heap
    pages for reuse, so a notebook that trains many models in a row (notebook 06: about 0.8 GB more after each run)
    would otherwise hold gigabytes it no longer uses. Elsewhere than glibc (macOS, Windows) it only collects."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: its allocator returns memory by itself


class Stepper:
    """Turns a loss into an optimiser step: (scaled) backward, optional clipping, step, schedule.

    In fp32 (any CPU) this is exactly `zero_grad(); loss.backward(); clip; optimizer.step()`;
    in fp16 the loss is scaled first so that small gradients do not underflow.
    """

    def __init__(self, optimizer, params=None, max_norm: float | None = None, scheduler=None,
                 on: torch.device | None = None):
        self.optimizer, self.scheduler, self.max_norm = optimizer, scheduler, max_norm
        self.params = list(params) if params is not None else None
        if max_norm is not None and self.params is None:
            raise ValueError("Gradient clipping needs the parameters: pass params=model.parameters().")
        self.scaler = dev.grad_scaler(on)
        if self.scaler.is_enabled():
            dev.require_fp32_weights((p for g in optimizer.param_groups for p in g["params"]), "the training step")

    def __call__(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad()
        self.scaler.scale(loss).backward()
        if self.max_norm is not None:
            self.scaler.unscale_(self.optimizer)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(self.params, self.max_norm)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()


def epochs_for_steps(steps: int, examples: int, batch_size: int) -> int:
    """The epochs over `examples` that give at least `steps` optimizer steps of `batch_size` (the last batch of an
    epoch may be short): how a run on few examples gets as many steps as one on many (notebooks 03 and 04)."""
    if min(steps, examples, batch_size) < 1:
        raise ValueError(f"steps, examples and batch_size must be at least 1, got {steps}, {examples}, {batch_size}.")
    return math.ceil(steps / math.ceil(examples / batch_size))


def warmup_linear(optimizer, steps: int, warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate: linear warm-up over `warmup_steps`, then linear decay to zero at `steps`."""
    warmup = max(1, warmup_steps)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's weights are on (inputs must go there too); the CPU for a model without
    PyTorch weights (an ONNX Runtime session, kd.measure.onnx)."""
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def to_model(batch, model: torch.nn.Module):
    """`batch` on the device of `model`'s weights: a tensor, or a dict (a tokenizer's BatchEncoding, a collated
    batch) or tuple of them; anything else is left as it is. The one way the course puts inputs where their
    model is: a model on a GPU called with CPU tensors fails ("Expected all tensors to be on the same device")."""
    on = model_device(model)
    if isinstance(batch, torch.Tensor):
        return batch.to(on)
    if isinstance(batch, Mapping):
        moved = {k: to_model(v, model) for k, v in batch.items()}
        return type(batch)(moved) if isinstance(batch, dict) else moved
    if isinstance(batch, (tuple, list)):
        return type(batch)(to_model(v, model) for v in batch)
    return batch


def teacher_precision(teacher: torch.nn.Module):
    """The course's mixed precision (`kd.device.autocast`) for a teacher's inference on its device: a no-op on
    a CPU (fp32), fp16 on a T4, bf16 from Ampere on. Safe where the teacher's outputs become soft targets, which
    are softmaxed in fp32 afterwards and stored in fp16 anyway (a logit cache, the top-k store, generations);
    NOT used for held-out scores (`evaluate_next_token`, `evaluate_accuracy`), which the notebooks report and
    compare across devices, so they stay in fp32. Inside a Trainer the teacher already runs under its autocast."""
    return dev.autocast(model_device(teacher))


@contextlib.contextmanager
def eval_mode(model: torch.nn.Module):
    """`model.eval()` inside the block (dropout off), and the mode it had before restored after it:
    for a measurement in the middle of training that must not leave the model in the wrong mode."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def run_steps(model: torch.nn.Module, step_loss, step: Stepper, steps: int, desc: str, evaluate=None,
              eval_every: int = 50, progress: bool = True) -> dict:
    """`steps` optimiser steps of `model` in train mode; returns the history.

    `step_loss(i)` computes the loss of step i (1-based), under the course's mixed precision on a GPU;
    it may return `(loss, parts)` with a dict of named float parts (e.g. each term of a sum), which
    are recorded too. `evaluate()` returns a dict with a 'loss', measured before the first step,
    every `eval_every` steps and after the last one. History: 'step', 'loss', each part,
    'eval_step', 'eval_loss' and 'seconds'. The model is left in eval mode, its gradients freed.
    """
    history = {"step": [], "loss": [], "eval_step": [], "eval_loss": []}
    on = model_device(model)
    start = time.perf_counter()

    def _evaluate(i):
        if evaluate is not None:
            with eval_mode(model):
                history["eval_step"].append(i)
                history["eval_loss"].append(evaluate()["loss"])

    _evaluate(0)
    model.train()
    bar = tqdm(range(1, steps + 1), desc=desc, disable=not progress)
    for i in bar:
        with dev.autocast(on):
            out = step_loss(i)
        loss, parts = out if isinstance(out, tuple) else (out, {})
        step(loss)
        history["step"].append(i)
        history["loss"].append(loss.item())
        for name, value in parts.items():
            history.setdefault(name, []).append(float(value))
        if i % 10 == 0:
            bar.set_postfix(loss=f"{loss.item():.3f}")
        if i % eval_every == 0 and i != steps:
            _evaluate(i)
    _evaluate(steps)
    model.eval()
    model.zero_grad(set_to_none=True)  # a trained model kept for later holds its weights, not its last gradients
    release_memory()
    history["seconds"] = time.perf_counter() - start
    return history
