"""When is a measured difference a finding? Paired comparisons over seeds, with the chance of a false finding stated.

The book's rule (CONTRIBUTING.md, "Claims from measurements"): two arms (two presets, with and without a change) are
run with the **same seeds** (same data, same initial weights where the arms share layers, same batch order), so each
seed gives one *paired* difference. A difference is a **finding** only when

* at least :data:`MIN_SEEDS` seeds were run per arm, with the run length fixed before looking at the results, and
* an exact two-sided **sign test** on the paired differences gives ``p <= alpha``: with ``n`` seeds all agreeing in
  sign, ``p = 2 / 2**n`` (6.3 % for 5 seeds, 3.1 % for 6, 1.6 % for 7) -- the chance that arms with no real
  difference would look at least this one-sided.

A percentile **bootstrap interval** of the mean paired difference says how large the effect is; it is reported
beside the verdict, never instead of it (with 5 pairs it is too narrow to be trusted on its own). Several comparisons
in one table multiply the chance of a false finding; :func:`family_false_finding_chance` states it.

The old rule of chapter 7 -- "the ranges of three seeds do not overlap" -- has a 2/C(6,3) = 10 % false-finding chance
per pair (:func:`range_rule_false_finding_chance`), about 47 % over six pairs: why the book no longer uses it.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

#: The fewest seeds per arm a finding needs.
MIN_SEEDS = 5
#: The largest sign-test p-value called a finding: 2 / 2**5, what five of five seeds agreeing in sign gives.
ALPHA = 2 / 2**MIN_SEEDS


def sign_test_p(differences: Sequence[float]) -> float:
    """Exact two-sided sign-test p-value of paired ``differences`` (zero differences, ties, are dropped).

    Under "no difference" each non-zero difference is positive with probability 1/2, so the number of positive ones
    is Binomial(n, 1/2); the p-value doubles the smaller tail (and is at most 1).
    """
    signs = [d > 0 for d in differences if d != 0]
    n = len(signs)
    if n == 0:
        return 1.0
    k = min(sum(signs), n - sum(signs))
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def sign_test_one_sided(wins: int, n: int) -> float:
    """Exact one-sided sign-test p-value: P(at least ``wins`` of ``n`` paired differences positive) under no effect.

    For a rule that asks whether a change *improves* (Rethinking's Table 3 steps at mini scale, chapter 8), one tail
    is the question; :func:`sign_test_p` doubles the smaller tail for "is there any difference".
    """
    if not 0 <= wins <= n:
        raise ValueError(f"wins must lie between 0 and n = {n}, got {wins}")
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2**n


def bootstrap_interval(differences: Sequence[float], level: float = 0.95, resamples: int = 10_000,
                       seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``differences`` (resampled with replacement, fixed ``seed``)."""
    values = [float(d) for d in differences]
    if not values:
        raise ValueError("bootstrap_interval needs at least one difference.")
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}.")
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(rng.choice(values) for _ in range(n)) / n for _ in range(resamples))
    lo = means[int(math.floor((1 - level) / 2 * (resamples - 1)))]
    hi = means[int(math.ceil((1 + level) / 2 * (resamples - 1)))]
    return lo, hi


@dataclass(frozen=True)
class PairedComparison:
    """Arm ``a`` minus arm ``b`` over the same seeds: the paired differences and the verdict of the book's rule.

    Attributes:
        a_name, b_name: what the arms are.
        seeds: the seeds, in the order of ``differences``.
        differences: ``a - b`` per seed.
        p_value: exact two-sided sign-test p-value (:func:`sign_test_p`).
        interval: 95 % percentile bootstrap interval of the mean difference.
        alpha: the largest p-value called a finding (:data:`ALPHA` unless stated).
    """

    a_name: str
    b_name: str
    seeds: tuple[int, ...]
    differences: tuple[float, ...]
    p_value: float
    interval: tuple[float, float]
    alpha: float = ALPHA

    @property
    def n(self) -> int:
        return len(self.differences)

    @property
    def mean(self) -> float:
        """Mean paired difference ``a - b``."""
        return sum(self.differences) / self.n

    @property
    def agreeing(self) -> int:
        """How many seeds have the sign of the mean difference."""
        return sum((d > 0) == (self.mean > 0) and d != 0 for d in self.differences)

    @property
    def finding(self) -> bool:
        """At least :data:`MIN_SEEDS` seeds and a sign-test p-value at most ``alpha``."""
        return self.n >= MIN_SEEDS and self.p_value <= self.alpha

    def verdict(self, scale: float = 1.0, unit: str = "") -> str:
        """One sentence: the mean difference (times ``scale``), its interval, the sign count, and the verdict."""
        lo, hi = (scale * v for v in self.interval)
        head = (f"{self.a_name} - {self.b_name}: {scale * self.mean:+.2f}{unit} (95 % bootstrap interval "
                f"{lo:+.2f} to {hi:+.2f}{unit}); {self.agreeing} of {self.n} seeds agree in sign, sign test "
                f"p = {self.p_value:.3f}")
        if self.n < MIN_SEEDS:
            return f"{head}: not a finding (fewer than {MIN_SEEDS} seeds)"
        return f"{head}: {'a finding' if self.finding else 'not a finding'} (threshold p <= {self.alpha:.4f})"


def paired_comparison(a: Sequence[float], b: Sequence[float], seeds: Sequence[int], *, a_name: str = "a",
                      b_name: str = "b", alpha: float = ALPHA) -> PairedComparison:
    """Compare two arms measured on the same ``seeds`` (``a[i]`` and ``b[i]`` both come from ``seeds[i]``).

    Raises:
        ValueError: if the three sequences differ in length, are empty, or repeat a seed.
    """
    if not (len(a) == len(b) == len(seeds)):
        raise ValueError(f"paired arms need one value per seed in each arm; got {len(a)} and {len(b)} values for "
                         f"{len(seeds)} seeds.")
    if not seeds:
        raise ValueError("paired_comparison needs at least one seed.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"each seed may appear once; got {list(seeds)}.")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}.")
    differences = tuple(float(x) - float(y) for x, y in zip(a, b, strict=True))
    return PairedComparison(a_name, b_name, tuple(int(s) for s in seeds), differences, sign_test_p(differences),
                            bootstrap_interval(differences), alpha)


def family_false_finding_chance(comparisons: int, alpha: float = ALPHA) -> float:
    """Chance of at least one false finding among ``comparisons`` independent no-effect comparisons at ``alpha``."""
    if comparisons < 0:
        raise ValueError(f"comparisons must be >= 0, got {comparisons}.")
    return 1 - (1 - alpha) ** comparisons


def range_rule_false_finding_chance(seeds: int) -> float:
    """Chance that two arms with no real difference give non-overlapping ranges over ``seeds`` seeds each.

    With 2n exchangeable values, the ranges do not overlap exactly when one arm holds the n smallest:
    2 / C(2n, n) (ties aside). Three seeds: 2/20 = 10 %.
    """
    if seeds < 1:
        raise ValueError(f"seeds must be >= 1, got {seeds}.")
    return 2 / math.comb(2 * seeds, seeds)
