"""What every self-check shares: the `Check` result (a pass or a hint) and the small helpers that
handle a missing answer, a learner's function that raises, and comparing two numbers."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class Check:
    """The outcome of a self-check: printed as a pass or a hint."""
    passed: bool
    message: str

    def __repr__(self) -> str:
        return ("PASS: " if self.passed else "NOT YET: ") + self.message

    def __bool__(self) -> bool:
        return self.passed


def _not_attempted(answer) -> Check | None:
    if answer is None:
        return Check(False, "no answer yet: replace `None` with your answer and run the cell again.")
    return None


def _call(fn, *args):
    try:
        return fn(*args), None
    except Exception as e:  # the learner's code may fail in any way; report it as a hint
        return None, Check(False, f"your function raised {type(e).__name__}: {e}")


def _close(a, b, tol=1e-4) -> bool:
    try:  # a learner's answer may be anything: a string or a tensor of many numbers is simply not close
        a, b = (float(v.detach()) if torch.is_tensor(v) else float(v) for v in (a, b))
    except (TypeError, ValueError, RuntimeError):
        return False
    return abs(a - b) <= tol * max(1.0, abs(b))
