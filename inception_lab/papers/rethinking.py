"""What "Rethinking the Inception Architecture for Computer Vision" prints [Rethinking], transcribed as data.

* :data:`TABLE1` -- the outline of the proposed network (its Table 1; the column is the *input* size of each row).
* :data:`TABLE2` -- §9's lower-resolution study: top-1 accuracy at three receptive fields, equal cost (Table 2).
* :data:`TABLE3` -- single-crop results of the cumulative "Inception-v2" ablation (Table 3).
* :data:`BEYOND_SINGLE_CROP` -- Inception-v3 with more crops and as an ensemble of four (Tables 4-5, abstract).
* :data:`FIG4`, :data:`FIG5`, :data:`FIG6` (:func:`fig6` for any n), :data:`FIG7`, :data:`FIG10` -- the modules as
  the figures draw them (:class:`~inception_lab.papers.figures.ModuleFigure`); :data:`RELEASED_DIFFERENCES` -- where
  the released model (TF-slim, ported by torchvision) differs from them, from Table 1 and from §10.
* The stated costs and savings of §3 (factorization), §5 (grid-size reduction), §6-7 and the abstract, as numbers
  with the sentence they come from, so chapters and tests can check them against the cost model.

Provenance: the text and captions were read in full; the bodies of Tables 2, 3 and 4 only through third-party
transcriptions that agree with the numbers the paper's own text repeats (the last row of Table 3 is also in the
abstract); Table 5's body not at all (its caption and the abstract give the ensemble's errors). Introduced in
chapters 4-6. Imports only the formula layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from inception_lab.papers.figures import ModuleFigure, ReleasedDifference


# ---------------------------------------------------------------------------------------------------------
# Table 1: the network outline
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OutlineRow:
    """One row of [Rethinking, Table 1]: "type", "patch size/stride or remarks", "input size" (H, W, C)."""

    type: str
    patch: str
    input_size: tuple[int, int, int]


#: [Rethinking, Table 1] "The outline of the proposed network architecture". "The output size of each module is the
#: input size of the next one." Caption: "0-padding ... is used to maintain the grid size. All other layers do not
#: use padding." The last three stem rows do not match the released model (torchvision/TF: 1x1 -> 80, 3x3 -> 192
#: valid, then a 3x3/2 max-pool).
TABLE1: tuple[OutlineRow, ...] = (
    OutlineRow("conv", "3x3/2", (299, 299, 3)),
    OutlineRow("conv", "3x3/1", (149, 149, 32)),
    OutlineRow("conv padded", "3x3/1", (147, 147, 32)),
    OutlineRow("pool", "3x3/2", (147, 147, 64)),
    OutlineRow("conv", "3x3/1", (73, 73, 64)),
    OutlineRow("conv", "3x3/2", (71, 71, 80)),
    OutlineRow("conv", "3x3/1", (35, 35, 192)),
    OutlineRow("3xInception", "As in figure 5", (35, 35, 288)),
    OutlineRow("5xInception", "As in figure 6", (17, 17, 768)),
    OutlineRow("2xInception", "As in figure 7", (8, 8, 1280)),
    OutlineRow("pool", "8x8", (8, 8, 2048)),
    OutlineRow("linear", "logits", (1, 1, 2048)),
    OutlineRow("softmax", "classifier", (1, 1, 1000)),
)

#: Grid sizes of the three Inception stages and their module counts [Rethinking, Table 1, §6].
STAGES = {"35x35": dict(grid=35, modules=3, figure=5), "17x17": dict(grid=17, modules=5, figure=6),
          "8x8": dict(grid=8, modules=2, figure=7)}

#: "In our proposed architecture, we chose n = 7 for the 17 x 17 grid" [Rethinking, Fig. 6].
FACTORIZATION_N_17X17 = 7


# ---------------------------------------------------------------------------------------------------------
# The module figures, as drawn
# ---------------------------------------------------------------------------------------------------------
#: [Rethinking, Fig. 4]: GoogLeNet's module with dimension reductions ([GoogLeNet, Fig. 2(b)]); "Pool" is drawn
#: without its kind or size.
FIG4 = ModuleFigure("Rethinking", "Fig. 4", "Original Inception module as described in [20].",
                    (("1x1",), ("1x1", "3x3"), ("1x1", "5x5"), ("pool", "1x1")))
#: [Rethinking, Fig. 5]: Fig. 4 with its 5x5 replaced by two 3x3 -- one branch with one 3x3, one with two. This is
#: BN-Inception's module ([BN, Fig. 5]); the released model has 1x1 -> 5x5 where the figure has 1x1 -> 3x3
#: (:data:`RELEASED_DIFFERENCES`).
FIG5 = ModuleFigure("Rethinking", "Fig. 5", "Inception modules where each 5 x 5 convolution is replaced by two 3 x 3 "
                    "convolution, as suggested by principle 3 of Section 2.",
                    (("1x1",), ("1x1", "3x3"), ("1x1", "3x3", "3x3"), ("pool", "1x1")))


def fig6(n: int) -> ModuleFigure:
    """[Rethinking, Fig. 6] for a given n: each n x n factorized into 1 x n then n x 1, the order the figure draws.

    The 3x3 branch of Fig. 5 becomes 1 x n -> n x 1; its double 3x3 branch two such pairs.
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise ValueError(f"Fig. 6's n is an integer of at least 2, got {n!r}.")
    one, other = f"1x{n}", f"{n}x1"
    return ModuleFigure("Rethinking", "Fig. 6" if n == FACTORIZATION_N_17X17 else f"Fig. 6 (n = {n})",
                        "Inception modules after the factorization of the n x n convolutions. In our proposed "
                        "architecture, we chose n = 7 for the 17 x 17 grid.",
                        (("1x1",), ("1x1", one, other), ("1x1", one, other, one, other), ("pool", "1x1")),
                        reading="each pair drawn 1 x n first, n x 1 above it (the released model starts its "
                                "double branch with 7x1)")


#: [Rethinking, Fig. 6] with the paper's n = 7 for the 17x17 grid.
FIG6 = fig6(FACTORIZATION_N_17X17)
#: [Rethinking, Fig. 7]: the 3x3 branch's 1x1 and the double branch's 3x3 each feed a 1x3 and a 3x1 drawn side by
#: side, whose outputs are concatenated ("expanded the filter bank outputs").
FIG7 = ModuleFigure("Rethinking", "Fig. 7", "Inception modules with expanded the filter bank outputs. This "
                    "architecture is used on the coarsest (8 x 8) grids to promote high dimensional representations, "
                    "as suggested by principle 2 of Section 2.",
                    (("1x1",), ("1x1", ("1x3", "3x1")), ("1x1", "3x3", ("1x3", "3x1")), ("pool", "1x1")))
#: [Rethinking, Fig. 10]: two convolution branches whose last 3x3 has stride 2, beside a stride-2 "Pool" ("either
#: average or maximum pooling", §5), concatenated. Table 1's caption allows "variations of reduction technique
#: depicted Figure 10"; the released model uses two (:data:`RELEASED_DIFFERENCES`).
FIG10 = ModuleFigure("Rethinking", "Fig. 10", "Inception module that reduces the grid-size while expands the filter "
                     "banks. It is both cheap and avoids the representational bottleneck as is suggested by "
                     "principle 1.",
                     (("1x1", "3x3/2"), ("1x1", "3x3", "3x3/2"), ("pool/2",)))


def _row_token(row: OutlineRow) -> str:
    """A stem row of Table 1 as a figure token: conv "3x3/1" -> ``"3x3"``, conv "3x3/2" -> ``"3x3/2"``."""
    kernel, stride = row.patch.split("/")
    token = kernel if stride == "1" else f"{kernel}/{stride}"
    return token if row.type.startswith("conv") else f"{kernel} max pool/{stride}"


_RELEASED_A = ("pytorch/vision#798", "tensorflow/models#2395", "tensorflow/tensorflow#36262")
_VARIATIONS = ("Table 1's caption: 'We are using variations of reduction technique depicted Figure 10'",)

#: Where the released Inception-v3 (TF-slim's ``inception_v3``, ported by torchvision; our ``inception_v3()``)
#: differs from what the paper prints. ``tests/test_paper_figures.py`` checks each against the built model.
RELEASED_DIFFERENCES: tuple[ReleasedDifference, ...] = (
    ReleasedDifference("module A's second branch is 1x1 (48) -> 5x5 (64) where Fig. 5 has 1x1 -> 3x3",
                       "Fig. 5", ("Mixed_5b", "Mixed_5c", "Mixed_5d"), "branch", FIG5.branches[1], ("1x1", "5x5"),
                       _RELEASED_A, branch=2),
    ReleasedDifference("module B's double branch starts with 7x1 (7x1, 1x7, 7x1, 1x7) where Fig. 6 draws 1x7 "
                       "first (the same parameters and multiply-adds)", "Fig. 6",
                       ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"), "branch", FIG6.branches[2],
                       ("1x1", "7x1", "1x7", "7x1", "1x7"), ("torchvision's InceptionC (branch7x7dbl)",), branch=3),
    ReleasedDifference("the 35 -> 17 reduction's single 3x3/2 has no 1x1 before it", "Fig. 10", ("Mixed_6a",),
                       "branch", FIG10.branches[0], ("3x3/2",), _VARIATIONS, branch=1),
    ReleasedDifference("the 17 -> 8 reduction's deep branch is 1x1 -> 1x7 -> 7x1 -> 3x3/2, not 1x1 -> 3x3 -> 3x3/2",
                       "Fig. 10", ("Mixed_7a",), "branch", FIG10.branches[1], ("1x1", "1x7", "7x1", "3x3/2"),
                       _VARIATIONS, branch=2),
    ReleasedDifference("the stem's last rows are 1x1 (80) -> 3x3 (192, 73 -> 71) -> 3x3/2 max-pool (35x35x192), not "
                       "Table 1's conv 3x3/1 (80) -> conv 3x3/2 (192) -> conv 3x3/1 (288 at 35x35)", "Table 1",
                       ("Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2"), "layers",
                       tuple(_row_token(row) for row in TABLE1[4:7]), ("1x1", "3x3", "3x3 max pool/2"),
                       ("torchvision's inception.py (Conv2d_3b_1x1, Conv2d_4a_3x3, maxpool2)",
                        "discuss.pytorch.org, 'Inception Block Implementation' (the 1x1 where Table 1 has a 3x3)")),
    ReleasedDifference("the auxiliary classifier's fully connected layer is not batch-normalized (Table 3's last "
                       "row, Inception-v3, is 'BN-auxiliary')", "§10, Table 3", ("AuxLogits",), "head",
                       ("BatchNorm1d", "Linear"), ("Linear",),
                       ("§10: 'BN-auxiliary refers to the version in which the fully connected layer of the auxiliary "
                        "classifier is also batch-normalized, not just the convolutions'",)),
)


# ---------------------------------------------------------------------------------------------------------
# Table 3: the cumulative ablation (single crop, ILSVRC 2012 validation)
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultRow:
    """One row of [Rethinking, Table 3]: network, top-1 and top-5 error (%, ``None`` = not printed), cost (Bn ops)."""

    network: str
    top1: float
    top5: float | None
    cost_bn_ops: float


#: [Rethinking, Table 3]; each "Inception-v2 + ..." row adds to the one above; the last row is Inception-v3.
TABLE3: tuple[ResultRow, ...] = (
    ResultRow("GoogLeNet", 29.0, 9.2, 1.5),
    ResultRow("BN-GoogLeNet", 26.8, None, 1.5),
    ResultRow("BN-Inception", 25.2, 7.8, 2.0),
    ResultRow("Inception-v2", 23.4, None, 3.8),
    ResultRow("Inception-v2 + RMSProp", 23.1, 6.3, 3.8),
    ResultRow("Inception-v2 + Label Smoothing", 22.8, 6.1, 3.8),
    ResultRow("Inception-v2 + Factorized 7x7", 21.6, 5.8, 4.8),
    ResultRow("Inception-v2 + BN-auxiliary", 21.2, 5.6, 4.8),
)


#: The steps of Table 3 from Inception-v2 to Inception-v3, in order: (row name, what changed, where it is described).
TABLE3_STEPS: tuple[tuple[str, str, str], ...] = (
    ("Inception-v2 + RMSProp", "RMSProp instead of momentum SGD", "§8"),
    ("Inception-v2 + Label Smoothing", "label smoothing, eps = 0.1", "§7"),
    ("Inception-v2 + Factorized 7x7", "the first 7x7 convolution factorized into 3x3 convolutions", "§6, §10"),
    ("Inception-v2 + BN-auxiliary", "the auxiliary classifier's fully connected layer batch-normalized", "§10, Fig. 8"),
)


# ---------------------------------------------------------------------------------------------------------
# Table 2 (§9) and Tables 4-5 (beyond a single crop)
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResolutionRow:
    """One row of [Rethinking, Table 2]: receptive field (input side, px), how the first layer was changed to keep
    the cost equal (§9's list), top-1 *accuracy* (%, single frame)."""

    receptive_field: int
    first_layer: str
    top1_accuracy: float


#: [Rethinking, §9, Table 2] "Comparison of recognition performance when the size of the receptive field varies, but
#: the computational cost is constant." §9: "the networks were trained until convergence"; "Although the
#: lower-resolution networks take longer to train, the quality of the final result is quite close".
TABLE2: tuple[ResolutionRow, ...] = (
    ResolutionRow(79, "stride 1, no pooling after the first layer", 75.2),
    ResolutionRow(151, "stride 1, max pooling after the first layer", 76.4),
    ResolutionRow(299, "stride 2, max pooling after the first layer", 76.6),
)


@dataclass(frozen=True)
class EvaluationRow:
    """Inception-v3 evaluated beyond one crop: models, crops (``None``: "multi-crop", number not given there),
    top-1 and top-5 error (%) on the ILSVRC 2012 validation set, and where the numbers are printed."""

    setting: str
    models: int
    crops: int | None
    top1: float
    top5: float
    where: str


#: Single crop (Table 3), 12 and 144 crops of one model (Table 4), and the ensemble of four (abstract: "With an
#: ensemble of 4 models and multi-crop evaluation, we report 3.5% top-5 error and 17.3% top-1 error").
BEYOND_SINGLE_CROP: tuple[EvaluationRow, ...] = (
    EvaluationRow("1 model, 1 crop", 1, 1, 21.2, 5.6, "Table 3, abstract"),
    EvaluationRow("1 model, 12 crops", 1, 12, 19.47, 4.48, "Table 4"),
    EvaluationRow("1 model, 144 crops", 1, 144, 18.77, 4.2, "Table 4"),
    EvaluationRow("4 models, multi-crop", 4, None, 17.3, 3.5, "abstract, §11"),
)
#: Table 5's caption: "The ensemble yielded 3.46% top-5 error on the validation set."
ENSEMBLE_TOP5_CAPTION = 3.46


# ---------------------------------------------------------------------------------------------------------
# Stated costs and savings, each with its sentence
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    """A number the paper states, where, and in which words."""

    value: float
    where: str
    quote: str


#: §3.1: a 5x5 convolution is 25/9 = 2.78 times as expensive as a 3x3 with the same filters.
FIVE_BY_FIVE_VS_THREE = Claim(25 / 9, "§3.1", "a 5 x 5 convolution with n filters over a grid with m filters is "
                              "25/9 = 2.78 times more computationally expensive than a 3 x 3 convolution")
#: §3.1: two 3x3 instead of one 5x5 (with the middle width equal to the output width, alpha = 1): 28 % saved.
TWO_3X3_SAVING = Claim(0.28, "§3.1", "we end up with a net (9+9)/25 x reduction of computation, resulting in a "
                       "relative gain of 28% by this factorization. The exact same saving holds for the parameter "
                       "count")
#: §3.2: 3x1 followed by 1x3 instead of a 3x3, equal input and output filters: 33 % cheaper.
ASYMMETRIC_3X3_SAVING = Claim(0.33, "§3.2", "the two-layer solution is 33% cheaper for the same number of output "
                              "filters, if the number of input and output filters is equal")
#: §3.2: two 2x2 instead of a 3x3: only 11 % saved.
TWO_2X2_SAVING = Claim(0.11, "§3.2", "factorizing a 3 x 3 convolution into a two 2 x 2 convolution represents only "
                       "a 11% saving of computation")
#: §3.1, Fig. 2: linear vs ReLU between the two factors, top-1 accuracy (%) at the end of training.
LINEAR_VS_RELU_TOP1 = {"linear": 76.2, "relu": 77.2}
#: §3.2: where asymmetric factorization works: "on m x m feature maps, where m ranges between 12 and 20".
ASYMMETRIC_GRID_RANGE = (12, 20)

#: §5: from d x d x k to d/2 x d/2 x 2k, conv then pool costs 2 d^2 k^2 operations ...
CONV_FIRST_OPS = Claim(2.0, "§5", "the computational cost is dominated by the expensive convolution on the larger "
                       "grid using 2d^2k^2 operations")
#: ... pool then conv 2 (d/2)^2 k^2: "reducing the computational cost by a quarter" (i.e. to a quarter) ...
POOL_FIRST_OPS = Claim(0.25, "§5", "One possibility would be to switch to pooling first and then convolution, "
                       "resulting in 2(d/2)^2k^2 reducing the computational cost by a quarter")
#: ... but the representation right after the pooling has (d/2)^2 k values: a representational bottleneck.
POOL_FIRST_BOTTLENECK = Claim(0.25, "§5", "this creates a representational bottlenecks as the overall "
                              "dimensionality of the representation drops to (d/2)^2k")
#: Fig. 9: of the two alternatives, the one that avoids the bottleneck "is 3 times more expensive computationally".
FIG9_RATIO = Claim(3.0, "Fig. 9", "The version on the right is 3 times more expensive computationally.")

#: §6: "Although our network is 42 layers deep, our computation cost is only about 2.5 higher than that of GoogLeNet".
DEPTH_LAYERS = 42
COST_VS_GOOGLENET = Claim(2.5, "§6", "our computation cost is only about 2.5 higher than that of GoogLeNet")
#: §11: "relatively modest (2.5x) increase in computational cost compared to the network described in Ioffe et al
#: [7]" (BN-Inception); §6 says the same factor against GoogLeNet; Table 3's costs give 4.8 / 1.5 and 4.8 / 2.0.
COST_VS_BN_INCEPTION = Claim(2.5, "§11", "This is achieved with relatively modest (2.5x) increase in computational "
                             "cost compared to the network described in Ioffe et al [7]")
#: Abstract: "a computational cost of 5 billion multiply-adds per inference and ... less than 25 million parameters".
STATED_MACS = Claim(5e9, "abstract", "a network with a computational cost of 5 billion multiply-adds per inference")
STATED_PARAMS_BELOW = Claim(25e6, "abstract", "with using less than 25 million parameters")
#: Abstract: single-frame errors of Inception-v3.
STATED_TOP1_TOP5 = (21.2, 5.6)

#: §7 label smoothing: q'(k|x) = (1 - eps) delta_{k,y} + eps u(k), "we used u(k) = 1/1000 and eps = 0.1".
LABEL_SMOOTHING_EPSILON = 0.1
LABEL_SMOOTHING_GAIN = Claim(0.2, "§7", "a consistent improvement of about 0.2% absolute both for top-1 error and "
                             "the top-5 error")
#: Fig. 8: "Batch normalization of the layers in the side head results in a 0.4% absolute gain in top-1 accuracy".
BN_AUXILIARY_GAIN = Claim(0.4, "Fig. 8", "Batch normalization[7] of the layers in the side head results in a 0.4% "
                          "absolute gain in top-1 accuracy")
#: §4 on the auxiliary classifiers, in the paper's words: what it found early, late, for the lower head, and what it
#: argues (a hypothesis it supports with Fig. 8's batch-normalized head, not a controlled test).
AUX_FINDINGS = {
    "early": "auxiliary classifiers did not result in improved convergence early in the training",
    "late": "Near the end of training, the network with the auxiliary branches starts to overtake the accuracy of "
            "the network without any auxiliary branch and reaches a slightly higher plateau",
    "lower head": "The removal of the lower auxiliary branch did not have any adverse effect on the final quality "
                  "of the network",
    "argued": "we argue that the auxiliary classifiers act as regularizer. This is supported by the fact that the "
              "main classifier of the network performs better if the side branch is batch-normalized or has a "
              "dropout layer",
}
#: §8 training: RMSProp decay 0.9, eps 1.0, lr 0.045 decayed every two epochs by 0.94, gradient clipping 2.0,
#: batch 32 on 50 replicas, 100 epochs.
TRAINING = dict(optimizer="RMSProp", decay=0.9, epsilon=1.0, lr=0.045, lr_decay_every_epochs=2, lr_decay=0.94,
                grad_clip=2.0, batch_size=32, replicas=50, epochs=100)
