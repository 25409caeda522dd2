"""The LRN Explorer as a user drives it, through Streamlit's AppTest (no browser)."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.apptest import APP, live_data, no_exceptions, png, release


def explorer(query: dict | None = None, tab: str = "Statistics") -> AppTest:
    """The Explorer page, opened on the statistics tab unless told otherwise."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update({"tab": tab, **(query or {})})
    at.switch_page("app_pages/explorer.py")
    return at.run()


def output_means(at: AppTest) -> np.ndarray:
    return at.dataframe[0].value["mean out"].to_numpy()


def test_explorer_opens_on_defaults():
    at = explorer()
    no_exceptions(at)
    assert at.selectbox(key="x_sample").value == "cat"
    assert at.select_slider(key="x_channels").value == 16
    assert at.session_state["x_n"] == 5
    assert at.session_state["x_alpha"] == 10.0
    assert len(output_means(at)) == 16
    # LRN visibly does something at the defaults: some channels change by more than 1%
    assert at.dataframe[0].value["changed > 1%"].max() > 0.05


def test_moving_a_slider_changes_the_output():
    at = explorer()
    before = output_means(at)
    release(at, alpha=100.0)
    no_exceptions(at)
    after = output_means(at)
    assert np.all(after <= before + 1e-9) and np.any(after < 0.9 * before)
    release(at, n=9)
    assert not np.allclose(output_means(at), after)


@pytest.mark.parametrize("preset, expected", [
    ("AlexNet paper", dict(n=5, alpha=5e-4, beta=0.75, k=2.0)),  # in PyTorch's terms
    ("TensorFlow default", dict(n=11, alpha=11.0, beta=0.5, k=1.0)),
    ("Identity (alpha = 0)", dict(alpha=0.0)),
    ("L2 normalisation", dict(n=31, alpha=31.0, beta=0.5, k=0.0)),
])
def test_presets_set_the_values_they_claim(preset, expected):
    at = explorer()
    next(b for b in at.button if b.label == preset).click().run()
    no_exceptions(at)
    assert at.selectbox(key="x_convention").value == "pytorch"
    for key, value in expected.items():
        assert at.session_state[f"x_{key}"] == pytest.approx(value), key
        assert live_data(at, "sliders")["settings"][key] == pytest.approx(value), key
    if preset.startswith("Identity"):
        stats = at.dataframe[0].value
        np.testing.assert_allclose(stats["mean out"], stats["mean in"], rtol=1e-6)


def test_only_the_open_tab_is_computed():
    at = explorer(tab="All channels")
    no_exceptions(at)
    assert len(at.dataframe) == 0  # the statistics tab is closed: its table is not built
    assert len(at.get("plotly_chart")) == 1  # the kernels; the live view draws the rest:
    assert live_data(at, "panels") and live_data(at, "grid")  # the panels, every channel
    at = explorer(tab="Export")
    assert any("torch.nn.LocalResponseNorm(size=5, alpha=10.0" in c.value for c in at.code)
    assert any("depth_radius=2" in c.value for c in at.code)  # n=5 -> TensorFlow's radius 2


def test_pixel_inspector_arithmetic_matches_the_output():
    at = explorer({"row": "40", "col": "50", "channel": "2"}, tab="Pixel inspector")
    no_exceptions(at)
    text = " ".join(m.value for m in at.markdown)
    assert "channel 2, pixel (row 40, column 50)" in text
    assert "y = x · gain" in text


def test_shuffling_channels_changes_across_channel_output():
    at = explorer({"shuffle": "1"}, tab="Channel order")
    no_exceptions(at)
    assert float(at.metric[0].value.split("%")[0]) > 1.0  # a visible change


def test_preset_switches_convention_when_no_exact_translation():
    at = explorer({"convention": "onnx"})
    next(b for b in at.button if b.label == "AlexNet paper").click().run()
    assert at.selectbox(key="x_convention").value == "onnx"  # n=5 translates exactly
    at.selectbox(key="x_convention").set_value("cudnn").run()
    next(b for b in at.button if b.label == "L2 normalisation").click().run()
    no_exceptions(at)
    # cuDNN cannot take k = 0 or n = 31: the preset switches to its own convention
    assert at.selectbox(key="x_convention").value == "tensorflow"
    assert at.session_state["x_k"] == 0.0


def test_url_parameters_round_trip():
    query = {"convention": "onnx", "n": "4", "alpha": "0.25", "beta": "0.6", "k": "2.5",
             "channel": "3", "view": "gain", "per_channel_scale": "0"}
    at = explorer(query, tab="All channels")
    no_exceptions(at)
    assert at.selectbox(key="x_convention").value == "onnx"
    assert at.session_state["x_n"] == 4
    assert at.session_state["x_alpha"] == 0.25
    assert at.session_state["x_k"] == 2.5
    assert at.slider(key="x_channel").value == 3
    assert at.radio(key="x_view").value == "gain"
    assert at.query_params["n"] == "4" and at.query_params["convention"] == "onnx"
    assert "tab" not in at.query_params and at.query_params["view"] == "gain"  # defaults stay out
    release(at, n=6)
    assert at.query_params["n"] == "6"  # the address follows the controls


def test_hand_edited_url_is_repaired_with_notices():
    at = explorer({"n": "banana", "convention": "caffe", "mode": "within", "k": "-4",
                   "alpha": "1e99", "bogus": "1", "channel": "999"})
    no_exceptions(at)
    notices = " ".join(w.value for w in at.warning)
    assert "n='banana' is not valid" in notices and "unknown URL parameter 'bogus'" in notices
    assert at.session_state["x_k"] == 0.0
    assert at.session_state["x_alpha"] == 1e4
    assert at.slider(key="x_channel").value == 15


def test_settings_survive_leaving_the_page_and_switching_tabs():
    # Streamlit drops the state of widgets a run does not draw; the page must restore it.
    at = explorer(tab="All channels")
    release(at, n=7)
    at.radio(key="x_view").set_value("gain").run()
    at.session_state["x_tab"] = "Statistics"
    at.run().run()  # the view radio is not drawn: its state is dropped, then restored
    no_exceptions(at)
    at.switch_page("app_pages/home.py").run()
    no_exceptions(at)
    at.switch_page("app_pages/explorer.py").run()
    no_exceptions(at)
    assert at.session_state["x_n"] == 7
    assert at.query_params["n"] == "7" and at.query_params["view"] == "gain"


def test_sliders_reaching_k_and_alpha_zero_get_a_message():
    at = explorer()
    release(at, alpha=0.0)
    release(at, k=0.0)
    no_exceptions(at)
    # AppTest reruns the whole page, whose repair resets k (a browser reruns only the
    # sliders' fragment, which says it cannot compute): either way the user is told.
    messages = [m.value for m in list(at.warning) + list(at.info)]
    assert any("cannot be computed" in m or "divides by zero" in m for m in messages), messages
    release(at, k=0.5)  # and the page goes on
    no_exceptions(at)
    assert len(output_means(at)) == 16


def test_raw_channels_of_a_grey_image_are_one_channel():
    at = explorer({"sample": "camera", "source": "rgb", "channel": "2"})
    no_exceptions(at)
    assert len(output_means(at)) == 1
    at.radio(key="x_mode").set_value("within").run()
    no_exceptions(at)


def test_an_uploaded_image_is_used():
    at = explorer()
    at.selectbox(key="x_sample").set_value("upload").run()
    at.get("file_uploader")[0].set_value([("ramp.png", png(120, 60), "image/png")]).run()
    no_exceptions(at)
    assert any("of 60 x 120 pixels" in m.value for m in at.markdown)
    at.get("file_uploader")[0].set_value([("broken.png", b"not a png", "image/png"),
                                          ("ramp.png", png(90, 30, "L"), "image/png")]).run()
    no_exceptions(at)
    assert any("broken.png: not an image" in e.value for e in at.error)
    assert any("of 30 x 90 pixels" in m.value for m in at.markdown)


@pytest.mark.parametrize("query", [
    {"convention": "tensorflow", "n": "0", "k": "0", "alpha": "0", "beta": "0"},
    {"convention": "cudnn", "mode": "within", "n": "999", "k": "10", "alpha": "10000", "beta": "2"},
    {"convention": "alexnet", "k": "0", "alpha": "10000", "beta": "2", "sample": "checkerboard"},
    {"side": "99999", "channels": "96", "n": "999", "tab": "Channel order", "shuffle": "1"},
    {"sample": "upload", "tab": "Export", "mode": "within", "convention": "onednn", "n": "4"},
    {"source": "rgb", "sample": "spot", "mode": "within", "n": "31", "tab": "Pixel inspector"},
])
def test_extreme_settings_render_without_errors(query):
    no_exceptions(explorer(query))


def test_k_zero_on_an_all_zero_region_is_counted_not_nan():
    # The checkerboard's flat squares give all-zero Gabor responses: with k = 0 their
    # denominator is 0; the page says how many such cells there are, and draws 0.
    at = explorer({"sample": "checkerboard", "k": "0", "alpha": "10"})
    no_exceptions(at)
    assert any("denominator is 0" in i.value for i in at.info)
    assert not at.warning  # no NaN or inf reached a figure
