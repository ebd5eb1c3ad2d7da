"""What this CPU can do at most: its dense compute peak and its streaming bandwidth, the two lines of a roofline.

A layer's speed is bounded twice (the roofline model of Williams, Waterman and Patterson, CACM 2009): by the rate at
which the cores multiply-accumulate, and by the rate at which memory delivers the bytes the layer must read and
write. With *arithmetic intensity* ``I`` = MACs per byte moved, the attainable rate is
``min(peak_macs_per_s, I * bytes_per_s)``; the intensity where the two meet, ``peak / bandwidth``, is the *ridge
point*. A layer left of it (BatchNorm, ReLU, pooling, concatenation: 0 MACs per byte) is bound by memory; a large
convolution right of it can at best reach the compute peak.

Both limits are *measured*, not taken from a data sheet, with the same thread count as the networks:

* the **matmul peak**: the best rate of ``torch.mm`` on large square fp32 matrices (the BLAS, MKL in the PyTorch
  wheels);
* the **conv peak**: the best rate of one large 3x3 convolution (:data:`CONV_SHAPE`, oneDNN). On some CPUs oneDNN's
  direct convolution outruns the BLAS (measured on an AMD EPYC: 56 against 48 GMAC/s on one thread), so a network's
  convolutions can exceed the matmul peak; the roof is the better of the two (:meth:`LimitSampler.peak_macs_per_s`);
* the **copy bandwidth**: the best rate of copying a buffer far larger than the caches.

On a machine that others share, take many samples *between* the measurements they are compared with
(:class:`LimitSampler`), so load hits both alike.

Used by ``benchmarks/bench_perf.py`` (the performance suite) and :mod:`~inception_lab.experiments.layer_time`.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from inception_lab.checks import check_choice, check_positive_int

#: The two clocks: wall (``time.perf_counter``) and the process's CPU time (``time.process_time``).
CLOCKS = ("wall", "cpu")
#: The compute kernels whose best rate is the peak.
KERNELS = ("matmul", "conv3x3")
#: The conv-peak convolution: (batch, channels, side), 3x3 kernel, padding 1, as many output channels as input:
#: 2.4 G MACs, an intensity of ~225 MACs per byte of compulsory traffic (far right of any ridge point).
CONV_SHAPE = (1, 256, 64)


def matmul_macs(size: int) -> int:
    """MACs of a product of two ``size x size`` matrices: ``size**3`` (each of its outputs sums ``size`` products)."""
    return check_positive_int("size", size) ** 3


def _best_rates(run: Callable[[], object], work: float, repeats: int) -> tuple[float, float]:
    """``work`` per second of ``run`` after one warm-up call, best of ``repeats``, by wall clock and by CPU time."""
    run()  # warm-up: the BLAS picks its kernel, the first touch maps the pages
    wall = cpu = float("inf")
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
    return work / wall, work / max(cpu, 1e-9)


def matmul_rate(size: int = 2048, repeats: int = 3) -> float:
    """Best MACs per second (wall clock) of ``torch.mm`` on ``size x size`` fp32 matrices over ``repeats`` calls.

    Uses the current ``torch.get_num_threads()``. ``size`` of 2048 or more fills the cores' vector units; smaller
    matrices measure less than the peak (a useful check: the rate grows with the size and then levels off).
    """
    check_positive_int("repeats", repeats)
    a, b, out = torch.randn(size, size), torch.randn(size, size), torch.empty(size, size)
    return _best_rates(lambda: torch.mm(a, b, out=out), matmul_macs(size), repeats)[0]


def conv_macs(batch: int, channels: int, side: int) -> int:
    """MACs of a 3x3 convolution, padding 1, ``channels`` -> ``channels`` on ``side x side``: each output sums 9 C."""
    return batch * channels * side * side * channels * 9


def conv_rate(batch: int = CONV_SHAPE[0], channels: int = CONV_SHAPE[1], side: int = CONV_SHAPE[2],
              repeats: int = 3) -> float:
    """Best MACs per second (wall clock) of one 3x3 convolution (no bias, padding 1) over ``repeats`` calls."""
    check_positive_int("repeats", repeats)
    run = _conv_runner(batch, channels, side)
    return _best_rates(run, conv_macs(batch, channels, side), repeats)[0]


def _conv_runner(batch: int, channels: int, side: int) -> Callable[[], object]:
    for name, value in (("batch", batch), ("channels", channels), ("side", side)):
        check_positive_int(name, value)
    x, w = torch.randn(batch, channels, side, side), torch.randn(channels, channels, 3, 3)

    def run() -> torch.Tensor:
        with torch.no_grad():
            return torch.nn.functional.conv2d(x, w, padding=1)
    return run


def copy_bandwidth(megabytes: int = 128, repeats: int = 3) -> float:
    """Best bytes per second (wall clock) of copying a ``megabytes`` fp32 buffer into another (read + write counted).

    The buffer should be several times the last-level cache (a few tens of MB on a server CPU), so the copy streams
    from and to main memory: the bandwidth a layer whose tensors do not fit in cache can at best use.
    """
    check_positive_int("megabytes", megabytes)
    check_positive_int("repeats", repeats)
    source = torch.ones(megabytes * 2**20 // 4)
    target = torch.empty_like(source)
    return _best_rates(lambda: target.copy_(source), 2 * source.numel() * source.element_size(), repeats)[0]


@dataclass
class LimitSampler:
    """Samples of the compute peak (matmul and conv) and the copy bandwidth, taken between what they are compared with.

    Call :meth:`sample` between repetitions of what is being timed (a network's forward pass, say): when the
    machine's load changes, it changes the samples too, and the best sample is still this CPU's limit. Each sample
    is read on two clocks: wall (``time.perf_counter``) and this process's CPU time (``time.process_time``: with
    one thread, the time the work was on a core, which other processes do not inflate by taking the core away).
    The buffers are allocated once.

    Args:
        size: side of the square matrices (``torch.mm``).
        conv_shape: (batch, channels, side) of the conv-peak convolution (:data:`CONV_SHAPE`).
        megabytes: size of each copy buffer.
        repeats: calls per sample; a sample keeps the best.
    """

    size: int = 2048
    conv_shape: tuple[int, int, int] = CONV_SHAPE
    megabytes: int = 128
    repeats: int = 2
    samples: dict[str, dict[str, list[float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_positive_int("size", self.size)
        check_positive_int("megabytes", self.megabytes)
        check_positive_int("repeats", self.repeats)
        a, b, out = torch.randn(self.size, self.size), torch.randn(self.size, self.size), torch.empty(self.size,
                                                                                                        self.size)
        source, target = torch.ones(self.megabytes * 2**20 // 4), torch.empty(self.megabytes * 2**20 // 4)
        self._runs = {"matmul": (lambda: torch.mm(a, b, out=out), matmul_macs(self.size)),
                      "conv3x3": (_conv_runner(*self.conv_shape), conv_macs(*self.conv_shape)),
                      "copy": (lambda: target.copy_(source), 2 * source.numel() * source.element_size())}
        self.samples = {what: {clock: [] for clock in CLOCKS} for what in self._runs}

    def sample(self) -> None:
        """Measure every limit once more (best of ``repeats`` calls each, on both clocks) and keep the rates."""
        for what, (run, work) in self._runs.items():
            wall, cpu = _best_rates(run, work, self.repeats)
            self.samples[what]["wall"].append(wall)
            self.samples[what]["cpu"].append(cpu)

    def best(self, what: str, clock: str = "wall") -> float:
        """Best sample of ``what`` (``"matmul"``, ``"conv3x3"``: MACs/s; ``"copy"``: bytes/s) on ``clock``."""
        check_choice("what", what, (*KERNELS, "copy"))
        check_choice("clock", clock, CLOCKS)
        if not self.samples[what][clock]:
            raise ValueError("LimitSampler has no samples yet: call sample() at least once.")
        return max(self.samples[what][clock])  # load only ever slows a sample down

    def peak_macs_per_s(self, clock: str = "wall") -> float:
        """The compute peak: the best sample of the better kernel (matmul or 3x3 conv) on ``clock``."""
        return max(self.best(kernel, clock) for kernel in KERNELS)

    def peak_bytes_per_s(self, clock: str = "wall") -> float:
        """The copy bandwidth: the best sample on ``clock``."""
        return self.best("copy", clock)

    def ridge_point(self, clock: str = "wall") -> float:
        """MACs per byte where the two limits meet (``peak / bandwidth``): below it a layer is bound by memory."""
        return self.peak_macs_per_s(clock) / self.peak_bytes_per_s(clock)

    def summary(self) -> dict[str, object]:
        """The limits on both clocks and every sample, for a results file (rates in MACs/s and bytes/s)."""
        out: dict[str, object] = dict(matmul_size=self.size, conv_shape=list(self.conv_shape),
                                      copy_megabytes=self.megabytes, repeats_per_sample=self.repeats,
                                      samples=len(self.samples["copy"]["wall"]), threads=torch.get_num_threads())
        for clock in CLOCKS:
            out[clock] = dict(peak_macs_per_s=self.peak_macs_per_s(clock),
                              matmul_macs_per_s=self.best("matmul", clock),
                              conv3x3_macs_per_s=self.best("conv3x3", clock),
                              median_matmul_macs_per_s=statistics.median(self.samples["matmul"][clock]),
                              median_conv3x3_macs_per_s=statistics.median(self.samples["conv3x3"][clock]),
                              peak_bytes_per_s=self.peak_bytes_per_s(clock),
                              median_bytes_per_s=statistics.median(self.samples["copy"][clock]),
                              ridge_point_macs_per_byte=self.ridge_point(clock))
        out["raw"] = {what: {clock: list(v) for clock, v in by.items()} for what, by in self.samples.items()}
        return out


def attainable_rate(intensity: float, peak_macs_per_s: float, bytes_per_s: float) -> float:
    """The roofline: the best MACs/s a layer of ``intensity`` MACs per byte can reach, ``min(peak, I * bandwidth)``."""
    if intensity < 0 or peak_macs_per_s <= 0 or bytes_per_s <= 0:
        raise ValueError(f"attainable_rate needs intensity >= 0 and positive limits, got intensity={intensity}, "
                         f"peak={peak_macs_per_s}, bandwidth={bytes_per_s}.")
    return min(peak_macs_per_s, intensity * bytes_per_s)
