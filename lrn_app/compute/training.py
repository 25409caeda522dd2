"""The Training lab's logic: the runs its settings need (every variant at every rate of the
protocol's grid, lrn_lab.train), each variant's outcome at its chosen rate, the shipped
result it opens with, and its verdicts by lrn_lab.stats. No Streamlit here.
"""

from __future__ import annotations

import functools

import torch

from lrn_app.serving.training_pool import JobView
from lrn_lab.network import VARIANTS, fold, response
from lrn_lab.results import TRAINING_FILE, load
from lrn_lab.stats import compare
from lrn_lab.train import Outcome, grid_jobs, outcome, settled
from lrn_lab.trainer import RATES, TrainConfig, run_from_dict

MARGIN = 0.02  # two points of test accuracy: a difference smaller than this is no difference


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
