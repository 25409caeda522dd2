"""The training lab: a small CNN without normalisation, with LRN and with BatchNorm.

    python -m lrn_core.train                   # every variant, 3 seeds, the default settings
    python -m lrn_core.train --help            # the options

Each variant is the same network,

    conv 5x5 (1 -> w) - ReLU - norm - max-pool 2 - conv 3x3 (w -> 2w) - ReLU - norm - max-pool 2
    - linear (2w * (size/4)^2 -> 6 classes)

where ``norm`` is nothing, LRN across channels, LRN within a channel (both lrn_core's
LocalResponseNorm, with its closed-form backward) or BatchNorm. The norm sits after the
ReLU in every variant, where AlexNet put LRN, so that only the normalisation differs.
Trained with SGD (momentum 0.9) on the procedurally drawn shapes of lrn_core.shapes;
everything is seeded, so a (variant, seed, settings) triple always gives the same run.
"""

from __future__ import annotations

import argparse
import json
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

from .conventions import conventions_for
from .landscape import Probe, probe, probed_layer
from .local_response import LocalResponseNorm
from .shapes import CLASSES, TRAIN_SEED, VAL_SEED, make_shapes

VARIANTS = {  # name -> label
    "none": "no normalisation",
    "lrn_across": "LRN across channels",
    "lrn_within": "LRN within a channel",
    "batchnorm": "BatchNorm",
}
# LRN in both modes: the conventions that have both.
LAB_CONVENTIONS = tuple(c for c in conventions_for("within") if c in conventions_for("across"))


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run, apart from the variant and the seed."""

    epochs: int = 6
    batch_size: int = 64
    lr: float = 0.02  # shared by every variant: BatchNorm's advantage at it is the lesson
    width: int = 12  # channels of the first conv; the second has 2 * width
    train_size: int = 2400
    val_size: int = 600
    image_size: int = 24
    # LRN in the AlexNet paper's notation (alpha not divided), but with k = 1 and alpha = 1
    # so that it acts on activations of about 1; the paper's k = 2, alpha = 1e-4 would
    # only scale them by 2 ** -0.75 (the lab page has them as a preset).
    convention: str = "alexnet"
    n: int = 5
    k: float = 1.0
    alpha: float = 1.0
    beta: float = 0.75
    # For the claims lab (lrn_core.claims): the norm before the ReLU instead of after it, and
    # every how many steps to measure internal covariate shift and smoothness (0: never).
    norm_before_relu: bool = False
    probe_every: int = 0

    def key(self) -> str:
        """A stable text key for caches."""
        return ",".join(f"{k}={v!r}" for k, v in asdict(self).items())


def make_model(variant: str, config: TrainConfig) -> nn.Sequential:
    w = config.width

    def norm(channels: int) -> nn.Module:
        if variant == "none":
            return nn.Identity()
        if variant in ("lrn_across", "lrn_within"):
            return LocalResponseNorm(config.n, config.alpha, config.beta, config.k,
                                     mode=variant.removeprefix("lrn_"),
                                     convention=config.convention)
        if variant == "batchnorm":
            return nn.BatchNorm2d(channels)
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")

    def activated(channels: int) -> list[nn.Module]:
        pair = [nn.ReLU(), norm(channels)]
        return pair[::-1] if config.norm_before_relu else pair

    side = config.image_size // 4
    return nn.Sequential(
        nn.Conv2d(1, w, 5, padding=2), *activated(w), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1), *activated(2 * w), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * w * side * side, len(CLASSES)))


@dataclass
class Epoch:
    """The figures of one epoch."""

    epoch: int  # 1-based
    train_loss: float  # mean over the epoch's batches, as they were trained
    train_acc: float
    val_loss: float  # after the epoch, in evaluation mode
    val_acc: float
    seconds: float  # training and evaluation of this epoch


@dataclass
class Run:
    """One (variant, seed) run's history so far."""

    variant: str
    seed: int
    epochs: list[Epoch] = field(default_factory=list)
    first_filters: torch.Tensor | None = None  # (width, 1, 5, 5) after the last epoch
    first_bias: torch.Tensor | None = None  # (width,)
    parameters: int = 0  # trainable
    # After the last epoch, in evaluation mode on the training images: (loss, accuracy).
    train_eval: tuple[float, float] | None = None
    probes: list[Probe] = field(default_factory=list)  # with config.probe_every

    @property
    def seconds(self) -> float:
        return sum(e.seconds for e in self.epochs)


_DATA: dict[tuple, tuple] = {}
_INIT_LOCK = threading.Lock()


def data(config: TrainConfig):
    """The fixed train and validation splits (made once per size and kept)."""
    key = (config.train_size, config.val_size, config.image_size)
    if key not in _DATA:
        if len(_DATA) >= 2:  # bounded: the app uses one size, tests another
            _DATA.pop(next(iter(_DATA)))
        _DATA[key] = (make_shapes(config.train_size, config.image_size, TRAIN_SEED),
                      make_shapes(config.val_size, config.image_size, VAL_SEED))
    return _DATA[key]


class Trainer:
    """Trains one (variant, seed) run an epoch at a time, so that a caller can show each
    epoch as it comes and stop between epochs."""

    def __init__(self, variant: str, seed: int, config: TrainConfig):
        self.config = config
        with _INIT_LOCK:  # weight init draws from torch's global generator: one run at a time
            torch.manual_seed(seed)
            self.model = make_model(variant, config)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr, momentum=0.9)
        self.shuffle = torch.Generator().manual_seed(seed)
        self.run = Run(variant, seed, parameters=sum(p.numel() for p in self.model.parameters()))
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
        return len(self.run.epochs) >= self.config.epochs

    def step(self) -> Epoch:
        """Train one epoch, evaluate, and return (and record) its figures."""
        (x, y), (x_val, y_val) = data(self.config)
        start = time.perf_counter()
        self.model.train()
        losses, correct = [], 0
        for idx in torch.randperm(len(x), generator=self.shuffle).split(self.config.batch_size):
            logits = self.model(x[idx])
            loss = F.cross_entropy(logits, y[idx])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.config.probe_every and self.steps % self.config.probe_every == 0:
                self._step_and_probe(x[idx], y[idx])
            else:
                self.optimizer.step()
            self.steps += 1
            losses.append(loss.item() * len(idx))
            correct += int((logits.argmax(1) == y[idx]).sum())
        val_loss, val_acc = evaluate(self.model, x_val, y_val)
        epoch = Epoch(len(self.run.epochs) + 1, sum(losses) / len(x), correct / len(x),
                      val_loss, val_acc, time.perf_counter() - start)
        self.run.epochs.append(epoch)
        self.run.first_filters = self.model[0].weight.detach().clone()
        self.run.first_bias = self.model[0].bias.detach().clone()
        if self.done:
            self.run.train_eval = evaluate(self.model, x, y)
        return epoch

    def _step_and_probe(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """The optimizer's step, measured: the parameters and gradients before it and the
        parameters after it give the second conv layer's internal covariate shift and the
        loss's smoothness along the gradient (lrn_core.landscape), on this batch."""
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


def train(variant: str, seed: int, config: TrainConfig) -> Run:
    trainer = Trainer(variant, seed, config)
    while not trainer.done:
        trainer.step()
    return trainer.run


def first_layer(run: Run, config: TrainConfig) -> dict[str, torch.Tensor]:
    """A run's first conv layer as a feature source: its filters and bias, and the gain
    that brings the 99.9th percentile of its ReLU responses on the validation images to 1."""
    (_, _), (x_val, _) = data(config)
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


@dataclass
class Summary:
    """One variant over its seeds."""

    variant: str
    final_val_acc: list[float]
    seconds_per_epoch: float
    parameters: int

    @property
    def mean(self) -> float:
        return statistics.fmean(self.final_val_acc)

    @property
    def spread(self) -> float:
        """Half the range over the seeds (0 for one seed)."""
        return spread(self.final_val_acc)


def summarise(runs: list[Run]) -> list[Summary]:
    by_variant: dict[str, list[Run]] = {}
    for run in runs:
        if run.epochs:
            by_variant.setdefault(run.variant, []).append(run)
    return [Summary(v, [r.epochs[-1].val_acc for r in rs],
                    statistics.fmean(e.seconds for r in rs for e in r.epochs), rs[0].parameters)
            for v, rs in by_variant.items()]


def spread(values: list[float]) -> float:
    """Half the range of a set of figures (0 for one)."""
    return (max(values) - min(values)) / 2


def beyond_spread(a: list[float], b: list[float]) -> int:
    """The lab's rule: two sets of figures (one per seed) differ only when the gap between
    their means exceeds the seed-to-seed spread of the two (half the range of each, added).
    1: a is higher, -1: b is higher, 0: no difference these figures can show."""
    gap = statistics.fmean(a) - statistics.fmean(b)
    return 0 if abs(gap) <= spread(a) + spread(b) else (1 if gap > 0 else -1)


def differs(a: Summary, b: Summary) -> bool:
    return beyond_spread(a.final_val_acc, b.final_val_acc) != 0


def verdict(summaries: list[Summary]) -> str:
    """An honest sentence: which variant ended best, and whether that beats the spread."""
    if not summaries:
        return "No run has finished yet."
    ranked = sorted(summaries, key=lambda s: s.mean, reverse=True)
    best = ranked[0]
    lines = [f"{VARIANTS[best.variant]} ended best: {100 * best.mean:.1f}% validation accuracy."]
    for other in ranked[1:]:
        gap = best.mean - other.mean
        if len(best.final_val_acc) < 2:
            lines.append(f"{VARIANTS[other.variant]}: {100 * gap:.1f} points lower, from one seed "
                         "each, which cannot tell a result from noise.")
        elif differs(best, other):
            lines.append(f"{VARIANTS[other.variant]}: {100 * gap:.1f} points lower, more than "
                         "the seed-to-seed spread of the two.")
        else:
            lines.append(f"{VARIANTS[other.variant]}: {100 * gap:.1f} points lower, within the "
                         "seed-to-seed spread: not a difference these runs can show.")
    return " ".join(lines)


def _run_all(args, config: TrainConfig) -> list[Run]:
    data(config)
    jobs = [(variant, seed) for variant in args.variants for seed in range(args.seeds)]
    with ThreadPoolExecutor(max_workers=args.workers) as pool:
        return list(pool.map(lambda job: train(*job, config), jobs))


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, TrainConfig]:
    """The command line's options, and the TrainConfig they give."""
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(description="Train the lab's CNN variants and compare them.")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2,
                        help="runs trained side by side, each on one CPU thread (default 2)")
    parser.add_argument("--save-filters", metavar="PATH.npz",
                        help="write the first run's first layer (filters, bias, gain) there, "
                             "with a record of the settings, versions and accuracies")
    for name, value in asdict(defaults).items():
        kwargs = dict(choices=LAB_CONVENTIONS) if name == "convention" else {}
        if isinstance(value, bool):  # argparse's type=bool would read "False" as true
            kwargs = dict(action=argparse.BooleanOptionalAction)
        else:
            kwargs["type"] = type(value)
        parser.add_argument(f"--{name.replace('_', '-')}", default=value, **kwargs)
    args = parser.parse_args(argv)
    return args, replace(defaults, **{k: getattr(args, k) for k in asdict(defaults)})


def main(argv: list[str] | None = None) -> None:
    args, config = parse_args(argv)
    print(f"{len(args.variants)} variants x {args.seeds} seeds, {config.epochs} epochs, "
          f"{config.train_size} training / {config.val_size} validation images of "
          f"{len(CLASSES)} shapes, {args.workers} runs at a time")
    print(f"LRN: convention={config.convention} n={config.n} k={config.k} alpha={config.alpha} "
          f"beta={config.beta}")
    started = time.perf_counter()
    # Two runs side by side on one thread each use both cores better than one run on two
    # threads: 4 variants x 1 seed took 11.8 s against 14.8 s here (2 cores).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        runs = _run_all(args, config)
    finally:
        torch.set_num_threads(threads)
    print(f"\n{'variant':<24}{'final val acc':>16}{'spread (±)':>12}{'s/epoch':>9}"
          f"{'s/run':>8}{'params':>9}")
    for s in summarise(runs):
        per_run = statistics.fmean(r.seconds for r in runs if r.variant == s.variant)
        print(f"{VARIANTS[s.variant]:<24}{100 * s.mean:>15.1f}%{100 * s.spread:>11.1f}%"
              f"{s.seconds_per_epoch:>9.2f}{per_run:>8.1f}{s.parameters:>9}")
    print(f"\n{verdict(summarise(runs))}")
    if args.save_filters:
        saved = runs[0]
        (same_variant,) = [s for s in summarise(runs) if s.variant == saved.variant]
        # The seeds' accuracies go with the file: a run of the same settings on another CPU
        # takes another trajectory (the kernels sum in another order, and SGD amplifies the
        # last bits), so what can be checked elsewhere is the accuracy against this spread.
        record = {"command": ["lrn-train", *(argv if argv is not None else sys.argv[1:])],
                  "variant": saved.variant, "seed": saved.seed, "config": asdict(config),
                  "val_acc": saved.epochs[-1].val_acc,
                  "seeds_val_acc": same_variant.final_val_acc, "spread": same_variant.spread,
                  "torch": torch.__version__, "numpy": np.__version__,
                  "python": platform.python_version(), "machine": platform.machine()}
        save_first_layer(args.save_filters, saved, config, record)
        print(f"first layer of {runs[0].variant} seed {runs[0].seed} written to {args.save_filters}")
    print(f"total {time.perf_counter() - started:.1f} s (spread: half the range over the seeds)")


if __name__ == "__main__":
    main()
