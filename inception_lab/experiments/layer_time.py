"""Where a network's time goes, by kind of layer: time share beside the MAC share that [Rethinking, §3.1-3.2] counts.

MACs are not time (chapter 4). The "Rethinking" paper sizes its modules by MACs, but a 1x1 convolution, a 7x1
convolution, a BatchNorm and a concatenation run at very different speeds per MAC, and the last two do no MACs at
all yet take time. :func:`measure_layer_times` times every layer of a network *in place* (inside one ordinary
forward pass), groups the layers by kind (:data:`KINDS`), and returns per kind its time, its MACs (from
:func:`inception_lab.cost.count`) and the bytes it must move (input + weights + output), so that a chapter can set
the time share beside the MAC share and explain the gap with each kind's arithmetic intensity (MACs per byte) and
the CPU's two limits (:mod:`~inception_lab.experiments.cpu_limits`).

How it times, and why this way:

* A forward pre-hook and a forward hook on **every** module read the clock before and after it runs.
  On the CPU, PyTorch runs each operator to completion before returning, so the clock around a module is that
  module's time, measured where the network really runs it (its input just written by the previous layer, with
  whatever that leaves in the caches). Timing each layer alone on a copy of its input would run it on warm
  caches and a repeated input, flattering the small layers; ``torch.profiler`` times ATen operators, which then
  need mapping back to modules, and adds more overhead per operator than a pair of clock reads.
* Each module's **exclusive** time (its time minus its timed children's) goes to its kind: a leaf layer's to its
  layer kind, a multi-branch module's to ``"concatenation"`` (its ``torch.cat``, plus a few microseconds of
  Python that gathers the branches), any other container's to ``"glue"`` (the Python between layers: the
  conv-BN-ReLU atom's call, the input check, ``flatten``). The exclusive times add up to the hooked forward pass
  exactly, so nothing is lost or counted twice.
* The clock is the wall clock, or (``clock="cpu"``) this process's CPU time: with one thread, the time the layer
  was on a core, which a process that takes the core away for a while does not inflate (a shared machine).
* Each repetition runs one hooked and one plain (hook-free) forward pass, in alternating order, and optionally a
  callback between repetitions (:class:`~inception_lab.experiments.cpu_limits.LimitSampler`); medians over the
  repetitions are reported. :attr:`LayerTimeReport.coverage` compares the sum of the kinds' medians with the
  plain forward pass: the hooks' cost and the gap between a sum of medians and a median of sums, both small.

Only the forward pass in eval mode is broken down (the pass whose MACs ``cost.count`` counts). Used by
``benchmarks/bench_perf.py``; chapter 6's "where the time goes" chart reads its recorded results
(:func:`inception_lab.viz.perf.plot_time_vs_macs`).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from inception_lab.checks import check_choice, check_non_negative_int, check_positive_int
from inception_lab.cost import count
from inception_lab.experiments.cpu_limits import CLOCKS, attainable_rate
from inception_lab.nn.batchnorm import ScratchBatchNorm2d
from inception_lab.nn.branches import MultiBranch

#: The kinds of layer, in the order tables and charts list them. Convolutions are split by kernel shape; a strided
#: convolution of any kernel is a grid reduction ("conv stride 2"); "conv other" takes the rest (GoogLeNet's 7x7/2
#: stem is strided, so it is a reduction; a grouped or dilated convolution would land here).
KINDS: tuple[str, ...] = ("conv 1x1", "conv 3x3", "conv 5x5", "conv 1x7/7x1", "conv 1x3/3x1", "conv stride 2",
                          "conv other", "linear", "batchnorm", "relu", "pooling", "concatenation", "other", "glue")
#: Kinds that do multiply-accumulates (cost.count counts 0 MACs for every other layer).
MAC_KINDS = frozenset({"conv 1x1", "conv 3x3", "conv 5x5", "conv 1x7/7x1", "conv 1x3/3x1", "conv stride 2",
                       "conv other", "linear"})
POOLS = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
BATCHNORMS = (nn.modules.batchnorm._BatchNorm, ScratchBatchNorm2d)


def _conv_kind(conv: nn.Conv2d) -> str:
    kernel, stride = tuple(conv.kernel_size), tuple(conv.stride)
    if conv.groups != 1 or tuple(conv.dilation) != (1, 1):
        return "conv other"
    if stride != (1, 1):
        return "conv stride 2"  # the grid reductions [Rethinking, §5, Fig. 10] and the stem's strided convolutions
    named = {(1, 1): "conv 1x1", (3, 3): "conv 3x3", (5, 5): "conv 5x5", (1, 7): "conv 1x7/7x1",
             (7, 1): "conv 1x7/7x1", (1, 3): "conv 1x3/3x1", (3, 1): "conv 1x3/3x1"}
    return named.get(kernel, "conv other")


def layer_kind(module: nn.Module) -> str:
    """The kind (one of :data:`KINDS`) whose time a module's exclusive time counts toward.

    Leaf layers by type (convolutions by kernel and stride); a :class:`~inception_lab.nn.branches.MultiBranch`
    (an Inception module: its own work is the filter concatenation) is ``"concatenation"``; any other container
    is ``"glue"``; an unknown leaf (dropout, identity, LRN, flatten) is ``"other"``.
    """
    if not isinstance(module, nn.Module):
        raise ValueError(f"layer_kind() needs a torch.nn.Module, got {type(module).__name__}.")
    if isinstance(module, nn.Conv2d):
        return _conv_kind(module)
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, BATCHNORMS):
        return "batchnorm"
    if isinstance(module, nn.ReLU):
        return "relu"
    if isinstance(module, POOLS):
        return "pooling"
    if isinstance(module, MultiBranch):
        return "concatenation"
    if next(module.children(), None) is not None:
        return "glue"
    return "other"


def _first_tensor(value: Any) -> torch.Tensor | None:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], torch.Tensor):
        return value[0]
    return None


def _bytes_moved(module: nn.Module, kind: str, inputs: tuple[Any, ...], output: Any) -> int:
    """Compulsory traffic of one call in bytes: input + weights (parameters and float buffers) + output.

    A lower bound on what the layer moves (a convolution whose data do not fit in cache re-reads them). A
    concatenation reads every branch output and writes the result: twice the output. Containers move nothing
    of their own.
    """
    out = _first_tensor(output)
    if out is None or kind == "glue":
        return 0
    size = out.element_size()
    if kind == "concatenation":
        return 2 * out.numel() * size
    x = _first_tensor(inputs)
    state = [*module.parameters(recurse=False), *(b for b in module.buffers(recurse=False) if b.is_floating_point())]
    return size * ((x.numel() if x is not None else 0) + sum(t.numel() for t in state) + out.numel())


class _Clock:
    """Forward hooks that record each module's exclusive time (its time minus its timed children's)."""

    def __init__(self, model: nn.Module, now: Callable[[], float]) -> None:
        self.now = now
        self.modules = [(name, module, layer_kind(module)) for name, module in model.named_modules()]
        self.stack: list[list[Any]] = []  # [name, start, time of timed children]
        self.exclusive: dict[str, float] = {}
        self.inclusive: dict[str, float] = {}
        self.bytes: dict[str, int] = {}  # per call, recorded on the first call
        self.handles: list[Any] = []

    def attach(self) -> None:
        for name, module, kind in self.modules:
            self.handles.append(module.register_forward_pre_hook(self._pre(name)))
            self.handles.append(module.register_forward_hook(self._post(name, kind)))

    def detach(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles.clear()

    def _pre(self, name: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: tuple[Any, ...]) -> None:
            self.stack.append([name, self.now(), 0.0])
        return hook

    def _post(self, name: str, kind: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            end = self.now()
            top, start, children = self.stack.pop()
            if top != name:
                raise RuntimeError(f"forward hooks out of order: {name!r} ended inside {top!r}.")
            spent = end - start
            self.exclusive[name] = self.exclusive.get(name, 0.0) + spent - children
            self.inclusive[name] = self.inclusive.get(name, 0.0) + spent
            if name not in self.bytes:
                self.bytes[name] = _bytes_moved(module, kind, inputs, output)
            if self.stack:
                self.stack[-1][2] += spent
        return hook

    def run(self, model: nn.Module, x: torch.Tensor) -> tuple[dict[str, float], float]:
        """One hooked forward pass: every module's exclusive seconds, and the root's inclusive seconds."""
        self.stack.clear()
        self.exclusive, self.inclusive = {}, {}
        self.attach()
        try:
            with torch.no_grad():
                model(x)
        finally:
            self.detach()
        if self.stack:
            raise RuntimeError(f"forward hooks left open: {[entry[0] for entry in self.stack]}.")
        return self.exclusive, self.inclusive[""]


@dataclass(frozen=True)
class LayerTime:
    """One module that ran: its kind, median exclusive seconds, MACs and bytes moved per forward pass."""

    name: str
    kind: str
    seconds: float
    macs: int
    bytes: int


@dataclass(frozen=True)
class KindTime:
    """One kind of layer: how many modules, median seconds, MACs, bytes, and its shares of the whole.

    ``time_share`` and ``mac_share`` are fractions of the sums over all kinds (each sums to 1).
    """

    kind: str
    layers: int
    seconds: float
    macs: int
    bytes: int
    time_share: float
    mac_share: float

    @property
    def intensity(self) -> float:
        """Arithmetic intensity: MACs per byte of compulsory traffic (0 for kinds without MACs)."""
        return self.macs / self.bytes if self.bytes else 0.0

    @property
    def macs_per_s(self) -> float:
        """MACs per second this kind reached (0 for kinds without MACs)."""
        return self.macs / self.seconds if self.seconds > 0 else 0.0

    def roofline(self, peak_macs_per_s: float, bytes_per_s: float) -> dict[str, float]:
        """Rate as a fraction of the matmul peak and of the roofline bound ``min(peak, intensity * bandwidth)``.

        For a kind without MACs the bound is 0 MACs/s; what limits it is bandwidth, so ``bandwidth_fraction`` gives
        the bytes per second it moved as a fraction of the copy bandwidth instead.
        """
        moved = self.bytes / self.seconds if self.seconds > 0 else 0.0
        bound = attainable_rate(self.intensity, peak_macs_per_s, bytes_per_s)
        return dict(peak_fraction=self.macs_per_s / peak_macs_per_s,
                    roofline_bound_macs_per_s=bound,
                    roofline_fraction=self.macs_per_s / bound if bound > 0 else 0.0,
                    bound_by="compute" if self.intensity * bytes_per_s >= peak_macs_per_s else "memory",
                    bandwidth_fraction=moved / bytes_per_s)


@dataclass(frozen=True)
class LayerTimeReport:
    """Result of :func:`measure_layer_times`.

    Attributes:
        kinds: one :class:`KindTime` per kind present, in the order of :data:`KINDS`.
        layers: one :class:`LayerTime` per module that ran (containers included: their glue), in forward order.
        forward_seconds: median plain forward pass (no hooks) over the repetitions.
        hooked_seconds: median hooked forward pass (the root module's time with every hook in place).
        total_macs: ``cost.count(model, input_shape).macs``.
        input_shape, reps, warmup, threads: what ran.
        clock: ``"wall"`` (``time.perf_counter``) or ``"cpu"`` (``time.process_time``), for every number here.
        kind_samples: ``kind -> seconds of every repetition`` (the medians' raw data).
        forward_samples, hooked_samples: seconds of every plain and hooked forward pass.
    """

    kinds: tuple[KindTime, ...]
    layers: tuple[LayerTime, ...]
    forward_seconds: float
    hooked_seconds: float
    total_macs: int
    input_shape: tuple[int, ...]
    reps: int
    warmup: int
    threads: int
    clock: str
    kind_samples: dict[str, list[float]]
    forward_samples: list[float]
    hooked_samples: list[float]

    @property
    def kind_seconds(self) -> float:
        """Sum of the kinds' median seconds."""
        return sum(k.seconds for k in self.kinds)

    @property
    def coverage(self) -> float:
        """Sum of the kinds' medians / the plain forward pass's median (1.0: the parts add up to the whole)."""
        return self.kind_seconds / self.forward_seconds

    @property
    def hook_overhead(self) -> float:
        """Median hooked forward / median plain forward - 1: what timing every module costs."""
        return self.hooked_seconds / self.forward_seconds - 1

    def kind(self, name: str) -> KindTime:
        """The row of one kind."""
        for row in self.kinds:
            if row.kind == name:
                return row
        raise ValueError(f"no layers of kind {name!r} ran; kinds present: {[k.kind for k in self.kinds]}.")

    def table(self) -> str:
        """A fixed-width text table: per kind, layers, ms, time share, MAC share, MACs per byte."""
        lines = [f"{'kind':<16}{'layers':>7}{'ms':>10}{'time %':>8}{'MACs %':>8}{'MACs/B':>8}"]
        lines += [f"{k.kind:<16}{k.layers:>7}{1e3 * k.seconds:>10.2f}{100 * k.time_share:>8.1f}"
                  f"{100 * k.mac_share:>8.1f}{k.intensity:>8.1f}" for k in self.kinds]
        lines.append(f"{'sum':<16}{sum(k.layers for k in self.kinds):>7}{1e3 * self.kind_seconds:>10.2f}"
                     f"  (plain forward {1e3 * self.forward_seconds:.2f} ms, coverage {self.coverage:.3f})")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for a JSON results file (:meth:`from_dict` reads it back)."""
        return dict(kinds=[asdict(k) for k in self.kinds], layers=[asdict(layer) for layer in self.layers],
                    forward_seconds=self.forward_seconds, hooked_seconds=self.hooked_seconds,
                    total_macs=self.total_macs, input_shape=list(self.input_shape), reps=self.reps,
                    warmup=self.warmup, threads=self.threads, clock=self.clock, kind_samples=self.kind_samples,
                    forward_samples=self.forward_samples, hooked_samples=self.hooked_samples,
                    coverage=self.coverage, hook_overhead=self.hook_overhead)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerTimeReport:
        """The report that :meth:`to_dict` wrote (e.g. from ``benchmarks/results/perf.json``)."""
        try:
            return cls(kinds=tuple(KindTime(**k) for k in data["kinds"]),
                       layers=tuple(LayerTime(**layer) for layer in data["layers"]),
                       forward_seconds=data["forward_seconds"], hooked_seconds=data["hooked_seconds"],
                       total_macs=data["total_macs"], input_shape=tuple(data["input_shape"]), reps=data["reps"],
                       warmup=data["warmup"], threads=data["threads"], clock=data["clock"],
                       kind_samples=dict(data["kind_samples"]),
                       forward_samples=list(data["forward_samples"]), hooked_samples=list(data["hooked_samples"]))
        except (KeyError, TypeError) as error:
            raise ValueError(f"not a layer-time record (as LayerTimeReport.to_dict writes it): {error}") from error


def _kind_rows(layers: Sequence[LayerTime], seconds: Mapping[str, float]) -> tuple[KindTime, ...]:
    total_time = sum(seconds.values())
    total_macs = sum(layer.macs for layer in layers)
    rows = []
    for kind in KINDS:
        members = [layer for layer in layers if layer.kind == kind]
        if not members:
            continue
        macs = sum(layer.macs for layer in members)
        rows.append(KindTime(kind, len(members), seconds[kind], macs, sum(layer.bytes for layer in members),
                             seconds[kind] / total_time if total_time > 0 else 0.0,
                             macs / total_macs if total_macs else 0.0))
    return tuple(rows)


def measure_layer_times(model: nn.Module, x: torch.Tensor, *, reps: int = 7, warmup: int = 1,
                        between: Callable[[], None] | None = None, clock: str = "wall") -> LayerTimeReport:
    """Time every layer of ``model`` in place on the batch ``x`` (eval mode, no autograd), grouped by kind.

    Args:
        model: any ``nn.Module`` whose layers each run once per forward pass (no shared layers); it is put in eval
            mode for the measurement and restored afterwards. Only modules that run are reported (an auxiliary
            head does not run in eval mode).
        x: the input batch, on the model's device (the CPU: see the module docstring for why the clock is exact
            there).
        reps: timed repetitions (>= 1); each runs one hooked and one plain forward pass, alternating which first.
        warmup: untimed hooked and plain passes first (allocator, kernel choice, caches).
        between: called after every repetition (e.g. ``LimitSampler.sample``), so what it measures is
            interleaved with the network.
        clock: ``"wall"`` (``time.perf_counter``) or ``"cpu"`` (``time.process_time``: this process's CPU time;
            with one thread the time the layer was on a core, steadier when other processes share the machine).

    Returns:
        A :class:`LayerTimeReport`: per kind median seconds, MACs (summing to ``cost.count``'s total), bytes,
        shares; per module the same; the plain and hooked forward medians.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"measure_layer_times() needs a torch.nn.Module, got {type(model).__name__}.")
    if not isinstance(x, torch.Tensor) or x.dim() < 2:
        raise ValueError("x must be an input batch tensor with a batch dimension, e.g. shape (1, 3, 299, 299); got "
                         f"{type(x).__name__}{tuple(x.shape) if isinstance(x, torch.Tensor) else ''}.")
    if x.device.type != "cpu":
        raise ValueError(f"measure_layer_times() times on the CPU only (its clock reads assume synchronous "
                         f"kernels); got a tensor on {x.device.type!r}.")
    check_positive_int("reps", reps)
    check_non_negative_int("warmup", warmup)
    now = {"wall": time.perf_counter, "cpu": time.process_time}[check_choice("clock", clock, CLOCKS)]
    was_training = model.training
    model.eval()
    try:
        macs = {layer.name: layer.macs for layer in count(model, tuple(x.shape)).layers}
        total_macs = sum(macs.values())
        timer = _Clock(model, now)
        per_rep: list[dict[str, float]] = []
        plain: list[float] = []
        hooked: list[float] = []

        def run_hooked() -> None:
            exclusive, root = timer.run(model, x)
            per_rep.append(exclusive)
            hooked.append(root)

        def run_plain() -> None:
            start = now()
            with torch.no_grad():
                model(x)
            plain.append(now() - start)

        for _ in range(warmup):
            run_hooked()
            run_plain()
        del per_rep[:], plain[:], hooked[:]
        for i in range(reps):
            for run in ((run_hooked, run_plain) if i % 2 == 0 else (run_plain, run_hooked)):
                run()
            if between is not None:
                between()
    finally:
        model.train(was_training)
    kinds = {name: kind for name, _, kind in timer.modules}
    ran = [name for name, _, _ in timer.modules if name in per_rep[0]]
    layers = tuple(LayerTime(name, kinds[name], statistics.median(rep[name] for rep in per_rep), macs.get(name, 0),
                             timer.bytes[name]) for name in ran)
    missing = {name: m for name, m in macs.items() if m and name not in per_rep[0]}
    if missing:
        raise RuntimeError(f"cost.count found MACs in modules the hooks did not see: {sorted(missing)}.")
    samples = {kind: [sum(rep[layer.name] for layer in layers if layer.kind == kind) for rep in per_rep]
               for kind in KINDS if any(layer.kind == kind for layer in layers)}
    medians = {kind: statistics.median(values) for kind, values in samples.items()}
    return LayerTimeReport(kinds=_kind_rows(layers, medians), layers=layers,
                           forward_seconds=statistics.median(plain), hooked_seconds=statistics.median(hooked),
                           total_macs=total_macs, input_shape=tuple(x.shape), reps=reps, warmup=warmup,
                           threads=torch.get_num_threads(), clock=clock, kind_samples=samples, forward_samples=plain,
                           hooked_samples=hooked)


def peak_fractions(report: LayerTimeReport, peak_macs_per_s: float, bytes_per_s: float) -> list[dict[str, Any]]:
    """Per kind: its row, MACs/s, intensity and :meth:`KindTime.roofline` against the CPU's two limits."""
    if not (math.isfinite(peak_macs_per_s) and peak_macs_per_s > 0 and math.isfinite(bytes_per_s) and bytes_per_s > 0):
        raise ValueError(f"peak_macs_per_s and bytes_per_s must be positive, got {peak_macs_per_s}, {bytes_per_s}.")
    return [dict(asdict(k), macs_per_s=k.macs_per_s, intensity=k.intensity, **k.roofline(peak_macs_per_s, bytes_per_s))
            for k in report.kinds]
