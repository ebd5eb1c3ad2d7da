"""What this CPU can do at most: its dense-matmul peak and its streaming bandwidth, the two lines of a roofline.

A layer's speed is bounded twice (the roofline model of Williams, Waterman and Patterson, CACM 2009): by the rate at
which the cores multiply-accumulate, and by the rate at which memory delivers the bytes the layer must read and
write. With *arithmetic intensity* ``I`` = MACs per byte moved, the attainable rate is
``min(peak_macs_per_s, I * bytes_per_s)``; the intensity where the two meet, ``peak / bandwidth``, is the *ridge
point*. A layer left of it (BatchNorm, ReLU, pooling, concatenation: 0 MACs per byte) is bound by memory; a large
convolution right of it can at best reach the matmul peak.

Both limits are *measured*, not taken from a data sheet: the peak is the best rate of ``torch.mm`` on large square
fp32 matrices (the best any PyTorch kernel reaches here, with the same thread count as the networks), the
bandwidth the best rate of copying a buffer far larger than the caches. On a machine that others share, take many
samples *between* the measurements they are compared with (:class:`LimitSampler`), so load hits both alike.

Used by ``benchmarks/bench_perf.py`` (the performance suite) and :mod:`~inception_lab.experiments.layer_time`.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import torch

from inception_lab.checks import check_positive_int


def matmul_macs(size: int) -> int:
    """MACs of a product of two ``size x size`` matrices: ``size**3`` (each of its outputs sums ``size`` products)."""
    return check_positive_int("size", size) ** 3


def matmul_rate(size: int = 2048, repeats: int = 3) -> float:
    """Best MACs per second of ``torch.mm`` on ``size x size`` fp32 matrices over ``repeats`` calls (after one warm-up).

    Uses the current ``torch.get_num_threads()``. ``size`` of 2048 or more fills the cores' vector units; smaller
    matrices measure less than the peak (a useful check: the rate grows with the size and then levels off).
    """
    check_positive_int("repeats", repeats)
    a = torch.randn(size, size)
    b = torch.randn(size, size)
    out = torch.empty(size, size)
    return _best_mm_rate(a, b, out, repeats)


def _best_mm_rate(a: torch.Tensor, b: torch.Tensor, out: torch.Tensor, repeats: int) -> float:
    torch.mm(a, b, out=out)  # warm-up: the BLAS picks its kernel and touches the memory
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return matmul_macs(a.shape[0]) / best


def copy_bandwidth(megabytes: int = 128, repeats: int = 3) -> float:
    """Best bytes per second of copying a ``megabytes`` fp32 buffer into another (read + write both counted).

    The buffer should be several times the last-level cache (a few tens of MB on a server CPU), so the copy streams
    from and to main memory: the bandwidth a layer whose tensors do not fit in cache can at best use.
    """
    check_positive_int("megabytes", megabytes)
    check_positive_int("repeats", repeats)
    source = torch.ones(megabytes * 2**20 // 4)
    target = torch.empty_like(source)
    return _best_copy_rate(source, target, repeats)


def _best_copy_rate(source: torch.Tensor, target: torch.Tensor, repeats: int) -> float:
    target.copy_(source)  # warm-up: the first touch of ``target`` maps its pages
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        target.copy_(source)
        best = min(best, time.perf_counter() - start)
    return 2 * source.numel() * source.element_size() / best


@dataclass
class LimitSampler:
    """Samples of the matmul peak and the copy bandwidth, taken between the measurements they are compared with.

    Call :meth:`sample` between repetitions of what is being timed (a network's forward pass, say): when the
    machine's load changes, it changes the samples too, and the best sample is still this CPU's limit. The
    buffers are allocated once (three ``size x size`` matrices and two ``megabytes`` buffers).

    Args:
        size: side of the square matrices (``torch.mm``).
        megabytes: size of each copy buffer.
        repeats: calls per sample; a sample keeps the best.
    """

    size: int = 2048
    megabytes: int = 128
    repeats: int = 2
    macs_per_s: list[float] = field(default_factory=list)
    bytes_per_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_positive_int("size", self.size)
        check_positive_int("megabytes", self.megabytes)
        check_positive_int("repeats", self.repeats)
        self._mm = (torch.randn(self.size, self.size), torch.randn(self.size, self.size),
                    torch.empty(self.size, self.size))
        self._copy = (torch.ones(self.megabytes * 2**20 // 4), torch.empty(self.megabytes * 2**20 // 4))

    def sample(self) -> None:
        """Measure both limits once more (best of ``repeats`` calls each) and keep the rates."""
        self.macs_per_s.append(_best_mm_rate(*self._mm, self.repeats))
        self.bytes_per_s.append(_best_copy_rate(*self._copy, self.repeats))

    def _check(self) -> None:
        if not self.macs_per_s:
            raise ValueError("LimitSampler has no samples yet: call sample() at least once.")

    @property
    def peak_macs_per_s(self) -> float:
        """The matmul peak: the best sample (load only ever slows a sample down)."""
        self._check()
        return max(self.macs_per_s)

    @property
    def peak_bytes_per_s(self) -> float:
        """The copy bandwidth: the best sample."""
        self._check()
        return max(self.bytes_per_s)

    @property
    def ridge_point(self) -> float:
        """MACs per byte where the two limits meet (``peak / bandwidth``): below it a layer is bound by memory."""
        return self.peak_macs_per_s / self.peak_bytes_per_s

    def summary(self) -> dict[str, float | int | list[float]]:
        """The limits and their samples, for a results file (rates in MACs/s and bytes/s)."""
        self._check()
        return dict(matmul_size=self.size, copy_megabytes=self.megabytes, repeats_per_sample=self.repeats,
                    samples=len(self.macs_per_s), threads=torch.get_num_threads(),
                    peak_macs_per_s=self.peak_macs_per_s, median_macs_per_s=statistics.median(self.macs_per_s),
                    peak_bytes_per_s=self.peak_bytes_per_s, median_bytes_per_s=statistics.median(self.bytes_per_s),
                    ridge_point_macs_per_byte=self.ridge_point, macs_per_s_samples=list(self.macs_per_s),
                    bytes_per_s_samples=list(self.bytes_per_s))


def attainable_rate(intensity: float, peak_macs_per_s: float, bytes_per_s: float) -> float:
    """The roofline: the best MACs/s a layer of ``intensity`` MACs per byte can reach, ``min(peak, I * bandwidth)``."""
    if intensity < 0 or peak_macs_per_s <= 0 or bytes_per_s <= 0:
        raise ValueError(f"attainable_rate needs intensity >= 0 and positive limits, got intensity={intensity}, "
                         f"peak={peak_macs_per_s}, bandwidth={bytes_per_s}.")
    return min(peak_macs_per_s, intensity * bytes_per_s)
