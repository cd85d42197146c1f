"""Distillation with the Hugging Face Trainer: `DistillationTrainer`, plus teacher-logit caching.

Many tutorials import a `DistillationTrainer` from transformers; there is none. This one is a
`transformers.Trainer` subclass that changes one thing, the loss:

    loss = alpha * T^2 * KL(teacher_T || student_T)      soft targets (kdcourse.losses)
         + (1 - alpha) * cross-entropy(student, labels)  hard labels
         + alpha_cos * (1 - cos(student_h, teacher_h))   optional: DistilBERT's hidden-state cosine

Everything else (batching, optimiser, schedule, logging, evaluation) is the Trainer's.
The teacher is frozen (requires_grad False), in eval() mode (no dropout: its targets must not be
noisy) and runs under torch.no_grad() on the student's device.
"""
from __future__ import annotations

import inspect
import time

import numpy as np
import torch
import torch.nn.functional as F
from transformers import Trainer

from .. import device as dev
from ..loop import Stepper, warmup_linear
from ..losses import distillation_loss, hidden_cosine_loss

INDEX_COLUMN = "kd_index"


def add_index_column(dataset, name: str = INDEX_COLUMN):
    """The dataset with a column `name` = 0, 1, 2, ...: each example's row number.

    Cached teacher logits are looked up by this number, so they stay aligned with their examples
    however the Trainer shuffles the batches.
    """
    if name in dataset.column_names:
        dataset = dataset.remove_columns(name)
    return dataset.add_column(name, list(range(len(dataset))))


def _forward_names(model: torch.nn.Module) -> set[str]:
    return set(inspect.signature(model.forward).parameters)


def _config_value(model, name):
    return getattr(getattr(model, "config", None), name, None)


def check_compatible(student: torch.nn.Module, teacher: torch.nn.Module) -> None:
    """A ValueError when teacher and student cannot be distilled one into the other.

    Both must share the vocabulary (the same token ids must mean the same tokens: use the same
    tokenizer) and, for classifiers, the number of labels (the soft targets are over the classes).
    """
    sv, tv = _config_value(student, "vocab_size"), _config_value(teacher, "vocab_size")
    if sv is not None and tv is not None and sv != tv:
        raise ValueError(f"Teacher and student vocabularies differ: teacher vocab_size={tv}, student "
                         f"vocab_size={sv}. Distillation needs one tokenizer for both; build the student "
                         f"with kdcourse.make_student(teacher, ...) or from the teacher's tokenizer.")
    heads = [m for m in (student, teacher) if "ForSequenceClassification" in type(m).__name__]
    if len(heads) == 2:
        sl, tl = student.config.num_labels, teacher.config.num_labels
        if sl != tl:
            raise ValueError(f"Teacher and student label counts differ: teacher num_labels={tl}, student "
                             f"num_labels={sl}. The soft targets are a distribution over the teacher's "
                             f"classes: give the student num_labels={tl}.")


@torch.no_grad()
def cache_teacher_logits(teacher: torch.nn.Module, dataset, data_collator, batch_size: int = 64,
                         index_column: str = INDEX_COLUMN, progress: bool = True):
    """Run the frozen teacher once over `dataset` and keep its logits: (logits [N, classes], seconds).

    Row i of the result belongs to the example whose `index_column` is i (see add_index_column).
    Training for E epochs then costs one teacher pass instead of E. This is valid because the teacher
    is in eval() mode, so its outputs for an example never change; it works for a FIXED dataset
    (no random augmentation of the inputs). Examples are batched by length (less padding, so fewer
    wasted computations); the index column puts every row back in its place.
    """
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    if index_column not in dataset.column_names:
        raise ValueError(f"The dataset has no {index_column!r} column; add one with "
                         f"kdcourse.add_index_column(dataset) before caching teacher logits.")
    names = _forward_names(teacher)
    columns = [c for c in dataset.column_names if c in names or c == index_column]
    if "input_ids" in dataset.column_names:
        dataset = dataset.select(np.argsort([len(ids) for ids in dataset["input_ids"]], kind="stable"))
    loader = DataLoader(dataset.select_columns(columns), batch_size=batch_size, shuffle=False,
                        collate_fn=data_collator)
    device = next(teacher.parameters()).device
    was_training = teacher.training
    teacher.eval()
    start = time.perf_counter()
    rows, chunks = [], []
    for batch in tqdm(loader, desc="teacher logits", disable=not progress):
        rows.append(batch[index_column])
        inputs = {k: v.to(device) for k, v in batch.items() if k in names and k != "labels"}
        chunks.append(teacher(**inputs).logits.float().cpu())
    seconds = time.perf_counter() - start
    teacher.train(was_training)
    rows, chunks = torch.cat(rows), torch.cat(chunks)
    logits = torch.empty_like(chunks)
    logits[rows] = chunks
    return logits, seconds


class DistillationTrainer(Trainer):
    """A `transformers.Trainer` that trains `model` (the student) to imitate `teacher_model`.

    temperature: T of the soft targets (2-4 usual for BERT; 1 = the plain softmax).
    alpha: weight of the soft-target term; (1 - alpha) goes to the hard labels.
    alpha_cos: weight of the cosine loss between hidden states (0 = off).
    layer_map: (student_index, teacher_index) pairs into the models' `hidden_states` tuples
        (0 = embeddings output, i = output of layer i) aligned by the cosine loss. Default: the last
        hidden state of each, as DistilBERT does.
    teacher_logits: optional tensor [N, classes] from cache_teacher_logits; the batches must then carry
        the `index_column` (add_index_column), and the teacher is only run when a hidden-state
        term needs it.

    The trainer keeps `teacher_seconds`: the time spent in teacher forward passes, to measure what
    caching saves. During evaluation the loss is the student's plain cross-entropy, so evaluation
    losses compare across students whatever their training loss was.
    """

    # compute_loss returns a per-batch mean: let the Trainer divide it for gradient accumulation.
    loss_is_scaled_for_ga = False

    def __init__(self, *args, teacher_model: torch.nn.Module, temperature: float = 2.0,
                 alpha: float = 0.5, alpha_cos: float = 0.0, layer_map=None,
                 teacher_logits: torch.Tensor | None = None, index_column: str = INDEX_COLUMN, **kwargs):
        super().__init__(*args, **kwargs)
        if teacher_model is None:
            raise ValueError("teacher_model is required: the model whose outputs the student learns from.")
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise ValueError(f"temperature must be a number > 0, got {temperature!r}.")
        if not (isinstance(alpha, (int, float)) and 0.0 <= alpha <= 1.0):
            raise ValueError(f"alpha must be in [0, 1] (the weight of the soft targets), got {alpha!r}.")
        if not (isinstance(alpha_cos, (int, float)) and alpha_cos >= 0):
            raise ValueError(f"alpha_cos must be >= 0 (0 switches the cosine loss off), got {alpha_cos!r}.")
        check_compatible(self.model, teacher_model)
        self.teacher = teacher_model
        self.teacher.eval()
        for p in self.teacher.parameters():
            p.requires_grad_(False)
        self.temperature, self.alpha, self.alpha_cos = float(temperature), float(alpha), float(alpha_cos)
        self.layer_map = [(-1, -1)] if layer_map is None else [tuple(pair) for pair in layer_map]
        self.teacher_logits = teacher_logits
        self.index_column = index_column
        self.teacher_seconds = 0.0
        self._student_names = _forward_names(self.model)
        self._teacher_names = _forward_names(self.teacher)

    def _set_signature_columns_if_needed(self) -> None:
        # Keep the index column: the Trainer would drop it (the student's forward does not take it).
        super()._set_signature_columns_if_needed()
        if self.index_column not in self._signature_columns:
            self._signature_columns.append(self.index_column)

    def _teacher_outputs(self, inputs: dict, device: torch.device, need_hidden: bool):
        """The teacher's outputs for this batch (frozen, eval mode, no_grad, on the student's device)."""
        if next(self.teacher.parameters()).device != device:
            self.teacher.to(device)
        self.teacher.eval()  # a caller may have switched it back to train(): dropout must stay off
        teacher_inputs = {k: v for k, v in inputs.items() if k in self._teacher_names and k != "labels"}
        dev.synchronize(device)  # GPU calls return before the work is done: time whole passes
        start = time.perf_counter()
        with torch.no_grad():
            out = self.teacher(**teacher_inputs, output_hidden_states=need_hidden)
        dev.synchronize(device)
        self.teacher_seconds += time.perf_counter() - start
        return out

    def compute_loss(self, model, inputs, return_outputs: bool = False, num_items_in_batch=None):
        """The distillation loss of one batch (`num_items_in_batch` is accepted and not needed:
        every term is a per-batch mean)."""
        inputs = dict(inputs)
        index = inputs.pop(self.index_column, None)
        labels = inputs.pop("labels", None)
        student_inputs = {k: v for k, v in inputs.items() if k in self._student_names}
        need_hidden = self.alpha_cos > 0 and model.training
        outputs = model(**student_inputs, output_hidden_states=need_hidden)
        logits = outputs.logits

        if labels is None:
            raise ValueError("The batch has no 'labels': the hard-label term needs them (keep the label "
                             "column; the Trainer renames 'label' to 'labels').")
        if not model.training:  # evaluation: the student's own cross-entropy
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=-100)
            return (loss, outputs) if return_outputs else loss

        teacher_out = None
        if self.teacher_logits is not None:
            if index is None:
                raise ValueError(f"teacher_logits were given but the batch has no {self.index_column!r} "
                                 f"column: build the dataset with kdcourse.add_index_column(...).")
            teacher_logits = self.teacher_logits[index.cpu()].to(logits.device)
        else:
            teacher_out = self._teacher_outputs(inputs, logits.device, need_hidden)
            teacher_logits = teacher_out.logits

        if logits.dim() == 3:  # token-level logits (a masked LM): distil on the labelled positions only
            mask = labels != -100
            loss = distillation_loss(logits[mask], teacher_logits[mask], labels[mask],
                                     temperature=self.temperature, alpha=self.alpha)
        else:
            loss = distillation_loss(logits, teacher_logits, labels,
                                     temperature=self.temperature, alpha=self.alpha)

        if self.alpha_cos > 0:
            if teacher_out is None:
                teacher_out = self._teacher_outputs(inputs, logits.device, need_hidden=True)
            attention = inputs.get("attention_mask")
            cos = sum(hidden_cosine_loss(outputs.hidden_states[s], teacher_out.hidden_states[t], attention)
                      for s, t in self.layer_map) / len(self.layer_map)
            loss = loss + self.alpha_cos * cos
        return (loss, outputs) if return_outputs else loss


# --- measuring a classifier -------------------------------------------------------------------------

@torch.no_grad()
def correct_predictions(model: torch.nn.Module, dataset, data_collator, batch_size: int = 64) -> np.ndarray:
    """One boolean per example: did the classifier get it right? (eval mode: dropout off, no_grad).

    Keep these rather than a single accuracy when two models are compared on the same test split:
    `seed_verdict` needs them for a paired comparison.
    """
    from torch.utils.data import DataLoader

    names = _forward_names(model)
    columns = [c for c in dataset.column_names if c in names or c in ("label", "labels")]
    loader = DataLoader(dataset.select_columns(columns), batch_size=batch_size, collate_fn=data_collator)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    right = []
    for batch in loader:
        labels = batch.pop("labels")
        logits = model(**{k: v.to(device) for k, v in batch.items() if k in names}).logits
        right.append((logits.argmax(-1).cpu() == labels).numpy())
    model.train(was_training)
    return np.concatenate(right)


def evaluate_accuracy(model: torch.nn.Module, dataset, data_collator, batch_size: int = 64) -> float:
    """Accuracy of a sequence classifier on a tokenised dataset (eval mode: dropout off, no_grad)."""
    return float(correct_predictions(model, dataset, data_collator, batch_size).mean())


def quantize_int8(model: torch.nn.Module) -> torch.nn.Module:
    """A copy of `model` with every nn.Linear replaced by a dynamically quantised int8 version (CPU only).

    Weights are stored as 8-bit integers; activations are quantised on the fly at each call. No
    training or calibration data needed. (PyTorch now points to the torchao package for new code;
    torch.ao.quantization.quantize_dynamic still works and needs nothing else installed.)
    """
    import copy
    import warnings

    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # deprecation notices about the torch.ao API
        return quantize_dynamic(copy.deepcopy(model).cpu().eval(), {torch.nn.Linear}, dtype=torch.qint8)


def latency_by_batch_size(model: torch.nn.Module, tokenizer, texts, batch_sizes=(1, 32), max_length: int = 64,
                          threads: int = 1, runs: int = 30) -> dict:
    """CPU latency of one forward pass at each batch size: {'p50@1': ms, 'p90@1': ms, 'p50@32': ...}.

    The inputs are the first `batch_size` of `texts`, padded to their longest; measured with
    kdcourse.bench.cpu_latency (warm-up, fixed threads, median and 90th percentile).
    """
    import warnings

    from ..bench import cpu_latency

    out = {}
    for b in batch_sizes:
        if len(texts) < b:
            raise ValueError(f"Need at least {b} texts for batch size {b}; got {len(texts)}.")
        enc = dict(tokenizer(list(texts[:b]), truncation=True, max_length=max_length, padding=True,
                             return_tensors="pt"))
        enc = {k: v for k, v in enc.items() if k in _forward_names(model)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = cpu_latency(model, enc, threads=threads, warmup=5, runs=runs if b == 1 else max(10, runs // 3))
        out[f"p50@{b}"], out[f"p90@{b}"] = r["median_ms"], r["p90_ms"]
    return out


# --- general distillation: DistilBERT's triple loss on plain text ----------------------------------

def general_distillation(student, teacher, blocks: torch.Tensor, tokenizer, steps: int, batch_size: int,
                         learning_rate: float = 1e-4, temperature: float = 2.0, alpha_ce: float = 5.0,
                         alpha_mlm: float = 2.0, alpha_cos: float = 1.0, seed: int = 0,
                         mlm_probability: float = 0.15, progress: bool = True) -> dict:
    """Train a masked-LM `student` to imitate a masked-LM `teacher` on unlabelled text.

    DistilBERT's triple loss (Sanh et al., 2019), with its default weights 5 / 2 / 1:
      alpha_ce  * T^2 KL(teacher || student) on the masked positions' vocabulary distributions
      alpha_mlm * the ordinary MLM cross-entropy with the true tokens
      alpha_cos * (1 - cos) between the last hidden states of student and teacher (real tokens)
    A weight of 0 switches a term off (the ablation). `blocks` holds token ids [N, length]
    (kdcourse.pack_blocks); each step masks a random batch with BERT's 80/10/10 rule. The vocabulary
    heads run on the masked positions only (a 30k-way layer at every position would cost ~7x more;
    DistilBERT's code offers the same restriction). Returns the per-step losses and the seconds taken.
    """
    from tqdm.auto import tqdm

    from ..families import encoder_of
    from ..losses import soft_target_loss
    from ..objectives import mask_tokens
    from ..pretrain import masked_positions_logits

    if min(alpha_ce, alpha_mlm, alpha_cos) < 0 or alpha_ce + alpha_mlm + alpha_cos == 0:
        raise ValueError(f"Loss weights must be >= 0 and not all 0; got alpha_ce={alpha_ce}, "
                         f"alpha_mlm={alpha_mlm}, alpha_cos={alpha_cos}.")
    check_compatible(student, teacher)
    device = next(student.parameters()).device  # the teacher runs there too, like DistillationTrainer's
    teacher.to(device).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)  # which blocks, which tokens masked
    torch.manual_seed(seed)  # the student's dropout: same seed, same run, whatever ran before
    optimizer = torch.optim.AdamW(student.parameters(), lr=learning_rate, weight_decay=0.01)
    take_step = Stepper(optimizer, student.parameters(), max_norm=1.0,  # 10 % warm-up, mixed precision on a GPU
                        scheduler=warmup_linear(optimizer, steps, steps // 10), on=device)
    history = {"step": [], "loss": [], "soft": [], "mlm": [], "cos": []}
    student.train()
    start = time.perf_counter()
    for step in tqdm(range(1, steps + 1), desc="general distillation", disable=not progress):
        rows = torch.randint(len(blocks), (batch_size,), generator=generator)
        attention = torch.ones_like(blocks[rows])
        ids, labels = mask_tokens(blocks[rows], tokenizer, mlm_probability, generator=generator)  # CPU: seeded
        ids, labels, attention = ids.to(device), labels.to(device), attention.to(device)
        with dev.autocast(device):
            with torch.no_grad():
                t_hidden = encoder_of(teacher)(input_ids=ids, attention_mask=attention).last_hidden_state
                t_logits, _ = masked_positions_logits(teacher, ids, attention, labels, hidden=t_hidden)
            s_hidden = encoder_of(student)(input_ids=ids, attention_mask=attention).last_hidden_state
            s_logits, targets = masked_positions_logits(student, ids, attention, labels, hidden=s_hidden)
        soft = soft_target_loss(s_logits.float(), t_logits.float(), temperature)  # losses in fp32
        mlm = F.cross_entropy(s_logits.float(), targets)
        cos = hidden_cosine_loss(s_hidden.float(), t_hidden.float(), attention)
        loss = alpha_ce * soft + alpha_mlm * mlm + alpha_cos * cos
        take_step(loss)
        for k, v in (("step", step), ("loss", loss.item()), ("soft", soft.item()), ("mlm", mlm.item()),
                     ("cos", cos.item())):
            history[k].append(v)
    student.eval()
    history["seconds"] = time.perf_counter() - start
    return history


# --- the notebook's experiments ---------------------------------------------------------------------

def train_student(student, train_dataset, tokenizer, profile=None, seed: int | None = None, teacher=None,
                  teacher_logits: torch.Tensor | None = None, alpha_cos: float = 0.0, name: str = "student",
                  **overrides):
    """Train one student with the profile's budget (`profile.distil`) and return its Trainer.

    teacher=None: the student learns from the labels alone (a plain `transformers.Trainer`,
    cross-entropy). With a teacher: `DistillationTrainer` with the profile's temperature and alpha,
    plus `alpha_cos` for the hidden-state cosine. Every student gets the same data, batch size,
    epochs, schedule and (per seed) the same batch order, so only the training signal differs.
    No evaluation during training: the notebook measures every student on the test split afterwards.
    """
    from ..finetune import make_collator, run_dir, training_arguments
    from ..profiles import active_profile
    from ..seed import set_seed

    p = profile or active_profile()
    d = p.distil
    seed = p.seed if seed is None else seed
    set_seed(seed)
    kwargs = dict(learning_rate=d.learning_rate, epochs=d.epochs, batch_size=d.batch_size, seed=seed,
                  data_seed=seed, eval_strategy="no", save_strategy="no", load_best_model_at_end=False)
    kwargs.update(overrides)
    args = training_arguments(p, run_dir(f"{name}_seed{seed}", p), **kwargs)
    common = dict(model=student, args=args, train_dataset=train_dataset, data_collator=make_collator(tokenizer),
                  processing_class=tokenizer)
    if teacher is None:
        trainer = Trainer(**common)
    else:
        trainer = DistillationTrainer(**common, teacher_model=teacher, temperature=d.temperature, alpha=d.alpha,
                                      alpha_cos=alpha_cos, teacher_logits=teacher_logits)
    trainer.train()
    trainer.model.eval()
    return trainer


def model_row(name: str, model: torch.nn.Module, accuracies, latency: dict, teacher_row: dict | None = None,
              params: int | None = None, note: str = "") -> dict:
    """One row of the comparison table: accuracy (mean and std over seeds, in %), % of the teacher's
    accuracy kept, parameters, size on disk, CPU latency and the speed-up over the teacher.

    `params` overrides the count: a quantised model keeps its int8 weights outside `parameters()`, so
    pass the float model's count for it (same number of weights, fewer bytes each).
    """
    import numpy as np

    from ..bench import count_parameters, size_on_disk_mb

    acc = 100 * np.asarray(accuracies, dtype=float)
    row = {"model": name, "seeds": len(acc), "test acc %": acc.mean(),
           "± std": acc.std(ddof=1) if len(acc) > 1 else float("nan")}
    row["% of teacher"] = 100 * acc.mean() / teacher_row["test acc %"] if teacher_row else 100.0
    row["params (M)"] = (count_parameters(model) if params is None else params) / 1e6
    row["disk (MB)"] = size_on_disk_mb(model)
    row.update({f"{k} ms": v for k, v in latency.items()})
    for b in sorted({int(k.split("@")[1]) for k in latency}):
        key = f"p50@{b} ms"
        row[f"speed-up @{b}"] = teacher_row[key] / row[key] if teacher_row else 1.0
    row["note"] = note
    return row


def compare_students(alone, distilled, test_size: int | None = None, min_seeds: int = 3) -> dict:
    """Did distillation beat training alone, given both sources of noise? The numbers and a verdict.

    `alone` and `distilled` hold one entry per seed, seed s of both having seen the same batches.
    Each entry is either the per-example correctness from `correct_predictions` (preferred) or an
    accuracy (then pass `test_size`). Two sources of noise are weighed:

    - training: the seed-to-seed spread of the paired differences (`seed_se`, their standard error);
    - the test split, a sample of snippets. With per-example correctness the comparison is *paired*:
      both students meet the same snippets, so the standard error of the seed-averaged difference
      (`test_se`) is computed from the per-snippet differences, and is much smaller than that of one
      accuracy (`one_acc_se`, sqrt(p(1-p)/n)). With accuracies only, `one_acc_se` stands in
      (conservatively).

    The two add up: `total_se` = sqrt(seed_se^2 + test_se^2). verdict "helped" needs the mean
    difference above 2 * total_se (roughly: a 95 % interval that excludes zero; with 3 seeds the
    seed part is itself uncertain, so treat a borderline "helped" as borderline); "unclear" is ahead
    but within the noise; "not better"; "too few seeds" below `min_seeds`. All in accuracy points.
    """
    if len(alone) != len(distilled) or len(alone) == 0:
        raise ValueError(f"alone and distilled need one entry per seed each, got {len(alone)} and {len(distilled)}.")
    paired = np.ndim(alone[0]) == 1
    if paired:
        a_right, d_right = np.asarray(alone, dtype=float), np.asarray(distilled, dtype=float)
        if a_right.shape != d_right.shape:
            raise ValueError(f"Per-example correctness of different shapes: {a_right.shape} vs {d_right.shape}; "
                             f"evaluate every student on the same test split.")
        test_size = a_right.shape[1]
        a, d = 100 * a_right.mean(1), 100 * d_right.mean(1)
    elif test_size is None:
        raise ValueError("Pass test_size with accuracies (or pass per-example correctness instead).")
    else:
        a, d = 100 * np.asarray(alone, dtype=float), 100 * np.asarray(distilled, dtype=float)
    diff = d - a
    out = dict(diffs=diff, mean=float(diff.mean()), test_size=test_size, paired=paired,
               one_acc_se=100 * float(np.sqrt(d.mean() / 100 * (1 - d.mean() / 100) / test_size)),
               seed_se=float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else float("nan"))
    if paired:
        per_snippet = (d_right - a_right).mean(0)  # each snippet's difference, averaged over the seeds
        out["test_se"] = 100 * float(per_snippet.std(ddof=1) / np.sqrt(test_size))
        out["disagree"] = 100 * float((d_right != a_right).mean())
    else:
        out["test_se"] = out["one_acc_se"]
    out["total_se"] = float(np.sqrt(out["seed_se"] ** 2 + out["test_se"] ** 2))
    if len(diff) < min_seeds:
        out["verdict"] = "too few seeds"
    elif out["mean"] > 2 * out["total_se"]:
        out["verdict"] = "helped"
    elif out["mean"] > 0:
        out["verdict"] = "unclear"
    else:
        out["verdict"] = "not better"
    return out


_VERDICTS = {
    "helped": "distillation helped, by more than the seed-to-seed noise and the test-set error.",
    "unclear": "distillation came out ahead on average, but not by more than the noise: not a clear win.",
    "not better": "distillation did not beat training alone here.",
}


def seed_verdict(alone, distilled, test_size: int | None = None, min_seeds: int = 3) -> str:
    """`compare_students` as an honest sentence, whichever way the numbers go."""
    c = compare_students(alone, distilled, test_size, min_seeds)
    text = (f"Distilled minus alone, per seed: {', '.join(f'{x:+.2f}' for x in c['diffs'])} points "
            f"(mean {c['mean']:+.2f}). One standard error of a single accuracy on {c['test_size']} test "
            f"snippets is about {c['one_acc_se']:.2f} points")
    if c["paired"]:
        text += (f"; of the paired difference (the same snippets for both, averaged over the seeds), "
                 f"{c['test_se']:.2f} (the two students disagree on {c['disagree']:.1f} % of the snippets).")
    else:
        text += "."
    if c["verdict"] == "too few seeds":
        return text + (f" Verdict: only {len(c['diffs'])} seed(s), too few to tell; run with more seeds "
                       f"(the cpu profile).")
    return (text + f" Seed-to-seed standard error of the mean difference: {c['seed_se']:.2f}; both together: "
            f"{c['total_se']:.2f}, so a clear win needs more than {2 * c['total_se']:.2f}. "
            f"Verdict: {_VERDICTS[c['verdict']]}")
