"""The time estimates: FLOPs counted right, sizes that matter move them, and every notebook of the
gpu profile fits a free Colab T4 session (30 minutes) under the stated assumptions."""
import dataclasses

import pytest

import kdcourse as kd
from kdcourse import budget


def test_forward_flops_of_bert_base_match_the_textbook_count():
    # 2 x (weights of the 12 layers) per token, plus attention's 4 x length x hidden per layer and token
    per_token = budget._per_token("encoder", "bert-base-uncased", 128)
    layers = 12 * (4 * 768 * 768 + 2 * 768 * 3072)
    expected = 2 * layers + 12 * 4 * 128 * 768
    assert per_token == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("name", ["gpu", "gpu-offline"])
def test_every_gpu_notebook_fits_a_colab_t4_session(name):
    minutes = budget.estimate_minutes(kd.get_profile(name), "Colab T4")
    assert set(minutes) == {nb.file for nb in kd.course.NOTEBOOKS}
    assert all(0 < m < 30 for m in minutes.values()), minutes
    assert sum(minutes.values()) < 150, minutes  # the whole course in 2.5 hours


def test_more_work_takes_longer_and_faster_devices_less():
    gpu = kd.get_profile("gpu")
    longer = dataclasses.replace(gpu, distillation=dataclasses.replace(gpu.distillation, general_steps=3000))
    nb = "04_bert_to_distilbert.ipynb"
    assert budget.seconds(budget.phases(nb, longer)) > budget.seconds(budget.phases(nb, gpu)) + 60
    assert budget.seconds(budget.phases(nb, gpu), "H100") < budget.seconds(budget.phases(nb, gpu), "Colab T4")


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="Unknown device"):
        budget.seconds([], "TPU")
    with pytest.raises(ValueError, match="No workload"):
        budget.phases("99_missing.ipynb", kd.get_profile("gpu"))


def test_notebook_04_pays_for_its_transfer_set_and_label_budgets():
    gpu = kd.get_profile("gpu")
    nb = "04_bert_to_distilbert.ipynb"
    more = {"transfer_copies": gpu.distillation.transfer_copies + 2, "few_labels": (*gpu.distillation.few_labels, 1000)}
    for field, value in more.items():
        bigger = dataclasses.replace(gpu, distillation=dataclasses.replace(gpu.distillation, **{field: value}))
        assert budget.seconds(budget.phases(nb, bigger)) > budget.seconds(budget.phases(nb, gpu)) + 60, field


def test_notebook_04_few_label_pool_sets_the_cost_of_the_label_budgets():
    cpu = kd.get_profile("cpu")
    nb = "04_bert_to_distilbert.ipynb"
    everything = dataclasses.replace(cpu, distillation=dataclasses.replace(cpu.distillation, few_label_pool=None))
    assert cpu.distillation.few_label_pool is not None
    assert budget.seconds(budget.phases(nb, cpu)) < budget.seconds(budget.phases(nb, everything)) - 60


def test_notebook_06_pays_for_its_seeds_and_its_on_policy_steps():
    gpu = kd.get_profile("gpu")
    nb = "06_distilling_a_language_model.ipynb"
    c = gpu.lm_distillation
    more = {"seeds": (*c.seeds, 3, 4), "on_policy_full_steps": c.on_policy_full_steps + 500, "steps": c.steps * 2}
    for field, value in more.items():
        bigger = dataclasses.replace(gpu, lm_distillation=dataclasses.replace(c, **{field: value}))
        assert budget.seconds(budget.phases(nb, bigger)) > budget.seconds(budget.phases(nb, gpu)) + 30, field
