"""On-policy distillation with TRL (notebook 06, section 8): the prompts TRL reads, the arguments that make
its trainer run on a laptop, and a few real steps of TRL's DistillationTrainer on a tiny SmolLM2-shaped
teacher and student that share SmolLM2's real tokenizer. And notebook 06's two figures."""
import matplotlib
import pytest
import torch
from transformers import LlamaConfig, LlamaForCausalLM

import kdcourse as kd
from kdcourse.distill import on_policy
from kdcourse.rehearsal import smollm2_tokenizer

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def smollm2_tok():
    return smollm2_tokenizer()


@pytest.fixture(scope="module")
def blocks(smollm2_tok):
    text = " ".join(kd.load_corpus("train", kd.get_profile("smoke"))[:3])
    return kd.lm.pack_blocks([text], smollm2_tok, 24, kind="clm")[:12]


def tiny_smollm2(tok, layers=4, seed=0):
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tok), hidden_size=16, intermediate_size=32, num_hidden_layers=layers,
                         num_attention_heads=2, num_key_value_heads=1, tie_word_embeddings=True,
                         max_position_embeddings=128, bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    return LlamaForCausalLM(config).eval()


def test_prompt_dataset_holds_the_first_tokens_of_each_block_as_text(blocks, smollm2_tok):
    prompts = on_policy.prompt_dataset(blocks, smollm2_tok, 8)
    assert prompts.column_names == ["prompt"] and len(prompts) == len(blocks)
    assert prompts[0]["prompt"] == smollm2_tok.decode(blocks[0, :8], skip_special_tokens=True)
    with pytest.raises(ValueError, match="prompt_tokens must be from 1 to the block length - 1"):
        on_policy.prompt_dataset(blocks, smollm2_tok, blocks.shape[1])
    with pytest.raises(ValueError, match=r"\[num_blocks, block_size\]"):
        on_policy.prompt_dataset(blocks[0], smollm2_tok, 4)


def test_distillation_arguments_run_in_fp32_on_a_cpu_without_checkpointing(tmp_path):
    args = on_policy.distillation_arguments(tmp_path, steps=3, batch_size=2, new_tokens=5, learning_rate=1e-4,
                                            beta=0.0, temperature=0.7, seed=4)
    assert (args.max_steps, args.per_device_train_batch_size, args.max_completion_length) == (3, 2, 5)
    assert (args.beta, args.temperature, args.seed) == (0.0, 0.7, 4)  # forward KL; T for sampling and the loss
    assert not args.gradient_checkpointing and args.save_strategy == "no" and args.logging_steps == 1
    if not torch.cuda.is_available():
        assert args.use_cpu and not args.bf16 and not args.fp16
    with pytest.raises(ValueError, match="beta"):
        on_policy.distillation_arguments(tmp_path, steps=1, batch_size=1, new_tokens=1, learning_rate=1e-4,
                                         beta=2.0, temperature=1.0, seed=0)


def test_a_few_on_policy_steps_train_the_student_and_leave_the_teacher_alone(blocks, smollm2_tok, tmp_path, capsys):
    teacher = tiny_smollm2(smollm2_tok, layers=4, seed=0)
    student = kd.distill.make_student(teacher, (0, 3))
    teacher_before = [p.detach().clone() for p in teacher.parameters()]
    student_before = [p.detach().clone() for p in student.parameters()]
    args = on_policy.distillation_arguments(tmp_path, steps=3, batch_size=2, new_tokens=4, learning_rate=1e-2,
                                            beta=1.0, temperature=1.0, seed=0)
    prompts = on_policy.prompt_dataset(blocks, smollm2_tok, 8)
    trainer = on_policy.on_policy_trainer(student, teacher, smollm2_tok, prompts, args, prompts.select(range(2)))
    capsys.readouterr()
    trainer.train()
    assert "on-policy (TRL), beta=1: 100%|" in capsys.readouterr().err  # one bar, named after the run
    losses = on_policy.logged_losses(trainer)
    assert len(losses) == 3 and all(torch.isfinite(torch.tensor(losses)))
    assert smollm2_tok.padding_side == "left"  # generation continues every prompt directly
    assert all(torch.equal(a, b) for a, b in zip(teacher_before, teacher.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(student_before, student.parameters()))
    assert "eval_loss" in trainer.evaluate()


def test_lm_students_plot_has_a_point_per_model_on_log_perplexity_axes():
    rows = [{"model": "teacher", "parameters": 135e6, "tokens/s": 400, "perplexity": 90},
            {"model": "plain", "parameters": 50e6, "tokens/s": 1500, "perplexity": 320, "± perplexity": 5.0},
            {"model": "distilled", "parameters": 50e6, "tokens/s": 1500, "perplexity": 290, "± perplexity": 2.0}]
    axes = kd.plots.plot_lm_students(rows, title="students")
    assert axes[0].figure.get_suptitle() == "students"
    for ax in axes:
        assert ax.get_yscale() == "log" and ax.get_xlabel() and "perplexity" in ax.get_ylabel() and ax.get_title()
        assert len(ax.containers) == 3  # one error bar per model
    xs = [c.lines[0].get_xdata()[0] for c in axes[0].containers]
    assert xs[1] != xs[2]  # two students of one size spread sideways, neither hides the other


def test_next_token_distribution_plot_has_one_bar_per_token_and_model():
    ax = kd.plots.plot_next_token_distributions(["a", "b", "(all other tokens)"],
                                                {"teacher": [0.5, 0.3, 0.2], "student": [0.7, 0.1, 0.2]},
                                                context="the end of", title="one position")
    assert len(ax.patches) == 6 and ax.get_title() == "one position"
    assert "the end of" in ax.get_xlabel() and ax.get_ylabel() == "probability of the next token"
