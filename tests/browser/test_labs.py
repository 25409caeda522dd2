"""The labs in Chromium: they open with the shipped results, train live and stop."""

import re

import pytest

from harness.browser import browser_page, exception_boxes, open_page, wait_for_app
from tests.browser.support import shot


def test_training_lab_trains_live_and_stops(server, page):
    # The most the page allows (4 variants x 4 rates x 5 seeds x 20 epochs: 1600 run-epochs),
    # so that even a CPU ten times faster is still training when Stop is clicked.
    open_page(page, f"{server}/training?variants=none,lrn_across,lrn_within,batchnorm&seeds=5"
                    "&epochs=20", charts=2)
    assert exception_boxes(page) == []
    page.get_by_role("button", name="Train (80 runs)").click()
    page.get_by_text("epochs trained").wait_for(timeout=30_000)  # progress is drawn
    page.wait_for_timeout(1500)
    shot(page, "training_live")
    page.get_by_role("button", name="Stop").click()
    page.get_by_role("button", name=re.compile(r"Continue training \(\d+ runs\)")).wait_for(
        timeout=30_000)
    wait_for_app(page)
    assert exception_boxes(page) == []
    page.get_by_text("Not finished yet").wait_for(timeout=30_000)
    shot(page, "training_stopped")


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_both_labs_open_with_their_shipped_results(server, width, height):
    """No button pressed: the Training lab shows its curves, its table and its verdicts, the
    Claims lab the chosen claim's verdict, from the results that ship with the app."""
    with browser_page(width, height) as page:
        open_page(page, f"{server}/training", charts=3)  # accuracy, loss, LRN's response
        assert exception_boxes(page) == []
        page.get_by_text("against no normalisation").first.wait_for(timeout=30_000)
        shot(page, f"training_shipped_{width}x{height}")
        assert page.get_by_text("the results that ship with the app").count() == 1
        page.set_viewport_size({"width": width, "height": 2600})
        shot(page, f"training_shipped_{width}_full")
        open_page(page, f"{server}/claims?claim=lrn-effect", charts=2)
        assert exception_boxes(page) == []
        page.get_by_text("Verdict:").wait_for(timeout=30_000)
        assert page.get_by_text("Reported:").count() == 1
        shot(page, f"claims_shipped_{width}x{height}")


def test_claims_lab_runs_one_small_claim(server, page):
    open_page(page, f"{server}/claims?claim=covariate-shift&seeds=2&epochs=1", charts=0)
    assert exception_boxes(page) == []
    page.get_by_role("button", name="Run").click()
    page.get_by_text("Verdict:").wait_for(timeout=120_000)
    wait_for_app(page)
    page.wait_for_function("() => document.querySelectorAll('.js-plotly-plot').length == 3",
                           timeout=30_000)  # shift (cosine, l2), beta
    assert exception_boxes(page) == []
    shot(page, "claims_covariate_shift")
