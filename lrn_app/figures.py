"""Plotly figures for the app: plain functions from arrays to figures, no Streamlit.

Each figure is built in one go from plain dicts, ``_figure(data, layout)``, without plotly's
property validation: validating a figure took 5 to 35 ms here (a mosaic's 16 labels, as
annotations, alone about 20 ms), once per figure and slider move, against about 1 ms for
the same figure unvalidated. The dicts are fixed by this module, so validation would catch
only our own mistakes: the tests build every figure with validation on (``VALIDATE``) and
check that it passes and gives the same JSON.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import io
import json

import numpy as np
import plotly.colors
import plotly.graph_objects as go
from PIL import Image

VALIDATE = False  # tests set it: plotly then checks every property of every figure

# Every figure a slider move changes is drawn once, not twice. Streamlit's frontend renders a
# new chart, then at once again with a fresh copy of its figure (its theme applied anew), and
# plotly.react draws it all over again unless that copy compares equal to what it drew. It
# compares a template by reference (Streamlit's theme arrives as one), so the figures carry the
# theme's look themselves (_LOOK; ui.chart passes theme=None) and no template (_Untemplated).
# It compares data arrays by reference too, unless the layout's datarevision says whether they
# changed, which _Untemplated sets from the data; and a 1-D numpy array reaches plotly.js as a
# typed array, which always counts as changed, so those go as lists (_plain).
_FONT = '"Source Sans", sans-serif'
_TEXT, _HEADING, _GRID = "#808495", "#2F2D2B", "#e6eaf1"
_LOOK = dict(
    font=dict(family=_FONT, size=12, color=_TEXT),
    title=dict(font=dict(family=_FONT, size=16, color=_HEADING), x=0, xanchor="left",
               pad=dict(l=4)),
    legend=dict(font=dict(size=12, color="#262730"), bordercolor="rgba(0,0,0,0)", borderwidth=0,
                valign="top"),
    paper_bgcolor="#FFFFFF", plot_bgcolor="#FFFFFF", margin=dict(pad=8),
    hoverlabel=dict(bgcolor="#FFFFFF", bordercolor="#DCD8D4",
                    font=dict(family=_FONT, size=12, color=_TEXT)),
    colorway=["#0068c9", "#83c9ff", "#ff2b2b", "#ffabab", "#29b09d", "#7defa1", "#ff8700",
              "#ffd16a", "#6d3fc0", "#d5dae5"])
_AXIS_LOOK = dict(gridcolor=_GRID, zerolinecolor=_GRID, tickcolor=_GRID, automargin=True,
                  tickfont=dict(color=_TEXT, size=12), title=dict(font=dict(color=_TEXT, size=14)))
_X_LOOK = _AXIS_LOOK | dict(showgrid=False, zeroline=False,
                            title=_AXIS_LOOK["title"] | dict(standoff=20))
_Y_LOOK = _AXIS_LOOK | dict(ticklabelposition="outside",
                            title=_AXIS_LOOK["title"] | dict(standoff=24))


def _merged(base: dict, own: dict) -> dict:
    """``own`` over ``base``, nested dicts merged key by key."""
    out = dict(base)
    for key, value in own.items():
        out[key] = _merged(base[key], value) if isinstance(value, dict) and isinstance(
            base.get(key), dict) else value
    return out


def _figure(data: list | dict, layout: dict, frames: list | None = None) -> go.Figure:
    """go.Figure from plain dicts (traces with their ``type``), validated only if VALIDATE,
    in the look of Streamlit's theme (_LOOK) and without a template; titles in bold, as that
    theme draws them."""
    layout = _merged(_LOOK, layout)
    for name in layout:
        if name.startswith(("xaxis", "yaxis")):
            layout[name] = _merged(_X_LOOK if name[0] == "x" else _Y_LOOK, layout[name])
    if layout.get("title", {}).get("text"):
        layout["title"] = layout["title"] | dict(text=f"<b>{layout['title']['text']}</b>")
    # An empty template, else plotly.py copies its default one (Streamlit's) into the new
    # figure and again in to_dict, only for _Untemplated to drop it: 1.1 of the 2.6 ms that a
    # channel grid's figure took to build and serialise, four times a move on Gradients.
    layout["template"] = {}
    return _Untemplated(_plain(data), layout, _plain(frames), _validate=VALIDATE)


def _plain(value):
    """``value`` with its 1-D numpy arrays as lists, in nested lists and dicts too."""
    if isinstance(value, np.ndarray) and value.ndim == 1:
        return value.tolist()
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class _Untemplated(go.Figure):
    """A figure whose dict (what st.plotly_chart and to_json send) has no template at all,
    not even the empty one _figure gives it (plotly.js compares a template by reference, and
    Streamlit's second render parses the figure afresh), and whose layout's datarevision is a
    digest of its data: the same figure, the same revision."""

    def to_dict(self) -> dict:
        figure = super().to_dict()
        figure["layout"].pop("template", None)
        figure["layout"]["datarevision"] = hashlib.sha1(
            json.dumps(figure["data"], sort_keys=True, default=str).encode()).hexdigest()[:16]
        return figure


PANELS = ("input", "S", "denominator", "output", "gain")
TITLES = {"input": "input x", "S": "window sum S", "denominator": "(k + a·S)^β",
          "output": "output y", "gain": "gain y / x"}


def enlarge_text(figure: go.Figure, size: int) -> go.Figure:
    """Every text of the figure at ``size`` px, its title at size + 2 and the axes' ticks at
    size - 2 (presentation mode): the layout's, the axes' ticks and titles, the legend's, a
    slider's value, the annotations' and the text labels' (_text_labels); the margins with
    tick labels in them grow alike. The annotations are replaced as one list:
    fig.update_annotations validated each one's font in turn."""
    layout = figure.layout
    layout.font.size = size
    layout.legend.font.size = size  # these set their own sizes (_LOOK, _AXIS_LOOK, _slider)
    ticks = size - 2  # a step below the text, as _AXIS_LOOK's 12 against _LOOK's 14
    for axis in (*figure.select_xaxes(), *figure.select_yaxes()):
        axis.tickfont.size = ticks
        axis.title.font.size = size
    for slider in layout.sliders:
        slider.currentvalue.font.size = size
    # The left and bottom margins hold the axes' tick labels (and a slider's): they grow with
    # the labels, or plotly widens them itself and draws the figure twice; the figure grows by
    # what its bottom margin gains, so that its plot keeps its height. (A colour bar's labels,
    # in the right margin, were at the layout's font size already.)
    grow = ticks / _AXIS_LOOK["tickfont"]["size"]
    for side in ("l", "b"):
        if layout.margin[side] is not None:
            wider = round(layout.margin[side] * grow)
            if side == "b" and layout.height is not None:
                layout.height += wider - layout.margin.b
            layout.margin[side] = wider
    for trace in figure.data:
        if trace.type == "scatter" and trace.mode == "text":
            trace.textfont.size = size
    if layout.annotations:
        layout.annotations = [{**a.to_plotly_json(),
                               "font": {**a.font.to_plotly_json(), "size": size}}
                              for a in layout.annotations]
    if layout.title.text:
        layout.title.font.size = size + 2
    return figure


def finite(array: np.ndarray) -> tuple[np.ndarray, int]:
    """The array with NaN and inf replaced by 0, and how many values were replaced."""
    with np.errstate(over="ignore", invalid="ignore"):  # NaN and inf carry into a sum:
        if np.isfinite(array.sum()):  # a finite sum means none (one fast pass; a sum that
            return array, 0  # overflows, of finite values, takes the full count below)
    bad = ~np.isfinite(array)
    count = int(bad.sum())
    return (np.where(bad, 0.0, array) if count else array), count


def _downsample(z: np.ndarray, max_side: int) -> np.ndarray:
    """Every k-th pixel of the last two axes so that their long side is at most max_side
    (a panel a few hundred pixels wide shows no more, and the browser gets far less data)."""
    step = max(1, -(-max(z.shape[-2:]) // max_side))
    return z[..., ::step, ::step]


@functools.lru_cache(maxsize=8)
def _colorscale(name: str) -> tuple:
    """A named plotly colour scale as its stops, as plotly's validation writes it (plotly.js
    knows some names too, but with other colours); a tuple, as it is shared."""
    return tuple(map(tuple, plotly.colors.get_colorscale(name)))


@functools.lru_cache(maxsize=8)
def _lookup_table(colorscale: str) -> np.ndarray:
    """(256, 3) uint8 colours of a plotly colour scale."""
    colours = plotly.colors.sample_colorscale(colorscale, list(np.linspace(0, 1, 256)),
                                              colortype="tuple")
    return (np.array(colours) * (255 if max(max(c) for c in colours) <= 1 else 1)).round().astype(np.uint8)


# Titles over images on hidden axes: their point just above the image (the text rises into the
# top margin from it), and the axis's range reaching that far. Plotly hides a text point outside
# the range even with cliponaxis off, so on a wide page, where the range is not widened to keep
# the images' aspect, titles at the image's top edge with the range ending there were not drawn.
_TITLES_AT, _TITLES_RANGE = -0.02, -0.03  # of the image's height


def panels_row(maps: dict[str, np.ndarray], height: int | None = None, max_side: int = 160,
               titles: dict[str, str] | None = None) -> go.Figure:
    """(H, W) maps side by side, each with its own colour bar: by default the five
    quantities of one channel (PANELS), titled by TITLES.

    Built to be cheap for the browser, which draws it anew on every slider move: each panel
    is a colour-mapped PNG and each colour bar a static strip image with its low, middle
    and high values as labels (_text_labels), all on one pair of hidden axes (plotly's own
    colour bars and one subplot per panel took several times longer to draw). Exact
    values: the pixel inspector.
    """
    titles = titles or TITLES
    zs = {name: _downsample(m, max_side) for name, m in maps.items()}
    h = max(z.shape[0] for z in zs.values())
    w = max(z.shape[1] for z in zs.values())
    bar, room = 0.05 * w, 0.34 * w  # a colour bar's width, and the room for it and its labels
    images, labels = [], []
    for i, (name, z) in enumerate(zs.items()):
        x0 = i * (w + room)
        low, high = float(z.min()), float(z.max())
        scale = "Magma" if name == "gain" else "Viridis"
        images.append(dict(source=_png_source(_levels(z, low, high, 256), _lookup_table(scale)),
                           x=x0, y=0, sizex=z.shape[1], sizey=z.shape[0], **_ON_AXES))
        bar_x = x0 + w + 0.04 * w
        images.append(dict(source=_colour_bar_source(scale), x=bar_x, y=0.05 * h, sizex=bar,
                           sizey=0.9 * h, **_ON_AXES))
        # a flat map: one label with its value, at mid-height
        ticks = ((0.0, low), (0.5, (low + high) / 2), (1.0, high)) if high > low else ((0.5, low),)
        for frac, value in ticks:
            labels.append((f"{value:.3g}", bar_x + bar, 0.05 * h + (1 - frac) * 0.9 * h,
                           "middle right", 10))
        labels.append((titles.get(name, name), x0 + w / 2, _TITLES_AT * h, "top center", 14))
    total = len(zs) * (w + room)
    if height is None:  # the row's own shape at a typical width of the page's main column
        height = int(np.clip(40 + 1200 * h / total, 150, 400))
    layout = dict(height=height, margin=dict(l=5, r=5, t=30, b=5), showlegend=False,
                  images=images, **_image_axes([0, total], [h, _TITLES_RANGE * h],
                                               fixedrange=True))
    return _figure([_text_labels(labels)], layout)


def _text_labels(labels: list[tuple], **textfont) -> dict:
    """(text, x, y, textposition, font size) labels as one text trace on the axes. The image
    figures drew them as annotations before, which plotly draws twice as slowly: in a blank
    page, plotly drew the Explorer's panel row and channel grid in 31 ms with annotations,
    21 ms with this trace and 11 ms with no labels at all, on every slider move."""
    text, x, y, position, size = (list(column) for column in zip(*labels))
    return dict(type="scatter", mode="text", x=x, y=y, text=text, textposition=position,
                textfont=dict(size=size, **textfont), hoverinfo="skip", cliponaxis=False,
                showlegend=False)


# A text trace has no background box: a label on an image gets a dark halo (a CSS text shadow)
# under white text instead, readable on bright and dark tiles alike.
_HALO = "0 0 2px black, 0 0 2px black, 0 0 3px black"
# A layout image placed on the hidden axes by its top-left corner.
_ON_AXES = dict(xref="x", yref="y", sizing="stretch", xanchor="left", yanchor="top", layer="below")


def _image_axes(x_range: list, y_range: list, x: dict | None = None, y: dict | None = None,
                **both) -> dict:
    """The hidden x and y axes of a figure of layout images, one pixel as wide as high
    (scaleanchor), ``x`` and ``y`` for one axis, ``both`` for both.

    The plot narrows to keep that aspect (constrain="domain") rather than widening its
    range: Streamlit draws a new chart twice, first before it knows its width, and in about
    one move of three its second drawing brought the range as first given, so that plotly,
    finding it changed, placed every trace and label anew (the panel row: 391 attribute
    changes, 15 to 30 ms late in the move)."""
    return dict(xaxis=dict(range=x_range, visible=False, constrain="domain", **both, **(x or {})),
                yaxis=dict(range=y_range, visible=False, scaleanchor="x", constrain="domain",
                           **both, **(y or {})))


def _png_source(image: np.ndarray, palette: np.ndarray | None = None,
                compress_level: int = 1) -> str:
    """A PNG data URL of a uint8 image: grey (H, W), RGB or RGBA (H, W, 3 or 4), or (H, W)
    indices into a (256, 3) ``palette``. A palette image of a colour-mapped map encodes in a
    third of the time of the same image in RGB, and comes out less than half the size."""
    image = Image.fromarray(image)
    if palette is not None:
        image.putpalette(palette.ravel().tolist())  # an "L" image with a palette is a "P" one
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=compress_level)  # 1: speed over size
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _jpeg_source(image: np.ndarray, quality: int = 90) -> str:
    """A JPEG data URL of a grey (H, W) uint8 image."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


# Grey tiles this large are pictures of maps, where JPEG's error of a few grey levels does not
# show, and JPEG encodes them 10 times faster than PNG (16 maps of 128 px: 1 against 13 ms, on
# every slider move). Smaller tiles (kernels, filters) keep PNG: there each pixel counts.
JPEG_MIN_TILE = 64


def mosaic(tiles: np.ndarray, labels: list[str], title: str = "", wrap: int = 8,
           gap: int = 4, height_per_row: int = 150) -> go.Figure:
    """(N, H, W) or (N, H, W, 3) uint8 tiles as one image in one figure, labelled.

    One image for all tiles (a faceted px.imshow of 16 channels takes ~10x longer to build),
    drawn as a layout image on hidden axes, the labels a text trace: drawn as an image trace
    instead, the Explorer's key press to last change was about 70 ms slower (400 against
    330 ms).
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
                  images=[dict(source=(_jpeg_source(canvas) if canvas.ndim == 2
                                       and min(h, w) >= JPEG_MIN_TILE else _png_source(canvas)),
                               x=0, y=0, sizex=width, sizey=height, **_ON_AXES)],
                  height=int(60 + rows * height_per_row * min(1.5, max(0.4, h / w))),
                  margin=dict(l=5, r=5, t=40 if title else 5, b=5), showlegend=False,
                  **_image_axes([0, width], [height, 0]))
    return _figure([_text_labels(corners, color="white", shadow=_HALO)], layout)


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


# Margins that already hold what plotly draws in them: tick labels, axis titles, a legend
# below. Where a margin is too small for them, plotly widens it and then draws the whole figure
# a second time (automargin): on every slider move, for every such figure (about 60 ms a move
# for the Conventions page's two matrices). The figures keep automargin, so text that does not
# fit (presentation mode's larger fonts, long labels) still shows, at the price of that redraw.
_AXES_MARGIN = dict(l=90, r=10, t=40, b=50)  # numeric axes, each with a title
_COLOUR_BAR_MARGIN = dict(_AXES_MARGIN, r=115, b=80)  # and a plotly colour bar on the right
_LEGEND_MARGIN = dict(_AXES_MARGIN, b=140)  # and a legend at the bottom (_LEGEND_BELOW)


def window_bars(labels: list[str], squares: np.ndarray, centre: int) -> go.Figure:
    """The squared values in an across-channel window, the centre channel highlighted."""
    colours = ["#d62728" if i == centre else "#1f77b4" for i in range(len(labels))]
    return _figure([dict(type="bar", x=labels, y=squares, marker=dict(color=colours),
                         hovertemplate="%{x}: x² = %{y:.4g}<extra></extra>")],
                   dict(height=260, margin=dict(_AXES_MARGIN, t=30, b=40),
                        title=dict(text="x² of the channels in the window (red: this channel)"),
                        yaxis=dict(title=dict(text="x²"))))


def window_heatmap(squares: np.ndarray, row0: int, col0: int) -> go.Figure:
    """The squared values in a within-channel window (zero outside the image)."""
    return _figure([dict(
        type="heatmap", z=squares, x=list(range(col0, col0 + squares.shape[1])),
        y=list(range(row0, row0 + squares.shape[0])), colorscale=_colorscale("Viridis"),
        hovertemplate="row %{y}, column %{x}: x² = %{z:.4g}<extra></extra>")],
        dict(height=300, margin=dict(_COLOUR_BAR_MARGIN, t=30),
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


def _signed_colours(values: np.ndarray) -> list[str]:
    return ["#d62728" if v > 0 else "#1f77b4" if v < 0 else "#7f7f7f" for v in values]


def jacobian_bars(labels: list[str], values: np.ndarray, title: str) -> go.Figure:
    """d y_c / d x over the channels around c: red raises the output, blue lowers it."""
    return _figure([dict(type="bar", x=labels, y=values, marker=dict(color=_signed_colours(values)),
                         hovertemplate="%{x}: %{y:.4g}<extra></extra>")],
                   dict(height=300, margin=dict(_AXES_MARGIN, b=40), title=dict(text=title),
                        yaxis=dict(title=dict(text="∂y / ∂x"), zeroline=True, zerolinewidth=2)))


def jacobian_heatmap(values: np.ndarray, row0: int, col0: int, centre: tuple[int, int],
                     title: str) -> go.Figure:
    """d y_(r,s) / d x over the pixels around (r, s), on a diverging scale centred on 0.
    The scale is set by the neighbours, so that the centre (far larger) does not wash
    them out; it saturates, and the title gives its value."""
    others = values.copy()
    others[centre[0] - row0, centre[1] - col0] = 0
    bound = float(np.abs(others).max()) or float(np.abs(values).max()) or 1.0
    return _figure([dict(
        type="heatmap", z=values, x=list(range(col0, col0 + values.shape[1])),
        y=list(range(row0, row0 + values.shape[0])), colorscale=_colorscale("RdBu"),
        reversescale=True,
        zmin=-bound, zmax=bound, hovertemplate="row %{y}, column %{x}: %{z:.4g}<extra></extra>")],
        dict(height=340, margin=_COLOUR_BAR_MARGIN, title=dict(text=title),
             yaxis=dict(autorange="reversed", scaleanchor="x", title=dict(text="row")),
             xaxis=dict(title=dict(text="column"))))


COLOURS = {"input": "#7f7f7f", "LRN": "#d62728", "BatchNorm": "#1f77b4"}
# At the figure's bottom edge, under the x axis's title, in _LEGEND_MARGIN: placed relative to
# the plot area instead, its room would depend on the plot's height.
_LEGEND_BELOW = dict(orientation="h", y=0, yref="container", yanchor="bottom", x=0.5,
                     xanchor="center")


def activation_statistics(edges: np.ndarray, counts: dict[str, np.ndarray],
                          means: dict[str, np.ndarray], stds: dict[str, np.ndarray]) -> go.Figure:
    """One image's activations before and after each normalisation, three views side by side
    with one legend: their histograms over shared bins as step lines (bars would hide each
    other) on a log count axis (ReLU features are mostly exact zeros), and each channel's mean
    and standard deviation. One figure, not three in columns: drawn in one pass, and Streamlit
    drew the second and third column's chart twice on every move (its width arrived late)."""
    centres = (edges[:-1] + edges[1:]) / 2
    traces = [dict(type="scatter", x=centres, y=np.where(c > 0, c, np.nan), name=name,
                   legendgroup=name, mode="lines", line=dict(shape="hvh", color=COLOURS.get(name)),
                   hovertemplate="%{x:.3g}: %{y} values<extra>" + name + "</extra>")
              for name, c in counts.items()]
    for axis, values, what in ((2, means, "mean"), (3, stds, "std")):
        traces += [dict(type="scatter", x=np.arange(len(v)), y=v, name=name, legendgroup=name,
                        showlegend=False, mode="lines+markers", line=dict(color=COLOURS.get(name)),
                        xaxis=f"x{axis}", yaxis=f"y{axis}",
                        hovertemplate=f"ch %{{x}}: {what} %{{y:.3g}}<extra>{name}</extra>")
                   for name, v in values.items()]
    domains = ((0.0, 0.27), (0.365, 0.635), (0.73, 1.0))  # the gaps hold the y axes' labels
    titles = ("Activations of this image", "Each channel's mean", "Each channel's std")
    layout = dict(height=360, margin=dict(_LEGEND_MARGIN, t=50, b=120), legend=_LEGEND_BELOW,
                  annotations=[dict(text=f"<b>{title}</b>", x=sum(domain) / 2, y=1, xref="paper",
                                    yref="paper", xanchor="center", yanchor="bottom", yshift=12,
                                    showarrow=False, font=dict(size=15, color=_HEADING))
                               for title, domain in zip(titles, domains)])
    axis_titles = zip(domains, ("activation", "channel", "channel"), ("values", "mean", "std"))
    for i, (domain, x_title, y_title) in enumerate(axis_titles, start=1):
        suffix = "" if i == 1 else str(i)
        layout[f"xaxis{suffix}"] = dict(domain=domain, anchor=f"y{suffix}",
                                        title=dict(text=x_title))
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", title=dict(text=y_title),
                                        **({"type": "log"} if i == 1 else {}))
    return _figure(traces, layout)


def _short_e(value: float) -> str:
    """1.5e-07 as 1.5e-7: a cell's number, one character shorter so that it fits its cell."""
    if not np.isfinite(value):
        return "NaN" if np.isnan(value) else f"{value}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def difference_matrix(names: list[str], matrix: np.ndarray, title: str) -> go.Figure:
    """Pairwise largest differences, coloured on a log scale (1e-8 and 1e-1 must both
    read), each pair once: the matrix is symmetric with a zero diagonal, so only the cells
    below the diagonal are drawn, each labelled with its value. The mirrored half doubled
    the numbers to read, and plotly's time to draw the two matrices on every slider move
    (in a blank page, 34 to 42 ms a matrix of nine names with every cell, 21 to 22 below the
    diagonal)."""
    below = np.tri(len(names), k=-1, dtype=bool)
    shade = np.where(below, np.log10(np.maximum(matrix, 1e-12)), np.nan)
    text = [[("0" if v == 0 else _short_e(v)) if drawn else "" for v, drawn in zip(row, keep)]
            for row, keep in zip(matrix, below)]
    return _figure([dict(type="heatmap", z=shade, x=names, y=names, text=text,
                         texttemplate="%{text}", zmin=-12, zmax=0, colorscale=_colorscale("Reds"),
                         showscale=False, hoverongaps=False,
                         hovertemplate="%{y} vs %{x}: %{text}<extra></extra>")],
                   # room for the names, the x axis's slanted where the columns are narrow;
                   # r: the last slanted name reaches past the plot's right edge, in
                   # presentation mode's larger font too (plotly would widen a margin too
                   # small for it, and draw the figure a second time on every move)
                   dict(height=80 + 45 * len(names), margin=dict(l=95, r=45, t=40, b=80),
                        title=dict(text=title),  # no grid lines across the empty half
                        xaxis=dict(showgrid=False, automargin=False),  # b holds its names
                        yaxis=dict(autorange="reversed", showgrid=False)))


def number_grid(values: np.ndarray, row_labels, col_labels, title: str,
                outlined: list[tuple[int, int]] = (), marked: list[tuple[int, int]] = (),
                centre: tuple[int, int] | None = None) -> go.Figure:
    """A small tensor as a grid of its numbers: ``outlined`` cells framed in blue (the window
    of one output), ``marked`` cells shaded orange (what the last edit changed), ``centre``
    framed in red (the output explained)."""
    rows, cols = values.shape
    shade = np.zeros(values.shape)
    for r, c in marked:
        shade[r, c] = 1.0
    text = [[f"{v:.4g}" for v in row] for row in values]

    def frame(r, c, colour, width):
        return dict(type="rect", x0=c - 0.5, x1=c + 0.5, y0=r - 0.5, y1=r + 0.5,
                    line=dict(color=colour, width=width))
    shapes = [frame(r, c, "#1f77b4", 3) for r, c in outlined]
    if centre is not None:
        shapes.append(frame(*centre, "#d62728", 4))
    return _figure([dict(
        type="heatmap", z=shade, text=text, texttemplate="%{text}", x=list(col_labels),
        y=list(row_labels),
        zmin=0, zmax=1, colorscale=[(0, "#f4f4f4"), (1, "#ffbb78")], showscale=False, xgap=2,
        ygap=2, hovertemplate="%{y}, %{x}: %{text}<extra></extra>")],
        dict(height=100 + 42 * rows, margin=dict(l=40, r=5, t=75, b=5),  # l: the row labels
             title=dict(text=title),
             shapes=shapes, yaxis=dict(autorange="reversed", type="category"),
             xaxis=dict(type="category", side="top")))


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
                traces.append(dict(type="scatter", x=x + x[::-1], y=high + low[::-1], fill="toself",
                                   mode="lines", fillcolor=_rgba(colour, 0.18), line=dict(width=0),
                                   hoverinfo="skip", showlegend=False, legendgroup=name))
            traces.append(dict(
                type="scatter", x=x, y=mean, mode="lines+markers" if solid else "lines",
                legendgroup=name,
                name=name if solid else f"{name} (training)", showlegend=solid,
                line=(dict(color=colour, width=2.5) if solid
                      else dict(color=colour, width=1.2, dash="dot")),
                hovertemplate=f"{name}, epoch %{{x}}: %{{y:.3g}} "
                              f"({'validation' if solid else 'training'})<extra></extra>"))
    return _figure(traces, dict(height=360, margin=_LEGEND_MARGIN,
                                title=dict(text=title),
                                xaxis=dict(title=dict(text="epoch"), dtick=1),
                                yaxis=dict(title=dict(text=y_title)),
                                legend=_LEGEND_BELOW))


def _paired_png_source(left: np.ndarray, right: np.ndarray, gap: int) -> str:
    """Two maps of 0..126 side by side in one palette PNG, the left in Viridis (indices
    0..126), the right in Magma (127..253), white between: one image per frame is one image
    for the browser to decode and draw, and a palette PNG is several times smaller than RGB."""
    h, w = left.shape
    canvas = np.full((h, 2 * w + gap), 255, dtype=np.uint8)
    canvas[:, :w], canvas[:, w + gap:] = left, right + 127
    palette = np.concatenate([_lookup_table("Viridis")[::2][:127],
                              _lookup_table("Magma")[::2][:127], [[255, 255, 255]] * 2])
    return _png_source(canvas, palette, compress_level=6)  # built once per view: size first


def _levels(stack: np.ndarray, low: float, high: float, levels: int = 127) -> np.ndarray:
    """Values mapped to 0..levels-1 on one range shared by the whole stack."""
    if high <= low:
        return np.zeros(stack.shape, dtype=np.uint8)
    return ((np.clip(stack, low, high) - low) / (high - low) * (levels - 1) + 0.5).astype(np.uint8)


@functools.lru_cache(maxsize=4)
def _colour_bar_source(colorscale: str) -> str:
    """A vertical strip of a colour scale, its top the scale's high end."""
    return _png_source(_lookup_table(colorscale)[::-1, None, :].repeat(6, axis=1))


def scrub_figure(output: np.ndarray, gain: np.ndarray, mean_gain: np.ndarray, values: list,
                 label: str, active: int, log_x: bool = False, max_bytes: int = 1_300_000,
                 height: int = 420) -> go.Figure:
    """One channel's output and gain at each value of a parameter, one image per value, with
    plotly's own slider to move between them in the browser, with no server round trip.
    Beside them, the channel's mean gain against the parameter, a dot on the current value.

    Each step of the slider is a ``relayout`` of layout images alone (the frame's image and
    the dot), which plotly redraws by themselves: 13 ms a step in a blank page, against 100
    ms for the same images as ``animate`` frames of an image trace, which is not animatable,
    so plotly redraws the whole figure (axes, slider, labels) on every step. (No play button,
    then: playing needs frames, which would carry every image a second time.) Each image holds
    output and gain side by side on colour scales fixed over all values (a frame's own range
    would hide the change); the colour bars are static images with their values as labels.
    The images keep every pixel if all fit in ``max_bytes``, else every second (third, ...)."""
    ranges = [(float(output.min()), float(output.max())), (float(gain.min()), float(gain.max()))]
    gap_of = lambda w: max(4, w // 6)  # noqa: E731  (room for the output's colour bar)

    def encoded(pixel_step: int, frames) -> list[str]:
        out, gn = output[:, ::pixel_step, ::pixel_step], gain[:, ::pixel_step, ::pixel_step]
        return [_paired_png_source(_levels(out[i], *ranges[0]), _levels(gn[i], *ranges[1]),
                                   gap_of(out.shape[2])) for i in frames]

    # Three frames predict the size of all (a quarter of it at every second pixel, ...).
    probe = encoded(1, sorted({0, len(values) // 2, len(values) - 1}))
    per_frame = sum(map(len, probe)) / len(probe)
    pixel_step = next(s for s in range(1, 64) if per_frame * len(values) / s**2 <= max_bytes)
    while True:
        sources = encoded(pixel_step, range(len(values)))
        if sum(map(len, sources)) <= max_bytes or pixel_step >= 64:
            break
        pixel_step += 1
    h, w = output[0, ::pixel_step, ::pixel_step].shape
    gap = gap_of(w)
    total = 2 * w + gap

    images, labels = [dict(source=sources[active], x=0, y=0, sizex=total, sizey=h, **_ON_AXES)], []
    for (low, high), scale, x0 in ((ranges[0], "Viridis", w + 2), (ranges[1], "Magma", total + 2)):
        bar_w = max(2, gap // 5)
        images.append(dict(source=_colour_bar_source(scale), x=x0, y=0, sizex=bar_w, sizey=h,
                           **{**_ON_AXES, "layer": "above"}))
        labels += [(f"{low + frac * (high - low):.3g}", x0 + bar_w, (1 - frac) * h,
                    "middle right", 11) for frac in (0.0, 0.5, 1.0)]
    labels += [("output y", w / 2, _TITLES_AT * h, "top center", 15),
               ("gain y / x", w + gap + w / 2, _TITLES_AT * h, "top center", 15)]

    # The curve's axes are fixed (the dot is sized in their units): a log axis's layout
    # image sits at the value's log10, as its range is given.
    place = np.log10 if log_x else (lambda v: v)
    x_range = [float(place(values[0])), float(place(values[-1]))]
    x_pad = 0.04 * (x_range[1] - x_range[0] or 1.0)
    low, high = float(mean_gain.min()), float(mean_gain.max())
    y_pad = 0.08 * (high - low or abs(high) or 1.0)
    y_range = [low - y_pad, high + y_pad]

    def dot_at(i: int) -> dict:  # the dot's centre: this value on the curve
        return {"images[3].x": float(place(values[i])), "images[3].y": float(mean_gain[i])}

    # "contain": the dot stays round, at most a tenth of the curve's width, 7% of its height
    images.append(dict(source=_dot_source(), xref="x2", yref="y2", sizing="contain",
                       xanchor="center", yanchor="middle", layer="above",
                       sizex=0.1 * (x_range[1] - x_range[0] + 2 * x_pad),
                       sizey=0.07 * (y_range[1] - y_range[0]),
                       **{key.split(".")[1]: v for key, v in dot_at(active).items()}))
    # the curve's title sits above its subplot, in paper coordinates: an annotation still
    annotations = [dict(text=f"mean gain against {label}", x=0.9, y=1.0, xref="paper",
                        yref="paper", yanchor="bottom", showarrow=False, font=dict(size=15))]
    curve = dict(type="scatter", x=values, y=mean_gain, xaxis="x2", yaxis="y2",
                 mode="lines+markers", line=dict(color="#7f7f7f"),
                 marker=dict(size=5, color="#7f7f7f"),
                 hovertemplate=f"{label} = %{{x:.3g}}: mean gain %{{y:.3g}}<extra></extra>")
    layout = dict(
        # t: the toolbar; l and b: the slider and its labels
        height=height, margin=dict(l=15, r=5, t=60, b=65), showlegend=False,
        images=images, annotations=annotations,
        **_image_axes([0, total + gap], [h, _TITLES_RANGE * h], x=dict(domain=[0, 0.72]),
                      y=dict(domain=[0.22, 1]), fixedrange=True),
        xaxis2=dict(domain=[0.8, 1], type="log" if log_x else "linear", title=dict(text=label),
                    range=[x_range[0] - x_pad, x_range[1] + x_pad], fixedrange=True),
        yaxis2=dict(domain=[0.3, 0.95], anchor="x2", range=y_range, fixedrange=True),
        sliders=[_slider(values, label, active, length=0.72, steps=[
            dict(method="relayout", args=[{"images[0].source": sources[i], **dot_at(i)}])
            for i in range(len(values))])])
    return _figure([curve, _text_labels(labels)], layout)


@functools.lru_cache(maxsize=1)
def _dot_source() -> str:
    """A red dot on a transparent square, for the scrub view's current value."""
    side = 32
    yy, xx = np.mgrid[:side, :side]
    inside = (yy - (side - 1) / 2) ** 2 + (xx - (side - 1) / 2) ** 2 <= (side / 2 - 1) ** 2
    rgba = np.zeros((side, side, 4), dtype=np.uint8)
    rgba[inside] = (214, 39, 40, 255)
    return _png_source(rgba)


def _slider(values: list, label: str, active: int, length: float, steps: list) -> dict:
    """A scrub figure's plotly slider: ``steps`` (one per value), ``length`` of the width from
    the left, under the plots, whose domains end above it (reaching into a margin would widen
    it: a second drawing)."""
    for step, v in zip(steps, values):
        step["label"], step["value"] = f"{v:.3g}", repr(v)  # the value: for scrub_values
    return dict(active=active, pad=dict(t=10), len=length, x=0.0, y=0.12,
                transition=dict(duration=0),  # the grip jumps: no 150 ms glide
                currentvalue=dict(prefix=f"{label} = ", font=dict(size=16)), steps=steps)


def scrub_values(figure: go.Figure) -> list[float]:
    """The parameter's value at each frame of a scrub figure."""
    return [float(step.value) for step in figure.layout.sliders[0].steps]


def open_scrub_at(figure: go.Figure, index: int) -> go.Figure:
    """A scrub figure (scrub_figure, jacobian_scrub_figure) showing frame ``index``, as its
    slider's step ``index`` would leave it: changed in place, and returned."""
    slider = figure.layout.sliders[0]
    slider.active = index
    step = slider.steps[index]
    if step.method == "relayout":  # the layout paths it sets, as plotly.js would
        for path, value in step.args[0].items():
            figure.layout[path] = value
    else:  # animate: the frame's traces, and its title if it has one
        frame = figure.frames[index]
        for trace, new in zip(figure.data, frame.data):
            trace.update({key: v for key, v in new.to_plotly_json().items() if key != "type"})
        if frame.layout.title.text:
            figure.layout.title.text = frame.layout.title.text
    return figure


def _animate_controls(values: list, label: str, active: int, length: float,
                      redraw: bool = True) -> dict:
    """A scrub figure of data traces: its slider's steps animate to frame i (named str(i)),
    and play and pause buttons at the right, under the plot. ``redraw``: False where every
    trace is animatable (moved in place; the layout, title included, stays as it is)."""
    animate = dict(mode="immediate", frame=dict(duration=0, redraw=redraw),
                   transition=dict(duration=0))
    steps = [dict(method="animate", args=[[str(i)], animate]) for i in range(len(values))]
    return dict(
        sliders=[_slider(values, label, active, length, steps)],
        updatemenus=[dict(type="buttons", direction="left", x=1.0, y=0.0, xanchor="right",
                          buttons=[dict(label="▶ play", method="animate",
                                        args=[None, dict(mode="immediate", fromcurrent=True,
                                                         frame=dict(duration=150, redraw=redraw),
                                                         transition=dict(duration=0))]),
                                   dict(label="❚❚ pause", method="animate",
                                        args=[[None], dict(mode="immediate",
                                                           frame=dict(duration=0, redraw=False))])])])


_ABOVE_SLIDER = 0.32  # of the figure's plot height: where a Jacobian scrub view's plot starts


def jacobian_scrub_figure(rows: np.ndarray, values: list, label: str, active: int,
                          titles: list[str], channels: list[str] | None = None,
                          origin: tuple[int, int] = (0, 0),
                          centre: tuple[int, int] | None = None) -> go.Figure:
    """One output's Jacobian row at each value of a parameter, as the frames of one figure
    with plotly's own slider and a play button. One scale over all frames, so that a change
    is seen.

    Across channels ``rows`` is (frames, channels), drawn as bars named ``channels``, the
    positive and the negative ones as two traces of fixed colours: bars are animatable, so
    a step moves them without redrawing the figure (18 against 60 ms in a blank page), but
    then neither a per-bar colour nor the title changes, and ``titles`` is one title for
    all. Within a channel, (frames, rows, cols), a heatmap whose top left input is
    ``origin``, its scale set by the neighbours of ``centre`` (the centre, far larger,
    saturates): a heatmap is redrawn on each step, and each frame's title (``titles[i]``)
    gives its value and the centre's."""
    if channels is not None:
        low, high = min(float(rows.min()), 0.0), max(float(rows.max()), 0.0)
        pad = 0.05 * (high - low or 1.0)

        def frame_data(i):
            return [dict(type="bar", x=channels, y=np.maximum(rows[i], 0.0) if positive
                         else np.minimum(rows[i], 0.0), name=name,
                         marker=dict(color="#d62728" if positive else "#1f77b4"),
                         hovertemplate="%{x}: %{y:.4g}<extra></extra>")
                    for positive, name in ((True, "raises y"), (False, "lowers y"))]
        axes = dict(yaxis=dict(range=[low - pad, high + pad], title=dict(text="∂y / ∂x"),
                               zeroline=True, zerolinewidth=2, domain=[_ABOVE_SLIDER, 1]),
                    barmode="relative", showlegend=False)
        margin, redraw, title = dict(_AXES_MARGIN, b=65), False, titles[0]

        def frame_layout(i):
            return {}
    else:
        others = rows.copy()
        others[:, centre[0] - origin[0], centre[1] - origin[1]] = 0
        bound = float(np.abs(others).max()) or float(np.abs(rows).max()) or 1.0
        r, c = rows.shape[1:]

        def frame_data(i):
            return [dict(type="heatmap", z=rows[i], x=list(range(origin[1], origin[1] + c)),
                         y=list(range(origin[0], origin[0] + r)), colorscale=_colorscale("RdBu"),
                         reversescale=True, zmin=-bound, zmax=bound,
                         colorbar=dict(y=_ABOVE_SLIDER, yanchor="bottom", len=1 - _ABOVE_SLIDER),
                         hovertemplate="row %{y}, column %{x}: %{z:.4g}<extra></extra>")]
        # constrain: square cells by narrowing the plot, not by widening the column range
        axes = dict(yaxis=dict(autorange="reversed", scaleanchor="x", title=dict(text="row"),
                               domain=[_ABOVE_SLIDER, 1]),
                    xaxis=dict(title=dict(text="column"), constrain="domain"))
        margin, redraw, title = dict(_COLOUR_BAR_MARGIN, b=65), True, titles[active]

        def frame_layout(i):  # the title in bold, as _figure makes the first
            return dict(layout=dict(title=dict(text=f"<b>{titles[i]}</b>")))
    layout = dict(height=460, margin=margin, title=dict(text=title), **axes,
                  **_animate_controls(values, label, active, length=0.75, redraw=redraw))
    count = len(frame_data(active))
    frames = [dict(name=str(i), data=frame_data(i), traces=list(range(count)), **frame_layout(i))
              for i in range(len(values))]
    return _figure(frame_data(active), layout, frames)


def claim_chart(chart) -> tuple[go.Figure, int]:
    """A claims-lab chart (lrn_lab.claims.Chart): per series, the mean over the seeds at each x
    with error bars from the lowest to the highest seed, and every seed as a faint dot; bars
    for categories. Also returns how many figures were not numbers (a diverged run), which
    are left out and must be said."""
    traces, left_out = [], 0
    for i, series in enumerate(chart.series):
        colour = PALETTE[i % len(PALETTE)]
        columns = [[v for v in values if np.isfinite(v)] for values in series.values]
        left_out += sum(len(v) for v in series.values) - sum(len(c) for c in columns)
        x = [x for x, c in zip(series.x, columns) if c]
        columns = [c for c in columns if c]
        mean = [float(np.mean(c)) for c in columns]
        low = [m - min(c) for m, c in zip(mean, columns)]
        high = [max(c) - m for m, c in zip(mean, columns)]
        error = dict(type="data", symmetric=False, array=high, arrayminus=low, color=colour)
        hover = f"{series.label}, %{{x}}: %{{y:.3g}} (mean of the seeds)<extra></extra>"
        if chart.bars:
            traces.append(dict(type="bar", x=x, y=mean, error_y=error, name=series.label,
                               marker=dict(color=_rgba(colour, 0.55)), hovertemplate=hover))
        else:
            traces.append(dict(type="scatter", x=x, y=mean, error_y=error, mode="lines+markers",
                               name=series.label, line=dict(color=colour, width=2.5),
                               hovertemplate=hover))
        dots_x = [xi for xi, c in zip(x, columns) for _ in c]
        traces.append(dict(type="scatter", x=dots_x, y=[v for c in columns for v in c],
                           mode="markers", marker=dict(color=colour, size=6, opacity=0.45),
                           showlegend=False, name=f"{series.label}, each seed",
                           hovertemplate=f"{series.label}, %{{x}}: %{{y:.3g}} "
                                         "(one seed)<extra></extra>"))
    return _figure(traces, dict(
        height=340, margin=_LEGEND_MARGIN, title=dict(text=chart.title),
        xaxis=dict(title=dict(text=chart.x_title), **({"type": "log"} if chart.log_x else {})),
        yaxis=dict(title=dict(text=chart.y_title), **({"type": "log"} if chart.log_y else {})),
        showlegend=len(chart.series) > 1, legend=_LEGEND_BELOW)), left_out


def lrn_response(curves: list[dict]) -> go.Figure:
    """LRN's y(x) for a window of equal inputs, one line per layer, in units of the layer's
    input scale q: a dot where its inputs lie (x / q = 1), a cross at its fold (beyond
    which a larger input gives a smaller output) where that is on the drawn range."""
    traces = []
    for i, c in enumerate(curves):
        colour = PALETTE[(i + 1) % len(PALETTE)]
        traces.append(dict(type="scatter", x=c["x"], y=c["y"], mode="lines", name=c["label"],
                           line=dict(color=colour, width=2.5), legendgroup=c["label"],
                           hovertemplate="x/q %{x:.3g}: y/q %{y:.3g}<extra></extra>"))
        for value, symbol, what in ((1.0, "circle", "its inputs' scale q"),
                                    (c["fold"], "x", "the fold")):
            if np.isfinite(value) and value <= c["x"][-1]:
                traces.append(dict(type="scatter", x=[value],
                                   y=[float(np.interp(value, c["x"], c["y"]))], mode="markers",
                                   marker=dict(color=colour, size=11, symbol=symbol),
                                   showlegend=False, legendgroup=c["label"],
                                   hovertemplate=f"{c['label']}: {what} at x/q = %{{x:.3g}}"
                                                 "<extra></extra>"))
    return _figure(traces, dict(height=360, margin=_LEGEND_MARGIN,
                                title=dict(text="LRN's output for a window of equal inputs "
                                                "(dot: where the inputs lie; cross: the fold)"),
                                xaxis=dict(title=dict(text="input x / q (q: the layer's input "
                                                           "scale, 99.9th percentile)")),
                                yaxis=dict(title=dict(text="output y / q")),
                                legend=_LEGEND_BELOW))
