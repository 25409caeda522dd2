"""What the browser needs to draw LRN's figures itself, at any setting, while a slider moves.

LRN is ``y = x * (k + a·S) ** -β``: k, α and β act on each value through x and S alone, and
across channels S at a pixel is a sum of the squares of the channels at that same pixel. So
from the feature maps at the pixels the figures show (the panel row and the channel grid
subsample large maps alike, lrn_app.figures.encode.downsampled), the browser can compute
every figure exactly at any k, α and β, and across channels at any n too, given each size's
window and scaling as lrn_core.resolve has them. Within a channel a window spans pixels the
subsampled maps do not hold, so there n is not live: the pack carries S at the current n.

``pack`` builds that, once per image and mode; static/live/lrn.js computes from it. The
tests hold the browser's numbers to lrn_core's (tests/app/test_live.py, and in Chromium
tests/browser/test_live.py).
"""

from __future__ import annotations

import base64
import math
from dataclasses import replace

import numpy as np
import torch

from lrn_app.figures.encode import downsampled
from lrn_app.state import LRNControls, held_to_sliders, limits
from lrn_core import lrn_parts, resolve

MAX_SIDE = 160  # the figures' subsampling (panels_row and channel_grid draw at most this)


def encode(array: np.ndarray) -> str:
    """Little-endian float32 values, base64: what JavaScript reads into a Float32Array."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode()


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


def pack(features: np.ndarray, state: LRNControls, max_side: int = MAX_SIDE) -> dict:
    """(C, H, W) float32 features, as the browser needs them for ``state``'s mode and
    convention: the values at the figures' pixels and the windows (``n_live``: whether n
    can move in the browser; where it cannot, ``S`` at the current n)."""
    x = downsampled(features, max_side)
    channels, height, width = x.shape
    out = dict(mode=state.mode, convention=state.convention, channels=channels,
               height=height, width=width, x=encode(x), n_live=state.mode == "across",
               windows=windows(state, channels), n=state.n)
    if state.mode == "within":
        parts = lrn_parts(torch.from_numpy(features), state.n, state.alpha, state.beta,
                          state.k, mode=state.mode, convention=state.convention)
        out["S"] = encode(downsampled(parts.S.numpy(), max_side))
    return out


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


def reference(features: np.ndarray, state: LRNControls,
              max_side: int = MAX_SIDE) -> dict[str, np.ndarray]:
    """lrn_core's float32 parts at ``state``, at the figures' pixels: what the browser's
    numbers must equal."""
    parts = lrn_parts(torch.from_numpy(features), state.n, state.alpha, state.beta, state.k,
                      mode=state.mode, convention=state.convention)
    maps = {"input": features, **{name: getattr(parts, name).numpy()
                                   for name in ("S", "denominator", "output", "gain")}}
    return {name: downsampled(m, max_side) for name, m in maps.items()}
