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
import weakref

import torch
from torch.overrides import TorchFunctionMode

ACCELERATOR = torch.device("cuda", 0)
# The marks: id(tensor) -> a weak reference to it (no attribute on the tensor, so nothing is pickled with it).
_MARKS: dict[int, weakref.ref] = {}
# Operations that accept tensors on two devices on a real GPU: moves and copies into a tensor, printing.
_MIXING_ALLOWED = {torch.Tensor.to, torch.Tensor.copy_, torch.Tensor.cpu, torch.Tensor.cuda, torch.Tensor.__repr__,
                   torch.Tensor.__format__,
                   torch._has_compatible_shallow_copy_type}  # Module.to compares a tensor with its moved copy
_INDEXING = {torch.Tensor.__getitem__, torch.Tensor.__setitem__}  # CPU indices into a GPU tensor are fine
_JOINING = {torch.cat, torch.stack, torch.hstack, torch.vstack, torch.concat}  # no CPU-scalar exception there
_TO_NUMPY = {torch.Tensor.numpy, torch.Tensor.__array__}  # np.asarray(t) goes through __array__
_DEVICE, _IS_CUDA, _IS_CPU, _DATA = torch.Tensor.device, torch.Tensor.is_cuda, torch.Tensor.is_cpu, torch.Tensor.data
_IN_PLACE_OPERATORS = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__ipow__", "__imatmul__",
                       "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__"}


def _descriptor(func, method: str):
    """The attribute descriptor whose `method` ('__get__', '__set__') `func` is (how a mode sees `t.device`)."""
    return getattr(func, "__self__", None) if getattr(func, "__name__", "") == method else None


def on_accelerator(t: torch.Tensor) -> bool:
    """Whether `t` is marked as being on the pretend GPU."""
    ref = _MARKS.get(id(t))
    return ref is not None and ref() is t


def _mark(out, value: bool = True):
    if isinstance(out, torch.Tensor):
        if value:
            key = id(out)
            _MARKS[key] = weakref.ref(out, lambda _, key=key: _MARKS.pop(key, None))
        else:
            _MARKS.pop(id(out), None)
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


def _in_place(func, args, kwargs) -> bool:
    """Whether `func` writes into its first argument (`add_`, `+=`) or into `out=`."""
    name = getattr(func, "__name__", "")
    return "out" in kwargs or name in _IN_PLACE_OPERATORS or (
        name.endswith("_") and not name.startswith("_") and bool(args) and isinstance(args[0], torch.Tensor))


def _mixed(func):
    name = getattr(func, "__qualname__", getattr(func, "__name__", str(func)))
    return RuntimeError(f"Expected all tensors to be on the same device, but found at least two devices, cuda:0 and "
                        f"cpu! (in {name}; kd.placement simulates the GPU: put inputs where their model is with "
                        f"kd.loop.to_model)")


class SimulatedAccelerator(TorchFunctionMode):
    """The torch function mode behind `simulate()` (see the module docstring)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        getter = _descriptor(func, "__get__")
        if getter is _DEVICE:
            return ACCELERATOR if on_accelerator(args[0]) else func(*args)
        if getter is _IS_CUDA:
            return on_accelerator(args[0])
        if getter is _IS_CPU:
            return not on_accelerator(args[0])
        if _descriptor(func, "__set__") is not None:  # `t.data = other` (Module.to) moves t where other is
            func(*args)
            if _descriptor(func, "__set__") is _DATA:
                _mark(args[0], on_accelerator(args[1]))
            return None
        if func is torch.Tensor.get_device:
            return 0 if on_accelerator(args[0]) else -1
        if func in (torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu, torch.Tensor.type_as):
            return self._move(func, args, kwargs)
        if func is torch._C._nn._parse_to:  # Module.to reading its arguments: the device is kept, as named
            return func(*args, **kwargs)
        if func in _TO_NUMPY and on_accelerator(args[0]) and not kwargs.get("force"):
            raise TypeError("can't convert cuda:0 device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                            "to host memory first. (kd.placement: the course's device is simulated)")
        to_accelerator = _is_accelerator(kwargs.get("device"))
        if to_accelerator:
            kwargs = {**kwargs, "device": "cpu"}
        tensors = list(_tensors(args, kwargs))
        marked = [t for t in tensors if on_accelerator(t)]
        if func in (torch.tensor, torch.as_tensor) and args and not isinstance(args[0], torch.Tensor):
            marked = []  # data from Python (a list, even of GPU scalars): the CPU unless device= says otherwise
        in_place = _in_place(func, args, kwargs)
        if marked and func in _INDEXING:
            indices = list(_tensors(args[1:2], {}))
            if not on_accelerator(args[0]) and any(on_accelerator(i) for i in indices):
                raise RuntimeError("indices should be either on cpu or on the same device as the indexed tensor (cpu) "
                                   "(kd.placement simulates the GPU)")
        elif marked and func not in _MIXING_ALLOWED:
            scalars_mix = func not in _JOINING  # a 0-dim CPU tensor may meet a GPU tensor in arithmetic
            unmarked = [t for t in tensors if not on_accelerator(t) and (t.dim() > 0 or not scalars_mix)]
            if in_place and not on_accelerator(args[0] if "out" not in kwargs else kwargs["out"]):
                unmarked.append(args[0])  # writing GPU results into a CPU tensor, a scalar too
            if unmarked:
                raise _mixed(func)
        out = func(*args, **kwargs)
        if in_place or func in _MIXING_ALLOWED or func is torch.Tensor.__setitem__:
            return out  # the destination stays where it is
        if func is torch.Tensor.__getitem__:
            return _mark(out, on_accelerator(args[0]))
        return _mark(out) if (marked or to_accelerator) else out

    def _move(self, func, args, kwargs):
        tensor, rest = args[0], list(args[1:])
        if func is torch.Tensor.cuda:
            target = True
        elif func is torch.Tensor.cpu:
            target = False
        elif func is torch.Tensor.type_as:  # the dtype and the device of the other tensor
            target = on_accelerator(args[1])
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
            out = func(tensor, *rest, **kwargs)
        if target is None:  # no device named (a dtype change): it stays where it is
            target = on_accelerator(tensor)
        if out is tensor and target != on_accelerator(tensor):
            out = tensor.detach().clone().requires_grad_(tensor.requires_grad) if tensor.is_leaf else tensor.clone()
            # a real move copies: the tensor left behind keeps its device (Module.to assigns a parameter's copy
            # through `.data`, which moves the parameter itself)
        return _mark(out, target)


_PARAMETER_NEW = torch.nn.Parameter.__new__


def _parameter_new(cls, data=None, requires_grad=True):
    """nn.Parameter(data) where data is: a new Python object (deepcopy, nn.Linear(device=...)) that keeps the mark."""
    out = _PARAMETER_NEW(cls, data, requires_grad)
    return _mark(out) if data is not None and on_accelerator(data) else out


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
    torch.nn.Parameter.__new__ = _parameter_new
    try:
        with SimulatedAccelerator():
            yield
    finally:
        torch.nn.Parameter.__new__ = _PARAMETER_NEW
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
