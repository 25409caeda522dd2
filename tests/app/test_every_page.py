"""What holds on every page (AppTest): leaving and returning, the feature sources,
presentation mode, and charts sent without Streamlit's theme.
"""

import json

import pytest

from tests.app.apptest import live_data, messages, no_exceptions, open_page


def test_every_page_survives_leaving_and_returning():
    at = open_page("compare")
    at.radio(key="b_bn_mode").set_value("eval").run()
    for script in ("gradients", "conventions", "explorer", "compare"):
        at.switch_page(f"app_pages/{script}.py").run()
        no_exceptions(at)
    assert at.radio(key="b_bn_mode").value == "eval" and at.query_params["bn_mode"] == "eval"


@pytest.mark.parametrize("script", ["gradients", "compare"])
def test_learned_and_rgb_feature_sources_work_on_the_batch_pages(script):
    for source, channels in (("learned", 8), ("rgb", 3)):
        at = open_page(script, {"source": source})
        no_exceptions(at)
        assert (
            at.slider(key=f"{script[0] if script == 'gradients' else 'b'}_channel").max
            == channels - 1
        )


@pytest.mark.parametrize("script", ["explorer", "gradients", "compare", "conventions"])
def test_charts_are_sent_without_streamlits_theme_template(script):
    # The figures carry the theme's look themselves (lrn_app.figures.look._LOOK): a template makes
    # the browser draw every changed figure twice on each slider move.
    at = open_page(script)
    charts = at.get("plotly_chart")
    assert charts
    for chart in charts:
        assert chart.proto.theme == ""  # theme=None
        assert "template" not in json.loads(chart.proto.spec)["layout"]


@pytest.mark.parametrize("script", ["explorer", "gradients", "compare", "conventions", "training"])
def test_present_is_a_known_url_parameter_on_every_page(script):
    at = open_page(script, {"present": "1", "alpha": "2.0"} if script != "training" else
                   {"present": "1"})
    no_exceptions(at)
    assert "present" not in messages(at)  # never "ignored the unknown URL parameter"
    assert at.session_state["present"] is True
    assert at.query_params["present"] == "1"  # kept in the address with the page's own
    if script != "training":
        assert at.query_params["alpha"] == "2.0"


def test_presentation_mode_folds_the_set_up_controls_and_enlarges_figure_text():
    at = open_page("explorer", {"present": "1"})
    labels = [e.label for e in at.expander]
    assert "Image, feature maps, presets, mode and convention" in labels
    panels = live_data(at, "panels")  # the one-channel row, as the live view draws it
    layout = panels["figure"]["layout"]
    assert layout["font"]["size"] >= 16
    assert all(a["font"]["size"] >= 16 for a in layout.get("annotations", []))
    assert [t for t in panels["figure"]["data"] if t.get("mode") == "text"]  # the map labels,
    assert min(panels["label_size"], panels["title_size"]) >= 16  # drawn live at these sizes
    plain = open_page("explorer")
    assert "Image, feature maps, presets, mode and convention" not in [
        e.label for e in plain.expander
    ]
