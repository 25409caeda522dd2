"""The Training lab and the Claims lab as a user drives them (AppTest): they open with the
shipped results, train in the server's workers and share what they trained.
"""

import pytest

from tests.app.apptest import messages, no_exceptions, open_page

TINY_LAB = {"seeds": "1", "epochs": "1", "variants": "none,lrn_within"}


@pytest.mark.slow
def test_training_lab_trains_shows_and_then_reuses_the_stored_runs():
    from lrn_app.ui.cached import training_pool
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


@pytest.mark.slow
def test_claims_page_runs_a_claim_in_the_workers_then_shows_it_to_another_session():
    from lrn_app.ui.cached import training_pool
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
