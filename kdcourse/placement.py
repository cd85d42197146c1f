"""The placement rehearsal: a second device on a machine that has only a CPU.

Not taught in a notebook; it guards them. On a GPU, a model moved to `cuda` and called with a batch left on
the CPU fails ("Expected all tensors to be on the same device"), and so does a loss that mixes a GPU tensor
with a CPU one. On a CPU, where everything is on one device, nothing can show that mistake. `simulate()`
makes the course's device a pretend `cuda:0`: every tensor moved there (`.to(kd.device.device())`,
`kd.loop.to_model`, a factory given `device=`) is a CPU tensor marked as being on the accelerator, and the
mark spreads to what is computed from it. When a marked and an unmarked tensor meet in any operation that
would fail on a real GPU, it raises PyTorch's own error. Libraries see the pretend device too
(`tensor.device` reports `cuda:0`), so tensors that transformers creates with `device=x.device` follow
their inputs, as on a GPU. What it cannot see: the speed and dtypes of a GPU (precision is fp32 here; see
tests/test_precision.py for fp16), and libraries that ask `torch.cuda.is_available()` themselves (the
Trainer, TRL) keep their models on the CPU, as they would keep them consistently on a GPU.

    KDCOURSE_PLACEMENT=simulate  ->  `import kdcourse` turns it on (make rehearse sets it)
"""
from __future__ import annotations

import contextlib
import os

import torch
from torch.overrides import TorchFunctionMode

ACCELERATOR = torch.device("cuda", 0)
_MARK = "_kd_on_accelerator"
# Operations that accept tensors on two devices on a real GPU: moves and copies, indexing with CPU indices.
_MIXING_ALLOWED = {torch.Tensor.to, torch.Tensor.copy_, torch.Tensor.__getitem__, torch.Tensor.__setitem__,
                   torch.Tensor.cpu, torch.Tensor.cuda, torch.Tensor.__repr__, torch.Tensor.__format__,
                   torch._has_compatible_shallow_copy_type}  # Module.to compares a tensor with its moved copy
_DEVICE, _IS_CUDA, _DATA = torch.Tensor.device, torch.Tensor.is_cuda, torch.Tensor.data  # attribute descriptors


def _descriptor(func, method: str):
    """The attribute descriptor whose `method` ('__get__', '__set__') `func` is (how a mode sees `t.device`)."""
    return getattr(func, "__self__", None) if getattr(func, "__name__", "") == method else None


def on_accelerator(t: torch.Tensor) -> bool:
    """Whether `t` is marked as being on the pretend GPU."""
    return getattr(t, _MARK, False)


def _mark(out, value: bool = True):
    if isinstance(out, torch.Tensor):
        setattr(out, _MARK, value)
    elif isinstance(out, (tuple, list)):
        for o in out:
            _mark(o, value)
    elif isinstance(out, dict):
        for o in out.values():
            _mark(o, value)
    return out


def _tensors(args, kwargs):
    for a in (*args, *kwargs.values()):
        if isinstance(a, torch.Tensor):
            yield a
        elif isinstance(a, (tuple, list)):
            yield from (x for x in a if isinstance(x, torch.Tensor))


def _is_accelerator(target) -> bool | None:
    """True for a cuda device (or a marked tensor), False for the cpu (or an unmarked tensor), None when `target`
    names neither (a dtype, the meta device)."""
    if isinstance(target, torch.Tensor):
        return on_accelerator(target)
    if isinstance(target, int) and not isinstance(target, bool):  # device=0 is cuda:0
        return True
    if isinstance(target, (str, torch.device)):
        return {"cuda": True, "cpu": False}.get(torch.device(target).type)
    return None


class SimulatedAccelerator(TorchFunctionMode):
    """The torch function mode behind `simulate()` (see the module docstring)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        getter = _descriptor(func, "__get__")
        if getter is _DEVICE:
            return ACCELERATOR if on_accelerator(args[0]) else func(*args)
        if getter is _IS_CUDA:
            return on_accelerator(args[0])
        if _descriptor(func, "__set__") is not None:  # `t.data = other` (Module.to) moves t where other is
            func(*args)
            if _descriptor(func, "__set__") is _DATA:
                _mark(args[0], on_accelerator(args[1]))
            return None
        if func in (torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu):
            return self._move(func, args, kwargs)
        if func is torch._C._nn._parse_to:  # Module.to reading its arguments: the device is kept, as named
            return func(*args, **kwargs)
        if func is torch.Tensor.numpy and on_accelerator(args[0]):
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                            "to host memory first. (kd.placement: the course's device is simulated)")
        to_accelerator = _is_accelerator(kwargs.get("device"))
        if to_accelerator:
            kwargs = {**kwargs, "device": "cpu"}
        tensors = list(_tensors(args, kwargs))
        marked = [t for t in tensors if on_accelerator(t)]
        if marked and func not in _MIXING_ALLOWED:
            unmarked = [t for t in tensors if not on_accelerator(t) and t.dim() > 0]  # a CPU scalar may mix
            if unmarked:
                name = getattr(func, "__qualname__", getattr(func, "__name__", str(func)))
                raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, "
                                   f"cuda:0 and cpu! (in {name}; kd.placement simulates the GPU: put inputs where "
                                   f"their model is with kd.loop.to_model)")
        out = func(*args, **kwargs)
        return _mark(out) if (marked or to_accelerator) else out

    def _move(self, func, args, kwargs):
        tensor, rest = args[0], list(args[1:])
        if func is torch.Tensor.cuda:
            target = True
        elif func is torch.Tensor.cpu:
            target = False
        else:
            target = None
            for i, a in enumerate(rest):
                found = _is_accelerator(a)
                if found is not None:
                    target = found
                    rest[i] = "cpu" if found and not isinstance(a, torch.Tensor) else a  # a cuda device: the CPU
            if _is_accelerator(kwargs.get("device")) is not None:
                target, kwargs = _is_accelerator(kwargs["device"]), {**kwargs, "device": "cpu"}
        if func is torch.Tensor.cuda:
            out = tensor.to("cpu", **{k: v for k, v in kwargs.items() if k == "non_blocking"})
        elif func is torch.Tensor.cpu:
            out = tensor.to("cpu")
        else:
            out = torch.Tensor.to(tensor, *rest, **kwargs)
        if target is None:  # no device named (a dtype change): it stays where it is
            target = on_accelerator(tensor)
        if out is tensor and target != on_accelerator(tensor) and not isinstance(tensor, torch.nn.Parameter):
            out = tensor.clone()  # a real move copies: the tensor left behind keeps its device
        return _mark(out, target)


_ACTIVE = None  # the simulation turned on by the environment, for the rest of the process


@contextlib.contextmanager
def simulate():
    """Inside the block, the course's device is a pretend `cuda:0` on the CPU (see the module docstring),
    in fp32 with no loss scaler, and a tensor on the wrong device raises as on a GPU."""
    from . import device as dev

    saved = {name: getattr(dev, name) for name in ("device", "precision", "synchronize", "describe")}
    dev.device = lambda: ACCELERATOR
    dev.precision = lambda on=None: "fp32"
    dev.synchronize = lambda on=None: None
    dev.describe = lambda: f"cuda:0 simulated on the CPU ({torch.get_num_threads()} threads) by kd.placement, fp32"
    try:
        with SimulatedAccelerator():
            yield
    finally:
        for name, value in saved.items():
            setattr(dev, name, value)


def simulate_from_environment() -> bool:
    """Turn the simulation on for the rest of the process when KDCOURSE_PLACEMENT=simulate (a notebook kernel
    of the rehearsal); returns whether it did. Any other value than '' or 'simulate' is an error."""
    global _ACTIVE
    value = os.environ.get("KDCOURSE_PLACEMENT", "")
    if value not in ("", "simulate"):
        raise ValueError(f"KDCOURSE_PLACEMENT={value!r}: the only value is 'simulate' (or leave it unset).")
    if value and _ACTIVE is None:
        _ACTIVE = simulate()  # kept: a context manager that is garbage-collected would end the simulation
        _ACTIVE.__enter__()
    return bool(value)
