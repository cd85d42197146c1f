"""The settings of each notebook's part of a profile (`P.mnist`, `P.finetune`, ...): one frozen dataclass per
part, each field with what it sizes. The values of each profile are in `kdcourse.profiles`.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MnistConfig:
    """Notebook 03: MNIST teacher/student sizes (None = the full split)."""
    train_size: int | None
    test_size: int | None
    teacher_epochs: int  # the CNN teacher (trained with +-2 pixel jitter)
    student_epochs: int  # each student run of the main comparison (alone vs distilled, per seed)
    sweep_epochs: int  # each run of the temperature x alpha sweep, scored on validation images
    hinton_epochs: int  # each student run of the Hinton et al. (2015) MLP reproduction
    hinton_teacher_epochs: int  # its 1200-1200 teacher (dropout, jitter, cosine schedule): patient
    validation_size: int  # training images held out to choose T and alpha (never the test set)
    copies: int  # fixed jittered copies of the training set, each labelled once by the teacher
    patient_epochs: int  # each run of the patient, consistent distillation (and its fair baseline)
    batch_size: int
    seeds: tuple[int, ...]
    # section 10, few labels: the label budgets N (fixed here before any test score), the steps of a CNN teacher
    # trained on the N labelled images alone, and the epochs over all training images of the students that also
    # learn from the teacher on the unlabelled rest (the student alone takes as many steps on its N images)
    few_labels: tuple[int, ...] = (100, 300, 1000)
    few_label_teacher_steps: int = 600
    few_label_epochs: int = 5


@dataclass(frozen=True)
class PretrainConfig:
    """Notebook 01: pretraining objectives on the course corpus."""
    corpus_chars: int | None  # characters of corpus text used (None = all)
    max_length: int  # tokens per block (tiny BERT, tiny GPT and the MLM head)
    steps: int  # optimizer steps, the same budget for tiny BERT, tiny GPT and the MLM head
    batch_size: int  # blocks per step
    hidden_size: int = 128  # tiny BERT / tiny GPT width
    num_layers: int = 2  # tiny BERT / tiny GPT depth
    learning_rate: float = 1e-3  # tiny models from scratch
    head_learning_rate: float = 1e-3  # MLM head on the frozen pretrained encoder
    head_sequences: int = 1024  # training blocks encoded once for the MLM head
    eval_sequences: int = 256  # held-out blocks for curves and accuracy
    eval_every: int = 50  # steps between held-out evaluations
    generate_tokens: int = 30  # new tokens per continuation of the pretrained causal LM


@dataclass(frozen=True)
class FinetuneConfig:
    """Notebook 02: fine-tuning the encoder for sentiment."""
    train_size: int | None
    eval_size: int | None  # validation and test each (None = the full split)
    max_length: int
    epochs: float
    batch_size: int
    learning_rate: float  # full fine-tuning and random init
    head_learning_rate: float  # the linear head on a frozen encoder
    lr_demo_size: int  # training snippets of the "learning rate copied from bert-base" demo (1 epoch)
    seeds: tuple[int, ...] = (0,)  # seeds of the three-way comparison; the first is `seed` (the teacher's run)


@dataclass(frozen=True)
class PairsConfig:
    """Notebook 02, section 9: fine-tuning on sentence pairs (epochs, batch size, rates and seeds: `finetune`'s)."""
    train_size: int | None  # training pairs (None = the full split)
    eval_size: int | None  # validation pairs (None = the full split)
    test_size: int | None  # test pairs (None = the full split)
    max_length: int  # tokens of a pair, [CLS] a [SEP] b [SEP]: the longer sentence is cut first


@dataclass(frozen=True)
class DistillationConfig:
    """Notebook 04: BERT -> DistilBERT."""
    epochs: float
    batch_size: int
    learning_rate: float
    temperature: float
    alpha: float  # weight of the soft targets; 1 - alpha goes to the hard labels
    general_steps: int  # steps of general (corpus) distillation
    train_size: int | None = None  # training snippets the students see (None = the whole train split)
    seeds: tuple[int, ...] = (0,)  # seeds of the "alone vs distilled" comparison
    alpha_cos: float = 1.0  # weight of the hidden-state cosine loss in the "+ cosine" student (an exercise of 04)
    general_batch_size: int = 16  # corpus blocks per general-distillation step
    general_learning_rate: float = 1e-4
    latency_runs: int = 30  # timed forward passes per latency measurement (batch 1; a third at batch 32)
    layer_stride: int = 2  # the student keeps teacher layers 0, stride, 2*stride, ... (DistilBERT: 2; see strided_layers)
    transfer_copies: int = 2  # augmented copies of each training snippet in the headline student's transfer set
    few_labels: tuple[int, ...] = ()  # label budgets N of the few-label experiment
    few_label_steps: int = 150  # optimizer steps (at least) of a teacher fine-tuned on N labels
    few_label_pool: int | None = None  # training snippets of the few-label students: N labelled, the rest not (None: all)
    pool_sizes: tuple[int | None, ...] = ()  # the pool curve: pools of the largest N's students (None: all snippets)
    other_domain_size: int | None = 1000  # snippets per other domain (product reviews, tweets) every student is scored on

    def few_label_pools(self, train_size: int) -> dict[int, tuple[int, ...]]:
        """N -> the pool sizes its students learn from, smallest first: `few_label_pool` for every N, and the
        pool curve's `pool_sizes` for the largest N too (None means all `train_size` snippets). A pool smaller
        than its N cannot hold N labels: a clear error names it."""
        resolve = lambda size: train_size if size is None else min(size, train_size)  # noqa: E731
        pools = {n: {resolve(self.few_label_pool)} for n in self.few_labels}
        if self.pool_sizes:
            pools[max(self.few_labels)] |= {resolve(size) for size in self.pool_sizes}
        for n, sizes in pools.items():
            if min(sizes) < n:
                raise ValueError(f"A pool of {min(sizes)} snippets cannot hold N = {n} labels: make few_label_pool "
                                 f"and pool_sizes at least {n} (or None, all {train_size} snippets).")
        return {n: tuple(sorted(sizes)) for n, sizes in pools.items()}

    def few_label_epochs(self, n: int, batch_size: int) -> int:
        """Epochs over n labelled snippets that give a teacher at least `few_label_steps` steps: few labels
        need many passes (250 snippets at batch 32 are 8 steps an epoch)."""
        from .loop import epochs_for_steps

        return epochs_for_steps(self.few_label_steps, n, batch_size)


@dataclass(frozen=True)
class LMDistillationConfig:
    """Notebook 06: a causal LM (SmolLM2) distilled into a shallower copy of itself, token by token."""
    student_layers: int  # teacher layers the student keeps, spread evenly, first and last included (spread_layers)
    block_size: int  # tokens per block of teacher-forced text
    train_blocks: int  # training blocks drawn from the corpus; the teacher's top-k is cached once for each
    eval_blocks: int  # held-out blocks, from the held-out speeches
    steps: int  # optimizer steps of every student run: the same budget for every objective
    batch_size: int  # blocks per step
    learning_rate: float
    temperature: float  # of the token-level KD loss (and of the cached teacher distribution)
    top_k: int  # teacher log-probabilities stored per position, plus the tail mass
    seeds: tuple[int, ...]  # seeds of the "plain vs distilled" comparison
    generate_tokens: int = 32  # new tokens per continuation (sequence-level and on-policy), after a prompt of the rest
    alpha: float = 0.5  # weight of the KD term; 1 - alpha goes to the next-token loss (chosen on validation blocks)
    generate_batch_size: int = 16  # prompts the teacher continues at once (sequence-level distillation)
    on_policy_steps: int = 30  # TRL DistillationTrainer steps in every profile: a few, to watch the loss fall
    on_policy_batch_size: int = 8  # prompts per on-policy step; the student writes a continuation of each
    on_policy_learning_rate: float = 5e-5  # a small step: the on-policy run starts from a trained student
    on_policy_full_steps: int = 300  # the GPU cell's longer on-policy run (skipped without CUDA)


@dataclass(frozen=True)
class LMStoresConfig:
    """Notebook 07: the teacher of notebook 06 stored in several ways, and students trained on each store (the
    student, block size, batch size, learning rate, temperature, alpha and seeds: `lm_distillation`'s)."""
    train_blocks: int  # training blocks (from the training speeches but the validation ones); one store pass over them
    steps: int  # optimizer steps of every student run, whatever it learns from
    validation_blocks: int  # blocks spread over the validation speeches: the untrained report and the choice of k
    report_blocks: int  # of those, the blocks the untrained report reads (the teacher's full logits are held at once)
    store_sizes: tuple[int, ...]  # the k (tokens kept, or drawn) of each scheme's trained students, two of them
    report_sizes: tuple[int, ...]  # the k of the untrained report, the whole curve
