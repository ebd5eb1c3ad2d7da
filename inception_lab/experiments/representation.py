"""The representational bottleneck made measurable: how much of a feature map survives each grid reduction.

[Rethinking, §2, principle 1]: "One should avoid bottlenecks with extreme compression ... The representation size
should gently decrease from the inputs to the outputs". §5 says pooling first violates it. We measure it directly:

1. **Input maps** (:func:`map_set`): the book's synthetic shapes images, passed through a random 3x3 convolution
   with ``k`` filters and a ReLU -- a ``d x d x k`` feature map with the spatial structure of images (edges, blobs,
   textures), not white noise -- in one of two forms (:data:`INPUT_KINDS`): ``"standardised"`` (mean 0, variance 1
   per channel, so half the values are negative) or ``"nonnegative"`` (divided by the standard deviation only,
   still >= 0, as the post-ReLU input of a real network's reduction is).
2. **Encoder**: one grid reduction ``k -> 2k``, ``d -> d/2`` (:func:`build_reduction`, one of :data:`ARMS`), with
   conv-ReLU atoms.
3. **Decoder**: one *linear* transposed convolution (4x4, stride 2) back to ``d x d x k``.
4. Both are trained together to reconstruct the input (mean squared error); the score is the **recovered variance**
   ``R^2 = 1 - MSE / Var`` on held-out maps (1 = everything recovered, 0 = nothing beyond the mean).
5. **Downstream probe** (:func:`linear_probe`): the trained reduction is frozen, and a ridge-regularised linear
   classifier reads the shape class of each image from the reduced map; its held-out accuracy ties "recovers more
   variance" to a task. The ridge strength is chosen by cross-validation on the training maps only.

The controls (each an arm of :data:`ARMS`, run with the same seeds): ``"strided"`` (a 3x3/2 convolution: no
bottleneck, like conv first, but no pooling after it) separates "avoiding the bottleneck" from "a strided
convolution instead of conv-then-pool"; ``"parallel_relu"`` (Fig. 10 with a ReLU on every branch, the pooled one
included) gives the parallel module the same nonlinearity as the others on standardised input; non-negative input
removes that asymmetry altogether (a ReLU after pooling non-negative values changes nothing).

The decoder is deliberately weak (linear, local), so differences come from what the reduction kept. Every arm gets
the same data, steps, batch size, optimiser and learning rate (an equal training budget); their MACs differ and
are reported beside the score. Chapter 5 runs one seed live; ``benchmarks/bench_grid_reduction.py`` runs several.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inception_lab.checks import check_choice, check_positive_int
from inception_lab.cost import count
from inception_lab.cost.grid_reduction import POOLS, STRATEGY_LABELS
from inception_lab.data import make_shapes_dataset
from inception_lab.experiments.cuts import narrowest_cut
from inception_lab.experiments.findings import paired_comparison
from inception_lab.nn.branches import to_spec
from inception_lab.nn.layers import ConvReLU
from inception_lab.nn.reduction import ConvFirst, GridReduction, PoolFirst, stride2_pool
from inception_lab.runtime import effective_seed, seed_everything

#: The experiment's defaults (chapter 5's live run; the benchmark fixes its own budget in its docstring).
DEFAULTS = dict(channels=8, image_size=32, n_train=1024, n_test=256, steps=150, batch_size=32, lr=3e-3)
#: The two forms of the input maps: centred (the first edition's setting) or non-negative (a real reduction's).
INPUT_KINDS = ("standardised", "nonnegative")
#: The reductions compared: §5's two options, Fig. 10, and the two controls.
ARMS = ("pool_first", "conv_first", "strided", "parallel", "parallel_relu")
ARM_LABELS = dict(STRATEGY_LABELS, strided="stride-2 conv", parallel_relu="parallel, ReLU on pool")
#: Arms without a pooling layer, for which max and average pooling are the same run.
UNPOOLED_ARMS = ("strided",)
#: Seed of the random 3x3 feature convolution when none is given (the first edition's fixed value).
FEATURE_CONV_SEED = 1234
#: Ridge strengths the probe's cross-validation chooses from, in units of the number of features.
PROBE_STRENGTHS = (1e-3, 1e-2, 1e-1, 1.0, 10.0)
#: Folds of the probe's cross-validation (contiguous blocks of the already shuffled training maps).
PROBE_FOLDS = 5


@dataclass(frozen=True)
class MapSet:
    """Feature maps with the shape class of the image each came from.

    Attributes:
        maps: (N, k, d, d) float32.
        labels: (N,) int64 class indices (:data:`inception_lab.data.CLASS_NAMES`).
        kind: one of :data:`INPUT_KINDS`.
        num_classes: classes the labels may take.
    """

    maps: torch.Tensor
    labels: torch.Tensor
    kind: str
    num_classes: int

    def __len__(self) -> int:
        return len(self.maps)


def map_set(n: int, *, channels: int = 8, image_size: int = 32, seed: int = 0, split: str = "train",
            conv_seed: int = FEATURE_CONV_SEED, kind: str = "standardised") -> MapSet:
    """``n`` feature maps of ``channels x image_size x image_size``: shapes images -> random 3x3 conv -> ReLU.

    ``seed`` and ``split`` choose the images (:func:`inception_lab.data.make_shapes_dataset`); ``conv_seed`` draws
    the convolution's weights from a generator of its own (both go through
    :func:`~inception_lab.runtime.effective_seed`). Each channel is then scaled to variance 1 over the set, and, for
    ``kind="standardised"``, also shifted to mean 0; ``"nonnegative"`` keeps every value >= 0. A map's total
    variance is ``channels`` per pixel either way, so ``R^2`` compares arms on the same scale.
    """
    check_positive_int("n", n)
    check_positive_int("channels", channels)
    check_choice("kind", kind, INPUT_KINDS)
    data = make_shapes_dataset(n, image_size, seed, split=split)
    images = data.images  # N x 3 x S x S, normalised
    gen = torch.Generator().manual_seed(effective_seed(conv_seed))
    weight = torch.randn(channels, 3, 3, 3, generator=gen) / math.sqrt(27)
    with torch.no_grad():
        maps = F.relu(F.conv2d(images, weight, padding=1))  # N x k x S x S
        std = maps.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
        if kind == "standardised":
            maps = maps - maps.mean(dim=(0, 2, 3), keepdim=True)
    return MapSet(maps / std, data.labels, kind, len(data.class_names))


def feature_maps(n: int, *, channels: int = 8, image_size: int = 32, seed: int = 0, split: str = "train",
                 conv_seed: int = FEATURE_CONV_SEED, kind: str = "standardised") -> torch.Tensor:
    """The maps of :func:`map_set` alone, without their labels."""
    return map_set(n, channels=channels, image_size=image_size, seed=seed, split=split, conv_seed=conv_seed,
                   kind=kind).maps


def build_reduction(strategy: str, channels: int, *, pool: str = "max") -> nn.Module:
    """One reduction ``k x d x d -> 2k x d/2 x d/2`` ("same" padding, 3x3 kernels, conv-ReLU atoms).

    * ``pool_first`` / ``conv_first``: §5's two options [Rethinking, Fig. 9];
    * ``strided``: a single 3x3/2 convolution ``k -> 2k`` (the control: no bottleneck and no pooling);
    * ``parallel``: Fig. 10, its ``k`` new channels split evenly between a 3x3/2 branch and a
      1x1 -> 3x3 -> 3x3/2 branch, beside the pooling branch, which passes the ``k`` input channels on
      (``k/2 + k/2 + k = 2k``);
    * ``parallel_relu``: the same module followed by a ReLU, which acts on the pooling branch only (the other
      branches already end in one): every output channel passes a ReLU, as in the other arms.
    """
    check_choice("strategy", strategy, ARMS)
    check_choice("pool", pool, POOLS)
    k = check_positive_int("channels", channels)
    if strategy == "pool_first":
        return PoolFirst(k, 2 * k, kernel=3, pool=pool, padding="same", conv_block=ConvReLU)
    if strategy == "conv_first":
        return ConvFirst(k, 2 * k, kernel=3, pool=pool, padding="same", conv_block=ConvReLU)
    if strategy == "strided":
        return ConvReLU(k, 2 * k, kernel_size=3, stride=2, padding=1)
    if k < 2:
        raise ValueError("the parallel module splits its convolution channels in two: channels must be >= 2.")
    module = GridReduction(k, k // 2, ch3x3dbl_red=k - k // 2, ch3x3dbl=k - k // 2, pool=pool, padding="same",
                           conv_block=ConvReLU)
    if strategy == "parallel":
        return module
    return nn.Sequential(OrderedDict(reduction=module, relu=nn.ReLU()))


class Reconstructor(nn.Module):
    """A grid reduction followed by a linear 4x4/2 transposed convolution back to the input's size.

    Shape:
        (N, k, d, d) -> (N, 2k, d/2, d/2) -> (N, k, d, d).
    """

    def __init__(self, reduction: nn.Module, channels: int) -> None:
        super().__init__()
        self.reduction = reduction
        self.decoder = nn.ConvTranspose2d(2 * channels, channels, kernel_size=4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x k x d x d -> N x 2k x d/2 x d/2 -> N x k x d x d
        return self.decoder(self.reduction(x))


def r_squared(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Recovered variance ``1 - sum((x - x_hat)^2) / sum((x - mean)^2)`` (mean per channel)."""
    residual = (prediction - target).pow(2).sum()
    total = (target - target.mean(dim=(0, 2, 3), keepdim=True)).pow(2).sum()
    return float(1 - residual / total)


def fit_reconstructor(strategy: str, train_maps: torch.Tensor, *, pool: str = "max", seed: int = 0,
                      steps: int = DEFAULTS["steps"], batch_size: int = DEFAULTS["batch_size"],
                      lr: float = DEFAULTS["lr"]) -> Reconstructor:
    """Train reduction + linear decoder to reconstruct ``train_maps`` (Adam, MSE); returned in eval mode.

    ``seed`` sets the initial weights and the order of the batches (through
    :func:`~inception_lab.runtime.seed_everything`); ``parallel`` and ``parallel_relu`` start from the same weights.
    """
    check_positive_int("steps", steps)
    check_positive_int("batch_size", batch_size)
    channels = train_maps.shape[1]
    order = seed_everything(seed)
    model = Reconstructor(build_reduction(strategy, channels, pool=pool), channels)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        batch = train_maps[torch.randint(len(train_maps), (batch_size,), generator=order)]
        loss = F.mse_loss(model(batch), batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return model.eval()


def encode(reduction: nn.Module, maps: torch.Tensor, batch: int = 256) -> torch.Tensor:
    """The reduced maps, one flattened row per map: (N, k, d, d) -> (N, 2k * d/2 * d/2)."""
    with torch.no_grad():
        return torch.cat([reduction(maps[i:i + batch]).flatten(1) for i in range(0, len(maps), batch)])


@dataclass(frozen=True)
class ProbeResult:
    """A linear probe's held-out accuracy, the ridge strength cross-validation chose, and its mean CV accuracy."""

    accuracy: float
    strength: float
    cv_accuracy: float


def _ridge_scores(train_x: torch.Tensor, train_y: torch.Tensor, eval_x: torch.Tensor, num_classes: int,
                  strengths: tuple[float, ...]) -> list[torch.Tensor]:
    """Class scores of ``eval_x`` under ridge regression onto one-hot labels, for every strength (float64)."""
    mean = train_x.mean(0, keepdim=True)
    std = train_x.std(0, keepdim=True).clamp_min(1e-6)  # a dead (always-zero) feature stays zero
    a, b = (train_x - mean) / std, (eval_x - mean) / std
    targets = F.one_hot(train_y, num_classes).double()
    target_mean = targets.mean(0, keepdim=True)
    # Dual form: weights = A^T (A A^T + lambda I)^-1 Y, one eigendecomposition of A A^T for all lambdas.
    values, vectors = torch.linalg.eigh(a @ a.T)
    projected = vectors.T @ (targets - target_mean)
    cross = b @ a.T @ vectors
    features = a.shape[1]
    return [cross @ (projected / (values.clamp_min(0) + s * features)[:, None]) + target_mean for s in strengths]


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor, *,
                 num_classes: int, strengths: tuple[float, ...] = PROBE_STRENGTHS,
                 folds: int = PROBE_FOLDS) -> ProbeResult:
    """Held-out accuracy of a ridge-regularised linear classifier (least squares onto one-hot labels).

    Features are standardised with the training rows' statistics. The ridge strength ``lambda = s * features`` is
    chosen among ``strengths`` by ``folds``-fold cross-validation on the training rows (contiguous blocks; ties go
    to the stronger ridge), then the probe is refitted on all training rows and scored once on the test rows.
    Deterministic: no seed, no iterative optimiser.

    Raises:
        ValueError: for mismatched rows and labels, fewer training rows than folds, or no strengths.
    """
    if len(train_x) != len(train_y) or len(test_x) != len(test_y):
        raise ValueError(f"each row needs one label: {len(train_x)} training rows with {len(train_y)} labels, "
                         f"{len(test_x)} test rows with {len(test_y)} labels.")
    check_positive_int("folds", folds)
    if folds < 2 or len(train_x) < 2 * folds:
        raise ValueError(f"cross-validation needs folds >= 2 and at least two rows per fold; got {folds} folds for "
                         f"{len(train_x)} rows.")
    if not strengths:
        raise ValueError("linear_probe needs at least one ridge strength.")
    x, y = train_x.flatten(1).double(), train_y.long()
    blocks = torch.arange(len(x)).tensor_split(folds)
    correct = torch.zeros(len(strengths))
    for held in blocks:
        keep = torch.ones(len(x), dtype=torch.bool)
        keep[held] = False
        for i, scores in enumerate(_ridge_scores(x[keep], y[keep], x[held], num_classes, strengths)):
            correct[i] += (scores.argmax(1) == y[held]).sum()
    cv = correct / len(x)
    best = max(range(len(strengths)), key=lambda i: (float(cv[i]), strengths[i]))
    scores = _ridge_scores(x, y, test_x.flatten(1).double(), num_classes, (strengths[best],))[0]
    accuracy = float((scores.argmax(1) == test_y.long()).double().mean())
    return ProbeResult(accuracy, strengths[best], float(cv[best]))


@dataclass(frozen=True)
class Recovery:
    """One trained reconstruction: the arm, its encoder's cost and narrowest cut, and its held-out scores.

    ``inputs`` is the :data:`INPUT_KINDS` entry of the maps (None for bare tensors); ``probe_*`` are None when the
    maps came without labels.
    """

    strategy: str
    pool: str
    seed: int
    steps: int
    r2: float
    params: int  # of the reduction alone
    macs: int  # of the reduction alone, for one map
    narrowest: int  # values in the reduction's narrowest cut, per map
    inputs: str | None = None
    probe_accuracy: float | None = None
    probe_strength: float | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def train_recovery(strategy: str, train: MapSet | torch.Tensor, test: MapSet | torch.Tensor, *, pool: str = "max",
                   seed: int = 0, steps: int = DEFAULTS["steps"], batch_size: int = DEFAULTS["batch_size"],
                   lr: float = DEFAULTS["lr"]) -> Recovery:
    """Train one arm (:func:`fit_reconstructor`), score ``R^2`` on ``test`` and, for labelled maps, the probe.

    The budget (``steps``, ``batch_size``, ``lr``) is the same for every arm.
    """
    check_choice("strategy", strategy, ARMS)
    check_choice("pool", pool, POOLS)
    train_maps = train.maps if isinstance(train, MapSet) else train
    test_maps = test.maps if isinstance(test, MapSet) else test
    model = fit_reconstructor(strategy, train_maps, pool=pool, seed=seed, steps=steps, batch_size=batch_size, lr=lr)
    with torch.no_grad():
        r2 = r_squared(model(test_maps), test_maps)
    k, d = train_maps.shape[1], train_maps.shape[2]
    report = count(model.reduction, (1, k, d, d))
    cut = narrowest_cut(to_spec(model.reduction), k, d)
    probe = None
    if isinstance(train, MapSet) and isinstance(test, MapSet):
        probe = linear_probe(encode(model.reduction, train_maps), train.labels, encode(model.reduction, test_maps),
                             test.labels, num_classes=train.num_classes)
    return Recovery(strategy, "none" if strategy in UNPOOLED_ARMS else pool, seed, steps, r2, report.params,
                    report.macs, cut.numel,
                    train.kind if isinstance(train, MapSet) else None,
                    None if probe is None else probe.accuracy, None if probe is None else probe.strength)


def equal_relu_parallel(kind: str) -> str:
    """The Fig. 10 arm whose every output channel passed a ReLU: ``parallel_relu`` on standardised maps; plain
    ``parallel`` on non-negative ones, where a ReLU after the pooling changes nothing."""
    return "parallel" if check_choice("kind", kind, INPUT_KINDS) == "nonnegative" else "parallel_relu"


#: The pre-registered paired comparisons ``(question, arm a, arm b)``, each ``a - b`` per seed. ``"parallel*"``
#: stands for :func:`equal_relu_parallel`; the last one is asked on standardised maps only (on non-negative maps
#: its two arms are the same network).
COMPARISONS = (
    ("avoiding the bottleneck (same layers, conv before pool)", "conv_first", "pool_first"),
    ("stride-2 conv instead of conv then pool (neither has a bottleneck)", "strided", "conv_first"),
    ("Fig. 10 vs pool first (every channel through a ReLU)", "parallel*", "pool_first"),
    ("Fig. 10 vs a stride-2 conv (neither has a bottleneck)", "parallel*", "strided"),
    ("no ReLU on the pooled branch", "parallel", "parallel_relu"),
)
#: The scores compared: recovered variance and the linear probe's held-out accuracy.
METRICS = ("r2", "probe_accuracy")


def compare_arms(runs: list[dict], seeds: list[int]) -> list[dict[str, object]]:
    """Every pre-registered comparison (:data:`COMPARISONS` x input kinds x pools x :data:`METRICS`), paired by seed.

    ``runs`` are :meth:`Recovery.as_dict` rows (arms without pooling recorded once, with ``pool="none"``). Returns one
    dict per comparison: ``input``, ``pool``, ``metric``, ``question``, ``a``, ``b``, and the
    :class:`~inception_lab.experiments.findings.PairedComparison` fields (``differences``, ``mean``, ``p_value``,
    ``interval``, ``agreeing``, ``n``, ``finding``, and ``verdict``, whose numbers are in percentage points: of
    the variance for ``r2``, of the test images for ``probe_accuracy``).

    Raises:
        KeyError: when a run the comparison needs is missing.
    """
    table = {(r["inputs"], r["pool"], r["strategy"], r["seed"]): r for r in runs}
    rows: list[dict[str, object]] = []
    for kind in INPUT_KINDS:
        for pool in POOLS:
            for metric in METRICS:
                for question, a, b in COMPARISONS:
                    if a == "parallel" and b == "parallel_relu" and kind == "nonnegative":
                        continue
                    arms = [equal_relu_parallel(kind) if arm == "parallel*" else arm for arm in (a, b)]
                    values = [[table[kind, "none" if arm in UNPOOLED_ARMS else pool, arm, seed][metric]
                               for seed in seeds] for arm in arms]
                    pc = paired_comparison(values[0], values[1], seeds, a_name=ARM_LABELS[arms[0]],
                                           b_name=ARM_LABELS[arms[1]])
                    rows.append(dict(input=kind, pool=pool, metric=metric, question=question, a=arms[0], b=arms[1],
                                     differences=list(pc.differences), mean=pc.mean, p_value=pc.p_value,
                                     interval=list(pc.interval), agreeing=pc.agreeing, n=pc.n, finding=pc.finding,
                                     verdict=pc.verdict(100, " points")))
    return rows


def reference_probes(train: MapSet, test: MapSet, pool: str = "max") -> dict[str, ProbeResult]:
    """The probe on the input maps themselves and on their 3x3/2 pooling (pool first's narrowest cut), for scale."""
    pooling = stride2_pool(pool, "same")
    with torch.no_grad():
        pooled_train, pooled_test = pooling(train.maps), pooling(test.maps)  # N x k x d/2 x d/2
    return {"input": linear_probe(train.maps, train.labels, test.maps, test.labels, num_classes=train.num_classes),
            "pooled input": linear_probe(pooled_train, train.labels, pooled_test, test.labels,
                                         num_classes=train.num_classes)}


__all__ = ["DEFAULTS", "INPUT_KINDS", "ARMS", "ARM_LABELS", "UNPOOLED_ARMS", "FEATURE_CONV_SEED", "PROBE_STRENGTHS",
           "PROBE_FOLDS", "MapSet", "map_set", "feature_maps", "build_reduction", "Reconstructor", "r_squared",
           "fit_reconstructor", "encode", "ProbeResult", "linear_probe", "Recovery", "train_recovery",
           "equal_relu_parallel", "COMPARISONS", "METRICS", "compare_arms", "reference_probes"]
