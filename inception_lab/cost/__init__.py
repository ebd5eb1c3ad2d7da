"""The cost model of the book: parameters, MACs and FLOPs of the layers the Inception family is made of.

Units, defined once for the whole book:

* **params** -- number of learnable scalars (weights and biases; BatchNorm's gamma and beta).
* **MACs** -- multiply-accumulates of convolutions and linear layers: one multiplication of a weight by an
  input value, added to a running sum. This is what GoogLeNet's "1.5 billion multiply-adds" [GoogLeNet, §1]
  and the "ops" column of its Table 1 count, and what torchvision publishes as "GFLOPS".
* **FLOPs** -- floating point operations, ``FLOPs = 2 * MACs`` (one multiply plus one add), the convention of
  ``torch.utils.flop_counter.FlopCounterMode``.

Bias additions, BatchNorm, ReLU, pooling and concatenation count **0 MACs**, as in ``FlopCounterMode``: they
are cheap element-wise work (and an inference-time BatchNorm folds into the preceding convolution). torchinfo's
"mult-adds" differ by exactly these small terms; :meth:`CostReport.torchinfo_mult_adds` reproduces its number.

Layout: :mod:`~inception_lab.cost.core` (one layer, a chain, a multi-branch module) and one file of formulas per
topic (:mod:`~inception_lab.cost.inception` for chapter 1, ...) form the **formula layer**: pure Python that
imports nothing of ours but :mod:`inception_lab.checks`, :mod:`inception_lab.shapes` and
:mod:`inception_lab.palette`, so the explorers can compute without PyTorch. :mod:`~inception_lab.cost.counting`
walks a real ``torch.nn.Module`` with the same formulas (torch is imported inside :func:`count` only). The names
below are the package's API.
Introduced in chapter 1 (``notebooks/01_inception_module.ipynb``).
"""

from inception_lab.cost.core import (
                                     Cost,
                                     ModuleCost,
                                     batchnorm_cost,
                                     chain_cost,
                                     conv2d_cost,
                                     linear_cost,
                                     module_cost,
                                     op_cost,
                                     parallel_cost,
                                     separable_conv_cost,
                                     total,
)
from inception_lab.cost.counting import CostReport, LayerCost, count
from inception_lab.cost.inception import (
                                     compare_inception_modules,
                                     inception_naive_cost,
                                     inception_reduced_cost,
                                     naive_spec,
                                     reduced_spec,
)

__all__ = ["Cost", "ModuleCost", "batchnorm_cost", "chain_cost", "conv2d_cost", "linear_cost", "module_cost",
           "op_cost", "parallel_cost", "separable_conv_cost", "total", "CostReport", "LayerCost", "count",
           "compare_inception_modules", "inception_naive_cost", "inception_reduced_cost", "naive_spec",
           "reduced_spec"]
