"""The browser's LRN (static/live/lrn.js), run in Chromium on what the server packs
(lrn_app.compute.live), against lrn_core's float32 at the same settings: every convention
and mode, random settings with even sizes, k = 0 cells and the borders."""

import base64
import io
import json
import zlib
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image

from harness.browser import slider, wait_for_app
from lrn_app.compute import explorer, gradients, live
from lrn_app.figures import charts, maps
from lrn_app.figures.encode import JPEG_MIN_TILE, lookup_table, quantised
from lrn_app.figures.maps import channel_grid
from lrn_app.inputs.batch import square
from lrn_app.inputs.features import feature_maps
from lrn_app.inputs.samples import load_sample
from lrn_app.state import Explorer, Gradients, limits
from lrn_core import conventions_for, resolve

MODES = [(mode, c) for mode in ("across", "within") for c in conventions_for(mode)]
MODULE = "/app/static/live/lrn.js"
# Every channel's S, D ** β, output and gain, as the figures draw them.
_ALL_PARTS = """async ([pack, settings]) => {
    const lrn = await import(MODULE);
    const prepared = lrn.prepare(pack);
    const out = {};
    for (const name of ["S", "denominator", "output", "gain"]) {
        const parts = [];
        for (let c = 0; c < pack.channels; c++) {
            parts.push(...lrn.parts(prepared, settings, c)[name]);
        }
        out[name] = parts;
    }
    return out;
}""".replace("MODULE", repr(MODULE))


def sent(pack: dict) -> dict:
    """The pack as page.evaluate can carry it: its float32 arrays as lists of numbers."""
    return {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in pack.items()}


def as_array(values: list, like: np.ndarray) -> np.ndarray:
    """The browser's numbers in the reference's shape. Playwright returns an integral number
    as a Python int, which can be beyond int64 (a gain of 1e25 at k = 0): floats, then."""
    return np.array(values, dtype=np.float64).reshape(like.shape)


def settings_of(rng, mode, convention, channels, trial):
    lim = limits(convention, mode, channels)
    sizes = np.arange(lim.n_min, lim.n_max + 1, lim.n_step)
    n = int(rng.choice(sizes))
    if trial == 0:  # an even size, where the convention has one
        n = next((int(m) for m in sizes if m % 2 == 0), n)
    k = float(rng.uniform(lim.k_min, 3))
    if trial == 1 and lim.k_min == 0:  # k = 0, with a window that fits in the zero corner
        n, k = lim.n_min, 0.0
    return Explorer(mode=mode, convention=convention, n=n, k=k,
                    alpha=float(10 ** rng.uniform(-3, 2)),
                    beta=float(rng.uniform(max(lim.beta_min, 0.1), 2)))


def test_the_module_is_served_by_the_app_as_javascript(server, page):
    response = page.goto(f"{server}{MODULE}")
    assert response.ok and "javascript" in response.headers["content-type"]


@pytest.mark.parametrize("mode, convention", MODES)
def test_the_browsers_lrn_is_lrn_cores_at_random_settings(server, page, mode, convention):
    page.goto(f"{server}/_stcore/health")  # the app's origin, for the module's import
    f = feature_maps(load_sample("cat", 40), "gabor", 8)
    f[:, :12, :12] = 0  # an all-zero corner: k = 0 leaves D = 0 there
    rng = np.random.default_rng(zlib.crc32(f"{mode} {convention}".encode()))
    for trial in range(4):
        state = settings_of(rng, mode, convention, f.shape[0], trial)
        pack = live.maps_pack(f, state)
        settings = dict(n=state.n, k=state.k, alpha=state.alpha, beta=state.beta)
        got = page.evaluate(_ALL_PARTS, [sent(pack), settings])
        ref = live.reference(f, state)
        for name, values in got.items():
            np.testing.assert_allclose(as_array(values, ref[name]), ref[name], rtol=1e-5, atol=0,
                                       err_msg=f"{name} at {state}")
        w = resolve(state.n, state.alpha, state.beta, state.k, mode=mode, convention=convention)
        if w.k == 0:
            assert (ref["gain"] == 0).any()  # the k = 0 cells were there, and came out 0


def test_across_channels_one_pack_serves_every_size(server, page):
    """n moves in the browser across channels: a pack made at n = 5 gives lrn_core's output
    at every other size, the borders (first and last channels) included."""
    page.goto(f"{server}/_stcore/health")
    f = feature_maps(load_sample("astronaut", 48), "gabor", 16)
    pack = live.maps_pack(f, Explorer(n=5))
    for n in (1, 2, 4, 9, 31, 32):
        state = Explorer(n=n, k=0.5, alpha=30.0, beta=0.6)
        got = page.evaluate(_ALL_PARTS, [sent(pack), dict(n=n, k=0.5, alpha=30.0, beta=0.6)])
        ref = live.reference(f, state)
        np.testing.assert_allclose(as_array(got["output"], ref["output"]), ref["output"],
                                   rtol=1e-5, atol=0, err_msg=f"n = {n}")


# --- the Gradients page's Jacobian row -----------------------------------------------------------

_JACOBIAN = """async ([pack, figure, settings]) => {
    const lrn = await import(MODULE);
    const figures = await import(MODULE.replace("lrn.js", "figures.js"));
    const drawn = figures.jacobian(lrn.prepare(pack), {figure}, settings);
    return {trace: drawn.data[0], title: drawn.layout.title.text};
}""".replace("MODULE", repr(MODULE))


@pytest.mark.parametrize("mode, convention", MODES)
def test_the_browsers_jacobian_row_is_lrn_cores_closed_form(server, page, mode, convention):
    """From one pack per output, the Jacobian row at random settings (n too, in both modes)
    is gradients.jacobian's (lrn_core's closed-form backward), drawn as the server draws it:
    outputs in the zero corner (k = 0 there: all 0), where a channel is strongest, and the
    strongest on the last row."""
    page.goto(f"{server}/_stcore/health")
    f = feature_maps(load_sample("cat", 48), "gabor", 8)
    f[:, :12, :12] = 0
    last = f.shape[1] - 1
    outputs = [(0, 0, 0), (7, 3, 4), (3, *gradients.pick_pixel(f, 3, -1, -1)),
               (5, last, int(f[5, last].argmax()))]
    assert all(f[c, r, s] > 0 for c, r, s in outputs[2:])  # where the off-centre terms live
    rng = np.random.default_rng(zlib.crc32(f"jacobian {mode} {convention}".encode()))
    for channel, row, col in outputs:
        pack = live.jacobian_pack(f, Explorer(mode=mode, convention=convention), channel, row,
                                  col)
        for trial in range(3):
            state = settings_of(rng, mode, convention, f.shape[0], trial)
            jac = gradients.jacobian(f, explorer.settings(state), channel, row, col)
            if mode == "across":
                figure = charts.jacobian_bars(jac.labels, jac.values, "a title")
            else:  # the page's title: the centre's value goes where "{centre}" is
                figure = maps.jacobian_heatmap(jac.values, *jac.origin, (row, col),
                                               "∂y / ∂x; centre {centre}, off this scale")
            want = figure.data[0]
            settings = dict(n=state.n, k=state.k, alpha=state.alpha, beta=state.beta)
            got = page.evaluate(_JACOBIAN, [sent(pack), json.loads(figure.to_json()), settings])
            where = f"({channel}, {row}, {col}) at {settings}"
            assert got["title"] == figure.layout.title.text.replace(
                "{centre}", f"{jac.centre:.3g}"), where
            trace = got["trace"]
            if mode == "across":
                assert trace["x"] == list(want.x), where
                np.testing.assert_allclose(np.array(trace["y"], dtype=np.float64), jac.values,
                                           rtol=1e-5, atol=0, err_msg=where)
                assert trace["marker"]["color"] == list(want.marker.color), where
            else:
                assert (trace["x"], trace["y"]) == (list(want.x), list(want.y)), where
                np.testing.assert_allclose(np.array(trace["z"], dtype=np.float64), jac.values,
                                           rtol=1e-5, atol=0, err_msg=where)
                np.testing.assert_allclose([trace["zmin"], trace["zmax"]],
                                           [want.zmin, want.zmax], rtol=1e-5, err_msg=where)


# --- pictures: the live frames draw what the server's figures draw --------------------------

_PAINT = """async ([values, channels, height, width, perChannel, symmetric, lut]) => {
    const paint = await import(MODULE.replace("lrn.js", "paint.js"));
    const [low, high] = paint.range(values);
    const codes = paint.quantise(values, low, high);
    const tiles = paint.greyTiles(Float64Array.from(values), channels, perChannel, symmetric);
    const grid = paint.mosaic(tiles, channels, height, width, 3);
    return {low, high, codes: [...codes], grid: [...grid.canvas], size: [grid.height, grid.width],
            png: paint.png(codes.subarray(0, height * width), height, width, lut)};
}""".replace("MODULE", repr(MODULE))


def decoded(source: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


@pytest.mark.parametrize("per_channel, symmetric", [(True, False), (False, False), (True, True)])
def test_the_browser_paints_the_servers_pictures(server, page, per_channel, symmetric):
    page.goto(f"{server}/_stcore/health")
    state = Explorer(n=3, k=1.0, alpha=20.0)
    maps = live.reference(feature_maps(load_sample("coffee", 48), "gabor", 8), state)
    values = maps["gain"] if not symmetric else maps["output"] - maps["output"].mean()
    C, h, w = values.shape
    lut = lookup_table("Magma")
    got = page.evaluate(_PAINT, [values.ravel().tolist(), C, h, w, per_channel, symmetric,
                                 lut.ravel().tolist()])
    low, high = float(values.min()), float(values.max())
    assert (got["low"], got["high"]) == pytest.approx((low, high), rel=1e-7)
    codes = np.array(got["codes"]).reshape(values.shape)
    assert_close_levels(codes, quantised(values, low, high, 256))  # the panel row's levels
    grid = channel_grid(values, per_channel, "", wrap=3, symmetric=symmetric)
    assert min(h, w) < JPEG_MIN_TILE  # so the server's grid is a PNG, lossless
    server_grid = decoded(grid.layout.images[0].source)
    assert tuple(got["size"]) == server_grid.shape
    assert_close_levels(np.array(got["grid"]).reshape(server_grid.shape), server_grid)
    painted = decoded(got["png"])[..., :3]
    np.testing.assert_array_equal(painted, lut[codes[0]])  # the PNG holds the table's colours


def assert_close_levels(got: np.ndarray, want: np.ndarray) -> None:
    """The same levels, but for values on a rounding edge, which float64 (the browser) and
    float32 (the server) may round apart: at most one level, and rarely."""
    diff = np.abs(got.astype(int) - want.astype(int))
    assert diff.max() <= 1 and (diff == 0).mean() > 0.99, (diff.max(), (diff == 0).mean())


# --- the Explorer's live view, dragged as a student drags it ---------------------------------

_PANEL_IMAGES = """() => document.querySelector('.st-key-x_live_panels .live-plot')
    .layout.images.filter((_, i) => i % 2 === 0).map(image => image.source)"""


def drag_alpha(page, url: str, plot: str, each) -> None:
    """Open ``url``, hold the mouse down on its live α slider well below the page's α = 10
    and move it four stops, two at a time: each step paints a new frame of the figure
    ``plot`` (a CSS selector), with nothing sent to the server; ``each(settings)`` checks the
    frame. Then release: one message, and the address follows."""
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda frame: sent.append(frame)))
    page.goto(url)
    figure = page.locator(f"{plot} .live-plot")
    figure.and_(page.locator("[data-live-frame]")).wait_for(timeout=90_000)
    wait_for_app(page)
    alpha = slider(page, "α (log scale)")
    alpha.scroll_into_view_if_needed()  # the mouse reaches what the window shows
    box = alpha.bounding_box()
    y, step = box["y"] + box["height"] / 2, (box["width"] - 16) / 40
    page.mouse.move(box["x"] + 8 + 10 * step, y)
    page.mouse.down()
    before, seen = len(sent), []
    for i in range(1, 5):
        frame = figure.get_attribute("data-live-frame")
        page.mouse.move(box["x"] + 8 + (10 + 2 * i) * step, y)
        page.wait_for_function("([el, old]) => el.dataset.liveFrame !== old",
                               arg=[figure.element_handle(), frame], timeout=10_000)
        settings = json.loads(figure.get_attribute("data-live-value"))
        seen.append(settings["alpha"])
        each(settings)
    assert len(sent) == before  # nothing went to the server while the mouse was down
    assert len(set(seen)) == len(seen)  # every step a new α
    page.mouse.up()
    page.wait_for_function("a => location.search.includes('alpha=' + a)", arg=repr(seen[-1]),
                           timeout=30_000)  # the address follows the release
    assert len(sent) > before  # the release


def assert_painted(source: str, z: np.ndarray, scale: str) -> None:
    """A panel's picture is ``z`` through the colour scale, min to max in 256 levels, within
    one level: the server's float32 map of a near-constant denominator (α small) has fewer
    distinct values than the 256 levels."""
    lut = lookup_table(scale)
    codes = quantised(z, float(z.min()), float(z.max()), 256).astype(int)
    painted = decoded(source)[..., :3].astype(int)
    near = [(painted == lut[np.clip(codes + d, 0, 255)]).all(axis=-1) for d in (-1, 0, 1)]
    assert (near[0] | near[1] | near[2]).all(), near[1].mean()


def test_dragging_alpha_redraws_exact_frames_before_release_and_the_address_after(server, page):
    """The Explorer: each frame's five panels are lrn_core's maps at the slider's value,
    through the server's colour scales."""
    features = feature_maps(load_sample("cat", 256), "gabor", 16)

    def each(value):
        state = Explorer(alpha=value["alpha"])
        assert (value["n"], value["k"], value["beta"]) == (state.n, state.k, state.beta)
        reference = live.reference(features, state)
        for name, source in zip(maps.PANELS, page.evaluate(_PANEL_IMAGES)):
            assert_painted(source, reference[name][0], "Magma" if name == "gain" else "Viridis")

    drag_alpha(page, f"{server}/explorer", ".st-key-x_live_panels", each)


def test_dragging_alpha_moves_the_gradients_pages_jacobian_row(server, page):
    """The Gradients page: each frame's bars are gradients.jacobian (lrn_core's closed form)
    at the slider's value, for the page's output (channel 5, where it is strongest)."""
    state = Gradients()
    image = square(load_sample(state.sample, state.side), state.side)
    f = feature_maps(image, state.source, state.channels)
    row, col = gradients.pick_pixel(f, state.channel, -1, -1)
    bars = """() => document.querySelector('.st-key-g_live_jacobian .live-plot').data[0].y"""

    def each(value):
        now = replace(state, **value)
        want = gradients.jacobian(f, explorer.settings(now), state.channel, row, col).values
        np.testing.assert_allclose(np.array(page.evaluate(bars), dtype=np.float64), want,
                                   rtol=1e-5, atol=0)

    drag_alpha(page, f"{server}/gradients", ".st-key-g_live_jacobian", each)


def test_dragging_alpha_moves_lrn_and_only_lrn_on_lrn_vs_batchnorm(server, page):
    """LRN vs BatchNorm: the picture after LRN changes at each step; the input and the
    picture after BatchNorm stay as the server drew them."""
    images = """() => document.querySelector('.st-key-b_live_panels .live-plot')
        .layout.images.filter((_, i) => i % 2 === 0).map(image => image.source)"""
    frames = []
    drag_alpha(page, f"{server}/compare", ".st-key-b_live_panels",
               lambda value: frames.append(page.evaluate(images)))
    inputs, after_lrn, after_batchnorm = zip(*frames)
    assert len(set(after_lrn)) == len(frames)  # a new picture at every step
    assert len(set(inputs)) == 1 and len(set(after_batchnorm)) == 1
    assert all(source.startswith("data:image/") for source in frames[0])
