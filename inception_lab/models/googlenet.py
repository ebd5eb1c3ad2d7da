"""GoogLeNet (Inception v1) [GoogLeNet, Table 1, Fig. 2, Fig. 3]: its modules, the network, its presets.

* :class:`NaiveInception` [Fig. 2a] and :class:`Inception` [Fig. 2b], chapter 1's modules;
* :class:`InceptionAux`, the auxiliary classifier of §5, and :class:`GoogLeNet`, built from the rows of
  :data:`inception_lab.papers.going_deeper.TABLE1_ROWS` with the max-pools where Table 1 puts them;
* presets: :func:`googlenet` (the paper), :func:`googlenet_tv` (torchvision's ``state_dict`` and deviations) and
  :func:`mini_googlenet` (the same code for 32-64 px images and CPU training).

Introduced in chapters 1 and 2. Units follow :mod:`inception_lab.cost`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from inception_lab.checks import check_choice, check_image_batch, check_positive_int, check_probability
from inception_lab.cost.inception import BRANCH3_KERNELS
from inception_lab.models.base import InceptionNet, imagenet_to_unit_scaling
from inception_lab.nn.initialization import INIT_SCHEMES, init_weights_
from inception_lab.nn.layers import ConvBlockFactory, ConvReLU, MultiBranch, SeparableConv, conv_bn_relu_tv
from inception_lab.papers import going_deeper as paper
from inception_lab.papers.going_deeper import AuxSpec, InceptionRow, StemSpec
from inception_lab.shapes import scale_width


# ---------------------------------------------------------------------------------------------------------
# Modules
# ---------------------------------------------------------------------------------------------------------
class NaiveInception(MultiBranch):
    """Naive Inception module [GoogLeNet, Fig. 2a]: 1x1, 3x3, 5x5 convolutions and 3x3 max-pooling in parallel.

    The pooling branch has no projection, so it passes all ``in_channels`` through and the output has
    ``in_channels + ch1x1 + ch3x3 + ch5x5`` channels: stacked naive modules can only grow [GoogLeNet, §4].
    Its spec is :func:`inception_lab.cost.inception.naive_spec`.

    Shape:
        (N, in_channels, H, W) -> (N, in_channels + ch1x1 + ch3x3 + ch5x5, H, W).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3: int, ch5x5: int,
                 conv_block: ConvBlockFactory = ConvReLU) -> None:
        super().__init__(in_channels)
        self.add_branch("branch1", ("branch1", conv_block(in_channels, ch1x1, kernel_size=1)))
        self.add_branch("branch2", ("branch2", conv_block(in_channels, ch3x3, kernel_size=3, padding=1)))
        self.add_branch("branch3", ("branch3", conv_block(in_channels, ch5x5, kernel_size=5, padding=2)))
        self.add_branch("branch4", ("branch4", nn.MaxPool2d(kernel_size=3, stride=1, padding=1)))


class Inception(MultiBranch):
    """Inception module with dimension reductions [GoogLeNet, Fig. 2b]; arguments are Table 1's columns.

    Branches (``state_dict`` names as in torchvision's ``googlenet.Inception``):
        branch1: 1x1 conv (``ch1x1``)
        branch2: 1x1 reduce (``ch3x3red``) -> 3x3 conv (``ch3x3``)
        branch3: 1x1 reduce (``ch5x5red``) -> 5x5 conv (``ch5x5``)
        branch4: 3x3/1 max-pool -> 1x1 projection (``pool_proj``)

    Its spec is :func:`inception_lab.cost.inception.reduced_spec`.

    Args:
        conv_block: :class:`~inception_lab.nn.layers.ConvReLU` (the paper) or a BN atom.
        branch3_kernel_size: 5 as in the paper.

    Deviations:
        ``branch3_kernel_size=3`` reproduces torchvision, whose "5x5" branch uses a 3x3 kernel, a port bug kept
        for weight compatibility (pytorch/vision#906). The pooling branch uses ``ceil_mode=True`` like torchvision;
        with stride 1 and padding 1 this changes nothing.

    Shape:
        (N, in_channels, H, W) -> (N, ch1x1 + ch3x3 + ch5x5 + pool_proj, H, W).
    """

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int, ch5x5: int,
                 pool_proj: int, conv_block: ConvBlockFactory = ConvReLU, branch3_kernel_size: int = 5) -> None:
        k = check_choice("branch3_kernel_size", branch3_kernel_size, BRANCH3_KERNELS)
        super().__init__(in_channels)
        self.add_branch("branch1", ("branch1", conv_block(in_channels, ch1x1, kernel_size=1)))
        self.add_branch("branch2", ("branch2", nn.Sequential(
            conv_block(in_channels, ch3x3red, kernel_size=1),
            conv_block(ch3x3red, ch3x3, kernel_size=3, padding=1))))
        self.add_branch("branch3", ("branch3", nn.Sequential(
            conv_block(in_channels, ch5x5red, kernel_size=1),
            conv_block(ch5x5red, ch5x5, kernel_size=k, padding=k // 2))))
        self.add_branch("branch4", ("branch4", nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            conv_block(in_channels, pool_proj, kernel_size=1))))


class InceptionAux(nn.Module):
    """Auxiliary classifier on an intermediate Inception output [GoogLeNet, §5].

    "An average pooling layer with 5x5 filter size and stride 3 ... A 1x1 convolution with 128 filters for
    dimension reduction and rectified linear activation. A fully connected layer with 1024 units and rectified
    linear activation. A dropout layer with 70% ratio of dropped outputs. A linear layer with softmax loss as
    the classifier." Attribute names (``conv``, ``fc1``, ``fc2``) match torchvision's ``InceptionAux``.

    Args:
        in_channels: channels of the module it sits on (512 for 4a, 528 for 4d).
        num_classes: classes it predicts ("the same 1000 classes as the main classifier").
        conv_block: the conv atom (:class:`~inception_lab.nn.layers.ConvReLU` in the paper).
        spec: widths and pooling (:class:`AuxSpec`); ``fc1`` sees ``spec.conv * spec.grid ** 2`` features.
        dropout: probability of dropping a hidden unit (0.7).

    Shape:
        (N, in_channels, 14, 14) -> (N, num_classes) for the paper's head; any H, W with ``spec.adaptive``.
    """

    def __init__(self, in_channels: int, num_classes: int, conv_block: ConvBlockFactory = ConvReLU,
                 spec: AuxSpec = AuxSpec(), dropout: float = paper.AUX_HEAD["dropout"]) -> None:
        super().__init__()
        self.in_channels = check_positive_int("in_channels", in_channels)
        check_positive_int("num_classes", num_classes)
        self.grid = grid = spec.grid
        check_probability("dropout", dropout)
        self.pool = (nn.AdaptiveAvgPool2d(grid) if spec.adaptive else
                     nn.AvgPool2d(kernel_size=paper.AUX_HEAD["pool_kernel"], stride=paper.AUX_HEAD["pool_stride"]))
        self.conv = conv_block(in_channels, spec.conv, kernel_size=1)
        self.fc1 = nn.Linear(spec.conv * grid * grid, spec.fc)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(p=dropout)
        self.fc2 = nn.Linear(spec.fc, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_image_batch(x, self.in_channels, "InceptionAux")
        # aux1: N x 512 x 14 x 14, aux2: N x 528 x 14 x 14
        pooled = self.pool(x)
        if pooled.shape[-2:] != (self.grid, self.grid):
            raise ValueError(
                f"InceptionAux: 5x5/3 average pooling of a {x.shape[-2]}x{x.shape[-1]} map gives "
                f"{pooled.shape[-2]}x{pooled.shape[-1]}, but fc1 expects {self.grid}x{self.grid} (the paper's head "
                f"needs 14x14 maps, i.e. 224x224 images). Use such inputs, or build the model with "
                f"AuxSpec(adaptive=True) (torchvision's adaptive pooling).")
        # N x C x 4 x 4
        x = self.conv(pooled)
        # N x 128 x 4 x 4
        x = torch.flatten(x, 1)
        # N x 2048
        x = self.dropout(self.relu(self.fc1(x)))
        # N x 1024
        return self.fc2(x)  # N x num_classes


# ---------------------------------------------------------------------------------------------------------
# The network
# ---------------------------------------------------------------------------------------------------------
class GoogLeNet(InceptionNet):
    """GoogLeNet, "the incarnation of the Inception architecture" of [GoogLeNet, Table 1, Fig. 3].

    The stem (:class:`StemSpec`) and the nine Inception modules (rows of Table 1) come from data; 3x3/2 max-pools
    follow the first convolution, the 3x3 convolution, and the Inception rows after which Table 1 prints one
    (:data:`~inception_lab.papers.going_deeper.POOLS_AFTER`); a global average pool, dropout and a linear layer
    close the network. Attribute names are those of ``torchvision.models.GoogLeNet``, so its ``state_dict`` loads
    into :func:`googlenet_tv`.

    Args:
        num_classes: outputs of the classifier (and of each auxiliary classifier).
        rows: the nine Inception rows, named 3a, 3b, 4a-4e, 5a, 5b (default: Table 1's).
        stem: the layers before (3a) (default: Table 1's).
        aux_logits: build the two auxiliary classifiers on (4a) and (4d) [§5]. They run only in train mode.
        aux: widths and pooling of the auxiliary classifiers (:class:`AuxSpec`).
        conv_block: conv atom of every convolution: :class:`~inception_lab.nn.layers.ConvReLU` (the paper: "All the
            convolutions ... use rectified linear activation", with biases, no BatchNorm) or
            :func:`~inception_lab.nn.layers.conv_bn_relu_tv` (torchvision: conv without bias, BN eps 1e-3, ReLU).
        branch3_kernel_size: kernel of the "#5x5" branch: 5 (the paper) or 3 (torchvision, pytorch/vision#906).
        dropout, dropout_aux: before the classifier, "dropout (40%)" in Table 1; in the auxiliary classifiers,
            "70% ratio of dropped outputs" [§5].
        lrn: the two local response normalisations (LRN: each activation divided by a power of the summed squares
            of its neighbours across channels) of Fig. 3, after the first max-pool and after the 3x3 convolution
            (size 5, alpha 1e-4, beta 0.75, k 1, as in the BVLC Caffe replication). No parameters, no MACs.
        first_conv: ``"plain"`` -- a 7x7 convolution, as Table 1's patch column and Fig. 3 say;
            ``"separable"`` -- a 7x7 depthwise-separable convolution with depth multiplier 8
            (:class:`~inception_lab.nn.layers.SeparableConv`), whose cost is the 2.7K / 34M Table 1 prints.
        maxpool4_kernel_size: the max-pool between (4e) and (5a): 3 (Table 1, 3x3/2) or 2 (torchvision, 2x2/2);
            both give 7x7 from 14x14.
        ceil_mode: round the stride-2 max-pools' output size up, as Caffe does. Table 1's sizes (112 -> 56 ->
            28 -> 14 -> 7) need it; with ``False`` a 224x224 input gives 55, 27, 13 and 6.
        transform_input: map ImageNet-mean/std inputs to the (x - 0.5) / 0.5 scaling of the ported weights.
        init_weights: a scheme of :data:`~inception_lab.nn.initialization.INIT_SCHEMES`.

    Shape:
        (N, 3, H, W) -> (N, num_classes) in eval mode, or without auxiliary classifiers. In train mode with
        auxiliary classifiers: :class:`~inception_lab.nn.losses.AuxOutputs` ``(logits, (aux1, aux2))`` with
        ``aux1`` from the head on (4a) -- the reverse of torchvision's ``(logits, aux2, aux1)``. Inputs smaller
        than :attr:`min_input_size` raise a ``ValueError``.

    Deviations:
        Table 1's "avg pool 7x7/1" is a global average pool: identical on the 7x7 map of a 224x224 input, and other
        sizes work. Every other deviation is one of the options above; the presets list the ones they use.
    """

    def __init__(self, num_classes: int = 1000, *, rows: Sequence[InceptionRow] = paper.TABLE1_ROWS,
                 stem: StemSpec = None, aux_logits: bool = True, aux: AuxSpec = None,  # type: ignore[assignment]
                 conv_block: ConvBlockFactory = ConvReLU, branch3_kernel_size: int = 5, dropout: float = 0.4,
                 dropout_aux: float = 0.7, lrn: bool = True, first_conv: str = "plain", maxpool4_kernel_size: int = 3,
                 ceil_mode: bool = True, transform_input: bool = False, init_weights: str = "caffe") -> None:
        super().__init__()
        stem = StemSpec() if stem is None else stem
        aux = AuxSpec() if aux is None else aux
        check_positive_int("num_classes", num_classes)
        rows = tuple(rows)
        if tuple(getattr(r, "name", None) for r in rows) != paper.ROW_NAMES:
            raise ValueError(f"rows must be nine InceptionRow named {paper.ROW_NAMES} in that order, got "
                             f"{[getattr(r, 'name', r) for r in rows]}.")
        if not isinstance(stem, StemSpec) or not isinstance(aux, AuxSpec):
            raise ValueError(f"stem must be a StemSpec and aux an AuxSpec, got {type(stem).__name__} and "
                             f"{type(aux).__name__}.")
        check_choice("first_conv", first_conv, paper.FIRST_CONVS)
        check_choice("maxpool4_kernel_size", maxpool4_kernel_size, (3, 2))
        check_choice("init_weights", init_weights, INIT_SCHEMES)
        check_probability("dropout", dropout)
        check_probability("dropout_aux", dropout_aux)
        self.in_channels, self.num_classes, self.rows = 3, num_classes, rows
        self.aux_logits, self.transform_input = bool(aux_logits), bool(transform_input)

        def pool(kernel_size: int = 3) -> nn.MaxPool2d:  # the stride-2 max-pools of Table 1
            return nn.MaxPool2d(kernel_size=kernel_size, stride=2, ceil_mode=ceil_mode)

        def lrn_layer() -> nn.LocalResponseNorm | None:  # Caffe divides alpha by the window, as PyTorch does
            return nn.LocalResponseNorm(size=5, alpha=1e-4, beta=0.75, k=1.0) if lrn else None

        # Stem: Table 1 lines 1-4.
        k = stem.conv1_kernel_size
        if first_conv == "plain":
            self.conv1 = conv_block(3, stem.conv1, kernel_size=k, stride=stem.conv1_stride, padding=k // 2)
        else:
            self.conv1 = SeparableConv(3, stem.conv1, k, stem.conv1_stride, k // 2, depth_multiplier=8,
                                       conv_block=conv_block)
        self.maxpool1 = pool() if stem.maxpool1 else None
        self.lrn1 = lrn_layer()
        self.conv2 = conv_block(stem.conv1, stem.conv2, kernel_size=1)
        self.conv3 = conv_block(stem.conv2, stem.conv3, kernel_size=3, padding=1)
        self.lrn2 = lrn_layer()
        self.maxpool2 = pool()

        # Inception modules, each fed by the previous one; max-pools where Table 1 prints them.
        channels, in_ch = {}, stem.conv3
        for row in rows:
            setattr(self, f"inception{row.name}", Inception(in_ch, *row.widths, conv_block=conv_block,
                                                              branch3_kernel_size=branch3_kernel_size))
            channels[row.name] = in_ch = row.out_channels
            if row.name in paper.POOLS_AFTER:  # 3b -> maxpool3, 4e -> maxpool4 (its kernel is an option)
                index = paper.POOLS_AFTER.index(row.name)
                last = index == len(paper.POOLS_AFTER) - 1
                setattr(self, f"maxpool{3 + index}", pool(maxpool4_kernel_size if last else 3))

        # Auxiliary classifiers "on top of the output of the Inception (4a) and (4d) modules" [§5].
        self.aux1: InceptionAux | None = None
        self.aux2: InceptionAux | None = None
        if self.aux_logits:
            self.aux1, self.aux2 = (
                InceptionAux(channels[name], num_classes, conv_block=conv_block, spec=aux, dropout=dropout_aux)
                for name in paper.AUX_HEAD["on"])

        # Head: avg pool, dropout (40%), linear; softmax lives in the loss.
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.fc = nn.Linear(in_ch, num_classes)
        self.num_features = in_ch
        init_weights_(self, init_weights)

    # -- forward (forward, forward_features, forward_head, stage_shapes: InceptionNet) ----------------------
    def _trunk(self, x: torch.Tensor, aux: list[torch.Tensor] | None) -> torch.Tensor:
        """Stem and Inception modules; appends the auxiliary logits to ``aux`` when it is a list."""
        self.check_input(x)  # a clear ValueError for a wrong shape or an input too small
        x = imagenet_to_unit_scaling(x) if self.transform_input else x
        # Shapes for a 224x224 input (Table 1's "output size" column). N x 3 x 224 x 224
        x = self.conv1(x)  # N x 64 x 112 x 112
        if self.maxpool1 is not None:
            x = self.maxpool1(x)  # N x 64 x 56 x 56
        if self.lrn1 is not None:
            x = self.lrn1(x)
        x = self.conv2(x)  # N x 64 x 56 x 56
        x = self.conv3(x)  # N x 192 x 56 x 56
        if self.lrn2 is not None:
            x = self.lrn2(x)
        x = self.maxpool2(x)  # N x 192 x 28 x 28
        x = self.inception3a(x)  # N x 256 x 28 x 28
        x = self.inception3b(x)  # N x 480 x 28 x 28
        x = self.maxpool3(x)  # N x 480 x 14 x 14
        x = self.inception4a(x)  # N x 512 x 14 x 14
        if aux is not None and self.aux1 is not None:
            aux.append(self.aux1(x))  # N x num_classes
        x = self.inception4b(x)  # N x 512 x 14 x 14
        x = self.inception4c(x)  # N x 512 x 14 x 14
        x = self.inception4d(x)  # N x 528 x 14 x 14
        if aux is not None and self.aux2 is not None:
            aux.append(self.aux2(x))  # N x num_classes
        x = self.inception4e(x)  # N x 832 x 14 x 14
        x = self.maxpool4(x)  # N x 832 x 7 x 7
        x = self.inception5a(x)  # N x 832 x 7 x 7
        return self.inception5b(x)  # N x 1024 x 7 x 7


# ---------------------------------------------------------------------------------------------------------
# Presets
# ---------------------------------------------------------------------------------------------------------
def googlenet(num_classes: int = 1000, aux_logits: bool = True, *, dropout: float = 0.4,
              dropout_aux: float = 0.7, lrn: bool = True, first_conv: str = "plain", ceil_mode: bool = True,
              init_weights: str = "caffe") -> GoogLeNet:
    """GoogLeNet as the paper describes it [GoogLeNet, Table 1, Fig. 3, §5].

    ReLU convolutions with biases and no BatchNorm, 5x5 kernels in the "#5x5" branch, a 3x3/1 max-pool + 1x1
    projection branch, 3x3/2 max-pools, dropout 40 % before the linear classifier, and two auxiliary classifiers
    on (4a) and (4d) with 5x5/3 average pooling, 1x1 conv (128), FC 1024 + ReLU, dropout 70 % and a linear layer.
    6,998,552 parameters and 1,582,671,872 MACs at 1x3x224x224 without the auxiliary classifiers; 13,378,280
    parameters with them. The chapter explains why this is not the "6.8M" column sum of Table 1.

    Args:
        num_classes, aux_logits: classes; build the auxiliary classifiers (they run in train mode only).
        dropout, dropout_aux: dropout probabilities (paper: 0.4 and 0.7).
        lrn: the two local response normalisations of Fig. 3 (our default: on, as in the Caffe replication).
        first_conv: ``"plain"`` 7x7 (default, Table 1's patch column) or ``"separable"`` (Table 1's cost column).
        ceil_mode: Caffe-style rounding of the stride-2 max-pools (default: on; gives Table 1's sizes).
        init_weights: the default follows the Caffe replication.

    Deviations:
        The final 7x7/1 average pool is a global average pool. The auxiliary classifiers' 5x5/3 pooling needs
        224x224 inputs in train mode, as the paper trains. What the paper leaves open is an option above.
    """
    return GoogLeNet(num_classes, aux_logits=aux_logits, conv_block=ConvReLU, branch3_kernel_size=5,
                     dropout=dropout, dropout_aux=dropout_aux, lrn=lrn, first_conv=first_conv,
                     maxpool4_kernel_size=3, ceil_mode=ceil_mode, transform_input=False, init_weights=init_weights)


def googlenet_tv(num_classes: int = 1000, aux_logits: bool = True, *, transform_input: bool = False,
                 dropout: float = 0.2, dropout_aux: float = 0.7, init_weights: str = "trunc_normal") -> GoogLeNet:
    """GoogLeNet as ``torchvision.models.googlenet`` builds it: same attribute names, shapes and outputs.

    A torchvision GoogLeNet's ``state_dict`` loads into this model with ``strict=True`` (same ``aux_logits``),
    and the eval outputs are identical. 6,624,904 parameters and 1,498,376,192 MACs at 1x3x224x224 without the
    auxiliary classifiers (torchvision's published "1.498 GFLOPS" are these MACs); 13,004,888 with them.

    Args:
        num_classes, aux_logits: classes; build the auxiliary classifiers (torchvision's default: yes).
        transform_input: torchvision's input re-normalisation; ``True`` when its ImageNet weights are loaded.
        dropout, dropout_aux: torchvision's defaults 0.2 and 0.7.
        init_weights: ``"trunc_normal"`` is torchvision's ``init_weights=True``.

    Deviations:
        From the paper, all inherited from torchvision (which ported TensorFlow's model):

        * every convolution is conv (no bias) -> BatchNorm (eps 1e-3) -> ReLU (:func:`conv_bn_relu_tv`), also
          in the auxiliary classifiers: a BN-GoogLeNet, not the 2014 network;
        * a 3x3 kernel in the "#5x5" branch (``branch3_kernel_size=3``), a known bug kept for weight
          compatibility (pytorch/vision#906);
        * dropout 0.2 before the classifier instead of 0.4;
        * a 2x2/2 max-pool before (5a) instead of 3x3/2 (``maxpool4_kernel_size=2``; the same 7x7 output);
        * no local response normalisation (``lrn=False``);
        * the auxiliary classifiers pool with ``adaptive_avg_pool2d(x, (4, 4))`` instead of 5x5/3 (the same on
          14x14 maps);

        In train mode the output is ``AuxOutputs(logits, (aux1, aux2))``; torchvision returns
        ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``.
    """
    return GoogLeNet(num_classes, aux_logits=aux_logits, aux=AuxSpec(adaptive=True), conv_block=conv_bn_relu_tv,
                     branch3_kernel_size=3, dropout=dropout, dropout_aux=dropout_aux, lrn=False,
                     first_conv="plain", maxpool4_kernel_size=2, ceil_mode=True, transform_input=transform_input,
                     init_weights=init_weights)


def mini_googlenet(num_classes: int = 10, aux_logits: bool = True, *, width_divisor: int = 8,
                   conv_block: ConvBlockFactory = ConvReLU, dropout: float = 0.4, dropout_aux: float = 0.7,
                   lrn: bool = False, init_weights: str = "kaiming") -> GoogLeNet:
    """A small GoogLeNet for 32-64 px images: the same :class:`GoogLeNet` and Inception modules, narrower.

    Every width of Table 1 (stem, the nine rows, the auxiliary classifiers' 128 and 1024) is divided by
    ``width_divisor`` (:func:`~inception_lab.shapes.scale_width`), so the proportions between branches and modules
    are the paper's; all nine modules, four max-pools and both auxiliary classifiers are there. With the default
    divisor 8, inception (3a) outputs 8 + 16 + 4 + 4 = 32 channels and (5b) 128.

    Args:
        num_classes, aux_logits: classes; build the auxiliary classifiers on (4a) and (4d).
        width_divisor: divide every width of Table 1 by this.
        conv_block: :class:`~inception_lab.nn.layers.ConvReLU` (the paper, default) or a BN atom such as
            :class:`~inception_lab.nn.layers.ConvBNReLU`.
        dropout, dropout_aux: as in the paper (0.4, 0.7).
        lrn: the two local response normalisations (default off: no parameters, only CPU time).
        init_weights: an :data:`~inception_lab.nn.initialization.INIT_SCHEMES` scheme (He-normal by default).

    Shape:
        (N, 3, H, W) -> (N, num_classes) for H, W >= 16; 32-64 intended. A 32x32 image is 16x16 after the first
        max-pool, 8x8 at (3a)-(3b), 4x4 at (4a)-(4e), 2x2 at (5a)-(5b).

    Deviations:
        From :func:`googlenet`: widths divided by ``width_divisor``; a 3x3/1 first convolution instead of 7x7/2
        (the stem halves the grid twice instead of three times: a 7x7/2 would leave a 32 px image at 4x4 by
        (3a)); no LRN by default; He initialisation; the auxiliary classifiers pool adaptively to 2x2 (instead
        of 5x5/3 to 4x4, which does not fit a 4x4 map) so any input size works.
    """
    def narrow(width: int) -> int:
        return scale_width(width, width_divisor)

    # Table 1's stem with a 3x3/1 first convolution.
    stem = StemSpec(conv1=narrow(StemSpec.conv1), conv1_kernel_size=3, conv1_stride=1, maxpool1=True,
                    conv2=narrow(StemSpec.conv2), conv3=narrow(StemSpec.conv3))
    aux = AuxSpec(conv=narrow(AuxSpec.conv), fc=narrow(AuxSpec.fc), grid=2, adaptive=True)
    return GoogLeNet(num_classes, rows=tuple(r.scaled(width_divisor) for r in paper.TABLE1_ROWS), stem=stem,
                     aux_logits=aux_logits, aux=aux, conv_block=conv_block, branch3_kernel_size=5, dropout=dropout,
                     dropout_aux=dropout_aux, lrn=lrn, first_conv="plain", maxpool4_kernel_size=3, ceil_mode=True,
                     transform_input=False, init_weights=init_weights)

