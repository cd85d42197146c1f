"""A plain, readable training loop for tensors in memory, with optional distillation (taught in
notebook 03; notebook 05 reuses it). Its optimiser step is the loop core's (`kd.loop.Stepper`).

`fit` trains any classifier on (images, labels) tensors. Give it a `teacher` (a model, run in
eval mode under no_grad on each batch) or precomputed `teacher_logits` (one row per training
image, picked with the same shuffled indices as the batch) and it minimises
`distillation_loss(student, teacher, labels, temperature, alpha)` instead of cross-entropy.
"""
from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from . import device as dev
from .distill.losses import check_temperature, distillation_loss
from .data import MNIST_MEAN, MNIST_STD
from .loop import Stepper, eval_mode, to_model


@dataclass
class History:
    """Per-epoch record of a `fit` run: mean training loss, training and test accuracy, seconds."""
    loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: float = 0.0


@dataclass
class Evaluation:
    """Accuracy and number of misclassified images of one model on one set, and which ones it got right
    (`correct`, one flag per image: what a paired comparison of two models needs, kd.measure.compare)."""
    accuracy: float
    errors: int
    n: int
    correct: np.ndarray | None = field(default=None, repr=False)

    def __str__(self) -> str:
        return f"{100 * self.accuracy:.2f} % accuracy ({self.errors} errors out of {self.n})"


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The model's logits for all of x, in eval mode (dropout off) and without gradients."""
    with eval_mode(model):
        return torch.cat([model(to_model(x[i:i + batch_size], model)).cpu() for i in range(0, len(x), batch_size)])


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 1000) -> Evaluation:
    """Accuracy and error count of `model` on images x with labels y (eval mode, no gradients)."""
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} images but y has {len(y)} labels: pass matching tensors.")
    correct = (predict_logits(model, x, batch_size).argmax(dim=1) == y.cpu()).numpy()
    errors = int((~correct).sum())
    return Evaluation(accuracy=1 - errors / len(y), errors=errors, n=len(y), correct=correct)


def shift_images(x: torch.Tensor, offsets: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Shift image k of x by offsets[k] = (dy, dx) in [0, 2 * max_shift] (max_shift = no move): the uncovered
    border gets the normalised background value, so digits just move."""
    b, _, h, w = x.shape
    background = -MNIST_MEAN / MNIST_STD  # a black pixel after normalisation
    padded = F.pad(x, (max_shift,) * 4, value=background)
    dy, dx = offsets.long().T
    rows = (dy[:, None] + torch.arange(h))[:, :, None]  # [b, h, 1]
    cols = (dx[:, None] + torch.arange(w))[:, None, :]  # [b, 1, w]
    return padded[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


def random_shift(x: torch.Tensor, max_shift: int = 2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift every image by its own random (dx, dy) in [-max_shift, max_shift] pixels ("jitter")."""
    offsets = torch.randint(0, 2 * max_shift + 1, (2, len(x)), generator=generator).T  # columns (dy, dx)
    return shift_images(x, offsets, max_shift)


def fit(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor], epochs: int, *,
        batch_size: int = 128, lr: float = 1e-3, lr_schedule: str = "constant",
        teacher: nn.Module | None = None, teacher_logits: torch.Tensor | None = None,
        temperature: float | None = None, alpha: float = 0.5,
        loss_fn: Callable | None = None, jitter: int = 0, copies=None,
        test: tuple[torch.Tensor, torch.Tensor] | None = None,
        seed: int = 0, amp: bool = True, desc: str = "training", progress: bool = True) -> History:
    """Train `model` with Adam on the tensors train = (x, y) for `epochs`; returns a History.

    The learning rate stays at `lr`, or with lr_schedule="cosine" decays to 0 over the whole run.

    - Plain training: cross-entropy with the labels.
    - Distillation: pass `teacher` (run on each batch, in eval mode, under no_grad) or
      `teacher_logits` (one row per training image, indexed with the batch's shuffled indices so
      they always match the images); the loss is distillation_loss(..., temperature, alpha).
      `temperature` has no default: a distillation run states the T it uses.
    - `loss_fn(student_logits, teacher_logits_or_None, labels)` replaces the loss if given (the
      argument order of `distillation_loss`).
    - `jitter`: shift each training image by up to this many pixels (data augmentation).
    - `copies` (kd.consistent.JitteredCopies): train on fixed jittered copies of x instead, copy
      `epoch % copies.n` in each epoch; with `teacher_logits=copies.teacher_logits` (one row per copy and
      image) the teacher labelled exactly the images the student sees (consistent distillation).
    - `test` = (x, y): test accuracy is recorded after every epoch.
    - The model (and teacher) move to `kd.device.device()`, and batches follow them. `amp`: mixed
      precision by the course's rule (`kd.device.precision`: bf16 or fp16 on a GPU; a CPU stays fp32).
    The batch order and the jitter come from `seed`, so a rerun gives the same numbers.
    """
    x, y = train
    per_copy = teacher_logits is not None and teacher_logits.dim() == 3  # [copies, images, classes]
    if per_copy and (copies is None or teacher_logits.shape[:2] != (copies.n, len(x))):
        raise ValueError(f"teacher_logits of shape {tuple(teacher_logits.shape)} hold one row per copy and image: "
                         f"pass the copies they were computed on (copies=..., {len(x)} images each).")
    if teacher_logits is not None and not per_copy and len(teacher_logits) != len(x):
        raise ValueError(f"teacher_logits has {len(teacher_logits)} rows but train has {len(x)} images: "
                         f"precompute them on the same (unshuffled) training tensor.")
    if teacher is not None and teacher_logits is not None:
        raise ValueError("Pass either teacher or teacher_logits, not both.")
    if (teacher is not None or teacher_logits is not None) and loss_fn is None:
        check_temperature(temperature)  # distillation states its temperature: there is no default
    device = dev.device()
    model.to(device)
    if teacher is not None:
        teacher.to(device).eval()  # dropout off: the teacher must give its best, deterministic predictions
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule must be 'constant' or 'cosine', got {lr_schedule!r}.")
    steps = epochs * -(-len(x) // batch_size)  # total number of batches
    # "cosine": the learning rate decays from lr to 0 over the run, so the final weights settle
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps) if lr_schedule == "cosine" else None
    step = Stepper(optimizer, scheduler=schedule, on=device)
    mixed = dev.autocast(device) if amp else torch.autocast(device.type, enabled=False)
    history, start = History(), time.perf_counter()
    for epoch in tqdm(range(epochs), desc=desc, disable=not progress):
        model.train()
        order = torch.randperm(len(x), generator=generator)
        total_loss, correct = 0.0, 0
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]  # the same indices pick images, labels and teacher logits
            xb, yb = x[idx], y[idx]
            if copies is not None:
                xb = copies.images(x, epoch % copies.n, idx)
            elif jitter:
                xb = random_shift(xb, jitter, generator)
            xb, yb = xb.to(device), yb.to(device)
            with mixed:
                tb = None
                if teacher is not None:
                    with torch.no_grad():
                        tb = teacher(xb).float()
                elif per_copy:
                    tb = teacher_logits[epoch % copies.n, idx].float().to(device)
                elif teacher_logits is not None:
                    tb = teacher_logits[idx].to(device)
                logits = model(xb).float()
            if loss_fn is not None:
                loss = loss_fn(logits, tb, yb)
            elif tb is not None:
                loss = distillation_loss(logits, tb, yb, temperature, alpha)
            else:
                loss = F.cross_entropy(logits, yb)
            step(loss)
            total_loss += loss.item() * len(idx)
            correct += int((logits.argmax(dim=1) == yb).sum())
        history.loss.append(total_loss / len(x))
        history.train_acc.append(correct / len(x))
        if test is not None:
            history.test_acc.append(evaluate(model, *test).accuracy)
    history.seconds = time.perf_counter() - start
    model.eval()
    return history


def _describe(value):
    """A value as it enters a cache key: tensors by shape and checksum, modules by architecture."""
    if isinstance(value, torch.Tensor):
        return f"tensor{tuple(value.shape)} sum={float(value.double().sum()):.10g}"
    if isinstance(value, nn.Module):
        return repr(value)
    return value


def fit_or_load(model: nn.Module, name: str, train: tuple[torch.Tensor, torch.Tensor], epochs: int,
                **fit_kwargs) -> History:
    """`fit`, or load the weights and History an earlier run saved with exactly the same settings.

    The notebooks cache their slow teachers this way, in kd.cache_dir() / '<name>_<hash>.pt'. The hash
    covers the architecture, the training tensors (shape and checksum), the epochs and every `fit`
    argument, so changing any of them trains anew instead of reusing a stale teacher.
    """
    from .assets import artifact_path

    x, y = train
    settings = {"model": repr(model), "x": _describe(x), "y": _describe(y), "epochs": epochs,
                **{k: _describe(v) for k, v in fit_kwargs.items() if k not in ("desc", "progress")}}
    slug = re.sub(r"\W+", "-", name).strip("-")  # "the CNN teacher" -> the-CNN-teacher_<hash>.pt
    path = artifact_path(slug, settings, ".pt")
    if path.exists():
        saved = torch.load(path, map_location="cpu")
        model.load_state_dict(saved["state_dict"])
        model.eval()
        print(f"Loaded {name} as trained by an earlier run with the same settings ({path.name}; delete it "
              f"to retrain).")
        return History(**saved["history"])
    print(f"No cached {name} for these settings: training it now, {epochs} epochs (the bar shows the time left).")
    history = fit(model, train, epochs, **fit_kwargs)
    torch.save({"state_dict": model.state_dict(), "history": dataclasses.asdict(history)}, path)
    return history
