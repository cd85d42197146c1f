"""Demonstrating a mistake: the block must raise the error it shows. Used by notebooks 02, 04 and 05.

A notebook that shows an error with a bare `try/except` passes silently the day the error stops happening
(a library fixes it, a helper starts refusing it earlier), and its prose then describes something that no
longer occurs. `expect_error` fails loudly instead, and keeps the caught error so that what the notebook
prints and concludes comes from it, not from typed text.
"""
from __future__ import annotations

import contextlib
import textwrap
from dataclasses import dataclass


@dataclass
class Caught:
    """What `expect_error` caught: the exception, once the block has run."""
    error: BaseException | None = None

    def report(self, prefix: str, width: int = 116) -> str:
        """`prefix` and the error's message, wrapped at `width` characters so that a stored output reads
        without scrolling (GitHub, the course website)."""
        return textwrap.fill(f"{prefix} {self.error}", width=width, subsequent_indent="    ")


@contextlib.contextmanager
def expect_error(kind: type[BaseException] | tuple[type[BaseException], ...]):
    """Run a block that must raise `kind`; the error is kept in `.error` of the yielded `Caught`.

    No error at all is an AssertionError naming the error that was expected; an error of another kind is
    not caught (the demonstration broke in another way, and says so itself)."""
    caught = Caught()
    try:
        yield caught
    except kind as error:
        caught.error = error
        return
    names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
    raise AssertionError(f"The demonstration expected a {names}, and nothing was raised: the mistake it shows "
                         f"no longer fails here. Update the cell and its prose.")
