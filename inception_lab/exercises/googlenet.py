"""Exercises on GoogLeNet and its auxiliary classifiers [GoogLeNet, Table 1, §5] (chapter 2)."""

from __future__ import annotations

from typing import Any

from inception_lab.cost import conv2d_cost, linear_cost
from inception_lab.exercises import Feedback, check_number
from inception_lab.models.googlenet import InceptionAux
from inception_lab.papers.going_deeper import AUX_HEAD as PAPER_AUX
from inception_lab.papers.going_deeper import TABLE1_ROWS, InceptionRow
from inception_lab.shapes import pool_output_size

#: Exercise 2.1 setting: the Table 1 row whose output channels the reader computes [GoogLeNet, Table 1].
CHANNELS = dict(row="4e")
#: Exercise 2.2 setting: the paper's auxiliary classifier on inception (4a), 14x14x512, 1000 classes [GoogLeNet, §5].
AUX_HEAD = dict(in_channels=512, size=14, num_classes=1000)
#: Exercise 2.4 setting: the "#5x5" branch of this Table 1 row, 5x5 (paper) vs 3x3 (torchvision) kernel.
KERNEL = dict(row="4e", size=14)


def _table1_row(name: str) -> InceptionRow:
    return next(r for r in TABLE1_ROWS if r.name == name)


def out_channels(answer: Any) -> Feedback:
    """Exercise 2.1: output channels of inception (4e) from its Table 1 row [GoogLeNet, Table 1]."""
    row = _table1_row(CHANNELS["row"])
    expected = row.out_channels
    return check_number(answer, expected, what=f"the output channels of inception ({row.name})", hints={
        sum(row.widths): "You added all six columns. The reductions (#3x3 reduce, #5x5 reduce) feed the 3x3 and "
                         "5x5 convolutions; only the last layer of each branch reaches the concatenation.",
        expected - row.pool_proj: "Three branches are in, one is missing: the pooling branch contributes its "
                                  "'pool proj' filters.",
        row.ch1x1 + row.ch3x3red + row.ch5x5red + row.pool_proj: "Those are the 1x1 convolutions that read the "
                                                                   "module's input. Add the branch *outputs*.",
    })


def aux_head_macs(answer: Any) -> Feedback:
    """Exercise 2.2: MACs of the paper's auxiliary classifier on inception (4a), for one image [GoogLeNet, §5]."""
    c = AUX_HEAD
    # "An average pooling layer with 5x5 filter size and stride 3"
    grid = pool_output_size(c["size"], PAPER_AUX["pool_kernel"], PAPER_AUX["pool_stride"])
    conv = conv2d_cost(c["in_channels"], PAPER_AUX["conv"], 1, grid).macs
    fc1 = linear_cost(PAPER_AUX["conv"] * grid * grid, PAPER_AUX["fc"]).macs
    fc2 = linear_cost(PAPER_AUX["fc"], c["num_classes"]).macs
    expected = conv + fc1 + fc2
    conv_unpooled = conv2d_cost(c["in_channels"], PAPER_AUX["conv"], 1, c["size"]).macs
    return check_number(answer, expected, what="the MACs of the auxiliary classifier on (4a)", hints={
        conv + fc1: "You stopped at the hidden layer: the last linear layer (1024 -> 1000 classes) costs MACs too.",
        fc1 + fc2: "Add the 1x1 convolution (512 -> 128 channels on the pooled grid).",
        conv: "That is the 1x1 convolution alone; add the two fully connected layers.",
        conv_unpooled + fc1 + fc2: f"The 1x1 convolution runs after the 5x5/3 average pooling, on a {grid}x{grid} "
                                   f"grid, not on the {c['size']}x{c['size']} input.",
        2 * expected: "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
    })


def training_only_params(answer: Any) -> Feedback:
    """Exercise 2.3: parameters of the paper-faithful GoogLeNet that are used in training only [GoogLeNet, §5].

    The two auxiliary classifiers (on 4a, 512 channels, and on 4d, 528 channels) are discarded at inference.
    """
    channels = {r.name: r.out_channels for r in TABLE1_ROWS}
    heads = [sum(p.numel() for p in InceptionAux(channels[name], 1000).parameters()) for name in ("4a", "4d")]
    expected = sum(heads)
    return check_number(answer, expected, what="the parameters used only in training", hints={
        heads[0]: "That is the head on (4a) alone; there is a second one on (4d).",
        heads[1]: "That is the head on (4d) alone; there is a second one on (4a).",
        2 * heads[0]: "The two heads are not identical: the one on (4d) reads 528 channels, not 512.",
    })


def kernel_saving(answer: Any) -> Feedback:
    """Exercise 2.4: MACs that torchvision's 3x3 kernel saves in the "#5x5" branch of inception (4e)."""
    row, size = _table1_row(KERNEL["row"]), KERNEL["size"]
    five = conv2d_cost(row.ch5x5red, row.ch5x5, 5, size).macs
    three = conv2d_cost(row.ch5x5red, row.ch5x5, 3, size).macs
    return check_number(answer, five - three, what=f"the MACs saved in inception ({row.name})'s 5x5 branch", hints={
        five: "That is the whole 5x5 convolution. The 3x3 kernel still costs something: subtract it.",
        three: "That is the cost of the 3x3 convolution; the question asks for the difference to the 5x5.",
        2 * (five - three): "That is FLOPs (2 per multiply-accumulate). The question asks for MACs.",
    })


def heads_change_inference() -> bool:
    """Whether a network built without auxiliary heads, given the trunk weights of one built with them, computes the
    same eval-mode outputs (measured on a seeded mini GoogLeNet and a batch of random images) [GoogLeNet, §5]."""
    import torch

    from inception_lab.models.googlenet import mini_googlenet

    torch.manual_seed(0)
    with_heads = mini_googlenet(aux_logits=True, dropout=0.0, dropout_aux=0.0).eval()
    without = mini_googlenet(aux_logits=False, dropout=0.0, dropout_aux=0.0).eval()
    shared = {k: v for k, v in with_heads.state_dict().items() if not k.startswith(("aux1.", "aux2."))}
    without.load_state_dict(shared, strict=True)
    images = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return not torch.equal(with_heads(images), without(images))


def same_outputs_without_heads(answer: Any) -> Feedback:
    """Conceptual exercise: do the trunk weights of a network trained with heads give the same eval outputs without
    them? (``True`` = the same outputs.) [GoogLeNet, §5: "at inference time, these auxiliary networks are
    discarded"]"""
    if not isinstance(answer, bool):
        return Feedback(False, f"answer True (the same outputs) or False (different outputs), got {answer!r}.")
    same = not heads_change_inference()
    if answer == same:
        return Feedback(True, "in eval mode the forward pass never calls the heads, so the outputs depend on the "
                              "trunk's weights only: identical outputs, bit for bit.")
    if same:
        return Feedback(False, "in eval mode, does forward() call aux1 and aux2 at all? Look at what the network "
                               "returns in eval mode, and which weights that computation reads.")
    return Feedback(False, "the two networks differ: check that every trunk weight was copied.")
