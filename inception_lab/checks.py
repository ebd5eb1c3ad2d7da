"""Argument checks shared by the whole library: one place for "what is allowed", one wording of the errors.

Pure Python (no torch, nothing else of ours), so the formula layer (:mod:`inception_lab.shapes`,
:mod:`inception_lab.cost`) can use it in a browser or a kernel without PyTorch. Every check returns the value it
accepted, so it reads as an assignment: ``self.grid = check_positive_int("grid", grid)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

IntPair = int | Sequence[int]
T = TypeVar("T")


def check_positive_int(name: str, value: Any) -> int:
    """Return ``value`` if it is an integer >= 1, else raise a ``ValueError`` that says what is allowed."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a positive integer, got {value!r} ({type(value).__name__}).")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer (>= 1), got {value}.")
    return value


def check_non_negative_int(name: str, value: Any) -> int:
    """Return ``value`` if it is an integer >= 0, else raise a ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be a non-negative integer, got {value!r} ({type(value).__name__}).")
    if value < 0:
        raise ValueError(f"{name} must be a non-negative integer (>= 0), got {value}.")
    return value


def check_number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                 strict_minimum: bool = False, strict_maximum: bool = False) -> float:
    """Return ``value`` as a float if it is a finite real number within the given bounds, else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r} ({type(value).__name__}).")
    low = minimum is not None and (value <= minimum if strict_minimum else value < minimum)
    high = maximum is not None and (value >= maximum if strict_maximum else value > maximum)
    if low or high:
        if minimum is not None and maximum is not None:
            interval = (f"in {'(' if strict_minimum else '['}{minimum:g}, {maximum:g}{')' if strict_maximum else ']'}")
        elif minimum is not None:
            interval = f"{'>' if strict_minimum else '>='} {minimum:g}"
        else:
            interval = f"{'<' if strict_maximum else '<='} {maximum:g}"
        raise ValueError(f"{name} must be a number {interval}, got {value!r}.")
    return float(value)


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` if it is a probability in [0, 1) (a dropout rate, a smoothing epsilon), else raise."""
    return check_number(name, value, minimum=0.0, maximum=1.0, strict_maximum=True)


def check_choice(name: str, value: T, choices: Sequence[T]) -> T:
    """Return ``value`` if it is one of ``choices``, else raise a ``ValueError`` listing them."""
    if isinstance(value, bool) and not any(isinstance(c, bool) for c in choices):
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}.")
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}.")
    return value


def check_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is ``True`` or ``False`` (not 0/1 or a string), else raise."""
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r} ({type(value).__name__}).")
    return value


def pair(name: str, value: IntPair, *, allow_zero: bool = False) -> tuple[int, int]:
    """Normalise an int or a (height, width) pair, validating both entries."""
    check = check_non_negative_int if allow_zero else check_positive_int
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a (height, width) pair, got {value!r}.")
        return check(f"{name}[0]", value[0]), check(f"{name}[1]", value[1])
    v = check(name, value)
    return v, v


def check_image_batch(x: Any, in_channels: int, who: str) -> None:
    """Raise a ``ValueError`` unless ``x`` is a 4-D (N, in_channels, H, W) tensor (checked by duck typing)."""
    if not (hasattr(x, "dim") and hasattr(x, "shape")):
        raise ValueError(f"{who} expects a torch.Tensor, got {type(x).__name__}.")
    if x.dim() != 4 or x.shape[1] != in_channels:
        raise ValueError(f"{who} expects input of shape (N, {in_channels}, H, W); got {tuple(x.shape)}.")
