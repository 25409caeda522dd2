"""The labs' one rule for a verdict: a confidence interval of a difference of means over
seeds, read against a practical margin.

For figures ``a`` (one per seed, the side the claim says is higher) and ``b``:

    d = mean(a) - mean(b) - threshold

with Welch's 95% interval [low, high] (unequal variances; Student's t with the
Welch-Satterthwaite degrees of freedom, from scipy). Against a margin ``delta`` stated per
claim:

    no difference  the whole interval within [-delta, +delta]
    supported      low > 0: the claimed direction, beyond the noise of the seeds
    contradicted   high < 0: the opposite direction, beyond the noise
    inconclusive   anything else: the interval is too wide, and more seeds would tell

"supported" for two variants that do not differ needs ``low > 0``, which happens in 2.5%
of experiments at any seed count (Welch's interval is exact for normal figures of equal
variance and close to it otherwise); a true difference beyond ``delta`` is found more
often as seeds are added, because the interval narrows as 1 / sqrt(seeds). The old rule
(the gap beyond half the range of each set) did the opposite: the range grows with the
number of seeds. ``error_rates`` measures both on simulated seeds.

Figures on a grid (the highest learning rate that trains, in decades) have ``resolution``:
their rounding adds resolution^2 / 12 to each figure's variance, so that seeds that all
agree do not give an interval of zero width.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

import numpy as np
from scipy import stats

VERDICTS = ("supported", "contradicted", "no difference", "inconclusive")
LEVEL = 0.95


@dataclass(frozen=True)
class Comparison:
    """A difference of means over seeds, its interval and the verdict it gives."""

    estimate: float  # mean(a) - mean(b) - threshold; nan when it cannot be computed
    low: float
    high: float
    margin: float  # delta
    verdict: str
    seeds: tuple[int, int]  # finite figures of a and of b
    why: str = ""  # for an inconclusive verdict that no interval decided

    def text(self, scale: float = 1.0, unit: str = "", per: str = "seeds") -> str:
        if math.isnan(self.estimate):
            return self.why or "not enough figures"
        return (f"{scale * self.estimate:+.3g}{unit} (95% interval {scale * self.low:+.3g} to "
                f"{scale * self.high:+.3g}{unit}; margin ±{scale * self.margin:.3g}{unit}; "
                f"{self.seeds[0]} and {self.seeds[1]} {per})")


def welch(a: list[float], b: list[float], level: float = LEVEL,
          resolution: float = 0.0) -> tuple[float, float, float]:
    """mean(a) - mean(b) and Welch's two-sided interval at ``level``."""
    extra = resolution * resolution / 12
    va, vb = statistics.variance(a) + extra, statistics.variance(b) + extra
    sa, sb = va / len(a), vb / len(b)
    d = statistics.fmean(a) - statistics.fmean(b)
    se = math.sqrt(sa + sb)
    if se == 0:
        return d, d, d
    df = (sa + sb) ** 2 / (sa * sa / (len(a) - 1) + sb * sb / (len(b) - 1))
    half = float(stats.t.ppf(0.5 + level / 2, df)) * se
    return d, d - half, d + half


def rule(low: float, high: float, margin: float) -> str:
    """The verdict an interval gives (module docstring)."""
    if -margin <= low and high <= margin:
        return "no difference"
    if low > 0:
        return "supported"
    if high < 0:
        return "contradicted"
    return "inconclusive"


def compare(a: list[float], b: list[float], margin: float, threshold: float = 0.0,
            level: float = LEVEL, resolution: float = 0.0) -> Comparison:
    """The verdict for figures a (claimed higher) against b. Non-finite figures (diverged
    runs) are left out; with fewer than two of either the verdict is inconclusive."""
    a = [v for v in a if math.isfinite(v)]
    b = [v for v in b if math.isfinite(v)]
    if len(a) < 2 or len(b) < 2:
        return Comparison(math.nan, math.nan, math.nan, margin, "inconclusive",
                          (len(a), len(b)), "fewer than two finite figures on a side")
    d, low, high = welch(a, b, level, resolution)
    return Comparison(d - threshold, low - threshold, high - threshold, margin,
                      rule(low - threshold, high - threshold, margin), (len(a), len(b)))


def error_rates(seeds: int, difference: float, margin: float, trials: int = 20_000,
                seed: int = 0) -> dict[str, float]:
    """How often each verdict comes out when a and b are normal with unit deviation and
    means ``difference`` apart, ``seeds`` figures each (a simulation)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(difference, 1.0, (trials, seeds))
    b = rng.normal(0.0, 1.0, (trials, seeds))
    va, vb = a.var(axis=1, ddof=1) / seeds, b.var(axis=1, ddof=1) / seeds
    d = a.mean(axis=1) - b.mean(axis=1)
    df = (va + vb) ** 2 / (va * va / (seeds - 1) + vb * vb / (seeds - 1))
    half = stats.t.ppf(0.5 + LEVEL / 2, df) * np.sqrt(va + vb)
    low, high = d - half, d + half
    counts = dict.fromkeys(VERDICTS, 0)
    for lo, hi in zip(low, high):
        counts[rule(lo, hi, margin)] += 1
    return {v: c / trials for v, c in counts.items()}


def old_rule_rates(seeds: int, difference: float, trials: int = 20_000,
                   seed: int = 0) -> float:
    """How often the labs' former rule (the gap beyond half the range of each set, added)
    called the two sets different, on the same simulation."""
    rng = np.random.default_rng(seed)
    a = rng.normal(difference, 1.0, (trials, seeds))
    b = rng.normal(0.0, 1.0, (trials, seeds))
    spread = (np.ptp(a, axis=1) + np.ptp(b, axis=1)) / 2
    return float(np.mean(np.abs(a.mean(axis=1) - b.mean(axis=1)) > spread))


def main() -> None:
    """The rule's error rates against the old rule's, on simulated seeds (unit deviation,
    margin 1): python -m lrn_lab.stats"""
    print(f"{'seeds':>5}  {'A/A: called different':>22}  {'2σ apart: supported':>20}  "
          f"{'old rule: A/A':>13}  {'old rule: 2σ':>12}")
    for seeds in (2, 3, 5, 8, 16):
        null, true = error_rates(seeds, 0.0, 1.0), error_rates(seeds, 2.0, 1.0)
        print(f"{seeds:>5}  {100 * (null['supported'] + null['contradicted']):>21.1f}%  "
              f"{100 * true['supported']:>19.1f}%  {100 * old_rule_rates(seeds, 0.0):>12.1f}%  "
              f"{100 * old_rule_rates(seeds, 2.0):>11.1f}%")


if __name__ == "__main__":
    main()
