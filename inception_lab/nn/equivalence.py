"""Proving that two implementations are the same network: same parameters, same outputs.

Every chapter builds a piece from scratch, switches to the library class, and proves the two agree with
:func:`compare_modules`; the tests run the same check, so the book and the library cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


def copy_parameters_in_order(source: nn.Module, target: nn.Module) -> None:
    """Copy ``source``'s parameters and buffers into ``target`` one by one, in registration order.

    Works across different attribute names (a hand-built ``nn.Sequential`` vs a library class) as long as the
    two modules register tensors of the same shapes in the same order.

    Raises:
        ValueError: if the numbers or the shapes of the tensors differ (the message names the first mismatch).
    """
    src = list(source.state_dict().items())
    dst = list(target.state_dict().items())
    if len(src) != len(dst):
        raise ValueError(f"source has {len(src)} parameters/buffers, target has {len(dst)}: not the same "
                         "architecture.")
    with torch.no_grad():
        for (s_name, s), (t_name, t) in zip(src, dst, strict=True):
            if s.shape != t.shape:
                raise ValueError(f"shape mismatch: source {s_name} {tuple(s.shape)} vs target {t_name} "
                                 f"{tuple(t.shape)}.")
            t.copy_(s)


@dataclass(frozen=True)
class Equivalence:
    """Whether two modules are the same network: the outcome of :func:`compare_modules`."""

    params_a: int
    params_b: int
    output_shape_a: tuple[int, ...]
    output_shape_b: tuple[int, ...]
    max_abs_diff: float
    atol: float

    @property
    def same(self) -> bool:
        """Same number of parameters, same output shape, outputs equal within ``atol``."""
        return (self.params_a == self.params_b and self.output_shape_a == self.output_shape_b
                and self.max_abs_diff <= self.atol)

    def __str__(self) -> str:
        # Rounded to the tolerance, so printed output does not depend on the last bits of float arithmetic.
        diff = f"<= {self.atol:.0e}" if self.max_abs_diff <= self.atol else f"= {self.max_abs_diff:.3g}"
        verdict = "the same network" if self.same else "DIFFERENT networks"
        return (f"{verdict}: params {self.params_a:,} vs {self.params_b:,}; output {self.output_shape_a} vs "
                f"{self.output_shape_b}; max |difference| {diff}")


def compare_modules(a: nn.Module, b: nn.Module, example_input: torch.Tensor, *, copy_weights: bool = True,
                    atol: float = 1e-5) -> Equivalence:
    """Load ``a``'s weights into ``b`` (in registration order), run both in eval mode, compare the outputs."""
    if copy_weights:
        copy_parameters_in_order(a, b)
    modes = a.training, b.training
    a.eval(), b.eval()
    try:
        with torch.no_grad():
            out_a, out_b = a(example_input), b(example_input)
    finally:
        a.train(modes[0]), b.train(modes[1])
    diff = (out_a - out_b).abs().max().item() if out_a.shape == out_b.shape else float("inf")
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    return Equivalence(count(a), count(b), tuple(out_a.shape), tuple(out_b.shape), diff, atol)
