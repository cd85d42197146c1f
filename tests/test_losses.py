"""Property tests of the distillation losses: each would fail on a classic implementation bug."""
import pytest
import torch
import torch.nn.functional as F

from kdcourse.distill.losses import distillation_loss, hidden_cosine_loss, soft_target_loss


def _logits(seed=0, shape=(16, 10), scale=3.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale


def _grad(loss_fn, student):
    s = student.clone().requires_grad_(True)
    loss_fn(s).backward()
    return s.grad


def test_alpha_zero_is_cross_entropy_and_alpha_one_is_soft_target_loss():
    s, t, y = _logits(0), _logits(1), torch.arange(16) % 10
    assert torch.allclose(distillation_loss(s, t, y, temperature=3.0, alpha=0.0), F.cross_entropy(s, y))
    assert torch.allclose(distillation_loss(s, t, y, temperature=3.0, alpha=1.0), soft_target_loss(s, t, 3.0))
    mixed = distillation_loss(s, t, y, temperature=3.0, alpha=0.3)
    assert torch.allclose(mixed, 0.3 * soft_target_loss(s, t, 3.0) + 0.7 * F.cross_entropy(s, y))


def test_soft_target_loss_matches_the_kl_formula_with_t_squared():
    s, t, T = _logits(0), _logits(1), 4.0
    p = F.softmax(t / T, dim=-1)
    kl_per_sample = (p * (p.log() - F.log_softmax(s / T, dim=-1))).sum(dim=-1)
    assert torch.allclose(soft_target_loss(s, t, T), T**2 * kl_per_sample.mean(), atol=1e-5)


@pytest.mark.filterwarnings("ignore:reduction")
def test_batchmean_is_the_per_sample_mean_and_mean_is_smaller_by_the_class_count():
    s, t = _logits(0), _logits(1)
    per_sample = torch.stack([soft_target_loss(s[i:i + 1], t[i:i + 1], 1.0) for i in range(len(s))])
    assert torch.allclose(soft_target_loss(s, t, 1.0), per_sample.mean(), atol=1e-5)
    wrong = F.kl_div(F.log_softmax(s, -1), F.softmax(t, -1), reduction="mean")
    assert torch.allclose(wrong * s.shape[1], soft_target_loss(s, t, 1.0), atol=1e-5)


def test_kl_and_soft_cross_entropy_give_the_same_gradient():
    s, t, T = _logits(0), _logits(1), 2.0
    p = F.softmax(t / T, dim=-1)
    g_kl = _grad(lambda z: soft_target_loss(z, t, T), s)
    g_ce = _grad(lambda z: -(p * F.log_softmax(z / T, dim=-1)).sum(-1).mean() * T**2, s)
    assert torch.allclose(g_kl, g_ce, atol=1e-6)
    # and the gradient is T * (q_student - p_teacher) / batch, Hinton et al.'s equation 2
    q = F.softmax(s / T, dim=-1)
    assert torch.allclose(g_kl, T * (q - p) / len(s), atol=1e-6)


def test_t_squared_keeps_the_gradient_scale_comparable_across_temperatures():
    s, t = _logits(0, scale=2.0), _logits(1, scale=2.0)
    norms = {T: _grad(lambda z: soft_target_loss(z, t, T), s).norm().item() for T in (2, 5, 10, 20)}
    assert max(norms.values()) / min(norms.values()) < 2.0, norms
    # without T^2 (PyTorch's KL alone, computed independently of the course's loss) the gradients shrink by
    # about 1/T^2: a 100-fold spread from T=2 to T=20
    raw = {T: _grad(lambda z: F.kl_div(F.log_softmax(z / T, -1), F.softmax(t / T, -1), reduction="batchmean"), s)
           .norm().item() for T in (2, 20)}
    assert raw[2] / raw[20] > 50
    assert norms[20] == pytest.approx(raw[20] * 20**2, rel=1e-4)  # and T^2 is exactly what brings them back


def test_loss_is_zero_when_student_equals_teacher_and_teacher_gets_no_gradient():
    t = _logits(1).requires_grad_(True)
    s = t.detach().clone().requires_grad_(True)
    loss = soft_target_loss(s, t, 5.0)
    assert loss.abs().item() < 1e-6
    (soft_target_loss(_logits(2).requires_grad_(True), t, 5.0)).backward()
    assert t.grad is None  # the teacher's logits are detached: only the student learns


def test_sequence_logits_are_averaged_over_positions():
    s, t = _logits(0, (2, 5, 7)), _logits(1, (2, 5, 7))
    flat = soft_target_loss(s.reshape(10, 7), t.reshape(10, 7), 2.0)
    assert torch.allclose(soft_target_loss(s, t, 2.0), flat)


@pytest.mark.parametrize("temperature", [0, -1.0, "2", True])
def test_bad_temperature_is_rejected(temperature):
    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        soft_target_loss(_logits(0), _logits(1), temperature)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, True])
def test_bad_alpha_is_rejected(alpha):
    with pytest.raises(ValueError, match=r"alpha must be in \[0, 1\]"):
        distillation_loss(_logits(0), _logits(1), torch.zeros(16, dtype=torch.long), 2.0, alpha)


def test_every_distillation_checks_temperature_and_alpha_with_one_message():
    """03's loss, 04's trainer and 06's losses share kd.distill.check_temperature: one message, the usual range of
    the kind of task it serves."""
    import kdcourse as kd

    messages = []
    for call in (lambda: soft_target_loss(_logits(0), _logits(1), 0),
                 lambda: kd.distill.token_kd_loss(torch.zeros(1, 3, 5), torch.zeros(1, 3, 5), temperature=0),
                 lambda: kd.distill.compress_topk(torch.zeros(2, 5), 2, temperature=0),
                 lambda: kd.distill.DistillationTrainer.__init__(None, teacher_model=None, temperature=0)):
        with pytest.raises(ValueError) as caught:
            call()
        messages.append(str(caught.value))
    assert messages[0] == ("temperature must be a number > 0 (1 = the plain softmax; 2-20 is usual for classifiers "
                           "(Hinton et al. 2015; 2-4 for BERT)), got 0.")
    assert messages[3] == messages[0]
    assert messages[1] == messages[2] == messages[0].replace(kd.distill.USUAL_TEMPERATURE["classifier"],
                                                             kd.distill.USUAL_TEMPERATURE["language model"])


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(16, 10\).*\(16, 12\)"):
        soft_target_loss(_logits(0), _logits(1, (16, 12)), 2.0)
    with pytest.raises(ValueError, match=r"labels"):
        distillation_loss(_logits(0), _logits(1), torch.zeros(8, dtype=torch.long), 2.0)


def test_hidden_cosine_loss_is_zero_for_same_direction_and_ignores_padding():
    h = _logits(0, (2, 4, 8))
    assert hidden_cosine_loss(2 * h, h).item() < 1e-6
    assert abs(hidden_cosine_loss(-h, h).item() - 2.0) < 1e-5
    mask = torch.ones(2, 4, dtype=torch.long)
    mask[:, -1] = 0
    noisy = h.clone()
    noisy[:, -1] = -h[:, -1]  # only the padding positions disagree
    assert hidden_cosine_loss(noisy, h, mask).item() < 1e-6
    assert hidden_cosine_loss(noisy, h).item() > 0.4


def test_unlabelled_rows_learn_from_the_teacher_only():
    # label -100 = no label (a transfer set): the hard term uses the labelled rows, and a batch with
    # none of them is the soft term alone instead of 0/0 = nan
    g = torch.Generator().manual_seed(1)
    s, t = torch.randn(4, 3, generator=g), torch.randn(4, 3, generator=g)
    labels = torch.tensor([2, -100, 0, -100])
    soft = soft_target_loss(s, t, temperature=2.0)
    hard = F.cross_entropy(s[[0, 2]], labels[[0, 2]])
    torch.testing.assert_close(distillation_loss(s, t, labels, temperature=2.0, alpha=0.3), 0.3 * soft + 0.7 * hard)
    none = distillation_loss(s, t, torch.full((4,), -100), temperature=2.0, alpha=0.3)
    torch.testing.assert_close(none, 0.3 * soft)


def test_temperature_check_refuses_infinity_and_an_unknown_task():
    import kdcourse as kd

    with pytest.raises(ValueError, match="temperature must be a number > 0"):
        kd.distill.check_temperature(float("inf"))
    with pytest.raises(ValueError, match="task must be one of"):
        kd.distill.check_temperature(2.0, task="lm")


def test_a_mask_of_ones_and_zeros_works_like_a_bool_mask():
    import kdcourse as kd

    log_p, log_q = torch.log_softmax(_logits(0, (4, 3, 10)), -1), torch.log_softmax(_logits(1, (4, 3, 10)), -1)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0]])  # an attention mask, as a tokenizer gives it
    want = kd.distill.kl_per_row(log_p, log_q)[mask.bool()].mean()
    assert torch.allclose(kd.distill.kl_divergence(log_p, log_q, mask), want)
    assert torch.equal(kd.distill.kl_divergence(log_p, log_q, mask), kd.distill.kl_divergence(log_p, log_q, mask.bool()))
