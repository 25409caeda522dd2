"""The LRN vs BatchNorm page as a user drives it (AppTest)."""

from tests.app.apptest import (
    live_data,
    messages,
    metric,
    no_exceptions,
    open_page,
    percent,
    png,
    release,
)


def test_compare_page_shows_batch_dependence_for_batchnorm_only():
    at = open_page("compare")
    no_exceptions(at)
    assert at.title[0].value == "LRN vs BatchNorm"
    assert percent(metric(at, "Swap the batch-mates: BatchNorm (train)")) > 1
    assert percent(metric(at, "… LRN output changes by")) == 0
    table = at.dataframe[0].value.set_index("normalisation")
    assert table.loc["LRN", "trainable parameters"] == 0
    assert table.loc["BatchNorm", "trainable parameters"] == 2 * 16
    assert table.loc["BatchNorm", "output depends on other images"] == "yes"
    assert table.loc["LRN", "output depends on other images"] == "no"
    assert set(table.index) == {"LRN", "BatchNorm", "LayerNorm", "InstanceNorm", "GroupNorm"}
    # the image after LRN is drawn live from the chosen image's pack; the others as served
    panels = live_data(at, "panels")
    assert panels["live"] == {"LRN": "output"} and set(panels["fixed"]) == {"input", "BatchNorm"}
    pack = live_data(at, "sliders")["pack"]
    assert (pack["channels"], pack["mode"], pack["arrays"]) == (16, "across", ["x"])
    # eval mode: the running statistics, so the batch-mates stop mattering
    at.radio(key="b_bn_mode").set_value("eval").run()
    no_exceptions(at)
    assert percent(metric(at, "Swap the batch-mates: BatchNorm (eval)")) == 0
    assert percent(metric(at, "BatchNorm train against eval")) > 0


def test_compare_page_controls_change_results():
    at = open_page("compare", {"bn_mode": "eval"})
    gap = percent(metric(at, "BatchNorm train against eval"))
    at.slider(key="b_warmup").set_value(100).run()  # the running statistics catch up
    no_exceptions(at)
    assert percent(metric(at, "BatchNorm train against eval")) < gap
    at.multiselect(key="b_augment").set_value(["flip", "darker"]).run()
    no_exceptions(at)
    assert len(at.selectbox(key="b_chosen").options) == 12  # 4 images x (1 + 2 augmentations)
    at.selectbox(key="b_chosen").set_value(5).run()  # "coffee (flip)"
    no_exceptions(at)
    assert any(h.value.startswith("coffee (flip)") for h in at.subheader)
    at.slider(key="b_gamma").set_value(-2.0).run()
    no_exceptions(at)
    assert at.query_params["gamma"] == "-2.0" and at.query_params["augment"] == "flip,darker"


def test_compare_page_uploads_join_the_batch_and_bad_ones_are_refused():
    at = open_page("compare")
    at.get("file_uploader")[0].set_value([("ramp.png", png(80, 40), "image/png"),
                                          ("bad.png", b"<html>", "image/png")]).run()
    no_exceptions(at)
    assert any("bad.png" in e.value for e in at.error)
    assert "ramp.png" in at.multiselect(key="b_images").options
    at.multiselect(key="b_images").set_value(["ramp.png", "cat"]).run()
    no_exceptions(at)
    assert at.selectbox(key="b_chosen").options[0] == "ramp.png"


def test_compare_page_empty_batch_and_bad_urls():
    at = open_page("compare")
    at.multiselect(key="b_images").set_value([]).run()
    no_exceptions(at)
    assert "The batch is empty" in messages(at)
    at = open_page("compare", {"images": "cat,coffee,camera,astronaut,spot,noise",
                               "augment": "flip,crop,darker", "chosen": "99", "eps": "-1",
                               "bn_mode": "sideways", "channels": "96", "side": "256"})
    no_exceptions(at)
    notices = " ".join(w.value for w in at.warning)
    assert "at most 16 images" in notices and "bn_mode='sideways' is not valid" in notices
    assert "working size" in notices  # 96 channels x 9 images do not fit at 256 px


def test_compare_page_lrn_moves_reuse_batchnorms_side(monkeypatch):
    """BatchNorm's half does not depend on LRN's settings: an α move reuses it (cached),
    and what the page shows of BatchNorm is unchanged; a BatchNorm setting recomputes it."""
    from lrn_app.compute import compare
    calls = []
    real = compare.batchnorm_side
    monkeypatch.setattr(compare, "batchnorm_side", lambda *a: calls.append(1) or real(*a))
    at = open_page("compare", {"gamma": "1.35"})  # settings no other test caches
    no_exceptions(at)
    first = len(calls)
    swap_metric = metric(at, "Swap the batch-mates")
    release(at, "b_", alpha=0.02)
    no_exceptions(at)
    assert len(calls) == first and metric(at, "Swap the batch-mates") == swap_metric
    at.slider(key="b_gamma").set_value(1.4).run()
    no_exceptions(at)
    assert len(calls) == first + 1
