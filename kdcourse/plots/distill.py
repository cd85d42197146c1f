"""Figures of notebook 04 (BERT -> DistilBERT): accuracy against latency, general-distillation losses, the
few-label and pool curves; and of notebook 07 (storing a teacher): what each store keeps, the share of the gain kept.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from ..measure.seeds import mean_std
from .common import new_axes


def plot_accuracy_vs_latency(rows: Sequence[Mapping], latency_key: str = "p50@32 ms", title: str | None = None,
                             zoom_points: float = 10.0):
    """Every model as a point: CPU latency (x) against test accuracy (y), with ±1 std over seeds.

    `rows` are kd.measure.model_row dicts, the teacher first. Up and to the left is better: as accurate,
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


def plot_few_labels(sizes: Sequence[int], curves: Mapping[str, Sequence[Sequence[float]]], title: str | None = None,
                    all_label: str | None = "all", unit: str = "snippets", ax=None):
    """Test accuracy against the number of labelled examples N (log scale), one line per model, each point
    the mean over seeds with ±1 std (a single value: no bar). `curves[name][i]` holds the accuracies (%) at
    `sizes[i]`. The last size is labelled `all_label` on the axis when it is the whole training set (None:
    it is not); `unit` names the examples on the axis (snippets, images)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 4.5))
    for i, (name, points) in enumerate(curves.items()):
        means = [mean_std(p)[0] for p in points]
        stds = [mean_std(p)[1] if len(p) > 1 else 0.0 for p in points]
        ax.errorbar(sizes, means, yerr=stds, marker="*" if i == 0 else "o", markersize=12 if i == 0 else 7,
                    capsize=4, linewidth=2, color=f"C{i}", label=name, alpha=0.9)
    ax.set_xscale("log")
    ax.set_xticks(list(sizes))
    last = f"{sizes[-1]:,}" + (f"\n({all_label})" if all_label else "")
    ax.set_xticklabels([f"{n:,}" for n in sizes[:-1]] + [last])
    ax.minorticks_off()
    ax.set(xlabel=f"labelled training {unit} N (log scale)", ylabel="test accuracy (%)",
           title=title or "Accuracy against the number of labels")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return ax


def plot_pool_curve(pools: Sequence[int], n_labels: int, alone: Sequence[Sequence[float]],
                    distilled: Sequence[Sequence[float]], verdicts: Sequence, teacher: float | None = None,
                    title: str | None = None):
    """Two panels against the pool size (log scale), N labels in every pool: left, the test accuracy (%) of the
    student alone (as many steps as the distilled one at that pool) and of the distilled student, mean ±1 std
    over seeds, and the teacher's as a line; right, what distillation added (distilled minus alone, points)
    with its 95 % interval from `kd.measure.verdict` (a filled marker: beyond the noise)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    ticks = [f"{p:,}\n({(p - n_labels) / n_labels:.1f} per label)" for p in pools]
    for i, (name, points) in enumerate({"student alone (the same steps)": alone,
                                        "student distilled on the pool": distilled}.items()):
        means, stds = zip(*(mean_std(p) if len(p) > 1 else (mean_std(p)[0], 0.0) for p in points))
        left.errorbar(pools, means, yerr=stds, marker="o", capsize=4, linewidth=2, color=f"C{i + 1}", label=name)
    if teacher is not None:
        left.axhline(teacher, color="C0", linestyle="--", label=f"teacher on the {n_labels:,} labels")
    left.set(ylabel="test accuracy (%)", title=f"Students with {n_labels:,} labels (±1 std over seeds)")
    gains = np.array([v.mean for v in verdicts])
    low, high = np.array([v.low for v in verdicts]), np.array([v.high for v in verdicts])
    right.errorbar(pools, gains, yerr=[gains - low, high - gains], color="C2", linewidth=1, linestyle=":", capsize=5,
                   elinewidth=2, marker="none")
    for p, g, v in zip(pools, gains, verdicts):
        right.plot([p], [g], marker="o", markersize=9, color="C2", fillstyle="full" if v.clear else "none")
    right.axhline(0.0, color="grey", linewidth=1)
    right.set(ylabel="distilled minus alone (accuracy points)",
              title="What the unlabelled pool added (95 % interval; filled: beyond the noise)")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xticks(list(pools))
        ax.set_xticklabels(ticks)
        ax.minorticks_off()
        ax.set_xlabel("training snippets in the pool (unlabelled per label), log scale")
        ax.grid(alpha=0.3)
    left.legend(loc="lower right")
    fig.suptitle(title or "How much unlabelled text the soft labels need")
    fig.tight_layout()
    return fig, (left, right)


SCHEME_COLORS = {"top-k + tail": "C0", "top-k renormalised": "C1", "sampled": "C2"}  # one colour per store, every plot


def plot_store_report(rows: Sequence[Mapping], title: str | None = None):
    """Notebook 07, before any training: what each store of the teacher keeps as its size grows. Three panels
    over the bytes a store takes per position (log scale), one line per scheme: the teacher's probability on the
    stored tokens, the KL of the stored target from the teacher, and how much more probability the target puts on
    the teacher's most likely token than the teacher does (above 0: more confident than the teacher).

    `rows`: dicts with "scheme", "k", "bytes", "kept", "kl" and "top1_excess" (kd.distill.store_report's keys)."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    panels = (("kept", "teacher's probability on the stored tokens (%)", 100),
              ("kl", "KL(stored target || teacher) (nats per position)", 1),
              ("top1_excess", "target minus teacher, top token (probability points)", 100))
    # where two lines coincide (the two top-k stores keep the same tokens; top-k + tail and sampled are both
    # unbiased), only one of them writes its k beside its points
    quiet = {("kept", "top-k renormalised"), ("top1_excess", "top-k + tail")}
    for ax, (key, label, scale) in zip(axes, panels):
        for scheme in dict.fromkeys(r["scheme"] for r in rows):
            if key == "kl" and scheme == "top-k + tail":
                continue  # 0 by construction (its buckets are the teacher's own masses): not a perfect store
            color = SCHEME_COLORS.get(scheme, "C3")
            mine = sorted((r for r in rows if r["scheme"] == scheme), key=lambda r: r["bytes"])
            ax.plot([r["bytes"] for r in mine], [scale * r[key] for r in mine], marker="o", color=color, label=scheme,
                    linestyle="--" if scheme == "top-k renormalised" else "-")  # dashed: visible where lines coincide
            if (key, scheme) in quiet:
                continue
            for r in mine[:: max(1, len(mine) // 4)]:  # a few k written beside their points
                ax.annotate(f"k={r['k']}", (r["bytes"], scale * r[key]), fontsize=7, color=color, textcoords="offset points",
                            xytext=(3, -10) if scheme == "sampled" else (3, 4))
        ax.axhline(0, color="grey", linewidth=0.8)
        ax.set_xscale("log")
        ax.set(xlabel="bytes per position (log scale)", ylabel=label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_title("probability kept")
    axes[1].set_title("distance from the teacher (top-k + tail: 0 by construction)", fontsize=10)
    axes[2].set_title("bias: more confident than the teacher?")
    axes[0].legend(fontsize=9)
    fig.suptitle(title or "What a store of the teacher keeps, before any training")
    fig.tight_layout()
    return axes


def plot_kept_share(rows: Sequence[Mapping], title: str | None = None, ax=None):
    """Notebook 07, after training: the share of the full logits' gain each store's students kept (in %, with
    its 95 % interval), against the store's size in MB (log scale), one colour per scheme. 100 % is the full
    logits, 0 % the plain next-token loss (dashed lines).

    `rows`: dicts with "scheme", "k", "MB", "share", "low" and "high" (shares as fractions; an unbounded end of
    an interval is drawn to the edge of the plot)."""
    ax = new_axes(ax, figsize=(7.5, 4.6))
    for i, scheme in enumerate(dict.fromkeys(r["scheme"] for r in rows)):
        color = SCHEME_COLORS.get(scheme, "C3")  # the colours of plot_store_report
        mine = sorted((r for r in rows if r["scheme"] == scheme), key=lambda r: r["MB"])
        x = np.array([r["MB"] for r in mine]) * (1 + 0.04 * (i - 0.5))  # the schemes side by side
        y = np.clip([100 * r["share"] for r in mine], -100.0, 200.0)  # the plot's range; the text prints the rest
        low = np.array([100 * max(r["low"], -1.0) for r in mine])
        high = np.array([100 * min(r["high"], 2.0) for r in mine])
        ax.errorbar(x, y, yerr=[y - low, high - y], fmt="o-", capsize=5, color=color, label=scheme)
        for r, xi, yi in zip(mine, x, y):
            ax.annotate(f"k={r['k']}", (xi, yi), fontsize=8, xytext=(5, -12), textcoords="offset points", color=color)
    for level, name in ((100, "full logits"), (0, "plain next-token loss")):
        ax.axhline(level, linestyle="--", color="grey")
        ax.annotate(name, (0.01, level), xycoords=("axes fraction", "data"), fontsize=8, xytext=(0, 3),
                    textcoords="offset points", color="grey")
    ax.set_xscale("log")
    ax.set(xlabel="store size for the training blocks (MB, log scale)",
           ylabel="share of the full logits' gain kept (%)",
           title=title or "How much of the full-logit gain each store keeps (95 % intervals)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)
    ax.figure.tight_layout()
    return ax
