"""The scrub views: one of α, β, k or n swept over its range, every frame exact.

A Streamlit slider sends its value only when released, so a student sees nothing while
dragging. A scrub view computes what a page shows at many values of one parameter (the
others as set) and hands them all to the browser in one plotly figure: its own slider then
swaps them with no server round trip. The Explorer's shows a channel's output and gain (an
image per value, which the slider's steps swap in place); the Gradients page's, one output's
row of the Jacobian (a frame per value, which the steps animate to).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch

from lrn_app.compute import gradients
from lrn_app.figures import sweeps
from lrn_app.state import ALPHA_MAX, BETA_MAX, K_MAX, Explorer, LRNControls, limits
from lrn_core import lrn_parts, resolve

PARAMETERS = {"alpha": "α", "beta": "β", "k": "k", "n": "n"}  # SCRUB, less "off"
FRAMES = 25  # values per sweep
MAX_SIDE = 256  # pixels of a frame's long side, at most
MAX_BYTES = 1_300_000  # of images in one figure: with the rest, under 1.5 MB to the browser


@dataclass
class Sweep:
    """One channel's output and gain at each value of one parameter."""

    parameter: str
    values: list  # the parameter's values, one per frame (settings no library computes left out)
    output: np.ndarray  # (frames, H, W)
    gain: np.ndarray  # (frames, H, W)
    mean_gain: np.ndarray  # (frames,): the channel's mean gain, for the curve beside the images


def values(parameter: str, state: LRNControls, channel_count: int) -> list:
    """The values a sweep visits, across the parameter's whole range: log-spaced for α
    (1e-6 to 1e4, as its slider), evenly spaced for β and k, and every allowed size for n
    (at most FRAMES of them, spread evenly; odd-only conventions have fewer)."""
    lim = limits(state.convention, state.mode, channel_count)
    if parameter == "alpha":  # the slider's range, 1e-6 .. 1e4, in equal ratios
        return [float(f"{v:.3g}") for v in np.geomspace(1e-6, ALPHA_MAX, FRAMES)]
    if parameter == "beta":
        return [float(v) for v in np.linspace(lim.beta_min, BETA_MAX, FRAMES).round(4)]
    if parameter == "k":
        return [float(v) for v in np.linspace(lim.k_min, K_MAX, FRAMES).round(4)]
    if parameter == "n":  # every allowed size, or FRAMES of them spread over the range
        sizes = list(range(lim.n_min, lim.n_max + 1, lim.n_step))
        picks = np.linspace(0, len(sizes) - 1, min(FRAMES, len(sizes))).round().astype(int)
        return [sizes[i] for i in picks]
    raise ValueError(f"cannot scrub {parameter!r}; choose one of {', '.join(PARAMETERS)}")


def _settings(state: LRNControls, parameter: str, channel_count: int):
    """(value, the settings with it, their window) for each value a sweep visits that some
    library computes (k = 0 with alpha = 0 none does)."""
    for value in values(parameter, state, channel_count):
        s = replace(state, **{parameter: value})
        try:
            yield value, s, resolve(s.n, s.alpha, s.beta, s.k, mode=s.mode,
                                    convention=s.convention)
        except ValueError:
            continue


def sweep(features: np.ndarray, state: Explorer, parameter: str, channel: int,
          stride: int = 1) -> Sweep:
    """Channel ``channel``'s output and gain at each of ``values(parameter, ...)``, at every
    ``stride``-th pixel, each computed exactly by lrn_core. Only what the channel's value
    depends on is computed: across channels, the window's channels at those pixels alone
    (the other channels and pixels cannot change them); within a channel, the whole channel
    (its window spans pixels), then the pixels kept."""
    x = torch.from_numpy(features)
    if state.mode == "across":
        x = x[:, ::stride, ::stride]
    kept, outputs, gains = [], [], []
    for value, s, w in _settings(state, parameter, features.shape[0]):
        if s.mode == "across":
            first, last = max(0, channel - w.before), min(x.shape[0], channel + w.after + 1)
        else:
            first, last = channel, channel + 1
        parts = lrn_parts(x[first:last], s.n, s.alpha, s.beta, s.k, mode=s.mode,
                          convention=s.convention)
        keep = (slice(None), slice(None)) if s.mode == "across" else \
            (slice(None, None, stride), slice(None, None, stride))
        outputs.append(parts.output[channel - first][keep].numpy())
        gains.append(parts.gain[channel - first][keep].numpy())
        kept.append(value)
    gain = np.stack(gains)
    return Sweep(parameter, kept, np.stack(outputs), gain, gain.mean(axis=(1, 2)))


def nearest_frame(parameter: str, values: list, value: float) -> int:
    """Of a sweep's ``values``, the index of the one closest to ``value`` (in log terms for α)."""
    if parameter == "alpha":
        return 0 if value <= 0 else int(np.argmin([abs(np.log10(v / value)) for v in values]))
    return int(np.argmin([abs(v - value) for v in values]))


def opened_at(figure, parameter: str, value: float):
    """A scrub figure (``figure`` or ``jacobian_figure``) opened on the frame nearest ``value``
    of ``parameter``: a sweep does not depend on the value of the parameter it sweeps, so one
    figure serves every value of it (moving that parameter's own slider rebuilds nothing)."""
    return sweeps.open_scrub_at(
        figure, nearest_frame(parameter, sweeps.scrub_values(figure), value))


def figure(features: np.ndarray, state: Explorer, parameter: str, channel: int):
    """The scrub view of ``parameter`` for one channel: a plotly figure with a frame per
    value, opened on the frame nearest the parameter's current value. Frames show every
    k-th pixel (long side at most MAX_SIDE), so every value drawn is an exact output."""
    stride = -(-max(features.shape[1:]) // MAX_SIDE)
    result = sweep(features, state, parameter, channel, stride)
    return sweeps.scrub_figure(result.output, result.gain, result.mean_gain, result.values,
                                PARAMETERS[parameter],
                                nearest_frame(parameter, result.values, getattr(state, parameter)),
                                log_x=parameter == "alpha", max_bytes=MAX_BYTES)


@dataclass
class JacobianSweep:
    """One output's row of the Jacobian, d y[c, r, s] / d x, at each value of one parameter,
    over one neighbourhood shared by all frames."""

    parameter: str
    values: list  # one per frame (settings no library computes left out)
    rows: np.ndarray  # across: (frames, channels); within: (frames, rows, cols)
    channels: list[str] | None  # across: the channels' names; within: None
    origin: tuple[int, int]  # within: (row, col) of rows[:, 0, 0]
    centre: np.ndarray  # (frames,): d y / d x at the same position, the unit's own slope


def jacobian_sweep(features: np.ndarray, state: LRNControls, parameter: str, channel: int,
                   row: int, col: int) -> JacobianSweep:
    """gradients.jacobian at each of ``values(parameter, ...)``: lrn_core's closed-form
    backward of a one-hot dL/dy, on a neighbourhood that holds the widest window of the
    sweep and two positions more."""
    settings = list(_settings(state, parameter, features.shape[0]))
    reach = max(max(w.before, w.after) for _, _, w in settings) + 2
    rows = [gradients.jacobian(features, dict(size=s.n, alpha=s.alpha, beta=s.beta, k=s.k,
                                              mode=s.mode, convention=s.convention),
                               channel, row, col, reach=reach) for _, s, _ in settings]
    return JacobianSweep(parameter, [v for v, _, _ in settings],
                         np.stack([j.values for j in rows]),
                         rows[0].labels if state.mode == "across" else None, rows[0].origin,
                         np.array([j.centre for j in rows]))


def jacobian_figure(features: np.ndarray, state: LRNControls, parameter: str, channel: int,
                    row: int, col: int):
    """The Gradients page's scrub view: the Jacobian row of output (channel, row, col) at
    each value of ``parameter``, opened on the frame nearest its current value."""
    result = jacobian_sweep(features, state, parameter, channel, row, col)
    label = PARAMETERS[parameter]
    if state.mode == "across":  # bars move without a redraw: one title (the centre is a bar)
        titles = [f"∂y(ch {channel}) / ∂x at pixel ({row}, {col}), for each input channel, "
                  f"as {label} moves"]
    else:  # redrawn on each step: each frame's title gives the centre, off the scale
        titles = [f"∂y({row}, {col}) / ∂x in channel {channel}, {label} = {v:.3g}: centre "
                  f"{c:.3g}" for v, c in zip(result.values, result.centre)]
    return sweeps.jacobian_scrub_figure(
        result.rows, result.values, label,
        nearest_frame(parameter, result.values, getattr(state, parameter)),
        titles, result.channels, result.origin, (row, col))
