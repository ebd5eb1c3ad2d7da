"""Measuring time honestly: interleaved repetitions, medians, and ratios taken inside one run.

MACs are not time. To compare the time of two layers that compute the same thing (a 7x7 convolution and its
``1x7 -> 7x1`` factorization, chapter 4) on a machine whose load changes from second to second:

* run every variant in each repetition, in a rotating order, so that a change in load hits all of them alike;
* report medians (one slow outlier does not move them) and the *ratio* of medians within the same run, never a
  time compared with a time measured elsewhere;
* on CUDA, wait for the device (``torch.cuda.synchronize``) before reading the clock, since kernels run
  asynchronously; on the CPU record process CPU time next to wall time (steadier on a shared machine).

Works on any device the tensors live on. Used by chapter 4's live cell and ``benchmarks/bench_factorization_timing.py``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from inception_lab.checks import check_choice, check_non_negative_int, check_positive_int

#: What is timed: a forward pass without autograd, or a forward and a backward pass (one training step's work).
MODES = ("forward", "forward_backward")
CLOCKS = ("wall", "cpu")


def synchronize(device: torch.device) -> None:
    """Wait until ``device`` has finished its queued work (CUDA and MPS run asynchronously; the CPU does not)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _runner(module: nn.Module, x: torch.Tensor, mode: str) -> Callable[[], None]:
    if mode == "forward":
        def run() -> None:
            with torch.inference_mode():
                module(x)
    else:
        def run() -> None:
            module.zero_grad(set_to_none=True)
            module(x).sum().backward()
    return run


@dataclass(frozen=True)
class Timings:
    """Result of :func:`time_modules`: seconds of every repetition, per variant, mode and clock.

    Attributes:
        seconds: ``seconds[variant][mode][clock]`` -> list of seconds, one per repetition.
        reps, warmup: repetitions timed and untimed runs before them.
        device: where it ran (``"cpu"``, ``"cuda"``).
    """

    seconds: dict[str, dict[str, dict[str, list[float]]]]
    reps: int
    warmup: int
    device: str
    threads: int = field(default_factory=torch.get_num_threads)

    def median_ms(self, variant: str, mode: str = "forward", clock: str = "wall") -> float:
        """Median milliseconds of one variant."""
        return 1e3 * statistics.median(self.seconds[variant][mode][clock])

    def ratio(self, variant: str, reference: str, mode: str = "forward", clock: str = "wall") -> float:
        """median(variant) / median(reference), both from this run: < 1 means ``variant`` is faster."""
        return self.median_ms(variant, mode, clock) / self.median_ms(reference, mode, clock)

    def table(self, reference: str, clock: str = "wall") -> str:
        """Medians and ratios against ``reference`` for every variant and mode, as a fixed-width text table."""
        modes = [m for m in MODES if m in next(iter(self.seconds.values()))]
        head = "".join(f" {m + ' ms':>20} {'ratio':>6}" for m in modes)
        lines = [f"{'variant':<22}{head}"]
        for variant in self.seconds:
            cells = "".join(f" {self.median_ms(variant, m, clock):>20.2f}"
                            f" {self.ratio(variant, reference, m, clock):>6.2f}"
                            for m in modes)
            lines.append(f"{variant:<22}{cells}")
        return "\n".join(lines)


def time_modules(modules: Mapping[str, nn.Module], x: torch.Tensor, *, reps: int = 10, warmup: int = 2,
                 modes: tuple[str, ...] = MODES) -> Timings:
    """Time every module on ``x`` in every mode, interleaved: each repetition runs all variants, rotating the order.

    Args:
        modules: name -> module (already on ``x``'s device). They are put in train mode for ``forward_backward``
            and eval mode for ``forward``, and restored afterwards.
        x: the input batch.
        reps: timed repetitions per variant and mode (>= 1); the median is reported.
        warmup: untimed runs of every variant first (allocations, kernel selection, caches).
        modes: any of ``"forward"`` and ``"forward_backward"``.
    """
    check_positive_int("reps", reps)
    check_non_negative_int("warmup", warmup)
    if not modules:
        raise ValueError("time_modules needs at least one module.")
    for mode in modes:
        check_choice("mode", mode, MODES)
    names = list(modules)
    states = {name: m.training for name, m in modules.items()}
    seconds = {name: {mode: {"wall": [], "cpu": []} for mode in modes} for name in names}
    try:
        for mode in modes:
            for m in modules.values():
                m.train(mode == "forward_backward")
            runs = {name: _runner(modules[name], x, mode) for name in names}
            for _ in range(warmup):
                for name in names:
                    runs[name]()
            synchronize(x.device)
            for i in range(reps):
                shift = i % len(names)
                for name in names[shift:] + names[:shift]:
                    wall, cpu = time.perf_counter(), time.process_time()
                    runs[name]()
                    synchronize(x.device)
                    seconds[name][mode]["cpu"].append(time.process_time() - cpu)
                    seconds[name][mode]["wall"].append(time.perf_counter() - wall)
    finally:
        for name, m in modules.items():
            m.train(states[name])
            m.zero_grad(set_to_none=True)
    return Timings(seconds, reps, warmup, x.device.type)
