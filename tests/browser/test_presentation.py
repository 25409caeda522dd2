"""Presentation mode in Chromium, at a projector's sizes."""

import pytest

from harness.browser import browser_page, exception_boxes, open_page
from tests.browser.support import shot


def test_presentation_mode_hides_the_explanations(server, page):
    open_page(page, f"{server}/explorer?present=1", charts=2)
    assert page.get_by_text("The effect of α depends on the scale").count() == 0
    assert exception_boxes(page) == []
    shot(page, "explorer_presentation")


# The top of the first figure a person can see (not one folded in a closed expander).
_FIRST_FIGURE_TOP = """() => Math.min(...[...document.querySelectorAll('.js-plotly-plot')]
    .filter(e => !e.closest('details:not([open])') && e.getBoundingClientRect().height > 0)
    .map(e => e.getBoundingClientRect().top))"""


@pytest.mark.parametrize("width, height", [(1280, 720), (1920, 1080)])
def test_presentation_mode_puts_each_main_figure_above_the_fold(server, width, height):
    """As a teacher projects: with presentation mode on, and with a lesson's bar on top."""
    views = {"explorer": "explorer?present=1", "gradients": "gradients?present=1",
             "compare": "compare?present=1",
             "explorer_lesson": "explorer?present=1&lesson=what-lrn-does&step=2",
             "gradients_lesson": "gradients?present=1&lesson=what-lrn-does&step=5",
             "compare_lesson": "compare?present=1&lesson=lrn-vs-batchnorm&step=2"}
    with browser_page(width, height) as page:
        for name, address in views.items():
            open_page(page, f"{server}/{address}", charts=1)
            page.wait_for_timeout(500)
            shot(page, f"present_{name}_{width}x{height}")
            assert exception_boxes(page) == []
            assert page.get_by_text("unknown URL parameter").count() == 0
            assert page.evaluate(_FIRST_FIGURE_TOP) < height - 100, name  # its top in view
            sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
            assert sidebar["x"] + sidebar["width"] <= 0  # collapsed: moved off the screen
            assert "present=1" in page.url
