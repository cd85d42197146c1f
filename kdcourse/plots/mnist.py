"""Figures of notebook 03 (MNIST distillation): training curves, digits, soft targets by temperature.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .common import new_axes

def plot_history(histories: Mapping[str, object], metric: str = "test_acc", title: str | None = None,
                 ax=None):
    """One line per run: `metric` ("loss", "train_acc" or "test_acc") of each History per epoch.

    Accuracies are drawn as error rates in percent (100 - accuracy), which separates good models.
    """
    ax = new_axes(ax)
    for name, h in histories.items():
        values = np.asarray(getattr(h, metric), dtype=float)
        if metric.endswith("acc"):
            values = 100 * (1 - values)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o", label=name)
    label = {"loss": "training loss", "train_acc": "training error (%)", "test_acc": "test error (%)"}
    ax.set(xlabel="epoch", ylabel=label.get(metric, metric), title=title or f"{label.get(metric, metric)} per epoch")
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_images(images, titles: Sequence[str], ncols: int = 8, title: str | None = None):
    """A grid of grey-scale images ([n, 1, H, W] or [n, H, W]) with one short title each."""
    images = np.asarray(images).reshape(len(images), *np.asarray(images).shape[-2:])
    nrows = int(np.ceil(len(images) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.7 * nrows + 0.4), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, t in zip(axes.flat, images, titles):
        ax.axis("on")
        ax.imshow(image, cmap="gray_r")
        ax.set_xticks([])  # no ticks, but keep the frame: it makes small shifts visible
        ax.set_yticks([])
        ax.set_title(t, fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return axes


def plot_soft_targets(image, probs_by_temperature: Mapping[float, Sequence[float]], label: int,
                      title: str | None = None):
    """An image and its teacher's class probabilities at several temperatures, on a log scale.

    The log scale makes the "dark knowledge" visible: the small probabilities of the wrong classes,
    which T = 1 squashes to almost nothing and higher temperatures lift.
    """
    temps = list(probs_by_temperature)
    fig, axes = plt.subplots(1, len(temps) + 1, figsize=(2.8 * (len(temps) + 1), 2.9),
                             gridspec_kw={"width_ratios": [0.8] + [1] * len(temps)})
    axes[0].imshow(np.asarray(image).reshape(np.asarray(image).shape[-2:]), cmap="gray_r")
    axes[0].set_title(f"input (label {label})")
    axes[0].axis("off")
    for ax, t in zip(axes[1:], temps):
        p = np.asarray(probs_by_temperature[t], dtype=float)
        colors = ["tab:orange" if c == label else "tab:blue" for c in range(len(p))]
        ax.bar(range(len(p)), p, color=colors)
        ax.set_yscale("log")
        ax.set_ylim(1e-12, 1.5)
        ax.set_xticks(range(len(p)))
        ax.set(title=f"T = {t:g}", xlabel="class")
    axes[1].set_ylabel("teacher probability (log scale)")
    fig.suptitle(title or "The teacher's soft targets at four temperatures")
    fig.tight_layout()
    return axes
