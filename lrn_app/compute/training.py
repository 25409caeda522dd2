"""The Training lab's logic: the runs its settings need (every variant at every rate of the
protocol's grid, lrn_lab.train), each variant's outcome at its chosen rate, the shipped
result it opens with, and its verdicts by lrn_lab.stats. No Streamlit here.
"""

from __future__ import annotations

import functools
import math
import statistics

import numpy as np
import torch

from lrn_app.serving.training_pool import JobView, run_key
from lrn_lab.network import VARIANTS, fold, response
from lrn_lab.results import TRAINING_FILE, load
from lrn_lab.shapes import CLASSES, make_shapes
from lrn_lab.stats import compare
from lrn_lab.train import Outcome, grid_jobs, outcome, settled
from lrn_lab.trainer import RATES, TrainConfig, run_from_dict

MARGIN = 0.02  # two points of test accuracy: a difference smaller than this is no difference


def epochs_to_train(jobs: list, trainers: dict) -> int:
    """Epochs the jobs still need, counting what this session's stopped trainers (by
    run_key) have done."""
    return sum(job[2].epochs - (len(trainers[run_key(job)].run.epochs)
                                if run_key(job) in trainers else 0) for job in jobs)


def missing(variants, seeds: int, config: TrainConfig, runs) -> list[tuple]:
    """The runs the settings still need as far as the stored ones tell, variant by variant
    (so variants finish one by one); a grid may grow once these are trained."""
    stored = JobView(runs)
    return [j for j in grid_jobs(variants, range(seeds), config, stored) if stored.get(j) is None]


def outcomes(variants, seeds: int, config: TrainConfig, runs) -> list[Outcome]:
    """The outcome of each variant whose grid is trained and has stopped growing."""
    stored = JobView(runs)
    return [outcome(v, range(seeds), config, stored) for v in variants
            if settled([v], range(seeds), config, stored)]


@functools.lru_cache(maxsize=1)
def shipped_results() -> dict:
    """The shipped file's results, read once (made by ``lrn-train --save``)."""
    return load(TRAINING_FILE)["results"]


def shipped(variants, seeds: int, config: TrainConfig) -> list[Outcome] | None:
    """The shipped outcomes when these are the settings they were made with."""
    saved = shipped_results()
    s = saved["settings"]
    if (tuple(s["variants"]) != tuple(variants) or s["seeds"] != seeds or s["first_seed"] != 0
            or tuple(s["rates"]) != RATES or TrainConfig(**s["config"]) != config):
        return None
    return [Outcome(o["variant"], o["rate"], {float(r): v for r, v in o["rates"].items()},
                    [run_from_dict(r) for r in o["runs"]]) for o in saved["outcomes"]]


def curves(done: list[Outcome], metric: str) -> dict[str, tuple[list, list]]:
    """Per variant (by its label), each seed's validation and training ``metric`` ("acc" or
    "loss") by epoch, at its chosen rate: what charts.training_curves draws."""
    return {VARIANTS[o.variant]: ([[getattr(e, f"val_{metric}") for e in r.epochs] for r in o.runs],
                                  [[getattr(e, f"train_{metric}") for e in r.epochs]
                                   for r in o.runs]) for o in done}


def table(done: list[Outcome]) -> list[dict]:
    """The lab's table: a row per variant, its chosen rate, validation accuracy by rate, test
    accuracy (mean and per seed) and size."""
    return [{
        "variant": VARIANTS[o.variant],
        "chosen rate": "diverged at every rate" if o.rate is None else f"{o.rate:g}",
        "validation accuracy by rate": ", ".join(
            f"{r:g}: " + ("diverged" if math.isnan(v) else f"{100 * v:.1f}%")
            for r, v in o.rates.items()),
        "test accuracy": (f"{100 * statistics.fmean(o.accuracies()):.1f}%" if o.runs else "–"),
        "seeds": ", ".join(f"{100 * a:.1f}" for a in o.accuracies()),
        "trainable parameters": o.runs[0].parameters if o.runs else 0} for o in done]


def shape_examples(count: int = 36, side: int = 24) -> tuple[np.ndarray, list[str]]:
    """Examples of the data set, sorted by shape, as uint8 tiles with their shapes' names."""
    images, labels = make_shapes(count, side, seed=0)
    order = labels.argsort(stable=True)[:count]
    tiles = (images[order, 0].clamp(0, 1.3) / 1.3 * 255).round().byte().numpy()
    return tiles, [CLASSES[i] for i in labels[order]]


def verdicts(done: list[Outcome]) -> list[str]:
    """Each variant against no normalisation (or against the first variant): the difference
    of test accuracy, its 95% interval over the seeds and what it amounts to."""
    if len(done) < 2:
        return []
    base = next((o for o in done if o.variant == "none"), done[0])
    words = {"supported": "higher", "contradicted": "lower", "no difference": "no different",
             "inconclusive": "inconclusive (more seeds would tell)"}
    lines = []
    for o in done:
        if o is base:
            continue
        c = compare(o.accuracies(), base.accuracies(), MARGIN)
        lines.append(f"**{VARIANTS[o.variant]}** against {VARIANTS[base.variant]}: "
                     f"{words[c.verdict]}; test accuracy {c.text(100, ' points')}.")
    return lines


def response_curves(done: list[Outcome], config: TrainConfig) -> list[dict]:
    """For each LRN variant's first seed, each layer's y(x) for a window of equal values x,
    both in units of the scale q of that layer's input at initialisation (where the layer's
    inputs lie: x / q = 1), with the fold beyond which y falls."""
    curves = []
    for o in done:
        if not o.variant.startswith("lrn_") or not o.runs:
            continue
        for layer, (alpha, q) in enumerate(zip(o.runs[0].alphas, o.runs[0].scales), 1):
            x = torch.linspace(0, 3, 121, dtype=torch.float64)
            y = response(x * q, alpha, config.beta, config.k) / q
            curves.append(dict(label=f"{VARIANTS[o.variant]}, layer {layer}", x=x.tolist(),
                               y=y.tolist(), fold=fold(alpha, config.beta, config.k) / q))
    return curves
