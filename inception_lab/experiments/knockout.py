"""Branch knock-out: silence one branch of one Inception module and measure how much accuracy the network loses.

The filter concatenation [GoogLeNet, Fig. 2] stacks the branches' outputs along channels in the order the branch
contract declares them (:attr:`~inception_lab.nn.branches.MultiBranch.branches`, widths in
:attr:`~inception_lab.nn.branches.MultiBranch.branch_channels`). So knocking a branch out needs nothing but the contract
and a forward hook on the module: the hook overwrites that branch's channel slice of the module's output. Every
family member's modules take part without knowing about it. Two ablations:

* **zero-ablation** sets the slice to zero, as if the branch had computed nothing (after a ReLU, zero is "no
  response"). Zero may be far from anything the next layer saw in training, so the drop mixes "the information is
  gone" with "the next layer's input moved off its usual range".
* **mean-ablation** sets the slice to the branch's *mean* output over a reference batch (per channel and position):
  the next layer still gets a typical value, only the image-to-image variation (the information) is gone. A branch
  whose output never changes loses nothing under mean-ablation, however large its output.

* :func:`branch_slices`, :func:`knocked_out` -- the channel slice of each branch; a context manager that zeroes
  one (or several), or puts given values in their place, while it is active; the hook is removed on exit, also after
  an exception. :func:`branch_means` -- each branch's mean output over reference images (mean-ablation's values).
* :func:`inception_modules` -- the multi-branch modules of a network, in forward order.
* :func:`knockout_study` -- the accuracy after each single knock-out (``ablation="zero"`` or ``"mean"``), for every
  module and branch, as a
  :class:`KnockoutResult` (plain numbers and labels: a heat-map matrix, the largest drops, JSON round trip).
The heat map of a result, and its alternative text, are drawn by
:func:`inception_lab.viz.experiment_charts.plot_knockout`. Introduced in chapter 7.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from inception_lab.checks import check_choice
from inception_lab.experiments.features import multi_branch
from inception_lab.nn.branches import MultiBranch

#: The ways a branch can be knocked out (see the module docstring).
ABLATIONS = ("zero", "mean")


def branch_slices(module: MultiBranch) -> dict[str, slice]:
    """Branch name -> its channels in the module's concatenated output (declaration order = concatenation order)."""
    slices, start = {}, 0
    for name, channels in module.branch_channels.items():
        slices[name] = slice(start, start + channels)
        start += channels
    return slices


@contextmanager
def knocked_out(model: nn.Module, module_name: str, branches: str | Sequence[str],
                values: Mapping[str, torch.Tensor] | None = None) -> Iterator[None]:
    """Inside the ``with`` block, the named branch(es) of ``model``'s module ``module_name`` output zeros.

    With ``values`` (branch name -> a tensor that broadcasts to one image's branch output, ``C_b x H x W`` or
    ``C_b x 1 x 1``, e.g. from :func:`branch_means`), each named branch outputs its value instead: mean-ablation.

    Raises:
        ValueError: if ``module_name`` is not a multi-branch module of ``model``, a branch name is unknown (the
            message lists the valid ones), or ``values`` lacks a named branch.
    """
    module = multi_branch(model, module_name)
    names = [branches] if isinstance(branches, str) else list(branches)
    slices = branch_slices(module)
    unknown = [b for b in names if b not in slices]
    if unknown:
        raise ValueError(f"{module_name!r} has no branch {unknown}; its branches are {list(slices)}.")
    if values is not None and any(b not in values for b in names):
        raise ValueError(f"values must hold every knocked-out branch {names}; it holds {list(values)}.")

    def replace_branches(mod: nn.Module, inputs: tuple[torch.Tensor, ...], output: torch.Tensor) -> torch.Tensor:
        output = output.clone()  # N x out_channels x H x W; leave the module's own tensor alone
        for name in names:
            # N x C_b x H x W <- 0, or the branch's value (C_b x H x W) broadcast over the batch
            output[:, slices[name]] = 0 if values is None else values[name].to(output)
        return output

    handle = module.register_forward_hook(replace_branches)
    try:
        yield
    finally:
        handle.remove()


def branch_means(model: nn.Module, module_name: str, images: Sequence[torch.Tensor]) -> dict[str, torch.Tensor]:
    """Each branch's mean output (``C_b x H x W``, averaged over the images) of one module: mean-ablation's values.

    The network runs in eval mode without gradients on ``images`` (a list of batches, on the model's device); the
    submodules' modes are restored afterwards.
    """
    return _all_branch_means(model, [module_name], images)[module_name]


def _all_branch_means(model: nn.Module, module_names: Sequence[str],
                      images: Sequence[torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """:func:`branch_means` of several modules from one pass over the images."""
    modules = {name: multi_branch(model, name) for name in module_names}
    count = sum(len(x) for x in images)
    if not count:
        raise ValueError("branch_means needs at least one reference image.")
    modes = {m: m.training for m in model.modules()}
    model.eval()
    sums: dict[str, dict[str, torch.Tensor]] = {name: {} for name in modules}
    try:
        with ExitStack() as stack, torch.no_grad():
            recorded = {name: stack.enter_context(m.recording_branches()) for name, m in modules.items()}
            for x in images:
                model(x)
                for name, outputs in recorded.items():
                    for branch, out in outputs.items():  # out: N x C_b x H x W
                        sums[name][branch] = sums[name].get(branch, 0) + out.sum(0)
    finally:
        for m, mode in modes.items():
            m.training = mode
    return {name: {b: total / count for b, total in branches.items()} for name, branches in sums.items()}


def inception_modules(model: nn.Module) -> list[str]:
    """Names of ``model``'s multi-branch modules in forward order (its ``main_path()``, else registration order)."""
    if hasattr(model, "main_path"):
        return [name for name, child in model.main_path() if isinstance(child, MultiBranch)]
    return [name for name, child in model.named_modules() if name and isinstance(child, MultiBranch)]


@dataclass(frozen=True)
class KnockoutResult:
    """Accuracy of a network with each branch of each module knocked out, one at a time.

    Attributes:
        model: a name for the network (for titles).
        baseline: accuracy with nothing knocked out.
        modules: module names in forward order (the heat map's rows).
        branches: module -> its branch names in concatenation order (the columns; modules may differ in count).
        labels: module -> branch name -> label (``"1x1 → 3x3"``).
        accuracy: module -> branch name -> accuracy with that branch knocked out.
        active: module -> branch name -> fraction of the branch's output values that are above zero (with
            nothing knocked out): a branch at 0 is silent, and zeroing it cannot change anything.
        examples: how many test images each accuracy was measured on.
        ablation: ``"zero"`` (the branch outputs zeros) or ``"mean"`` (its mean output over the reference images).
    """

    model: str
    baseline: float
    modules: tuple[str, ...]
    branches: dict[str, tuple[str, ...]]
    labels: dict[str, dict[str, str]]
    accuracy: dict[str, dict[str, float]]
    active: dict[str, dict[str, float]]
    examples: int
    ablation: str = "zero"

    def drop(self, module: str, branch: str) -> float:
        """Accuracy lost (baseline minus knocked-out accuracy; negative if the knock-out helped)."""
        return self.baseline - self.accuracy[module][branch]

    @property
    def max_branches(self) -> int:
        return max(len(b) for b in self.branches.values())

    def matrix(self) -> list[list[float | None]]:
        """Drops as rows (modules) x columns (branch position); ``None`` where a module has fewer branches."""
        return [[self.drop(m, b) for b in self.branches[m]] + [None] * (self.max_branches - len(self.branches[m]))
                for m in self.modules]

    def ranked(self) -> list[tuple[str, str, float]]:
        """``(module, branch, drop)`` for every knock-out, largest drop first."""
        cells = [(m, b, self.drop(m, b)) for m in self.modules for b in self.branches[m]]
        return sorted(cells, key=lambda c: -c[2])

    def module_drop(self, module: str) -> float:
        """The largest drop among one module's branches: how much the module's most needed branch matters."""
        return max(self.drop(module, b) for b in self.branches[module])

    def table(self) -> str:
        """Drops in accuracy points as fixed-width text, one line per module."""
        width = max(len(m) for m in self.modules) + 2
        lines = [f"{'module':<{width}}" + "".join(f"{f'branch {i + 1}':>11}" for i in range(self.max_branches))]
        for m, row in zip(self.modules, self.matrix(), strict=True):
            lines.append(f"{m:<{width}}" + "".join(f"{'':>11}" if d is None else f"{100 * d:>11.1f}" for d in row))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> KnockoutResult:
        return cls(model=raw["model"], baseline=raw["baseline"], modules=tuple(raw["modules"]),
                   branches={m: tuple(b) for m, b in raw["branches"].items()}, labels=dict(raw["labels"]),
                   accuracy=dict(raw["accuracy"]), active=dict(raw["active"]), examples=raw["examples"],
                   ablation=raw.get("ablation", "zero"))


def _stages(model: nn.Module) -> list[tuple[str, nn.Module]] | None:
    """The main path without the global pool, when ``forward_head`` finishes the network after it (else None)."""
    if not (hasattr(model, "main_path") and hasattr(model, "forward_head")):
        return None
    return [(name, child) for name, child in model.main_path() if name != "avgpool"]


class _Replay:
    """Runs a network from any stage of its main path on cached inputs, so a knock-out in module k re-runs only
    module k and what follows it (the stages before it do not change). Checked against ``model(x)`` first."""

    def __init__(self, model: nn.Module, images: list[torch.Tensor], modules: Sequence[str]) -> None:
        self.model, self.stages = model, _stages(model)
        self.inputs: dict[str, list[torch.Tensor]] = {m: [] for m in modules}
        self.ok = self.stages is not None and all(m in dict(self.stages) for m in modules)
        if not self.ok:
            return
        with torch.no_grad():
            for x in images:
                y = x
                for name, stage in self.stages:
                    if name in self.inputs:
                        self.inputs[name].append(y)
                    y = stage(y)
                # the staged run must be the network itself (no hidden input transform or extra layer)
                self.ok = self.ok and torch.allclose(self.model.forward_head(y), self.model(x), atol=1e-5, rtol=1e-4)

    def logits(self, module: str, index: int) -> torch.Tensor:
        start = [name for name, _ in self.stages].index(module)  # type: ignore[union-attr]
        y = self.inputs[module][index]
        for _, stage in self.stages[start:]:  # type: ignore[index]
            y = stage(y)
        return self.model.forward_head(y)


def knockout_study(model: nn.Module, loader: DataLoader, *, modules: Sequence[str] | None = None,
                   name: str = "", device: str | torch.device | None = None, ablation: str = "zero",
                   reference: DataLoader | None = None) -> KnockoutResult:
    """Knock out every branch of every module, one at a time, and measure the accuracy on ``loader``.

    The network runs in eval mode without gradients (each submodule's mode is restored afterwards). Networks with a
    ``main_path()`` and ``forward_head()`` (all of the book's) are replayed from the knocked-out module onwards on
    cached inputs, which gives the same logits as a full forward pass at a fraction of the cost.

    Args:
        model: a trained network.
        loader: the test images.
        modules: which multi-branch modules (default: all, :func:`inception_modules`).
        name: a name for the result (titles).
        device: where to run (default: where the model's parameters are).
        ablation: ``"zero"`` (zero-ablation) or ``"mean"`` (mean-ablation: each branch's mean output over
            ``reference``).
        reference: the images mean-ablation averages over (default: ``loader``'s own; better, images that are
            not scored, so the replacement carries nothing of the test images).
    """
    check_choice("ablation", ablation, ABLATIONS)
    modules = inception_modules(model) if modules is None else list(modules)
    if not modules:
        raise ValueError(f"{type(model).__name__} has no multi-branch (Inception) modules to knock out.")
    for module_name in modules:
        multi_branch(model, module_name)  # a clear error for a name that is not an Inception module
    if device is None:
        first = next(model.parameters(), None)
        device = first.device if first is not None else torch.device("cpu")
    device = torch.device(device)
    model.to(device)
    batches = [(x.to(device), y.to(device)) for x, y in loader]
    images, targets = [x for x, _ in batches], [y for _, y in batches]
    reference_images = images if reference is None else [x.to(device) for x, _ in reference]
    means = _all_branch_means(model, modules, reference_images) if ablation == "mean" else {}
    examples = sum(len(y) for y in targets)
    if not examples:
        raise ValueError("loader yields no images.")
    modes = {m: m.training for m in model.modules()}
    model.eval()
    try:
        replay = _Replay(model, images, modules)

        def accuracy_with(module_name: str | None) -> float:
            correct = 0
            with torch.no_grad():
                for i, (x, y) in enumerate(zip(images, targets, strict=True)):
                    logits = replay.logits(module_name, i) if replay.ok and module_name else model(x)
                    correct += int((logits.argmax(1) == y).sum())
            return correct / examples

        baseline = accuracy_with(None)
        branches, labels, accuracy, active = {}, {}, {}, {}
        for module_name in modules:
            module = multi_branch(model, module_name)
            branches[module_name] = tuple(module.branch_channels)
            labels[module_name] = dict(module.branch_labels)
            accuracy[module_name] = {}
            with module.recording_branches() as recorded:
                positive = dict.fromkeys(branches[module_name], 0.0)
                for i, x in enumerate(images):
                    with torch.no_grad():
                        replay.logits(module_name, i) if replay.ok else model(x)
                    for branch, out in recorded.items():
                        positive[branch] += float((out > 0).float().mean()) * len(x) / examples
            active[module_name] = positive
            for branch in branches[module_name]:
                with knocked_out(model, module_name, branch, values=means.get(module_name)):
                    accuracy[module_name][branch] = accuracy_with(module_name)
    finally:
        for module, mode in modes.items():
            module.training = mode
    return KnockoutResult(name or type(model).__name__, baseline, tuple(modules), branches, labels, accuracy,
                          active, examples, ablation)
