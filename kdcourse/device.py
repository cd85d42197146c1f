"""Where the course computes, and in which precision: chosen once, from the hardware.

Taught in notebook 00 (the environment check). Every loop, loader and helper of kdcourse follows
this one rule, so a notebook never names a device:

- `device()`: the CUDA GPU when there is one, else the CPU.
- `precision()`: 'bf16' on GPUs whose tensor cores do bfloat16 (compute capability 8.0 and up:
  A100, L4, H100), 'fp16' with loss scaling on older GPUs such as Colab's free T4 (7.5: it can
  emulate bfloat16, slowly, without tensor cores), 'fp32' on a CPU. KDCOURSE_PRECISION (fp16, bf16 or fp32)
  overrides it on a GPU: an H100 then trains as a T4 does, which is how the course tests the T4's path.
"""
from __future__ import annotations

import contextlib
import os

import torch

PRECISIONS = ("fp32", "fp16", "bf16")


def device() -> torch.device:
    """The device every model and batch of the course goes to: cuda when available, else cpu."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def precision(on: torch.device | str | None = None) -> str:
    """'bf16' from compute capability 8.0, 'fp16' below it, 'fp32' on a CPU (see the module docstring);
    on a GPU, KDCOURSE_PRECISION when it is set."""
    on = torch.device(on) if on is not None else device()
    if on.type != "cuda":
        return "fp32"
    major, _ = torch.cuda.get_device_capability(on)
    natural = "bf16" if major >= 8 else "fp16"
    forced = os.environ.get("KDCOURSE_PRECISION", "")
    if forced not in ("", *PRECISIONS):
        raise ValueError(f"KDCOURSE_PRECISION={forced!r}: use one of {', '.join(PRECISIONS)}, or leave it unset "
                         f"(this GPU's own choice is {natural}).")
    if forced == "bf16" and major < 8:
        raise ValueError(f"KDCOURSE_PRECISION=bf16 on a GPU of compute capability {major}.x: its tensor cores have no "
                         f"bfloat16. Use fp16 (with loss scaling) or leave it unset.")
    return forced or natural


def autocast(on: torch.device | str | None = None):
    """Mixed precision for the forward pass on `on` (the course device by default); a no-op in fp32."""
    on = torch.device(on) if on is not None else device()
    mode = precision(on)
    if mode == "fp32":
        return contextlib.nullcontext()
    return torch.autocast(on.type, dtype=torch.bfloat16 if mode == "bf16" else torch.float16)


def grad_scaler(on: torch.device | str | None = None) -> torch.amp.GradScaler:
    """A loss scaler, active only in fp16 (small fp16 gradients underflow to zero without it)."""
    on = torch.device(on) if on is not None else device()
    return torch.amp.GradScaler(on.type, enabled=precision(on) == "fp16")


def require_fp32_weights(params, where: str) -> None:
    """A ValueError when a trainable weight is not fp32 while a loss scaler is on (fp16 on a GPU): the scaler
    unscales fp32 gradients only ("not implemented for 'BFloat16'" on a T4), and an fp16 or bf16 weight loses
    the small updates that mixed precision keeps. `where` names the training path in the message."""
    wrong = sorted({str(p.dtype).replace("torch.", "") for p in params if p.requires_grad and p.dtype != torch.float32})
    if wrong:
        raise ValueError(f"{where}: trainable weights in {', '.join(wrong)} under fp16 loss scaling; mixed precision "
                         f"needs fp32 master weights. Load models with kd's loaders (fp32 whatever the config says) "
                         f"or call model.float() before training.")


def trainer_precision(on: torch.device | str | None = None) -> dict[str, bool]:
    """The same rule as `transformers.TrainingArguments` flags: {'fp16': ..., 'bf16': ...}."""
    mode = precision(on)
    return {"fp16": mode == "fp16", "bf16": mode == "bf16"}


def synchronize(on: torch.device | str | None = None) -> None:
    """Wait for queued GPU work to finish (GPU calls return early): call before reading a clock."""
    on = torch.device(on) if on is not None else device()
    if on.type == "cuda":
        torch.cuda.synchronize(on)


def describe() -> str:
    """One line for a notebook's header: the device, its name and the precision the course uses."""
    on = device()
    if on.type == "cuda":
        major, minor = torch.cuda.get_device_capability(on)
        forced = " (set by KDCOURSE_PRECISION)" if os.environ.get("KDCOURSE_PRECISION") else ""
        return (f"cuda ({torch.cuda.get_device_name(on)}, compute capability {major}.{minor}), "
                f"precision {precision(on)}{forced}")
    return f"cpu ({torch.get_num_threads()} threads), precision fp32"
