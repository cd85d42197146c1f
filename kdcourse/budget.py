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

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace

from .distill.student import spread_layers, strided_layers
from .model_costs import encoder_config, per_token, shape, training_memory, vocab_head
from .profiles import Profile

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
SETUP_S = 60.0  # per notebook: imports, loading models and data, tokenising (assumed)
AVERAGE_TOKENS = {"rotten_tomatoes": 27, "sst2": 13, "next_sentence": 50, "mrpc": 55}  # per example (a pair: both
# sentences), [CLS] and [SEP] included. rotten_tomatoes and next_sentence: measured on data/ with the WordPiece
# tokenizer; sst2: assumed (short phrases); mrpc: assumed (two news sentences of about 22 words).
PAIR_ROWS = {"next_sentence": {"train": 16_239, "validation": 4_783, "test": 1_712},  # kd.data.next_sentence_pairs
             "mrpc": {"train": 3_301, "validation": 367, "test": 408}}  # kd.hub.load_mrpc
MASKED = 0.15  # share of positions whose vocabulary logits an MLM computes here
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
    source: str


DEVICES = {
    "Colab T4": Device(65e12, 8.1e12, 320e9, 15.0, True, EFFICIENCY, STEP_OVERHEAD_S,
                       "NVIDIA T4 datasheet: 65 TFLOP/s fp16 mixed, 8.1 fp32, 320 GB/s, 16 GB (15 GB visible on Colab)"),
    "A100": Device(312e12, 19.5e12, 1555e9, 40.0, False, EFFICIENCY, STEP_OVERHEAD_S,
                   "NVIDIA A100 40GB datasheet: 312 TFLOP/s bf16 dense, 19.5 fp32, 1,555 GB/s"),
    "H100": Device(989e12, 67e12, 3350e9, 80.0, False, EFFICIENCY, STEP_OVERHEAD_S,
                   "NVIDIA H100 SXM datasheet: 989 TFLOP/s bf16 dense, 67 fp32, 3.35 TB/s"),
    # bandwidth as AdamW sees it, measured at 2 threads over 100 tensors: 17.4M parameters in 37 ms (13 GB/s at 28
    # bytes each), 67M in 288 ms (6.5 GB/s)
    "CPU (2 threads)": Device(2 * CPU_THREAD_FLOPS, 2 * CPU_THREAD_FLOPS, 10e9, 24.0, False, 1.0, CPU_STEP_OVERHEAD_S,
                              "the course's machine: 2 threads at the measured 60 GFLOP/s each, fp32; AdamW at ~10 GB/s"),
}


@dataclass(frozen=True)
class Phase:
    """One piece of a notebook's work: FLOPs, steps or batches, where and in which precision it runs, the
    parameters each optimiser step updates, and the GPU memory it holds at its peak."""
    what: str
    flops: float
    steps: int
    on: str = "gpu"  # "gpu" (the notebook's device) or "cpu" (latency measurements: one CPU thread)
    size: str = "transformer"  # which step overhead applies: "transformer", "small" (MNIST) or "generate"
    precision: str = "mixed"  # "mixed" (autocast on a GPU) or "fp32" (held-out scores)
    trained: float = 0.0  # parameters an optimiser step updates (its memory traffic)
    updates: int | None = None  # optimiser steps, when they are not `steps` (a phase that generates)
    memory: float = 0.0  # bytes on the GPU at the phase's peak (0: small, not counted)
    cached: bool = False  # an artifact an earlier notebook builds and caches: paid here only on a fresh machine


# --- the notebooks' work -------------------------------------------------------------------------

def _sentiment_tokens(p: Profile, split: str) -> float:
    sizes = {"rotten_tomatoes": {"train": 10_200, "validation": 1_307, "test": 1_245},
             "sst2": {"train": 63_981, "validation": 3_368, "test": 872}}[p.sentiment]
    cap = p.finetune.train_size if split == "train" else p.finetune.eval_size
    n = sizes[split] if cap is None else min(cap, sizes[split])
    return n * min(AVERAGE_TOKENS[p.sentiment], p.finetune.max_length)


def _fine_tune(p: Profile, epochs: float, train_tokens: float, per_token: float, what: str,
               model: SimpleNamespace | None = None, frozen: float = 0.0) -> list[Phase]:
    """Trainer fine-tuning of a classifier (`model`: its shape, the encoder by default) with a validation pass
    per epoch (the Trainer's, under autocast); `frozen`: parameters of a teacher held on the GPU beside it."""
    f = p.finetune
    model = model or shape("encoder", p.encoder)
    steps = int(epochs * train_tokens / min(AVERAGE_TOKENS[p.sentiment], f.max_length) / f.batch_size)
    evals = (epochs + 1) * _sentiment_tokens(p, "validation") * per_token
    return [Phase(what, 3 * epochs * train_tokens * per_token + evals, steps, trained=model.params,
                  memory=training_memory(model, f.batch_size, f.max_length, frozen=frozen))]


def _mlm_teacher(p: Profile, what: str = "MLM head on the frozen encoder") -> list[Phase]:
    c = p.pretrain
    enc = per_token("encoder", p.encoder, c.max_length)
    hidden = encoder_config(p.encoder).hidden_size
    encoded = (c.head_sequences + c.eval_sequences) * c.max_length
    head = 3 * c.steps * c.batch_size * c.max_length * MASKED * vocab_head(hidden)
    return [Phase(what, encoded * enc + head, c.steps, trained=hidden * hidden + hidden * 30522)]


def _notebook_01(p: Profile) -> list[Phase]:
    c = p.pretrain
    dims = dict(layers=c.num_layers, hidden=c.hidden_size)
    tokens = c.steps * c.batch_size * c.max_length
    evals = (c.steps // c.eval_every + 2) * c.eval_sequences * c.max_length
    bert = per_token("encoder", p.encoder, c.max_length, **dims) + MASKED * vocab_head(c.hidden_size)
    gpt = per_token("tiny_gpt", p.encoder, c.max_length, **dims)
    return [Phase("tiny BERT, MLM", (3 * tokens + evals) * bert, c.steps,
                  trained=shape("encoder", p.encoder, **dims).params),
            Phase("tiny GPT, CLM", (3 * tokens + evals) * gpt, c.steps, trained=shape("tiny_gpt", p.encoder, **dims).params),
            *_mlm_teacher(p),
            *_mlm_teacher(p, "the same head on a random-weight copy of the encoder (control)"),
            Phase("scoring and generating with the causal LM",
                  200 * c.generate_tokens * per_token("causal_lm", p.causal_lm, 32), 10 * c.generate_tokens)]


def _notebook_02(p: Profile) -> list[Phase]:
    f = p.finetune
    enc = per_token("encoder", p.encoder, min(AVERAGE_TOKENS[p.sentiment], f.max_length))
    train = _sentiment_tokens(p, "train")
    demo = min(f.lr_demo_size, train / AVERAGE_TOKENS[p.sentiment]) * AVERAGE_TOKENS[p.sentiment]
    n = len(f.seeds)  # the three ways are trained once per seed
    return [*_fine_tune(p, n * f.epochs, train, enc, f"full fine-tuning ({n} seed(s))"),
            *_fine_tune(p, n * f.epochs, train, enc, f"random init ({n} seed(s))"),
            Phase(f"frozen encoder + head ({n} seed(s))",
                  n * (f.epochs + 1) * (train + _sentiment_tokens(p, "validation")) * enc,
                  int(n * f.epochs * train / AVERAGE_TOKENS[p.sentiment] / f.batch_size)),
            Phase("test predictions of every run (predict_proba, fp32)", 3 * n * _sentiment_tokens(p, "test") * enc, 0,
                  precision="fp32"),
            *_fine_tune(p, 2, demo, enc, "learning-rate demo (2 runs, 1 epoch)"),
            *_fine_tune(p, 2, demo, enc, "precision demo (fp32 and mixed, 1 epoch)"),
            *_sentence_pairs(p)]


def _sentence_pairs(p: Profile) -> list[Phase]:
    """Notebook 02, section 9: the frozen and the full way on sentence pairs, once per seed, and their test
    predictions."""
    c, f, rows = p.pairs, p.finetune, PAIR_ROWS[p.pair_task]
    n = {split: rows[split] if cap is None else min(cap, rows[split])
         for split, cap in (("train", c.train_size), ("validation", c.eval_size), ("test", c.test_size))}
    length = min(AVERAGE_TOKENS[p.pair_task], c.max_length)
    enc, model = per_token("encoder", p.encoder, length), shape("encoder", p.encoder)
    seeds, train, evals = len(f.seeds), n["train"] * length, f.epochs * n["validation"] * length * enc
    steps = int(seeds * f.epochs * n["train"] / f.batch_size)
    return [Phase(f"sentence pairs: full fine-tuning ({seeds} seed(s))", seeds * (3 * f.epochs * train * enc + evals),
                  steps, trained=model.params, memory=training_memory(model, f.batch_size, c.max_length)),
            Phase(f"sentence pairs: frozen encoder + head ({seeds} seed(s))", seeds * (f.epochs * train * enc + evals),
                  steps),
            Phase("sentence pairs: test predictions (fp32)", 2 * seeds * n["test"] * length * enc, 0, precision="fp32")]


def _mnist_fits(p: Profile) -> list[Phase]:
    m = p.mnist
    n = 60_000 if m.train_size is None else m.train_size
    fit_n = n - m.validation_size  # sections 6 and 7 train without the validation images
    cnn, mlp = 9.3e6, 2 * (784 * 1200 + 1200 * 1200 + 1200 * 10)  # forward FLOPs per image
    student = 2 * 784 * 80  # forward FLOPs of the 80-80 MLP student, per image
    seeds = len(m.seeds)
    batches = lambda epochs, images=n: int(epochs * images / m.batch_size)  # noqa: E731
    small = seeds * 2 * m.student_epochs * 2  # section 5's students and the tiny students
    sweep = 16 * m.sweep_epochs
    patient = seeds * 2 * m.patient_epochs
    hinton = 2 * seeds + 2  # section 8: alone and distilled per seed, the CNN-taught student; section 9's student
    few_steps = batches(m.few_label_epochs)  # each few-label student's steps, the student alone's as many
    few_students = len(m.few_labels) * seeds * 4  # alone, pseudo-labels, hard targets and distilled, per N and seed
    few = [Phase(f"few labels: {len(m.few_labels)} CNN teachers on N labels, their logits on every image",
                 sum(m.few_label_teacher_steps * min(k, m.batch_size) * 3 * cnn + n * cnn for k in m.few_labels),
                 len(m.few_labels) * m.few_label_teacher_steps, size="small"),
           Phase(f"few labels: {few_students} students", few_students * few_steps * m.batch_size * 3 * student,
                 few_students * few_steps, size="small")]
    return [Phase("CNN teachers (course + GPU cell)", 2 * m.teacher_epochs * n * 3 * cnn,
                  batches(2 * m.teacher_epochs), size="small"),
            Phase("MLP students (section 5, tiny)", small * n * 3 * student, batches(small), size="small"),
            Phase("T x alpha sweep on validation", sweep * fit_n * 3 * student, batches(sweep, fit_n), size="small"),
            Phase("teacher labels the jittered copies", m.copies * fit_n * cnn, 0, size="small"),
            Phase("patient, consistent students", patient * fit_n * 3 * student, batches(patient, fit_n), size="small"),
            Phase(f"Hinton's MLPs (teacher + {hinton} students)",
                  (m.hinton_teacher_epochs + hinton * m.hinton_epochs) * n * 3 * mlp,
                  batches(m.hinton_teacher_epochs + hinton * m.hinton_epochs), size="small"), *few]


def _notebook_05(p: Profile) -> list[Phase]:
    m = p.mnist
    n = 60_000 if m.train_size is None else m.train_size
    teacher, student = 2 * (784 * 512 + 512 * 512 + 512 * 10), 2 * (784 * 100 + 100 * 10)  # forward FLOPs per image
    batches = int(m.teacher_epochs * n / m.batch_size)  # the teacher, then two students as long (aligned, misaligned)
    return [Phase("the 512-512 MLP teacher", 3 * m.teacher_epochs * n * teacher, batches, size="small"),
            Phase("its logits, then two students on them", n * teacher + 2 * 3 * m.teacher_epochs * n * student,
                  2 * batches, size="small")]


def _notebook_04(p: Profile) -> list[Phase]:
    d, f = p.distillation, p.finetune
    length = min(AVERAGE_TOKENS[p.sentiment], f.max_length)
    teacher = per_token("encoder", p.encoder, length)
    layers = len(strided_layers(SimpleNamespace(config=encoder_config(p.encoder)), d.layer_stride))
    student = per_token("encoder", p.encoder, length, layers=layers)
    big, small = shape("encoder", p.encoder), shape("encoder", p.encoder, layers=layers)
    train = _sentiment_tokens(p, "train") if d.train_size is None else d.train_size * length
    runs = 4 * len(d.seeds) + 2  # 2 starts x alone/distilled x seeds, + random init, GPU cell
    c = p.pretrain
    general = d.general_steps * d.general_batch_size * c.max_length * (
        per_token("encoder", p.encoder, c.max_length) + 3 * per_token("encoder", p.encoder, c.max_length, layers=layers))
    general_memory = training_memory(small, d.general_batch_size, c.max_length, frozen=big.params,
                                      vocab_positions=2 * MASKED * c.max_length)  # student's and teacher's logits
    passes = 1 + d.transfer_copies  # section 6: the transfer set is this many times the training set
    headline = [Phase("teacher logits on the transfer set", passes * train * teacher, 0),
                *_fine_tune(p, 2 * len(d.seeds) * passes * d.epochs, train, student,
                            "headline students (alone and distilled, the same steps)", small, big.params)]
    pools = d.few_label_pools(round(train / length))  # N -> its pool sizes in snippets (the pool curve at the largest N)
    few = [phase for n, sizes in pools.items() for phase in (
        *_fine_tune(p, d.few_label_epochs(n, f.batch_size), n * length, teacher, f"teacher on {n} labels"),
        Phase(f"its logits on the largest pool ({n} labels)", max(sizes) * length * teacher, 0),
        *_fine_tune(p, len(d.seeds) * (1 + len(sizes)), max(sizes) * length, student,  # one alone, one per pool
                    f"students with {n} labels on pools of {', '.join(map(str, sizes))} (alone, distilled)",
                    small, big.params))]
    other = 2 * (d.other_domain_size or 2_500) * length  # two other domains, every student and the teacher scored
    scored = 4 * len(d.seeds) + 2 * len(d.seeds) + 1  # sections 5 and 6, the random-init student
    models = 5  # teacher, student, torch int8, ONNX Runtime fp32 and int8
    latency = models * ((d.latency_runs + 5) * length + (d.latency_runs // 3 + 5) * 32 * length)
    rebuilt = [dataclasses.replace(ph, cached=True) for ph in (
        *_fine_tune(p, f.epochs, _sentiment_tokens(p, "train"), teacher, "the teacher (02's; a fresh VM rebuilds it)"),
        *_mlm_teacher(p, "the MLM head (01's; a fresh VM rebuilds it)"))]
    return [*rebuilt,
            Phase("teacher logits (autocast)", train * teacher, 0),
            Phase("evaluations (evaluate_accuracy, fp32)", 20 * _sentiment_tokens(p, "test") * teacher, 0,
                  precision="fp32"),
            Phase("other domains: the teacher and every student of sections 5-6 (fp32)", other * (teacher + scored * student),
                  0, precision="fp32"),
            *_fine_tune(p, runs * d.epochs, train, student, f"{runs} student runs", small, big.params),
            *headline, *few,
            Phase("general distillation (2 variants) + their fine-tuning",
                  2 * general + 2 * 3 * d.epochs * train * student,
                  2 * (d.general_steps + int(d.epochs * train / length / d.batch_size)), trained=small.params,
                  memory=general_memory),
            Phase("CPU: int8 and ONNX students evaluated, latency of 5 models",
                  latency * (teacher + student) / 2 + 3 * _sentiment_tokens(p, "test") * student, 0, on="cpu")]


def _notebook_06(p: Profile) -> list[Phase]:
    c = p.lm_distillation
    depth = 30 if p.lm_teacher == "offline" else 32  # SmolLM2-135M, SmolLM2-360M
    teacher = per_token("causal_lm", p.lm_teacher, c.block_size)
    layers = len(spread_layers(SimpleNamespace(config=SimpleNamespace(num_hidden_layers=depth)), c.student_layers))
    student = per_token("causal_lm", p.lm_teacher, c.block_size, layers=layers)
    big, small = shape("causal_lm", p.lm_teacher), shape("causal_lm", p.lm_teacher, layers=layers)
    tokens = c.steps * c.batch_size * c.block_size  # one student run
    runs = 2 * len(c.seeds) + 2  # plain and top-k per seed; reverse KL and sequence-level at one seed
    # the compute-matched plain student: the teacher's pass over the training blocks, paid in plain steps
    matched = c.steps + round(teacher * c.train_blocks / (3 * student * c.batch_size))
    off_policy = c.on_policy_steps * c.on_policy_batch_size * c.block_size  # the off-policy reverse-KL control
    evals = (runs + 8) * c.eval_blocks * c.block_size * student  # the runs, the copy, the control, on-policy, pitfalls
    prompts = c.train_blocks // c.generate_batch_size
    on_policy = 2 * c.on_policy_steps + c.on_policy_full_steps  # reverse and forward runs, the GPU cell's longer one
    written = on_policy * c.on_policy_batch_size * c.block_size  # prompt + the student's continuation
    return [Phase("teacher top-k over the training and held-out blocks",
                  (c.train_blocks + 2 * c.eval_blocks) * c.block_size * teacher, 0),
            Phase(f"{runs + 2} student runs (one compute-matched, one off-policy control)",
                  3 * student * (runs * tokens + matched * c.batch_size * c.block_size + off_policy),
                  runs * c.steps + matched + c.on_policy_steps, trained=small.params,
                  memory=training_memory(small, c.batch_size, c.block_size, frozen=big.params,
                                          vocab_positions=c.block_size)),
            Phase("evaluations (evaluate_next_token, fp32)", evals, 0, precision="fp32"),
            Phase("the teacher's continuations (sequence-level)",
                  c.train_blocks * c.generate_tokens * teacher, prompts * c.generate_tokens, size="generate"),
            Phase("on-policy steps (TRL): the student writes, the teacher scores",
                  written * (4 * student + teacher), on_policy * (c.generate_tokens + 1), size="generate",
                  trained=small.params, updates=on_policy,
                  memory=training_memory(small, c.on_policy_batch_size, c.block_size, frozen=big.params,
                                          vocab_positions=2 * c.block_size)),  # the student's and teacher's logits
            Phase("CPU: tokens per second of teacher and student", 10 * c.block_size * (teacher + student), 0,
                  on="cpu")]


NOTEBOOK_WORK = {"00_welcome_and_setup.ipynb": lambda p: [],
                 "01_pretraining_objectives.ipynb": _notebook_01,
                 "02_finetuning_bert.ipynb": _notebook_02,
                 "03_distilling_mnist.ipynb": _mnist_fits,
                 "04_bert_to_distilbert.ipynb": _notebook_04,
                 "05_distillation_pitfalls.ipynb": _notebook_05,
                 "06_distilling_a_language_model.ipynb": _notebook_06}


def phases(notebook: str, profile: Profile) -> list[Phase]:
    """The work of one notebook (a file name from kd.course.NOTEBOOKS) at this profile's sizes."""
    if notebook not in NOTEBOOK_WORK:
        raise ValueError(f"No workload for {notebook!r}; known: {', '.join(NOTEBOOK_WORK)}.")
    return NOTEBOOK_WORK[notebook](profile)


def seconds(work: list[Phase], device: str = "Colab T4", cached: bool = True) -> float:
    """Estimated seconds of `work` on `device` (a key of DEVICES): each phase's FLOPs at the device's efficiency
    of its peak in the phase's precision, plus its steps' overhead, plus its optimiser steps' memory traffic
    (AdamW, autocast's weight copies, a loss scaler's passes over the gradients), plus SETUP_S; CPU phases at
    CPU_THREAD_FLOPS (one thread, as the notebooks measure latency). `cached=False` leaves out the phases that
    rebuild an earlier notebook's artifact (a machine that ran the course in order has them)."""
    if device not in DEVICES:
        raise ValueError(f"Unknown device {device!r}; known: {', '.join(DEVICES)}.")
    d = DEVICES[device]
    autocast = d.mixed > d.fp32  # a device with faster mixed precision uses it, and pays its weight copies
    per_param = OPTIMIZER_BYTES + (AUTOCAST_BYTES if autocast else 0) + (SCALER_BYTES if d.loss_scaling else 0)
    total = SETUP_S
    for ph in work:
        if ph.cached and not cached:
            continue
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
