"""The figures (lrn_app.figures): valid plotly built without validation, drawn once by
plotly.react, images that are their maps through the colour scale, labels that fit.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrn_app.figures import charts, encode, look, maps, sweeps


def test_symmetric_grid_puts_zero_at_mid_grey():
    import base64
    import io

    from PIL import Image
    stack = np.zeros((2, 4, 4), dtype=np.float32)
    stack[0, 0, 0], stack[1, 0, 0] = 1.0, -3.0
    fig = maps.channel_grid(stack, True, "", symmetric=True)
    png = base64.b64decode(fig.layout.images[0].source.split(",")[1])
    tiles = np.asarray(Image.open(io.BytesIO(png)))
    assert tiles[1, 1] in (127, 128) and tiles[0, 0] == 255  # zero mid-grey, max white
    assert tiles[0, 8] == 0  # channel 1's -3 is black (tiles are 4 px plus a 4 px gap)


def test_grids_of_large_maps_are_jpeg_close_to_their_grey_levels_and_small_ones_exact_png():
    import base64
    import io

    from PIL import Image
    rng = np.random.default_rng(5)
    # Smooth maps, as feature maps and their gradients are: blurred noise.
    noise = torch.from_numpy(rng.standard_normal((4, 1, 96, 96)).astype(np.float32))
    smooth = F.avg_pool2d(F.pad(noise, (3,) * 4, mode="reflect"), 7, stride=1)[:, 0].numpy()
    for stack, kind in ((smooth, "jpeg"), (smooth[:, :16, :16], "png")):
        fig = maps.channel_grid(stack, True, "", wrap=2, symmetric=True)
        header, data = fig.layout.images[0].source.split(",")
        assert header == f"data:image/{kind};base64"
        drawn = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))), dtype=float)
        side = stack.shape[1]
        scale = np.abs(stack).max(axis=(1, 2), keepdims=True)
        expected = np.floor((stack / scale + 1) / 2 * 255 + 0.5)
        tiles = np.stack([drawn[r:r + side, c:c + side] for r in (0, side + 4)
                          for c in (0, side + 4)])
        error = np.abs(tiles - expected)
        if kind == "png":
            assert error.max() == 0
        else:  # of 255 grey levels: about 2 off on average, at worst a few percent of the range
            assert error.mean() < 3 and error.max() <= 20, (error.mean(), error.max())


def test_enlarge_text_equals_plotlys_own_updates():
    """Presentation mode's text size, set in one pass, against plotly's update_layout,
    update_axes and update_annotations (the slow way it replaced) on figures with and
    without annotations, titles and visible axes; and a scrub view's slider value."""
    rng = np.random.default_rng(0)
    built = [lambda: maps.panels_row({k: rng.random((16, 16)) for k in maps.PANELS}),
             lambda: maps.channel_grid(rng.random((4, 8, 8)), True, "a title"),
             lambda: charts.activation_statistics(np.linspace(0, 1, 4), {"LRN": rng.random(3)},
                                                   {"LRN": rng.random(5)}, {"LRN": rng.random(5)}),
             lambda: charts.number_grid(rng.random((2, 3)), "ab", "xyz", "grid", [(0, 0)])]
    for build in built:
        state = rng.bit_generator.state
        expected = build()
        expected.update_layout(font=dict(size=18), legend_font_size=18)
        expected.update_xaxes(tickfont_size=16, title_font_size=18)
        expected.update_yaxes(tickfont_size=16, title_font_size=18)
        expected.update_annotations(font_size=18)
        margin = expected.layout.margin  # l and b hold tick labels: 16 / 12 as wide
        if margin.b is not None and expected.layout.height is not None:  # the plot as high
            expected.update_layout(height=expected.layout.height + round(margin.b * 16 / 12)
                                   - margin.b)
        expected.update_layout(margin={side: round(margin[side] * 16 / 12) for side in "lb"
                                       if margin[side] is not None})
        expected.update_traces(textfont_size=18, selector=dict(mode="text"))
        if expected.layout.title.text:
            expected.update_layout(title_font_size=20)
        rng.bit_generator.state = state  # the same figure again
        assert look.enlarge_text(build(), 18).to_dict() == expected.to_dict()
    scrub = sweeps.scrub_figure(rng.random((3, 6, 6)), rng.random((3, 6, 6)), rng.random(3),
                                 [0.1, 1.0, 10.0], "α", 1, log_x=True)
    assert look.enlarge_text(scrub, 18).layout.sliders[0].currentvalue.font.size == 18


def test_every_figure_is_valid_plotly_and_the_same_unvalidated(monkeypatch):
    """The figures are built without plotly's validation (look.new_figure), for speed. Built
    again with it, each must pass (a wrong property name or value raises) and give the same
    figure: every figure function, on each branch that changes its properties."""
    import json

    from lrn_lab.claim_parts import Chart, Series
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 5, 8).astype(float)
    counts[0] = 0  # drawn as a gap (NaN) on the log axis
    line = Series("LRN", [1e-3, 1e-2], [[0.5, 0.6], [0.7, float("nan")]])
    builds = {
        "panels_row": lambda: maps.panels_row({k: rng.random((16, 12)) for k in maps.PANELS}),
        "flat panels_row": lambda: maps.panels_row({"input": np.ones((4, 4))}),
        "channel_grid": lambda: maps.channel_grid(rng.random((5, 8, 8)), True, "a title"),
        "symmetric grid": lambda: maps.channel_grid(rng.standard_normal((3, 8, 8)), False, "",
                                                    ["a", "b", "c"], wrap=2, symmetric=True),
        "image_gallery": lambda: maps.image_gallery({"a": rng.random((8, 8)),
                                                     "b": rng.random((6, 8, 3))}),
        "window_bars": lambda: charts.window_bars(["ch 0", "ch 1"], rng.random(2), 1),
        "window_heatmap": lambda: maps.window_heatmap(rng.random((3, 3)), 4, 5),
        "jacobian_bars": lambda: charts.jacobian_bars(["ch 0", "ch 1", "ch 2"],
                                                      np.array([-1.0, 2.0, 0.0]), "J"),
        "jacobian_heatmap": lambda: maps.jacobian_heatmap(rng.standard_normal((3, 3)), 0, 0,
                                                          (1, 1), "J"),
        "activation_statistics": lambda: charts.activation_statistics(
            np.linspace(0, 1, 9), {"input": counts, "LRN": counts},
            {"BatchNorm": rng.random(4)}, {"BatchNorm": rng.random(4)}),
        "difference_matrix": lambda: charts.difference_matrix(
            ["a", "b"], np.array([[0, 1e-7], [1e-7, 0]]), "d"),
        "number_grid": lambda: charts.number_grid(rng.random((2, 3)), "ab", "xyz", "g",
                                                  [(0, 0)], [(1, 2)], (0, 1)),
        "training_curves": lambda: charts.training_curves(
            {"LRN": ([[0.5, 0.6], [0.4]], [[0.7, 0.8], [0.6]]), "none": ([], [])}, "acc",
            "accuracy", {"LRN": "#d62728"}),
        "scrub_figure": lambda: sweeps.scrub_figure(
            rng.random((3, 6, 6)), rng.random((3, 6, 6)), rng.random(3), [0.1, 1.0, 10.0], "α",
            1, log_x=True),
        "jacobian_scrub_figure bars": lambda: sweeps.jacobian_scrub_figure(
            rng.standard_normal((3, 4)), [0.1, 1.0, 10.0], "α", 1, ["t0", "t1", "t2"],
            ["ch 0", "ch 1", "ch 2", "ch 3"]),
        "jacobian_scrub_figure heatmap": lambda: sweeps.jacobian_scrub_figure(
            rng.standard_normal((2, 3, 3)), [1, 3], "n", 0, ["t0", "t1"], None, (4, 5), (5, 6)),
        "claim_chart lines": lambda: charts.claim_chart(
            Chart("t", "α", "acc", [line], log_x=True))[0],
        "claim_chart bars": lambda: charts.claim_chart(
            Chart("t", "", "ms", [line, line], log_y=True, bars=True))[0],
    }
    for name, build in builds.items():
        state = rng.bit_generator.state
        fast = json.loads(build().to_json())
        rng.bit_generator.state = state  # the same inputs again
        monkeypatch.setattr(look, "VALIDATE", True)
        checked = json.loads(build().to_json())
        monkeypatch.setattr(look, "VALIDATE", False)
        assert fast == checked, name
        assert "template" not in fast["layout"], name  # look._LOOK: drawn once, not twice


def test_the_same_figure_built_again_compares_equal_for_plotly_react():
    """Streamlit's frontend renders a new chart, then again from a fresh copy of its figure;
    plotly.react draws it all over again unless the copy compares equal (look._LOOK). So a
    figure carries no template, a datarevision that follows its data and nothing else, and its
    1-D arrays as lists (a typed array always counts as changed). It keeps the look of
    Streamlit's chart theme."""
    values = np.random.default_rng(1).random(5)
    same = [charts.jacobian_bars(["a", "b", "c", "d", "e"], v, "J").to_dict()
            for v in (values, values.copy(), values + 1)]
    revisions = [f["layout"]["datarevision"] for f in same]
    assert revisions[0] == revisions[1] != revisions[2]
    assert all("template" not in f["layout"] for f in same)
    assert same[0]["data"][0]["y"] == values.tolist()  # a list, not a typed array
    layout = same[0]["layout"]
    assert layout["font"]["family"].startswith('"Source Sans"')
    assert layout["title"]["text"] == "<b>J</b>"  # bold, as the theme draws titles
    assert layout["yaxis"]["gridcolor"] == look._GRID and layout["yaxis"]["automargin"]
    assert layout["yaxis"]["title"]["text"] == "∂y / ∂x"  # the figure's own settings kept


def test_figures_are_serialised_with_orjson_to_the_same_json():
    """Streamlit sends every chart through plotly.io.to_json, which uses orjson when it is
    installed (requirements.txt has it: 4x faster). Each kind of figure must come out the same
    as through Python's json module (a NaN too: null in both)."""
    import json

    import plotly.io as pio
    assert pio.json.config.default_engine == "auto"
    rng = np.random.default_rng(0)
    built = [maps.panels_row({k: rng.random((16, 12)) for k in maps.PANELS}),
             maps.channel_grid(rng.random((5, 8, 8)).astype(np.float32), True, "grid"),
             charts.activation_statistics(np.linspace(0, 1, 5), {"LRN": rng.random(4)},
                                           {"LRN": rng.random(3)}, {"LRN": rng.random(3)}),
             charts.difference_matrix(["a", "b"], np.array([[0, np.nan], [1e-7, 0]]), "d")]
    for figure in built:
        fast = pio.to_json(figure, validate=False)  # the default engine, as Streamlit calls it
        assert fast == pio.to_json(figure, validate=False, engine="orjson")
        assert json.loads(fast) == json.loads(pio.to_json(figure, validate=False, engine="json"))


def test_image_figures_label_their_maps_with_one_text_trace_and_no_annotations():
    """The labels of the image figures are one text trace (maps.text_labels; plotly draws
    annotations twice as slowly): the panel row's titles and each colour bar's low, middle and
    high value, placed at the bar's bottom, middle and top; the grid's channel names, each at
    its tile's top left corner."""
    z = np.arange(1.0, 13.0).reshape(3, 4)
    row = maps.panels_row({"input": z, "gain": 100 * z})
    assert not row.layout.annotations and len(row.data) == 1 and row.data[0].mode == "text"
    labels = dict(zip(row.data[0].text, row.data[0].y))
    assert {"input x", "gain y / x"} <= set(labels)
    for values in (z, 100 * z):
        low, mid, high = (f"{v:.3g}" for v in (values.min(), values.mean(), values.max()))
        assert labels[high] < labels[mid] < labels[low]  # the y axis points down: high on top
    grid = maps.channel_grid(np.zeros((3, 8, 8)), False, "", wrap=2)
    assert not grid.layout.annotations and list(grid.data[0].text) == ["ch 0", "ch 1", "ch 2"]
    corners = list(zip(grid.data[0].x, grid.data[0].y))
    assert corners == [(2, 2), (14, 2), (2, 14)]  # 8 px tiles and 4 px gaps, wrapped after 2


def test_panel_images_are_their_maps_through_the_colour_scale():
    """The panels are palette PNGs: decoded, each pixel is the colour scale's colour of its
    level, the map's lowest value the scale's first colour and its highest the last."""
    import base64
    import io

    from PIL import Image
    z = np.random.default_rng(3).random((12, 20))
    fig = maps.panels_row({"input": z, "gain": z})
    for image, scale in zip(fig.layout.images[::2], ("Viridis", "Magma")):
        png = Image.open(io.BytesIO(base64.b64decode(image.source.split(",")[1])))
        rgb = np.asarray(png.convert("RGB"))
        lut = encode.lookup_table(scale)
        levels = np.rint((z - z.min()) / (z.max() - z.min()) * 255).astype(int)
        np.testing.assert_array_equal(rgb, lut[levels])
        assert (rgb[z == z.min()] == lut[0]).all() and (rgb[z == z.max()] == lut[255]).all()


def test_difference_matrix_labels_each_pair_once_with_its_value_and_a_nan_as_nan():
    """Short labels (1.5e-7, not 1.5e-07) so that nine columns read on a projector; a NaN
    cell says NaN rather than passing for 0; each pair once, below the diagonal, the cells
    on and above it neither coloured nor labelled."""
    matrix = np.array([[0.0, 1.5e-7, 0.02, 0.0], [1.5e-7, 0.0, np.nan, 3e-3],
                       [0.02, np.nan, 0.0, 4e-9], [0.0, 3e-3, 4e-9, 0.0]])
    figure = charts.difference_matrix(["a", "b", "c", "d"], matrix, "d")
    assert [list(row) for row in figure.data[0].text] == [["", "", "", ""],
                                                         ["1.5e-7", "", "", ""],
                                                         ["2.0e-2", "NaN", "", ""],
                                                         ["0", "3.0e-3", "4.0e-9", ""]]
    shade = np.asarray(figure.data[0].z)
    assert np.isnan(shade[np.triu_indices(4)]).all()
    for i, j in zip(*np.tril_indices(4, k=-1)):  # each label reads back as its value
        if np.isfinite(matrix[i, j]):
            label = figure.data[0].text[i][j]
            assert float(label) == pytest.approx(matrix[i, j], rel=0.05)
            assert shade[i, j] == pytest.approx(np.log10(max(matrix[i, j], 1e-12)))
