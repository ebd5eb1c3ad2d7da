"""Chapter 3, second edition (issue 13): re-runnable, idempotent edits of notebooks/03_bn_inception.ipynb.

Run from the repository root: ``python scripts/second_edition_ch3.py``, then re-execute the chapter with
``scripts/execute_notebooks.py``. Every edit finds its cell by distinctive text and asserts it is there; edits
already made are skipped. The learning-rate ablation ("A fair ablation" and its cells) and the timing cells belong
to issue 7 and are not touched, except two sentences edited softly (skipped with a note when that text changed).
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from nbedit import Notebook, code, md  # noqa: E402

nb = Notebook("notebooks/03_bn_inception.ipynb")

# --- setup cells collapsed in the rendered book ------------------------------------------------------------------
nb.tag("import importlib.util\nimport subprocess", "hide-input")
nb.tag("device = pick_device()", "hide-input")

# --- point 14: the identity holds for fixed statistics only -------------------------------------------------------
nb.replace("the transform gives back its input exactly, so normalizing never takes anything away that the network "
           "needs:",
           "the transform gives back its input exactly: the layer *can* represent the identity, which is the paper's\n"
           "point (§3). Strictly, that holds for fixed statistics. With batch statistics, $\\mu_\\mathcal{B}$ and "
           "$\\sigma_\\mathcal{B}$ change\nfrom batch to batch while γ and β are the same for all batches, so the undo "
           "is exact only for the batch at hand;\nwhat a batch's make-up can cost shows up in pitfall 1 below.",
           marker="Strictly, that holds for fixed statistics.")

# --- point 4: the paper does use moving averages (§3.1) -----------------------------------------------------------
nb.replace("averages, updated at every training step (the paper averages over many training batches after training, "
           "Alg. 2;\nboth end up with the same kind of estimate).",
           "averages, updated at every training step. The paper uses such moving averages too, to \"track the accuracy "
           "of a\nmodel as it trains\" (§3.1); for the final network it averages the statistics over many training "
           "batches\n(Alg. 2). Both give the same kind of estimate.",
           marker="track the accuracy of a\nmodel as it trains")
nb.replace("The paper does not use\nrunning averages at all: after training, it estimates",
           "For the final network the paper does not\nrely on running averages (it uses them to track accuracy during "
           "training, §3.1): after training, it estimates",
           soft=True)

# --- the why: backpropagating through the statistics, the backward formulas, scale invariance, regularization,
# --- and the internal-covariate-shift critique --------------------------------------------------------------------
why = [
    md("## Why BN helps: the paper's arguments, and a critique\n\n"
       "### Backpropagating through the statistics (§2)\n\n"
       "The paper's first argument is about *how* to normalize. Suppose a layer adds a learned bias, $x = u + b$, "
       "and\nwe subtract the mean of $x$, but let the gradient step ignore that the mean depends on $b$. A step "
       "changes $b$,\nthe mean moves by the same amount, and the normalized output, and with it the loss, stays "
       "the same: $b$ can\ngrow without bound while nothing improves, and in the paper's experiments such models "
       "blew up\n({cite:p}`ioffe2015batch`, §2). The cure is to treat the normalization as part of the network and "
       "to\nbackpropagate through $\\mu_\\mathcal{B}$ and $\\sigma^2_\\mathcal{B}$. The chain rule through the four "
       "lines of Alg. 1 gives, per\nchannel, with $g_i = \\partial\\ell/\\partial y_i$ (§3 writes the same in four "
       "steps, via $\\partial\\ell/\\partial\\sigma^2_\\mathcal{B}$ and\n$\\partial\\ell/\\partial\\mu_\\mathcal{B}$):\n\n"
       "$$\\frac{\\partial \\ell}{\\partial \\gamma} = \\sum_i g_i \\hat x_i, \\qquad "
       "\\frac{\\partial \\ell}{\\partial \\beta} = \\sum_i g_i, \\qquad\n"
       "\\frac{\\partial \\ell}{\\partial x_i} = \\frac{\\gamma}{\\sqrt{\\sigma^2_\\mathcal{B} + \\epsilon}}\n"
       "\\Big(g_i - \\frac{1}{m}\\sum_j g_j - \\frac{\\hat x_i}{m}\\sum_j g_j \\hat x_j\\Big).$$\n\n"
       "The last two terms are what the statistics contribute: they remove from the gradient every part that "
       "would\nonly shift the batch's mean or stretch its spread, changes the normalization would undo anyway. "
       "So, per\nchannel, the gradient sums to zero and is orthogonal to $\\hat x$ (up to the tiny $\\epsilon$). We check the formula against "
       "autograd on the\nbatch from above:"),
    code("x_in = x.clone().requires_grad_(True)\n"
         "y_out = F.batch_norm(x_in, None, None, weight=gamma, bias=beta, training=True, eps=eps)\n"
         "seed_everything(1)\n"
         "g_up = torch.randn_like(y_out)                         # a gradient dl/dy arriving from above\n"
         "y_out.backward(g_up)\n"
         "total = lambda t: t.sum(dim=(0, 2, 3), keepdim=True)  # noqa: E731  sum over a channel's m values\n"
         "m_values = x.numel() // x.shape[1]\n"
         "by_formula = (c(gamma) / torch.sqrt(c(var) + eps)\n"
         "              * (g_up - total(g_up) / m_values - x_hat * total(g_up * x_hat) / m_values))\n"
         "print(\"formula = autograd:\", torch.allclose(by_formula, x_in.grad, atol=1e-5))\n"
         "print(\"per channel, sum of dl/dx and of dl/dx * x_hat below 1e-3:\",  # not exactly 0: epsilon\n"
         "      bool(total(x_in.grad).abs().max() < 1e-3), bool(total(x_in.grad * x_hat).abs().max() < 1e-3))"),
    md("### Scale invariance: why large learning rates do not blow up (§3.3)\n\n"
       "Without BN, a large learning rate can make weights grow; larger weights make larger activations and "
       "gradients,\nand the next step is larger still. With BN, scaling a layer's weights by a scalar $a$ changes "
       "nothing\ndownstream, $\\mathrm{BN}((aW)u) = \\mathrm{BN}(Wu)$, because the batch mean and standard deviation "
       "scale by $a$ too.\nAnd for the gradients the paper shows\n\n"
       "$$\\frac{\\partial\\, \\mathrm{BN}((aW)u)}{\\partial u} = \\frac{\\partial\\, \\mathrm{BN}(Wu)}{\\partial u},"
       " \\qquad\n\\frac{\\partial\\, \\mathrm{BN}((aW)u)}{\\partial (aW)} = \\frac{1}{a}\\,"
       "\\frac{\\partial\\, \\mathrm{BN}(Wu)}{\\partial W}:$$\n\n"
       "the gradient that flows on through the layer does not depend on the scale of its weights, and larger "
       "weights\nget *smaller* gradients, which damps their growth. This is the paper's reason why BN tolerates "
       "higher learning\nrates. Five lines check it with $a = 10$:"),
    code("seed_everything(0)\n"
         "u, W, a = torch.randn(32, 20), torch.randn(20, 8), 10.0\n"
         "small, large = W.clone().requires_grad_(True), (a * W).requires_grad_(True)\n"
         "out_small = F.batch_norm(u @ small, None, None, training=True)\n"
         "out_large = F.batch_norm(u @ large, None, None, training=True)\n"
         "g_up = torch.randn_like(out_small)\n"
         "(out_small * g_up).sum().backward()\n"
         "(out_large * g_up).sum().backward()\n"
         "print(f\"same output: {torch.allclose(out_small, out_large, atol=1e-4)}; \"\n"
         "      f\"gradient norm, W over 10 W: {(small.grad.norm() / large.grad.norm()).item():.2f}\")"),
    md("### Regularization (§3.4)\n\n"
       "In training, an image's output depends on the other images of its batch, so the network never sees the "
       "same\ninput in exactly the same way twice: a kind of noise, as dropout adds noise. The paper found that "
       "with BN,\ndropout can be removed or reduced (§3.4), and its fastest runs dropped it (next section). "
       "Pitfall 1 below shows\nthe other side of the same dependence.\n\n"
       "### Is internal covariate shift the reason?\n\n"
       "The paper explains BN's effect by the reduction of internal covariate shift, the drift we measured above. "
       "Santurkar\net al. {cite:p}`santurkar2018how` tested that explanation. They injected random noise after "
       "each BN layer, so that\nthe inputs of later layers drifted on purpose, and these networks trained almost as "
       "well as with plain BN; by a\ngradient-based measure of the shift, BN did not necessarily reduce it either. "
       "Their explanation is that BN\nmakes the loss surface smoother (the gradient changes less from one point to "
       "the next), so larger steps are\nsafe. This does not make the paper's results wrong: its speed-ups are "
       "measured, and the scale-invariance\nargument above does not depend on covariate shift. What is disputed "
       "is *why* BN helps, not *whether*; we keep\nthe paper's term where we report the paper."),
]
nb.insert("## Where BN goes, and why the convolution loses its bias", why,
          marker="## Why BN helps: the paper's arguments", after=False)

# --- the BN-Inception module drawn at the top of its section ------------------------------------------------------
nb.split_before("The paper's appendix prints the network as a table, Figure 5.")
nb.replace("## The BN-Inception network (Figure 5)",
           "## The BN-Inception network (Figure 5)\n\n"
           "Two modules of BN-Inception as the library draws them from the code (`inception_lab.diagrams`): (3a), a\n"
           "module that keeps its 28×28 grid, with the *double 3×3* branch that replaces GoogLeNet's 5×5 and an "
           "average\npool; and (3c), one of the two modules that halve the grid themselves: stride-2 convolutions at "
           "the ends of\ntwo branches and a stride-2 max-pool whose output is concatenated without a projection. Every "
           "convolution is\nfollowed by BN and a ReLU (drawn as one box).",
           marker="Two modules of BN-Inception as the library draws them")
nb.insert("Two modules of BN-Inception as the library draws them", [
    code("from inception_lab import diagrams\n"
         "from inception_lab.models.bn_inception import bn_inception\n\n"
         "drawn = bn_inception(init_weights=\"pytorch\")\n"
         "for module, input_shape in ((\"inception3a\", (192, 28, 28)), (\"inception3c\", (320, 28, 28))):\n"
         "    diagrams.draw_module(drawn.get_submodule(module), input_shape, title=f\"BN-Inception {module} [Fig. 5]\")\n"
         "    plt.show()"),
], marker="drawn = bn_inception(init_weights")

# --- Figure 5's inconsistencies folded into a "going further" block ------------------------------------------------
nb.replace("### Printed versus computed output sizes\n\nThe output of a module is the concatenation of its branches: "
           "`#1x1` + `#3x3` + `double #3x3` + the pooling branch,\nwhich contributes `pool proj` channels, or, for "
           "\"pass through\", all of its input channels. Applying that rule row by\nrow, from the 224×224×3 input, "
           "and setting the result next to the printed \"output size\" column:",
           "### Printed versus computed output sizes\n\n"
           "The output of a module is the concatenation of its branches: `#1x1` + `#3x3` + `double #3x3` + the "
           "pooling\nbranch, which contributes `pool proj` channels, or, for \"pass through\", all of its input "
           "channels. Applied row\nby row, that rule disagrees with the printed \"output size\" column in four rows: "
           "4c and 4d add up to 608\nchannels (printed 576), 4e to 1056 (printed 1024), and the stride-2 modules 3c "
           "and 4e print the grid they\nreceive instead of the one they produce. The library implements what the "
           "filter columns say, as does the\nCaffe model released later. The checks are folded below (click to show).",
           marker="that rule disagrees with the printed \"output size\" column in four rows")
nb.tag("for size in output_size_table():\n    print(", "hide-cell")
nb.tag("for name in (\"4c\", \"4d\"):", "hide-cell")
nb.tag("maps = capture_features(net, torch.randn(1, 3, 224, 224), names)", "hide-cell")
nb.replace("Four rows disagree, and the arithmetic shows where each number comes from:",
           ":::{dropdown} Going further: Figure 5's printed sizes, row by row\n"
           "Four rows disagree (the table above), and the arithmetic (the next hidden cell) shows where each number "
           "comes\nfrom.\n:::")
i = nb.find("- **4c and 4d** print 576 channels")
if not nb.cells[i].source.startswith(":::{dropdown}"):
    nb.cells[i].source = (":::{dropdown} Going further: what each disagreement means\n" + nb.cells[i].source +
                          " (hidden cell below)\n:::")
    nb.log.append("folded the Figure 5 discussion into a dropdown")
nb.replace("6. From §3.2 and §4.2.1: **BN before every ReLU**, and **no Local Response Normalization**.",
           "6. From §3.2 and §4.2.1: **BN before every ReLU**, and **no Local Response Normalization** (LRN, the\n"
           "   cross-channel normalization of GoogLeNet's stem, chapter 2).")

# --- point 3: the paper's step table, the changes of §4.2.1, the results -----------------------------------------
nb.split_before("## A fair ablation: the same network with and without BN")
results = [
    md("## What the paper reports\n\n"
       "The paper trained on ImageNet, with mini-batches of 32, and compared five runs (§4.2.2, Fig. 3): how many\n"
       "training steps each needed to reach 72.2 %, the best single-crop top-1 validation accuracy of the network "
       "without\nBN (\"Inception\"), and the best accuracy each reached. `inception_lab.papers.batch_normalization` "
       "keeps the table\nas data:"),
    code("from inception_lab.papers.batch_normalization import BN_X5_CHANGES, FIGURE4_RESULTS, RUN, TRAINING_RUNS\n\n"
         "base = RUN[\"Inception\"].steps_to_match\n"
         "print(f\"{'run':<14}{'steps to 72.2 %':>16}{'fewer steps':>13}{'best accuracy':>15}\")\n"
         "for run in TRAINING_RUNS:\n"
         "    steps = \"never\" if run.steps_to_match is None else f\"{run.steps_to_match / 1e6:.1f} M\"\n"
         "    fewer = \"\" if run.steps_to_match is None else f\"{base / run.steps_to_match:.1f}x\"\n"
         "    print(f\"{run.name:<14}{steps:>16}{fewer:>13}{run.max_accuracy:>14.1f}%\")\n"
         "print(\"\\nwhat BN-x5 and BN-x30 changed besides adding BN (§4.2.1):\")\n"
         "for change in BN_X5_CHANGES:\n"
         "    print(\"  -\", change)\n"
         "glue(\"steps_ratio_x5\", base / RUN[\"BN-x5\"].steps_to_match)\n"
         "glue(\"steps_ratio_baseline\", base / RUN[\"BN-Baseline\"].steps_to_match)"),
    md("The abstract's \"the same accuracy with 14 times fewer training steps\" is BN-x5: 31.0 M against 2.1 M "
       "steps,\n{glue:text}`steps_ratio_x5:.1f`×, which the paper rounds down to 14. BN-x5 is BN **plus** the seven "
       "changes listed,\nwhich BN made possible (a higher learning rate, less regularization) or which the authors "
       "made at the same\ntime. BN alone, BN-Baseline, needed 13.3 M steps, {glue:text}`steps_ratio_baseline:.1f`× "
       "fewer than Inception: a large gain\nby itself, but most of the 14× comes from exploiting what BN allows. "
       "BN-x30, with a 30 times larger learning\nrate, was slower than BN-x5 to reach 72.2 % but went on to the "
       "best accuracy of all, 74.8 % (after 6 M steps,\nfive times fewer than Inception needed for its 72.2 %). "
       "BN-x5-Sigmoid is BN-x5 with sigmoid instead of ReLU:\nit never reached 72.2 %, but it trained to 69.8 %, "
       "while without BN the paper could not train the sigmoid\nnetwork at all.\n\n"
       "**The results on ImageNet** (Fig. 4, validation error):"),
    code("print(f\"{'':<26}{'crops':>6}{'top-1 error':>13}{'top-5 error':>13}\")\n"
         "for r in FIGURE4_RESULTS:\n"
         "    print(f\"{r.model:<26}{r.crops:>6}{r.top1_error:>12}%{r.top5_error:>12}%\")"),
    md("The ensemble, six BN-Inception networks each evaluated on 144 crops per image, reached 4.9 % top-5 error "
       "on\nthe validation set and 4.82 % on the test set, \"exceeding the accuracy of human raters\" (abstract); "
       "GoogLeNet's\nwinning ensemble of 2014 had 6.67 % (chapter 2). The single network on one crop, 7.82 %, "
       "compares with\nGoogLeNet's 10.07 %."),
]
nb.insert("The BN layers themselves are cheap:", results, marker="## What the paper reports")
nb.replace("The paper's headline result is speed: \"the same accuracy with 14 times fewer training steps\".",
           "The paper's headline result is speed: \"the same accuracy with 14 times fewer training steps\", for BN "
           "together\nwith the changes of §4.2.1 (BN alone: about 2.3×, see above).",
           soft=True)

# --- the batch-size sweet spot, and what to use at batch size 1 --------------------------------------------------
nb.split_before("### 3. Forgetting `model.eval()`")
nb.insert("independently of any other image.", [
    md("**Which batch size, then?** BN needs batches large enough for their mean and variance to be fair estimates "
       "of\nthe population's: the paper used 32 images per batch, and with a 14×14 map every channel's statistics "
       "come\nfrom thousands of values. As batches shrink to a few images, the statistics get noisy, the noise that "
       "helped\nas a regularizer starts to hurt, and training and evaluation see more and more different numbers. "
       "Very large\nbatches are no problem for BN itself. When memory allows only one or two images per step "
       "(large images,\nvideo, detection), there are three common ways out:\n\n"
       "- **Group normalization** {cite:p}`wu2018group` normalizes each image on its own, over groups of channels "
       "and all\n  positions, so it computes the same thing in training and evaluation at any batch size;\n"
       "- **Layer normalization** {cite:p}`ba2016layer` is the same with one group holding all channels (the norm "
       "of\n  transformers);\n"
       "- **Frozen BN**: fine-tune a pretrained network with its BN layers in eval mode, using the running "
       "statistics\n  from pretraining (and often freezing γ and β as well), common for detection backbones.\n\n"
       "A quick check that group normalization does not care about the batch:"),
    code("seed_everything(0)\n"
         "group_norm = nn.GroupNorm(num_groups=4, num_channels=16)\n"
         "batch = torch.randn(8, 16, 6, 6)\n"
         "alone, together = group_norm(batch[:1]), group_norm(batch)[:1]  # image 0 on its own, and in a batch of 8\n"
         "print(\"GroupNorm, image alone = image in a batch:\", torch.allclose(alone, together, atol=1e-6))\n"
         "batch_norm = nn.BatchNorm2d(16).train()\n"
         "print(\"BatchNorm (training mode), the same test:  \",\n"
         "      torch.allclose(batch_norm(batch[:1]), batch_norm(batch)[:1], atol=1e-6))"),
], marker="**Which batch size, then?**")

nb.save()
