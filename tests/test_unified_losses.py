"""The losses of notebooks 03-06 share one KL (`kd.distill.kl_divergence`) and one temperature check since
issue 24. Their values and gradients on fixed tensors are compared with the ones the code computed before
that unification (commit a2ef9a5), stored in tests/golden/distillation_losses.pt with the inputs."""
from pathlib import Path

import pytest
import torch

import kdcourse as kd
from kdcourse.distill import (compress_topk, distillation_loss, hidden_cosine_loss, next_token_loss,
                              shift_for_next_token, soft_target_loss, token_kd_loss, topk_kd_loss,
                              topk_kd_loss_renormalised)

GOLDEN = torch.load(Path(__file__).parent / "golden" / "distillation_losses.pt")
I = GOLDEN["inputs"]


def _case(fn, student_key):
    x = I[student_key].clone().requires_grad_(True)
    loss = fn(x)
    loss.backward()
    return loss.detach(), x.grad


def _store(key, k, T):
    return compress_topk(shift_for_next_token(I[key])[0], k, T, dtype=torch.float32)


# Notebook 06's losses: the same arithmetic, in the same order, as before: the losses bit for bit. Their gradients
# too on the machine that stored them; another CPU's vector kernels may sum the backward pass in another order (an
# AMD EPYC with AVX-512: up to 1.2 fp32 roundings of the largest gradient), so gradients may differ by 2 of those.
BIT_IDENTICAL = {"next_token_loss masked": (lambda s: next_token_loss(s, I["lm_ids"], I["lm_mask"]), "lm_student"),
                 "hidden_cosine_loss masked": (lambda s: hidden_cosine_loss(s, I["hid_teacher"], I["hid_mask"]),
                                               "hid_student")}
# The top-k losses: since issue 26 the student's log-probabilities come from one normaliser of its logits and its
# rest bucket is log(1 - the top k's mass), from the gathered values (one pass over the vocabulary, not three).
# The same quantities, rounded differently: equal to before within fp32 rounding.
ONE_PASS = {}
for d in ("forward", "reverse"):
    for T in (1.0, 2.0):
        BIT_IDENTICAL[f"token_kd_loss {d} T={T} masked"] = (
            lambda s, d=d, T=T: token_kd_loss(s, I["lm_teacher"], I["lm_mask"], temperature=T, direction=d), "lm_student")
        for k in (4, 11):
            ONE_PASS[f"topk_kd_loss {d} k={k} T={T} masked"] = (
                lambda s, d=d, T=T, k=k: topk_kd_loss(s, _store("lm_teacher", k, T), I["lm_mask"], temperature=T,
                                                      direction=d), "lm_student")
    BIT_IDENTICAL[f"token_kd_loss {d} T=1 unmasked"] = (
        lambda s, d=d: token_kd_loss(s, I["lm_teacher"], temperature=1.0, direction=d), "lm_student")
    ONE_PASS[f"topk_kd_loss {d} k=2 underflowed tail"] = (
        lambda s, d=d: topk_kd_loss(s, _store("lm_sharp", 2, 1.0), temperature=1.0, direction=d), "lm_student")
ONE_PASS["topk_kd_loss_renormalised k=4 T=2"] = (
    lambda s: topk_kd_loss_renormalised(s, _store("lm_teacher", 4, 2.0), I["lm_mask"], temperature=2.0), "lm_student")

# Notebooks 03-05's soft targets: before, F.kl_div took the teacher's probabilities (softmax); now every KL takes
# log-probabilities on both sides (log_softmax, log_target=True). The same quantity, rounded differently: equal to
# a few units in the last place of fp32, not bit for bit.
SAME_TO_ROUNDING = {
    "soft_target_loss T=2": (lambda s: soft_target_loss(s, I["cls_teacher"], 2.0), "cls_student"),
    "soft_target_loss 3d T=4": (lambda s: soft_target_loss(s, I["tok_teacher"], 4.0), "tok_student"),
    "distillation_loss alpha=0.3 T=3": (lambda s: distillation_loss(s, I["cls_teacher"], I["cls_labels"], 3.0, 0.3),
                                        "cls_student"),
    "distillation_loss unlabelled": (lambda s: distillation_loss(s, I["cls_teacher"], torch.full((8,), -100), 2.0, 0.5),
                                     "cls_student"),
}


def test_every_stored_case_is_checked():
    assert set(GOLDEN["expected"]) == set(BIT_IDENTICAL) | set(SAME_TO_ROUNDING) | set(ONE_PASS)


@pytest.mark.parametrize("name", sorted(BIT_IDENTICAL))
def test_language_model_losses_are_bit_identical_to_before(name):
    loss, grad = _case(*BIT_IDENTICAL[name])
    want = GOLDEN["expected"][name]
    assert torch.equal(loss, want["loss"]), (loss.item(), want["loss"].item())
    rounding = torch.finfo(torch.float32).eps * want["grad"].abs().max().item()
    torch.testing.assert_close(grad, want["grad"], rtol=0, atol=2 * rounding)


@pytest.mark.parametrize("name", sorted(SAME_TO_ROUNDING) + sorted(ONE_PASS))
def test_soft_target_and_topk_losses_equal_before_to_fp32_rounding(name):
    loss, grad = _case(*(SAME_TO_ROUNDING | ONE_PASS)[name])
    want = GOLDEN["expected"][name]
    torch.testing.assert_close(loss, want["loss"], rtol=1e-6, atol=0)
    torch.testing.assert_close(grad, want["grad"], rtol=0, atol=1e-6 * want["grad"].abs().max().item())


def test_classifier_and_language_model_losses_meet_in_one_kl():
    # soft targets over [batch, positions, vocab] with a mask are token-level KD without the shift by one
    s, t, mask = I["lm_student"], I["lm_teacher"], I["lm_mask"].bool()
    unshifted = soft_target_loss(s, t, 2.0, mask=mask)
    by_hand = kd.distill.kl_divergence(torch.log_softmax(t / 2, -1), torch.log_softmax(s / 2, -1), mask) * 4
    assert torch.equal(unshifted, by_hand)
    noise = 5 * torch.randn(t.shape, generator=torch.Generator().manual_seed(0)) * (~mask).unsqueeze(-1)
    assert torch.equal(soft_target_loss(s, t + noise, 2.0, mask=mask), unshifted)  # padding's logits never count
    assert not torch.equal(soft_target_loss(s, t + noise, 2.0), soft_target_loss(s, t, 2.0))  # unmasked, they do
