"""The Gradients page as a user drives it (AppTest)."""

from tests.app.apptest import live_data, messages, metric, no_exceptions, open_page, percent


def test_gradients_page_closed_form_agrees_with_autograd():
    at = open_page("gradients")
    no_exceptions(at)
    assert at.title[0].value == "Gradients"
    assert float(metric(at, "Largest |closed form − autograd|")) < 1e-12
    assert len(at.get("plotly_chart")) == 3  # dL/dx, BatchNorm's and LRN's batch
    jacobian = live_data(at, "jacobian")  # and the Jacobian row, drawn live from its pack
    assert jacobian["figure"]["data"][0]["type"] == "bar"
    pack = live_data(at, "sliders")["pack"]
    assert pack["mode"] == "across" and pack["at"] == [5, 0, 0] and pack["arrays"] == ["x"]
    assert any("lateral inhibition" in m.value for m in at.markdown)
    # BatchNorm sends gradient to the batch-mates, LRN none, and swapping them matters
    assert float(metric(at, "Largest |dL/dx| on the batch-mates: BatchNorm")) > 0
    assert float(metric(at, "… and LRN")) == 0
    assert percent(metric(at, "BatchNorm: change after a swap")) > 1
    assert any("LRN's changes by 0.0%" in c.value for c in at.caption)


def test_gradients_page_controls_change_the_result():
    at = open_page("gradients")
    before = metric(at, "BatchNorm: change after a swap")
    at.radio(key="g_loss").set_value("one value").run()
    no_exceptions(at)
    assert any("(c, r, s) = (5," in m.value for m in at.latex)  # the pixel is named
    assert metric(at, "BatchNorm: change after a swap") != before
    at.radio(key="g_mode").set_value("within").run()
    no_exceptions(at)
    assert float(metric(at, "Largest |closed form − autograd|")) < 1e-12
    at.multiselect(key="g_mates").set_value([]).run()
    no_exceptions(at)
    assert "Pick at least one batch-mate" in messages(at)
    assert at.query_params["mode"] == "within" and at.query_params["loss"] == "one value"


def test_gradients_page_repairs_a_hand_edited_url():
    at = open_page("gradients", {"mates": "cat,bogus", "side": "99999", "loss": "cubed",
                                 "row": "5000", "col": "-7", "k": "0", "alpha": "0"})
    no_exceptions(at)
    notices = " ".join(w.value for w in at.warning)
    assert "left out 'bogus'" in notices and "loss='cubed' is not valid" in notices
    assert at.slider(key="g_side").value == 256
    assert at.number_input(key="g_row").value == 255  # kept inside the image
    assert at.multiselect(key="g_mates").value == ["cat"]
