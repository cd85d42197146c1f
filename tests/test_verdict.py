"""The course's one verdict rule (kd.measure.verdict), checked against an independent computation on a worked
example, against simulated experiments whose true difference is known, and on the cases a notebook meets."""
import math

import numpy as np
import pytest

import kdcourse as kd
from kdcourse.measure import share_of_gap, verdict


def flat(text):
    """A verdict's text on one line: it is wrapped for stored outputs."""
    return " ".join(str(text).split())


def _t_quantile(p, df):
    """Student's t quantile by integrating its density and bisecting: independent of scipy.stats.t.ppf."""
    def cdf(x):
        grid = np.linspace(0, x, 20001)
        dens = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2)) * (1 + grid**2 / df) ** (-(df + 1) / 2)
        return 0.5 + np.trapezoid(dens, grid)
    lo, hi = 0.0, 50.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < p else (lo, mid)
    return (lo + hi) / 2


def test_a_worked_example_by_hand():
    # 3 seeds x 4 examples of losses; b is lower (better) than a
    a = np.array([[2.0, 3.0, 1.0, 4.0], [2.2, 3.1, 1.1, 4.4], [1.9, 2.7, 0.9, 4.1]])
    d = np.array([[-0.3, -0.1, -0.2, -0.4], [-0.1, -0.3, 0.0, -0.2], [-0.2, -0.2, -0.1, -0.3]])
    v = verdict(a, a + d, names=("plain", "distilled"), unit="nats", higher_is_better=False)
    seed_means = [-0.25, -0.15, -0.2]  # by hand
    example_means = [-0.2, -0.2, -0.1, -0.3]
    seed_var = np.var(seed_means, ddof=1) / 3  # 0.0025 / 3
    example_var = np.var(example_means, ddof=1) / 4  # (0.02 / 3) / 4
    df = (seed_var + example_var) ** 2 / (seed_var**2 / 2 + example_var**2 / 3)
    half = _t_quantile(0.975, df) * math.sqrt(seed_var + example_var)
    assert v.mean == pytest.approx(-0.2)
    assert v.seed_se == pytest.approx(math.sqrt(seed_var)) and v.example_se == pytest.approx(math.sqrt(example_var))
    assert v.df == pytest.approx(df)
    assert (v.low, v.high) == pytest.approx((-0.2 - half, -0.2 + half), abs=1e-4)
    assert v.word == "better" and "distilled is better than plain" in flat(v)
    assert "[-0.3" in flat(v) and "t with" in flat(v)


def test_the_interval_covers_the_true_difference_95_times_in_100():
    # simulated experiments: 3 seeds, 200 examples; the seeds' noise larger than the examples' (06's case)
    rng = np.random.default_rng(0)
    covered = naive = 0
    for _ in range(1000):
        example = rng.normal(0, 0.5, 200)
        d = 0.3 + rng.normal(0, 0.2, (3, 1)) + example + rng.normal(0, 0.5, (3, 200))
        v = verdict(np.zeros_like(d), d)
        covered += v.low <= 0.3 <= v.high
        se = math.hypot(v.seed_se, v.example_se)
        naive += abs(v.mean - 0.3) <= 2 * se  # mean +- 2 standard errors, the old rule of thumb
    assert 0.93 <= covered / 1000 <= 0.995
    assert naive / 1000 < covered / 1000 - 0.05  # with 3 seeds, 2 standard errors cover too little


def test_groups_are_resampled_not_their_members():
    # 4 texts of 50 blocks each: each text moves all of its blocks together; blocks alone would look far surer
    rng = np.random.default_rng(1)
    per_text = np.repeat(rng.normal(0, 1, 4), 50)
    d = 0.5 + per_text + rng.normal(0, 0.01, (3, 200))
    names = [f"speech {i}" for i in np.repeat(np.arange(4), 50)]
    blocks, texts = verdict(np.zeros_like(d), d), verdict(np.zeros_like(d), d, groups=names)
    assert texts.examples == 4 and texts.counted == "groups"
    assert texts.high - texts.low > 5 * (blocks.high - blocks.low)
    with pytest.raises(ValueError, match="one group"):
        verdict(np.zeros_like(d), d, groups=["one"] * 200)


def test_one_seed_gets_no_verdict_unless_seed_noise_is_borrowed():
    rng = np.random.default_rng(2)
    a, b = rng.normal(5, 1, (3, 100)), rng.normal(4, 1, (3, 100))
    three = verdict(a, b, names=("plain", "distilled"), higher_is_better=False)
    one = verdict(a[:1], b[:1], higher_is_better=False)
    assert one.word == "one seed" and "one run is not enough" in flat(one) and not one.clear
    borrowed = verdict(a[:1], b[:1], higher_is_better=False, seed_noise_from=three)
    assert borrowed.seed_se == pytest.approx(three.seed_se * math.sqrt(3)) and borrowed.df < 100
    assert "borrowed from distilled - plain (3 seeds)" in flat(borrowed)


def test_a_single_teacher_run_is_compared_with_every_seed_and_said_so():
    rng = np.random.default_rng(3)
    alone = (rng.random((3, 500)) < 0.8).astype(float)
    teacher = (rng.random(500) < 0.95).astype(float)
    v = verdict(alone, teacher, names=("alone", "teacher"), scale=100, unit="points")
    assert v.seeds == 3 and v.word == "better" and "teacher: one run, its own seed noise not counted" in flat(v)
    with pytest.raises(ValueError, match="same test examples"):
        verdict(alone, teacher[:10])
    with pytest.raises(ValueError, match="pair seed s"):
        verdict(alone, alone[:2])


def test_share_of_gap_only_where_there_is_a_gap():
    rng = np.random.default_rng(4)
    alone = rng.normal(3.0, 0.3, (3, 300))
    teacher = alone[0] - 1.0 + rng.normal(0, 0.05, 300)
    distilled = alone - 0.5 + rng.normal(0, 0.05, (3, 300))  # half of the teacher's lead, by construction
    text = flat(share_of_gap(alone, distilled, teacher, higher_is_better=False))
    low, high = (float(x.split(" %")[0]) for x in text.split("interval ")[1].split(" to "))
    assert "of the gap between the student alone and the teacher" in text
    assert low < 50 < high and high - low < 20
    share = share_of_gap(alone, distilled, teacher, higher_is_better=False)  # the same numbers, for a table or plot
    assert (round(100 * share.low), round(100 * share.high)) == (round(low), round(high)) and share.low < share.share < share.high
    # a teacher worse than the student alone: a worse distilled student must not read as a gap closed
    worse = share_of_gap(alone, alone + 0.95, alone[0] + 1.0, higher_is_better=False)
    assert worse.startswith("No share of the gap is printed") and "the teacher is worse than the student alone" in flat(worse)
    assert worse.share is None and worse.low is None


def test_the_share_and_the_verdicts_never_disagree():
    """Fieller's interval of the share excludes 0 exactly when the distilled student is better than the student
    alone by the verdict, and 100 % exactly when the teacher is better than the distilled student."""
    rng = np.random.default_rng(7)
    for case in range(40):
        right = lambda p, shape: (rng.random(shape) < p).astype(float)  # noqa: E731  right/wrong per example
        alone = right(0.80, (3, 2000))
        teacher = right(0.88, 2000)
        distilled = right(0.80 + rng.uniform(-0.01, 0.10), (3, 2000))
        text = flat(share_of_gap(alone, distilled, teacher, scale=100))
        if text.startswith("No share"):
            continue
        low, high = (float(x.split(" %")[0]) for x in text.split("interval ")[1].split(" to "))
        helped = verdict(alone, distilled, scale=100).word == "better"
        behind = verdict(distilled, teacher, scale=100).word == "better"
        assert (low > 0) == helped and (high < 100) == behind, (case, text)
        assert low <= float(text.split("closed ")[1].split(" %")[0]) <= high


def test_the_classifier_front_door_uses_the_same_rule():
    labels = np.array([0, 1] * 100)
    runs = {("full", s): np.where(np.arange(200) % 10 == s, 1 - labels, labels) for s in range(3)}
    runs |= {("scratch", s): np.where(np.arange(200) % 3 == 0, 1 - labels, labels) for s in range(3)}
    v = kd.classify.way_verdict(runs, labels, "full", "scratch")
    assert isinstance(v, kd.measure.Verdict) and v.word == "better"
    # full is wrong on 20 of 200 snippets at every seed, scratch on 67: 23.5 points, with no seed spread
    assert v.mean == pytest.approx(100 * (67 - 20) / 200)


def test_a_quantity_without_a_better_direction_reads_higher_or_lower():
    rng = np.random.default_rng(5)
    a = rng.normal(6.0, 0.3, (3, 100))
    v = verdict(a, a - 0.5, names=("forward KL's entropy", "reverse KL's entropy"), unit="nats", higher_is_better=None)
    assert v.word == "lower" and v.clear and "reverse KL's entropy is lower than forward KL's entropy" in flat(v)
    assert verdict(a, a + 0.5, higher_is_better=None).word == "higher"


def test_a_verdict_prints_in_lines_a_page_shows_whole():
    rng = np.random.default_rng(6)
    v = verdict(rng.normal(5, 1, (3, 300)), rng.normal(4.9, 1, (3, 300)), names=("a long name " * 3, "another " * 4),
                unit="nats per token", higher_is_better=False, groups=[str(i % 7) for i in range(300)])
    assert all(len(line) <= 110 for line in str(v).splitlines()) and len(str(v).splitlines()) > 1


def test_a_verdict_row_holds_what_its_sentence_says():
    a = np.array([[1, 0, 1, 1, 0, 1], [1, 1, 0, 1, 0, 1], [0, 1, 1, 1, 0, 1]])
    b = np.ones_like(a)
    v = verdict(a, b, names=("alone", "distilled"), unit="points", scale=100)
    row = v.row()
    assert list(row) == ["distilled - alone (points)", "95 % interval", "verdict"]
    assert row["distilled - alone (points)"] == f"{v.mean:+.2f}" and row["verdict"] == v.word
    assert row["95 % interval"] == f"[{v.low:+.2f}, {v.high:+.2f}]" and row["95 % interval"] in flat(v)
    single = verdict(a[:1], b[:1], names=("alone", "distilled"))
    assert single.row() == {"distilled - alone": f"{single.mean:+.2f}", "95 % interval": "", "verdict": "one seed"}


def test_the_verdict_plot_draws_each_interval_and_fills_only_clear_ones():
    import matplotlib

    matplotlib.use("Agg")
    import kdcourse as kd

    a = np.zeros((3, 400))
    clear, even = a.copy(), a.copy()
    clear[:, :100] = 1
    even[0, :8], even[1, 8:12], even[2, 12:20] = 1, 1, 1
    a[1, 20:28] = 1
    vs = {"clear win": verdict(a, clear, scale=100), "noise": verdict(a, even, scale=100)}
    ax = kd.plots.plot_verdicts(vs, xlabel="points", title="verdicts")
    intervals = [line for line in ax.lines if len(line.get_xdata()) == 2 and line.get_xdata()[0] != line.get_xdata()[1]]
    assert [tuple(np.round(line.get_xdata(), 6)) for line in intervals] == [
        (round(v.low, 6), round(v.high, 6)) for v in vs.values()]
    markers = [line for line in ax.lines if line.get_marker() == "o"]
    assert [m.get_fillstyle() for m in markers] == ["full", "none"]
    assert [m.get_ydata()[0] for m in markers] == [1, 0]  # the first comparison on top
    assert [t.get_text() for t in ax.get_yticklabels()] == ["noise", "clear win"]
    assert ax.get_title() == "verdicts" and ax.get_xlabel() == "points"
