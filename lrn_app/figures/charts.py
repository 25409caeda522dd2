"""Charts of numbers: window bars, Jacobian bars, activation statistics, difference
matrices and number grids, the labs' training curves, claim charts and LRN's response.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lrn_app.figures.encode import colour_scale
from lrn_app.figures.look import AXES_MARGIN, HEADING, LEGEND_MARGIN, new_figure


def window_bars(labels: list[str], squares: np.ndarray, centre: int) -> go.Figure:
    """The squared values in an across-channel window, the centre channel highlighted."""
    colours = ["#d62728" if i == centre else "#1f77b4" for i in range(len(labels))]
    return new_figure([dict(type="bar", x=labels, y=squares, marker=dict(color=colours),
                         hovertemplate="%{x}: x² = %{y:.4g}<extra></extra>")],
                   dict(height=260, margin=dict(AXES_MARGIN, t=30, b=40),
                        title=dict(text="x² of the channels in the window (red: this channel)"),
                        yaxis=dict(title=dict(text="x²"))))


def _signed_colours(values: np.ndarray) -> list[str]:
    return ["#d62728" if v > 0 else "#1f77b4" if v < 0 else "#7f7f7f" for v in values]


def jacobian_bars(labels: list[str], values: np.ndarray, title: str) -> go.Figure:
    """d y_c / d x over the channels around c: red raises the output, blue lowers it."""
    bars = dict(type="bar", x=labels, y=values, marker=dict(color=_signed_colours(values)),
                hovertemplate="%{x}: %{y:.4g}<extra></extra>")
    return new_figure([bars], dict(height=300, margin=dict(AXES_MARGIN, b=40),
                                   title=dict(text=title),
                                   yaxis=dict(title=dict(text="∂y / ∂x"), zeroline=True,
                                              zerolinewidth=2)))


COLOURS = {"input": "#7f7f7f", "LRN": "#d62728", "BatchNorm": "#1f77b4"}
# At the figure's bottom edge, under the x axis's title, in LEGEND_MARGIN: placed relative to
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
    layout = dict(height=360, margin=dict(LEGEND_MARGIN, t=50, b=120), legend=_LEGEND_BELOW,
                  annotations=[dict(text=f"<b>{title}</b>", x=sum(domain) / 2, y=1, xref="paper",
                                    yref="paper", xanchor="center", yanchor="bottom", yshift=12,
                                    showarrow=False, font=dict(size=15, color=HEADING))
                               for title, domain in zip(titles, domains)])
    axis_titles = zip(domains, ("activation", "channel", "channel"), ("values", "mean", "std"))
    for i, (domain, x_title, y_title) in enumerate(axis_titles, start=1):
        suffix = "" if i == 1 else str(i)
        layout[f"xaxis{suffix}"] = dict(domain=domain, anchor=f"y{suffix}",
                                        title=dict(text=x_title))
        layout[f"yaxis{suffix}"] = dict(anchor=f"x{suffix}", title=dict(text=y_title),
                                        **({"type": "log"} if i == 1 else {}))
    return new_figure(traces, layout)


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
    the numbers to read, and nearly doubled plotly's time to draw the two matrices on every
    slider move."""
    below = np.tri(len(names), k=-1, dtype=bool)
    shade = np.where(below, np.log10(np.maximum(matrix, 1e-12)), np.nan)
    text = [[("0" if v == 0 else _short_e(v)) if drawn else "" for v, drawn in zip(row, keep)]
            for row, keep in zip(matrix, below)]
    return new_figure([dict(type="heatmap", z=shade, x=names, y=names, text=text,
                         texttemplate="%{text}", zmin=-12, zmax=0, colorscale=colour_scale("Reds"),
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
    return new_figure([dict(
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
    return new_figure(traces, dict(height=360, margin=LEGEND_MARGIN,
                                title=dict(text=title),
                                xaxis=dict(title=dict(text="epoch"), dtick=1),
                                yaxis=dict(title=dict(text=y_title)),
                                legend=_LEGEND_BELOW))


def claim_chart(chart) -> tuple[go.Figure, int]:
    """A claims-lab chart (lrn_lab.claim_parts.Chart): per series, the mean over the seeds at each x
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
    return new_figure(traces, dict(
        height=340, margin=LEGEND_MARGIN, title=dict(text=chart.title),
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
    return new_figure(traces, dict(height=360, margin=LEGEND_MARGIN,
                                title=dict(text="LRN's output for a window of equal inputs "
                                                "(dot: where the inputs lie; cross: the fold)"),
                                xaxis=dict(title=dict(text="input x / q (q: the layer's input "
                                                           "scale, 99.9th percentile)")),
                                yaxis=dict(title=dict(text="output y / q")),
                                legend=_LEGEND_BELOW))
