"""What the Conventions page computes: one LRN setting in every library's terms, checked on
real data; the conventions' worked examples run live; the peers' known defects; and the LRN
tutorials' own small examples, live.

The tutorials' examples are grids of numbers a student edits: one row of channels (across
channels), one feature map (within a channel), or TensorFlow's NHWC tensor with one row per
pixel and one column per channel; for one output, its window and its arithmetic.

The facts are docs/conventions.md's; every number is computed by lrn_core. No Streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from lrn_core import conventions_for, lrn, resolve, translate
from lrn_core.conventions import describe_window
from lrn_core.conventions import get as get_convention


def translations(params: dict, source: str, mode: str) -> list[dict]:
    """A row per convention with the mode: its equivalent parameters, or why none exists."""
    rows = []
    for target in conventions_for(mode):
        conv = get_convention(target)
        try:  # the source keeps the numbers entered (AlexNet's n=4 and n=5 are one window)
            t = params if target == source else translate(params, source, target, mode=mode)
        except ValueError as err:
            rows.append({"convention": target, "parameters": "no exact equivalent",
                         "window": "", "why not": str(err)})
            continue
        w = resolve(t["size"], t["alpha"], t["beta"], t["k"], mode=mode, convention=target)
        rows.append({"convention": target,
                     "parameters": f"{conv.size_name}={t['size']}, alpha={t['alpha']:.6g}, "
                                   f"beta={t['beta']:g}, k={t['k']:g}",
                     "window": describe_window(w.before, w.after, mode), "why not": ""})
    return rows


@dataclass
class Agreement:
    """The largest pairwise difference between the conventions' outputs on one input."""

    names: list[str]  # conventions that could run
    matrix: np.ndarray  # [i, j]: max |y_i - y_j| / max |y of the source convention|
    missing: dict[str, str]  # convention -> why it could not run
    # name -> its cells that are NaN, left out of its differences. Only torch's own can have
    # them: with k = 0 an all-zero window gives it 0 / 0, where lrn_core defines 0.
    undefined: dict[str, int] = field(default_factory=dict)


def agreement(features: np.ndarray, params: dict, source: str, mode: str,
              translated: bool) -> Agreement:
    """Every convention on the same (C, H, W) input, given either the translated parameters
    (``translated``) or the very same numbers, as a naive port would."""
    x = torch.from_numpy(features)
    outputs, missing = {}, {}
    for target in conventions_for(mode):
        try:
            p = translate(params, source, target, mode=mode) if translated else params
            outputs[target] = lrn(x, **p, mode=mode, convention=target)
        except ValueError as err:
            missing[target] = str(err)
    # All of the above run lrn_core; torch's own computation is the outside witness.
    try:
        outputs[TORCH_OWN] = torch_own(x, params, source, mode, translated)
    except ValueError as err:
        missing[TORCH_OWN] = str(err)
    names = list(outputs)
    undefined = {name: n for name, y in outputs.items() if (n := int(torch.isnan(y).sum()))}
    scale = float(outputs[source].nan_to_num().abs().max()) if source in outputs else 1.0
    # Each pair once (the matrix is symmetric, its diagonal 0), through one reused buffer:
    # a fresh tensor per difference cost more in page faults than the arithmetic.
    matrix = np.zeros((len(names), len(names)))
    difference = torch.empty_like(x)
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            torch.sub(outputs[a], outputs[names[j]], out=difference)
            if a in undefined or names[j] in undefined:  # rare (k = 0): a NaN is no difference
                difference.nan_to_num_(nan=0.0)
            matrix[i, j] = matrix[j, i] = float(difference.abs_().max()) / (scale or 1.0)
    return Agreement(names, matrix, missing, undefined)


TORCH_OWN = "torch's own"  # a short label: F.local_response_norm, or the avg_pool2d formula


def torch_own(x: torch.Tensor, params: dict, source: str, mode: str,
                 translated: bool) -> torch.Tensor:
    """The setting computed by torch's own code rather than lrn_core's: PyTorch's LRN across
    channels; within a channel, the avg_pool2d formula (docs/conventions.md) for the
    alpha / n^2 libraries,
    x * (k + alpha * avg_pool2d(x^2, n, padding=(n-1)/2, count_include_pad)) ** -beta.
    ``translated``: first translate into that convention (else: the same numbers)."""
    target = "pytorch" if mode == "across" else "opencv"  # opencv: alpha / n^2, centred, k used
    p = translate(params, source, target, mode=mode) if translated else params
    resolve(p["size"], p["alpha"], p["beta"], p["k"], mode=mode, convention=target)
    if mode == "across":
        return F.local_response_norm(x[None], p["size"], p["alpha"], p["beta"], p["k"])[0]
    n = p["size"]
    mean_square = F.avg_pool2d((x * x)[None], n, stride=1, padding=(n - 1) // 2,
                               count_include_pad=True)[0]
    return x * (p["k"] + p["alpha"] * mean_square) ** -p["beta"]


@dataclass
class WorkedExample:
    name: str
    setting: str
    expected: np.ndarray
    computed: np.ndarray

    @property
    def max_error(self) -> float:
        return float(np.abs(self.expected - self.computed).max())


def worked_examples() -> list[WorkedExample]:
    """The worked examples of docs/conventions.md, each computed now by lrn_core."""
    # TensorFlow: x = arange(1, 33) as NHWC (2, 2, 2, 4); tf.nn.lrn(x, 2, bias=1, alpha=1,
    # beta=0.75); the tutorial prints its first row.
    nhwc = torch.arange(1, 33, dtype=torch.float64).reshape(2, 2, 2, 4)
    y = lrn(nhwc.permute(0, 3, 1, 2), 2, alpha=1.0, beta=0.75, k=1.0, convention="tensorflow")
    tf_row = y.permute(0, 2, 3, 1)[0, 0, 0].numpy()
    # The paper's convention with (k, alpha, beta, n) = (0, 1, 1, 2): a channel of value 1
    # whose only neighbour is 1 gives 1 / (1^2 + 1^2).
    pair = torch.ones(2, 1, 1, dtype=torch.float64)
    half = lrn(pair, 2, alpha=1.0, beta=1.0, k=0.0, convention="alexnet")[0].flatten().numpy()
    # The paper's values in PyTorch's and TensorFlow's terms.
    paper = dict(size=5, alpha=1e-4, beta=0.75, k=2.0)
    pt, tf = translate(paper, "alexnet", "pytorch"), translate(paper, "alexnet", "tensorflow")
    return [
        WorkedExample("TensorFlow tutorial", "tf.nn.lrn(arange(1, 33) as NHWC (2, 2, 2, 4), "
                      "depth_radius=2, bias=1, alpha=1, beta=0.75), first row",
                      np.array([0.13119929, 0.15223296, 0.22834945, 0.3120463]), tf_row),
        WorkedExample("AlexNet notation", "(k, alpha, beta, n) = (0, 1, 1, 2), value 1 with one "
                      "neighbour of 1", np.array([0.5]), half),
        WorkedExample("AlexNet paper values", "k=2, n=5, alpha=1e-4, beta=0.75 as PyTorch "
                      "(size, alpha, beta, k) and TensorFlow (depth_radius, alpha, bias, beta)",
                      np.array([5, 5e-4, 0.75, 2, 2, 1e-4, 2, 0.75]),
                      np.array([pt["size"], pt["alpha"], pt["beta"], pt["k"],
                                tf["size"], tf["alpha"], tf["k"], tf["beta"]])),
    ]


def cross_map_defect() -> dict[str, np.ndarray] | None:
    """torch.nn.CrossMapLRN2d against F.local_response_norm and lrn_core on all-ones input
    (6 channels, size 3): the legacy module's sums reach one channel too far. None where
    this torch has no CrossMapLRN2d."""
    if not hasattr(torch.nn, "CrossMapLRN2d"):
        return None
    x = torch.ones(1, 6, 1, 1)
    args = dict(alpha=3.0, beta=1.0, k=1.0)
    return {"lrn_core (pytorch)": lrn(x, 3, **args).flatten().numpy(),
            "F.local_response_norm": F.local_response_norm(x, 3, **args).flatten().numpy(),
            "nn.CrossMapLRN2d": torch.nn.CrossMapLRN2d(3, **args)(x).flatten().numpy()}


PEER_DEFECTS = {  # docs/conventions.md, each in a sentence
    "torch.nn.CrossMapLRN2d (legacy)": "An off-by-one in its forward lets channel 0 leak into "
        "the sums of channels from pre_pad on, so it disagrees with F.local_response_norm; "
        "never use it as a reference (shown live below).",
    "ONNX's Python reference evaluator (onnx 1.23)": "Its LRN loops over the batch axis "
        "instead of the channel axis, so channels past the batch size come out unnormalised.",
    "tf.keras.layers.LocalResponseNormalization": "It does not exist, although tutorials "
        "use it; Keras users wrap tf.nn.local_response_normalization in a Lambda layer.",
    "Caffe's layer documentation": "It gives a wrong default for beta and leaves k out of "
        "its formula; the code (LRNParameter) is the truth.",
    "OpenCV dnn reading a Caffe model": "It looks for a parameter named bias, which Caffe's "
        "LRNParameter does not have, so every imported Caffe LRN runs with k = 1.",
    "ONNX Runtime's CPU kernel": "It accepts only odd sizes, although the ONNX specification "
        "defines even ones, so an even-size ONNX LRN fails to load there.",
}


# --- the tutorials' own small examples --------------------------------------------------------

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
