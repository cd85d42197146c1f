"""Measuring models (notebooks 02-04 and 06): what a student costs and what it is worth.

    size       parameters, bytes on disk, and the int8 copy of a model
    speed      CPU latency (warm-up, fixed threads, percentiles), latency by batch size, GPU throughput
    accuracy   per-example correctness and accuracy of a text classifier
    seeds      one experiment over several seeds: mean and seed-to-seed spread, as a table
    compare    a row of the comparison table (accuracy, size, latency, speed-up)
    verdict    the course's one rule for "beyond the noise": a paired difference, seeds and examples, a 95 %
               interval; the share of a teacher's lead that distillation closed
    onnx       the student exported to ONNX Runtime (fp32 and int8), measured like the others
"""
from .accuracy import agreement, correct_predictions, evaluate_accuracy, with_class_bias
from .seeds import mean_std, seed_table
from .compare import model_row
from .verdict import Share, Verdict, share_of_gap, verdict
from .size import count_parameters, quantize_int8, size_on_disk_mb
from .speed import cpu_latency, gpu_throughput, latency_by_batch_size
from .onnx import OnnxClassifier, export_onnx, quantize_onnx
