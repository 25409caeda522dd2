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
import json
import math
import platform
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lrn_core.conventions import conventions_for

from .landscape import Probe, probe, probed_layer
from .network import CALIBRATION_IMAGES, HEADS, VARIANTS, calibrate, make_model
from .shapes import CLASSES, TEST_SEED, TRAIN_SEED, VAL_SEED, make_shapes

# LRN in both modes: the conventions that have both.
LAB_CONVENTIONS = tuple(c for c in conventions_for("within") if c in conventions_for("across"))
RATES = (0.01, 0.03, 0.1, 0.3)  # the grid each variant's rate is chosen from, at first
LADDER = (0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)  # the steps it can grow by
LAB_VARIANTS = ("none", "lrn_across", "batchnorm")  # the Training lab's default comparison
DIVERGED = 3.0  # a loss above 3 x ln(6) (a uniform guess's) is a diverged run
STATISTICS = {"recomputed": "recomputed over the training set",
              "running": "running averages of training (momentum 0.1)"}


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run, apart from the variant and the seed."""

    epochs: int = 5
    batch_size: int = 64
    lr: float = 0.1  # the peak of the schedule; the protocol picks it per variant (rates_for)
    weight_decay: float = 5e-4
    width: int = 8  # channels of the first conv; then 2 * width and 4 * width
    head: str = "gap"  # lrn_lab.network.HEADS
    train_size: int = 1200
    val_size: int = 600
    test_size: int = 600
    image_size: int = 24
    # LRN: oneDNN's convention divides alpha by the window's taps (per element, both modes);
    # with alpha_scaled, alpha is relative to each layer's measured input scale (network.py).
    convention: str = "onednn"
    n: int = 5
    k: float = 2.0
    alpha: float = 1.0
    beta: float = 0.75
    alpha_scaled: bool = True
    # For the claims lab: the norm before the ReLU instead of after it, and every how many
    # steps to measure internal covariate shift and smoothness (0: never).
    norm_before_relu: bool = False
    probe_every: int = 0

    def key(self) -> str:
        """A stable text key for caches."""
        return ",".join(f"{k}={v!r}" for k, v in asdict(self).items())


PAPER_LRN = dict(convention="alexnet", n=5, k=2.0, alpha=1e-4, beta=0.75, alpha_scaled=False)


@dataclass
class Epoch:
    """The figures of one epoch."""

    epoch: int  # 1-based
    train_loss: float  # mean over the epoch's batches, as they were trained (nan: diverged)
    train_acc: float
    val_loss: float  # after the epoch, in evaluation mode (running statistics)
    val_acc: float
    seconds: float  # training and evaluation of this epoch


@dataclass
class Run:
    """One (variant, seed, config) run's history so far, and its final figures."""

    variant: str
    seed: int
    epochs: list[Epoch] = field(default_factory=list)
    diverged: bool = False
    first_filters: torch.Tensor | None = None  # (width, 1, 5, 5) after the last epoch
    first_bias: torch.Tensor | None = None  # (width,)
    parameters: int = 0  # trainable
    alphas: list[float] = field(default_factory=list)  # each LRN layer's alpha in force
    scales: list[float] = field(default_factory=list)  # each LRN layer's input scale at start
    # After training, by BatchNorm statistics (STATISTICS; the same for the other variants):
    # split ("train", "val", "test") -> (loss, accuracy).
    final: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    probes: list[Probe] = field(default_factory=list)  # with config.probe_every

    @property
    def seconds(self) -> float:
        return sum(e.seconds for e in self.epochs)

    def accuracy(self, split: str = "test", stats: str = "recomputed") -> float:
        """Final accuracy on a split; nan for a diverged (or unfinished) run."""
        return self.final[stats][split][1] if self.final and not self.diverged else math.nan


_DATA: dict[tuple, tuple] = {}
_INIT_LOCK = threading.Lock()


def data(config: TrainConfig) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """The fixed train, validation and test splits (made once per size and kept)."""
    key = (config.train_size, config.val_size, config.test_size, config.image_size)
    if key not in _DATA:
        if len(_DATA) >= 3:  # bounded: the labs use two sizes, the tests another
            _DATA.pop(next(iter(_DATA)))
        splits = {"train": make_shapes(config.train_size, config.image_size, TRAIN_SEED),
                  "val": make_shapes(config.val_size, config.image_size, VAL_SEED),
                  "test": make_shapes(config.test_size, config.image_size, TEST_SEED)}
        # Inputs standardised by the training images' mean and deviation, as practitioners
        # do: an input of mean 0.3 would handicap the network without normalisation alone.
        mean, std = splits["train"][0].mean(), splits["train"][0].std()
        _DATA[key] = {s: ((x - mean) / std, y) for s, (x, y) in splits.items()}
    return _DATA[key]


def schedule(step: int, steps_per_epoch: int, epochs: int) -> float:
    """The learning rate's factor at a step: linear warm-up over the first epoch (from a
    tenth), then a cosine decay to zero at the end."""
    total, warm = steps_per_epoch * epochs, steps_per_epoch if epochs > 1 else 0
    if step < warm:
        return 0.1 + 0.9 * step / warm
    return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, total - warm)))


class Trainer:
    """Trains one (variant, seed) run an epoch at a time, so that a caller can show each
    epoch as it comes and stop between epochs."""

    def __init__(self, variant: str, seed: int, config: TrainConfig):
        self.config = config
        splits = data(config)
        with _INIT_LOCK:  # weight init draws from torch's global generator: one run at a time
            torch.manual_seed(seed)
            self.model = make_model(variant, config)
        alphas, scales = calibrate(self.model, config, splits["train"][0][:CALIBRATION_IMAGES])
        decay, plain = [], []  # BatchNorm's scale and shift and the biases are not decayed
        for name, p in self.model.named_parameters():
            (plain if p.dim() == 1 else decay).append(p)
        self.optimizer = torch.optim.SGD(
            [{"params": decay, "weight_decay": config.weight_decay},
             {"params": plain, "weight_decay": 0.0}], lr=config.lr, momentum=0.9)
        self.shuffle = torch.Generator().manual_seed(seed)
        self.run = Run(variant, seed, parameters=sum(p.numel() for p in self.model.parameters()),
                       alphas=alphas, scales=scales)
        self.steps = 0  # optimizer steps so far

    # A trainer travels to a worker process and back between epochs (the app trains out of
    # its interactive process): the model, the optimizer and the run pickle as they are,
    # in one pickle, so the optimizer still holds the model's own parameters; the shuffling
    # generator travels as its state.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["shuffle"] = self.shuffle.get_state()
        return state

    def __setstate__(self, state: dict) -> None:
        shuffle = torch.Generator()
        shuffle.set_state(state.pop("shuffle"))
        self.__dict__.update(state, shuffle=shuffle)

    @property
    def done(self) -> bool:
        return self.run.diverged or len(self.run.epochs) >= self.config.epochs

    def step(self) -> Epoch:
        """Train one epoch, evaluate, and return (and record) its figures; after the last
        one (or a divergence) the final figures too."""
        splits = data(self.config)
        x, y = splits["train"]
        start = time.perf_counter()
        self.model.train()
        losses, correct, seen = [], 0, 0
        per_epoch = math.ceil(len(x) / self.config.batch_size)
        limit = DIVERGED * math.log(len(CLASSES))
        for idx in torch.randperm(len(x), generator=self.shuffle).split(self.config.batch_size):
            factor = schedule(self.steps, per_epoch, self.config.epochs)
            for group in self.optimizer.param_groups:
                group["lr"] = self.config.lr * factor
            logits = self.model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            if not math.isfinite(loss.item()) or loss.item() > limit:
                self.run.diverged = True
                break
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.probe_every and self.steps % self.config.probe_every == 0:
                self._step_and_probe(x[idx], y[idx])
            else:
                self.optimizer.step()
            self.steps += 1
            losses.append(loss.item() * len(idx))
            correct += int((logits.argmax(1) == y[idx]).sum())
            seen += len(idx)
        if self.run.diverged:
            epoch = Epoch(len(self.run.epochs) + 1, math.nan, math.nan, math.nan, math.nan,
                          time.perf_counter() - start)
        else:
            val_loss, val_acc = evaluate(self.model, *splits["val"])
            epoch = Epoch(len(self.run.epochs) + 1, sum(losses) / seen, correct / seen,
                          val_loss, val_acc, time.perf_counter() - start)
        self.run.epochs.append(epoch)
        self.run.first_filters = self.model[0].weight.detach().clone()
        self.run.first_bias = self.model[0].bias.detach().clone()
        if self.done and not self.run.diverged:
            self.run.final = final_figures(self.model, splits, self.config.batch_size)
        return epoch

    def _step_and_probe(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """The optimizer's step, measured: the parameters and gradients before it and the
        parameters after it give the second conv layer's internal covariate shift and the
        loss's smoothness along the gradient (lrn_lab.landscape), on this batch."""
        named = dict(self.model.named_parameters())
        before = {n: p.detach().clone() for n, p in named.items()}
        grads = {n: p.grad.detach().clone() for n, p in named.items()}
        self.optimizer.step()
        after = {n: p.detach().clone() for n, p in named.items()}
        self.run.probes.append(probe(self.model, before, grads, after, probed_layer(self.model),
                                     x, y, self.optimizer.param_groups[0]["lr"], self.steps))


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    model.eval()
    logits = torch.cat([model(chunk) for chunk in x.split(500)])
    return float(F.cross_entropy(logits, y)), float((logits.argmax(1) == y).float().mean())


@torch.no_grad()
def recompute_batchnorm(model: nn.Module, x: torch.Tensor, batch_size: int) -> bool:
    """Replace BatchNorm's running statistics by their average over the training images in
    batches of the training size (what the network saw, with its final weights). Returns
    whether the model has BatchNorm at all."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        return False
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average
    model.train()
    for chunk in x.split(batch_size):
        model(chunk)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    return True


def final_figures(model: nn.Module, splits: dict, batch_size: int) -> dict:
    """(loss, accuracy) on every split with the running statistics, then recomputed."""
    figures = {"running": {s: evaluate(model, *xy) for s, xy in splits.items()}}
    if recompute_batchnorm(model, splits["train"][0], batch_size):
        figures["recomputed"] = {s: evaluate(model, *xy) for s, xy in splits.items()}
    else:
        figures["recomputed"] = figures["running"]
    return figures


def train(variant: str, seed: int, config: TrainConfig) -> Run:
    trainer = Trainer(variant, seed, config)
    while not trainer.done:
        trainer.step()
    return trainer.run


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


def first_layer(run: Run, config: TrainConfig) -> dict[str, torch.Tensor]:
    """A run's first conv layer as a feature source: its filters and bias, and the gain
    that brings the 99.9th percentile of its ReLU responses on the validation images to 1."""
    x_val = data(config)["val"][0]
    responses = F.conv2d(x_val, run.first_filters, run.first_bias, padding=2).relu()
    gain = 1.0 / float(torch.quantile(responses.flatten()[::7], 0.999).clamp_min(1e-6))
    return {"filters": run.first_filters, "bias": run.first_bias, "gain": torch.tensor(gain)}


def save_first_layer(path, run: Run, config: TrainConfig, record: dict) -> None:
    """Write a run's first layer (filters, bias, gain) as plain arrays, with ``record``, a
    JSON text of how it was made, in the same file, so the two cannot drift apart."""
    layer = first_layer(run, config)
    np.savez(path, record=np.array(json.dumps(record, sort_keys=True)),
             **{k: v.numpy().astype(np.float32) for k, v in layer.items()})


def load_record(path) -> dict:
    """The record that ``save_first_layer`` wrote (never unpickled: it is a text array)."""
    with np.load(path, allow_pickle=False) as saved:
        return json.loads(str(saved["record"]))


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


def run_dict(run: Run) -> dict:
    return {"variant": run.variant, "seed": run.seed, "diverged": run.diverged,
            "epochs": [asdict(e) for e in run.epochs], "final": run.final,
            "alphas": run.alphas, "scales": run.scales, "parameters": run.parameters}


def run_from_dict(d: dict) -> Run:
    final = {stats: {split: tuple(v) for split, v in by_split.items()}
             for stats, by_split in d["final"].items()}
    return Run(d["variant"], d["seed"], [Epoch(**e) for e in d["epochs"]], d["diverged"],
               parameters=d["parameters"], alphas=d["alphas"], scales=d["scales"], final=final)


if __name__ == "__main__":
    main()
