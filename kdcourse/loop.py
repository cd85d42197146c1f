"""The pieces every hand-written training loop of the course shares: one optimiser step, the
warm-up schedule, and mixed precision, so device and precision live in one place.

Used by `kd.fit` (notebook 03), the tiny-LM pretraining of notebook 01, general distillation in
notebook 04 and the pitfall demos of notebook 05. The Hugging Face `Trainer` (notebooks 02 and 04)
does the same internally, with the same precision rule (`kd.device.trainer_precision`).
"""
from __future__ import annotations

import torch

from . import device as dev


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


def warmup_linear(optimizer, steps: int, warmup_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate: linear warm-up over `warmup_steps`, then linear decay to zero at `steps`."""
    warmup = max(1, warmup_steps)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup))))


def model_device(model: torch.nn.Module) -> torch.device:
    """The device a model's weights are on (inputs must go there too)."""
    return next(model.parameters()).device
