"""The self-checks pass the reference solutions and give the right hint for the classic mistakes."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch.nn.functional as F

from kdcourse import exercises as ex

spec = importlib.util.spec_from_file_location(
    "solutions", Path(__file__).parent.parent / "solutions" / "exercise_solutions.py")
sol = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sol)


def test_reference_solutions_pass():
    assert ex.check_soft_target_loss(sol.soft_target_loss)
    assert ex.check_gap_closed(sol.gap_closed)
    assert ex.check_clm_loss(sol.clm_loss)
    assert ex.check_perplexity(sol.perplexity(2.0), 2.0)
    assert ex.check_accuracy_from_logits(sol.accuracy_from_logits)
    assert ex.check_distilbert_layers(sol.DISTILBERT_LAYERS)


def test_unanswered_exercise_asks_for_an_answer():
    result = ex.check_soft_target_loss(None)
    assert not result and "no answer yet" in repr(result)


@pytest.mark.filterwarnings("ignore:reduction")  # the deliberate reduction="mean" bug makes torch warn
def test_soft_target_hints_name_the_bug():
    def no_t2(s, t, T):
        return F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean")

    def mean(s, t, T):
        return F.kl_div(F.log_softmax(s / T, -1), F.softmax(t / T, -1), reduction="mean") * T**2

    def probs(s, t, T):
        return F.kl_div(F.softmax(s / T, -1), F.softmax(t / T, -1), reduction="batchmean") * T**2

    def crash(s, t, T):
        raise RuntimeError("boom")

    assert "T**2" in repr(ex.check_soft_target_loss(no_t2))
    assert "batchmean" in repr(ex.check_soft_target_loss(mean))
    assert "LOG-probabilities" in repr(ex.check_soft_target_loss(probs))
    assert "RuntimeError: boom" in repr(ex.check_soft_target_loss(crash))


def test_other_hints():
    def unshifted(logits, ids):
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids.reshape(-1))

    assert "i+1" in repr(ex.check_clm_loss(unshifted))
    assert "nats" in repr(ex.check_perplexity(2 ** 2.0, 2.0))
    assert "percentage" in repr(ex.check_accuracy_from_logits(
        lambda l, y: 100 * float(np.mean(l.argmax(-1) == y))))
    assert "first six" in repr(ex.check_distilbert_layers(range(6)))
    assert ex.check_distilbert_layers((0, 2, 4, 7, 9, 11))  # what the released extraction script copies
    assert not ex.check_distilbert_layers((1, 3, 5, 7, 9, 11))
    assert not ex.check_gap_closed(lambda a, d, t: (a - d) / a)
