"""What the Gradients page computes: dL/dx of LRN and BatchNorm, checked against autograd.

Every gradient shown comes from lrn_core's closed forms (``lrn_backward``,
``batch_norm_backward``); autograd through ``lrn_reference`` and ``F.batch_norm``
only checks them. Checks run in float64, so agreement means the formula is right,
not merely that two float32 roundings are close.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from lrn_app.inputs.batch import relative_change
from lrn_core import batch_norm, batch_norm_backward, lrn, lrn_backward, lrn_reference, resolve

LOSSES = {  # name -> the loss, as shown on the page
    "sum": r"L = \sum y",
    "squared norm": r"L = \sum y^2",
    "one value": r"L = y_{c,r,s}",
}


def output_gradient(y: torch.Tensor, loss: str, channel: int, row: int, col: int) -> torch.Tensor:
    """dL/dy for a (C, H, W) output y."""
    if loss == "sum":
        return torch.ones_like(y)
    if loss == "squared norm":
        return 2 * y
    if loss == "one value":
        g = torch.zeros_like(y)
        g[channel, row, col] = 1.0
        return g
    raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(LOSSES)}")


def pick_pixel(features: np.ndarray, channel: int, row: int, col: int) -> tuple[int, int]:
    """(row, col) inside the maps; -1 in either means where the channel is strongest."""
    _, H, W = features.shape
    if row < 0 or col < 0:
        peak_row, peak_col = np.unravel_index(np.argmax(features[channel]), (H, W))
        return int(peak_row), int(peak_col)
    return min(row, H - 1), min(col, W - 1)


@dataclass
class Checked:
    """A gradient by the closed form, and how far autograd is from it."""

    grad: np.ndarray  # dL/dx, float32, shaped like the input
    max_diff: float  # largest |closed form - autograd| over the cells autograd defines
    scale: float  # largest |dL/dx|, to read max_diff against
    undefined: int  # cells left out: autograd gives NaN there (k = 0, all-zero window)


def _checked(closed: torch.Tensor, auto: torch.Tensor) -> Checked:
    """The closed form's gradient, and how far autograd's (overwritten here) is from it."""
    defined = torch.isfinite(auto)
    undefined = int(defined.numel() - defined.sum())
    diff = auto.sub_(closed).abs_()  # in place: autograd's result is not needed after this
    if undefined:  # masked to 0 rather than indexed out: no copy of the defined cells
        diff.masked_fill_(~defined, 0.0)
    return Checked(grad=closed.float().numpy(), max_diff=float(diff.max()) if diff.numel() else 0.0,
                   scale=float(closed.abs().max()), undefined=undefined)


def lrn_gradient(features: np.ndarray, lrn_args: dict, loss: str, channel: int, row: int,
                 col: int) -> Checked:
    """dL/dx of LRN on (C, H, W) features: closed form, checked against autograd."""
    closed = closed_lrn_gradient(features, lrn_args, loss, channel, row, col)
    return check_lrn_gradient(features, lrn_args, loss, channel, row, col, closed)


def closed_lrn_gradient(features: np.ndarray, lrn_args: dict, loss: str, channel: int,
                        row: int, col: int) -> np.ndarray:
    """dL/dx of LRN on (C, H, W) features by the closed form, in float64 (for its check)."""
    x = torch.from_numpy(features).double()
    return lrn_backward(x, output_gradient(lrn(x, **lrn_args), loss, channel, row, col),
                        **lrn_args).numpy()


def check_lrn_gradient(features: np.ndarray, lrn_args: dict, loss: str, channel: int, row: int,
                       col: int, closed: np.ndarray) -> Checked:
    """The closed form's gradient (``closed_lrn_gradient`` of the same arguments) against
    autograd through ``lrn_reference``, in float64. Apart, so that the page can draw the
    gradient before the check: the browser draws it while the server checks it."""
    x = torch.from_numpy(features).double()
    g = output_gradient(lrn(x, **lrn_args), loss, channel, row, col)  # the closed form's dL/dy
    x.requires_grad_()
    (auto,) = torch.autograd.grad(lrn_reference(x, **lrn_args), x, g)
    return _checked(torch.from_numpy(closed), auto)


@dataclass
class Jacobian:
    """d y[c, r, s] / d x over the neighbourhood that can influence it."""

    values: np.ndarray  # across: (channels,); within: (rows, cols)
    labels: list[str]  # across: the channels; within: unused
    origin: tuple[int, int]  # within: (row, col) of values[0, 0]
    centre: float  # d y / d x at the same position: the unit's own slope


def jacobian(features: np.ndarray, lrn_args: dict, channel: int, row: int, col: int,
             margin: int = 2, reach: int | None = None) -> Jacobian:
    """One row of LRN's Jacobian, by the closed-form backward of a one-hot dL/dy.

    ``margin`` extra positions beyond the window on each side show that it is zero there;
    ``reach``, if given, fixes the neighbourhood instead, that many positions each side (the
    scrub view's frames share one while the window's size changes). y[c, r, s] reads only
    the inputs of its own window, so the backward runs on the part of the maps that holds it
    (the image's own borders kept): exact, and about ten times cheaper than on every pixel
    of every channel. A fixed ``reach`` must hold the window.
    """
    C, H, W = features.shape
    w = resolve(**lrn_args)
    # y_c reads the inputs of its own window, c - before .. c + after.
    reach_low, reach_high = w.before + margin, w.after + margin
    if reach is not None:
        if reach < max(w.before, w.after):
            raise ValueError(f"reach {reach} does not hold the window ({w.before} before, "
                             f"{w.after} after)")
        reach_low = reach_high = reach
    if w.mode == "across":  # one pixel, every channel
        part, at = features[:, row:row + 1, col:col + 1], (channel, 0, 0)
    else:  # one channel, the pixels around (row, col)
        r0, c0 = max(0, row - reach_low), max(0, col - reach_low)
        part = features[channel:channel + 1, r0:min(H, row + reach_high + 1),
                        c0:min(W, col + reach_high + 1)]
        at = (0, row - r0, col - c0)
    x = torch.from_numpy(np.ascontiguousarray(part)).double()
    row_of_J = lrn_backward(x, output_gradient(x, "one value", *at), **lrn_args).float().numpy()
    centre = float(row_of_J[at])
    if w.mode == "across":
        channels = range(max(0, channel - reach_low), min(C, channel + reach_high + 1))
        return Jacobian(values=row_of_J[list(channels), 0, 0],
                        labels=[f"ch {c}" for c in channels], origin=(row, col), centre=centre)
    return Jacobian(values=row_of_J[0], labels=[], origin=(r0, c0), centre=centre)


def batchnorm_gradient(batch: np.ndarray, loss: str, channel: int, row: int, col: int,
                       eps: float = 1e-5, check: bool = True) -> Checked:
    """dL/dx of training-mode BatchNorm (scale 1, shift 0) on an (N, C, H, W) batch, with L
    a function of image 0's output only. ``check``: in float64, against autograd through
    F.batch_norm (else float32 and unchecked: max_diff is NaN)."""
    x = torch.from_numpy(batch).double() if check else torch.from_numpy(batch)
    y = batch_norm(x, None, None, training=True, eps=eps)
    g = torch.zeros_like(x)
    g[0] = output_gradient(y[0], loss, channel, row, col)
    closed, _, _ = batch_norm_backward(x, g, eps=eps)
    if not check:
        return Checked(grad=closed.numpy(), max_diff=float("nan"),
                       scale=float(closed.abs().max()), undefined=0)
    x_auto = x.clone().requires_grad_()
    (auto,) = torch.autograd.grad(F.batch_norm(x_auto, None, None, training=True, eps=eps),
                                  x_auto, g)
    return _checked(closed, auto)


def lrn_batch_gradient(batch: np.ndarray, lrn_args: dict, loss: str, channel: int, row: int,
                       col: int) -> np.ndarray:
    """The same for LRN: dL/dx of every image of the batch, L on image 0's output only."""
    x = torch.from_numpy(batch)
    g = torch.zeros_like(x)
    g[0] = output_gradient(lrn(x[0], **lrn_args), loss, channel, row, col)
    return lrn_backward(x, g, **lrn_args).numpy()


@dataclass
class Coupling:
    """What one normalisation's gradient does across a batch when the loss reads image 0's
    output only: what the page shows of it, small enough to cache and send."""

    tiles: np.ndarray  # (N, H, W): dL/dx of the chosen channel, for every image of the batch
    on_mates: float  # largest |dL/dx| over the batch-mates, every channel
    swap_change: float  # image 0's dL/dx with other batch-mates: max |change| / max |dL/dx|
    max_diff: float = float("nan")  # the closed form against autograd (float64), if checked
    scale: float = float("nan")  # largest |dL/dx| of the checked batch, to read max_diff against


def _coupling(grad: np.ndarray, swapped: np.ndarray, channel: int, **check) -> Coupling:
    return Coupling(tiles=grad[:, channel].copy(), on_mates=float(np.abs(grad[1:]).max(initial=0)),
                    swap_change=relative_change(grad[0], swapped[0]), **check)


def batchnorm_coupling(batch: np.ndarray, swapped: np.ndarray, loss: str, channel: int,
                       row: int, col: int) -> Coupling:
    """BatchNorm's Coupling on ``batch``; ``swapped`` holds the same image 0 with other
    batch-mates. The batch's gradient is checked against autograd, the swapped one's not."""
    mine = batchnorm_gradient(batch, loss, channel, row, col)
    other = batchnorm_gradient(swapped, loss, channel, row, col, check=False)
    return _coupling(mine.grad, other.grad, channel, max_diff=mine.max_diff, scale=mine.scale)


def lrn_coupling(batch: np.ndarray, swapped: np.ndarray, lrn_args: dict, loss: str,
                 channel: int, row: int, col: int) -> Coupling:
    """The same for LRN (unchecked: ``lrn_gradient`` checks the closed form on this image)."""
    return _coupling(lrn_batch_gradient(batch, lrn_args, loss, channel, row, col),
                     lrn_batch_gradient(swapped, lrn_args, loss, channel, row, col), channel)
