"""kdcourse.loop: the training-loop core shared by every hand-written loop."""
import pytest
import torch
from torch import nn

from kdcourse.loop import Stepper, epochs_for_steps, eval_mode, run_steps, warmup_linear


def test_eval_mode_switches_dropout_off_and_restores_the_mode_even_after_an_error():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)).train()
    with eval_mode(model):
        assert not model.training
    assert model.training
    with pytest.raises(RuntimeError), eval_mode(model):
        raise RuntimeError("a failing measurement")
    assert model.training
    model.eval()
    with eval_mode(model):
        pass
    assert not model.training  # a model in eval mode stays there


def test_run_steps_trains_records_parts_and_evaluations():
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    x = torch.randn(64, 3)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    step = Stepper(optimizer, model.parameters(), max_norm=10.0, scheduler=warmup_linear(optimizer, 40, 4))
    seen_modes = []

    def step_loss(i):
        seen_modes.append(model.training)
        loss = ((model(x) - y) ** 2).mean()
        return loss, {"half": loss.item() / 2}

    def evaluate():
        seen_modes.append(model.training)
        return {"loss": float(((model(x) - y) ** 2).mean())}

    history = run_steps(model, step_loss, step, 40, "test", evaluate, eval_every=10, progress=False)
    assert history["step"] == list(range(1, 41))
    assert history["half"] == pytest.approx([v / 2 for v in history["loss"]])
    assert history["eval_step"] == [0, 10, 20, 30, 40]
    assert history["eval_loss"][-1] < 0.1 * history["eval_loss"][0]
    assert seen_modes[0] is False and seen_modes[1] is True  # evaluation in eval mode, steps in train mode
    assert not model.training and history["seconds"] > 0


def test_epochs_for_steps_gives_at_least_the_steps_with_short_last_batches():
    assert epochs_for_steps(2345, 60_000, 128) == 5  # 469 batches an epoch
    assert epochs_for_steps(2345, 100, 128) == 2345  # one short batch an epoch
    assert epochs_for_steps(120, 250, 32) == 15  # 8 batches an epoch, the last of 26 snippets
    assert epochs_for_steps(1, 10, 4) == 1
    with pytest.raises(ValueError, match="at least 1"):
        epochs_for_steps(10, 0, 32)
