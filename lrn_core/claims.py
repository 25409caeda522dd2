"""The claims lab: what tutorials say about LRN and BatchNorm, each put to an experiment on
the Training lab's data set and network, with seeds, figures and a verdict.

    python -m lrn_core.claims                        # every claim, its default settings
    python -m lrn_core.claims learning-rate order    # some of them
    python -m lrn_core.claims --help

A claim is split into parts, and each part is measured (``Claim.judge``): a part holds when
its difference exceeds the seed-to-seed spread (``lrn_core.train.beyond_spread``: the gap
between the means beyond half the range of each set, added); it fails when the difference
goes the other way or does not exceed the spread; it cannot be told with fewer than two
seeds, or when no run trained. ``verdict`` turns the parts into one word. No figure or
verdict is written in by hand: every one comes from runs made here.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from .local_response import lrn
from .shapes import CLASSES
from .train import VARIANTS, Run, TrainConfig, beyond_spread, spread, train

VERDICTS = ("supported", "not supported", "mixed", "inconclusive")
CHANCE = 1 / len(CLASSES)
TRAINS = 2 * CHANCE  # a run "trains" when it ends at twice chance accuracy or more
LIMITS = (
    "Every experiment here trains a two-layer CNN of about 8,000 parameters for a few epochs "
    "on 24 x 24 generated shapes, on a CPU. A verdict says what happens there. Claims made "
    "from ImageNet-scale networks (AlexNet's 60 million parameters, BN-Inception) can hold "
    "at that scale and fail here, or the other way round: a verdict here is evidence about "
    "the claim as a general rule, not a replication of those papers.")


def verdict(parts: list[bool | None]) -> str:
    """The one rule behind every verdict. Each part of a claim is True (it holds beyond the
    seed-to-seed spread), False (the difference goes the other way or stays within the
    spread) or None (the figures cannot tell). Any None, or no part: inconclusive; all True:
    supported; all False: not supported; some of each: mixed."""
    if not parts or any(p is None for p in parts):
        return "inconclusive"
    if all(parts):
        return "supported"
    return "not supported" if not any(parts) else "mixed"


def trained(*accuracies: list[float]) -> bool:
    """Whether any of these runs trained at all: comparing runs that all stayed near chance
    would find 'no difference' that means nothing."""
    return any(v >= TRAINS for values in accuracies for v in values)


def compare(a: list[float], b: list[float]) -> int | None:
    """beyond_spread on the finite figures of a and b (1: a higher, -1: b higher, 0: not a
    difference these figures show), or None with fewer than two of either."""
    a, b = [v for v in a if math.isfinite(v)], [v for v in b if math.isfinite(v)]
    return beyond_spread(a, b) if len(a) >= 2 and len(b) >= 2 else None


@dataclass(frozen=True)
class Settings:
    """How much to run: seeds per configuration, epochs per run, and the data set's size."""

    seeds: int
    epochs: int
    train_size: int = TrainConfig.train_size
    val_size: int = TrainConfig.val_size

    def config(self, **changes) -> TrainConfig:
        return replace(TrainConfig(), epochs=self.epochs, train_size=self.train_size,
                       val_size=self.val_size, **changes)


Job = tuple[str, int, TrainConfig]  # (variant, seed, config): one run
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
    log_y: bool = False  # figures that differ by orders of magnitude between the series
    bars: bool = False


@dataclass
class Result:
    claim: str  # its name
    verdict: str
    reason: str  # why, in figures
    figures: str  # the measured figures, in one line, with their spread
    charts: list[Chart] = field(default_factory=list)
    seconds: float = 0.0  # to run it, training included


@dataclass(frozen=True)
class Claim:
    number: int
    name: str  # on the command line and in the app's URL
    text: str
    source: str  # where it is said
    experiment: str  # what is run, in plain words
    limits: str  # what this lab cannot say about it, beyond LIMITS
    defaults: Settings
    jobs: Callable[[Settings], list[Job]]  # the training runs it needs (none: measured directly)
    judge: Callable[[Settings, Runs], Result]  # figures, charts and verdict from those runs


def _seeds(s: Settings) -> range:
    return range(s.seeds)


def _acc(runs: Runs, variant: str, config: TrainConfig, s: Settings) -> list[float]:
    return [runs[(variant, seed, config)].epochs[-1].val_acc for seed in _seeds(s)]


def _pct(values: list[float]) -> str:
    return f"{100 * statistics.fmean(values):.1f}% (±{100 * spread(values):.1f})"


def _label(variant: str) -> str:
    return VARIANTS[variant]


def _versus(outcome: int | None, higher: str, lower: str, same: str) -> str:
    cannot = "(cannot tell: fewer than two seeds, or no run trained)"
    return {1: higher, -1: lower, 0: same, None: cannot}[outcome]


# --- 1. learning rates ----------------------------------------------------------------------
RATES = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)  # log-spaced, half a decade apart
RATE_VARIANTS = ("none", "batchnorm")


def _rates_jobs(s: Settings) -> list[Job]:
    return [(v, seed, s.config(lr=lr)) for v in RATE_VARIANTS for lr in RATES for seed in _seeds(s)]


def _rates_judge(s: Settings, runs: Runs) -> Result:
    acc = {v: [_acc(runs, v, s.config(lr=lr), s) for lr in RATES] for v in RATE_VARIANTS}
    # per seed, the index of the highest rate at which that seed's run still trains (-1: none)
    highest = {v: [max([i for i, per_rate in enumerate(acc[v]) if per_rate[seed] >= TRAINS],
                       default=-1) for seed in _seeds(s)] for v in RATE_VARIANTS}

    def rate(v: str) -> str:
        i = statistics.median_low(highest[v])
        return "none" if i < 0 else f"{RATES[i]:g}"
    trained = any(i >= 0 for v in RATE_VARIANTS for i in highest[v])
    outcome = compare(highest["batchnorm"], highest["none"]) if trained else None
    figures = (f"highest learning rate that still trains (median of seeds): no normalisation "
               f"{rate('none')}, BatchNorm {rate('batchnorm')}; best accuracy over the sweep: "
               + ", ".join(f"{_label(v)} {_pct(max(acc[v], key=statistics.fmean))}"
                           for v in RATE_VARIANTS))
    reason = ("No run trained at any rate (twice chance accuracy): nothing to compare."
              if not trained else _versus(
                  outcome, "BatchNorm still trains at rates where the network without it no "
                  "longer does, beyond the seeds' spread.",
                  "The network without normalisation trains at higher rates than with "
                  "BatchNorm.", "Both stop training at the same rates, within the seeds' spread."))
    chart = Chart("Final validation accuracy against the learning rate", "learning rate (SGD)",
                  "validation accuracy",
                  [Series(_label(v), list(RATES), acc[v]) for v in RATE_VARIANTS], log_x=True)
    return Result("learning-rate", verdict([None if outcome is None else outcome == 1]),
                  reason + f" A run 'trains' when it ends at {100 * TRAINS:.0f}% validation "
                  "accuracy or more (twice chance).", figures, [chart])


# --- 2. internal covariate shift ------------------------------------------------------------
PROBE_EVERY = 10  # optimizer steps between measurements
SHIFT_VARIANTS = ("none", "batchnorm")


def _shift_jobs(s: Settings) -> list[Job]:
    return [(v, seed, s.config(probe_every=PROBE_EVERY)) for v in SHIFT_VARIANTS
            for seed in _seeds(s)]


def _shift_judge(s: Settings, runs: Runs) -> Result:
    config = s.config(probe_every=PROBE_EVERY)
    probes = {v: [runs[(v, seed, config)].probes for seed in _seeds(s)] for v in SHIFT_VARIANTS}

    def per_seed(v: str, what: str) -> list[float]:  # each seed's mean over its measurements
        return [statistics.fmean(getattr(p, what) for p in ps) for ps in probes[v]]
    m = {(v, w): per_seed(v, w) for v in SHIFT_VARIANTS
         for w in ("shift_l2", "shift_cos", "loss_range", "beta")}
    lower_l2 = compare(m["batchnorm", "shift_l2"], m["none", "shift_l2"])
    higher_cos = compare(m["batchnorm", "shift_cos"], m["none", "shift_cos"])
    smoother = compare(m["none", "beta"], m["batchnorm", "beta"])
    parts = [None if lower_l2 is None else lower_l2 == -1,
             None if higher_cos is None else higher_cos == 1]

    def both(w: str, fmt: str) -> str:
        return ", ".join(f"{_label(v)} {statistics.fmean(m[v, w]):{fmt}} "
                         f"(±{spread(m[v, w]):{fmt}})" for v in SHIFT_VARIANTS)
    figures = (f"||G - G'||: {both('shift_l2', '.3g')}; cos(G, G'): {both('shift_cos', '.3f')}; "
               f"effective β-smoothness: {both('beta', '.3g')}")
    reason = (
        "Shift as Santurkar et al. define it, at the second convolution. With BatchNorm its "
        "gradient changes " + _versus(lower_l2, "more", "less", "as much, within the spread,")
        + " when the first layer takes its step, and its direction is "
        + _versus(higher_cos, "better kept", "less well kept", "kept as well, within the spread")
        + ". Santurkar et al. found that what BatchNorm does instead is smooth the landscape; "
        "here, along the gradient, the gradient changes "
        + _versus(smoother, "less with BatchNorm (smoother)", "more with BatchNorm (rougher)",
                  "as much with and without BatchNorm, within the spread") + ".")
    steps = [p.step for p in probes["none"][0]]

    def over_training(w: str, title: str, y: str, log_y: bool = True) -> Chart:
        return Chart(title, "optimizer step", y, [Series(
            _label(v), steps, [[getattr(ps[i], w) for ps in probes[v]] for i in range(len(steps))])
            for v in SHIFT_VARIANTS], log_y=log_y)
    charts = [over_training("shift_l2", "Internal covariate shift: ||G - G'||", "ℓ2 distance"),
              over_training("shift_cos", "Internal covariate shift: cos(G, G')", "cosine",
                            log_y=False),
              over_training("loss_range", "Loss range along the gradient", "max - min of the loss"),
              over_training("beta", "Effective β-smoothness along the gradient", "β")]
    return Result("covariate-shift", verdict(parts), reason, figures, charts)


# --- 3. does LRN help? ----------------------------------------------------------------------
def _effect_jobs(s: Settings) -> list[Job]:
    return [(v, seed, s.config()) for v in ("none", "lrn_across") for seed in _seeds(s)]


def _effect_judge(s: Settings, runs: Runs) -> Result:
    acc = {v: _acc(runs, v, s.config(), s) for v in ("none", "lrn_across")}
    outcome = compare(acc["lrn_across"], acc["none"]) if trained(*acc.values()) else None
    reason = "No run trained (twice chance accuracy): nothing to compare." \
        if not trained(*acc.values()) else _versus(
            outcome, "LRN ended with higher validation accuracy, beyond the seeds' spread: on "
            "the side of Krizhevsky et al.", "LRN ended with lower validation accuracy, beyond "
            "the seeds' spread: it hurt here, which neither saying predicts.",
            "The two differ by less than the seeds' spread: on the side of CS231n's 'little or "
            "no effect'.")
    return Result(
        "lrn-effect", verdict([None if outcome is None else outcome == 1]), reason,
        f"final validation accuracy: {_label('none')} {_pct(acc['none'])}, "
        f"{_label('lrn_across')} {_pct(acc['lrn_across'])}",
        [Chart("Final validation accuracy, every seed", "variant", "validation accuracy",
               [Series("seeds", [_label(v) for v in acc], list(acc.values()))], bars=True)])


# --- 4. cost --------------------------------------------------------------------------------
ROUNDS, REPEATS = 5, 5  # each round's figure is the median of its repeats
EXPENSIVE = 0.5  # a normalisation is "expensive" when it costs half its convolution or more


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
        "LRN across, torch's own": lambda: F.local_response_norm(a, 5, 1e-4, 0.75, 2.0),
        "LRN across, lrn_core (closed-form backward)":
            lambda: lrn(a, 5, 1e-4, 0.75, 2.0, mode="across", convention="alexnet"),
        "LRN within a channel, lrn_core":
            lambda: lrn(a, 5, 1e-4, 0.75, 2.0, mode="within", convention="alexnet"),
        "BatchNorm (training mode)": lambda: bn(a)}

    def forward_backward(layer: Callable) -> Callable[[], None]:
        return lambda: layer().sum().backward()
    return {name: _timed(forward_backward(layer), device) for name, layer in layers.items()}


def _cost_judge(s: Settings, runs: Runs) -> Result:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    costs = {d: layer_costs(d) for d in devices}
    cpu = costs["cpu"]
    lrn, bn, conv = (cpu["LRN across, torch's own"], cpu["BatchNorm (training mode)"],
                     cpu["convolution 3x3 before it"])
    dearer_than_bn = compare(lrn, bn)
    large = compare(lrn, [EXPENSIVE * c for c in conv])
    parts = [None if dearer_than_bn is None else dearer_than_bn == 1,
             None if large is None else large == 1]
    reason = (
        "torch's LRN costs " + _versus(dearer_than_bn, "more", "less", "as much, within the "
                                       "rounds' spread,")
        + " than BatchNorm on the same activations, and "
        f"{statistics.fmean(lrn) / statistics.fmean(conv):.2f} times the convolution before it "
        f"(counted 'expensive' from {EXPENSIVE:g} times, beyond the rounds' spread).")
    figures = "; ".join(f"{name} {statistics.fmean(v):.2f} ms (±{spread(v):.2f})"
                        for name, v in cpu.items())
    charts = [Chart(f"Forward + backward on {device.upper()}, activations (16, 64, 32, 32)",
                    "layer", "milliseconds", [Series("rounds", list(c), list(c.values()))],
                    bars=True) for device, c in costs.items()]
    return Result("cost", verdict(parts), reason, figures + " (CPU, one thread)",
                  charts)



# --- 5. sensitivity -------------------------------------------------------------------------
ALPHAS = (1e-3, 1e-2, 0.1, 1.0, 10.0)
SIZES = (1, 5, 9)  # with ALPHAS, 7 configurations a variant: 84 epochs, within 90 s
SENSITIVE = 0.10  # "very sensitive": the sweep moves the accuracy by 10 points or more
LRN_VARIANTS = ("lrn_across", "lrn_within")
SWEEP_LR = 0.05  # with 1000 training images: both variants' sweeps fit the app's 90 s


def _sweep_configs(s: Settings) -> dict[str, list[TrainConfig]]:
    return {"alpha": [s.config(lr=SWEEP_LR, alpha=a) for a in ALPHAS],
            "n": [s.config(lr=SWEEP_LR, n=n) for n in SIZES]}


def _sensitivity_jobs(s: Settings) -> list[Job]:
    configs = dict.fromkeys(c for cs in _sweep_configs(s).values() for c in cs)  # n=5, α=1 once
    return [(v, seed, c) for v in LRN_VARIANTS for c in configs for seed in _seeds(s)]


def _sensitivity_judge(s: Settings, runs: Runs) -> Result:
    acc = {(v, p): [_acc(runs, v, c, s) for c in cs] for v in LRN_VARIANTS
           for p, cs in _sweep_configs(s).items()}
    parts, lines = [], []
    for (v, p), per_value in acc.items():
        best, worst = (max(per_value, key=statistics.fmean), min(per_value, key=statistics.fmean))
        swing = statistics.fmean(best) - statistics.fmean(worst)
        outcome = compare(best, worst) if trained(*per_value) else None
        parts.append(None if outcome is None else outcome == 1 and swing >= SENSITIVE)
        lines.append(f"{_label(v)}: {'α' if p == 'alpha' else 'n'} moves the accuracy by "
                     f"{100 * swing:.1f} points (best {_pct(best)}, worst {_pct(worst)})")
    reason = (f"Over the sweeps: {'; '.join(lines)}. 'Very sensitive' is counted as a swing of "
              f"{100 * SENSITIVE:.0f} points or more, beyond the seeds' spread"
              + ("." if all(trained(*v) for v in acc.values()) else
                 "; a sweep in which no run trained (twice chance accuracy) cannot tell."))
    charts = [Chart("Accuracy against α (n = 5)", "α (AlexNet notation)", "validation accuracy",
                    [Series(_label(v), list(ALPHAS), acc[v, "alpha"]) for v in LRN_VARIANTS],
                    log_x=True),
              Chart("Accuracy against n (α = 1)", "n (channels across; pixels of a side within)",
                    "validation accuracy",
                    [Series(_label(v), list(SIZES), acc[v, "n"]) for v in LRN_VARIANTS])]
    return Result("sensitivity", verdict(parts), reason, "; ".join(lines), charts)


# --- 6. regularisation ----------------------------------------------------------------------
GAP_VARIANTS = ("none", "lrn_across", "batchnorm")


def _gap_jobs(s: Settings) -> list[Job]:
    return [(v, seed, s.config()) for v in GAP_VARIANTS for seed in _seeds(s)]


def _gap_judge(s: Settings, runs: Runs) -> Result:
    done = {v: [runs[(v, seed, s.config())] for seed in _seeds(s)] for v in GAP_VARIANTS}
    acc_gap = {v: [r.train_eval[1] - r.epochs[-1].val_acc for r in rs] for v, rs in done.items()}
    loss_gap = {v: [r.epochs[-1].val_loss - r.train_eval[0] for r in rs] for v, rs in done.items()}
    learned = {v: trained([r.epochs[-1].val_acc for r in rs]) for v, rs in done.items()}
    bn = compare(acc_gap["batchnorm"], acc_gap["none"]) if learned["batchnorm"] else None
    lrn = compare(acc_gap["lrn_across"], acc_gap["none"]) if learned["lrn_across"] else None
    parts = [None if bn is None else bn == -1, None if lrn is None else lrn != -1]
    reason = ("Against no normalisation, the gap between training and validation accuracy is "
              + _versus(bn, "wider", "narrower", "the same, within the spread,")
              + " with BatchNorm and " + _versus(lrn, "wider", "narrower",
                                                 "the same, within the spread,") + " with LRN."
              + ("" if all(learned.values()) else " A variant whose runs did not train (twice "
                 "chance accuracy) cannot tell."))
    figures = "train - validation accuracy: " + ", ".join(
        f"{_label(v)} {_pct(g)}" for v, g in acc_gap.items())
    charts = [Chart("Generalisation gap: training minus validation accuracy", "variant",
                    "accuracy gap", [Series("seeds", [_label(v) for v in acc_gap],
                                            list(acc_gap.values()))], bars=True),
              Chart("Generalisation gap: validation minus training loss", "variant",
                    "loss gap", [Series("seeds", [_label(v) for v in loss_gap],
                                        list(loss_gap.values()))], bars=True)]
    return Result("regularisation", verdict(parts), reason, figures, charts)


# --- 7. before or after the ReLU ------------------------------------------------------------
ORDER_VARIANTS = ("lrn_across", "batchnorm")


def _order_jobs(s: Settings) -> list[Job]:
    return [(v, seed, s.config(norm_before_relu=before)) for v in ORDER_VARIANTS
            for before in (True, False) for seed in _seeds(s)]


def order_difference(variant: str) -> float:
    """How much the order changes one layer's output on the same activations: the largest
    |norm(relu(x)) - relu(norm(x))| over the largest |norm(relu(x))|, for one batch of
    normal activations (LRN with the lab's settings; BatchNorm in training mode)."""
    x = torch.randn(8, 12, 16, 16, generator=torch.Generator().manual_seed(0))
    c = TrainConfig()
    norm = (nn.BatchNorm2d(12) if variant == "batchnorm" else
            lambda t: lrn(t, c.n, c.alpha, c.beta, c.k, convention=c.convention))
    with torch.no_grad():
        after, before = norm(x.relu()), norm(x).relu()
    return float((after - before).abs().max() / after.abs().max())


def _order_judge(s: Settings, runs: Runs) -> Result:
    acc = {(v, before): _acc(runs, v, s.config(norm_before_relu=before), s)
           for v in ORDER_VARIANTS for before in (True, False)}
    outcomes = {v: compare(acc[v, True], acc[v, False])
                if trained(acc[v, True], acc[v, False]) else None for v in ORDER_VARIANTS}
    parts = [None if o is None else o == 1 for o in outcomes.values()]
    reason = " ".join(
        f"{_label(v)} before the ReLU: "
        + _versus(o, "better than after, beyond the spread.", "worse than after, beyond the "
                  "spread.", "no difference beyond the spread.") for v, o in outcomes.items())
    reason += (" On the same activations the order changes the layer's output by up to "
               + ", ".join(f"{100 * order_difference(v):.0f}% ({_label(v)})"
                           for v in ORDER_VARIANTS)
               + " of its largest value: before the ReLU, LRN's sum of squares also counts the "
               "negative inputs.")
    figures = "; ".join(f"{_label(v)} {'before' if b else 'after'} the ReLU {_pct(a)}"
                        for (v, b), a in acc.items())
    charts = [Chart("Final validation accuracy: the norm before or after the ReLU", "network",
                    "validation accuracy",
                    [Series("seeds", [f"{_label(v)}, {'before' if b else 'after'}"
                                      for v, b in acc], list(acc.values()))], bars=True)]
    return Result("order", verdict(parts), reason, figures, charts)


CLAIMS = {c.name: c for c in [
    Claim(1, "learning-rate", "BatchNorm lets you train with much higher learning rates.",
          "Ioffe and Szegedy 2015 (BN-Inception at 5x and 30x the rate); most tutorials",
          "The network without normalisation and with BatchNorm, trained at six learning "
          "rates from 0.003 to 1 (half a decade apart); the highest rate at which each still "
          "trains, seed by seed.",
          "Few epochs: a rate that trains slowly can look like one that does not train. The "
          "last layer, a linear classifier, is not normalised in either network.",
          Settings(seeds=2, epochs=3), _rates_jobs, _rates_judge),
    Claim(2, "covariate-shift", "BatchNorm works by reducing internal covariate shift.",
          "Ioffe and Szegedy 2015's motivation, and popular tutorials; measured and disputed by "
          "Santurkar et al. 2018",
          "Every 10 steps of training, the second convolution's gradient before and after the "
          "first layer takes its step (Santurkar et al.'s definition of the shift), and how "
          "much the loss and its gradient change along the gradient (smoothness).",
          "The two networks sit at different places of different landscapes (without "
          "normalisation the first epochs are a plateau), so raw magnitudes compare different "
          "scales; the cosine does not depend on the scale.",
          Settings(seeds=2, epochs=3), _shift_jobs, _shift_judge),
    Claim(3, "lrn-effect", "LRN improves generalisation (against: 'LRN has little or no "
          "effect').", "Krizhevsky et al. 2012 (1.4 and 1.2 points on ImageNet, 13% against 11% "
          "test error on CIFAR-10); against it, CS231n's notes",
          "No normalisation against LRN across channels (the lab's settings: k = 1, α = 1, "
          "n = 5, β = 0.75), several seeds; final validation accuracy.",
          "AlexNet's gain came with its own k, α and activations of a much larger scale.",
          Settings(seeds=5, epochs=6), _effect_jobs, _effect_judge),
    Claim(4, "cost", "LRN is computationally expensive, BatchNorm moderate.",
          "a tutorial's comparison table",
          "Forward plus backward of each layer on the same activations (16 x 64 x 32 x 32, "
          "after a ReLU), next to the 3x3 convolution that makes them: five rounds of five "
          "repeats, on this server's CPU (and its GPU, when it has one).",
          "Timings depend on the machine and on each library's kernels; a GPU's cuDNN LRN is "
          "another story.",
          Settings(seeds=2, epochs=1), lambda s: [], _cost_judge),
    Claim(5, "sensitivity", "LRN is very sensitive to its hyperparameters.",
          "a tutorial's comparison table",
          "LRN across channels and within a channel, each trained with α from 0.001 to 10 "
          "(log-spaced, n = 5) and with n in 1, 5, 9 (α = 1); how far the accuracy moves "
          "over each sweep. To fit the app's 90 s, these runs use fewer training images "
          "(1000 of 2400) at a learning rate of 0.05.",
          "The sweeps are around this lab's working point (k = 1, activations of about 1), "
          "after three short epochs: early accuracy, not final.",
          Settings(seeds=2, epochs=3, train_size=1000), _sensitivity_jobs, _sensitivity_judge),
    Claim(6, "regularisation", "BatchNorm regularises, LRN does not.",
          "a tutorial's comparison table",
          "No normalisation, LRN across channels and BatchNorm trained on a quarter of the "
          "training images (600) for 10 epochs, so that they can overfit; the gap between "
          "training and validation accuracy (and loss).",
          "A network that learns less also overfits less: a narrow gap with a low accuracy "
          "is not regularisation.",
          Settings(seeds=3, epochs=10, train_size=600), _gap_jobs, _gap_judge),
    Claim(7, "order", "Normalisation belongs before the activation function.",
          "several tutorials; AlexNet applies LRN after the ReLU",
          "LRN across channels and BatchNorm, each before and after the ReLU, in both layers; "
          "final validation accuracy, and how much the order changes one layer's output.",
          "One depth, one data set: the order can matter more in deeper networks.",
          Settings(seeds=3, epochs=4), _order_jobs, _order_judge),
]}


def judge(name: str, settings: Settings, runs: Runs) -> Result:
    """The named claim's result from its runs (a plain function, so a worker process can be
    asked for it by name)."""
    return CLAIMS[name].judge(settings, runs)


def train_jobs(jobs: list[Job], done: Runs, workers: int = 2) -> Runs:
    """Train the jobs that ``done`` lacks, ``workers`` at a time on one torch thread each
    (two single-threaded runs use two cores better than one run on two threads)."""
    missing = [j for j in dict.fromkeys(jobs) if j not in done]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(workers) as pool:
            for job, run in zip(missing, pool.map(lambda j: train(*j), missing)):
                done[job] = run
    finally:
        torch.set_num_threads(threads)
    return done


def run(claim: Claim, settings: Settings | None = None, done: Runs | None = None,
        workers: int = 2) -> Result:
    """One claim, start to end: its runs (those in ``done`` are reused) and its verdict."""
    settings = settings or claim.defaults
    started = time.perf_counter()
    runs = train_jobs(claim.jobs(settings), {} if done is None else done, workers)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # timings as in the app's single-threaded training workers
    try:
        result = claim.judge(settings, runs)
    finally:
        torch.set_num_threads(threads)
    result.seconds = time.perf_counter() - started
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Test what tutorials claim about LRN and "
                                     "BatchNorm: one row per claim, with its verdict.")
    parser.add_argument("claims", nargs="*", metavar="NAME", choices=[[], *CLAIMS],
                        help=f"claims to run (default: all): {', '.join(CLAIMS)}")
    parser.add_argument("--seeds", type=int, help="seeds per configuration (default: each claim's)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: each claim's)")
    parser.add_argument("--train-size", type=int, help="training images (default: each claim's)")
    parser.add_argument("--val-size", type=int, help="validation images (default: 600)")
    parser.add_argument("--workers", type=int, default=2, help="runs trained side by side")
    args = parser.parse_args(argv)
    chosen = [CLAIMS[name] for name in (args.claims or CLAIMS)]
    print(f"{len(chosen)} claims; verdicts follow lrn_core.claims.verdict: a difference counts "
          "only when it exceeds the seed-to-seed spread (half the range of each, added).\n")
    print(f"{'#':<3}{'verdict':<15}{'time':>7}  claim (where it is said): measured")
    done: Runs = {}  # runs shared between claims with the same settings
    results = []
    for claim in chosen:
        changes = {k: getattr(args, k) for k in ("seeds", "epochs", "train_size", "val_size")
                   if getattr(args, k) is not None}
        result = run(claim, replace(claim.defaults, **changes), done, args.workers)
        results.append((claim, result))
        print(f"{claim.number:<3}{result.verdict:<15}{result.seconds:>6.0f}s  \"{claim.text}\" "
              f"({claim.source}): {result.figures}", flush=True)
    print("\nWhy:")
    for claim, result in results:
        print(f"{claim.number}. {result.reason} Limits: {claim.limits}")
    print(f"\n{LIMITS}")
    print(f"total {sum(r.seconds for _, r in results):.0f} s")


if __name__ == "__main__":
    sys.exit(main())
