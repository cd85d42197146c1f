"""Fine-tuning an encoder for sentiment with `transformers.Trainer` (taught in notebook 02; notebook 04
distils the result).

This module holds the glue so the notebook reads like the lesson:

- `tokenize_dataset` and `make_collator`: text -> token ids once (with `datasets.map`), padding
  later, per batch (dynamic padding: a batch is padded only to its longest snippet).
- `compute_metrics`: accuracy, positive-class F1 and macro-F1 from the logits the Trainer collects
  (numpy only).
- `seed_table` and `way_verdict`: the three ways over several seeds, mean ± std, and a verdict only
  beyond the noise.
- `training_arguments` and `make_trainer`: the transformers-5 names (`eval_strategy`,
  `processing_class`, `use_cpu`, `train_sampling_strategy`) live here, nowhere else.
- `make_classifier` and `fine_tune`: the three ways of the notebook (random init, frozen encoder +
  linear head, full fine-tuning) on one code path, so they get identical budgets.
- `load_sentiment_teacher`: the fine-tuned classifier that notebook 04 distils, rebuilt when absent.
"""
from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from . import device as dev
from .assets import MissingAssetError, cache_dir, settings_key
from .data import load_sentiment
from .models import encoder_source, load_encoder, load_tokenizer
from .profiles import Profile, active_profile
from .seed import set_seed

WAYS = ("scratch", "frozen", "full")
WAY_NAMES = {"scratch": "random init, all weights trained",
             "frozen": "pretrained encoder frozen + linear head",
             "full": "pretrained, full fine-tuning"}
LABEL_NAMES = ("negative", "positive")


# --- data -------------------------------------------------------------------------------------------

def tokenize_dataset(dataset, tokenizer, max_length: int):
    """Token ids for every snippet of a Dataset or DatasetDict, with `datasets.map` (batched, cached).

    Texts longer than `max_length` tokens are truncated; nothing is padded here, because padding
    belongs to the batch (see `make_collator`). The `text` column is dropped, as the model only
    takes numbers; `label` stays (the Trainer hands it to the model, which then returns a loss).
    """
    if max_length < 8:
        raise ValueError(f"max_length={max_length} leaves no room for words; use 32 or more.")
    columns = dataset["train"].column_names if hasattr(dataset, "keys") else dataset.column_names
    if "text" not in columns:
        raise ValueError(f"The dataset needs a 'text' column; it has {columns}.")

    def encode(batch):
        return tokenizer(batch["text"], truncation=True, max_length=max_length)

    return dataset.map(encode, batched=True, remove_columns=["text"], desc="Tokenising")


def make_collator(tokenizer):
    """Pads each batch to its own longest sequence (and builds the attention mask that goes with it)."""
    from transformers import DataCollatorWithPadding

    return DataCollatorWithPadding(tokenizer)


def token_lengths(texts, tokenizer) -> np.ndarray:
    """How many tokens each text has, [CLS] and [SEP] included, without truncation."""
    return np.array([len(ids) for ids in tokenizer(list(texts))["input_ids"]])


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


# --- models -----------------------------------------------------------------------------------------

def make_classifier(way: str = "full", profile: Profile | None = None, num_labels: int = 2):
    """A sequence classifier (encoder + a new linear head on the [CLS] vector) for one of the WAYS.

    'full': pretrained encoder, every weight trained. 'frozen': pretrained encoder whose weights
    are frozen (requires_grad=False), only the head learns. 'scratch': the same architecture with
    random weights: what pretraining buys is the difference. Seed first (`set_seed`) for
    reproducible heads.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    if way not in WAYS:
        raise ValueError(f"Unknown way {way!r}; choose one of {WAYS}.")
    names = LABEL_NAMES if num_labels == 2 else tuple(f"LABEL_{i}" for i in range(num_labels))
    labels = {"id2label": dict(enumerate(names)), "label2id": {n: i for i, n in enumerate(names)}}
    if way == "scratch":
        config = AutoConfig.from_pretrained(encoder_source(profile), num_labels=num_labels, **labels)
        return AutoModelForSequenceClassification.from_config(config)
    model = load_encoder(head="classification", num_labels=num_labels, profile=profile, **labels)
    if way == "frozen":
        for p in model.base_model.parameters():
            p.requires_grad = False
    return model


def trainable_parameters(model) -> tuple[int, int]:
    """(parameters the optimiser will update, all parameters)."""
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, sum(p.numel() for p in model.parameters())


def default_learning_rate(way: str, profile: Profile | None = None) -> float:
    """The peak learning rate of each way: a frozen encoder's linear head gets `head_learning_rate`
    (a few hundred weights on fixed features take larger steps), the other two `learning_rate`."""
    f = (profile or active_profile()).finetune
    return f.head_learning_rate if way == "frozen" else f.learning_rate


# --- Trainer ----------------------------------------------------------------------------------------

def empty_run_dir(name: str, profile: Profile | None = None) -> Path:
    """An empty folder for a Trainer's checkpoints, <cache>/runs/<profile>_<name>: whatever an earlier
    run left there is DELETED first, so checkpoints of two runs never mix."""
    p = profile or active_profile()
    path = cache_dir() / "runs" / f"{p.name}_{name}"
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def training_arguments(profile: Profile | None = None, output_dir: str | Path | None = None,
                       learning_rate: float | None = None, epochs: float | None = None,
                       batch_size: int | None = None, **overrides):
    """`TrainingArguments` for this profile, with the transformers-5 argument names.

    Evaluates and saves once per epoch and reloads the best epoch (validation accuracy) at the
    end; logs the training loss about 40 times per run; seeds everything; no external loggers.
    Snippets of similar length are batched together (`group_by_length`), which saves padding.
    Precision follows the course's rule (`kd.device.precision`): fp16 with loss scaling on a T4,
    bf16 from Ampere on, fp32 on a CPU (where it says `use_cpu`). `overrides` go through unchanged.
    """
    from transformers import TrainingArguments

    p = profile or active_profile()
    f = p.finetune
    cuda = torch.cuda.is_available()
    if not cuda and overrides.get("fp16"):
        raise ValueError("fp16=True needs a CUDA GPU (half precision with loss scaling); "
                         "drop it on CPU, or use bf16=True on a CPU that supports bfloat16.")
    batch_size = batch_size or f.batch_size
    kwargs = dict(
        output_dir=str(output_dir or empty_run_dir("trainer", p)),
        num_train_epochs=epochs if epochs is not None else f.epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=2 * batch_size,
        learning_rate=learning_rate if learning_rate is not None else f.learning_rate,
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
        seed=p.seed,
        data_seed=p.seed,
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
    kwargs.setdefault("compute_metrics", compute_metrics)
    return Trainer(model=model, args=args, train_dataset=train_dataset, eval_dataset=eval_dataset,
                   data_collator=make_collator(tokenizer), processing_class=tokenizer, **kwargs)


def fine_tune(way: str = "full", profile: Profile | None = None, data=None, tokenizer=None,
              learning_rate: float | None = None, epochs: float | None = None, eval_on_start: bool = False,
              keep_checkpoints: bool = False, seed: int | None = None, progress: bool = True):
    """Train one of the WAYS with the profile's budget and return the Trainer (best epoch loaded).

    `data`: the tokenised DatasetDict (built from `load_sentiment` when None). Every way gets the
    same data, epochs, batch size, schedule and seed; only the learning rate depends on the way
    (`default_learning_rate`) unless given. `seed` (default: the profile's) fixes the new weights,
    dropout and batch order. `progress=False` drops the Trainer's progress table (a loop of runs
    shows one bar instead). Checkpoints are deleted afterwards unless kept: the best model is in
    `trainer.model`.
    """
    p = profile or active_profile()
    seed = p.seed if seed is None else seed
    tokenizer = tokenizer or load_tokenizer(p)
    if data is None:
        data = tokenize_dataset(load_sentiment(p), tokenizer, p.finetune.max_length)
    lr = learning_rate if learning_rate is not None else default_learning_rate(way, p)
    set_seed(seed)  # the new head's weights and the run, as the Trainer seeds itself
    model = make_classifier(way, p)
    args = training_arguments(p, empty_run_dir(way, p), learning_rate=lr, epochs=epochs, eval_on_start=eval_on_start,
                              seed=seed, data_seed=seed)
    trainer = make_trainer(model, args, tokenizer, data["train"], data["validation"])
    if not progress:
        without_progress_table(trainer)
    trainer.train()
    if not keep_checkpoints:
        shutil.rmtree(args.output_dir, ignore_errors=True)
    return trainer


def without_progress_table(trainer):
    """Remove the Trainer's progress display (the notebook table, or the terminal bar) and return the
    Trainer: it then trains and evaluates without printing anything. Taught in notebook 02, section 5."""
    from transformers.trainer import DEFAULT_PROGRESS_CALLBACK  # the notebook table inside Jupyter
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    for kind in {DEFAULT_PROGRESS_CALLBACK, ProgressCallback, PrinterCallback}:
        trainer.remove_callback(kind)
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


# --- inference --------------------------------------------------------------------------------------

@torch.no_grad()
def predict_proba(model, tokenizer, texts, max_length: int = 128, batch_size: int = 64) -> np.ndarray:
    """Class probabilities [n, num_labels] for a list of texts.

    Switches the model to eval mode first (dropout off: the same text always gets the same
    answer) and runs without gradients.
    """
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(texts), batch_size):
        batch = tokenizer(texts[i:i + batch_size], truncation=True, max_length=max_length,
                          padding=True, return_tensors="pt").to(device)
        out.append(model(**batch).logits.float().softmax(-1).cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.config.num_labels))


def confusion_matrix(labels, predictions, num_classes: int = 2) -> np.ndarray:
    """Counts [true class, predicted class]."""
    m = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(m, (np.asarray(labels), np.asarray(predictions)), 1)
    return m


def confident_mistakes(texts, labels, probs, k: int = 5):
    """The k wrong predictions the model was most sure of, as a DataFrame (text, true, predicted, p)."""
    import pandas as pd

    labels, probs = np.asarray(labels), np.asarray(probs)
    pred = probs.argmax(-1)
    wrong = np.flatnonzero(pred != labels)
    order = wrong[np.argsort(-probs[wrong, pred[wrong]])][:k]
    return pd.DataFrame({"text": [list(texts)[i] for i in order],
                         "true": [LABEL_NAMES[labels[i]] for i in order],
                         "predicted": [LABEL_NAMES[pred[i]] for i in order],
                         "confidence": probs[order, pred[order]].round(3)})


# --- the three ways over seeds ----------------------------------------------------------------------

def _classes(p) -> np.ndarray:
    """Predicted classes [n] from probabilities or logits [n, classes], or the classes themselves."""
    p = np.asarray(p)
    return p.argmax(-1) if p.ndim == 2 else p


def _by_way(runs) -> dict[str, list[np.ndarray]]:
    """(way, seed) -> probabilities or predicted classes, regrouped as way -> predicted classes per seed."""
    out: dict[str, list[np.ndarray]] = {}
    for (way, _seed), p in runs.items():
        out.setdefault(way, []).append(_classes(p))
    return out


def _std(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else float("nan")


def seed_scores(runs, labels):
    """One row per run (way, seed): test accuracy, macro-F1 and positive-class F1, in %. `runs`: (way, seed) ->
    test probabilities or predicted classes. Taught in notebook 02, section 5."""
    import pandas as pd

    rows = []
    for (way, seed), p in runs.items():
        m = classification_metrics(_classes(p), labels)
        rows.append({"way": way, "seed": seed, "test acc %": 100 * m["accuracy"],
                     "test macro-F1 %": 100 * m["macro_f1"], "positive-class F1 %": 100 * m["f1"]})
    return pd.DataFrame(rows)


def seed_table(runs, labels, best_validation=None):
    """Test accuracy, macro-F1 and positive-class F1 (in %) per way, as mean and std over its seeds.

    One run is one draw: the std says how far another seed may move a number. `runs`: (way, seed) ->
    test probabilities or predicted classes; `best_validation`: (way, seed) -> the best epoch's
    validation accuracy (a fraction). Taught in notebook 02, section 5.
    """
    import pandas as pd

    rows = []
    for way, g in seed_scores(runs, labels).groupby("way", sort=False):
        row = {"way": way, "seeds": len(g)}
        if best_validation:
            seen = [v for (w, _), v in best_validation.items() if w == way]
            row["best validation acc %"] = 100 * float(np.mean(seen)) if seen else float("nan")
        acc, macro = g["test acc %"].to_numpy(), g["test macro-F1 %"].to_numpy()
        rows.append({**row, "test acc %": acc.mean(), "acc ± std": _std(acc), "test macro-F1 %": macro.mean(),
                     "macro-F1 ± std": _std(macro), "positive-class F1 %": g["positive-class F1 %"].mean()})
    return pd.DataFrame(rows).set_index("way")


def compare_ways(runs, labels, a: str, b: str) -> dict:
    """Way `a` minus way `b` on the test split (points), with the noise: each way's seed-to-seed std of
    test accuracy, and the standard error of the paired difference that the test set's size leaves.

    `clear` is True when |difference of mean accuracies| > 2 x the largest noise term, False when not,
    None with fewer than 2 seeds (no spread to compare with). Taught in notebook 02, section 5.
    """
    ways, labels = _by_way(runs), np.asarray(labels)
    right_a, right_b = (np.array([p == labels for p in ways[w]], dtype=float) for w in (a, b))
    acc_a, acc_b = 100 * right_a.mean(1), 100 * right_b.mean(1)
    macro = {w: np.mean([classification_metrics(p, labels)["macro_f1"] for p in ways[w]]) for w in (a, b)}
    per_example = right_a.mean(0) - right_b.mean(0)  # both ways answer the same snippets: a paired difference
    out = dict(diff=float(acc_a.mean() - acc_b.mean()), macro_f1_diff=float(100 * (macro[a] - macro[b])),
               std_a=_std(acc_a), std_b=_std(acc_b), seeds=min(len(acc_a), len(acc_b)),
               test_se=float(100 * per_example.std(ddof=1) / np.sqrt(len(labels))))
    out["noise"] = float(max(out["std_a"], out["std_b"], out["test_se"]))
    out["clear"] = None if out["seeds"] < 2 else bool(abs(out["diff"]) > 2 * out["noise"])
    return out


def way_verdict(runs, labels, a: str, b: str) -> str:
    """`compare_ways` as a sentence: the differences, the noise, and a verdict only beyond it.
    Taught in notebook 02, section 5."""
    c = compare_ways(runs, labels, a, b)
    text = (f"{a} minus {b}: {c['diff']:+.1f} points of test accuracy, {c['macro_f1_diff']:+.1f} of macro-F1 "
            f"(means over {c['seeds']} seed(s) each).")
    if c["clear"] is None:
        return text + " One seed per way: the seed-to-seed spread is unknown, so no verdict (add seeds to the profile)."
    text += (f" Noise: seed-to-seed std {c['std_a']:.1f} ({a}) and {c['std_b']:.1f} ({b}), test-set standard error "
             f"of the paired difference {c['test_se']:.1f}; a verdict needs more than 2 x {c['noise']:.1f} = "
             f"{2 * c['noise']:.1f} points.")
    if c["clear"]:
        return text + f" Verdict: {a if c['diff'] > 0 else b} is ahead, beyond the noise."
    return text + " Verdict: none; the difference is within the noise."


# --- the teacher of notebook 04 ---------------------------------------------------------------------

def teacher_settings(profile: Profile | None = None) -> dict:
    """Every setting that shapes the sentiment teacher: encoder, dataset, seed and fine-tuning budget."""
    p = profile or active_profile()
    finetune = dataclasses.asdict(p.finetune)
    finetune.pop("seeds")  # the comparison's other seeds never touch the teacher (the `seed` run)
    return {"encoder": encoder_source(p), "sentiment": p.sentiment, "seed": p.seed, "finetune": finetune}


def sentiment_teacher_dir(profile: Profile | None = None) -> Path:
    """Where notebook 02's fine-tuned classifier (notebook 04's teacher) is kept:
    <cache>/sentiment_teacher_<profile>_<hash of its settings>, so a changed profile builds a new one."""
    p = profile or active_profile()
    return cache_dir() / settings_key(f"sentiment_teacher_{p.name}", teacher_settings(p))


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
    model = AutoModelForSequenceClassification.from_pretrained(path)
    model.to(dev.device()).eval()
    return model, AutoTokenizer.from_pretrained(path)


def load_sentiment_teacher(profile: Profile | None = None, rebuild: bool = True):
    """The fine-tuned sentiment classifier of notebook 02 and its tokenizer (model in eval mode).

    Loaded from `sentiment_teacher_dir(profile)`. When absent it is rebuilt exactly as notebook 02 builds it
    (`fine_tune('full', profile)`: minutes on a CPU in the `cpu` profile) and saved there, unless
    `rebuild=False`, which raises a MissingAssetError instead.
    """
    p = profile or active_profile()
    path = sentiment_teacher_dir(p)
    if not (path / "config.json").exists():
        if not rebuild:
            raise MissingAssetError(f"No sentiment teacher for these settings ({path.name}). Run notebook 02, "
                                    f"or call load_sentiment_teacher(rebuild=True) to fine-tune it now.")
        print(f"No sentiment teacher cached for these settings ({path.name}): fine-tuning it now, "
              f"{p.finetune.epochs} epochs (the bar below shows the time left).")
        start = time.perf_counter()
        tokenizer = load_tokenizer(p)
        trainer = fine_tune("full", p, tokenizer=tokenizer)
        save_classifier(trainer.model, tokenizer, path)
        print(f"Fine-tuned the sentiment teacher in {time.perf_counter() - start:.0f} s.")
    return load_classifier(path)
