"""The LRN tutorials' own small examples, live: an editable tensor, its output, the window of
one output and that output's arithmetic (shared/design/lrn-conventions.md, worked examples).

Each example is a grid of numbers a student edits: one row of channels (across channels),
one feature map (within a channel), or TensorFlow's NHWC tensor with one row per pixel and
one column per channel. Every output comes from lrn_core. No UI code here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lrn_core import lrn, resolve

MAX_ABS = 1e6  # an edited value beyond this is clipped: the point is the arithmetic


@dataclass(frozen=True)
class Example:
    """One tutorial's example: its setting, in its convention's terms, and its tensor."""

    title: str
    source: str  # who shows it, and what they print
    convention: str
    mode: str
    params: dict  # size (depth_radius for tensorflow), alpha, beta, k
    default: tuple  # the grid as rows of numbers
    row_labels: tuple
    col_labels: tuple

    def grid(self) -> np.ndarray:
        return np.array(self.default, dtype=np.float64)

    def window(self):
        return resolve(self.params["size"], self.params["alpha"], self.params["beta"],
                       self.params["k"], mode=self.mode, convention=self.convention)


EXAMPLES = {
    "across": Example(
        title="Across channels: four channels at one pixel",
        source="An LRN tutorial's inter-channel example in the AlexNet paper's notation: "
               "(k, α, β, n) = (0, 1, 1, 2), so the window is the channel and one neighbour "
               "each side, α not divided. Channel 0 has the value 1 and its only neighbour is "
               "1: y = 1 / (1² + 1²) = 0.5.",
        convention="alexnet", mode="across", params=dict(size=2, alpha=1.0, beta=1.0, k=0.0),
        default=((1.0, 1.0, 0.5, 2.0),), row_labels=("x",),
        col_labels=tuple(f"ch {c}" for c in range(4))),
    "within": Example(
        title="Within a channel: one 5 x 5 feature map",
        source="The same tutorial's intra-channel example: n = 2 in the paper's notation "
               "extended to space, a 3 x 3 window around each pixel, (k, α, β) = (0, 1, 1).",
        convention="alexnet", mode="within", params=dict(size=2, alpha=1.0, beta=1.0, k=0.0),
        default=((1, 0, 0, 0, 1), (0, 2, 1, 0, 0), (0, 1, 3, 1, 0), (0, 0, 1, 2, 0),
                 (1, 0, 0, 0, 1)),
        row_labels=tuple(f"row {r}" for r in range(5)),
        col_labels=tuple(f"col {c}" for c in range(5))),
    "tensorflow": Example(
        title="TensorFlow: arange(1, 33) as an NHWC tensor (2, 2, 2, 4)",
        source="A tutorial prints tf.nn.lrn(x, depth_radius=2, bias=1, alpha=1, beta=0.75) "
               "for this x; its first row is 0.13119929 0.15223296 0.22834945 0.3120463. "
               "One row per pixel (image n, row h, column w), one column per channel.",
        convention="tensorflow", mode="across",
        params=dict(size=2, alpha=1.0, beta=0.75, k=1.0),
        default=tuple(tuple(float(v) for v in range(1 + 4 * r, 5 + 4 * r)) for r in range(8)),
        row_labels=tuple(f"n={n} h={h} w={w}" for n in range(2) for h in range(2)
                         for w in range(2)),
        col_labels=tuple(f"ch {c}" for c in range(4))),
}


def clean(example: Example, grid) -> tuple[np.ndarray, int]:
    """The grid as finite float64 numbers of the example's shape, and how many cells had to
    be repaired (empty or not a number: 0; beyond MAX_ABS: clipped)."""
    raw = np.array(grid, dtype=object).reshape(example.grid().shape)
    values = np.zeros(raw.shape)
    repaired = 0
    for index, value in np.ndenumerate(raw):
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = float("nan")
        if not np.isfinite(number):
            repaired += 1
            number = 0.0
        elif abs(number) > MAX_ABS:
            repaired += 1
            number = float(np.clip(number, -MAX_ABS, MAX_ABS))
        values[index] = number
    return values, repaired


def _as_tensor(example: Example, grid: np.ndarray) -> torch.Tensor:
    """The grid as lrn_core's (N, C, H, W) input."""
    x = torch.from_numpy(grid)
    if example.mode == "within":
        return x[None, None]  # one image, one channel
    if example.convention == "tensorflow":
        return x.reshape(2, 2, 2, 4).permute(0, 3, 1, 2)  # NHWC -> NCHW
    return x.T[None, :, :, None]  # a row of channels at one pixel


def _from_tensor(example: Example, y: torch.Tensor) -> np.ndarray:
    if example.mode == "within":
        return y[0, 0].numpy()
    if example.convention == "tensorflow":
        return y.permute(0, 2, 3, 1).reshape(8, 4).numpy()
    return y[0, :, :, 0].T.numpy()


def compute(example: Example, grid: np.ndarray) -> np.ndarray:
    """The example's output grid, by lrn_core (which sets 0 / 0, k = 0 with an all-zero
    window, to 0)."""
    p = example.params
    with torch.no_grad():
        y = lrn(_as_tensor(example, grid), p["size"], p["alpha"], p["beta"], p["k"],
                mode=example.mode, convention=example.convention)
    return _from_tensor(example, y)


def window_cells(example: Example, row: int, col: int) -> list[tuple[int, int]]:
    """The grid cells whose squares enter the sum S of output (row, col)."""
    w = example.window()
    rows, cols = example.grid().shape
    if example.mode == "within":
        return [(r, c) for r in range(row - w.before, row + w.after + 1)
                for c in range(col - w.before, col + w.after + 1)
                if 0 <= r < rows and 0 <= c < cols]
    return [(row, c) for c in range(col - w.before, col + w.after + 1) if 0 <= c < cols]


def arithmetic(example: Example, grid: np.ndarray, row: int, col: int) -> str:
    """Output (row, col) written out, number by number, as plain text."""
    w = example.window()
    cells = window_cells(example, row, col)
    squares = " + ".join(f"{grid[r, c]:g}²" for r, c in cells)
    S = float(sum(grid[r, c] ** 2 for r, c in cells))
    D = w.k + w.a * S
    x = float(grid[row, col])
    y = compute(example, grid)[row, col]
    result = f"{y:.6g}" if D else "0 / 0, which lrn_core sets to 0"
    return (f"S = {squares} = {S:g};   y = x / (k + a·S)^β = {x:g} / ({w.k:g} + {w.a:g} × {S:g})"
            f"^{w.beta:g} = {x:g} / {D:g}^{w.beta:g} = {result}")


def changed(before: np.ndarray | None, after: np.ndarray) -> np.ndarray:
    """Which outputs differ from ``before`` (none when there is no before)."""
    if before is None or before.shape != after.shape:
        return np.zeros(after.shape, dtype=bool)
    return ~np.isclose(before, after, rtol=1e-12, atol=0.0, equal_nan=True)
