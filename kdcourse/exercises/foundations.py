"""Self-checks of the foundations notebooks, in teaching order: 00 (the majority baseline), 01 (the
causal-LM loss and perplexity), 02 (accuracy and macro-F1 from a classifier's logits)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .core import Check, _call, _close, _not_attempted


# --- notebook 00: the baseline every classifier must beat ----------------------------------------

def check_majority_baseline(fn) -> Check:
    """Exercise: write `fn(train_labels, test_labels)` giving the test accuracy of always answering the
    class that is most common in the TRAINING labels (the baseline notebook 02 compares against)."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    train, test = [1, 1, 1, 0, 0, 2], [0, 0, 0, 1, 2]  # train's majority is 1; test's is 0
    got, error = _call(fn, list(train), list(test))
    if error is not None:
        return error
    if got is not None and _close(got, 0.2):
        return Check(True, "the majority class is chosen on the training labels and scored on the test labels.")
    if got is not None and _close(got, 20.0):
        return Check(False, "return a fraction between 0 and 1, not a percentage.")
    if got is not None and _close(got, 0.6):
        return Check(False, "you picked the most common class of the TEST labels: the test set must not choose "
                            "anything. Pick the class on the training labels, then score it on the test labels.")
    if got is not None and _close(got, 0.5):
        return Check(False, "that is the share of the majority class in the training labels; score that "
                            "class on the test labels instead.")
    return Check(False, "find the most common training label, then the share of test labels equal to it.")


# --- notebook 01: the causal-LM loss -----------------------------------------------------------

def check_clm_loss(fn) -> Check:
    """Exercise: write `fn(logits, input_ids)` giving the mean negative log-likelihood of each token
    given the ones before it (what a causal LM's `loss` is)."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    g = torch.Generator().manual_seed(1)
    logits, ids = torch.randn(2, 7, 11, generator=g), torch.randint(0, 11, (2, 7), generator=g)
    got, error = _call(fn, logits, ids)
    if error is not None:
        return error
    want = F.cross_entropy(logits[:, :-1].reshape(-1, 11), ids[:, 1:].reshape(-1))
    if got is not None and _close(got, want):
        return Check(True, "your loss equals the shifted cross-entropy a causal LM reports.")
    unshifted = F.cross_entropy(logits.reshape(-1, 11), ids.reshape(-1))
    if got is not None and _close(got, unshifted):
        return Check(False, "position i must predict token i+1: drop the last logit and the first label "
                            "(logits[:, :-1] against input_ids[:, 1:]).")
    summed = want * ids[:, 1:].numel()
    if got is not None and _close(got, summed):
        return Check(False, "that is the summed log-likelihood; the model's loss is the mean per token.")
    return Check(False, "the value differs: use log_softmax over the vocabulary, pick the log-probability "
                        "of the true next token, and average the negatives.")


def check_perplexity(perplexity, mean_loss: float) -> Check:
    """Exercise: turn a mean per-token loss (in nats) into a perplexity."""
    if (missing := _not_attempted(perplexity)) is not None:
        return missing
    if _close(perplexity, math.exp(mean_loss), 1e-3):
        return Check(True, "perplexity = exp(mean negative log-likelihood).")
    if _close(perplexity, 2 ** mean_loss, 1e-3):
        return Check(False, "PyTorch losses are in nats (natural log): use e, not 2, as the base.")
    return Check(False, "perplexity is the exponential of the mean per-token loss.")


# --- notebook 02: metrics -----------------------------------------------------------------------

def check_accuracy_from_logits(fn) -> Check:
    """Exercise: write `fn(logits, labels)` (NumPy arrays, as Trainer passes them) returning accuracy."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    import numpy as np

    logits = np.array([[2.0, -1.0], [0.1, 0.3], [-2.0, 1.0], [0.5, 0.4], [1.0, 3.0]])
    labels = np.array([0, 1, 0, 0, 0])
    got, error = _call(fn, logits, labels)
    if error is not None:
        return error
    if got is not None and _close(got, 0.6):
        return Check(True, "accuracy = mean(argmax over the class axis == label).")
    if got is not None and _close(got, 60.0):
        return Check(False, "return a fraction between 0 and 1, not a percentage.")
    if got is not None and _close(got, float(np.mean(logits.max(-1) > 0))):
        return Check(False, "compare the predicted CLASS (argmax over the last axis) with the label, "
                            "not the logit values themselves.")
    return Check(False, "compare the predicted class (argmax of the logits per row) with the labels "
                        "and average.")


def check_macro_f1(fn) -> Check:
    """Exercise: write `fn(logits, labels)` (NumPy arrays, as Trainer passes them) returning macro-F1, the
    mean over classes of each class's F1. The hint recognises positive-class F1, accuracy (= micro-F1),
    the class-weighted average, a percentage, nan for a class never predicted, and two classes only."""
    import numpy as np

    from ..trainer_tools import class_f1

    if (missing := _not_attempted(fn)) is not None:
        return missing
    cases = [([1, 1, 1, 1, 1, 0, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]),  # errors both ways
             ([1] * 10, [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]),  # always 'positive': class 0 never predicted
             ([0, 1, 1, 1, 2, 0, 2], [0, 0, 1, 1, 2, 2, 2])]  # three classes
    for predicted, labels in cases:
        labels, classes = np.array(labels), max(labels) + 1
        logits = 2.0 * np.eye(classes)[predicted] - 1.0  # the predicted class scores highest in each row
        got, error = _call(fn, logits, labels)
        if error is not None:
            return error
        try:
            got = float(got)
        except (TypeError, ValueError):
            return Check(False, "return one number: the macro-F1 as a fraction between 0 and 1.")
        f1s = [class_f1(np.array(predicted), labels, c) for c in range(classes)]
        if _close(got, np.mean(f1s)):
            continue
        if math.isnan(got):
            return Check(False, "a class that is never predicted has no precision (0/0): count its F1 as 0, "
                                "not nan, so a model that ignores a class is punished.")
        if _close(got, 100 * np.mean(f1s)):
            return Check(False, "return a fraction between 0 and 1, not a percentage.")
        if _close(got, np.mean(np.array(predicted) == labels)):
            return Check(False, "that is accuracy, which is also what micro-F1 is when every example has one "
                                "label. Compute F1 for each class separately, then average the classes.")
        if _close(got, f1s[1]):
            return Check(False, "that is the F1 of the positive class (class 1) only: it stays high for a model "
                                "that always answers 'positive'. Average the F1 of EVERY class.")
        if _close(got, f1s[0]):
            return Check(False, "that is the F1 of class 0 only: average the F1 of every class.")
        if _close(got, np.dot(f1s, np.bincount(labels, minlength=classes)) / len(labels)):
            return Check(False, "that weights each class's F1 by its share of the labels (sklearn's "
                                "average='weighted'); macro-F1 gives every class the same weight.")
        if classes > 2 and _close(got, np.mean(f1s[:2])):
            return Check(False, "you averaged classes 0 and 1 only: there may be more classes "
                                "(logits.shape[-1] of them); average them all.")
        return Check(False, "for each class c, count tp, fp and fn of the predicted class (argmax of the "
                            "logits) against c, take F1 = 2 tp / (2 tp + fp + fn), then average over classes.")
    return Check(True, "macro-F1 = the unweighted mean of the per-class F1, 0 for a class never predicted; "
                       "it catches the always-'positive' answer that accuracy and positive-class F1 flatter.")
