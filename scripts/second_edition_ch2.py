"""Chapter 2, second edition (issue 13): re-runnable, idempotent edits of notebooks/02_googlenet.ipynb.

Run from the repository root: ``python scripts/second_edition_ch2.py``, then re-execute the chapter with
``scripts/execute_notebooks.py``. Every edit finds its cell by distinctive text and asserts it is there; edits
already made are skipped. The live aux-head experiment and the recorded long runs ("Training the mini GoogLeNet"
through "What the longer runs show") belong to issue 7 and are not touched here, except one sentence edited
softly (skipped with a note when that text has changed).
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nbedit import Notebook, code, md  # noqa: E402

nb = Notebook("notebooks/02_googlenet.ipynb")

# --- setup cells collapsed in the rendered book ------------------------------------------------------------------
nb.tag("import importlib.util\nimport subprocess", "hide-input")
nb.tag("device = pick_device()", "hide-input")

# --- the opening: ILSVRC defined, no "12x" (point 6) --------------------------------------------------------------
nb.replace("into a network 22 layers deep that won\nILSVRC 2014 with 12× fewer parameters than AlexNet.",
           "into a network 22 layers deep that won\nthe classification task of ILSVRC 2014, the *ImageNet Large Scale "
           "Visual Recognition Challenge* (1,000 classes,\nabout 1.2 million training photographs), with several times "
           "fewer parameters than AlexNet, the winner of 2012\n(the paper says 12×; we count below).")

# --- the network at a glance: the diagram at the top, where the heads attach, how "22 layers" is counted ---------
glance = [
    md("## The network at a glance\n\n"
       "Before building it, here is the whole network as the library draws it from the code\n"
       "(`inception_lab.diagrams.draw_network`), each stage with its output size for a 224×224 image. Read the left\n"
       "column top to bottom, then the right one: a *stem* of ordinary convolutions (orange) and max-pools (green),\n"
       "nine Inception modules (yellow) on three grids separated by max-pools, and a global average pool. Not drawn:\n"
       "the two normalization layers of the stem (they keep the shape; see below), the dropout and the final linear\n"
       "layer, and the two **auxiliary classifiers**, small side networks that read the outputs of inception (4a)\n"
       "and (4d) during training only (section \"Auxiliary classifiers\")."),
    code("from inception_lab import diagrams\n\n"
         "fig = diagrams.draw_network(gn.googlenet(), 224, 224, title=\"GoogLeNet [Table 1, Fig. 3]: the main path\")\n"
         "plt.show()"),
    md("**How deep is \"22 layers\"?** The paper counts \"only layers with parameters\", along the longest path from\n"
       "the image to the classifier, and gets 22, \"or 27 layers if we also count pooling\"\n"
       "({cite:p}`szegedy2015going`, §5). Branches that sit side by side count once, so every Inception module\n"
       "counts as two layers (a 1×1 reduction and the 3×3 or 5×5 behind it), however wide it is; the auxiliary\n"
       "heads do not count. The shape walk describes every stage as a chain of operations, so we can count:"),
    code("from inception_lab.shapes import Parallel\n"
         "from inception_lab.walk import to_spec\n\n\n"
         "def longest_path(chain, count_pools):\n"
         "    \"\"\"Layers on the longest path through a chain: convolutions, and pooling layers if asked.\"\"\"\n"
         "    layers = 0\n"
         "    for node in chain:\n"
         "        if isinstance(node, Parallel):  # an Inception module: its deepest branch\n"
         "            layers += max(longest_path(branch.chain, count_pools) for branch in node.branches)\n"
         "        elif node.kind == \"conv\" or (count_pools and node.kind.endswith(\"pool\")):\n"
         "            layers += 1\n"
         "    return layers\n\n\n"
         "main_path = list(gn.googlenet(aux_logits=False).main_path())  # conv1 ... avgpool; then the linear layer\n"
         "per_stage = {name: longest_path(to_spec(stage), count_pools=False) for name, stage in main_path}\n"
         "in_stem = sum(d for name, d in per_stage.items() if not name.startswith(\"inception\"))\n"
         "in_modules = sum(d for name, d in per_stage.items() if name.startswith(\"inception\"))\n"
         "with_pools = sum(longest_path(to_spec(stage), count_pools=True) for _, stage in main_path) + 1\n"
         "depth = in_stem + in_modules + 1\n"
         "print(f\"layers with parameters: stem {in_stem} + nine modules {in_modules} + linear 1 = {depth}\")\n"
         "print(f\"counting the pooling layers too: {with_pools}\")\n"
         "assert (depth, with_pools) == (22, 27)"),
    md("The two counts are the paper's. Like every depth count it is a convention: the paper adds that the network\n"
       "is built from \"about 100\" independent building blocks."),
]
nb.insert("print(\"running on\", describe_device(device))", glance, marker="## The network at a glance")

# --- LRN explained where it appears -------------------------------------------------------------------------------
nb.replace("- the paper's Fig. 3 draws two *local response normalisations* (LRN), after the first max-pool and after "
           "the 3×3\n  convolution. They have no parameters and no MACs; we keep them, with the Caffe replication's "
           "settings.",
           "- the paper's Fig. 3 draws two *local response normalizations* (LRN), after the first max-pool and after "
           "the 3×3\n  convolution. LRN comes from AlexNet: each activation $a_c$ is divided by a power of the summed "
           "squares of the\n  activations at the same position in the $n = 5$ channels around it,\n"
           "  $b_c = a_c \\big/ \\big(k + \\tfrac{\\alpha}{n} \\sum_{c'} a_{c'}^2\\big)^{\\beta}$, so a strong "
           "response damps its neighbours\n  (a form of competition between feature maps). It has no parameters and no "
           "MACs in our count; we keep it\n  with the Caffe replication's settings ($k = 1$, $\\alpha = 10^{-4}$, "
           "$\\beta = 0.75$). Batch normalization (chapter 3)\n  made it unnecessary: \"with Batch Normalization it is "
           "not necessary\" ({cite:p}`ioffe2015batch`, §4.2.1).",
           marker="LRN comes from AlexNet")

# --- point 9: the cost per module does not stay in the same range ------------------------------------------------
nb.replace("The widths grow as the grid shrinks: each halving of the grid\nis followed by wider modules, so the cost "
           "per module stays in the same range while the features become more\nabstract.",
           "The widths grow as the grid shrinks, but much less than the grid\nshrinks: a halving of the grid divides "
           "the positions by 4, while the next modules are less than twice as wide.\nSo the cost of a module does "
           "not stay level; it falls after each pool. The MACs of each module, computed from\nits row:",
           marker="So the cost of a module does")
nb.split_before("The whole network is these stages in a row:")
nb.insert("So the cost of a module does", [
    code("module_macs = {r.line.removeprefix(\"inception \").strip(\"()\"): r.macs\n"
         "               for r in going_deeper.table1_comparison() if r.line.startswith(\"inception\")}\n"
         "print(\"  \".join(f\"{name} {macs / 1e6:.0f}M\" for name, macs in module_macs.items()))\n"
         "macs_range = max(module_macs.values()) / min(module_macs.values())\n"
         "print(f\"largest / smallest: {macs_range:.1f}x\")\n"
         "glue(\"module_macs_3b\", module_macs[\"3b\"] / 1e6)\n"
         "glue(\"module_macs_5a\", module_macs[\"5a\"] / 1e6)\n"
         "glue(\"module_macs_4a\", module_macs[\"4a\"] / 1e6)\n"
         "glue(\"module_macs_4e\", module_macs[\"4e\"] / 1e6)\n"
         "glue(\"module_macs_ratio\", macs_range)"),
    md("From {glue:text}`module_macs_3b:.0f` M MACs in (3b) to {glue:text}`module_macs_5a:.0f` M in (5a): a\n"
       "{glue:text}`module_macs_ratio:.0f`× range. Within one grid the cost climbs with the width ((4a)\n"
       "{glue:text}`module_macs_4a:.0f` M, (4e) {glue:text}`module_macs_4e:.0f` M), and each pool cuts it back, so\n"
       "most of the compute is spent early, on the large grids, while most of the parameters sit in the wide late\n"
       "modules."),
], marker="module_macs = {r.line")

# --- global average pooling instead of fully connected layers (Network in Network) -------------------------------
nb.insert("print(f\"{sum(p.numel() for p in my_googlenet.parameters()):,} parameters\")", [
    md("### Why a global average pool at the end\n\n"
       "AlexNet ended with large fully connected layers; GoogLeNet ends with a global average pool, which averages\n"
       "each of the 1024 feature maps over the 7×7 grid, and one linear layer. The idea comes from *Network in\n"
       "Network* {cite:p}`lin2014network`. The paper keeps the linear layer to make adapting the network to other\n"
       "label sets easy, and reports that the move \"improved the top-1 accuracy by about 0.6%, however the use of\n"
       "dropout remained essential even after removing the fully connected layers\" ({cite:p}`szegedy2015going`,\n"
       "§5); hence the 40 % dropout before the linear layer. What the pool saves is easy to count: a fully\n"
       "connected layer from the 7×7×1024 map to 1024 units would hold"),
    code("fc_on_grid = cost.linear_cost(7 * 7 * 1024, 1024, bias=False)\n"
         "whole = sum(p.numel() for p in my_googlenet.parameters())\n"
         "print(f\"fully connected 7x7x1024 -> 1024: {fc_on_grid.params:,} weights = {fc_on_grid.params / whole:.1f} x \"\n"
         "      f\"the whole GoogLeNet; global average pool: 0\")\n"
         "glue(\"fc_on_grid\", fc_on_grid.params)\n"
         "glue(\"fc_on_grid_ratio\", fc_on_grid.params / whole)"),
    md("{glue:text}`fc_on_grid:,.0f` weights, {glue:text}`fc_on_grid_ratio:.1f` times the whole network, for one\n"
       "layer. The average pool has none, and it makes the classifier indifferent to *where* on the grid a feature\n"
       "was found, which is what a classifier of whole images wants."),
], marker="### Why a global average pool at the end")

# --- Table 1: main line short, the line-by-line analysis folded; point 12 (2.65K rounds to 2.6K; Xception) -------
nb.replace("Only {glue:text}`t1_matching` of the {glue:text}`t1_lines` lines match. The others, one by one:",
           "Only {glue:text}`t1_matching` of the {glue:text}`t1_lines` lines match. In short: the first line fits "
           "a\n*depthwise-separable* 7×7 convolution rather than the plain 7×7 of the patch column (a later paper "
           "says that\nInception V1's first layer was one, {cite:p}`chollet2017xception`, §2); in five modules the "
           "params cell does\nnot follow from the row's filter counts while the ops cell does; and (5a)'s pair of "
           "cells seems to belong to\nother widths. The line-by-line analysis is folded below; the cell under this "
           "paragraph computes it (click\nto show).",
           marker="The line-by-line analysis is folded below")
nb.tag("for r in comparison:\n    if r.note:", "hide-cell")
nb.replace("glue(\"sep_mmacs\", separable_conv1.macs / 1e6)\n",
           "glue(\"sep_mmacs\", separable_conv1.macs / 1e6)\n"
           "separable_with_bias = cost.separable_conv_cost(bias=True)  # + the 64 biases of the 1x1 convolution\n"
           "glue(\"sep_k\", separable_conv1.params / 1024)\n"
           "glue(\"sep_bias_params\", separable_with_bias.params)\n"
           "glue(\"sep_bias_k\", separable_with_bias.params / 1024)\n",
           marker="separable_with_bias = cost.separable_conv_cost(bias=True)")
nb.replace("   {glue:text}`sep_weights:,.0f` weights and costs {glue:text}`sep_mmacs:.1f` M MACs: both cells. The "
           "BN-Inception paper states that its own first layer is exactly that\n   ({cite:p}`ioffe2015batch`, "
           "Fig. 5), so the likeliest reading is that Table 1's costs were computed for such a\n   layer.",
           "   {glue:text}`sep_weights:,.0f` weights and costs {glue:text}`sep_mmacs:.1f` M MACs. The MACs match the "
           "printed 34M.\n   The weights match only up to a convention: with the K = 1024 that fits the other "
           "lines, 2,712 weights\n   are {glue:text}`sep_k:.2f`K, which rounds to 2.6K, not 2.7K; the printed 2.7K "
           "needs the 64 biases of the 1×1\n   convolution ({glue:text}`sep_bias_params:,.0f` parameters, "
           "{glue:text}`sep_bias_k:.2f`K) or K = 1000. Two papers say that the first\n   layer was such a "
           "convolution: the BN paper for its own network ({cite:p}`ioffe2015batch`, Fig. 5), and\n   Xception: "
           "\"a depthwise separable convolution was used as the first layer of Inception V1 and Inception V2\"\n"
           "   ({cite:p}`chollet2017xception`, §2). So Table 1's costs were most likely computed for that layer.",
           marker="which rounds to 2.6K, not 2.7K")
i = nb.find("So the disagreements are of three kinds.")
if not nb.cells[i].source.startswith(":::{dropdown}"):
    body, sep, rest = nb.cells[i].source.partition("\n\nThe table has no total row.")
    assert sep, "the end of the Table 1 analysis moved"
    nb.cells[i].source = (":::{dropdown} Going further: Table 1's disagreements, line by line\n" + body + "\n:::")
    nb.cells.insert(i + 1, md("The table has no total row." + rest))
    nb.log.append("folded the Table 1 analysis into a dropdown")

# --- point 6: "12x fewer parameters than AlexNet", computed -------------------------------------------------------
nb.split_before("## Paper-faithful vs torchvision")
nb.insert("option builds either first layer; `googlenet()` keeps the plain 7×7", [
    md("**Against AlexNet.** The paper says GoogLeNet \"uses 12× fewer parameters\" than the AlexNet that won in\n"
       "2012 (§1). We can count both: torchvision ships the one-GPU variant of AlexNet."),
    code("alexnet_params = 61_100_840  # torchvision.models.alexnet(); counted below when torchvision is installed\n"
         "if importlib.util.find_spec(\"torchvision\") is not None:\n"
         "    import torchvision\n\n"
         "    alexnet_params = sum(p.numel() for p in torchvision.models.alexnet(weights=None).parameters())\n"
         "tv_count = sum(p.numel() for p in gn.googlenet_tv(aux_logits=False).parameters())\n"
         "print(f\"AlexNet (torchvision): {alexnet_params:,} parameters\")\n"
         "for label, params in ((\"paper-faithful googlenet()\", paper.params), (\"torchvision's GoogLeNet\", tv_count),\n"
         "                      (\"'5 million' [Rethinking, §1]\", 5_000_000)):\n"
         "    print(f\"{label:<30}{params:>11,}: AlexNet has {alexnet_params / params:.1f}x as many\")\n"
         "glue(\"alexnet_params\", alexnet_params)\n"
         "glue(\"alexnet_ratio\", alexnet_params / paper.params)\n"
         "glue(\"alexnet_ratio_tv\", alexnet_params / tv_count)"),
    md("By our count GoogLeNet has {glue:text}`alexnet_ratio:.1f`× fewer parameters than AlexNet\n"
       "({glue:text}`alexnet_ratio_tv:.1f`× for torchvision's version). The \"12×\" holds only against the \"5 million\"\n"
       "that the Inception-v3 paper later gave for GoogLeNet next to AlexNet's \"60 million\"\n"
       "({cite:p}`szegedy2016rethinking`, §1); neither paper says how it counted."),
], marker="**Against AlexNet.**")

# --- the paper's training recipe and results; Adam, receipt and channels_last defined ----------------------------
nb.insert("## Auxiliary classifiers", [
    md("## How the paper trained GoogLeNet, and what it reached\n\n"
       "The recipe of §6 ({cite:p}`szegedy2015going`):\n\n"
       "- **Optimizer**: asynchronous stochastic gradient descent on many machines, momentum 0.9, and a learning "
       "rate\n  decreased by 4 % every 8 epochs (a slow exponential decay: after 100 epochs the rate is "
       "$0.96^{100/8} \\approx 0.6$\n  of where it started).\n"
       "- **Polyak averaging**: the final model is an average of the weights over the last stretch of training, "
       "not the\n  weights of the last step, which smooths out the noise of the last updates.\n"
       "- **Data augmentation**: random crops whose size is \"distributed evenly between 8% and 100% of the image\n"
       "  area\" with an aspect ratio chosen at random between 3/4 and 4/3, resized to 224×224, plus photometric\n"
       "  distortions (random changes of brightness, contrast and colour). torchvision's `RandomResizedCrop` has "
       "exactly\n  these crops as its defaults:"),
    code("if importlib.util.find_spec(\"torchvision\") is not None:\n"
         "    from torchvision.transforms import RandomResizedCrop\n\n"
         "    crop = RandomResizedCrop(224)\n"
         "    print(f\"RandomResizedCrop(224): area {crop.scale}, aspect ratio \"\n"
         "          f\"({crop.ratio[0]:.4f}, {crop.ratio[1]:.4f}); equal to (3/4, 4/3): {crop.ratio == (3 / 4, 4 / 3)}\")\n"
         "else:\n"
         "    print(\"torchvision is not installed (pip install torchvision to see its defaults).\")"),
    md("**The results.** ILSVRC scores classification by the *top-5 error*: an image counts as wrong when the right\n"
       "class is not among the network's five highest scores. Table 3 of the paper gives it on the validation set:\n\n"
       "| models | crops per image | top-5 error |\n|---|---|---|\n"
       "| 1 | 1 | 10.07 % |\n| 1 | 10 | 9.15 % |\n| 1 | 144 | 7.89 % |\n| 7 | 1 | 8.09 % |\n"
       "| 7 | 10 | 7.62 % |\n| 7 | 144 | 6.67 % |\n\n"
       "The winning entry averaged 144 crops of every image over seven networks, trained alike but on different\n"
       "samplings of the data; it reached 6.67 % on the test data as well (§7). torchvision's weights reach 89.53 %\n"
       "top-5 accuracy (a 10.47 % error) with one centre crop, close to the paper's single-model, single-crop\n"
       "10.07 %, although they belong to the BN-GoogLeNet of the previous section, not to the 2014 network.\n\n"
       "**Three terms the experiments of this book use.** *Adam* {cite:p}`kingma2015adam` is an optimizer that, "
       "unlike\nSGD with momentum, divides each parameter's step by a running estimate of the size of that "
       "parameter's recent\ngradients, so that all parameters move at a similar pace; it gets small networks going "
       "quickly, which is why\nthe short runs below use it. A *receipt* is the record that the book's training loop\n"
       "(`inception_lab.train.fit`) returns with the curves: seed, optimizer, learning rate, number of steps and the\n"
       "final metrics, so that a number in the text can be traced to the run that produced it. *`channels_last`* is "
       "a\nmemory layout: PyTorch stores a batch of images as N×C×H×W with each channel's map in one block; "
       "`channels_last`\nkeeps the same tensor shape but stores the C values of each pixel next to each other "
       "(N×H×W×C in memory),\nwhich some CPU kernels, max-pooling among them, process much faster."),
], marker="## How the paper trained GoogLeNet", after=False)

# --- point 1: the CVPR version's own control experiment, in the introduction of the heads -----------------------
nb.replace("features discriminative by themselves, to increase the gradient signal that flows back to the early "
           "layers, and\nto regularize.",
           "features discriminative by themselves, to increase the gradient signal that flows back to the early "
           "layers, and\nto regularize. How much they help, the conference version of the paper already says: "
           "\"later control\nexperiments have shown that the effect of the auxiliary networks is relatively minor "
           "(around 0.5%) and that\nit required only one of them to achieve the same effect\" "
           "({cite:p}`szegedy2015going_cvpr`, §5).",
           marker="later control\nexperiments have shown")

# --- torchvision's train-mode output order vs the library's --------------------------------------------------------
nb.insert("print(f\"inception_loss equals the formula:", [
    md("torchvision's GoogLeNet returns the same three tensors in another order: in training mode a\n"
       "`GoogLeNetOutputs(logits, aux_logits2, aux_logits1)`, the head on (4d) *before* the head on (4a). The loss\n"
       "does not care (both heads weigh 0.3), but code that unpacks the two models' outputs by position, to look at\n"
       "one head's accuracy for example, silently swaps the heads:"),
    code("print(\"library:    \", type(outputs).__name__, outputs._fields, \"-- aux_logits = (head on 4a, head on 4d)\")\n"
         "if importlib.util.find_spec(\"torchvision\") is not None:\n"
         "    seed_everything(0)\n"
         "    tv_googlenet = torchvision.models.googlenet(weights=None, aux_logits=True, init_weights=True).train()\n"
         "    tv_outputs = tv_googlenet(images)\n"
         "    print(\"torchvision:\", type(tv_outputs).__name__, tv_outputs._fields)"),
], marker="torchvision's GoogLeNet returns the same three tensors in another order")

# --- own pass: jump vs receptive field in the branch pictures ------------------------------------------------------
i = nb.find("for module in (\"inception3a\", \"inception4a\"):")
if "rf_after_3a" not in nb.cells[i].source:
    nb.cells[i].source += ("\n\nfrom inception_lab.walk import stage_shapes\n\n"
                           "field = stage_shapes(trained, 32, 32)[\"inception3a\"].field\n"
                           "print(f\"inception3a: positions {field.jump[0]} px apart, receptive field {field.size[0]} px\")\n"
                           "glue(\"jump_3a_mini\", field.jump[0])\n"
                           "glue(\"rf_after_3a\", field.size[0])")
    nb.log.append("receptive field of (3a) computed in the branch-picture cell")
nb.replace("see: on the 8×8 grid of (3a) each position stands for a 4×4 patch of the input, so a 5×5 filter there "
           "covers\n5 × 4 = 20 input pixels in each direction (its full receptive field is larger still), most of "
           "the image.",
           "see: on the 8×8 grid of (3a) neighbouring positions are {glue:text}`jump_3a_mini` input pixels apart "
           "(the *jump*), so\na 5×5 filter there spans 5 × 4 = 20 pixels of positions, and with the layers below it "
           "each output of (3a)\nsees {glue:text}`rf_after_3a` × {glue:text}`rf_after_3a` pixels (its *receptive "
           "field*, from the library's shape walk): most of\nthe 32×32 image.",
           marker="neighbouring positions are {glue:text}`jump_3a_mini`")

# --- issue 7's section: one sentence, softly (the CVPR version measured the heads first) ---------------------------
nb.replace("A year later the Inception-v3 paper measured them on ImageNet and\nfound",
           "The Inception-v3 paper measured them again a year later, on ImageNet, and\nfound",
           soft=True)

nb.save()
