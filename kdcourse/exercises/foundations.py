"""Self-checks of the foundations notebooks, in teaching order: 00 (the majority baseline), 01 (the
causal-LM loss and perplexity), 02 (accuracy and macro-F1 from a classifier's logits; a sentence pair
encoded as BERT reads it)."""
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


def encode_pair_reference(tokens_a, tokens_b, max_length: int) -> tuple[list[str], list[int]]:
    """A sentence pair as BERT reads it, from its two sentences' WordPiece tokens: `[CLS] a [SEP] b [SEP]` and
    the token type ids (0 for [CLS], a and the first [SEP]; 1 for b and the last [SEP]). Cut to `max_length`
    as a fast tokenizer's truncation="longest_first" cuts (tests/test_exercises.py checks it against one): the
    shorter sentence keeps its tokens, up to half of what fits, the longer one the rest; a tie counts the
    first sentence as the shorter. Always from the end of a sentence."""
    a, b, fits = list(tokens_a), list(tokens_b), max_length - 3  # [CLS] and two [SEP] take three places
    if len(a) + len(b) > fits:
        first_shorter = len(a) <= len(b)
        keep_short = min(len(a) if first_shorter else len(b), fits // 2)
        a, b = (a[:keep_short], b[:fits - keep_short]) if first_shorter else (a[:fits - keep_short], b[:keep_short])
    return ["[CLS]", *a, "[SEP]", *b, "[SEP]"], [0] * (len(a) + 2) + [1] * (len(b) + 1)


def check_pair_encoding(fn) -> Check:
    """Exercise: write `fn(tokens_a, tokens_b, max_length)` returning (tokens, token_type_ids) of the pair as BERT
    reads it, cut to max_length as `truncation="longest_first"` does. The cases leave no doubt about ties (where
    both sentences are cut, an even number of tokens remains); the hints recognise a missing [SEP], the segment
    ids of either [SEP], no room left for the special tokens, cutting the start, and cutting only the second."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    a = "the economy grew faster this year than in any year since 1984".split()
    b = "and we created jobs".split()
    cases = [(a[:5], b, 32), (b[:3], a + a[:2], 15), (a[:12], b, 17), (a[:10], a[2:11], 11)]
    for tokens_a, tokens_b, max_length in cases:
        got, error = _call(fn, list(tokens_a), list(tokens_b), max_length)
        if error is not None:
            return error
        try:
            tokens, types = (list(x) for x in got)
            types = [int(t) for t in types]
        except (TypeError, ValueError):
            return Check(False, "return two lists: the tokens (strings, with [CLS] and [SEP]) and their token type "
                                "ids (0 or 1), one per token.")
        want, want_types = encode_pair_reference(tokens_a, tokens_b, max_length)
        if (tokens, types) == (want, want_types):
            continue
        if len(tokens) != len(types):
            return Check(False, f"{len(tokens)} tokens but {len(types)} token type ids: one id per token.")
        if tokens.count("[SEP]") != 2 or tokens[:1] != ["[CLS]"]:
            return Check(False, "a pair reads [CLS] a [SEP] b [SEP]: one [CLS] at the start, a [SEP] after each "
                                "sentence.")
        if len(tokens) > max_length:
            return Check(False, f"{len(tokens)} tokens for max_length={max_length}: [CLS] and the two [SEP] count "
                                "towards max_length, so the sentences share max_length - 3 places.")
        if tokens == want:
            if types[:len(tokens_a) + 2] != want_types[:len(tokens_a) + 2] and types[-1] == 1:
                return Check(False, "the first [SEP] closes sentence a: it belongs to segment 0, with [CLS] and a.")
            if types[-1] == 0:
                return Check(False, "the last [SEP] closes sentence b: it belongs to segment 1, like b's tokens.")
            return Check(False, "token type 0 for [CLS], a and the first [SEP]; 1 for b and the last [SEP].")
        first_sep = tokens.index("[SEP]")
        got_a, got_b = tokens[1:first_sep], tokens[first_sep + 1:-1]
        if got_a == list(tokens_a)[len(tokens_a) - len(got_a):] and got_a != list(tokens_a)[:len(got_a)] \
                or got_b == list(tokens_b)[len(tokens_b) - len(got_b):] and got_b != list(tokens_b)[:len(got_b)]:
            return Check(False, "truncation keeps the start of a sentence: cut tokens from its end.")
        if got_a == list(tokens_a) and len(tokens_a) > len(tokens_b):
            return Check(False, "you cut the second sentence only (truncation='only_second'); longest_first cuts "
                                "the LONGER sentence, which here is the first.")
        return Check(False, "cut the longer sentence first, one token at a time from its end, until the pair "
                            "fits; once both are equally long, cut them in turn.")
    return Check(True, "[CLS] a [SEP] b [SEP], segment 0 up to the first [SEP] and 1 after it; longest_first cuts "
                       "the longer sentence's end until [CLS], both sentences and both [SEP] fit in max_length.")
