"""The scrub views' figures: every frame of a sweep in one figure, with plotly's own slider
and animation, so that a frame changes under the mouse without a message to the server.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lrn_app.figures.encode import (
    colour_bar_source,
    colour_scale,
    dot_source,
    paired_png_source,
    quantised,
)
from lrn_app.figures.look import AXES_MARGIN, COLOUR_BAR_MARGIN, TITLES_AT, TITLES_RANGE, new_figure
from lrn_app.figures.maps import ON_AXES, image_axes, text_labels


def scrub_figure(output: np.ndarray, gain: np.ndarray, mean_gain: np.ndarray, values: list,
                 label: str, active: int, log_x: bool = False, max_bytes: int = 1_300_000,
                 height: int = 420) -> go.Figure:
    """One channel's output and gain at each value of a parameter, one image per value, with
    plotly's own slider to move between them in the browser, with no server round trip.
    Beside them, the channel's mean gain against the parameter, a dot on the current value.

    Each step of the slider is a ``relayout`` of layout images alone (the frame's image and
    the dot), which plotly redraws by themselves; as ``animate`` frames of an image trace,
    which is not animatable, plotly redrew the whole figure (axes, slider, labels) on every
    step, several times slower (docs/performance.md). (No play button,
    then: playing needs frames, which would carry every image a second time.) Each image holds
    output and gain side by side on colour scales fixed over all values (a frame's own range
    would hide the change); the colour bars are static images with their values as labels.
    The images keep every pixel if all fit in ``max_bytes``, else every second (third, ...)."""
    ranges = [(float(output.min()), float(output.max())), (float(gain.min()), float(gain.max()))]
    gap_of = lambda w: max(4, w // 6)  # noqa: E731  (room for the output's colour bar)

    def encoded(pixel_step: int, frames) -> list[str]:
        out, gn = output[:, ::pixel_step, ::pixel_step], gain[:, ::pixel_step, ::pixel_step]
        return [paired_png_source(quantised(out[i], *ranges[0]), quantised(gn[i], *ranges[1]),
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

    images, labels = [dict(source=sources[active], x=0, y=0, sizex=total, sizey=h, **ON_AXES)], []
    for (low, high), scale, x0 in ((ranges[0], "Viridis", w + 2), (ranges[1], "Magma", total + 2)):
        bar_w = max(2, gap // 5)
        images.append(dict(source=colour_bar_source(scale), x=x0, y=0, sizex=bar_w, sizey=h,
                           **{**ON_AXES, "layer": "above"}))
        labels += [(f"{low + frac * (high - low):.3g}", x0 + bar_w, (1 - frac) * h,
                    "middle right", 11) for frac in (0.0, 0.5, 1.0)]
    labels += [("output y", w / 2, TITLES_AT * h, "top center", 15),
               ("gain y / x", w + gap + w / 2, TITLES_AT * h, "top center", 15)]

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
    images.append(dict(source=dot_source(), xref="x2", yref="y2", sizing="contain",
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
        **image_axes([0, total + gap], [h, TITLES_RANGE * h], x=dict(domain=[0, 0.72]),
                      y=dict(domain=[0.22, 1]), fixedrange=True),
        xaxis2=dict(domain=[0.8, 1], type="log" if log_x else "linear", title=dict(text=label),
                    range=[x_range[0] - x_pad, x_range[1] + x_pad], fixedrange=True),
        yaxis2=dict(domain=[0.3, 0.95], anchor="x2", range=y_range, fixedrange=True),
        sliders=[_slider(values, label, active, length=0.72, steps=[
            dict(method="relayout", args=[{"images[0].source": sources[i], **dot_at(i)}])
            for i in range(len(values))])])
    return new_figure([curve, text_labels(labels)], layout)


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
    play = dict(label="▶ play", method="animate",
                args=[None, dict(mode="immediate", fromcurrent=True,
                                 frame=dict(duration=150, redraw=redraw),
                                 transition=dict(duration=0))])
    pause = dict(label="❚❚ pause", method="animate",
                 args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False))])
    return dict(
        sliders=[_slider(values, label, active, length, steps)],
        updatemenus=[dict(type="buttons", direction="left", x=1.0, y=0.0, xanchor="right",
                          buttons=[play, pause])])


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
    a step moves them without redrawing the figure (about three times faster), but
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
        margin, redraw, title = dict(AXES_MARGIN, b=65), False, titles[0]

        def frame_layout(i):
            return {}
    else:
        others = rows.copy()
        others[:, centre[0] - origin[0], centre[1] - origin[1]] = 0
        bound = float(np.abs(others).max()) or float(np.abs(rows).max()) or 1.0
        r, c = rows.shape[1:]

        def frame_data(i):
            return [dict(type="heatmap", z=rows[i], x=list(range(origin[1], origin[1] + c)),
                         y=list(range(origin[0], origin[0] + r)), colorscale=colour_scale("RdBu"),
                         reversescale=True, zmin=-bound, zmax=bound,
                         colorbar=dict(y=_ABOVE_SLIDER, yanchor="bottom", len=1 - _ABOVE_SLIDER),
                         hovertemplate="row %{y}, column %{x}: %{z:.4g}<extra></extra>")]
        # constrain: square cells by narrowing the plot, not by widening the column range
        axes = dict(yaxis=dict(autorange="reversed", scaleanchor="x", title=dict(text="row"),
                               domain=[_ABOVE_SLIDER, 1]),
                    xaxis=dict(title=dict(text="column"), constrain="domain"))
        margin, redraw, title = dict(COLOUR_BAR_MARGIN, b=65), True, titles[active]

        def frame_layout(i):  # the title in bold, as new_figure makes the first
            return dict(layout=dict(title=dict(text=f"<b>{titles[i]}</b>")))
    layout = dict(height=460, margin=margin, title=dict(text=title), **axes,
                  **_animate_controls(values, label, active, length=0.75, redraw=redraw))
    count = len(frame_data(active))
    frames = [dict(name=str(i), data=frame_data(i), traces=list(range(count)), **frame_layout(i))
              for i in range(len(values))]
    return new_figure(frame_data(active), layout, frames)
