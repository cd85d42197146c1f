"""A student deployed with ONNX Runtime, as NLP practitioners ship one (notebook 04): exported from
PyTorch to an .onnx file, optionally with int8 weights (ONNX Runtime's dynamic quantisation), and
wrapped as a module so the course's accuracy and latency measurements run on it unchanged.
"""
from __future__ import annotations

import copy
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch
from torch import nn

from ..loop import eval_mode

INPUTS = ("input_ids", "attention_mask")


def export_onnx(model: nn.Module, tokenizer, path: str | Path, example_texts=("a fine film", "not good at all")) -> Path:
    """Export a sequence classifier to ONNX (batch size and length left free), weights inside the file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    enc = tokenizer(list(example_texts), padding=True, return_tensors="pt")
    example = {k: enc[k] for k in INPUTS}
    free = {k: {0: "batch", 1: "length"} for k in INPUTS}
    cpu_model = model if next(model.parameters()).device.type == "cpu" else copy.deepcopy(model).cpu()
    with eval_mode(cpu_model), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on operators it rewrites
        torch.onnx.export(cpu_model, (), path, kwargs=example, input_names=list(INPUTS), output_names=["logits"],
                          dynamic_shapes=free, dynamo=True, external_data=False, verbose=False,
                          report=False)
    return path


def quantize_onnx(path: str | Path, out: str | Path | None = None) -> Path:
    """An int8 copy of an exported model: ONNX Runtime's dynamic quantisation (weights stored as int8,
    activations quantised on the fly), the ONNX counterpart of `quantize_int8`."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = Path(path)
    out = Path(out) if out else path.with_name(path.stem + "_int8.onnx")
    logging.getLogger().setLevel(logging.ERROR)  # its advice to pre-process first (not needed for a transformer)
    quantize_dynamic(path, out, weight_type=QuantType.QInt8)
    return out


class OnnxClassifier(nn.Module):
    """An ONNX Runtime session that answers like a Hugging Face classifier: `model(input_ids=...,
    attention_mask=...).logits`, on the CPU, with `threads` threads (1 = the course's latency protocol).
    It holds no PyTorch weights; `size_mb` is the size of its .onnx file."""

    def __init__(self, path: str | Path, threads: int = 1):
        import onnxruntime as ort

        super().__init__()
        self.path = Path(path)
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
        options.log_severity_level = 3  # errors only
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    @property
    def size_mb(self) -> float:
        return self.path.stat().st_size / 1e6

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor):
        feed = {"input_ids": input_ids.cpu().numpy().astype(np.int64),
                "attention_mask": attention_mask.cpu().numpy().astype(np.int64)}
        return SimpleNamespace(logits=torch.from_numpy(self.session.run(["logits"], feed)[0]))
