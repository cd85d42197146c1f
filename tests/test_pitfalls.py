"""The deliberate bugs of kdcourse.pitfalls really are wrong, in the way their docstrings say."""
import torch
import torch.nn.functional as F

import kdcourse as kd
from kdcourse import pitfalls
from kdcourse.measure import count_parameters
from kdcourse.mnist_models import MLP
from kdcourse.train import evaluate, fit


def _logits(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(16, 10, generator=g) * 2, torch.randn(16, 10, generator=g) * 2


def test_loss_bugs_differ_from_the_right_loss_as_documented():
    s, t = _logits()
    right = kd.soft_target_loss(s, t, 4.0)
    assert torch.allclose(pitfalls.kl_with_mean_reduction(s, t, 4.0) * 10, right)
    assert torch.allclose(pitfalls.kl_without_t_squared(s, t, 4.0) * 16, right)
    # With probabilities as input the "KL" of a distribution with itself is not zero.
    assert float(kd.soft_target_loss(t, t, 2.0)) < 1e-6
    assert abs(float(pitfalls.kl_with_probabilities(t, t, 2.0))) > 0.1


def test_t_squared_keeps_gradient_scale_across_temperatures():
    with_t2 = [pitfalls.logit_gradient_norm(kd.soft_target_loss, T) for T in (2, 8)]
    without = [pitfalls.logit_gradient_norm(pitfalls.kl_without_t_squared, T) for T in (2, 8)]
    assert 0.5 < with_t2[1] / with_t2[0] < 2.0
    assert without[1] / without[0] < 0.1


def test_misaligned_teacher_logits_destroy_learning():
    x, y = kd.load_mnist("train", n=2000).tensors()
    perfect_teacher = 8.0 * F.one_hot(y, 10).float()  # logits that encode the true labels
    test = kd.load_mnist("test", n=500).tensors()
    kd.set_seed(0)
    aligned = MLP((784, 64, 10))
    fit(aligned, (x, y), 3, teacher_logits=perfect_teacher, temperature=4.0, alpha=1.0, progress=False)
    kd.set_seed(0)
    misaligned = pitfalls.fit_with_positional_teacher_logits(MLP((784, 64, 10)), (x, y), perfect_teacher,
                                                             epochs=3, alpha=1.0)
    assert evaluate(aligned, *test).accuracy > 0.8
    assert evaluate(misaligned, *test).accuracy < 0.4


def test_frozen_student_has_nothing_to_train():
    student = pitfalls.freeze_like_the_teacher(MLP((784, 16, 10)))
    assert count_parameters(student, trainable_only=True) == 0
