"""What each notebook does, as phases of work at a profile's sizes: FLOPs counted from the models' shapes, steps,
parameters trained, memory held. `kd.budget` prices the phases on a device (notebook 00's course map); a
notebook's entry here changes with the notebook (README, "Adding a notebook").
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import SimpleNamespace

from .distill.student import spread_layers, strided_layers
from .model_costs import encoder_config, per_token, shape, training_memory, vocab_head
from .profiles import Profile

AVERAGE_TOKENS = {"rotten_tomatoes": 27, "sst2": 13, "next_sentence": 50, "mrpc": 55}  # per example (a pair: both
# sentences), [CLS] and [SEP] included. rotten_tomatoes and next_sentence: measured on data/ with the WordPiece
# tokenizer; sst2: assumed (short phrases); mrpc: assumed (two news sentences of about 22 words).
PAIR_ROWS = {"next_sentence": {"train": 16_239, "validation": 4_783, "test": 1_712},  # kd.data.next_sentence_pairs
             "mrpc": {"train": 3_301, "validation": 367, "test": 408}}  # kd.hub.load_mrpc
MASKED = 0.15  # share of positions whose vocabulary logits an MLM computes here

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
    gpu_only: bool = False  # a cell that runs only with CUDA (and says it was skipped on a CPU)


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
            *(dataclasses.replace(ph, gpu_only=True, precision=precision)  # one epoch in each precision
              for precision in ("fp32", "mixed")
              for ph in _fine_tune(p, 1, demo, enc, f"precision demo: {precision}, 1 epoch (skipped without CUDA)")),
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
    return [Phase("CNN teacher", m.teacher_epochs * n * 3 * cnn, batches(m.teacher_epochs), size="small"),
            Phase("the GPU cell's CNN teacher (batch 512; skipped without CUDA)", m.teacher_epochs * n * 3 * cnn,
                  int(m.teacher_epochs * n / 512), size="small", gpu_only=True),
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
    runs = 4 * len(d.seeds) + 1  # 2 starts x alone/distilled x seeds, + random init
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
            *(dataclasses.replace(ph, gpu_only=True) for ph in _fine_tune(  # distilbert-base-uncased in gpu: 6 layers too
                p, d.epochs, train, student, "the GPU cell's student (skipped without CUDA)", small, big.params)),
            *headline, *few,
            Phase("general distillation (2 variants) + their fine-tuning",
                  2 * general + 2 * 3 * d.epochs * train * student,
                  2 * (d.general_steps + int(d.epochs * train / length / d.batch_size)), trained=small.params,
                  memory=general_memory),
            Phase("CPU: int8 and ONNX students evaluated, latency of 5 models",
                  latency * (teacher + student) / 2 + 3 * _sentiment_tokens(p, "test") * student, 0, on="cpu")]


def _lm_shapes(p: Profile) -> tuple[float, float, SimpleNamespace, SimpleNamespace]:
    """Notebooks 06 and 07: the teacher's and the student's forward FLOPs per token, and their shapes."""
    c = p.lm_distillation
    depth = 30 if p.lm_teacher == "offline" else 32  # SmolLM2-135M, SmolLM2-360M
    layers = len(spread_layers(SimpleNamespace(config=SimpleNamespace(num_hidden_layers=depth)), c.student_layers))
    return (per_token("causal_lm", p.lm_teacher, c.block_size),
            per_token("causal_lm", p.lm_teacher, c.block_size, layers=layers),
            shape("causal_lm", p.lm_teacher), shape("causal_lm", p.lm_teacher, layers=layers))


def _notebook_06(p: Profile) -> list[Phase]:
    c = p.lm_distillation
    teacher, student, big, small = _lm_shapes(p)
    tokens = c.steps * c.batch_size * c.block_size  # one student run
    runs = 2 * len(c.seeds) + 2  # plain and top-k per seed; reverse KL and sequence-level at one seed
    # the compute-matched plain student: the teacher's pass over the training blocks, paid in plain steps
    matched = c.steps + round(teacher * c.train_blocks / (3 * student * c.batch_size))
    off_policy = c.on_policy_steps * c.on_policy_batch_size * c.block_size  # the off-policy reverse-KL control
    evals = (runs + 8) * c.eval_blocks * c.block_size * student  # the runs, the copy, the control, on-policy, pitfalls
    prompts = c.train_blocks // c.generate_batch_size
    written = lambda steps: steps * c.on_policy_batch_size * c.block_size  # noqa: E731  prompt + the student's text
    on_policy = lambda what, steps, **kw: Phase(  # noqa: E731  the student writes, the teacher scores
        what, written(steps) * (4 * student + teacher), steps * (c.generate_tokens + 1), size="generate",
        trained=small.params, updates=steps, memory=training_memory(
            small, c.on_policy_batch_size, c.block_size, frozen=big.params, vocab_positions=2 * c.block_size), **kw)
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
            on_policy("on-policy steps (TRL): reverse and forward KL", 2 * c.on_policy_steps),
            on_policy("the GPU cell's longer on-policy run (skipped without CUDA)", c.on_policy_full_steps, gpu_only=True),
            Phase("CPU: tokens per second of teacher and student", 10 * c.block_size * (teacher + student), 0,
                  on="cpu")]


def _notebook_07(p: Profile) -> list[Phase]:
    c, s = p.lm_distillation, p.lm_stores
    teacher, student, big, small = _lm_shapes(p)
    seeds, tokens = len(c.seeds), s.steps * c.batch_size * c.block_size  # one student run's tokens
    stored = (1 + 2 * len(s.store_sizes)) * seeds  # the plain students and one per store and seed
    scored = (stored + seeds) * (c.eval_blocks + s.validation_blocks) * c.block_size
    return [Phase("the teacher over the training blocks (every store) and the report's blocks",
                  (s.train_blocks + s.report_blocks) * c.block_size * teacher, 0),
            Phase(f"{stored} students from stores or the plain loss", 3 * student * stored * tokens, stored * s.steps,
                  trained=small.params,
                  memory=training_memory(small, c.batch_size, c.block_size, frozen=big.params,
                                          vocab_positions=c.block_size)),
            Phase(f"{seeds} students from the full logits (the teacher live at every step)",
                  (3 * student + teacher) * seeds * tokens, seeds * s.steps, trained=small.params,
                  memory=training_memory(small, c.batch_size, c.block_size, frozen=big.params,
                                          vocab_positions=2 * c.block_size)),  # the student's and teacher's logits
            Phase("evaluations on validation and held-out blocks, the teacher's too (fp32)",
                  scored * student + c.eval_blocks * c.block_size * teacher, 0, precision="fp32")]


NOTEBOOK_WORK = {"00_welcome_and_setup.ipynb": lambda p: [],
                 "01_pretraining_objectives.ipynb": _notebook_01,
                 "02_finetuning_bert.ipynb": _notebook_02,
                 "03_distilling_mnist.ipynb": _mnist_fits,
                 "04_bert_to_distilbert.ipynb": _notebook_04,
                 "05_distillation_pitfalls.ipynb": _notebook_05,
                 "06_distilling_a_language_model.ipynb": _notebook_06,
                 "07_storing_a_teacher.ipynb": _notebook_07}
