"""The same experiment over several seeds, summarised: each number's mean and its seed-to-seed spread.

One run is one draw: the standard deviation over seeds says how far another seed may move a number.
Used by every seed table of the course (notebooks 02, 03, 04 and 06).
"""
from __future__ import annotations

import numpy as np


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of one number over seeds; the std is nan for a single run,
    whose spread is unknown."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else float("nan")


def seed_table(runs, by: str, columns: dict[str, str | None]):
    """One row per group of `runs` (a DataFrame, one row per run; `by` names the group), in the order the
    groups first appear: the number of seeds, then each column's mean over them, followed by its standard
    deviation under the name `columns[column]` (None: the mean alone)."""
    import pandas as pd

    rows = []
    for name, group in runs.groupby(by, sort=False):
        row = {by: name, "seeds": len(group)}
        for column, spread in columns.items():
            mean, std = mean_std(group[column])
            row[column] = mean
            if spread is not None:
                row[spread] = std
        rows.append(row)
    return pd.DataFrame(rows).set_index(by)
