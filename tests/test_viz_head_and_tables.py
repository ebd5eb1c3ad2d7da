"""The auxiliary-head diagram is drawn from the built head, and tables render as Markdown."""

import pytest
import torch

from inception_lab.models import googlenet as gn
from inception_lab.models import inception_v3 as v3
from inception_lab.viz import diagrams
from inception_lab.viz.display import alt_text, markdown_table


@pytest.mark.parametrize("head, shape", [
    (gn.googlenet().aux1, (512, 14, 14)),            # [GoogLeNet, §5]
    (gn.mini_googlenet().aux2, (66, 4, 4)),          # adaptive pooling to 2x2
    (v3.inception_v3().AuxLogits, (768, 17, 17)),    # [Rethinking, Fig. 8]
])
def test_head_layers_end_in_the_shape_forward_returns(head, shape):
    rows = diagrams.head_layers(head, shape)
    with torch.no_grad():
        out = head.eval()(torch.randn(2, *shape))
    assert rows[-1][2] == tuple(out.shape[1:])
    assert rows[-1][1] == "linear"


def test_googlenet_head_as_the_paper_lists_it():
    rows = diagrams.head_layers(gn.googlenet().aux1, (512, 14, 14))
    assert [label for label, _, _ in rows] == ["5x5/3 avg-pool", "1x1 conv, 128",
                                               "flatten, fully connected, 1024 + ReLU", "dropout 70%",
                                               "fully connected, 1000"]
    assert [out for _, _, out in rows][:2] == [(512, 4, 4), (128, 4, 4)]
    fig = diagrams.draw_head(gn.googlenet().aux1, (512, 14, 14), title="aux")
    assert "128 x 4 x 4" in alt_text(fig) and "dropout 70%" in alt_text(fig)


def test_head_layers_refuse_a_mismatched_linear_layer():
    with pytest.raises(ValueError, match="2048 inputs receives 128 x 5 x 5"):
        diagrams.head_layers(gn.googlenet().aux1, (512, 17, 17))


def test_markdown_table():
    table = markdown_table(["a", "b"], [["x", 1], ["y|z", 2.5]])
    text = getattr(table, "data", table)
    assert text.splitlines() == ["| a | b |", "|---|---:|", "| x | 1 |", "| y\\|z | 2.5 |"]
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        markdown_table(["a", "b"], [["x"]])
    with pytest.raises(ValueError, match="one 'l' or 'r' per column"):
        markdown_table(["a", "b"], [], align="lc")
