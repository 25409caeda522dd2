"""Plotly figures for the app: plain functions from arrays to figures, no Streamlit."""

from __future__ import annotations

import base64
import functools
import io

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image

PANELS = ("input", "S", "denominator", "output", "gain")
TITLES = {"input": "input x", "S": "window sum S", "denominator": "(k + a·S)^β",
          "output": "output y", "gain": "gain y / x"}


def finite(array: np.ndarray) -> tuple[np.ndarray, int]:
    """The array with NaN and inf replaced by 0, and how many values were replaced."""
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    return (np.where(bad, 0.0, array) if count else array), count


def _downsample(z: np.ndarray, max_side: int) -> np.ndarray:
    """Every k-th pixel of the last two axes so that their long side is at most max_side
    (a panel a few hundred pixels wide shows no more, and the browser gets far less data)."""
    step = max(1, -(-max(z.shape[-2:]) // max_side))
    return z[..., ::step, ::step]


@functools.lru_cache(maxsize=8)
def _lookup_table(colorscale: str) -> np.ndarray:
    """(256, 3) uint8 colours of a plotly colour scale."""
    colours = plotly.colors.sample_colorscale(colorscale, list(np.linspace(0, 1, 256)),
                                              colortype="tuple")
    return (np.array(colours) * (255 if max(max(c) for c in colours) <= 1 else 1)).round().astype(np.uint8)


def panels_row(maps: dict[str, np.ndarray], height: int = 300, max_side: int = 160) -> go.Figure:
    """The five quantities of one channel side by side, each with its own colour bar.

    Each panel is a colour-mapped PNG (a Heatmap costs the browser ~5x more to draw on
    every slider move) with its colour bar from an invisible marker trace; axes are laid
    out by hand (make_subplots costs ~15x more to build). Exact values: the pixel inspector.
    """
    gap = 0.045
    width = (1 - gap * (len(PANELS) - 1)) / len(PANELS)
    traces, layout = [], dict(height=height, margin=dict(l=5, r=30, t=30, b=5), annotations=[],
                              showlegend=False)
    for i, name in enumerate(PANELS):
        axis = "" if i == 0 else str(i + 1)
        left = i * (width + gap)
        z = _downsample(maps[name], max_side)
        low, high = float(z.min()), float(z.max())
        scale = "Magma" if name == "gain" else "Viridis"
        index = ((z - low) / (high - low) * 255 + 0.5).astype(np.uint8) if high > low \
            else np.zeros(z.shape, dtype=np.uint8)
        traces.append(go.Image(source=_png_source(_lookup_table(scale)[index]),
                               xaxis=f"x{axis}", yaxis=f"y{axis}", hoverinfo="skip"))
        traces.append(go.Scatter(
            x=[None], y=[None], mode="markers", xaxis=f"x{axis}", yaxis=f"y{axis}", hoverinfo="skip",
            marker=dict(colorscale=scale, cmin=low, cmax=high if high > low else low + 1e-12,
                        color=[low], showscale=True,
                        colorbar=dict(x=left + width + 0.003, thickness=8, len=0.9,
                                      tickfont=dict(size=10)))))
        layout[f"xaxis{axis}"] = dict(domain=[left, left + width], visible=False)
        layout[f"yaxis{axis}"] = dict(scaleanchor=f"x{axis}", visible=False, autorange="reversed")
        layout["annotations"].append(dict(text=TITLES[name], x=left + width / 2, y=1.0,
                                          xref="paper", yref="paper", yanchor="bottom",
                                          showarrow=False, font=dict(size=14)))
    return go.Figure(traces, layout)


def _png_source(image: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)  # speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def mosaic(tiles: np.ndarray, labels: list[str], title: str = "", wrap: int = 8,
           gap: int = 4, height_per_row: int = 150) -> go.Figure:
    """(N, H, W) or (N, H, W, 3) uint8 tiles as one image in one figure, labelled.

    One PNG for all tiles: a faceted px.imshow of 16 channels takes ~10x longer to build.
    """
    count, h, w = tiles.shape[:3]
    wrap = min(wrap, count)
    rows = -(-count // wrap)
    canvas = np.full((rows * (h + gap) - gap, wrap * (w + gap) - gap) + tiles.shape[3:], 255,
                     dtype=np.uint8)
    annotations = []
    for i in range(count):
        r, c = divmod(i, wrap)
        top, left = r * (h + gap), c * (w + gap)
        canvas[top:top + h, left:left + w] = tiles[i]
        annotations.append(dict(text=labels[i], x=left + 2, y=top + 2, xanchor="left",
                                yanchor="top", showarrow=False, bgcolor="rgba(255,255,255,0.75)",
                                font=dict(size=11, color="black")))
    layout = dict(title=title, annotations=annotations,
                  height=int(60 + rows * height_per_row * min(1.5, max(0.4, h / w))),
                  margin=dict(l=5, r=5, t=40 if title else 5, b=5),
                  xaxis=dict(visible=False), yaxis=dict(visible=False, scaleanchor="x"))
    return go.Figure(go.Image(source=_png_source(canvas), hoverinfo="skip"), layout)


def channel_grid(stack: np.ndarray, per_channel: bool, title: str,
                 labels: list[str] | None = None, wrap: int = 8, max_side: int = 160,
                 symmetric: bool = False) -> go.Figure:
    """All channels of a (C, H, W) stack in one figure, grey scale, shared or per-channel
    (``symmetric``: each channel from -max|v| to +max|v|, so 0 is mid-grey).
    Tiles are shown ~160 px wide, so larger maps are subsampled to that first."""
    stack = _downsample(stack, max_side).astype(np.float32)
    if symmetric:
        low = -np.abs(stack).max(axis=(1, 2), keepdims=True)
        span = -2 * low
    elif per_channel:
        low = stack.min(axis=(1, 2), keepdims=True)
        span = stack.max(axis=(1, 2), keepdims=True) - low
    else:
        low, span = stack.min(), stack.max() - stack.min()
    scaled = (stack - low) / np.where(span > 0, span, 1.0)
    tiles = (scaled * 255 + 0.5).astype(np.uint8)
    return mosaic(tiles, labels or [f"ch {c}" for c in range(len(stack))], title, wrap)


def window_bars(labels: list[str], squares: np.ndarray, centre: int) -> go.Figure:
    """The squared values in an across-channel window, the centre channel highlighted."""
    colours = ["#d62728" if i == centre else "#1f77b4" for i in range(len(labels))]
    fig = go.Figure(go.Bar(x=labels, y=squares, marker_color=colours,
                           hovertemplate="%{x}: x² = %{y:.4g}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=5, r=5, t=30, b=5),
                      title="x² of the channels in the window (red: this channel)",
                      yaxis_title="x²")
    return fig


def window_heatmap(squares: np.ndarray, row0: int, col0: int) -> go.Figure:
    """The squared values in a within-channel window (zero outside the image)."""
    fig = go.Figure(go.Heatmap(
        z=squares, x=list(range(col0, col0 + squares.shape[1])),
        y=list(range(row0, row0 + squares.shape[0])), colorscale="Viridis",
        hovertemplate="row %{y}, column %{x}: x² = %{z:.4g}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=5, r=5, t=30, b=5),
                      title="x² in the window around the pixel",
                      yaxis=dict(autorange="reversed", scaleanchor="x", title="row"),
                      xaxis=dict(title="column"))
    return fig


def image_gallery(images: dict[str, np.ndarray], wrap: int = 4, size: int = 128) -> go.Figure:
    """Sample thumbnails in one figure, each centred on a white square tile."""
    tiles = np.full((len(images), size, size, 3), 255, dtype=np.uint8)
    for tile, image in zip(tiles, images.values()):
        rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image
        rgb = (rgb[:size, :size] * 255 + 0.5).astype(np.uint8)
        h, w = rgb.shape[:2]
        top, left = (size - h) // 2, (size - w) // 2
        tile[top:top + h, left:left + w] = rgb
    return mosaic(tiles, list(images), wrap=wrap, gap=8, height_per_row=200)
