"""What "Batch Normalization" prints [BN], transcribed as data, and the checks of its Figure 5.

* :data:`FIGURE5` -- the appendix table "Inception architecture" (Figure 5), one :class:`Figure5Row` per printed
  row, columns as printed; :class:`~inception_lab.models.bn_inception.BNInception` is built from these rows.
* :data:`MODULE`, :data:`STRIDE2_MODULE` -- the module the columns of Fig. 5 describe, and its stride-2 variant
  (:class:`~inception_lab.papers.figures.ModuleFigure`); :func:`row_figure` -- the module of one row.
* The paper's statements about the network's size (:data:`PAPER_PARAMS`, ...).
* :data:`TRAINING_RUNS` -- the steps each run needed to reach Inception's accuracy [BN, Fig. 3], the changes of
  §4.2.1 (:data:`BN_X5_CHANGES`) and the ImageNet results [BN, Fig. 4] (:data:`FIGURE4_RESULTS`).
* :func:`output_size_table` -- printed vs computed output sizes (3c, 4c, 4d and 4e disagree);
  :func:`compare_with_googlenet` -- the counted network next to GoogLeNet and to the paper's claims (a
  :class:`CostDelta`). Both take the network they check (``bn_inception(...)``): this file builds no model.

Two things in the printed table do not add up, and the library implements what the filter columns say:

* Output sizes: the channel counts of 4c and 4d sum to 160+160+160+128 = 608 and 96+192+192+128 = 608 (printed
  576), 4e to 0+192+256+608 = 1056 (printed 1024), and the stride-2 modules 3c and 4e print their *input* grid
  (28x28, 14x14) instead of the 14x14 and 7x7 they produce. The Caffe model ported to PyTorch by Cadene's
  ``pretrainedmodels`` has the same 608/1056 flow.
* Size: the paper says the network "contains 13.6*10^6 parameters" [BN, §4.2]; the table gives about 11.3 M.

Introduced in chapter 3 (``notebooks/03_bn_inception.ipynb``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inception_lab.checks import check_positive_int
from inception_lab.cost.counting import CostReport, count
from inception_lab.papers.figures import ModuleFigure
from inception_lab.papers.going_deeper import FIRST_CONVS, googlenet_cost


@dataclass(frozen=True)
class Figure5Row:
    """One printed row of [BN, Fig. 5] ("Inception architecture"), columns as printed.

    Attributes:
        name: our name for the row ("conv1", "pool1", ..., "3a", ..., "5b", "avgpool").
        type: the "type" column as printed ("convolution*", "max pool", "inception", ...).
        patch_size: kernel size from the "patch size/stride" column (``None`` for inception rows).
        stride: stride from the same column ("stride 2" for modules 3c and 4e, else 1 for inception rows).
        printed_output: the "output size" column as (height, width, channels), *as printed* (see
            :func:`output_size_table` for where it disagrees with the filter columns).
        depth: the "depth" column (weight layers on the longest path through the row).
        ch1x1: "#1x1" (0: no 1x1 branch, as in 3c and 4e).
        ch3x3red: "#3x3 reduce".
        ch3x3: "#3x3".
        dbl3x3red: "double #3x3 reduce".
        dbl3x3: "double #3x3" (both 3x3 layers of the branch have this width).
        pool: "avg" or "max" from the "Pool +proj" column (``None`` outside inception rows).
        pool_proj: the "+proj" width; ``None`` for "pass through" (pooled input concatenated unprojected).
    """

    name: str
    type: str
    patch_size: int | None
    stride: int
    printed_output: tuple[int, int, int]
    depth: int
    ch1x1: int = 0
    ch3x3red: int = 0
    ch3x3: int = 0
    dbl3x3red: int = 0
    dbl3x3: int = 0
    pool: str | None = None
    pool_proj: int | None = None

    @property
    def is_inception(self) -> bool:
        return self.type == "inception"

    @property
    def pool_column(self) -> str:
        """The "Pool +proj" cell as printed, e.g. ``"avg + 32"`` or ``"max + pass through"``."""
        if self.pool is None:
            return ""
        return f"{self.pool} + {'pass through' if self.pool_proj is None else self.pool_proj}"


# [BN, Fig. 5], transcribed row by row. The stem's 3x3 convolution row also prints a "#3x3 reduce" of 64: a 1x1
# convolution to 64 channels before it, as in GoogLeNet's Table 1.
FIGURE5: tuple[Figure5Row, ...] = (
    Figure5Row("conv1", "convolution*", 7, 2, (112, 112, 64), 1),
    Figure5Row("pool1", "max pool", 3, 2, (56, 56, 64), 0),
    Figure5Row("conv2", "convolution", 3, 1, (56, 56, 192), 1, ch3x3red=64, ch3x3=192),
    Figure5Row("pool2", "max pool", 3, 2, (28, 28, 192), 0),
    #          name  type         patch stride printed output   depth #1x1 #3x3r #3x3 d#3x3r d#3x3 pool  proj
    Figure5Row("3a", "inception", None, 1, (28, 28, 256), 3, 64, 64, 64, 64, 96, "avg", 32),
    Figure5Row("3b", "inception", None, 1, (28, 28, 320), 3, 64, 64, 96, 64, 96, "avg", 64),
    Figure5Row("3c", "inception", None, 2, (28, 28, 576), 3, 0, 128, 160, 64, 96, "max", None),
    Figure5Row("4a", "inception", None, 1, (14, 14, 576), 3, 224, 64, 96, 96, 128, "avg", 128),
    Figure5Row("4b", "inception", None, 1, (14, 14, 576), 3, 192, 96, 128, 96, 128, "avg", 128),
    Figure5Row("4c", "inception", None, 1, (14, 14, 576), 3, 160, 128, 160, 128, 160, "avg", 128),
    Figure5Row("4d", "inception", None, 1, (14, 14, 576), 3, 96, 128, 192, 160, 192, "avg", 128),
    Figure5Row("4e", "inception", None, 2, (14, 14, 1024), 3, 0, 128, 192, 192, 256, "max", None),
    Figure5Row("5a", "inception", None, 1, (7, 7, 1024), 3, 352, 192, 320, 160, 224, "avg", 128),
    Figure5Row("5b", "inception", None, 1, (7, 7, 1024), 3, 352, 192, 320, 192, 224, "max", 128),
    Figure5Row("avgpool", "avg pool", 7, 1, (1, 1, 1024), 0),
)
FIGURE5_MODULES: tuple[Figure5Row, ...] = tuple(row for row in FIGURE5 if row.is_inception)
#: Rows by name ("conv1", "3a", ...).
ROW: dict[str, Figure5Row] = {row.name: row for row in FIGURE5}


# ---------------------------------------------------------------------------------------------------------
# The module the columns describe
# ---------------------------------------------------------------------------------------------------------
_CAPTION = "Inception architecture"
#: The module of a stride-1 row of [BN, Fig. 5], column by column: "#1x1"; "#3x3 reduce" -> "#3x3"; "double #3x3
#: reduce" -> "double #3x3" (two layers: "The 5x5 convolutional layers are replaced by two consecutive 3x3
#: convolutional layers"); "Pool +proj" (its kind, avg or max, is printed per row: :func:`row_figure`).
MODULE = ModuleFigure("BN", "Fig. 5", _CAPTION,
                      (("1x1",), ("1x1", "3x3"), ("1x1", "3x3", "3x3"), ("pool", "1x1")),
                      reading="the pooling and convolution sizes inside the module are not printed beyond the 3x3 "
                              "of the column names")
#: The stride-2 rows (3c, 4e): "#1x1" is 0 (no such branch), "Pool +proj" reads "max + pass through" (the pooled
#: input joins the concatenation unprojected), and "stride-2 convolution/pooling layers are employed before the
#: filter concatenation" -- the last layer of each branch has stride 2.
STRIDE2_MODULE = ModuleFigure("BN", "Fig. 5 (stride 2)", _CAPTION,
                              (("1x1", "3x3/2"), ("1x1", "3x3", "3x3/2"), ("max pool/2",)),
                              reading="'before the filter concatenation' read as: the last layer of each branch")


def row_figure(row: Figure5Row) -> ModuleFigure:
    """The module one inception row of [BN, Fig. 5] describes: :data:`MODULE` or :data:`STRIDE2_MODULE`, with the
    row's pooling kind ("avg" / "max") and without the branches its columns leave empty (#1x1 = 0)."""
    if not row.is_inception:
        raise ValueError(f"row {row.name!r} is a {row.type!r} row, not an inception module.")
    if row.stride == 2:
        return STRIDE2_MODULE
    branches = tuple(tuple(f"{row.pool} pool" if step == "pool" else step for step in branch)
                     for branch in MODULE.branches if row.ch1x1 or branch != ("1x1",))
    return ModuleFigure(MODULE.paper, f"{MODULE.figure} ({row.name})", MODULE.caption, branches, MODULE.reading)

# What the BN paper says about the size of this network [BN, §4.2 and the text under Fig. 5].
PAPER_PARAMS = 13_600_000  # "The network contains 13.6*10^6 parameters" [BN, §4.2]
PAPER_PARAMS_INCREASE = 0.25  # "it increases the number of parameters by 25%" [BN, Fig. 5 text]
PAPER_MACS_INCREASE = 0.30  # "the computational cost is increased by about 30%" [BN, Fig. 5 text]


# ---------------------------------------------------------------------------------------------------------
# What the paper reports about training [BN, §4.2.1, §4.2.2, Fig. 3, Fig. 4]
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrainingRun:
    """One network of the paper's training comparison [BN, §4.2.2, Fig. 3].

    Attributes:
        name: the paper's name for the run.
        steps_to_match: training steps to reach Inception's best single-crop validation accuracy, 72.2 %
            (``None``: never reached).
        max_accuracy: the best single-crop top-1 validation accuracy, in %.
        setup: what the run is, in the paper's terms.
    """

    name: str
    steps_to_match: int | None
    max_accuracy: float
    setup: str


#: [BN, Fig. 3]: "Inception" is the network of §4.2 without BN; the BN runs add BN before every nonlinearity.
TRAINING_RUNS: tuple[TrainingRun, ...] = (
    #           name             steps to 72.2 %  max acc.  setup
    TrainingRun("Inception", 31_000_000, 72.2, "the network of §4.2 (Fig. 5), no BN"),
    TrainingRun("BN-Baseline", 13_300_000, 72.7, "Inception with BN before each nonlinearity, nothing else changed"),
    TrainingRun("BN-x5", 2_100_000, 73.0, "BN-Baseline with the changes of §4.2.1, initial learning rate x5"),
    TrainingRun("BN-x30", 2_700_000, 74.8, "like BN-x5, initial learning rate x30"),
    TrainingRun("BN-x5-Sigmoid", None, 69.8, "like BN-x5, with sigmoid instead of ReLU"),
)
#: Runs by name.
RUN: dict[str, TrainingRun] = {run.name: run for run in TRAINING_RUNS}
#: "BN-x30 ... reaches 74.8% after 6*10^6 steps, i.e. 5 times fewer steps than required by Inception to reach
#: 72.2%" [BN, §4.2.2].
BN_X30_STEPS_TO_MAX = 6_000_000

#: What BN-x5 and BN-x30 changed besides adding BN [BN, §4.2.1] ("Accelerating BN Networks").
BN_X5_CHANGES: tuple[str, ...] = (
    "increase the learning rate (x5 for BN-x5, x30 for BN-x30)",
    "remove dropout",
    "reduce the L2 weight regularization by a factor of 5",
    "accelerate the learning rate decay (6 times faster)",
    "remove local response normalization",
    "shuffle training examples more thoroughly (within shards)",
    "reduce the photometric distortions",
)


@dataclass(frozen=True)
class Result:
    """One line of [BN, Fig. 4]: validation error on ImageNet (50,000 images), in %."""

    model: str
    crops: int
    top1_error: float
    top5_error: float


#: [BN, Fig. 4], the BN-Inception lines ("ensemble" = 6 networks, 144 crops each).
FIGURE4_RESULTS: tuple[Result, ...] = (
    Result("BN-Inception single crop", 1, 25.2, 7.82),
    Result("BN-Inception multicrop", 144, 21.99, 5.82),
    Result("BN-Inception ensemble", 144, 20.1, 4.9),
)
#: "4.82% top-5 error on the 100000 images of the test set" for the ensemble [BN, Fig. 4 footnote].
ENSEMBLE_TEST_TOP5_ERROR = 4.82


# ---------------------------------------------------------------------------------------------------------
# Checking the printed table
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutputSize:
    """Computed vs printed output size of one row of [BN, Fig. 5], as (height, width, channels)."""

    name: str
    type: str
    printed: tuple[int, int, int]
    computed: tuple[int, int, int]

    @property
    def matches(self) -> bool:
        return self.printed == self.computed

    @property
    def difference(self) -> str:
        """Which of grid and channels disagree, e.g. ``"channels 608 (printed 576)"``; ``""`` when they match."""
        parts = []
        if self.printed[:2] != self.computed[:2]:
            parts.append(f"grid {self.computed[0]}x{self.computed[1]} (printed {self.printed[0]}x{self.printed[1]})")
        if self.printed[2] != self.computed[2]:
            parts.append(f"channels {self.computed[2]} (printed {self.printed[2]})")
        return "; ".join(parts)


def output_size_table(model: Any, image_size: int = 224) -> list[OutputSize]:
    """Every row of [BN, Fig. 5] with its printed output size and the size its columns actually give.

    Args:
        model: the network built from :data:`FIGURE5` (``bn_inception(...)``): its shape walk
            (``stage_shapes``, no forward pass) gives the computed sizes, and its ``stage_of_row`` says which
            stage implements each row.
        image_size: side of the square input; at 224 the rows that disagree are 3c, 4c, 4d and 4e.
    """
    if not (hasattr(model, "stage_shapes") and hasattr(model, "stage_of_row")):
        raise ValueError(f"output_size_table needs the BN-Inception network (bn_inception(...)), got "
                         f"{type(model).__name__}.")
    check_positive_int("image_size", image_size)
    shapes = model.stage_shapes(image_size, image_size)
    rows = []
    for row in FIGURE5:
        c, h, w = shapes[model.stage_of_row(row.name)]
        rows.append(OutputSize(row.name, row.type, row.printed_output, (h, w, c)))
    return rows


@dataclass(frozen=True)
class CostDelta:
    """What BN-Inception costs more than paper-faithful GoogLeNet, next to what the BN paper claims [BN, Fig. 5].

    Attributes:
        params, macs: of the BN-Inception network (eval mode, 1x3x224x224), counted by
            :func:`inception_lab.cost.count`.
        bn_params: the part of ``params`` that is BatchNorm gamma and beta.
        first_conv: ``"plain"`` or ``"separable"``, for both networks.
        googlenet_params, googlenet_macs: paper-faithful GoogLeNet [GoogLeNet, Table 1] with the same kind of
            first convolution, no auxiliary heads (:func:`~inception_lab.papers.going_deeper.googlenet_cost`).
        paper_params: the 13.6 M of [BN, §4.2].
        paper_params_increase, paper_macs_increase: +25 % and +30 % over GoogLeNet [BN, Fig. 5 text].
        report: the full per-layer :class:`~inception_lab.cost.CostReport`.
    """

    first_conv: str
    params: int
    macs: int
    bn_params: int
    googlenet_params: int
    googlenet_macs: int
    paper_params: int
    paper_params_increase: float
    paper_macs_increase: float
    report: CostReport

    @property
    def params_increase(self) -> float:
        """Computed relative increase in parameters over GoogLeNet (0.61 means +61 %)."""
        return self.params / self.googlenet_params - 1

    @property
    def macs_increase(self) -> float:
        """Computed relative increase in MACs over GoogLeNet."""
        return self.macs / self.googlenet_macs - 1


def compare_with_googlenet(model: Any) -> CostDelta:
    """Count a BN-Inception network at 1x3x224x224 and set it next to GoogLeNet and the paper's claims.

    GoogLeNet's numbers come from its Table 1 (:func:`~inception_lab.papers.going_deeper.googlenet_cost`), with the
    same kind of first convolution as ``model`` so that like is compared with like (GoogLeNet's Table 1 numbers
    also imply a separable first layer).

    Args:
        model: ``bn_inception(...)``; its ``config.first_conv`` (``"plain"`` or ``"separable"``, the paper's "*")
            picks GoogLeNet's first layer. It is counted in eval mode and left in the mode it came in.
    """
    first_conv = getattr(getattr(model, "config", None), "first_conv", None)
    if first_conv not in FIRST_CONVS:
        raise ValueError(f"compare_with_googlenet needs the BN-Inception network (bn_inception(...)), whose config "
                         f"names its first convolution (first_conv in {FIRST_CONVS}); got {type(model).__name__}.")
    training = model.training
    try:
        report = count(model.eval(), (1, 3, 224, 224))
    finally:
        model.train(training)
    bn_params = sum(layer.params for layer in report.layers if layer.kind in ("BatchNorm2d", "ScratchBatchNorm2d"))
    googlenet = googlenet_cost(first_conv)
    return CostDelta(first_conv=first_conv, params=report.params, macs=report.macs, bn_params=bn_params,
                     googlenet_params=googlenet.params, googlenet_macs=googlenet.macs, paper_params=PAPER_PARAMS,
                     paper_params_increase=PAPER_PARAMS_INCREASE, paper_macs_increase=PAPER_MACS_INCREASE,
                     report=report)
