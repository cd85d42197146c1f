"""Figures of notebook 02 (fine-tuning): snippet lengths in tokens, learning curves of the Trainer, and
every run's test scores over seeds.
"""
from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np

from .common import new_axes, plot_mean_std

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

    curves: run name -> (train_log, eval_log), the two DataFrames of `kd.trainer_tools.training_history`.
    One legend for both panels sits below them, outside the axes, so it never hides a curve.
    """
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for i, (name, (train_log, eval_log)) in enumerate(curves.items()):
        axes[0].plot(train_log["epoch"], train_log["loss"], color=f"C{i}", label=name, alpha=0.9)
        axes[1].plot(eval_log["epoch"], 100 * eval_log["eval_accuracy"], color=f"C{i}", marker="o", label=name)
    axes[0].set(xlabel="epoch", ylabel="training loss (cross-entropy, nats)", title="Training loss")
    axes[1].set(xlabel="epoch", ylabel="validation accuracy (%)", title="Validation accuracy")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig = axes[0].figure
    fig.suptitle(title)
    columns = min(len(curves), 3)
    rows = -(-len(curves) // columns)
    fig.tight_layout(rect=(0, 0.03 + 0.05 * rows, 1, 1))  # leave the bottom strip to the legend
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=columns, fontsize="small",
               frameon=False)
    return axes


def plot_seed_scores(scores, title: str = "Test scores over seeds", axes=None):
    """Two panels, test accuracy and macro-F1: every run as a dot, each way's mean as a bar with ±1 std.
    Why: the spread between seeds is what a difference between ways must beat. Taught in notebook 02,
    section 5. `scores`: `classify.seed_scores`, one row per way and seed."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4))
    for ax, (column, name) in zip(axes, [("test acc %", "test accuracy"), ("test macro-F1 %", "test macro-F1")]):
        groups = {way: g[column].to_numpy() for way, g in scores.groupby("way", sort=False)}
        plot_mean_std(groups, ylabel=f"{name} (%)", title=f"{name}: dots = runs, bars = mean ± 1 std", ax=ax,
                      xlabel="way of training (majority: always the most common class)")
    axes[0].figure.suptitle(title)
    axes[0].figure.tight_layout()
    return axes
