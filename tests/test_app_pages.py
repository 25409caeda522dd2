"""The Gradients, LRN vs BatchNorm and Conventions pages as a user drives them (AppTest)."""

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page(script: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params.update(query or {})
    at.switch_page(f"app_pages/{script}.py")
    return at.run()


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def metric(at: AppTest, label_start: str) -> str:
    return next(m.value for m in at.metric if m.label.startswith(label_start))


def percent(text: str) -> float:
    return float(text.rstrip("%"))


def messages(at: AppTest) -> str:
    return " ".join(m.value for m in list(at.warning) + list(at.info))


# --- Gradients ------------------------------------------------------------------------------------

def test_gradients_page_closed_form_agrees_with_autograd():
    at = open_page("gradients")
    no_exceptions(at)
    assert at.title[0].value == "Gradients"
    assert float(metric(at, "Largest |closed form − autograd|")) < 1e-12
    assert len(at.get("plotly_chart")) == 4  # dL/dx, the Jacobian, BatchNorm's and LRN's batch
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


# --- LRN vs BatchNorm ----------------------------------------------------------------------------

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


def _png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def test_compare_page_uploads_join_the_batch_and_bad_ones_are_refused():
    at = open_page("compare")
    at.get("file_uploader")[0].set_value([("ramp.png", _png(80, 40), "image/png"),
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


# --- Conventions -----------------------------------------------------------------------------------

def test_conventions_page_translates_and_proves_it():
    at = open_page("conventions")
    no_exceptions(at)
    rows = at.table[0].value.set_index("convention")
    assert rows.loc["pytorch", "parameters"] == "size=5, alpha=0.0005, beta=0.75, k=2"
    assert rows.loc["tensorflow", "parameters"].startswith("depth_radius=2, alpha=0.0001")
    text = " ".join(m.value for m in at.markdown)
    worst = float(re.search(r"agrees to within \*\*([0-9.e+-]+)\*\*", text).group(1))
    assert worst < 1e-6  # every pair, torch's own F.local_response_norm included
    examples = at.table[1].value
    assert (examples["largest error"].astype(float) < 1e-7).all()
    assert list(at.dataframe[-1].value.columns)[0] == "channel"  # the CrossMapLRN2d demonstration


@pytest.mark.parametrize("example, cell, expected", [
    ("across", 0, "= 0.5"),  # 1 / (1² + 1²)
    ("tensorflow", 0, "= 0.131199"),  # the tutorial's first printed value
])
def test_conventions_page_tutorial_examples_show_their_arithmetic(example, cell, expected):
    at = open_page("conventions", {"example": example, "cell": str(cell)})
    no_exceptions(at)
    editor = at.dataframe[-2].value  # the editable tensor, before the defects' table
    assert editor.to_numpy().ravel()[:2].tolist() == ([1.0, 1.0] if example == "across"
                                                       else [1.0, 2.0])
    arithmetic = at.code[0].value
    assert arithmetic.startswith("S = ") and arithmetic.endswith(expected)
    at.selectbox(key="c_cell").set_value(1).run()
    assert at.query_params["cell"] == "1"
    assert at.code[0].value != arithmetic


def test_conventions_page_repairs_a_hand_edited_tutorial_cell():
    at = open_page("conventions", {"example": "across", "cell": "99"})
    no_exceptions(at)
    assert "cell = 99 is outside 0..3" in messages(at)


def test_conventions_page_even_size_and_within_mode():
    at = open_page("conventions", {"convention": "pytorch", "n": "4", "alpha": "10"})
    no_exceptions(at)
    assert "asymmetric window" in messages(at)
    rows = at.table[0].value.set_index("convention")
    assert (rows["why not"] != "").sum() == len(rows) - 1  # only PyTorch has c-2..c+1
    at.radio(key="c_mode").set_value("within").run()
    no_exceptions(at)
    assert at.selectbox(key="c_convention").value == "caffe"  # the first with this mode
    text = " ".join(m.value for m in at.markdown)
    assert float(re.search(r"agrees to within \*\*([0-9.e+-]+)\*\*", text).group(1)) < 1e-6


def test_conventions_page_with_k_zero_says_where_torch_gives_nan():
    """With k = 0, ReLU features' all-zero windows are 0 / 0 for torch's own LRN (lrn_core
    defines 0): the page says how many outputs, and no NaN reaches the matrix or the text."""
    at = open_page("conventions", {"convention": "pytorch", "k": "0"})
    no_exceptions(at)
    assert "torch's own gives NaN in" in messages(at) and "k = 0" in messages(at)
    text = " ".join(m.value for m in at.markdown)
    assert "nan" not in text.lower()
    worst = float(re.search(r"agrees to within \*\*([0-9.e+-]+)\*\*", text).group(1))
    assert worst < 1e-6
    for chart in at.get("plotly_chart")[:2]:  # the two difference matrices
        cells = json.loads(chart.proto.spec)["data"][0]["text"]
        assert "NaN" not in sum(cells, [])


@pytest.mark.parametrize("query", [
    {"convention": "cudnn", "n": "99", "k": "0", "beta": "0"},
    {"mode": "sideways", "alpha": "nan", "sample": "<script>"},
    {"convention": "tensorflow", "n": "0", "k": "0", "alpha": "0"},
])
def test_conventions_page_bad_urls(query):
    at = open_page("conventions", query)
    no_exceptions(at)
    assert at.warning  # the repairs are shown


def test_every_page_survives_leaving_and_returning():
    at = open_page("compare")
    at.radio(key="b_bn_mode").set_value("eval").run()
    for script in ("gradients", "conventions", "explorer", "compare"):
        at.switch_page(f"app_pages/{script}.py").run()
        no_exceptions(at)
    assert at.radio(key="b_bn_mode").value == "eval" and at.query_params["bn_mode"] == "eval"


# --- Training lab ------------------------------------------------------------------------------------

TINY_LAB = {"seeds": "1", "epochs": "1", "variants": "none,lrn_within"}


def test_training_lab_trains_shows_and_then_reuses_the_stored_runs():
    from lrn_app.ui import training_pool
    at = open_page("training", TINY_LAB)
    no_exceptions(at)
    trained = training_pool().epochs_trained  # the server's worker processes train
    # two variants at each of the grid's four rates, one seed, one epoch, in the workers;
    # then a rate past an end of the grid where that end held a variant's best
    next(b for b in at.button if b.label.startswith("Train (8 runs)")).click().run()
    no_exceptions(at)
    first = training_pool().epochs_trained - trained
    assert first >= 8
    table = at.dataframe[0].value.set_index("variant")
    assert list(table.index) == ["no normalisation", "LRN within a channel"]
    assert all(float(rate) > 0 for rate in table["chosen rate"])
    assert table.loc["LRN within a channel", "trainable parameters"] == \
        table.loc["no normalisation", "trainable parameters"]  # LRN learns nothing
    assert any("against no normalisation" in m.value for m in at.markdown)
    # the data set's mosaic, accuracy, loss, LRN's response, the first layer's filters
    assert len(at.get("plotly_chart")) == 5
    # Another session with the same settings: shown from the server's store, not retrained.
    again = open_page("training", TINY_LAB)
    no_exceptions(again)
    assert training_pool().epochs_trained == trained + first
    assert not any(b.label.startswith("Train") for b in again.button)
    assert any("shown without training again" in c.value for c in again.caption)
    # The learned first layer becomes the other pages' feature source.
    next(b for b in again.button if b.label.startswith("Use these filters")).click().run()
    assert "seed 0" in again.session_state["learned_layer"]["name"]
    again.query_params["source"] = "learned"
    again.switch_page("app_pages/explorer.py").run()
    no_exceptions(again)


def test_training_lab_bad_urls_and_an_empty_choice():
    at = open_page("training", {"variants": "dropout", "seeds": "99", "epochs": "-3",
                                "convention": "pytorch", "n": "40", "head": "mlp"})
    no_exceptions(at)
    notices = " ".join(w.value for w in at.warning)
    assert "left out 'dropout'" in notices and "seeds = 99" in notices
    assert "convention='pytorch' is not valid" in notices  # PyTorch has no within-channel LRN
    assert "head='mlp' is not valid" in notices
    assert at.slider(key="t_n").value <= 15
    next(b for b in at.button if b.label.startswith("AlexNet's values")).click().run()
    no_exceptions(at)
    assert (at.slider(key="t_k").value, at.select_slider(key="t_alpha").value) == (2.0, 1e-4)
    assert at.toggle(key="t_alpha_scaled").value is False  # the paper's α is absolute
    at.multiselect(key="t_variants").set_value([]).run()
    no_exceptions(at)
    assert "Pick at least one variant" in messages(at)


@pytest.mark.parametrize("script", ["gradients", "compare"])
def test_learned_and_rgb_feature_sources_work_on_the_batch_pages(script):
    for source, channels in (("learned", 8), ("rgb", 3)):
        at = open_page(script, {"source": source})
        no_exceptions(at)
        assert at.slider(key=f"{script[0] if script == 'gradients' else 'b'}_channel").max == channels - 1


@pytest.mark.parametrize("script", ["explorer", "gradients", "compare", "conventions"])
def test_charts_are_sent_without_streamlits_theme_template(script):
    # The figures carry the theme's look themselves (lrn_app.figures._LOOK): a template makes
    # the browser draw every changed figure twice on each slider move.
    at = open_page(script)
    charts = at.get("plotly_chart")
    assert charts
    for chart in charts:
        assert chart.proto.theme == ""  # theme=None
        assert "template" not in json.loads(chart.proto.spec)["layout"]


# --- presentation mode ------------------------------------------------------------------------------

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
    panel = next(c for c in at.get("plotly_chart") if "one_channel_panels" in c.proto.id)
    layout = json.loads(panel.proto.spec)["layout"]
    assert layout["font"]["size"] >= 16
    assert all(a["font"]["size"] >= 16 for a in layout.get("annotations", []))
    texts = [t for t in json.loads(panel.proto.spec)["data"] if t.get("mode") == "text"]
    assert texts and all(t["textfont"]["size"] >= 16 for t in texts)  # the map labels too
    plain = open_page("explorer")
    assert "Image, feature maps, presets, mode and convention" not in [e.label for e in plain.expander]


# --- Claims lab -------------------------------------------------------------------------------------

SMALL_CLAIM = {"claim": "covariate-shift", "seeds": "2", "epochs": "1"}


def test_claims_page_opens_with_the_shipped_result_of_every_claim():
    from lrn_lab.claims import CLAIMS
    for name in CLAIMS:
        at = open_page("claims", {"claim": name})
        no_exceptions(at)
        verdict = next(m.value for m in at.markdown if m.value.startswith("### Verdict"))
        assert verdict.split("[")[1].rstrip("]") == \
            load_shipped_claims()[name]["verdict"]
        assert any("ships with the app" in c.value for c in at.caption)
        table = at.dataframe[0].value
        assert list(table["set-up"]) == ["base", *CLAIMS[name].variations]
        assert any("**Reported:**" in m.value for m in at.markdown)


def load_shipped_claims() -> dict:
    from lrn_lab.results import CLAIMS_FILE, load
    return load(CLAIMS_FILE)["results"]


def test_claims_page_runs_a_claim_in_the_workers_then_shows_it_to_another_session():
    from lrn_app.ui import training_pool
    at = open_page("claims", SMALL_CLAIM)
    no_exceptions(at)
    assert at.selectbox(key="cl_claim").value == "covariate-shift"
    assert not any("ships with the app" in c.value for c in at.caption)  # not its settings
    assert any("ImageNet" in i.value for i in at.info)  # what a verdict can mean
    trained = training_pool().epochs_trained
    at.button(key="cl_run").click().run()
    no_exceptions(at)
    # the grid of both heads, then the probed runs at the rates it chose
    first = training_pool().epochs_trained - trained
    assert first >= 2 * 4 * 2 * 2 + 2 * 2
    verdict = next(m.value for m in at.markdown if m.value.startswith("### Verdict"))
    assert any(word in verdict for word in ("supported", "contradicted", "no difference",
                                            "inconclusive", "depends on"))
    assert any("Santurkar" in m.value for m in at.markdown)  # what is reported
    assert len(at.get("plotly_chart")) == 3  # shift (cosine, l2), beta
    # Another session, the same address: the stored result, not a second training.
    again = open_page("claims", SMALL_CLAIM)
    no_exceptions(again)
    assert training_pool().epochs_trained == trained + first
    assert not any(b.key == "cl_run" for b in again.button)
    assert next(m.value for m in again.markdown if m.value.startswith("### Verdict")) == verdict


def test_claims_page_bad_urls_and_a_new_claim_gets_its_own_settings():
    at = open_page("claims", {"claim": "astrology", "seeds": "99", "epochs": "x"})
    no_exceptions(at)
    notices = " ".join(w.value for w in at.warning)
    assert "claim='astrology' is not valid" in notices and "seeds = 99" in notices
    assert at.slider(key="cl_seeds").value == 6
    at.selectbox(key="cl_claim").set_value("regularisation").run()
    no_exceptions(at)
    assert (at.slider(key="cl_seeds").value, at.slider(key="cl_epochs").value) == (3, 20)
    assert at.query_params["claim"] == ["regularisation"] or \
        at.query_params["claim"] == "regularisation"
    at.selectbox(key="cl_claim").set_value("cost").run()  # nothing to train: no sliders
    no_exceptions(at)
    assert not any(s.key == "cl_seeds" for s in at.slider)
    assert any("timing" in c.value or "judging" in c.value or "few seconds" in c.value
               for c in at.caption)


def test_compare_page_lrn_moves_reuse_batchnorms_side(monkeypatch):
    """BatchNorm's half does not depend on LRN's settings: an α move reuses it (cached),
    and what the page shows of BatchNorm is unchanged; a BatchNorm setting recomputes it."""
    from lrn_app import compare
    calls = []
    real = compare.batchnorm_side
    monkeypatch.setattr(compare, "batchnorm_side", lambda *a: calls.append(1) or real(*a))
    at = open_page("compare", {"gamma": "1.35"})  # settings no other test caches
    no_exceptions(at)
    first = len(calls)
    swap_metric = metric(at, "Swap the batch-mates")
    at.select_slider(key="b_alpha").set_value(0.02).run()
    no_exceptions(at)
    assert len(calls) == first and metric(at, "Swap the batch-mates") == swap_metric
    at.slider(key="b_gamma").set_value(1.4).run()
    no_exceptions(at)
    assert len(calls) == first + 1
