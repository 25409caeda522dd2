"""What the browser needs to draw LRN's figures itself, at any setting, while a slider moves.

LRN is ``y = x * (k + a·S) ** -β``: k, α and β act on each value through x and S alone, and
across channels S at a pixel is a sum of the squares of the channels at that same pixel. So
from the feature maps at the pixels the figures show (the panel row and the channel grid
subsample large maps alike, lrn_app.figures.encode.downsampled), the browser can compute
every figure exactly at any k, α and β, and across channels at any n too, given each size's
window and scaling as lrn_core.resolve has them. Within a channel a window spans pixels the
subsampled maps do not hold, so there n is not live: the pack carries S at the current n.

What the browser holds is every channel's values at the figures' pixels, so a view of many
channels, or a large image, would be megabytes: ``figure_side`` subsamples the figures more
where that is so, to keep the pack within PACK_BYTES (the pack and the figures' pixels stay
one and the same, so the live frame is the server's picture). ``maps_pack`` builds it, once per
image and mode, its arrays as float32 for the page to send as binary; static/live/lrn.js
computes from it. ``jacobian_pack`` serves one output's Jacobian row (the Gradients page):
the few inputs it reads, at full resolution, so there n is live in both modes. The tests
hold the browser's numbers to lrn_core's (tests/app/test_live.py, and in Chromium
tests/browser/test_live.py).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from lrn_app.figures.encode import downsampled
from lrn_app.state import LRNControls, held_to_sliders, limits
from lrn_core import lrn_parts, resolve

MAX_SIDE = 160  # the figures' subsampling (panels_row and channel_grid draw at most this)
# The float32 values a view's pack may hold, in bytes: within the 1.5 MB a view may send with
# room for the page's other figures. 16 channels of a 256 x 256 image fit at 128 px (the
# subsampling MAX_SIDE gives); 96 channels of it are drawn at 52 px.
PACK_BYTES = 1_300_000


def figure_side(shape: tuple[int, ...], mode: str) -> int:
    """The long side the live figures subsample (C, H, W) maps to (encode.downsampled): at
    most MAX_SIDE, and less where the pack would pass PACK_BYTES (within a channel it holds
    S too)."""
    channels, height, width = shape[-3:]
    planes = 2 if mode == "within" else 1
    longest = max(height, width)
    step = max(1, -(-longest // MAX_SIDE))
    while channels * planes * 4 * -(-height // step) * -(-width // step) > PACK_BYTES:
        step += 1
    return -(-longest // step)


def windows(state: LRNControls, channels: int) -> dict[str, dict]:
    """Each size the n slider offers, as lrn_core resolves it: the taps before and after the
    centre, a / α (a is linear in α in every convention), and the k it uses where the
    convention fixes its own (Caffe's within-channel engine uses 1)."""
    lim = limits(state.convention, state.mode, channels)
    out = {}
    for n in range(lim.n_min, lim.n_max + 1, lim.n_step):
        w = resolve(n, 1.0, 1.0, 2.0, mode=state.mode, convention=state.convention)
        out[str(n)] = dict(before=w.before, after=w.after, a_per_alpha=w.a,
                           k=None if w.k == 2.0 else w.k)
    return out


def maps_pack(features: np.ndarray, state: LRNControls) -> dict:
    """(C, H, W) float32 features, as the browser needs them for ``state``'s mode and
    convention: ``x``, the values at the figures' pixels (figure_side), flat float32, and
    the windows (``n_live``: whether n can move in the browser; where it cannot, ``S`` at the
    current n, as x)."""
    side = figure_side(features.shape, state.mode)
    x = downsampled(features, side)
    channels, height, width = x.shape
    out = dict(mode=state.mode, convention=state.convention, channels=channels,
               height=height, width=width, x=_flat(x), n_live=state.mode == "across",
               windows=windows(state, channels), n=state.n)
    if state.mode == "within":
        parts = lrn_parts(torch.from_numpy(features), state.n, state.alpha, state.beta,
                          state.k, mode=state.mode, convention=state.convention)
        out["S"] = _flat(downsampled(parts.S.numpy(), side))
    return out


def jacobian_pack(features: np.ndarray, state: LRNControls, channel: int, row: int, col: int,
                  margin: int = 2) -> dict:
    """What the browser needs for output (channel, row, col)'s Jacobian row at any setting
    (static/live/lrn.js, jacobianRow; gradients.jacobian on the server): across channels the
    pixel's every channel, as (C, 1, 1); within a channel the patch of it that every size's
    window, and ``margin`` more, can reach, as (1, h, w) with its ``origin`` in the image.
    Full resolution, so n moves live in both modes."""
    channels, height, width = features.shape
    sizes = windows(state, channels)
    if state.mode == "across":
        x, at, origin = features[:, row:row + 1, col:col + 1], (channel, 0, 0), (row, col)
    else:
        reach = max(max(w["before"], w["after"]) for w in sizes.values()) + margin
        r0, c0 = max(0, row - reach), max(0, col - reach)
        x = features[channel:channel + 1, r0:min(height, row + reach + 1),
                     c0:min(width, col + reach + 1)]
        at, origin = (0, row - r0, col - c0), (r0, c0)
    return dict(mode=state.mode, convention=state.convention, channels=x.shape[0],
                height=x.shape[1], width=x.shape[2], x=_flat(x), n_live=True, windows=sizes,
                n=state.n, at=at, origin=origin, margin=margin)


def _flat(array: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(array, dtype=np.float32).ravel()


def released(state: LRNControls, values) -> LRNControls | None:
    """``state`` with the settings a slider's release sent (n, k, alpha, beta), held to the
    sliders' own ranges; None where they are not numbers. (k = 0 with α = 0 is a position
    the sliders allow: the page answers it with a message, as it does for the address.)"""
    try:
        n, k = int(values["n"]), float(values["k"])
        alpha, beta = float(values["alpha"]), float(values["beta"])
    except (KeyError, TypeError, ValueError):
        return None
    if not all(math.isfinite(v) for v in (k, alpha, beta)):
        return None
    return held_to_sliders(replace(state, n=n, k=k, alpha=alpha, beta=beta),
                           getattr(state, "channels", 16), [])


def reference(features: np.ndarray, state: LRNControls) -> dict[str, np.ndarray]:
    """lrn_core's float32 parts at ``state``, at the figures' pixels: what the browser's
    numbers must equal."""
    parts = lrn_parts(torch.from_numpy(features), state.n, state.alpha, state.beta, state.k,
                      mode=state.mode, convention=state.convention)
    maps = {"input": features, **{name: getattr(parts, name).numpy()
                                   for name in ("S", "denominator", "output", "gain")}}
    side = figure_side(features.shape, state.mode)
    return {name: downsampled(m, side) for name, m in maps.items()}
