"""The scrub views: the Explorer's frames are lrn_core's output at their values, the Gradients
page's are autograd's Jacobian row at theirs, and both pages open them from the address
(AppTest)."""

import base64
import io
import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from PIL import Image
from streamlit.testing.v1 import AppTest

from lrn_app.compute import scrub
from lrn_app.figures import sweeps
from lrn_app.inputs import batch
from lrn_app.inputs.features import feature_maps
from lrn_app.inputs.samples import load_sample
from lrn_app.state import BETA_MAX, K_MAX, Explorer, Gradients, repair
from lrn_core import lrn_parts, lrn_reference
from tests import ROOT
from tests.app.apptest import release

APP = str(ROOT / "app.py")


def features(sample="cat", side=96, channels=16):
    return feature_maps(load_sample(sample, side), "gabor", channels)


def exact(feats, state, channel):
    """lrn_core on every channel and pixel: what a frame must show for ``channel``."""
    parts = lrn_parts(torch.from_numpy(feats), state.n, state.alpha, state.beta, state.k,
                      mode=state.mode, convention=state.convention)
    return parts.output[channel].numpy(), parts.gain[channel].numpy()


@pytest.mark.parametrize("parameter", list(scrub.PARAMETERS))
@pytest.mark.parametrize("mode, convention", [("across", "pytorch"), ("across", "tensorflow"),
                                              ("within", "caffe"), ("within", "onednn")])
def test_every_frame_is_lrn_core_at_its_value(parameter, mode, convention):
    feats = features()
    state = repair(Explorer(mode=mode, convention=convention))[0]
    channel, stride = 7, 3  # a channel with neighbours both sides; every third pixel
    result = scrub.sweep(feats, state, parameter, channel, stride)
    assert result.values == scrub.values(parameter, state, feats.shape[0])
    for i, value in enumerate(result.values):
        output, gain = exact(feats, replace(state, **{parameter: value}), channel)
        # Only the window's channels (across) or the one channel (within) were computed:
        # the same arithmetic on fewer values, so float32 rounding may differ in the last bit.
        np.testing.assert_allclose(
            result.output[i], output[::stride, ::stride], rtol=1e-6, atol=1e-7
        )
        np.testing.assert_allclose(result.gain[i], gain[::stride, ::stride], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(result.mean_gain, result.gain.mean(axis=(1, 2)))


def test_values_span_each_parameters_range():
    state = Explorer()
    alphas = scrub.values("alpha", state, 16)
    assert len(alphas) == scrub.FRAMES and alphas[0] == 1e-6 and alphas[-1] == 1e4
    assert np.allclose(np.diff(np.log10(alphas)), 10 / 24, atol=0.002)  # log-spaced (3 digits)
    betas = scrub.values("beta", state, 16)
    assert len(betas) == scrub.FRAMES and (betas[0], betas[-1]) == (0.0, BETA_MAX)
    assert scrub.values("k", state, 16)[-1] == K_MAX
    sizes = scrub.values("n", state, 16)  # PyTorch across 16 channels: 1..32
    assert len(sizes) == scrub.FRAMES and (sizes[0], sizes[-1]) == (1, 32)
    odd = scrub.values("n", Explorer(mode="within", convention="caffe"), 16)
    assert odd == list(range(1, 32, 2))  # every size Caffe takes (16 of them)
    with pytest.raises(ValueError, match="cannot scrub"):
        scrub.values("gamma", state, 16)


def test_settings_no_library_computes_are_left_out():
    state = Explorer(alpha=0.0, k=1.0)  # sweeping k then reaches k = 0 = alpha
    result = scrub.sweep(features(side=64), state, "k", 0)
    assert result.values[0] > 0 and len(result.values) == scrub.FRAMES - 1


def decode(source: str) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))))


def drawn_output(source: str, output: np.ndarray, low: float, high: float) -> tuple:
    """(the frame's output half, as palette levels; the levels ``output`` should give). The
    figure keeps every pixel, or every second (third, ...) one to fit its byte budget; PNG
    sizes, and so that choice, can differ between machines, so it is read off the image."""
    pixels = decode(source)  # output | gap | gain, palette indices
    step = next(s for s in range(1, 64) if -(-output.shape[0] // s) == pixels.shape[0])
    expected = ((output[::step, ::step] - low) / (high - low) * 126 + 0.5).astype(np.uint8)
    h, w = expected.shape
    return pixels[:h, :w].astype(int), expected.astype(int)


def frame_sources(steps) -> list[str]:
    """The image each step of a scrub view's slider shows (a relayout of images[0])."""
    return [step["args"][0]["images[0].source"] for step in steps]


def test_each_frame_draws_its_own_values_on_one_scale():
    feats = features()
    state = Explorer()
    result = scrub.sweep(feats, state, "alpha", 2)
    fig = sweeps.scrub_figure(result.output, result.gain, result.mean_gain, result.values,
                               "α", active=5, log_x=True)
    steps = [step.to_plotly_json() for step in fig.layout.sliders[0].steps]
    assert len(steps) == len(result.values) and all(s["method"] == "relayout" for s in steps)
    sources = frame_sources(steps)
    assert fig.layout.sliders[0].active == 5 and fig.layout.images[0].source == sources[5]
    low, high = result.output.min(), result.output.max()
    for i in (0, 12, 24):
        drawn, expected = drawn_output(sources[i], result.output[i], low, high)
        assert np.abs(drawn - expected).max() <= 1  # rounding at a level's edge
        # the dot on the curve: on a log axis a layout image sits at the value's log10
        dot = steps[i]["args"][0]
        assert dot["images[3].x"] == pytest.approx(np.log10(result.values[i]))
        assert dot["images[3].y"] == pytest.approx(result.mean_gain[i])
    assert list(fig.data[0].x) == result.values  # the curve through every value


def test_a_large_noisy_image_stays_within_the_budget():
    feats = feature_maps(load_sample("noise", 512), "gabor", 16)  # incompressible
    fig = scrub.figure(feats, Explorer(side=512), "beta", 0)
    assert len(fig.to_json()) <= 1_500_000
    assert len(fig.layout.sliders[0].steps) == scrub.FRAMES


# --- the page --------------------------------------------------------------------------------

def run_page(script: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query)
    at.switch_page(f"app_pages/{script}.py")
    return at.run()


def explorer(query: dict) -> AppTest:
    return run_page("explorer", query)


def scrub_specs(at: AppTest) -> list[dict]:
    """The page's figures with a plotly slider: its scrub view, if open."""
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    return [s for s in specs if s["layout"].get("sliders")]


def scrub_spec(at: AppTest) -> dict:
    (spec,) = scrub_specs(at)
    return spec


def open_scrub_spec(at: AppTest, radio_key: str, parameter: str) -> dict:
    """The page ran without an error with its scrub control on ``parameter``, said that every
    frame is exact, and drew one scrub view: its figure."""
    assert not at.exception, [e.value for e in at.exception]
    assert at.radio(key=radio_key).value == parameter
    assert any("Each frame is exact" in c.value for c in at.caption)
    return scrub_spec(at)


def test_page_opens_the_scrub_view_from_the_address_and_its_frames_are_exact():
    at = explorer({"scrub": "beta", "channel": "3", "tab": "Statistics"})
    spec = open_scrub_spec(at, "x_scrub", "beta")
    state = Explorer()
    betas = scrub.values("beta", state, 16)
    assert [s["label"] for s in spec["layout"]["sliders"][0]["steps"]] == [
        f"{b:.3g}" for b in betas
    ]
    assert spec["layout"]["sliders"][0]["active"] == betas.index(0.75)  # the slider's value
    feats = feature_maps(load_sample("cat", 256), "gabor", 16)  # the page's defaults
    outputs = [exact(feats, replace(state, beta=b), 3)[0] for b in betas]
    low, high = min(o.min() for o in outputs), max(o.max() for o in outputs)
    sources = frame_sources(spec["layout"]["sliders"][0]["steps"])
    for i in (0, 24):
        drawn, expected = drawn_output(sources[i], outputs[i], low, high)
        assert np.abs(drawn - expected).max() <= 1
    at.radio(key="x_scrub").set_value("off").run()
    assert scrub_specs(at) == []
    assert "scrub" not in at.query_params


def test_moving_the_swept_parameter_reopens_the_cached_sweep_on_its_nearest_frame(monkeypatch):
    """The α sweep does not depend on α: moving α's own slider must not compute it again
    (25 LRN passes and images, on every move), only open it on the frame nearest the new α;
    moving β must."""
    built = []
    sweep = scrub.sweep
    monkeypatch.setattr(scrub, "sweep", lambda *a, **k: built.append(a[2:]) or sweep(*a, **k))
    at = explorer({"scrub": "alpha", "tab": "Statistics", "beta": "0.55"})
    assert not at.exception and len(built) == 1
    for value in (0.000178, 316.0):  # two stops of the α slider
        release(at, alpha=value)
        assert not at.exception and len(built) == 1 and float(at.query_params["alpha"]) == value
        slider = scrub_spec(at)["layout"]["sliders"][0]
        alphas = [float(step["value"]) for step in slider["steps"]]
        nearest = int(np.argmin([abs(np.log10(a / value)) for a in alphas]))
        step = slider["steps"][slider["active"]]["args"][0]
        images = scrub_spec(at)["layout"]["images"]
        assert slider["active"] == nearest and images[0]["source"] == step["images[0].source"]
        assert images[3]["x"] == pytest.approx(np.log10(alphas[nearest]))  # the dot
    release(at, beta=0.6)
    assert len(built) == 2  # another β: every frame changes


def test_scrub_control_goes_into_the_address_and_a_bad_value_is_repaired():
    at = explorer({"tab": "Statistics"})
    at.radio(key="x_scrub").set_value("n").run()
    assert not at.exception and at.query_params["scrub"] == "n"
    assert len(scrub_spec(at)["layout"]["sliders"][0]["steps"]) == scrub.FRAMES
    bad = explorer({"scrub": "gamma", "tab": "Statistics"})
    assert not bad.exception
    assert any("scrub='gamma' is not valid" in w.value for w in bad.warning)
    assert bad.radio(key="x_scrub").value == "off"


# --- the Gradients page's: one output's Jacobian row --------------------------------------------

def autograd_row(feats, state, channel, row, col):
    """d y[channel, row, col] / d x by autograd through the definition, in float64."""
    x = torch.from_numpy(feats).double().requires_grad_()
    y = lrn_reference(x, state.n, state.alpha, state.beta, state.k, mode=state.mode,
                      convention=state.convention)
    (row_of_J,) = torch.autograd.grad(y[channel, row, col], x)
    return row_of_J.numpy()


@pytest.mark.parametrize("mode, convention, parameter", [
    ("across", "pytorch", "alpha"), ("across", "pytorch", "n"), ("across", "tensorflow", "beta"),
    ("within", "caffe", "k"), ("within", "caffe", "n")])
def test_jacobian_sweep_frames_are_autograds_row_at_their_values(mode, convention, parameter):
    feats = features(side=40)
    state = Gradients(mode=mode, convention=convention)
    channel, row, col = 5, 20, 17
    result = scrub.jacobian_sweep(feats, state, parameter, channel, row, col)
    assert result.values == scrub.values(parameter, state, feats.shape[0])
    assert len(result.values) >= (8 if (mode, parameter) == ("within", "n") else 24)
    for i, value in enumerate(result.values):
        full = autograd_row(feats, replace(state, **{parameter: value}), channel, row, col)
        if mode == "across":  # one pixel, the channels named
            picked = [int(name.split()[1]) for name in result.channels]
            expected = full[picked, row, col]
            assert np.abs(np.delete(full[:, row, col], picked)).max(initial=0) == 0
        else:  # one channel, the pixels around (row, col)
            r0, c0 = result.origin
            h, w = result.rows.shape[1:]
            expected = full[channel, r0:r0 + h, c0:c0 + w]
            assert full[channel].sum() == pytest.approx(expected.sum(), rel=1e-9, abs=1e-12)
        scale = np.abs(expected).max()
        assert np.abs(result.rows[i] - expected).max() <= 1e-5 * scale, value
        centre = expected[channel - picked[0]] if mode == "across" else expected[row - r0, col - c0]
        assert result.centre[i] == pytest.approx(centre, rel=1e-5)
    if parameter == "n":  # one neighbourhood for all frames: the widest window and 2 more
        assert result.rows.shape[1:] == result.rows[0].shape


@pytest.mark.parametrize("mode, convention", [("across", "pytorch"), ("within", "caffe")])
def test_a_jacobian_scrub_figure_opens_on_the_frame_nearest_a_value(mode, convention):
    feats = features(side=40)
    state = Gradients(mode=mode, convention=convention)
    fig = scrub.jacobian_figure(feats, state, "beta", 5, 20, 17)
    betas = sweeps.scrub_values(fig)
    assert betas == scrub.values("beta", state, 16) and fig.layout.sliders[0].active == \
        betas.index(min(betas, key=lambda b: abs(b - state.beta)))
    scrub.opened_at(fig, "beta", betas[3] + 0.001)
    assert fig.layout.sliders[0].active == 3
    for trace, framed in zip(fig.data, fig.frames[3].data):
        assert np.array_equal(trace.y if mode == "across" else trace.z,
                              framed.y if mode == "across" else framed.z)
    if mode == "within":  # its title names the frame's value
        assert fig.layout.title.text == fig.frames[3].layout.title.text
        assert f"β = {betas[3]:.3g}" in fig.layout.title.text


def gradients(query: dict) -> AppTest:
    return run_page("gradients", query)


def test_gradients_page_opens_the_jacobian_scrub_view_from_the_address():
    at = gradients({"scrub": "alpha", "channel": "5", "row": "30", "col": "40"})
    spec = open_scrub_spec(at, "g_scrub", "alpha")
    state = Gradients()
    alphas = scrub.values("alpha", state, 16)
    assert len(spec["frames"]) == len(alphas) == scrub.FRAMES
    nearest = min(alphas, key=lambda a: abs(np.log10(a / state.alpha)))  # to α = 10
    assert spec["layout"]["sliders"][0]["active"] == alphas.index(nearest)
    # the page's defaults: the cat's central square, Gabor features
    feats = feature_maps(batch.square(load_sample("cat", state.side), state.side), "gabor", 16)
    steps = spec["layout"]["sliders"][0]["steps"]
    assert all(s["args"][1]["frame"]["redraw"] is False for s in steps)  # bars move in place
    for i in (0, 12, 24):
        positive, negative = spec["frames"][i]["data"]  # red and blue bars, of one sign each
        assert min(positive["y"]) >= 0 >= max(negative["y"]) and positive["x"] == negative["x"]
        full = autograd_row(feats, replace(state, alpha=alphas[i]), 5, 30, 40)
        expected = full[[int(name.split()[1]) for name in positive["x"]], 30, 40]
        np.testing.assert_allclose(np.add(positive["y"], negative["y"]), expected, rtol=1e-5,
                                   atol=1e-6 * np.abs(expected).max())
    assert "ch 5" in spec["layout"]["title"]["text"]  # one title: a frame's would not be drawn
    at.radio(key="g_scrub").set_value("off").run()
    assert not [c for c in at.get("plotly_chart") if json.loads(c.proto.spec).get("frames")]
    assert "scrub" not in at.query_params


def test_gradients_scrub_control_goes_into_the_address_and_a_bad_value_is_repaired():
    at = gradients({"mode": "within", "convention": "caffe"})
    at.radio(key="g_scrub").set_value("n").run()
    assert not at.exception and at.query_params["scrub"] == "n"
    spec = scrub_spec(at)
    assert spec["data"][0]["type"] == "heatmap" and len(spec["frames"]) >= 8
    # a heatmap is redrawn on each step, and each frame's title gives its value
    sizes = scrub.values("n", Gradients(mode="within", convention="caffe"), 16)
    assert all(s["args"][1]["frame"]["redraw"] for s in spec["layout"]["sliders"][0]["steps"])
    assert [f"n = {v}:" in f["layout"]["title"]["text"] for f, v in zip(spec["frames"], sizes)] \
        == [True] * len(spec["frames"])
    bad = gradients({"scrub": "gamma"})
    assert not bad.exception
    assert any("scrub='gamma' is not valid" in w.value for w in bad.warning)
    assert bad.radio(key="g_scrub").value == "off"
