"""Auto-checked exercises: one file per topic, and the feedback every checker returns.

* :mod:`~inception_lab.exercises.inception_module` -- the Inception module (chapter 1).
* :mod:`~inception_lab.exercises.googlenet` -- GoogLeNet and its auxiliary classifiers (chapter 2).
* :mod:`~inception_lab.exercises.batchnorm` -- batch normalization and BN-Inception (chapter 3).
* :mod:`~inception_lab.exercises.factorization` -- factorized convolutions and receptive fields (chapter 4).
* :mod:`~inception_lab.exercises.grid_reduction` -- grid-size reduction (chapter 5).
* :mod:`~inception_lab.exercises.inception_v3` -- Inception-v3 and the family (chapter 6).
* :mod:`~inception_lab.exercises.lab` -- the lab: budgets, knock-out maps, multi-seed findings (chapter 7).

Each checker computes the expected answer with the library (never a typed-in constant), returns a
:class:`Feedback` that renders as a green or red box in Jupyter and as plain text elsewhere, and recognises
common mistakes so a wrong answer gets a hint rather than just "wrong" (:func:`check_number`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Feedback:
    """Result of an exercise check: ``correct`` plus a message (a confirmation or a hint)."""

    correct: bool
    message: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        message = self.message[:1].upper() + self.message[1:]
        return ("Correct! " if self.correct else "Not yet. ") + message

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        colour, border = ("#e6f4ea", "#34a853") if self.correct else ("#fdecea", "#d93025")
        return (f'<div style="background:{colour};border-left:4px solid {border};padding:6px 10px;'
                f'color:#202124">{html.escape(str(self))}</div>')


def check_number(answer: Any, expected: float, *, what: str, hints: Mapping[float, str] | None = None,
                 rel_tol: float = 0.0, fallback: str = "Write the sum out branch by branch.") -> Feedback:
    """Compare a numeric answer with ``expected``; known wrong values map to specific hints.

    Args:
        hints: wrong answer -> the mistake that produces it, explained.
        rel_tol: relative tolerance (0 = exact).
        fallback: advice for a wrong answer that no known mistake explains.
    """
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return Feedback(False, f"{what} should be a number, got {answer!r} ({type(answer).__name__}).")
    if answer == expected or (rel_tol and abs(answer - expected) <= rel_tol * abs(expected)):
        return Feedback(True, f"{what} = {expected:,}.")
    for wrong, hint in (hints or {}).items():
        if answer == wrong or (rel_tol and abs(answer - wrong) <= rel_tol * abs(wrong)):
            return Feedback(False, hint)
    direction = "too large" if answer > expected else "too small"
    return Feedback(False, f"{answer:,} is {direction} for {what}. {fallback}")
