"""What every claim is made of: its settings, the set-up and its variations, the papers'
report, the figures measured and the result judged, and the comparison of two variants'
test accuracy that most claims make. The claims themselves are in lrn_lab.claims.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from .network import VARIANTS
from .shapes import CLASSES
from .stats import Comparison, compare
from .train import Job, grid_jobs, job, outcome, settled
from .trainer import PAPER_LRN, Run, TrainConfig

Runs = dict[Job, Run]  # finished runs by their job

CHANCE = 1 / len(CLASSES)
TRAINS = 2 * CHANCE  # a run "trains" when it ends at twice chance accuracy or more
LIMITS = (
    "Every experiment here trains a three-layer CNN of about 6,000 parameters for a few "
    "epochs on 24 x 24 generated shapes, on a CPU. A verdict says what happens there. Claims "
    "made from ImageNet-scale networks (AlexNet's 60 million parameters, BN-Inception) can "
    "hold at that scale and fail here, or the other way round: a verdict here is evidence "
    "about the claim as a general rule, not a replication of those papers.")


@dataclass(frozen=True)
class Setup:
    """One way of running an experiment: the protocol (the base) or one variation of it."""

    head: str = "gap"
    shared_rate: bool = False  # both sides at the other side's chosen rate
    stats: str = "recomputed"  # BatchNorm's evaluation statistics (lrn_lab.trainer.STATISTICS)
    lrn_paper: bool = False  # LRN at AlexNet's literal values instead of the measured scale
    lrn_k: float | None = None  # LRN's k, where it is not the default
    implementation: str = "torch"  # the cost claim: whose LRN is timed


BASE = "base"
VARIATIONS = {
    BASE: Setup(),
    "head: flatten": Setup(head="flatten"),
    "learning rate: shared": Setup(shared_rate=True),
    "BatchNorm statistics: running": Setup(stats="running"),
    "LRN: AlexNet's literal values": Setup(lrn_paper=True),
    "LRN: k = 1": Setup(lrn_k=1.0),
    "implementation: lrn_core across": Setup(implementation="lrn_core across"),
    "implementation: lrn_core within": Setup(implementation="lrn_core within"),
}

DESCRIPTIONS = {
    BASE: "the protocol: global-pool head, each side at its own rate, BatchNorm's statistics "
          "recomputed, LRN's α from its input's scale (k = 2), torch's LRN timed",
    "head: flatten": "a flatten head instead of global pooling",
    "learning rate: shared": "both sides at the other side's chosen rate",
    "BatchNorm statistics: running": "BatchNorm evaluated with its running averages",
    "LRN: AlexNet's literal values": "LRN at k = 2, α = 1e-4 (not scaled), n = 5, β = 0.75",
    "LRN: k = 1": "LRN with k = 1 (no constant gain of 2^-β at small inputs)",
    "implementation: lrn_core across": "lrn_core's LRN across channels instead of torch's",
    "implementation: lrn_core within": "lrn_core's LRN within a channel instead of torch's",
}


@dataclass(frozen=True)
class Settings:
    """How much to run: seeds per configuration, epochs per run, training images, and the
    first seed (the seeds are first_seed, first_seed + 1, ...)."""

    seeds: int
    epochs: int
    train_size: int = TrainConfig.train_size
    first_seed: int = 0
    val_size: int = TrainConfig.val_size
    test_size: int = TrainConfig.test_size

    def seed_range(self) -> range:
        return range(self.first_seed, self.first_seed + self.seeds)

    def config(self, setup: Setup, **changes) -> TrainConfig:
        lrn = dict(PAPER_LRN) if setup.lrn_paper else {}
        if setup.lrn_k is not None:
            lrn["k"] = setup.lrn_k
        return replace(TrainConfig(), epochs=self.epochs, train_size=self.train_size,
                       val_size=self.val_size, test_size=self.test_size, head=setup.head,
                       **{**lrn, **changes})


@dataclass
class Series:
    """One line (or set of bars) of a chart: at each x, the figures of every seed."""

    label: str
    x: list
    values: list[list[float]]


@dataclass
class Chart:
    """What a figure shows, without drawing it (the app draws it with plotly)."""

    title: str
    x_title: str
    y_title: str
    series: list[Series]
    log_x: bool = False
    log_y: bool = False
    bars: bool = False


@dataclass(frozen=True)
class Reported:
    """What the literature reports: its source, the verdict it amounts to, and its size."""

    source: str
    direction: str  # a verdict of lrn_lab.stats.VERDICTS
    size: str


@dataclass
class Measured:
    """One set-up's measurement of a claim."""

    comparison: Comparison
    figures: str  # the figures, in one line
    charts: list[Chart] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return self.comparison.verdict


@dataclass
class Result:
    claim: str  # its name
    verdict: str  # the base verdict, or "depends on <variation>, ..."
    reason: str  # why, in figures
    figures: str  # the base set-up's figures
    reported: Reported
    agrees: bool
    variations: dict[str, str]  # variation -> its verdict (the base included)
    differences: dict[str, str]  # variation -> its difference and interval, in words
    measured: dict[str, str]  # variation -> its figures, in words
    charts: list[Chart] = field(default_factory=list)
    seconds: float = 0.0
    # The same claim with another set of seeds (lrn-claims --recheck-seed): its first seed,
    # verdict and variations; empty where it was not run.
    other_seeds: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Result:
        charts = [Chart(**{**c, "series": [Series(**s) for s in c["series"]]})
                  for c in d["charts"]]
        return cls(**{**d, "reported": Reported(**d["reported"]), "charts": charts})


@dataclass(frozen=True)
class Claim:
    number: int
    name: str  # on the command line and in the app's URL
    text: str
    experiment: str  # what is run, in plain words
    limits: str  # what this lab cannot say about it, beyond LIMITS
    reported: Reported
    unit: tuple[float, str, str]  # how its difference reads: (scale, unit, figures per side)
    defaults: Settings
    variations: tuple[str, ...]  # the VARIATIONS it is judged under besides the base
    # The runs a set-up needs, given the runs done so far (a claim may need the rates that
    # earlier runs chose); none: it is measured directly.
    jobs: Callable[[Settings, Setup, Runs], list[Job]]
    measure: Callable[[Settings, Setup, Runs], Measured]


def variant_label(variant: str) -> str:
    return VARIANTS[variant]


def mean_text(values: list[float], scale: float = 100, fmt: str = ".1f") -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "no finite figure"
    return f"{scale * statistics.fmean(finite):{fmt}}"


def all_done(jobs: list[Job], runs: Runs) -> bool:
    return all(runs.get(j) is not None for j in jobs)


def pair_needs(s: Settings, setup: Setup, runs: Runs, a: str, b: str,
                a_changes: dict | None = None, b_changes: dict | None = None) -> list[Job]:
    """Every run two sides need so far: each side's grid (grown as the runs decide) and, for
    a shared rate, a's runs at b's chosen rate once b's grid has settled."""
    ca, cb = s.config(setup, **(a_changes or {})), s.config(setup, **(b_changes or {}))
    seeds = s.seed_range()
    needs = (grid_jobs([a], seeds, ca, runs, setup.stats)
             + grid_jobs([b], seeds, cb, runs, setup.stats))
    if setup.shared_rate and settled([b], seeds, cb, runs, setup.stats):
        rate = outcome(b, seeds, cb, runs, setup.stats).rate
        if rate is not None:
            needs += [job(a, seed, replace(ca, lr=rate)) for seed in seeds]
    return needs


def both_sides(s: Settings, setup: Setup, runs: Runs, a: str, b: str, a_changes: dict | None = None,
           b_changes: dict | None = None):
    """The two sides' outcomes: each at its own best rate, or (shared_rate) both at b's."""
    ca, cb = s.config(setup, **(a_changes or {})), s.config(setup, **(b_changes or {}))
    ob = outcome(b, s.seed_range(), cb, runs, setup.stats)
    oa = outcome(a, s.seed_range(), ca, runs, setup.stats,
                 rate=ob.rate if setup.shared_rate and ob.rate is not None else None)
    return oa, ob


def pair_jobs(a: str, b: str, a_changes: dict | None = None, b_changes: dict | None = None):
    def jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
        return pair_needs(s, setup, runs, a, b, a_changes, b_changes)
    return jobs


def _accuracy_chart(title: str, sides) -> Chart:
    return Chart(title, "learning rate (SGD, peak of the schedule)", "validation accuracy",
                 [Series(label, list(o.rates), [[o.rates[r]] for r in o.rates])
                  for label, o in sides], log_x=True)


def accuracy_measure(a: str, b: str, margin: float, a_changes: dict | None = None,
                   b_changes: dict | None = None, a_label: str = "", b_label: str = ""):
    """A measure: test accuracy of a against b, each at its own best rate."""
    def measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
        oa, ob = both_sides(s, setup, runs, a, b, a_changes, b_changes)
        la, lb = a_label or variant_label(a), b_label or variant_label(b)
        acc_a, acc_b = oa.accuracies("test", setup.stats), ob.accuracies("test", setup.stats)
        c = compare(acc_a, acc_b, margin)
        figures = (f"test accuracy: {la} {mean_text(acc_a)}% at rate {oa.rate}, {lb} "
                   f"{mean_text(acc_b)}% at rate {ob.rate}")
        charts = [Chart("Test accuracy at each side's chosen rate, every seed", "network",
                        "test accuracy", [Series("seeds", [la, lb], [acc_a, acc_b])], bars=True),
                  _accuracy_chart("Choosing the rate: mean validation accuracy by rate",
                                  [(la, oa), (lb, ob)])]
        return Measured(c, figures, charts)
    return measure
