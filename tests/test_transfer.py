"""Transfer sets (kdcourse.distill.transfer): hidden labels stay in place, augmentation follows its rules."""
import datasets
import numpy as np
import pytest

import torch

from kdcourse.distill import (UNLABELLED, add_index_column, augment_text, augmented_set, hide_label_tensor, hide_labels,
                              nested_pools, pseudo_labels)


def _data(n=20):
    return datasets.Dataset.from_dict({"text": [f"snippet number {i} is quite good" for i in range(n)],
                                       "label": [i % 2 for i in range(n)]})


def test_hide_labels_keeps_n_labels_in_place_and_is_seeded():
    data = add_index_column(_data())
    partly, labelled = hide_labels(data, 5, seed=3)
    labels = np.array(partly["label"])
    assert (labels != UNLABELLED).sum() == 5 and len(partly) == len(data) and len(labelled) == 5
    kept = np.flatnonzero(labels != UNLABELLED)
    assert partly["kd_index"] == data["kd_index"]  # every row where it was
    assert labels[kept].tolist() == [i % 2 for i in kept] == labelled["label"]
    assert hide_labels(data, 5, seed=3)[1]["kd_index"] == labelled["kd_index"]
    assert hide_labels(data, 5, seed=4)[1]["kd_index"] != labelled["kd_index"]


@pytest.mark.parametrize("n", [0, 21])
def test_hide_labels_rejects_impossible_sizes(n):
    with pytest.raises(ValueError, match="between 1 and the 20 rows"):
        hide_labels(_data(), n)


def test_nested_pools_hold_the_same_labels_and_grow_by_unlabelled_rows_only():
    data = add_index_column(_data())
    labelled, pools = nested_pools(data, 4, (8, None, 12), seed=3)
    assert list(pools) == [8, 12, 20] and [len(p) for p in pools.values()] == [8, 12, 20]
    assert len(labelled) == 4 and max(labelled["kd_index"]) < 8  # drawn inside the smallest pool
    for pool in pools.values():
        labels = np.array(pool["label"])
        assert np.flatnonzero(labels != UNLABELLED).tolist() == labelled["kd_index"]  # the same 4 labels in every pool
        assert pool["kd_index"] == list(range(len(pool)))  # a prefix, in order: one logit cache serves all
    assert labelled["label"] == [i % 2 for i in labelled["kd_index"]]
    assert nested_pools(data, 4, (8,), seed=3)[0]["kd_index"] == labelled["kd_index"]  # the draw is seeded
    assert nested_pools(data, 4, (8,), seed=4)[0]["kd_index"] != labelled["kd_index"]


@pytest.mark.parametrize("sizes", [(3, 8), (8, 21), ()])
def test_nested_pools_reject_pools_that_cannot_hold_the_labels(sizes):
    with pytest.raises(ValueError, match="between N = 4 and the 20 rows"):
        nested_pools(_data(), 4, sizes)


def test_hide_label_tensor_draws_as_hide_labels_and_keeps_rows_in_place():
    labels = torch.arange(20) % 2
    partly, keep = hide_label_tensor(labels, 5, seed=3)
    assert partly.shape == labels.shape and int((partly != UNLABELLED).sum()) == 5
    assert torch.equal(partly[keep], labels[keep]) and keep.tolist() == sorted(keep.tolist())
    assert keep.tolist() == hide_labels(add_index_column(_data()), 5, seed=3)[1]["kd_index"]  # the same draw
    assert hide_label_tensor(labels, 5, seed=4)[1].tolist() != keep.tolist()
    with pytest.raises(ValueError, match="between 1 and the 20 rows"):
        hide_label_tensor(labels, 0)


def test_pseudo_labels_fill_only_the_hidden_labels_with_the_teachers_top_class():
    labels = torch.tensor([2, UNLABELLED, 0, UNLABELLED])
    logits = torch.tensor([[0.0, 5.0, 0.0], [0.0, 0.0, 5.0], [5.0, 0.0, 0.0], [0.0, 5.0, 1.0]])
    assert pseudo_labels(logits, labels).tolist() == [2, 2, 0, 1]  # a known label wins over the teacher
    assert labels.tolist() == [2, UNLABELLED, 0, UNLABELLED]  # the input is left as it was
    with pytest.raises(ValueError, match="one row each"):
        pseudo_labels(logits[:3], labels)


def test_augment_text_masks_words_or_keeps_a_short_ngram():
    text = "one two three four five six seven eight nine ten eleven twelve"
    rng = np.random.default_rng(0)
    copies = [augment_text(text, rng, "[MASK]") for _ in range(400)]
    ngrams = [c for c in copies if "[MASK]" not in c and c != text and len(c.split()) <= 5]
    masked = [c for c in copies if len(c.split()) == 12]
    assert all(c in text for c in ngrams)  # a contiguous piece of the original
    assert 0.15 < len(ngrams) / len(copies) < 0.35  # p_ngram = 0.25
    share = np.mean([w == "[MASK]" for c in masked for w in c.split()])
    assert 0.06 < share < 0.14  # p_mask = 0.1
    assert len(ngrams) + len(masked) == len(copies)


def test_augmented_set_appends_unlabelled_copies_after_the_originals():
    data = _data(6)
    out = augmented_set(data, 2, "[MASK]", seed=0)
    assert len(out) == 18 and out["text"][:6] == data["text"] and out["label"][:6] == data["label"]
    assert set(out["label"][6:]) == {UNLABELLED}
    assert augmented_set(data, 2, "[MASK]", seed=0)["text"] == out["text"]
    with pytest.raises(ValueError, match="copies"):
        augmented_set(data, -1, "[MASK]")


def test_few_labels_plot_has_one_line_per_model_with_mean_and_std():
    import matplotlib

    matplotlib.use("Agg")
    import kdcourse as kd

    curves = {"teacher": [[70.0], [80.0], [85.0]], "alone": [[60, 62, 64], [75, 75, 76], [81, 81, 82]]}
    ax = kd.plots.plot_few_labels([250, 1000, 10200], curves, title="labels")
    data_lines = [c.lines[0] for c in ax.containers]  # one errorbar container per model
    assert [c.get_label() for c in ax.containers] == ["teacher", "alone"]
    np.testing.assert_allclose([np.asarray(l.get_ydata(), float) for l in data_lines], [[70, 80, 85], [62, 75 + 1 / 3, 81 + 1 / 3]])
    assert ax.get_xscale() == "log" and ax.get_title() == "labels" and "(%)" in ax.get_ylabel()
    assert ax.get_xticklabels()[-1].get_text() == "10,200\n(all)"
    ax = kd.plots.plot_few_labels([100, 300], {"alone": [[60], [70]]}, all_label=None, unit="images")
    assert ax.get_xticklabels()[-1].get_text() == "300" and "images" in ax.get_xlabel()


def test_pool_curve_plots_both_students_and_the_gain_with_its_interval():
    import matplotlib

    matplotlib.use("Agg")
    import kdcourse as kd

    alone = [[60.0, 62.0, 64.0], [70.0, 71.0, 72.0], [75.0, 75.0, 76.0]]
    distilled = [[61.0, 63.0, 65.0], [74.0, 75.0, 76.0], [80.0, 81.0, 82.0]]
    a = np.zeros((3, 400))
    even = a.copy()
    even[0, :8], even[1, 8:12], even[2, 12:20] = 1, 1, 1  # one seed gains, one loses, one draws: noise
    a[1, 20:28] = 1
    clear = a.copy()
    clear[:, 100:200] = 1  # 25 points on every seed
    verdicts = [kd.measure.verdict(a, even, scale=100), kd.measure.verdict(a, clear, scale=100)]
    verdicts.append(verdicts[1])
    assert [v.word for v in verdicts] == ["noise", "better", "better"]
    fig, (left, right) = kd.plots.plot_pool_curve([1000, 4000, 10200], 1000, alone, distilled, verdicts, teacher=80.0,
                                                  title="pools")
    means = [np.asarray(c.lines[0].get_ydata(), float) for c in left.containers]
    np.testing.assert_allclose(means, [[62, 71, 75 + 1 / 3], [63, 75, 81]])
    assert [t.get_text() for t in left.get_xticklabels()] == ["1,000\n(0.0 per label)", "4,000\n(3.0 per label)",
                                                             "10,200\n(9.2 per label)"]
    gain = right.containers[0]
    np.testing.assert_allclose(np.asarray(gain.lines[0].get_ydata(), float), [v.mean for v in verdicts])
    filled = [line.get_fillstyle() for line in right.lines if line.get_marker() == "o"]
    assert filled == ["none", "full", "full"]  # only a clear difference gets a filled marker
    assert fig._suptitle.get_text() == "pools" and "points" in right.get_ylabel() and "(%)" in left.get_ylabel()
