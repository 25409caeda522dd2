"""The claims lab: what papers and tutorials say about LRN and BatchNorm, each put to an
experiment on the labs' network (lrn_lab.network) and protocol (lrn_lab.train), judged by
one rule (lrn_lab.stats), and judged again under the set-up choices that could have made
the verdict.

    lrn-claims                          # every claim, its defaults
    lrn-claims learning-rate order      # some of them
    lrn-claims --first-seed 10          # another set of seeds: does the verdict hold?
    lrn-claims --json                   # {"claims": [...]}, machine-readable

Each claim measures one figure per seed for two sides (the side it says is higher, and
the other) and compares them with ``stats.compare`` against its own margin. The base
set-up is the protocol (global-pool head, each variant at its own best rate, BatchNorm's
statistics recomputed); each variation changes one of those choices (``VARIATIONS``). A
verdict that changes under a variation is reported as "depends on <variation>", with both
results. Beside each verdict stands what the papers report (``Reported``), and whether
the lab's base set-up agrees. No figure or verdict is written in by hand.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from lrn_core.local_response import lrn

from .network import VARIANTS
from .shapes import CLASSES
from .stats import Comparison, compare
from .train import (PAPER_LRN, Job, Run, TrainConfig, grid_jobs, job, outcome, settled,
                    train_jobs)

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
    stats: str = "recomputed"  # BatchNorm's evaluation statistics (lrn_lab.train.STATISTICS)
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


Runs = dict[Job, Run]


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


def _label(variant: str) -> str:
    return VARIANTS[variant]


def _mean(values: list[float], scale: float = 100, fmt: str = ".1f") -> str:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return "no finite figure"
    return f"{scale * statistics.fmean(finite):{fmt}}"


def _ready(jobs: list[Job], runs: Runs) -> bool:
    return all(runs.get(j) is not None for j in jobs)


def _pair_needs(s: Settings, setup: Setup, runs: Runs, a: str, b: str,
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


def _sides(s: Settings, setup: Setup, runs: Runs, a: str, b: str, a_changes: dict | None = None,
           b_changes: dict | None = None):
    """The two sides' outcomes: each at its own best rate, or (shared_rate) both at b's."""
    ca, cb = s.config(setup, **(a_changes or {})), s.config(setup, **(b_changes or {}))
    ob = outcome(b, s.seed_range(), cb, runs, setup.stats)
    oa = outcome(a, s.seed_range(), ca, runs, setup.stats,
                 rate=ob.rate if setup.shared_rate and ob.rate is not None else None)
    return oa, ob


def _pair_jobs(a: str, b: str, a_changes: dict | None = None, b_changes: dict | None = None):
    def jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
        return _pair_needs(s, setup, runs, a, b, a_changes, b_changes)
    return jobs


def _accuracy_chart(title: str, sides) -> Chart:
    return Chart(title, "learning rate (SGD, peak of the schedule)", "validation accuracy",
                 [Series(label, list(o.rates), [[o.rates[r]] for r in o.rates])
                  for label, o in sides], log_x=True)


def _test_accuracy(a: str, b: str, margin: float, a_changes: dict | None = None,
                   b_changes: dict | None = None, a_label: str = "", b_label: str = ""):
    """A measure: test accuracy of a against b, each at its own best rate."""
    def measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
        oa, ob = _sides(s, setup, runs, a, b, a_changes, b_changes)
        la, lb = a_label or _label(a), b_label or _label(b)
        acc_a, acc_b = oa.accuracies("test", setup.stats), ob.accuracies("test", setup.stats)
        c = compare(acc_a, acc_b, margin)
        figures = (f"test accuracy: {la} {_mean(acc_a)}% at rate {oa.rate}, {lb} "
                   f"{_mean(acc_b)}% at rate {ob.rate}")
        charts = [Chart("Test accuracy at each side's chosen rate, every seed", "network",
                        "test accuracy", [Series("seeds", [la, lb], [acc_a, acc_b])], bars=True),
                  _accuracy_chart("Choosing the rate: mean validation accuracy by rate",
                                  [(la, oa), (lb, ob)])]
        return Measured(c, figures, charts)
    return measure


# --- 1. learning rates ----------------------------------------------------------------------
WIDE_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # a fixed sweep: the claim is about its top


def _rate_jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
    config = s.config(setup)
    return [job(v, seed, replace(config, lr=r)) for v in ("none", "batchnorm")
            for r in WIDE_RATES for seed in s.seed_range()]


def _highest(s: Settings, setup: Setup, runs: Runs, variant: str) -> list[float]:
    """Per seed: log10 of the highest rate at which the run trains (half a decade below
    the grid when it trains at none)."""
    config = s.config(setup)
    out = []
    for seed in s.seed_range():
        ok = [r for r in WIDE_RATES
              if runs[job(variant, seed, replace(config, lr=r))].accuracy("val", setup.stats)
              >= TRAINS]
        out.append(math.log10(max(ok) if ok else WIDE_RATES[0]) - (0 if ok else 0.5))
    return out


def _rate_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
    high = {v: _highest(s, setup, runs, v) for v in ("none", "batchnorm")}
    # one step of the grid is half a decade: its rounding is the figures' resolution
    c = compare(high["batchnorm"], high["none"], margin=0.25, resolution=0.5)
    config = s.config(setup)

    def rate(v: str) -> str:
        median = 10 ** statistics.median(high[v])
        return f"{median:g}" if median >= WIDE_RATES[0] else "none of the grid"
    figures = (f"highest rate that trains (median of seeds): {_label('none')} {rate('none')}, "
               f"{_label('batchnorm')} {rate('batchnorm')}")
    chart = Chart("Final validation accuracy against the learning rate", "learning rate (SGD)",
                  "validation accuracy",
                  [Series(_label(v), list(WIDE_RATES),
                          [[runs[job(v, seed, replace(config, lr=r))].accuracy("val", setup.stats)
                            for seed in s.seed_range()] for r in WIDE_RATES])
                   for v in ("none", "batchnorm")], log_x=True)
    return Measured(c, figures, [chart])


# --- 2. internal covariate shift ------------------------------------------------------------
PROBE_EVERY = 10  # optimizer steps between measurements


def _probe_configs(s: Settings, setup: Setup, runs: Runs) -> dict[str, TrainConfig] | None:
    """Each side's probed config (at its chosen rate), once the grid has chosen them."""
    if not _ready(_pair_needs(s, setup, runs, "batchnorm", "none"), runs):
        return None
    oa, ob = _sides(s, setup, runs, "batchnorm", "none")
    if oa.rate is None or ob.rate is None:
        return {}
    return {o.variant: s.config(setup, lr=o.rate, probe_every=PROBE_EVERY) for o in (oa, ob)}


def _shift_jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
    """The grid, then the probed runs at the rates it chose."""
    grid = _pair_needs(s, setup, runs, "batchnorm", "none")
    configs = _probe_configs(s, setup, runs) or {}
    return grid + [job(v, seed, c) for v, c in configs.items() for seed in s.seed_range()]


def _shift_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
    configs = _probe_configs(s, setup, runs)
    if not configs:
        return Measured(compare([], [], 0.05), "a side diverged at every rate")
    probes = {v: [runs[job(v, seed, c)].probes for seed in s.seed_range()]
              for v, c in configs.items()}

    def per_seed(v: str, what: str) -> list[float]:
        return [statistics.fmean(getattr(p, what) for p in ps) if ps else math.nan
                for ps in probes[v]]
    cos = {v: per_seed(v, "shift_cos") for v in configs}
    c = compare(cos["batchnorm"], cos["none"], margin=0.05)
    l2 = {v: per_seed(v, "shift_l2") for v in configs}
    beta = {v: per_seed(v, "beta") for v in configs}
    figures = ("cos(G, G'), 1 = no shift: " + ", ".join(
        f"{_label(v)} {_mean(cos[v], 1, '.3f')}" for v in configs) + "; ||G - G'||: "
        + ", ".join(f"{_label(v)} {_mean(l2[v], 1, '.3g')}" for v in configs)
        + "; effective β-smoothness: "
        + ", ".join(f"{_label(v)} {_mean(beta[v], 1, '.3g')}" for v in configs))
    steps = [p.step for p in probes["none"][0]]

    def over_training(w: str, title: str, y: str, log_y: bool = True) -> Chart:
        return Chart(title, "optimizer step", y, [Series(
            _label(v), steps, [[getattr(ps[i], w) if i < len(ps) else math.nan
                                for ps in probes[v]] for i in range(len(steps))])
            for v in configs], log_y=log_y)
    charts = [over_training("shift_cos", "Internal covariate shift: cos(G, G')", "cosine",
                            log_y=False),
              over_training("shift_l2", "Internal covariate shift: ||G - G'||", "ℓ2 distance"),
              over_training("beta", "Effective β-smoothness along the gradient", "β")]
    return Measured(c, figures, charts)


# --- 4. cost --------------------------------------------------------------------------------
ROUNDS, REPEATS = 7, 5  # each round's figure is the median of its repeats
EXPENSIVE = 0.5  # "expensive": half the convolution that makes its input, or more


def _timed(fn: Callable[[], None], device: str) -> list[float]:
    """Milliseconds of fn per round (the median of REPEATS calls), after a warm-up call."""
    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()
    fn()
    rounds = []
    for _ in range(ROUNDS):
        times = []
        for _ in range(REPEATS):
            sync()
            start = time.perf_counter()
            fn()
            sync()
            times.append(1000 * (time.perf_counter() - start))
        rounds.append(statistics.median(times))
    return rounds


IMPLEMENTATIONS = {"torch": "LRN across, torch's F.local_response_norm",
                   "lrn_core across": "LRN across, lrn_core (closed-form backward)",
                   "lrn_core within": "LRN within a channel, lrn_core"}


def layer_costs(device: str = "cpu", shape=(16, 64, 32, 32)) -> dict[str, list[float]]:
    """Forward plus backward, in ms per round, of a 3x3 convolution producing activations of
    ``shape`` and of each normalisation on those activations (after the ReLU)."""
    N, C, H, W = shape
    g = torch.Generator().manual_seed(0)
    x = torch.randn(N, C // 2, H, W, generator=g).to(device).requires_grad_()
    conv = nn.Conv2d(C // 2, C, 3, padding=1).to(device)
    a = conv(x).relu().detach().requires_grad_()
    bn = nn.BatchNorm2d(C).to(device)
    layers = {
        "convolution 3x3 before it": lambda: conv(x),
        IMPLEMENTATIONS["torch"]: lambda: F.local_response_norm(a, 5, 1e-4, 0.75, 2.0),
        IMPLEMENTATIONS["lrn_core across"]:
            lambda: lrn(a, 5, 1e-4, 0.75, 2.0, mode="across", convention="alexnet"),
        IMPLEMENTATIONS["lrn_core within"]:
            lambda: lrn(a, 5, 1e-4, 0.75, 2.0, mode="within", convention="alexnet"),
        "BatchNorm (training mode)": lambda: bn(a)}

    def forward_backward(layer: Callable) -> Callable[[], None]:
        return lambda: layer().sum().backward()
    return {name: _timed(forward_backward(layer), device) for name, layer in layers.items()}


_COSTS: dict[str, dict] = {}  # timed once a process: the base and each variation share it


def _cost_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
    for device in ["cpu"] + (["cuda"] if torch.cuda.is_available() else []):
        if device not in _COSTS:
            _COSTS[device] = layer_costs(device)
    cpu = _COSTS["cpu"]
    conv = cpu["convolution 3x3 before it"]
    name = IMPLEMENTATIONS[setup.implementation]
    ratios = [t / c for t, c in zip(cpu[name], conv)]
    bn = [t / c for t, c in zip(cpu["BatchNorm (training mode)"], conv)]
    # rounds are the repeats here: the figure is the cost over the convolution's, each round
    c = compare(ratios, [0.0] * len(ratios), margin=0.1, threshold=EXPENSIVE)
    figures = (f"{name}: {statistics.fmean(ratios):.2f} times the convolution; BatchNorm "
               f"{statistics.fmean(bn):.2f} times; " + "; ".join(
                   f"{n} {statistics.fmean(v):.2f} ms" for n, v in cpu.items()) + " (CPU)")
    charts = [Chart(f"Forward + backward on the {device.upper()}, activations (16, 64, 32, 32)",
                    "layer", "milliseconds", [Series("rounds", list(t), list(t.values()))],
                    bars=True) for device, t in _COSTS.items()]
    return Measured(c, figures, charts)


# --- 5. sensitivity -------------------------------------------------------------------------
SWEEP = {"α x 0.1": dict(alpha=0.1), "α x 10": dict(alpha=10.0), "n = 3": dict(n=3),
         "n = 9": dict(n=9)}
SENSITIVE = 0.10  # "very sensitive": a setting that moves the accuracy by 10 points or more


def _lrn_rate(s: Settings, setup: Setup, runs: Runs) -> float | None | bool:
    """LRN's chosen rate (or none's, shared); False while the grid is not trained."""
    if not _ready(_pair_needs(s, setup, runs, "lrn_across", "none"), runs):
        return False
    oa, _ = _sides(s, setup, runs, "lrn_across", "none")
    return oa.rate


def _sensitivity_jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
    """The grid, then the sweep at the rate it chose for LRN."""
    grid = _pair_needs(s, setup, runs, "lrn_across", "none")
    rate = _lrn_rate(s, setup, runs)
    if not rate:
        return grid
    return grid + [job("lrn_across", seed, s.config(setup, lr=rate, **change))
                   for change in SWEEP.values() for seed in s.seed_range()]


def _sensitivity_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
    rate = _lrn_rate(s, setup, runs)
    if not rate:
        return Measured(compare([], [], 0.05), "LRN diverged at every rate")
    at = {"default": s.config(setup, lr=rate),
          **{k: s.config(setup, lr=rate, **c) for k, c in SWEEP.items()}}
    acc = {k: [runs[job("lrn_across", seed, c)].accuracy("test", setup.stats)
               for seed in s.seed_range()] for k, c in at.items()}
    # Four settings each compared with the default: Bonferroni keeps the chance of one
    # false "supported" among them within the single comparison's. A move either way counts,
    # so each difference is taken in the direction of its own mean.
    level = 1 - 0.05 / len(SWEEP)

    def moved(a: list[float], b: list[float]) -> Comparison:
        finite = [[v for v in side if math.isfinite(v)] or [0.0] for side in (a, b)]
        up = statistics.fmean(finite[0]) >= statistics.fmean(finite[1])
        return compare(*((a, b) if up else (b, a)), margin=0.05, threshold=SENSITIVE,
                       level=level)
    each = {k: moved(acc["default"], acc[k]) for k in SWEEP}
    verdicts = [c.verdict for c in each.values()]
    if "supported" in verdicts:
        c = max((c for c in each.values() if c.verdict == "supported"), key=lambda c: c.estimate)
    elif all(v == "contradicted" for v in verdicts):
        c = min(each.values(), key=lambda c: c.high)  # even the least certain is below
    else:  # the setting that moved the accuracy most, and it cannot tell
        c = max(each.values(), key=lambda c: c.estimate if math.isfinite(c.estimate) else -1)
        c = replace(c, verdict="inconclusive")
    figures = f"test accuracy at rate {rate}: " + ", ".join(
        f"{k} {_mean(v)}%" for k, v in acc.items())
    chart = Chart("LRN's test accuracy as its settings move (default: α x 1, n = 5)", "setting",
                  "test accuracy", [Series("seeds", list(acc), list(acc.values()))], bars=True)
    return Measured(c, figures, [chart])


# --- 6. regularisation ----------------------------------------------------------------------
SMALL = 300  # training images: few enough that the networks can fit them
FITS = 0.9  # a gap compares like with like only when both sides fit the training set


def _gap_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
    oa, ob = _sides(s, setup, runs, "batchnorm", "none")
    gap = {o.variant: [r.accuracy("train", setup.stats) - r.accuracy("test", setup.stats)
                       for r in o.runs] for o in (oa, ob)}
    fit = {o.variant: [r.accuracy("train", setup.stats) for r in o.runs] for o in (oa, ob)}
    # BatchNorm regularises: its gap is narrower, so none's minus BatchNorm's is positive
    c = compare(gap["none"], gap["batchnorm"], margin=0.02)
    unfit = [v for v, f in fit.items() if not f or min(f, default=0) < FITS]
    if unfit and c.verdict != "inconclusive":
        c = replace(c, verdict="inconclusive", why="")
    figures = "; ".join(f"{_label(v)}: training {_mean(fit[v])}%, gap {_mean(gap[v])} points"
                        for v in gap) + (
        f" ({', '.join(_label(v) for v in unfit)} did not fit the training set to "
        f"{100 * FITS:.0f}% in every seed: a gap then compares unlike fits)" if unfit else "")
    chart = Chart("Generalisation gap: training minus test accuracy", "variant", "accuracy gap",
                  [Series("seeds", [_label(v) for v in gap], list(gap.values()))], bars=True)
    return Measured(c, figures, [chart])


CLAIMS = {c.name: c for c in [
    Claim(1, "learning-rate", "BatchNorm lets you train with much higher learning rates.",
          f"The network without normalisation and with BatchNorm, each trained at the rates "
          f"{', '.join(f'{r:g}' for r in WIDE_RATES)}; per seed, the highest rate at which "
          "it still trains (twice chance validation accuracy), in decades.",
          "A three-layer network: Bjorck et al. (2018) found the effect grows with depth.",
          Reported("Ioffe & Szegedy 2015, sections 4.2.1-4.2.2: BN-Inception trained at 5x and "
                   "30x Inception's rate; the same 5x without BatchNorm diverged",
                   "supported", "at least 5x (0.7 decades)"),
          (1.0, " decades", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "BatchNorm statistics: running"), _rate_jobs, _rate_measure),
    Claim(2, "covariate-shift", "BatchNorm works by reducing internal covariate shift.",
          "Both networks at their own best rates; every 10 steps, the second convolution's "
          "gradient before and after the first layer takes its step (Santurkar et al.'s "
          "definition of the shift), as cos(G, G') (1: no shift; the cosine does not depend "
          "on scale).",
          "Raw magnitudes (||G - G'||) compare different scales; the verdict uses the cosine.",
          Reported("Santurkar et al. 2018: with BatchNorm the shift is no smaller (often "
                   "larger); BatchNorm smooths the loss landscape instead", "contradicted",
                   "no reduction"),
          (1.0, "", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared"), _shift_jobs, _shift_measure),
    Claim(3, "lrn-effect", "LRN improves generalisation.",
          "No normalisation against LRN across channels (α set from the measured scale of "
          "its input, k = 2, n = 5, β = 0.75), each at its own best rate; test accuracy.",
          "AlexNet's gain was on ImageNet with a network a thousand times larger.",
          Reported("Krizhevsky et al. 2012, section 3.3: top-1 and top-5 error 1.4 and 1.2 "
                   "points lower; CIFAR-10 13% -> 11%. Against: Simonyan & Zisserman 2015, "
                   "Table 3: A-LRN 29.7% top-1 against 29.6% without", "supported",
                   "+1.4 points top-1 (ImageNet), +2 points (CIFAR-10)"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared", "LRN: AlexNet's literal values",
           "LRN: k = 1"),
          _pair_jobs("lrn_across", "none"), _test_accuracy("lrn_across", "none", 0.02)),
    Claim(4, "cost", "LRN is computationally expensive.",
          "Forward plus backward of each layer on the same activations (16 x 64 x 32 x 32, "
          "after a ReLU), over the 3x3 convolution that makes them: seven rounds of five "
          "repeats, on this server's CPU, one thread; 'expensive' from half the convolution.",
          "Timings depend on the machine and on each library's kernels; cuDNN's LRN on a GPU "
          "is another story.",
          Reported("Simonyan & Zisserman 2015, section 2.2: LRN 'does not improve the "
                   "performance on the ILSVRC dataset, but leads to increased memory "
                   "consumption and computation time'", "supported", "no figure given"),
          (1.0, "x the convolution", "rounds of timing"), Settings(seeds=1, epochs=1),
          ("implementation: lrn_core across", "implementation: lrn_core within"),
          lambda s, setup, runs: [], _cost_measure),
    Claim(5, "sensitivity", "LRN is very sensitive to its hyperparameters.",
          "LRN across channels at its own best rate, with α at a tenth and at ten times its "
          "default and with n = 3 and 9; the largest move of test accuracy from the default, "
          "either way, against 10 points ('very sensitive'), each setting's interval widened "
          "for the four comparisons (Bonferroni).",
          "Around this lab's working point only, at a rate chosen for the default.",
          Reported("not measured in the papers: Krizhevsky et al. 2012 chose k, n, α and β "
                   "on a validation set (section 3.3); the claim is a tutorial's",
                   "supported", "not reported"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared"), _sensitivity_jobs, _sensitivity_measure),
    Claim(6, "regularisation", "BatchNorm regularises.",
          f"No normalisation and BatchNorm, each at its own best rate, trained on {SMALL} "
          "images so that they can fit them; the gap between training and test accuracy.",
          "A network that fits less also overfits less: the verdict needs both to fit "
          f"({100 * FITS:.0f}% training accuracy in every seed), and is inconclusive otherwise.",
          Reported("Ioffe & Szegedy 2015, section 3.4: a batch's other examples make the "
                   "network's output for one example non-deterministic, 'advantageous to the "
                   "generalization'; Dropout could be removed", "supported",
                   "not measured on its own"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=20, train_size=SMALL),
          ("head: flatten", "learning rate: shared", "BatchNorm statistics: running"),
          _pair_jobs("batchnorm", "none"), _gap_measure),
    Claim(7, "order", "BatchNorm belongs before the activation function.",
          "BatchNorm before the ReLU against after it, in every block, each at its own best "
          "rate; test accuracy.",
          "One depth, one data set: the order can matter more in deeper networks.",
          Reported("Ioffe & Szegedy 2015, section 3.2: BatchNorm 'immediately before the "
                   "nonlinearity', a design choice, not a comparison; practitioners' "
                   "benchmarks are mixed", "supported", "no comparison given"),
          (100.0, " points", "seeds"), Settings(seeds=3, epochs=5),
          ("head: flatten", "learning rate: shared", "BatchNorm statistics: running"),
          _pair_jobs("batchnorm", "batchnorm", dict(norm_before_relu=True)),
          _test_accuracy("batchnorm", "batchnorm", 0.02, dict(norm_before_relu=True),
                         a_label="BatchNorm before the ReLU", b_label="BatchNorm after it")),
]}


def setups(claim: Claim) -> dict[str, Setup]:
    return {name: VARIATIONS[name] for name in (BASE, *claim.variations)}


def missing_jobs(claim: Claim, settings: Settings, runs: Runs) -> list[Job]:
    """The runs still to train, as far as the runs so far can tell (some claims need the
    rates the first runs choose before they can name the rest)."""
    return list(dict.fromkeys(j for setup in setups(claim).values()
                              for j in claim.jobs(settings, setup, runs)
                              if runs.get(j) is None))


def all_jobs(claim: Claim, settings: Settings, runs: Runs) -> list[Job]:
    """Every run the claim reads, once ``runs`` holds them all."""
    return list(dict.fromkeys(j for setup in setups(claim).values()
                              for j in claim.jobs(settings, setup, runs)))


def judge(name: str, settings: Settings, runs: Runs) -> Result:
    """The named claim's result from its runs, under the base set-up and each variation."""
    claim = CLAIMS[name]
    measured = {n: claim.measure(settings, setup, runs) for n, setup in setups(claim).items()}
    base = measured[BASE]
    verdicts = {n: m.verdict for n, m in measured.items()}
    changed = [n for n, v in verdicts.items() if v != base.verdict]
    verdict = f"depends on {', '.join(changed)}" if changed else base.verdict
    scale, unit, per = claim.unit
    differences = {n: m.comparison.text(scale, unit, per) for n, m in measured.items()}
    figures = {n: m.figures for n, m in measured.items()}
    # The base set-up is the one that tests the claim; the variations say what its verdict
    # hangs on, and the reason says so where one changes it.
    agrees = base.verdict == claim.reported.direction
    matching = [n for n, v in verdicts.items() if v == claim.reported.direction and n != BASE]
    if agrees and not changed:
        why = "The lab agrees with what is reported, under every set-up."
    elif agrees:
        why = (f"The base set-up agrees with what is reported; under {', '.join(changed)} it "
               "does not: the verdict hangs on that choice, as measured here.")
    elif matching:
        why = (f"Under {', '.join(matching)} the lab finds what is reported: that choice of "
               "set-up is the measured difference.")
    else:
        why = (f"The lab finds '{base.verdict}' where the literature reports "
               f"'{claim.reported.direction}', and no variation of the set-up tried here gives "
               "what is reported.")
    reason = (f"Difference {base.comparison.text(scale, unit, per)}: {base.verdict}. " + (
        " ".join(f"Under {n}: {verdicts[n]}." for n in changed) + " " if changed else
        "Every variation gives the same verdict. ") + why)
    return Result(name, verdict, reason, base.figures, claim.reported, agrees, verdicts,
                  differences, figures, base.charts)


def train_missing(claim: Claim, settings: Settings, done: Runs, train_some) -> Runs:
    """Train what the claim needs, round after round, with ``train_some(jobs, done)``."""
    while missing := missing_jobs(claim, settings, done):
        train_some(missing, done)
    return done


def run(claim: Claim, settings: Settings | None = None, done: Runs | None = None,
        workers: int = 2) -> Result:
    """One claim, start to end: its runs (those in ``done`` are reused) and its verdict."""
    settings = settings or claim.defaults
    started = time.perf_counter()
    runs = train_missing(claim, settings, {} if done is None else done,
                         lambda jobs, into: train_jobs(jobs, into, workers))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # timings as in the app's single-threaded training workers
    try:
        result = judge(claim.name, settings, runs)
    finally:
        torch.set_num_threads(threads)
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Test what is said about LRN and BatchNorm: "
                                     "one row per claim, with its verdict.")
    parser.add_argument("claims", nargs="*", metavar="NAME", choices=[[], *CLAIMS],
                        help=f"claims to run (default: all): {', '.join(CLAIMS)}")
    parser.add_argument("--seeds", type=int, help="seeds per configuration (default: each claim's)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: each claim's)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="the first seed (default 0): another set of seeds")
    parser.add_argument("--recheck-seed", type=int, metavar="N",
                        help="judge each claim again with the seeds N, N + 1, ... and report "
                             "whether its verdict holds")
    parser.add_argument("--workers", type=int, default=2, help="runs trained side by side")
    parser.add_argument("--json", action="store_true", help='print {"claims": [...]} only')
    parser.add_argument("--save", metavar="PATH.json",
                        help="also write the results, with a record of how they were made")
    args = parser.parse_args(argv)
    chosen = [CLAIMS[name] for name in (args.claims or CLAIMS)]
    say = (lambda *a, **k: None) if args.json else print
    say(f"{len(chosen)} claims; a verdict is a 95% interval of the difference over seeds "
        "against each claim's margin (lrn_lab.stats).\n")
    say("#  verdict (whether the base set-up agrees with the papers; time)\n"
        "   claim: measured (and where the verdict depends on the set-up, each set-up's)")
    done: Runs = {}  # runs shared between claims with the same settings
    results = []
    for claim in chosen:
        changes = {k: getattr(args, k) for k in ("seeds", "epochs") if getattr(args, k)}
        settings = replace(claim.defaults, first_seed=args.first_seed, **changes)
        result = run(claim, settings, done, args.workers)
        if args.recheck_seed is not None and claim.jobs(settings, VARIATIONS[BASE], {}):
            again = run(claim, replace(settings, first_seed=args.recheck_seed), done,
                        args.workers)
            result.other_seeds = {"first_seed": args.recheck_seed, "verdict": again.verdict,
                                  "variations": again.variations}
        results.append((claim, settings, result))
        say(f"{claim.number:<3}{result.verdict} (base set-up agrees with the papers: "
            f"{'yes' if result.agrees else 'no'}; {result.seconds:.0f} s)\n   \"{claim.text}\" "
            f"{result.figures}"
            + ("".join(f"\n     {n}: {v}" for n, v in result.variations.items())
               if result.verdict.startswith("depends") else "")
            + (f"\n   with the seeds from {result.other_seeds['first_seed']}: "
               f"{result.other_seeds['verdict']}" if result.other_seeds else ""), flush=True)
    say("\nWhy, and the papers:")
    for claim, _, result in results:
        say(f"{claim.number}. {result.reason}\n   Reported: {claim.reported.source} "
            f"({claim.reported.direction}, {claim.reported.size}).")
    say(f"\n{LIMITS}")
    say(f"total {sum(r.seconds for *_, r in results):.0f} s")
    claims = [{"name": r.claim, "verdict": r.verdict, "reported": asdict(r.reported),
               "agrees": r.agrees, "variations": r.variations, "seconds": round(r.seconds, 1),
               **({"other_seeds": r.other_seeds} if r.other_seeds else {})}
              for *_, r in results]
    if args.json:
        print(json.dumps({"claims": claims}, indent=1))
    if args.save:
        from .results import save
        save(args.save, "lrn-claims", argv, {r.claim: {"settings": asdict(s), **r.to_dict()}
                                               for _, s, r in results})


if __name__ == "__main__":
    sys.exit(main())
