"""Label smoothing and confidence [Rethinking, §7]: the smoothed targets, and how calibrated a classifier is.

* :func:`smoothed_targets` -- q'(k|x) = (1 - eps) delta_{k,y} + eps u(k) with the uniform u(k) = 1/K (§7).
* :func:`confidence_report` -- accuracy, mean confidence (the largest softmax probability), the expected
  calibration error, and the scale of the logits (the gap between the largest logit and the mean of the others,
  which label smoothing bounds: "the largest logit ... [does not] become much larger than all others", §7).

Plain tensors in, plain numbers out. Introduced in chapter 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from inception_lab.checks import check_positive_int


def smoothed_targets(target: torch.Tensor, num_classes: int, epsilon: float) -> torch.Tensor:
    """(N, K) target distributions: ``(1 - epsilon) * one_hot(target) + epsilon / K`` [Rethinking, §7]."""
    check_positive_int("num_classes", num_classes)
    if not 0 <= epsilon <= 1:
        raise ValueError(f"epsilon must lie in [0, 1] (0.1 in the paper), got {epsilon!r}.")
    one_hot = torch.nn.functional.one_hot(target.long(), num_classes).float()
    return (1 - epsilon) * one_hot + epsilon / num_classes


@dataclass(frozen=True)
class ConfidenceReport:
    """How sure a classifier is, and whether it should be.

    Attributes:
        accuracy: fraction of correct argmax predictions.
        confidence: mean over examples of the largest softmax probability.
        ece: expected calibration error over ``bins`` equal-width confidence bins: the bin-size-weighted mean of
            |accuracy - confidence| in each bin (0 = perfectly calibrated).
        logit_gap: mean over examples of (largest logit - mean of the other logits).
        bins: per bin ``(lower edge, upper edge, count, accuracy, confidence)`` (empty bins left out).
    """

    accuracy: float
    confidence: float
    ece: float
    logit_gap: float
    bins: tuple[tuple[float, float, int, float, float], ...]


def confidence_report(logits: torch.Tensor, targets: torch.Tensor, bins: int = 10) -> ConfidenceReport:
    """Accuracy, mean confidence, expected calibration error and logit gap of ``logits`` (N, K) for ``targets``."""
    check_positive_int("bins", bins)
    if logits.dim() != 2 or targets.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (N, K) and targets (N,); got {tuple(logits.shape)} and "
                         f"{tuple(targets.shape)}.")
    logits = logits.double()
    probs = logits.softmax(1)
    conf, pred = probs.max(1)
    correct = (pred == targets).double()
    k = logits.shape[1]
    top = logits.max(1).values
    gap = top - (logits.sum(1) - top) / (k - 1)
    rows, ece = [], 0.0
    edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64)
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (conf > lo) & (conf <= hi)
        n = int(inside.sum())
        if n:
            acc, mean_conf = correct[inside].mean().item(), conf[inside].mean().item()
            ece += n / len(conf) * abs(acc - mean_conf)
            rows.append((lo.item(), hi.item(), n, acc, mean_conf))
    return ConfidenceReport(correct.mean().item(), conf.mean().item(), ece, gap.mean().item(), tuple(rows))
