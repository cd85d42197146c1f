"""Plotting helpers of the course: every figure gets a title and labelled axes.

Each function draws on a new figure (or on `ax` when given) and returns the matplotlib Axes, so a
notebook cell is one call. Other notebooks append their own helpers at the END of this file, in a
clearly headed block.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax, figsize=(6, 4)):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_history(histories: Mapping[str, object], metric: str = "test_acc", title: str | None = None,
                 ax=None):
    """One line per run: `metric` ("loss", "train_acc" or "test_acc") of each History per epoch.

    Accuracies are drawn as error rates in percent (100 - accuracy), which separates good models.
    """
    ax = _axes(ax)
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


def plot_heatmap(values, row_labels: Sequence, col_labels: Sequence, title: str, xlabel: str,
                 ylabel: str, fmt: str = "{:.0f}", cmap: str = "viridis_r", colorbar: str = "",
                 ax=None):
    """A 2-D grid of numbers as a coloured table, each cell annotated with its value."""
    values = np.asarray(values, dtype=float)
    ax = _axes(ax, figsize=(1.1 * len(col_labels) + 2.5, 0.7 * len(row_labels) + 1.8))
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


def plot_mean_std(groups: Mapping[str, Sequence[float]], ylabel: str, title: str,
                  reference: Mapping[str, float] | None = None, ax=None):
    """One bar per group at the mean of its values, with a ±1 std error bar and every value as a dot.

    `reference` draws horizontal dashed lines (e.g. the teacher's result) to compare against.
    """
    ax = _axes(ax)
    names = list(groups)
    for i, name in enumerate(names):
        v = np.asarray(groups[name], dtype=float)
        ax.bar(i, v.mean(), yerr=v.std(ddof=1) if len(v) > 1 else 0, capsize=6, alpha=0.7, color=f"C{i}")
        ax.scatter(np.full(len(v), i), v, color="black", zorder=3, s=14)
    for k, (name, value) in enumerate((reference or {}).items()):
        ax.axhline(value, linestyle="--", color=f"C{len(names) + k}", label=name)
    ax.set_xticks(range(len(names)), names)
    ax.set(ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    if reference:
        ax.legend()
    return ax


def plot_lines(x: Sequence[float], series: Mapping[str, Sequence[float]], xlabel: str, ylabel: str,
               title: str, vline: float | None = None, vline_label: str = "", ax=None):
    """Several y-series over the same x, with an optional vertical marker line."""
    ax = _axes(ax)
    for name, ys in series.items():
        ax.plot(x, ys, marker="o", label=name)
    if vline is not None:
        ax.axvline(vline, linestyle="--", color="grey", label=vline_label or None)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


# ================================================================================================
# Notebook 01 (pretraining objectives): attention masks, the masking rule, pretraining curves
# ================================================================================================
def plot_attention_patterns(tokens: Sequence[str], patterns: Mapping[str, object], title: str | None = None):
    """Side-by-side images of attention masks [query, key]: dark = may attend, light = blocked."""
    fig, axes = plt.subplots(1, len(patterns), figsize=(5.2 * len(patterns), 5.0), squeeze=False)
    for ax, (name, m) in zip(axes[0], patterns.items()):
        ax.imshow(np.asarray(m, dtype=float), cmap="Blues", vmin=-0.15, vmax=1.0)
        ax.set_xticks(range(len(tokens)), tokens, rotation=90, fontsize=8)
        ax.set_yticks(range(len(tokens)), tokens, fontsize=8)
        ax.set(title=name, xlabel="key: the token being looked at", ylabel="query: the token doing the looking")
    fig.suptitle(title or "Who may attend to whom (dark = allowed)")
    fig.tight_layout()
    return axes[0]


MASKING_COLORS = {"special / padding": "#d9d9d9", "not selected": "#ffffff", "[MASK] (80 %)": "#e6550d",
                  "random token (10 %)": "#756bb1", "kept unchanged (10 %)": "#31a354"}


def plot_masking(rows_tokens: Sequence[Sequence[str]], rows_kinds: Sequence[Sequence[int]], title: str | None = None):
    """A few sequences after masking, one row each, every cell coloured by what happened to it.

    rows_kinds uses the indices of MASKING_COLORS: 0 special/padding, 1 not selected, 2 [MASK],
    3 random token, 4 kept unchanged. Each cell shows the token the model receives.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    kinds = np.asarray(rows_kinds)
    n_rows, n_cols = kinds.shape
    fig, ax = plt.subplots(figsize=(min(0.62 * n_cols + 1, 20), 0.55 * n_rows + 1.6))
    ax.imshow(kinds, cmap=ListedColormap(list(MASKING_COLORS.values())), vmin=-0.5,
              vmax=len(MASKING_COLORS) - 0.5, aspect="auto")
    for i, row in enumerate(rows_tokens):
        for j, t in enumerate(row):
            ax.text(j, i, t[:8], ha="center", va="center", fontsize=6.5,
                    color="white" if kinds[i, j] in (2, 3, 4) else "black")
    ax.set_xticks(np.arange(-0.5, n_cols), minor=True)
    ax.set_yticks(np.arange(-0.5, n_rows), minor=True)
    ax.grid(which="minor", color="#999999", linewidth=0.4)
    ax.tick_params(which="minor", length=0)
    ax.set_yticks(range(n_rows), [f"sequence {i}" for i in range(n_rows)])
    ax.set(xlabel="position in the block", title=title or "What the MLM model receives (colour = what masking did)")
    ax.legend(handles=[Patch(facecolor=c, edgecolor="grey", label=k) for k, c in MASKING_COLORS.items()],
              loc="upper center", bbox_to_anchor=(0.5, -0.18 - 0.02 * (8 - min(n_rows, 8))), ncol=5, fontsize=8)
    fig.tight_layout()
    return ax


def plot_observed_vs_expected(names: Sequence[str], observed: Sequence[float], expected: Sequence[float],
                              ylabel: str, title: str, ax=None):
    """Pairs of bars: a measured fraction next to the value the rule predicts, both labelled."""
    ax = _axes(ax, figsize=(7, 4))
    x = np.arange(len(names))
    for offset, values, label, color in ((-0.2, observed, "observed", "C0"), (0.2, expected, "expected", "C7")):
        bars = ax.bar(x + offset, values, width=0.4, label=label, color=color)
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xticks(x, names)
    ax.set(ylabel=ylabel, title=title, ylim=(0, max(max(observed), max(expected)) * 1.18))
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_pretraining_curves(histories: Mapping[str, dict], vocab_size: int | None = None, smooth: int = 20,
                            title: str | None = None):
    """Left: training loss per step (faint) and its moving average; right: held-out perplexity (log scale).

    `histories` maps a name to a history from kd.train_mlm / kd.train_clm / kd.train_mlm_head.
    With `vocab_size`, a dashed line marks the perplexity of a uniform guess over the vocabulary.
    """
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2))
    for i, (name, h) in enumerate(histories.items()):
        loss = np.asarray(h["loss"], dtype=float)
        smooth = max(1, min(smooth, len(loss) // 5))
        left.plot(h["step"], loss, color=f"C{i}", alpha=0.25, linewidth=0.8)
        if len(loss) >= smooth:
            avg = np.convolve(loss, np.ones(smooth) / smooth, mode="valid")
            left.plot(np.asarray(h["step"])[smooth - 1:], avg, color=f"C{i}", label=f"{name} (moving average)")
        if h.get("eval_step"):
            right.plot(h["eval_step"], np.exp(h["eval_loss"]), marker="o", color=f"C{i}", label=name)
    if vocab_size:
        right.axhline(vocab_size, linestyle="--", color="grey", label=f"uniform guess ({vocab_size:,} tokens)")
    left.set(xlabel="training step", ylabel="training loss (nats per predicted token)", title="Training loss")
    right.set(xlabel="training step", ylabel="held-out perplexity (log scale)", yscale="log",
              title="Held-out perplexity")
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title or "Pretraining from scratch")
    fig.tight_layout()
    return left, right


def plot_grouped_bars(groups: Sequence[str], series: Mapping[str, Sequence[float]], ylabel: str, title: str,
                      log: bool = False, fmt: str = "%.2f", ax=None):
    """Grouped bars: one group per entry of `groups`, one bar per series, each bar labelled."""
    ax = _axes(ax, figsize=(max(6, 1.6 * len(groups) * max(1, len(series) / 2)), 4.2))
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


def plot_token_surprisal(tokens: Sequence[str], nll: Sequence[float], title: str, ax=None):
    """One bar per predicted token: -log P(token | the tokens before it), in nats. Tall = surprising."""
    ax = _axes(ax, figsize=(max(6, 0.5 * len(tokens)), 3.8))
    ax.bar(range(len(tokens)), nll, color="C1")
    ax.set_xticks(range(len(tokens)), tokens, rotation=60, ha="right", fontsize=9)
    ax.set(ylabel="-log P(token | prefix) (nats)", xlabel="predicted token", title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.figure.tight_layout()
    return ax


# --- notebook 02 (fine-tuning): token lengths and learning curves ---------------------------------

def plot_length_histogram(lengths, max_length: int, title: str = "Snippet length in tokens",
                          ax=None):
    """A histogram of token counts with `max_length` as a dashed line; the legend says what share of
    the texts is longer (and so gets truncated)."""
    lengths = np.asarray(lengths)
    ax = _axes(ax, figsize=(7, 3.8))
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


# ================================================================================================
# Notebook 04 (BERT -> DistilBERT): accuracy against latency
# ================================================================================================
def plot_accuracy_vs_latency(rows: Sequence[Mapping], latency_key: str = "p50@32 ms", title: str | None = None,
                             zoom_points: float = 10.0):
    """Every model as a point: CPU latency (x) against test accuracy (y), with ±1 std over seeds.

    `rows` are kdcourse.model_row dicts, the teacher first. Up and to the left is better: as accurate,
    less waiting. The right panel zooms on the models within `zoom_points` of the teacher, where
    students of the same architecture (same latency) would otherwise hide each other.
    """
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    best = rows[0]["test acc %"]
    span = max(r[latency_key] for r in rows)
    for k, ax in enumerate(axes):
        shown = [r for r in rows if k == 0 or r["test acc %"] >= best - zoom_points]
        for i, r in enumerate(rows):
            if r not in shown:
                continue
            std = r.get("± std")
            std = 0.0 if std is None or np.isnan(std) else std
            x = r[latency_key]
            if k == 1:  # spread models of identical latency sideways, so none hides another
                same = [q for q in shown if q[latency_key] == x]
                x += (same.index(r) - (len(same) - 1) / 2) * 0.015 * span
            ax.errorbar(x, r["test acc %"], yerr=std, fmt="*" if i == 0 else "o",
                        markersize=14 if i == 0 else 8, capsize=4, color=f"C{i}", label=r["model"], alpha=0.85)
        ax.set(xlabel=f"CPU latency, {latency_key.replace(' ms', '').replace('@', ' at batch ')} "
                      f"(ms, lower is better)", ylabel="test accuracy (%)")
        ax.grid(alpha=0.3)
    axes[0].set_title("all models")
    axes[1].set_title(f"zoom: within {zoom_points:g} points of the teacher (equal latencies spread sideways)",
                      fontsize=10)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title or "Accuracy against CPU latency")
    fig.tight_layout()
    return axes


def plot_general_distillation(history: Mapping, window: int = 5, title: str | None = None):
    """The three terms of DistilBERT's triple loss per step, one panel each (their scales differ),
    as a `window`-step moving average."""
    terms = {"soft": "L_ce: soft targets (T² KL)", "mlm": "L_mlm: cross-entropy", "cos": "L_cos: 1 − cosine"}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for i, (ax, (key, name)) in enumerate(zip(axes, terms.items())):
        v = np.asarray(history[key], dtype=float)
        w = min(window, len(v))
        smooth = np.convolve(v, np.ones(w) / w, mode="valid")
        ax.plot(np.arange(len(v)) + 1, v, color=f"C{i}", alpha=0.25, linewidth=1)
        ax.plot(np.arange(len(smooth)) + w, smooth, color=f"C{i}", linewidth=2)
        ax.set(title=name, xlabel="step", ylabel="loss (unweighted)")
        ax.grid(alpha=0.3)
    fig.suptitle(title or f"General distillation: the three loss terms (thin: per step; thick: {window}-step mean)")
    fig.tight_layout()
    return axes
