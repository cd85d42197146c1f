"""How fast a model answers: CPU latency measured the careful way, latency by batch size for a text
classifier, and GPU throughput (notebooks 03 and 04).

Latency: eval mode, no gradients, a fixed number of threads, warm-up runs first (the first calls
allocate memory and pick kernels), then the median and the 90th percentile of many timed runs (the
median resists outliers; p90 shows the slow tail).
"""
from __future__ import annotations

import copy
import statistics
import time
import warnings

import torch
from torch import nn

from .. import device as dev
from ..loop import eval_mode, model_device, to_model
from ..models import forward_names


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
    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with eval_mode(model), torch.inference_mode():
            for _ in range(warmup):
                _call(model, inputs)
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                _call(model, inputs)
                times.append((time.perf_counter() - start) * 1000)
    finally:
        torch.set_num_threads(old_threads)
    times.sort()
    p90 = times[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    return {"median_ms": statistics.median(times), "p90_ms": p90, "threads": threads, "runs": runs}


def gpu_throughput(model: nn.Module, inputs: dict, runs: int = 50, warmup: int = 5) -> float:
    """Examples per second of forward passes on the course device (eval mode, inference_mode,
    mixed precision as in training), timed between `synchronize()` calls: GPU calls return early."""
    on = model_device(model)
    batch = to_model({k: v for k, v in inputs.items() if k in forward_names(model)}, model)
    with eval_mode(model), torch.inference_mode(), dev.autocast(on):
        for _ in range(warmup):
            model(**batch)
        dev.synchronize(on)
        start = time.perf_counter()
        for _ in range(runs):
            model(**batch)
        dev.synchronize(on)
    return runs * len(next(iter(batch.values()))) / (time.perf_counter() - start)


def latency_by_batch_size(model: torch.nn.Module, tokenizer, texts, batch_sizes=(1, 32), max_length: int = 64,
                          threads: int = 1, runs: int = 30) -> dict:
    """CPU latency of one forward pass at each batch size: {'p50@1': ms, 'p90@1': ms, 'p50@32': ...}.

    The inputs are the first `batch_size` of `texts`, padded to their longest; measured with
    `cpu_latency` (warm-up, fixed threads, median and 90th percentile).
    """
    out = {}
    for b in batch_sizes:
        if len(texts) < b:
            raise ValueError(f"Need at least {b} texts for batch size {b}; got {len(texts)}.")
        enc = dict(tokenizer(list(texts[:b]), truncation=True, max_length=max_length, padding=True,
                             return_tensors="pt"))
        enc = {k: v for k, v in enc.items() if k in forward_names(model)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = cpu_latency(model, enc, threads=threads, warmup=5, runs=runs if b == 1 else max(10, runs // 3))
        out[f"p50@{b}"], out[f"p90@{b}"] = r["median_ms"], r["p90_ms"]
    return out
