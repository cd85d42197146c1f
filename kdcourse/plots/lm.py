"""Figures of notebook 01 (pretraining objectives): attention masks, what 80/10/10 masking did,
observed against expected counts, pretraining curves, per-token surprisal, real against shuffled word
order, masked-token accuracy side by side. Notebook 06: students' perplexity against size and speed,
next-token distributions of several models at one position.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .common import new_axes, plot_grouped_bars

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
    ax = new_axes(ax, figsize=(7, 4))
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

    `histories` maps a name to a history from kd.lm.train_mlm / kd.lm.train_clm / kd.lm.train_mlm_head.
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


def plot_token_surprisal(tokens: Sequence[str], nll: Sequence[float], title: str, ax=None):
    """One bar per predicted token: -log P(token | the tokens before it), in nats. Tall = surprising."""
    ax = new_axes(ax, figsize=(max(6, 0.5 * len(tokens)), 3.8))
    ax.bar(range(len(tokens)), nll, color="C1")
    ax.set_xticks(range(len(tokens)), tokens, rotation=60, ha="right", fontsize=9)
    ax.set(ylabel="-log P(token | prefix) (nats)", xlabel="predicted token", title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.figure.tight_layout()
    return ax


def plot_masking_counts(counts: Mapping[str, int], title: str | None = None):
    """The 80/10/10 rule checked: the fractions `kd.lm.masking_counts` measured, next to 0.15, 0.8, 0.1, 0.1.
    Taught in notebook 01, section 3."""
    sel = counts["selected"]
    return plot_observed_vs_expected(
        ["selected\n/ eligible", "[MASK]\n/ selected", "random\n/ selected", "kept\n/ selected"],
        [sel / counts["eligible"], counts["masked"] / sel, counts["random"] / sel, counts["kept"] / sel],
        [0.15, 0.8, 0.1, 0.1], ylabel="fraction",
        title=title or f"The 80/10/10 rule counted over {counts['eligible']:,} eligible tokens")


def plot_word_order(order: Mapping[str, Sequence[float]], title: str):
    """Perplexity of real sentences next to the same words shuffled (`kd.lm.word_order_test`), log scale.
    Taught in notebook 01, section 2."""
    return plot_grouped_bars([f"sentence {i + 1}" for i in range(len(order["real"]))],
                             {"real word order": order["real"], "same words, shuffled": order["shuffled"]},
                             ylabel="perplexity (log scale)", log=True, fmt="%.0f", title=title)


def plot_masked_accuracy(results: Mapping[str, dict], title: str):
    """Top-1 and top-5 accuracy on the same held-out masked tokens, one bar per model (name -> scores of
    `kd.lm.evaluate_mlm`). Taught in notebook 01, section 5."""
    _, ax = plt.subplots(figsize=(10, 4.2))
    plot_grouped_bars(["top-1 accuracy", "top-5 accuracy"],
                      {name: [100 * r["top1"], 100 * r["top5"]] for name, r in results.items()},
                      ylabel="% of held-out masked tokens recovered", fmt="%.1f", title=title, ax=ax)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # long names: beside the bars
    ax.figure.tight_layout()
    return ax


def plot_lm_students(rows: Sequence[Mapping], title: str | None = None):
    """Notebook 06's results: every model as a point, held-out perplexity (log scale, lower is better)
    against its parameters (left) and its CPU speed in tokens per second (right).

    `rows`: dicts with "model", "parameters", "tokens/s" and "perplexity", the teacher first; an optional
    "± perplexity" draws the seed-to-seed standard deviation as an error bar."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6))
    for ax, key, label in ((axes[0], "parameters", "parameters (millions)"),
                           (axes[1], "tokens/s", "CPU speed, one thread (tokens per second, higher is faster)")):
        xs = [r[key] / 1e6 if key == "parameters" else r[key] for r in rows]
        span = max(xs) - min(xs) or 1.0
        for i, (r, x) in enumerate(zip(rows, xs)):
            same = [j for j, other in enumerate(xs) if abs(other - x) < 0.02 * span]
            x = x + (same.index(i) - (len(same) - 1) / 2) * 0.015 * span  # equal sizes spread sideways
            std = r.get("± perplexity") or 0.0
            ax.errorbar(x, r["perplexity"], yerr=std, fmt="*" if i == 0 else "o", markersize=14 if i == 0 else 8,
                        capsize=4, color=f"C{i}", label=r["model"], alpha=0.85)
        ax.set_yscale("log")
        ax.set(xlabel=label, ylabel="held-out perplexity (log scale, lower is better)")
        ax.grid(alpha=0.3, which="both")
    axes[0].set_title("size")
    axes[1].set_title("speed (students of one architecture spread sideways)", fontsize=10)
    axes[0].legend(fontsize=8, loc="upper right")
    fig.suptitle(title or "Held-out perplexity against size and speed")
    fig.tight_layout()
    return axes


def plot_next_token_distributions(tokens: Sequence[str], probabilities: Mapping[str, Sequence[float]],
                                  context: str, title: str | None = None, ax=None):
    """One next-token distribution per model, as grouped bars over the same candidate tokens (the
    teacher's most likely ones, then "other" for the rest of the vocabulary): probability on the y axis."""
    ax = new_axes(ax, figsize=(max(8, 0.75 * len(tokens)), 4.4))
    width = 0.8 / len(probabilities)
    x = np.arange(len(tokens))
    for i, (name, p) in enumerate(probabilities.items()):
        ax.bar(x + (i - (len(probabilities) - 1) / 2) * width, p, width=width, label=name, color=f"C{i}")
    ax.set_xticks(x, [repr(t) for t in tokens], rotation=45, ha="right", fontsize=9)
    ax.set(xlabel=f"candidate next token after \u201c\u2026{context}\u201d", ylabel="probability of the next token",
           title=title or "Next-token distributions")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax
