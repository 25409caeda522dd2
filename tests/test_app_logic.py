"""The app's UI-free logic: features, controls and URL state, presets, the pixel inspector."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrn_app import controls, explore, figures
from lrn_app.features import BANKS, FEATURE_GAIN, feature_maps, gabor_kernels
from lrn_app.presets import PRESETS, apply_preset
from lrn_core import lrn, translate


def test_gabor_features_match_direct_convolution():
    rng = np.random.default_rng(0)
    image = rng.random((40, 56), dtype=np.float32)
    kernels = gabor_kernels(8)
    r = kernels.shape[-1] // 2
    padded = F.pad(torch.from_numpy(image)[None, None], (r,) * 4, mode="reflect")
    direct = F.conv2d(padded, kernels[:, None]).relu()[0] * FEATURE_GAIN
    np.testing.assert_allclose(feature_maps(image, "gabor", 8), direct.numpy(), atol=1e-5)


def test_feature_sources_and_banks():
    image = np.random.default_rng(1).random((20, 30, 3), dtype=np.float32)
    assert feature_maps(image, "rgb").shape == (3, 20, 30)
    for channels in BANKS:
        kernels = gabor_kernels(channels)
        assert kernels.shape[0] == channels
        assert torch.allclose(kernels.sum((1, 2)), torch.zeros(channels), atol=1e-6)  # zero mean
    with pytest.raises(ValueError, match="unknown feature source"):
        feature_maps(image, "sift")


def test_url_round_trip_of_every_field():
    state = controls.Explorer(sample="spot", source="rgb", channels=48, side=512, mode="within",
                              convention="onednn", n=4, k=0.5, alpha=0.123456789, beta=1.25,
                              channel=2, row=3, col=4, tab="Export", view="gain",
                              per_channel_scale=False, shuffle=True)
    parsed, notices = controls.parse(controls.to_query(state))
    assert parsed == state and notices == []


def test_repair_follows_each_conventions_limits():
    state, notices = controls.repair(controls.Explorer(convention="cudnn", n=30, k=0.0, beta=0.0))
    assert (state.n, state.k, state.beta) == (16, 0.01, 0.01) and len(notices) == 3
    state, _ = controls.repair(controls.Explorer(convention="caffe", n=6))
    assert state.n == 7
    state, notices = controls.repair(controls.Explorer(mode="within", convention="pytorch"))
    assert state.convention == "caffe" and "no within-channel" in notices[0]


@pytest.mark.parametrize("name", list(PRESETS))
@pytest.mark.parametrize("convention", ["pytorch", "onnx", "caffe", "cudnn"])
def test_presets_compute_what_their_own_library_computes(name, convention):
    state, message = apply_preset(controls.Explorer(convention=convention), name)
    assert message
    own_convention, size, alpha, beta, k = PRESETS[name]
    x = torch.rand(1, 16, 5, 5, dtype=torch.float64)
    ours = lrn(x, state.n, state.alpha, state.beta, state.k, convention=state.convention)
    if own_convention is None:  # identity keeps the rest
        torch.testing.assert_close(ours, x / state.k ** state.beta)
        return
    size = 15 if size is None else size
    theirs = lrn(x, size, alpha, beta, k, convention=own_convention)
    torch.testing.assert_close(ours, theirs)


def test_l2_preset_is_unit_norm_across_channels():
    state, _ = apply_preset(controls.Explorer(), "L2 normalisation")
    x = torch.rand(1, 16, 4, 4, dtype=torch.float64) + 0.1
    y = lrn(x, state.n, state.alpha, state.beta, state.k, convention=state.convention)
    torch.testing.assert_close(y.norm(dim=1), torch.ones(1, 4, 4, dtype=torch.float64))


@pytest.mark.parametrize("mode, convention, n", [("across", "pytorch", 4), ("across", "alexnet", 5),
                                                ("within", "onednn", 3), ("within", "caffe", 5)])
def test_pixel_inspector_arithmetic_equals_lrn_parts(mode, convention, n):
    feats = np.random.default_rng(2).random((6, 9, 11)).astype(np.float32)
    state = controls.Explorer(mode=mode, convention=convention, n=n, alpha=3.0, k=1.5)
    result = explore.run_lrn(feats, state)
    for channel, row, col in [(0, 0, 0), (5, 8, 10), (2, 4, 5)]:
        px = explore.inspect_pixel(feats, state, channel, row, col)
        assert px.S == pytest.approx(float(result.maps["S"][channel, row, col]), rel=1e-5)
        assert px.y == pytest.approx(float(result.maps["output"][channel, row, col]), rel=1e-5)
        assert px.squares.flat[px.centre] == pytest.approx(feats[channel, row, col] ** 2, rel=1e-6)


def test_code_snippets_use_translated_parameters():
    snippets = explore.code_snippets(controls.Explorer(convention="alexnet", n=5, alpha=1e-4, k=2.0))
    p = translate(dict(size=5, alpha=1e-4, beta=0.75, k=2.0), "alexnet", "pytorch")
    assert f"alpha={p['alpha']!r}" in snippets["PyTorch"] and "depth_radius=2" in snippets["TensorFlow"]
    even = explore.code_snippets(controls.Explorer(convention="pytorch", n=4))
    assert even["TensorFlow"].startswith("# No exact TensorFlow equivalent")


def test_non_finite_values_are_counted_for_the_page():
    clean, bad = figures.finite(np.array([1.0, np.nan, np.inf, -np.inf]))
    assert bad == 3 and np.isfinite(clean).all()
    assert figures.finite(np.array([np.inf, -np.inf]))[1] == 2  # their sum is NaN
    huge = np.array([3e38, 3e38, 1.0], dtype=np.float32)  # finite, but their sum overflows
    assert figures.finite(huge)[1] == 0 and figures.finite(huge)[0] is huge


def test_symmetric_grid_puts_zero_at_mid_grey():
    import base64
    import io

    from PIL import Image
    stack = np.zeros((2, 4, 4), dtype=np.float32)
    stack[0, 0, 0], stack[1, 0, 0] = 1.0, -3.0
    fig = figures.channel_grid(stack, True, "", symmetric=True)
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
    maps = F.avg_pool2d(F.pad(noise, (3,) * 4, mode="reflect"), 7, stride=1)[:, 0].numpy()
    for stack, kind in ((maps, "jpeg"), (maps[:, :16, :16], "png")):
        fig = figures.channel_grid(stack, True, "", wrap=2, symmetric=True)
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

def test_learned_feature_source_is_the_shipped_first_layer():
    from lrn_app.features import load_learned, source_channels
    from lrn_lab.train import TrainConfig
    filters, bias, gain = load_learned()
    w = TrainConfig().width  # the labs' network's first layer
    assert filters.shape == (w, 1, 5, 5) and bias.shape == (w,) and gain > 0
    image = np.random.default_rng(2).random((30, 40), dtype=np.float32)
    padded = F.pad(torch.from_numpy(image)[None, None], (2,) * 4, mode="reflect")
    direct = F.conv2d(padded, torch.from_numpy(filters), torch.from_numpy(bias)).relu()[0] * gain
    np.testing.assert_allclose(feature_maps(image, "learned"), direct.numpy(), atol=1e-5)
    assert source_channels("learned", 16) == w and source_channels("rgb", 16) == 3


def test_enlarge_text_equals_plotlys_own_updates():
    """Presentation mode's text size, set in one pass, against plotly's update_layout,
    update_axes and update_annotations (the slow way it replaced) on figures with and
    without annotations, titles and visible axes; and a scrub view's slider value."""
    rng = np.random.default_rng(0)
    built = [lambda: figures.panels_row({k: rng.random((16, 16)) for k in figures.PANELS}),
             lambda: figures.channel_grid(rng.random((4, 8, 8)), True, "a title"),
             lambda: figures.activation_statistics(np.linspace(0, 1, 4), {"LRN": rng.random(3)},
                                                   {"LRN": rng.random(5)}, {"LRN": rng.random(5)}),
             lambda: figures.number_grid(rng.random((2, 3)), "ab", "xyz", "grid", [(0, 0)])]
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
        assert figures.enlarge_text(build(), 18).to_dict() == expected.to_dict()
    scrub = figures.scrub_figure(rng.random((3, 6, 6)), rng.random((3, 6, 6)), rng.random(3),
                                 [0.1, 1.0, 10.0], "α", 1, log_x=True)
    assert figures.enlarge_text(scrub, 18).layout.sliders[0].currentvalue.font.size == 18


def test_every_figure_is_valid_plotly_and_the_same_unvalidated(monkeypatch):
    """The figures are built without plotly's validation (figures._figure), for speed. Built
    again with it, each must pass (a wrong property name or value raises) and give the same
    figure: every figure function, on each branch that changes its properties."""
    import json

    from lrn_lab.claims import Chart, Series
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 5, 8).astype(float)
    counts[0] = 0  # drawn as a gap (NaN) on the log axis
    line = Series("LRN", [1e-3, 1e-2], [[0.5, 0.6], [0.7, float("nan")]])
    builds = {
        "panels_row": lambda: figures.panels_row({k: rng.random((16, 12)) for k in figures.PANELS}),
        "flat panels_row": lambda: figures.panels_row({"input": np.ones((4, 4))}),
        "channel_grid": lambda: figures.channel_grid(rng.random((5, 8, 8)), True, "a title"),
        "symmetric grid": lambda: figures.channel_grid(rng.standard_normal((3, 8, 8)), False, "",
                                                       ["a", "b", "c"], wrap=2, symmetric=True),
        "image_gallery": lambda: figures.image_gallery({"a": rng.random((8, 8)),
                                                        "b": rng.random((6, 8, 3))}),
        "window_bars": lambda: figures.window_bars(["ch 0", "ch 1"], rng.random(2), 1),
        "window_heatmap": lambda: figures.window_heatmap(rng.random((3, 3)), 4, 5),
        "jacobian_bars": lambda: figures.jacobian_bars(["ch 0", "ch 1", "ch 2"],
                                                       np.array([-1.0, 2.0, 0.0]), "J"),
        "jacobian_heatmap": lambda: figures.jacobian_heatmap(rng.standard_normal((3, 3)), 0, 0,
                                                             (1, 1), "J"),
        "activation_statistics": lambda: figures.activation_statistics(
            np.linspace(0, 1, 9), {"input": counts, "LRN": counts},
            {"BatchNorm": rng.random(4)}, {"BatchNorm": rng.random(4)}),
        "difference_matrix": lambda: figures.difference_matrix(["a", "b"],
                                                               np.array([[0, 1e-7], [1e-7, 0]]), "d"),
        "number_grid": lambda: figures.number_grid(rng.random((2, 3)), "ab", "xyz", "g",
                                                   [(0, 0)], [(1, 2)], (0, 1)),
        "training_curves": lambda: figures.training_curves(
            {"LRN": ([[0.5, 0.6], [0.4]], [[0.7, 0.8], [0.6]]), "none": ([], [])}, "acc", "accuracy",
            {"LRN": "#d62728"}),
        "scrub_figure": lambda: figures.scrub_figure(rng.random((3, 6, 6)), rng.random((3, 6, 6)),
                                                     rng.random(3), [0.1, 1.0, 10.0], "α", 1, log_x=True),
        "jacobian_scrub_figure bars": lambda: figures.jacobian_scrub_figure(
            rng.standard_normal((3, 4)), [0.1, 1.0, 10.0], "α", 1, ["t0", "t1", "t2"],
            ["ch 0", "ch 1", "ch 2", "ch 3"]),
        "jacobian_scrub_figure heatmap": lambda: figures.jacobian_scrub_figure(
            rng.standard_normal((2, 3, 3)), [1, 3], "n", 0, ["t0", "t1"], None, (4, 5), (5, 6)),
        "claim_chart lines": lambda: figures.claim_chart(Chart("t", "α", "acc", [line], log_x=True))[0],
        "claim_chart bars": lambda: figures.claim_chart(Chart("t", "", "ms", [line, line], log_y=True,
                                                              bars=True))[0],
    }
    for name, build in builds.items():
        state = rng.bit_generator.state
        fast = json.loads(build().to_json())
        rng.bit_generator.state = state  # the same inputs again
        monkeypatch.setattr(figures, "VALIDATE", True)
        checked = json.loads(build().to_json())
        monkeypatch.setattr(figures, "VALIDATE", False)
        assert fast == checked, name
        assert "template" not in fast["layout"], name  # figures._LOOK: drawn once, not twice


def test_the_same_figure_built_again_compares_equal_for_plotly_react():
    """Streamlit's frontend renders a new chart, then again from a fresh copy of its figure;
    plotly.react draws it all over again unless the copy compares equal (figures._LOOK). So a
    figure carries no template, a datarevision that follows its data and nothing else, and its
    1-D arrays as lists (a typed array always counts as changed). It keeps the look of
    Streamlit's chart theme."""
    values = np.random.default_rng(1).random(5)
    same = [figures.jacobian_bars(["a", "b", "c", "d", "e"], v, "J").to_dict()
            for v in (values, values.copy(), values + 1)]
    revisions = [f["layout"]["datarevision"] for f in same]
    assert revisions[0] == revisions[1] != revisions[2]
    assert all("template" not in f["layout"] for f in same)
    assert same[0]["data"][0]["y"] == values.tolist()  # a list, not a typed array
    layout = same[0]["layout"]
    assert layout["font"]["family"].startswith('"Source Sans"')
    assert layout["title"]["text"] == "<b>J</b>"  # bold, as the theme draws titles
    assert layout["yaxis"]["gridcolor"] == figures._GRID and layout["yaxis"]["automargin"]
    assert layout["yaxis"]["title"]["text"] == "∂y / ∂x"  # the figure's own settings kept


def test_figures_are_serialised_with_orjson_to_the_same_json():
    """Streamlit sends every chart through plotly.io.to_json, which uses orjson when it is
    installed (requirements.txt has it: 4x faster). Each kind of figure must come out the same
    as through Python's json module (a NaN too: null in both)."""
    import json

    import plotly.io as pio
    assert pio.json.config.default_engine == "auto"
    rng = np.random.default_rng(0)
    built = [figures.panels_row({k: rng.random((16, 12)) for k in figures.PANELS}),
             figures.channel_grid(rng.random((5, 8, 8)).astype(np.float32), True, "grid"),
             figures.activation_statistics(np.linspace(0, 1, 5), {"LRN": rng.random(4)},
                                           {"LRN": rng.random(3)}, {"LRN": rng.random(3)}),
             figures.difference_matrix(["a", "b"], np.array([[0, np.nan], [1e-7, 0]]), "d")]
    for figure in built:
        fast = pio.to_json(figure, validate=False)  # the default engine, as Streamlit calls it
        assert fast == pio.to_json(figure, validate=False, engine="orjson")
        assert json.loads(fast) == json.loads(pio.to_json(figure, validate=False, engine="json"))


def test_image_figures_label_their_maps_with_one_text_trace_and_no_annotations():
    """The labels of the image figures are one text trace (figures._text_labels; plotly draws
    annotations twice as slowly): the panel row's titles and each colour bar's low, middle and
    high value, placed at the bar's bottom, middle and top; the grid's channel names, each at
    its tile's top left corner."""
    z = np.arange(1.0, 13.0).reshape(3, 4)
    row = figures.panels_row({"input": z, "gain": 100 * z})
    assert not row.layout.annotations and len(row.data) == 1 and row.data[0].mode == "text"
    labels = dict(zip(row.data[0].text, row.data[0].y))
    assert {"input x", "gain y / x"} <= set(labels)
    for values in (z, 100 * z):
        low, mid, high = (f"{v:.3g}" for v in (values.min(), values.mean(), values.max()))
        assert labels[high] < labels[mid] < labels[low]  # the y axis points down: high on top
    grid = figures.channel_grid(np.zeros((3, 8, 8)), False, "", wrap=2)
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
    fig = figures.panels_row({"input": z, "gain": z})
    for image, scale in zip(fig.layout.images[::2], ("Viridis", "Magma")):
        png = Image.open(io.BytesIO(base64.b64decode(image.source.split(",")[1])))
        rgb = np.asarray(png.convert("RGB"))
        lut = figures._lookup_table(scale)
        levels = np.rint((z - z.min()) / (z.max() - z.min()) * 255).astype(int)
        np.testing.assert_array_equal(rgb, lut[levels])
        assert (rgb[z == z.min()] == lut[0]).all() and (rgb[z == z.max()] == lut[255]).all()


def test_difference_matrix_labels_each_pair_once_with_its_value_and_a_nan_as_nan():
    """Short labels (1.5e-7, not 1.5e-07) so that nine columns read on a projector; a NaN
    cell says NaN rather than passing for 0; each pair once, below the diagonal, the cells
    on and above it neither coloured nor labelled."""
    matrix = np.array([[0.0, 1.5e-7, 0.02, 0.0], [1.5e-7, 0.0, np.nan, 3e-3],
                       [0.02, np.nan, 0.0, 4e-9], [0.0, 3e-3, 4e-9, 0.0]])
    figure = figures.difference_matrix(["a", "b", "c", "d"], matrix, "d")
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
