"""What the LRN vs BatchNorm page computes: both normalisations of one batch, and the
measurements that tell them apart. Plain functions of arrays and settings, no UI.

BatchNorm's running statistics start where torch's do (mean 0, variance 1) and are moved
by ``warmup`` training-mode passes, each over a random half of the batch, as a network's
training would move them; evaluation mode then uses them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from lrn_app.inputs.batch import relative_change as relative_change_of_arrays
from lrn_core import LocalResponseNorm, batch_norm, lrn, resolve
from lrn_core.conventions import describe_window


@dataclass(frozen=True)
class BatchNormSettings:
    training: bool = True
    gamma: float = 1.0  # scale
    shift: float = 0.0
    eps: float = 1e-5
    momentum: float = 0.1
    warmup: int = 10


def running_statistics(x: torch.Tensor, bn: BatchNormSettings, seed: int = 0):
    """(running_mean, running_var) after ``bn.warmup`` training steps on random halves of x."""
    C = x.shape[1]
    mean, var = torch.zeros(C, dtype=x.dtype), torch.ones(C, dtype=x.dtype)
    generator = torch.Generator().manual_seed(seed)
    half = max(1, (x.shape[0] + 1) // 2)
    for _ in range(bn.warmup):
        pick = torch.randperm(x.shape[0], generator=generator)[:half]
        batch_norm(x[pick], mean, var, training=True, momentum=bn.momentum, eps=bn.eps)
    return mean, var


def apply_batchnorm(x: torch.Tensor, bn: BatchNormSettings, stats, training: bool) -> torch.Tensor:
    """lrn_core.batch_norm with the page's scale and shift; ``stats`` are used in eval mode
    (copies: a training pass would move them)."""
    C = x.shape[1]
    mean, var = (s.clone() for s in stats)
    return batch_norm(x, mean, var, torch.full((C,), bn.gamma, dtype=x.dtype),
                      torch.full((C,), bn.shift, dtype=x.dtype), training=training,
                      momentum=bn.momentum, eps=bn.eps)


@dataclass
class Comparison:
    """One image of the batch: its features, after LRN and after BatchNorm, (C, H, W) each,
    and what swapping its batch-mates or the mode does to each."""

    maps: dict[str, np.ndarray]  # "input", "LRN", "BatchNorm"
    swapped_batchnorm: np.ndarray  # BatchNorm's output for it with the other batch-mates
    swap_change: dict[str, float]  # method -> max |change| / max |output| after the swap
    train_eval_change: float  # BatchNorm: max |train - eval| / max |train output|
    stats: tuple  # the running (mean, var) after the warm-up, for properties() to reuse


def relative_change(a: torch.Tensor, b: torch.Tensor) -> float:
    return relative_change_of_arrays(a.numpy(), b.numpy())


@dataclass
class BatchNormSide:
    """What the comparison shows of BatchNorm: it does not depend on LRN's settings, so the
    page computes it once per batch and BatchNorm settings, not on every LRN slider move."""

    output: np.ndarray  # (C, H, W): image ``chosen`` after BatchNorm
    swapped: np.ndarray  # the same image with the other batch-mates
    swap_change: float
    train_eval_change: float
    stats: tuple


def batchnorm_side(batch: np.ndarray, chosen: int, swap_mates: np.ndarray,
                   bn: BatchNormSettings) -> BatchNormSide:
    x = torch.from_numpy(batch)
    swapped = torch.cat([x[chosen:chosen + 1], torch.from_numpy(swap_mates)])
    stats = running_statistics(x, bn)  # training so far: the same for both batches
    bn_out = apply_batchnorm(x, bn, stats, bn.training)[chosen]
    bn_swapped = apply_batchnorm(swapped, bn, stats, bn.training)[0]
    other_mode = apply_batchnorm(x, bn, stats, not bn.training)[chosen]
    train, evaluation = (bn_out, other_mode) if bn.training else (other_mode, bn_out)
    return BatchNormSide(bn_out.numpy(), bn_swapped.numpy(), relative_change(bn_out, bn_swapped),
                         relative_change(train, evaluation), stats)


def compare(batch: np.ndarray, chosen: int, swap_mates: np.ndarray, lrn_args: dict,
            bn: BatchNormSettings, bn_side: BatchNormSide | None = None) -> Comparison:
    """LRN and BatchNorm on an (N, C, H, W) batch, looked at for image ``chosen``; the swap
    demo replaces every other image by ``swap_mates`` (M, C, H, W). ``bn_side``: BatchNorm's
    part, when the caller has it already (batchnorm_side of the same arguments)."""
    side = bn_side or batchnorm_side(batch, chosen, swap_mates, bn)
    x = torch.from_numpy(batch)
    # Both batches whole: the swap's change to LRN is measured, not assumed to be 0.
    lrn_out = lrn(x, **lrn_args)[chosen]
    lrn_swapped = lrn(torch.cat([x[chosen:chosen + 1], torch.from_numpy(swap_mates)]),
                      **lrn_args)[0]
    return Comparison(
        maps={"input": batch[chosen], "LRN": lrn_out.numpy(), "BatchNorm": side.output},
        swapped_batchnorm=side.swapped,
        swap_change={"LRN": relative_change(lrn_out, lrn_swapped), "BatchNorm": side.swap_change},
        train_eval_change=side.train_eval_change, stats=side.stats)


def histograms(
    maps: dict[str, np.ndarray], bins: int = 80
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Counts of each array's finite values over one shared set of bin edges."""
    values = {name: a[np.isfinite(a)] for name, a in maps.items()}
    low = min(float(v.min()) for v in values.values() if v.size)
    high = max(float(v.max()) for v in values.values() if v.size)
    edges = np.linspace(low, high if high > low else low + 1.0, bins + 1)
    return edges, {name: np.histogram(v, edges)[0] for name, v in values.items()}


def channel_moments(maps: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Per channel of each (C, H, W) array: its mean and standard deviation (float64)."""
    return {name: {"mean": a.astype(np.float64).mean(axis=(1, 2)),
                   "std": a.astype(np.float64).std(axis=(1, 2))} for name, a in maps.items()}


# --- the properties table ---------------------------------------------------------------------

def _group_count(channels: int) -> int:
    return next(g for g in (4, 2, 1) if channels % g == 0)


NORMALISATIONS = ("LRN", "BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm")  # the table's


def _modules(shape, lrn_args: dict, bn: BatchNormSettings, stats,
             names=NORMALISATIONS) -> dict[str, torch.nn.Module]:
    """The normalisations ``names`` of the table, built as torch modules for a (C, H, W)
    shape."""
    C, H, W = shape

    def batchnorm():
        module = torch.nn.BatchNorm2d(C, eps=bn.eps, momentum=bn.momentum)
        with torch.no_grad():
            module.weight.fill_(bn.gamma)
            module.bias.fill_(bn.shift)
            module.running_mean.copy_(stats[0])
            module.running_var.copy_(stats[1])
        return module
    build = {"LRN": lambda: LocalResponseNorm(**lrn_args), "BatchNorm": batchnorm,
             "LayerNorm": lambda: torch.nn.LayerNorm([C, H, W]),
             "InstanceNorm": lambda: torch.nn.InstanceNorm2d(C),
             "GroupNorm": lambda: torch.nn.GroupNorm(_group_count(C), C)}
    return {name: build[name]() for name in names}


def _normalised_over(name: str, C: int, lrn_args: dict) -> str:
    if name == "LRN":
        w = resolve(**lrn_args)
        return (f"{describe_window(w.before, w.after, w.mode)} at one pixel of one image"
                if w.mode == "across" else
                f"{describe_window(w.before, w.after, w.mode)} of one channel of one image")
    return {
        "BatchNorm": "each channel over every image and pixel of the batch (train); running "
                     "averages of that (eval)",
        "LayerNorm": "all channels and pixels of one image",
        "InstanceNorm": "each channel over the pixels of one image",
        "GroupNorm": f"groups of {C // _group_count(C)} channels over the pixels of one image",
    }[name]


def _output(module: torch.nn.Module, x: torch.Tensor, training: bool) -> torch.Tensor:
    module = copy.deepcopy(module)  # a training pass moves BatchNorm's running statistics
    module.train(training)
    with torch.no_grad():
        return module(x)


def properties(batch: np.ndarray, chosen: int, swap_mates: np.ndarray, lrn_args: dict,
               bn: BatchNormSettings, stats: tuple | None = None, crop: int = 32,
               names=NORMALISATIONS) -> list[dict]:
    """A row per normalisation: trainable parameters at the page's image size, what it
    normalises over, and two behaviours measured (not asserted) on the batch: does image
    ``chosen``'s output change when its batch-mates are swapped (in training mode), and do
    training and evaluation mode differ. Measured on a central crop, for speed. ``stats``:
    the running statistics if already computed (``Comparison.stats``). ``names``: the rows
    wanted (only LRN's depends on ``lrn_args``: the page caches the others)."""
    N, C, H, W = batch.shape
    top, left = max(0, (H - crop) // 2), max(0, (W - crop) // 2)
    x = torch.from_numpy(batch[:, :, top:top + crop, left:left + crop]).contiguous()
    swapped = torch.cat([x[chosen:chosen + 1], torch.from_numpy(
        swap_mates[:, :, top:top + crop, left:left + crop]).contiguous()])
    if stats is None:
        stats = running_statistics(torch.from_numpy(batch), bn)
    full_size = _modules((C, H, W), lrn_args, bn, stats, names)
    rows = []
    for name, module in _modules(tuple(x.shape[1:]), lrn_args, bn, stats, names).items():
        trained = _output(module, x, True)[chosen]
        batch_change = relative_change(trained, _output(module, swapped, True)[0])
        mode_change = relative_change(trained, _output(module, x, False)[chosen])
        rows.append({
            "normalisation": name,
            "trainable parameters": sum(p.numel() for p in full_size[name].parameters()),
            "normalises over": _normalised_over(name, C, lrn_args),
            "output depends on other images": _verdict(batch_change),
            "train and eval differ": _verdict(mode_change),
        })
    return rows


def _verdict(change: float) -> str:
    return "yes" if change > 1e-6 else "no"  # the size of the change: the page's metrics
