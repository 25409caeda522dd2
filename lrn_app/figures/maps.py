"""Feature maps as figures: LRN's panel row, channel grids and mosaics, windows and Jacobian
rows drawn on the image's pixels, and the sample gallery.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lrn_app.figures.encode import (
    JPEG_MIN_TILE,
    colour_bar_source,
    colour_scale,
    downsampled,
    jpeg_source,
    lookup_table,
    png_source,
    quantised,
)
from lrn_app.figures.look import COLOUR_BAR_MARGIN, TITLES_AT, TITLES_RANGE, new_figure

PANELS = ("input", "S", "denominator", "output", "gain")
TITLES = {"input": "input x", "S": "window sum S", "denominator": "(k + a·S)^β",
          "output": "output y", "gain": "gain y / x"}


def panels_row(maps: dict[str, np.ndarray], height: int | None = None, max_side: int = 160,
               titles: dict[str, str] | None = None) -> go.Figure:
    """(H, W) maps side by side, each with its own colour bar: by default the five
    quantities of one channel (PANELS), titled by TITLES.

    Built to be cheap for the browser, which draws it anew on every slider move: each panel
    is a colour-mapped PNG and each colour bar a static strip image with its low, middle
    and high values as labels (text_labels), all on one pair of hidden axes (plotly's own
    colour bars and one subplot per panel took several times longer to draw). Exact
    values: the pixel inspector.
    """
    titles = titles or TITLES
    zs = {name: downsampled(m, max_side) for name, m in maps.items()}
    h = max(z.shape[0] for z in zs.values())
    w = max(z.shape[1] for z in zs.values())
    bar, room = 0.05 * w, 0.34 * w  # a colour bar's width, and the room for it and its labels
    images, labels = [], []
    for i, (name, z) in enumerate(zs.items()):
        x0 = i * (w + room)
        low, high = float(z.min()), float(z.max())
        scale = "Magma" if name == "gain" else "Viridis"
        images.append(dict(source=png_source(quantised(z, low, high, 256), lookup_table(scale)),
                           x=x0, y=0, sizex=z.shape[1], sizey=z.shape[0], **ON_AXES))
        bar_x = x0 + w + 0.04 * w
        images.append(dict(source=colour_bar_source(scale), x=bar_x, y=0.05 * h, sizex=bar,
                           sizey=0.9 * h, **ON_AXES))
        # a flat map: one label with its value, at mid-height
        ticks = ((0.0, low), (0.5, (low + high) / 2), (1.0, high)) if high > low else ((0.5, low),)
        for frac, value in ticks:
            labels.append((f"{value:.3g}", bar_x + bar, 0.05 * h + (1 - frac) * 0.9 * h,
                           "middle right", 10))
        labels.append((titles.get(name, name), x0 + w / 2, TITLES_AT * h, "top center", 14))
    total = len(zs) * (w + room)
    if height is None:  # the row's own shape at a typical width of the page's main column
        height = int(np.clip(40 + 1200 * h / total, 150, 400))
    layout = dict(height=height, margin=dict(l=5, r=5, t=30, b=5), showlegend=False,
                  images=images, **image_axes([0, total], [h, TITLES_RANGE * h],
                                               fixedrange=True))
    return new_figure([text_labels(labels)], layout)


def text_labels(labels: list[tuple], **textfont) -> dict:
    """(text, x, y, textposition, font size) labels as one text trace on the axes. The image
    figures drew them as annotations before, which plotly draws about twice as slowly, on
    every slider move (docs/performance.md)."""
    text, x, y, position, size = (list(column) for column in zip(*labels))
    return dict(type="scatter", mode="text", x=x, y=y, text=text, textposition=position,
                textfont=dict(size=size, **textfont), hoverinfo="skip", cliponaxis=False,
                showlegend=False)


# A text trace has no background box: a label on an image gets a dark halo (a CSS text shadow)
# under white text instead, readable on bright and dark tiles alike.
_HALO = "0 0 2px black, 0 0 2px black, 0 0 3px black"
# A layout image placed on the hidden axes by its top-left corner.
ON_AXES = dict(xref="x", yref="y", sizing="stretch", xanchor="left", yanchor="top", layer="below")


def image_axes(x_range: list, y_range: list, x: dict | None = None, y: dict | None = None,
                **both) -> dict:
    """The hidden x and y axes of a figure of layout images, one pixel as wide as high
    (scaleanchor), ``x`` and ``y`` for one axis, ``both`` for both.

    The plot narrows to keep that aspect (constrain="domain") rather than widening its
    range: Streamlit draws a new chart twice, first before it knows its width, and in about
    one move of three its second drawing brought the range as first given, so that plotly,
    finding it changed, placed every trace and label anew, late in the move."""
    return dict(xaxis=dict(range=x_range, visible=False, constrain="domain", **both, **(x or {})),
                yaxis=dict(range=y_range, visible=False, scaleanchor="x", constrain="domain",
                           **both, **(y or {})))


def mosaic(tiles: np.ndarray, labels: list[str], title: str = "", wrap: int = 8,
           gap: int = 4, height_per_row: int = 150) -> go.Figure:
    """(N, H, W) or (N, H, W, 3) uint8 tiles as one image in one figure, labelled.

    One image for all tiles (a faceted px.imshow of 16 channels takes far longer to build),
    drawn as a layout image on hidden axes, the labels a text trace: an image trace made
    the Explorer's slider move markedly slower (docs/performance.md).
    """
    count, h, w = tiles.shape[:3]
    wrap = min(wrap, count)
    rows = -(-count // wrap)
    canvas = np.full((rows * (h + gap) - gap, wrap * (w + gap) - gap) + tiles.shape[3:], 255,
                     dtype=np.uint8)
    corners = []
    for i in range(count):
        r, c = divmod(i, wrap)
        top, left = r * (h + gap), c * (w + gap)
        canvas[top:top + h, left:left + w] = tiles[i]
        corners.append((labels[i], left + 2, top + 2, "bottom right", 11))
    height, width = canvas.shape[:2]
    layout = dict(title=dict(text=title),
                  images=[dict(source=(jpeg_source(canvas) if canvas.ndim == 2
                                       and min(h, w) >= JPEG_MIN_TILE else png_source(canvas)),
                               x=0, y=0, sizex=width, sizey=height, **ON_AXES)],
                  height=int(60 + rows * height_per_row * min(1.5, max(0.4, h / w))),
                  margin=dict(l=5, r=5, t=40 if title else 5, b=5), showlegend=False,
                  **image_axes([0, width], [height, 0]))
    return new_figure([text_labels(corners, color="white", shadow=_HALO)], layout)


def channel_grid(stack: np.ndarray, per_channel: bool, title: str,
                 labels: list[str] | None = None, wrap: int = 8, max_side: int = 160,
                 symmetric: bool = False) -> go.Figure:
    """All channels of a (C, H, W) stack in one figure, grey scale, shared or per-channel
    (``symmetric``: from -max|v| to +max|v|, per channel or shared, so 0 is mid-grey).
    Tiles are shown ~160 px wide, so larger maps are subsampled to that first."""
    stack = downsampled(stack, max_side).astype(np.float32)
    if symmetric:
        low = (
            -np.abs(stack).max(axis=(1, 2), keepdims=True) if per_channel else -np.abs(stack).max()
        )
        span = -2 * low
    elif per_channel:
        low = stack.min(axis=(1, 2), keepdims=True)
        span = stack.max(axis=(1, 2), keepdims=True) - low
    else:
        low, span = stack.min(), stack.max() - stack.min()
    scaled = (stack - low) / np.where(span > 0, span, 1.0)
    tiles = (scaled * 255 + 0.5).astype(np.uint8)
    return mosaic(tiles, labels or [f"ch {c}" for c in range(len(stack))], title, wrap)


def window_heatmap(squares: np.ndarray, row0: int, col0: int) -> go.Figure:
    """The squared values in a within-channel window (zero outside the image)."""
    return new_figure([dict(
        type="heatmap", z=squares, x=list(range(col0, col0 + squares.shape[1])),
        y=list(range(row0, row0 + squares.shape[0])), colorscale=colour_scale("Viridis"),
        hovertemplate="row %{y}, column %{x}: x² = %{z:.4g}<extra></extra>")],
        dict(height=300, margin=dict(COLOUR_BAR_MARGIN, t=30),
             title=dict(text="x² in the window around the pixel"),
             yaxis=dict(autorange="reversed", scaleanchor="x", title=dict(text="row")),
             xaxis=dict(title=dict(text="column"))))


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


def jacobian_heatmap(values: np.ndarray, row0: int, col0: int, centre: tuple[int, int],
                     title: str) -> go.Figure:
    """d y_(r,s) / d x over the pixels around (r, s), on a diverging scale centred on 0.
    The scale is set by the neighbours, so that the centre (far larger) does not wash
    them out; it saturates, and the title gives its value."""
    others = values.copy()
    others[centre[0] - row0, centre[1] - col0] = 0
    bound = float(np.abs(others).max()) or float(np.abs(values).max()) or 1.0
    return new_figure([dict(
        type="heatmap", z=values, x=list(range(col0, col0 + values.shape[1])),
        y=list(range(row0, row0 + values.shape[0])), colorscale=colour_scale("RdBu"),
        reversescale=True,
        zmin=-bound, zmax=bound, hovertemplate="row %{y}, column %{x}: %{z:.4g}<extra></extra>")],
        dict(height=340, margin=COLOUR_BAR_MARGIN, title=dict(text=title),
             yaxis=dict(autorange="reversed", scaleanchor="x", title=dict(text="row")),
             xaxis=dict(title=dict(text="column"))))
