"""Fine-tuning an encoder for sentiment, and on sentence pairs, with `transformers.Trainer`: notebook 02's
lesson (notebook 04 distils the sentiment classifier).

- `make_classifier` and `fine_tune`: the three ways of the notebook (random init, frozen encoder +
  linear head, full fine-tuning) on one code path, so they get identical budgets.
- `seed_table` and `way_verdict`: the three ways over several seeds, mean ± std, and the course's verdict
  (`kd.measure.verdict`) on each pair of ways.
- `length_only`: a sentence-pair baseline that reads nothing but the two sentences' lengths.
- `confusion_matrix` and `confident_mistakes`: where the classifier goes wrong.
- `load_sentiment_teacher`: the fine-tuned classifier that notebook 04 distils, rebuilt when absent.

The Trainer toolbox it builds on (tokenising, collators, metrics, arguments, run folders, saving and
loading) is `kdcourse.trainer_tools`, shared with notebook 04's students.
"""
from __future__ import annotations

import dataclasses
import shutil
import time
from pathlib import Path

import numpy as np

from .assets import MissingAssetError, artifact_dir
from .data import load_sentiment
from .measure.seeds import seed_table as _seed_table
from .measure.verdict import verdict
from .models import encoder_source, load_encoder, load_tokenizer
from .profiles import Profile
from .seed import set_seed
from .trainer_tools import (classification_metrics, empty_run_dir, load_classifier, make_trainer, save_classifier,
                            tokenize_dataset, training_arguments, without_progress_table)

WAYS = ("scratch", "frozen", "full")
WAY_NAMES = {"scratch": "random init, all weights trained",
             "frozen": "pretrained encoder frozen + linear head",
             "full": "pretrained, full fine-tuning"}
LABEL_NAMES = ("negative", "positive")


# --- models -----------------------------------------------------------------------------------------

def make_classifier(way: str, profile: Profile, num_labels: int = 2, label_names=None):
    """A sequence classifier (encoder + a new linear head on the [CLS] vector) for one of the WAYS.

    'full': pretrained encoder, every weight trained. 'frozen': pretrained encoder whose weights
    are frozen (requires_grad=False), only the head learns. 'scratch': the same architecture with
    random weights: what pretraining buys is the difference. Seed first (`set_seed`) for
    reproducible heads. `label_names` (default: negative, positive) name the classes in predictions.
    """
    from transformers import AutoConfig, AutoModelForSequenceClassification

    if way not in WAYS:
        raise ValueError(f"Unknown way {way!r}; choose one of {WAYS}.")
    if label_names is not None:
        names, num_labels = tuple(label_names), len(label_names)
    else:
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


def default_learning_rate(way: str, profile: Profile) -> float:
    """The peak learning rate of each way: a frozen encoder's linear head gets `head_learning_rate`
    (a few hundred weights on fixed features take larger steps), the other two `learning_rate`."""
    f = profile.finetune
    return f.head_learning_rate if way == "frozen" else f.learning_rate


# --- fine-tuning ------------------------------------------------------------------------------------

def fine_tune(way: str, profile: Profile, data=None, tokenizer=None,
              learning_rate: float | None = None, epochs: float | None = None, eval_on_start: bool = False,
              keep_checkpoints: bool = False, seed: int | None = None, progress: bool = True):
    """Train one of the WAYS with the profile's budget and return the Trainer (best epoch loaded).

    `data`: the tokenised DatasetDict (built from `load_sentiment` when None); its label names name the
    classifier's. Every way gets the same data, epochs, batch size, schedule and seed; only the learning rate
    depends on the way
    (`default_learning_rate`) unless given. `seed` (default: the profile's) fixes the new weights,
    dropout and batch order. `progress=False` drops the Trainer's progress table (a loop of runs
    shows one bar instead). Checkpoints are deleted afterwards unless kept: the best model is in
    `trainer.model`.
    """
    seed = profile.seed if seed is None else seed
    tokenizer = tokenizer or load_tokenizer(profile)
    if data is None:
        data = tokenize_dataset(load_sentiment(profile), tokenizer, profile.finetune.max_length)
    lr = learning_rate if learning_rate is not None else default_learning_rate(way, profile)
    set_seed(seed)  # the new head's weights and the run, as the Trainer seeds itself
    labels = data["train"].features["label"]
    model = make_classifier(way, profile, label_names=getattr(labels, "names", None))
    args = training_arguments(empty_run_dir(way, profile), profile.finetune, seed=seed, learning_rate=lr, epochs=epochs,
                              eval_on_start=eval_on_start)
    trainer = make_trainer(model, args, tokenizer, data["train"], data["validation"])
    if not progress:
        without_progress_table(trainer)
    trainer.train()
    if not keep_checkpoints:
        shutil.rmtree(args.output_dir, ignore_errors=True)
    return trainer


def length_only(train, test) -> np.ndarray:
    """Predicted classes for `test` from the two sentences' lengths alone (words of each, their difference and
    its size), by a logistic regression fitted on `train` (Datasets with sentence1, sentence2, label). A pair
    task whose label this predicts well can be solved without reading: check it before trusting the task.
    Taught in notebook 02, section 9."""
    from sklearn.linear_model import LogisticRegression

    def features(ds):
        a, b = (np.array([len(t.split()) for t in ds[c]], dtype=float) for c in ("sentence1", "sentence2"))
        return np.stack([a, b, b - a, np.abs(b - a)], axis=1)

    fitted = LogisticRegression(max_iter=1000).fit(features(train), np.asarray(train["label"]))
    return fitted.predict(features(test))


# --- mistakes ----------------------------------------------------------------------------------------

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
    """Test accuracy, macro-F1 and positive-class F1 (in %) per way, as mean and std over its seeds
    (`kd.measure.seed_table`). `runs`: (way, seed) -> test probabilities or predicted classes;
    `best_validation`: (way, seed) -> the best epoch's validation accuracy (a fraction).
    Taught in notebook 02, section 5.
    """
    columns = {"test acc %": "acc ± std", "test macro-F1 %": "macro-F1 ± std", "positive-class F1 %": None}
    table = _seed_table(seed_scores(runs, labels), "way", columns)
    if best_validation:
        seen = {way: [100 * v for (w, _), v in best_validation.items() if w == way] for way in table.index}
        table.insert(1, "best validation acc %", [float(np.mean(v)) if v else float("nan") for v in seen.values()])
    return table


def way_verdict(runs, labels, a: str, b: str, groups=None):
    """Way `a` against way `b` on the test split, by the course's one rule (`kd.measure.verdict`): the paired
    per-snippet right/wrong of seed s of both ways, the seeds' and the snippets' noise, a 95 % interval of
    `a` minus `b` in accuracy points, and a verdict only when it excludes zero. `groups` (one name per test
    example, e.g. the speech of each sentence pair) resamples groups, not examples, when examples of one group are
    not independent. Taught in notebook 02, section 5.
    """
    ways, labels = _by_way(runs), np.asarray(labels)
    right_a, right_b = (np.array([p == labels for p in ways[w]], dtype=float) for w in (a, b))
    return verdict(right_b, right_a, names=(b, a), unit="points", scale=100, groups=groups)


# --- the teacher of notebook 04 ---------------------------------------------------------------------

def sentiment_teacher_settings(profile: Profile) -> dict:
    """Every setting that shapes the sentiment teacher: encoder, dataset, seed and fine-tuning budget."""
    finetune = dataclasses.asdict(profile.finetune)
    finetune.pop("seeds")  # the comparison's other seeds never touch the teacher (the `seed` run)
    return {"encoder": encoder_source(profile), "sentiment": profile.sentiment, "seed": profile.seed,
            "finetune": finetune}


def sentiment_teacher_dir(profile: Profile) -> Path:
    """Where notebook 02's fine-tuned classifier (notebook 04's teacher) is kept (`kd.assets.artifact_dir`)."""
    return artifact_dir("sentiment_teacher", profile, sentiment_teacher_settings(profile))


def load_sentiment_teacher(profile: Profile, rebuild: bool = True):
    """The fine-tuned sentiment classifier of notebook 02 and its tokenizer (model in eval mode).

    Loaded from `sentiment_teacher_dir(profile)`. When absent it is rebuilt exactly as notebook 02 builds it
    (`fine_tune('full', profile)`: minutes on a CPU in the `cpu` profile) and saved there, unless
    `rebuild=False`, which raises a MissingAssetError instead.
    """
    path = sentiment_teacher_dir(profile)
    if not (path / "config.json").exists():
        if not rebuild:
            raise MissingAssetError(f"No sentiment teacher for these settings ({path.name}). Run notebook 02, "
                                    f"or call load_sentiment_teacher(profile, rebuild=True) to fine-tune it now.")
        print(f"No sentiment teacher cached for these settings ({path.name}): fine-tuning it now, "
              f"{profile.finetune.epochs} epochs (the bar below shows the time left).")
        start = time.perf_counter()
        tokenizer = load_tokenizer(profile)
        trainer = fine_tune("full", profile, tokenizer=tokenizer)
        save_classifier(trainer.model, tokenizer, path)
        print(f"Fine-tuned the sentiment teacher in {time.perf_counter() - start:.0f} s.")
    return load_classifier(path)
