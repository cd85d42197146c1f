import dataclasses

import pytest

import kdcourse as kd
from kdcourse import profiles


def test_each_profile_is_frozen_and_printable():
    for name in kd.profiles.PROFILE_NAMES:
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
    with pytest.raises(ValueError, match="laptop.*smoke, cpu, gpu, gpu-offline, rehearsal"):
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


def test_gpu_without_the_hub_becomes_gpu_offline(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # empty cache, offline (conftest): nothing to load
    resolved = profiles.resolve(kd.get_profile("gpu"))
    assert resolved.name == "gpu-offline" and resolved.encoder == "offline"
    assert "using the 'gpu-offline' profile" in capsys.readouterr().out
    # the same course: the student layers follow the offline teacher's depth (6 layers -> 0, 2, 4)
    teacher = kd.load_encoder(profile=resolved)
    assert kd.distill.strided_layers(teacher, resolved.distillation.layer_stride) == (0, 2, 4)


def test_rehearsal_never_falls_back_silently(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    with pytest.raises(kd.MissingAssetError, match="python -m kdcourse.rehearsal"):
        profiles.resolve(kd.get_profile("rehearsal"))


def test_no_profile_is_ambient_a_helper_needs_it_passed():
    assert kd.profile("cpu", verbose=False).name == "cpu"
    assert not hasattr(profiles, "active_profile") and not hasattr(profiles, "_ACTIVE")
    with pytest.raises(TypeError, match="profile"):
        kd.load_tokenizer()  # no global to fall back on: the signature says what the helper depends on
    with pytest.raises(TypeError, match="profile"):
        kd.load_encoder(head="base")


def test_profile_names_come_from_the_table():
    assert profiles.PROFILE_NAMES == tuple(profiles.PROFILES) == ("smoke", "cpu", "gpu", "gpu-offline", "rehearsal")
    assert all(name == p.name for name, p in profiles.PROFILES.items())


def test_profiles_state_their_differences_from_cpu():
    cpu, gpu = kd.get_profile("cpu"), kd.get_profile("gpu")
    assert cpu.distillation is profiles.DISTILLATION and cpu.mnist is profiles.MNIST  # the base, not a copy
    assert gpu.distillation.temperature == cpu.distillation.temperature == 2.0  # said once, inherited
    assert kd.get_profile("rehearsal").mnist == kd.get_profile("smoke").mnist  # rehearsal = smoke sizes


def test_layers_derived_from_teacher_depth():
    class Teacher:
        class config:
            num_hidden_layers = 12
    assert kd.distill.strided_layers(Teacher, kd.get_profile("gpu").distillation.layer_stride) == (0, 2, 4, 6, 8, 10)


def test_no_gpu_size_larger_than_the_corpus():
    tok = kd.load_tokenizer(kd.get_profile("cpu"))
    for name in ("gpu", "gpu-offline"):
        c = kd.get_profile(name).pretrain
        train = kd.lm.pack_blocks(kd.load_corpus("train", kd.get_profile(name)), tok, c.max_length)
        test = kd.lm.pack_blocks(kd.load_corpus("test", kd.get_profile(name)), tok, c.max_length)
        assert c.head_sequences <= len(train) and c.eval_sequences <= len(test), name
        assert c.steps * c.batch_size <= 10 * len(train), f"{name}: more than 10 passes over the corpus"


def test_lm_distillation_teacher_and_fallback(monkeypatch, tmp_path):
    gpu = kd.get_profile("gpu")
    assert gpu.lm_teacher == "HuggingFaceTB/SmolLM2-360M-Instruct" and (gpu.lm_teacher, "model") in gpu.hub_assets()
    assert kd.get_profile("cpu").lm_teacher == kd.get_profile("smoke").lm_teacher == "offline"
    assert kd.get_profile("rehearsal").lm_teacher == gpu.lm_teacher  # the gpu path, rehearsed on a tiny model
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # nothing cached, offline: gpu becomes gpu-offline
    assert profiles.resolve(gpu).lm_teacher == "offline"


def test_lm_distillation_student_layers_are_spread_over_the_teacher():
    class SmolLM2:
        class config:
            num_hidden_layers = 30
    def layers(name):
        return kd.distill.spread_layers(SmolLM2, kd.get_profile(name).lm_distillation.student_layers)
    assert layers("cpu") == (0, 6, 12, 17, 23, 29)
    assert layers("smoke") == (0, 29)
    assert len(layers("gpu")) == 8


def test_lm_distillation_sizes_fit_the_corpus():
    from kdcourse.rehearsal import smollm2_tokenizer

    tok = smollm2_tokenizer()
    for name in ("smoke", "cpu", "gpu"):
        p = kd.get_profile(name)
        c = p.lm_distillation
        train = kd.lm.pack_blocks(kd.load_corpus("train", p), tok, c.block_size, kind="clm")
        test = kd.lm.pack_blocks(kd.load_corpus("test", p), tok, c.block_size, kind="clm")
        assert c.train_blocks <= len(train) and c.eval_blocks <= len(test), name
        assert len(c.seeds) >= (3 if p.conclusive else 1), name
        assert 0.0 < c.alpha <= 1.0, f"{name}: alpha weighs the teacher's term; 0 would train without it"
        top_k_bytes = c.top_k * (2 + 2) + 4  # fp16 values, uint16 ids, one fp32 tail per position
        assert top_k_bytes <= 0.05 * len(tok) * 2, f"{name}: top-k above 5 % of the full fp16 logits' storage"


def test_notebook_06_uses_the_k_and_alpha_chosen_on_validation_speeches():
    # scripts/choose_lm_settings.py chose them on validation speeches (data/lm_settings_search.json); a profile
    # that drifts from the choice would report a held-out score for settings nobody validated
    search = kd.distill.lm_settings_search()
    C = kd.get_profile(search["profile"]).lm_distillation
    assert (C.top_k, C.alpha) == (search["chosen"]["top_k"], search["chosen"]["alpha"])
    assert (C.steps, C.train_blocks) == (search["steps"], search["train_blocks"])  # searched at the steps used
    best = min((r for r in search["rows"] if r["k"] is not None), key=lambda r: r["validation loss"])
    assert (best["k"], best["alpha"]) == (C.top_k, C.alpha)
    assert not set(search["validation_speeches"]) & set(kd.load_speeches("test", kd.get_profile("cpu")))
    assert search["validation_speeches"] == list(kd.load_speeches("validation", kd.get_profile("cpu")))  # the one split


def test_few_label_pools_put_the_pool_curve_at_the_largest_n():
    cpu = kd.get_profile("cpu").distillation
    assert cpu.few_label_pools(10_200) == {250: (4000,), 1000: (1000, 4000, 7000)}
    assert dataclasses.replace(cpu, pool_sizes=(1000, None)).few_label_pools(10_200)[1000] == (1000, 4000, 10_200)
    assert kd.get_profile("gpu").distillation.few_label_pools(7500) == {250: (250, 1000, 3000)}
    assert kd.get_profile("gpu-offline").distillation.few_label_pools(10_200) == {250: (4000,), 1000: (1000, 4000, 7000)}
    assert kd.get_profile("smoke").distillation.few_label_pools(64) == {16: (16, 32, 64)}
    assert dataclasses.replace(cpu, pool_sizes=()).few_label_pools(3000) == {250: (3000,), 1000: (3000,)}
    with pytest.raises(ValueError, match="cannot hold N = 1000 labels"):
        dataclasses.replace(cpu, pool_sizes=(500,)).few_label_pools(10_200)


def test_notebook_07_sizes_one_pass_two_store_sizes_and_blocks_the_speeches_hold():
    from kdcourse.rehearsal import smollm2_tokenizer

    tok = smollm2_tokenizer()
    for name in ("smoke", "cpu", "gpu"):
        p = kd.get_profile(name)
        c, s = p.lm_distillation, p.lm_stores
        assert len(s.store_sizes) == 2 and set(s.store_sizes) <= set(s.report_sizes), name  # two k per scheme, reported
        assert s.report_blocks <= s.validation_blocks, name
        fit = kd.lm.pack_blocks([q for v in kd.load_speeches("fit", p).values() for q in v], tok, c.block_size, kind="clm")
        assert s.train_blocks <= len(fit), f"{name}: more training blocks than the training speeches hold"
        if p.conclusive:  # every training block seen once, as in notebook 06
            assert s.steps * c.batch_size == s.train_blocks, name
    names = lambda split: set(kd.load_speeches(split, kd.get_profile("cpu")))  # noqa: E731
    assert not (names("fit") & names("validation")) and not (names("train") & names("test"))
    assert names("fit") | names("validation") == names("train")
