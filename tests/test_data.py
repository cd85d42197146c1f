import hashlib
import json

import numpy as np
import pytest
import torch

import kdcourse as kd
from kdcourse.assets import data_dir

# The class counts of the original MNIST (LeCun et al.).
MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_is_the_real_dataset():
    train, test = kd.load_mnist("train"), kd.load_mnist("test")
    assert len(train) == 60_000 and len(test) == 10_000
    assert train.data.dtype.is_floating_point is False and tuple(train.data.shape[1:]) == (28, 28)
    assert np.bincount(train.targets.numpy()).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(test.targets.numpy()).tolist() == MNIST_TEST_COUNTS
    # Real digits, not noise: most pixels are background, and the mean image has a bright centre.
    mean = train.data[:2000].float().mean(0)
    assert (train.data[:100] == 0).float().mean() > 0.7
    assert mean[10:18, 10:18].mean() > 4 * mean[:4, :].mean()


def test_mnist_items_and_balanced_subsets():
    sub = kd.load_mnist("train", n=1000, seed=3)
    assert np.bincount(sub.targets.numpy()).tolist() == [100] * 10
    assert kd.load_mnist("train", n=1000, seed=3).data.equal(sub.data)
    x, y = sub[0]
    assert tuple(x.shape) == (1, 28, 28) and isinstance(y, int)
    xs, ys = sub.tensors()
    assert tuple(xs.shape) == (1000, 1, 28, 28) and abs(float(xs.mean())) < 0.3
    with pytest.raises(ValueError, match="train' or 'test"):
        kd.load_mnist("validation")


def test_sentiment_splits_fixed_disjoint_and_balanced():
    ds = kd.data.load_rotten_tomatoes()
    sizes = {s: len(ds[s]) for s in ds}
    assert sizes == {"train": 10200, "validation": 1307, "test": 1245}
    texts = {s: set(ds[s]["text"]) for s in ds}
    assert not texts["train"] & texts["test"] and not texts["train"] & texts["validation"]
    assert not texts["validation"] & texts["test"]
    positive = {s: float(np.mean(ds[s]["label"])) for s in ds}
    # The source is 58 % fresh: every split keeps that balance within 3 points.
    for share in positive.values():
        assert 0.55 < share < 0.61
    assert kd.data.load_rotten_tomatoes()["test"]["text"] == ds["test"]["text"]


def test_sentiment_follows_profile_sizes():
    smoke = kd.get_profile("smoke")
    ds = kd.load_sentiment(smoke)
    assert len(ds["train"]) == smoke.finetune.train_size
    assert len(ds["test"]) == smoke.finetune.eval_size
    assert ds["train"].features["label"].names == ["negative", "positive"]
    assert kd.load_sentiment(smoke)["train"]["text"] == ds["train"]["text"]


def test_gpu_profile_falls_back_offline(capsys):
    ds = kd.load_sentiment(kd.get_profile("gpu"))
    assert "using the offline Rotten Tomatoes" in capsys.readouterr().out
    assert len(ds["test"]) == 1245


def test_corpus_is_real_english_and_held_out():
    p = kd.get_profile("cpu")
    train, test = kd.load_corpus("train", p), kd.load_corpus("test", p)
    assert sum(map(len, train)) > 2_000_000 and len(test) > 300
    assert not set(train) & set(test)
    words = " ".join(train[:200]).lower().split()
    assert words.count("the") / len(words) > 0.03  # English function words are everywhere
    assert sum(map(len, kd.load_corpus("train", kd.get_profile("smoke")))) < 80_000


def test_provenance_matches_files():
    prov = json.loads((data_dir() / "provenance.json").read_text())
    for asset in prov["assets"]:
        if asset["file"].endswith("/"):  # a folder of small files: each one's digest
            folder = data_dir() / asset["file"]
            assert sorted(p.name for p in folder.iterdir()) == sorted(asset["sha256_of_each"]), asset["file"]
            for name, expected in asset["sha256_of_each"].items():
                assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == expected, name
        else:
            digest = hashlib.sha256((data_dir() / asset["file"]).read_bytes()).hexdigest()
            assert digest == asset["sha256"], asset["file"]
        assert asset["licence"] and asset["source_package"]


def test_missing_data_names_the_fix(monkeypatch, tmp_path):
    monkeypatch.setenv("KDCOURSE_DATA", str(tmp_path))
    with pytest.raises(kd.MissingAssetError, match="scripts/build_data.py"):
        kd.load_mnist("test")


def test_torchvision_reads_the_course_mnist_offline(tmp_path, monkeypatch):
    # the classic code: torchvision.datasets.MNIST(root, train, transform, download=False)
    from torchvision import datasets, transforms

    monkeypatch.setenv("KDCOURSE_CACHE", str(tmp_path))
    root = kd.data.mnist_root()
    normalise = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    test = datasets.MNIST(root=root, train=False, transform=normalise, download=False)
    ours = kd.load_mnist("test")
    assert len(test) == len(ours) == 10_000 and torch.equal(test.targets, ours.targets)
    assert torch.equal(test.data, ours.data)
    x_ours, _ = ours.tensors()
    assert torch.allclose(test[123][0], x_ours[123], atol=1e-6)
    assert len(datasets.MNIST(root=root, train=True, download=False)) == 60_000
    assert kd.data.mnist_root() == root  # written once, then reused


def test_spanish_or_portuguese_finds_the_strays_and_keeps_english():
    from kdcourse.data import spanish_or_portuguese

    texts = ["Es una de las mejores comedias del año.", "Um filme com uma ótima história para toda a família.",
             "A film of the year, and one of the best comedies in a decade.", "De Niro is great."]
    assert spanish_or_portuguese(texts) == texts[:2]


def test_other_domains_are_held_out_text_with_the_same_two_labels():
    domains = kd.data.load_other_domains()
    counts = next(a for a in json.loads((kd.data_dir() / "provenance.json").read_text())["assets"]
                  if a["file"] == "other_domains.csv.gz")["counts"]
    assert set(domains) == {"product reviews", "tweets"} == set(counts)
    for name, ds in domains.items():
        labels = ds["label"]
        assert labels.count(1) == counts[name]["positive (1)"] and labels.count(0) == counts[name]["negative (0)"]
        assert ds.features["label"].names == ["negative", "positive"]  # as load_sentiment's
        assert not any("&amp;" in t for t in ds["text"]) and min(map(len, ds["text"])) > 0
    film = set(kd.data.load_rotten_tomatoes()["train"]["text"])
    assert not film & set(domains["product reviews"]["text"]) and not film & set(domains["tweets"]["text"])
    small = kd.data.load_other_domains(n_per_domain=100, seed=0)
    assert {len(ds) for ds in small.values()} == {100}
    assert small["tweets"]["text"] == kd.data.load_other_domains(n_per_domain=100, seed=0)["tweets"]["text"]


def test_next_sentence_pairs_keep_speeches_apart_and_hide_the_class_from_length_and_speech():
    from kdcourse.data import _sentences, _speeches, next_sentence_pairs

    splits = {split: next_sentence_pairs(split) for split in ("train", "validation", "test")}
    speeches = {split: set(ds["speech"]) for split, ds in splits.items()}
    assert not (speeches["train"] & speeches["validation"]) and not (speeches["train"] & speeches["test"])
    assert not (speeches["validation"] & speeches["test"])
    test = splits["test"]
    assert 0.45 < np.mean(test["label"]) < 0.55  # a seeded coin per anchor
    by_name = {f"{s['year']} {s['president'].split()[-1]}": _sentences(s["text"]) for s in _speeches("test")}
    gaps = []
    for row in test:
        sentences = by_name[row["speech"]]  # both sentences come from the speech the row names
        anchors = [i for i, t in enumerate(sentences[:-1]) if t == row["sentence1"]]  # a sentence may repeat
        nexts = {sentences[i + 1] for i in anchors}
        if row["label"] == 1:
            assert row["sentence2"] in nexts
        else:
            assert row["sentence2"] not in nexts  # a negative is never the true next sentence
            far = [j for j, t in enumerate(sentences) if t == row["sentence2"] and min(abs(j - i) for i in anchors) >= 5]
            assert far, row
            gaps.append(min(abs(len(row["sentence2"].split()) - len(n.split())) for n in nexts))
    assert np.median(gaps) <= 1  # a negative is as long as the true next sentence would have been
    lengths = np.array([len(s.split()) for s in test["sentence2"]])
    labels = np.array(test["label"])
    assert abs(lengths[labels == 1].mean() - lengths[labels == 0].mean()) < 2  # length does not give the class away
    assert next_sentence_pairs("test", n=50, seed=1)["sentence1"] == next_sentence_pairs("test", n=50, seed=1)["sentence1"]
    with pytest.raises(ValueError, match="split must be"):
        next_sentence_pairs("dev")


def test_load_pairs_follows_the_profile_offline():
    import dataclasses

    smoke = kd.get_profile("smoke")
    pairs = kd.data.load_pairs(smoke)
    assert {s: len(pairs[s]) for s in pairs} == {"train": 96, "validation": 48, "test": 48}
    assert pairs["train"].column_names == ["sentence1", "sentence2", "label", "group"]
    assert set(pairs["test"]["group"]) <= set(kd.data.next_sentence_pairs("test")["speech"])  # the speeches
    assert pairs["train"].features["label"].names == ["not next", "next"]
    assert kd.data.load_pairs(smoke)["test"]["sentence1"] == pairs["test"]["sentence1"]  # seeded
    whole = kd.data.load_pairs(dataclasses.replace(smoke, pairs=dataclasses.replace(smoke.pairs, test_size=None)))
    assert len(whole["test"]) == 1_712
    with pytest.raises(ValueError, match="pair_task must be"):
        kd.data.load_pairs(dataclasses.replace(smoke, pair_task="mnli"))


def test_length_only_reads_the_lengths_and_nothing_else():
    from datasets import Dataset

    rng = np.random.default_rng(0)
    words = lambda n: " ".join(["word"] * n)  # noqa: E731
    n1, n2 = rng.integers(3, 30, 400), rng.integers(3, 30, 400)
    told = Dataset.from_dict({"sentence1": [words(a) for a in n1], "sentence2": [words(b) for b in n2],
                              "label": (n2 > n1).astype(int).tolist()})  # the label IS a length comparison
    assert np.mean(kd.classify.length_only(told.select(range(300)), told.select(range(300, 400)))
                   == np.array(told.select(range(300, 400))["label"])) > 0.9
    pairs = kd.data.next_sentence_pairs("train", n=2000), kd.data.next_sentence_pairs("test")
    accuracy = np.mean(kd.classify.length_only(*pairs) == np.array(pairs[1]["label"]))
    assert 0.45 < accuracy < 0.55  # length-matched negatives: the lengths say nothing
