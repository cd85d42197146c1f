"""One device rule: the precision follows the hardware, and the shared optimiser step is exactly the
plain one in fp32."""
import pytest
import torch

import kdcourse as kd
from kdcourse import device as dev
from kdcourse.loop import Stepper, warmup_linear


@pytest.mark.parametrize("capability, expected", [((7, 5), "fp16"), ((8, 0), "bf16"), ((9, 0), "bf16")])
def test_precision_follows_compute_capability(monkeypatch, capability, expected):
    # a T4 (7.5) reports bf16 as "supported" (emulated, slow): the rule must not trust that
    monkeypatch.delenv("KDCOURSE_PRECISION", raising=False)  # the hardware's own choice
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda on=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert dev.precision("cuda") == expected
    assert dev.trainer_precision("cuda") == {"fp16": expected == "fp16", "bf16": expected == "bf16"}


@pytest.mark.parametrize("forced, capability, expected", [("fp16", (9, 0), "fp16"), ("fp32", (9, 0), "fp32"),
                                                          ("bf16", (8, 0), "bf16"), ("fp16", (7, 5), "fp16")])
def test_kdcourse_precision_forces_a_gpu_to_another_precision(monkeypatch, forced, capability, expected):
    # how an H100 rehearses a T4's path: fp16 with a loss scaler, where it would pick bf16
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda on=None: capability)
    monkeypatch.setenv("KDCOURSE_PRECISION", forced)
    assert dev.precision("cuda") == expected
    assert dev.trainer_precision("cuda") == {"fp16": expected == "fp16", "bf16": expected == "bf16"}
    assert dev.precision("cpu") == "fp32"  # a CPU computes in fp32 whatever is asked


@pytest.mark.parametrize("forced, capability, words", [("fp8", (9, 0), "use one of fp32, fp16, bf16"),
                                                       ("bf16", (7, 5), "no bfloat16")])
def test_a_precision_a_gpu_cannot_use_is_refused_with_the_fix(monkeypatch, forced, capability, words):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda on=None: capability)
    monkeypatch.setenv("KDCOURSE_PRECISION", forced)
    with pytest.raises(ValueError, match=words):
        dev.precision("cuda")


def test_cpu_is_fp32_and_its_trainer_arguments_too():
    assert dev.precision("cpu") == "fp32" and not dev.grad_scaler("cpu").is_enabled()
    if not torch.cuda.is_available():
        args = kd.trainer_tools.training_arguments("/tmp/kd_args_test", kd.get_profile("smoke").finetune, seed=0)
        assert not args.fp16 and not args.bf16 and args.use_cpu


def test_stepper_in_fp32_is_the_plain_step():
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 2), torch.nn.Linear(4, 2)
    b.load_state_dict(a.state_dict())
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    opt_a, opt_b = torch.optim.AdamW(a.parameters(), lr=0.1), torch.optim.AdamW(b.parameters(), lr=0.1)
    step = Stepper(opt_a, a.parameters(), max_norm=0.5, scheduler=warmup_linear(opt_a, 10, 2), on="cpu")
    sched_b = warmup_linear(opt_b, 10, 2)
    for _ in range(3):
        step(((a(x) - y) ** 2).mean())
        opt_b.zero_grad()
        ((b(x) - y) ** 2).mean().backward()
        torch.nn.utils.clip_grad_norm_(b.parameters(), 0.5)
        opt_b.step()
        sched_b.step()
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_clipping_needs_the_parameters():
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="params=model.parameters"):
        Stepper(opt, max_norm=1.0)


def test_warmup_then_linear_decay():
    opt = torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0)
    sched = warmup_linear(opt, steps=10, warmup_steps=2)
    rates = []
    for _ in range(10):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert rates[0] == 0.5 and rates[1] == 1.0 and rates[-1] == pytest.approx(0.125)


def test_fit_puts_the_model_on_the_course_device():
    model = kd.MLP((784, 16, 10))
    x, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    kd.fit(model, (x, y), 1, batch_size=32, progress=False)
    assert kd.loop.model_device(model).type == dev.device().type
