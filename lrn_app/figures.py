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


def panels_row(maps: dict[str, np.ndarray], height: int = 300, max_side: int = 160,
               titles: dict[str, str] | None = None) -> go.Figure:
    """(H, W) maps side by side, each with its own colour bar: by default the five
    quantities of one channel (PANELS), titled by TITLES.

    Each panel is a colour-mapped PNG (a Heatmap costs the browser ~5x more to draw on
    every slider move) with its colour bar from an invisible marker trace; axes are laid
    out by hand (make_subplots costs ~15x more to build). Exact values: the pixel inspector.
    """
    titles = titles or TITLES
    gap = 0.045
    width = (1 - gap * (len(maps) - 1)) / len(maps)
    traces, layout = [], dict(height=height, margin=dict(l=5, r=30, t=30, b=5), annotations=[],
                              showlegend=False)
    for i, name in enumerate(maps):
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
                                      tickfont=dict(size=10),
                                      # a flat map: one tick with its value, not a 1e-12 range
                                      **({} if high > low else dict(tickvals=[low],
                                                                    ticktext=[f"{low:.3g}"]))))))
        layout[f"xaxis{axis}"] = dict(domain=[left, left + width], visible=False)
        layout[f"yaxis{axis}"] = dict(scaleanchor=f"x{axis}", visible=False, autorange="reversed")
        layout["annotations"].append(dict(text=titles.get(name, name), x=left + width / 2, y=1.0,
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
    (``symmetric``: from -max|v| to +max|v|, per channel or shared, so 0 is mid-grey).
    Tiles are shown ~160 px wide, so larger maps are subsampled to that first."""
    stack = _downsample(stack, max_side).astype(np.float32)
    if symmetric:
        low = -np.abs(stack).max(axis=(1, 2), keepdims=True) if per_channel else -np.abs(stack).max()
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


def _signed_colours(values: np.ndarray) -> list[str]:
    return ["#d62728" if v > 0 else "#1f77b4" if v < 0 else "#7f7f7f" for v in values]


def jacobian_bars(labels: list[str], values: np.ndarray, title: str) -> go.Figure:
    """d y_c / d x over the channels around c: red raises the output, blue lowers it."""
    fig = go.Figure(go.Bar(x=labels, y=values, marker_color=_signed_colours(values),
                           hovertemplate="%{x}: %{y:.4g}<extra></extra>"))
    fig.update_layout(height=300, margin=dict(l=5, r=5, t=40, b=5), title=title,
                      yaxis=dict(title="∂y / ∂x", zeroline=True, zerolinewidth=2))
    return fig


def jacobian_heatmap(values: np.ndarray, row0: int, col0: int, centre: tuple[int, int],
                     title: str) -> go.Figure:
    """d y_(r,s) / d x over the pixels around (r, s), on a diverging scale centred on 0.
    The scale is set by the neighbours, so that the centre (far larger) does not wash
    them out; it saturates, and the title gives its value."""
    others = values.copy()
    others[centre[0] - row0, centre[1] - col0] = 0
    bound = float(np.abs(others).max()) or float(np.abs(values).max()) or 1.0
    fig = go.Figure(go.Heatmap(
        z=values, x=list(range(col0, col0 + values.shape[1])),
        y=list(range(row0, row0 + values.shape[0])), colorscale="RdBu", reversescale=True,
        zmin=-bound, zmax=bound, hovertemplate="row %{y}, column %{x}: %{z:.4g}<extra></extra>"))
    fig.update_layout(height=340, margin=dict(l=5, r=5, t=40, b=5), title=title,
                      yaxis=dict(autorange="reversed", scaleanchor="x", title="row"),
                      xaxis=dict(title="column"))
    return fig


COLOURS = {"input": "#7f7f7f", "LRN": "#d62728", "BatchNorm": "#1f77b4"}


def histogram_lines(edges: np.ndarray, counts: dict[str, np.ndarray], title: str) -> go.Figure:
    """Histograms of several arrays over shared bins, as step lines (bars would hide each
    other), on a log count axis: ReLU features are mostly exact zeros."""
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure([go.Scatter(x=centres, y=np.where(c > 0, c, np.nan), name=name, mode="lines",
                                line=dict(shape="hvh", color=COLOURS.get(name)),
                                hovertemplate="%{x:.3g}: %{y} values<extra>" + name + "</extra>")
                     for name, c in counts.items()])
    fig.update_layout(height=340, margin=dict(l=5, r=5, t=40, b=5), title=title,
                      yaxis=dict(type="log", title="values"), xaxis_title="activation",
                      legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center", yanchor="top"))
    return fig


def channel_lines(values: dict[str, np.ndarray], title: str, y_title: str) -> go.Figure:
    """One value per channel for several arrays (e.g. each channel's mean)."""
    fig = go.Figure([go.Scatter(y=v, x=np.arange(len(v)), name=name, mode="lines+markers",
                                line=dict(color=COLOURS.get(name)),
                                hovertemplate="ch %{x}: %{y:.3g}<extra>" + name + "</extra>")
                     for name, v in values.items()])
    fig.update_layout(height=340, margin=dict(l=5, r=5, t=40, b=5), title=title,
                      xaxis_title="channel", yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.25, x=0.5, xanchor="center", yanchor="top"))
    return fig


def difference_matrix(names: list[str], matrix: np.ndarray, title: str) -> go.Figure:
    """Pairwise largest differences, coloured on a log scale (1e-8 and 1e-1 must both
    read), each cell labelled with its value."""
    shade = np.log10(np.maximum(matrix, 1e-12))
    text = [[f"{v:.1e}" if v > 0 else "0" for v in row] for row in matrix]
    fig = go.Figure(go.Heatmap(z=shade, x=names, y=names, text=text, texttemplate="%{text}",
                               zmin=-12, zmax=0, colorscale="Reds", showscale=False,
                               hovertemplate="%{y} vs %{x}: %{text}<extra></extra>"))
    fig.update_layout(height=80 + 45 * len(names), margin=dict(l=5, r=5, t=40, b=5), title=title,
                      yaxis=dict(autorange="reversed"))
    return fig


PALETTE = ("#7f7f7f", "#d62728", "#ff7f0e", "#1f77b4", "#2ca02c", "#9467bd")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def training_curves(series: dict[str, tuple[list[list[float]], list[list[float]]]], title: str,
                    y_title: str, colours: dict[str, str] | None = None) -> go.Figure:
    """Per variant, (validation, training) values of each seed per epoch: the validation
    mean as a solid line with the band from the lowest to the highest seed, the training
    mean dotted. Seeds that stopped early count until they stopped."""
    traces = []
    for i, (name, (val, train)) in enumerate(series.items()):
        colour = (colours or {}).get(name, PALETTE[i % len(PALETTE)])
        for runs, solid in ((val, True), (train, False)):
            epochs = max((len(r) for r in runs), default=0)
            if not epochs:
                continue
            x = list(range(1, epochs + 1))
            columns = [[r[e] for r in runs if len(r) > e] for e in range(epochs)]
            mean = [float(np.mean(c)) for c in columns]
            if solid:
                low, high = [min(c) for c in columns], [max(c) for c in columns]
                traces.append(go.Scatter(x=x + x[::-1], y=high + low[::-1], fill="toself", mode="lines",
                                         fillcolor=_rgba(colour, 0.18), line=dict(width=0),
                                         hoverinfo="skip", showlegend=False, legendgroup=name))
            traces.append(go.Scatter(
                x=x, y=mean, mode="lines+markers" if solid else "lines", legendgroup=name,
                name=name if solid else f"{name} (training)", showlegend=solid,
                line=dict(color=colour, width=2.5 if solid else 1.2, dash=None if solid else "dot"),
                hovertemplate=f"{name}, epoch %{{x}}: %{{y:.3g}} "
                              f"({'validation' if solid else 'training'})<extra></extra>"))
    fig = go.Figure(traces)
    fig.update_layout(height=360, margin=dict(l=5, r=5, t=40, b=5), title=title,
                      xaxis=dict(title="epoch", dtick=1), yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.2, x=0.5, xanchor="center", yanchor="top"))
    return fig
