"""Measuring a model: parameter count, size on disk, and CPU latency. Works for any nn.Module.

Latency is measured the careful way: eval mode, no gradients, a fixed number of threads, warm-up
runs first (the first calls allocate memory and pick kernels), then the median and the 90th
percentile of many timed runs (the median resists outliers; p90 shows the slow tail).
"""
from __future__ import annotations

import copy
import os
import statistics
import tempfile
import time

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


def _call(model: nn.Module, inputs):
    if isinstance(inputs, dict):
        return model(**inputs)
    if isinstance(inputs, (tuple, list)):
        return model(*inputs)
    return model(inputs)


def _to_cpu(inputs):
    if isinstance(inputs, dict):
        return {k: _to_cpu(v) for k, v in inputs.items()}
    if isinstance(inputs, (tuple, list)):
        return type(inputs)(_to_cpu(v) for v in inputs)
    return inputs.cpu() if isinstance(inputs, torch.Tensor) else inputs


def cpu_latency(model: nn.Module, example_inputs, threads: int = 1, warmup: int = 10,
                runs: int = 50) -> dict:
    """Milliseconds per forward pass on the CPU: {'median_ms', 'p90_ms', 'threads', 'runs'}.

    `example_inputs` is a tensor (model(x)), a tuple (model(*x)) or a dict (model(**x), e.g. a
    tokenizer's output). The model runs in eval mode under inference_mode with `threads` CPU
    threads; a model on a GPU is copied to the CPU first (the original is left untouched).
    """
    if runs < 1 or warmup < 0 or threads < 1:
        raise ValueError(f"Need runs >= 1, warmup >= 0 and threads >= 1; got runs={runs}, "
                         f"warmup={warmup}, threads={threads}.")
    if any(p.device.type != "cpu" for p in model.parameters()):
        model = copy.deepcopy(model).cpu()
    inputs = _to_cpu(example_inputs)
    was_training, old_threads = model.training, torch.get_num_threads()
    model.eval()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            for _ in range(warmup):
                _call(model, inputs)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                _call(model, inputs)
                times.append((time.perf_counter() - start) * 1000)
    finally:
        torch.set_num_threads(old_threads)
        model.train(was_training)
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    return {"median_ms": statistics.median(times), "p90_ms": p90, "threads": threads, "runs": runs}


def gpu_throughput(model: nn.Module, inputs: dict, runs: int = 50, warmup: int = 5) -> float:
    """Examples per second of forward passes on the course device (eval mode, inference_mode,
    mixed precision as in training), timed between `synchronize()` calls: GPU calls return early."""
    from . import device as dev
    from .loop import model_device

    import inspect

    on = model_device(model)
    names = inspect.signature(model.forward).parameters
    batch = {k: v.to(on) for k, v in inputs.items() if k in names}
    was_training = model.training
    model.eval()
    with torch.inference_mode(), dev.autocast(on):
        for _ in range(warmup):
            model(**batch)
        dev.synchronize(on)
        start = time.perf_counter()
        for _ in range(runs):
            model(**batch)
        dev.synchronize(on)
    model.train(was_training)
    return runs * len(next(iter(batch.values()))) / (time.perf_counter() - start)
