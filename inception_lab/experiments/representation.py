"""The representational bottleneck made measurable: how much of a feature map survives each grid reduction.

[Rethinking, §2, principle 1]: "One should avoid bottlenecks with extreme compression ... The representation size
should gently decrease from the inputs to the outputs". §5 says pooling first violates it. We measure it directly:

1. **Input maps** (:func:`feature_maps`): the book's synthetic shapes images, passed through a fixed random 3x3
   convolution with ``k`` filters and a ReLU, then standardised per channel -- a ``d x d x k`` feature map with the
   spatial structure of real images (edges, blobs, textures), not white noise.
2. **Encoder**: one grid reduction ``k -> 2k``, ``d -> d/2`` (:func:`build_reduction`: pool first, conv first or
   the parallel module of Fig. 10), with conv-ReLU atoms.
3. **Decoder**: one *linear* transposed convolution (4x4, stride 2) back to ``d x d x k``.
4. Both are trained together to reconstruct the input (mean squared error); the score is the **recovered variance**
   ``R^2 = 1 - MSE / Var`` on held-out maps (1 = everything recovered, 0 = nothing beyond the mean).

The decoder is deliberately weak (linear, local), so differences come from what the reduction kept. Every strategy
gets the same data, steps, batch size, optimiser and learning rate (an equal training budget); their MACs differ and
are reported beside the score. Chapter 5 runs one seed live; ``benchmarks/bench_grid_reduction.py`` runs several.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from inception_lab.checks import check_choice, check_positive_int
from inception_lab.cost import count
from inception_lab.cost.grid_reduction import POOLS, STRATEGIES
from inception_lab.data import make_shapes_dataset
from inception_lab.nn.layers import ConvReLU
from inception_lab.nn.reduction import ConvFirst, GridReduction, PoolFirst
from inception_lab.runtime import seed_everything

#: The experiment's defaults (chapter 5's live run; the benchmark runs them longer and over several seeds).
DEFAULTS = dict(channels=8, image_size=32, n_train=1024, n_test=256, steps=150, batch_size=32, lr=3e-3)


def feature_maps(n: int, *, channels: int = 8, image_size: int = 32, seed: int = 0,
                 split: str = "train") -> torch.Tensor:
    """``n`` feature maps of ``channels x image_size x image_size``: shapes images -> fixed random 3x3 conv -> ReLU.

    The random convolution is drawn from its own generator (seed 1234), so the maps depend on ``seed`` and ``split``
    only through the images. Each channel is standardised (mean 0, variance 1 over the set), so a map's total
    variance is ``channels`` per pixel and ``R^2`` compares strategies on the same scale.
    """
    check_positive_int("n", n)
    check_positive_int("channels", channels)
    images = make_shapes_dataset(n, image_size, seed, split=split).images  # N x 3 x S x S, normalised
    gen = torch.Generator().manual_seed(1234)
    weight = torch.randn(channels, 3, 3, 3, generator=gen) / math.sqrt(27)
    with torch.no_grad():
        maps = F.relu(F.conv2d(images, weight, padding=1))  # N x k x S x S
        mean = maps.mean(dim=(0, 2, 3), keepdim=True)
        std = maps.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    return (maps - mean) / std


def build_reduction(strategy: str, channels: int, *, pool: str = "max") -> nn.Module:
    """One reduction ``k x d x d -> 2k x d/2 x d/2`` ("same" padding, 3x3 kernels, conv-ReLU atoms).

    The parallel module splits its ``k`` new channels evenly: a 3x3/2 branch and a 1x1 -> 3x3 -> 3x3/2 branch
    beside the pooling branch, which passes the ``k`` input channels on (``k/2 + k/2 + k = 2k``).
    """
    check_choice("strategy", strategy, STRATEGIES)
    k = check_positive_int("channels", channels)
    if strategy == "pool_first":
        return PoolFirst(k, 2 * k, kernel=3, pool=pool, padding="same", conv_block=ConvReLU)
    if strategy == "conv_first":
        return ConvFirst(k, 2 * k, kernel=3, pool=pool, padding="same", conv_block=ConvReLU)
    if k < 2:
        raise ValueError("the parallel module splits its convolution channels in two: channels must be >= 2.")
    return GridReduction(k, k // 2, ch3x3dbl_red=k - k // 2, ch3x3dbl=k - k // 2, pool=pool, padding="same",
                         conv_block=ConvReLU)


class Reconstructor(nn.Module):
    """A grid reduction followed by a linear 4x4/2 transposed convolution back to the input's size.

    Shape:
        (N, k, d, d) -> (N, 2k, d/2, d/2) -> (N, k, d, d).
    """

    def __init__(self, reduction: nn.Module, channels: int) -> None:
        super().__init__()
        self.reduction = reduction
        self.decoder = nn.ConvTranspose2d(2 * channels, channels, kernel_size=4, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # N x k x d x d -> N x 2k x d/2 x d/2 -> N x k x d x d
        return self.decoder(self.reduction(x))


@dataclass(frozen=True)
class Recovery:
    """One trained reconstruction: the strategy, its encoder's cost, and the variance recovered on held-out maps."""

    strategy: str
    pool: str
    seed: int
    steps: int
    r2: float
    params: int  # of the reduction alone
    macs: int  # of the reduction alone, for one map

    def as_dict(self) -> dict[str, object]:
        return dict(strategy=self.strategy, pool=self.pool, seed=self.seed, steps=self.steps, r2=self.r2,
                    params=self.params, macs=self.macs)


def r_squared(prediction: torch.Tensor, target: torch.Tensor) -> float:
    """Recovered variance ``1 - sum((x - x_hat)^2) / sum((x - mean)^2)`` (mean per channel)."""
    residual = (prediction - target).pow(2).sum()
    total = (target - target.mean(dim=(0, 2, 3), keepdim=True)).pow(2).sum()
    return float(1 - residual / total)


def train_recovery(strategy: str, train_maps: torch.Tensor, test_maps: torch.Tensor, *, pool: str = "max",
                   seed: int = 0, steps: int = DEFAULTS["steps"], batch_size: int = DEFAULTS["batch_size"],
                   lr: float = DEFAULTS["lr"]) -> Recovery:
    """Train reduction + linear decoder to reconstruct ``train_maps`` (Adam, MSE); score ``R^2`` on ``test_maps``.

    ``seed`` sets the initial weights and the order of the batches; the budget (``steps``, ``batch_size``, ``lr``)
    is the same for every strategy.
    """
    check_choice("pool", pool, POOLS)
    check_positive_int("steps", steps)
    check_positive_int("batch_size", batch_size)
    channels = train_maps.shape[1]
    order = seed_everything(seed)  # initial weights and batch order (shifted by INCEPTION_LAB_SEED when set)
    model = Reconstructor(build_reduction(strategy, channels, pool=pool), channels)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        batch = train_maps[torch.randint(len(train_maps), (batch_size,), generator=order)]
        loss = F.mse_loss(model(batch), batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        r2 = r_squared(model(test_maps), test_maps)
    report = count(model.reduction, (1,) + tuple(train_maps.shape[1:]))
    return Recovery(strategy, pool, seed, steps, r2, report.params, report.macs)


__all__ = ["DEFAULTS", "feature_maps", "build_reduction", "Reconstructor", "Recovery", "r_squared",
           "train_recovery"]
