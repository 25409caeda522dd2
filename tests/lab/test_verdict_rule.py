"""The verdict rule (lrn_lab.stats) on simulated seeds, whose truth is known: its error
rates, and Welch's interval against scipy's."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats as scipy_stats

from lrn_lab import stats
from lrn_lab.trainer import TrainConfig

TINY = replace(TrainConfig(), epochs=2, train_size=128, val_size=64, test_size=64,
               batch_size=32, width=4, image_size=16, lr=0.05)



# --- the verdict rule -------------------------------------------------------------------------

@pytest.mark.parametrize("seeds", [2, 3, 5, 8])
def test_the_rule_calls_identical_variants_different_at_most_five_percent(seeds):
    # A/A: the two sides are the same distribution
    rates = stats.error_rates(seeds, 0.0, margin=1.0, trials=20_000)
    assert rates["supported"] + rates["contradicted"] <= 0.05


def test_the_rules_power_grows_with_seeds_where_the_old_rule_loses_it():
    power = [stats.error_rates(n, 2.0, margin=1.0, trials=20_000)["supported"]
             for n in (2, 3, 5, 8, 16)]
    assert all(a < b for a, b in zip(power, power[1:])) and power[-1] > 0.95
    old = [stats.old_rule_rates(n, 2.0) for n in (2, 3, 5, 8)]
    assert all(a > b for a, b in zip(old, old[1:]))  # the reason for the change


def test_welchs_interval_matches_scipys():
    a, b = [0.71, 0.74, 0.69, 0.77], [0.61, 0.66, 0.58]
    d, low, high = stats.welch(a, b)
    ci = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert d == pytest.approx(np.mean(a) - np.mean(b))


@pytest.mark.parametrize("a, b, expected", [
    ([0.80, 0.81, 0.82], [0.60, 0.61, 0.62], "supported"),
    ([0.60, 0.61, 0.62], [0.80, 0.81, 0.82], "contradicted"),
    ([0.700, 0.701, 0.702], [0.700, 0.701, 0.702], "no difference"),
    ([0.5, 0.9, 0.6], [0.7, 0.4, 0.8], "inconclusive"),
    ([0.8, math.nan], [0.6, 0.61], "inconclusive"),  # one finite figure: cannot tell
])
def test_the_rule_on_constructed_figures(a, b, expected):
    assert stats.compare(a, b, margin=0.02).verdict == expected


def test_figures_on_a_grid_get_the_grids_resolution():
    same = stats.compare([0.0] * 3, [-0.5] * 3, margin=0.25)
    widened = stats.compare([0.0] * 3, [-0.5] * 3, margin=0.25, resolution=0.5)
    assert same.low == same.high == 0.5 and widened.low < 0.5 < widened.high
