"""Measuring models (notebooks 03 and 04): what a student costs and what it is worth.

    size       parameters, bytes on disk, and the int8 copy of a model
    speed      CPU latency (warm-up, fixed threads, percentiles), latency by batch size, GPU throughput
    accuracy   per-example correctness and accuracy of a text classifier
    seeds      one experiment over several seeds: mean and seed-to-seed spread, as a table
    compare    a comparison-table row, and a paired verdict on "did distillation help?" with its noise
    onnx       the student exported to ONNX Runtime (fp32 and int8), measured like the others
"""
from .accuracy import agreement, correct_predictions, evaluate_accuracy, with_class_bias
from .seeds import mean_std, seed_table
from .compare import compare_students, model_row, one_seed_verdict, seed_verdict
from .size import count_parameters, quantize_int8, size_on_disk_mb
from .speed import cpu_latency, gpu_throughput, latency_by_batch_size
from .onnx import OnnxClassifier, export_onnx, quantize_onnx
