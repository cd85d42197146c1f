"""DistillationTrainer: it learns, it leaves the teacher alone, it refuses mismatched pairs."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from datasets import Dataset
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification, DataCollatorWithPadding, \
    TrainingArguments

from kdcourse.distill import (DistillationTrainer, add_index_column, cache_teacher_logits, general_distillation,
                              make_student, random_student)
from kdcourse.distill.losses import distillation_loss
from kdcourse.measure import correct_predictions, evaluate_accuracy, quantize_int8, verdict

VOCAB = 40


class TinyTokenizer:
    """Just enough of a tokenizer for DataCollatorWithPadding: pads with id 0 on the right."""
    pad_token_id, padding_side, model_input_names = 0, "right", ["input_ids", "attention_mask"]

    def pad(self, features, padding=True, max_length=None, pad_to_multiple_of=None, return_tensors="pt", **kw):
        longest = max(len(f["input_ids"]) for f in features)
        batch = {k: [] for k in features[0]}
        batch["attention_mask"] = []
        for f in features:
            n = len(f["input_ids"])
            for k, v in f.items():
                batch[k].append(list(v) + [0] * (longest - n) if k == "input_ids" else v)
            batch["attention_mask"].append([1] * n + [0] * (longest - n))
        return {k: torch.tensor(v) for k, v in batch.items()}


def tiny_teacher(num_labels=2, vocab=VOCAB, seed=0):
    """A random tiny BERT classifier with confident (far from uniform) outputs."""
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=vocab, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32, num_labels=num_labels)
    teacher = BertForSequenceClassification(config).eval()
    with torch.no_grad():
        teacher.classifier.weight.mul_(40.0)
    return teacher


def tiny_data(n=48, seed=0, teacher=None):
    g = torch.Generator().manual_seed(seed)
    rows = {"input_ids": [], "label": []}
    for _ in range(n):
        length = int(torch.randint(4, 10, (1,), generator=g))
        ids = torch.randint(1, VOCAB, (length,), generator=g)
        rows["input_ids"].append(ids.tolist())
        rows["label"].append(int(ids[1] % 2))
    if teacher is not None:  # the teacher's own answers as labels: a rule the student can learn
        batch = TinyTokenizer().pad([{"input_ids": ids} for ids in rows["input_ids"]])
        with torch.no_grad():
            rows["label"] = teacher(**batch).logits.argmax(-1).tolist()
    return Dataset.from_dict(rows)


def args(tmp_path, steps=12):
    return TrainingArguments(output_dir=str(tmp_path), max_steps=steps, per_device_train_batch_size=8,
                             learning_rate=3e-3, report_to="none", save_strategy="no", use_cpu=True,
                             logging_steps=1000, seed=0, dataloader_num_workers=0, disable_tqdm=True)


def full_loss(student, teacher, data, T=2.0, alpha=0.5):
    batch = TinyTokenizer().pad([{"input_ids": r["input_ids"], "label": r["label"]} for r in data])
    student.eval()
    with torch.no_grad():
        s = student(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        t = teacher(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    return float(distillation_loss(s, t, batch["label"], temperature=T, alpha=alpha))


def make(tmp_path, student, teacher, data, **kw):
    kw.setdefault("temperature", 2.0)
    return DistillationTrainer(model=student, teacher_model=teacher, args=args(tmp_path, kw.pop("steps", 12)),
                               train_dataset=data, data_collator=DataCollatorWithPadding(TinyTokenizer()), **kw)


@pytest.mark.parametrize("alpha_cos", [0.0, 1.0])
def test_a_few_steps_lower_the_loss_and_leave_the_teacher_alone(tmp_path, alpha_cos):
    teacher = tiny_teacher()
    data = tiny_data(teacher=teacher)
    student = make_student(teacher, (0, 2))
    before_weights = {k: v.clone() for k, v in teacher.state_dict().items()}
    before = full_loss(student, teacher, data)
    trainer = make(tmp_path, student, teacher, data, temperature=2.0, alpha=0.5, alpha_cos=alpha_cos)
    trainer.train()
    after = full_loss(trainer.model, teacher, data)
    assert after < 0.8 * before, (before, after)
    assert all(p.grad is None and not p.requires_grad for p in teacher.parameters())
    assert not teacher.training
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before_weights[k]), k
    assert trainer.teacher_seconds > 0


def test_student_is_not_frozen_and_changes(tmp_path):
    teacher, data = tiny_teacher(), tiny_data()
    student = make_student(teacher, (1, 3))
    start = {k: v.clone() for k, v in student.state_dict().items()}
    make(tmp_path, student, teacher, data, steps=3).train()
    changed = [k for k, v in student.state_dict().items() if not torch.equal(v, start[k])]
    assert any("encoder.layer" in k for k in changed) and any("classifier" in k for k in changed)


def test_cached_logits_give_the_same_loss_as_a_live_teacher(tmp_path):
    teacher, data = tiny_teacher(), add_index_column(tiny_data(n=20))
    assert data["kd_index"] == list(range(20))
    collator = DataCollatorWithPadding(TinyTokenizer())
    shuffled = data.shuffle(seed=1)  # the cache is keyed by the index column, not by the order
    logits, seconds = cache_teacher_logits(teacher, shuffled, collator, batch_size=6, progress=False)
    assert logits.shape == (20, 2) and seconds >= 0
    row = data[7]
    with torch.no_grad():
        direct = teacher(input_ids=torch.tensor([row["input_ids"]])).logits[0]
    assert torch.allclose(logits[7], direct, atol=1e-5)

    student = make_student(teacher, (0, 2))
    batch = collator([{k: data[i][k] for k in ("input_ids", "label", "kd_index")} for i in (3, 11, 5)])
    assert "labels" in batch  # the collator renames label -> labels, as in the Trainer
    live = make(tmp_path, student, teacher, data, alpha=0.7)
    cached = make(tmp_path, student, teacher, data, alpha=0.7, teacher_logits=logits)
    for m in student.modules():  # no dropout, so the two losses must agree in training mode
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    student.train()
    with torch.no_grad():
        a, b = live.compute_loss(student, dict(batch)), cached.compute_loss(student, dict(batch))
    assert torch.allclose(a, b, atol=1e-5)
    assert cached.teacher_seconds == 0.0 and live.teacher_seconds > 0


def test_index_column_survives_the_trainer_and_training_runs_with_cache(tmp_path):
    teacher, data = tiny_teacher(), add_index_column(tiny_data())
    collator = DataCollatorWithPadding(TinyTokenizer())
    logits, _ = cache_teacher_logits(teacher, data, collator, progress=False)
    trainer = make(tmp_path, make_student(teacher, (0,)), teacher, data, teacher_logits=logits, steps=2)
    batch = next(iter(trainer.get_train_dataloader()))
    assert "kd_index" in batch
    trainer.train()
    assert trainer.teacher_seconds == 0.0


def test_missing_index_column_is_explained(tmp_path):
    teacher, data = tiny_teacher(), tiny_data()
    logits = torch.zeros(len(data), 2)
    trainer = make(tmp_path, make_student(teacher, (0,)), teacher, data, teacher_logits=logits, steps=1)
    with pytest.raises(ValueError, match="add_index_column"):
        trainer.train()


def test_mismatched_label_counts_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"num_labels=3.*num_labels=2"):
        make(tmp_path, tiny_teacher(num_labels=2), tiny_teacher(num_labels=3), tiny_data())


def test_mismatched_vocabularies_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"vocab_size=50.*vocab_size=40"):
        make(tmp_path, tiny_teacher(vocab=VOCAB), tiny_teacher(vocab=50), tiny_data())


def test_bad_hyperparameters_are_refused(tmp_path):
    teacher = tiny_teacher()
    for kw, words in [({"alpha": 1.5}, "alpha"), ({"temperature": 0}, "temperature"), ({"alpha_cos": -1}, "alpha_cos")]:
        with pytest.raises(ValueError, match=words):
            make(tmp_path, make_student(teacher, (0,)), teacher, tiny_data(), **kw)


def test_inputs_the_student_does_not_take_are_dropped(tmp_path):
    teacher, data = tiny_teacher(), tiny_data(n=8)
    trainer = make(tmp_path, make_student(teacher, (0,)), teacher, data)
    batch = DataCollatorWithPadding(TinyTokenizer())([{"input_ids": r["input_ids"]} for r in data])
    batch["labels"] = torch.tensor(data["label"])
    batch["something_else"] = torch.zeros(8)  # neither model's forward takes it
    trainer.model.train()
    loss = trainer.compute_loss(trainer.model, batch)
    assert loss.ndim == 0 and torch.isfinite(loss)


def test_masked_lm_distillation_uses_labelled_positions(tmp_path):
    torch.manual_seed(0)
    config = BertConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32)
    teacher = BertForMaskedLM(config).eval()
    student = make_student(teacher, (1,))
    ids = torch.randint(1, VOCAB, (3, 6))
    labels = torch.full_like(ids, -100)
    labels[:, 2] = ids[:, 2]
    trainer = make(tmp_path, student, teacher, tiny_data(n=8))
    student.train()
    loss = trainer.compute_loss(student, {"input_ids": ids, "labels": labels})
    assert torch.isfinite(loss) and loss > 0


class TinyMLMTokenizer:
    """What kdcourse.objectives.mask_tokens needs from a tokenizer: ids 0-3 special, 3 = [MASK]."""
    all_special_ids, mask_token_id = [0, 1, 2, 3], 3

    def __len__(self):
        return VOCAB


def test_general_distillation_learns_and_leaves_the_teacher_alone():
    torch.manual_seed(0)
    config = BertConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=4, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16)
    teacher = BertForMaskedLM(config).eval()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student = random_student(teacher, (0, 2), seed=1)  # far from the teacher: much to learn
    blocks = torch.randint(4, VOCAB, (32, 12))
    history = general_distillation(student, teacher, blocks, TinyMLMTokenizer(), steps=30, batch_size=8,
                                   learning_rate=3e-3, temperature=2.0, mlm_probability=0.3, progress=False)
    assert len(history["loss"]) == 30 and history["seconds"] > 0
    first, last = sum(history["cos"][:5]) / 5, sum(history["cos"][-5:]) / 5
    assert last < 0.7 * first, (first, last)  # the student's hidden states turn toward the teacher's
    for k, v in teacher.state_dict().items():
        assert torch.equal(v, before[k]), k
    with pytest.raises(ValueError, match="weights"):
        general_distillation(student, teacher, blocks, TinyMLMTokenizer(), steps=1, batch_size=2,
                             learning_rate=1e-4, temperature=2.0, alpha_ce=0, alpha_mlm=0, alpha_cos=0)


def test_general_distillation_is_reproducible_whatever_ran_before():
    # dropout draws from the global generator: the same seed must give the same run anyway
    torch.manual_seed(0)
    config = BertConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=16, hidden_dropout_prob=0.3)
    teacher = BertForMaskedLM(config).eval()
    blocks = torch.randint(4, VOCAB, (16, 12))
    losses, after = [], []
    for state in (1, 2):
        torch.manual_seed(state)  # a different history before the call
        student = make_student(teacher, (0,))
        history = general_distillation(student, teacher, blocks, TinyMLMTokenizer(), steps=5, batch_size=4,
                                       learning_rate=1e-4, temperature=2.0, mlm_probability=0.3, seed=7,
                                       progress=False)
        losses.append(history["loss"])
        after.append(torch.rand(1))  # what the caller draws next
    assert losses[0] == losses[1]
    assert not torch.equal(after[0], after[1])  # the run left the caller's random state alone


def test_evaluate_accuracy_and_int8_copy():
    teacher = tiny_teacher()
    data = tiny_data(n=24, teacher=teacher)
    collator = DataCollatorWithPadding(TinyTokenizer())
    assert evaluate_accuracy(teacher, data, collator, batch_size=5) == 1.0  # labels are its own answers
    q = quantize_int8(teacher)
    assert isinstance(q.classifier, torch.ao.nn.quantized.dynamic.Linear)
    assert type(teacher.classifier) is torch.nn.Linear  # the original is left as it was
    assert evaluate_accuracy(q, data, collator) > 0.8
    right = correct_predictions(q, data, collator, batch_size=7)
    assert right.dtype == bool and right.shape == (24,)
    batch = collator([{"input_ids": r["input_ids"]} for r in data])  # all at once, by hand
    with torch.no_grad():
        by_hand = (q(**batch).logits.argmax(-1) == torch.tensor(data["label"])).numpy()
    assert (right == by_hand).all() and evaluate_accuracy(q, data, collator) == pytest.approx(by_hand.mean())


def _correctness(n_right: int, n: int = 1000, shift: int = 0) -> np.ndarray:
    # right on n_right snippets, starting at `shift` (wrapping around): students that disagree on some
    return np.roll(np.arange(n) < n_right, shift)


def _verdict(alone, distilled):
    return verdict(alone, distilled, names=("alone", "distilled"), unit="points", scale=100)


def test_the_paired_verdict_sees_a_small_consistent_gain():
    # Distilled is right on everything alone gets right, plus 12 more snippets, on every seed:
    # +1.2 points, less than one unpaired standard error (~1.2), but far above the paired one.
    alone = [_correctness(800 + s) for s in range(3)]
    distilled = [_correctness(812 + s) for s in range(3)]
    v = _verdict(alone, distilled)
    assert v.word == "better" and v.mean == pytest.approx(1.2) and "distilled is better than alone" in " ".join(str(v).split())
    assert v.example_se < 0.5 < 1.0 < 100 * (0.8 * 0.2 / 1000) ** 0.5


def test_the_paired_verdict_refuses_reshuffled_answers():
    # Same +1.2 points, but the two students are right on largely different snippets: noise.
    alone = [_correctness(800 + s) for s in range(3)]
    distilled = [_correctness(812 + s, shift=150) for s in range(3)]
    assert _verdict(alone, distilled).word == "noise" and _verdict(distilled, alone).word == "noise"


def test_the_verdict_weighs_seed_noise():
    # +1.2 points on average, but -2, +0.6, +5 over the seeds: the training noise swamps it
    alone = [_correctness(800) for _ in range(3)]
    distilled = [_correctness(n) for n in (780, 806, 850)]
    v = _verdict(alone, distilled)
    assert v.mean == pytest.approx(1.2) and v.seed_se > 1.5 and v.word == "noise" and v.df < 3


def test_correct_predictions_come_back_in_the_datasets_order_though_evaluated_shortest_first():
    class ByLength(torch.nn.Module):  # answers class 1 for an odd number of real tokens
        def forward(self, input_ids, attention_mask):
            odd = attention_mask.sum(-1) % 2
            return SimpleNamespace(logits=torch.stack([1 - odd, odd], -1).float())

    lengths = [7, 2, 5, 4, 9, 1, 6, 3, 8, 2]
    labels = [1, 0, 0, 0, 1, 1, 1, 0, 0, 0]  # right, right, wrong, right, right, right, wrong, wrong, right, right
    data = Dataset.from_dict({"input_ids": [[5] * n for n in lengths], "label": labels})
    right = correct_predictions(ByLength(), data, DataCollatorWithPadding(TinyTokenizer()), batch_size=3)
    assert right.tolist() == [True, True, False, True, True, True, False, False, True, True]
