"""One training run of the labs' network (lrn_lab.network) on the shapes (lrn_lab.shapes):
its configuration, data splits, schedule, the Trainer that steps it epoch by epoch, its
final figures, and a run as plain data. The protocol that chooses each variant's rate from
many runs is lrn_lab.train.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lrn_core.conventions import conventions_for

from .landscape import Probe, probe, probed_layer
from .network import CALIBRATION_IMAGES, calibrate, make_model
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


_INIT_LOCK = threading.Lock()
_DATA: dict[tuple, tuple] = {}  # the splits, standardised, by their settings


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
        for p in self.model.parameters():
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


def run_dict(run: Run) -> dict:
    return {"variant": run.variant, "seed": run.seed, "diverged": run.diverged,
            "epochs": [asdict(e) for e in run.epochs], "final": run.final,
            "alphas": run.alphas, "scales": run.scales, "parameters": run.parameters}


def run_from_dict(d: dict) -> Run:
    final = {stats: {split: tuple(v) for split, v in by_split.items()}
             for stats, by_split in d["final"].items()}
    return Run(d["variant"], d["seed"], [Epoch(**e) for e in d["epochs"]], d["diverged"],
               parameters=d["parameters"], alphas=d["alphas"], scales=d["scales"], final=final)
