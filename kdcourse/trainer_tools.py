"""The course's toolbox for Hugging Face's `Trainer`: what every Trainer of the course needs, set up once.

Notebook 02 teaches it while fine-tuning a classifier; notebook 04's students and `python -m kdcourse.distill`
use it unchanged.

- `tokenize_dataset` and `make_collator`: text (one sentence, or a pair of sentences) -> token ids once, with
  `datasets.map`; padding later, per batch (dynamic padding: a batch is padded only to its longest example);
  `shortest_first` sorts an evaluation set so that its batches pad little.
- `classification_metrics` and `compute_metrics`: accuracy, positive-class F1 and macro-F1 (numpy only).
- `training_arguments` and `make_trainer`: the transformers-5 names (`eval_strategy`, `processing_class`,
  `use_cpu`, `train_sampling_strategy`) live here, nowhere else.
- `empty_run_dir`, `save_classifier`, `load_classifier`, `predict_proba`: run folders, saving and loading,
  inference.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import torch

from . import device as dev
from .assets import MissingAssetError, runs_dir
from .loop import to_model
from .models import from_pretrained
from .profiles import Profile


# --- data -------------------------------------------------------------------------------------------

def tokenize_dataset(dataset, tokenizer, max_length: int, columns: tuple[str, ...] = ("text",)):
    """Token ids for every example of a Dataset or DatasetDict, with `datasets.map` (batched, cached).

    `columns`: the text column, or two columns for a sentence pair, e.g. ("sentence1", "sentence2"), which BERT
    reads as `[CLS] a [SEP] b [SEP]` with `token_type_ids` 0 for the first segment and 1 for the second.
    Examples longer than `max_length` tokens are truncated (a pair: the longer sentence is shortened first,
    `truncation="longest_first"`); nothing is padded here, because padding belongs to the batch (see
    `make_collator`). The text columns are dropped, as the model only takes numbers; `label` stays (the
    Trainer hands it to the model, which then returns a loss). Taught in notebook 02.
    """
    if max_length < 8:
        raise ValueError(f"max_length={max_length} leaves no room for words; use 32 or more.")
    columns = (columns,) if isinstance(columns, str) else tuple(columns)
    if len(columns) not in (1, 2):
        raise ValueError(f"columns names one text column, or two for a sentence pair; got {columns}.")
    present = next(iter(dataset.values())).column_names if hasattr(dataset, "keys") else dataset.column_names
    missing = [c for c in columns if c not in present]
    if missing:
        raise ValueError(f"The dataset has no {', '.join(repr(c) for c in missing)} column; it has {present}. "
                         f"Pass the text column(s) as columns=(...).")

    def encode(batch):
        return tokenizer(*(batch[c] for c in columns), truncation="longest_first" if len(columns) == 2 else True,
                         max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=list(columns), desc="Tokenising")


def make_collator(tokenizer):
    """Pads each batch to its own longest sequence (and builds the attention mask that goes with it)."""
    from transformers import DataCollatorWithPadding

    return DataCollatorWithPadding(tokenizer)


def shortest_first(dataset, column: str = "input_ids"):
    """(the dataset sorted by token count, the order: row i of it is row order[i] of the input). With dynamic
    padding a batch costs its longest example: sorted, an evaluation pads little (about half the tokens of
    shuffled film-review snippets). Only for evaluation, where the order changes nothing; training shuffles
    (`train_sampling_strategy`)."""
    order = np.argsort([len(ids) for ids in dataset[column]], kind="stable")
    return dataset.select(order.tolist()), order


def token_lengths(texts, tokenizer, second=None) -> np.ndarray:
    """How many tokens each text has (each pair, with `second` the pairs' second sentences), [CLS] and [SEP]
    included, without truncation."""
    pair = () if second is None else (list(second),)
    return np.array([len(ids) for ids in tokenizer(list(texts), *pair)["input_ids"]])



# --- metrics ----------------------------------------------------------------------------------------

def class_f1(predictions, labels, c: int) -> float:
    """F1 of class `c` alone: 2 tp / (2 tp + fp + fn), 0 when the class is never predicted and never
    present (no 0/0). Taught in notebook 02, section 1."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    tp = np.sum((predictions == c) & (labels == c))
    wrong = np.sum((predictions == c) != (labels == c))  # fp + fn
    return float(2 * tp / (2 * tp + wrong)) if tp + wrong else 0.0


def classification_metrics(predictions, labels) -> dict[str, float]:
    """Accuracy, F1 and macro-F1 (the plain mean of the F1 of every class seen in labels or predictions)
    of predicted class ids against true ones.

    Macro-F1 punishes a model that ignores a class (that class's F1 is 0); accuracy and the positive
    class's F1 do not. `f1` is the positive class's (class 1) for two classes, macro-F1 otherwise.
    Taught in notebook 02, section 1.
    """
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    if predictions.shape != labels.shape:
        raise ValueError(f"{predictions.shape[0] if predictions.ndim else 0} predictions for "
                         f"{labels.shape[0] if labels.ndim else 0} labels: they must match one to one.")
    binary = max(labels.max(initial=0), predictions.max(initial=0)) <= 1
    classes = sorted(set(labels.tolist()) | set(predictions.tolist()))  # the classes seen, in either
    macro = float(np.mean([class_f1(predictions, labels, c) for c in classes]))
    return {"accuracy": float(np.mean(predictions == labels)),
            "f1": class_f1(predictions, labels, 1) if binary else macro, "macro_f1": macro}


def compute_metrics(eval_pred) -> dict[str, float]:
    """The Trainer's metrics hook: logits and labels in (an `EvalPrediction`), accuracy, F1 and macro-F1
    out. Model selection stays on accuracy (`metric_for_best_model`)."""
    logits, labels = eval_pred.predictions, eval_pred.label_ids
    if isinstance(logits, (tuple, list)):  # some models also return hidden states
        logits = logits[0]
    return classification_metrics(np.argmax(logits, axis=-1), labels)



# --- Trainer ----------------------------------------------------------------------------------------

def trainable_parameters(model) -> tuple[int, int]:
    """(parameters the optimiser will update, all parameters)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def empty_run_dir(name: str, profile: Profile) -> Path:
    """An empty folder for a Trainer's checkpoints, <runs>/<profile>_<name> (kd.assets.runs_dir: local disk, not
    the cache): whatever an earlier run left there is DELETED first, so checkpoints of two runs never mix."""
    path = runs_dir() / f"{profile.name}_{name}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def training_arguments(output_dir: str | Path, budget, *, seed: int, learning_rate: float | None = None,
                       epochs: float | None = None, batch_size: int | None = None, **overrides):
    """`TrainingArguments` with the transformers-5 argument names, for one run of `budget` (a profile part with
    `epochs`, `batch_size` and `learning_rate`: `P.finetune` in notebook 02, `P.distillation` in 04).

    Evaluates and saves once per epoch and reloads the best epoch (validation accuracy) at the
    end; logs the training loss about 40 times per run; seeds everything with `seed`; no external loggers.
    Snippets of similar length are batched together (`group_by_length`), which saves padding.
    Precision follows the course's rule (`kd.device.precision`): fp16 with loss scaling on a T4,
    bf16 from Ampere on, fp32 on a CPU (where it says `use_cpu`). `overrides` go through unchanged.
    """
    from transformers import TrainingArguments

    cuda = torch.cuda.is_available()
    if not cuda and overrides.get("fp16"):
        raise ValueError("fp16=True needs a CUDA GPU (half precision with loss scaling); "
                         "drop it on CPU, or use bf16=True on a CPU that supports bfloat16.")
    batch_size = batch_size or budget.batch_size
    kwargs = dict(
        output_dir=str(output_dir),
        num_train_epochs=epochs if epochs is not None else budget.epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=2 * batch_size,
        learning_rate=learning_rate if learning_rate is not None else budget.learning_rate,
        weight_decay=0.01,
        warmup_steps=0.1,              # a float below 1 is a fraction of all steps (10 % warm-up)
        lr_scheduler_type="linear",
        eval_strategy="epoch",         # transformers < 4.41 called it evaluation_strategy
        save_strategy="epoch",
        save_total_limit=1,            # the best checkpoint (and the latest) stay on disk
        save_only_model=True,          # no optimiser state: half the disk
        load_best_model_at_end=True,
        metric_for_best_model="accuracy",
        greater_is_better=True,
        logging_strategy="steps",
        logging_steps=0.025,           # a fraction of all steps: 40 points per learning curve
        report_to="none",
        seed=seed,
        data_seed=seed,
        use_cpu=not cuda,
        **dev.trainer_precision(),
        dataloader_num_workers=0,
        train_sampling_strategy="group_by_length",
        disable_tqdm=False,            # progress bars (a table in notebooks) whatever the log level
        log_level="passive",           # leave transformers' log level as the caller set it
    )
    kwargs.update(overrides)
    return TrainingArguments(**kwargs)


def make_trainer(model, args, tokenizer, train_dataset, eval_dataset, **kwargs):
    """A `transformers.Trainer` with dynamic padding and accuracy/F1 metrics.

    The tokenizer goes in as `processing_class` (transformers 5 removed the `tokenizer=` argument);
    the Trainer saves it with every checkpoint, so a checkpoint folder loads on its own.
    """
    from transformers import Trainer

    top = max(train_dataset["label"])
    if top >= model.config.num_labels:
        raise ValueError(f"The model's head has {model.config.num_labels} outputs but a training label "
                         f"is {top}; build the model with num_labels equal to the number of classes.")
    if args.fp16:
        dev.require_fp32_weights(model.parameters(), "make_trainer")
    kwargs.setdefault("compute_metrics", compute_metrics)
    if eval_dataset is not None:
        eval_dataset = shortest_first(eval_dataset)[0]  # the same metrics, less padding
    return Trainer(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                   data_collator=make_collator(tokenizer), processing_class=tokenizer, **kwargs)


def without_progress_table(trainer):
    """Remove the Trainer's progress display (the notebook table, or the terminal bar) and return the
    Trainer: it then trains and evaluates without printing anything. Taught in notebook 02, section 5."""
    from transformers.trainer import DEFAULT_PROGRESS_CALLBACK  # the notebook table inside Jupyter
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for kind in {DEFAULT_PROGRESS_CALLBACK, ProgressCallback, PrinterCallback}:
        trainer.remove_callback(kind)
    return trainer


def text_progress(trainer, desc: str | None = None):
    """Show the Trainer's progress as one bar that fills, named `desc` (which run it is, in a cell that trains
    several), and return the Trainer. Inside Jupyter the Trainer draws a table that grows a row at every log
    (forty rows a run here: a wall in a stored notebook, on GitHub and on the course website); in a terminal its
    bar prints every log as a line. The log itself stays in `trainer.state.log_history` (`training_history`)."""
    from transformers.trainer_callback import ProgressCallback

    class BarOnly(ProgressCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            super().on_train_begin(args, state, control, **kwargs)
            if desc and self.training_bar is not None:
                self.training_bar.set_description(desc)

        def on_log(self, args, state, control, logs=None, **kwargs):
            pass  # no printed line per log: the numbers are in state.log_history

    without_progress_table(trainer)
    if not trainer.args.disable_tqdm:  # disable_tqdm=True: no bar at all
        trainer.add_callback(BarOnly())
    return trainer


def training_history(trainer):
    """The Trainer's log as two DataFrames: training loss per logged step, and metrics per evaluation."""
    import pandas as pd

    log = pd.DataFrame(trainer.state.log_history)
    train = log.dropna(subset=["loss"])[["step", "epoch", "loss"]] if "loss" in log else pd.DataFrame()
    evals = log.dropna(subset=["eval_accuracy"]) if "eval_accuracy" in log else pd.DataFrame()
    columns = ["step", "epoch", "eval_loss", "eval_accuracy", "eval_f1", "eval_macro_f1"]
    evals = evals[[c for c in columns if c in evals]] if len(evals) else evals
    return train.reset_index(drop=True), evals.reset_index(drop=True)



# --- saving, loading, inference --------------------------------------------------------------------

def save_classifier(model, tokenizer, path: str | Path) -> Path:
    """Save model and tokenizer in one folder (replaced whole, so a half-written folder never remains)."""
    path = Path(path)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    return path


def load_classifier(path: str | Path):
    """(model in eval mode, tokenizer) from a folder written by `save_classifier` or a Trainer."""
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = Path(path)
    if not (path / "config.json").exists():
        raise MissingAssetError(f"No saved classifier in {path} (config.json is missing).")
    model = from_pretrained(AutoModelForSequenceClassification, path)
    model.to(dev.device()).eval()
    return model, AutoTokenizer.from_pretrained(path)


@torch.no_grad()
def predict_proba(model, tokenizer, texts, max_length: int = 128, batch_size: int = 64, second=None) -> np.ndarray:
    """Class probabilities [n, num_labels] for a list of texts, or of sentence pairs: `texts` the first
    sentences, `second` the second ones (truncated as `tokenize_dataset` does, the longer sentence first).

    Switches the model to eval mode first (dropout off: the same text always gets the same
    answer) and runs without gradients.
    """
    if isinstance(texts, str):
        texts, second = [texts], None if second is None else [second]
    texts, second = list(texts), None if second is None else list(second)
    if second is not None and len(second) != len(texts):
        raise ValueError(f"{len(texts)} first sentences but {len(second)} second ones: pass one of each per pair.")
    model.eval()
    out = []
    for i in range(0, len(texts), batch_size):
        pair = () if second is None else (second[i:i + batch_size],)
        batch = tokenizer(texts[i:i + batch_size], *pair, truncation="longest_first" if pair else True,
                          max_length=max_length, padding=True, return_tensors="pt")
        batch = to_model(batch, model)
        out.append(model(**batch).logits.float().softmax(-1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.config.num_labels))
