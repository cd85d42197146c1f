"""How big a model is: parameters, bytes on disk, and the same model with int8 weights (notebooks 03
and 04). Works for any nn.Module.
"""
from __future__ import annotations

import os
import tempfile

import torch
from torch import nn


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters (weights and biases) of the model; only trainable ones if asked."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def size_on_disk_mb(model: nn.Module) -> float:
    """Size in MB (10^6 bytes) of the model's state_dict saved with torch.save, as you would ship it."""
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.pt")
        torch.save(model.state_dict(), path)
        return os.path.getsize(path) / 1e6


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model` with every nn.Linear replaced by a dynamically quantised int8 version (CPU only).

    Weights are stored as 8-bit integers; activations are quantised on the fly at each call. No
    training or calibration data needed. (PyTorch now points to the torchao package for new code;
    torch.ao.quantization.quantize_dynamic still works and needs nothing else installed.)
    """
    import copy
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices about the torch.ao API
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), {torch.nn.Linear}, dtype=torch.qint8)
