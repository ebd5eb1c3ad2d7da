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

Kernels are numpy arrays; the fits use numpy only. Introduced in chapter 4.
"""

from __future__ import annotations

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
