"""The distillation command runs under torchrun with 2 CPU processes (gloo): both ranks train on
their own half of the data, and the saved student loads and predicts."""
import json
import os
import subprocess
import sys

import pytest
import torch

import kdcourse as kd
from kdcourse.trainer_tools import load_classifier


def test_torchrun_two_processes_on_cpu(tmp_path):
    smoke = kd.get_profile("smoke")
    kd.classify.load_sentiment_teacher(smoke)  # built once, in one process, before the multi-process run
    env = dict(os.environ, HF_HUB_OFFLINE="1", KDCOURSE_PROFILE="smoke", OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
                          "-m", "kdcourse.distill", "--output", str(tmp_path)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["world_size"] == 2 for r in ranks)
    assert all(r["examples_seen"] > 0 for r in ranks)  # both processes took part
    # Each process trained on its own shard: together they covered the training set once per epoch.
    assert sum(r["examples_seen"] for r in ranks) >= ranks[0]["train_examples"] * smoke.distillation.epochs
    assert all(r["examples_seen"] <= ranks[0]["train_examples"] for r in ranks)
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    student, tokenizer = load_classifier(tmp_path / "student")
    test = kd.trainer_tools.tokenize_dataset(kd.load_sentiment(smoke)["test"], tokenizer, smoke.finetune.max_length)
    by_hand = kd.measure.evaluate_accuracy(student, test, kd.trainer_tools.make_collator(tokenizer))
    assert metrics["test_accuracy"] == pytest.approx(by_hand)  # the saved student is the one the metrics measured

    assert student.config.num_hidden_layers == 3  # every other layer of the 6-layer teacher
    batch = tokenizer(["a triumph", "a mess"], padding=True, return_tensors="pt")
    with torch.no_grad():
        logits = student(**batch).logits
    assert logits.shape == (2, 2) and torch.isfinite(logits).all()


def test_command_refuses_unknown_profile(capsys, tmp_path):
    from kdcourse.distill import command

    with pytest.raises(SystemExit) as refused:  # argparse's exit, as `python -m kdcourse.distill` would end
        command.main(["--output", str(tmp_path / "x"), "--profile", "laptop"])
    assert refused.value.code != 0 and "invalid choice: 'laptop'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_single_process_without_a_launcher(tmp_path):
    """The README's plain `python -m kdcourse.distill --output DIR` runs in one process (no torchrun)."""
    smoke = kd.get_profile("smoke")
    kd.classify.load_sentiment_teacher(smoke)
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR")}
    env.update(HF_HUB_OFFLINE="1", KDCOURSE_PROFILE="smoke", OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-m", "kdcourse.distill", "--output", str(tmp_path)],
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    rank0 = json.loads((tmp_path / "rank0.json").read_text())
    assert rank0["world_size"] == 1 and rank0["examples_seen"] == rank0["train_examples"] * smoke.distillation.epochs
    assert (tmp_path / "student" / "config.json").exists()


def test_a_temperature_of_zero_is_refused_not_replaced(tmp_path):
    """`--temperature 0` once fell back to the profile's temperature (`args.temperature or d.temperature`)."""
    from kdcourse.distill import command

    for flag, value, message in (("--temperature", "0", "temperature must be a number > 0"),
                                 ("--alpha", "1.5", r"alpha must be in \[0, 1\]")):
        with pytest.raises(ValueError, match=message):
            command.main(["--output", str(tmp_path), "--profile", "smoke", flag, value])
    assert not any(tmp_path.iterdir())  # refused before any work
