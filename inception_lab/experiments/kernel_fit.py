"""What a *linear* factorization gives up: which n x n kernels it can still express [Rethinking, §3.1-3.2].

Without a nonlinearity between them, two convolutions are one convolution. Per pair of input and output channel
(and one middle channel):

* ``1 x n`` then ``n x 1`` computes the n x n kernel ``column ⊗ row`` -- an outer product, a **rank-1** matrix.
  The best rank-1 approximation of a kernel is given by its singular value decomposition (Eckart-Young), so
  :func:`rank_fit` is optimal, not just a good try.
* two 3x3 layers compute the 5x5 kernel ``a * b`` (the full 2-D convolution of the two 3x3 kernels; a
  cross-correlation followed by a cross-correlation is a cross-correlation with that kernel). Such products cover
  only part of the 25-dimensional space of 5x5 kernels; :func:`stack_fit` finds the best one by alternating least
  squares from several starts (a non-convex problem: a good local optimum, not a proven one).

With ``m`` middle channels the pair computes sums of ``m`` such terms; with enough of them any kernel is reachable.
:func:`linear_map_residual` then measures what a ReLU between the factors changes: a linear pair is exactly one
n x n kernel, a ReLU pair is not any n x n kernel at all.

Trained kernels (:func:`survey`): every ``n x n`` kernel of a network's convolutions, one per pair of input and
output channel, fitted the same two ways (:func:`rank1_errors`, :func:`stack_errors`, vectorized over the kernels),
next to the same fits of independent Gaussian kernels (:func:`random_survey`, what a freshly initialized layer
holds). That tests the claim "a factorization constrains trained kernels only mildly" on real weights.

Kernels are numpy arrays; the fits use numpy only. Introduced in chapter 4.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from inception_lab.checks import check_positive_int


# ---------------------------------------------------------------------------------------------------------
# Test kernels
# ---------------------------------------------------------------------------------------------------------
def _grid(n: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.arange(n) - (n - 1) / 2
    return np.meshgrid(r, r, indexing="ij")


def sample_kernels(n: int = 5, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Structured and random ``n x n`` kernels (odd ``n``), each scaled to unit Frobenius norm.

    * ``edge 0°``: a Sobel-type edge detector (binomial smoothing ⊗ derivative: separable);
    * ``edge 45°``: the same edge turned by 45° (a diagonal step, not separable);
    * ``blob``: a Gaussian (separable);
    * ``centre-surround``: a difference of Gaussians (a sum of two separable kernels);
    * ``Gabor 30°``: an oriented cosine under a Gaussian, like many learned first-layer filters;
    * ``random``: independent standard-normal weights (seeded), like an untrained filter.
    """
    check_positive_int("n", n)
    if n % 2 == 0 or n < 3:
        raise ValueError(f"n must be odd and >= 3, got {n}.")
    y, x = _grid(n)
    binomial = np.array([comb(n - 1, k) for k in range(n)], dtype=float)
    derivative = np.convolve(np.array([comb(n - 3, k) for k in range(n - 2)], dtype=float), [1.0, 0.0, -1.0])
    gauss = lambda s: np.exp(-(x ** 2 + y ** 2) / (2 * s ** 2))  # noqa: E731
    theta = np.deg2rad(30)
    along = x * np.cos(theta) + y * np.sin(theta)
    kernels = {
        "edge 0°": np.outer(binomial, derivative),
        "edge 45°": np.sign(x - y) * gauss(1.5) + 0.0,
        "blob": gauss(1.0),
        "centre-surround": gauss(0.8) - 0.6 * gauss(1.6),
        "Gabor 30°": np.cos(2 * np.pi * along / 3.0) * gauss(1.2),
        "random": np.random.default_rng(seed).standard_normal((n, n)),
    }
    return {name: k / np.linalg.norm(k) for name, k in kernels.items()}


# ---------------------------------------------------------------------------------------------------------
# Fits
# ---------------------------------------------------------------------------------------------------------
def relative_error(target: np.ndarray, approx: np.ndarray) -> float:
    """``||target - approx|| / ||target||`` (Frobenius norms): 0 = exact, 1 = no better than zero."""
    return float(np.linalg.norm(target - approx) / np.linalg.norm(target))


def rank_fit(kernel: np.ndarray, rank: int = 1) -> tuple[np.ndarray, float]:
    """Best sum of ``rank`` outer products (``rank`` middle channels of a linear ``n x 1 -> 1 x n`` pair).

    Truncated SVD: optimal in the Frobenius norm (Eckart-Young). Returns the approximation and its relative error,
    which is ``sqrt(sum of the dropped squared singular values) / ||kernel||``.
    """
    check_positive_int("rank", rank)
    u, s, vt = np.linalg.svd(kernel)
    approx = (u[:, :rank] * s[:rank]) @ vt[:rank]
    return approx, relative_error(kernel, approx)


def compose(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The single kernel equal to correlating with ``first`` and then with ``second`` (a full 2-D convolution)."""
    h1, w1 = first.shape
    h2, w2 = second.shape
    out = np.zeros((h1 + h2 - 1, w1 + w2 - 1))
    for i in range(h1):
        for j in range(w1):
            out[i:i + h2, j:j + w2] += first[i, j] * second
    return out


def _bilinear(small: int) -> np.ndarray:
    """Tensor T with ``compose(a, b).ravel() = einsum("kpq,p,q->k", T, a.ravel(), b.ravel())``."""
    units = np.eye(small * small).reshape(-1, small, small)
    return np.stack([np.stack([compose(u, v).ravel() for v in units], axis=1) for u in units], axis=1)


def stack_fit(kernel: np.ndarray, small: int = 3, mid: int = 1, *, restarts: int = 8, iterations: int = 100,
              seed: int = 0) -> tuple[np.ndarray, float]:
    """Best ``sum_j compose(a_j, b_j)`` with ``mid`` pairs of ``small x small`` kernels (two linear layers).

    Alternating least squares: with the ``a_j`` fixed the result is linear in the ``b_j`` (solve exactly), then the
    other way round; ``restarts`` random starts, the best kept. Returns the approximation and its relative error.
    """
    n = kernel.shape[0]
    if kernel.shape != (n, n) or n != 2 * small - 1:
        raise ValueError(f"two {small}x{small} layers make a {2 * small - 1}x{2 * small - 1} kernel, "
                         f"got a {kernel.shape} target.")
    rng = np.random.default_rng(seed)
    t = _bilinear(small)  # (n*n) x (s*s: a) x (s*s: b)
    target = kernel.ravel()
    best, best_error = np.zeros_like(kernel), np.inf
    for _ in range(check_positive_int("restarts", restarts)):
        a = rng.standard_normal((mid, small * small))
        b = rng.standard_normal((mid, small * small))
        for _ in range(iterations):
            m = np.einsum("kpq,jp->kjq", t, a).reshape(n * n, -1)  # linear in b, for the current a
            b = np.linalg.lstsq(m, target, rcond=None)[0].reshape(mid, -1)
            m = np.einsum("kpq,jq->kjp", t, b).reshape(n * n, -1)  # linear in a, for the current b
            a = np.linalg.lstsq(m, target, rcond=None)[0].reshape(mid, -1)
        approx = np.einsum("kpq,jp,jq->k", t, a, b).reshape(n, n)
        error = relative_error(kernel, approx)
        if error < best_error:
            best, best_error = approx, error
    return best, best_error


def fit_table(kernels: dict[str, np.ndarray], *, seed: int = 0) -> list[dict[str, float | str]]:
    """For every kernel: relative error of the best rank-1 (``1xn -> nx1``) and two-3x3 fit, one middle channel."""
    return [dict(kernel=name, rank1=rank_fit(k)[1], two_3x3=stack_fit(k, seed=seed)[1])
            for name, k in kernels.items()]


def percent(error: float) -> str:
    """An error as a percentage with one decimal, and ``"< 1 %"`` below 1 % (where ALS's slow last steps and the
    last bits of LAPACK decide the digits, not the kernel)."""
    return "< 1 %" if error < 0.01 else f"{100 * error:.1f} %"


def fit_text(rows: list[dict[str, float | str]]) -> str:
    """:func:`fit_table` as a fixed-width table of relative errors."""
    lines = [f"{'kernel':<16} {'1x5 -> 5x1 (rank 1)':>20} {'two 3x3':>10}"]
    lines += [f"{r['kernel']:<16} {percent(r['rank1']):>20} {percent(r['two_3x3']):>10}" for r in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------
# What a nonlinearity between the factors changes
# ---------------------------------------------------------------------------------------------------------
def linear_map_residual(module: nn.Module, n: int, *, size: int = 12, samples: int = 32,
                        generator: torch.Generator | None = None) -> float:
    """How far ``module`` (1 -> 1 channel) is from every single ``n x n`` convolution with a bias.

    Feeds ``samples`` random ``size x size`` images, fits the best ``n x n`` kernel and bias from input patches to
    outputs by least squares, and returns ``||output - fitted|| / ||output - mean||``: 0 when the module *is* one
    convolution (a linear factorization), clearly above 0 when it is not (a ReLU between the factors).
    """
    x = torch.randn(samples, 1, size, size, generator=generator, dtype=torch.float64)
    module = module.double().eval()
    with torch.no_grad():
        y = module(x)
    if y.shape[1] != 1:
        raise ValueError(f"linear_map_residual needs a 1-channel output, got {y.shape[1]}.")
    # Interior positions only: at the border, zero padding between the factors differs from zero padding of the
    # input (a bias of the first factor would show there), and the comparison is about the kernel.
    y = y[:, :, n // 2:size - n // 2, n // 2:size - n // 2]
    patches = F.unfold(x, n)  # N x n^2 x (interior positions)
    design = patches.permute(0, 2, 1).reshape(-1, n * n)
    design = torch.cat([design, torch.ones(design.shape[0], 1, dtype=design.dtype)], dim=1)
    target = y.reshape(-1, 1)
    solution = torch.linalg.lstsq(design, target).solution
    residual = target - design @ solution
    return float(residual.norm() / (target - target.mean()).norm())


# ---------------------------------------------------------------------------------------------------------
# Trained kernels: the same fits on every kernel of a network
# ---------------------------------------------------------------------------------------------------------
#: A fit is *close* when its relative error is at most 20 %: the fitted kernel then carries at least
#: 1 - 0.2^2 = 96 % of the kernel's squared norm (the residual of a least-squares fit is orthogonal to it).
CLOSE = 0.2


def conv_kernels(model: nn.Module, size: int) -> dict[str, np.ndarray]:
    """The ``size x size`` kernels of every ungrouped convolution of ``model``, by layer name (float64 arrays
    ``out_channels x in_channels x size x size``, one kernel per pair of output and input channel)."""
    check_positive_int("size", size)
    return {name: module.weight.detach().to("cpu", torch.float64).numpy()
            for name, module in model.named_modules()
            if isinstance(module, nn.Conv2d) and tuple(module.kernel_size) == (size, size) and module.groups == 1}


def _as_kernels(kernels: np.ndarray) -> np.ndarray:
    """``... x n x n`` as ``K x n x n`` without the all-zero kernels (a relative error needs a norm)."""
    kernels = np.asarray(kernels, dtype=float)
    if kernels.ndim < 2 or kernels.shape[-1] != kernels.shape[-2]:
        raise ValueError(f"kernels must be an array of square kernels (... x n x n), got shape {kernels.shape}.")
    flat = kernels.reshape(-1, *kernels.shape[-2:])
    return flat[np.linalg.norm(flat, axis=(1, 2)) > 0]


def rank1_errors(kernels: np.ndarray) -> np.ndarray:
    """Relative error of the best rank-1 (``1 x n`` then ``n x 1``) fit of every kernel of ``kernels``
    (``... x n x n``), as :func:`rank_fit` computes it for one: ``sqrt(1 - s_1^2 / sum s_i^2)``.

    All-zero kernels are left out. Returns a 1-D array, one error per kernel.
    """
    flat = _as_kernels(kernels)
    s = np.linalg.svd(flat, compute_uv=False)  # K x n singular values, largest first
    return np.sqrt(np.clip(1 - s[:, 0] ** 2 / (s ** 2).sum(axis=1), 0.0, None))


def stack_errors(kernels: np.ndarray, small: int = 3, *, restarts: int = 8, iterations: int = 100,
                 seed: int = 0) -> np.ndarray:
    """Relative error of the best pair of ``small x small`` kernels (two linear layers, one middle channel) for every
    kernel of ``kernels`` (``... x n x n``, ``n = 2 * small - 1``): :func:`stack_fit`'s alternating least squares,
    run on all kernels and restarts at once.

    All-zero kernels are left out. Returns a 1-D array, one error per kernel (the best of ``restarts`` starts).
    """
    flat = _as_kernels(kernels)
    n = 2 * small - 1
    if flat.shape[1:] != (n, n):
        raise ValueError(f"two {small}x{small} layers make a {n}x{n} kernel, got {flat.shape[1:]} kernels.")
    rng = np.random.default_rng(seed)
    t = _bilinear(small)  # (n*n) x (s*s: a) x (s*s: b)
    target = np.repeat(flat.reshape(len(flat), 1, n * n), check_positive_int("restarts", restarts), axis=1)
    a = rng.standard_normal((len(flat), restarts, small * small))
    b = rng.standard_normal((len(flat), restarts, small * small))
    s2 = small * small
    by_a = t.transpose(1, 0, 2).reshape(s2, n * n * s2)  # a @ by_a: the (n*n) x (s*s) map of b, for each a
    by_b = t.transpose(2, 0, 1).reshape(s2, n * n * s2)  # b @ by_b: the map of a, for each b
    for _ in range(check_positive_int("iterations", iterations)):
        b = _least_squares((a @ by_a).reshape(*a.shape[:2], n * n, s2), target)  # linear in b for the current a
        a = _least_squares((b @ by_b).reshape(*b.shape[:2], n * n, s2), target)  # linear in a for the current b
    approx = np.einsum("xrkq,xrq->xrk", (a @ by_a).reshape(*a.shape[:2], n * n, s2), b)
    errors = np.linalg.norm(target - approx, axis=2) / np.linalg.norm(target, axis=2)
    return errors.min(axis=1)


def _least_squares(m: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Batched least squares ``argmin_x ||m x - y||`` by the normal equations, with a ridge of 1e-12 of the mean
    diagonal so a rank-deficient start (a zero factor) stays solvable; float64 keeps the squared condition harmless
    for these 25 x 9 systems."""
    mt = np.swapaxes(m, -1, -2)
    gram = mt @ m
    ridge = 1e-12 * np.trace(gram, axis1=-2, axis2=-1)[..., None, None] / gram.shape[-1] + 1e-300
    return np.linalg.solve(gram + ridge * np.eye(gram.shape[-1]), mt @ y[..., None])[..., 0]


def random_kernels(size: int, count: int, *, seed: int = 0) -> np.ndarray:
    """``count`` kernels of independent standard-normal weights (``count x size x size``): what a layer holds at
    initialization (Kaiming's and torchvision's truncated normals differ only in scale, which no relative error sees,
    and in their tails)."""
    return np.random.default_rng(seed).standard_normal((check_positive_int("count", count),
                                                         check_positive_int("size", size), size))


@dataclass(frozen=True)
class KernelSurvey:
    """Fit errors of every ``size x size`` kernel of one network (or of a random reference).

    Attributes:
        source: the network (a preset name) or ``"random"``.
        size: the kernels' side.
        layers: how many convolutions hold them (0 for the random reference).
        rank1: per kernel, the relative error of the best ``1 x n`` then ``n x 1`` fit (:func:`rank1_errors`).
        two_3x3: per kernel, the relative error of the best two-3x3 fit (:func:`stack_errors`); ``None`` unless
            ``size`` is 5.
    """

    source: str
    size: int
    layers: int
    rank1: np.ndarray
    two_3x3: np.ndarray | None = None

    @property
    def kernels(self) -> int:
        """How many kernels were fitted."""
        return len(self.rank1)

    def errors(self, fit: str = "rank1") -> np.ndarray:
        """The per-kernel errors of ``fit``: ``"rank1"`` or ``"two_3x3"``."""
        if fit not in ("rank1", "two_3x3"):
            raise ValueError(f"fit is 'rank1' or 'two_3x3', got {fit!r}.")
        errors = getattr(self, fit)
        if errors is None:
            raise ValueError(f"{self.source}: the two-3x3 fit exists for 5x5 kernels only, these are "
                             f"{self.size}x{self.size}.")
        return errors

    def median(self, fit: str = "rank1") -> float:
        """Median relative error of ``fit``."""
        return float(np.median(self.errors(fit)))

    def close(self, fit: str = "rank1", threshold: float = CLOSE) -> float:
        """Fraction of kernels whose ``fit`` has a relative error of at most ``threshold`` (default :data:`CLOSE`)."""
        return float(np.mean(self.errors(fit) <= threshold))


def survey(model: nn.Module, source: str, size: int, *, seed: int = 0) -> KernelSurvey | None:
    """Fit every ``size x size`` kernel of ``model`` (:func:`conv_kernels`); ``None`` when it has none.

    The two-3x3 fit runs for 5x5 kernels (``seed`` seeds its random starts).
    """
    layers = conv_kernels(model, size)
    if not layers:
        return None
    kernels = np.concatenate([w.reshape(-1, size, size) for w in layers.values()])
    return KernelSurvey(source, size, len(layers), rank1_errors(kernels),
                        stack_errors(kernels, seed=seed) if size == 5 else None)


def random_survey(size: int, count: int, *, seed: int = 0) -> KernelSurvey:
    """The same fits on ``count`` :func:`random_kernels`: the reference a trained network is read against."""
    kernels = random_kernels(size, count, seed=seed)
    return KernelSurvey("random", size, 0, rank1_errors(kernels),
                        stack_errors(kernels, seed=seed) if size == 5 else None)
