"""The course's one rule for "is this difference larger than the noise?", used by every verdict of
notebooks 02, 03, 04 and 06.

Two models are compared on the same test examples, run by run: seed s of one against seed s of the other
(the same batches), every example scored for both (right/wrong for a classifier, a loss in nats for a
language model). Their difference has two sources of noise, and both are counted:

- the seeds: another seed moves the whole difference (the spread of the per-seed mean differences);
- the examples: another test set would too (the spread of the per-example differences, averaged over the
  seeds). Examples that are not independent (blocks of one speech) are first averaged within their group,
  and the groups are what is resampled.

The two standard errors add in variance (a slight overcount: the seed-by-example noise is in both). With
few seeds the seed part is itself uncertain, so the interval uses Student's t with Welch-Satterthwaite
degrees of freedom: with 3 seeds and seed noise dominant, about 2 degrees of freedom and a bar 4.3
standard errors wide, not 2. A verdict is given only when the whole 95 % interval is on one side of zero.
"""
from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass

import numpy as np


@dataclass
class Verdict:
    """One comparison, `b` minus `a`, in `unit`, with its 95 % interval and the word it earns."""

    a: str
    b: str
    unit: str
    higher_is_better: bool | None  # None: neither direction is better (an entropy): "higher" or "lower"
    mean: float  # the mean difference b - a
    low: float  # the 95 % interval of the difference
    high: float
    seed_se: float  # standard error from the seeds (nan: one seed, unknown)
    example_se: float  # standard error from the examples (or groups of examples)
    df: float  # Welch-Satterthwaite degrees of freedom of the combined standard error
    seeds: int
    examples: int  # examples, or groups of examples when `groups` was given
    note: str = ""
    counted: str = "examples"  # what `examples` counts: "examples", or "groups" of them
    fmt: str = "{:+.2f}"  # how the differences print

    @property
    def word(self) -> str:
        """'better' or 'worse' when the interval excludes zero ('b is better than a'; 'higher' or 'lower' for a
        quantity without a better direction), else 'noise'; 'one seed' when the seed noise is unknown."""
        if math.isnan(self.low):
            return "one seed"
        if self.low > 0 or self.high < 0:
            if self.higher_is_better is None:
                return "higher" if self.low > 0 else "lower"
            return "better" if (self.low > 0) == self.higher_is_better else "worse"
        return "noise"

    @property
    def clear(self) -> bool:
        """True when b is better or worse than a beyond the noise."""
        return self.word not in ("noise", "one seed")

    def row(self) -> dict:
        """The comparison as one row of a table of verdicts: difference, 95 % interval, verdict word."""
        f = self.fmt.format
        interval = "" if math.isnan(self.low) else f"[{f(self.low)}, {f(self.high)}]"
        return {f"{self.b} - {self.a} ({self.unit})".replace(" ()", ""): f(self.mean), "95 % interval": interval,
                "verdict": self.word}

    def __str__(self) -> str:
        """The comparison, its interval and the verdict, as lines of at most 110 characters (a stored output
        reads without scrolling)."""
        return _wrap(self._sentence())

    def _sentence(self) -> str:
        f = self.fmt.format
        head = f"{self.b} - {self.a}: {f(self.mean)} {self.unit}"
        if self.word == "one seed":
            return (f"{head} (one seed: the seed-to-seed noise is unknown; examples alone give ±"
                    f"{f(1.96 * self.example_se)[1:]}). Verdict: none, one run is not enough{self.note}.")
        interval = f"95 % interval [{f(self.low)}, {f(self.high)}]"
        words = {"noise": "within the noise, no difference shown"} | {
            w: f"{self.b} is {w} than {self.a}, beyond the noise"
            for w in ("better", "worse", "higher", "lower")}
        return (f"{head}, {interval} ({self.seeds} seed(s), {self.examples:,} test {self.counted}; "
                f"standard errors: seeds {self.seed_se:.2g}, examples {self.example_se:.2g}; "
                f"t with {self.df:.1f} df){self.note}. Verdict: {words[self.word]}.")


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=110, subsequent_indent="    ", break_long_words=False, break_on_hyphens=False)


def _as_runs(scores, name: str) -> np.ndarray:
    """Scores as [runs, examples]: one run may be given as a flat list."""
    x = np.asarray(scores, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(f"{name}: pass one score per test example for each seed, [seeds, examples] (or "
                         f"[examples] for a single run), with at least 2 examples; got shape {x.shape}.")
    return x


def _by_group(d: np.ndarray, groups) -> np.ndarray:
    """The per-example differences averaged within each group (columns: groups, in first-seen order)."""
    names = list(dict.fromkeys(groups))
    if len(groups) != d.shape[1]:
        raise ValueError(f"groups names {len(groups)} examples, the scores hold {d.shape[1]}: one group per example.")
    if len(names) < 2:
        raise ValueError("All examples are in one group: the examples' noise cannot be estimated from one text.")
    labels = np.asarray([names.index(g) for g in groups])
    return np.stack([d[:, labels == i].mean(1) for i in range(len(names))], axis=1)


def _interval(d: np.ndarray, seed_var: float | None = None, seed_df: float | None = None):
    """Mean of d [seeds, examples], its two variances, Welch-Satterthwaite df and the 95 % interval."""
    from scipy import stats

    seeds, examples = d.shape
    mean = float(d.mean())
    if seed_var is None:
        seed_var = float(d.mean(1).var(ddof=1) / seeds) if seeds > 1 else float("nan")
        seed_df = seeds - 1
    example_var = float(d.mean(0).var(ddof=1) / examples)
    if math.isnan(seed_var):
        return mean, float("nan"), float("nan"), float("nan"), math.sqrt(example_var), float("nan")
    se = math.sqrt(seed_var + example_var)
    terms = (seed_var**2 / seed_df if seed_var > 0 else 0.0) + example_var**2 / (examples - 1)
    df = (seed_var + example_var) ** 2 / terms if terms > 0 else float("inf")
    half = float(stats.t.ppf(0.975, df)) * se
    return mean, mean - half, mean + half, math.sqrt(seed_var), math.sqrt(example_var), df


def verdict(a, b, *, names=("a", "b"), unit: str = "", higher_is_better: bool | None = True, scale: float = 1.0,
            groups=None, seed_noise_from: Verdict | None = None, fmt: str = "{:+.2f}") -> Verdict:
    """Is `b` better than `a` beyond the noise? `a`, `b`: per-example scores, [seeds, examples], seed s of both
    trained on the same batches, every example the same in both (right/wrong 0/1 with scale=100 for accuracy
    points, or per-block losses in nats with higher_is_better=False).

    One side may be a single run (a teacher): it is compared with every seed of the other, and its own seed
    noise is not counted (the result says so). `groups` (one name per example, e.g. the speech of each
    held-out block) makes the groups, not the examples, the units that are resampled. `seed_noise_from`
    borrows the seed-to-seed noise of another comparison for a single-seed one (stated in the result)."""
    a_runs, b_runs = _as_runs(a, names[0]), _as_runs(b, names[1])
    if a_runs.shape[1] != b_runs.shape[1]:
        raise ValueError(f"{names[0]} has {a_runs.shape[1]} examples, {names[1]} {b_runs.shape[1]}: score both on "
                         f"the same test examples.")
    note = ""
    if len(a_runs) != len(b_runs):
        if min(len(a_runs), len(b_runs)) != 1:
            raise ValueError(f"{names[0]} has {len(a_runs)} seeds, {names[1]} {len(b_runs)}: pair seed s with seed s.")
        single = names[0] if len(a_runs) == 1 else names[1]
        note = f"; {single}: one run, its own seed noise not counted"
    d = scale * (b_runs - a_runs)  # broadcasts a single run over the other's seeds
    if groups is not None:
        d = _by_group(d, list(groups))
    seed_var = seed_df = None
    if seed_noise_from is not None and len(d) == 1:
        seed_var, seed_df = seed_noise_from.seed_se**2 * seed_noise_from.seeds, seed_noise_from.seeds - 1
        note += f"; seed noise borrowed from {seed_noise_from.b} - {seed_noise_from.a} ({seed_noise_from.seeds} seeds)"
    mean, low, high, seed_se, example_se, df = _interval(d, seed_var, seed_df)
    return Verdict(names[0], names[1], unit, higher_is_better, mean, low, high, seed_se, example_se, df, len(d),
                   d.shape[1], note, "examples" if groups is None else "groups", fmt)


class Share(str):
    """What `share_of_gap` prints, with its numbers for a table or a plot: `share` and the interval's `low` and
    `high` (fractions: 1.0 is the whole gap; +-inf where the interval is unbounded), all None where no gap is shown.
    Read them from the returned object itself: a string method (`.upper()`, slicing) returns a plain str without them."""
    share = low = high = None


def share_of_gap(alone, distilled, teacher, *, names=("the student alone", "the distilled student", "the teacher"),
                 higher_is_better: bool = True, groups=None, unit: str = "", scale: float = 1.0,
                 fmt: str = "{:+.2f}") -> Share:
    """The share of the teacher's lead over the student alone that distillation closed,
    (distilled - alone) / (teacher - alone), with its 95 % interval; printed only where the teacher is better
    than the student alone beyond the noise (by `verdict`), else a sentence saying there is no gap to close,
    with that verdict.

    The interval comes from the same rule (Fieller's construction): it holds every share r for which
    (distilled - alone) - r * (teacher - alone) is within the noise of 0, judged like any difference. So it
    excludes 0 exactly when `verdict(alone, distilled)` finds the distilled student better, and 100 % exactly
    when it finds the teacher better than the distilled student: the share and the verdicts never disagree."""
    gap = verdict(alone, teacher, names=(names[0], names[2]), higher_is_better=higher_is_better, groups=groups,
                  unit=unit, scale=scale, fmt=fmt)
    if gap.word != "better":
        return Share(_wrap(f"No share of the gap is printed: no lead of {names[2]} over {names[0]} is shown beyond the noise. "
                     f"{gap._sentence()}"))
    a, d, t = _as_runs(alone, names[0]), _as_runs(distilled, names[1]), _as_runs(teacher, names[2])
    num, den = d - a, t - a
    if groups is not None:
        num, den = _by_group(num, list(groups)), _by_group(den, list(groups))
    ratio = float(num.mean() / den.mean())
    low, high = (_share_bound(num, den, ratio, side) for side in (-1, 1))
    shown = lambda r: f"{100 * r:.0f} %" if math.isfinite(r) else ("no lower bound" if r < 0 else "no upper bound")  # noqa: E731
    text = Share(_wrap(f"{names[1]} closed {100 * ratio:.0f} % of the gap between {names[0]} and {names[2]} "
                       f"(95 % interval {shown(low)} to {shown(high)})."))
    text.share, text.low, text.high = ratio, low, high
    return text


def _share_bound(num: np.ndarray, den: np.ndarray, ratio: float, side: int, limit: float = 100.0) -> float:
    """The end of Fieller's 95 % interval of num / den on `side` (-1 lower, +1 upper): where num - r * den stops
    being within the noise of 0 (by `_interval`), found by bisection; +-inf when it never does within `limit`."""
    def inside(r: float) -> bool:
        _, low, high, _, _, _ = _interval(num - r * den)
        return low <= 0 <= high

    near, far = ratio, ratio + side * 0.01
    while inside(far):  # step outwards until r is outside the interval
        near, far = far, ratio + 2 * (far - ratio)
        if abs(far - ratio) > limit:
            return side * math.inf
    for _ in range(50):
        mid = (near + far) / 2
        near, far = (mid, far) if inside(mid) else (near, mid)
    return (near + far) / 2
