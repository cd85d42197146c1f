import dataclasses

import pytest

import kdcourse as kd
from kdcourse import profiles


def test_each_profile_is_frozen_and_printable():
    for name in kd.PROFILE_NAMES:
        p = kd.get_profile(name)
        assert p.name == name
        assert f"Profile '{name}'" in str(p)
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.seed = 1  # type: ignore[misc]


def test_profile_reads_environment(monkeypatch, capsys):
    monkeypatch.setenv("KDCOURSE_PROFILE", "cpu")
    assert kd.profile().name == "cpu"
    assert "Profile 'cpu'" in capsys.readouterr().out
    monkeypatch.setenv("KDCOURSE_PROFILE", "SMOKE")
    assert kd.profile(verbose=False).name == "smoke"


def test_unknown_profile_lists_valid_names(monkeypatch):
    monkeypatch.setenv("KDCOURSE_PROFILE", "laptop")
    with pytest.raises(ValueError, match="laptop.*smoke, cpu, gpu"):
        kd.profile()


def test_default_follows_cuda(monkeypatch):
    import torch

    monkeypatch.delenv("KDCOURSE_PROFILE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert kd.profile(verbose=False).name == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert profiles.default_profile_name() == "gpu"


def test_profiles_grow_in_size():
    smoke, cpu, gpu = (kd.get_profile(n) for n in ("smoke", "cpu", "gpu"))
    assert smoke.mnist.train_size < 60_000 and cpu.mnist.train_size is None
    assert smoke.finetune.train_size is not None and cpu.finetune.train_size is None
    assert gpu.encoder == "bert-base-uncased" and cpu.encoder == "offline"
    assert len(cpu.mnist.seeds) >= 3
