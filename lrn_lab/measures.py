"""What each claim measures (lrn_lab.claims lists the claims): the jobs it needs for a
set-up, and its figure per seed for both sides, from finished runs.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from lrn_core.local_response import lrn

from .claim_parts import (
    TRAINS,
    Chart,
    Measured,
    Runs,
    Series,
    Settings,
    Setup,
    all_done,
    both_sides,
    mean_text,
    pair_needs,
    variant_label,
)
from .stats import Comparison, compare
from .train import Job, job
from .trainer import TrainConfig

# --- 1. learning rates ----------------------------------------------------------------------
WIDE_RATES = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)  # a fixed sweep: the claim is about its top


def rate_jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
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


def rate_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
    high = {v: _highest(s, setup, runs, v) for v in ("none", "batchnorm")}
    # one step of the grid is half a decade: its rounding is the figures' resolution
    c = compare(high["batchnorm"], high["none"], margin=0.25, resolution=0.5)
    config = s.config(setup)

    def rate(v: str) -> str:
        median = 10 ** statistics.median(high[v])
        return f"{median:g}" if median >= WIDE_RATES[0] else "none of the grid"

    figures = (
        f"highest rate that trains (median of seeds): {variant_label('none')} {rate('none')}, "
        f"{variant_label('batchnorm')} {rate('batchnorm')}"
    )
    chart = Chart("Final validation accuracy against the learning rate", "learning rate (SGD)",
                  "validation accuracy",
                  [Series(variant_label(v), list(WIDE_RATES),
                          [[runs[job(v, seed, replace(config, lr=r))].accuracy("val", setup.stats)
                            for seed in s.seed_range()] for r in WIDE_RATES])
                   for v in ("none", "batchnorm")], log_x=True)
    return Measured(c, figures, [chart])


# --- 2. internal covariate shift ------------------------------------------------------------
PROBE_EVERY = 10  # optimizer steps between measurements


def _probe_configs(s: Settings, setup: Setup, runs: Runs) -> dict[str, TrainConfig] | None:
    """Each side's probed config (at its chosen rate), once the grid has chosen them."""
    if not all_done(pair_needs(s, setup, runs, "batchnorm", "none"), runs):
        return None
    oa, ob = both_sides(s, setup, runs, "batchnorm", "none")
    if oa.rate is None or ob.rate is None:
        return {}
    return {o.variant: s.config(setup, lr=o.rate, probe_every=PROBE_EVERY) for o in (oa, ob)}


def shift_jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
    """The grid, then the probed runs at the rates it chose."""
    grid = pair_needs(s, setup, runs, "batchnorm", "none")
    configs = _probe_configs(s, setup, runs) or {}
    return grid + [job(v, seed, c) for v, c in configs.items() for seed in s.seed_range()]


def shift_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
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
        f"{variant_label(v)} {mean_text(cos[v], 1, '.3f')}" for v in configs) + "; ||G - G'||: "
        + ", ".join(f"{variant_label(v)} {mean_text(l2[v], 1, '.3g')}" for v in configs)
        + "; effective β-smoothness: "
        + ", ".join(f"{variant_label(v)} {mean_text(beta[v], 1, '.3g')}" for v in configs))
    steps = [p.step for p in probes["none"][0]]

    def over_training(w: str, title: str, y: str, log_y: bool = True) -> Chart:
        return Chart(title, "optimizer step", y, [Series(
            variant_label(v), steps, [[getattr(ps[i], w) if i < len(ps) else math.nan
                                for ps in probes[v]] for i in range(len(steps))])
            for v in configs], log_y=log_y)
    charts = [over_training("shift_cos", "Internal covariate shift: cos(G, G')", "cosine",
                            log_y=False),
              over_training("shift_l2", "Internal covariate shift: ||G - G'||", "ℓ2 distance"),
              over_training("beta", "Effective β-smoothness along the gradient", "β")]
    return Measured(c, figures, charts)


# --- 4. cost --------------------------------------------------------------------------------
ROUNDS, REPEATS = 7, 5  # each round's figure is the median of its repeats
_COSTS: dict[str, dict] = {}  # timed once a process: the base and each variation share it
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


def cost_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
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
    if not all_done(pair_needs(s, setup, runs, "lrn_across", "none"), runs):
        return False
    oa, _ = both_sides(s, setup, runs, "lrn_across", "none")
    return oa.rate


def sensitivity_jobs(s: Settings, setup: Setup, runs: Runs) -> list[Job]:
    """The grid, then the sweep at the rate it chose for LRN."""
    grid = pair_needs(s, setup, runs, "lrn_across", "none")
    rate = _lrn_rate(s, setup, runs)
    if not rate:
        return grid
    return grid + [job("lrn_across", seed, s.config(setup, lr=rate, **change))
                   for change in SWEEP.values() for seed in s.seed_range()]


def sensitivity_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
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
        f"{k} {mean_text(v)}%" for k, v in acc.items())
    chart = Chart("LRN's test accuracy as its settings move (default: α x 1, n = 5)", "setting",
                  "test accuracy", [Series("seeds", list(acc), list(acc.values()))], bars=True)
    return Measured(c, figures, [chart])


# --- 6. regularisation ----------------------------------------------------------------------
SMALL = 300  # training images: few enough that the networks can fit them
FITS = 0.9  # a gap compares like with like only when both sides fit the training set


def gap_measure(s: Settings, setup: Setup, runs: Runs) -> Measured:
    oa, ob = both_sides(s, setup, runs, "batchnorm", "none")
    gap = {o.variant: [r.accuracy("train", setup.stats) - r.accuracy("test", setup.stats)
                       for r in o.runs] for o in (oa, ob)}
    fit = {o.variant: [r.accuracy("train", setup.stats) for r in o.runs] for o in (oa, ob)}
    # BatchNorm regularises: its gap is narrower, so none's minus BatchNorm's is positive
    c = compare(gap["none"], gap["batchnorm"], margin=0.02)
    unfit = [v for v, f in fit.items() if not f or min(f, default=0) < FITS]
    if unfit and c.verdict != "inconclusive":
        c = replace(c, verdict="inconclusive", why="")
    figures = "; ".join(
        f"{variant_label(v)}: training {mean_text(fit[v])}%, gap {mean_text(gap[v])} points"
        for v in gap
    ) + (
        f" ({', '.join(variant_label(v) for v in unfit)} did not fit the training set to "
        f"{100 * FITS:.0f}% in every seed: a gap then compares unlike fits)"
        if unfit
        else ""
    )
    chart = Chart("Generalisation gap: training minus test accuracy", "variant", "accuracy gap",
                  [Series("seeds", [variant_label(v) for v in gap], list(gap.values()))], bars=True)
    return Measured(c, figures, [chart])
