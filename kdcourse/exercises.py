"""Self-checks for the exercises: a pass, or a hint that points at the bug, never the solution.

Each `check_...` takes the learner's answer (usually a function they wrote) and tries it on fixed
inputs against the course's reference. Wrong answers are compared with the classic mistakes so
the hint can name the one that was made. Solutions live in `solutions/`, which an instructor can
withhold from a class.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .losses import soft_target_loss


@dataclass
class Check:
    """The outcome of a self-check: printed as a pass or a hint."""
    passed: bool
    message: str

    def __repr__(self) -> str:
        return ("PASS: " if self.passed else "NOT YET: ") + self.message

    def __bool__(self) -> bool:
        return self.passed


def _not_attempted(answer) -> Check | None:
    if answer is None:
        return Check(False, "no answer yet: replace `None` with your answer and run the cell again.")
    return None


def _call(fn, *args):
    try:
        return fn(*args), None
    except Exception as e:  # the learner's code may fail in any way; report it as a hint
        return None, Check(False, f"your function raised {type(e).__name__}: {e}")


def _close(a, b, tol=1e-4) -> bool:
    return abs(float(a) - float(b)) <= tol * max(1.0, abs(float(b)))


# --- notebook 03: the soft-target loss ---------------------------------------------------------

def check_soft_target_loss(fn) -> Check:
    """Exercise: write `fn(student_logits, teacher_logits, T)` returning T^2 * KL(teacher || student)
    per sample. The hint recognises the missing T^2, 'mean' instead of 'batchmean', probabilities
    instead of log-probabilities, and the swapped KL direction."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    g = torch.Generator().manual_seed(0)
    s, t = torch.randn(8, 10, generator=g) * 2, torch.randn(8, 10, generator=g) * 3
    for T in (1.0, 4.0):
        got, error = _call(fn, s, t, T)
        if error is not None:
            return error
        if not torch.is_tensor(got) or got.numel() != 1:
            return Check(False, "return one scalar tensor: the loss averaged over the batch.")
        want = soft_target_loss(s, t, T)
        if _close(got, want):
            continue
        p_t = F.softmax(t / T, -1)
        log_p_s = F.log_softmax(s / T, -1)
        kl = F.kl_div(log_p_s, p_t, reduction="batchmean")
        if _close(got, kl) and T != 1:
            return Check(False, f"at T={T:g} your loss is T^2 = {T**2:g} times too small: multiply by T**2 "
                                "so the soft-target gradients keep their size as T grows.")
        if _close(got, want / s.shape[-1]):
            return Check(False, "your loss is divided by the number of classes too: "
                                "reduction='mean' averages over every element; use reduction='batchmean'.")
        if _close(got, F.kl_div(F.softmax(s / T, -1), p_t, reduction="batchmean") * T**2):
            return Check(False, "F.kl_div expects the student's LOG-probabilities as its first argument "
                                "(log_softmax), not probabilities.")
        swapped = F.kl_div(F.log_softmax(t / T, -1), F.softmax(s / T, -1), reduction="batchmean") * T**2
        if _close(got, swapped):
            return Check(False, "the KL direction is swapped: the teacher's distribution is the target "
                                "(second argument of F.kl_div), the student's the input.")
        return Check(False, f"at T={T:g} the value differs from the expected loss: check the temperature "
                            "divides both sets of logits before the softmax.")
    return Check(True, "your soft-target loss matches kdcourse.soft_target_loss at T=1 and T=4.")


def check_gap_closed(fn) -> Check:
    """Exercise: write `fn(alone_errors, distilled_errors, teacher_errors)` giving the share of the
    student-teacher gap that distillation closed (1.0 = the student reached the teacher)."""
    if (missing := _not_attempted(fn)) is not None:
        return missing
    cases = [((200, 150, 100), 0.5), ((120, 120, 90), 0.0), ((150, 160, 100), -0.2)]
    for args, want in cases:
        got, error = _call(fn, *args)
        if error is not None:
            return error
        if got is None or not _close(got, want):
            return Check(False, f"for alone={args[0]}, distilled={args[1]}, teacher={args[2]} expected a "
                                "share between the two reference points; divide the improvement "
                                "(alone - distilled) by the whole gap (alone - teacher).")
    return Check(True, "gap closed is computed right, including the case where distillation hurt (< 0).")


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


# --- notebook 04: the student's layers ----------------------------------------------------------

def check_distilbert_layers(layers) -> Check:
    """Exercise: which teacher layers does DistilBERT copy to build its 6-layer student from the
    12-layer bert-base?"""
    if (missing := _not_attempted(layers)) is not None:
        return missing
    chosen = tuple(sorted(int(i) for i in layers))
    if chosen in ((0, 2, 4, 6, 8, 10), (0, 2, 4, 7, 9, 11)):
        return Check(True, "the paper says 'one layer out of two': (0, 2, 4, 6, 8, 10). The released "
                           "extraction script actually copies (0, 2, 4, 7, 9, 11), keeping the top layer.")
    if len(chosen) != 6:
        return Check(False, "DistilBERT halves the depth: the student has 6 layers.")
    if chosen == tuple(range(6)):
        return Check(False, "the first six layers only keep the bottom of the network; DistilBERT "
                            "spreads its picks over the whole depth.")
    return Check(False, "six layers, spread evenly over the teacher's depth, starting from the first.")
