"""What the Explorer page computes, as plain functions of feature maps and settings.

One call into lrn_core per question; the page only draws the results.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch

from lrn_app.state import Explorer
from lrn_core import lrn, lrn_parts, resolve, translate


@dataclass
class Result:
    """Every quantity of one LRN pass over (C, H, W) features, as numpy arrays."""

    maps: dict[str, np.ndarray]  # input, S, denominator, output, gain
    zero_denominator: int  # cells where k = 0 and the whole window is zero (output 0 there)


def settings(state: Explorer) -> dict:
    return dict(size=state.n, alpha=state.alpha, beta=state.beta, k=state.k,
                mode=state.mode, convention=state.convention)


def run_lrn(features: np.ndarray, state: Explorer, device: str = "cpu") -> Result:
    x = torch.from_numpy(features).to(device)
    parts = lrn_parts(x, **settings(state))
    maps = {"input": features}
    for name in ("S", "denominator", "output", "gain"):
        maps[name] = getattr(parts, name).cpu().numpy()
    return Result(maps=maps, zero_denominator=int((parts.denominator == 0).sum()))


def channel_stats(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Per channel: mean and std of the output, its max, and the share of values
    that LRN changed by more than 1% (of the input's magnitude). In float64: with k = 0 a
    near-empty window can give float32 outputs whose squares overflow."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    changed = np.abs(y - x) > 0.01 * np.abs(x)
    return {
        "mean in": x.mean(axis=(1, 2)), "mean out": y.mean(axis=(1, 2)),
        "std out": y.std(axis=(1, 2)), "max out": y.max(axis=(1, 2)),
        "changed > 1%": changed.mean(axis=(1, 2)),
    }


def shuffle_effect(
    features: np.ndarray, state: Explorer, seed: int = 0
) -> tuple[np.ndarray, float]:
    """Across-channel LRN depends on the (arbitrary) order of the channels: apply it to a
    shuffled order, undo the shuffle, and return |difference| per pixel and its largest
    value relative to the output's largest."""
    x = torch.from_numpy(features)
    order = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    plain = lrn(x, **settings(state))
    shuffled = torch.empty_like(plain)
    shuffled[order] = lrn(x[order], **settings(state))
    diff = (shuffled - plain).abs()
    return diff.numpy(), float(diff.max() / plain.abs().max().clamp_min(1e-30))


@dataclass
class PixelWindow:
    """The arithmetic of one output value, for a student to follow."""

    labels: list[str]  # what each window position is (channel or pixel)
    squares: np.ndarray  # x² at each window position (0 outside the tensor)
    centre: int  # index of the pixel itself in the flattened window
    origin: tuple[int, int]  # (row, col) of the window's top-left (within mode)
    x: float
    S: float
    a: float
    D: float  # k + a*S
    gain: float
    y: float


def inspect_pixel(
    features: np.ndarray, state: Explorer, channel: int, row: int, col: int
) -> PixelWindow:
    w = resolve(state.n, state.alpha, state.beta, state.k, mode=state.mode,
                convention=state.convention)
    C, H, W = features.shape
    if state.mode == "across":
        idx = range(channel - w.before, channel + w.after + 1)
        squares = np.array([features[c, row, col] ** 2 if 0 <= c < C else 0.0 for c in idx])
        labels = [f"ch {c}" if 0 <= c < C else f"({c}: pad)" for c in idx]
        centre, origin = w.before, (row, col)
    else:
        rows = range(row - w.before, row + w.after + 1)
        cols = range(col - w.before, col + w.after + 1)
        squares = np.array([[features[channel, r, c] ** 2 if 0 <= r < H and 0 <= c < W else 0.0
                             for c in cols] for r in rows])
        labels = [f"({r}, {c})" for r in rows for c in cols]
        centre, origin = w.before * len(cols) + w.before, (rows[0], cols[0])
    S = float(squares.sum())
    D = w.k + w.a * S
    gain = D ** -w.beta if D > 0 else 0.0
    x = float(features[channel, row, col])
    return PixelWindow(labels, squares, centre, origin, x, S, w.a, D, gain, x * gain)


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def code_snippets(state: Explorer) -> dict[str, str]:
    """Code that reproduces the current settings in PyTorch and TensorFlow, or why it can't."""
    params = dict(size=state.n, alpha=state.alpha, beta=state.beta, k=state.k)
    out = {}
    if state.mode == "within":
        w = resolve(state.n, state.alpha, state.beta, state.k, mode="within",
                    convention=state.convention)
        if w.before == w.after:
            out["PyTorch"] = (
                "import torch.nn.functional as F\n"
                f"# {state.convention} within-channel LRN, n={state.n}: "
                f"a {w.taps} x {w.taps} window\n"
                f"S = F.avg_pool2d(x * x, {w.taps}, stride=1, padding={w.before}, "
                f"count_include_pad=True) * {w.taps * w.taps}\n"
                f"y = x * ({w.k!r} + {w.a!r} * S) ** -{w.beta!r}"
            )
        else:
            out["PyTorch"] = ("# PyTorch has no within-channel LRN, and this window is "
                              "asymmetric, so avg_pool2d cannot express it either.")
        out["TensorFlow"] = "# TensorFlow has no within-channel LRN."
        return out
    try:
        p = translate(params, state.convention, "pytorch")
        out["PyTorch"] = (
            "import torch\n"
            f"lrn = torch.nn.LocalResponseNorm(size={p['size']}, alpha={p['alpha']!r}, "
            f"beta={p['beta']!r}, k={p['k']!r})\ny = lrn(x)  # x: (N, C, H, W)"
        )
    except ValueError as err:
        out["PyTorch"] = f"# No exact PyTorch equivalent: {err}"
    try:
        t = translate(params, state.convention, "tensorflow")
        out["TensorFlow"] = ("import tensorflow as tf\n"
                             f"y = tf.nn.local_response_normalization(x, depth_radius={t['size']}, "
                             f"bias={t['k']!r}, alpha={t['alpha']!r}, beta={t['beta']!r})"
                             "  # x: (N, H, W, C)")
    except ValueError as err:
        out["TensorFlow"] = f"# No exact TensorFlow equivalent: {err}"
    return out
