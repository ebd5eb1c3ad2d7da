"""The book's rule for findings: exact sign test, bootstrap interval, false-finding chances (checked by simulation)."""

from __future__ import annotations

import math
import random

import pytest

from inception_lab.experiments import findings as st


def test_sign_test_matches_the_binomial_tails():
    assert st.sign_test_p([1, 2, 3, 4, 5]) == pytest.approx(2 / 32)  # five of five agree
    assert st.sign_test_p([1, 2, 3, 4, -5]) == pytest.approx(2 * (1 + 5) / 32)
    assert st.sign_test_p([1, -1]) == 1.0
    assert st.sign_test_p([0, 0, 3]) == 1.0  # ties dropped: one difference left
    assert st.sign_test_p([]) == 1.0


def test_five_agreeing_seeds_are_a_finding_and_four_are_not():
    five = st.paired_comparison([0.9] * 5, [0.8, 0.81, 0.7, 0.85, 0.6], seeds=range(5), a_name="x", b_name="y")
    assert five.finding and five.agreeing == 5 and five.p_value == pytest.approx(st.ALPHA)
    four = st.paired_comparison([0.9] * 4, [0.8] * 4, seeds=range(4))
    assert not four.finding and "fewer than 5 seeds" in four.verdict()
    mixed = st.paired_comparison([0.9, 0.9, 0.9, 0.9, 0.7], [0.8] * 5, seeds=range(5))
    assert not mixed.finding and "not a finding" in mixed.verdict()


def test_bootstrap_interval_holds_the_mean_and_is_reproducible():
    diffs = [0.1, 0.3, -0.05, 0.2, 0.15]
    lo, hi = st.bootstrap_interval(diffs)
    assert lo <= sum(diffs) / 5 <= hi
    assert (lo, hi) == st.bootstrap_interval(diffs)
    assert min(diffs) <= lo and hi <= max(diffs)


def test_the_false_finding_rate_of_the_rule_is_what_it_says():
    # Arms with no real difference: the rule calls a finding in about ALPHA of the experiments (simulated).
    rng = random.Random(1)
    trials, found = 4000, 0
    for _ in range(trials):
        a = [rng.gauss(0, 1) for _ in range(5)]
        b = [rng.gauss(0, 1) for _ in range(5)]
        found += st.sign_test_p([x - y for x, y in zip(a, b, strict=True)]) <= st.ALPHA
    assert abs(found / trials - st.ALPHA) < 0.015


def test_the_old_range_rule_has_a_ten_percent_false_finding_rate():
    assert st.range_rule_false_finding_chance(3) == pytest.approx(0.10)
    rng = random.Random(2)
    trials = 4000
    hits = 0
    for _ in range(trials):
        a = [rng.random() for _ in range(3)]
        b = [rng.random() for _ in range(3)]
        hits += max(a) < min(b) or max(b) < min(a)
    assert abs(hits / trials - 0.10) < 0.02
    assert st.family_false_finding_chance(6, 0.10) == pytest.approx(1 - 0.9**6)
    assert math.isclose(st.family_false_finding_chance(6, 0.10), 0.47, abs_tol=0.005)


@pytest.mark.parametrize("args, message", [
    (([1, 2], [1], [0, 1]), "one value per seed"),
    (([], [], []), "at least one seed"),
    (([1, 2], [1, 2], [0, 0]), "each seed may appear once"),
])
def test_bad_input_is_refused_clearly(args, message):
    with pytest.raises(ValueError, match=message):
        st.paired_comparison(*args)


def test_one_sided_sign_test_is_half_the_two_sided_when_every_seed_agrees():
    assert st.sign_test_one_sided(7, 7) == 1 / 128
    assert st.sign_test_one_sided(9, 10) == 11 / 1024
    assert st.sign_test_one_sided(0, 5) == 1.0
    assert st.sign_test_one_sided(5, 5) == st.sign_test_p([0.1] * 5) / 2
    with pytest.raises(ValueError, match="between 0 and n = 5"):
        st.sign_test_one_sided(6, 5)
