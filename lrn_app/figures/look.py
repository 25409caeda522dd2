"""The figures' look and how they are built: Streamlit's theme carried by each figure, figures
built from plain dicts without plotly's validation, and the colours and margins the figures
share. No Streamlit.

Each figure is built in one go from plain dicts, ``new_figure(data, layout)``, without plotly's
property validation, which costs more than building the figure itself (docs/performance.md).
The dicts are fixed by this package, so validation would catch only our own mistakes: the
tests build every figure with validation on (``VALIDATE``) and check that it passes and
gives the same JSON.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import plotly.graph_objects as go

VALIDATE = False  # tests set it: plotly then checks every property of every figure

# Every figure a slider move changes is drawn once, not twice. Streamlit's frontend renders a
# new chart, then at once again with a fresh copy of its figure (its theme applied anew), and
# plotly.react draws it all over again unless that copy compares equal to what it drew. It
# compares a template by reference (Streamlit's theme arrives as one), so the figures carry the
# theme's look themselves (_LOOK; lrn_app.ui.widgets.chart passes theme=None) and no template
# (_Untemplated).
# It compares data arrays by reference too, unless the layout's datarevision says whether they
# changed, which _Untemplated sets from the data; and a 1-D numpy array reaches plotly.js as a
# typed array, which always counts as changed, so those go as lists (_plain).
_FONT = '"Source Sans", sans-serif'
_TEXT, HEADING, _GRID = "#808495", "#2F2D2B", "#e6eaf1"
_LOOK = dict(
    font=dict(family=_FONT, size=12, color=_TEXT),
    title=dict(font=dict(family=_FONT, size=16, color=HEADING), x=0, xanchor="left",
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


def new_figure(data: list | dict, layout: dict, frames: list | None = None) -> go.Figure:
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
    # figure and again in to_dict, only for _Untemplated to drop it: close to half the time a
    # channel grid's figure takes to build and serialise.
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
    not even the empty one new_figure gives it (plotly.js compares a template by reference, and
    Streamlit's second render parses the figure afresh), and whose layout's datarevision is a
    digest of its data: the same figure, the same revision."""

    def to_dict(self) -> dict:
        figure = super().to_dict()
        figure["layout"].pop("template", None)
        figure["layout"]["datarevision"] = hashlib.sha1(
            json.dumps(figure["data"], sort_keys=True, default=str).encode()).hexdigest()[:16]
        return figure


def enlarge_text(figure: go.Figure, size: int) -> go.Figure:
    """Every text of the figure at ``size`` px, its title at size + 2 and the axes' ticks at
    size - 2 (presentation mode): the layout's, the axes' ticks and titles, the legend's, a
    slider's value, the annotations' and the text labels' (text_labels); the margins with
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


# Titles over images on hidden axes: their point just above the image (the text rises into the
# top margin from it), and the axis's range reaching that far. Plotly hides a text point outside
# the range even with cliponaxis off, so on a wide page, where the range is not widened to keep
# the images' aspect, titles at the image's top edge with the range ending there were not drawn.
TITLES_AT, TITLES_RANGE = -0.02, -0.03  # of the image's height


# Margins that already hold what plotly draws in them: tick labels, axis titles, a legend
# below. Where a margin is too small for them, plotly widens it and then draws the whole figure
# a second time (automargin): on every slider move, for every such figure. The figures keep
# automargin, so text that does not fit (presentation mode's larger fonts, long labels) still
# shows, at the price of that redraw.
AXES_MARGIN = dict(l=90, r=10, t=40, b=50)  # numeric axes, each with a title
COLOUR_BAR_MARGIN = dict(AXES_MARGIN, r=115, b=80)  # and a plotly colour bar on the right
LEGEND_MARGIN = dict(AXES_MARGIN, b=140)  # and a legend at the bottom (_LEGEND_BELOW)
