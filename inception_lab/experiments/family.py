"""The Inception family side by side [GoogLeNet], [BN], [Rethinking]: the study note's closing summary, computed.

* :data:`MEMBERS` -- which preset stands for each network, at which input size, and which line of
  [Rethinking, Table 3] reports its errors.
* :func:`summary` -- parameters, MACs, receptive field, depth and the paper's errors for each member, counted from
  the models by the one shape walk and the one cost model (no forward pass, so it is quick even for 299x299);
  :func:`summary_markdown` renders it.
* :func:`stage_costs`, :func:`part_costs` -- where a network's MACs are (chapter 6 explains why our Table 1
  filling costs more than the released model with them).
* :func:`depth` -- "how many layers deep": the longest path of layers with weights, under the conventions the
  papers leave to the reader (with or without pooling; an asymmetric 1xn + nx1 pair as one layer or two).
* :data:`CROSSWALK` -- the naming crosswalk of Inception-v3: the study note's names, the paper's figures, our classes,
  torchvision's classes and attributes and TF-slim's scopes, as data (``tests/test_family.py`` checks it against
  the code and against torchvision).

Introduced in chapter 6.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from torch import nn

from inception_lab.cost import Cost, chain_cost, linear_cost
from inception_lab.models import build_model
from inception_lab.models.inception_v3 import NAMES
from inception_lab.nn import shape_walk
from inception_lab.nn.branches import to_spec
from inception_lab.papers import rethinking
from inception_lab.shapes import Node, Parallel, start_shape


@dataclass(frozen=True)
class Member:
    """One network of the family: the preset that builds it, its input size, its line of Table 3, what it is."""

    name: str
    preset: str
    options: tuple[tuple[str, Any], ...]
    input_size: int
    table3: str | None  # the network column of [Rethinking, Table 3]; None: no row of Table 3 reports this network
    paper: str  # where the network is defined
    built_as: str  # what our model is: the paper's network, or our filling of what the paper leaves out


_V2 = (("aux_logits", False), ("init_weights", "pytorch"))

#: The networks of the study note's summary. v1 and BN-Inception as their papers describe them; Inception-v2 as
#: Rethinking's Table 1 outlines it, at the released widths (the paper's are in a model.txt we do not have; see
#: :mod:`~inception_lab.models.inception_v2`), once with Table 1's 3x3 stem and once with the one 7x7 convolution
#: of Table 3's "Inception-v2" row (the row before "Factorized 7x7"); v3 as released (torchvision). Only the 7x7
#: variant is paired with Table 3's "Inception-v2" errors: Table 1's stem is the "Factorized 7x7" row, which
#: Table 3 reports only after RMSProp and label smoothing were added.
MEMBERS: tuple[Member, ...] = (
    Member("Inception v1 (GoogLeNet)", "googlenet", (("aux_logits", False), ("init_weights", "pytorch")), 224,
           "GoogLeNet", "GoogLeNet, Table 1", "the paper's Table 1 (a plain 7x7 first convolution, LRN)"),
    Member("BN-Inception", "bn_inception", (("init_weights", "pytorch"),), 224, "BN-Inception", "BN, Fig. 5",
           "the paper's Fig. 5 (a plain 7x7 first convolution)"),
    Member("Inception-v2, 7x7 stem", "inception_v2", (("stem", "7x7"), *_V2), 299, "Inception-v2",
           "Rethinking, Table 1 and §10", "Table 1 layout at released widths, one 7x7 stem convolution (our filling)"),
    Member("Inception-v2", "inception_v2", _V2, 299, None, "Rethinking, Table 1 and §6",
           "Table 1 layout at released widths (our filling)"),
    Member("Inception-v3", "inception_v3", (("aux_logits", False), ("init_weights", "pytorch")), 299,
           "Inception-v2 + BN-auxiliary", "Rethinking, Table 1 / §10 (released model)",
           "the released model (TF-slim, torchvision)"),
)

#: Where the errors come from.
ERROR_SOURCE = "Rethinking, Table 3: single crop, top-1 / top-5 error (%) on the ILSVRC 2012 validation set"


def build(member: Member) -> nn.Module:
    """The member's model, with PyTorch's default initialisation (counting needs none; it is the quickest)."""
    return build_model(member.preset, **dict(member.options))


def _chain_depth(chain: Sequence[Node], pooling: bool, pairs_as_one: bool) -> int:
    depth, open_pair = 0, None
    for node in chain:
        if isinstance(node, Parallel):
            depth += max(_chain_depth(b.chain, pooling, pairs_as_one) for b in node.branches)
            open_pair = None
        elif node.kind == "conv":
            asymmetric = 1 in node.kernel and node.kernel[0] != node.kernel[1]
            if pairs_as_one and asymmetric and open_pair is not None and open_pair != node.kernel:
                open_pair = None  # the second half of an n x 1 / 1 x n pair: one n x n layer, already counted
                continue
            depth += 1
            open_pair = node.kernel if asymmetric else None
        else:
            depth += int(pooling)
            open_pair = None
    return depth


def depth(model: nn.Module, *, pooling: bool = False, pairs_as_one: bool = False, classifier: bool = True) -> int:
    """Layers on the longest path through ``model``'s main path (the deepest branch of every module).

    GoogLeNet's count: "22 layers deep when counting only layers with parameters (or 27 layers if we also count
    pooling)" [GoogLeNet, §5]; with ``pooling=False`` / ``True`` this function reproduces both. Rethinking says
    "our network is 42 layers deep" (§6) without saying how it counts; chapter 6 compares the conventions.

    Args:
        pooling: count pooling layers too (the stem's, the global pool; inside a module only if on the deepest path).
        pairs_as_one: count a 1xn convolution followed by an nx1 (or the reverse) as one layer, the n x n it replaces.
        classifier: count the final linear layer.
    """
    return _chain_depth(to_spec(model), pooling, pairs_as_one) + int(classifier)


@dataclass(frozen=True)
class SummaryRow:
    """One line of the family summary."""

    name: str
    paper: str
    input_size: int
    params: int  # inference: without auxiliary heads
    macs: int  # one image, conv + linear multiply-accumulates
    receptive_field: int  # of one value of the last feature map, before the global pool (padding included)
    final_grid: int  # side of the last feature map
    depth: int  # longest path of weight layers (GoogLeNet's convention), classifier included
    top1: float | None  # [Rethinking, Table 3]; None: no row of Table 3 reports this network
    top5: float | None  # None: not printed (or no row)
    table3_cost_bn: float | None  # Table 3's "Cost Bn Ops" (None: no row)
    built_as: str = ""  # what our model is (Member.built_as)


def cost_of(model: nn.Module, input_size: int) -> Cost:
    """Parameters and MACs of ``model`` (main path + classifier) on one ``input_size`` square image, from the spec.

    Equal to :func:`inception_lab.cost.count` (a forward pass) for every network of the book; no forward pass here.
    """
    body, shape = chain_cost(to_spec(model), start_shape(3, input_size, input_size))
    fc = model.fc
    head = linear_cost(fc.in_features, fc.out_features, bias=fc.bias is not None)
    if shape.channels != fc.in_features:
        raise ValueError(f"{type(model).__name__}: the main path ends with {shape.channels} channels but the "
                         f"classifier reads {fc.in_features}.")
    extra = sum(p.numel() for name, p in model.named_parameters() if name.startswith(("aux", "AuxLogits")))
    return Cost(body.params + head.params + extra, body.macs + head.macs)


def summary(members: Sequence[Member] = MEMBERS, models: dict[str, nn.Module] | None = None) -> list[SummaryRow]:
    """The family side by side: every number computed from the models, the errors from [Rethinking, Table 3].

    Args:
        models: already built models by member name (built with :func:`build` when missing).
    """
    table3 = {row.network: row for row in rethinking.TABLE3}
    rows = []
    for member in members:
        model = (models or {}).get(member.name) or build(member)
        shapes = shape_walk.stage_shapes(model, member.input_size, member.input_size)
        names = list(shapes)
        last = shapes[names[-2]] if names[-1] == "avgpool" else shapes[names[-1]]
        cost = cost_of(model, member.input_size)
        result = table3[member.table3] if member.table3 is not None else None
        rows.append(SummaryRow(member.name, member.paper, member.input_size, cost.params, cost.macs,
                               last.field.size[0], last.height, depth(model),
                               result.top1 if result else None, result.top5 if result else None,
                               result.cost_bn_ops if result else None, member.built_as))
    return rows


def _paper_value(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def summary_table(rows: Sequence[SummaryRow]) -> str:
    """The summary as a fixed-width text table (exact integers; the errors as printed)."""
    lines = [f"{'network':<26} {'input':>5} {'params':>12} {'MACs':>15} {'RF':>5} {'grid':>4} {'depth':>5} "
             f"{'top-1':>6} {'top-5':>6} {'Table 3 Bn':>10}"]
    for r in rows:
        lines.append(f"{r.name:<26} {r.input_size:>5} {r.params:>12,} {r.macs:>15,} {r.receptive_field:>5} "
                     f"{r.final_grid:>4} {r.depth:>5} {_paper_value(r.top1):>6} {_paper_value(r.top5):>6} "
                     f"{_paper_value(r.table3_cost_bn):>10}")
    return "\n".join(lines)


def summary_markdown(rows: Sequence[SummaryRow]) -> str:
    """The summary as a Markdown table: what each model is, our counts, and Table 3's numbers ("–": none)."""
    lines = ["| network | what we built | input | params | GMACs | receptive field | depth | Table 3 top-1 | "
             "top-5 | Table 3 Bn ops |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.name} | {r.built_as} | {r.input_size} | {r.params:,} | {r.macs / 1e9:.2f} | "
                     f"{r.receptive_field} | {r.depth} | {_paper_value(r.top1)} | {_paper_value(r.top5)} | "
                     f"{_paper_value(r.table3_cost_bn)} |")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# Where the MACs are: per stage and per part of the network
# ---------------------------------------------------------------------------------------------------------
#: Parts of an Inception-v2/v3 network, by the class of a main-path stage (anything before the first module: stem).
PARTS = {"InceptionA": "35x35 modules (A)", "InceptionB": "35 -> 17 reduction", "InceptionC": "17x17 modules (B)",
         "InceptionD": "17 -> 8 reduction", "InceptionE": "8x8 modules (C)"}


def stage_costs(model: nn.Module, input_size: int) -> dict[str, Cost]:
    """Parameters and MACs of every stage of ``model.main_path()`` on one square image, in order (no forward pass).

    The stages' MACs add up to :func:`cost_of`'s minus the classifier's.
    """
    shape = start_shape(3, input_size, input_size)
    out: dict[str, Cost] = {}
    for name, child in model.main_path():
        out[name], shape = chain_cost(to_spec(child), shape)
    return out


def part_costs(model: nn.Module, input_size: int) -> dict[str, int]:
    """MACs of ``model`` by part: the stem, each stage of modules (:data:`PARTS`), the classifier.

    The parts add up to :func:`cost_of`'s MACs exactly.
    """
    parts: dict[str, int] = {"stem": 0}
    seen_module = False
    children = dict(model.named_children())
    for name, cost in stage_costs(model, input_size).items():
        part = PARTS.get(type(children[name]).__name__) if name in children else None
        seen_module = seen_module or part is not None
        key = part or ("stem" if not seen_module else "classifier")
        parts[key] = parts.get(key, 0) + cost.macs
    fc = model.fc
    parts["classifier"] = parts.get("classifier", 0) + linear_cost(fc.in_features, fc.out_features).macs
    return parts


# ---------------------------------------------------------------------------------------------------------
# The naming crosswalk of Inception-v3
# ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CrosswalkRow:
    """One piece of Inception-v3 under its four names."""

    study_note: str  # the name in the study note the book follows
    paper: str  # [Rethinking]
    torchvision_class: str  # in torchvision.models.inception (its network class is Inception3)
    ours: str  # our class (inception_lab.models.inception_v3, inception_lab.nn.layers)
    attributes: tuple[str, ...]  # attributes of torchvision's Inception3 and of our InceptionV3 (none: the network)
    tf_slim: str  # scopes of the TF-slim model the released weights come from
    v2_attributes: tuple[str, ...]  # the same pieces in our Table 1 Inception-v2 (inception_lab.models.inception_v2)


_V2_ATTRIBUTES = {"InceptionA": ("Mixed_5b", "Mixed_5c", "Mixed_5d"), "InceptionB": ("Mixed_6a",),
                  "InceptionC": ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_6f"),
                  "InceptionD": ("Mixed_7a",), "InceptionE": ("Mixed_7b", "Mixed_7c")}

#: The study note's names <-> paper figures <-> torchvision classes and attributes <-> TF-slim scopes; the modules'
#: rows come from :data:`inception_lab.models.inception_v3.NAMES`. The first row is the network itself:
#: torchvision's ``Inception3`` is our ``InceptionV3``.
CROSSWALK: tuple[CrosswalkRow, ...] = (
    CrosswalkRow("Inception v3", "Table 1; §6", "Inception3", "InceptionV3", (), "InceptionV3", ()),
    CrosswalkRow("stem (7x7 factorized into 3x3)", "Table 1, first 7 rows; §6", "BasicConv2d", "ConvBNReLU",
                 ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3"),
                 "Conv2d_1a_3x3 .. Conv2d_4a_3x3", ("conv0", "conv1", "conv2", "conv3", "conv4", "conv5")),
    *(CrosswalkRow(n["study_note"], n["paper"], n["torchvision"], cls, n["attributes"], n["tf_slim"],
                   _V2_ATTRIBUTES[cls]) for cls, n in NAMES.items()),
    CrosswalkRow("auxiliary classifier", "§4, Fig. 8", "InceptionAux", "InceptionAux", ("AuxLogits",), "AuxLogits",
                 ("AuxLogits",)),
    CrosswalkRow("classifier", "Table 1: pool 8x8, linear, softmax", "Linear", "Linear", ("fc",), "Logits", ("fc",)),
)


def crosswalk_table(rows: Sequence[CrosswalkRow] = CROSSWALK) -> str:
    """The crosswalk as a Markdown table."""
    lines = ["| study note | paper | torchvision class | our class | torchvision / our attributes | TF-slim scope |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        attributes = ", ".join(r.attributes) or "(the network)"
        lines.append(f"| {r.study_note} | {r.paper} | `{r.torchvision_class}` | `{r.ours}` | {attributes} | "
                     f"{r.tf_slim} |")
    return "\n".join(lines)



# ---------------------------------------------------------------------------------------------------------
# The released model against the paper
# ---------------------------------------------------------------------------------------------------------
def _steps_text(steps: Sequence[Any]) -> str:
    return " → ".join(" ‖ ".join(step) if isinstance(step, tuple) else step for step in steps)


def released_differences_table(differences: Sequence[Any] = rethinking.RELEASED_DIFFERENCES) -> str:
    """:data:`inception_lab.papers.rethinking.RELEASED_DIFFERENCES` as a Markdown table: the paper's artefact,
    what it prints, what the released model has, where (torchvision's attributes), and the sources."""
    lines = ["| paper | the paper prints | released (TF-slim, torchvision) | where | sources |",
             "|---|---|---|---|---|"]
    for d in differences:
        what = f"branch {d.branch}: " if d.kind == "branch" else ""
        where = ", ".join(d.attributes[:2]) + (" …" if len(d.attributes) > 2 else "")
        lines.append(f"| {d.where} | {what}{_steps_text(d.paper)} | {_steps_text(d.released)} | {where} | "
                     f"{'; '.join(d.sources)} |")
    return "\n".join(lines)