"""How long each notebook takes on a device, estimated from its arithmetic: the FLOPs its training
and inference do at a profile's sizes, divided by what the device sustains, plus a fixed cost per
optimiser step. Printed by notebook 00's course map; a test keeps every `gpu` notebook under the
30 minutes of a free Colab T4 session.

FLOPs are counted exactly, by running each model once on PyTorch's `meta` device (shapes only, no
memory, no time) under `torch.utils.flop_counter.FlopCounterMode`; training costs 3x a forward
pass (forward + backward). What a device sustains is an ASSUMPTION, written down here:
`EFFICIENCY` of the vendor's dense 16-bit peak (fp32 for a CPU thread, measured). A step overhead
(Python, kernel launches, data) dominates tiny models. These are estimates, and each constant below
says whether it was measured or assumed.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from types import SimpleNamespace

from .distill.student import spread_layers, strided_layers
from .profiles import SMOLLM2_TEACHER, Profile

# name: (peak FLOP/s, source). Peaks: dense fp16/bf16 tensor-core numbers from NVIDIA's datasheets.
DEVICES = {
    "Colab T4": (65e12, "NVIDIA T4 datasheet, fp16 mixed precision"),
    "A100": (312e12, "NVIDIA A100 datasheet, bf16 dense"),
    "H100": (989e12, "NVIDIA H100 SXM datasheet, bf16 dense"),
}
EFFICIENCY = 0.25  # assumed share of the peak that BERT-size training reaches with the Trainer
# seconds per optimiser step or batch beyond the FLOPs. "transformer": measured on an H100, where notebook 02's
# full fine-tuning of a bert-base-sized model (gpu profile, 4,000 Trainer steps of 32 snippets, bf16) took
# 283 s: ~0.07 s a step, almost all of it launch and Python overhead (the FLOPs need ~2 ms there); assumed
# no faster on a Colab T4's host. "small" (an MNIST MLP step): assumed.
# "generate": one new token of `generate` for a batch of a small causal LM (launch-bound, ~30 layers of kernels): assumed.
STEP_OVERHEAD_S = {"transformer": 0.065, "small": 0.002, "generate": 0.03}
CPU_THREAD_FLOPS = 60e9  # one fp32 CPU thread: measured 60 GFLOP/s on the course's 2-core machine
SETUP_S = 60.0  # per notebook: imports, loading models and data, tokenising (assumed)
AVERAGE_TOKENS = {"rotten_tomatoes": 27, "sst2": 13}  # per example, [CLS] and [SEP] included
# rotten_tomatoes: measured on data/ with the WordPiece tokenizer; sst2: assumed (short phrases).
MASKED = 0.15  # share of positions whose vocabulary logits an MLM computes here


@dataclass(frozen=True)
class Phase:
    """One piece of a notebook's work: FLOPs, optimiser steps or batches, and where it runs."""
    what: str
    flops: float
    steps: int
    on: str = "gpu"  # "gpu" (the notebook's device) or "cpu" (latency measurements: one CPU thread)
    size: str = "transformer"  # which STEP_OVERHEAD_S applies: "transformer" or "small" (MNIST)


# --- model shapes --------------------------------------------------------------------------------

def _encoder_config(hub_id: str, layers: int | None = None, hidden: int | None = None):
    from transformers import BertConfig

    if hub_id == "offline":  # all-MiniLM-L6-v2
        c = BertConfig(hidden_size=384, num_hidden_layers=6, num_attention_heads=12, intermediate_size=1536)
    else:  # bert-base-uncased (the rehearsal's tiny copy is costed as the real thing)
        c = BertConfig()
    if hidden is not None:
        c = BertConfig(hidden_size=hidden, num_attention_heads=max(1, hidden // 64), intermediate_size=4 * hidden)
    if layers is not None:
        c.num_hidden_layers = layers
    return c


@functools.lru_cache(maxsize=None)
def _forward_flops(kind: str, hub_id: str, batch: int, length: int, layers: int | None = None,
                   hidden: int | None = None) -> float:
    """FLOPs of one forward pass on [batch, length] tokens, counted on the meta device."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from transformers import BertModel, GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM

    with torch.device("meta"):
        if kind == "encoder":
            model = BertModel(_encoder_config(hub_id, layers, hidden))
        elif kind == "tiny_gpt":
            model = GPT2LMHeadModel(GPT2Config(n_embd=hidden, n_layer=layers, n_head=max(1, hidden // 64),
                                               vocab_size=30522, n_positions=max(length, 8), bos_token_id=0,
                                               eos_token_id=0))
        elif hub_id == "offline":  # SmolLM2-135M
            model = LlamaForCausalLM(LlamaConfig(hidden_size=576, intermediate_size=1536, num_hidden_layers=layers or 30,
                                                 num_attention_heads=9, num_key_value_heads=3, vocab_size=49152))
        elif hub_id == SMOLLM2_TEACHER:  # SmolLM2-360M
            model = LlamaForCausalLM(LlamaConfig(hidden_size=960, intermediate_size=2560, num_hidden_layers=layers or 32,
                                                 num_attention_heads=15, num_key_value_heads=5, vocab_size=49152))
        else:
            model = GPT2LMHeadModel(GPT2Config())
        ids = torch.zeros(batch, length, dtype=torch.long)
    with FlopCounterMode(display=False) as counter:
        model(input_ids=ids)
    return float(counter.get_total_flops())


def _per_token(kind: str, hub_id: str, length: int, **shape) -> float:
    return _forward_flops(kind, hub_id, 1, length, **shape) / length


def _vocab_head(hidden: int, vocab: int = 30522) -> float:
    return 2 * hidden * (vocab + hidden)  # transform (h x h) and decoder (h x vocab), per token


# --- the notebooks' work -------------------------------------------------------------------------

def _sentiment_tokens(p: Profile, split: str) -> float:
    sizes = {"rotten_tomatoes": {"train": 10_200, "validation": 1_307, "test": 1_245},
             "sst2": {"train": 63_981, "validation": 3_368, "test": 872}}[p.sentiment]
    cap = p.finetune.train_size if split == "train" else p.finetune.eval_size
    n = sizes[split] if cap is None else min(cap, sizes[split])
    return n * min(AVERAGE_TOKENS[p.sentiment], p.finetune.max_length)


def _fine_tune(p: Profile, epochs: float, train_tokens: float, per_token: float, what: str) -> list[Phase]:
    f = p.finetune
    steps = int(epochs * train_tokens / min(AVERAGE_TOKENS[p.sentiment], f.max_length) / f.batch_size)
    evals = (epochs + 1) * _sentiment_tokens(p, "validation") * per_token
    return [Phase(what, 3 * epochs * train_tokens * per_token + evals, steps)]


def _mlm_teacher(p: Profile, what: str = "MLM head on the frozen encoder") -> list[Phase]:
    c = p.pretrain
    enc = _per_token("encoder", p.encoder, c.max_length)
    hidden = _encoder_config(p.encoder).hidden_size
    encoded = (c.head_sequences + c.eval_sequences) * c.max_length
    head = 3 * c.steps * c.batch_size * c.max_length * MASKED * _vocab_head(hidden)
    return [Phase(what, encoded * enc + head, c.steps)]


def _notebook_01(p: Profile) -> list[Phase]:
    c = p.pretrain
    shape = dict(layers=c.num_layers, hidden=c.hidden_size)
    tokens = c.steps * c.batch_size * c.max_length
    evals = (c.steps // c.eval_every + 2) * c.eval_sequences * c.max_length
    bert = _per_token("encoder", p.encoder, c.max_length, **shape) + MASKED * _vocab_head(c.hidden_size)
    gpt = _per_token("tiny_gpt", p.encoder, c.max_length, **shape)
    return [Phase("tiny BERT, MLM", (3 * tokens + evals) * bert, c.steps),
            Phase("tiny GPT, CLM", (3 * tokens + evals) * gpt, c.steps),
            *_mlm_teacher(p),
            *_mlm_teacher(p, "the same head on a random-weight copy of the encoder (control)"),
            Phase("scoring and generating with the causal LM",
                  200 * c.generate_tokens * _per_token("causal_lm", p.causal_lm, 32), 10 * c.generate_tokens)]


def _notebook_02(p: Profile) -> list[Phase]:
    f = p.finetune
    enc = _per_token("encoder", p.encoder, min(AVERAGE_TOKENS[p.sentiment], f.max_length))
    train = _sentiment_tokens(p, "train")
    demo = min(f.lr_demo_size, train / AVERAGE_TOKENS[p.sentiment]) * AVERAGE_TOKENS[p.sentiment]
    n = len(f.seeds)  # the three ways are trained once per seed
    return [*_fine_tune(p, n * f.epochs, train, enc, f"full fine-tuning ({n} seed(s))"),
            *_fine_tune(p, n * f.epochs, train, enc, f"random init ({n} seed(s))"),
            Phase(f"frozen encoder + head ({n} seed(s))",
                  n * (f.epochs + 1) * (train + _sentiment_tokens(p, "validation")) * enc,
                  int(n * f.epochs * train / AVERAGE_TOKENS[p.sentiment] / f.batch_size)),
            Phase("test predictions of every run", 3 * n * _sentiment_tokens(p, "test") * enc, 0),
            *_fine_tune(p, 2, demo, enc, "learning-rate demo (2 runs, 1 epoch)"),
            *_fine_tune(p, 2, demo, enc, "precision demo (fp32 and mixed, 1 epoch)")]


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
    return [Phase("CNN teachers (course + GPU cell)", 2 * m.teacher_epochs * n * 3 * cnn,
                  batches(2 * m.teacher_epochs), size="small"),
            Phase("MLP students (section 5, tiny)", small * n * 3 * student, batches(small), size="small"),
            Phase("T x alpha sweep on validation", sweep * fit_n * 3 * student, batches(sweep, fit_n), size="small"),
            Phase("teacher labels the jittered copies", m.copies * fit_n * cnn, 0, size="small"),
            Phase("patient, consistent students", patient * fit_n * 3 * student, batches(patient, fit_n), size="small"),
            Phase(f"Hinton's MLPs (teacher + {hinton} students)",
                  (m.hinton_teacher_epochs + hinton * m.hinton_epochs) * n * 3 * mlp,
                  batches(m.hinton_teacher_epochs + hinton * m.hinton_epochs), size="small")]


def _notebook_04(p: Profile) -> list[Phase]:
    d, f = p.distillation, p.finetune
    length = min(AVERAGE_TOKENS[p.sentiment], f.max_length)
    teacher = _per_token("encoder", p.encoder, length)
    layers = len(strided_layers(SimpleNamespace(config=_encoder_config(p.encoder)), d.layer_stride))
    student = _per_token("encoder", p.encoder, length, layers=layers)
    train = _sentiment_tokens(p, "train") if d.train_size is None else d.train_size * length
    runs = 4 * len(d.seeds) + 3  # 2 starts x alone/distilled x seeds, + cosine, random, GPU cell
    c = p.pretrain
    general = d.general_steps * d.general_batch_size * c.max_length * (
        _per_token("encoder", p.encoder, c.max_length) + 3 * _per_token("encoder", p.encoder, c.max_length, layers=layers))
    passes = 1 + d.transfer_copies  # section 6: the transfer set is this many times the training set
    headline = [Phase("teacher logits on the transfer set", passes * train * teacher, 0),
                *_fine_tune(p, 2 * len(d.seeds) * passes * d.epochs, train, student,
                            "headline students (alone and distilled, the same steps)")]
    pool = train if d.few_label_pool is None else min(d.few_label_pool * length, train)
    few = [phase for n in d.few_labels for phase in (
        *_fine_tune(p, d.few_label_epochs(n, f.batch_size), n * length, teacher, f"teacher on {n} labels"),
        Phase(f"its logits on the training pool ({n} labels)", pool * teacher, 0),
        *_fine_tune(p, 2 * len(d.seeds) * d.epochs, pool, student, f"students with {n} labels (alone, distilled)"))]
    models = 5  # teacher, student, torch int8, ONNX Runtime fp32 and int8
    latency = models * ((d.latency_runs + 5) * length + (d.latency_runs // 3 + 5) * 32 * length)
    return [*_fine_tune(p, f.epochs, _sentiment_tokens(p, "train"), teacher, "the teacher (a fresh VM rebuilds it)"),
            *_mlm_teacher(p),
            Phase("teacher logits and evaluations", (train + 20 * _sentiment_tokens(p, "test")) * teacher, 0),
            *_fine_tune(p, runs * d.epochs, train, student, f"{runs} student runs"),
            *headline, *few,
            Phase("general distillation (2 variants) + their fine-tuning",
                  2 * general + 2 * 3 * d.epochs * train * student,
                  2 * (d.general_steps + int(d.epochs * train / length / d.batch_size))),
            Phase("CPU: int8 and ONNX students evaluated, latency of 5 models",
                  latency * (teacher + student) / 2 + 3 * _sentiment_tokens(p, "test") * student, 0, on="cpu")]


def _notebook_06(p: Profile) -> list[Phase]:
    c = p.lm_distillation
    depth = 30 if p.lm_teacher == "offline" else 32  # SmolLM2-135M, SmolLM2-360M
    teacher = _per_token("causal_lm", p.lm_teacher, c.block_size)
    layers = len(spread_layers(SimpleNamespace(config=SimpleNamespace(num_hidden_layers=depth)), c.student_layers))
    student = _per_token("causal_lm", p.lm_teacher, c.block_size, layers=layers)
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
                  runs * c.steps + matched + c.on_policy_steps),
            Phase("evaluations", evals, 0),
            Phase("the teacher's continuations (sequence-level)",
                  c.train_blocks * c.generate_tokens * teacher, prompts * c.generate_tokens, size="generate"),
            Phase("on-policy steps (TRL): the student writes, the teacher scores",
                  written * (4 * student + teacher), on_policy * (c.generate_tokens + 1), size="generate"),
            Phase("CPU: tokens per second of teacher and student", 10 * c.block_size * (teacher + student), 0,
                  on="cpu")]


NOTEBOOK_WORK = {"00_welcome_and_setup.ipynb": lambda p: [],
                 "01_pretraining_objectives.ipynb": _notebook_01,
                 "02_finetuning_bert.ipynb": _notebook_02,
                 "03_distilling_mnist.ipynb": _mnist_fits,
                 "04_bert_to_distilbert.ipynb": _notebook_04,
                 "05_distillation_pitfalls.ipynb": lambda p: [Phase("short MNIST fits", 0, 20 * 469, size="small")],
                 "06_distilling_a_language_model.ipynb": _notebook_06}


def phases(notebook: str, profile: Profile) -> list[Phase]:
    """The work of one notebook (a file name from kd.course.NOTEBOOKS) at this profile's sizes."""
    if notebook not in NOTEBOOK_WORK:
        raise ValueError(f"No workload for {notebook!r}; known: {', '.join(NOTEBOOK_WORK)}.")
    return NOTEBOOK_WORK[notebook](profile)


def seconds(work: list[Phase], device: str = "Colab T4") -> float:
    """Estimated seconds of `work` on `device` (a key of DEVICES): FLOPs at EFFICIENCY of the peak,
    plus STEP_OVERHEAD_S per step, plus SETUP_S; CPU phases at CPU_THREAD_FLOPS."""
    if device not in DEVICES:
        raise ValueError(f"Unknown device {device!r}; known: {', '.join(DEVICES)}.")
    rate = DEVICES[device][0] * EFFICIENCY
    return SETUP_S + sum(ph.flops / (rate if ph.on == "gpu" else CPU_THREAD_FLOPS)
                         + ph.steps * STEP_OVERHEAD_S[ph.size] for ph in work)


def estimate_minutes(profile: Profile, device: str = "Colab T4") -> dict[str, float]:
    """Estimated minutes per notebook of the course on `device` at `profile`'s sizes."""
    return {nb: seconds(phases(nb, profile), device) / 60 for nb in NOTEBOOK_WORK}
