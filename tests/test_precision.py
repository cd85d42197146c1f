"""The gpu path's precision, rehearsed on a CPU: every training path runs a few steps in fp16 with loss scaling,
as on a Colab T4, and refuses trainable weights that are not fp32 (a T4's loss scaler cannot unscale bf16
gradients; a CPU's can, so without the check a CPU run would pass where a T4 crashes). And inputs go where their
model is, by one function."""
import copy

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM, LlamaConfig, LlamaForCausalLM

import kdcourse as kd
from kdcourse import device as dev


@pytest.fixture
def t4_precision(monkeypatch):
    """What the course picks on a T4, forced on the CPU: fp16 autocast, an active GradScaler, Trainer fp16."""
    monkeypatch.setattr(dev, "precision", lambda on=None: "fp16")
    monkeypatch.setattr(dev, "trainer_precision", lambda on=None: {"fp16": True, "bf16": False})
    assert dev.grad_scaler("cpu").is_enabled()


def tiny_llama(seed=0, layers=4):
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(vocab_size=60, hidden_size=32, num_hidden_layers=layers, num_attention_heads=4,
                                        num_key_value_heads=2, intermediate_size=64, max_position_embeddings=64,
                                        tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=0))


def blocks(n=16, length=12, vocab=60, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(3, 40, (n, 1), generator=g) + torch.arange(length)) % (vocab - 3) + 3


def changed(before, model):
    return any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def all_fp32(model):
    return all(p.dtype == torch.float32 for p in model.parameters() if p.requires_grad)


def test_to_model_moves_tensors_dicts_and_tuples_and_leaves_the_rest():
    model = torch.nn.Linear(2, 2).to(torch.device("meta"))  # a second device, so the move shows
    batch = kd.loop.to_model({"input_ids": torch.ones(2, 3), "text": ["a", "b"], "pair": (torch.ones(1), 3)}, model)
    assert batch["input_ids"].device.type == "meta" and batch["text"] == ["a", "b"]
    assert batch["pair"][0].device.type == "meta" and batch["pair"][1] == 3
    assert kd.loop.to_model(torch.ones(1), model).device.type == "meta"


def test_loaders_give_fp32_master_weights_whatever_the_config_says(tmp_path):
    tiny_llama().to(torch.bfloat16).save_pretrained(tmp_path)  # a config that says bfloat16, like SmolLM2's
    plain = LlamaForCausalLM.from_pretrained(tmp_path)
    assert plain.dtype == torch.bfloat16  # transformers 5 follows the config: the hazard
    assert kd.models.from_pretrained(LlamaForCausalLM, tmp_path).dtype == torch.float32


def test_a_loss_scaler_refuses_weights_that_are_not_fp32(t4_precision):
    model = torch.nn.Linear(4, 2).to(torch.bfloat16)
    with pytest.raises(ValueError, match="bfloat16 under fp16 loss scaling.*model.float"):
        kd.loop.Stepper(torch.optim.AdamW(model.parameters()), on="cpu")
    kd.loop.Stepper(torch.optim.AdamW(model.float().parameters()), on="cpu")  # fp32: accepted


def test_kd_fit_distils_in_fp16_with_a_scaler(t4_precision):
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 784, generator=g), torch.randint(0, 10, (64,), generator=g)
    model = kd.MLP((784, 16, 10))
    before = [p.detach().clone() for p in model.parameters()]
    history = kd.fit(model, (x, y), 1, batch_size=16, teacher_logits=torch.randn(64, 10, generator=g),
                     temperature=2.0, alpha=0.5, seed=0, progress=False)
    assert all(torch.isfinite(torch.tensor(history.loss))) and changed(before, model) and all_fp32(model)


def test_pretraining_and_the_causal_students_run_in_fp16_with_a_scaler(t4_precision):
    data = blocks()
    plain = tiny_llama(seed=1)
    before = [p.detach().clone() for p in plain.parameters()]
    history = kd.lm.train_clm(plain, data, steps=3, batch_size=4, learning_rate=1e-3)
    assert all(torch.isfinite(torch.tensor(history["loss"]))) and changed(before, plain) and all_fp32(plain)
    teacher = tiny_llama(seed=0)
    store = kd.distill.cache_teacher_topk(teacher, data, k=8, temperature=1.0, batch_size=8)
    student = kd.distill.make_student(teacher, (0, 3))
    before = [p.detach().clone() for p in student.parameters()]
    history = kd.distill.train_causal_student(student, data, steps=3, batch_size=4, learning_rate=1e-3, seed=0,
                                              teacher=store, temperature=1.0, alpha=0.5)
    assert all(torch.isfinite(torch.tensor(history["loss"]))) and changed(before, student) and all_fp32(student)


def test_general_distillation_runs_in_fp16_with_a_scaler(t4_precision, tok):
    torch.manual_seed(0)
    teacher = BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=4, num_attention_heads=2,
                                         intermediate_size=64, max_position_embeddings=32)).eval()
    student = kd.distill.make_student(teacher, (0, 2))
    before = [p.detach().clone() for p in student.parameters()]
    ids = torch.randint(1000, 2000, (8, 16))
    history = kd.distill.general_distillation(student, teacher, ids, tok, steps=2, batch_size=4, learning_rate=1e-3,
                                              temperature=2.0, progress=False)
    assert all(torch.isfinite(torch.tensor(history["loss"]))) and changed(before, student) and all_fp32(student)


def test_the_trainer_students_refuse_bf16_and_train_in_fp16(t4_precision, tmp_path, monkeypatch):
    from datasets import Dataset
    from transformers import BertForSequenceClassification

    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    smoke = kd.get_profile("smoke")
    torch.manual_seed(0)
    teacher = BertForSequenceClassification(BertConfig(vocab_size=60, hidden_size=16, num_hidden_layers=2,
                                                       num_attention_heads=2, intermediate_size=32)).eval()
    g = torch.Generator().manual_seed(0)
    data = Dataset.from_dict({"input_ids": torch.randint(3, 60, (16, 6), generator=g).tolist(),
                              "label": torch.randint(0, 2, (16,), generator=g).tolist()})

    class Pad:  # the collator's tokenizer: pads input_ids with 0
        pad_token_id, padding_side, model_input_names = 0, "right", ["input_ids", "attention_mask"]

        def pad(self, features, **_):
            return {"input_ids": torch.tensor([f["input_ids"] for f in features]),
                    "attention_mask": torch.ones(len(features), 6, dtype=torch.long),
                    "labels": torch.tensor([f["label"] for f in features])}

    with pytest.raises(ValueError, match="train_classifier_student: trainable weights in bfloat16"):
        kd.distill.train_classifier_student(copy.deepcopy(teacher).to(torch.bfloat16), data, Pad(), smoke, progress=False)
    student = kd.distill.make_student(teacher, (0,))
    before = [p.detach().clone() for p in student.parameters()]
    trainer = kd.distill.train_classifier_student(student, data, Pad(), smoke, teacher=teacher, progress=False,
                                                  epochs=2, batch_size=4, learning_rate=1e-2)
    assert trainer.args.fp16 and changed(before, student) and all_fp32(student)
    assert all(torch.isfinite(torch.tensor(row["loss"])) for row in trainer.state.log_history if "loss" in row)


def test_trl_on_policy_steps_refuse_bf16_and_run_in_fp16(t4_precision, tmp_path):
    """TRL's DistillationTrainer as notebook 06 builds it: the student refused in bf16 (what transformers 5 loads
    from SmolLM2's config; a T4's loss scaler would crash on it), then a few steps under fp16 autocast. On a CPU
    accelerate attaches no loss scaler, so the refusal is what this test can see of a T4's scaler."""
    from kdcourse.distill import on_policy
    from kdcourse.rehearsal import smollm2_tokenizer

    tok = smollm2_tokenizer()
    torch.manual_seed(0)
    teacher = LlamaForCausalLM(LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32,
                                           num_hidden_layers=4, num_attention_heads=2, num_key_value_heads=1,
                                           tie_word_embeddings=True, max_position_embeddings=128,
                                           bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                                           pad_token_id=tok.pad_token_id)).eval()
    text = " ".join(kd.load_corpus("train", kd.get_profile("smoke"))[:2])
    prompts = on_policy.prompt_dataset(kd.lm.pack_blocks([text], tok, 24, kind="clm")[:8], tok, 8)
    args = on_policy.distillation_arguments(tmp_path, steps=2, batch_size=2, new_tokens=4, learning_rate=1e-2,
                                            beta=1.0, temperature=1.0, seed=0, disable_tqdm=True)
    assert args.fp16 and not args.bf16
    with pytest.raises(ValueError, match="on_policy_trainer .the student.: trainable weights in bfloat16"):
        on_policy.on_policy_trainer(kd.distill.make_student(teacher, (0, 3)).to(torch.bfloat16), teacher, tok,
                                    prompts, args)
    student = kd.distill.make_student(teacher, (0, 3))
    before = [p.detach().clone() for p in student.parameters()]
    trainer = on_policy.on_policy_trainer(student, teacher, tok, prompts, args)
    trainer.train()
    assert trainer.accelerator.mixed_precision == "fp16"
    assert all(torch.isfinite(torch.tensor(on_policy.logged_losses(trainer)))) and changed(before, student)
    assert all_fp32(student)
