"""Transfer sets: the examples a student learns from when the teacher, not a label, gives the answer
(notebook 03, section 10; notebook 04, sections 6 and 7).

A label costs a human; a soft label costs one teacher forward pass. Distillation can therefore learn
from examples nobody labelled: the unlabelled part of a training set, or new examples made from the
labelled ones. Both get the label UNLABELLED (-100, the value Hugging Face models and
`F.cross_entropy` ignore), so only the soft-target term of the loss sees them.

    hide_labels     keep the labels of n examples, hide the rest (a few-label experiment): a dataset
    nested_pools    the same n labels inside pools of unlabelled text that grow (the pool curve)
    hide_label_tensor   the same for a tensor of labels (MNIST in memory)
    pseudo_labels   the hidden labels replaced by the teacher's top class (hard labels, no dark knowledge)
    augment_text    two of Tang et al. (2019)'s rules, simplified: mask words, or keep a short n-gram
    augmented_set   the originals plus augmented copies, the copies unlabelled
"""
from __future__ import annotations

import numpy as np
import torch

UNLABELLED = -100  # ignored by F.cross_entropy(ignore_index=-100) and by Hugging Face models


def _labelled_rows(rows: int, n: int, seed: int) -> np.ndarray:
    """The sorted indices of the n rows whose labels are kept, drawn at random (seeded) and balanced by
    nothing: a labelling budget picks examples, not classes."""
    if not 0 < n <= rows:
        raise ValueError(f"n must be between 1 and the {rows} rows of the dataset, got {n}.")
    return np.sort(np.random.default_rng(seed).choice(rows, size=n, replace=False))


def hide_labels(dataset, n: int, seed: int = 0, label_column: str = "label"):
    """(the dataset with all but n labels hidden, the n labelled rows alone).

    Every row stays in the first dataset, in its place, so an index column added before still points
    at the same example; hidden labels are UNLABELLED.
    """
    return _hide_all_but(dataset, _labelled_rows(len(dataset), n, seed), label_column)


def nested_pools(dataset, n: int, sizes, seed: int = 0, label_column: str = "label"):
    """(the n labelled rows, {size: the first `size` rows, all but those n labels hidden}) for each pool size
    (None: the whole dataset). The n are drawn from the smallest pool, so every pool holds the same labels and
    a larger one only adds unlabelled text: the one thing a pool curve should change. Rows keep their order
    and index column, so teacher logits cached once on the largest pool serve every smaller one."""
    full = sorted({len(dataset) if size is None else size for size in sizes})
    if not full or full[0] < n or full[-1] > len(dataset):
        raise ValueError(f"Pool sizes {list(sizes)} must lie between N = {n} and the {len(dataset)} rows of the "
                         f"dataset (None: all of them).")
    keep = _labelled_rows(full[0], n, seed)
    partly, labelled = _hide_all_but(dataset, keep, label_column)
    return labelled, {size: partly.select(range(size)) for size in full}


def _hide_all_but(dataset, keep: np.ndarray, label_column: str):
    """(the dataset with the labels of rows `keep` kept and the rest UNLABELLED, the kept rows alone)."""
    kept = np.zeros(len(dataset), dtype=bool)
    kept[keep] = True
    labels = np.asarray(dataset[label_column])
    hidden = np.where(kept, labels, UNLABELLED).tolist()
    partly = dataset.remove_columns(label_column).add_column(label_column, hidden)  # plain integers
    return partly, dataset.select(keep.tolist())


def hide_label_tensor(labels: torch.Tensor, n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """(the labels with all but n hidden, the indices of the n kept): `hide_labels` for labels held in a
    tensor, the same draw for the same seed. Row k still belongs to example k, so teacher logits
    precomputed on all examples stay aligned."""
    keep = torch.from_numpy(_labelled_rows(len(labels), n, seed))
    partly = torch.full_like(labels, UNLABELLED)
    partly[keep] = labels[keep]
    return partly, keep


def pseudo_labels(teacher_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The labels, each hidden one (UNLABELLED) replaced by the teacher's top class: a student trained on
    them learns what the teacher decided, not how sure it was (no dark knowledge)."""
    if len(teacher_logits) != len(labels):
        raise ValueError(f"teacher_logits has {len(teacher_logits)} rows but labels has {len(labels)}: compute the "
                         f"logits on the same (unshuffled) examples, one row each.")
    return torch.where(labels == UNLABELLED, teacher_logits.argmax(dim=-1).to(labels.dtype), labels)


def augment_text(text: str, rng: np.random.Generator, mask_token: str, p_mask: float = 0.1,
                 p_ngram: float = 0.25, max_n: int = 5) -> str:
    """One augmented copy of `text` by a simplified version of Tang et al.'s rules (2019, "Distilling
    task-specific knowledge from BERT into simple neural networks", section 3.3): with probability p_ngram keep
    only a random n-gram of 1 to max_n words; otherwise replace each word by the mask token with probability
    p_mask. Their part-of-speech rule, replacing a word by another of the same part of speech, is left out.

    The copy may no longer carry the original's sentiment ("the film" alone carries none), which is
    why it gets no label: the teacher says what it thinks of it, uncertainty included.
    """
    words = text.split()
    if not words:
        return text
    if rng.random() < p_ngram:
        n = int(rng.integers(1, max_n + 1))
        start = int(rng.integers(0, max(len(words) - n, 0) + 1))
        return " ".join(words[start:start + n])
    return " ".join(mask_token if rng.random() < p_mask else w for w in words)


def augmented_set(dataset, copies: int, mask_token: str, seed: int = 0, text_column: str = "text",
                  label_column: str = "label"):
    """The rows of `dataset` followed by `copies` augmented copies of each text (augment_text, seeded),
    labelled UNLABELLED. Tokenise the result and add an index column before caching teacher logits."""
    import datasets

    if copies < 0:
        raise ValueError(f"copies must be >= 0, got {copies}.")
    rng = np.random.default_rng(seed)
    texts = [augment_text(t, rng, mask_token) for _ in range(copies) for t in dataset[text_column]]
    extra = datasets.Dataset.from_dict({text_column: texts, label_column: [UNLABELLED] * len(texts)})
    originals = dataset.select_columns([text_column, label_column])
    originals = originals.cast(extra.features) if originals.features != extra.features else originals
    return datasets.concatenate_datasets([originals, extra])
