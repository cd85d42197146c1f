"""Figures every notebook uses: lines, mean and spread over seeds, a heatmap, grouped bars, verdicts. Each
function draws on a new figure (or on `ax` when given), gives it a title and labelled axes, and
returns the matplotlib Axes, so a notebook cell is one call.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..measure.seeds import mean_std


def new_axes(ax, figsize=(6, 4)):
    """`ax`, or the Axes of a new figure of `figsize` inches when `ax` is None."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_lines(x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str, ylabel: str,
               title: str, vline: float | None = None, vline_label: str = "", ax=None):
    """Several y-series over the same x, with an optional vertical marker line."""
    ax = new_axes(ax)
    for name, ys in series.items():
        ax.plot(x, ys, marker="o", label=name)
    if vline is not None:
        ax.axvline(vline, linestyle="--", color="grey", label=vline_label or None)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_mean_std(groups: Mapping[str, Sequence[float]], ylabel: str, title: str,
                  reference: Mapping[str, float] | None = None, ax=None, xlabel: str = ""):
    """One bar per group at the mean of its values, with a ±1 std error bar and every value as a dot.

    `reference` draws horizontal dashed lines (e.g. the teacher's result) to compare against.
    """
    ax = new_axes(ax)
    names = list(groups)
    for i, name in enumerate(names):
        v = np.asarray(groups[name], dtype=float)
        mean, std = mean_std(v)
        ax.bar(i, mean, yerr=0 if len(v) == 1 else std, capsize=6, alpha=0.7, color=f"C{i}")
        ax.scatter(np.full(len(v), i), v, color="black", zorder=3, s=14)
    for k, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, linestyle="--", color=f"C{len(names) + k}", label=name)
    ax.set_xticks(range(len(names)), names)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    if reference:
        ax.legend()
    return ax


def plot_heatmap(values, row_labels: Sequence, col_labels: Sequence, title: str, xlabel: str,
                 ylabel: str, fmt: str = "{:.0f}", cmap: str = "viridis_r", colorbar: str = "",
                 ax=None):
    """A 2-D grid of numbers as a coloured table, each cell annotated with its value."""
    values = np.asarray(values, dtype=float)
    ax = new_axes(ax, figsize=(1.1 * len(col_labels) + 2.5, 0.7 * len(row_labels) + 1.8))
    im = ax.imshow(values, cmap=cmap, aspect="auto")
    ax.set_xticks(range(len(col_labels)), [str(c) for c in col_labels])
    ax.set_yticks(range(len(row_labels)), [str(r) for r in row_labels])
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            if np.isnan(values[i, j]):
                continue  # NaN cells stay blank
            r, g, b, _ = im.cmap(im.norm(values[i, j]))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5  # white text on dark cells
            ax.text(j, i, fmt.format(values[i, j]), ha="center", va="center",
                    color="white" if dark else "black", fontsize=10)
    ax.figure.colorbar(im, ax=ax, label=colorbar)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def plot_grouped_bars(groups: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str, title: str,
                      log: bool = False, fmt: str = "%.2f", ax=None):
    """Grouped bars: one group per entry of `groups`, one bar per series, each bar labelled."""
    ax = new_axes(ax, figsize=(max(6, 1.6 * len(groups) * max(1, len(series) / 2)), 4.2))
    width = 0.8 / len(series)
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        bars = ax.bar(x + (i - (len(series) - 1) / 2) * width, values, width=width, label=name, color=f"C{i}")
        ax.bar_label(bars, fmt=fmt, fontsize=8)
    ax.set_xticks(x, groups)
    if log:
        ax.set_yscale("log")
    else:
        top = max(max(v) for v in series.values())
        ax.set_ylim(0, top * 1.15)
    ax.set(ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return ax


def plot_verdicts(verdicts: Mapping[str, object], xlabel: str, title: str, ax=None):
    """One row per comparison (a `kd.measure.Verdict`, labelled by its key, top to bottom): the mean difference
    and its 95 % interval, a line at zero; a filled marker where the verdict is beyond the noise."""
    ax = new_axes(ax, figsize=(8, 0.45 * len(verdicts) + 1.5))
    for row, (label, v) in enumerate(verdicts.items()):
        y = len(verdicts) - 1 - row
        ax.plot([v.low, v.high], [y, y], color=f"C{0 if v.clear else 7}", linewidth=2)
        ax.plot([v.mean], [y], marker="o", markersize=8, color=f"C{0 if v.clear else 7}",
                fillstyle="full" if v.clear else "none")
    ax.axvline(0.0, color="grey", linewidth=1)
    ax.set_yticks(range(len(verdicts)), list(verdicts)[::-1])
    ax.set(xlabel=xlabel, title=title)
    ax.grid(axis="x", alpha=0.3)
    return ax
