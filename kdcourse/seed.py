"""Seeding: the same seed gives the same numbers on the same machine.

`set_seed` seeds everything, for a notebook cell; `seeded` seeds one block and leaves the caller's
random state alone, for the package's builders and training runs (no hidden reseeding).
"""
from __future__ import annotations

import contextlib
import random

import numpy as np
import torch


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA), and ask cuDNN for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True


@contextlib.contextmanager
def seeded(seed: int):
    """Run the block with PyTorch's random numbers seeded by `seed`, and give the caller back the random
    state it had before. A builder (random weights) or a run (dropout) is then reproducible from its own
    `seed` argument without reseeding the rest of the notebook behind its back."""
    with torch.random.fork_rng(devices=range(torch.cuda.device_count())):
        torch.manual_seed(seed)
        yield
