"""How long each notebook takes on a device, and how much GPU memory it needs, estimated from its arithmetic:
the FLOPs its training and inference do at a profile's sizes, divided by what the device sustains in the
precision each phase runs in, plus a fixed cost per step and the optimiser's memory traffic. Printed by notebook
00's course map; a test keeps every `gpu` notebook within 25 minutes (a margin under the 30 of a free Colab T4
session) and 15 GB on a T4, and another compares the same model, priced with the CPU's constants, with the
stored `cpu` runs (within 2x).

FLOPs are counted exactly, by running each model once on PyTorch's `meta` device (shapes only, no
memory, no time) under `torch.utils.flop_counter.FlopCounterMode`; training costs 3x a forward
pass (forward + backward). What a device sustains is an ASSUMPTION, written down here:
`EFFICIENCY` of the vendor's dense peak, in the precision the phase runs in: mixed (fp16 on a T4, bf16 from
an A100 on: training, the Trainer's evaluations, a teacher's soft targets under autocast) or fp32 (held-out
scores: `kd.measure.evaluate_accuracy`, `kd.lm.evaluate_next_token`, `predict_proba`, which the notebooks compare
across devices). A step overhead (Python, kernel launches, data) dominates tiny models; it is added to the
compute, never overlapped with it, which is what a loss scaler's per-step check of its gradients (a sync of the
GPU with the host) forces on a T4. These are estimates, and each constant below says whether it was measured or
assumed.
"""
from __future__ import annotations

from dataclasses import dataclass

from .profiles import Profile
from .workloads import NOTEBOOK_WORK, Phase

EFFICIENCY = 0.25  # assumed share of a GPU's peak that BERT-size training reaches with the Trainer
# seconds per optimiser step or batch beyond the FLOPs. "transformer": measured on an H100, where notebook 02's
# full fine-tuning of a bert-base-sized model (gpu profile, 4,000 Trainer steps of 32 snippets, bf16) took
# 283 s: ~0.07 s a step, almost all of it launch and Python overhead (the FLOPs need ~2 ms there); assumed
# no faster on a Colab T4's host. "small" (an MNIST MLP step): assumed.
# "generate": one new token of `generate` for a batch of a small causal LM (launch-bound, ~30 layers of kernels): assumed.
STEP_OVERHEAD_S = {"transformer": 0.065, "small": 0.002, "generate": 0.03}
# The same on the course's CPU, where a step's Python and autograd bookkeeping costs less than a GPU's launches: assumed.
CPU_STEP_OVERHEAD_S = {"transformer": 0.01, "small": 0.0002, "generate": 0.005}
CPU_THREAD_FLOPS = 60e9  # one fp32 CPU thread: measured 60 GFLOP/s on the course's 2-core machine
SETUP_S = 60.0  # per notebook on a GPU machine: imports, loading models and data, tokenising (assumed)
# The same on the course's CPU, measured: notebook 00 (imports and the course map, nothing trained) ran in 8 s,
# and notebook 05 in 23 s, 9 s beyond the work counted for it.
CPU_SETUP_S = 10.0
# Bytes of memory traffic per trained parameter and optimiser step, beyond the FLOPs: AdamW reads the weight, its
# gradient and two moments and writes three of them back (7 x 4 bytes); autocast writes an fp16 copy of each
# weight every step (read 4, write 2); a loss scaler reads and rewrites every gradient to unscale it and reads it
# once more to look for inf (12). Counted from what PyTorch's AdamW and GradScaler do, not measured.
OPTIMIZER_BYTES, AUTOCAST_BYTES, SCALER_BYTES = 28, 6, 12
CUDA_CONTEXT_GB = 0.5  # CUDA's own context and PyTorch's kernels on the GPU, before any tensor: assumed


@dataclass(frozen=True)
class Device:
    """What a device sustains: FLOP/s peaks in mixed precision and in fp32, memory bandwidth and size."""
    mixed: float  # dense fp16/bf16 peak, FLOP/s (a CPU: its fp32 rate)
    fp32: float  # dense fp32 peak, FLOP/s
    bandwidth: float  # bytes/s
    memory_gb: float  # what a notebook may use
    loss_scaling: bool  # fp16 with a GradScaler (a T4), not bf16 or fp32
    efficiency: float  # share of the peaks sustained
    overhead: dict  # seconds per step, by phase size
    setup: float  # seconds per notebook before its work
    source: str


DEVICES = {
    "Colab T4": Device(65e12, 8.1e12, 320e9, 15.0, True, EFFICIENCY, STEP_OVERHEAD_S, SETUP_S,
                       "NVIDIA T4 datasheet: 65 TFLOP/s fp16 mixed, 8.1 fp32, 320 GB/s, 16 GB (15 GB visible on Colab)"),
    "A100": Device(312e12, 19.5e12, 1555e9, 40.0, False, EFFICIENCY, STEP_OVERHEAD_S, SETUP_S,
                   "NVIDIA A100 40GB datasheet: 312 TFLOP/s bf16 dense, 19.5 fp32, 1,555 GB/s"),
    "H100": Device(989e12, 67e12, 3350e9, 80.0, False, EFFICIENCY, STEP_OVERHEAD_S, SETUP_S,
                   "NVIDIA H100 SXM datasheet: 989 TFLOP/s bf16 dense, 67 fp32, 3.35 TB/s"),
    # bandwidth as AdamW sees it, measured at 2 threads over 100 tensors: 17.4M parameters in 37 ms (13 GB/s at 28
    # bytes each), 67M in 288 ms (6.5 GB/s)
    "CPU (2 threads)": Device(2 * CPU_THREAD_FLOPS, 2 * CPU_THREAD_FLOPS, 10e9, 24.0, False, 1.0, CPU_STEP_OVERHEAD_S,
                              CPU_SETUP_S,
                              "the course's machine: 2 threads at the measured 60 GFLOP/s each, fp32; AdamW at ~10 GB/s"),
}


def phases(notebook: str, profile: Profile) -> list[Phase]:
    """The work of one notebook (a file name from kd.course.NOTEBOOKS) at this profile's sizes."""
    if notebook not in NOTEBOOK_WORK:
        raise ValueError(f"No workload for {notebook!r}; known: {', '.join(NOTEBOOK_WORK)}.")
    return NOTEBOOK_WORK[notebook](profile)


def seconds(work: list[Phase], device: str = "Colab T4", cached: bool = True) -> float:
    """Estimated seconds of `work` on `device` (a key of DEVICES): each phase's FLOPs at the device's efficiency
    of its peak in the phase's precision, plus its steps' overhead, plus its optimiser steps' memory traffic
    (AdamW, autocast's weight copies, a loss scaler's passes over the gradients), plus the device's setup; CPU phases at
    CPU_THREAD_FLOPS (one thread, as the notebooks measure latency). `cached=False` leaves out the phases that
    rebuild an earlier notebook's artifact (a machine that ran the course in order has them); a CPU device leaves
    out the phases of GPU-only cells."""
    if device not in DEVICES:
        raise ValueError(f"Unknown device {device!r}; known: {', '.join(DEVICES)}.")
    d = DEVICES[device]
    autocast = d.mixed > d.fp32  # a device with faster mixed precision uses it, and pays its weight copies
    per_param = OPTIMIZER_BYTES + (AUTOCAST_BYTES if autocast else 0) + (SCALER_BYTES if d.loss_scaling else 0)
    total = d.setup
    for ph in work:
        if (ph.cached and not cached) or (ph.gpu_only and device.startswith("CPU")):
            continue  # an earlier notebook's artifact, or a cell that a CPU skips
        if ph.on == "cpu":
            total += ph.flops / CPU_THREAD_FLOPS
            continue
        rate = (d.mixed if ph.precision == "mixed" else d.fp32) * d.efficiency
        updates = ph.steps if ph.updates is None else ph.updates
        total += ph.flops / rate + ph.steps * d.overhead[ph.size] + updates * ph.trained * per_param / d.bandwidth
    return total


def estimate_minutes(profile: Profile, device: str = "Colab T4") -> dict[str, float]:
    """Estimated minutes per notebook of the course on `device` at `profile`'s sizes."""
    return {nb: seconds(phases(nb, profile), device) / 60 for nb in NOTEBOOK_WORK}


def peak_memory_gb(notebook: str, profile: Profile) -> float:
    """Estimated peak GPU memory of a notebook in GB (1e9 bytes): its largest phase, plus CUDA's context."""
    return CUDA_CONTEXT_GB + max((ph.memory for ph in phases(notebook, profile)), default=0.0) / 1e9
