"""The training lab: the labs' network (lrn_lab.network) without normalisation, with LRN and
with BatchNorm, each at its own best learning rate.

    lrn-train                        # every variant, the default protocol
    lrn-train --help                 # the options

The protocol, the same for every variant and for the claims lab:
- SGD with momentum 0.9 and weight decay, a linear warm-up over the first epoch, then a
  cosine decay to zero;
- each variant trained at every rate of a grid (``RATES``), and judged at the rate with
  the best mean validation accuracy over its seeds (``choose_rate``): one variant is never
  judged at another's best rate; where the best rate is at an end of the grid, the grid
  grows by a half-decade step past it until the best lies inside (``rates_for``);
- a run whose loss stops being finite, or grows past ``DIVERGED`` times the loss of a
  uniform guess, is stopped and reported as diverged, never averaged in as an accuracy;
- BatchNorm's evaluation statistics recomputed over the training set after training
  (``recompute_batchnorm``); the figures with the running statistics are kept beside them;
- the final figures on a test split that took no part in choosing the rate.

Three splits of the generated shapes (lrn_lab.shapes) are fixed by their seeds, and so is
every run: a (variant, seed, settings) triple always trains the same way on one machine.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace

import numpy as np
import torch

from .network import HEADS, VARIANTS
from .shapes import CLASSES
from .trainer import (
    LAB_CONVENTIONS,
    LAB_VARIANTS,
    LADDER,
    RATES,
    Run,
    TrainConfig,
    data,
    run_dict,
    save_first_layer,
    train,
)


def validation_means(runs_by_rate: dict[float, list[Run]],
                     stats: str = "recomputed") -> dict[float, float]:
    """Each rate's mean final validation accuracy over its seeds (nan where a seed diverged,
    or where there are no runs)."""
    return {rate: (statistics.fmean(r.accuracy("val", stats) for r in runs)
                   if runs and not any(r.diverged for r in runs) else math.nan)
            for rate, runs in runs_by_rate.items()}


def choose_rate(runs_by_rate: dict[float, list[Run]], stats: str = "recomputed") -> float | None:
    """The rate whose runs end with the best mean validation accuracy, among the rates at
    which no seed diverged (None when every rate has a diverged seed)."""
    scores = {rate: mean for rate, mean in validation_means(runs_by_rate, stats).items()
              if not math.isnan(mean)}
    return max(scores, key=scores.get) if scores else None


Job = tuple[str, int, TrainConfig]  # (variant, seed, config): one run
LRN_FIELDS = ("convention", "n", "k", "alpha", "beta", "alpha_scaled")


def job(variant: str, seed: int, config: TrainConfig) -> Job:
    """A run's key: LRN's settings reset to their defaults for a variant without LRN, so
    that runs that train alike are one run, whichever experiment asks for them."""
    if not variant.startswith("lrn_"):
        config = replace(config, **{f: getattr(TrainConfig, f) for f in LRN_FIELDS})
    return (variant, seed, config)


def rates_for(variant: str, seeds, config: TrainConfig, runs, stats: str = "recomputed",
              start=RATES) -> list[float]:
    """The rates ``variant`` is trained at, as far as the runs so far (a dict of jobs)
    decide: ``start``, grown by a step of LADDER past whichever end holds the best rate,
    until the best lies inside the grid (or the ladder ends, or it diverges there)."""
    rates = list(start)
    while True:
        by_rate = {r: [runs.get(job(variant, seed, replace(config, lr=r))) for seed in seeds]
                   for r in rates}
        if any(run is None for rs in by_rate.values() for run in rs):
            return rates  # not trained yet: the grid cannot grow before it is
        best = choose_rate(by_rate, stats)
        if best is None or best not in LADDER:
            return rates
        i = LADDER.index(best)
        if best == rates[-1] and i + 1 < len(LADDER):
            rates.append(LADDER[i + 1])
        elif best == rates[0] and i > 0:
            rates.insert(0, LADDER[i - 1])
        else:
            return rates


def grid_jobs(variants, seeds, config: TrainConfig, runs=None, stats: str = "recomputed",
              start=RATES) -> list[Job]:
    """Every run the protocol needs so far: each variant at each rate of its grid (grown as
    ``runs`` decide), each seed. Call again once they are trained: the grid may grow."""
    return [job(v, seed, replace(config, lr=rate)) for v in variants
            for rate in rates_for(v, seeds, config, runs or {}, stats, start) for seed in seeds]


def settled(variants, seeds, config: TrainConfig, runs, stats: str = "recomputed",
            start=RATES) -> bool:
    """Whether every run the protocol needs is in ``runs`` (the grids have stopped growing)."""
    return all(runs.get(j) is not None
               for j in grid_jobs(variants, seeds, config, runs, stats, start))


def train_jobs(jobs: list[Job], done: dict | None = None, workers: int = 2) -> dict:
    """Train the jobs that ``done`` lacks, ``workers`` at a time on one torch thread each
    (two single-threaded runs use two cores better than one run on two threads)."""
    done = {} if done is None else done
    missing = [j for j in dict.fromkeys(jobs) if j not in done]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for config in {j[2] for j in missing}:
            data(config)  # the splits are made once, here, not by two workers at once
        with ThreadPoolExecutor(workers) as pool:
            for job, run in zip(missing, pool.map(lambda j: train(*j), missing)):
                done[job] = run
    finally:
        torch.set_num_threads(threads)
    return done


@dataclass
class Outcome:
    """One variant under the protocol: its chosen rate and its runs there."""

    variant: str
    rate: float | None  # None: it diverged at every rate
    rates: dict[float, float]  # mean validation accuracy by rate (nan: a seed diverged)
    runs: list[Run]  # at the chosen rate, one per seed

    def accuracies(self, split: str = "test", stats: str = "recomputed") -> list[float]:
        return [r.accuracy(split, stats) for r in self.runs]


def outcome(variant: str, seeds, config: TrainConfig, runs, stats: str = "recomputed",
            rate: float | None = None, start=RATES) -> Outcome:
    """``variant``'s runs at its own best rate (or at ``rate``, for a shared one, which
    must be trained too), once ``settled``."""
    rates = rates_for(variant, seeds, config, runs, stats, start)
    if rate is not None and rate not in rates:
        rates = sorted([*rates, rate])
    by_rate = {r: [runs[job(variant, s, replace(config, lr=r))] for s in seeds] for r in rates}
    chosen = choose_rate(by_rate, stats) if rate is None else rate
    return Outcome(variant, chosen, validation_means(by_rate, stats),
                   by_rate[chosen] if chosen is not None else [])


def results_text(outcomes: list[Outcome]) -> str:
    """Each variant's line: its rate, test accuracy over the seeds, its spread."""
    lines = []
    for o in outcomes:
        acc = [a for a in o.accuracies() if math.isfinite(a)]
        lines.append(f"{VARIANTS[o.variant]:<24}" + (
            f"rate {o.rate:<6g}{100 * statistics.fmean(acc):6.1f}% test accuracy "
            f"(seeds {', '.join(f'{100 * a:.1f}' for a in acc)})" if acc else
            "diverged at every rate")
            + "; validation by rate: " + ", ".join(
                f"{r:g}: " + ("diverged" if math.isnan(v) else f"{100 * v:.1f}%")
                for r, v in o.rates.items()))
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, TrainConfig]:
    """The command line's options, and the TrainConfig they give."""
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description="Train the lab's CNN variants, each at its own "
                                     "best learning rate, and compare them.")
    parser.add_argument("--variants", nargs="+", default=list(LAB_VARIANTS),
                        choices=list(VARIANTS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="the seeds are first-seed, "
                        "first-seed + 1, ... (another set: is the result the same?)")
    parser.add_argument("--rates", type=float, nargs="+", default=list(RATES),
                        help="the grid each variant's learning rate is chosen from, at first "
                             "(it grows past an end that holds the best rate)")
    parser.add_argument("--workers", type=int, default=2,
                        help="runs trained side by side, each on one CPU thread (default 2)")
    parser.add_argument("--save", metavar="PATH.json", help="also write the results (each "
                        "variant's rate and runs) with a record of how they were made, as the "
                        "Training lab ships them")
    parser.add_argument("--save-filters", metavar="PATH.npz",
                        help="write the first variant's first seed's first layer (filters, "
                             "bias, gain) there, at its chosen rate, with a record of the "
                             "settings, versions and accuracies")
    for name, value in asdict(defaults).items():
        if name in ("lr", "probe_every"):
            continue
        kwargs = dict(choices=LAB_CONVENTIONS) if name == "convention" else {}
        if name == "head":
            kwargs = dict(choices=list(HEADS))
        if isinstance(value, bool):  # argparse's type=bool would read "False" as true
            kwargs = dict(action=argparse.BooleanOptionalAction)
        else:
            kwargs["type"] = type(value)
        parser.add_argument(f"--{name.replace('_', '-')}", default=value, **kwargs)
    args = parser.parse_args(argv)
    return args, replace(defaults, **{k: getattr(args, k) for k in asdict(defaults)
                                      if hasattr(args, k)})


def main(argv: list[str] | None = None) -> None:
    args, config = parse_args(argv)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    print(f"{len(args.variants)} variants x {len(args.rates)} or more rates x {args.seeds} seeds, "
          f"{config.epochs} epochs, {config.train_size} training / {config.val_size} validation"
          f" / {config.test_size} test images of {len(CLASSES)} shapes, head: "
          f"{HEADS[config.head]}, {args.workers} runs at a time")
    started = time.perf_counter()
    runs: dict = {}
    while missing := [j for j in grid_jobs(args.variants, seeds, config, runs, start=args.rates)
                      if j not in runs]:
        train_jobs(missing, runs, args.workers)  # again while a grid grows
    outcomes = [outcome(v, seeds, config, runs, start=args.rates) for v in args.variants]
    print(results_text(outcomes))
    if args.save_filters:
        o = outcomes[0]
        saved = o.runs[0]
        rated = replace(config, lr=o.rate)
        # The seeds' accuracies go with the file: a run of the same settings on another CPU
        # takes another trajectory (the kernels sum in another order, and SGD amplifies the
        # last bits), so what can be checked elsewhere is the accuracy against these seeds.
        record = {"command": ["lrn-train", *(argv if argv is not None else sys.argv[1:])],
                  "variant": saved.variant, "seed": saved.seed, "config": asdict(rated),
                  "test_acc": saved.accuracy(), "seeds_test_acc": o.accuracies(),
                  "torch": torch.__version__, "numpy": np.__version__,
                  "python": platform.python_version(), "machine": platform.machine()}
        save_first_layer(args.save_filters, saved, rated, record)
        print(f"first layer of {saved.variant} seed {saved.seed} written to {args.save_filters}")
    if args.save:
        from .results import save
        save(args.save, "lrn-train", argv, training_result(args, config, outcomes))
    print(f"total {time.perf_counter() - started:.1f} s")


def training_result(args, config: TrainConfig, outcomes: list[Outcome]) -> dict:
    """What the Training lab shows, as plain data: the settings, and per variant its rate,
    its validation accuracy by rate and its runs at that rate."""
    return {"settings": {"variants": list(args.variants), "seeds": args.seeds,
                         "first_seed": args.first_seed, "rates": list(args.rates),
                         "config": asdict(config)},
            "outcomes": [{"variant": o.variant, "rate": o.rate,
                          "rates": {str(r): v for r, v in o.rates.items()},
                          "runs": [run_dict(r) for r in o.runs]} for o in outcomes]}


if __name__ == "__main__":
    main()
