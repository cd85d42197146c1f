"""The course's datasets: MNIST, sentiment snippets (film reviews; product reviews and tweets to score out of
domain), and a plain-English corpus, whole or as next-sentence pairs.

All of them load from data/ with no network. In the `gpu` profile, `load_sentiment` and `load_pairs` first
try GLUE SST-2 and MRPC from the Hugging Face hub (or its local cache, see hub.py) and fall back to the
shipped data with a printed message.
"""
from __future__ import annotations

import csv
import gzip
import json
import re

import numpy as np
import torch
from torch.utils.data import Dataset

from .assets import data_file
from .hub import MRPC_FILES, SST2_REPO, hub_has, load_mrpc, load_sst2
from .profiles import Profile

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # the usual normalisation constants of the training set


class MNIST(Dataset):
    """MNIST as torchvision's `datasets.MNIST` has it: `.data` uint8 [N, 28, 28], `.targets` int64.

    Items are `(image, label)`; without a transform the image is a normalised float tensor
    [1, 28, 28]. A `transform` receives the uint8 [28, 28] tensor instead.
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, images: np.ndarray, labels: np.ndarray, split: str, transform=None):
        self.data = torch.from_numpy(np.ascontiguousarray(images))
        self.targets = torch.from_numpy(labels.astype(np.int64))
        self.split = split
        self.transform = transform

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        image = self.data[i]
        if self.transform is not None:
            return self.transform(image), int(self.targets[i])
        return normalise_mnist(image).unsqueeze(0), int(self.targets[i])

    def tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """All images normalised as one float tensor [N, 1, 28, 28], and the labels: fast on CPU."""
        return normalise_mnist(self.data).unsqueeze(1), self.targets

    def __repr__(self) -> str:
        return f"MNIST(split={self.split!r}, n={len(self)})"


def normalise_mnist(images: torch.Tensor) -> torch.Tensor:
    return (images.float() / 255.0 - MNIST_MEAN) / MNIST_STD


IDX_FILES = {("train", "images"): "train-images-idx3-ubyte", ("train", "labels"): "train-labels-idx1-ubyte",
             ("test", "images"): "t10k-images-idx3-ubyte", ("test", "labels"): "t10k-labels-idx1-ubyte"}


def _idx_bytes(array: np.ndarray) -> bytes:
    """An array of uint8 in the IDX format of the original MNIST files: a magic number (0, 0, type
    0x08 = unsigned byte, number of dimensions), each dimension as a big-endian int32, then the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def mnist_root():
    """A folder that `torchvision.datasets.MNIST(root=..., download=False)` reads offline.

    torchvision expects <root>/MNIST/raw/ with the four uncompressed IDX files of the original
    distribution (55 MB). They are written once into the course cache from data/mnist.npz (the same
    60,000 + 10,000 images and labels, see data/provenance.json), so the classic code runs unchanged.
    """
    from .assets import cache_dir

    raw = cache_dir() / "torchvision" / "MNIST" / "raw"
    if not all((raw / name).exists() for name in IDX_FILES.values()):
        raw.mkdir(parents=True, exist_ok=True)
        with np.load(data_file("mnist.npz")) as z:
            for (split, kind), name in IDX_FILES.items():
                tmp = raw / f"{name}.tmp"
                tmp.write_bytes(_idx_bytes(z[f"{split}_{kind}"]))
                tmp.rename(raw / name)  # never a half-written file under the final name
    return raw.parent.parent


def load_mnist(split: str = "train", n: int | None = None, seed: int = 0, transform=None) -> MNIST:
    """The real MNIST split ('train': 60,000, 'test': 10,000), optionally a class-balanced subset of n.

    The subset is drawn with `seed`, the same indices every time.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    with np.load(data_file("mnist.npz")) as z:
        images, labels = z[f"{split}_images"], z[f"{split}_labels"]
    if n is not None and n < len(labels):
        rng = np.random.default_rng(seed)
        per_class = [rng.permutation(np.flatnonzero(labels == c)) for c in range(10)]
        idx = np.sort(np.concatenate([ix[: n // 10 + (c < n % 10)] for c, ix in enumerate(per_class)]))
        images, labels = images[idx], labels[idx]
    return MNIST(images, labels, split, transform)


def validation_indices(n: int, n_validation: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Split positions 0..n-1 of a training set at random into (train, validation): settings are chosen on
    the validation images, never on the test set (taught in notebook 03, section 6). Index the images,
    the labels AND any cached teacher logits with the same positions."""
    if not 0 < n_validation < n:
        raise ValueError(f"n_validation must be between 1 and {n - 1} for {n} images, got {n_validation}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[n_validation:].sort().values, order[:n_validation].sort().values


def _subsample(ds, n: int | None, seed: int):
    """A fixed random subset of n rows (all rows when n is None or larger)."""
    if n is None or n >= len(ds):
        return ds
    return ds.shuffle(seed=seed).select(range(n))


def load_rotten_tomatoes():
    """The Rotten Tomatoes critic snippets shipped in data/: a DatasetDict train/validation/test.

    Labels: 1 = fresh (positive), 0 = rotten (negative). The splits are fixed by a hash of the text,
    so no snippet appears in two splits (see data/provenance.json).
    """
    from datasets import ClassLabel, Dataset as HFDataset, DatasetDict, Features, Value

    rows = {"train": [], "validation": [], "test": []}
    with gzip.open(data_file("rotten_tomatoes.csv.gz"), "rt", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows[r["split"]].append((r["text"], int(r["label"])))
    features = Features({"text": Value("string"), "label": ClassLabel(names=["negative", "positive"])})
    return DatasetDict({s: HFDataset.from_dict({"text": [t for t, _ in v], "label": [l for _, l in v]},
                                               features=features) for s, v in rows.items()})


def load_other_domains(n_per_domain: int | None = None, seed: int = 0) -> dict:
    """Sentiment text from other domains than film reviews, for testing only: {domain: Dataset (text, label)}
    with the domains "product reviews" (Amazon review snippets) and "tweets", shipped in data/ (Hutto and
    Gilbert, 2014; see data/provenance.json). Labels as in `load_sentiment`: 1 positive, 0 negative, kept where
    the raters' mean was clearly away from neutral. `n_per_domain`: a fixed random subset of each (None: all)."""
    from datasets import ClassLabel, Dataset as HFDataset, Features, Value

    rows: dict[str, list] = {}
    with gzip.open(data_file("other_domains.csv.gz"), "rt", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            rows.setdefault(r["domain"], []).append((r["text"], int(r["label"])))
    features = Features({"text": Value("string"), "label": ClassLabel(names=["negative", "positive"])})
    return {d: _subsample(HFDataset.from_dict({"text": [t for t, _ in v], "label": [l for _, l in v]}, features=features),
                          n_per_domain, seed) for d, v in rows.items()}


def load_sentiment(profile: Profile):
    """Binary sentiment as a DatasetDict (text, label) with train/validation/test.

    `gpu` profile: GLUE SST-2 from the hub, or from its local cache, when there; otherwise, and in
    `cpu`/`smoke`, the Rotten Tomatoes snippets from data/. Sizes follow `profile.finetune`.
    """
    ds = None
    if profile.sentiment == "sst2":
        if hub_has(SST2_REPO, repo_type="dataset"):
            ds = load_sst2()
        else:
            print("Hugging Face hub unreachable: using the offline Rotten Tomatoes snippets "
                  "from data/ instead of GLUE SST-2.")
    if ds is None:
        ds = load_rotten_tomatoes()
    from datasets import DatasetDict

    f = profile.finetune
    sizes = {"train": f.train_size, "validation": f.eval_size, "test": f.eval_size}
    return DatasetDict({s: _subsample(ds[s], sizes[s], profile.seed) for s in ds})


def load_pairs(profile: Profile):
    """A sentence-pair task as a DatasetDict (sentence1, sentence2, label, group) with train/validation/test.

    `pair_task` "mrpc" (the `gpu` profile): GLUE MRPC, paraphrase or not, from the hub or its local cache, when
    there; otherwise, and for "next_sentence" (`cpu`/`smoke`), next-sentence prediction on the speeches
    (`next_sentence_pairs`). `group`: the speech a pair comes from (MRPC: the pair itself); pairs of one group are
    not independent, so a verdict resamples groups (`kd.measure.verdict`). The Trainer leaves the column out of
    the model's inputs. Sizes follow `profile.pairs`; the draw of each split is seeded."""
    from datasets import DatasetDict

    if profile.pair_task not in ("mrpc", "next_sentence"):
        raise ValueError(f"pair_task must be 'mrpc' or 'next_sentence', got {profile.pair_task!r}.")
    ds = None
    if profile.pair_task == "mrpc":
        if hub_has(SST2_REPO, repo_type="dataset", filename=MRPC_FILES["train"]):
            ds = load_mrpc()
            ds = DatasetDict({s: d.add_column("group", [f"pair {i}" for i in range(len(d))]) for s, d in ds.items()})
        else:
            print("GLUE MRPC neither on the hub nor in its local cache: using next-sentence pairs from the "
                  "speeches instead.")
    if ds is None:
        ds = DatasetDict({s: next_sentence_pairs(s, seed=profile.seed).rename_column("speech", "group")
                          for s in ("train", "validation", "test")})
    c = profile.pairs
    sizes = {"train": c.train_size, "validation": c.eval_size, "test": c.test_size}
    return DatasetDict({s: _subsample(ds[s], sizes[s], profile.seed) for s in ds})


# Common words of Spanish and Portuguese that are rare in English (taught in notebook 00).
_IBERIAN_WORDS = frozenset("de que el la los las una um uma não com para por del muy mas y en se es filme película cinta".split())
_ENGLISH_WORDS = frozenset("the and a of to is it this that in with film movie".split())


def spanish_or_portuguese(texts: list[str]) -> list[str]:
    """The texts that look Spanish or Portuguese: at least three of their common words, and more of
    them than of English's. A rough count of a real dataset's strays, not a language identifier."""
    found = []
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        iberian = sum(w in _IBERIAN_WORDS for w in words)
        if iberian >= 3 and iberian > sum(w in _ENGLISH_WORDS for w in words):
            found.append(text)
    return found


def _passages(text: str, max_chars: int = 400) -> list[str]:
    """Cut a speech into passages of whole sentences, at most about max_chars each."""
    text = re.sub(r"\((Applause|Laughter)[^)]*\)", " ", text)
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z\"\u201c])", " ".join(text.split()))
    passages, current = [], ""
    for sentence in sentences:
        if current and len(current) + len(sentence) > max_chars:
            passages.append(current)
            current = ""
        current = f"{current} {sentence}".strip()
    if current:
        passages.append(current)
    return [p for p in passages if len(p.split()) >= 8]


def _sentences(text: str) -> list[str]:
    """A speech's sentences, in order (applause and laughter notes removed); the very short and very long left out."""
    text = re.sub(r"\((Applause|Laughter)[^)]*\)", " ", text)
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z\"\u201c])", " ".join(text.split()))
    return [s for s in sentences if 4 <= len(s.split()) <= 60]


def next_sentence_pairs(split: str, n: int | None = None, seed: int = 0, min_gap: int = 5):
    """Next-sentence prediction, BERT's second pretraining objective, from the speeches: a Dataset (sentence1,
    sentence2, label, speech) with label 1 when sentence2 follows sentence1 in the speech, 0 when it is another
    sentence of the same speech, at least `min_gap` sentences away, whose length in words is the closest to that of
    the true next sentence (a tie drawn at random). Neither the speech nor the length tells a negative from a
    positive. Each anchor sentence is used once, as a positive or a negative (a seeded coin).

    split: "train" (the training speeches but every fifth), "validation" (every fifth training speech) or "test"
    (the held-out speeches of `load_corpus`): no speech is in two splits. `n`: a seeded random subset (None: all)."""
    from datasets import ClassLabel, Dataset as HFDataset, Features, Value

    if split not in ("train", "validation", "test"):
        raise ValueError(f"split must be 'train', 'validation' or 'test', got {split!r}")
    speeches = _speeches("fit" if split == "train" else split)
    rng = np.random.default_rng(seed)
    rows = {"sentence1": [], "sentence2": [], "label": [], "speech": []}
    for speech in speeches:
        sentences = _sentences(speech["text"])
        words = np.array([len(s.split()) for s in sentences])
        for i in range(len(sentences) - 1):
            far = np.flatnonzero((np.abs(np.arange(len(sentences)) - i) >= min_gap)
                                 & np.array([t != sentences[i + 1] for t in sentences]))  # never the next one's twin
            positive = rng.random() < 0.5
            if positive or len(far) == 0:
                second, label = sentences[i + 1], 1
            else:
                gaps = np.abs(words[far] - words[i + 1])
                second, label = sentences[rng.choice(far[gaps == gaps.min()])], 0
            rows["sentence1"].append(sentences[i])
            rows["sentence2"].append(second)
            rows["label"].append(label)
            rows["speech"].append(f"{speech['year']} {speech['president'].split()[-1]}")
    features = Features({"sentence1": Value("string"), "sentence2": Value("string"),
                         "label": ClassLabel(names=["not next", "next"]), "speech": Value("string")})
    return _subsample(HFDataset.from_dict(rows, features=features), n, seed)


SPEECH_SPLITS = ("train", "test", "fit", "validation")


def _speeches(split: str) -> list[dict]:
    """The State of the Union addresses of one split: every 10th speech is 'test', the others 'train'; 'train'
    splits once more into 'validation' (every fifth training speech) and 'fit' (the others), for choosing settings
    on speeches that neither the training blocks nor the test hold (notebooks 02 and 07)."""
    if split not in SPEECH_SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPEECH_SPLITS))}, got {split!r}")
    with gzip.open(data_file("sotu_1946_2021.jsonl.gz"), "rt", encoding="utf-8") as f:
        speeches = [json.loads(line) for line in f]
    speeches = [s for i, s in enumerate(speeches) if (i % 10 == 9) == (split == "test")]
    if split in ("fit", "validation"):
        speeches = [s for i, s in enumerate(speeches) if (i % 5 == 4) == (split == "validation")]
    return speeches


def _first_chars(passages: list[str], limit: int | None) -> list[str]:
    """The first passages, up to about `limit` characters (all of them for None)."""
    if limit is None:
        return passages
    kept, total = [], 0
    for par in passages:
        if total >= limit:
            break
        kept.append(par)
        total += len(par)
    return kept


def load_corpus(split: str, profile: Profile) -> list[str]:
    """Plain English for language-model pretraining, as passages of a few whole sentences:
    US State of the Union addresses 1946-2021 (public domain). Every 10th speech is held out as
    'test'. The train split is cut to `profile.pretrain.corpus_chars` characters, the test split
    to a fifth of that.
    """
    passages = [par for s in _speeches(split) for par in _passages(s["text"])]
    limit = profile.pretrain.corpus_chars
    return _first_chars(passages, None if limit is None else limit // 5 if split == "test" else limit)


def load_speeches(split: str, profile: Profile) -> dict[str, list[str]]:
    """The same corpus speech by speech ("1954 Eisenhower": its passages), for a held-out set spread over every
    held-out speech (notebook 06): blocks of one speech are not independent samples of English, speeches
    are. `split`: "train", "test", or the training speeches split once more, "fit" and "validation" (notebook 07
    chooses on validation speeches). Each speech is cut to its share of the split's `corpus_chars` budget (all of
    it in `cpu`)."""
    speeches = _speeches(split)
    limit = profile.pretrain.corpus_chars
    if limit is not None:
        limit = (limit // 5 if split == "test" else limit) // len(speeches)
    return {f"{s['year']} {s['president'].split()[-1]}": _first_chars(_passages(s["text"]), limit) for s in speeches}
