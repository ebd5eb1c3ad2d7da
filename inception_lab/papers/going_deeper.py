"""What "Going Deeper with Convolutions" prints [GoogLeNet], transcribed as data, and the check of its Table 1.

* :data:`TABLE1` -- every line of Table 1 as printed (type, patch size/stride, output size, depth, the "params" and
  "ops" cells) with the attributes of :class:`~inception_lab.models.googlenet.GoogLeNet` that implement it;
  :data:`TABLE1_ROWS` -- the six filter columns of its nine Inception lines. The network is built from these
  rows (and from where the table puts its max-pools), so the table and the model cannot drift apart.
* :data:`AUX_HEAD` -- the auxiliary classifier of §5, as the text describes it.
* :data:`FIG2A`, :data:`FIG2B` -- the two modules of Fig. 2 as drawn
  (:class:`~inception_lab.papers.figures.ModuleFigure`); :data:`RELEASED_DIFFERENCES` -- where torchvision's port
  (``googlenet_tv``) differs from them and from Table 1.
* :func:`table1_comparison` -- one :class:`Table1Check` per line: the printed "params"/"ops" cells next to what
  the table's own filter counts give, with a note that explains every line that disagrees; :func:`googlenet_cost`
  -- the whole network's count from the same rows (pure Python; a test checks it against ``count()`` on the
  torch model).

Introduced in chapter 2 (``notebooks/02_googlenet.ipynb``). Imports only the formula layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inception_lab.checks import check_choice, check_positive_int
from inception_lab.cost.core import Cost, conv2d_cost, linear_cost, separable_conv_cost
from inception_lab.cost.inception import inception_reduced_cost
from inception_lab.papers.figures import ModuleFigure, ReleasedDifference
from inception_lab.shapes import scale_width


@dataclass(frozen=True)
class InceptionRow:
    """One Inception line of [GoogLeNet, Table 1]: the six filter columns, in the table's order.

    Attributes:
        name: the row's label without "inception", e.g. ``"3a"``; the model attribute is ``inception3a``.
        ch1x1: "#1x1" -- filters of the 1x1 branch.
        ch3x3red: "#3x3 reduce" -- 1x1 filters before the 3x3 convolution.
        ch3x3: "#3x3" -- filters of the 3x3 convolution.
        ch5x5red: "#5x5 reduce" -- 1x1 filters before the 5x5 convolution.
        ch5x5: "#5x5" -- filters of the 5x5 convolution.
        pool_proj: "pool proj" -- 1x1 filters after the 3x3 max-pooling.
    """

    name: str
    ch1x1: int
    ch3x3red: int
    ch3x3: int
    ch5x5red: int
    ch5x5: int
    pool_proj: int

    def __post_init__(self) -> None:
        columns = ("ch1x1", "ch3x3red", "ch3x3", "ch5x5red", "ch5x5", "pool_proj")
        for column, value in zip(columns, self.widths, strict=True):
            check_positive_int(f"inception ({self.name}) {column}", value)

    @property
    def widths(self) -> tuple[int, int, int, int, int, int]:
        """The six filter columns, in Table 1's order (:class:`~inception_lab.models.googlenet.Inception`'s)."""
        return (self.ch1x1, self.ch3x3red, self.ch3x3, self.ch5x5red, self.ch5x5, self.pool_proj)

    @property
    def out_channels(self) -> int:
        """Channels after the filter concatenation: #1x1 + #3x3 + #5x5 + pool proj."""
        return self.ch1x1 + self.ch3x3 + self.ch5x5 + self.pool_proj

    def scaled(self, divisor: int) -> InceptionRow:
        """This row with every width divided by ``divisor`` (:func:`~inception_lab.shapes.scale_width`)."""
        return InceptionRow(self.name, *(scale_width(w, divisor) for w in self.widths))


#: The nine Inception rows of [GoogLeNet, Table 1], (3a) to (5b).
TABLE1_ROWS: tuple[InceptionRow, ...] = (
    #            name  #1x1 #3x3red #3x3 #5x5red #5x5 poolproj
    InceptionRow("3a", 64, 96, 128, 16, 32, 32),
    InceptionRow("3b", 128, 128, 192, 32, 96, 64),
    InceptionRow("4a", 192, 96, 208, 16, 48, 64),
    InceptionRow("4b", 160, 112, 224, 24, 64, 64),
    InceptionRow("4c", 128, 128, 256, 24, 64, 64),
    InceptionRow("4d", 112, 144, 288, 32, 64, 64),
    InceptionRow("4e", 256, 160, 320, 32, 128, 128),
    InceptionRow("5a", 256, 160, 320, 32, 128, 128),
    InceptionRow("5b", 384, 192, 384, 48, 128, 128),
)

#: Row names in network order; ``GoogLeNet`` has one attribute ``inception<name>`` per name.
ROW_NAMES: tuple[str, ...] = tuple(row.name for row in TABLE1_ROWS)


@dataclass(frozen=True)
class Table1Line:
    """One line of [GoogLeNet, Table 1] as printed, and the :class:`GoogLeNet` attributes that implement it.

    Attributes:
        type: the "type" column, e.g. ``"convolution"``, ``"inception (3a)"``.
        patch: "patch size/stride", e.g. ``"7x7/2"`` (``""`` where the cell is empty).
        output: "output size" as (height, width, channels).
        depth: the "depth" column (layers with parameters).
        params: the "params" cell exactly as printed, e.g. ``"2.7K"`` (``""`` where empty). The paper's K
            appears to be 1024 (:data:`PRINTED_K`).
        ops: the "ops" cell as printed, e.g. ``"34M"``; M = 10**6 multiply-accumulates (:data:`PRINTED_M`).
        modules: attribute names of :class:`GoogLeNet` that implement the line (empty for softmax, which lives
            in the loss).
    """

    type: str
    patch: str
    output: tuple[int, int, int]
    depth: int
    params: str
    ops: str
    modules: tuple[str, ...]

    @property
    def label(self) -> str:
        """The line as the chapter names it, e.g. ``"convolution 7x7/2"`` or ``"inception (4a)"``."""
        return f"{self.type} {self.patch}".strip()


#: Every line of [GoogLeNet, Table 1], top to bottom, as printed.
TABLE1: tuple[Table1Line, ...] = (
    Table1Line("convolution", "7x7/2", (112, 112, 64), 1, "2.7K", "34M", ("conv1",)),
    Table1Line("max pool", "3x3/2", (56, 56, 64), 0, "", "", ("maxpool1",)),
    # "depth 2": the 1x1 reduction (#3x3 reduce = 64) and the 3x3 convolution (#3x3 = 192).
    Table1Line("convolution", "3x3/1", (56, 56, 192), 2, "112K", "360M", ("conv2", "conv3")),
    Table1Line("max pool", "3x3/2", (28, 28, 192), 0, "", "", ("maxpool2",)),
    Table1Line("inception (3a)", "", (28, 28, 256), 2, "159K", "128M", ("inception3a",)),
    Table1Line("inception (3b)", "", (28, 28, 480), 2, "380K", "304M", ("inception3b",)),
    Table1Line("max pool", "3x3/2", (14, 14, 480), 0, "", "", ("maxpool3",)),
    Table1Line("inception (4a)", "", (14, 14, 512), 2, "364K", "73M", ("inception4a",)),
    Table1Line("inception (4b)", "", (14, 14, 512), 2, "437K", "88M", ("inception4b",)),
    Table1Line("inception (4c)", "", (14, 14, 512), 2, "463K", "100M", ("inception4c",)),
    Table1Line("inception (4d)", "", (14, 14, 528), 2, "580K", "119M", ("inception4d",)),
    Table1Line("inception (4e)", "", (14, 14, 832), 2, "840K", "170M", ("inception4e",)),
    Table1Line("max pool", "3x3/2", (7, 7, 832), 0, "", "", ("maxpool4",)),
    Table1Line("inception (5a)", "", (7, 7, 832), 2, "1072K", "54M", ("inception5a",)),
    Table1Line("inception (5b)", "", (7, 7, 1024), 2, "1388K", "71M", ("inception5b",)),
    Table1Line("avg pool", "7x7/1", (1, 1, 1024), 0, "", "", ("avgpool",)),
    Table1Line("dropout (40%)", "", (1, 1, 1024), 0, "", "", ("dropout",)),
    Table1Line("linear", "", (1, 1, 1000), 1, "1000K", "1M", ("fc",)),
    Table1Line("softmax", "", (1, 1, 1000), 0, "", "", ()),
)

#: The paper's "K" in the params column: 1024. The conv 3x3 line (64*192*9 + 64*64 = 114,688 = 112*1024
#: weights) and the linear line (1024*1000 = 1000*1024) are exact only with K = 1024.
PRINTED_K = 1024
#: The paper's "M" in the ops column: 10**6 multiply-accumulates.
PRINTED_M = 10**6

#: Input of the network: "The size of the receptive field in our network is 224x224 taking RGB color channels
#: with mean subtraction" [GoogLeNet, §5]. (height, width, channels).
TABLE1_INPUT: tuple[int, int, int] = (224, 224, 3)


#: Stem widths of Table 1's first four lines: conv 7x7/2 (64), max pool, conv 1x1 "#3x3 reduce" (64) + 3x3 (192).
STEM_WIDTHS = dict(conv1=64, conv2=64, conv3=192)

#: Where Table 1 puts its stride-2 max-pools between Inception rows: after (3b) and after (4e).
POOLS_AFTER: tuple[str, ...] = tuple(
    TABLE1[i - 1].type.removeprefix("inception (").removesuffix(")")
    for i, line in enumerate(TABLE1) if line.type == "max pool" and TABLE1[i - 1].type.startswith("inception"))

#: The auxiliary classifier of [GoogLeNet, §5]: "An average pooling layer with 5x5 filter size and stride 3 ... A
#: 1x1 convolution with 128 filters ... A fully connected layer with 1024 units ... A dropout layer with 70% ratio
#: of dropped outputs", its loss "weighted by 0.3", on top of (4a) and (4d).
AUX_HEAD = dict(pool_kernel=5, pool_stride=3, conv=128, fc=1024, dropout=0.7, loss_weight=0.3, on=("4a", "4d"))

#: "Our GoogLeNet submission to ILSVRC 2014 actually uses 12x fewer parameters than the winning architecture of
#: Krizhevsky et al" [GoogLeNet, §1]; "a computational budget of 1.5 billion multiply-adds at inference time".
PAPER_PARAMS_RATIO_ALEXNET = 12
PAPER_MACS_BUDGET = 1_500_000_000


# ---------------------------------------------------------------------------------------------------------
# Fig. 2: the module, as drawn
# ---------------------------------------------------------------------------------------------------------
#: [GoogLeNet, Fig. 2(a)]: "1x1 convolutions", "3x3 convolutions", "5x5 convolutions" and "3x3 max pooling" side
#: by side on the previous layer, then the filter concatenation.
FIG2A = ModuleFigure("GoogLeNet", "Fig. 2(a)", "Inception module, naïve version",
                     (("1x1",), ("3x3",), ("5x5",), ("3x3 max pool",)))
#: [GoogLeNet, Fig. 2(b)]: the 1x1 reductions before the 3x3 and the 5x5, and the 1x1 projection after the pooling
#: -- the columns #1x1, #3x3 reduce / #3x3, #5x5 reduce / #5x5, pool proj of Table 1, in that order.
FIG2B = ModuleFigure("GoogLeNet", "Fig. 2(b)", "Inception module with dimension reductions",
                     (("1x1",), ("1x1", "3x3"), ("1x1", "5x5"), ("3x3 max pool", "1x1")))

def _pool_token(line: Table1Line) -> str:
    """A max-pool line of Table 1 as a figure token: ``"max pool", "3x3/2"`` -> ``"3x3 max pool/2"``."""
    kernel, stride = line.patch.split("/")
    return f"{kernel} max pool/{stride}"


#: Where torchvision's GoogLeNet (``googlenet_tv``: "ported from the original paper" by way of TensorFlow) differs
#: from Fig. 2(b) and Table 1 in its structure; its other deviations (BatchNorm, no LRN, dropout 0.2) are in
#: ``googlenet_tv``'s docstring.
RELEASED_DIFFERENCES: tuple[ReleasedDifference, ...] = (
    ReleasedDifference(
        "the '#5x5' branch of every Inception module convolves 3x3, not 5x5", "Fig. 2(b), Table 1",
        tuple(f"inception{name}" for name in ROW_NAMES), "branch", FIG2B.branches[2], ("1x1", "3x3"),
        ("pytorch/vision#906 ('a known bug', kept for weight compatibility)", "tensorflow/models#443 (TF-slim)"),
        branch=3),
    ReleasedDifference(
        "the max-pool before (5a) is 2x2/2, not 3x3/2 (the same 7x7 output)", "Table 1",
        ("maxpool4",), "layers", tuple(_pool_token(line) for line in TABLE1 if line.modules == ("maxpool4",)),
        ("2x2 max pool/2",), ("torchvision's googlenet.py (maxpool4)",)),
)


# ---------------------------------------------------------------------------------------------------------
# Table 1 reproduced
# ---------------------------------------------------------------------------------------------------------
def _printed(cell: str) -> tuple[float, float]:
    """A printed cell such as ``"2.7K"`` -> (2.7, 0.1): the number and the unit of its last digit."""
    number = cell.rstrip("KM")
    decimals = len(number.split(".")[1]) if "." in number else 0
    return float(number), 10.0 ** -decimals


@dataclass(frozen=True)
class Table1Check:
    """One line of [GoogLeNet, Table 1] checked: its printed cells next to what its filter counts give.

    One entry of :func:`table1_comparison`.

    Attributes:
        line: the line's label, e.g. ``"inception (4a)"``.
        printed_params, printed_ops: the cells as printed (``"364K"``, ``"73M"``).
        weights: conv/linear weights computed from the filter counts (paper-faithful: 5x5 kernels).
        biases: their biases (the paper's convolutions have them).
        macs: multiply-accumulates at Table 1's output size.
        params_match, ops_match: computed value within one unit of the printed cell's last digit (the table
            rounds, and may or may not count biases: either weights or weights + biases may match).
        note: why the line disagrees ("" when it matches).
    """

    line: str
    printed_params: str
    printed_ops: str
    weights: int
    biases: int
    macs: int
    params_match: bool
    ops_match: bool
    note: str

    @property
    def params_k(self) -> float:
        """Computed weights in the paper's K (1024)."""
        return self.weights / PRINTED_K

    @property
    def ops_m(self) -> float:
        """Computed MACs in the paper's M (10**6)."""
        return self.macs / PRINTED_M

    @property
    def matches(self) -> bool:
        return self.params_match and self.ops_match


def _kernel(line: Table1Line) -> int:
    """The kernel side of a convolution line's "patch size/stride" cell ("7x7/2" -> 7)."""
    return int(line.patch.split("x")[0])


def _line_cost(line: Table1Line, previous: tuple[int, int, int], rows: dict[str, InceptionRow], bias: bool) -> Cost:
    """Cost of one Table 1 line with the pure formulas of :mod:`inception_lab.cost` (5x5 kernels, no BN)."""
    h, w, c_out = line.output
    c_in = previous[2]
    if line.modules == ("conv1",):
        return conv2d_cost(c_in, c_out, _kernel(line), (h, w), bias=bias)
    if line.modules == ("conv2", "conv3"):
        return (conv2d_cost(c_in, STEM_WIDTHS["conv2"], 1, (h, w), bias=bias)
                + conv2d_cost(STEM_WIDTHS["conv2"], c_out, _kernel(line), (h, w), bias=bias))
    if line.modules == ("fc",):
        return linear_cost(previous[2], c_out, bias=bias)
    row = rows[line.modules[0].removeprefix("inception")]
    return inception_reduced_cost(c_in, (h, w), *row.widths, bias=bias).total


def table1_comparison() -> list[Table1Check]:
    """[GoogLeNet, Table 1]'s "params" and "ops" columns next to what the table's own filter counts give.

    One entry per line with printed costs (the two convolution lines, the nine Inception lines, the linear
    layer), computed from :data:`TABLE1`, :data:`TABLE1_ROWS` and :data:`STEM_WIDTHS` -- the data the model
    is built from -- with the formulas of :mod:`inception_lab.cost`. Params are compared in K = 1024
    (:data:`PRINTED_K`), ops in M = 10**6 MACs. Every disagreeing line carries a note; the notes' numbers are
    computed here, not typed.
    """
    rows = {row.name: row for row in TABLE1_ROWS}
    out: list[Table1Check] = []
    previous = TABLE1_INPUT
    for line in TABLE1:
        if line.params:
            cost = _line_cost(line, previous, rows, bias=False)
            with_bias = _line_cost(line, previous, rows, bias=True)
            biases = with_bias.params - cost.params
            p_value, p_unit = _printed(line.params)
            o_value, o_unit = _printed(line.ops)
            params_match = min(abs(cost.params / PRINTED_K - p_value),
                               abs(with_bias.params / PRINTED_K - p_value)) <= p_unit + 1e-9
            ops_match = abs(cost.macs / PRINTED_M - o_value) <= o_unit + 1e-9
            note = ""
            if not (params_match and ops_match):
                note = _disagreement_note(line, cost, biases, p_value, o_value, params_match, ops_match)
            out.append(Table1Check(line.label, line.params, line.ops, cost.params, biases, cost.macs,
                                        params_match, ops_match, note))
        previous = line.output
    return out


def _disagreement_note(line: Table1Line, cost: Cost, biases: int, p_value: float, o_value: float,
                       params_match: bool, ops_match: bool) -> str:
    h, w, _ = line.output
    computed = f"the filter counts give {cost.params / PRINTED_K:.2f}K weights and {cost.macs / PRINTED_M:.2f}M MACs"
    if line.modules == ("conv1",):
        sep = separable_conv_cost(TABLE1_INPUT[2], line.output[2], _kernel(line), h)
        sep_bias = separable_conv_cost(TABLE1_INPUT[2], line.output[2], _kernel(line), h, bias=True)
        return (f"a plain 7x7 convolution has {cost.params:,} weights ({cost.params / PRINTED_K:.2f}K) and "
                f"{cost.macs / PRINTED_M:.2f}M MACs; a 7x7 depthwise-separable convolution with depth multiplier 8 "
                f"(3 -> 24 depthwise, 24 -> 64 pointwise) has {sep.params:,} weights ({sep.params / PRINTED_K:.2f}K, "
                f"which rounds to {sep.params / PRINTED_K:.1f}K; the printed {line.params} needs the 1x1's biases, "
                f"{sep_bias.params:,} = "
                f"{sep_bias.params / PRINTED_K:.2f}K, or K = 1000) and {sep.macs / PRINTED_M:.2f}M MACs, the printed "
                f"{line.ops} -- BN-Inception's first layer is such a convolution [BN, Fig. 5], and so was Inception "
                f"V1's [Xception, §2] (first_conv='separable').")
    # A 'same'-padded module's MACs are its weights times the output positions, so the printed ops imply a
    # weight count; the ops are printed to 1M, which leaves +-1M / positions of slack.
    positions = h * w
    low, high = ((o_value - 1) * PRINTED_M / positions / PRINTED_K, (o_value + 1) * PRINTED_M / positions / PRINTED_K)
    implied = f"{line.ops} over {h}x{w} positions implies {low:.0f}K-{high:.0f}K weights"
    if not ops_match:
        return (f"printed {line.params} / {line.ops}, but {computed}. The printed pair is consistent with itself "
                f"({implied}) but does not follow from the row's filter counts.")
    if low <= p_value <= high:
        return (f"printed {line.params}, but {computed} (+{biases} biases). The printed ops fit both "
                f"({implied}).")
    return (f"printed {line.params}, but {computed} (+{biases} biases). The printed ops agree with the filter "
            f"counts ({implied}), so the params cell is what is off.")


def format_table1_comparison(comparison: Sequence[Table1Check] | None = None) -> str:
    """:func:`table1_comparison` as a fixed-width text table (the static twin of the chapter's table)."""
    comparison = table1_comparison() if comparison is None else comparison
    lines = [f"{'line':<20} {'printed':>8} {'weights':>10} {'/1024':>8} {'printed':>8} {'MACs (M)':>9}  match"]
    for r in comparison:
        flag = "yes" if r.matches else "NO"
        lines.append(f"{r.line:<20} {r.printed_params:>8} {r.weights:>10,} {r.params_k:>7.1f}K "
                     f"{r.printed_ops:>8} {r.ops_m:>9.2f}  {flag}")
    return "\n".join(lines)


#: First layers :func:`googlenet_cost` knows: Table 1's plain 7x7, or the separable one its costs imply.
FIRST_CONVS = ("plain", "separable")


def googlenet_cost(first_conv: str = "plain") -> Cost:
    """Parameters and MACs of the paper-faithful GoogLeNet at 224x224, from Table 1's rows alone (pure Python).

    Conv biases, 5x5 kernels in the "#5x5" branch, no BatchNorm, no auxiliary heads: what
    :func:`inception_lab.models.googlenet.googlenet` builds with ``aux_logits=False`` (a test checks that
    ``count()`` on it gives the same numbers): 6,998,552 parameters and 1,582,671,872 MACs with the plain 7x7
    first layer. ``first_conv="separable"`` prices the first line as the depthwise-separable convolution whose
    cost Table 1 prints (with the pointwise convolution's bias).
    """
    check_choice("first_conv", first_conv, FIRST_CONVS)
    rows = {row.name: row for row in TABLE1_ROWS}
    cost, previous = Cost(), TABLE1_INPUT
    for line in TABLE1:
        if line.params:
            if line.modules == ("conv1",) and first_conv == "separable":
                cost += separable_conv_cost(previous[2], line.output[2], _kernel(line), line.output[0], bias=True)
            else:
                cost += _line_cost(line, previous, rows, bias=True)
        previous = line.output
    return cost
