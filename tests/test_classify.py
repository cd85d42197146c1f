"""Tests of the fine-tuning glue (notebook 02). Tiny BERTs stand in for the encoder where its
weights are not the point, so the whole file runs in seconds."""
import numpy as np
import pytest
import torch
from datasets import Dataset, DatasetDict
from transformers import BertConfig, BertForSequenceClassification, EvalPrediction

import kdcourse as kd
from kdcourse import classify as ft
from kdcourse import trainer_tools as tt

SMOKE = kd.get_profile("smoke")
TEXTS = ["a gorgeous, moving film", "dull and far too long", "not bad at all",
         "the worst thing i have seen this year, " * 10, "fine", "a triumph"]
LABELS = [1, 0, 1, 0, 0, 1]


@pytest.fixture(scope="module")
def tokenizer():
    return kd.load_tokenizer(SMOKE)


@pytest.fixture(scope="module")
def data(tokenizer):
    raw = Dataset.from_dict({"text": TEXTS, "label": LABELS})
    return tt.tokenize_dataset(DatasetDict(train=raw, validation=raw, test=raw), tokenizer, max_length=16)


def tiny_classifier(num_labels=2, seed=0):
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=30522, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, num_labels=num_labels)
    return BertForSequenceClassification(config)


def test_metrics_by_hand():
    m = tt.classification_metrics([1, 1, 0, 0], [1, 0, 0, 1])
    assert m["accuracy"] == 0.5
    assert m["f1"] == pytest.approx(0.5)  # positive class: tp=1, fp=1, fn=1
    perfect = tt.compute_metrics(EvalPrediction(predictions=np.array([[2.0, -1], [-3, 4.0]]),
                                                label_ids=np.array([0, 1])))
    assert perfect == {"accuracy": 1.0, "f1": 1.0, "macro_f1": 1.0}
    # three classes: macro F1 (class 2 never predicted -> its F1 is 0)
    assert tt.classification_metrics([0, 1, 1], [0, 1, 2])["f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    with pytest.raises(ValueError, match="must match"):
        tt.classification_metrics([0, 1], [0, 1, 1])


def test_macro_f1_punishes_ignoring_a_class_where_positive_f1_does_not():
    labels = np.array([1] * 699 + [0] * 546)  # the cpu profile's test split: 699 positive, 546 negative
    always_positive = tt.classification_metrics(np.ones_like(labels), labels)
    assert always_positive["accuracy"] == pytest.approx(699 / 1245)
    assert always_positive["f1"] == pytest.approx(2 * 699 / (2 * 699 + 546))  # 71.9 %: looks respectable
    assert always_positive["macro_f1"] == pytest.approx(always_positive["f1"] / 2)  # class 0's F1 is 0
    m = tt.classification_metrics([1, 1, 0, 0], [1, 0, 0, 1])
    assert m["macro_f1"] == pytest.approx(0.5)
    assert tt.class_f1([0, 0], [0, 0], 1) == 0.0  # never predicted, never present: 0, not nan


def test_tokenize_truncates_and_drops_text(data):
    assert "text" not in data["train"].column_names
    assert {"input_ids", "attention_mask", "label"} <= set(data["train"].column_names)
    lengths = [len(ids) for ids in data["train"]["input_ids"]]
    assert max(lengths) == 16 and min(lengths) < 16  # long one cut, short ones not padded
    assert data["train"][3]["input_ids"][-1] == 102  # truncation keeps the final [SEP]


def test_tokenize_rejects_bad_input(tokenizer):
    with pytest.raises(ValueError, match="'text' column"):
        tt.tokenize_dataset(Dataset.from_dict({"sentence": ["x"], "label": [0]}), tokenizer, 16)
    with pytest.raises(ValueError, match="max_length"):
        tt.tokenize_dataset(Dataset.from_dict({"text": ["x"], "label": [0]}), tokenizer, 2)


def test_collator_pads_to_longest_in_batch(data, tokenizer):
    rows = [data["train"][i] for i in (0, 4)]
    batch = tt.make_collator(tokenizer)(rows)
    longest = max(len(r["input_ids"]) for r in rows)
    assert batch["input_ids"].shape == (2, longest)
    assert batch["attention_mask"].sum().item() == sum(len(r["input_ids"]) for r in rows)
    assert "labels" in batch and batch["labels"].tolist() == [LABELS[0], LABELS[4]]


def test_training_arguments_transformers5_names(tmp_path):
    args = tt.training_arguments(tmp_path, SMOKE.finetune, seed=SMOKE.seed, learning_rate=3e-4)
    assert args.eval_strategy == "epoch" and args.save_strategy == "epoch"
    assert args.load_best_model_at_end and args.metric_for_best_model == "accuracy"
    assert args.learning_rate == 3e-4 and args.per_device_train_batch_size == SMOKE.finetune.batch_size
    assert args.report_to == [] or args.report_to == "none" or args.report_to == ["none"]
    assert args.seed == SMOKE.seed and not args.fp16 and not args.bf16
    if not torch.cuda.is_available():
        assert args.use_cpu
        with pytest.raises(ValueError, match="CUDA"):
            tt.training_arguments(tmp_path, SMOKE.finetune, seed=SMOKE.seed, fp16=True)


def test_default_learning_rates():
    assert ft.default_learning_rate("full", SMOKE) == SMOKE.finetune.learning_rate
    assert ft.default_learning_rate("scratch", SMOKE) == SMOKE.finetune.learning_rate
    assert ft.default_learning_rate("frozen", SMOKE) == SMOKE.finetune.head_learning_rate


def test_make_trainer_rejects_too_few_labels(data, tokenizer, tmp_path):
    args = tt.training_arguments(tmp_path, SMOKE.finetune, seed=SMOKE.seed)
    three = data["train"].map(lambda r, i: {"label": i % 3}, with_indices=True)
    with pytest.raises(ValueError, match="num_labels"):
        tt.make_trainer(tiny_classifier(2), args, tokenizer, three, data["validation"])


def test_trainer_trains_logs_and_keeps_best(data, tokenizer, tmp_path):
    model = tiny_classifier()
    before = model.classifier.weight.detach().clone()
    args = tt.training_arguments(tmp_path, SMOKE.finetune, seed=SMOKE.seed, learning_rate=1e-2, epochs=3, batch_size=3,
                                 eval_on_start=True, disable_tqdm=True)
    trainer = tt.make_trainer(model, args, tokenizer, data["train"], data["validation"])
    trainer.train()
    train_log, evals = tt.training_history(trainer)
    assert list(evals["epoch"]) == [0, 1, 2, 3] and len(train_log) > 0
    assert not torch.equal(before, trainer.model.classifier.weight)
    # the best epoch was reloaded: evaluating again gives the best validation accuracy seen
    assert trainer.evaluate()["eval_accuracy"] == pytest.approx(evals["eval_accuracy"].max())
    assert trainer.state.best_metric == pytest.approx(evals["eval_accuracy"].max())


def test_without_progress_table_trains_and_evaluates_silently(data, tokenizer, tmp_path, capsys):
    args = tt.training_arguments(tmp_path, SMOKE.finetune, seed=SMOKE.seed, learning_rate=1e-2, epochs=1, batch_size=3,
                                 save_strategy="no", load_best_model_at_end=False)  # no checkpoint bars
    trainer = tt.without_progress_table(tt.make_trainer(tiny_classifier(), args, tokenizer, data["train"],
                                                        data["validation"]))
    capsys.readouterr()
    trainer.train()
    metrics = trainer.evaluate(data["test"], metric_key_prefix="test")
    out = capsys.readouterr()
    assert out.out == "" and "%|" not in out.err  # no table, no bar, no printed logs
    assert {"test_accuracy", "test_f1", "test_macro_f1"} <= set(metrics)
    assert "eval_macro_f1" in tt.training_history(trainer)[1]


def test_text_progress_shows_one_bar_and_no_log_lines(data, tokenizer, tmp_path, capsys):
    from transformers.trainer import DEFAULT_PROGRESS_CALLBACK
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    args = tt.training_arguments(tmp_path, SMOKE.finetune, seed=SMOKE.seed, learning_rate=1e-2, epochs=2, batch_size=3,
                                 save_strategy="no", eval_strategy="no", load_best_model_at_end=False, logging_steps=1)
    trainer = tt.text_progress(tt.make_trainer(tiny_classifier(), args, tokenizer, data["train"], data["validation"]),
                               "tiny run, seed 0")
    kinds = [type(c) for c in trainer.callback_handler.callbacks]
    assert DEFAULT_PROGRESS_CALLBACK not in kinds and PrinterCallback not in kinds
    assert sum(issubclass(k, ProgressCallback) for k in kinds) == 1  # the one bar
    capsys.readouterr()
    trainer.train()
    out = capsys.readouterr()
    assert "%|" in out.err and "'loss'" not in out.out + out.err  # a bar that fills, no dict printed per log
    assert "tiny run, seed 0: 100%|" in out.err  # named: which run of a cell it is
    assert len(tt.training_history(trainer)[0]) >= 2  # the losses are all in the log


def _runs(accuracies_by_way, n=200):
    """(way, seed) -> predicted classes on n examples labelled 1, right on the first acc * n of them."""
    return {(way, seed): np.r_[np.ones(round(a * n), int), np.zeros(n - round(a * n), int)]
            for way, accs in accuracies_by_way.items() for seed, a in enumerate(accs)}


def test_seed_table_gives_mean_and_std_per_way():
    runs = _runs({"full": [0.90, 0.80], "scratch": [0.50, 0.50]})
    table = ft.seed_table(runs, np.ones(200, int), {("full", 0): 0.7, ("full", 1): 0.9,
                                                    ("scratch", 0): 0.5, ("scratch", 1): 0.5})
    assert list(table.index) == ["full", "scratch"] and list(table["seeds"]) == [2, 2]
    assert table.loc["full", "test acc %"] == pytest.approx(85.0)
    assert table.loc["full", "acc ± std"] == pytest.approx(np.std([90, 80], ddof=1))
    assert table.loc["full", "best validation acc %"] == pytest.approx(80.0)
    assert table.loc["scratch", "acc ± std"] == 0.0
    probabilities = {k: np.eye(2)[v] for k, v in runs.items()}  # probabilities give the same table
    assert ft.seed_table(probabilities, np.ones(200, int)).loc["full", "test acc %"] == pytest.approx(85.0)
    one_seed = ft.seed_table(_runs({"full": [0.9]}), np.ones(200, int))
    assert np.isnan(one_seed.loc["full", "acc ± std"])


def test_way_verdict_only_beyond_the_noise():
    labels = np.ones(200, int)
    clear = ft.way_verdict(_runs({"full": [0.90, 0.91], "scratch": [0.60, 0.62]}), labels, "full", "scratch")
    assert clear.word == "better" and clear.mean == pytest.approx(29.5) and clear.seeds == 2
    spread = _runs({"full": [0.90, 0.70], "scratch": [0.80, 0.78]})  # +1 point, seeds 14 points apart
    assert ft.way_verdict(spread, labels, "full", "scratch").word == "noise"
    assert "full is worse than scratch" in " ".join(str(ft.way_verdict(_runs({"full": [0.5, 0.5], "scratch": [0.9, 0.9]}),
                                                                       labels, "full", "scratch")).split())
    single = ft.way_verdict(_runs({"full": [0.95], "scratch": [0.5]}), labels, "full", "scratch")
    assert single.word == "one seed" and "Verdict: none" in " ".join(str(single).split())


def test_learning_curves_legend_hides_no_curve():
    import matplotlib

    matplotlib.use("Agg")
    import pandas as pd

    log = pd.DataFrame({"epoch": [0.5, 1, 1.5, 2], "loss": [0.7, 0.5, 0.4, 0.3]})
    evals = pd.DataFrame({"epoch": [0, 1, 2], "eval_accuracy": [0.5, 0.7, 0.8]})
    axes = kd.plots.plot_learning_curves({f"way {i}, a long descriptive name": (log, evals) for i in range(3)},
                                         title="three runs")
    fig = axes[0].figure
    renderer = fig.canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    assert all(not legend.overlaps(ax.get_tightbbox(renderer)) for ax in axes)
    assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in axes)
    assert "(%)" in axes[1].get_ylabel()


def test_seed_scores_plot_shows_every_run():
    import matplotlib

    matplotlib.use("Agg")
    scores = ft.seed_scores({**_runs({"full": [0.9, 0.8], "scratch": [0.6, 0.7]}), ("majority", 0): np.ones(200, int)},
                            np.r_[np.ones(150, int), np.zeros(50, int)])
    assert list(scores.columns[:2]) == ["way", "seed"] and len(scores) == 5
    assert scores.loc[4, "test macro-F1 %"] == pytest.approx(scores.loc[4, "positive-class F1 %"] / 2)
    axes = kd.plots.plot_seed_scores(scores, title="runs")
    assert [t.get_text() for t in axes[0].get_xticklabels()] == ["full", "scratch", "majority"]
    assert all(ax.get_ylabel().endswith("(%)") and ax.get_xlabel().startswith("way") and ax.get_title() for ax in axes)
    dots = [c for c in axes[0].collections if isinstance(c, matplotlib.collections.PathCollection)]
    assert sum(len(c.get_offsets()) for c in dots) == 5  # one dot per run


def test_make_classifier_ways():
    frozen = ft.make_classifier("frozen", SMOKE)
    trainable, total = tt.trainable_parameters(frozen)
    hidden = frozen.config.hidden_size
    assert trainable == 2 * hidden + 2 and total > 1000 * trainable
    assert frozen.config.id2label == {0: "negative", 1: "positive"}
    full = ft.make_classifier("full", SMOKE)
    torch.manual_seed(0)
    scratch = ft.make_classifier("scratch", SMOKE)
    assert tt.trainable_parameters(full) == tt.trainable_parameters(scratch) == (total, total)
    w = "bert.encoder.layer.0.attention.self.query.weight"
    assert torch.equal(full.state_dict()[w], frozen.state_dict()[w])
    assert not torch.allclose(full.state_dict()[w], scratch.state_dict()[w])
    with pytest.raises(ValueError, match="choose one of"):
        ft.make_classifier("half", SMOKE)


def test_predict_proba_is_eval_mode_and_deterministic(tokenizer):
    model = tiny_classifier()
    model.config.hidden_dropout_prob = 0.5
    model.train()
    p1 = tt.predict_proba(model, tokenizer, TEXTS, max_length=16, batch_size=4)
    assert not model.training
    p2 = tt.predict_proba(model, tokenizer, TEXTS, max_length=16)
    assert p1.shape == (len(TEXTS), 2) and np.allclose(p1.sum(1), 1)
    np.testing.assert_array_equal(p1, p2)


def test_confusion_and_mistakes():
    labels, probs = [0, 0, 1, 1], np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.95, 0.05]])
    np.testing.assert_array_equal(ft.confusion_matrix(labels, probs.argmax(1)), [[1, 1], [1, 1]])
    mistakes = ft.confident_mistakes(["a", "b", "c", "d"], labels, probs, k=5)
    assert list(mistakes["text"]) == ["d", "b"]  # the two wrong ones, surest first
    assert list(mistakes["predicted"]) == ["negative", "positive"]


def test_save_reload_identical_predictions(tokenizer, tmp_path):
    model = tiny_classifier()
    before = tt.predict_proba(model, tokenizer, TEXTS, max_length=16)
    path = tt.save_classifier(model, tokenizer, tmp_path / "clf")
    tt.save_classifier(model, tokenizer, tmp_path / "clf")  # overwriting works
    loaded, tok2 = tt.load_classifier(path)
    assert not loaded.training
    np.testing.assert_allclose(tt.predict_proba(loaded, tok2, TEXTS, max_length=16), before, atol=1e-6)
    assert [p.name for p in tmp_path.iterdir()] == ["clf"]  # no temporary folder left behind


def test_teacher_missing_without_rebuild(monkeypatch, tmp_path):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    assert ft.sentiment_teacher_dir(SMOKE).parent == tmp_path
    assert ft.sentiment_teacher_dir(SMOKE).name.startswith("sentiment_teacher_smoke_")
    with pytest.raises(kd.MissingAssetError, match="notebook 02"):
        ft.load_sentiment_teacher(SMOKE, rebuild=False)


def test_teacher_folder_changes_with_any_setting_that_builds_it(monkeypatch, tmp_path):
    # a stale teacher must never be reused: the folder's name hashes the settings that built it
    import dataclasses

    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    longer = dataclasses.replace(SMOKE, finetune=dataclasses.replace(SMOKE.finetune, epochs=SMOKE.finetune.epochs + 1))
    reseeded = dataclasses.replace(SMOKE, seed=SMOKE.seed + 1)
    folders = {ft.sentiment_teacher_dir(p) for p in (SMOKE, longer, reseeded)}
    assert len(folders) == 3
    assert ft.sentiment_teacher_dir(SMOKE) == ft.sentiment_teacher_dir(dataclasses.replace(SMOKE))  # stable
    # the comparison's other seeds never touch the teacher: adding one keeps notebook 04's teacher
    more_seeds = dataclasses.replace(SMOKE, finetune=dataclasses.replace(SMOKE.finetune, seeds=(0, 1, 2, 3)))
    assert ft.sentiment_teacher_dir(more_seeds) == ft.sentiment_teacher_dir(SMOKE)


def test_the_comparison_starts_with_the_teachers_seed():
    for name in kd.profiles.PROFILE_NAMES:
        p = kd.get_profile(name)
        assert p.finetune.seeds[0] == p.seed and len(set(p.finetune.seeds)) == len(p.finetune.seeds)


def test_teacher_loads_from_cache(monkeypatch, tmp_path, tokenizer):
    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    model = tiny_classifier()
    tt.save_classifier(model, tokenizer, ft.sentiment_teacher_dir(SMOKE))
    teacher, tok = ft.load_sentiment_teacher(SMOKE, rebuild=False)
    assert teacher.config.hidden_size == 16 and not teacher.training
    assert tok("hello")["input_ids"] == tokenizer("hello")["input_ids"]
