"""Figures of notebook 02 (fine-tuning): snippet lengths in tokens, learning curves of the Trainer.
"""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from .common import new_axes

def plot_length_histogram(lengths, max_length: int, title: str = "Snippet length in tokens",
                          ax=None):
    """A histogram of token counts with `max_length` as a dashed line; the legend says what share of
    the texts is longer (and so gets truncated)."""
    lengths = np.asarray(lengths)
    ax = new_axes(ax, figsize=(7, 3.8))
    ax.hist(lengths, bins=np.arange(0, lengths.max() + 3, 2), color="C0", alpha=0.8)
    cut = np.mean(lengths > max_length)
    ax.axvline(max_length, linestyle="--", color="C3",
               label=f"max_length = {max_length} ({100 * cut:.1f} % of texts are longer)")
    ax.set(xlabel="tokens per snippet ([CLS] and [SEP] included)", ylabel="number of snippets", title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_learning_curves(curves: Mapping[str, tuple], title: str = "Learning curves", axes=None):
    """Two panels side by side for several training runs: the training loss as logged, and the
    validation accuracy at every evaluation, both over epochs.

    curves: run name -> (train_log, eval_log), the two DataFrames of `finetune.training_history`.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.2))
    for i, (name, (train_log, eval_log)) in enumerate(curves.items()):
        axes[0].plot(train_log["epoch"], train_log["loss"], color=f"C{i}", label=name, alpha=0.9)
        axes[1].plot(eval_log["epoch"], 100 * eval_log["eval_accuracy"], color=f"C{i}", marker="o", label=name)
    axes[0].set(xlabel="epoch", ylabel="training loss (cross-entropy)", title="Training loss")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy (%)", title="Validation accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small", framealpha=0.85)
    axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes
